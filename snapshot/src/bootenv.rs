//! rast's boot state, `rast/boot/bootenv`: a GRUB environment block (the format GRUB's
//! `load_env` reads) saying which slot boots by default and which one is on trial.
//!
//! ```text
//! # GRUB Environment Block
//! rast_default=tmp          the slot GRUB boots when no trial is pending
//! rast_trial=tmp0           a deployment on trial (empty: none)
//! rast_tries=1              1: not tried yet; 0: its one try was spent (initramfs hook)
//! rast_trial_snapshot=7     what the trial deployment holds (for the failure report)
//! ####…                     padding to 1024 bytes
//! ```
//!
//! GRUB only reads it (GRUB cannot write to btrfs); `rast deploy` and `rast
//! boot-confirm` write it, atomically and always exactly 1024 bytes; the rast-boot
//! initramfs hook rewrites `rast_tries=1` to `rast_tries=0` in place of the same length.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{Error, Result};

/// The first line of every GRUB environment block.
pub const HEADER: &str = "# GRUB Environment Block\n";
/// Size of a GRUB environment block.
pub const SIZE: usize = 1024;

/// The variables of an environment block, in name order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootEnv {
    pub vars: BTreeMap<String, String>,
}

impl BootEnv {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.vars
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn set(&mut self, k: &str, v: &str) {
        self.vars.insert(k.to_string(), v.to_string());
    }

    /// Parses a block; `None` if it is not one.
    pub fn parse(bytes: &[u8]) -> Option<BootEnv> {
        let text = std::str::from_utf8(bytes).ok()?;
        let body = text.strip_prefix(HEADER)?;
        let mut vars = BTreeMap::new();
        for line in body.lines() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let (k, v) = line.split_once('=')?;
            vars.insert(k.to_string(), v.to_string());
        }
        Some(BootEnv { vars })
    }

    /// The 1024-byte block.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut s = String::from(HEADER);
        for (k, v) in &self.vars {
            if k.contains(['=', '\n']) || v.contains('\n') {
                return Err(Error::Invalid(format!("boot environment entry {k:?}")));
            }
            s.push_str(&format!("{k}={v}\n"));
        }
        if s.len() > SIZE {
            return Err(Error::Invalid("boot environment larger than 1 KiB".into()));
        }
        let mut b = s.into_bytes();
        b.resize(SIZE, b'#');
        Ok(b)
    }

    /// Reads `path`; a missing file is an empty environment.
    pub fn load(path: &Path) -> Result<BootEnv> {
        match std::fs::read(path) {
            Ok(b) => BootEnv::parse(&b).ok_or_else(|| {
                Error::Invalid(format!(
                    "{} is not a GRUB environment block",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BootEnv::default()),
            Err(e) => Err(Error::io(path)(e)),
        }
    }

    /// Writes `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(Error::io(d))?;
        }
        crate::atomic::write_atomic(path, &self.to_bytes()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_a_grub_block() {
        let mut e = BootEnv::default();
        e.set("rast_default", "tmp");
        e.set("rast_trial", "tmp0");
        e.set("rast_tries", "1");
        let b = e.to_bytes().unwrap();
        assert_eq!(b.len(), SIZE);
        assert!(b.starts_with(HEADER.as_bytes()));
        assert!(b.ends_with(b"###"));
        assert_eq!(BootEnv::parse(&b).unwrap(), e);
        // What the initramfs hook does: same length, tries spent.
        let hooked = String::from_utf8(b)
            .unwrap()
            .replace("\nrast_tries=1\n", "\nrast_tries=0\n");
        assert_eq!(hooked.len(), SIZE);
        assert_eq!(
            BootEnv::parse(hooked.as_bytes()).unwrap().get("rast_tries"),
            Some("0")
        );
        // grub-editenv's output parses too.
        let mut g = b"# GRUB Environment Block\nsaved_entry=0\n".to_vec();
        g.resize(SIZE, b'#');
        assert_eq!(BootEnv::parse(&g).unwrap().get("saved_entry"), Some("0"));
        assert!(BootEnv::parse(b"not an env").is_none());
        e.set("bad\nkey", "x");
        assert!(e.to_bytes().is_err());
    }
}
