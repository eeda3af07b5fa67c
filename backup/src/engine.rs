//! The operations: create, list, restore, clean, prune (verify: [`crate::verify`]).
//!
//! `create` runs `btrfs send` in a blocking thread that streams its output through
//! [`seal::seal_stream`] (parallel zstd + age, CPU-bound, never on the async runtime).
//! A sealed chunk is handed to the uploader only with one of `parallel` upload slots,
//! so besides the chunk being sealed at most `parallel` sealed chunks exist, whatever
//! the snapshot size. `partial.json` records uploaded chunks; a new `create` of the
//! same backup id re-sends the same stream, checks the plaintext digest of each
//! recorded chunk and uploads only what is missing. The manifest goes last.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use serde::Serialize;

use crate::format::{self, Chunk, Manifest, Partial, Source};
use crate::keys;
use crate::pool::Pool;
use crate::retention::{self, Decision, Item, Policy};
use crate::seal;
use crate::store::Target;
use crate::unseal::{OpenFailure, Opener};
use crate::{Error, Result};

/// What to back up.
#[derive(Clone, Debug)]
pub struct CreateParams {
    pub id: String,
    pub source: Source,
    /// The read-only subvolume to send.
    pub send_path: PathBuf,
    /// Incremental: (parent backup id, parent's source uuid, parent subvolume path).
    pub parent: Option<(String, String, PathBuf)>,
    pub recipients: Vec<String>,
    pub zstd_level: i32,
    pub chunk_size: usize,
    pub parallel: usize,
    /// Upload bandwidth limit in bytes per second (averaged over chunks).
    pub bwlimit: Option<u64>,
}

/// Called after each uploaded chunk with (chunks done, plaintext bytes done).
pub type Progress<'a> = &'a (dyn Fn(u32, u64) + Sync);

async fn get_json<T: serde::de::DeserializeOwned>(t: &Target, name: &str) -> Result<Option<T>> {
    match t.get(name).await? {
        Some(b) => Ok(Some(serde_json::from_slice(&b).map_err(|e| {
            Error::Damaged {
                id: name.into(),
                reason: e.to_string(),
            }
        })?)),
        None => Ok(None),
    }
}

async fn put_json<T: Serialize>(t: &Target, name: &str, v: &T) -> Result<()> {
    t.put(
        name,
        serde_json::to_vec_pretty(v).map_err(|e| Error::Invalid(e.to_string()))?,
    )
    .await
}

/// The manifest of backup `id`, if it is complete.
pub async fn manifest(t: &Target, id: &str) -> Result<Option<Manifest>> {
    let name = format::manifest_name(id);
    match t.get(&name).await? {
        Some(b) => Manifest::from_json(&name, &b).map(Some),
        None => Ok(None),
    }
}

