//! age keys: x25519 identities in 0600 files, recipients as `age1…` strings, and
//! fingerprints (what manifests record, so a backup says which keys can open it
//! without naming them).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Writes a new identity to `path` (mode 0600, refusing to overwrite); returns the
/// recipient (public key) to give to `--recipient`.
pub fn keygen(path: &Path) -> Result<String> {
    let id = age::x25519::Identity::generate();
    let recipient = id.to_public().to_string();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            Error::Keys(format!(
                "{}: {e} (an existing identity is never overwritten)",
                path.display()
            ))
        })?;
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    writeln!(
        f,
        "# created: {created}\n# public key: {recipient}\n{}",
        id.to_string().expose_secret()
    )
    .map_err(|e| Error::Keys(e.to_string()))?;
    f.sync_all().map_err(|e| Error::Keys(e.to_string()))?;
    Ok(recipient)
}

/// Parses `age1…` recipients.
pub fn recipients(list: &[String]) -> Result<Vec<age::x25519::Recipient>> {
    if list.is_empty() {
        return Err(Error::Keys(
            "no recipient: pass --recipient AGE_PUBLIC_KEY or set recipients in [backup]".into(),
        ));
    }
    list.iter()
        .map(|r| {
            age::x25519::Recipient::from_str(r.trim())
                .map_err(|e| Error::Keys(format!("{r:?} is not an age x25519 recipient: {e}")))
        })
        .collect()
}

/// Reads identities from an age identity file.
pub fn identities(path: &Path) -> Result<Vec<age::x25519::Identity>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Keys(format!("{}: {e}", path.display())))?;
    let ids: Vec<_> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("AGE-SECRET-KEY-"))
        .filter_map(|l| age::x25519::Identity::from_str(l).ok())
        .collect();
    if ids.is_empty() {
        return Err(Error::Keys(format!(
            "{} holds no age identity (AGE-SECRET-KEY-…)",
            path.display()
        )));
    }
    Ok(ids)
}

/// A short, stable fingerprint of a recipient.
pub fn fingerprint(recipient: &str) -> String {
    hex::encode(&Sha256::digest(recipient.trim().as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_writes_0600_and_round_trips() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("id.txt");
        let r = keygen(&p).unwrap();
        assert!(r.starts_with("age1"));
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(keygen(&p).is_err(), "never overwrites");
        let ids = identities(&p).unwrap();
        assert_eq!(ids[0].to_public().to_string(), r);
        assert_eq!(recipients(std::slice::from_ref(&r)).unwrap().len(), 1);
        assert!(recipients(&["age1nope".into()]).is_err());
        assert_eq!(fingerprint(&r).len(), 16);
    }
}
