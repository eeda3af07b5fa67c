//! Making a deployment slot bootable: the bootloader step of `deploy`, in two halves.
//!
//! [`prepare`] runs while the slot is still staged (`snapshot-tmpX.new`) and writes only
//! inside it: GRUB's configuration comes from `grub-mkconfig` run inside the deployment
//! (the step an Arch system runs; rast then renames the staged subvolume paths it wrote
//! to the final ones and adds astOS's "last booted deployment" entry); systemd-boot only
//! checks the slot has a kernel. [`switch`] runs when the deploy is committed (from the
//! journal, so a crash re-runs it; it is idempotent) and makes the slot boot next:
//! - GRUB (installed by `rast init --partition`): `rast/boot/bootenv` names the slot as
//!   a **trial** with one try and the previous deployment as the fallback; GRUB's menu
//!   (`rast/boot/grub/grub.cfg`, written by init) boots a trial only while its try is
//!   unspent, and the rast-boot initramfs hook spends it;
//! - systemd-boot: the slot's kernels are copied to the ESP (`/rastos/SLOT/`) and its
//!   loader entry gets a boot counter (`rastos-SLOT+1-0.conf`), which systemd-boot
//!   itself counts down; root is the filesystem's UUID (from the filesystem, not fstab).
//!
//! `rast boot-confirm` ([`crate::bootcheck`]) ends a trial: confirmed, or failed and
//! never booted again.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::bootenv::BootEnv;
use crate::esp::Esp;
use crate::layout::{Layout, Part};
use crate::sandbox::Sandbox;
use crate::{btrfs, Error, Result, SnapId};

/// How the deployed slot becomes bootable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bootloader {
    /// `grub-mkconfig` in the slot, plus an entry for the last booted deployment.
    Grub,
    /// Kernels and a counted loader entry on the EFI system partition.
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

impl Bootloader {
    pub fn as_str(self) -> &'static str {
        match self {
            Bootloader::Grub => "grub",
            Bootloader::SystemdBoot => "systemd-boot",
            Bootloader::None => "none",
        }
    }
}

/// What `rast init --partition` installed (`rast/boot/boot.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootSetup {
    pub bootloader: Bootloader,
    /// The btrfs filesystem's UUID.
    pub fs_uuid: String,
    /// The ESP's FAT serial (`1A2B-3C4D`), and where the installed system mounts it.
    #[serde(default)]
    pub esp_uuid: Option<String>,
    #[serde(default)]
    pub esp_mount: Option<String>,
    pub installed: u64,
}

/// `rast/boot`: everything rast keeps for booting.
pub fn boot_dir(l: &Layout) -> PathBuf {
    l.rast_dir().join("boot")
}

pub fn bootenv_path(l: &Layout) -> PathBuf {
    boot_dir(l).join("bootenv")
}

/// GRUB's prefix (modules and the menu that picks a deployment).
pub fn grub_dir(l: &Layout) -> PathBuf {
    boot_dir(l).join("grub")
}

/// GRUB's prefix as GRUB sees it (a path from the filesystem's top level).
pub const GRUB_PREFIX: &str = "/@.snapshots/rast/boot/grub";
/// The boot state as GRUB sees it.
pub const BOOTENV_GRUB_PATH: &str = "/@.snapshots/rast/boot/bootenv";

impl BootSetup {
    fn path(l: &Layout) -> PathBuf {
        boot_dir(l).join("boot.json")
    }

    pub fn load(l: &Layout) -> Result<Option<BootSetup>> {
        let p = BootSetup::path(l);
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| Error::Invalid(format!("{}: {e}", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&p)(e)),
        }
    }

    pub fn save(&self, l: &Layout) -> Result<()> {
        let p = BootSetup::path(l);
        std::fs::create_dir_all(boot_dir(l)).map_err(Error::io(boot_dir(l)))?;
        let b = serde_json::to_vec_pretty(self).map_err(|e| Error::Invalid(e.to_string()))?;
        crate::atomic::write_atomic(&p, &b)
    }
}

/// The other A/B slot.
pub fn other_slot(slot: &str) -> &'static str {
    if slot == "tmp" {
        "tmp0"
    } else {
        "tmp"
    }
}

/// The bootloader step inside the staged slot `root` (written only inside it).
pub fn prepare(l: &Layout, root: &Path, slot: &str, id: SnapId, b: Bootloader) -> Result<()> {
    match b {
        Bootloader::None => Ok(()),
        Bootloader::Grub => grub_mkconfig(l, root, slot, id),
        Bootloader::SystemdBoot => kernels(root, id).map(|_| ()),
    }
}

