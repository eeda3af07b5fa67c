//! `sync N` / `force-sync N`: propagate N's packages into its descendants.
//!
//! astOS's meaning, kept for its users: `sync N` first **updates** N and every
//! descendant (a full upgrade each, as `tree-upgrade`), then syncs; `force-sync N`
//! syncs **without** updating. `--reinstall` (either command) is rast's repair:
//! every package of the parent is reinstalled in the child, restoring changed files.
//!
//! astOS copies the parent's files over the child with reflinks and merges local
//! database entries, which bypasses hooks and scriptlets and leaves files of packages
//! the parent removed. rast instead installs, in each descendant (parents first, each
//! from its own parent), the parent's exact package files from the shared cache in one
//! `pacman -U` — new packages then get the parent's install reason (`pacman -D`),
//! changed versions keep the child's — so hooks and scriptlets run, each package is
//! installed once, and the child's own extra packages stay. A descendant that already
//! has every parent package at the parent's version is left alone (`in_sync`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::db::{PkgDb, PkgInfo};
use super::pacman::{pkg_cache, Pacman};
use super::{PkgOpts, PkgOutcome};
use crate::layout::Part;
use crate::{Error, Rast, Result, SnapId};

/// The cached package file of `name` at `version`, if any.
pub fn cached_file(cache: &Path, name: &str, version: &str) -> Option<PathBuf> {
    let prefix = format!("{name}-{version}-");
    let rd = std::fs::read_dir(cache).ok()?;
    rd.flatten().map(|e| e.path()).find(|p| {
        let Some(f) = p.file_name().and_then(|f| f.to_str()) else {
            return false;
        };
        let Some(rest) = f.strip_prefix(&prefix) else {
            return false;
        };
        // rest = ARCH.pkg.tar.EXT, never another dash-separated field, never a .sig
        !rest.contains('-') && rest.contains(".pkg.tar") && !rest.ends_with(".sig")
    })
}

/// How `sync_tree` runs (see the module doc).
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncMode {
    /// Upgrade N and its descendants first (`sync`; not `force-sync`).
    pub update: bool,
    /// Reinstall every parent package, not only missing or different ones.
    pub reinstall: bool,
}

/// What `sync_tree` did.
#[derive(Debug, Default, Serialize)]
pub struct SyncReport {
    /// The upgrades of the update step, in tree order.
    pub upgraded: Vec<PkgOutcome>,
    /// Descendants that got packages from their parents.
    pub synced: Vec<PkgOutcome>,
    /// Descendants that needed nothing.
    pub in_sync: Vec<SnapId>,
}

impl SyncReport {
    /// Every outcome, upgrades first.
    pub fn outcomes(&self) -> impl Iterator<Item = &PkgOutcome> {
        self.upgraded.iter().chain(&self.synced)
    }
}

impl Rast {
    /// Syncs every descendant of `n` from its parent. Stops at the first failure.
    pub fn sync_tree(&self, n: SnapId, mode: SyncMode, opts: PkgOpts) -> Result<SyncReport> {
        let _g = self.lock(&format!(
            "{} {n}",
            if mode.update { "sync" } else { "force-sync" }
        ))?;
        let meta = self.meta()?;
        meta.get(n)?;
        let mut report = SyncReport::default();
        if mode.update {
            for id in meta.subtree(n) {
                if id.is_base() {
                    continue; // snapshot 0 changes only through base-update
                }
                let o = self.upgrade_locked(&meta, id, false, None, opts)?;
                let failed = !o.status.success();
                report.upgraded.push(o);
                if failed {
                    return Ok(report);
                }
            }
        }
        let cache = pkg_cache(self.layout());
        for child in meta.subtree(n).into_iter().skip(1) {
            let parent = meta.get(child)?.parent.expect("descendants have parents");
            let theirs = PkgDb::open(&self.layout().part(Part::Rootfs, parent))?.installed();
            let mine = PkgDb::open(&self.layout().part(Part::Rootfs, child))?;
            let mut wanted: Vec<&PkgInfo> = Vec::new();
            let mut as_deps = Vec::new();
            let mut as_explicit = Vec::new();
            for p in &theirs {
                match mine.installed_pkg(&p.name) {
                    None => {
                        wanted.push(p);
                        if p.explicit {
                            as_explicit.push(p.name.clone());
                        } else {
                            as_deps.push(p.name.clone());
                        }
                    }
                    Some(m) if mode.reinstall || m.version != p.version => wanted.push(p),
                    Some(_) => {}
                }
            }
            if wanted.is_empty() {
                report.in_sync.push(child);
                continue;
            }
            let files = wanted
                .iter()
                .map(|p| {
                    cached_file(&cache, &p.name, &p.version).map(PathBuf::into_os_string).ok_or_else(|| {
                        Error::Invalid(format!("{}-{} (installed in snapshot {parent}) is not in the package cache {}; cannot sync it into {child}", p.name, p.version, cache.display()))
                    })
                })
                .collect::<Result<Vec<OsString>>>()?;
            let install = |pm: &Pacman| -> Result<std::process::ExitStatus> {
                let mut args: Vec<OsString> = vec!["-U".into(), "--noconfirm".into()];
                if mode.reinstall {
                    args.push("--overwrite".into());
                    args.push("*".into());
                }
                args.push("--".into());
                args.extend(files.iter().cloned());
                let st = pm.run_raw(&args)?;
                if !st.success() {
                    return Ok(st);
                }
                for (flag, names) in [("--asdeps", &as_deps), ("--asexplicit", &as_explicit)] {
                    if names.is_empty() {
                        continue;
                    }
                    let st = pm.run(&["-D".to_string(), flag.to_string()], names)?;
                    if !st.success() {
                        return Ok(st);
                    }
                }
                Ok(super::success_status())
            };
            let mut o = self.pkg_txn(&meta, child, false, |_, pm| install(pm))?;
            self.reach_slot(child, opts, &mut o, Some(&install))?;
            let stop = !o.committed;
            report.synced.push(o);
            if stop {
                break;
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exactly_the_right_cached_file() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "foo-1.0-1-x86_64.pkg.tar.zst",
            "foo-1.0-1-x86_64.pkg.tar.zst.sig",
            "foo-bar-1.0-1-any.pkg.tar.gz",
            "foo-1.0-2-x86_64.pkg.tar.zst",
        ] {
            std::fs::write(d.path().join(f), b"").unwrap();
        }
        assert_eq!(
            cached_file(d.path(), "foo", "1.0-1")
                .unwrap()
                .file_name()
                .unwrap(),
            "foo-1.0-1-x86_64.pkg.tar.zst"
        );
        assert_eq!(
            cached_file(d.path(), "foo-bar", "1.0-1")
                .unwrap()
                .file_name()
                .unwrap(),
            "foo-bar-1.0-1-any.pkg.tar.gz"
        );
        assert!(cached_file(d.path(), "foo", "1.0").is_none());
    }
}
