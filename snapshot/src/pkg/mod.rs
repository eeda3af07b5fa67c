//! Packages in snapshots: every pacman operation runs as a transaction on a
//! snapshot's writable copy (prepare → pacman → commit, or discard on any failure),
//! through the real pacman program. Reading (queries, versions, orphans, conflicts)
//! goes through libalpm ([`db`]).
//!
//! Rules kept here:
//! - no partial upgrades: refreshing the sync databases happens only together with a
//!   full upgrade (`-Syu`), except in `refresh` itself (astOS's command) and in the
//!   throwaway copies of `update --test` and `--check-conflicts`;
//! - snapshot 0 changes only through `base-update`;
//! - one rule for the deployment slots ([`Rast::reach_slot`], after every committed
//!   package change): on a running rastOS ([`Mode::Live`]), when the snapshot changed
//!   is the running one and `--not-live` is not given, the same pacman operation is
//!   replayed on the running slot, as astOS does, so the change is usable at once
//!   (install, remove, tree-rmpkg, clean --unused-deps, sync; never upgrades — a full
//!   upgrade of a running system is what deploy is for). A slot is never changed on an
//!   offline root: nothing runs there, and a deploy gives the same result atomically.
//!   Whenever the changed snapshot is the deployed one and its slot did not get the
//!   change, the outcome says so (`redeploy`), and the CLI says `rast deploy N`.

pub mod alpm_compat;
pub mod aur;
pub mod db;
pub mod diff;
pub mod keys;
pub mod pacman;
pub mod security;
pub mod self_update;
pub mod sync;

use std::process::ExitStatus;

use serde::Serialize;

use crate::layout::{Mode, Part};
use crate::meta::TreeMeta;
use crate::txn::Txn;
use crate::{state, Error, Rast, Result, RunOutcome, SnapId};
use pacman::Pacman;

/// Result of a package operation on one snapshot.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PkgOutcome {
    pub snapshot: SnapId,
    #[serde(skip)]
    pub status: ExitStatus,
    pub exit_code: Option<i32>,
    pub committed: bool,
    /// The running system was changed too (`None`: not attempted).
    pub live: Option<bool>,
    /// The snapshot is the deployed one and its slot lacks the change: it boots
    /// with the change only after `rast deploy N`.
    pub redeploy: bool,
    /// Nothing changed (a no-op upgrade): the copy was discarded, nothing committed.
    pub unchanged: bool,
}

impl From<RunOutcome> for PkgOutcome {
    fn from(o: RunOutcome) -> Self {
        PkgOutcome {
            snapshot: o.snapshot,
            status: o.status,
            exit_code: o.status.code(),
            committed: o.committed,
            live: None,
            redeploy: false,
            unchanged: o.unchanged,
        }
    }
}

/// A repository package matching `pkg search`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SearchHit {
    pub repo: String,
    pub name: String,
    pub version: String,
    pub desc: String,
    pub installed: bool,
}

/// Result of the last `auto-upgrade`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct UpgradeRecord {
    pub snapshot: SnapId,
    pub time: u64,
    pub ok: bool,
    pub message: String,
}

/// The pacman work of a change, run again on the running slot ([`Rast::reach_slot`]).
pub(crate) type Replay<'a> = &'a dyn Fn(&Pacman) -> Result<ExitStatus>;

/// How a package operation treats the base snapshot and the running system.
#[derive(Debug, Clone, Copy, Default)]
pub struct PkgOpts {
    /// Pass `--noconfirm` to pacman (`--yes`, or no terminal to ask on).
    pub noconfirm: bool,
    /// Do not apply the change to the running system (astOS `--not-live`).
    pub not_live: bool,
}

impl Rast {
    /// The running deployment slot's root, if there is one.
    pub fn running_slot_root(&self) -> Option<std::path::PathBuf> {
        let slot = state::running_slot(self.layout()).ok().flatten()?;
        Some(self.layout().named(Part::Rootfs, slot))
    }