/// Creates (or resumes, or confirms) backup `p.id`.
pub async fn create(
    t: &Target,
    p: &CreateParams,
    progress: Progress<'_>,
) -> Result<(Manifest, u32)> {
    if let Some(m) = manifest(t, &p.id).await? {
        return Ok((m, 0));
    }
    let recipients = keys::recipients(&p.recipients)?;
    let done: Partial = get_json(t, &format::partial_name(&p.id))
        .await?
        .unwrap_or_default();
    let mut have: BTreeMap<u32, Chunk> = done.chunks.into_iter().map(|c| (c.index, c)).collect();
    // A sealed chunk goes to the uploader only with an upload slot: besides the chunk
    // being sealed, at most `parallel` sealed chunks exist (memory bound, see docs).
    let slots = Arc::new(tokio::sync::Semaphore::new(p.parallel.max(1)));
    let rt = tokio::runtime::Handle::current();
    type Slot = tokio::sync::OwnedSemaphorePermit;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Chunk, Option<(Vec<u8>, Slot)>)>(1);
    let mut args: Vec<std::ffi::OsString> = vec!["send".into(), "-q".into()];
    if let Some((_, _, parent)) = &p.parent {
        args.push("-p".into());
        args.push(parent.clone().into_os_string());
    }
    args.push(p.send_path.clone().into_os_string());
    let expected = have.clone();
    let (level, chunk_size) = (p.zstd_level, p.chunk_size);
    let reader = tokio::task::spawn_blocking(move || -> Result<()> {
        let mut child = crate::child::die_with_parent(&mut Command::new("btrfs"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Invalid(format!("cannot run btrfs send: {e}")))?;
        let mut out = child.stdout.take().expect("piped");
        widen_pipe(&out);
        let opts = seal::Options {
            level,
            chunk_size,
            recipients: &recipients,
            workers: seal::Options::default_workers(),
        };
        let mut uploader_gone = false;
        let sealed = seal::seal_stream(&mut out, &opts, &mut |c| {
            let item = match expected.get(&c.index) {
                // Uploaded before an interruption: the same bytes need no new upload.
                // (A format-1 record has another digest: its chunk is sealed again.)
                Some(had) if had.plain_digest == c.plain_digest && had.plain_len == c.plain_len => {
                    (had.clone(), None)
                }
                _ => {
                    let chunk = Chunk {
                        index: c.index,
                        plain_len: c.plain_len,
                        plain_digest: c.plain_digest,
                        cipher_len: c.bytes.len() as u64,
                        cipher_sha256: format::sha256(&c.bytes),
                    };
                    let Ok(slot) = rt.block_on(slots.clone().acquire_owned()) else {
                        uploader_gone = true;
                        return Ok(seal::Next::Stop);
                    };
                    (chunk, Some((c.bytes, slot)))
                }
            };
            if tx.blocking_send(item).is_err() {
                uploader_gone = true;
                return Ok(seal::Next::Stop);
            }
            Ok(seal::Next::Continue)
        });
        if sealed.is_err() || uploader_gone {
            // Sealing failed (its error is returned) or the uploader did (the uploader
            // reports its own): either way send's output is no longer wanted.
            let _ = child.kill();
            let _ = child.wait();
            return sealed;
        }
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let st = child.wait().map_err(|e| Error::Invalid(e.to_string()))?;
        if !st.success() {
            return Err(Error::Invalid(format!(
                "btrfs send failed ({st}): {}",
                err.trim()
            )));
        }
        Ok(())
    });
    let mut inflight = futures::stream::FuturesUnordered::new();
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut uploaded = 0u32;
    let mut plain_done = 0u64;
    let (t0, mut queued) = (tokio::time::Instant::now(), 0u64);
    use futures::StreamExt;
    loop {
        tokio::select! {
            item = rx.recv(), if inflight.len() < p.parallel.max(1) => {
                let Some((c, sealed)) = item else { break };
                match sealed {
                    None => {
                        plain_done += c.plain_len;
                        chunks.push(c);
                    }
                    Some((bytes, slot)) => {
                        let name = format::chunk_name(&p.id, c.index);
                        let t2 = t.clone();
                        // Under a bandwidth limit a chunk starts no earlier than the
                        // bytes queued before it allow.
                        let not_before = p.bwlimit.filter(|l| *l > 0).map(|l| {
                            t0 + std::time::Duration::from_secs_f64(queued as f64 / l as f64)
                        });
                        queued += bytes.len() as u64;
                        inflight.push(async move {
                            if let Some(at) = not_before {
                                tokio::time::sleep_until(at).await;
                            }
                            let r = t2.put(&name, bytes).await.map(|_| c);
                            drop(slot);
                            r
                        });
                    }
                }
            }
            Some(r) = inflight.next(), if !inflight.is_empty() => {
                let c = r?;
                plain_done += c.plain_len;
                uploaded += 1;
                have.insert(c.index, c.clone());
                chunks.push(c);
                put_json(t, &format::partial_name(&p.id), &Partial { id: p.id.clone(), chunks: have.values().cloned().collect() }).await?;
                progress(chunks.len() as u32, plain_done);
            }
        }
    }
    while let Some(r) = inflight.next().await {
        let c = r?;
        uploaded += 1;
        have.insert(c.index, c.clone());
        chunks.push(c);
    }
    reader.await.map_err(|e| Error::Invalid(e.to_string()))??;
    chunks.sort_by_key(|c| c.index);
    if chunks.is_empty() || chunks.iter().enumerate().any(|(i, c)| c.index != i as u32) {
        return Err(Error::Invalid(
            "the send stream was cut short; nothing recorded as complete".into(),
        ));
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let m = Manifest {
        format: format::FORMAT_VERSION,
        id: p.id.clone(),
        source: p.source.clone(),
        parent: p
            .parent
            .as_ref()
            .map(|(id, uuid, _)| (id.clone(), uuid.clone())),
        chunks,
        compression: "zstd".into(),
        zstd_level: p.zstd_level,
        recipients: p.recipients.iter().map(|r| keys::fingerprint(r)).collect(),
        created: now_ms / 1000,
        created_ms: now_ms,
        rast_version: env!("CARGO_PKG_VERSION").into(),
    };
    put_json(t, &format::manifest_name(&p.id), &m).await?;
    t.delete(&format::partial_name(&p.id)).await?;
    Ok((m, uploaded))
}

/// A 1 MiB pipe instead of the default 64 KiB, between `btrfs send` and the sealer's
/// reader and between the restore writer and `btrfs receive`: fewer wake-ups, and either
/// side can run ahead while the other is busy. Best effort: a smaller
/// `pipe-max-size` keeps the default.
fn widen_pipe(p: &impl std::os::fd::AsRawFd) {
    use nix::fcntl::{fcntl, FcntlArg};
    let _ = fcntl(p.as_raw_fd(), FcntlArg::F_SETPIPE_SZ(1 << 20));
}

/// A backup as `list` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Listed {
    pub id: String,
    pub complete: bool,
    pub lineage: Option<String>,
    /// The btrfs UUID of the sent snapshot (a restore's received UUID).
    pub uuid: Option<String>,
    pub parent: Option<String>,
    pub created: Option<u64>,
    #[serde(skip)]
    pub created_ms: u64,
    pub objects: usize,
    pub stored_bytes: u64,
    pub plain_bytes: Option<u64>,
}

