//! Deploying a snapshot into one of the two A/B slots (astOS's deploy), crash-safe.
//!
//! The slot that is not running (offline: not the default subvolume) is rebuilt under
//! staging names (`snapshot-tmpX.new`, `etc-tmpX.new`, `boot-tmpX.new`) as writable
//! copies of snapshot N; `usr/share/ast/snap` = N is written, the fstab's `subvol=`
//! options are pointed at the slot, `/var` is replaced by a snapshot of the live
//! `/var`, and the bootloader step runs in it (`grub`, `systemd-boot` or `none`).
//! Only if all of that succeeded is the journal entry `deploy-tmpX` written, the staged
//! rootfs made the default subvolume (by id) and the staged parts renamed into place.
//! A deploy that fails before that point deletes its staged parts: the previous
//! deployment stays the default and stays bootable. After it, the next rast rolls the
//! renames forward ([`recover`]).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bootloader::{self, BootSetup};
use crate::layout::{Layout, Mode, Part, SNAP_FILE};
use crate::meta::now;
use crate::{btrfs, conf, state, txn, Error, Rast, Result, SnapId};

pub use crate::bootloader::Bootloader;

/// What a deploy did.
#[derive(Clone, Debug, Serialize)]
pub struct DeployReport {
    pub snapshot: SnapId,
    pub slot: String,
    pub bootloader: Bootloader,
    /// The snapshot deployed before (what `rollback` would return to).
    pub previous: Option<SnapId>,
}

fn staged_slot(l: &Layout, part: Part, slot: &str) -> PathBuf {
    l.named(part, &format!("{slot}.new"))
}

fn journal_entry(l: &Layout, slot: &str) -> PathBuf {
    l.journal_dir().join(format!("deploy-{slot}"))
}

/// Points `subvol=` options of an fstab at `slot` (`tmp` or `tmp0`).
pub fn rewrite_fstab(text: &str, slot: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || trimmed.split_whitespace().count() < 4 {
            out.push_str(line);
            continue;
        }
        let mut rewritten = String::new();
        let mut fields = 0;
        for (i, piece) in line.split_inclusive(char::is_whitespace).enumerate() {
            let word = piece.trim_end();
            if !word.is_empty() {
                fields += 1;
            }
            if fields == 4 && !word.is_empty() && i > 0 {
                let opts: Vec<String> = word
                    .split(',')
                    .map(|o| match o.strip_prefix("subvol=") {
                        Some(v) => format!("subvol={}", retarget(v, slot)),
                        None => o.to_string(),
                    })
                    .collect();
                rewritten.push_str(&opts.join(","));
                rewritten.push_str(&piece[word.len()..]);
            } else {
                rewritten.push_str(piece);
            }
        }
        out.push_str(&rewritten);
    }
    out
}

fn retarget(path: &str, slot: &str) -> String {
    for part in Part::ALL {
        for from in ["tmp0", "tmp"] {
            let old = format!("{}{from}", part.prefix());
            if let Some(prefix) = path.strip_suffix(&old) {
                return format!("{prefix}{}{slot}", part.prefix());
            }
        }
    }
    path.to_string()
}

/// The live `/var` a new slot gets a snapshot of.
fn live_var(l: &Layout) -> PathBuf {
    match l.mode {
        Mode::TopLevel => l.root.join("@var"),
        Mode::Live => l.root.join("var"),
    }
}

/// The slot a new deployment goes to: never the running one; offline, never the
/// default one.
fn target_slot(l: &Layout) -> Result<&'static str> {
    Ok(if state::running_slot(l)? == Some("tmp") {
        "tmp0"
    } else {
        "tmp"
    })
}

