//! Transactions on one snapshot, and creation of new snapshots — both crash-safe.
//!
//! A transaction on snapshot N (astOS's prepare/posttrans):
//! 1. **prepare**: writable snapshot `rootfs/snapshot-N` → `rootfs/snapshot-chrN`.
//! 2. work happens in the copy (a chroot, pacman `--root`, an editor).
//! 3. **commit**: stage read-only `snapshot-N.new`, `etc-N.new`, `boot-N.new` (etc and
//!    boot rebuilt from the copy's `/etc` and `/boot`), then write the journal entry
//!    `rast/journal/commit-N`, then swap each part (`N` → `N.old`, `N.new` → `N`),
//!    delete the `.old` parts, the copy and the journal entry.
//! 4. **discard**: delete the copy; N was never touched.
//!
//! astOS deletes `snapshot-N` before snapshotting the copy back, so a crash in between
//! loses N. Here, whatever moment rast dies: before the journal entry lands, N is
//! untouched and the staged parts are leftovers (`rast tmp` deletes them); after it
//! lands, the next rast that takes the tree lock rolls the swap forward
//! ([`recover`]). Every step of the roll-forward is idempotent.
//!
//! New snapshots (clone, branch, …) are staged the same way (`M.new`) and renamed to
//! their final names before the metadata names them; final-named subvolumes that the
//! metadata does not name are leftovers too.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use crate::layout::{Layout, Part, SELF_RECORD};
use crate::meta::SnapshotMeta;
use crate::sandbox::Sandbox;
use crate::{btrfs, Error, Result, SnapId};

/// Record written into each snapshot's rootfs so `rast fsck` can rebuild the tree.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SelfRecord {
    pub id: SnapId,
    pub parent: Option<SnapId>,
    pub desc: String,
    pub created: u64,
}

/// A writable copy of one snapshot. Dropping it without [`Txn::commit`] discards it.
#[derive(Debug)]
pub struct Txn {
    layout: Layout,
    id: SnapId,
    chr: PathBuf,
    finished: bool,
}

impl Txn {
    /// Makes the writable copy of snapshot `id`. Fails with [`Error::Busy`] if a copy
    /// from an interrupted run is still there (`rast unlock N` removes it).
    pub fn prepare(layout: &Layout, id: SnapId) -> Result<Txn> {
        let src = layout.part(Part::Rootfs, id);
        if !btrfs::is_subvolume(&src) {
            return Err(Error::NoSuchSnapshot(id));
        }
        for part in Part::ALL {
            let chr = layout.chr(part, id);
            if chr.symlink_metadata().is_ok() {
                return Err(Error::Busy(id, chr));
            }
        }
        let chr = layout.chr(Part::Rootfs, id);
        btrfs::snapshot(&src, &chr, false)?;
        Ok(Txn {
            layout: layout.clone(),
            id,
            chr,
            finished: false,
        })
    }

    /// Takes over a writable copy that already exists at `rootfs/snapshot-chrN`
    /// (init builds snapshot 0 this way).
    pub(crate) fn adopt(layout: &Layout, id: SnapId) -> Txn {
        Txn {
            layout: layout.clone(),
            id,
            chr: layout.chr(Part::Rootfs, id),
            finished: false,
        }
    }

    pub fn id(&self) -> SnapId {
        self.id
    }

    /// The writable root filesystem of the copy.
    pub fn root(&self) -> &Path {
        &self.chr
    }

    /// The copy's btrfs generation (after a filesystem sync). Two readings around some
    /// work differ exactly when the work wrote to the copy; reads through the sandbox
    /// do not count, as it mounts the copy `noatime`. Measured only by the callers that
    /// skip empty commits (`run`, `chroot`), so other transactions pay no sync.
    pub fn generation(&self) -> Result<u64> {
        btrfs::generation(&self.chr)
    }

