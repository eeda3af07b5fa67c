//! `rast backup …`: glue between the snapshot tree and the backup pipeline.
//!
//! A backup of snapshot N sends a read-only snapshot of it kept under
//! `.snapshots/rast/backup/<id>` (the send source must not change, and the newest one
//! of each snapshot stays as the parent of the next incremental — the parent a
//! receiver has by received UUID). Backup ids are `snapshot-N-<uuid8>-full|inc`, so
//! running `create` again for an unchanged snapshot is a no-op and an interrupted one
//! resumes. Only one backup job runs at a time (`rast/backup.lock`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use indicatif::HumanBytes;
use rast_backup::engine::{self, CreateParams};
use rast_backup::format::Source;
use rast_backup::retention::Policy;
use rast_backup::schedule::Schedule;
use rast_backup::store::Target;
use rast_backup::verify::Reading;
use rast_snapshot::{btrfs, Part, SnapId};
use serde_json::json;

use crate::args::{BackupCommand, BackupTarget, Cli};

mod checks;
use crate::config::{self, BackupConfig};
use crate::output::{print_json, when};
use crate::progress::Meter;
use crate::system::{last_run_path, open};

fn target(t: &BackupTarget, cfg: &BackupConfig) -> Result<Target> {
    let url = t
        .url
        .clone()
        .or_else(|| cfg.target.clone())
        .context("no backup target: pass --to URL or set [backup] target in rast.toml")?;
    Ok(Target::open(&url, &cfg.target_options()?)?)
}

