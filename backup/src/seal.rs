//! Sealing a stream into chunks: cut, compress in parallel, encrypt, in order.
//!
//! ```text
//! reader ──blocks──▶ N zstd workers ──frames──▶ sealer (this thread) ──chunks──▶ emit
//!  (read, BLAKE3)     (one CCtx each)            (age, SHA-256, in order)
//! ```
//!
//! Invariants:
//! - A chunk is `chunk_size` bytes of plaintext (the last one shorter), cut into blocks
//!   of at most [`BLOCK`] bytes that never straddle a chunk boundary. Each block becomes
//!   one independent zstd frame; a chunk's age file holds its frames in stream order, so
//!   `age -d | zstd -d` of the chunks in order gives back the stream.
//! - Blocks are compressed by whichever worker is free, and the sealer takes them in
//!   order. The end of a chunk stalls nothing: while its last frame is sealed, the
//!   workers already compress the next chunk. (One multithreaded zstd frame per chunk
//!   had to drain its workers at every chunk end: 7–8 % of create's throughput at
//!   32 MiB chunks, measured.)
//! - Memory is bounded whatever the stream's size: plaintext blocks are one being read
//!   plus one per worker (the job queue is a rendezvous), frames at most one per worker
//!   being written plus `workers + 2` waiting for the sealer — `3 × workers + 3` blocks
//!   of [`BLOCK`] bytes — plus the chunk being sealed. Block buffers are reused, not
//!   faulted in again for every block.
//! - Everything here is CPU-bound and blocking: run it off the async runtime.

use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use crate::format::{PlainDigest, MAX_CHUNK};
use crate::pool::Pool;
use crate::{Error, Result};

/// Plaintext per zstd frame. At level 3 (2 MiB window) independent 4 MiB frames
/// store within 1 % of one frame per 32 MiB chunk.
pub const BLOCK: usize = 4 << 20;

/// How to seal a stream.
pub struct Options<'a> {
    pub level: i32,
    pub chunk_size: usize,
    pub recipients: &'a [age::x25519::Recipient],
    /// Compression threads (at least one).
    pub workers: usize,
}

/// At most this many workers by default: memory grows with them (three blocks each,
/// 12 MiB), and one `btrfs send` (a single kernel thread) cannot feed more.
pub const MAX_DEFAULT_WORKERS: usize = 8;

impl Options<'_> {
    /// One compression worker per core, at most [`MAX_DEFAULT_WORKERS`].
    pub fn default_workers() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(MAX_DEFAULT_WORKERS)
    }
}

/// A sealed chunk.
pub struct Sealed {
    pub index: u32,
    pub plain_len: u64,
    pub plain_digest: PlainDigest,
    /// The age file: the chunk's zstd frames, encrypted.
    pub bytes: Vec<u8>,
}

/// What to do after a chunk was emitted.
pub enum Next {
    Continue,
    Stop,
}

/// Reads `input` to its end and calls `emit` with every sealed chunk, in order, on the
/// calling thread. `emit` returning [`Next::Stop`] ends sealing early without error.
pub fn seal_stream(
    input: &mut (dyn Read + Send),
    o: &Options<'_>,
    emit: &mut dyn FnMut(Sealed) -> Result<Next>,
) -> Result<()> {
    if o.chunk_size == 0 || o.chunk_size > MAX_CHUNK {
        return Err(Error::Invalid(format!(
            "chunk size {} is out of range (1 byte to {} MiB)",
            o.chunk_size,
            MAX_CHUNK >> 20
        )));
    }
    let (min, max) = (
        zstd::zstd_safe::min_c_level(),
        zstd::zstd_safe::max_c_level(),
    );
    if o.level == 0 || !(min..=max).contains(&o.level) {
        return Err(Error::Invalid(format!(
            "zstd level {} is out of range (1 to {max}, or negative for faster levels)",
            o.level
        )));
    }
    let workers = o.workers.max(1);
    let plain_pool = Pool::default();
    let frame_pool = Pool::default();
    // A rendezvous: a block is handed to a free worker, never queued (memory; the
    // reader reads far faster than a worker compresses, so no worker waits for it).
    let (job_tx, job_rx) = sync_channel::<Job>(0);
    let job_rx = Mutex::new(job_rx);
    // Blocks in stream order, each with the receiver its frame will arrive on.
    let (order_tx, order_rx) = sync_channel::<Ordered>(workers + 1);
    std::thread::scope(|s| {
        let reader = s.spawn(|| read_blocks(input, o.chunk_size, &plain_pool, job_tx, order_tx));
        for _ in 0..workers {
            let (job_rx, plain_pool, frame_pool) = (&job_rx, &plain_pool, &frame_pool);
            s.spawn(move || compress_blocks(o.level, job_rx, plain_pool, frame_pool));
        }
        let sealed = seal_in_order(order_rx, o.recipients, &frame_pool, emit);
        // The reader stops at its next block once `order_rx` is gone.
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(Error::Invalid("the stream reader panicked".into())));
        sealed.and(read)
    })
}

