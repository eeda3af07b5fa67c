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
use rast_backup::engine::{self, CreateParams};
use rast_backup::format::Source;
use rast_backup::retention::Policy;
use rast_backup::store::{Target, TargetOptions};
use rast_snapshot::{btrfs, Part};
use serde_json::json;

use crate::args::{BackupCommand, BackupTarget, Cli};
use crate::commands::{open, print_json};
use crate::config::{self, BackupConfig};

fn target(t: &BackupTarget, cfg: &BackupConfig) -> Result<Target> {
    let url = t
        .url
        .clone()
        .or_else(|| cfg.target.clone())
        .context("no backup target: pass --to URL or set [backup] target in rast.toml")?;
    let o = TargetOptions {
        endpoint: cfg.endpoint.clone(),
        region: cfg.region.clone(),
        allow_http: cfg.allow_http,
        max_retries: cfg.max_retries,
        retry_timeout: None,
    };
    Ok(Target::open(&url, &o)?)
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

pub fn backup(cli: &Cli, cmd: &BackupCommand) -> Result<ExitCode> {
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
        } => {
            let tg = target(t, &cfg)?;
            let recipients = if recipients.is_empty() {
                cfg.recipients.clone()
            } else {
                recipients.clone()
            };
            let r = open(cli)?;
            let n = r.target_or_current(*snapshot)?;
            r.meta()?.get(n)?;
            let dir = r.layout().rast_dir().join("backup");
            std::fs::create_dir_all(&dir)?;
            let job = std::fs::File::create(r.layout().rast_dir().join("backup.lock"))?;
            if job.try_lock().is_err() {
                bail!("another backup job is running (rast/backup.lock); try again when it ends");
            }
            let src = r.layout().part(Part::Rootfs, n);
            let lineage = format!("snapshot-{n}");
            let uuid8: String = btrfs::uuid(&src)?.chars().take(8).collect();
            let listed = rt.block_on(engine::list(&tg))?;
            // Parent: newest complete backup of this lineage whose sent snapshot we kept.
            let full_every = cfg.full_every.unwrap_or(14).max(1);
            let parent = if *full {
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
                Some(p) => rt.block_on(engine::chain(&tg, &p.id))?.len(),
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
                        .block_on(engine::manifest(&tg, &p.id))?
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
                recipients,
                zstd_level: cfg.zstd_level.unwrap_or(3),
                chunk_size: chunk_size
                    .or(cfg.chunk_mib.map(|m| m << 20))
                    .unwrap_or(rast_backup::format::DEFAULT_CHUNK),
                parallel: cfg.parallel.unwrap_or(2),
            };
            let quiet = cli.json;
            let (m, uploaded) = rt.block_on(engine::create(&tg, &params, &|chunks, bytes| {
                if !quiet {
                    eprintln!(
                        "rast: {chunks} chunks, {:.1} MiB sent",
                        bytes as f64 / 1048576.0
                    );
                }
            }))?;
            // Keep only the newest sent snapshot of this lineage as the next parent.
            for e in std::fs::read_dir(&dir)?.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(&format!("{lineage}-")) && name != id {
                    let _g = r.lock(&format!("backup {n}"))?;
                    btrfs::delete(&e.path())?;
                }
            }
            if cli.json {
                print_json(
                    &json!({ "id": m.id, "parent": m.parent.as_ref().map(|p| &p.0), "chunks": m.chunks.len(), "uploaded_chunks": uploaded, "plain_bytes": m.plain_len(), "stored_bytes": m.cipher_len() }),
                );
            } else {
                let kind = if m.parent.is_some() {
                    "incremental"
                } else {
                    "full"
                };
                println!("backup {} ({kind}) complete: {} chunks, {:.1} MiB stream, {:.1} MiB stored ({uploaded} chunks uploaded now)", m.id, m.chunks.len(), m.plain_len() as f64 / 1048576.0, m.cipher_len() as f64 / 1048576.0);
            }
        }
        BackupCommand::List { target: t } => {
            let l = rt.block_on(engine::list(&target(t, &cfg)?))?;
            if cli.json {
                print_json(&json!({ "backups": l }));
            } else {
                for b in &l {
                    let state = if b.complete {
                        "complete"
                    } else {
                        "INCOMPLETE (rast backup clean)"
                    };
                    let parent = b
                        .parent
                        .as_deref()
                        .map(|p| format!(" <- {p}"))
                        .unwrap_or_default();
                    println!(
                        "{}{parent}  {state}  {:.1} MiB stored",
                        b.id,
                        b.stored_bytes as f64 / 1048576.0
                    );
                }
            }
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
            let restored = rt.block_on(engine::restore(&tg, id, into, &ids))?;
            let mut added = None;
            if *as_snapshot {
                added = Some(
                    open(cli)?.adopt_rootfs(&restored, &format!("restored from backup {id}"))?,
                );
            }
            if cli.json {
                print_json(&json!({ "restored": restored, "snapshot": added }));
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
            target: t,
            identity: idf,
        } => {
            let tg = target(t, &cfg)?;
            let ids = if *read_data {
                Some(identity(idf, &cfg)?)
            } else {
                None
            };
            let which: Vec<String> = if *all {
                rt.block_on(engine::list(&tg))?
                    .into_iter()
                    .filter(|l| l.complete)
                    .map(|l| l.id)
                    .collect()
            } else {
                vec![id.clone().expect("clap")]
            };
            let mut ok = true;
            let mut out = Vec::new();
            for w in which {
                let v = rt.block_on(engine::verify(&tg, &w, ids.as_deref()))?;
                ok &= v.ok;
                if !cli.json {
                    println!(
                        "{}: {} ({} chunks{})",
                        v.id,
                        if v.ok { "ok" } else { "DAMAGED" },
                        v.chunks,
                        if v.read_data { ", data read" } else { "" }
                    );
                    for p in &v.problems {
                        println!("  {p}");
                    }
                }
                out.push(v);
            }
            if cli.json {
                print_json(&json!({ "verified": out }));
            }
            return Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
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
