//! Opening sealed chunks — the inverse of [`crate::seal`]: check the stored object
//! against the manifest, decrypt (age) and decompress (zstd, every frame in turn).
//!
//! Restore streams: [`Opener::open_chunk_to`] writes the plaintext to `btrfs receive`
//! piece by piece as it is decrypted and decompressed, so a chunk's plaintext is
//! never held whole and restore memory is the fetched ciphertexts plus one zstd
//! window, whatever the chunk size. What reaches the writer is always authenticated:
//! age checks every 64 KiB of ciphertext before releasing it. The ciphertext's
//! SHA-256 is computed on the way and compared at the chunk's end; a mismatch (or any
//! other failure) means the chunk as a whole is not what the manifest lists, and the
//! caller must discard what was written (restore deletes the half-received subvolume).

use std::io::{BufReader, Read, Write};

use sha2::{Digest, Sha256};
use zstd::zstd_safe::{DCtx, ResetDirective};

use crate::format::{Chunk, MAX_CHUNK};
use crate::{Error, Result};

/// Plaintext handed to the writer at a time (the `btrfs receive` pipe holds 1 MiB).
const PIECE: usize = 256 << 10;
/// Decrypted bytes buffered for zstd.
const DECRYPTED_BUF: usize = 256 << 10;

/// Why [`Opener::open_chunk_to`] failed.
#[derive(Debug)]
pub enum OpenFailure {
    /// The stored object is not the one the manifest lists (length or SHA-256).
    NotAsListed,
    /// It does not decrypt with these identities, does not decompress, or holds
    /// another number of plaintext bytes than the manifest says.
    Open(Error),
    /// The writer failed.
    Write(std::io::Error),
}

/// Opens chunks one after another, reusing one zstd context and one piece buffer.
pub struct Opener {
    dctx: DCtx<'static>,
    piece: Vec<u8>,
}

impl Default for Opener {
    fn default() -> Self {
        Opener {
            dctx: DCtx::create(),
            piece: vec![0; PIECE],
        }
    }
}

impl Opener {
    /// Writes the plaintext of chunk `c`, stored as `cipher`, to `out` while it is
    /// decrypted and decompressed, and checks everything the manifest says of it.
    pub fn open_chunk_to(
        &mut self,
        c: &Chunk,
        cipher: &[u8],
        identities: &[age::x25519::Identity],
        out: &mut dyn Write,
    ) -> std::result::Result<(), OpenFailure> {
        if cipher.len() as u64 != c.cipher_len {
            return Err(OpenFailure::NotAsListed);
        }
        let mut hashed = HashingReader {
            rest: cipher,
            sha: Sha256::new(),
        };
        let r = self.decode_to(&mut hashed, identities, c.plain_len, out);
        let HashingReader { rest, mut sha } = hashed;
        sha.update(rest); // whatever the decoder did not read
        if hex::encode(sha.finalize()) != c.cipher_sha256 {
            return Err(OpenFailure::NotAsListed);
        }
        r
    }

    /// Decrypts and decompresses one chunk of `plain_len` plaintext bytes into memory;
    /// any tampering, and any other length, is an error. `plain_len` comes from the
    /// manifest, which anyone who can write the store can change: over [`MAX_CHUNK`]
    /// is refused before anything is allocated.
    pub fn open(
        &mut self,
        cipher: &[u8],
        identities: &[age::x25519::Identity],
        plain_len: u64,
    ) -> Result<Vec<u8>> {
        let len = usize::try_from(plain_len)
            .ok()
            .filter(|n| *n <= MAX_CHUNK)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "chunk claims {plain_len} bytes, more than the largest chunk ({MAX_CHUNK})"
                ))
            })?;
        let mut plain = Vec::with_capacity(len);
        match self.decode_to(cipher, identities, plain_len, &mut plain) {
            Ok(()) => Ok(plain),
            Err(OpenFailure::Open(e)) => Err(e),
            Err(other) => Err(Error::Invalid(format!("{other:?}"))),
        }
    }

    fn decode_to(
        &mut self,
        cipher: impl Read,
        identities: &[age::x25519::Identity],
        plain_len: u64,
        out: &mut dyn Write,
    ) -> std::result::Result<(), OpenFailure> {
        let fail = OpenFailure::Open;
        let d = age::Decryptor::new(cipher)
            .map_err(|e| fail(Error::Keys(format!("not an age file: {e}"))))?;
        let r = d
            .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
            .map_err(|e| {
                let msg = format!("cannot decrypt: {e} (wrong --identity?)");
                fail(match e {
                    age::DecryptError::NoMatchingKeys => Error::WrongKey(msg),
                    _ => Error::Keys(msg),
                })
            })?;
        // A chunk that failed half-way left the context inside a frame.
        self.dctx
            .reset(ResetDirective::SessionOnly)
            .map_err(|_| fail(Error::Invalid("cannot reset zstd".into())))?;
        let mut z = zstd::stream::read::Decoder::with_context(
            BufReader::with_capacity(DECRYPTED_BUF, r),
            &mut self.dctx,
        );
        let mut left = plain_len;
        loop {
            let n = match z.read(&mut self.piece) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(fail(Error::Invalid(format!(
                        "chunk does not decrypt and decompress: {e}"
                    ))))
                }
            };
            if n as u64 > left {
                return Err(fail(Error::Invalid(format!(
                    "chunk holds more than the {plain_len} bytes of the manifest"
                ))));
            }
            left -= n as u64;
            out.write_all(&self.piece[..n])
                .map_err(OpenFailure::Write)?;
        }
        if left != 0 {
            return Err(fail(Error::Invalid(format!(
                "chunk holds {} bytes, not the {plain_len} of the manifest",
                plain_len - left
            ))));
        }
        Ok(())
    }
}