/// Every backup under the target, complete or not (needs no key).
pub async fn list(t: &Target) -> Result<Vec<Listed>> {
    let mut by_id: BTreeMap<String, (usize, u64, bool)> = BTreeMap::new();
    for (name, size) in t.list().await? {
        let Some((id, file)) = name.split_once('/') else {
            continue;
        };
        let e = by_id.entry(id.to_string()).or_default();
        e.0 += 1;
        e.1 += size;
        e.2 |= file == "manifest.json";
    }
    let mut out = Vec::new();
    for (id, (objects, bytes, complete)) in by_id {
        let m = if complete {
            manifest(t, &id).await?
        } else {
            None
        };
        out.push(Listed {
            complete: m.is_some(),
            lineage: m.as_ref().map(|m| m.source.lineage.clone()),
            uuid: m.as_ref().map(|m| m.source.uuid.clone()),
            parent: m
                .as_ref()
                .and_then(|m| m.parent.as_ref().map(|p| p.0.clone())),
            created: m.as_ref().map(|m| m.created),
            created_ms: m
                .as_ref()
                .map(|m| m.created_ms.max(m.created * 1000))
                .unwrap_or(u64::MAX),
            plain_bytes: m.as_ref().map(|m| m.plain_len()),
            id,
            objects,
            stored_bytes: bytes,
        });
    }
    out.sort_by_key(|l| (l.created_ms, l.id.clone()));
    Ok(out)
}

/// The chain ending at `id`, oldest (the full backup) first.
pub async fn chain(t: &Target, id: &str) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    let mut cur = Some(id.to_string());
    while let Some(c) = cur {
        let m = manifest(t, &c).await?.ok_or_else(|| {
            if out.is_empty() {
                Error::NotFound(c.clone())
            } else {
                Error::Damaged {
                    id: id.into(),
                    reason: format!("its chain needs {c}, which is missing or incomplete"),
                }
            }
        })?;
        if out.len() > 10_000 {
            return Err(Error::Damaged {
                id: id.into(),
                reason: "parent chain loops".into(),
            });
        }
        cur = m.parent.as_ref().map(|p| p.0.clone());
        out.push(m);
    }
    out.reverse();
    Ok(out)
}

