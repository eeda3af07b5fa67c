//! The system rast manages, as every command group sees it: the opened tree
//! ([`open`]), where the index and its sources live (on rastOS the current snapshot's
//! databases and /etc, on plain Arch `/var/lib/pacman` and `/etc`), and where rast
//! records its own runs. Bottom layer: imports only args and config.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use rast_pkgindex::index::Backend;
use rast_pkgindex::qdrant::QdrantConfig;
use rast_snapshot::{Mode, Part, Rast};

use crate::args::{Cli, IndexLoc};
use crate::config;

/// The tree at `--root`, saying so while it waits for the lock.
pub fn open(cli: &Cli) -> Result<Rast> {
    Ok(Rast::open(&cli.root)?.on_lock_wait(Box::new(|pid, what| {
        eprintln!("rast: waiting for the tree lock held by pid {pid} ({what})…");
    })))
}

/// What the defaults are derived from.
pub struct System {
    /// Root filesystem holding `usr/share/ast/db` (rastOS) or `var/lib/pacman`.
    pub db_root: PathBuf,
    pub db_rel: &'static str,
    pub etc: PathBuf,
    pub var: PathBuf,
    pub snapshot: Option<String>,
}

pub fn system(cli: &Cli) -> System {
    if let Ok(r) = Rast::open(&cli.root) {
        let l = r.layout();
        let current = r.current().ok().flatten();
        match (l.mode, current) {
            (Mode::TopLevel, Some(n)) => {
                return System {
                    db_root: l.part(Part::Rootfs, n),
                    db_rel: rast_snapshot::layout::PACMAN_DB,
                    etc: l.part(Part::Etc, n),
                    var: l.root.join("@var"),
                    snapshot: Some(n.to_string()),
                }
            }
            (Mode::Live, n) => {
                return System {
                    db_root: cli.root.clone(),
                    db_rel: rast_snapshot::layout::PACMAN_DB,
                    etc: cli.root.join("etc"),
                    var: cli.root.join("var"),
                    snapshot: n.map(|n| n.to_string()),
                }
            }
            _ => {}
        }
    }
    System {
        db_root: cli.root.clone(),
        db_rel: "var/lib/pacman",
        etc: cli.root.join("etc"),
        var: cli.root.join("var"),
        snapshot: None,
    }
}

/// The index directory `loc` (or the config, or the system default) names.
pub fn resolve_index_dir(cli: &Cli, loc: &IndexLoc) -> Result<PathBuf> {
    let cfg = config::load(&config::path())?;
    Ok(index_dir(loc, &cfg, &system(cli)))
}

/// Where the default index sources live (sync and local databases, /etc): what the
/// agent watches to know the index is stale.
pub fn source_paths(cli: &Cli) -> Vec<PathBuf> {
    let sys = system(cli);
    let db = sys.db_root.join(sys.db_rel);
    [db.join("sync"), db.join("local"), sys.etc]
        .into_iter()
        .filter(|p| p.is_dir())
        .collect()
}

pub fn index_dir(loc: &IndexLoc, cfg: &config::Config, sys: &System) -> PathBuf {
    loc.index_dir
        .clone()
        .or_else(|| cfg.index.dir.clone())
        .unwrap_or_else(|| sys.var.join("lib/rast/index"))
}

/// Where `rast backup run` records its outcome (the agent reads it too).
pub fn last_run_path(cli: &Cli) -> Result<PathBuf> {
    Ok(open(cli)?.layout().rast_dir().join("backup-last-run.json"))
}

/// Where `rast backup verify` records what it found, per target (`backup list` shows it).
pub fn verify_record_path(cli: &Cli) -> Result<PathBuf> {
    Ok(open(cli)?.layout().rast_dir().join("backup-verify.json"))
}

/// The index backend rast.toml names; for Qdrant, with this host's fleet identity.
pub fn backend(cfg: &config::Config, sys: &System) -> Result<Backend> {
    match cfg.index.backend.as_deref() {
        None | Some("embedded") | Some("flat") => Ok(Backend::Flat),
        Some("qdrant") => {
            let url = cfg
                .index
                .url
                .clone()
                .context("[index] backend = \"qdrant\" needs url = \"http://HOST:6334\"")?;
            let host = host_name(cfg, sys)?;
            Ok(Backend::Qdrant(QdrantConfig {
                url,
                collection: cfg
                    .index
                    .collection
                    .clone()
                    .unwrap_or_else(|| "rast".into()),
                api_key: cfg.index.api_key(),
                host,
                snapshot: sys.snapshot.clone().unwrap_or_default(),
            }))
        }
        Some(other) => bail!("unknown [index] backend {other:?}: use \"embedded\" or \"qdrant\""),
    }
}

/// The host's name in a fleet: `[index] host`, else the indexed system's
/// /etc/hostname, else the kernel's host name.
fn host_name(cfg: &config::Config, sys: &System) -> Result<String> {
    let name = match &cfg.index.host {
        Some(h) => h.trim().to_string(),
        None => std::fs::read_to_string(sys.etc.join("hostname"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| nix::unistd::gethostname().ok()?.into_string().ok())
            .unwrap_or_else(|| "localhost".into()),
    };
    if !rast_pkgindex::qdrant::valid_host(&name) {
        bail!("host name {name:?} cannot name this machine in the fleet: set [index] host = \"NAME\" (letters, digits, '.', '_', '-')");
    }
    Ok(name)
}