/// [`Opener::open`] with a fresh opener.
pub fn open(
    cipher: &[u8],
    identities: &[age::x25519::Identity],
    plain_len: u64,
) -> Result<Vec<u8>> {
    Opener::default().open(cipher, identities, plain_len)
}

/// Hashes what it reads: the ciphertext's SHA-256 in the same pass as decryption.
struct HashingReader<'a> {
    rest: &'a [u8],
    sha: Sha256,
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.rest.read(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{sha256, PlainDigest};
    use crate::seal::tests::seal_one;

    #[test]
    fn seal_open_round_trip_and_tamper_detection() {
        let id = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let plain: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let c = crate::seal::tests::seal_one(&plain, &[id.to_public(), other.to_public()]);
        assert!(c.len() < plain.len());
        let n = plain.len() as u64;
        assert_eq!(open(&c, std::slice::from_ref(&id), n).unwrap(), plain);
        assert_eq!(
            open(&c, &[other], n).unwrap(),
            plain,
            "every recipient can open"
        );
        let stranger = age::x25519::Identity::generate();
        assert!(open(&c, &[stranger], n)
            .unwrap_err()
            .to_string()
            .contains("wrong --identity"));
        let mut bad = c.clone();
        let middle = bad.len() / 2;
        bad[middle] ^= 1;
        assert!(open(&bad, std::slice::from_ref(&id), n).is_err());
    }

    /// A chunk as the manifest lists it.
    fn listed(index: u32, plain: &[u8], cipher: &[u8]) -> Chunk {
        Chunk {
            index,
            plain_len: plain.len() as u64,
            plain_digest: PlainDigest::of(plain),
            cipher_len: cipher.len() as u64,
            cipher_sha256: sha256(cipher),
        }
    }

    /// Collects what is written, records the largest write, fails after `fail_after`.
    #[derive(Default)]
    struct Sink {
        got: Vec<u8>,
        largest: usize,
        fail_after: Option<usize>,
    }
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.fail_after.is_some_and(|n| self.got.len() >= n) {
                return Err(std::io::Error::other("reader went away"));
            }
            self.largest = self.largest.max(b.len());
            self.got.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn open_chunk_to_streams_in_pieces_and_checks_what_the_manifest_lists() {
        let id = age::x25519::Identity::generate();
        let ids = std::slice::from_ref(&id);
        // More than two zstd frames (blocks of crate::seal::BLOCK), then a small chunk.
        let big: Vec<u8> = (0..9usize << 20).map(|i| (i * 7 % 251) as u8).collect();
        let small = b"btrfs-stream\0 a small chunk".to_vec();
        let (big_c, small_c) = (
            seal_one(&big, &[id.to_public()]),
            seal_one(&small, &[id.to_public()]),
        );
        let (big_l, small_l) = (listed(0, &big, &big_c), listed(1, &small, &small_c));
        let mut o = Opener::default();

        let mut out = Sink::default();
        o.open_chunk_to(&big_l, &big_c, ids, &mut out).unwrap();
        assert!(out.got == big, "the stream comes back");
        assert!(out.largest <= PIECE, "written in pieces, never whole");

        // A writer that stops half-way, then the same opener carries on with the next.
        let mut broken = Sink {
            fail_after: Some(PIECE),
            ..Sink::default()
        };
        let e = o
            .open_chunk_to(&big_l, &big_c, ids, &mut broken)
            .unwrap_err();
        assert!(matches!(e, OpenFailure::Write(_)), "{e:?}");
        let mut out = Sink::default();
        o.open_chunk_to(&small_l, &small_c, ids, &mut out).unwrap();
        assert_eq!(out.got, small);

        // Another plaintext length than listed.
        for wrong in [small.len() as u64 - 1, small.len() as u64 + 1] {
            let l = Chunk {
                plain_len: wrong,
                ..small_l.clone()
            };
            let e = o
                .open_chunk_to(&l, &small_c, ids, &mut Sink::default())
                .unwrap_err();
            assert!(
                matches!(&e, OpenFailure::Open(e) if e.to_string().contains("of the manifest")),
                "{wrong}: {e:?}"
            );
        }
        // One flipped bit, a cut object, and a valid age file that is not the listed one.
        let mut flipped = small_c.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 4;
        let cut = &small_c[..small_c.len() - 1];
        for (what, bytes) in [("flipped", &flipped[..]), ("cut", cut), ("swapped", &big_c)] {
            let e = o
                .open_chunk_to(&small_l, bytes, ids, &mut Sink::default())
                .unwrap_err();
            assert!(matches!(e, OpenFailure::NotAsListed), "{what}: {e:?}");
        }
        let swapped_but_listed = Chunk {
            cipher_len: big_c.len() as u64,
            ..small_l.clone()
        };
        let e = o.open_chunk_to(&swapped_but_listed, &big_c, ids, &mut Sink::default());
        assert!(matches!(e, Err(OpenFailure::NotAsListed)), "{e:?}");

        let stranger = age::x25519::Identity::generate();
        let e = o.open_chunk_to(&small_l, &small_c, &[stranger], &mut Sink::default());
        assert!(
            matches!(&e, Err(OpenFailure::Open(e)) if e.to_string().contains("wrong --identity")),
            "{e:?}"
        );
        let e = open(&small_c, ids, u64::MAX).unwrap_err().to_string();
        assert!(e.contains("largest chunk"), "{e}");
    }
}
