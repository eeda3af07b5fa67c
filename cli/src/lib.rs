//! `rast`, the rastOS command line (library half: the `rast` and `rast-agent` binaries
//! are thin `main`s over it). Parses arguments ([`args`]), calls the snapshot
//! crate, and renders results and errors — errors are rendered here and only here.
//!
//! Exit codes: 0 success; 1 an error (message on stderr); 2 bad usage;
//! for `run`/`tree-run`/`chroot`/`live-chroot`, the command's own exit code; for
//! package operations and pacman-style queries, pacman's.

// Layers, top down (nothing imports a layer above it, nor a sibling command group):
// - lib.rs (this file) and nl_cmds: routing, plain-words requests;
// - commands: the dispatcher;
// - command groups: pkg_cmds, pacman_compat, backup_cmds, index_cmds, agent_cmds,
//   manual_cmds, config_check;
// - shared: output, system, agent_client, pkg_report, mistyped, render, progress,
//   config, args.
mod agent_client;
mod agent_cmds;
mod args;
mod backup_cmds;
mod commands;
mod config;
mod config_check;
mod config_manpage;
mod config_online;
mod etc_cmds;
mod index_cmds;
mod manual_cmds;
mod mistyped;
mod nl_cmds;
mod output;
mod pacman_compat;
mod pkg_cmds;
mod pkg_report;
mod progress;
mod render;
mod system;

use std::process::ExitCode;

use clap::Parser;

fn init_tracing(daemon: bool) {
    let debug = std::env::var("RAST_DEBUG").is_ok_and(|v| !v.is_empty() && v != "0");
    // The daemon logs its life (to the journal under systemd); commands only warn.
    let filter = match (debug, daemon) {
        (true, _) => "debug",
        (false, true) => "info",
        (false, false) => "warn",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        // Colour only on a terminal: under systemd stderr goes to the journal.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(debug)
        .without_time()
        .try_init();
}

/// The `rast` program: parse, dispatch, render the error once.
pub fn main() -> ExitCode {
    // One binary, two programs: the package installs /usr/bin/rast-agent as a symlink to
    // rast (one 36 MB file and one link step instead of two), so the name decides.
    let called_as_agent = std::env::args_os()
        .next()
        .map(|a0| std::path::Path::new(&a0).file_name() == Some("rast-agent".as_ref()))
        .unwrap_or(false);
    if called_as_agent {
        return agent_main();
    }
    run(std::env::args().collect())
}

/// The `rast-agent` program: `rast agent serve` with the same flags.
pub fn agent_main() -> ExitCode {
    let mut argv: Vec<String> = vec!["rast".into(), "agent".into(), "serve".into()];
    argv.extend(std::env::args().skip(1));
    run(argv)
}

fn run(full: Vec<String>) -> ExitCode {
    let argv: Vec<String> = full.iter().skip(1).cloned().collect();
    let daemon = argv.iter().any(|a| a == "agent") && argv.iter().any(|a| a == "serve");
    init_tracing(daemon);
    let (result, changes) = match pacman_compat::parse(&argv) {
        Some(Ok(p)) => (
            pacman_compat::run(&p),
            p.changes_system().then(|| p.root.clone()),
        ),
        Some(Err(e)) => {
            eprintln!("rast: error: {e}");
            return ExitCode::from(2);
        }
        None => {
            let cli = args::Cli::parse_from(&full);
            let changes = cli.command.changes_system().then(|| cli.root.clone());
            let result = match &cli.command {
                args::Command::Plan { loc, request } => nl_cmds::plan_cmd(&cli, loc, request),
                args::Command::Request(words) => nl_cmds::words_cmd(&cli, words),
                _ => commands::dispatch(&cli),
            };
            (result, changes)
        }
    };
    match result {
        Ok(code) => {
            if let Some(root) = changes.filter(|_| code == ExitCode::SUCCESS) {
                // Packages, /etc or the current snapshot may have changed.
                agent_client::poke_refresh(&root);
            }
            code
        }
        Err(e) => {
            let mut msg = format!("rast: error: {e}");
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(&format!(": {c}"));
                }
            }
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}
