//! Reading pacman databases without libalpm: sync databases as the files pacman
//! downloads (a tar of `NAME-VERSION/desc`, plain or compressed with gzip, zstd, xz or
//! bzip2 — the compression is sniffed from the magic bytes, since names lie:
//! `chaotic-aur.db.tar.xz` is zstd, 2019's `core.db` is gzip), and the local database
//! directory (`local/NAME-VERSION/desc`). libalpm needs a full database directory and a
//! registered name; reading a bare file someone passes to `rast index build
//! --sync-dbs` is simpler this way. Fuzzed (`fuzz/fuzz_targets/syncdb.rs`).

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::desc::{self, Desc};
use crate::{Error, Result};

/// One package as the index needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    /// `%BASE%`: the PKGBUILD the package was split from (empty when the database
    /// does not say; [`Package::base`] then answers the name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub base: String,
    pub version: String,
    pub desc: String,
    pub url: String,
    pub groups: Vec<String>,
    pub provides: Vec<String>,
    pub depends: Vec<String>,
    /// Repository (sync databases) or `local`.
    pub repo: String,
    /// Installed explicitly (local database only).
    pub explicit: bool,
}

/// A dependency or provides entry without its version constraint or description
/// (`qemu-img=7.1.0-4` → `qemu-img`, `python: for scripts` → `python`).
pub fn bare_name(dep: &str) -> &str {
    dep.split(['<', '>', '=', ':']).next().unwrap_or(dep).trim()
}

impl Package {
    /// The package's base: `%BASE%`, else its own name.
    pub fn base(&self) -> &str {
        if self.base.is_empty() {
            &self.name
        } else {
            &self.base
        }
    }

    fn from_desc(d: &Desc, repo: &str) -> Option<Package> {
        let name = desc::first(d, "NAME")?.to_string();
        Some(Package {
            base: desc::first(d, "BASE").unwrap_or_default().to_string(),
            version: desc::first(d, "VERSION").unwrap_or_default().to_string(),
            desc: desc::first(d, "DESC").unwrap_or_default().to_string(),
            url: desc::first(d, "URL").unwrap_or_default().to_string(),
            groups: desc::all(d, "GROUPS"),
            provides: desc::all(d, "PROVIDES"),
            depends: desc::all(d, "DEPENDS"),
            repo: repo.to_string(),
            // %REASON% 1 = installed as a dependency; absent or 0 = explicitly.
            explicit: desc::first(d, "REASON") != Some("1"),
            name,
        })
    }
}

/// Compression of a database file, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Xz,
    Bzip2,
}

pub fn sniff(head: &[u8]) -> Compression {
    match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Xz,
        [b'B', b'Z', b'h', ..] => Compression::Bzip2,
        _ => Compression::None,
    }
}

/// Repository name of a database file: `core.db.tar.gz` → `core`.
pub fn repo_name(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("unknown");
    name.split(".db").next().unwrap_or(name).to_string()
}

/// Reads every package of a sync database held in `bytes`.
pub fn read_sync_bytes(bytes: &[u8], repo: &str) -> Result<Vec<Package>> {
    let reader: Box<dyn Read + '_> = match sniff(bytes) {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(bytes)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(bytes).map_err(|e| Error::Db(format!("{repo}: zstd: {e}")))?),
        Compression::Xz => Box::new(xz2::read::XzDecoder::new(bytes)),
        Compression::Bzip2 => return Err(Error::Db(format!("{repo}: bzip2-compressed databases are not supported; pacman's repo-add never writes them"))),
        Compression::None => Box::new(bytes),
    };
    let mut archive = tar::Archive::new(reader);
    let mut out = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| Error::Db(format!("{repo}: not a tar archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::Db(format!("{repo}: damaged archive: {e}")))?;
        let is_desc = entry
            .path()
            .ok()
            .is_some_and(|p| p.file_name().is_some_and(|f| f == "desc"));
        if !is_desc {
            continue;
        }
        let mut buf = Vec::new();
        // A desc is small; refuse absurd ones instead of allocating them.
        entry
            .by_ref()
            .take(1 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| Error::Db(format!("{repo}: {e}")))?;
        if let Some(p) = Package::from_desc(&desc::parse(&buf), repo) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Reads a sync database file.
pub fn read_sync(path: &Path) -> Result<Vec<Package>> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io(path.to_path_buf(), e))?;
    read_sync_bytes(&bytes, &repo_name(path))
        .map_err(|e| Error::Db(format!("{}: {e}", path.display())))
}

/// Reads the local database directory (`…/local`, or its parent holding `local/`).
pub fn read_local(dir: &Path) -> Result<Vec<Package>> {
    let local = if dir.join("local").is_dir() {
        dir.join("local")
    } else {
        dir.to_path_buf()
    };
    let rd = std::fs::read_dir(&local).map_err(|e| Error::Io(local.clone(), e))?;
    let mut out = Vec::new();
    for e in rd.flatten() {
        let desc_file = e.path().join("desc");
        if let Ok(bytes) = std::fs::read(&desc_file) {
            if let Some(p) = Package::from_desc(&desc::parse(&bytes), "local") {
                out.push(p);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_and_names() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Compression::Zstd);
        assert_eq!(sniff(b"\xfd7zXZ\x00"), Compression::Xz);
        assert_eq!(sniff(b"acl-1/"), Compression::None);
        assert_eq!(repo_name(Path::new("/x/core.db.tar.gz")), "core");
        assert_eq!(repo_name(Path::new("chaotic-aur.db.tar.xz")), "chaotic-aur");
        assert_eq!(repo_name(Path::new("extra.db")), "extra");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(
            read_sync_bytes(b"\x1f\x8bnot gzip at all", "x").is_err()
                || read_sync_bytes(b"\x1f\x8bnot gzip at all", "x")
                    .unwrap()
                    .is_empty()
        );
        assert!(read_sync_bytes(&[0u8; 10], "x")
            .unwrap_or_default()
            .is_empty());
    }
}
