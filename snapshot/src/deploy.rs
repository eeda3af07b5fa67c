//! Making a deployment slot: the core of astOS's deploy, used by `rast init` to make
//! snapshot 0 bootable. The slot that is not the default subvolume is rebuilt as a
//! writable copy of snapshot N (rootfs, etc and boot), stamped with
//! `usr/share/ast/snap` = N, and made the default subvolume. Until `set-default` the
//! previous deployment stays what boots.

use crate::layout::{Layout, Part, SNAP_FILE};
use crate::{btrfs, state, Error, Result, SnapId};

/// Deploys snapshot `id` into the inactive slot; returns the slot name.
pub fn deploy_slot(l: &Layout, id: SnapId) -> Result<&'static str> {
    let slot = match state::deployed_slot(l)? {
        Some("tmp") => "tmp0",
        _ => "tmp",
    };
    for part in Part::ALL {
        let target = l.named(part, slot);
        btrfs::delete_if_exists(&target)?;
        btrfs::snapshot(&l.part(part, id), &target, false)?;
    }
    let rootfs = l.named(Part::Rootfs, slot);
    let snap_file = rootfs.join(SNAP_FILE);
    if let Some(dir) = snap_file.parent() {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    crate::atomic::write_atomic(&snap_file, format!("{id}\n").as_bytes())?;
    btrfs::set_default_subvolume(&rootfs)?;
    Ok(slot)
}
