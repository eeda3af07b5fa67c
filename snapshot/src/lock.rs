//! The tree lock: one `flock(2)` on `rast/lock` around every mutation.
//!
//! The kernel releases an flock when its holder dies (even by SIGKILL), so a killed
//! rast never leaves the tree locked. The holder writes its pid and command into the
//! file so a waiting rast can name it. A second mutating rast waits (up to a timeout,
//! `RAST_LOCK_TIMEOUT` seconds, default 60) and then fails with [`Error::Locked`].

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// Held while the tree may change; released on drop or process death.
#[derive(Debug)]
pub struct TreeLock {
    file: File,
}

fn try_lock(file: &File) -> bool {
    // std's File::try_lock is flock(LOCK_EX | LOCK_NB) on Linux.
    file.try_lock().is_ok()
}

/// What a waiter reports about the holder.
fn holder(file: &mut File) -> (String, String) {
    let mut s = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut s);
    let mut it = s.trim().splitn(2, ' ');
    let pid = it
        .next()
        .filter(|p| !p.is_empty())
        .unwrap_or("?")
        .to_string();
    let what = it.next().unwrap_or("unknown command").to_string();
    (pid, what)
}

impl TreeLock {
    /// Takes the lock for `what` (a short description such as `clone 3`), waiting at
    /// most `timeout`. `on_wait` is called once if the lock is busy, with the holder.
    pub fn acquire(
        path: &Path,
        what: &str,
        timeout: Duration,
        on_wait: &mut dyn FnMut(&str, &str),
    ) -> Result<TreeLock> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(Error::io(path))?;
        let start = Instant::now();
        let mut told = false;
        while !try_lock(&file) {
            let (pid, holder_what) = holder(&mut file);
            if start.elapsed() >= timeout {
                return Err(Error::Locked {
                    pid,
                    what: holder_what,
                    waited_s: start.elapsed().as_secs(),
                });
            }
            if !told {
                on_wait(&pid, &holder_what);
                told = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = writeln!(file, "{} {}", std::process::id(), what);
        let _ = file.flush();
        Ok(TreeLock { file })
    }

    /// Timeout from `RAST_LOCK_TIMEOUT` (seconds), default 60.
    pub fn default_timeout() -> Duration {
        let secs = std::env::var("RAST_LOCK_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60);
        Duration::from_secs(secs)
    }
}

impl Drop for TreeLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        // Closing the file releases the flock.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_times_out_naming_the_first() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("lock");
        let _a = TreeLock::acquire(&p, "clone 3", Duration::from_secs(1), &mut |_, _| {}).unwrap();
        let mut waited = None;
        let err = TreeLock::acquire(&p, "del 4", Duration::from_millis(200), &mut |pid, w| {
            waited = Some((pid.to_string(), w.to_string()))
        })
        .unwrap_err();
        let me = std::process::id().to_string();
        assert_eq!(waited, Some((me.clone(), "clone 3".to_string())));
        match err {
            Error::Locked { pid, what, .. } => assert_eq!((pid, what), (me, "clone 3".into())),
            e => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn released_on_drop() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("lock");
        drop(TreeLock::acquire(&p, "a", Duration::from_secs(1), &mut |_, _| {}).unwrap());
        TreeLock::acquire(&p, "b", Duration::from_millis(10), &mut |_, _| {}).unwrap();
    }
}
