//! The agent's background work: loading the index, refreshing it when its sources
//! change (debounced), and running the backup job on its schedule.
//!
//! Both mutations run the explicit `rast` command as a child process; the agent only
//! decides *when*. A refresh swaps the warm index only after the build succeeded, so
//! requests are answered from the old index meanwhile.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use serde_json::{json, Value};
use tokio::process::Command;

use super::{unix_now, BackupJob, Shared};
use crate::warm::WarmIndex;

/// Opens (and warms) the index; if there is none yet, asks for a build.
pub async fn load_index(sh: Arc<Shared>) {
    match open_warm(&sh).await {
        Ok(()) => tracing::info!(dir = %sh.cfg.index_dir.display(), "index loaded"),
        Err(e) => {
            tracing::warn!("no usable index yet: {e}");
            sh.index_state.lock().expect("index state").last_error = Some(e);
            if !sh.cfg.refresh_argv.is_empty() {
                sh.refresh_now.notify_one();
            }
        }
    }
}

async fn open_warm(sh: &Arc<Shared>) -> Result<(), String> {
    let dir = sh.cfg.index_dir.clone();
    let model = sh.cfg.model_dir.clone();
    let ix = tokio::task::spawn_blocking(move || -> Result<WarmIndex, String> {
        let ix = WarmIndex::open(&dir, model.as_deref()).map_err(|e| e.to_string())?;
        if let Err(e) = ix.warm_up() {
            // Planning still works by name; only meaning-based choices need the model.
            tracing::warn!("embedding model not loaded: {e}");
        }
        Ok(ix)
    })
    .await
    .map_err(|e| e.to_string())??;
    *sh.index.write().expect("index lock") = Some(Arc::new(ix));
    Ok(())
}

/// Watches the index sources; every relevant change pokes the refresher.
pub fn start_watcher(sh: &Arc<Shared>) -> Result<Option<notify::RecommendedWatcher>, String> {
    if sh.cfg.watch.is_empty() {
        return Ok(None);
    }
    let poke = sh.clone();
    let mut w = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev {
            let relevant = matches!(
                ev.kind,
                EventKind::Create(_)
                    | EventKind::Modify(_)
                    | EventKind::Remove(_)
                    | EventKind::Access(notify::event::AccessKind::Close(
                        notify::event::AccessMode::Write
                    ))
            );
            if relevant {
                poke.refresh_now.notify_one();
            }
        }
    })
    .map_err(|e| e.to_string())?;
    for p in &sh.cfg.watch {
        match w.watch(p, RecursiveMode::Recursive) {
            Ok(()) => tracing::info!(path = %p.display(), "watching"),
            Err(e) => tracing::warn!(path = %p.display(), "cannot watch: {e}"),
        }
    }
    Ok(Some(w))
}

/// Waits for pokes, lets them settle for the debounce time, then rebuilds.
pub async fn refresher(sh: Arc<Shared>) {
    loop {
        tokio::select! {
            _ = sh.shutdown.cancelled() => return,
            _ = sh.refresh_now.notified() => {}
        }
        loop {
            tokio::select! {
                _ = sh.shutdown.cancelled() => return,
                _ = tokio::time::sleep(sh.cfg.debounce) => break,
                _ = sh.refresh_now.notified() => continue,
            }
        }
        refresh(&sh).await;
    }
}

async fn refresh(sh: &Arc<Shared>) {
    if sh.cfg.refresh_argv.is_empty() {
        return;
    }
    sh.index_state.lock().expect("index state").refreshing = true;
    tracing::info!("refreshing the index");
    let r = run_child(sh, &sh.cfg.refresh_argv, |_| {}).await;
    let r = match r {
        Ok(0) => open_warm(sh).await,
        Ok(code) => Err(format!(
            "`{}` exited with {code}",
            sh.cfg.refresh_argv.join(" ")
        )),
        Err(e) => Err(e),
    };
    let mut st = sh.index_state.lock().expect("index state");
    st.refreshing = false;
    st.refreshes += 1;
    st.last_refresh = Some(unix_now());
    match r {
        Ok(()) => {
            st.last_error = None;
            tracing::info!("index refreshed");
        }
        Err(e) => {
            tracing::warn!("index refresh failed: {e}");
            st.last_error = Some(e);
        }
    }
}

