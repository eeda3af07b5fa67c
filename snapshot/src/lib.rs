//! rast-snapshot — the snapshot tree of rastOS on real btrfs.
//!
//! Owns the tree metadata ([`meta`]), btrfs subvolume operations ([`btrfs`]), the tree
//! lock ([`lock`]), crash-safe transactions ([`txn`]), the sandbox programs run in
//! ([`sandbox`]), installation ([`init`]) and recovery ([`leftovers`], [`fsck`]).
//! Nothing here prints to the terminal; [`Rast`] is the entry point for the CLI and
//! the agent.
//!
//! Invariants every operation keeps:
//! - every mutation runs with the tree lock held, after interrupted commits were
//!   rolled forward ([`txn::recover`]);
//! - the metadata is replaced atomically and is written after the subvolumes it names
//!   exist, and before the subvolumes it stops naming are deleted;
//! - snapshot 0 is never changed or deleted, nor is the current or deployed snapshot
//!   deleted;
//! - programs run as argv vectors, never through a shell.

pub mod astos;
pub mod atomic;
pub mod bootcheck;
pub mod bootdisk;
pub mod bootenv;
pub mod bootloader;
pub mod btrfs;
pub mod clock;
pub mod conf;
pub mod deploy;
mod error;
pub mod esp;
pub mod etc_history;
pub mod fsck;
mod id;
pub mod init;
pub mod install;
pub mod layout;
pub mod leftovers;
pub mod lock;
pub mod meta;
pub mod pkg;
pub mod pkgname;
pub mod sandbox;
pub mod state;
pub mod txn;

use std::path::{Path, PathBuf};
use std::process::ExitStatus;

pub use error::{Error, Result};
pub use id::SnapId;
pub use layout::{Layout, Mode, Part};
pub use meta::{SnapshotMeta, TreeMeta};

use leftovers::Leftover;
use lock::TreeLock;
use sandbox::Sandbox;
use txn::Txn;

/// Called when the tree lock is busy, with the holder's pid and command.
pub type LockNotice = Box<dyn Fn(&str, &str) + Send + Sync>;

/// Handle on one rastOS filesystem.
pub struct Rast {
    layout: Layout,
    on_lock_wait: LockNotice,
    /// Where the EFI system partition is mounted (`--esp`), if given.
    esp: Option<PathBuf>,
}

/// Result of running a command in a snapshot's copy.
#[derive(Debug, Clone, Copy)]
pub struct RunOutcome {
    pub snapshot: SnapId,
    pub status: ExitStatus,
    /// The copy was committed (the command exited 0 and changed something).
    pub committed: bool,
    /// The command exited 0 but wrote nothing: the copy was discarded, no commit.
    pub unchanged: bool,
}

/// Overview for `rast status`.
#[derive(Debug, serde::Serialize)]
pub struct Status {
    pub root: PathBuf,
    pub snapshots_dir: PathBuf,
    pub mode: &'static str,
    pub snapshots: usize,
    pub current: Option<SnapId>,
    pub deployed: Option<SnapId>,
    pub deployed_slot: Option<&'static str>,
    pub leftovers: Vec<Leftover>,
    pub unfinished_commits: Vec<String>,
    pub lock_holder: Option<String>,
    /// The bootloader later deploys use by default.
    pub bootloader: Option<String>,
    /// Deployments that failed to boot (the machine fell back by itself).
    pub failed_boots: Vec<meta::FailedBoot>,
}

impl Rast {
    /// Opens the filesystem at `root` (see [`Layout::detect`]).
    pub fn open(root: &Path) -> Result<Rast> {
        let layout =
            Layout::detect(root).ok_or_else(|| Error::NotInitialised(root.to_path_buf()))?;
        tracing::debug!(root = ?layout.root, snapshots = ?layout.snapdir, mode = ?layout.mode, "layout");
        Ok(Rast {
            layout,
            on_lock_wait: Box::new(|_, _| {}),
            esp: None,
        })
    }

    /// Uses the EFI system partition mounted at `esp` (systemd-boot deploys).
    pub fn with_esp(mut self, esp: Option<PathBuf>) -> Rast {
        self.esp = esp;
        self
    }

