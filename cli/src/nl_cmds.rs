//! Natural-language requests (the top layer, beside lib.rs: plans run through the
//! dispatcher in [`crate::commands`], which never imports this module): `rast plan [--json] "REQUEST"` prints the typed plan;
//! `rast "REQUEST"` shows it in plain words, asks `Proceed? [y/N]` (read-only plans run
//! at once; `--yes` skips the question, `--dry-run` stops after showing it), then runs
//! each action as the explicit command it stands for — the argv is built and parsed
//! by the same clap grammar and dispatched through the same code, so there is no
//! second implementation. A later action's `"new"` snapshot is the one the previous
//! action made (found by comparing the tree before and after it).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rast_agent::action::{Action, Plan, NEW};
use rast_agent::warm::WarmIndex;
use rast_snapshot::{Rast, SnapId};

use crate::args::{Cli, IndexLoc};
use crate::commands;
use crate::output::{print_json, usage};
use crate::system::open;

/// `rast WORDS…`: a mistyped command (exit 2, see [`crate::mistyped`]) or a request.
/// `rast "…" --dry-run` works too: flags after the words are not request text.
pub fn words_cmd(cli: &Cli, words: &[String]) -> Result<ExitCode> {
    let dry = cli.dry_run || words.iter().any(|w| w == "--dry-run");
    let words: Vec<String> = words
        .iter()
        .filter(|w| *w != "--dry-run")
        .cloned()
        .collect();
    let names = crate::mistyped::command_names();
    if let crate::mistyped::Words::Mistyped { word, suggestions } =
        crate::mistyped::classify(&words, &names)
    {
        return Ok(usage(&crate::mistyped::message(&word, &suggestions)));
    }
    request_cmd(cli, &words, dry)
}

/// Plans `request`: through a running rast-agent when there is one (warm model),
/// else in-process with the catalogue of the index in `loc`.
pub fn make_plan(cli: &Cli, loc: &IndexLoc, request: &str) -> Result<Plan> {
    if let Some(p) = crate::agent_client::plan_via_agent(&cli.root, loc, request) {
        return Ok(p);
    }
    let dir = crate::system::resolve_index_dir(cli, loc)?;
    let cfg = crate::config::load(&crate::config::path())?;
    let ix = WarmIndex::open(&dir, loc.model_dir.as_deref())
        .with_context(|| format!("the planner needs the package index in {}", dir.display()))?;
    Ok(ix.plan(request, crate::agent_client::llm_config(&cfg)?.as_ref()))
}

/// `rast plan`.
pub fn plan_cmd(cli: &Cli, loc: &IndexLoc, request: &[String]) -> Result<ExitCode> {
    let req = request.join(" ");
    let p = make_plan(cli, loc, &req)?;
    if cli.json {
        print_json(&serde_json::to_value(&p)?);
    } else {
        show(&p);
    }
    Ok(ExitCode::SUCCESS)
}

fn show(p: &Plan) {
    if let [Action::Clarify {
        question,
        candidates,
    }] = p.actions.as_slice()
    {
        println!("{question}");
        for c in candidates {
            println!("  - {c}");
        }
        return;
    }
    println!("Plan for {:?}:", p.request);
    for (i, a) in p.actions.iter().enumerate() {
        println!("  {}. {}", i + 1, rast_agent::plan::explain(a));
    }
    if p.confidence < 0.8 {
        println!(
            "  (confidence {:.0} %: {})",
            p.confidence * 100.0,
            p.explanation
        );
    }
}

/// `rast "REQUEST"`.
fn request_cmd(cli: &Cli, words: &[String], dry_run: bool) -> Result<ExitCode> {
    let req = words.join(" ");
    let loc = IndexLoc {
        index_dir: None,
        model_dir: None,
    };
    let p = make_plan(cli, &loc, &req)?;
    if cli.json && dry_run {
        print_json(&serde_json::to_value(&p)?);
        return Ok(ExitCode::SUCCESS);
    }
    show(&p);
    if matches!(p.actions.as_slice(), [Action::Clarify { .. }]) {
        return Ok(ExitCode::from(1));
    }
    if dry_run {
        println!("(dry run: nothing done)");
        return Ok(ExitCode::SUCCESS);
    }
    if p.needs_confirmation && !cli.yes {
        if !std::io::stdin().is_terminal() {
            bail!("this plan changes the system: confirm with --yes (or run it on a terminal)");
        }
        print!("Proceed? [y/N] ");
        std::io::stdout().flush().ok();
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y" | "yes" | "Yes") {
            println!("nothing done");
            return Ok(ExitCode::from(1));
        }
    }
    execute(cli, &p)
}

