//! The history of one /etc file along the snapshot tree: which snapshots hold which
//! version, where it changed, the bytes of any version, and putting an old version
//! back (`rast config log | diff | restore`).
//!
//! Every snapshot N keeps its own /etc (`etc-N`, identical to `snapshot-N/etc`), so the
//! history needs no store of its own: a version is read from the snapshot that holds
//! it. A file's change is judged against the snapshot's *parent in the tree*, not the
//! snapshot listed before it — in a tree, that is where the version came from.
//!
//! Invariants: a path is validated before anything is read ([`EtcPath`]: relative to
//! /etc, no `..`, no `.`, no empty or NUL component); nothing is followed out of an
//! /etc directory — a version is read with `O_NOFOLLOW` semantics (a symlink is a
//! version of its own: its target), every ancestor of the file must be a real
//! directory, and a restore refuses a symlink whose target leaves /etc. A restore is a
//! transaction on the target snapshot (never on a deployment slot or the running
//! /etc); an identical file commits nothing. This module never judges secrecy: it
//! hands out bytes, and its callers (the cli) decide what may be shown.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::layout::{Mode, Part};
use crate::meta::TreeMeta;
use crate::{txn, Error, Rast, Result, SnapId};

/// A path inside /etc, validated: `/etc/ssh/sshd_config` or `ssh/sshd_config`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EtcPath(PathBuf);

impl EtcPath {
    pub fn parse(s: &str) -> Result<EtcPath> {
        let bad = |why: &str| Error::Invalid(format!("{s:?}: {why} (e.g. /etc/ssh/sshd_config)"));
        if s.contains('\0') {
            return Err(bad("a path has no NUL byte"));
        }
        let rel = match s.strip_prefix("/etc/") {
            Some(r) => r,
            None if s.starts_with('/') => return Err(bad("only files under /etc have a history")),
            None => s.strip_prefix("etc/").unwrap_or(s),
        };
        let rel = rel.trim_end_matches('/');
        if rel.is_empty() {
            return Err(bad("name a file under /etc"));
        }
        let p = Path::new(rel);
        for c in p.components() {
            match c {
                Component::Normal(_) => {}
                _ => return Err(bad("no `..`, `.` or doubled `/` inside the path")),
            }
        }
        if rel.split('/').any(|c| c.is_empty() || c == ".") {
            return Err(bad("no `..`, `.` or doubled `/` inside the path"));
        }
        Ok(EtcPath(p.to_path_buf()))
    }

    /// The path below /etc.
    pub fn rel(&self) -> &Path {
        &self.0
    }

    /// `/etc/…`, as users write it.
    pub fn shown(&self) -> String {
        format!("/etc/{}", self.0.display())
    }
}

impl std::fmt::Display for EtcPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

/// One version of a file, as a snapshot holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Version {
    Absent,
    File {
        /// BLAKE3 of the content, hex.
        hash: String,
        size: u64,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    Symlink {
        target: String,
    },
    /// A directory, device, fifo or socket at that path.
    Other,
}

impl Version {
    pub fn is_absent(&self) -> bool {
        matches!(self, Version::Absent)
    }
}

/// How a snapshot's version relates to its parent's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Changed,
    Removed,
    Same,
    Absent,
}

/// One snapshot in a file's log.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    pub snapshot: SnapId,
    pub parent: Option<SnapId>,
    /// Depth in the tree (0 at the top), for drawing.
    pub depth: usize,
    pub created: u64,
    pub desc: String,
    pub version: Version,
    pub change: Change,
}

/// Where to read a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    Snapshot(SnapId),
    /// The /etc the running system sees (live: `/etc`; offline: the running slot's).
    Live,
}

impl std::str::FromStr for At {
    type Err = Error;
    fn from_str(s: &str) -> Result<At> {
        match s {
            "live" | "running" => Ok(At::Live),
            n => Ok(At::Snapshot(n.parse()?)),
        }
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Snapshot(n) => write!(f, "snapshot {n}"),
            At::Live => f.write_str("the running /etc"),
        }
    }
}

