//! The CLI's side of a running rast-agent: which socket, asking it to plan or search
//! (falling back to in-process work when no agent answers), poking it to refresh, and
//! the LLM settings it and the in-process planner share. Bottom layer: imports only
//! args and config.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rast_agent::client::{self, Client, ClientError};
use rast_agent::llm::LlmConfig;
use rast_agent::proto::Request;
use rast_agent::Plan;
use rast_pkgindex::doc::Kind;
use rast_pkgindex::index::Hit;
use serde_json::Value;

use crate::args::IndexLoc;
use crate::config::{self, Config};

/// Socket to use: the flag, `RAST_AGENT_SOCKET`, `[agent] socket`, the default.
pub fn socket_path(flag: Option<&Path>, cfg: &Config) -> PathBuf {
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
pub fn agent_for(root: &Path) -> Option<PathBuf> {
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

/// Search hits for this host from the running agent. This host's search is always its
/// embedded index (the Qdrant backend only adds the fleet copy), so a warm agent can
/// answer whatever the backend; `--fleet` queries go to the collection in-process.
pub fn search_via_agent(
    root: &Path,
    loc: &IndexLoc,
    query: &str,
    limit: usize,
    kind: Option<Kind>,
) -> Option<Vec<Hit>> {
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

pub fn connect(path: &Path) -> Result<Client> {
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

/// A `--fleet` answer from the running agent (which publishes to the same
/// collection), or `None` to search in-process.
pub fn fleet_via_agent(
    root: &Path,
    loc: &IndexLoc,
    query: &str,
    limit: usize,
    kind: Option<Kind>,
    hosts: &[String],
) -> Option<Vec<rast_pkgindex::fleet::HostHits>> {
    let v = ask_agent(
        root,
        loc,
        &Request::FleetSearch {
            query: query.to_string(),
            limit,
            kind: kind.map(|k| k.as_str().to_string()),
            hosts: hosts.to_vec(),
        },
    )?;
    serde_json::from_value(v.get("groups")?.clone()).ok()
}