    /// Sets what happens when the lock is busy (the CLI prints a notice).
    pub fn on_lock_wait(mut self, f: LockNotice) -> Rast {
        self.on_lock_wait = f;
        self
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Takes the tree lock for `what`, then finishes interrupted commits.
    pub fn lock(&self, what: &str) -> Result<TreeLock> {
        let path = self.layout.lock_file();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        }
        let mut notice = |pid: &str, w: &str| (self.on_lock_wait)(pid, w);
        let guard = TreeLock::acquire(&path, what, TreeLock::default_timeout(), &mut notice)?;
        tracing::debug!(?path, what, "tree lock taken");
        // Commits first (a deploy copies snapshots), then an interrupted deploy.
        let rolled = txn::recover(&self.layout)?;
        if !rolled.is_empty() {
            tracing::info!(?rolled, "finished interrupted commits");
        }
        deploy::recover(&self.layout)?;
        Ok(guard)
    }

    /// Loads the metadata, importing an astOS tree the first time (with the lock).
    pub fn meta(&self) -> Result<TreeMeta> {
        tracing::debug!(path = ?self.layout.meta_file(), "loading tree metadata");
        match TreeMeta::load(&self.layout.meta_file()) {
            Err(Error::MissingMeta(_)) if self.layout.astos_fstree().is_file() => {
                let _g = self.lock("import astOS tree")?;
                self.meta_locked()
            }
            other => other,
        }
    }

    /// Like [`Rast::meta`] for callers that already hold the lock.
    pub(crate) fn meta_locked(&self) -> Result<TreeMeta> {
        match TreeMeta::load(&self.layout.meta_file()) {
            Err(Error::MissingMeta(_)) if self.layout.astos_fstree().is_file() => {
                let meta = astos::import_from(&self.layout)?;
                meta.save(&self.layout.meta_file())?;
                tracing::info!(
                    "imported astOS tree from {}",
                    self.layout.astos_fstree().display()
                );
                Ok(meta)
            }
            other => other,
        }
    }

    pub fn current(&self) -> Result<Option<SnapId>> {
        state::current(&self.layout)
    }

    pub fn deployed(&self) -> Result<Option<SnapId>> {
        state::deployed(&self.layout)
    }

