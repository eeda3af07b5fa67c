//! The devices an install writes to: the btrfs partition, the drive that holds it, and
//! an EFI system partition.
//!
//! Checks before anything is written: the partition carries a btrfs superblock, the
//! drive's partition table (MBR or GPT) has an entry whose bytes are that same
//! filesystem (same fsid — so it also holds for loop devices, which have no sysfs
//! parent), and an ESP carries a FAT boot sector and lies on the drive too. Writes:
//! GRUB's boot code — boot.img's first 440 bytes into sector 0 (the partition table in
//! bytes 440–511 is kept) and core.img from sector 1, only into the gap before the
//! first partition, only on an MBR disk — and nothing else outside the named
//! partitions.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::{Error, Result};

/// Offset of btrfs's primary superblock.
const BTRFS_SUPER: u64 = 0x10000;
const BTRFS_MAGIC: &[u8; 8] = b"_BHRfS_M";

fn read_at(dev: &Path, off: u64, len: usize) -> Result<Vec<u8>> {
    let mut f = File::open(dev).map_err(Error::io(dev))?;
    f.seek(SeekFrom::Start(off)).map_err(Error::io(dev))?;
    let mut b = vec![0u8; len];
    f.read_exact(&mut b).map_err(Error::io(dev))?;
    Ok(b)
}

/// The fsid of the btrfs filesystem at byte `off` of `dev`, if there is one.
pub fn btrfs_fsid_at(dev: &Path, off: u64) -> Option<[u8; 16]> {
    let sb = read_at(dev, off + BTRFS_SUPER, 0x48).ok()?;
    (&sb[0x40..0x48] == BTRFS_MAGIC).then(|| sb[0x20..0x30].try_into().unwrap())
}

/// The FAT volume serial at byte `off` of `dev`, if a FAT boot sector is there.
pub fn fat_serial_at(dev: &Path, off: u64) -> Option<u32> {
    let b = read_at(dev, off, 512).ok()?;
    if b[510] != 0x55 || b[511] != 0xaa {
        return None;
    }
    let at = if &b[0x52..0x57] == b"FAT32" {
        0x43
    } else if &b[0x36..0x39] == b"FAT" {
        0x27
    } else {
        return None;
    };
    Some(u32::from_le_bytes(b[at..at + 4].try_into().unwrap()))
}

/// `dev`'s size in bytes (block devices and image files alike).
fn size(dev: &Path) -> Result<u64> {
    let mut f = File::open(dev).map_err(Error::io(dev))?;
    f.seek(SeekFrom::End(0)).map_err(Error::io(dev))
}

/// Which partition table a drive has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Mbr,
    Gpt,
}

/// A partition of a drive: start and length in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub start: u64,
    pub len: u64,
}

/// The drive's partition table and its partitions.
pub fn partitions(disk: &Path) -> Result<(Table, Vec<Partition>)> {
    let mut f = File::open(disk).map_err(Error::io(disk))?;
    let mbr = mbrman::MBR::read_from(&mut f, 512)
        .map_err(|e| Error::Invalid(format!("{}: no partition table ({e})", disk.display())))?;
    let protective = mbr.iter().any(|(_, p)| p.is_used() && p.sys == 0xee);
    if protective {
        let gpt = gptman::GPT::read_from(&mut f, 512)
            .map_err(|e| Error::Invalid(format!("{}: unreadable GPT ({e})", disk.display())))?;
        let parts = gpt
            .iter()
            .filter(|(_, p)| p.is_used())
            .map(|(_, p)| Partition {
                start: p.starting_lba * 512,
                len: (p.ending_lba + 1 - p.starting_lba) * 512,
            })
            .collect();
        return Ok((Table::Gpt, parts));
    }
    let parts = mbr
        .iter()
        .filter(|(_, p)| p.is_used())
        .map(|(_, p)| Partition {
            start: u64::from(p.starting_lba) * 512,
            len: u64::from(p.sectors) * 512,
        })
        .collect();
    Ok((Table::Mbr, parts))
}

/// The checked devices of an install.
#[derive(Clone, Debug)]
pub struct Devices {
    pub table: Table,
    /// Start of the btrfs partition on the drive, in bytes.
    pub root_start: u64,
    pub fsid: [u8; 16],
    /// The ESP's FAT serial, if one was given.
    pub esp_serial: Option<u32>,
    /// Where the first partition starts (the gap before it holds GRUB's core.img).
    pub first_start: u64,
}

/// Checks `partition` (btrfs), that `disk` holds it, and `esp` (FAT, on `disk`).
pub fn check(partition: &Path, disk: &Path, esp: Option<&Path>) -> Result<Devices> {
    let fsid = btrfs_fsid_at(partition, 0).ok_or_else(|| {
        Error::Invalid(format!(
            "{} is not a btrfs filesystem: format it first (mkfs.btrfs {})",
            partition.display(),
            partition.display()
        ))
    })?;
    let (table, parts) = partitions(disk)?;
    let root = parts
        .iter()
        .find(|p| btrfs_fsid_at(disk, p.start) == Some(fsid))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{} does not hold {}: no partition of its table is that filesystem",
                disk.display(),
                partition.display()
            ))
        })?;
    let esp_serial = match esp {
        None => None,
        Some(esp) => {
            let serial = fat_serial_at(esp, 0).ok_or_else(|| {
                Error::Invalid(format!(
                    "{} is not a FAT (vfat) filesystem: an EFI system partition is formatted with mkfs.fat -F 32",
                    esp.display()
                ))
            })?;
            if !parts
                .iter()
                .any(|p| fat_serial_at(disk, p.start) == Some(serial))
            {
                return Err(Error::Invalid(format!(
                    "{} does not hold the EFI system partition {}",
                    disk.display(),
                    esp.display()
                )));
            }
            Some(serial)
        }
    };
    let first_start = parts.iter().map(|p| p.start).min().unwrap_or(0);
    Ok(Devices {
        table,
        root_start: root.start,
        fsid,
        esp_serial,
        first_start,
    })
}

