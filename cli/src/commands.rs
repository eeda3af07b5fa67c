//! The dispatcher: one arm per command — the snapshot tree's own commands here, the
//! others handed to their command group (pkg_cmds, backup_cmds, index_cmds,
//! agent_cmds). Layers (docs/architecture.md): lib.rs and nl_cmds above this file;
//! the command groups below it, never importing it or each other; output, system,
//! agent_client and pkg_report at the bottom.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use rast_snapshot::deploy::Bootloader;
use rast_snapshot::init::{InitOptions, DEFAULT_PACKAGES};
use rast_snapshot::{RunOutcome, SnapId};
use serde_json::json;

use crate::args::{Cli, Command, ConfigCommand};
use crate::output::{ask, exit_of, print_json, usage};
use crate::system::open;
use crate::{agent_cmds, backup_cmds, etc_cmds, index_cmds, pkg_cmds, render};

fn report_run(cli: &Cli, outcomes: &[RunOutcome]) -> ExitCode {
    if cli.json {
        let v: Vec<_> = outcomes
            .iter()
            .map(|o| json!({"snapshot": o.snapshot, "exit_code": o.status.code(), "committed": o.committed, "unchanged": o.unchanged}))
            .collect();
        print_json(&json!({ "results": v }));
    } else {
        for o in outcomes {
            if o.committed {
                eprintln!("rast: snapshot {} committed", o.snapshot);
            } else if o.unchanged {
                eprintln!(
                    "rast: snapshot {}: the command changed no file; nothing committed",
                    o.snapshot
                );
            } else {
                eprintln!(
                    "rast: command failed ({}); snapshot {} left unchanged",
                    o.status, o.snapshot
                );
            }
        }
    }
    outcomes
        .iter()
        .find(|o| !o.status.success())
        .map(|o| exit_of(o.status))
        .unwrap_or(ExitCode::SUCCESS)
}

fn created(cli: &Cli, id: SnapId, text: String) {
    if cli.json {
        print_json(&json!({ "created": id }));
    } else {
        println!("{text}");
    }
}

