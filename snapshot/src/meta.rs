//! The tree metadata, `rast/tree.json`: which snapshots exist, their parent,
//! description and creation time, and the next id to hand out.
//!
//! Invariants: every parent named exists in the map; snapshot 0 exists and has no
//! parent; `next_id` is larger than every id ever handed out. The file is replaced
//! atomically ([`crate::atomic`]) and only while the tree lock is held. Subvolumes
//! that exist on disk but are missing here are leftovers of interrupted commands
//! (`rast tmp` removes them) — unless this file is lost, when `rast fsck` rebuilds it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::bootloader::Bootloader;
use crate::{Error, Result, SnapId};

/// Current format version of `tree.json`.
pub const FORMAT_VERSION: u32 = 1;

/// One snapshot's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// `None` for a snapshot at the top of the tree (astOS's children of `root`).
    pub parent: Option<SnapId>,
    #[serde(default)]
    pub desc: String,
    /// Seconds since the epoch.
    #[serde(default)]
    pub created: u64,
}

/// One past deployment (for `rollback`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub snapshot: SnapId,
    pub slot: String,
    pub time: u64,
    /// The bootloader step it used (later deploys and rollbacks default to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootloader: Option<Bootloader>,
}

/// A deployment that did not boot: its trial was never confirmed, and the machine
/// fell back to the previous deployment (found by `rast boot-confirm`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedBoot {
    pub snapshot: SnapId,
    pub slot: String,
    /// When that deployment was made.
    pub deployed: u64,
    /// When the failure was found (the fallback boot).
    pub found: u64,
    /// The snapshot the machine fell back to.
    pub running: Option<SnapId>,
}

/// The whole tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeMeta {
    pub version: u32,
    pub next_id: u64,
    pub snapshots: BTreeMap<SnapId, SnapshotMeta>,
    /// Deployments, oldest first (absent in files written before deploy existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<Deployment>,
    /// The bootloader `init` installed or was told to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootloader: Option<Bootloader>,
    /// Deployments that failed to boot, oldest first (the last 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_boots: Vec<FailedBoot>,
}

pub use crate::clock::now;

impl TreeMeta {
    /// A tree holding only the base snapshot.
    pub fn with_base() -> TreeMeta {
        let mut snapshots = BTreeMap::new();
        snapshots.insert(
            SnapId::BASE,
            SnapshotMeta {
                parent: None,
                desc: "base snapshot".into(),
                created: now(),
            },
        );
        TreeMeta {
            version: FORMAT_VERSION,
            next_id: 1,
            snapshots,
            deployments: Vec::new(),
            bootloader: None,
            failed_boots: Vec::new(),
        }
    }