    /// Runs `argv` chrooted into the copy, stdin/stdout/stderr inherited.
    pub fn run_chrooted(&self, argv: &[String]) -> Result<ExitStatus> {
        let mut cmd = Sandbox::chroot(&self.chr).command(argv)?;
        status(&mut cmd, &argv[0])
    }

    /// Seals the copy as the new content of snapshot `id`.
    pub fn commit(mut self, record: &SnapshotMeta) -> Result<()> {
        write_self_record(&self.chr, self.id, record)?;
        let l = &self.layout;
        for part in Part::ALL {
            let staged = l.staged(part, self.id, "new");
            btrfs::delete_if_exists(&staged)?;
            match part.mount_in_rootfs() {
                None => btrfs::snapshot(&self.chr, &staged, true)?,
                Some(sub) => {
                    btrfs::create_subvolume(&staged)?;
                    let from = self.chr.join(sub);
                    if from.is_dir() {
                        reflink_copy(&from, &staged)?;
                    }
                    btrfs::set_readonly(&staged, true)?;
                }
            }
        }
        let entry = journal_entry(l, self.id);
        crate::atomic::write_atomic(&entry, self.id.to_string().as_bytes())?;
        roll_forward(l, self.id)?;
        btrfs::delete(&self.chr)?;
        fs::remove_file(&entry).map_err(Error::io(&entry))?;
        self.finished = true;
        Ok(())
    }

    /// Throws the copy away; the snapshot stays as it was.
    pub fn discard(mut self) -> Result<()> {
        self.finished = true;
        btrfs::delete(&self.chr)
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        if !self.finished {
            if let Err(e) = btrfs::delete(&self.chr) {
                tracing::warn!(
                    "could not discard {}: {e}; `rast tmp` will remove it",
                    self.chr.display()
                );
            }
        }
    }
}

fn journal_entry(l: &Layout, id: SnapId) -> PathBuf {
    l.journal_dir().join(format!("commit-{id}"))
}

/// Finishes the swap of a commit whose journal entry landed. Idempotent.
fn roll_forward(l: &Layout, id: SnapId) -> Result<()> {
    for part in Part::ALL {
        let (cur, new, old) = (
            l.part(part, id),
            l.staged(part, id, "new"),
            l.staged(part, id, "old"),
        );
        let exists = |p: &Path| p.symlink_metadata().is_ok();
        if exists(&new) {
            if exists(&cur) {
                btrfs::delete_if_exists(&old)?;
                btrfs::rename(&cur, &old)?;
            }
            btrfs::rename(&new, &cur)?;
        }
        btrfs::delete_if_exists(&old)?;
    }
    Ok(())
}

/// Completes every commit that was interrupted after its journal entry landed.
/// Called with the tree lock held, before any other change.
pub fn recover(l: &Layout) -> Result<Vec<SnapId>> {
    crate::atomic::remove_stale_temps(&l.rast_dir())?;
    crate::atomic::remove_stale_temps(&l.journal_dir())?;
    let dir = l.journal_dir();
    let mut done = Vec::new();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(Error::io(&dir)(e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_prefix("commit-"))
            .and_then(|n| n.parse::<SnapId>().ok())
        else {
            continue;
        };
        tracing::info!("finishing interrupted commit of snapshot {id}");
        roll_forward(l, id)?;
        btrfs::delete_if_exists(&l.chr(Part::Rootfs, id))?;
        fs::remove_file(entry.path()).map_err(Error::io(entry.path()))?;
        done.push(id);
    }
    Ok(done)
}