fn identity(flag: &Option<PathBuf>, cfg: &BackupConfig) -> Result<Vec<age::x25519::Identity>> {
    let p = flag
        .clone()
        .or_else(|| cfg.identity.clone())
        .context("no identity: pass --identity FILE or set [backup] identity")?;
    Ok(rast_backup::keys::identities(&p)?)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// After the store failed beyond the retry budget: what happens next.
fn hint_after_store_error(e: &anyhow::Error, next: &str) {
    if matches!(
        e.downcast_ref::<rast_backup::Error>(),
        Some(rast_backup::Error::Store(_))
    ) {
        eprintln!("rast: the target kept failing after the configured retries ([backup] max_retries, retry_timeout); {next}");
    }
}

/// What `create` does beyond the snapshot number.
struct CreateOpts {
    recipients: Vec<String>,
    full: bool,
    chunk_size: Option<usize>,
    /// MiB/s.
    bwlimit: Option<f64>,
}

/// The result of one `create`, as `--json` prints it.
#[derive(serde::Serialize)]
struct Created {
    id: String,
    snapshot: u64,
    parent: Option<String>,
    chunks: usize,
    uploaded_chunks: u32,
    plain_bytes: u64,
    stored_bytes: u64,
    seconds: f64,
    bytes_per_sec: f64,
}

fn print_created(c: &Created) {
    let kind = if c.parent.is_some() {
        "incremental"
    } else {
        "full"
    };
    println!(
        "backup {} ({kind}) complete: {} chunks, {} stream, {} stored ({} chunks uploaded now, {}/s)",
        c.id,
        c.chunks,
        HumanBytes(c.plain_bytes),
        HumanBytes(c.stored_bytes),
        c.uploaded_chunks,
        HumanBytes(c.bytes_per_sec as u64)
    );
}

/// Only one backup job at a time (`rast/backup.lock`, held until dropped).
struct JobLock(#[allow(dead_code)] std::fs::File);

impl JobLock {
    fn take(cli: &Cli) -> Result<JobLock> {
        let r = open(cli)?;
        let dir = r.layout().rast_dir();
        std::fs::create_dir_all(&dir)?;
        let f = std::fs::File::create(dir.join("backup.lock"))?;
        if f.try_lock().is_err() {
            bail!("another backup job is running (rast/backup.lock); try again when it ends");
        }
        Ok(JobLock(f))
    }
}

/// Backs up snapshot `n`: picks the parent, keeps a read-only send snapshot, uploads.
fn create_one(
    cli: &Cli,
    cfg: &BackupConfig,
    rt: &tokio::runtime::Runtime,
    tg: &Target,
    _job: &JobLock,
    n: SnapId,
    o: &CreateOpts,
) -> Result<Created> {
    let r = open(cli)?;
    r.meta()?.get(n)?;
    let dir = r.layout().rast_dir().join("backup");
    std::fs::create_dir_all(&dir)?;
    let src = r.layout().part(Part::Rootfs, n);
    let lineage = format!("snapshot-{n}");
    let uuid8: String = btrfs::uuid(&src)?.chars().take(8).collect();
    let listed = rt.block_on(engine::list(tg))?;
    // Parent: newest complete backup of this lineage whose sent snapshot we kept.
    let full_every = cfg.full_every.unwrap_or(14).max(1);
    let parent = if o.full {
        None
    } else {
        listed
            .iter()
            .rev()
            .filter(|l| l.complete && l.lineage.as_deref() == Some(&lineage))
            .find(|l| dir.join(&l.id).is_dir())
            .cloned()
    };
    let chain_len = match &parent {
        Some(p) => rt.block_on(engine::chain(tg, &p.id))?.len(),
        None => 0,
    };
    let parent = parent.filter(|_| chain_len < full_every);
    let id = format!(
        "{lineage}-{uuid8}-{}",
        if parent.is_some() { "inc" } else { "full" }
    );
    let send = dir.join(&id);
    if !send.exists() {
        let _g = r.lock(&format!("backup {n}"))?;
        btrfs::snapshot(&src, &send, true)?;
    }
    let parent_args = match &parent {
        Some(p) => {
            let m = rt
                .block_on(engine::manifest(tg, &p.id))?
                .context("parent manifest vanished")?;
            Some((p.id.clone(), m.source.uuid, dir.join(&p.id)))
        }
        None => None,
    };
    let params = CreateParams {
        id: id.clone(),
        source: Source {
            lineage: lineage.clone(),
            subvolume: id.clone(),
            uuid: btrfs::uuid(&send)?,
        },
        send_path: send.clone(),
        parent: parent_args,
        recipients: o.recipients.clone(),
        zstd_level: cfg.zstd_level.unwrap_or(3),
        chunk_size: o
            .chunk_size
            .or(cfg.chunk_mib.map(|m| m.saturating_mul(1 << 20)))
            .unwrap_or(rast_backup::format::DEFAULT_CHUNK),
        parallel: cfg.parallel.unwrap_or(2),
        bwlimit: o
            .bwlimit
            .filter(|m| *m > 0.0)
            .map(|m| (m * 1048576.0) as u64),
    };
    let meter = std::sync::Mutex::new(Meter::new(cli.json, "backup", None));
    let result = rt.block_on(engine::create(tg, &params, &|chunks, bytes| {
        if let Ok(mut m) = meter.lock() {
            m.set(bytes, chunks);
        }
    }));
    let meter = meter.into_inner().unwrap_or_else(|e| e.into_inner());
    meter.finish();
    let (m, uploaded) = result?;
    // Keep only the newest sent snapshot of this lineage as the next parent.
    for e in std::fs::read_dir(&dir)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!("{lineage}-")) && name != id {
            let _g = r.lock(&format!("backup {n}"))?;
            btrfs::delete(&e.path())?;
        }
    }
    let seconds = meter.started.elapsed().as_secs_f64();
    Ok(Created {
        parent: m.parent.as_ref().map(|p| p.0.clone()),
        chunks: m.chunks.len(),
        uploaded_chunks: uploaded,
        plain_bytes: m.plain_len(),
        stored_bytes: m.cipher_len(),
        bytes_per_sec: meter.rate(m.plain_len()),
        seconds,
        snapshot: n.0,
        id: m.id,
    })
}