    /// Whether deployment `d` is one that failed to boot.
    pub fn failed_to_boot(&self, d: &Deployment) -> bool {
        self.failed_boots
            .iter()
            .any(|f| f.snapshot == d.snapshot && f.slot == d.slot && f.deployed == d.time)
    }

    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<TreeMeta> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::MissingMeta(path.to_path_buf()))
            }
            Err(e) => return Err(Error::io(path)(e)),
        };
        let corrupt = |reason: String| Error::CorruptMeta {
            path: path.to_path_buf(),
            reason,
        };
        let meta: TreeMeta = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if meta.version > FORMAT_VERSION {
            return Err(corrupt(format!(
                "format version {} is newer than this rast understands",
                meta.version
            )));
        }
        meta.validate().map_err(corrupt)?;
        Ok(meta)
    }

    /// Checks the invariants; returns the first violation.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !self.snapshots.contains_key(&SnapId::BASE) {
            return Err("snapshot 0 is missing".into());
        }
        for (id, s) in &self.snapshots {
            if id.0 >= self.next_id && !id.is_base() {
                return Err(format!(
                    "snapshot {id} is not below next_id {}",
                    self.next_id
                ));
            }
            if let Some(p) = s.parent {
                if !self.snapshots.contains_key(&p) {
                    return Err(format!("snapshot {id} names missing parent {p}"));
                }
            }
            // Walk up: a cycle would loop forever.
            let (mut cur, mut steps) = (s.parent, 0usize);
            while let Some(p) = cur {
                steps += 1;
                if p == *id || steps > self.snapshots.len() {
                    return Err(format!("snapshot {id} is its own ancestor"));
                }
                cur = self.snapshots.get(&p).and_then(|m| m.parent);
            }
        }
        Ok(())
    }

    /// Writes the tree atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut bytes =
            serde_json::to_vec_pretty(self).map_err(|e| Error::Invalid(e.to_string()))?;
        bytes.push(b'\n');
        write_atomic(path, &bytes)
    }

    pub fn contains(&self, id: SnapId) -> bool {
        self.snapshots.contains_key(&id)
    }

    pub fn get(&self, id: SnapId) -> Result<&SnapshotMeta> {
        self.snapshots.get(&id).ok_or(Error::NoSuchSnapshot(id))
    }

    /// Children of `parent` (`None` = top of the tree), in id order.
    pub fn children(&self, parent: Option<SnapId>) -> Vec<SnapId> {
        self.snapshots
            .iter()
            .filter(|(_, s)| s.parent == parent)
            .map(|(id, _)| *id)
            .collect()
    }

    /// `id` and all its descendants, parents before children (pre-order).
    pub fn subtree(&self, id: SnapId) -> Vec<SnapId> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let kids = self.children(Some(out[i]));
            out.extend(kids);
            i += 1;
        }
        out
    }

    /// Hands out a fresh id, larger than any in this tree and any in `on_disk`
    /// (astOS's `findnew` reused numbers of leftover subvolumes and collided).
    pub fn allocate(&mut self, on_disk: impl IntoIterator<Item = SnapId>) -> SnapId {
        let disk_max = on_disk.into_iter().map(|i| i.0 + 1).max().unwrap_or(0);
        let tree_max = self.snapshots.keys().map(|i| i.0 + 1).max().unwrap_or(0);
        let id = self.next_id.max(disk_max).max(tree_max);
        self.next_id = id + 1;
        SnapId(id)
    }

    pub fn insert(&mut self, id: SnapId, parent: Option<SnapId>, desc: String) {
        self.snapshots.insert(
            id,
            SnapshotMeta {
                parent,
                desc,
                created: now(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TreeMeta {
        let mut t = TreeMeta::with_base();
        let a = t.allocate([]);
        t.insert(a, Some(SnapId(0)), "a".into());
        let b = t.allocate([]);
        t.insert(b, Some(a), "b".into());
        let c = t.allocate([]);
        t.insert(c, None, "c".into());
        t
    }

    #[test]
    fn subtree_is_preorder_and_children_sorted() {
        let t = sample();
        assert_eq!(t.subtree(SnapId(0)), vec![SnapId(0), SnapId(1), SnapId(2)]);
        assert_eq!(t.children(None), vec![SnapId(0), SnapId(3)]);
    }

    #[test]
    fn allocate_skips_disk_leftovers_and_never_reuses() {
        let mut t = sample();
        assert_eq!(t.allocate([SnapId(9)]), SnapId(10));
        t.snapshots.remove(&SnapId(3));
        assert_eq!(t.allocate([]), SnapId(11));
    }

    #[test]
    fn validate_catches_missing_parent_and_cycles() {
        let mut t = sample();
        t.snapshots.get_mut(&SnapId(1)).unwrap().parent = Some(SnapId(2));
        assert!(t.validate().unwrap_err().contains("ancestor"));
        let mut t = sample();
        t.snapshots.remove(&SnapId(1));
        assert!(t.validate().unwrap_err().contains("missing parent"));
    }

    #[test]
    fn roundtrip_and_corrupt_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("tree.json");
        sample().save(&p).unwrap();
        assert_eq!(
            TreeMeta::load(&p).unwrap(),
            sample().clone_with_times(&TreeMeta::load(&p).unwrap())
        );
        std::fs::write(&p, b"{\"version\":1,").unwrap();
        assert!(matches!(TreeMeta::load(&p), Err(Error::CorruptMeta { .. })));
        std::fs::remove_file(&p).unwrap();
        assert!(matches!(TreeMeta::load(&p), Err(Error::MissingMeta(_))));
    }

    impl TreeMeta {
        fn clone_with_times(mut self, other: &TreeMeta) -> TreeMeta {
            for (id, s) in self.snapshots.iter_mut() {
                s.created = other.snapshots[id].created;
            }
            self
        }
    }
}
