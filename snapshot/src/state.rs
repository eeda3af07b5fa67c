//! Which snapshot is running ("current") and which one boots next ("deployed").
//!
//! Deployed: the filesystem's default subvolume is one of the A/B slots
//! `rootfs/snapshot-tmp` / `snapshot-tmp0`, and that slot's `usr/share/ast/snap`
//! names the snapshot it was made from. Current: in [`Mode::Live`] the running root's
//! own `usr/share/ast/snap`; on an offline top-level mount nothing is running, so the
//! current snapshot is the one that would boot (the deployed one).

use std::path::Path;

use crate::layout::{Layout, Mode, Part, SNAP_FILE};
use crate::{btrfs, Result, SnapId};

/// Reads a `usr/share/ast/snap` file under `root`.
pub fn read_snap_file(root: &Path) -> Option<SnapId> {
    let text = std::fs::read_to_string(root.join(SNAP_FILE)).ok()?;
    text.trim().parse().ok()
}

/// The deployed slot's name (`tmp` or `tmp0`) if the default subvolume is a slot.
pub fn deployed_slot(l: &Layout) -> Result<Option<&'static str>> {
    let default = btrfs::default_subvolume(&l.snapdir)?;
    for slot in ["tmp", "tmp0"] {
        let p = l.named(Part::Rootfs, slot);
        if btrfs::is_subvolume(&p) && btrfs::subvolume_id(&p)? == default {
            return Ok(Some(slot));
        }
    }
    Ok(None)
}

/// The slot the running system booted from: in [`Mode::Live`] the slot whose
/// subvolume is the running root; offline, the deployed one.
pub fn running_slot(l: &Layout) -> Result<Option<&'static str>> {
    match l.mode {
        Mode::TopLevel => deployed_slot(l),
        Mode::Live => {
            let me = btrfs::subvolume_id(&l.root)?;
            Ok(["tmp", "tmp0"].into_iter().find(|s| {
                let p = l.named(Part::Rootfs, s);
                btrfs::is_subvolume(&p) && btrfs::subvolume_id(&p).ok() == Some(me)
            }))
        }
    }
}

/// The snapshot that boots next, if a slot is deployed.
pub fn deployed(l: &Layout) -> Result<Option<SnapId>> {
    Ok(deployed_slot(l)?.and_then(|slot| read_snap_file(&l.named(Part::Rootfs, slot))))
}

/// The running snapshot (see the module doc).
pub fn current(l: &Layout) -> Result<Option<SnapId>> {
    match l.mode {
        Mode::Live => Ok(read_snap_file(&l.root)),
        Mode::TopLevel => deployed(l),
    }
}
