//! Package commands: astOS's (install, remove, upgrade, sync, …), `rast pkg …`,
//! deploy/rollback, and their rendering.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use rast_snapshot::deploy::Bootloader;
use rast_snapshot::pkg::security::Feed;
use rast_snapshot::pkg::sync::SyncMode;
use rast_snapshot::{Rast, SnapId};
use serde_json::json;

use crate::args::{Cli, PkgCommand, Security};
use crate::output::{ask, confirm, exit_of, print_json};
use crate::pkg_report::{exit_code, opts, render, report};
use crate::system::open;

fn bootloader(flag: &Option<String>) -> Result<Option<Bootloader>> {
    Ok(flag.as_deref().map(str::parse).transpose()?)
}

fn feed(r: &Rast, sec: &Security) -> Result<Option<Feed>> {
    if !sec.security {
        return Ok(None);
    }
    Ok(Some(Feed::load(&sec.security_feed, &r.security_cache())?))
}

pub fn install(cli: &Cli, n: SnapId, pkgs: &[String], not_live: bool) -> Result<ExitCode> {
    let o = open(cli)?.install(n, pkgs, opts(cli, not_live))?;
    Ok(report(cli, &[o]))
}

pub fn remove(cli: &Cli, n: SnapId, pkgs: &[String], not_live: bool) -> Result<ExitCode> {
    let o = open(cli)?.remove(n, pkgs, false, false, opts(cli, not_live))?;
    Ok(report(cli, &[o]))
}

pub fn tree_rmpkg(cli: &Cli, n: SnapId, pkgs: &[String]) -> Result<ExitCode> {
    let o = open(cli)?.tree_remove(n, pkgs, opts(cli, false))?;
    Ok(report(cli, &o))
}

pub fn upgrade(cli: &Cli, n: SnapId, sec: &Security) -> Result<ExitCode> {
    let r = open(cli)?;
    let feed = feed(&r, sec)?;
    let o = r.upgrade(n, feed.as_ref(), opts(cli, true))?;
    Ok(report(cli, &[o]))
}

pub fn tree_upgrade(cli: &Cli, n: SnapId) -> Result<ExitCode> {
    Ok(report(cli, &open(cli)?.tree_upgrade(n, opts(cli, true))?))
}

pub fn base_update(cli: &Cli) -> Result<ExitCode> {
    Ok(report(cli, &[open(cli)?.base_update(opts(cli, true))?]))
}

pub fn refresh(cli: &Cli, n: SnapId) -> Result<ExitCode> {
    let o = open(cli)?.refresh(n, opts(cli, true))?;
    if !cli.json && o.committed {
        eprintln!("rast: note: upgrade snapshot {n} (rast upgrade {n}) before installing into it — Arch does not support partial upgrades");
    }
    Ok(report(cli, &[o]))
}

pub fn sync(
    cli: &Cli,
    n: SnapId,
    update: bool,
    reinstall: bool,
    not_live: bool,
) -> Result<ExitCode> {
    let mode = SyncMode { update, reinstall };
    let r = open(cli)?.sync_tree(n, mode, opts(cli, not_live))?;
    if cli.json {
        print_json(&serde_json::to_value(&r)?);
    } else {
        render(&r.upgraded);
        render(&r.synced);
        for id in &r.in_sync {
            eprintln!("rast: snapshot {id}: already in sync");
        }
    }
    Ok(exit_code(&r.outcomes().copied().collect::<Vec<_>>()))
}

