//! Creating the listening socket: mode 0660 from the first instant, the configured
//! group, and no stealing of a live agent's socket.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use nix::sys::stat::{umask, Mode};
use nix::unistd::{chown, Gid, Group};
use tokio::net::UnixListener;

use super::DaemonError;

fn io(what: &str, p: &Path, e: std::io::Error) -> DaemonError {
    DaemonError::Io(format!("{what} {}", p.display()), e)
}

/// Binds `path` (making its directory 0755 if missing) with mode 0660, group `group`.
pub fn bind(path: &Path, group: Option<&str>) -> Result<UnixListener, DaemonError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, e))?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| io("chmod", dir, e))?;
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(DaemonError::AlreadyRunning(path.to_path_buf()));
            }
            // Left by an agent that died: nobody answers on it.
            std::fs::remove_file(path).map_err(|e| io("removing stale", path, e))?;
        }
        Ok(_) => {
            return Err(DaemonError::Config(format!(
                "{} exists and is not a socket; refusing to replace it",
                path.display()
            )))
        }
        Err(_) => {}
    }
    let gid = match group {
        None => None,
        Some(g) => Some(resolve_group(g)?),
    };
    // umask is process-wide; nothing else creates files while the agent starts.
    let old = umask(Mode::from_bits_truncate(0o117));
    let l = UnixListener::bind(path);
    umask(old);
    let l = l.map_err(|e| io("binding", path, e))?;
    if let Some(gid) = gid {
        chown(path, None, Some(gid)).map_err(|e| io("chown", path, std::io::Error::from(e)))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| io("chmod", path, e))?;
    Ok(l)
}

fn resolve_group(g: &str) -> Result<Gid, DaemonError> {
    if let Ok(n) = g.parse::<u32>() {
        return Ok(Gid::from_raw(n));
    }
    match Group::from_name(g) {
        Ok(Some(grp)) => Ok(grp.gid),
        _ => Err(DaemonError::Config(format!(
            "no group {g:?} (create it with `groupadd --system {g}`, or set [agent] group)"
        ))),
    }
}