fn grub_mkconfig(l: &Layout, root: &Path, slot: &str, id: SnapId) -> Result<()> {
    if !root.join("usr/bin/grub-mkconfig").exists() {
        return Err(Error::Invalid(format!(
            "bootloader grub: snapshot {id} has no grub-mkconfig; install grub into it, or choose another bootloader (--bootloader systemd-boot|none, or bootloader::none in its /etc/ast.conf)"
        )));
    }
    let dir = root.join("boot/grub");
    std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
    let mut cmd = Sandbox::chroot(root).command(&["grub-mkconfig", "-o", "/boot/grub/grub.cfg"])?;
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
    let cfg = root.join("boot/grub/grub.cfg");
    let text = std::fs::read_to_string(&cfg).map_err(Error::io(&cfg))?;
    // grub-mkconfig saw the staged subvolume (`snapshot-tmp0.new`); the slot is renamed
    // into place before it boots.
    let mut fixed = text;
    for part in Part::ALL {
        let staged = format!("{}{slot}.new", part.prefix());
        fixed = fixed.replace(&staged, &format!("{}{slot}", part.prefix()));
    }
    let fixed = root_by_uuid(&fixed, &fs_uuid(l)?);
    crate::atomic::write_atomic(&cfg, fixed.as_bytes())?;
    add_last_booted_entry(l, &cfg, slot)
}

/// `root=UUID=` of the filesystem on every `linux` line: without udev's
/// /dev/disk/by-uuid (installers, containers, loop devices) grub-mkconfig writes a
/// device path, which need not name the disk at boot.
fn root_by_uuid(cfg: &str, uuid: &str) -> String {
    let mut out = String::with_capacity(cfg.len());
    for line in cfg.split_inclusive('\n') {
        let t = line.trim_start();
        let (Some(a), true) = (line.find(" root="), t.starts_with("linux")) else {
            out.push_str(line);
            continue;
        };
        let rest = &line[a + 1..];
        let end = [" ro ", " rw ", " ro\n", " rw\n"]
            .iter()
            .filter_map(|m| rest.find(m))
            .min()
            .unwrap_or_else(|| rest.find(' ').unwrap_or(rest.trim_end().len()));
        out.push_str(&line[..a + 1]);
        out.push_str(&format!("root=UUID={uuid}"));
        out.push_str(&rest[end..]);
    }
    out
}

/// astOS adds a grub entry that boots the previous slot ("last booted deployment").
fn add_last_booted_entry(l: &Layout, cfg: &Path, slot: &str) -> Result<()> {
    let other = other_slot(slot);
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
    copy = copy.replace(&format!("etc-{slot}"), &format!("etc-{other}"));
    let new = format!("{text}\n### rast: last booted deployment\n{copy}\n");
    crate::atomic::write_atomic(cfg, new.as_bytes())
}

/// The kernels (`vmlinuz-NAME`) in a root's /boot.
fn kernels(root: &Path, id: SnapId) -> Result<Vec<String>> {
    let boot = root.join("boot");
    let mut k: Vec<String> = std::fs::read_dir(&boot)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|n| n.strip_prefix("vmlinuz-").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    k.sort();
    if k.is_empty() {
        return Err(Error::Invalid(format!(
            "systemd-boot: no kernel (vmlinuz-*) in /boot of snapshot {id}"
        )));
    }
    Ok(k)
}

/// Makes `slot` (holding `id`) the one that boots next; `esp` is where the ESP is
/// mounted (systemd-boot only). Idempotent.
pub fn switch(l: &Layout, slot: &str, id: SnapId, b: Bootloader, esp: Option<&Esp>) -> Result<()> {
    let fallback = Some(other_slot(slot))
        .filter(|o| btrfs::is_subvolume(&l.named(Part::Rootfs, o)))
        .filter(|o| crate::state::read_snap_file(&l.named(Part::Rootfs, o)).is_some());
    match b {
        Bootloader::None => Ok(()),
        Bootloader::Grub => {
            if !grub_dir(l).join("grub.cfg").exists() {
                // GRUB was not installed by rast: its menu is the slot's own grub.cfg.
                return Ok(());
            }
            let path = bootenv_path(l);
            let mut env = BootEnv::load(&path)?;
            match fallback {
                Some(f) => {
                    // Until the trial is confirmed, the previous deployment is what
                    // boots when the trial's one try is spent.
                    env.set("rast_default", f);
                    env.set("rast_trial", slot);
                    env.set("rast_tries", "1");
                    env.set("rast_trial_snapshot", &id.to_string());
                }
                None => {
                    env.set("rast_default", slot);
                    env.set("rast_trial", "");
                    env.set("rast_tries", "");
                    env.set("rast_trial_snapshot", "");
                }
            }
            env.save(&path)
        }
        Bootloader::SystemdBoot => {
            let esp = esp.ok_or_else(|| {
                Error::Invalid(
                    "systemd-boot: where is the EFI system partition? pass --esp (its mount point or the partition)".into(),
                )
            })?;
            write_esp(l, slot, id, esp, fallback.is_some())
        }
    }
}

/// The filesystem's UUID as the kernel's `root=UUID=` wants it.
pub fn fs_uuid(l: &Layout) -> Result<String> {
    if let Some(s) = BootSetup::load(l)? {
        return Ok(s.fs_uuid);
    }
    btrfs::fs_uuid(&l.snapdir)
}

