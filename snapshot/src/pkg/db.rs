//! Reading a snapshot's pacman databases with libalpm: installed packages, sync
//! packages, available upgrades, orphans, and resolving a transaction without
//! committing it. The local database is the snapshot's own
//! (`usr/share/ast/db/local`); every sync database found in `usr/share/ast/db/sync`
//! is registered, so no pacman.conf parsing is needed to read them.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use super::alpm_compat::{self, alpm};
use crate::layout::PACMAN_DB;
use crate::{Error, Result};

/// Everything rast shows about one package.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PkgInfo {
    pub name: String,
    pub version: String,
    pub desc: String,
    /// Sync repository, for packages from a sync database.
    pub repo: Option<String>,
    /// Installed explicitly (not as a dependency); local packages only.
    pub explicit: bool,
    pub depends: Vec<String>,
    pub provides: Vec<String>,
    pub conflicts: Vec<String>,
    pub groups: Vec<String>,
    pub url: Option<String>,
    pub installed_size: i64,
    pub download_size: i64,
}

/// An available upgrade.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Upgrade {
    pub name: String,
    pub old: String,
    pub new: String,
    pub repo: String,
    pub download_size: i64,
}

/// What a transaction would do, resolved but not committed.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Preview {
    /// Packages to install or upgrade: (name, version, repo).
    pub install: Vec<(String, String, String)>,
    /// Packages to remove (conflicts, replacements).
    pub remove: Vec<(String, String)>,
    /// Why the transaction cannot happen (unsatisfied deps, conflicts).
    pub problems: Vec<String>,
}

fn dep_strings<I: IntoIterator<Item = D>, D: std::fmt::Display>(it: I) -> Vec<String> {
    it.into_iter().map(|d| d.to_string()).collect()
}

macro_rules! info_of {
    ($p:expr, $repo:expr) => {{
        let p = $p;
        PkgInfo {
            name: p.name().to_string(),
            version: p.version().to_string(),
            desc: p.desc().unwrap_or_default().to_string(),
            repo: $repo,
            explicit: p.reason() == alpm::PackageReason::Explicit,
            depends: dep_strings(p.depends().iter()),
            provides: dep_strings(p.provides().iter()),
            conflicts: dep_strings(p.conflicts().iter()),
            groups: p.groups().iter().map(|g| g.to_string()).collect(),
            url: p.url().map(str::to_string),
            installed_size: p.isize(),
            download_size: p.download_size(),
        }
    }};
}

/// A snapshot's pacman databases, opened read-only.
pub struct PkgDb {
    handle: alpm::Alpm,
}

fn alpm_err(root: &Path, what: &str) -> impl FnOnce(alpm::Error) -> Error {
    let root = root.to_path_buf();
    let what = what.to_string();
    move |e| Error::Invalid(format!("libalpm: {what} in {}: {e}", root.display()))
}