    /// pacman for the read-only snapshot `n` (queries).
    pub fn pacman_for(&self, n: SnapId) -> Result<Pacman> {
        self.require_snapshot(n)?;
        Ok(Pacman::new(
            self.layout(),
            &self.layout().part(Part::Rootfs, n),
        ))
    }

    fn require_snapshot(&self, n: SnapId) -> Result<TreeMeta> {
        let meta = self.meta()?;
        meta.get(n)?;
        Ok(meta)
    }

    /// The snapshot a pacman-style command acts on: `-s N`, else the current one.
    pub fn target_or_current(&self, n: Option<SnapId>) -> Result<SnapId> {
        match n {
            Some(n) => Ok(n),
            None => self.current()?.ok_or(Error::NoDeployment),
        }
    }

    /// Runs `body` (pacman calls) in a transaction on `n`; commits if every call
    /// succeeded. `allow_base` only for base-update.
    pub(crate) fn pkg_txn(
        &self,
        meta: &TreeMeta,
        n: SnapId,
        allow_base: bool,
        body: impl FnOnce(&Txn, &Pacman) -> Result<ExitStatus>,
    ) -> Result<PkgOutcome> {
        self.pkg_txn_keep(meta, n, allow_base, body, |_| Ok(true))
    }

    /// [`Rast::pkg_txn`] that, after a successful `body`, asks `keep` whether the
    /// copy holds a change worth a commit; `false` discards it (`unchanged`).
    fn pkg_txn_keep(
        &self,
        meta: &TreeMeta,
        n: SnapId,
        allow_base: bool,
        body: impl FnOnce(&Txn, &Pacman) -> Result<ExitStatus>,
        keep: impl FnOnce(&Txn) -> Result<bool>,
    ) -> Result<PkgOutcome> {
        meta.get(n)?;
        if n.is_base() && !allow_base {
            return Err(Error::BaseImmutable);
        }
        let txn = Txn::prepare(self.layout(), n)?;
        let pm = Pacman::new(self.layout(), txn.root());
        let status = body(&txn, &pm)?;
        let unchanged = status.success() && !keep(&txn)?;
        let committed = status.success() && !unchanged;
        if committed {
            txn.commit(meta.get(n)?)?;
        } else {
            txn.discard()?;
        }
        Ok(PkgOutcome {
            snapshot: n,
            status,
            exit_code: status.code(),
            committed,
            live: None,
            redeploy: false,
            unchanged,
        })
    }

    /// The module's slot rule, after a change to `n`: on a running system, when `n`
    /// runs and `--not-live` is not given, `replay` runs on the running slot (`None`:
    /// this change is never replayed); then `redeploy` is set if `n` is deployed and
    /// its slot did not get the change.
    pub(crate) fn reach_slot(
        &self,
        n: SnapId,
        opts: PkgOpts,
        outcome: &mut PkgOutcome,
        replay: Option<Replay<'_>>,
    ) -> Result<()> {
        if !outcome.committed {
            return Ok(());
        }
        let l = self.layout();
        if let Some(replay) = replay {
            if l.mode == Mode::Live && !opts.not_live && self.current()? == Some(n) {
                if let Some(slot) = self.running_slot_root() {
                    outcome.live = Some(replay(&Pacman::new(l, &slot))?.success());
                }
            }
        }
        let slot_has_it =
            outcome.live == Some(true) && state::running_slot(l)? == state::deployed_slot(l)?;
        outcome.redeploy = !slot_has_it && self.deployed()? == Some(n);
        Ok(())
    }

    fn op_args(base: &[&str], opts: PkgOpts) -> Vec<String> {
        let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        if opts.noconfirm {
            v.push("--noconfirm".into());
        }
        v
    }

