//! `rast agent serve|status|refresh|backup-now` and the CLI's use of a running agent.
//!
//! `serve` resolves rast.toml into a [`DaemonConfig`]: the index the CLI would use,
//! the paths its sources live in, and the explicit `rast` commands the agent runs for
//! refreshes and backups (this same binary's sibling `rast`, with the same `--root`).
//! The `rast-agent` binary is `rast agent serve`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use rast_agent::client::{Client, ClientError};
use rast_agent::daemon::{BackupJob, DaemonConfig};
use rast_agent::proto::{ErrorCode, Request};
use rast_backup::schedule::Schedule;
use serde_json::Value;

use crate::agent_client::{connect, llm_config, socket_path};
use crate::args::{AgentCommand, Cli, IndexLoc};
use crate::config::{self, Config};
use crate::output::print_json;

pub fn agent(cli: &Cli, cmd: &AgentCommand) -> Result<ExitCode> {
    let cfg = config::load(&config::path())?;
    match cmd {
        AgentCommand::Serve {
            socket,
            group,
            loc,
            no_watch,
            debounce,
            no_backups,
        } => serve(
            cli,
            &cfg,
            socket_path(socket.socket.as_deref(), &cfg),
            group.clone(),
            loc,
            *no_watch,
            debounce.as_deref(),
            *no_backups,
        ),
        AgentCommand::Status { socket } => {
            let path = socket_path(socket.socket.as_deref(), &cfg);
            let mut c = connect(&path)?;
            let st = c.call(&Request::Status)?;
            let backup = match c.call(&Request::BackupStatus) {
                Ok(v) => Some(v),
                Err(ClientError::Remote(e)) if e.code == ErrorCode::Unavailable => None,
                Err(e) => return Err(e.into()),
            };
            if cli.json {
                print_json(&serde_json::json!({ "agent": st, "backup": backup }));
            } else {
                print_status(&path, &st, backup.as_ref());
            }
            Ok(ExitCode::SUCCESS)
        }
        AgentCommand::Refresh { socket, if_running } => {
            let path = socket_path(socket.socket.as_deref(), &cfg);
            let mut c = match Client::connect(&path, Duration::from_secs(10)) {
                Ok(c) => c,
                Err(_) if *if_running => return Ok(ExitCode::SUCCESS),
                Err(e) => return Err(e.into()),
            };
            c.call(&Request::Refresh)?;
            if !cli.json {
                println!("rast-agent will refresh the index");
            }
            Ok(ExitCode::SUCCESS)
        }
        AgentCommand::BackupNow { socket } => {
            let path = socket_path(socket.socket.as_deref(), &cfg);
            let v = connect(&path)?.call(&Request::BackupRun)?;
            if cli.json {
                print_json(&v);
            } else if v["started"] == true {
                println!("rast-agent started the backup job (follow it with `rast agent status`)");
            } else {
                println!(
                    "the backup job is already running (pid {})",
                    v["running_pid"]
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn when(t: &Value) -> String {
    t.as_i64()
        .map(crate::output::when)
        .unwrap_or_else(|| "-".into())
}

fn print_status(path: &Path, st: &Value, backup: Option<&Value>) {
    println!(
        "rast-agent {} (pid {}), up {} s, protocol {}",
        st["version"].as_str().unwrap_or("?"),
        st["pid"],
        st["uptime_seconds"],
        st["protocol"]
    );
    println!(
        "socket:   {} (you are uid {}: {})",
        path.display(),
        st["peer"]["uid"],
        if st["peer"]["privileged"] == true {
            "read and change"
        } else {
            "read-only"
        }
    );
    let ix = &st["index"];
    println!(
        "index:    {} ({})",
        ix["dir"].as_str().unwrap_or("?"),
        if ix["loaded"] == true {
            format!("{} packages, loaded", ix["packages"])
        } else {
            "not loaded".into()
        }
    );
    if let Some(l) = st["llm"].as_object() {
        println!("llm:      {} ({})", l["url"], l["model"]);
    }
    match backup {
        None => println!("backups:  no [backup.schedule]"),
        Some(b) => {
            let last = match &b["last_run"] {
                Value::Null => "never".to_string(),
                r => format!(
                    "{} ({})",
                    when(&r["finished"]),
                    if r["ok"] == true { "ok" } else { "FAILED" }
                ),
            };
            println!(
                "backups:  {}; next {}{}; last run {last}",
                b["schedule"].as_str().unwrap_or("?"),
                when(&b["next_run"]),
                if b["running"] == true {
                    " (running now)"
                } else {
                    ""
                }
            );
        }
    }
    if let Some(r) = st["requests"].as_object() {
        let parts: Vec<String> = r.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("requests: {}", parts.join(", "));
    }
}

#[allow(clippy::too_many_arguments)]
fn serve(
    cli: &Cli,
    cfg: &Config,
    socket: PathBuf,
    group: Option<String>,
    loc: &IndexLoc,
    no_watch: bool,
    debounce: Option<&str>,
    no_backups: bool,
) -> Result<ExitCode> {
    let index_dir = crate::system::resolve_index_dir(cli, loc)?;
    let group = match group.or_else(|| cfg.agent.group.clone()) {
        Some(g) => Some(g),
        None => match nix::unistd::Group::from_name("rast") {
            Ok(Some(_)) => Some("rast".to_string()),
            _ => {
                tracing::warn!("no group \"rast\": the socket is for root only (groupadd --system rast to share it)");
                None
            }
        },
    };
    let debounce = match debounce.or(cfg.agent.debounce.as_deref()) {
        Some(d) => humantime::parse_duration(d).with_context(|| format!("debounce {d:?}"))?,
        None => Duration::from_secs(2),
    };
    let rast = rast_program();
    let root = cli.root.display().to_string();
    let mut refresh_argv = vec![
        rast.clone(),
        "--root".into(),
        root.clone(),
        "index".into(),
        "build".into(),
        "--index-dir".into(),
        index_dir.display().to_string(),
    ];
    if let Some(m) = &loc.model_dir {
        refresh_argv.extend(["--model-dir".into(), m.display().to_string()]);
    }
    let watch = if no_watch || cfg.agent.watch == Some(false) {
        vec![]
    } else {
        crate::system::source_paths(cli)
    };
    let backup = match (&cfg.backup.schedule, no_backups) {
        (Some(sc), false) => {
            let schedule = Schedule::parse(sc)?;
            let last_run_file = crate::system::last_run_path(cli)
                .context("[backup.schedule] needs a rastOS tree at --root")?;
            Some(BackupJob {
                schedule,
                argv: vec![rast, "--root".into(), root, "backup".into(), "run".into()],
                last_run_file,
            })
        }
        _ => None,
    };
    let dc = DaemonConfig {
        socket,
        group,
        index_dir,
        model_dir: loc.model_dir.clone(),
        watch,
        debounce,
        refresh_argv,
        llm: llm_config(cfg)?,
        backup,
        fleet: match crate::system::backend(cfg, &crate::system::system(cli))? {
            rast_pkgindex::index::Backend::Qdrant(q) => Some(q),
            rast_pkgindex::index::Backend::Flat => None,
        },
        idle_timeout: match cfg.agent.idle_timeout.as_deref() {
            Some(d) => humantime::parse_duration(d)
                .with_context(|| format!("[agent] idle_timeout {d:?}"))?,
            None => DaemonConfig::IDLE_TIMEOUT,
        },
        max_conns_per_user: cfg
            .agent
            .max_connections_per_user
            .unwrap_or(DaemonConfig::MAX_CONNS_PER_USER),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(rast_agent::daemon::serve(dc))?;
    Ok(ExitCode::SUCCESS)
}

/// The `rast` next to this executable (packaged layout), else `rast` on PATH.
fn rast_program() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("rast")))
        .filter(|p| p.is_file())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "rast".into())
}