/// A block to compress.
struct Job {
    plain: Vec<u8>,
    done: SyncSender<Result<Vec<u8>>>,
}

/// A block in stream order: where its frame arrives, and, on a chunk's last block,
/// the chunk's plaintext length and digest.
struct Ordered {
    frame: Receiver<Result<Vec<u8>>>,
    chunk_end: Option<(u64, PlainDigest)>,
}

fn read_blocks(
    input: &mut (dyn Read + Send),
    chunk_size: usize,
    pool: &Pool,
    jobs: SyncSender<Job>,
    order: SyncSender<Ordered>,
) -> Result<()> {
    let mut hasher = blake3::Hasher::new();
    let mut in_chunk = 0usize;
    loop {
        let want = BLOCK.min(chunk_size - in_chunk);
        let mut plain = pool.take();
        plain.reserve_exact(want);
        let n = (&mut *input)
            .take(want as u64)
            .read_to_end(&mut plain)
            .map_err(|e| Error::Invalid(format!("reading the send stream: {e}")))?;
        if n == 0 && in_chunk == 0 {
            return Ok(()); // the stream ended on a chunk boundary
        }
        hasher.update(&plain);
        in_chunk += n;
        let eof = n < want;
        let chunk_end = (eof || in_chunk == chunk_size).then(|| {
            let digest = PlainDigest::Blake3(hasher.finalize().to_hex().to_string());
            hasher.reset();
            (std::mem::take(&mut in_chunk) as u64, digest)
        });
        let (done, frame) = sync_channel(1);
        let stopped = jobs.send(Job { plain, done }).is_err()
            || order.send(Ordered { frame, chunk_end }).is_err();
        if stopped || eof {
            return Ok(()); // stopped: the sealer ended and says why
        }
    }
}

fn compress_blocks(level: i32, jobs: &Mutex<Receiver<Job>>, plain_pool: &Pool, frame_pool: &Pool) {
    let mut z = match zstd::bulk::Compressor::new(level) {
        Ok(z) => z,
        Err(e) => {
            // Every job this worker would take gets the error; the sealer reports it.
            return drain_with_error(jobs, &format!("zstd level {level}: {e}"));
        }
    };
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(Job { plain, done }) = job else {
            return; // the reader is done
        };
        let mut frame = frame_pool.take();
        frame.reserve_exact(zstd::zstd_safe::compress_bound(plain.len()));
        let r = z
            .compress_to_buffer(&plain, &mut frame)
            .map(|_| frame)
            .map_err(|e| Error::Invalid(format!("compressing: {e}")));
        plain_pool.give(plain);
        let _ = done.send(r);
    }
}

fn drain_with_error(jobs: &Mutex<Receiver<Job>>, msg: &str) {
    while let Some(Ok(job)) = jobs.lock().ok().map(|rx| rx.recv()) {
        let _ = job.done.send(Err(Error::Invalid(msg.into())));
    }
}

fn seal_in_order(
    order: Receiver<Ordered>,
    recipients: &[age::x25519::Recipient],
    frame_pool: &Pool,
    emit: &mut dyn FnMut(Sealed) -> Result<Next>,
) -> Result<()> {
    let mut index = 0u32;
    let mut writer: Option<age::stream::StreamWriter<Vec<u8>>> = None;
    for block in order {
        let frame = block
            .frame
            .recv()
            .map_err(|_| Error::Invalid("a compression worker stopped".into()))??;
        let w = match &mut writer {
            Some(w) => w,
            None => writer.insert(age_writer(recipients)?),
        };
        std::io::Write::write_all(w, &frame).map_err(seal_io)?;
        frame_pool.give(frame);
        if let Some((plain_len, plain_digest)) = block.chunk_end {
            let bytes = writer
                .take()
                .expect("written above")
                .finish()
                .map_err(seal_io)?;
            let next = emit(Sealed {
                index,
                plain_len,
                plain_digest,
                bytes,
            })?;
            if let Next::Stop = next {
                return Ok(());
            }
            index += 1;
        }
    }
    Ok(())
}

fn age_writer(recipients: &[age::x25519::Recipient]) -> Result<age::stream::StreamWriter<Vec<u8>>> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| Error::Keys(e.to_string()))?;
    encryptor.wrap_output(Vec::new()).map_err(seal_io)
}