/// What a restore did.
#[derive(Clone, Debug, Serialize)]
pub struct Restored {
    pub file: String,
    pub from: SnapId,
    pub into: SnapId,
    /// A new version was committed to `into`.
    pub committed: bool,
    /// `into` already held that version: nothing was committed.
    pub unchanged: bool,
    /// `into` is deployed and its slot lacks the change: `rast deploy INTO` boots it.
    pub redeploy: bool,
}

/// The version of `rel` below the /etc directory `etc` (nothing followed).
pub fn version_in(etc: &Path, rel: &Path) -> Result<Version> {
    if !real_dirs_to(etc, rel) {
        return Ok(Version::Absent);
    }
    let p = etc.join(rel);
    let m = match std::fs::symlink_metadata(&p) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Version::Absent),
        Err(e) => return Err(Error::io(&p)(e)),
    };
    let ft = m.file_type();
    if ft.is_symlink() {
        let t = std::fs::read_link(&p).map_err(Error::io(&p))?;
        return Ok(Version::Symlink {
            target: t.to_string_lossy().into_owned(),
        });
    }
    if !ft.is_file() {
        return Ok(Version::Other);
    }
    let bytes = std::fs::read(&p).map_err(Error::io(&p))?;
    Ok(Version::File {
        hash: blake3::hash(&bytes).to_hex().to_string(),
        size: m.len(),
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
    })
}

/// Whether every ancestor of `rel` below `etc` is a real directory (not a symlink).
fn real_dirs_to(etc: &Path, rel: &Path) -> bool {
    let mut p = etc.to_path_buf();
    if let Some(parent) = rel.parent() {
        for c in parent.components() {
            p.push(c);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_dir() => {}
                _ => return false,
            }
        }
    }
    true
}

/// Whether a symlink at `rel` with `target` stays inside /etc.
pub fn link_stays_in_etc(rel: &Path, target: &str) -> bool {
    let joined: PathBuf = match target.strip_prefix("/etc/") {
        Some(t) => PathBuf::from(t),
        None if target.starts_with('/') => return false,
        None => rel.parent().unwrap_or(Path::new("")).join(target),
    };
    let mut depth: i32 = 0;
    for c in joined.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => depth -= 1,
            Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    depth > 0
}

