//! The backup format, version 2 (docs/backup-format.md). Under the target prefix:
//!
//! ```text
//! <id>/chunk-000000.zst.age   chunk 0: zstd frame of plaintext bytes [0, n0), age-encrypted
//! <id>/chunk-000001.zst.age   …
//! <id>/partial.json           progress of an unfinished upload (resume point)
//! <id>/manifest.json          written last: the backup is complete once it exists
//! ```
//!
//! The plaintext is the `btrfs send` stream, cut at fixed sizes. Each chunk is
//! independent, so `age -d` of every chunk in order, concatenated, `| zstd -d |
//! btrfs receive` restores with stock tools. The manifest is plaintext JSON holding no
//! snapshot content: names, UUIDs, sizes, hashes of ciphertext, recipients'
//! fingerprints.
//!
//! Version 2 differs from 1 only in the plaintext digest of a chunk: BLAKE3
//! (`plain_blake3`) instead of SHA-256 (`plain_sha256`), because hashing every byte of
//! the send stream with SHA-256 was the largest cost `create` had beyond the pipeline's
//! own. Version 1 backups stay readable and verifiable; a manifest of a newer version
//! than [`FORMAT_VERSION`] is refused rather than misread.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

pub const FORMAT_VERSION: u32 = 2;
/// Default plaintext per chunk (memory stays a few chunks whatever the snapshot size).
pub const DEFAULT_CHUNK: usize = 16 << 20;
/// Largest plaintext of one chunk: `create` refuses larger chunk sizes, and restore
/// refuses a manifest claiming more before allocating for it.
pub const MAX_CHUNK: usize = 1 << 30;
/// Largest stored object of one chunk: [`MAX_CHUNK`] plus room for zstd's worst-case
/// expansion (< 1 %) and age's framing. Readers refuse to hold more.
pub const MAX_STORED_CHUNK: u64 = MAX_CHUNK as u64 + (MAX_CHUNK as u64 >> 3);
/// Magic at the start of every btrfs send stream.
pub const SEND_MAGIC: &[u8] = b"btrfs-stream\0";

/// One stored chunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub index: u32,
    pub plain_len: u64,
    /// Digest of the plaintext: lets a resumed upload check that the stream is the same
    /// and `verify` check a decrypted chunk end to end.
    #[serde(flatten)]
    pub plain_digest: PlainDigest,
    pub cipher_len: u64,
    pub cipher_sha256: String,
}

/// The plaintext digest of a chunk, by format version (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlainDigest {
    /// Format 2.
    #[serde(rename = "plain_blake3")]
    Blake3(String),
    /// Format 1.
    #[serde(rename = "plain_sha256")]
    Sha256(String),
}

impl PlainDigest {
    /// The digest this format writes.
    pub fn of(plain: &[u8]) -> PlainDigest {
        PlainDigest::Blake3(blake3::hash(plain).to_hex().to_string())
    }

    /// Whether `plain` has this digest, with the algorithm it was recorded with.
    pub fn matches(&self, plain: &[u8]) -> bool {
        match self {
            PlainDigest::Blake3(h) => blake3::hash(plain).to_hex().as_str() == h,
            PlainDigest::Sha256(h) => sha256(plain) == *h,
        }
    }
}

/// The source subvolume of a backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Lineage name, e.g. `snapshot-3` (incremental chains stay within one lineage).
    pub lineage: String,
    /// Name of the subvolume sent (what `btrfs receive` creates).
    pub subvolume: String,
    pub uuid: String,
}

/// What a complete backup is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub id: String,
    pub source: Source,
    /// The backup this one is incremental to, and that backup's source UUID.
    pub parent: Option<(String, String)>,
    pub chunks: Vec<Chunk>,
    pub compression: String,
    pub zstd_level: i32,
    pub recipients: Vec<String>,
    /// Seconds since the epoch.
    pub created: u64,
    /// Milliseconds since the epoch (orders backups made within one second).
    #[serde(default)]
    pub created_ms: u64,
    pub rast_version: String,
}