pub fn diff(cli: &Cli, a: SnapId, b: SnapId, files: bool) -> Result<ExitCode> {
    let d = open(cli)?.diff(a, b, files)?;
    if cli.json {
        print_json(&serde_json::to_value(&d)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (n, v) in &d.added {
        println!("+ {n} {v}");
    }
    for (n, v) in &d.removed {
        println!("- {n} {v}");
    }
    for (n, old, new) in &d.changed {
        println!("~ {n} {old} -> {new}");
    }
    if let Some(f) = &d.files {
        for p in &f.added {
            println!("A /{}", p.display());
        }
        for p in &f.removed {
            println!("D /{}", p.display());
        }
        for p in &f.modified {
            println!("M /{}", p.display());
        }
    }
    if d.added.is_empty()
        && d.removed.is_empty()
        && d.changed.is_empty()
        && d.files
            .as_ref()
            .is_none_or(|f| f.added.is_empty() && f.removed.is_empty() && f.modified.is_empty())
    {
        eprintln!("rast: snapshots {a} and {b} do not differ");
    }
    Ok(ExitCode::SUCCESS)
}

/// How a rast that pacman did not install got where it runs from.
fn how_installed() -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "rast".into());
    let how = if exe.contains("/.cargo/bin/") {
        "it was installed with `cargo install`: update it the same way"
    } else if exe.contains("/target/") {
        "it runs from a build directory: `git pull && cargo build --release` there"
    } else {
        "it was copied there by hand: replace it the same way"
    };
    format!("{exe}: {how} — or install the Arch package (packaging/arch, docs/packaging.md) so that `rast self-update` can upgrade it")
}