/// Snapshots in tree order (pre-order, children by id) with their depth.
fn tree_order(meta: &TreeMeta) -> Vec<(SnapId, usize)> {
    fn visit(meta: &TreeMeta, id: SnapId, depth: usize, out: &mut Vec<(SnapId, usize)>) {
        out.push((id, depth));
        for c in meta.children(Some(id)) {
            visit(meta, c, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    for top in meta.children(None) {
        visit(meta, top, 0, &mut out);
    }
    out
}

fn change(parent: Option<&Version>, v: &Version) -> Change {
    match (parent.filter(|p| !p.is_absent()), v.is_absent()) {
        (None, true) => Change::Absent,
        (None, false) => Change::Added,
        (Some(_), true) => Change::Removed,
        (Some(p), false) if p == v => Change::Same,
        (Some(_), false) => Change::Changed,
    }
}

impl Rast {
    /// The /etc directory that `at` names.
    pub fn etc_dir(&self, at: At) -> Result<PathBuf> {
        match at {
            At::Snapshot(n) => {
                self.meta()?.get(n)?;
                Ok(self.layout().part(Part::Etc, n))
            }
            At::Live => self.booted_etc(),
        }
    }

    /// `config log FILE`: the file's version in every snapshot, in tree order.
    pub fn etc_log(&self, f: &EtcPath) -> Result<Vec<LogEntry>> {
        let meta = self.meta()?;
        let mut versions = std::collections::HashMap::new();
        let mut out = Vec::new();
        for (id, depth) in tree_order(&meta) {
            let m = meta.get(id)?;
            let v = version_in(&self.layout().part(Part::Etc, id), f.rel())?;
            let change = change(m.parent.and_then(|p| versions.get(&p)), &v);
            versions.insert(id, v.clone());
            out.push(LogEntry {
                snapshot: id,
                parent: m.parent,
                depth,
                created: m.created,
                desc: m.desc.clone(),
                version: v,
                change,
            });
        }
        Ok(out)
    }

    /// The version of `f` at `at`, and its bytes when it is a regular file.
    pub fn etc_read(&self, f: &EtcPath, at: At) -> Result<(Version, Option<Vec<u8>>)> {
        let etc = self.etc_dir(at)?;
        let v = version_in(&etc, f.rel())?;
        let bytes = match v {
            Version::File { .. } => {
                let p = etc.join(f.rel());
                Some(std::fs::read(&p).map_err(Error::io(&p))?)
            }
            _ => None,
        };
        Ok((v, bytes))
    }

    /// `config restore FILE --from N --into M`: a transaction on M that puts N's
    /// version of the file in place — content, mode, owner, xattrs (`cp -a`), or the
    /// symlink. Refuses a version N does not have, a symlink leaving /etc, and an
    /// ancestor in M that is not a real directory.
    pub fn etc_restore(&self, f: &EtcPath, from: SnapId, into: SnapId) -> Result<Restored> {
        let _g = self.lock(&format!("config restore {f} into {into}"))?;
        let meta = self.meta_locked()?;
        meta.get(from)?;
        let src_etc = self.layout().part(Part::Etc, from);
        let v = version_in(&src_etc, f.rel())?;
        match &v {
            Version::Absent => {
                return Err(Error::Invalid(format!(
                    "snapshot {from} has no {f} (`rast config log {f}` shows where it exists)"
                )))
            }
            Version::Other => {
                return Err(Error::Invalid(format!(
                    "{f} in snapshot {from} is not a file or a symlink"
                )))
            }
            Version::Symlink { target } if !link_stays_in_etc(f.rel(), target) => {
                return Err(Error::Invalid(format!(
                    "{f} in snapshot {from} is a symlink to {target}, outside /etc: not restored"
                )))
            }
            _ => {}
        }
        meta.get(into)?;
        if into.is_base() {
            return Err(Error::BaseImmutable);
        }
        // The same content, mode and owner already: nothing to commit. (Judged on the
        // read-only snapshot: reading the writable copy would itself write atimes.)
        if version_in(&self.layout().part(Part::Etc, into), f.rel())? == v {
            return Ok(Restored {
                file: f.shown(),
                from,
                into,
                committed: false,
                unchanged: true,
                redeploy: false,
            });
        }
        let src = src_etc.join(f.rel());
        let o = self.transact(&meta, into, |t| {
            let etc = t.root().join("etc");
            put_in_place(&src_etc, &src, &etc, f)?;
            Ok(crate::pkg::success_status())
        })?;
        let redeploy = o.committed && self.deployed()? == Some(into);
        Ok(Restored {
            file: f.shown(),
            from,
            into,
            committed: o.committed,
            unchanged: o.unchanged,
            redeploy,
        })
    }

    /// Whether rast runs on the system it manages (the running /etc is `/etc`).
    pub fn is_live(&self) -> bool {
        self.layout().mode == Mode::Live
    }
}

/// Copies `src` (below `src_etc`) to the same place below `etc`, creating missing
/// parent directories like N's (mode and owner).
fn put_in_place(src_etc: &Path, src: &Path, etc: &Path, f: &EtcPath) -> Result<()> {
    let mut dir = etc.to_path_buf();
    let mut from_dir = src_etc.to_path_buf();
    if let Some(parent) = f.rel().parent() {
        for c in parent.components() {
            dir.push(c);
            from_dir.push(c);
            match std::fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_dir() => {}
                Ok(_) => {
                    return Err(Error::Invalid(format!(
                        "{} is not a directory in the target snapshot: not restored",
                        dir.strip_prefix(etc).unwrap_or(&dir).display()
                    )))
                }
                Err(_) => {
                    let m = std::fs::metadata(&from_dir).map_err(Error::io(&from_dir))?;
                    std::fs::create_dir(&dir).map_err(Error::io(&dir))?;
                    std::fs::set_permissions(&dir, m.permissions()).map_err(Error::io(&dir))?;
                    std::os::unix::fs::lchown(&dir, Some(m.uid()), Some(m.gid()))
                        .map_err(Error::io(&dir))?;
                }
            }
        }
    }
    let dest = etc.join(f.rel());
    if let Ok(m) = std::fs::symlink_metadata(&dest) {
        if m.is_dir() {
            return Err(Error::Invalid(format!(
                "{f} is a directory in the target snapshot: not restored"
            )));
        }
    }
    // `cp -a` keeps mode, owner, timestamps and xattrs, and copies a symlink as one;
    // it replaces the destination (a symlink there is replaced, not followed).
    let mut cmd = std::process::Command::new("cp");
    cmd.args(["-a", "--no-dereference", "--remove-destination", "--"])
        .arg(src)
        .arg(&dest);
    txn::run_checked(&mut cmd, "cp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_validated() {
        for ok in [
            "/etc/ssh/sshd_config",
            "ssh/sshd_config",
            "etc/fstab",
            "fstab",
        ] {
            assert!(EtcPath::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            EtcPath::parse("/etc/ssh/sshd_config").unwrap().shown(),
            "/etc/ssh/sshd_config"
        );
        for bad in [
            "/etc/../etc/shadow",
            "ssh/../../root",
            "/usr/lib/os-release",
            "/etc/",
            "",
            "a//b",
            "./fstab",
            "a/./b",
            "x\0y",
        ] {
            assert!(EtcPath::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn symlinks_must_stay_in_etc() {
        let rel = Path::new("ssl/certs/ca.pem");
        assert!(link_stays_in_etc(rel, "../cert.pem"));
        assert!(link_stays_in_etc(rel, "/etc/ca-certificates/x.pem"));
        assert!(link_stays_in_etc(rel, "other.pem"));
        assert!(!link_stays_in_etc(rel, "../../../usr/share/x"));
        assert!(!link_stays_in_etc(rel, "/usr/share/zoneinfo/UTC"));
        assert!(!link_stays_in_etc(Path::new("localtime"), ".."));
    }

    #[test]
    fn changes_are_judged_against_the_parent() {
        let f = |h: &str| Version::File {
            hash: h.into(),
            size: 1,
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        assert_eq!(change(None, &f("a")), Change::Added);
        assert_eq!(change(None, &Version::Absent), Change::Absent);
        assert_eq!(change(Some(&Version::Absent), &f("a")), Change::Added);
        assert_eq!(change(Some(&f("a")), &f("a")), Change::Same);
        assert_eq!(change(Some(&f("a")), &f("b")), Change::Changed);
        assert_eq!(change(Some(&f("a")), &Version::Absent), Change::Removed);
    }

    #[test]
    fn versions_never_follow_symlinks_out() {
        let d = tempfile::tempdir().unwrap();
        let etc = d.path().join("etc");
        std::fs::create_dir_all(etc.join("real")).unwrap();
        std::fs::write(etc.join("real/f"), "x").unwrap();
        std::fs::create_dir_all(d.path().join("outside")).unwrap();
        std::fs::write(d.path().join("outside/f"), "secret").unwrap();
        std::os::unix::fs::symlink("../outside", etc.join("escape")).unwrap();
        std::os::unix::fs::symlink("real/f", etc.join("link")).unwrap();
        assert!(matches!(
            version_in(&etc, Path::new("real/f")).unwrap(),
            Version::File { size: 1, .. }
        ));
        assert_eq!(
            version_in(&etc, Path::new("escape/f")).unwrap(),
            Version::Absent,
            "a symlinked directory is not walked through"
        );
        assert_eq!(
            version_in(&etc, Path::new("link")).unwrap(),
            Version::Symlink {
                target: "real/f".into()
            }
        );
    }
}