impl PkgDb {
    /// Opens the databases of the root filesystem `rootfs`.
    pub fn open(rootfs: &Path) -> Result<PkgDb> {
        let dbpath = rootfs.join(PACMAN_DB);
        if !dbpath.join("local").is_dir() {
            return Err(Error::Invalid(format!(
                "{} holds no pacman database",
                dbpath.display()
            )));
        }
        let root = rootfs.to_string_lossy().into_owned();
        let db = dbpath.to_string_lossy().into_owned();
        let handle = alpm::Alpm::new(root, db).map_err(alpm_err(rootfs, "opening the database"))?;
        let mut names: Vec<String> = std::fs::read_dir(dbpath.join("sync"))
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter_map(|n| n.strip_suffix(".db").map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        for name in names {
            handle
                .register_syncdb(name.clone(), alpm::SigLevel::NONE)
                .map_err(alpm_err(rootfs, &format!("registering {name}")))?;
        }
        Ok(PkgDb { handle })
    }

    /// Installed packages, by name.
    pub fn installed(&self) -> Vec<PkgInfo> {
        let mut v: Vec<PkgInfo> = self
            .handle
            .localdb()
            .pkgs()
            .iter()
            .map(|p| info_of!(p, None))
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    pub fn installed_pkg(&self, name: &str) -> Option<PkgInfo> {
        self.handle
            .localdb()
            .pkg(name)
            .ok()
            .map(|p| info_of!(p, None))
    }

    /// The package `name` in the first sync database that has it.
    pub fn sync_pkg(&self, name: &str) -> Option<PkgInfo> {
        for db in self.handle.syncdbs() {
            if let Ok(p) = db.pkg(name) {
                return Some(info_of!(p, Some(db.name().to_string())));
            }
        }
        None
    }

    /// Whether some sync package provides `dep` (e.g. `editor`, `sh`).
    pub fn sync_satisfier(&self, dep: &str) -> bool {
        self.handle.syncdbs().find_satisfier(dep).is_some()
    }

    /// Every package of every sync database, in database order.
    pub fn all_sync(&self) -> Vec<PkgInfo> {
        let mut out = Vec::new();
        for db in self.handle.syncdbs() {
            for p in db.pkgs() {
                out.push(info_of!(p, Some(db.name().to_string())));
            }
        }
        out
    }

    /// Names of the registered sync databases.
    pub fn repos(&self) -> Vec<String> {
        self.handle
            .syncdbs()
            .iter()
            .map(|d| d.name().to_string())
            .collect()
    }

    /// Installed packages that a sync database has in a newer version.
    pub fn upgrades(&self) -> Vec<Upgrade> {
        let mut out = Vec::new();
        for p in self.handle.localdb().pkgs() {
            if let Some(n) = p.sync_new_version(self.handle.syncdbs()) {
                out.push(Upgrade {
                    name: p.name().to_string(),
                    old: p.version().to_string(),
                    new: n.version().to_string(),
                    repo: n.db().map(|d| d.name().to_string()).unwrap_or_default(),
                    download_size: n.download_size(),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Packages installed as dependencies that nothing installed requires (`-Qdt`);
    /// with `recursive`, also those that only other orphans require.
    pub fn orphans(&self, recursive: bool) -> Vec<String> {
        let local = self.handle.localdb();
        let mut gone: BTreeSet<String> = BTreeSet::new();
        loop {
            let mut found = false;
            for p in local.pkgs() {
                if p.reason() != alpm::PackageReason::Depend || gone.contains(p.name()) {
                    continue;
                }
                let needed = p
                    .required_by()
                    .iter()
                    .any(|r| !gone.contains(AsRef::<str>::as_ref(&r)));
                if !needed {
                    gone.insert(p.name().to_string());
                    found = true;
                }
            }
            if !recursive || !found {
                break;
            }
        }
        gone.into_iter().collect()
    }

    /// Resolves installing `names` (by name or by what they provide) without
    /// committing. Needs a writable database directory (the lock file): call it on a
    /// transaction copy.
    pub fn preview_install(&mut self, names: &[String]) -> Result<Preview> {
        let mut preview = Preview::default();
        self.handle
            .trans_init(alpm::TransFlag::NONE)
            .map_err(|e| Error::Invalid(format!("libalpm: cannot start a transaction: {e}")))?;
        (|| {
            for name in names {
                let pkg = self
                    .handle
                    .syncdbs()
                    .iter()
                    .find_map(|db| db.pkg(name.as_str()).ok())
                    .or_else(|| self.handle.syncdbs().find_satisfier(name.as_str()));
                match pkg {
                    Some(p) => {
                        if let Err(e) = self.handle.trans_add_pkg(p) {
                            preview.problems.push(format!("{name}: {e}"));
                        }
                    }
                    None => preview.problems.push(format!("target not found: {name}")),
                }
            }
            if !preview.problems.is_empty() {
                return;
            }
            match alpm_compat::prepare(&mut self.handle) {
                Ok(()) => {
                    for p in self.handle.trans_add() {
                        let repo = p.db().map(|d| d.name().to_string()).unwrap_or_default();
                        preview
                            .install
                            .push((p.name().to_string(), p.version().to_string(), repo));
                    }
                    for p in self.handle.trans_remove() {
                        preview
                            .remove
                            .push((p.name().to_string(), p.version().to_string()));
                    }
                }
                Err(problems) => preview.problems = problems,
            }
        })();
        let _ = self.handle.trans_release();
        Ok(preview)
    }
}

/// libalpm's version comparison (the one pacman uses).
pub fn vercmp(a: &str, b: &str) -> Ordering {
    alpm::vercmp(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vercmp_is_pacmans() {
        assert_eq!(vercmp("1.0-1", "1.0-2"), Ordering::Less);
        assert_eq!(vercmp("1:1.0-1", "2.0-1"), Ordering::Greater);
        assert_eq!(vercmp("1.0a-1", "1.0-1"), Ordering::Less);
        assert_eq!(vercmp("1.0-1", "1.0"), Ordering::Equal);
    }
}