fn seal_io(e: std::io::Error) -> Error {
    Error::Invalid(format!("sealing a chunk: {e}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::unseal::open;

    /// Deterministic bytes that compress somewhat, like a real send stream.
    fn stream(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if (i / 4096) % 3 == 0 {
                    (i % 97) as u8
                } else {
                    x as u8
                }
            })
            .collect()
    }

    fn seal_all(
        input: &[u8],
        chunk_size: usize,
        workers: usize,
        recipients: &[age::x25519::Recipient],
    ) -> Vec<Sealed> {
        let o = Options {
            level: 1,
            chunk_size,
            recipients,
            workers,
        };
        let mut out = Vec::new();
        let mut r = input;
        seal_stream(&mut r, &o, &mut |c| {
            out.push(c);
            Ok(Next::Continue)
        })
        .unwrap();
        out
    }

    /// One chunk holding all of `plain` (for format tests).
    pub(crate) fn seal_one(plain: &[u8], recipients: &[age::x25519::Recipient]) -> Vec<u8> {
        let mut v = seal_all(plain, plain.len().max(1), 2, recipients);
        assert_eq!(v.len(), 1);
        v.pop().unwrap().bytes
    }

    #[test]
    fn chunks_are_the_stream_cut_in_order() {
        let id = age::x25519::Identity::generate();
        let chunk = 10 << 20; // not a multiple of BLOCK: blocks of 4, 4, 2 MiB
        for (len, workers) in [(25 * (1 << 20) + 3, 3), (2 * chunk, 2), (1000, 1)] {
            let input = stream(len);
            let sealed = seal_all(&input, chunk, workers, &[id.to_public()]);
            assert_eq!(sealed.len(), len.div_ceil(chunk), "len {len}");
            for (i, (c, want)) in sealed.iter().zip(input.chunks(chunk)).enumerate() {
                assert_eq!(c.index, i as u32);
                assert_eq!(c.plain_len, want.len() as u64);
                assert_eq!(c.plain_digest, PlainDigest::of(want));
                assert_eq!(
                    open(&c.bytes, std::slice::from_ref(&id), c.plain_len).unwrap(),
                    want
                );
            }
        }
        assert!(seal_all(&[], chunk, 2, &[id.to_public()]).is_empty());
    }

    #[test]
    fn stopping_early_ends_without_reading_the_rest() {
        let id = age::x25519::Identity::generate();
        let o = Options {
            level: 1,
            chunk_size: 1 << 20,
            recipients: &[id.to_public()],
            workers: 2,
        };
        // 64 GiB that would take minutes to read: stopping must not wait for them.
        let mut endless = std::io::repeat(7).take(64 << 30);
        let mut seen = 0;
        seal_stream(&mut endless, &o, &mut |_| {
            seen += 1;
            Ok(if seen == 2 {
                Next::Stop
            } else {
                Next::Continue
            })
        })
        .unwrap();
        assert_eq!(seen, 2);
        // An error from emit also ends it, and is returned.
        let e = seal_stream(&mut std::io::repeat(7).take(64 << 30), &o, &mut |_| {
            Err(Error::Invalid("upload refused".into()))
        });
        assert!(e.unwrap_err().to_string().contains("upload refused"));
    }

    #[test]
    fn read_errors_and_bad_options_are_reported() {
        struct Broken(usize);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("pipe broke"));
                }
                let n = buf.len().min(self.0);
                buf[..n].fill(1);
                self.0 -= n;
                Ok(n)
            }
        }
        let id = age::x25519::Identity::generate();
        let mut o = Options {
            level: 1,
            chunk_size: 1 << 20,
            recipients: &[id.to_public()],
            workers: 2,
        };
        let mut emitted = 0;
        let e = seal_stream(&mut Broken(3 << 20), &o, &mut |_| {
            emitted += 1;
            Ok(Next::Continue)
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("reading the send stream") && e.contains("pipe broke"),
            "{e}"
        );
        assert!(emitted <= 3, "nothing after the error is emitted");
        for size in [0, MAX_CHUNK + 1] {
            o.chunk_size = size;
            let e = seal_stream(&mut Broken(1), &o, &mut |_| Ok(Next::Continue));
            assert!(
                e.unwrap_err().to_string().contains("out of range"),
                "{size}"
            );
        }
        o.chunk_size = 1 << 20;
        for level in [0, 23, 99] {
            o.level = level;
            let e = seal_stream(&mut Broken(1), &o, &mut |_| Ok(Next::Continue));
            assert!(
                e.unwrap_err().to_string().contains("out of range"),
                "{level}"
            );
        }
    }
}