/// The newest complete backup of snapshot `n` at `url` (or the configured target).
pub fn newest_backup_of(url: Option<&str>, n: &str) -> Result<String> {
    let cfg = config::load(&config::path())?.backup;
    let tg = target(
        &BackupTarget {
            url: url.map(str::to_string),
        },
        &cfg,
    )?;
    let lineage = format!("snapshot-{n}");
    runtime()?
        .block_on(engine::list(&tg))?
        .into_iter()
        .rev()
        .find(|l| l.complete && l.lineage.as_deref() == Some(lineage.as_str()))
        .map(|l| l.id)
        .with_context(|| format!("no complete backup of snapshot {n} at {}", tg.url))
}

/// `[backup] snapshots` (default: the current one), as written.
fn job_snapshots(cfg: &BackupConfig) -> Vec<String> {
    if cfg.snapshots.is_empty() {
        vec!["current".into()]
    } else {
        cfg.snapshots.clone()
    }
}

/// The record of the last `rast backup run` (`rast/backup-last-run.json`).
#[derive(serde::Serialize, serde::Deserialize, Debug)]
struct LastRun {
    started: i64,
    finished: i64,
    ok: bool,
    created: Vec<String>,
    pruned: Vec<String>,
    error: Option<String>,
}

fn last_run(cli: &Cli) -> Result<Option<LastRun>> {
    match std::fs::read(last_run_path(cli)?) {
        Ok(b) => Ok(serde_json::from_slice(&b).ok()),
        Err(_) => Ok(None),
    }
}

fn unix_now() -> i64 {
    rast_snapshot::clock::now() as i64
}

