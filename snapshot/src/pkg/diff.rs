//! `diff A B`: what changed from snapshot A to snapshot B — packages added, removed
//! and changed in version (libalpm), and with `--files` the files added, removed or
//! modified in the root filesystem (type, mode, owner, size, mtime or link target).
//! rast's own bookkeeping (`usr/share/rast`) and pacman's database are not files a
//! user changed and are left out of the file list.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::db::PkgDb;
use crate::layout::{Part, PACMAN_DB};
use crate::{Error, Rast, Result, SnapId};

/// Package and file differences between two snapshots.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Diff {
    pub from: SnapId,
    pub to: SnapId,
    /// (name, version) only in `to`.
    pub added: Vec<(String, String)>,
    /// (name, version) only in `from`.
    pub removed: Vec<(String, String)>,
    /// (name, old, new).
    pub changed: Vec<(String, String, String)>,
    /// File-level changes, when asked for.
    pub files: Option<FileDiff>,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct FileDiff {
    pub added: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    pub modified: Vec<PathBuf>,
}

#[derive(PartialEq, Eq)]
struct Stamp {
    kind: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: (i64, i64),
    link: Option<PathBuf>,
}

fn walk(root: &Path) -> Result<BTreeMap<PathBuf, Stamp>> {
    let skip = [Path::new("usr/share/rast"), Path::new(PACMAN_DB)];
    let mut out = BTreeMap::new();
    let mut it = walkdir::WalkDir::new(root)
        .follow_links(false)
        .same_file_system(true)
        .into_iter();
    while let Some(entry) = it.next() {
        let entry =
            entry.map_err(|e| Error::Invalid(format!("walking {}: {e}", root.display())))?;
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("below root")
            .to_path_buf();
        if rel.as_os_str().is_empty() {
            continue;
        }
        if skip.iter().any(|s| rel.starts_with(s)) {
            if entry.file_type().is_dir() {
                it.skip_current_dir();
            }
            continue;
        }
        let m = entry
            .metadata()
            .map_err(|e| Error::Invalid(format!("{}: {e}", entry.path().display())))?;
        let link = if m.file_type().is_symlink() {
            std::fs::read_link(entry.path()).ok()
        } else {
            None
        };
        let is_dir = m.is_dir();
        out.insert(
            rel,
            Stamp {
                kind: m.mode() & 0o170000,
                mode: m.mode() & 0o7777,
                uid: m.uid(),
                gid: m.gid(),
                size: if is_dir { 0 } else { m.size() },
                mtime: if is_dir {
                    (0, 0)
                } else {
                    (m.mtime(), m.mtime_nsec())
                },
                link,
            },
        );
    }
    Ok(out)
}

/// Compares two root filesystems.
pub fn file_diff(a: &Path, b: &Path) -> Result<FileDiff> {
    let (wa, wb) = (walk(a)?, walk(b)?);
    let mut d = FileDiff::default();
    for (p, s) in &wa {
        match wb.get(p) {
            None => d.removed.push(p.clone()),
            Some(t) if t != s => d.modified.push(p.clone()),
            Some(_) => {}
        }
    }
    d.added = wb
        .keys()
        .filter(|p| !wa.contains_key(*p))
        .cloned()
        .collect();
    Ok(d)
}

impl Rast {
    /// `diff A B [--files]`.
    pub fn diff(&self, from: SnapId, to: SnapId, files: bool) -> Result<Diff> {
        let meta = self.meta()?;
        meta.get(from)?;
        meta.get(to)?;
        let (ra, rb) = (
            self.layout().part(Part::Rootfs, from),
            self.layout().part(Part::Rootfs, to),
        );
        let a: BTreeMap<String, String> = PkgDb::open(&ra)?
            .installed()
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect();
        let b: BTreeMap<String, String> = PkgDb::open(&rb)?
            .installed()
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect();
        let mut d = Diff {
            from,
            to,
            ..Default::default()
        };
        for (name, va) in &a {
            match b.get(name) {
                None => d.removed.push((name.clone(), va.clone())),
                Some(vb) if vb != va => d.changed.push((name.clone(), va.clone(), vb.clone())),
                Some(_) => {}
            }
        }
        d.added = b
            .iter()
            .filter(|(n, _)| !a.contains_key(*n))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        if files {
            d.files = Some(file_diff(&ra, &rb)?);
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_diff_sees_adds_removes_and_changes() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for d in [a.path(), b.path()] {
            std::fs::create_dir_all(d.join("etc")).unwrap();
            std::fs::create_dir_all(d.join("usr/share/rast")).unwrap();
        }
        std::fs::write(a.path().join("etc/same"), "x").unwrap();
        std::fs::copy(a.path().join("etc/same"), b.path().join("etc/same")).unwrap();
        let t = std::fs::metadata(a.path().join("etc/same"))
            .unwrap()
            .modified()
            .unwrap();
        std::fs::File::options()
            .write(true)
            .open(b.path().join("etc/same"))
            .unwrap()
            .set_modified(t)
            .unwrap();
        std::fs::write(a.path().join("etc/gone"), "x").unwrap();
        std::fs::write(b.path().join("etc/new"), "x").unwrap();
        std::fs::write(a.path().join("etc/changed"), "x").unwrap();
        std::fs::write(b.path().join("etc/changed"), "xy").unwrap();
        std::fs::write(b.path().join("usr/share/rast/snapshot.json"), "{}").unwrap();
        let d = file_diff(a.path(), b.path()).unwrap();
        assert_eq!(d.added, vec![PathBuf::from("etc/new")]);
        assert_eq!(d.removed, vec![PathBuf::from("etc/gone")]);
        assert_eq!(d.modified, vec![PathBuf::from("etc/changed")]);
    }
}
