//! `rast backup verify` and `rast backup list`: what a restore would find, and what
//! the last verify found.
//!
//! Every verify records its findings per target and backup in
//! `rast/backup-verify.json` (written atomically; a newer finding replaces an older
//! one). `list` marks a backup whose chain is broken — a parent missing or incomplete
//! (seen in the listing itself), or a backup of its chain that the last verify found
//! damaged — and says which link. A record that cannot be written costs a warning,
//! never the verify's answer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::ExitCode;

use anyhow::Result;
use indicatif::HumanBytes;
use rast_backup::engine;
use rast_backup::store::Target;
use rast_backup::verify::{self as check, ChainVerified, Reading, Verified};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::args::Cli;
use crate::output::{print_json, when};
use crate::system::verify_record_path;

/// What `verify` was asked.
pub struct Ask<'a> {
    pub id: Option<&'a str>,
    pub all: bool,
    pub identities: Option<&'a [age::x25519::Identity]>,
    pub reading: Reading,
}

/// One backup as the last verify found it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Seen {
    pub ok: bool,
    pub at: i64,
    pub read_data: bool,
    pub chunks_read: usize,
    pub chunks: usize,
    #[serde(default)]
    pub problems: Vec<String>,
}

/// target URL → backup id → finding.
type Record = BTreeMap<String, BTreeMap<String, Seen>>;

fn load_record(cli: &Cli) -> Record {
    verify_record_path(cli)
        .ok()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_findings(cli: &Cli, url: &str, found: &[&Verified]) {
    let mut rec = load_record(cli);
    let now = rast_snapshot::clock::now() as i64;
    let per = rec.entry(url.to_string()).or_default();
    // A wrong identity says nothing about the backup's state: not recorded.
    for v in found.iter().filter(|v| !v.wrong_key) {
        per.insert(
            v.id.clone(),
            Seen {
                ok: v.ok,
                at: now,
                read_data: v.read_data,
                chunks_read: v.read,
                chunks: v.chunks,
                problems: v.problems.clone(),
            },
        );
    }
    let written = verify_record_path(cli).and_then(|p| {
        rast_snapshot::atomic::write_atomic(&p, &serde_json::to_vec_pretty(&rec)?)?;
        Ok(())
    });
    if let Err(e) = written {
        eprintln!("rast: warning: could not record what verify found: {e:#}");
    }
}

/// `rast backup verify`.
pub fn verify(cli: &Cli, rt: &tokio::runtime::Runtime, tg: &Target, ask: &Ask) -> Result<ExitCode> {
    let which: Vec<String> = if ask.all {
        rt.block_on(engine::list(tg))?
            .into_iter()
            .filter(|l| l.complete)
            .map(|l| l.id)
            .collect()
    } else {
        vec![ask.id.expect("clap: ID unless --all").to_string()]
    };
    // Each backup is verified once; each named one with its whole chain, so "ok"
    // means a restore would find everything it needs.
    let mut cache = HashMap::new();
    let mut out: Vec<ChainVerified> = Vec::new();
    for w in which {
        out.push(rt.block_on(check::verify_chain(
            tg,
            &w,
            ask.identities,
            ask.reading,
            &mut cache,
        ))?);
    }
    let ok = out.iter().all(|c| c.restorable);
    // The whole store: objects no complete backup lists.
    let unlisted = if ask.all {
        rt.block_on(engine::unlisted(tg))?
    } else {
        Vec::new()
    };
    let mut seen = BTreeSet::new();
    let verified: Vec<&Verified> = out
        .iter()
        .flat_map(|c| &c.links)
        .filter(|v| seen.insert(v.id.clone()))
        .collect();
    save_findings(cli, &tg.url, &verified);
    if cli.json {
        // `verified`: every backup checked once; `chains`: per backup asked for.
        let unlisted: Vec<_> = unlisted
            .iter()
            .map(|(n, b)| json!({ "name": n, "bytes": b }))
            .collect();
        print_json(&json!({ "verified": verified, "chains": out, "unlisted": unlisted }));
    } else {
        print_verified(&out, &unlisted);
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_verified(out: &[ChainVerified], unlisted: &[(String, u64)]) {
    let mut printed = BTreeSet::new();
    for c in out {
        for v in &c.links {
            if !printed.insert(v.id.clone()) {
                continue;
            }
            let read = if v.read == v.chunks {
                String::new()
            } else {
                format!(", {} read, the rest listed", v.read)
            };
            println!(
                "{}: {} ({} chunks{read}{})",
                v.id,
                if v.ok {
                    "ok"
                } else if v.wrong_key {
                    "NOT READABLE with this identity"
                } else {
                    "DAMAGED"
                },
                v.chunks,
                if v.read_data { ", data read" } else { "" }
            );
            for p in &v.problems {
                println!("  {p}");
            }
        }
        if let Some(r) = &c.reason {
            println!("{r}");
        }
    }
    if !unlisted.is_empty() {
        let bytes: u64 = unlisted.iter().map(|(_, b)| b).sum();
        println!(
            "{} objects ({}) belong to no complete backup (interrupted runs or strays): `rast backup clean` removes them",
            unlisted.len(),
            HumanBytes(bytes)
        );
        for (n, _) in unlisted.iter().take(10) {
            println!("  {n}");
        }
    }
}

/// `rast backup list`.
pub fn list(cli: &Cli, rt: &tokio::runtime::Runtime, tg: &Target) -> Result<()> {
    let l = rt.block_on(engine::list(tg))?;
    let rec = load_record(cli);
    let mine = rec.get(&tg.url);
    let damaged: BTreeMap<String, String> = mine
        .into_iter()
        .flatten()
        .filter(|(_, s)| !s.ok)
        .map(|(id, s)| (id.clone(), format!("verify, {}", when(s.at))))
        .collect();
    let broken = check::broken_chains(&l, &damaged);
    if cli.json {
        let rows: Vec<_> = l
            .iter()
            .map(|b| {
                let mut v = serde_json::to_value(b).unwrap_or_default();
                v["broken"] = json!(broken.get(&b.id));
                v["last_verify"] = json!(mine.and_then(|m| m.get(&b.id)));
                v
            })
            .collect();
        print_json(&json!({ "backups": rows }));
        return Ok(());
    }
    for b in &l {
        let state = if !b.complete {
            "INCOMPLETE (rast backup clean)".to_string()
        } else if let Some(why) = broken.get(&b.id) {
            format!("BROKEN: {why}")
        } else {
            "complete".to_string()
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
    Ok(())
}
