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
use std::str::FromStr;

use serde::Serialize;

use crate::layout::{Layout, Mode, Part, SNAP_FILE};
use crate::meta::now;
use crate::sandbox::Sandbox;
use crate::{btrfs, conf, state, txn, Error, Rast, Result, SnapId};

/// How the deployed slot becomes bootable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bootloader {
    /// `grub-mkconfig` in the slot, plus an entry for the last booted deployment.
    Grub,
    /// A loader entry per kernel in the slot's `/boot/loader/entries`.
    SystemdBoot,
    /// Nothing (the firmware or another tool boots the default subvolume).
    None,
}

impl FromStr for Bootloader {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "grub" => Ok(Bootloader::Grub),
            "systemd-boot" | "systemdboot" | "sd-boot" => Ok(Bootloader::SystemdBoot),
            "none" => Ok(Bootloader::None),
            other => Err(Error::Invalid(format!(
                "unknown bootloader {other:?}: use grub, systemd-boot or none"
            ))),
        }
    }
}

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

/// Builds, makes bootable and switches to a slot holding snapshot `id`.
pub fn deploy_slot(l: &Layout, id: SnapId, bootloader: Bootloader) -> Result<&'static str> {
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
        run_bootloader(l, &root, slot, id, bootloader)?;
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
    crate::atomic::write_atomic(&journal_entry(l, slot), id.to_string().as_bytes())?;
    finish(l, slot)?;
    Ok(slot)
}

/// Second half of a deploy: switch the default, rename staged parts. Idempotent.
fn finish(l: &Layout, slot: &str) -> Result<()> {
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
    let entry = journal_entry(l, slot);
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

/// Runs the bootloader step inside `root` (a slot or a transaction copy).
pub fn run_bootloader(
    l: &Layout,
    root: &Path,
    slot: &str,
    id: SnapId,
    bootloader: Bootloader,
) -> Result<()> {
    match bootloader {
        Bootloader::None => Ok(()),
        Bootloader::Grub => {
            if !root.join("usr/bin/grub-mkconfig").exists() {
                return Err(Error::Invalid(format!(
                    "bootloader grub: snapshot {id} has no grub-mkconfig; install grub into it, or choose another bootloader (--bootloader systemd-boot|none, or bootloader::none in its /etc/ast.conf)"
                )));
            }
            let mut cmd =
                Sandbox::chroot(root).command(&["grub-mkconfig", "-o", "/boot/grub/grub.cfg"])?;
            let out = cmd.output().map_err(|source| Error::Spawn {
                program: "grub-mkconfig".into(),
                source,
            })?;
            if !out.status.success() {
                return Err(Error::CommandFailed {
                    program: "grub-mkconfig (in the new deployment)".into(),
                    status: out.status.to_string(),
                    detail: format!(": {}", String::from_utf8_lossy(&out.stderr).trim()),
                });
            }
            add_last_booted_entry(l, &root.join("boot/grub/grub.cfg"), slot)
        }
        Bootloader::SystemdBoot => write_loader_entries(root, slot, id),
    }
}

/// astOS adds a grub entry that boots the previous slot ("last booted deployment").
fn add_last_booted_entry(l: &Layout, cfg: &Path, slot: &str) -> Result<()> {
    let other = if slot == "tmp" { "tmp0" } else { "tmp" };
    if !btrfs::is_subvolume(&l.named(Part::Rootfs, other)) {
        return Ok(());
    }
    let text = std::fs::read_to_string(cfg).map_err(Error::io(cfg))?;
    let Some(start) = text.find("menuentry ") else {
        return Ok(());
    };
    let Some(len) = text[start..].find("\n}").map(|e| e + 2) else {
        return Ok(());
    };
    let entry = &text[start..start + len];
    let first_quote = entry.find('\'').unwrap_or(0);
    let title_end = entry[first_quote + 1..]
        .find('\'')
        .map(|e| first_quote + 1 + e)
        .unwrap_or(first_quote);
    let mut copy = format!(
        "menuentry 'rastOS last booted deployment (snapshot-{other})'{}",
        &entry[title_end + 1..]
    );
    copy = copy.replace(&format!("snapshot-{slot}"), &format!("snapshot-{other}"));
    let new = format!("{text}\n### rast: last booted deployment\n{copy}\n");
    crate::atomic::write_atomic(cfg, new.as_bytes())
}

fn write_loader_entries(root: &Path, slot: &str, id: SnapId) -> Result<()> {
    let boot = root.join("boot");
    let kernels: Vec<String> = std::fs::read_dir(&boot)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.starts_with("vmlinuz-"))
                .collect()
        })
        .unwrap_or_default();
    if kernels.is_empty() {
        return Err(Error::Invalid(format!(
            "systemd-boot: no kernel (vmlinuz-*) in /boot of snapshot {id}"
        )));
    }
    let fstab = std::fs::read_to_string(root.join("etc/fstab")).unwrap_or_default();
    let root_dev = fstab
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() >= 2 && f[1] == "/")
        .map(|f| format!("root={} ", f[0]))
        .unwrap_or_default();
    let entries = boot.join("loader/entries");
    std::fs::create_dir_all(&entries).map_err(Error::io(&entries))?;
    for k in &kernels {
        let name = &k["vmlinuz-".len()..];
        let mut text = format!("title   rastOS snapshot {id} ({name})\nlinux   /{k}\n");
        for img in [format!("initramfs-{name}.img")] {
            if boot.join(&img).exists() {
                text.push_str(&format!("initrd  /{img}\n"));
            }
        }
        text.push_str(&format!(
            "options {root_dev}rootflags=subvol=@.snapshots/rootfs/snapshot-{slot} rw\n"
        ));
        crate::atomic::write_atomic(
            &entries.join(format!("rastos-{slot}-{name}.conf")),
            text.as_bytes(),
        )?;
    }
    let loader = boot.join("loader/loader.conf");
    crate::atomic::write_atomic(
        &loader,
        format!("default rastos-{slot}-*\ntimeout 3\n").as_bytes(),
    )
}