fn write_esp(l: &Layout, slot: &str, id: SnapId, esp: &Esp, counted: bool) -> Result<()> {
    let root = l.named(Part::Rootfs, slot);
    if !esp.looks_like_esp() {
        return Err(Error::Invalid(format!(
            "{esp:?} does not look like the EFI system partition rast installed (no loader/ or EFI/)"
        )));
    }
    let ks = kernels(&root, id)?;
    // The slot's kernels on the ESP (systemd-boot reads nothing from btrfs).
    let dir = format!("rastos/{slot}");
    let staged = format!("rastos/{slot}.new");
    esp.remove_dir_all(&staged)?;
    let boot = root.join("boot");
    let mut files = Vec::new();
    for k in &ks {
        for f in [format!("vmlinuz-{k}"), format!("initramfs-{k}.img")] {
            let src = boot.join(&f);
            if src.is_file() {
                let bytes = std::fs::read(&src).map_err(Error::io(&src))?;
                esp.write(&format!("{staged}/{f}"), &bytes)?;
                files.push(f);
            }
        }
    }
    esp.remove_dir_all(&dir)?;
    esp.rename(&staged, &dir)?;
    let uuid = fs_uuid(l)?;
    let extra = std::fs::read_to_string(root.join("etc/kernel/cmdline"))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // Older entries of this slot (any counter) go; the other slot's stay as they are.
    for n in esp.list("loader/entries")? {
        if entry_slot(&n).as_deref() == Some(slot) {
            esp.remove_file(&format!("loader/entries/{n}"))?;
        }
    }
    let seq = crate::clock::now();
    for k in &ks {
        let mut text = format!(
            "title   rastOS snapshot {id} ({k}, slot {slot})\nsort-key rastos\nversion {seq}\nlinux   /rastos/{slot}/vmlinuz-{k}\n"
        );
        if files.contains(&format!("initramfs-{k}.img")) {
            text.push_str(&format!("initrd  /rastos/{slot}/initramfs-{k}.img\n"));
        }
        text.push_str(&format!(
            "options root=UUID={uuid} rootflags=subvol=@.snapshots/rootfs/snapshot-{slot} ro {extra}\n"
        ));
        let name = if counted {
            format!("rastos-{slot}-{k}+1-0.conf")
        } else {
            format!("rastos-{slot}-{k}.conf")
        };
        esp.write(
            &format!("loader/entries/{name}"),
            text.trim_end().as_bytes(),
        )?;
    }
    esp.write(
        "loader/loader.conf",
        b"default rastos-*\ntimeout 0\nconsole-mode keep\n",
    )
}

/// The slot a rast loader entry boots (`rastos-tmp0-linux+1-0.conf` → `tmp0`).
pub fn entry_slot(name: &str) -> Option<String> {
    let rest = name.strip_prefix("rastos-")?;
    let slot = rest.split('-').next()?;
    matches!(slot, "tmp" | "tmp0").then(|| slot.to_string())
}

/// A loader entry's boot counter: `(tries left, tries done)` if it has one.
pub fn entry_counter(name: &str) -> Option<(u32, u32)> {
    let stem = name.strip_suffix(".conf")?;
    let (_, counter) = stem.rsplit_once('+')?;
    let (left, done) = counter.split_once('-').unwrap_or((counter, "0"));
    Some((left.parse().ok()?, done.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootloader_names() {
        assert_eq!(
            "systemd-boot".parse::<Bootloader>().unwrap(),
            Bootloader::SystemdBoot
        );
        assert_eq!("NONE".parse::<Bootloader>().unwrap(), Bootloader::None);
        assert!("lilo".parse::<Bootloader>().is_err());
    }

    #[test]
    fn kernel_root_is_the_filesystem_uuid() {
        let cfg = "menuentry 'x' {\n\tlinux\t/@.snapshots/rootfs/snapshot-tmp/boot/vmlinuz-linux root=/dev/loop3: 1048576 /tmp/disk.img ro rootflags=subvol=@.snapshots/rootfs/snapshot-tmp quiet\n\tinitrd\t/x\n}\n\tlinux /k root=/dev/vda1 rw\n\tlinux /k root=UUID=ab ro\n";
        let out = root_by_uuid(cfg, "ab");
        assert!(out.contains("vmlinuz-linux root=UUID=ab ro rootflags=subvol=@.snapshots/rootfs/snapshot-tmp quiet\n"), "{out}");
        assert!(out.contains("linux /k root=UUID=ab rw\n"));
        assert!(out.contains("linux /k root=UUID=ab ro\n"));
        assert!(out.contains("\tinitrd\t/x\n"));
    }

    #[test]
    fn loader_entry_names() {
        assert_eq!(
            entry_slot("rastos-tmp0-linux+1-0.conf").as_deref(),
            Some("tmp0")
        );
        assert_eq!(entry_slot("rastos-tmp-linux.conf").as_deref(), Some("tmp"));
        assert_eq!(entry_slot("arch.conf"), None);
        assert_eq!(entry_counter("rastos-tmp0-linux+1-0.conf"), Some((1, 0)));
        assert_eq!(entry_counter("rastos-tmp0-linux+0-1.conf"), Some((0, 1)));
        assert_eq!(entry_counter("rastos-tmp-linux.conf"), None);
    }
}
