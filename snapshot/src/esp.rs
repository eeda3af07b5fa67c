//! The EFI system partition, mounted or not.
//!
//! systemd-boot reads only the ESP, so deploys write kernels and loader entries there.
//! A running rastOS has it mounted (`/efi`); an install or an offline deploy may not —
//! and some kernels (containers, minimal VMs) cannot mount FAT at all. So an ESP is
//! either a mounted directory or the partition itself, read and written through the
//! `fatfs` crate without mounting it. Paths are relative to the ESP's root, with `/`.
//! Writes replace a file by writing `NAME.tmp` and renaming it over (FAT has no atomic
//! replace; a crash leaves the old file or the new one plus a `.tmp`).

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// An ESP: a mounted directory, or a FAT partition (device or image file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Esp {
    Dir(PathBuf),
    Device(PathBuf),
}

type Fs = fatfs::FileSystem<std::fs::File>;

fn fat_err(dev: &Path, what: &str) -> impl FnOnce(std::io::Error) -> Error {
    let (dev, what) = (dev.display().to_string(), what.to_string());
    move |e| Error::Invalid(format!("ESP {dev}: {what}: {e}"))
}

impl Esp {
    /// `spec` as an ESP: a directory is a mounted one, anything else must hold FAT.
    pub fn open(spec: &Path) -> Result<Esp> {
        if spec.is_dir() {
            return Ok(Esp::Dir(spec.to_path_buf()));
        }
        if crate::bootdisk::fat_serial_at(spec, 0).is_none() {
            return Err(Error::Invalid(format!(
                "{} is neither a directory nor a FAT partition",
                spec.display()
            )));
        }
        Ok(Esp::Device(spec.to_path_buf()))
    }

    fn fs(dev: &Path) -> Result<Fs> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dev)
            .map_err(Error::io(dev))?;
        fatfs::FileSystem::new(f, fatfs::FsOptions::new()).map_err(fat_err(dev, "not FAT"))
    }

    fn host(dir: &Path, rel: &str) -> PathBuf {
        dir.join(rel.trim_start_matches('/'))
    }

    /// Whether the ESP looks set up (systemd-boot's `loader/` or `EFI/`).
    pub fn looks_like_esp(&self) -> bool {
        self.is_dir("loader") || self.is_dir("EFI")
    }

    pub fn is_dir(&self, rel: &str) -> bool {
        match self {
            Esp::Dir(d) => Esp::host(d, rel).is_dir(),
            Esp::Device(dev) => Esp::fs(dev)
                .map(|fs| fs.root_dir().open_dir(rel).is_ok())
                .unwrap_or(false),
        }
    }

    /// Creates `rel` and its parents.
    pub fn mkdir_all(&self, rel: &str) -> Result<()> {
        match self {
            Esp::Dir(d) => {
                let p = Esp::host(d, rel);
                std::fs::create_dir_all(&p).map_err(Error::io(&p))
            }
            Esp::Device(dev) => {
                let fs = Esp::fs(dev)?;
                mkdirs(&fs, rel).map_err(fat_err(dev, rel))?;
                fs.unmount().map_err(fat_err(dev, "flush"))
            }
        }
    }

    /// Writes `rel` (parents created), replacing it.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        if let Some((parent, _)) = rel.rsplit_once('/') {
            self.mkdir_all(parent)?;
        }
        match self {
            Esp::Dir(d) => crate::atomic::write_atomic(&Esp::host(d, rel), bytes),
            Esp::Device(dev) => {
                let fs = Esp::fs(dev)?;
                {
                    let root = fs.root_dir();
                    let tmp = format!("{rel}.tmp");
                    let _ = root.remove(&tmp);
                    let mut f = root.create_file(&tmp).map_err(fat_err(dev, &tmp))?;
                    f.truncate().map_err(fat_err(dev, &tmp))?;
                    f.write_all(bytes).map_err(fat_err(dev, &tmp))?;
                    f.flush().map_err(fat_err(dev, &tmp))?;
                    drop(f);
                    let _ = root.remove(rel);
                    root.rename(&tmp, &root, rel).map_err(fat_err(dev, rel))?;
                }
                fs.unmount().map_err(fat_err(dev, "flush"))
            }
        }
    }

    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Esp::Dir(d) => match std::fs::read(Esp::host(d, rel)) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(Esp::host(d, rel))(e)),
            },
            Esp::Device(dev) => {
                let fs = Esp::fs(dev)?;
                let Ok(mut f) = fs.root_dir().open_file(rel) else {
                    return Ok(None);
                };
                let mut b = Vec::new();
                f.read_to_end(&mut b).map_err(fat_err(dev, rel))?;
                Ok(Some(b))
            }
        }
    }

    /// Names in directory `rel` (empty if it does not exist).
    pub fn list(&self, rel: &str) -> Result<Vec<String>> {
        let mut v: Vec<String> = match self {
            Esp::Dir(d) => std::fs::read_dir(Esp::host(d, rel))
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.file_name().to_string_lossy().to_string())
                        .collect()
                })
                .unwrap_or_default(),
            Esp::Device(dev) => {
                let fs = Esp::fs(dev)?;
                let Ok(dir) = fs.root_dir().open_dir(rel) else {
                    return Ok(Vec::new());
                };
                dir.iter()
                    .flatten()
                    .map(|e| e.file_name())
                    .filter(|n| n != "." && n != "..")
                    .collect()
            }
        };
        v.sort();
        Ok(v)
    }

    pub fn remove_file(&self, rel: &str) -> Result<()> {
        match self {
            Esp::Dir(d) => {
                let p = Esp::host(d, rel);
                std::fs::remove_file(&p).map_err(Error::io(&p))
            }
            Esp::Device(dev) => {
                let fs = Esp::fs(dev)?;
                fs.root_dir().remove(rel).map_err(fat_err(dev, rel))?;
                fs.unmount().map_err(fat_err(dev, "flush"))
            }
        }
    }

    /// Removes directory `rel` and what it holds (nothing if it does not exist).
    pub fn remove_dir_all(&self, rel: &str) -> Result<()> {
        match self {
            Esp::Dir(d) => {
                let p = Esp::host(d, rel);
                match std::fs::remove_dir_all(&p) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&p)(e)),
                    _ => Ok(()),
                }
            }
            Esp::Device(dev) => {
                let fs = Esp::fs(dev)?;
                rmtree(&fs, rel).map_err(fat_err(dev, rel))?;
                fs.unmount().map_err(fat_err(dev, "flush"))
            }
        }
    }

    /// Renames `from` to `to` (a file or a directory; `to` must not exist).
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        match self {
            Esp::Dir(d) => {
                let (a, b) = (Esp::host(d, from), Esp::host(d, to));
                std::fs::rename(&a, &b).map_err(Error::io(&b))
            }
            Esp::Device(dev) => {
                let fs = Esp::fs(dev)?;
                {
                    let root = fs.root_dir();
                    root.rename(from, &root, to).map_err(fat_err(dev, to))?;
                }
                fs.unmount().map_err(fat_err(dev, "flush"))
            }
        }
    }
}

