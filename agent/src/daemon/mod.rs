//! rast-agent: keeps the index and model warm and answers [`crate::proto`] requests
//! on a Unix socket; refreshes the index when its sources change; runs the backup
//! schedule.
//!
//! Invariants:
//! - the socket is created with mode 0660 (umask set around `bind`), then given to
//!   the configured group; a socket file another agent still answers on is never
//!   replaced;
//! - peers are identified by SO_PEERCRED, never by anything they send; only root (or
//!   the agent's own user) may make privileged requests ([`crate::proto::Request::privileged`]);
//! - mutations are the explicit `rast` commands run as child processes (`rast index
//!   build`, `rast backup run`), so the agent has no second implementation of them,
//!   and a crash there cannot take the agent down;
//! - SIGTERM/SIGINT: stop accepting, answer what is in flight (≤ 5 s), stop a running
//!   backup child with SIGTERM (backups resume), remove the socket, exit 0.

mod conn;
mod jobs;
mod socket;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rast_backup::schedule::Schedule;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::llm::LlmConfig;
use crate::warm::WarmIndex;

/// Everything the daemon needs, resolved by the `rast-agent` binary from rast.toml.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    pub socket: PathBuf,
    /// Group given the socket (name or number); `None` keeps the agent's group.
    pub group: Option<String>,
    pub index_dir: PathBuf,
    pub model_dir: Option<PathBuf>,
    /// Paths whose changes make the index stale (pacman DBs, /etc).
    pub watch: Vec<PathBuf>,
    /// Quiet time after the last change before refreshing.
    pub debounce: Duration,
    /// The command that rebuilds the index (`rast index build …`).
    pub refresh_argv: Vec<String>,
    pub llm: Option<LlmConfig>,
    pub backup: Option<BackupJob>,
    /// The fleet collection (`[index] backend = "qdrant"`), for `fleet_search`.
    pub fleet: Option<rast_pkgindex::qdrant::QdrantConfig>,
    /// A connection that sends nothing for this long is told so and closed.
    pub idle_timeout: Duration,
    /// Open connections one unprivileged uid may hold (root and the agent's own uid
    /// are not limited).
    pub max_conns_per_user: usize,
}

impl DaemonConfig {
    /// Defaults for the connection limits: 5 minutes idle, 32 per user.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
    pub const MAX_CONNS_PER_USER: usize = 32;
}

/// The scheduled backup job.
#[derive(Clone, Debug)]
pub struct BackupJob {
    pub schedule: Schedule,
    /// The command that runs it (`rast backup run`).
    pub argv: Vec<String>,
    /// The job's own record of its last run (`backup-last-run.json`).
    pub last_run_file: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("another rast-agent is already listening on {0}")]
    AlreadyRunning(PathBuf),
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    #[error("{0}")]
    Config(String),
}

/// What the index side is doing, for `index_status`.
#[derive(Default)]
struct IndexState {
    refreshing: bool,
    refreshes: u64,
    last_refresh: Option<i64>,
    last_error: Option<String>,
}

/// What the backup side is doing, for `backup_status`.
#[derive(Default)]
struct BackupState {
    running: Option<u32>,
    next_run: Option<i64>,
    last_exit: Option<i32>,
    last_started: Option<i64>,
    last_finished: Option<i64>,
}

/// State shared by connections and jobs.
struct Shared {
    cfg: DaemonConfig,
    started: Instant,
    index: RwLock<Option<Arc<WarmIndex>>>,
    index_state: Mutex<IndexState>,
    backup_state: Mutex<BackupState>,
    counters: Mutex<BTreeMap<&'static str, u64>>,
    /// Open connections per unprivileged uid.
    conns_per_uid: Mutex<std::collections::HashMap<u32, usize>>,
    refresh_now: tokio::sync::Notify,
    backup_now: tokio::sync::Notify,
    shutdown: CancellationToken,
}

impl Shared {
    fn index(&self) -> Option<Arc<WarmIndex>> {
        self.index.read().expect("index lock").clone()
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Runs the agent until SIGTERM/SIGINT.
pub async fn serve(cfg: DaemonConfig) -> Result<(), DaemonError> {
    let listener = socket::bind(&cfg.socket, cfg.group.as_deref())?;
    tracing::info!(socket = %cfg.socket.display(), "rast-agent listening");
    let shared = Arc::new(Shared {
        cfg,
        started: Instant::now(),
        index: RwLock::new(None),
        index_state: Mutex::new(IndexState::default()),
        backup_state: Mutex::new(BackupState::default()),
        counters: Mutex::new(BTreeMap::new()),
        conns_per_uid: Mutex::new(Default::default()),
        refresh_now: tokio::sync::Notify::new(),
        backup_now: tokio::sync::Notify::new(),
        shutdown: CancellationToken::new(),
    });

    let tracker = TaskTracker::new();
    tracker.spawn(jobs::load_index(shared.clone()));
    tracker.spawn(jobs::refresher(shared.clone()));
    // Dropping the watcher stops it: keep it for the agent's life.
    let _watcher = jobs::start_watcher(&shared).unwrap_or_else(|e| {
        tracing::warn!("not watching index sources: {e}");
        None
    });
    if shared.cfg.backup.is_some() {
        tracker.spawn(jobs::backup_scheduler(shared.clone()));
    }

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| DaemonError::Io("SIGTERM handler".into(), e))?;
    let conns = TaskTracker::new();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    conns.spawn(conn::handle(shared.clone(), stream));
                }
                Err(e) => tracing::warn!("accept: {e}"),
            },
        }
    }
    tracing::info!("shutting down");
    shared.shutdown.cancel();
    drop(listener);
    let _ = std::fs::remove_file(&shared.cfg.socket);
    conns.close();
    if tokio::time::timeout(Duration::from_secs(5), conns.wait())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 5 s; closing them");
    }
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(30), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("jobs did not stop within 30 s");
    }
    Ok(())
}