/// Restores `id` (and the chain before it) into the btrfs directory `into`; returns
/// the restored subvolume. A subvolume already there and complete (read-only, with a
/// received UUID) is not received again; one left half-received by an interrupted
/// restore is deleted and received anew; a receive that fails is deleted at once.
///
/// (`btrfs receive` names the subvolume after the one sent and a read-only subvolume
/// cannot be moved to another directory — EROFS — so the receive happens in place and
/// completeness is judged by the flags `btrfs receive` sets only at its very end.)
pub async fn restore(
    t: &Target,
    id: &str,
    into: &Path,
    identities: &[age::x25519::Identity],
    progress: &mut dyn FnMut(u64),
) -> Result<PathBuf> {
    let chain = chain(t, id).await?;
    let mut last = PathBuf::new();
    for m in &chain {
        let dest = into.join(&m.source.subvolume);
        last = dest.clone();
        if dest.exists() {
            if is_complete_receive(&dest) {
                progress(m.plain_len());
                continue;
            }
            delete_subvolume(&dest);
        }
        if let Err(e) = receive_one(t, m, into, identities, progress).await {
            if dest.exists() {
                delete_subvolume(&dest);
            }
            return Err(e);
        }
    }
    Ok(last)
}

/// Whether `btrfs receive` finished this subvolume (it sets both at the end).
pub fn is_complete_receive(p: &Path) -> bool {
    let Ok(out) = Command::new("btrfs")
        .args(["subvolume", "show"])
        .arg(p)
        .output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let received = text
        .lines()
        .any(|l| l.trim_start().starts_with("Received UUID:") && !l.trim_end().ends_with('-'));
    let readonly = text
        .lines()
        .any(|l| l.trim_start().starts_with("Flags:") && l.contains("readonly"));
    out.status.success() && received && readonly
}

fn delete_subvolume(p: &Path) {
    let _ = Command::new("btrfs")
        .args(["subvolume", "delete", "-c"])
        .arg(p)
        .output();
}

/// Fetches chunk `c` of backup `id` into a buffer of `pool`, on its own task so that
/// fetches go on while the chunks before them are written.
fn fetch(
    t: &Target,
    id: &str,
    c: &Chunk,
    pool: &Arc<Pool>,
) -> tokio::task::JoinHandle<Result<Vec<u8>>> {
    let (t, id, pool) = (t.clone(), id.to_string(), pool.clone());
    // An object longer than listed is cut one byte past that (the writer then finds
    // it not as listed); a listed length no chunk can have is cut at the largest.
    let (index, len) = (c.index, c.cipher_len.min(format::MAX_STORED_CHUNK));
    tokio::spawn(async move {
        let name = format::chunk_name(&id, index);
        t.get_exact(&name, pool.take(), len)
            .await?
            .ok_or(Error::Damaged {
                reason: format!("{name} is missing"),
                id,
            })
    })
}

/// Chunks fetched ahead of the one being written (ciphertext only: this is what hides
/// the store's latency).
const FETCH_AHEAD: usize = 4;