    /// Overview of the tree, leftovers and lock (read-only).
    pub fn status(&self) -> Result<Status> {
        let meta = self.meta()?;
        let lock_holder = {
            let probe = TreeLock::acquire(
                &self.layout.lock_file(),
                "status probe",
                std::time::Duration::ZERO,
                &mut |_, _| {},
            );
            match probe {
                Err(Error::Locked { pid, what, .. }) => Some(format!("pid {pid}: {what}")),
                _ => None,
            }
        };
        let unfinished_commits = std::fs::read_dir(self.layout.journal_dir())
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| n.starts_with("commit-"))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Status {
            root: self.layout.root.clone(),
            snapshots_dir: self.layout.snapdir.clone(),
            mode: match self.layout.mode {
                Mode::TopLevel => "top-level",
                Mode::Live => "live",
            },
            snapshots: meta.snapshots.len(),
            current: self.current()?,
            deployed: self.deployed()?,
            deployed_slot: state::deployed_slot(&self.layout)?,
            leftovers: leftovers::scan(&self.layout, &meta, None),
            unfinished_commits,
            lock_holder,
            bootloader: self.bootloader_default()?.map(|b| b.as_str().to_string()),
            failed_boots: meta.failed_boots.clone(),
        })
    }

    /// The bootloader a deploy without `--bootloader` uses, if anything recorded one.
    fn bootloader_default(&self) -> Result<Option<deploy::Bootloader>> {
        let meta = self.meta()?;
        if let Some(b) = meta.deployments.iter().rev().find_map(|d| d.bootloader) {
            return Ok(Some(b));
        }
        if meta.bootloader.is_some() {
            return Ok(meta.bootloader);
        }
        Ok(bootloader::BootSetup::load(&self.layout)?.map(|s| s.bootloader))
    }

    fn require(&self, meta: &TreeMeta, id: SnapId) -> Result<()> {
        if !meta.contains(id) {
            return Err(Error::NoSuchSnapshot(id));
        }
        Ok(())
    }

    /// Copies snapshot `src` into a new snapshot under `parent` (None = top level).
    fn copy(
        &self,
        src: SnapId,
        parent: Option<SnapId>,
        desc: String,
        what: &str,
    ) -> Result<SnapId> {
        let _g = self.lock(what)?;
        let mut meta = self.meta_locked()?;
        self.require(&meta, src)?;
        if let Some(p) = parent {
            self.require(&meta, p)?;
        }
        self.copy_locked(&mut meta, src, parent, desc)
    }

    pub(crate) fn copy_locked(
        &self,
        meta: &mut TreeMeta,
        src: SnapId,
        parent: Option<SnapId>,
        desc: String,
    ) -> Result<SnapId> {
        let id = meta.allocate(leftovers::ids_on_disk(&self.layout));
        let record = SnapshotMeta {
            parent,
            desc: desc.clone(),
            created: meta::now(),
        };
        txn::create_from(&self.layout, src, id, &record)?;
        meta.snapshots.insert(id, record);
        meta.save(&self.layout.meta_file())?;
        Ok(id)
    }

    /// Adds a root filesystem from outside the tree (a restored backup) as a new
    /// top-level snapshot.
    pub fn adopt_rootfs(&self, rootfs: &Path, desc: &str) -> Result<SnapId> {
        let _g = self.lock("adopt restored snapshot")?;
        let mut meta = self.meta_locked()?;
        let id = meta.allocate(leftovers::ids_on_disk(&self.layout));
        let record = SnapshotMeta {
            parent: None,
            desc: desc.to_string(),
            created: meta::now(),
        };
        txn::create_from_rootfs(&self.layout, rootfs, id, &record)?;
        meta.snapshots.insert(id, record);
        meta.save(&self.layout.meta_file())?;
        Ok(id)
    }

    /// `new-tree`: a new top-level snapshot copied from the base.
    pub fn new_tree(&self, desc: Option<String>) -> Result<SnapId> {
        self.copy(SnapId::BASE, None, desc.unwrap_or_default(), "new-tree")
    }

    /// `branch N`: a copy of N as a child of N.
    pub fn branch(&self, n: SnapId) -> Result<SnapId> {
        self.copy(n, Some(n), String::new(), &format!("branch {n}"))
    }

    /// `clone N`: a copy of N as a new top-level tree.
    pub fn clone_as_tree(&self, n: SnapId) -> Result<SnapId> {
        self.copy(n, None, format!("clone of {n}"), &format!("clone {n}"))
    }

    /// `clone-branch N`: a copy of N beside it (same parent).
    pub fn clone_branch(&self, n: SnapId) -> Result<SnapId> {
        let parent = self.meta()?.get(n)?.parent;
        self.copy(
            n,
            parent,
            format!("clone of {n}"),
            &format!("clone-branch {n}"),
        )
    }

    /// `clone-under PARENT N`: a copy of N as a child of PARENT.
    pub fn clone_under(&self, parent: SnapId, n: SnapId) -> Result<SnapId> {
        self.copy(
            n,
            Some(parent),
            format!("clone of {n}"),
            &format!("clone-under {parent} {n}"),
        )
    }

    /// `clone-tree N`: copies N and all its descendants, keeping their shape; the copy
    /// of N goes beside N. Returns (original, copy) pairs, parents first.
    pub fn clone_tree(&self, n: SnapId) -> Result<Vec<(SnapId, SnapId)>> {
        let _g = self.lock(&format!("clone-tree {n}"))?;
        let mut meta = self.meta_locked()?;
        self.require(&meta, n)?;
        let mut map: Vec<(SnapId, SnapId)> = Vec::new();
        for old in meta.subtree(n) {
            let parent = if old == n {
                meta.get(n)?.parent
            } else {
                let op = meta.get(old)?.parent.expect("descendants have parents");
                map.iter().find(|(o, _)| *o == op).map(|(_, c)| *c)
            };
            let desc = format!("clone of {old}");
            let new = self.copy_locked(&mut meta, old, parent, desc)?;
            map.push((old, new));
        }
        Ok(map)
    }

    /// What deleting `ids` would delete (with descendants), or why it is refused.
    pub fn delete_plan(&self, meta: &TreeMeta, ids: &[SnapId]) -> Result<Vec<SnapId>> {
        let current = self.current()?;
        let deployed = self.deployed()?;
        let mut all = Vec::new();
        for &id in ids {
            self.require(meta, id)?;
            for d in meta.subtree(id) {
                let role = if d.is_base() {
                    Some("base")
                } else if Some(d) == current {
                    Some("current")
                } else if Some(d) == deployed {
                    Some("deployed")
                } else {
                    None
                };
                if let Some(role) = role {
                    return Err(Error::Protected { id: d, role });
                }
                if !all.contains(&d) {
                    all.push(d);
                }
            }
        }
        Ok(all)
    }

    /// `del N…`: deletes the snapshots and their descendants after `confirm` agrees
    /// to the full list. Returns what was deleted (empty if not confirmed).
    pub fn delete(
        &self,
        ids: &[SnapId],
        confirm: &mut dyn FnMut(&[SnapId]) -> bool,
    ) -> Result<Vec<SnapId>> {
        let what = format!(
            "del {}",
            ids.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let _g = self.lock(&what)?;
        let mut meta = self.meta_locked()?;
        let all = self.delete_plan(&meta, ids)?;
        if !confirm(&all) {
            return Ok(Vec::new());
        }
        for id in &all {
            meta.snapshots.remove(id);
        }
        meta.save(&self.layout.meta_file())?;
        for id in all.iter().rev() {
            txn::delete_parts(&self.layout, *id)?;
        }
        Ok(all)
    }

    /// Deletes one leaf snapshot nothing else refers to (lock held).
    pub(crate) fn delete_locked(&self, meta: &mut TreeMeta, id: SnapId) -> Result<()> {
        let plan = self.delete_plan(meta, &[id])?;
        if plan != [id] {
            return Err(Error::Invalid(format!("snapshot {id} has descendants")));
        }
        meta.snapshots.remove(&id);
        meta.save(&self.layout.meta_file())?;
        txn::delete_parts(&self.layout, id)
    }

    /// `desc N TEXT`.
    pub fn describe(&self, n: SnapId, text: &str) -> Result<()> {
        let _g = self.lock(&format!("desc {n}"))?;
        let mut meta = self.meta_locked()?;
        let text = text.lines().next().unwrap_or_default().to_string();
        meta.snapshots
            .get_mut(&n)
            .ok_or(Error::NoSuchSnapshot(n))?
            .desc = text;
        meta.save(&self.layout.meta_file())
    }

    fn changeable(&self, meta: &TreeMeta, n: SnapId) -> Result<()> {
        self.require(meta, n)?;
        if n.is_base() {
            return Err(Error::BaseImmutable);
        }
        Ok(())
    }

    /// Runs `body` on a writable copy of `n`; commits if it returns `Ok(true)`.
    pub(crate) fn transact(
        &self,
        meta: &TreeMeta,
        n: SnapId,
        body: impl FnOnce(&Txn) -> Result<ExitStatus>,
    ) -> Result<RunOutcome> {
        self.changeable(meta, n)?;
        let txn = Txn::prepare(&self.layout, n)?;
        let before = txn.generation()?;
        let status = body(&txn)?;
        let unchanged = status.success() && txn.generation()? == before;
        let committed = status.success() && !unchanged;
        if committed {
            txn.commit(meta.get(n)?)?;
        } else {
            txn.discard()?;
        }
        Ok(RunOutcome {
            snapshot: n,
            status,
            committed,
            unchanged,
        })
    }

    /// `run N -- CMD…` (and `chroot N` with a shell): runs `argv` chrooted in a copy
    /// of N; exit 0 commits, anything else discards.
    pub fn run_in(&self, n: SnapId, argv: &[String], what: &str) -> Result<RunOutcome> {
        let _g = self.lock(&format!("{what} {n}"))?;
        let meta = self.meta_locked()?;
        self.transact(&meta, n, |t| t.run_chrooted(argv))
    }

    /// `tree-run N -- CMD…`: [`Rast::run_in`] on N and every descendant, parents
    /// first; stops at the first failure (that snapshot is left unchanged).
    pub fn tree_run(&self, n: SnapId, argv: &[String]) -> Result<Vec<RunOutcome>> {
        let _g = self.lock(&format!("tree-run {n}"))?;
        let meta = self.meta_locked()?;
        self.changeable(&meta, n)?;
        let mut out = Vec::new();
        for id in meta.subtree(n) {
            let o = self.transact(&meta, id, |t| t.run_chrooted(argv))?;
            let stop = !o.status.success();
            out.push(o);
            if stop {
                break;
            }
        }
        Ok(out)
    }

    /// The shell a chroot into `n` should start.
    pub fn shell_of(&self, n: SnapId) -> String {
        let root = self.layout.part(Part::Rootfs, n);
        if root.join("usr/bin/bash").exists() {
            "/bin/bash".into()
        } else {
            "/bin/sh".into()
        }
    }

    /// `edit-conf N`: runs `editor` (argv, the file appended) on the copy's
    /// `etc/ast.conf`; commits if the editor exits 0 and the file parses.
    pub fn edit_conf(&self, n: SnapId, editor: &[String]) -> Result<RunOutcome> {
        let _g = self.lock(&format!("edit-conf {n}"))?;
        let meta = self.meta_locked()?;
        self.changeable(&meta, n)?;
        let txn = Txn::prepare(&self.layout, n)?;
        let file = txn.root().join(conf::AST_CONF);
        if !file.exists() {
            atomic::write_atomic(&file, b"")?;
        }
        let (program, args) = editor
            .split_first()
            .ok_or_else(|| Error::Invalid("empty $EDITOR".into()))?;
        let mut cmd = std::process::Command::new(program);
        cmd.args(args).arg(&file);
        let status = txn::status(&mut cmd, program)?;
        if !status.success() {
            txn.discard()?;
            return Ok(RunOutcome {
                snapshot: n,
                status,
                committed: false,
                unchanged: false,
            });
        }
        let text = std::fs::read_to_string(&file).map_err(Error::io(&file))?;
        conf::parse(&text)?; // an invalid file discards the copy (txn dropped)
        txn.commit(meta.get(n)?)?;
        Ok(RunOutcome {
            snapshot: n,
            status,
            committed: true,
            unchanged: false,
        })
    }

    /// The slot the running system booted from.
    fn running_slot(&self) -> Result<PathBuf> {
        let slot = state::running_slot(&self.layout)?.ok_or(Error::NoDeployment)?;
        Ok(self.layout.named(Part::Rootfs, slot))
    }

    /// `live-chroot`: runs `argv` chrooted in the running slot itself; changes apply
    /// to the running system at once and are not committed to any snapshot.
    pub fn live_chroot(&self, argv: &[String]) -> Result<ExitStatus> {
        let _g = self.lock("live-chroot")?;
        let slot = self.running_slot()?;
        let mut cmd = Sandbox::chroot(&slot).command(argv)?;
        txn::status(&mut cmd, &argv[0])
    }

    /// `tmp` / `unlock N`: removes leftovers; returns what was removed.
    pub fn clean_leftovers(&self, only: Option<SnapId>) -> Result<Vec<Leftover>> {
        let what = only
            .map(|n| format!("unlock {n}"))
            .unwrap_or_else(|| "tmp".into());
        let _g = self.lock(&what)?;
        let meta = self.meta_locked()?;
        if let Some(n) = only {
            self.require(&meta, n)?;
        }
        let found = leftovers::scan(&self.layout, &meta, only);
        leftovers::clean(&self.layout, &found)?;
        Ok(found)
    }

    /// `fsck`: checks the metadata, rebuilding it when missing/corrupt or asked to.
    pub fn fsck(&self, force_rebuild: bool) -> Result<fsck::FsckReport> {
        let _g = self.lock("fsck")?;
        let file = self.layout.meta_file();
        let reason = match self.meta_locked() {
            Ok(meta) if !force_rebuild => return Ok(fsck::check(&self.layout, &meta)),
            Ok(_) => "rebuild requested".to_string(),
            Err(e @ Error::CorruptMeta { .. }) => {
                let keep = file.with_extension("json.corrupt");
                std::fs::rename(&file, &keep).map_err(Error::io(&file))?;
                e.to_string()
            }
            Err(e @ Error::MissingMeta(_)) => e.to_string(),
            Err(e) => return Err(e),
        };
        let (meta, mut report) = fsck::rebuild(&self.layout)?;
        meta.save(&file)?;
        report.reason = Some(reason);
        Ok(report)
    }
}