    /// `install N PKG…` (`rast -S`): `pacman -S` in a transaction on N. With
    /// `aur::True` in N's ast.conf, packages no repository has go to the AUR helper
    /// ([`aur`]) in the same transaction.
    pub fn install(&self, n: SnapId, pkgs: &[String], opts: PkgOpts) -> Result<PkgOutcome> {
        let rootfs = self.layout().part(Part::Rootfs, n);
        let aur_conf = aur::conf_of(&rootfs)?;
        if !aur_conf.enabled {
            return self.pacman_op(n, &["-S"], pkgs, opts);
        }
        let repo_db = db::PkgDb::open(&rootfs)?;
        let (repo, from_aur): (Vec<String>, Vec<String>) = pkgs
            .iter()
            .cloned()
            .partition(|p| repo_db.sync_pkg(p).is_some() || repo_db.sync_satisfier(p));
        drop(repo_db);
        let _g = self.lock(&format!("install {n}"))?;
        let meta = self.meta()?;
        let op = Self::op_args(&["-S"], opts);
        let mut o = self.pkg_txn(&meta, n, false, |t, pm| {
            if !repo.is_empty() {
                let st = pm.run(&op, &repo)?;
                if !st.success() {
                    return Ok(st);
                }
            }
            if from_aur.is_empty() {
                return Ok(success_status());
            }
            aur::install(t.root(), n, &aur_conf, &from_aur)
        })?;
        // AUR builds are not repeated on the running system: they arrive with a deploy.
        let replay = |pm: &Pacman| pm.run(&op, &repo);
        let replay: Option<Replay<'_>> = from_aur.is_empty().then_some(&replay);
        self.reach_slot(n, opts, &mut o, replay)?;
        Ok(o)
    }

    /// Any mutating `pacman OP PKG…` (e.g. `-Syu PKG…`) as a transaction on N, then
    /// on the running system if N is running (unless `not_live`).
    pub fn pacman_op(
        &self,
        n: SnapId,
        op: &[&str],
        pkgs: &[String],
        opts: PkgOpts,
    ) -> Result<PkgOutcome> {
        let _g = self.lock(&format!("pacman {} {n}", op.join(" ")))?;
        let meta = self.meta()?;
        let op = Self::op_args(op, opts);
        let mut o = self.pkg_txn(&meta, n, false, |_, pm| pm.run(&op, pkgs))?;
        self.reach_slot(n, opts, &mut o, Some(&|pm: &Pacman| pm.run(&op, pkgs)))?;
        Ok(o)
    }

    /// `remove N PKG…` (`rast -R`, `-Rns` with `recursive`/`nosave`).
    pub fn remove(
        &self,
        n: SnapId,
        pkgs: &[String],
        recursive: bool,
        nosave: bool,
        opts: PkgOpts,
    ) -> Result<PkgOutcome> {
        let _g = self.lock(&format!("remove {n}"))?;
        let meta = self.meta()?;
        let op = Self::remove_args(recursive, nosave, opts);
        let mut o = self.pkg_txn(&meta, n, false, |_, pm| pm.run(&op, pkgs))?;
        self.reach_slot(n, opts, &mut o, Some(&|pm: &Pacman| pm.run(&op, pkgs)))?;
        Ok(o)
    }

    fn remove_args(recursive: bool, nosave: bool, opts: PkgOpts) -> Vec<String> {
        let mut base = vec!["-R"];
        if recursive {
            base.push("--recursive");
        }
        if nosave {
            base.push("--nosave");
        }
        Self::op_args(&base, opts)
    }