/// Builds, makes bootable and switches to a slot holding snapshot `id`; `esp` is the
/// mounted EFI system partition (systemd-boot).
pub fn deploy_slot(
    l: &Layout,
    id: SnapId,
    bootloader: Bootloader,
    esp: Option<&Path>,
) -> Result<&'static str> {
    if bootloader == Bootloader::SystemdBoot && esp.is_none() {
        return Err(Error::Invalid(
            "systemd-boot: where is the EFI system partition? pass --esp (its mount point or the partition)".into(),
        ));
    }
    let slot = target_slot(l)?;
    for part in Part::ALL {
        let staged = staged_slot(l, part, slot);
        btrfs::delete_if_exists(&staged)?;
        btrfs::snapshot(&l.part(part, id), &staged, false)?;
    }
    let built = (|| {
        let root = staged_slot(l, Part::Rootfs, slot);
        let snap_file = root.join(SNAP_FILE);
        if let Some(dir) = snap_file.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        }
        crate::atomic::write_atomic(&snap_file, format!("{id}\n").as_bytes())?;
        for fstab in [
            root.join("etc/fstab"),
            staged_slot(l, Part::Etc, slot).join("fstab"),
        ] {
            if let Ok(text) = std::fs::read_to_string(&fstab) {
                crate::atomic::write_atomic(&fstab, rewrite_fstab(&text, slot).as_bytes())?;
            }
        }
        let var = live_var(l);
        if btrfs::is_subvolume(&var) && root.join("var").is_dir() {
            std::fs::remove_dir_all(root.join("var")).map_err(Error::io(root.join("var")))?;
            btrfs::snapshot(&var, &root.join("var"), false)?;
        }
        bootloader::prepare(l, &root, slot, id, bootloader)?;
        // The boot part mirrors the slot's /boot after the bootloader step.
        let boot = staged_slot(l, Part::Boot, slot);
        btrfs::delete(&boot)?;
        btrfs::create_subvolume(&boot)?;
        if root.join("boot").is_dir() {
            txn::reflink_copy(&root.join("boot"), &boot)?;
        }
        Ok(())
    })();
    if let Err(e) = built {
        for part in Part::ALL {
            let _ = btrfs::delete_if_exists(&staged_slot(l, part, slot));
        }
        return Err(e);
    }
    let record = format!(
        "{id}\n{}\n{}\n",
        bootloader.as_str(),
        esp.map(|e| e.display().to_string()).unwrap_or_default()
    );
    crate::atomic::write_atomic(&journal_entry(l, slot), record.as_bytes())?;
    finish(l, slot)?;
    Ok(slot)
}

/// Second half of a deploy: switch the default, rename staged parts, make the slot
/// the one that boots (the bootloader's half). Idempotent.
fn finish(l: &Layout, slot: &str) -> Result<()> {
    let entry = journal_entry(l, slot);
    // id, bootloader, ESP (older journals hold only the id).
    let record = std::fs::read_to_string(&entry).unwrap_or_default();
    let mut lines = record.lines();
    let id: Option<SnapId> = lines.next().and_then(|x| x.trim().parse().ok());
    let b: Bootloader = lines
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or(Bootloader::None);
    let esp: Option<PathBuf> = lines.next().filter(|x| !x.is_empty()).map(PathBuf::from);
    let staged_root = staged_slot(l, Part::Rootfs, slot);
    if btrfs::is_subvolume(&staged_root) {
        btrfs::set_default_subvolume(&staged_root)?;
    }
    for part in Part::ALL {
        let staged = staged_slot(l, part, slot);
        if staged.symlink_metadata().is_ok() {
            btrfs::delete_if_exists(&l.named(part, slot))?;
            btrfs::rename(&staged, &l.named(part, slot))?;
        }
    }
    btrfs::set_default_subvolume(&l.named(Part::Rootfs, slot))?;
    if let Some(id) = id {
        let esp = esp.map(|p| crate::esp::Esp::open(&p)).transpose()?;
        bootloader::switch(l, slot, id, b, esp.as_ref())?;
    }
    if entry.exists() {
        std::fs::remove_file(&entry).map_err(Error::io(&entry))?;
    }
    Ok(())
}

/// Finishes deploys whose journal entry landed and removes the staged parts of
/// deploys that died before it (called with the lock held).
pub fn recover(l: &Layout) -> Result<()> {
    for slot in ["tmp", "tmp0"] {
        if journal_entry(l, slot).exists() {
            tracing::info!("finishing interrupted deploy to slot {slot}");
            finish(l, slot)?;
        } else {
            for part in Part::ALL {
                btrfs::delete_if_exists(&staged_slot(l, part, slot))?;
            }
        }
    }
    Ok(())
}

impl Rast {
    /// The bootloader for snapshot `n`: `flag`, else `bootloader::X` in its ast.conf,
    /// else the one the last deployment used, else the one `init` installed (or was
    /// told), else grub.
    pub fn bootloader_for(&self, n: SnapId, flag: Option<Bootloader>) -> Result<Bootloader> {
        if let Some(b) = flag {
            return Ok(b);
        }
        let conf_file = self.layout().part(Part::Rootfs, n).join(conf::AST_CONF);
        if let Ok(text) = std::fs::read_to_string(&conf_file) {
            if let Some(b) = conf::parse(&text)?.get("bootloader") {
                return b.parse();
            }
        }
        let meta = self.meta()?;
        if let Some(b) = meta.deployments.iter().rev().find_map(|d| d.bootloader) {
            return Ok(b);
        }
        if let Some(b) = meta.bootloader {
            return Ok(b);
        }
        Ok(BootSetup::load(self.layout())?
            .map(|s| s.bootloader)
            .unwrap_or(Bootloader::Grub))
    }

