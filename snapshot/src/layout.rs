//! Where things live on disk — the astOS layout, so astOS installs can be adopted.
//!
//! `--root DIR` is either the mounted top level (subvolid=5) of the filesystem, which
//! holds `@ @.snapshots @home @var @etc @boot` (mode [`Mode::TopLevel`]), or a running
//! rastOS/astOS root where `@.snapshots` is mounted at `/.snapshots` (mode
//! [`Mode::Live`]). Below the snapshots directory everything is identical:
//!
//! ```text
//! rootfs/snapshot-N   etc/etc-N   boot/boot-N    snapshot N (read-only subvolumes)
//! rootfs/snapshot-chrN                           writable copy during a transaction
//! rootfs/snapshot-N.new / .old                   staging names during a commit
//! rootfs/snapshot-tmp, snapshot-tmp0 (+etc,boot) the A/B deployment slots
//! rast/tree.json, rast/lock, rast/journal/       rast's own metadata
//! ast/fstree, ast/snapshots/N-desc               astOS metadata (imported, never written)
//! ```
//!
//! Invariant: `snapshot-N/etc` has the same content as `etc-N` and `snapshot-N/boot`
//! as `boot-N`; every commit rebuilds etc-N and boot-N from the committed rootfs.

use std::path::{Path, PathBuf};

use crate::SnapId;

/// Top-level subvolumes of a rastOS filesystem (astOS names).
pub const TOP_SUBVOLUMES: [&str; 6] = ["@", "@.snapshots", "@home", "@var", "@etc", "@boot"];

/// How `--root` relates to the filesystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `--root` is the top level (subvolid=5): snapshots are in `@.snapshots`.
    TopLevel,
    /// `--root` is a running system: snapshots are in `.snapshots`, and the running
    /// snapshot is named by `usr/share/ast/snap`.
    Live,
}

/// One of the three subvolumes that make up a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Rootfs,
    Etc,
    Boot,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Rootfs, Part::Etc, Part::Boot];

    /// Directory under the snapshots dir.
    pub fn dir(self) -> &'static str {
        match self {
            Part::Rootfs => "rootfs",
            Part::Etc => "etc",
            Part::Boot => "boot",
        }
    }

    /// Name prefix of the subvolumes in that directory.
    pub fn prefix(self) -> &'static str {
        match self {
            Part::Rootfs => "snapshot-",
            Part::Etc => "etc-",
            Part::Boot => "boot-",
        }
    }

    /// Where this part lives inside a root filesystem (`None` for the rootfs itself).
    pub fn mount_in_rootfs(self) -> Option<&'static str> {
        match self {
            Part::Rootfs => None,
            Part::Etc => Some("etc"),
            Part::Boot => Some("boot"),
        }
    }
}

/// Paths of one rastOS filesystem.
#[derive(Clone, Debug)]
pub struct Layout {
    pub root: PathBuf,
    pub snapdir: PathBuf,
    pub mode: Mode,
}

impl Layout {
    /// Finds the snapshots directory under `root`, if there is one.
    pub fn detect(root: &Path) -> Option<Layout> {
        let top = root.join("@.snapshots");
        if top.is_dir() {
            return Some(Layout {
                root: root.to_path_buf(),
                snapdir: top,
                mode: Mode::TopLevel,
            });
        }
        let live = root.join(".snapshots");
        if live.join("rootfs").is_dir() {
            return Some(Layout {
                root: root.to_path_buf(),
                snapdir: live,
                mode: Mode::Live,
            });
        }
        None
    }

    /// The layout `rast init` creates on a top-level mount.
    pub fn top_level(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
            snapdir: root.join("@.snapshots"),
            mode: Mode::TopLevel,
        }
    }

    /// Subvolume of snapshot `id`.
    pub fn part(&self, part: Part, id: SnapId) -> PathBuf {
        self.named(part, &id.to_string())
    }

    /// Writable transaction copy of snapshot `id` (astOS `*-chrN`).
    pub fn chr(&self, part: Part, id: SnapId) -> PathBuf {
        self.named(part, &format!("chr{id}"))
    }

    /// Staging name used while committing or creating snapshot `id`.
    pub fn staged(&self, part: Part, id: SnapId, suffix: &str) -> PathBuf {
        self.named(part, &format!("{id}.{suffix}"))
    }

    /// `<dir>/<prefix><name>`, e.g. `rootfs/snapshot-tmp`.
    pub fn named(&self, part: Part, name: &str) -> PathBuf {
        self.snapdir
            .join(part.dir())
            .join(format!("{}{name}", part.prefix()))
    }

    pub fn rast_dir(&self) -> PathBuf {
        self.snapdir.join("rast")
    }

    pub fn meta_file(&self) -> PathBuf {
        self.rast_dir().join("tree.json")
    }

    pub fn lock_file(&self) -> PathBuf {
        self.rast_dir().join("lock")
    }

    pub fn journal_dir(&self) -> PathBuf {
        self.rast_dir().join("journal")
    }

    pub fn astos_fstree(&self) -> PathBuf {
        self.snapdir.join("ast").join("fstree")
    }

    pub fn astos_desc(&self, name: &str) -> PathBuf {
        self.snapdir
            .join("ast")
            .join("snapshots")
            .join(format!("{name}-desc"))
    }
}

/// File inside a root filesystem naming the snapshot it was deployed from (astOS).
pub const SNAP_FILE: &str = "usr/share/ast/snap";
/// pacman's database inside a snapshot (astOS moves DBPath here).
pub const PACMAN_DB: &str = "usr/share/ast/db";
/// rast's record of a snapshot inside the snapshot itself; `rast fsck` reads it.
pub const SELF_RECORD: &str = "usr/share/rast/snapshot.json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn astos_names() {
        let l = Layout::top_level(Path::new("/mnt"));
        assert_eq!(
            l.part(Part::Rootfs, SnapId(3)),
            Path::new("/mnt/@.snapshots/rootfs/snapshot-3")
        );
        assert_eq!(
            l.part(Part::Etc, SnapId(3)),
            Path::new("/mnt/@.snapshots/etc/etc-3")
        );
        assert_eq!(
            l.chr(Part::Boot, SnapId(4)),
            Path::new("/mnt/@.snapshots/boot/boot-chr4")
        );
        assert_eq!(
            l.staged(Part::Rootfs, SnapId(4), "new"),
            Path::new("/mnt/@.snapshots/rootfs/snapshot-4.new")
        );
    }
}