/// Creates snapshot `new` as a read-only copy of `src`, with its self record.
/// The metadata is the caller's to update afterwards.
pub fn create_from(l: &Layout, src: SnapId, new: SnapId, record: &SnapshotMeta) -> Result<()> {
    for part in Part::ALL {
        let from = l.part(part, src);
        if !btrfs::is_subvolume(&from) {
            return Err(Error::Invalid(format!(
                "snapshot {src} is incomplete: {} is missing (run `rast fsck`)",
                from.display()
            )));
        }
        let staged = l.staged(part, new, "new");
        btrfs::delete_if_exists(&staged)?;
        if part == Part::Rootfs {
            btrfs::snapshot(&from, &staged, false)?;
            write_self_record(&staged, new, record)?;
            btrfs::set_readonly(&staged, true)?;
        } else {
            btrfs::snapshot(&from, &staged, true)?;
        }
    }
    for part in Part::ALL {
        btrfs::rename(&l.staged(part, new, "new"), &l.part(part, new))?;
    }
    Ok(())
}

/// Creates snapshot `new` from any root filesystem subvolume (a restored backup):
/// its rootfs is a read-only snapshot of `rootfs`, etc and boot are rebuilt from its
/// `/etc` and `/boot` (the layout invariant).
pub fn create_from_rootfs(
    l: &Layout,
    rootfs: &Path,
    new: SnapId,
    record: &SnapshotMeta,
) -> Result<()> {
    for part in Part::ALL {
        let staged = l.staged(part, new, "new");
        btrfs::delete_if_exists(&staged)?;
        match part.mount_in_rootfs() {
            None => {
                btrfs::snapshot(rootfs, &staged, false)?;
                write_self_record(&staged, new, record)?;
            }
            Some(sub) => {
                btrfs::create_subvolume(&staged)?;
                if rootfs.join(sub).is_dir() {
                    reflink_copy(&rootfs.join(sub), &staged)?;
                }
            }
        }
        btrfs::set_readonly(&staged, true)?;
    }
    for part in Part::ALL {
        btrfs::rename(&l.staged(part, new, "new"), &l.part(part, new))?;
    }
    Ok(())
}

/// Deletes all parts of snapshot `id` that exist.
pub fn delete_parts(l: &Layout, id: SnapId) -> Result<()> {
    for part in Part::ALL {
        btrfs::delete_if_exists(&l.part(part, id))?;
    }
    Ok(())
}

fn write_self_record(rootfs: &Path, id: SnapId, m: &SnapshotMeta) -> Result<()> {
    let rec = SelfRecord {
        id,
        parent: m.parent,
        desc: m.desc.clone(),
        created: m.created,
    };
    let path = rootfs.join(SELF_RECORD);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    let bytes = serde_json::to_vec_pretty(&rec).map_err(|e| Error::Invalid(e.to_string()))?;
    crate::atomic::write_atomic(&path, &bytes)
}

/// Reads a snapshot's self record, if it has one.
pub fn read_self_record(rootfs: &Path) -> Option<SelfRecord> {
    serde_json::from_slice(&fs::read(rootfs.join(SELF_RECORD)).ok()?).ok()
}

/// `cp -a --reflink=auto FROM/. TO/` — shares extents on btrfs, so it is cheap.
pub fn reflink_copy(from: &Path, to: &Path) -> Result<()> {
    let mut src = from.as_os_str().to_owned();
    src.push("/.");
    let mut cmd = Command::new("cp");
    cmd.arg("-a")
        .arg("--reflink=auto")
        .arg("--")
        .arg(src)
        .arg(to);
    run_checked(&mut cmd, "cp")
}

/// Runs `cmd`, returning its exit status.
pub fn status(cmd: &mut Command, program: &str) -> Result<ExitStatus> {
    cmd.status().map_err(|source| Error::Spawn {
        program: program.to_string(),
        source,
    })
}

/// Runs `cmd` with captured output; non-zero exit is an error carrying stderr.
pub fn run_checked(cmd: &mut Command, program: &str) -> Result<()> {
    tracing::debug!(?cmd, "run");
    let out = cmd.output().map_err(|source| Error::Spawn {
        program: program.to_string(),
        source,
    })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let detail = stderr.trim();
    Err(Error::CommandFailed {
        program: program.to_string(),
        status: out.status.to_string(),
        detail: if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        },
    })
}
