//! The backup format, version 1 (docs/backup-format.md). Under the target prefix:
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

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

pub const FORMAT_VERSION: u32 = 1;
/// Default plaintext per chunk (memory stays a few chunks whatever the snapshot size).
pub const DEFAULT_CHUNK: usize = 32 << 20;
/// Magic at the start of every btrfs send stream.
pub const SEND_MAGIC: &[u8] = b"btrfs-stream\0";

/// One stored chunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub index: u32,
    pub plain_len: u64,
    /// SHA-256 of the plaintext (lets a resumed upload check the stream is the same).
    pub plain_sha256: String,
    pub cipher_len: u64,
    pub cipher_sha256: String,
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

/// A zstd compression context reused for every chunk of a backup: its worker
/// threads and buffers survive from one chunk (frame) to the next instead of being
/// created, faulted in and freed per chunk.
pub struct Compressor(zstd::zstd_safe::CCtx<'static>);

impl Compressor {
    /// Level `level`, multithreaded when cores allow.
    pub fn new(level: i32) -> Result<Compressor> {
        use zstd::zstd_safe::CParameter;
        let mut c = zstd::zstd_safe::CCtx::create();
        c.set_parameter(CParameter::CompressionLevel(level))
            .map_err(|e| {
                Error::Invalid(format!(
                    "zstd level {level}: {}",
                    zstd::zstd_safe::get_error_name(e)
                ))
            })?;
        let threads = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1);
        if threads > 1 {
            // Without zstdmt support this fails and compression stays single-threaded.
            let _ = c.set_parameter(CParameter::NbWorkers(threads));
        }
        Ok(Compressor(c))
    }
}

/// Compresses and encrypts one chunk as its plaintext arrives: zstd's worker threads
/// compress while the caller reads the next bytes, and no plaintext buffer is kept.
/// CPU work: use it off the async runtime.
pub struct Sealer<'c> {
    z: zstd::stream::write::Encoder<'c, age::stream::StreamWriter<Vec<u8>>>,
    hasher: Sha256,
    len: u64,
}

fn seal_io(e: std::io::Error) -> Error {
    Error::Invalid(format!("sealing a chunk: {e}"))
}

impl<'c> Sealer<'c> {
    /// A new chunk (one zstd frame, one age file) compressed with `comp`.
    pub fn new(
        comp: &'c mut Compressor,
        recipients: &[age::x25519::Recipient],
    ) -> Result<Sealer<'c>> {
        let encryptor =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| Error::Keys(e.to_string()))?;
        let w = encryptor.wrap_output(Vec::new()).map_err(seal_io)?;
        Ok(Sealer {
            z: zstd::stream::write::Encoder::with_context(w, &mut comp.0),
            hasher: Sha256::new(),
            len: 0,
        })
    }

    pub fn write(&mut self, plain: &[u8]) -> Result<()> {
        self.hasher.update(plain);
        self.len += plain.len() as u64;
        self.z.write_all(plain).map_err(seal_io)
    }

    /// Plaintext bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sealed chunk, the plaintext's SHA-256 and its length.
    pub fn finish(self) -> Result<(Vec<u8>, String, u64)> {
        let sealed = self
            .z
            .finish()
            .map_err(seal_io)?
            .finish()
            .map_err(seal_io)?;
        Ok((sealed, hex::encode(self.hasher.finalize()), self.len))
    }
}

/// Compresses and encrypts a whole chunk at once (see [`Sealer`]).
pub fn seal(plain: &[u8], level: i32, recipients: &[age::x25519::Recipient]) -> Result<Vec<u8>> {
    let mut comp = Compressor::new(level)?;
    let mut s = Sealer::new(&mut comp, recipients)?;
    s.write(plain)?;
    Ok(s.finish()?.0)
}

/// Decrypts and decompresses one chunk; any tampering is an error.
pub fn open(cipher: &[u8], identities: &[age::x25519::Identity]) -> Result<Vec<u8>> {
    let d =
        age::Decryptor::new(cipher).map_err(|e| Error::Keys(format!("not an age file: {e}")))?;
    let r = d
        .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        .map_err(|e| Error::Keys(format!("cannot decrypt: {e} (wrong --identity?)")))?;
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(r)
        .and_then(|mut z| z.read_to_end(&mut out))
        .map_err(|e| Error::Invalid(format!("chunk does not decompress: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper_detection() {
        let id = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let plain: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let c = seal(&plain, 3, &[id.to_public(), other.to_public()]).unwrap();
        assert!(c.len() < plain.len());
        assert_eq!(open(&c, std::slice::from_ref(&id)).unwrap(), plain);
        assert_eq!(
            open(&c, &[other]).unwrap(),
            plain,
            "every recipient can open"
        );
        let stranger = age::x25519::Identity::generate();
        assert!(open(&c, &[stranger])
            .unwrap_err()
            .to_string()
            .contains("wrong --identity"));
        let mut bad = c.clone();
        let n = bad.len();
        bad[n / 2] ^= 1;
        assert!(open(&bad, &[id]).is_err());
    }
}