pub fn dispatch(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Init {
            pacman_conf,
            gpgdir,
            partition,
            disk,
            esp,
            bootloader,
            packages,
        } => {
            let packages = if packages.is_empty() {
                DEFAULT_PACKAGES.iter().map(|s| s.to_string()).collect()
            } else {
                packages.clone()
            };
            let bootloader = match bootloader {
                Some(b) => b.parse()?,
                None if esp.is_some() => Bootloader::SystemdBoot,
                None if disk.is_some() => Bootloader::Grub,
                None => Bootloader::None,
            };
            let opts = InitOptions {
                pacman_conf: pacman_conf.clone(),
                packages,
                gpgdir: gpgdir.clone(),
                bootloader,
            };
            let report = match (partition, disk) {
                (Some(partition), Some(disk)) => {
                    rast_snapshot::install::install(&rast_snapshot::install::InstallOptions {
                        partition: partition.clone(),
                        disk: disk.clone(),
                        esp: esp.clone(),
                        init: opts,
                    })?
                }
                _ => rast_snapshot::init::init(&cli.root, &opts)?,
            };
            if cli.json {
                print_json(&serde_json::to_value(&report)?);
            } else {
                println!(
                    "initialised {}: snapshot 0 (base snapshot) with {} and deployed to slot {} (bootloader {})",
                    report.root.display(),
                    report.packages.join(" "),
                    report.deployed_slot,
                    bootloader.as_str()
                );
            }
        }
        Command::Tree => {
            let r = open(cli)?;
            let meta = r.meta()?;
            let current = r.current()?;
            if cli.json {
                print_json(&render::tree_json(&meta, current, r.deployed()?));
            } else {
                print!("{}", render::tree_text(&meta, current));
                for f in &meta.failed_boots {
                    println!(
                        "snapshot {}: its deployment (slot {}) failed to boot; running {}",
                        f.snapshot,
                        f.slot,
                        f.running
                            .map(|r| format!("snapshot {r}"))
                            .unwrap_or_else(|| "the previous deployment".into())
                    );
                }
            }
        }
        // Plain words are routed above the dispatcher (lib.rs → nl_cmds), which runs
        // their plans back through it; they never come down here.
        Command::Plan { .. } | Command::Request(_) => {
            bail!("a plain-words request reached the command dispatcher")
        }
        Command::Completions { shell } => return crate::manual_cmds::completions(*shell),
        Command::Manpages { dir } => return crate::manual_cmds::manpages(dir),
        Command::Current => {
            let r = open(cli)?;
            let current = r.current()?;
            if cli.json {
                print_json(&json!({ "current": current }));
            } else {
                match current {
                    Some(c) => println!("{c}"),
                    None => bail!(
                        "no snapshot is deployed on {}, so none is current",
                        cli.root.display()
                    ),
                }
            }
        }
        Command::Status => status(cli)?,
        Command::Install { not_live, t } => {
            let (n, pkgs) = t.split(None).map_err(|e| anyhow::anyhow!(e))?;
            return pkg_cmds::install(cli, n, &pkgs, *not_live);
        }
        Command::Remove { not_live, t } => {
            let (n, pkgs) = t.split(None).map_err(|e| anyhow::anyhow!(e))?;
            return pkg_cmds::remove(cli, n, &pkgs, *not_live);
        }
        Command::TreeRmpkg(t) => {
            let (n, pkgs) = t.split(None).map_err(|e| anyhow::anyhow!(e))?;
            return pkg_cmds::tree_rmpkg(cli, n, &pkgs);
        }
        Command::Upgrade { snap, sec } => return pkg_cmds::upgrade(cli, snap.get(), sec),
        Command::TreeUpgrade(s) => return pkg_cmds::tree_upgrade(cli, s.get()),
        Command::BaseUpdate => return pkg_cmds::base_update(cli),
        Command::Refresh(s) => return pkg_cmds::refresh(cli, s.get()),
        Command::Sync {
            not_live,
            reinstall,
            snap,
        } => return pkg_cmds::sync(cli, snap.get(), true, *reinstall, *not_live),
        Command::ForceSync {
            not_live,
            reinstall,
            snap,
        } => return pkg_cmds::sync(cli, snap.get(), false, *reinstall, *not_live),
        Command::Diff { from, to, files } => return pkg_cmds::diff(cli, *from, *to, *files),
        Command::AutoUpgrade => return pkg_cmds::auto_upgrade(cli),
        Command::Check => return pkg_cmds::check(cli),
        Command::Deploy {
            snap,
            bootloader,
            esp,
        } => return pkg_cmds::deploy(cli, snap.get(), bootloader, esp),
        Command::SelfUpdate { snap } => return pkg_cmds::self_update(cli, *snap),
        Command::Rollback { bootloader, esp } => return pkg_cmds::rollback(cli, bootloader, esp),
        Command::BootConfirm => return pkg_cmds::boot_confirm(cli),
        Command::EtcUpdate => return pkg_cmds::etc_update(cli),
        Command::BootUpdate { snap, bootloader } => {
            return pkg_cmds::boot_update(cli, snap.get(), bootloader)
        }
        Command::Pkg(cmd) => return pkg_cmds::pkg(cli, cmd),
        Command::Index(cmd) => return index_cmds::index(cli, cmd),
        Command::Backup(cmd) => return backup_cmds::backup(cli, cmd),
        Command::Agent(cmd) => return agent_cmds::agent(cli, cmd),
        Command::Search(a) => return index_cmds::search(cli, a, None),
        Command::Config(crate::args::ConfigCommand::Check { file, online }) => {
            return crate::config_check::check(cli, file.as_deref(), *online)
        }
        Command::Config(
            c @ (ConfigCommand::Log { .. }
            | ConfigCommand::Diff { .. }
            | ConfigCommand::Restore { .. }),
        ) => return etc_cmds::history(cli, c),
        Command::Config(crate::args::ConfigCommand::Search(a)) => {
            return index_cmds::search(cli, a, Some(rast_pkgindex::doc::Kind::Config))
        }
        Command::Desc { snap, args } => {
            let (id, text) = match snap {
                Some(id) => (*id, args.join(" ")),
                None => {
                    // Bad usage exits 2, as clap's own checks do for `clone abc`.
                    let id: SnapId = match args[0].parse() {
                        Ok(id) => id,
                        Err(e) => return Ok(usage(&format!("{e} (rast desc N TEXT…)"))),
                    };
                    if args.len() < 2 {
                        return Ok(usage(&format!("missing description: rast desc {id} TEXT…")));
                    }
                    (id, args[1..].join(" "))
                }
            };
            open(cli)?.describe(id, &text)?;
            if cli.json {
                print_json(&json!({ "snapshot": id, "desc": text }));
            }
        }
        Command::New { desc } => {
            let desc = (!desc.is_empty()).then(|| desc.join(" "));
            let id = open(cli)?.new_tree(desc)?;
            created(cli, id, format!("new tree {id} created"));
        }
        Command::Branch(s) => {
            let n = s.get();
            let id = open(cli)?.branch(n)?;
            created(cli, id, format!("branch {id} added to {n}"));
        }
        Command::Clone(s) => {
            let n = s.get();
            let id = open(cli)?.clone_as_tree(n)?;
            created(cli, id, format!("tree {id} cloned from {n}"));
        }
        Command::CloneBranch(s) => {
            let n = s.get();
            let id = open(cli)?.clone_branch(n)?;
            created(cli, id, format!("branch {id} added to parent of {n}"));
        }
        Command::CloneUnder {
            parent_pos,
            id,
            parent,
            snap,
        } => {
            // With --parent, a lone positional is the snapshot to copy.
            let (parent, n) = match parent {
                Some(p) => (Some(*p), snap.or(*id).or(*parent_pos)),
                None => (*parent_pos, snap.or(*id)),
            };
            let (Some(parent), Some(n)) = (parent, n) else {
                bail!("usage: rast ubranch PARENT N (or --parent PARENT -s N)");
            };
            let new = open(cli)?.clone_under(parent, n)?;
            created(cli, new, format!("branch {new} added to {parent}"));
        }
        Command::CloneTree(s) => {
            let n = s.get();
            let map = open(cli)?.clone_tree(n)?;
            if cli.json {
                let v: Vec<_> = map
                    .iter()
                    .map(|(o, c)| json!({"from": o, "created": c}))
                    .collect();
                print_json(&json!({ "cloned": v }));
            } else {
                for (o, c) in &map {
                    println!("snapshot {c} cloned from {o}");
                }
                println!("tree {} cloned from {n}", map[0].1);
            }
        }
        Command::Del { ids, snap } => {
            let ids: Vec<SnapId> = ids.iter().chain(snap).copied().collect();
            let r = open(cli)?;
            let mut refused = None;
            // Deleting what `rollback` returns to is allowed, but never silently.
            let back = r.rollback_target().ok().flatten();
            let deleted = r.delete(&ids, &mut |all| {
                if let Some(b) = back.filter(|b| all.contains(b)) {
                    eprintln!("rast: warning: snapshot {b} is the earlier deployment `rast rollback` returns to; after deleting it, rollback has nothing to return to");
                }
                let list = all
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                ask(cli, &format!("Delete snapshot(s) {list}?"), &mut refused)
            })?;
            if let Some(e) = refused {
                return Err(e);
            }
            if cli.json {
                print_json(&json!({ "deleted": deleted }));
            } else if deleted.is_empty() {
                println!("nothing deleted");
                return Ok(ExitCode::FAILURE);
            } else {
                for id in &deleted {
                    println!("snapshot {id} deleted");
                }
            }
        }
        Command::Chroot(s) => {
            let n = s.get();
            let r = open(cli)?;
            let shell = r.shell_of(n);
            eprintln!("rast: shell in a copy of snapshot {n}: `exit 0` commits, `exit 1` discards");
            let o = r.run_in(n, &[shell], "chroot")?;
            return Ok(report_run(cli, &[o]));
        }
        Command::Run { snap, cmd } => {
            let o = open(cli)?.run_in(snap.get(), cmd, "run")?;
            return Ok(report_run(cli, &[o]));
        }
        Command::TreeRun { snap, cmd } => {
            let outcomes = open(cli)?.tree_run(snap.get(), cmd)?;
            return Ok(report_run(cli, &outcomes));
        }
        Command::LiveChroot { cmd } => {
            let r = open(cli)?;
            let argv = if cmd.is_empty() {
                vec!["/bin/sh".to_string()]
            } else {
                cmd.clone()
            };
            let status = r.live_chroot(&argv)?;
            return Ok(exit_of(status));
        }
        Command::Tmp => leftovers(cli, None)?,
        Command::Unlock(s) => leftovers(cli, Some(s.get()))?,
        Command::EditConf(s) => {
            let n = s.get();
            // What would refuse anyway (no such snapshot, the base) comes before the editor.
            let r = open(cli)?;
            r.meta()?.get(n)?;
            if n.is_base() {
                return Err(rast_snapshot::Error::BaseImmutable.into());
            }
            let editor = match editor_of_env() {
                Some(e) => e,
                None if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() => {
                    fallback_editor()?
                }
                None => bail!(
                    "set $EDITOR (or $VISUAL) to edit snapshot {n}'s /etc/ast.conf: there is no terminal to start an editor on"
                ),
            };
            let argv = shell_words::split(&editor)
                .with_context(|| format!("cannot parse $EDITOR {editor:?}"))?;
            let o = r.edit_conf(n, &argv)?;
            return Ok(report_run(cli, &[o]));
        }
        Command::Fsck { rebuild } => {
            let report = open(cli)?.fsck(*rebuild)?;
            if cli.json {
                print_json(&serde_json::to_value(&report)?);
            } else {
                if let Some(reason) = &report.reason {
                    println!("rebuilt tree metadata from the subvolumes ({reason})");
                }
                println!("{} snapshots", report.snapshots);
                for id in &report.parent_unknown {
                    println!("snapshot {id}: parent unknown, placed at the top of the tree");
                }
                for id in &report.incomplete {
                    println!("id {id}: only some of rootfs/etc/boot exist; not a snapshot (`rast tmp` leaves it, inspect by hand)");
                }
                for id in &report.missing {
                    println!("snapshot {id}: named in the metadata but its subvolumes are missing");
                }
                if !report.missing.is_empty() {
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn leftovers(cli: &Cli, only: Option<SnapId>) -> Result<()> {
    let removed = open(cli)?.clean_leftovers(only)?;
    if cli.json {
        print_json(&json!({ "removed": removed }));
    } else if removed.is_empty() {
        println!("no leftovers");
    } else {
        for lo in &removed {
            println!(
                "removed {} ({} of snapshot {})",
                lo.path.display(),
                lo.kind,
                lo.snapshot
            );
        }
    }
    Ok(())
}

fn status(cli: &Cli) -> Result<()> {
    let s = open(cli)?.status()?;
    if cli.json {
        print_json(&serde_json::to_value(&s)?);
        return Ok(());
    }
    let show = |o: Option<SnapId>| o.map(|i| i.to_string()).unwrap_or_else(|| "none".into());
    println!("root:        {} ({})", s.root.display(), s.mode);
    println!(
        "snapshots:   {} in {}",
        s.snapshots,
        s.snapshots_dir.display()
    );
    println!("current:     {}", show(s.current));
    println!(
        "deployed:    {}{}",
        show(s.deployed),
        s.deployed_slot
            .map(|sl| format!(" (slot {sl})"))
            .unwrap_or_default()
    );
    println!(
        "lock:        {}",
        s.lock_holder.as_deref().unwrap_or("free")
    );
    if let Some(b) = &s.bootloader {
        println!("bootloader:  {b}");
    }
    for f in &s.failed_boots {
        println!(
            "FAILED BOOT: the deployment of snapshot {} (slot {}) did not boot; the machine fell back to {} (found {})",
            f.snapshot,
            f.slot,
            f.running
                .map(|r| format!("snapshot {r}"))
                .unwrap_or_else(|| "the previous deployment".into()),
            crate::output::when(f.found as i64)
        );
    }
    if !s.unfinished_commits.is_empty() {
        println!(
            "unfinished:  {} (finished by the next mutating rast)",
            s.unfinished_commits.join(", ")
        );
    }
    if s.leftovers.is_empty() {
        println!("leftovers:   none");
    } else {
        println!(
            "leftovers:   {} (remove with `rast tmp`)",
            s.leftovers.len()
        );
        for lo in &s.leftovers {
            println!(
                "  {} ({} of snapshot {})",
                lo.path.display(),
                lo.kind,
                lo.snapshot
            );
        }
    }
    Ok(())
}

/// `$VISUAL`, else `$EDITOR`, if set and not blank (the order git and sudoedit use).
fn editor_of_env() -> Option<String> {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
}

/// With no editor set, on a terminal: the first of vi, nano, vim on `$PATH` (the
/// editor runs on the host, on the copy's file).
fn fallback_editor() -> Result<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["vi", "nano", "vim"]
        .into_iter()
        .find(|e| std::env::split_paths(&path).any(|d| d.join(e).is_file()))
        .map(str::to_string)
        .ok_or_else(|| {
            anyhow::anyhow!("no $EDITOR set and no vi, nano or vim on $PATH: set $EDITOR")
        })
}
