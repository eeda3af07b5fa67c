//! Child processes that die with rast: `btrfs send` and `btrfs receive` get
//! `PR_SET_PDEATHSIG(SIGKILL)`, so a killed `rast backup` leaves no send or receive
//! running (a receive would otherwise go on writing into the restore directory
//! until its input ran dry).
//!
//! The signal comes when the *thread* that spawned the child ends, so spawn from a
//! thread that outlives the child: the blocking task that reads it, or the runtime
//! thread that awaits it.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes `cmd`'s process get SIGKILL when the spawning thread (or rast) dies.
pub fn die_with_parent(cmd: &mut Command) -> &mut Command {
    let parent = std::process::id() as i32;
    // SAFETY: between fork and exec, only async-signal-safe syscalls (prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
            // The parent may have died before prctl took effect.
            if nix::unistd::getppid().as_raw() != parent {
                return Err(std::io::Error::other("parent already gone"));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_child_dies_when_its_spawning_thread_ends() {
        let mut child = std::thread::spawn(|| {
            die_with_parent(Command::new("sleep").arg("30"))
                .spawn()
                .unwrap()
        })
        .join()
        .unwrap();
        let t0 = std::time::Instant::now();
        let status = child.wait().unwrap();
        assert!(t0.elapsed() < std::time::Duration::from_secs(10));
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status}");
    }
}