impl Manifest {
    pub fn plain_len(&self) -> u64 {
        self.chunks.iter().map(|c| c.plain_len).sum()
    }
    pub fn cipher_len(&self) -> u64 {
        self.chunks.iter().map(|c| c.cipher_len).sum()
    }

    /// Parses a manifest, refusing one written in a newer format than this rast reads.
    pub fn from_json(name: &str, bytes: &[u8]) -> Result<Manifest> {
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let bad = |e: serde_json::Error| Error::Damaged {
            id: name.into(),
            reason: e.to_string(),
        };
        let v: Version = serde_json::from_slice(bytes).map_err(bad)?;
        if v.format == 0 || v.format > FORMAT_VERSION {
            return Err(Error::Invalid(format!(
                "{name} is backup format {}; this rast reads formats 1 to {FORMAT_VERSION} (upgrade rast)",
                v.format
            )));
        }
        serde_json::from_slice(bytes).map_err(bad)
    }
}

/// Progress of an unfinished backup.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partial {
    pub id: String,
    pub chunks: Vec<Chunk>,
}

pub fn chunk_name(id: &str, i: u32) -> String {
    format!("{id}/chunk-{i:06}.zst.age")
}
pub fn manifest_name(id: &str) -> String {
    format!("{id}/manifest.json")
}
pub fn partial_name(id: &str) -> String {
    format!("{id}/partial.json")
}

pub fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_json(format: u32, chunk: &str) -> String {
        format!(
            r#"{{"format":{format},"id":"snapshot-1-abcd1234-full",
            "source":{{"lineage":"snapshot-1","subvolume":"snapshot-1","uuid":"u"}},
            "parent":null,"chunks":[{chunk}],"compression":"zstd","zstd_level":3,
            "recipients":["ab"],"created":1,"created_ms":1000,"rast_version":"0.1.0"}}"#
        )
    }

    #[test]
    fn format_1_manifests_are_read_and_checked_with_sha256() {
        let plain = b"btrfs-stream\0 some plaintext";
        let chunk = format!(
            r#"{{"index":0,"plain_len":{},"plain_sha256":"{}","cipher_len":9,"cipher_sha256":"c"}}"#,
            plain.len(),
            sha256(plain)
        );
        let m = Manifest::from_json("m.json", manifest_json(1, &chunk).as_bytes()).unwrap();
        let d = &m.chunks[0].plain_digest;
        assert!(matches!(d, PlainDigest::Sha256(_)));
        assert!(d.matches(plain));
        assert!(!d.matches(b"other bytes"));
        // What a resumed create computes now never equals a format-1 record.
        assert_ne!(*d, PlainDigest::of(plain));
    }

    #[test]
    fn format_2_writes_blake3_only() {
        let plain = b"btrfs-stream\0 more plaintext";
        let c = Chunk {
            index: 0,
            plain_len: plain.len() as u64,
            plain_digest: PlainDigest::of(plain),
            cipher_len: 9,
            cipher_sha256: "c".into(),
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v["plain_blake3"].as_str(),
            Some(blake3::hash(plain).to_hex().as_str())
        );
        assert!(v.get("plain_sha256").is_none());
        let json = serde_json::to_string(&c).unwrap();
        let m = Manifest::from_json("m.json", manifest_json(2, &json).as_bytes()).unwrap();
        assert_eq!(m.chunks[0], c);
        assert!(m.chunks[0].plain_digest.matches(plain));
    }

    #[test]
    fn newer_formats_are_refused_not_misread() {
        let e = Manifest::from_json("x/manifest.json", manifest_json(3, "").as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("format 3") && e.contains("upgrade rast"), "{e}");
        assert!(Manifest::from_json("x", manifest_json(0, "").as_bytes()).is_err());
        assert!(matches!(
            Manifest::from_json("x", b"{not json"),
            Err(Error::Damaged { .. })
        ));
    }
}