    /// `tree-rmpkg N PKG…`: removes the packages from N and every descendant that
    /// has them; stops at the first failure.
    pub fn tree_remove(
        &self,
        n: SnapId,
        pkgs: &[String],
        opts: PkgOpts,
    ) -> Result<Vec<PkgOutcome>> {
        let _g = self.lock(&format!("tree-rmpkg {n}"))?;
        let meta = self.meta()?;
        meta.get(n)?;
        let op = Self::remove_args(false, false, opts);
        let mut out = Vec::new();
        for id in meta.subtree(n) {
            let installed = db::PkgDb::open(&self.layout().part(Part::Rootfs, id))?;
            let present: Vec<String> = pkgs
                .iter()
                .filter(|p| installed.installed_pkg(p).is_some())
                .cloned()
                .collect();
            if present.is_empty() {
                continue;
            }
            let mut o = self.pkg_txn(&meta, id, false, |_, pm| pm.run(&op, &present))?;
            self.reach_slot(id, opts, &mut o, Some(&|pm: &Pacman| pm.run(&op, &present)))?;
            let stop = !o.committed;
            out.push(o);
            if stop {
                break;
            }
        }
        Ok(out)
    }

    /// Where the security feed is cached (`/var/lib/rast/security`).
    pub fn security_cache(&self) -> std::path::PathBuf {
        let l = self.layout();
        match l.mode {
            Mode::TopLevel => l.root.join("@var/lib/rast/security"),
            Mode::Live => l.root.join("var/lib/rast/security"),
        }
    }

    /// `upgrade N` (`rast -Syu`): refresh and full upgrade together.
    pub fn upgrade(
        &self,
        n: SnapId,
        security_feed: Option<&security::Feed>,
        opts: PkgOpts,
    ) -> Result<PkgOutcome> {
        let _g = self.lock(&format!("upgrade {n}"))?;
        let meta = self.meta()?;
        self.upgrade_locked(&meta, n, false, security_feed, opts)
    }

    fn upgrade_locked(
        &self,
        meta: &TreeMeta,
        n: SnapId,
        allow_base: bool,
        feed: Option<&security::Feed>,
        opts: PkgOpts,
    ) -> Result<PkgOutcome> {
        let before = self.layout().part(Part::Rootfs, n);
        let keep = |txn: &Txn| Ok(!same_packages(&before, txn.root())?);
        let mut o = self.pkg_txn_keep(meta, n, allow_base, |txn, pm| {
            let mut op = Self::op_args(&["-Syu"], opts);
            let mut ignore = String::new();
            if let Some(feed) = feed {
                // Refresh first (in the copy) to learn what is upgradable, then hold
                // back everything that has no fixed advisory.
                let st = pm.run(&Self::op_args(&["-Sy"], opts), &[])?;
                if !st.success() {
                    return Ok(st);
                }
                let pdb = db::PkgDb::open(txn.root())?;
                let plan = security::plan(feed, &pdb);
                tracing::info!(fixes = ?plan.upgrade, held = ?plan.hold, "security-only upgrade");
                if plan.upgrade.is_empty() {
                    return Ok(success_status());
                }
                ignore = plan.hold.join(",");
            }
            if !ignore.is_empty() {
                op.push("--ignore".into());
                op.push(ignore);
            }
            pm.run(&op, &[])
        }, keep)?;
        // Upgrades are never replayed on a running system (see the module doc).
        self.reach_slot(n, opts, &mut o, None)?;
        Ok(o)
    }

    /// `tree-upgrade N`: upgrades N and every descendant; stops at the first failure.
    pub fn tree_upgrade(&self, n: SnapId, opts: PkgOpts) -> Result<Vec<PkgOutcome>> {
        let _g = self.lock(&format!("tree-upgrade {n}"))?;
        let meta = self.meta()?;
        meta.get(n)?;
        let mut out = Vec::new();
        for id in meta.subtree(n) {
            let o = self.upgrade_locked(&meta, id, false, None, opts)?;
            let stop = !o.status.success();
            out.push(o);
            if stop {
                break;
            }
        }
        Ok(out)
    }

    /// `base-update`: the one way to change snapshot 0 (a full upgrade).
    pub fn base_update(&self, opts: PkgOpts) -> Result<PkgOutcome> {
        let _g = self.lock("base-update")?;
        let meta = self.meta()?;
        self.upgrade_locked(&meta, SnapId::BASE, true, None, opts)
    }

