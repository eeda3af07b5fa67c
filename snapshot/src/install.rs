//! `rast init --partition PART --disk DRIVE [--esp ESP]`: installing rastOS onto a disk,
//! what astOS's `main.py PARTITION DRIVE [EFI_PART]` does.
//!
//! 1. checks the devices ([`crate::bootdisk::check`]): PART is btrfs, DRIVE's partition
//!    table holds it, ESP (if given) is FAT and on DRIVE — before anything is written;
//! 2. mounts PART's top level (subvolid=5) on a temporary mount (the ESP is written
//!    without mounting it, [`crate::esp`]);
//! 3. [`crate::init`]: the layout, snapshot 0 bootstrapped by pacman, with an fstab for
//!    the real filesystem (`UUID=`, the `subvol=` options of `/`, `/etc`, `/var`,
//!    `/home`, `/.snapshots` as astOS has them, the ESP at `/efi`);
//! 4. the bootloader, from snapshot 0's own files: BIOS — GRUB's modules and rast's
//!    boot menu into `@.snapshots/rast/boot/grub`, `grub-mkimage` (run inside snapshot
//!    0) for a core.img that finds the filesystem by UUID, written with boot.img into
//!    the drive's first sectors; UEFI — systemd-boot's EFI binary onto the ESP (the
//!    removable path `EFI/BOOT/BOOTX64.EFI`, so no firmware variable is needed);
//! 5. the first deploy (whose bootloader step writes the menu of the deployment);
//! 6. `rast/boot/boot.json`, the tree metadata last, and unmounts.
//!
//! Nothing outside PART, ESP and the boot code area of DRIVE is written.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount, MsFlags};

use crate::bootdisk::{self, Devices};
use crate::bootloader::{self, BootSetup, Bootloader, BOOTENV_GRUB_PATH as BOOTENV, GRUB_PREFIX};
use crate::esp::Esp;
use crate::init::{self, Extras, InitOptions, InitReport};
use crate::layout::{Layout, Part};
use crate::sandbox::Sandbox;
use crate::{Error, Result, SnapId};

/// Where to install.
#[derive(Clone, Debug)]
pub struct InstallOptions {
    pub partition: PathBuf,
    pub disk: PathBuf,
    pub esp: Option<PathBuf>,
    pub init: InitOptions,
}

/// A filesystem mounted for the install; unmounted when dropped.
struct TempMount {
    dir: PathBuf,
}