/// Writes GRUB's BIOS boot code onto `disk`: `boot_img` (512 bytes; its first 440
/// go to sector 0, the partition table stays) and `core_img` from sector 1.
pub fn write_bios_boot_code(
    disk: &Path,
    dev: &Devices,
    boot_img: &[u8],
    core_img: &[u8],
) -> Result<()> {
    if dev.table != Table::Mbr {
        return Err(Error::Invalid(format!(
            "{}: BIOS boot from a GPT disk needs a BIOS boot partition, which rast does not set up; use an MBR (dos) partition table, or boot with UEFI (--esp)",
            disk.display()
        )));
    }
    if boot_img.len() != 512 {
        return Err(Error::Invalid(format!(
            "GRUB's boot.img is {} bytes, not 512",
            boot_img.len()
        )));
    }
    let room = dev.first_start.saturating_sub(512);
    if core_img.len() as u64 > room {
        return Err(Error::Invalid(format!(
            "{}: GRUB's core.img ({} bytes) does not fit before the first partition ({} bytes free); start the first partition at 1 MiB (sector 2048)",
            disk.display(),
            core_img.len(),
            room
        )));
    }
    if size(disk)? < dev.first_start {
        return Err(Error::Invalid(format!("{}: too small", disk.display())));
    }
    let mut f = OpenOptions::new()
        .write(true)
        .open(disk)
        .map_err(Error::io(disk))?;
    f.seek(SeekFrom::Start(512)).map_err(Error::io(disk))?;
    f.write_all(core_img).map_err(Error::io(disk))?;
    f.seek(SeekFrom::Start(0)).map_err(Error::io(disk))?;
    f.write_all(&boot_img[..440]).map_err(Error::io(disk))?;
    f.sync_all().map_err(Error::io(disk))
}

/// Formats a 16-byte id as a UUID string (as blkid prints a btrfs UUID).
pub fn uuid_string(b: &[u8; 16]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A FAT serial as fstab's `UUID=` spells it (`1A2B-3C4D`).
pub fn fat_uuid_string(serial: u32) -> String {
    format!("{:04X}-{:04X}", serial >> 16, serial & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk image with an MBR and a fake btrfs superblock in partition 1.
    fn disk(dir: &Path, table_type: u8) -> std::path::PathBuf {
        let p = dir.join("disk.img");
        let mut b = vec![0u8; 4 << 20];
        // partition 1: start 2048, 4096 sectors
        let e = 446;
        b[e + 4] = table_type;
        b[e + 8..e + 12].copy_from_slice(&2048u32.to_le_bytes());
        b[e + 12..e + 16].copy_from_slice(&4096u32.to_le_bytes());
        b[510] = 0x55;
        b[511] = 0xaa;
        let sb = 2048 * 512 + BTRFS_SUPER as usize;
        b[sb + 0x20..sb + 0x30].copy_from_slice(&[7u8; 16]);
        b[sb + 0x40..sb + 0x48].copy_from_slice(BTRFS_MAGIC);
        b.resize(8 << 20, 0);
        std::fs::write(&p, &b).unwrap();
        p
    }

    #[test]
    fn finds_the_partition_and_writes_only_the_gap() {
        let d = tempfile::tempdir().unwrap();
        let img = disk(d.path(), 0x83);
        // The partition as its own "device": the bytes from 1 MiB on.
        let all = std::fs::read(&img).unwrap();
        let part = d.path().join("part.img");
        std::fs::write(&part, &all[2048 * 512..]).unwrap();
        let dev = check(&part, &img, None).unwrap();
        assert_eq!(
            (dev.table, dev.root_start, dev.first_start),
            (Table::Mbr, 1 << 20, 1 << 20)
        );
        assert_eq!(
            uuid_string(&dev.fsid),
            "07070707-0707-0707-0707-070707070707"
        );
        // Not btrfs; not on this disk.
        let other = d.path().join("other.img");
        std::fs::write(&other, vec![0u8; 1 << 20]).unwrap();
        assert!(check(&other, &img, None).is_err());
        let mut elsewhere = all[2048 * 512..].to_vec();
        elsewhere[BTRFS_SUPER as usize + 0x20] = 9;
        std::fs::write(&other, &elsewhere).unwrap();
        let e = check(&other, &img, None).unwrap_err().to_string();
        assert!(e.contains("does not hold"), "{e}");
        // An ESP that is not FAT.
        assert!(check(&part, &img, Some(&other)).is_err());

        let boot = vec![0xb8u8; 512];
        let core = vec![0xc0u8; 1000];
        write_bios_boot_code(&img, &dev, &boot, &core).unwrap();
        let after = std::fs::read(&img).unwrap();
        assert_eq!(&after[..440], &boot[..440]);
        assert_eq!(&after[440..512], &all[440..512], "partition table kept");
        assert_eq!(&after[512..1512], &core[..]);
        assert_eq!(&after[1512..], &all[1512..], "nothing else written");
        let huge = vec![0u8; 2 << 20];
        assert!(write_bios_boot_code(&img, &dev, &boot, &huge).is_err());
    }

    #[test]
    fn fat_serials() {
        assert_eq!(fat_uuid_string(0x1a2b3c4d), "1A2B-3C4D");
    }
}
