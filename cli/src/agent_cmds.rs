//! `rast agent serve|status|refresh|backup-now` and the CLI's use of a running agent.
//!
//! `serve` resolves rast.toml into a [`DaemonConfig`]: the index the CLI would use,
//! the paths its sources live in, and the explicit `rast` commands the agent runs for
//! refreshes and backups (this same binary's sibling `rast`, with the same `--root`).
//! The `rast-agent` binary is `rast agent serve`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rast_agent::client::{self, Client, ClientError};
use rast_agent::daemon::{BackupJob, DaemonConfig};
use rast_agent::llm::LlmConfig;
use rast_agent::proto::{ErrorCode, Request};
use rast_agent::Plan;
use rast_backup::schedule::Schedule;
use rast_pkgindex::doc::Kind;
use rast_pkgindex::index::Hit;
use serde_json::Value;

use crate::args::{AgentCommand, Cli, IndexLoc};
use crate::commands::print_json;
use crate::config::{self, Config};

/// Socket to use: the flag, `RAST_AGENT_SOCKET`, `[agent] socket`, the default.
fn socket_path(flag: Option<&Path>, cfg: &Config) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if std::env::var_os("RAST_AGENT_SOCKET").is_some_and(|v| !v.is_empty()) {
        return client::socket_path();
    }
    cfg.agent
        .socket
        .clone()
        .unwrap_or_else(|| PathBuf::from(client::DEFAULT_SOCKET))
}

/// `[planner]` → the LLM backend, if configured.
pub fn llm_config(cfg: &Config) -> Result<Option<LlmConfig>> {
    let p = &cfg.planner;
    let Some(url) = p.llm_url.clone() else {
        return Ok(None);
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("[planner] llm_url = {url:?}: expected an http:// or https:// URL");
    }
    let key_env = p.llm_key_env.as_deref().unwrap_or("OPENAI_API_KEY");
    let timeout = match &p.llm_timeout {
        Some(t) => humantime::parse_duration(t)
            .with_context(|| format!("[planner] llm_timeout = {t:?}"))?,
        None => Duration::from_secs(20),
    };
    Ok(Some(LlmConfig {
        url,
        model: p.llm_model.clone().unwrap_or_else(|| "default".into()),
        api_key: std::env::var(key_env).ok().filter(|k| !k.is_empty()),
        timeout,
        below_confidence: p.llm_below_confidence.unwrap_or(0.6),
    }))
}

/// The socket of the agent that serves `root`, unless agents are off
/// (`RAST_NO_AGENT=1`). An agent serves the machine it runs on, so for another
/// `--root` only an agent named explicitly by `RAST_AGENT_SOCKET` is used.
fn agent_for(root: &Path) -> Option<PathBuf> {
    if std::env::var("RAST_NO_AGENT").is_ok_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    let explicit = std::env::var_os("RAST_AGENT_SOCKET").is_some_and(|v| !v.is_empty());
    if root != Path::new("/") && !explicit {
        return None;
    }
    let cfg = config::load(&config::path()).ok()?;
    Some(socket_path(None, &cfg))
}

/// The running agent's answer to `req`, or `None` to work in-process: no agent (see
/// [`agent_for`]), an agent that cannot answer (no index loaded yet), or an explicit
/// `--index-dir`/`--model-dir` (the agent has its own).
fn ask_agent(root: &Path, loc: &IndexLoc, req: &Request) -> Option<Value> {
    if loc.index_dir.is_some() || loc.model_dir.is_some() {
        return None;
    }
    let path = agent_for(root)?;
    let mut c = Client::connect(&path, Duration::from_secs(30)).ok()?;
    match c.call(req) {
        Ok(v) => {
            tracing::debug!(
                "{} answered by rast-agent at {}",
                req.method(),
                path.display()
            );
            Some(v)
        }
        Err(e) => {
            tracing::debug!("{} in-process: {e}", req.method());
            None
        }
    }
}

/// After a command that changed packages, /etc or the current snapshot of `root`:
/// asks a running agent to refresh its index (best effort, root only, never an error).
pub fn poke_refresh(root: &Path) {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let Some(path) = agent_for(root) else {
        return;
    };
    if let Ok(mut c) = Client::connect(&path, Duration::from_secs(2)) {
        match c.call(&Request::Refresh) {
            Ok(_) => tracing::debug!("asked rast-agent to refresh its index"),
            Err(e) => tracing::debug!("rast-agent refresh: {e}"),
        }
    }
}

/// A plan from the running agent (see [`ask_agent`] for when there is none).
pub fn plan_via_agent(root: &Path, loc: &IndexLoc, request: &str) -> Option<Plan> {
    let v = ask_agent(
        root,
        loc,
        &Request::Plan {
            request: request.to_string(),
        },
    )?;
    let plan: Plan = serde_json::from_value(v).ok()?;
    // Whatever answers on the socket, its plan is checked like any other.
    plan.validate().ok()?;
    Some(plan)
}

/// Search hits from the running agent (the embedded vector store only: a Qdrant
/// backend is searched in-process, as configured).
pub fn search_via_agent(
    root: &Path,
    loc: &IndexLoc,
    cfg: &Config,
    query: &str,
    limit: usize,
    kind: Option<Kind>,
) -> Option<Vec<Hit>> {
    if !matches!(
        cfg.index.backend.as_deref(),
        None | Some("embedded") | Some("flat")
    ) {
        return None;
    }
    let v = ask_agent(
        root,
        loc,
        &Request::Search {
            query: query.to_string(),
            limit,
            kind: kind.map(|k| k.as_str().to_string()),
        },
    )?;
    serde_json::from_value(v.get("results")?.clone()).ok()
}

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

fn connect(path: &Path) -> Result<Client> {
    Client::connect(path, Duration::from_secs(30)).map_err(|e| {
        let hint = match &e {
            ClientError::Connect { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                "only root and the socket's group (default `rast`) may connect"
            }
            _ => "is rast-agent running? `systemctl status rast-agent`",
        };
        anyhow::anyhow!("{e} ({hint})")
    })
}

fn when(t: &Value) -> String {
    t.as_i64()
        .map(crate::backup_cmds::when)
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
    let index_dir = crate::index_cmds::resolve_index_dir(cli, loc)?;
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
        crate::index_cmds::source_paths(cli)
    };
    let backup = match (&cfg.backup.schedule, no_backups) {
        (Some(sc), false) => {
            let schedule = Schedule::parse(sc)?;
            let last_run_file = crate::backup_cmds::last_run_path(cli)
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