/// Runs each action through the explicit command it stands for.
pub fn execute(cli: &Cli, p: &Plan) -> Result<ExitCode> {
    p.validate()
        .map_err(|e| anyhow::anyhow!("invalid plan: {e}"))?;
    let mut new: Option<SnapId> = None;
    for a in &p.actions {
        let r = open(cli)?;
        let before: Vec<SnapId> = r.meta()?.snapshots.keys().copied().collect();
        let argv = argv_for(&r, a, new)?;
        eprintln!("rast: running `rast {}`", argv.join(" "));
        let code = run_argv(cli, &argv)?;
        if code != ExitCode::SUCCESS {
            eprintln!(
                "rast: stopped: `rast {}` failed; later steps not run",
                argv.join(" ")
            );
            return Ok(code);
        }
        if a.makes_snapshot() {
            let after: Vec<SnapId> = open(cli)?.meta()?.snapshots.keys().copied().collect();
            new = after.into_iter().filter(|i| !before.contains(i)).max();
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_argv(cli: &Cli, argv: &[String]) -> Result<ExitCode> {
    let mut full: Vec<String> = vec![
        "rast".into(),
        "--root".into(),
        cli.root.display().to_string(),
        "--yes".into(),
    ];
    if cli.json {
        full.push("--json".into());
    }
    full.extend(argv.iter().cloned());
    // Pacman-style queries have their own parser, as on the command line.
    if let Some(p) = crate::pacman_compat::parse(&full[1..]) {
        return crate::pacman_compat::run(&p.map_err(anyhow::Error::msg)?);
    }
    let parsed = Cli::try_parse_from(&full).map_err(|e| anyhow::anyhow!("{e}"))?;
    commands::dispatch(&parsed)
}

/// The explicit command line of one action.
fn argv_for(r: &Rast, a: &Action, new: Option<SnapId>) -> Result<Vec<String>> {
    let snap = |s: &Option<String>| -> Result<String> {
        Ok(match s.as_deref() {
            Some(NEW) => new
                .context("the plan refers to a new snapshot that was not made")?
                .to_string(),
            Some(n) => n.to_string(),
            None => r.current()?.context("no current snapshot")?.to_string(),
        })
    };
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let with = |mut head: Vec<String>, tail: &[String]| {
        head.extend(tail.iter().cloned());
        head
    };
    Ok(match a {
        Action::Install { packages, snapshot } => {
            with(v(&["install", "-s", &snap(snapshot)?]), packages)
        }
        Action::Remove { packages, snapshot } => {
            with(v(&["remove", "-s", &snap(snapshot)?]), packages)
        }
        Action::Upgrade {
            snapshot,
            security_only,
        } => {
            let mut x = v(&["upgrade", &snap(snapshot)?]);
            if *security_only {
                x.push("--security".into());
            }
            x
        }
        Action::Search { query } => v(&["search", "--kind", "package", query]),
        Action::ListInstalled { query, snapshot } => match query {
            Some(q) => v(&["-Qs", q, "--snap", &snap(snapshot)?]),
            None => v(&["-Q", "--snap", &snap(snapshot)?]),
        },
        Action::Info { packages } => with(v(&["pkg", "info"]), packages),
        Action::CleanUnused { snapshot } => {
            v(&["pkg", "clean", "--unused-deps", "-s", &snap(snapshot)?])
        }
        Action::FixKeys { snapshot } => v(&["pkg", "fix-keys", "-s", &snap(snapshot)?]),
        Action::Refresh { snapshot } => v(&["refresh", &snap(snapshot)?]),
        Action::Tree => v(&["tree"]),
        Action::Current => v(&["current"]),
        Action::NewTree => v(&["new"]),
        Action::Rollback => v(&["rollback"]),
        Action::EtcUpdate => v(&["etc-update"]),
        Action::Clone { snapshot } => v(&["clone", &snap(snapshot)?]),
        Action::CloneTree { snapshot } => v(&["clone-tree", &snap(snapshot)?]),
        Action::Branch { snapshot } => v(&["branch", &snap(snapshot)?]),
        Action::CloneBranch { snapshot } => v(&["cbranch", &snap(snapshot)?]),
        Action::CloneUnder { snapshot, parent } => v(&["ubranch", parent, &snap(snapshot)?]),
        Action::Deploy { snapshot } => v(&["deploy", &snap(snapshot)?]),
        Action::Delete { snapshot } => v(&["del", snapshot]),
        Action::Describe { snapshot, text } => v(&["desc", &snap(snapshot)?, text]),
        Action::Run { snapshot, command } => with(v(&["run", &snap(snapshot)?, "--"]), command),
        // "sync N into its children" asks to propagate, not to upgrade: astOS's
        // `sync` also updates the tree, `force-sync` only propagates.
        Action::Sync { snapshot } => v(&["force-sync", &snap(snapshot)?]),
        Action::Diff { snapshots } => with(v(&["diff"]), snapshots),
        Action::BackupCreate { snapshot, target } => {
            let mut x = v(&["backup", "create", &snap(snapshot)?]);
            if let Some(t) = target {
                x.extend(v(&["--to", t]));
            }
            x
        }
        Action::BackupRestore { snapshot, target } => {
            let n = snap(snapshot)?;
            let id = crate::backup_cmds::newest_backup_of(target.as_deref(), &n)?;
            let mut x = v(&[
                "backup",
                "restore",
                &id,
                "--into",
                &r.layout().rast_dir().join("restore").display().to_string(),
                "--as-snapshot",
            ]);
            if let Some(t) = target {
                x.extend(v(&["--from", t]));
            }
            x
        }
        Action::BackupList { target } => target_arg(v(&["backup", "list"]), target),
        Action::BackupVerify { target } => target_arg(v(&["backup", "verify", "--all"]), target),
        Action::BackupPrune { target } => target_arg(v(&["backup", "prune"]), target),
        Action::ConfigSearch { query } => v(&["config", "search", query]),
        Action::ConfigLog { file } => v(&["config", "log", file]),
        Action::ConfigDiff { file, snapshots } => with(v(&["config", "diff", file]), snapshots),
        Action::ConfigRestore {
            file,
            from,
            snapshot,
        } => v(&[
            "config",
            "restore",
            file,
            "--from",
            from,
            "--into",
            &snap(snapshot)?,
        ]),
        Action::Clarify { question, .. } => bail!("{question}"),
    })
}

fn target_arg(mut x: Vec<String>, t: &Option<String>) -> Vec<String> {
    if let Some(t) = t {
        x.push("--to".into());
        x.push(t.clone());
    }
    x
}
