//! `rast fsck`: checks the tree metadata against the subvolumes and, when the
//! metadata is missing or corrupt (or `--rebuild` is asked), rebuilds it from them.
//!
//! A snapshot is every id with all three parts (`snapshot-N`, `etc-N`, `boot-N`).
//! Its parent and description come from the record rast writes inside each snapshot
//! (`usr/share/rast/snapshot.json`), else from an astOS fstree and `N-desc`, else it
//! goes to the top of the tree. Descriptions changed with `rast desc` after the
//! snapshot was made are not in the record, so a rebuild shows the original one.
//! A corrupt file is kept beside the new one as `tree.json.corrupt`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::layout::{Layout, Part};
use crate::leftovers::{entries, Entry};
use crate::meta::{now, SnapshotMeta, TreeMeta, FORMAT_VERSION};
use crate::txn::read_self_record;
use crate::{astos, btrfs, Error, Result, SnapId};

/// What fsck found and did.
#[derive(Debug, Default, Serialize)]
pub struct FsckReport {
    /// The metadata was rebuilt (it was missing, corrupt, or a rebuild was asked).
    pub rebuilt: bool,
    /// Why the existing metadata was not used.
    pub reason: Option<String>,
    pub snapshots: usize,
    /// Snapshots named by the metadata whose subvolumes are missing.
    pub missing: Vec<SnapId>,
    /// Ids with only some of their three parts on disk (not adopted).
    pub incomplete: Vec<SnapId>,
    /// Snapshots placed at the top because nothing recorded their parent.
    pub parent_unknown: Vec<SnapId>,
}

/// Complete snapshots on disk.
fn complete_on_disk(l: &Layout) -> (Vec<SnapId>, Vec<SnapId>) {
    let mut seen: BTreeMap<SnapId, usize> = BTreeMap::new();
    for (_, _, e) in entries(l) {
        if let Entry::Snapshot(id) = e {
            *seen.entry(id).or_default() += 1;
        }
    }
    let complete = seen
        .iter()
        .filter(|(_, n)| **n == Part::ALL.len())
        .map(|(id, _)| *id)
        .collect();
    let incomplete = seen
        .iter()
        .filter(|(_, n)| **n != Part::ALL.len())
        .map(|(id, _)| *id)
        .collect();
    (complete, incomplete)
}

/// Rebuilds the metadata from the subvolumes (does not save it).
pub fn rebuild(l: &Layout) -> Result<(TreeMeta, FsckReport)> {
    let (ids, incomplete) = complete_on_disk(l);
    if !ids.contains(&SnapId::BASE) {
        return Err(Error::Invalid(format!(
            "snapshot 0 is not on disk under {}; nothing to rebuild from",
            l.snapdir.display()
        )));
    }
    let astos = astos::import_from(l).ok();
    let mut report = FsckReport {
        rebuilt: true,
        incomplete,
        ..Default::default()
    };
    let mut snapshots = BTreeMap::new();
    for &id in &ids {
        let rootfs = l.part(Part::Rootfs, id);
        let (parent, desc, created, known) =
            if let Some(rec) = read_self_record(&rootfs).filter(|r| r.id == id) {
                (rec.parent, rec.desc, rec.created, true)
            } else if let Some(m) = astos.as_ref().and_then(|a| a.snapshots.get(&id)) {
                (m.parent, m.desc.clone(), m.created, true)
            } else {
                (None, String::new(), now(), id.is_base())
            };
        if !known {
            report.parent_unknown.push(id);
        }
        snapshots.insert(
            id,
            SnapshotMeta {
                parent,
                desc,
                created,
            },
        );
    }
    // Parents that are gone (deleted, or incomplete) put their children at the top.
    let present: Vec<SnapId> = snapshots.keys().copied().collect();
    for m in snapshots.values_mut() {
        if m.parent.is_some_and(|p| !present.contains(&p)) {
            m.parent = None;
        }
    }
    let next_id = crate::leftovers::ids_on_disk(l)
        .iter()
        .map(|i| i.0 + 1)
        .max()
        .unwrap_or(1);
    let mut meta = TreeMeta {
        version: FORMAT_VERSION,
        next_id,
        snapshots,
        deployments: Vec::new(),
        bootloader: None,
        failed_boots: Vec::new(),
    };
    if let Err(e) = meta.validate() {
        // Records that contradict each other (a cycle): flatten rather than fail.
        tracing::warn!("inconsistent self records ({e}); placing every snapshot at the top");
        for m in meta.snapshots.values_mut() {
            m.parent = None;
        }
    }
    meta.snapshots
        .get_mut(&SnapId::BASE)
        .expect("checked")
        .parent = None;
    report.snapshots = meta.snapshots.len();
    Ok((meta, report))
}

/// Checks `meta` against the disk: which snapshots lack subvolumes.
pub fn check(l: &Layout, meta: &TreeMeta) -> FsckReport {
    let missing = meta
        .snapshots
        .keys()
        .filter(|id| {
            Part::ALL
                .iter()
                .any(|p| !btrfs::is_subvolume(&l.part(*p, **id)))
        })
        .copied()
        .collect();
    let (_, incomplete) = complete_on_disk(l);
    FsckReport {
        snapshots: meta.snapshots.len(),
        missing,
        incomplete,
        ..Default::default()
    }
}