fn mkdirs(fs: &Fs, rel: &str) -> std::io::Result<()> {
    let mut path = String::new();
    for part in rel.split('/').filter(|p| !p.is_empty()) {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(part);
        if fs.root_dir().open_dir(&path).is_err() {
            fs.root_dir().create_dir(&path)?;
        }
    }
    Ok(())
}

fn rmtree(fs: &Fs, rel: &str) -> std::io::Result<()> {
    let Ok(dir) = fs.root_dir().open_dir(rel) else {
        return Ok(());
    };
    let kids: Vec<(String, bool)> = dir
        .iter()
        .flatten()
        .map(|e| (e.file_name(), e.is_dir()))
        .filter(|(n, _)| n != "." && n != "..")
        .collect();
    for (n, is_dir) in kids {
        let p = format!("{rel}/{n}");
        if is_dir {
            rmtree(fs, &p)?;
        } else {
            fs.root_dir().remove(&p)?;
        }
    }
    fs.root_dir().remove(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both kinds behave alike (the device kind on a FAT image made by `fatfs`).
    #[test]
    fn mounted_and_unmounted_alike() {
        let d = tempfile::tempdir().unwrap();
        let img = d.path().join("esp.img");
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&img)
            .unwrap();
        f.set_len(64 << 20).unwrap();
        fatfs::format_volume(
            &f,
            fatfs::FormatVolumeOptions::new().fat_type(fatfs::FatType::Fat32),
        )
        .unwrap();
        drop(f);
        let dir = d.path().join("mounted");
        std::fs::create_dir(&dir).unwrap();
        for esp in [Esp::open(&img).unwrap(), Esp::open(&dir).unwrap()] {
            assert!(!esp.looks_like_esp());
            esp.write("loader/entries/rastos-tmp0-linux+1-0.conf", b"title x\n")
                .unwrap();
            esp.write("EFI/BOOT/BOOTX64.EFI", &vec![7u8; 100_000])
                .unwrap();
            assert!(esp.looks_like_esp());
            assert_eq!(
                esp.list("loader/entries").unwrap(),
                ["rastos-tmp0-linux+1-0.conf"]
            );
            esp.rename(
                "loader/entries/rastos-tmp0-linux+1-0.conf",
                "loader/entries/rastos-tmp0-linux.conf",
            )
            .unwrap();
            assert_eq!(
                esp.read("loader/entries/rastos-tmp0-linux.conf")
                    .unwrap()
                    .unwrap(),
                b"title x\n"
            );
            esp.write("loader/entries/rastos-tmp0-linux.conf", b"title y\n")
                .unwrap();
            assert_eq!(
                esp.read("loader/entries/rastos-tmp0-linux.conf")
                    .unwrap()
                    .unwrap(),
                b"title y\n"
            );
            assert_eq!(
                esp.read("EFI/BOOT/BOOTX64.EFI").unwrap().unwrap().len(),
                100_000
            );
            esp.write("rastos/tmp/vmlinuz-linux", b"k").unwrap();
            esp.remove_dir_all("rastos/tmp").unwrap();
            assert!(!esp.is_dir("rastos/tmp"));
            esp.remove_file("loader/entries/rastos-tmp0-linux.conf")
                .unwrap();
            assert!(esp.list("loader/entries").unwrap().is_empty());
            assert_eq!(esp.read("nope").unwrap(), None);
        }
    }
}