    /// `auto-upgrade`: upgrades the current snapshot unattended and records the
    /// result for `check` (in `rast/upgrade-status.json`).
    pub fn auto_upgrade(&self) -> Result<UpgradeRecord> {
        let n = self.current()?.ok_or(Error::NoDeployment)?;
        let started = crate::meta::now();
        let result = self.upgrade(
            n,
            None,
            PkgOpts {
                noconfirm: true,
                not_live: true,
            },
        );
        let record = UpgradeRecord {
            snapshot: n,
            time: started,
            ok: matches!(&result, Ok(o) if o.status.success()),
            message: match &result {
                Ok(o) if o.committed => "upgraded".to_string(),
                Ok(o) if o.unchanged => "nothing to upgrade".to_string(),
                Ok(o) => format!("pacman failed ({}); snapshot unchanged", o.status),
                Err(e) => e.to_string(),
            },
        };
        let bytes =
            serde_json::to_vec_pretty(&record).map_err(|e| Error::Invalid(e.to_string()))?;
        crate::atomic::write_atomic(
            &self.layout().rast_dir().join("upgrade-status.json"),
            &bytes,
        )?;
        Ok(record)
    }

    /// The last `auto-upgrade` result, if any.
    pub fn last_auto_upgrade(&self) -> Result<Option<UpgradeRecord>> {
        let p = self.layout().rast_dir().join("upgrade-status.json");
        match std::fs::read(&p) {
            Ok(b) => Ok(Some(serde_json::from_slice(&b).map_err(|e| {
                Error::CorruptMeta {
                    path: p,
                    reason: e.to_string(),
                }
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&p)(e)),
        }
    }

    /// `refresh N`: `pacman -Syy` (sync databases only; upgrade before installing).
    pub fn refresh(&self, n: SnapId, opts: PkgOpts) -> Result<PkgOutcome> {
        let _g = self.lock(&format!("refresh {n}"))?;
        let meta = self.meta()?;
        self.pkg_txn(&meta, n, false, |_, pm| {
            pm.run(&Self::op_args(&["-Syy"], opts), &[])
        })
    }

    /// `-Sc`: cleans the shared package cache and unused sync databases of N.
    pub fn clean_cache(&self, n: SnapId) -> Result<PkgOutcome> {
        let _g = self.lock(&format!("clean-cache {n}"))?;
        let meta = self.meta()?;
        self.pkg_txn(&meta, n, false, |_, pm| {
            pm.run(
                &Self::op_args(
                    &["-Sc"],
                    PkgOpts {
                        noconfirm: true,
                        not_live: true,
                    },
                ),
                &[],
            )
        })
    }

    /// `pkg search TERM…`: repository packages whose name or description contains
    /// every term (case-insensitive), as `pacman -Ss` lists them.
    pub fn search_repos(&self, n: SnapId, terms: &[String]) -> Result<Vec<SearchHit>> {
        self.require_snapshot(n)?;
        let pdb = db::PkgDb::open(&self.layout().part(Part::Rootfs, n))?;
        let terms: Vec<String> = terms.iter().map(|t| t.to_lowercase()).collect();
        Ok(pdb
            .all_sync()
            .into_iter()
            .filter(|p| {
                let hay = format!("{} {}", p.name.to_lowercase(), p.desc.to_lowercase());
                terms.iter().all(|t| hay.contains(t.as_str()))
            })
            .map(|p| SearchHit {
                installed: pdb.installed_pkg(&p.name).is_some(),
                repo: p.repo.unwrap_or_default(),
                name: p.name,
                version: p.version,
                desc: p.desc,
            })
            .collect())
    }

    /// Orphans of snapshot `n` (`-Qdt`; recursive for `clean --unused-deps`).
    pub fn orphans(&self, n: SnapId, recursive: bool) -> Result<Vec<String>> {
        self.require_snapshot(n)?;
        Ok(db::PkgDb::open(&self.layout().part(Part::Rootfs, n))?.orphans(recursive))
    }

    /// `pkg clean --unused-deps`: removes orphans recursively after `confirm`.
    pub fn clean_unused(
        &self,
        n: SnapId,
        opts: PkgOpts,
        confirm: &mut dyn FnMut(&[String]) -> bool,
    ) -> Result<Option<PkgOutcome>> {
        let _g = self.lock(&format!("clean-unused {n}"))?;
        let meta = self.meta()?;
        meta.get(n)?;
        let orphans = db::PkgDb::open(&self.layout().part(Part::Rootfs, n))?.orphans(true);
        if orphans.is_empty() || !confirm(&orphans) {
            return Ok(None);
        }
        let op = Self::remove_args(
            false,
            false,
            PkgOpts {
                noconfirm: true,
                ..opts
            },
        );
        let mut o = self.pkg_txn(&meta, n, false, |_, pm| pm.run(&op, &orphans))?;
        self.reach_slot(n, opts, &mut o, Some(&|pm: &Pacman| pm.run(&op, &orphans)))?;
        Ok(Some(o))
    }

    /// Runs `body` on a throwaway copy of `n` that is always discarded.
    fn scratch<T>(&self, n: SnapId, body: impl FnOnce(&Txn, &Pacman) -> Result<T>) -> Result<T> {
        let _g = self.lock(&format!("inspect {n}"))?;
        self.require_snapshot(n)?;
        let txn = Txn::prepare(self.layout(), n)?;
        let pm = Pacman::new(self.layout(), txn.root());
        let r = body(&txn, &pm);
        txn.discard()?;
        r
    }

    /// `pkg install --check-conflicts PKG…`: resolves the transaction, changes nothing.
    pub fn check_conflicts(&self, n: SnapId, pkgs: &[String]) -> Result<db::Preview> {
        for p in pkgs {
            crate::pkgname::validate(p)?;
        }
        self.scratch(n, |txn, _| {
            db::PkgDb::open(txn.root())?.preview_install(pkgs)
        })
    }

    /// `pkg update --test`: what `upgrade` would do (refreshes in a throwaway copy).
    pub fn update_test(&self, n: SnapId) -> Result<Vec<db::Upgrade>> {
        self.scratch(n, |txn, pm| {
            let st = pm.run(
                &Self::op_args(
                    &["-Sy"],
                    PkgOpts {
                        noconfirm: true,
                        not_live: true,
                    },
                ),
                &[],
            )?;
            if !st.success() {
                return Err(Error::CommandFailed {
                    program: "pacman -Sy".into(),
                    status: st.to_string(),
                    detail: String::new(),
                });
            }
            Ok(db::PkgDb::open(txn.root())?.upgrades())
        })
    }
}

/// Whether two roots have the same installed packages (name, version, reason) and
/// byte-identical sync databases: an upgrade that leaves both alike changed nothing
/// worth a commit (pacman's own log line and lock file aside).
fn same_packages(a: &std::path::Path, b: &std::path::Path) -> Result<bool> {
    let pkgs = |root: &std::path::Path| -> Result<Vec<(String, String, bool)>> {
        let mut v: Vec<_> = db::PkgDb::open(root)?
            .installed()
            .into_iter()
            .map(|p| (p.name, p.version, p.explicit))
            .collect();
        v.sort();
        Ok(v)
    };
    if pkgs(a)? != pkgs(b)? {
        return Ok(false);
    }
    let dbs = |root: &std::path::Path| -> Result<Vec<(std::ffi::OsString, Vec<u8>)>> {
        let dir = root.join("var/lib/pacman/sync");
        let mut v = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_file() {
                    v.push((e.file_name(), std::fs::read(&p).map_err(Error::io(&p))?));
                }
            }
        }
        v.sort();
        Ok(v)
    };
    Ok(dbs(a)? == dbs(b)?)
}

pub(crate) fn success_status() -> ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    ExitStatus::from_raw(0)
}