/// Receives one backup. Up to [`FETCH_AHEAD`] chunks are fetched on their own tasks
/// while one blocking thread decrypts and decompresses the current chunk straight into
/// `btrfs receive`'s stdin ([`Opener::open_chunk_to`]). Memory: at most
/// `FETCH_AHEAD + 2` ciphertexts (their buffers reused) and one zstd window, whatever
/// the backup's size; no chunk's plaintext is ever held whole.
async fn receive_one(
    t: &Target,
    m: &Manifest,
    into: &Path,
    ids: &[age::x25519::Identity],
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    use futures::StreamExt;
    let mut child = crate::child::die_with_parent(&mut Command::new("btrfs"))
        .arg("receive")
        .arg("-q")
        .arg(into)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Invalid(format!("cannot run btrfs receive: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    widen_pipe(&stdin);
    let pool = Arc::new(Pool::default());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Chunk, Vec<u8>)>(1);
    let writer = {
        let (pool, ids) = (pool.clone(), ids.to_vec());
        tokio::task::spawn_blocking(move || -> std::result::Result<(), (u32, OpenFailure)> {
            let mut opener = Opener::default();
            while let Some((c, cipher)) = rx.blocking_recv() {
                let r = opener.open_chunk_to(&c, &cipher, &ids, &mut stdin);
                pool.give(cipher);
                r.map_err(|e| (c.index, e))?;
            }
            Ok(())
        })
    };
    let mut fetched = futures::stream::iter(m.chunks.iter())
        .map(|c| {
            let pool = &pool;
            async move { (c, fetch(t, &m.id, c, pool).await) }
        })
        .buffered(FETCH_AHEAD);
    let mut failure = None;
    while let Some((c, r)) = fetched.next().await {
        match r.map_err(|e| Error::Invalid(e.to_string())).and_then(|r| r) {
            Ok(cipher) => {
                if tx.send((c.clone(), cipher)).await.is_err() {
                    break; // the writer stopped; its error is reported below
                }
                progress(c.plain_len);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    drop(fetched);
    if failure.is_some() {
        // Stop `btrfs receive` before its input ends rather than let it work through
        // what is still in the pipe. (A cut stream never finishes a subvolume —
        // receive fails with "unexpected EOF in stream" — and restore deletes it.)
        let _ = child.kill();
    }
    drop(tx);
    let written = writer.await.map_err(|e| Error::Invalid(e.to_string()))?;
    let receive_stopped = matches!(written, Err((_, OpenFailure::Write(_))));
    if failure.is_none() && !receive_stopped {
        failure = written.err().map(|(index, e)| match e {
            OpenFailure::NotAsListed => Error::Damaged {
                id: m.id.clone(),
                reason: format!(
                    "{} does not match its hash",
                    format::chunk_name(&m.id, index)
                ),
            },
            OpenFailure::Open(e) => e,
            OpenFailure::Write(_) => unreachable!("handled as receive_stopped"),
        });
    }
    if let Some(e) = failure {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    // All written, or `btrfs receive` stopped reading: its own words say why.
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if (!out.status.success() || receive_stopped) && stderr.contains("No space left on device") {
        return Err(Error::NoSpace {
            id: m.id.clone(),
            into: into.display().to_string(),
            need: m.plain_len(),
        });
    }
    if !out.status.success() || receive_stopped {
        return Err(Error::Invalid(format!(
            "btrfs receive failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Deletes incomplete backups (no manifest); returns their ids.
pub async fn clean(t: &Target) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    let objects = t.list().await?;
    for l in list(t).await?.into_iter().filter(|l| !l.complete) {
        for (name, _) in objects
            .iter()
            .filter(|(n, _)| n.starts_with(&format!("{}/", l.id)))
        {
            t.delete(name).await?;
        }
        removed.push(l.id);
    }
    // Strays inside complete backups (an object no manifest lists).
    for (name, _) in unlisted(t).await? {
        t.delete(&name).await?;
        removed.push(name);
    }
    Ok(removed)
}

/// Objects of the store that no complete backup's manifest lists (with their sizes):
/// the pieces of incomplete backups (interrupted runs) and strays inside complete
/// ones. `verify --all` reports them; `clean` removes them.
pub async fn unlisted(t: &Target) -> Result<Vec<(String, u64)>> {
    let objects = t.list().await?;
    let mut listed = std::collections::HashSet::new();
    for l in list(t).await?.into_iter().filter(|l| l.complete) {
        if let Some(m) = manifest(t, &l.id).await? {
            listed.insert(format::manifest_name(&m.id));
            for c in &m.chunks {
                listed.insert(format::chunk_name(&m.id, c.index));
            }
        }
    }
    Ok(objects
        .into_iter()
        .filter(|(n, _)| !listed.contains(n))
        .collect())
}

/// Applies `policy` to the complete backups of each lineage; `dry_run` only reports.
pub async fn prune(t: &Target, policy: &Policy, now: u64, dry_run: bool) -> Result<Vec<Decision>> {
    let complete: Vec<Listed> = list(t).await?.into_iter().filter(|l| l.complete).collect();
    let mut by_lineage: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for l in &complete {
        by_lineage
            .entry(l.lineage.clone().unwrap_or_default())
            .or_default()
            .push(Item {
                id: l.id.clone(),
                created: l.created.unwrap_or(0),
                order: l.created_ms,
                parent: l.parent.clone(),
            });
    }
    let mut out = Vec::new();
    for items in by_lineage.values() {
        out.extend(retention::plan(items, policy, now));
    }
    if !dry_run {
        let objects = t.list().await?;
        for d in out.iter().filter(|d| !d.keep) {
            // Manifest first: a half-deleted backup is incomplete, never "complete but broken".
            t.delete(&format::manifest_name(&d.id)).await?;
            for (name, _) in objects
                .iter()
                .filter(|(n, _)| n.starts_with(&format!("{}/", d.id)))
            {
                t.delete(name).await?;
            }
        }
    }
    Ok(out)
}
