//! Running a program against a snapshot's writable copy, in a private mount namespace.
//!
//! astOS bind-mounts /dev, /proc, /sys, /run and /tmp into the chroot in the host's
//! mount table and has to unmount them on every path. rast does the binds inside a
//! fresh mount namespace of the child only (`unshare(CLONE_NEWNS)` with `/` made a
//! slave first): the host never sees them and the kernel tears them down when the
//! child exits, however it exits — a `kill -9` leaves no mount behind. The child also
//! gets `PR_SET_PDEATHSIG(SIGKILL)`, so it cannot outlive a killed rast and keep
//! writing into a copy that `rast tmp` is about to delete.
//!
//! Programs run as argv vectors; nothing passes through a shell.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};

use crate::{Error, Result};

/// Host directories bound into the target root (astOS's list).
const SYSTEM_BINDS: [&str; 5] = ["/dev", "/proc", "/sys", "/run", "/tmp"];
/// PATH inside a chroot (Arch's default).
pub const CHROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin";

/// Describes how to run programs against `root`.
#[derive(Clone, Debug)]
pub struct Sandbox {
    root: PathBuf,
    chroot: bool,
    /// Drop to this (uid, gid) after entering (only with chroot).
    user: Option<(u32, u32)>,
}

fn cstr(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::Invalid(format!("path {p:?} contains NUL")))
}

impl Sandbox {
    /// Programs will see `root` as `/` (chroot).
    pub fn chroot(root: &Path) -> Sandbox {
        Sandbox {
            root: root.to_path_buf(),
            chroot: true,
            user: None,
        }
    }

    /// Programs run on the host's `/` but with the system binds inside `root` (for
    /// `pacman --root`, whose scriptlets chroot there themselves).
    pub fn beside(root: &Path) -> Sandbox {
        Sandbox {
            root: root.to_path_buf(),
            chroot: false,
            user: None,
        }
    }

    /// Runs the program as the unprivileged `uid`/`gid` (supplementary groups
    /// dropped) once inside the chroot — for AUR builds, which must not run as root.
    pub fn as_user(mut self, uid: u32, gid: u32) -> Sandbox {
        self.user = Some((uid, gid));
        self
    }

    /// A `Command` for `argv` that enters the sandbox between fork and exec.
    pub fn command<S: AsRef<OsStr>>(&self, argv: &[S]) -> Result<Command> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| Error::Invalid("empty command".into()))?;
        let root = cstr(&self.root)?;
        let slash = CString::new("/").expect("no NUL");
        // Everything the child needs is computed here: after fork only syscalls run.
        let mut binds = Vec::new();
        for src in SYSTEM_BINDS {
            let dst = self.root.join(&src[1..]);
            if dst.is_dir() && Path::new(src).is_dir() {
                binds.push((cstr(Path::new(src))?, cstr(&dst)?));
            }
        }
        let resolv_dst = self.root.join("etc/resolv.conf");
        if resolv_dst
            .symlink_metadata()
            .map(|m| m.is_file())
            .unwrap_or(false)
            && Path::new("/etc/resolv.conf").is_file()
        {
            binds.push((cstr(Path::new("/etc/resolv.conf"))?, cstr(&resolv_dst)?));
        }
        let chroot = self.chroot;
        let user = self.user.filter(|_| chroot);
        let mut cmd = Command::new(program);
        cmd.args(args);
        if chroot {
            cmd.env("PATH", CHROOT_PATH);
        }
        // SAFETY: the closure only makes syscalls on data prepared before the fork.
        unsafe {
            cmd.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
                unshare(CloneFlags::CLONE_NEWNS)?;
                mount(
                    None::<&CStr>,
                    slash.as_c_str(),
                    None::<&CStr>,
                    MsFlags::MS_REC | MsFlags::MS_SLAVE,
                    None::<&CStr>,
                )?;
                // pacman and systemd tools expect the root to be a mount point.
                mount(
                    Some(root.as_c_str()),
                    root.as_c_str(),
                    None::<&CStr>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&CStr>,
                )?;
                // noatime: a program that only reads leaves the copy unwritten, so a
                // transaction can tell "changed nothing" (Txn::generation).
                mount(
                    None::<&CStr>,
                    root.as_c_str(),
                    None::<&CStr>,
                    MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_NOATIME,
                    None::<&CStr>,
                )?;
                for (src, dst) in &binds {
                    mount(
                        Some(src.as_c_str()),
                        dst.as_c_str(),
                        None::<&CStr>,
                        MsFlags::MS_BIND | MsFlags::MS_REC,
                        None::<&CStr>,
                    )?;
                }
                if chroot {
                    nix::unistd::chroot(root.as_c_str())?;
                    nix::unistd::chdir(slash.as_c_str())?;
                }
                if let Some((uid, gid)) = user {
                    let gid = nix::unistd::Gid::from_raw(gid);
                    nix::unistd::setgroups(&[gid])?;
                    nix::unistd::setgid(gid)?;
                    nix::unistd::setuid(nix::unistd::Uid::from_raw(uid))?;
                }
                Ok(())
            });
        }
        Ok(cmd)
    }
}

use std::ffi::CStr;
