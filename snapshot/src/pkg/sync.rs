//! `sync N` / `force-sync N`: propagate N's packages into its descendants.
//!
//! astOS copies the parent's files over the child with reflinks and merges local
//! database entries, which bypasses hooks and scriptlets and leaves files of packages
//! the parent removed. rast instead installs, in each descendant (parents first, each
//! from its own parent), the parent's exact package files from the shared cache with
//! `pacman -U` — new packages keep the parent's install reason, changed versions keep
//! the child's — so hooks and scriptlets run and the child's own extra packages stay.
//! `force-sync` reinstalls every parent package, repairing changed files.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::db::{PkgDb, PkgInfo};
use super::pacman::pkg_cache;
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

impl Rast {
    /// Syncs every descendant of `n` from its parent. Stops at the first failure.
    pub fn sync_tree(&self, n: SnapId, force: bool, opts: PkgOpts) -> Result<Vec<PkgOutcome>> {
        let _g = self.lock(&format!(
            "{} {n}",
            if force { "force-sync" } else { "sync" }
        ))?;
        let meta = self.meta()?;
        meta.get(n)?;
        let cache = pkg_cache(self.layout());
        let mut out = Vec::new();
        for child in meta.subtree(n).into_iter().skip(1) {
            let parent = meta.get(child)?.parent.expect("descendants have parents");
            let theirs = PkgDb::open(&self.layout().part(Part::Rootfs, parent))?.installed();
            let mine = PkgDb::open(&self.layout().part(Part::Rootfs, child))?;
            let mut new_explicit = Vec::new();
            let mut new_deps = Vec::new();
            let mut changed = Vec::new();
            for p in &theirs {
                match mine.installed_pkg(&p.name) {
                    None if p.explicit => new_explicit.push(p),
                    None => new_deps.push(p),
                    Some(m) if force || m.version != p.version => changed.push(p),
                    Some(_) => {}
                }
            }
            if new_explicit.is_empty() && new_deps.is_empty() && changed.is_empty() {
                continue;
            }
            let files = |pkgs: &[&PkgInfo]| -> Result<Vec<OsString>> {
                pkgs.iter()
                    .map(|p| {
                        cached_file(&cache, &p.name, &p.version).map(PathBuf::into_os_string).ok_or_else(|| {
                            Error::Invalid(format!("{}-{} (installed in snapshot {parent}) is not in the package cache {}; cannot sync it into {child}", p.name, p.version, cache.display()))
                        })
                    })
                    .collect()
            };
            let groups = [
                (files(&new_explicit)?, "--asexplicit"),
                (files(&new_deps)?, "--asdeps"),
                (files(&changed)?, ""),
            ];
            let install = |pm: &super::pacman::Pacman| -> Result<std::process::ExitStatus> {
                for (files, reason) in &groups {
                    if files.is_empty() {
                        continue;
                    }
                    let mut args: Vec<OsString> = vec!["-U".into(), "--noconfirm".into()];
                    if !reason.is_empty() {
                        args.push(reason.into());
                    }
                    if force {
                        args.push("--overwrite".into());
                        args.push("*".into());
                    }
                    args.push("--".into());
                    args.extend(files.iter().cloned());
                    let st = pm.run_raw(&args)?;
                    if !st.success() {
                        return Ok(st);
                    }
                }
                Ok(super::success_status())
            };
            let mut o = self.pkg_txn(&meta, child, false, |_, pm| install(pm))?;
            if o.committed && !opts.not_live && self.current()? == Some(child) {
                if let Some(slot) = self.running_slot_root() {
                    o.live =
                        Some(install(&super::pacman::Pacman::new(self.layout(), &slot))?.success());
                }
            }
            let stop = !o.committed;
            out.push(o);
            if stop {
                break;
            }
        }
        Ok(out)
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