    /// The EFI system partition: `--esp` (a mount point or the partition itself), else
    /// (on the running system) where the installed system mounts it.
    pub fn esp_path(&self) -> Result<Option<PathBuf>> {
        if let Some(e) = &self.esp {
            return Ok(Some(e.clone()));
        }
        if self.layout().mode == Mode::Live {
            if let Some(m) = BootSetup::load(self.layout())?.and_then(|s| s.esp_mount) {
                return Ok(Some(self.layout().root.join(m.trim_start_matches('/'))));
            }
        }
        Ok(None)
    }

    /// `deploy N`.
    pub fn deploy(&self, n: SnapId, flag: Option<Bootloader>) -> Result<DeployReport> {
        let _g = self.lock(&format!("deploy {n}"))?;
        self.deploy_locked(n, flag)
    }

    fn deploy_locked(&self, n: SnapId, flag: Option<Bootloader>) -> Result<DeployReport> {
        let mut meta = self.meta()?;
        meta.get(n)?;
        let bootloader = self.bootloader_for(n, flag)?;
        let previous = self.deployed()?;
        let esp = self.esp_path()?;
        let slot = deploy_slot(self.layout(), n, bootloader, esp.as_deref())?;
        meta.record_deployment(n, slot, Some(bootloader));
        meta.save(&self.layout().meta_file())?;
        Ok(DeployReport {
            snapshot: n,
            slot: slot.to_string(),
            bootloader,
            previous,
        })
    }

    /// The snapshot `rollback` would deploy a clone of: the last deployment before the
    /// current one that did not fail to boot.
    pub fn rollback_target(&self) -> Result<Option<SnapId>> {
        let meta = self.meta()?;
        let current = self.deployed()?;
        Ok(meta
            .deployments
            .iter()
            .rev()
            .filter(|d| !meta.failed_to_boot(d))
            .map(|d| d.snapshot)
            .find(|s| Some(*s) != current))
    }

    /// `rollback`: clones the previously deployed snapshot and deploys the clone. A
    /// rollback that fails leaves the tree as it was (the clone is deleted).
    pub fn rollback(&self, flag: Option<Bootloader>) -> Result<(SnapId, DeployReport)> {
        let _g = self.lock("rollback")?;
        let prev = self
            .rollback_target()?
            .ok_or_else(|| Error::Invalid("no earlier deployment to roll back to".into()))?;
        let mut meta = self.meta()?;
        if !meta.contains(prev) {
            return Err(Error::Invalid(format!(
                "the previously deployed snapshot {prev} was deleted; deploy another one by hand"
            )));
        }
        // The deployment being reverted chooses the bootloader, as it chose its own.
        let flag = match flag {
            Some(f) => Some(f),
            None => meta.deployments.iter().rev().find_map(|d| d.bootloader),
        };
        let parent = meta.get(prev)?.parent;
        let clone = self.copy_locked(&mut meta, prev, parent, format!("rollback to {prev}"))?;
        match self.deploy_locked(clone, flag) {
            Ok(report) => Ok((clone, report)),
            Err(e) => {
                let mut meta = self.meta()?;
                if let Err(undo) = self.delete_locked(&mut meta, clone) {
                    tracing::warn!("could not delete the rollback clone {clone}: {undo}");
                }
                Err(e)
            }
        }
    }

    /// `etc-update`: the running system's /etc becomes the current snapshot's.
    pub fn etc_update(&self) -> Result<crate::pkg::PkgOutcome> {
        let _g = self.lock("etc-update")?;
        let meta = self.meta()?;
        let n = self.current()?.ok_or(Error::NoDeployment)?;
        let live_etc = self.booted_etc()?;
        self.pkg_txn(&meta, n, false, |t, _| {
            let etc = t.root().join("etc");
            std::fs::remove_dir_all(&etc).map_err(Error::io(&etc))?;
            std::fs::create_dir(&etc).map_err(Error::io(&etc))?;
            txn::reflink_copy(&live_etc, &etc)?;
            Ok(crate::pkg::success_status())
        })
    }

