//! Leftovers of interrupted runs: writable copies (`*-chrN`), staged parts
//! (`*-N.new`, `*-N.old`) and complete snapshots the metadata does not name.
//!
//! Scanning is read-only. Cleaning runs with the tree lock held, after journal
//! recovery, so nothing found here belongs to a live rast. One exception to "delete":
//! an `.old` part whose final name is missing is renamed back instead (it is the only
//! copy left).

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use serde::Serialize;

use crate::layout::{Layout, Part};
use crate::meta::TreeMeta;
use crate::{btrfs, Result, SnapId};

/// What a directory entry under `rootfs/`, `etc/` or `boot/` is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Snapshot(SnapId),
    Chr(SnapId),
    Staged(SnapId, String),
    Slot(String),
    Other,
}

/// Classifies `name` found in `part`'s directory.
pub fn classify(part: Part, name: &str) -> Entry {
    let Some(rest) = name.strip_prefix(part.prefix()) else {
        return Entry::Other;
    };
    if rest == "tmp" || rest == "tmp0" {
        return Entry::Slot(rest.to_string());
    }
    if let Some(n) = rest.strip_prefix("chr") {
        return n.parse().map(Entry::Chr).unwrap_or(Entry::Other);
    }
    if let Some((n, suffix)) = rest.split_once('.') {
        if suffix == "new" || suffix == "old" {
            return n
                .parse()
                .map(|id| Entry::Staged(id, suffix.to_string()))
                .unwrap_or(Entry::Other);
        }
        return Entry::Other;
    }
    rest.parse().map(Entry::Snapshot).unwrap_or(Entry::Other)
}

/// One leftover subvolume.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Leftover {
    pub path: PathBuf,
    pub snapshot: SnapId,
    /// `copy` (chr), `staged` (.new/.old) or `orphan` (not in the metadata).
    pub kind: &'static str,
}

/// Every entry of the three part directories, classified.
pub fn entries(l: &Layout) -> Vec<(Part, PathBuf, Entry)> {
    let mut out = Vec::new();
    for part in Part::ALL {
        let dir = l.snapdir.join(part.dir());
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            out.push((part, e.path(), classify(part, name)));
        }
    }
    out
}

/// Every id that appears on disk in any form (for id allocation).
pub fn ids_on_disk(l: &Layout) -> BTreeSet<SnapId> {
    entries(l)
        .into_iter()
        .filter_map(|(_, _, e)| match e {
            Entry::Snapshot(id) | Entry::Chr(id) | Entry::Staged(id, _) => Some(id),
            _ => None,
        })
        .collect()
}

/// Leftovers, optionally only those of snapshot `only`.
pub fn scan(l: &Layout, meta: &TreeMeta, only: Option<SnapId>) -> Vec<Leftover> {
    let mut out: Vec<Leftover> = entries(l)
        .into_iter()
        .filter_map(|(_, path, e)| {
            let (snapshot, kind) = match e {
                Entry::Chr(id) => (id, "copy"),
                Entry::Staged(id, _) => (id, "staged"),
                Entry::Snapshot(id) if !meta.contains(id) => (id, "orphan"),
                _ => return None,
            };
            Some(Leftover {
                path,
                snapshot,
                kind,
            })
        })
        .filter(|lo| only.is_none_or(|o| o == lo.snapshot))
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Removes the given leftovers (see the module doc for `.old`).
pub fn clean(l: &Layout, leftovers: &[Leftover]) -> Result<usize> {
    let mut n = 0;
    for lo in leftovers {
        let name = lo
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".old") {
            let part = Part::ALL
                .into_iter()
                .find(|p| lo.path.parent().is_some_and(|d| d.ends_with(p.dir())));
            if let Some(part) = part {
                let cur = l.part(part, lo.snapshot);
                if cur.symlink_metadata().is_err() {
                    tracing::warn!("restoring {} to {}", lo.path.display(), cur.display());
                    btrfs::rename(&lo.path, &cur)?;
                    continue;
                }
            }
        }
        if btrfs::is_subvolume(&lo.path) {
            btrfs::delete(&lo.path)?;
        } else if lo.path.is_dir() {
            fs::remove_dir_all(&lo.path).map_err(crate::Error::io(&lo.path))?;
        } else {
            fs::remove_file(&lo.path).map_err(crate::Error::io(&lo.path))?;
        }
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_astos_and_rast_names() {
        assert_eq!(
            classify(Part::Rootfs, "snapshot-12"),
            Entry::Snapshot(SnapId(12))
        );
        assert_eq!(classify(Part::Etc, "etc-chr3"), Entry::Chr(SnapId(3)));
        assert_eq!(
            classify(Part::Boot, "boot-4.new"),
            Entry::Staged(SnapId(4), "new".into())
        );
        assert_eq!(
            classify(Part::Rootfs, "snapshot-tmp0"),
            Entry::Slot("tmp0".into())
        );
        assert_eq!(classify(Part::Rootfs, "snapshot-4.bak"), Entry::Other);
        assert_eq!(classify(Part::Rootfs, "etc-4"), Entry::Other);
        assert_eq!(classify(Part::Rootfs, "snapshot-../x"), Entry::Other);
    }
}
