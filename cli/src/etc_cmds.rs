//! `rast config log | diff | restore`: the history of one /etc file along the tree.
//!
//! The snapshot crate reads versions ([`rast_snapshot::etc_history`]); this module
//! decides what may be shown. A file is *secret* when the index's rules would refuse
//! it in any of its versions (its path, a version that is not world-readable and not
//! in `[index] allow`, a private key block): then `log` shows only where it changed —
//! no hash, no size — and `diff` refuses. Other files are diffed after the index's
//! redaction, so a `password = …` line shows `[REDACTED]`, never its value.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use rast_pkgindex::secrets;
use rast_snapshot::etc_history::{At, Change, EtcPath, LogEntry, Version};
use rast_snapshot::Rast;
use serde_json::json;

use crate::args::{Cli, ConfigCommand};
use crate::config;
use crate::output::{confirm, print_json, when};
use crate::system::open;

pub fn history(cli: &Cli, cmd: &ConfigCommand) -> Result<ExitCode> {
    let r = open(cli)?;
    match cmd {
        ConfigCommand::Log { file } => log(cli, &r, &EtcPath::parse(file)?),
        ConfigCommand::Diff { file, a, b } => {
            diff(cli, &r, &EtcPath::parse(file)?, a.parse()?, b.parse()?)
        }
        ConfigCommand::Restore { file, from, into } => {
            restore(cli, &r, &EtcPath::parse(file)?, *from, *into)
        }
        _ => unreachable!("dispatched here only for log, diff and restore"),
    }
}

/// Whether `f` must never be shown, judged over every version `bytes` holds.
fn is_secret(f: &EtcPath, versions: &[(Version, Option<Vec<u8>>)]) -> bool {
    let allowed = config::load(&config::path())
        .map(|c| c.index.allow.iter().any(|p| p == Path::new(&f.shown())))
        .unwrap_or(false);
    secrets::secret_path(f.rel())
        || versions.iter().any(|(v, bytes)| {
            let unreadable = matches!(v, Version::File { mode, .. } if mode & 0o004 == 0);
            let key = bytes.as_ref().is_some_and(|b| {
                let t = String::from_utf8_lossy(b);
                t.contains("PRIVATE KEY-----") || t.contains("PRIVATE KEY BLOCK-----")
            });
            (unreadable && !allowed) || key
        })
}

fn secret_refusal(f: &EtcPath) -> String {
    format!("{f} holds secrets: rast never shows its content (`rast config log {f}` shows where it changed)")
}

/// Each distinct version of the log with its bytes (read from the first snapshot
/// that holds it).
fn distinct(r: &Rast, f: &EtcPath, log: &[LogEntry]) -> Result<Vec<(Version, Option<Vec<u8>>)>> {
    let mut seen = BTreeMap::new();
    for e in log.iter().filter(|e| !e.version.is_absent()) {
        let key = serde_json::to_string(&e.version)?;
        if let std::collections::btree_map::Entry::Vacant(slot) = seen.entry(key) {
            slot.insert(r.etc_read(f, At::Snapshot(e.snapshot))?);
        }
    }
    Ok(seen.into_values().collect())
}

fn shown_version(v: &Version, secret: bool) -> String {
    match v {
        Version::Absent => "-".into(),
        Version::File { .. } if secret => "(secret)".into(),
        Version::File {
            hash,
            mode,
            uid,
            gid,
            ..
        } => format!("{} {mode:04o} {uid}:{gid}", &hash[..12]),
        Version::Symlink { target } => format!("-> {target}"),
        Version::Other => "(not a file)".into(),
    }
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Added => "added",
        Change::Changed => "changed",
        Change::Removed => "removed",
        Change::Same => "",
        Change::Absent => "",
    }
}