impl TempMount {
    fn new(dev: &Path, fstype: &str, data: &str, tag: &str) -> Result<TempMount> {
        let dir = PathBuf::from(format!("/run/rast/install-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        mount(
            Some(dev),
            &dir,
            Some(OsStr::new(fstype)),
            MsFlags::empty(),
            Some(OsStr::new(data)),
        )
        .map_err(|e| {
            let _ = std::fs::remove_dir(&dir);
            Error::Invalid(format!("mounting {} ({fstype}): {e}", dev.display()))
        })?;
        Ok(TempMount { dir })
    }
}

impl Drop for TempMount {
    fn drop(&mut self) {
        if let Err(e) = umount(&self.dir) {
            tracing::warn!("unmounting {}: {e}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// The installed system's fstab (`subvol=` options of slot `tmp`; deploy retargets).
pub fn fstab(fs_uuid: &str, esp_uuid: Option<&str>) -> String {
    let o = "noatime,compress=zstd";
    let mut t = format!(
        "# /etc/fstab: written by rast init for this rastOS filesystem (UUID {fs_uuid}).\n\
         # The subvol= options of / and /etc follow the deployment slot (rast deploy).\n\
         # <file system> <dir> <type> <options> <dump> <pass>\n\
         UUID={fs_uuid}  /            btrfs  subvol=@.snapshots/rootfs/snapshot-tmp,ro,{o}  0 0\n\
         UUID={fs_uuid}  /.snapshots  btrfs  subvol=@.snapshots,{o}  0 0\n\
         UUID={fs_uuid}  /etc         btrfs  subvol=@.snapshots/etc/etc-tmp,{o}  0 0\n\
         UUID={fs_uuid}  /var         btrfs  subvol=@var,{o}  0 0\n\
         UUID={fs_uuid}  /home        btrfs  subvol=@home,{o}  0 0\n"
    );
    if let Some(e) = esp_uuid {
        t.push_str(&format!("UUID={e}  /efi  vfat  umask=0077  0 2\n"));
    }
    t
}

/// GRUB's menu: boots the deployment on trial while its one try is unspent, else the
/// default one, each through the menu grub-mkconfig wrote inside that deployment.
pub fn grub_menu() -> String {
    format!(
        "# rastOS boot menu, written by `rast init`: it only picks a deployment; each\n\
         # deployment's own menu is made by grub-mkconfig inside it (rast deploy).\n\
         # rast/boot/bootenv (GRUB cannot write btrfs; the rast-boot initramfs hook spends\n\
         # a trial's try, `rast boot-confirm` ends the trial) says which.\n\
         insmod part_msdos\n\
         insmod part_gpt\n\
         insmod btrfs\n\
         insmod loadenv\n\
         insmod test\n\
         set rast_default=tmp\n\
         set rast_trial=\n\
         set rast_tries=\n\
         load_env -f {BOOTENV} rast_default rast_trial rast_tries\n\
         set rast_boot=\"$rast_default\"\n\
         if [ -n \"$rast_trial\" ]; then\n\
         \x20 if [ \"$rast_tries\" != \"0\" ]; then\n\
         \x20   set rast_boot=\"$rast_trial\"\n\
         \x20 fi\n\
         fi\n\
         configfile /@.snapshots/rootfs/snapshot-${{rast_boot}}/boot/grub/grub.cfg\n"
    )
}

fn install_grub(l: &Layout, disk: &Path, dev: &Devices, fs_uuid: &str) -> Result<()> {
    let base = l.part(Part::Rootfs, SnapId::BASE);
    let modules = base.join("usr/lib/grub/i386-pc");
    if !modules.join("boot.img").is_file() || !base.join("usr/bin/grub-mkimage").exists() {
        return Err(Error::Invalid(
            "bootloader grub: the base system has no GRUB for BIOS (usr/lib/grub/i386-pc, grub-mkimage); add the grub package, or install with --esp for UEFI".into(),
        ));
    }
    let grub = bootloader::grub_dir(l);
    let target = grub.join("i386-pc");
    std::fs::create_dir_all(&target).map_err(Error::io(&target))?;
    for e in std::fs::read_dir(&modules)
        .map_err(Error::io(&modules))?
        .flatten()
    {
        let n = e.file_name();
        let keep = Path::new(&n)
            .extension()
            .is_some_and(|x| x == "mod" || x == "lst");
        if keep {
            std::fs::copy(e.path(), target.join(&n)).map_err(Error::io(target.join(&n)))?;
        }
    }
    crate::atomic::write_atomic(&grub.join("grub.cfg"), grub_menu().as_bytes())?;
    // core.img finds the filesystem by UUID (disk order may change), made by the
    // base system's own grub-mkimage.
    let tmp = std::env::temp_dir();
    let early = tmp.join(format!("rast-grub-early-{}.cfg", std::process::id()));
    let core = tmp.join(format!("rast-grub-core-{}.img", std::process::id()));
    std::fs::write(
        &early,
        format!(
            "search --no-floppy --fs-uuid --set=root {fs_uuid}\nset prefix=($root){GRUB_PREFIX}\n"
        ),
    )
    .map_err(Error::io(&early))?;
    let argv: Vec<String> = [
        "grub-mkimage",
        "-O",
        "i386-pc",
        "-o",
        &core.display().to_string(),
        "-c",
        &early.display().to_string(),
        "-p",
        GRUB_PREFIX,
        "biosdisk",
        "part_msdos",
        "part_gpt",
        "btrfs",
        "search",
        "search_fs_uuid",
        "normal",
        "configfile",
        "loadenv",
        "test",
        "echo",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = Sandbox::chroot(&base)
        .command(&argv)?
        .output()
        .map_err(|source| Error::Spawn {
            program: "grub-mkimage".into(),
            source,
        });
    let _ = std::fs::remove_file(&early);
    let out = out?;
    if !out.status.success() {
        let _ = std::fs::remove_file(&core);
        return Err(Error::CommandFailed {
            program: "grub-mkimage (in snapshot 0)".into(),
            status: out.status.to_string(),
            detail: format!(": {}", String::from_utf8_lossy(&out.stderr).trim()),
        });
    }
    let core_img = std::fs::read(&core).map_err(Error::io(&core));
    let _ = std::fs::remove_file(&core);
    let boot_img =
        std::fs::read(modules.join("boot.img")).map_err(Error::io(modules.join("boot.img")))?;
    bootdisk::write_bios_boot_code(disk, dev, &boot_img, &core_img?)
}

fn install_systemd_boot(l: &Layout, esp: &Esp) -> Result<()> {
    let base = l.part(Part::Rootfs, SnapId::BASE);
    let efi = base.join("usr/lib/systemd/boot/efi/systemd-bootx64.efi");
    if !efi.is_file() {
        return Err(Error::Invalid(
            "bootloader systemd-boot: the base system has no usr/lib/systemd/boot/efi/systemd-bootx64.efi; add systemd (or systemd-boot) to it".into(),
        ));
    }
    let bytes = std::fs::read(&efi).map_err(Error::io(&efi))?;
    for dest in ["EFI/BOOT/BOOTX64.EFI", "EFI/systemd/systemd-bootx64.efi"] {
        esp.write(dest, &bytes)?;
    }
    esp.mkdir_all("loader/entries")
}

/// Installs rastOS onto a disk (see the module doc).
pub fn install(o: &InstallOptions) -> Result<InitReport> {
    let dev = bootdisk::check(&o.partition, &o.disk, o.esp.as_deref())?;
    let b = o.init.bootloader;
    match (b, &o.esp) {
        (Bootloader::SystemdBoot, None) => {
            return Err(Error::Invalid(
                "systemd-boot needs an EFI system partition: pass --esp".into(),
            ))
        }
        (Bootloader::Grub, _) if dev.table != bootdisk::Table::Mbr => {
            return Err(Error::Invalid(format!(
                "{}: BIOS boot with GRUB needs an MBR (dos) partition table; for a GPT disk boot with UEFI (--esp ESP, --bootloader systemd-boot)",
                o.disk.display()
            )))
        }
        _ => {}
    }
    let fs_uuid = bootdisk::uuid_string(&dev.fsid);
    let esp_uuid = dev.esp_serial.map(bootdisk::fat_uuid_string);
    let top = TempMount::new(&o.partition, "btrfs", "subvolid=5", "root")?;
    // The ESP is written without mounting it (rast's FAT writer).
    let esp = o.esp.as_deref().map(Esp::open).transpose()?;
    let disk = o.disk.clone();
    let uuid = fs_uuid.clone();
    let boot = |l: &Layout| -> Result<()> {
        match b {
            Bootloader::Grub => install_grub(l, &disk, &dev, &uuid)?,
            Bootloader::SystemdBoot => install_systemd_boot(l, esp.as_ref().expect("esp"))?,
            Bootloader::None => {}
        }
        BootSetup {
            bootloader: b,
            fs_uuid: uuid.clone(),
            esp_uuid: esp_uuid.clone(),
            esp_mount: esp_uuid.as_ref().map(|_| "/efi".to_string()),
            installed: crate::meta::now(),
        }
        .save(l)
    };
    let extras = Extras {
        fstab: Some(fstab(&fs_uuid, esp_uuid.as_deref())),
        boot: Some(&boot),
        esp: o.esp.as_deref(),
    };
    let report = init::init_with(&top.dir, &o.init, &extras)?;
    drop(top);
    Ok(InitReport {
        root: o.partition.clone(),
        ..report
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fstab_and_menu() {
        let f = fstab("ab-cd", Some("1A2B-3C4D"));
        assert!(f.contains(
            "UUID=ab-cd  /            btrfs  subvol=@.snapshots/rootfs/snapshot-tmp,ro,"
        ));
        assert!(f.contains("/etc         btrfs  subvol=@.snapshots/etc/etc-tmp,"));
        assert!(f.contains("UUID=1A2B-3C4D  /efi  vfat"));
        let retargeted = crate::deploy::rewrite_fstab(&f, "tmp0");
        assert!(retargeted.contains("snapshot-tmp0,ro,") && retargeted.contains("etc-tmp0,"));
        let m = grub_menu();
        assert!(m.contains("load_env -f /@.snapshots/rast/boot/bootenv rast_default"));
        assert!(
            m.contains("configfile /@.snapshots/rootfs/snapshot-${rast_boot}/boot/grub/grub.cfg")
        );
    }
}
