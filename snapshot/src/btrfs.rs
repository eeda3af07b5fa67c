//! Thin wrapper over libbtrfsutil (crate `libbtrfsutil` 0.7.1, Debian's libbtrfsutil
//! 6.2). We use it rather than `btrfsutil` 0.2 because the latter's subvolume iterator
//! and default-subvolume getter are buggy; the default subvolume comes straight from
//! `libbtrfsutil-sys`. Errors carry the path and the operation.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use libbtrfsutil::{CreateSnapshotOptions, CreateSubvolumeOptions, DeleteSubvolumeOptions};

use crate::{Error, Result};

fn err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(libbtrfsutil::Error) -> Error + 'a {
    move |e| Error::Btrfs {
        path: path.to_path_buf(),
        op,
        source: e.os_error(),
    }
}

pub fn create_subvolume(path: &Path) -> Result<()> {
    CreateSubvolumeOptions::new()
        .create(path)
        .map_err(err(path, "create"))
}

/// Snapshots `src` to `dst` (read-only if `readonly`).
pub fn snapshot(src: &Path, dst: &Path, readonly: bool) -> Result<()> {
    tracing::debug!(?src, ?dst, readonly, "btrfs snapshot");
    CreateSnapshotOptions::new()
        .readonly(readonly)
        .create(src, dst)
        .map_err(err(dst, "snapshot"))
}

/// Deletes a subvolume and any subvolumes nested in it. Retries briefly on EBUSY: a
/// process killed a moment ago may still hold its private mount namespace.
pub fn delete(path: &Path) -> Result<()> {
    tracing::debug!(?path, "btrfs delete");
    let mut tries = 0;
    loop {
        match DeleteSubvolumeOptions::new().recursive(true).delete(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.errno() == nix::libc::EBUSY && tries < 50 => {
                tries += 1;
                sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(err(path, "delete")(e)),
        }
    }
}

/// Deletes `path` if it exists.
pub fn delete_if_exists(path: &Path) -> Result<bool> {
    if path.symlink_metadata().is_err() {
        return Ok(false);
    }
    delete(path)?;
    Ok(true)
}

pub fn set_readonly(path: &Path, ro: bool) -> Result<()> {
    libbtrfsutil::set_subvolume_read_only(path, ro).map_err(err(path, "set read-only"))
}

pub fn is_readonly(path: &Path) -> Result<bool> {
    libbtrfsutil::subvolume_read_only(path).map_err(err(path, "get read-only"))
}

/// The subvolume's generation after flushing the filesystem: it moves whenever
/// anything in the subvolume is written (atime updates included, so compare only
/// across work done on a `noatime` mount — see [`crate::txn::Txn::generation`]).
pub fn generation(path: &Path) -> Result<u64> {
    libbtrfsutil::sync(path).map_err(err(path, "sync"))?;
    Ok(libbtrfsutil::subvolume_info(path)
        .map_err(err(path, "subvolume info"))?
        .generation())
}

pub fn is_subvolume(path: &Path) -> bool {
    libbtrfsutil::is_subvolume(path).unwrap_or(false)
}

/// Whether `path` is on a btrfs filesystem.
pub fn is_btrfs(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::BTRFS_SUPER_MAGIC)
}

/// Id of the subvolume containing `path` (5 for the top level).
pub fn subvolume_id(path: &Path) -> Result<u64> {
    if !is_btrfs(path) {
        return Err(Error::NotBtrfs(path.to_path_buf()));
    }
    libbtrfsutil::subvolume_id(path).map_err(err(path, "subvolume id"))
}

/// The UUID of the subvolume at `path`.
pub fn uuid(path: &Path) -> Result<String> {
    let info = libbtrfsutil::subvolume_info(path).map_err(err(path, "subvolume info"))?;
    Ok(info.uuid().hyphenated().to_string())
}

nix::ioctl_read!(fs_info_ioctl, 0x94, 31, [u8; 1024]);

/// The filesystem's UUID (its fsid, as blkid prints it), from `BTRFS_IOC_FS_INFO`.
pub fn fs_uuid(path: &Path) -> Result<String> {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(path).map_err(Error::io(path))?;
    let mut args = [0u8; 1024];
    // SAFETY: BTRFS_IOC_FS_INFO fills a 1024-byte struct btrfs_ioctl_fs_info_args.
    unsafe { fs_info_ioctl(f.as_raw_fd(), &mut args) }
        .map_err(|e| Error::Invalid(format!("{}: not on btrfs ({e})", path.display())))?;
    let fsid: [u8; 16] = args[16..32].try_into().expect("16 bytes");
    Ok(crate::bootdisk::uuid_string(&fsid))
}

/// The filesystem's default subvolume id (what boots).
pub fn default_subvolume(path: &Path) -> Result<u64> {
    let c = cpath(path)?;
    let mut id = 0u64;
    // SAFETY: c is a valid NUL-terminated string, id a valid out pointer.
    let rc = unsafe { libbtrfsutil_sys::btrfs_util_get_default_subvolume(c.as_ptr(), &mut id) };
    check(rc, path, "get default")?;
    Ok(id)
}

/// Makes the subvolume at `path` the filesystem's default.
pub fn set_default_subvolume(path: &Path) -> Result<()> {
    let c = cpath(path)?;
    // SAFETY: c is a valid NUL-terminated string; id 0 means "the subvolume at path".
    let rc = unsafe { libbtrfsutil_sys::btrfs_util_set_default_subvolume(c.as_ptr(), 0) };
    check(rc, path, "set default")
}

fn cpath(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::Invalid(format!("path {path:?} contains NUL")))
}

fn check(
    rc: libbtrfsutil_sys::btrfs_util_error::Type,
    path: &Path,
    op: &'static str,
) -> Result<()> {
    if rc == libbtrfsutil_sys::btrfs_util_error::BTRFS_UTIL_OK {
        Ok(())
    } else {
        Err(Error::Btrfs {
            path: path.to_path_buf(),
            op,
            source: std::io::Error::last_os_error(),
        })
    }
}

/// Renames a subvolume (or anything) within the filesystem.
pub fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|source| Error::Btrfs {
        path: from.to_path_buf(),
        op: "rename",
        source,
    })
}