fn log(cli: &Cli, r: &Rast, f: &EtcPath) -> Result<ExitCode> {
    let entries = r.etc_log(f)?;
    let versions = distinct(r, f, &entries)?;
    let secret = is_secret(f, &versions);
    if cli.json {
        let rows: Vec<_> = entries
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap_or_default();
                if secret {
                    if let Some(o) = v["version"].as_object_mut() {
                        o.remove("hash");
                        o.remove("size");
                    }
                }
                v
            })
            .collect();
        print_json(&json!({
            "file": f.shown(),
            "secret": secret,
            "versions": versions.len(),
            "snapshots": rows,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    if versions.is_empty() {
        println!("{f} exists in no snapshot");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{f}: {} version{} in {} snapshots{}",
        versions.len(),
        if versions.len() == 1 { "" } else { "s" },
        entries.len(),
        if secret {
            " (holds secrets: only where it changed is shown)"
        } else {
            ""
        }
    );
    println!(
        "{:<10} {:<23} {:<26} {:<8} description",
        "snapshot", "created", "version (mode owner)", "change"
    );
    for e in &entries {
        let id = format!("{}{}", "  ".repeat(e.depth), e.snapshot);
        println!(
            "{id:<10} {:<23} {:<26} {:<8} {}",
            when(e.created as i64),
            shown_version(&e.version, secret),
            change_word(e.change),
            e.desc
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The text a version is diffed as (symlinks as their target, redacted content).
fn diff_text(v: &Version, bytes: &Option<Vec<u8>>) -> Result<String> {
    Ok(match (v, bytes) {
        (Version::Symlink { target }, _) => format!("symbolic link to {target}\n"),
        (Version::File { .. }, Some(b)) => {
            if b.iter().take(8192).any(|&c| c == 0) {
                bail!("binary file: rast diffs text only");
            }
            secrets::redact(&String::from_utf8_lossy(b))
        }
        (Version::Other, _) => bail!("not a file or a symlink"),
        _ => String::new(),
    })
}

fn diff(cli: &Cli, r: &Rast, f: &EtcPath, a: At, b: At) -> Result<ExitCode> {
    let va = r.etc_read(f, a)?;
    let vb = r.etc_read(f, b)?;
    if va.0.is_absent() && vb.0.is_absent() {
        bail!("neither {a} nor {b} has {f} (`rast config log {f}` shows where it exists)");
    }
    if is_secret(f, &[va.clone(), vb.clone()]) {
        bail!(secret_refusal(f));
    }
    let (ta, tb) = (diff_text(&va.0, &va.1)?, diff_text(&vb.0, &vb.1)?);
    let label = |at: At, v: &Version| {
        if v.is_absent() {
            "/dev/null".to_string()
        } else {
            format!("{f} ({at})")
        }
    };
    let same = va.0 == vb.0;
    let text = similar::TextDiff::from_lines(&ta, &tb)
        .unified_diff()
        .context_radius(3)
        .header(&label(a, &va.0), &label(b, &vb.0))
        .to_string();
    if cli.json {
        print_json(&json!({
            "file": f.shown(),
            "a": a.to_string(),
            "b": b.to_string(),
            "same": same,
            "diff": text,
        }));
    } else if same {
        eprintln!("rast: {f} is the same in {a} and {b}");
    } else {
        if text.is_empty() {
            println!("{f}: {}", why_no_text(&va.0, &vb.0));
        }
        print!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Why two different versions diff to no text: only redacted values differ, or only
/// mode and owner (never a hash: it would say something about secret content).
fn why_no_text(a: &Version, b: &Version) -> String {
    let meta = |v: &Version| match v {
        Version::File { mode, uid, gid, .. } => format!("mode {mode:04o}, owner {uid}:{gid}"),
        _ => String::new(),
    };
    match (a, b) {
        (Version::File { hash: x, .. }, Version::File { hash: y, .. }) if x != y => {
            "only redacted (secret) values differ; they are not shown".into()
        }
        _ => format!("same content; {} → {}", meta(a), meta(b)),
    }
}

fn restore(
    cli: &Cli,
    r: &Rast,
    f: &EtcPath,
    from: rast_snapshot::SnapId,
    into: Option<rast_snapshot::SnapId>,
) -> Result<ExitCode> {
    let into = r.target_or_current(into)?;
    let (v, _) = r.etc_read(f, At::Snapshot(from))?;
    let what = match &v {
        Version::File { mode, uid, gid, .. } => format!("mode {mode:04o}, owner {uid}:{gid}"),
        Version::Symlink { target } => format!("a symlink to {target}"),
        _ => String::new(),
    };
    if !v.is_absent() && !cli.json {
        eprintln!(
            "rast: {f} of snapshot {from} ({what}) goes into snapshot {into} as a transaction"
        );
    }
    if !v.is_absent()
        && !confirm(
            cli,
            &format!("restore {f} from snapshot {from} into snapshot {into}?"),
        )?
    {
        eprintln!("rast: nothing changed");
        return Ok(ExitCode::FAILURE);
    }
    let out = r.etc_restore(f, from, into)?;
    if cli.json {
        print_json(&serde_json::to_value(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    if out.unchanged {
        println!("snapshot {into} already has that version of {f}: nothing to change (no commit)");
    } else {
        println!("snapshot {into}: {f} restored from snapshot {from}");
    }
    if out.redeploy {
        println!("snapshot {into} is deployed: `rast deploy {into}` boots the change");
    } else if out.committed && r.is_live() {
        println!("the running system's /etc is unchanged until snapshot {into} is deployed");
    }
    Ok(ExitCode::SUCCESS)
}