    /// The /etc the booted system sees. Live: `/etc`. Offline: what the running
    /// slot's fstab mounts at /etc (the slot's `etc-tmpN` subvolume on rastOS and
    /// astOS), else the slot's own `/etc` directory.
    pub(crate) fn booted_etc(&self) -> Result<PathBuf> {
        let l = self.layout();
        if l.mode == Mode::Live {
            return Ok(l.root.join("etc"));
        }
        let slot = state::running_slot(l)?.ok_or(Error::NoDeployment)?;
        let root = l.named(Part::Rootfs, slot);
        let fstab = std::fs::read_to_string(root.join("etc/fstab")).unwrap_or_default();
        if let Some(sub) = etc_subvol(&fstab) {
            let p = l.root.join(sub.trim_start_matches('/'));
            // Only a path inside the snapshots directory: the fstab is data, not trusted.
            if p.starts_with(&l.snapdir) && !sub.contains("..") && p.is_dir() {
                return Ok(p);
            }
        }
        Ok(root.join("etc"))
    }

    /// `boot-update N`: reruns the bootloader step in N (and in its slot if N is
    /// deployed).
    pub fn boot_update(
        &self,
        n: SnapId,
        flag: Option<Bootloader>,
    ) -> Result<crate::pkg::PkgOutcome> {
        let _g = self.lock(&format!("boot-update {n}"))?;
        let meta = self.meta()?;
        let bootloader = self.bootloader_for(n, flag)?;
        let slot = target_slot(self.layout())?;
        let o = self.pkg_txn(&meta, n, false, |t, _| {
            bootloader::prepare(self.layout(), t.root(), slot, n, bootloader)?;
            Ok(crate::pkg::success_status())
        })?;
        if self.deployed()? == Some(n) {
            if let Some(s) = state::deployed_slot(self.layout())? {
                bootloader::prepare(
                    self.layout(),
                    &self.layout().named(Part::Rootfs, s),
                    s,
                    n,
                    bootloader,
                )?;
            }
        }
        Ok(o)
    }
}

impl crate::meta::TreeMeta {
    /// Appends to the deployment history (kept to the last 50).
    pub fn record_deployment(&mut self, snapshot: SnapId, slot: &str, b: Option<Bootloader>) {
        self.deployments.push(crate::meta::Deployment {
            snapshot,
            slot: slot.to_string(),
            time: now(),
            bootloader: b,
        });
        let excess = self.deployments.len().saturating_sub(50);
        self.deployments.drain(..excess);
    }
}

/// The `subvol=` of the fstab line that mounts `/etc`, if any.
fn etc_subvol(fstab: &str) -> Option<&str> {
    fstab
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 4 || f[1] != "/etc" {
                return None;
            }
            f[3].split(',').find_map(|o| o.strip_prefix("subvol="))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_etc_subvolume_comes_from_the_fstab() {
        let fstab = "# x\nUUID=ab /  btrfs  subvol=@.snapshots/rootfs/snapshot-tmp0 0 0\nUUID=ab /etc btrfs noatime,subvol=@.snapshots/etc/etc-tmp0 0 0\n";
        assert_eq!(etc_subvol(fstab), Some("@.snapshots/etc/etc-tmp0"));
        assert_eq!(etc_subvol("#UUID=ab /etc btrfs subvol=x 0 0\n"), None);
        assert_eq!(etc_subvol("UUID=ab /etc2 btrfs subvol=x 0 0\n"), None);
    }

    #[test]
    fn fstab_subvols_follow_the_slot() {
        let fstab = "# /etc/fstab\nUUID=ab /  btrfs  subvol=@.snapshots/rootfs/snapshot-tmp,compress=zstd 0 0\nUUID=ab /etc btrfs subvol=@.snapshots/etc/etc-tmp0,noatime 0 0\nUUID=ab /home btrfs subvol=@home 0 0\nUUID=cd /boot/efi vfat defaults 0 2\n";
        let out = rewrite_fstab(fstab, "tmp0");
        assert!(
            out.contains("subvol=@.snapshots/rootfs/snapshot-tmp0,compress=zstd 0 0\n"),
            "{out}"
        );
        assert!(out.contains("subvol=@.snapshots/etc/etc-tmp0,noatime"));
        assert!(out.contains("subvol=@home 0 0"));
        assert!(out.starts_with("# /etc/fstab\n"));
        let back = rewrite_fstab(&out, "tmp");
        assert!(
            back.contains("snapshot-tmp,compress") && back.contains("etc-tmp,noatime"),
            "{back}"
        );
    }
}