/// Runs `argv` (its stderr goes to the agent's, i.e. the journal); `on_start` learns
/// the child's pid. On shutdown the child gets SIGTERM, then SIGKILL after 25 s.
async fn run_child(
    sh: &Arc<Shared>,
    argv: &[String],
    on_start: impl FnOnce(Option<u32>),
) -> Result<i32, String> {
    let (prog, args) = argv.split_first().ok_or("empty command")?;
    let mut child = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting {prog}: {e}"))?;
    let pid = child.id();
    on_start(pid);
    let status = tokio::select! {
        s = child.wait() => s,
        _ = sh.shutdown.cancelled() => {
            if let Some(pid) = pid {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            match tokio::time::timeout(Duration::from_secs(25), child.wait()).await {
                Ok(s) => s,
                Err(_) => {
                    let _ = child.kill().await;
                    child.wait().await
                }
            }
        }
    }
    .map_err(|e| e.to_string())?;
    Ok(status.code().unwrap_or(128 + 15))
}

fn last_finished(job: &BackupJob) -> Option<i64> {
    let b = std::fs::read(&job.last_run_file).ok()?;
    serde_json::from_slice::<Value>(&b)
        .ok()?
        .get("finished")?
        .as_i64()
}

/// Runs the backup job when due (or when asked), forever.
pub async fn backup_scheduler(sh: Arc<Shared>) {
    let Some(job) = sh.cfg.backup.clone() else {
        return;
    };
    tracing::info!(schedule = %job.schedule, "backup schedule active");
    loop {
        // The job's own record, or the agent's last attempt if that is newer (a job
        // that fails before writing its record must not be retried in a tight loop).
        let own = sh.backup_state.lock().expect("backup").last_finished;
        let last = match (last_finished(&job), own) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let now = unix_now();
        let next = job.schedule.next_run(now, last);
        sh.backup_state.lock().expect("backup").next_run = Some(next);
        // Sleep in short steps so suspend/resume and clock changes are noticed.
        let wait = Duration::from_secs((next - now).clamp(0, 60) as u64);
        let due = tokio::select! {
            _ = sh.shutdown.cancelled() => return,
            _ = sh.backup_now.notified() => true,
            _ = tokio::time::sleep(wait) => unix_now() >= next,
        };
        if !due {
            continue;
        }
        tracing::info!("backup job starting");
        sh.backup_state.lock().expect("backup").last_started = Some(unix_now());
        let r = run_child(&sh, &job.argv, |pid| {
            sh.backup_state.lock().expect("backup").running = pid;
        })
        .await;
        let mut st = sh.backup_state.lock().expect("backup");
        st.running = None;
        st.last_finished = Some(unix_now());
        st.last_exit = Some(match r {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("backup job did not start: {e}");
                -1
            }
        });
        tracing::info!(exit = ?st.last_exit, "backup job finished");
        if sh.shutdown.is_cancelled() {
            return;
        }
    }
}

/// `backup_status`: the agent's view plus the job's own last-run record.
pub fn backup_status(sh: &Shared, job: &BackupJob) -> Value {
    let st = sh.backup_state.lock().expect("backup");
    let record = std::fs::read(&job.last_run_file)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    json!({
        "schedule": job.schedule.to_string(),
        "next_run": st.next_run,
        "running": st.running.is_some(),
        "running_pid": st.running,
        "agent_last_started": st.last_started,
        "agent_last_exit": st.last_exit,
        "last_run": record,
    })
}