impl Rast {
    /// The bootloader for snapshot `n`: `flag`, else `bootloader::X` in its ast.conf,
    /// else grub.
    pub fn bootloader_for(&self, n: SnapId, flag: Option<Bootloader>) -> Result<Bootloader> {
        if let Some(b) = flag {
            return Ok(b);
        }
        let conf_file = self.layout().part(Part::Rootfs, n).join(conf::AST_CONF);
        match std::fs::read_to_string(&conf_file) {
            Ok(text) => match conf::parse(&text)?.get("bootloader") {
                Some(b) => b.parse(),
                None => Ok(Bootloader::Grub),
            },
            Err(_) => Ok(Bootloader::Grub),
        }
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
        let slot = deploy_slot(self.layout(), n, bootloader)?;
        meta.record_deployment(n, slot);
        meta.save(&self.layout().meta_file())?;
        Ok(DeployReport {
            snapshot: n,
            slot: slot.to_string(),
            bootloader,
            previous,
        })
    }

    /// `rollback`: clones the previously deployed snapshot and deploys the clone.
    pub fn rollback(&self, flag: Option<Bootloader>) -> Result<(SnapId, DeployReport)> {
        let _g = self.lock("rollback")?;
        let meta = self.meta()?;
        let current = self.deployed()?;
        let prev = meta
            .deployments
            .iter()
            .rev()
            .map(|d| d.snapshot)
            .find(|s| Some(*s) != current)
            .ok_or_else(|| Error::Invalid("no earlier deployment to roll back to".into()))?;
        if !meta.contains(prev) {
            return Err(Error::Invalid(format!(
                "the previously deployed snapshot {prev} was deleted; deploy another one by hand"
            )));
        }
        let parent = meta.get(prev)?.parent;
        drop(meta);
        let mut meta = self.meta()?;
        let clone = self.copy_locked(&mut meta, prev, parent, format!("rollback to {prev}"))?;
        let report = self.deploy_locked(clone, flag)?;
        Ok((clone, report))
    }

    /// `etc-update`: the running system's /etc becomes the current snapshot's.
    pub fn etc_update(&self) -> Result<crate::pkg::PkgOutcome> {
        let _g = self.lock("etc-update")?;
        let meta = self.meta()?;
        let n = self.current()?.ok_or(Error::NoDeployment)?;
        let live_etc = match self.layout().mode {
            Mode::Live => self.layout().root.join("etc"),
            Mode::TopLevel => self
                .running_slot_root()
                .ok_or(Error::NoDeployment)?
                .join("etc"),
        };
        self.pkg_txn(&meta, n, false, |t, _| {
            let etc = t.root().join("etc");
            std::fs::remove_dir_all(&etc).map_err(Error::io(&etc))?;
            std::fs::create_dir(&etc).map_err(Error::io(&etc))?;
            txn::reflink_copy(&live_etc, &etc)?;
            Ok(crate::pkg::success_status())
        })
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
            run_bootloader(self.layout(), t.root(), slot, n, bootloader)?;
            Ok(crate::pkg::success_status())
        })?;
        if self.deployed()? == Some(n) {
            if let Some(s) = state::deployed_slot(self.layout())? {
                run_bootloader(
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
    pub fn record_deployment(&mut self, snapshot: SnapId, slot: &str) {
        self.deployments.push(crate::meta::Deployment {
            snapshot,
            slot: slot.to_string(),
            time: now(),
        });
        let excess = self.deployments.len().saturating_sub(50);
        self.deployments.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn bootloader_names() {
        assert_eq!(
            "systemd-boot".parse::<Bootloader>().unwrap(),
            Bootloader::SystemdBoot
        );
        assert_eq!("NONE".parse::<Bootloader>().unwrap(), Bootloader::None);
        assert!("lilo".parse::<Bootloader>().is_err());
    }
}