/// `self-update [N]`: rast's package in a new branch of N, then deploy it if asked.
pub fn self_update(cli: &Cli, n: Option<SnapId>) -> Result<ExitCode> {
    use rast_snapshot::pkg::self_update::SelfUpdate;
    let r = open(cli)?;
    let n = r.target_or_current(n)?;
    let out = r.self_update(n, "rast", opts(cli, true))?;
    if cli.json {
        print_json(&serde_json::to_value(&out)?);
    }
    match out {
        SelfUpdate::NotPackaged { snapshot } => {
            if !cli.json {
                eprintln!(
                    "rast: snapshot {snapshot} has no `rast` package, so this rast was not installed by pacman: {}",
                    how_installed()
                );
            }
            Ok(ExitCode::FAILURE)
        }
        SelfUpdate::Newest {
            installed,
            available,
            ..
        } => {
            if !cli.json {
                let have = available
                    .map(|a| format!(" (they have {a})"))
                    .unwrap_or_else(|| " (no repository in them has rast)".into());
                println!(
                    "rast {installed} is the newest the sync databases of snapshot {n} know{have}; `rast refresh {n}` fetches newer ones, `rast -Syu` upgrades everything"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SelfUpdate::Failed { outcome, .. } => Ok(report(cli, &[outcome])),
        SelfUpdate::Updated {
            snapshot: m,
            old,
            new,
            ..
        } => {
            if !cli.json {
                println!("snapshot {m} (a branch of {n}) has rast {new}, was {old}");
            }
            let interactive = std::io::stdin().is_terminal();
            if cli.yes || (interactive && confirm(cli, &format!("deploy snapshot {m} now?"))?) {
                let rep = r.deploy(m, None)?;
                if !cli.json {
                    println!("{}", deploy_text(&rep));
                }
            } else if !cli.json {
                println!("`rast deploy {m}` boots it");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn auto_upgrade(cli: &Cli) -> Result<ExitCode> {
    let rec = open(cli)?.auto_upgrade()?;
    if cli.json {
        print_json(&serde_json::to_value(&rec)?);
    } else {
        println!("auto-upgrade of snapshot {}: {}", rec.snapshot, rec.message);
    }
    Ok(if rec.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub fn check(cli: &Cli) -> Result<ExitCode> {
    let Some(rec) = open(cli)?.last_auto_upgrade()? else {
        bail!("no auto-upgrade has run yet (rast auto-upgrade, or enable its timer)");
    };
    if cli.json {
        print_json(&serde_json::to_value(&rec)?);
    } else {
        let when = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(rec.time),
        );
        println!(
            "last auto-upgrade: snapshot {} at {when}: {}",
            rec.snapshot,
            if rec.ok { "succeeded" } else { "FAILED" }
        );
        if !rec.ok {
            println!("  {}", rec.message);
        }
    }
    Ok(if rec.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn deploy_text(r: &rast_snapshot::deploy::DeployReport) -> String {
    format!(
        "{} was deployed to slot {} (bootloader: {}); it boots next{}",
        r.snapshot,
        r.slot,
        serde_json::to_value(r.bootloader)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        r.previous
            .map(|p| format!(" — `rast rollback` returns to {p}"))
            .unwrap_or_default()
    )
}

pub fn deploy(
    cli: &Cli,
    n: SnapId,
    flag: &Option<String>,
    esp: &Option<std::path::PathBuf>,
) -> Result<ExitCode> {
    let rep = open(cli)?
        .with_esp(esp.clone())
        .deploy(n, bootloader(flag)?)?;
    if cli.json {
        print_json(&serde_json::to_value(&rep)?);
    } else {
        println!("{}", deploy_text(&rep));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn rollback(
    cli: &Cli,
    flag: &Option<String>,
    esp: &Option<std::path::PathBuf>,
) -> Result<ExitCode> {
    let (clone, rep) = open(cli)?
        .with_esp(esp.clone())
        .rollback(bootloader(flag)?)?;
    if cli.json {
        print_json(&json!({ "clone": clone, "deploy": rep }));
    } else {
        println!("snapshot {clone} cloned for the rollback");
        println!("{}", deploy_text(&rep));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn boot_confirm(cli: &Cli) -> Result<ExitCode> {
    let r = open(cli)?.boot_confirm()?;
    if cli.json {
        print_json(&serde_json::to_value(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    let snap = r
        .snapshot
        .map(|s| format!("snapshot {s}"))
        .unwrap_or_else(|| "no snapshot".into());
    if r.confirmed_trial {
        println!("boot confirmed: {snap} (slot {}) boots from now on", r.slot);
    } else {
        println!("booted {snap} (slot {}); nothing to confirm", r.slot);
    }
    if let Some(f) = &r.failed {
        eprintln!(
            "rast: the deployment of snapshot {} (slot {}) failed to boot; it will not be booted again (running {snap}; see `rast status`)",
            f.snapshot, f.slot
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn etc_update(cli: &Cli) -> Result<ExitCode> {
    Ok(report(cli, &[open(cli)?.etc_update()?]))
}

pub fn boot_update(cli: &Cli, n: SnapId, flag: &Option<String>) -> Result<ExitCode> {
    Ok(report(
        cli,
        &[open(cli)?.boot_update(n, bootloader(flag)?)?],
    ))
}

fn human_size(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= 1048576.0 {
        format!("{:.2} MiB", b / 1048576.0)
    } else {
        format!("{:.2} KiB", b / 1024.0)
    }
}

pub fn pkg(cli: &Cli, cmd: &PkgCommand) -> Result<ExitCode> {
    let r = open(cli)?;
    let target = |s: Option<SnapId>| r.target_or_current(s);
    match cmd {
        PkgCommand::Install {
            check_conflicts,
            not_live,
            t,
        } => {
            let (n, pkgs) = t.split(Some(target(t.snap)?)).map_err(|e| anyhow!(e))?;
            if !check_conflicts {
                return install(cli, n, &pkgs, *not_live);
            }
            let p = r.check_conflicts(n, &pkgs)?;
            if cli.json {
                print_json(&serde_json::to_value(&p)?);
            } else {
                for (name, ver, repo) in &p.install {
                    println!("install  {repo}/{name} {ver}");
                }
                for (name, ver) in &p.remove {
                    println!("remove   {name} {ver} (conflict or replacement)");
                }
                for problem in &p.problems {
                    println!("error:   {problem}");
                }
                println!("(nothing was changed)");
            }
            Ok(if p.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        PkgCommand::Update { test, snap, sec } => {
            let n = target(snap.snap)?;
            if !test {
                return upgrade(cli, n, sec);
            }
            let ups = r.update_test(n)?;
            if cli.json {
                print_json(
                    &json!({ "snapshot": n, "upgrades": ups, "download_size": ups.iter().map(|u| u.download_size).sum::<i64>() }),
                );
            } else if ups.is_empty() {
                println!("snapshot {n} is up to date");
            } else {
                for u in &ups {
                    println!("{}/{} {} -> {}", u.repo, u.name, u.old, u.new);
                }
                println!(
                    "total download size: {} (nothing was changed)",
                    human_size(ups.iter().map(|u| u.download_size).sum())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PkgCommand::Clean { unused_deps, snap } => {
            let n = target(snap.snap)?;
            if !unused_deps {
                return Ok(report(cli, &[r.clean_cache(n)?]));
            }
            let mut refused = None;
            let o = r.clean_unused(n, opts(cli, false), &mut |orphans| {
                let q = format!(
                    "Remove unused dependencies from snapshot {n}: {}?",
                    orphans.join(" ")
                );
                ask(cli, &q, &mut refused)
            })?;
            if let Some(e) = refused {
                return Err(e);
            }
            match o {
                Some(o) => Ok(report(cli, &[o])),
                None => {
                    if cli.json {
                        print_json(&json!({ "results": [] }));
                    } else {
                        println!("no unused dependencies in snapshot {n}");
                    }
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        PkgCommand::FixKeys(snap) => {
            let n = target(snap.snap)?;
            let (o, steps) = r.fix_keys(n, opts(cli, true))?;
            if cli.json {
                print_json(&json!({ "result": o, "steps": steps }));
                return Ok(if o.committed {
                    ExitCode::SUCCESS
                } else {
                    exit_of(o.status)
                });
            }
            for s in &steps {
                println!(
                    "{} {}{}",
                    if s.done { "done   " } else { "skipped" },
                    s.step,
                    if s.note.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", s.note)
                    }
                );
            }
            Ok(report(cli, &[o]))
        }
        PkgCommand::Info { snap, packages } => {
            let n = target(snap.snap)?;
            let db = rast_snapshot::pkg::db::PkgDb::open(
                &r.layout().part(rast_snapshot::Part::Rootfs, n),
            )?;
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for p in packages {
                match db
                    .installed_pkg(p)
                    .map(|i| (i, true))
                    .or_else(|| db.sync_pkg(p).map(|i| (i, false)))
                {
                    Some(x) => found.push(x),
                    None => missing.push(p.clone()),
                }
            }
            if cli.json {
                let v: Vec<_> = found
                    .iter()
                    .map(|(i, inst)| json!({ "installed": inst, "package": i }))
                    .collect();
                print_json(&json!({ "snapshot": n, "packages": v, "not_found": missing }));
            } else {
                for (i, inst) in &found {
                    println!("Name            : {}", i.name);
                    println!("Version         : {}", i.version);
                    println!("Description     : {}", i.desc);
                    println!("Repository      : {}", i.repo.as_deref().unwrap_or("local"));
                    println!(
                        "Installed       : {}",
                        if *inst {
                            if i.explicit {
                                "yes (explicitly)"
                            } else {
                                "yes (as a dependency)"
                            }
                        } else {
                            "no"
                        }
                    );
                    println!(
                        "Depends On      : {}",
                        if i.depends.is_empty() {
                            "None".into()
                        } else {
                            i.depends.join("  ")
                        }
                    );
                    println!(
                        "Provides        : {}",
                        if i.provides.is_empty() {
                            "None".into()
                        } else {
                            i.provides.join("  ")
                        }
                    );
                    println!("Installed Size  : {}", human_size(i.installed_size));
                    println!();
                }
                for m in &missing {
                    eprintln!("error: package '{m}' was not found");
                }
            }
            Ok(if missing.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        PkgCommand::Search { snap, terms } => {
            let n = target(snap.snap)?;
            let hits = r.search_repos(n, terms)?;
            if cli.json {
                print_json(&json!({ "snapshot": n, "results": hits }));
            } else {
                for h in &hits {
                    println!(
                        "{}/{} {}{}",
                        h.repo,
                        h.name,
                        h.version,
                        if h.installed { " [installed]" } else { "" }
                    );
                    println!("    {}", h.desc);
                }
            }
            Ok(if hits.is_empty() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