/// `rast backup run`: the configured job — each configured snapshot backed up, then
/// the target pruned with the configured policy. Records its outcome for `schedule`.
fn run_job(
    cli: &Cli,
    cfg: &BackupConfig,
    rt: &tokio::runtime::Runtime,
    dry_run: bool,
) -> Result<ExitCode> {
    let tg = target(&BackupTarget { url: None }, cfg)?;
    if cfg.recipients.is_empty() {
        bail!("[backup] recipients is empty: the job needs at least one age recipient");
    }
    let policy = Policy::parse(
        cfg.preserve_min.as_deref().unwrap_or("latest"),
        cfg.preserve.as_deref().unwrap_or(""),
    )?;
    let r = open(cli)?;
    let mut ns = Vec::new();
    for s in job_snapshots(cfg) {
        let n = match s.as_str() {
            "current" => r.current()?.context("no current snapshot")?,
            "deployed" => r.deployed()?.context("no deployed snapshot")?,
            other => other.parse::<SnapId>().with_context(|| {
                format!(
                    "[backup] snapshots: {other:?} is not a number, \"current\" or \"deployed\""
                )
            })?,
        };
        if !ns.contains(&n) {
            ns.push(n);
        }
    }
    if dry_run {
        let d = rt.block_on(engine::prune(&tg, &policy, unix_now() as u64, true))?;
        if cli.json {
            print_json(&json!({ "dry_run": true, "snapshots": ns, "prune": d }));
        } else {
            println!("would back up snapshot(s) {ns:?} to {}", tg.url);
            for x in &d {
                println!(
                    "{} {}  ({})",
                    if x.keep {
                        "keep        "
                    } else {
                        "would delete"
                    },
                    x.id,
                    x.reason
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let job = JobLock::take(cli)?;
    let started = unix_now();
    let opts = CreateOpts {
        recipients: cfg.recipients.clone(),
        full: false,
        chunk_size: None,
        bwlimit: cfg.bwlimit_mib,
    };
    let mut created = Vec::new();
    let mut outcome: Result<Vec<String>> = Ok(Vec::new());
    for &n in &ns {
        match create_one(cli, cfg, rt, &tg, &job, n, &opts) {
            Ok(c) => {
                if !cli.json {
                    print_created(&c);
                }
                created.push(c);
            }
            Err(e) => {
                outcome = Err(e.context(format!("backing up snapshot {n}")));
                break;
            }
        }
    }
    if outcome.is_ok() {
        outcome = rt
            .block_on(engine::prune(&tg, &policy, unix_now() as u64, false))
            .map(|d| d.into_iter().filter(|x| !x.keep).map(|x| x.id).collect())
            .map_err(Into::into);
    }
    let rec = LastRun {
        started,
        finished: unix_now(),
        ok: outcome.is_ok(),
        created: created.iter().map(|c| c.id.clone()).collect(),
        pruned: outcome.as_ref().cloned().unwrap_or_default(),
        error: outcome.as_ref().err().map(|e| format!("{e:#}")),
    };
    rast_snapshot::atomic::write_atomic(&last_run_path(cli)?, &serde_json::to_vec_pretty(&rec)?)?;
    let pruned = outcome?;
    if cli.json {
        print_json(&json!({ "created": created, "pruned": pruned }));
    } else {
        for p in &pruned {
            println!("pruned {p}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Backups pass many chunk-sized buffers between threads. glibc's dynamic mmap
/// threshold would move such buffers onto the heaps after the first is freed, where
/// they fragment per thread and RSS grows with the backup's size (measured: 162 MiB
/// at 512 MiB, 240 MiB at 2 GiB). A fixed 1 MiB threshold keeps every large buffer
/// in its own mapping, returned to the kernel when freed: RSS stays flat (127 MiB at
/// 256 MiB, 129 MiB at 1 GiB).
fn keep_large_buffers_mapped() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes allocator tuning; called before the backup's threads
    // start allocating.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

pub fn backup(cli: &Cli, cmd: &BackupCommand) -> Result<ExitCode> {
    keep_large_buffers_mapped();
    let cfg = config::load(&config::path())?.backup;
    let rt = runtime()?;
    match cmd {
        BackupCommand::Keygen { output } => {
            if let Some(d) = output.parent() {
                std::fs::create_dir_all(d).ok();
            }
            let r = rast_backup::keys::keygen(output)?;
            if cli.json {
                print_json(&json!({ "identity": output, "recipient": r }));
            } else {
                eprintln!(
                    "rast: identity written to {} (keep it safe and off this machine too)",
                    output.display()
                );
                println!("{r}");
            }
        }
        BackupCommand::Create {
            snapshot,
            target: t,
            recipients,
            full,
            chunk_size,
            bwlimit,
        } => {
            let tg = target(t, &cfg)?;
            let job = JobLock::take(cli)?;
            let opts = CreateOpts {
                recipients: if recipients.is_empty() {
                    cfg.recipients.clone()
                } else {
                    recipients.clone()
                },
                full: *full,
                chunk_size: *chunk_size,
                bwlimit: bwlimit.or(cfg.bwlimit_mib),
            };
            let r = open(cli)?;
            let n = r.target_or_current(*snapshot)?;
            let done = create_one(cli, &cfg, &rt, &tg, &job, n, &opts)
                .inspect_err(|e| hint_after_store_error(e, "the chunks uploaded so far are recorded: the same `rast backup create` resumes"))?;
            if cli.json {
                print_json(&serde_json::to_value(&done)?);
            } else {
                print_created(&done);
            }
        }
        BackupCommand::Run { dry_run } => return run_job(cli, &cfg, &rt, *dry_run),
        BackupCommand::Schedule => {
            let sc = cfg
                .schedule
                .clone()
                .context("no [backup.schedule] in rast.toml (every = \"6h\" or at = \"03:30\")")?;
            let sched = Schedule::parse(&sc)?;
            let last = last_run(cli)?;
            let now = unix_now();
            let next = sched.preview(now, last.as_ref().map(|l| l.finished), 5);
            let snaps = job_snapshots(&cfg);
            if cli.json {
                print_json(&json!({
                    "schedule": sched.to_string(),
                    "target": cfg.target,
                    "snapshots": snaps,
                    "last_run": last,
                    "next_runs": next,
                }));
            } else {
                println!(
                    "job: back up {} to {}, then prune",
                    snaps.join(", "),
                    cfg.target.as_deref().unwrap_or("(no [backup] target!)")
                );
                match &last {
                    Some(l) => println!(
                        "last run: {} ({})",
                        when(l.finished),
                        if l.ok { "ok" } else { "FAILED" }
                    ),
                    None => println!("last run: never"),
                }
                println!("next runs ({sched}):");
                for t in next {
                    println!("  {}", when(t));
                }
            }
        }
        BackupCommand::List { target: t } => {
            checks::list(cli, &rt, &target(t, &cfg)?)?;
        }
        BackupCommand::Restore {
            id,
            into,
            target: t,
            identity: idf,
            as_snapshot,
        } => {
            let ids = identity(idf, &cfg)?;
            let tg = target(t, &cfg)?;
            std::fs::create_dir_all(into)?;
            let total: u64 = rt
                .block_on(engine::chain(&tg, id))?
                .iter()
                .map(|m| m.plain_len())
                .sum();
            let mut meter = Meter::new(cli.json, "restore", Some(total));
            let (mut bytes, mut chunks) = (0u64, 0u32);
            let result = rt.block_on(engine::restore(&tg, id, into, &ids, &mut |n| {
                bytes += n;
                chunks += 1;
                meter.set(bytes, chunks);
            }));
            meter.finish();
            let restored = result.map_err(anyhow::Error::from).inspect_err(|e| {
                hint_after_store_error(
                    e,
                    "nothing half-received is kept: run the same `rast backup restore` again",
                )
            })?;
            let mut added = None;
            if *as_snapshot {
                added = Some(
                    open(cli)?.adopt_rootfs(&restored, &format!("restored from backup {id}"))?,
                );
            }
            if cli.json {
                print_json(&json!({
                    "restored": restored,
                    "snapshot": added,
                    "plain_bytes": total,
                    "seconds": meter.started.elapsed().as_secs_f64(),
                    "bytes_per_sec": meter.rate(total),
                }));
            } else {
                println!("restored {} into {}", id, restored.display());
                if let Some(n) = added {
                    println!("added to the tree as snapshot {n}");
                }
            }
        }
        BackupCommand::Verify {
            id,
            all,
            read_data,
            read_data_subset,
            target: t,
            identity: idf,
        } => {
            let tg = target(t, &cfg)?;
            let reading = match read_data_subset {
                Some(s) => Reading::parse_subset(s)?,
                None => Reading::All,
            };
            let ids = if *read_data || read_data_subset.is_some() {
                Some(identity(idf, &cfg)?)
            } else {
                None
            };
            let ask = checks::Ask {
                id: id.as_deref(),
                all: *all,
                identities: ids.as_deref(),
                reading,
            };
            return checks::verify(cli, &rt, &tg, &ask);
        }
        BackupCommand::Prune {
            dry_run,
            preserve_min,
            preserve,
            target: t,
        } => {
            let pm = preserve_min
                .clone()
                .or(cfg.preserve_min.clone())
                .unwrap_or_else(|| "latest".into());
            let pr = preserve
                .clone()
                .or(cfg.preserve.clone())
                .unwrap_or_default();
            let policy = Policy::parse(&pm, &pr)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            let d = rt.block_on(engine::prune(&target(t, &cfg)?, &policy, now, *dry_run))?;
            if cli.json {
                print_json(&json!({ "dry_run": dry_run, "decisions": d }));
            } else {
                for x in &d {
                    println!(
                        "{} {}  ({})",
                        if x.keep {
                            "keep  "
                        } else if *dry_run {
                            "would delete"
                        } else {
                            "delete"
                        },
                        x.id,
                        x.reason
                    );
                }
            }
        }
        BackupCommand::Clean { target: t } => {
            let removed = rt.block_on(engine::clean(&target(t, &cfg)?))?;
            if cli.json {
                print_json(&json!({ "removed": removed }));
            } else if removed.is_empty() {
                println!("no incomplete backups");
            } else {
                for r in &removed {
                    println!("removed incomplete backup {r}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
