//! One client connection: who it is (SO_PEERCRED), then request lines in, response
//! lines out, until the client closes, the agent shuts down, or the client stays
//! silent for `idle_timeout` (told so, then closed). An unprivileged uid holds at
//! most `max_conns_per_user` connections; the next one is answered `unavailable` and
//! closed. A line that is not a JSON request is answered `bad_request`.

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::UnixStream;
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};

use super::{unix_now, Shared};
use crate::proto::{ErrorCode, Request, Response, MAX_LINE, PROTOCOL};

/// The peer as the kernel reports it.
#[derive(Clone, Copy, Debug)]
struct Peer {
    uid: u32,
    pid: Option<i32>,
    privileged: bool,
}

pub async fn handle(shared: Arc<Shared>, stream: UnixStream) {
    let peer = match stream.peer_cred() {
        Ok(c) => Peer {
            uid: c.uid(),
            pid: c.pid(),
            privileged: c.uid() == 0 || c.uid() == nix::unistd::geteuid().as_raw(),
        },
        Err(e) => {
            tracing::warn!("SO_PEERCRED failed, dropping the connection: {e}");
            return;
        }
    };
    tracing::debug!(uid = peer.uid, pid = ?peer.pid, "connection");
    let mut framed = Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE));
    let _slot = match Slot::take(&shared, peer) {
        Ok(s) => s,
        Err(limit) => {
            tracing::info!(uid = peer.uid, limit, "connection refused: per-user limit");
            let _ = framed
                .send(line_of(&Response::err(
                    ErrorCode::Unavailable,
                    format!(
                        "uid {} already has {limit} connections open to the agent",
                        peer.uid
                    ),
                )))
                .await;
            return;
        }
    };
    let idle = shared.cfg.idle_timeout;
    loop {
        let line = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            _ = tokio::time::sleep(idle) => {
                let _ = framed
                    .send(line_of(&Response::err(
                        ErrorCode::BadRequest,
                        format!("no request for {} s; closing", idle.as_secs()),
                    )))
                    .await;
                return;
            }
            l = framed.next() => l,
        };
        let resp = match line {
            None => return,
            Some(Err(LinesCodecError::MaxLineLengthExceeded)) => {
                let _ = framed
                    .send(line_of(&Response::err(
                        ErrorCode::BadRequest,
                        format!("request longer than {MAX_LINE} bytes"),
                    )))
                    .await;
                return;
            }
            Some(Err(e)) => {
                tracing::debug!("read: {e}");
                return;
            }
            Some(Ok(l)) => match serde_json::from_str::<Request>(&l) {
                Err(e) => Response::err(ErrorCode::BadRequest, e.to_string()),
                Ok(req) => answer(&shared, peer, req).await,
            },
        };
        if framed.send(line_of(&resp)).await.is_err() {
            return;
        }
    }
}

/// One unprivileged uid's place among its connections; given back when dropped.
struct Slot<'a> {
    shared: &'a Shared,
    uid: Option<u32>,
}

impl<'a> Slot<'a> {
    /// A place for `peer`, or the limit it is at.
    fn take(shared: &'a Shared, peer: Peer) -> Result<Slot<'a>, usize> {
        if peer.privileged {
            return Ok(Slot { shared, uid: None });
        }
        let limit = shared.cfg.max_conns_per_user;
        let mut m = shared.conns_per_uid.lock().expect("conns");
        let n = m.entry(peer.uid).or_default();
        if *n >= limit {
            return Err(limit);
        }
        *n += 1;
        Ok(Slot {
            shared,
            uid: Some(peer.uid),
        })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(uid) = self.uid {
            let mut m = self.shared.conns_per_uid.lock().expect("conns");
            if let Some(n) = m.get_mut(&uid) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&uid);
                }
            }
        }
    }
}

/// A request's `kind` ("package" / "config"), or the bad_request answer.
fn parse_kind(kind: Option<&str>) -> Result<Option<rast_pkgindex::doc::Kind>, Response> {
    kind.map(str::parse)
        .transpose()
        .map_err(|e: String| Response::err(ErrorCode::BadRequest, e))
}

fn line_of(r: &Response) -> String {
    serde_json::to_string(r).expect("responses serialise")
}

async fn answer(shared: &Arc<Shared>, peer: Peer, req: Request) -> Response {
    *shared
        .counters
        .lock()
        .expect("counters")
        .entry(req.method())
        .or_default() += 1;
    if req.privileged() && !peer.privileged {
        tracing::info!(uid = peer.uid, method = req.method(), "refused");
        return Response::err(
            ErrorCode::Forbidden,
            format!(
                "{} changes the system and needs root (you are uid {})",
                req.method(),
                peer.uid
            ),
        );
    }
    match req {
        Request::Status => Response::ok(status(shared, peer)),
        Request::Plan { request } => {
            let Some(ix) = shared.index() else {
                return no_index(shared);
            };
            let llm = shared.cfg.llm.clone();
            blocking(move || {
                serde_json::to_value(ix.plan(&request, llm.as_ref())).map_err(|e| e.to_string())
            })
            .await
        }
        Request::Search { query, limit, kind } => {
            let Some(ix) = shared.index() else {
                return no_index(shared);
            };
            let kind = match parse_kind(kind.as_deref()) {
                Ok(k) => k,
                Err(r) => return r,
            };
            let limit = limit.clamp(1, 200);
            blocking(move || {
                let s = ix.searcher()?;
                let hits = s.search(&query, limit, kind).map_err(|e| e.to_string())?;
                Ok(json!({ "query": query, "results": hits }))
            })
            .await
        }
        Request::FleetSearch {
            query,
            limit,
            kind,
            hosts,
        } => {
            let Some(fleet) = shared.cfg.fleet.clone() else {
                return Response::err(
                    ErrorCode::Unavailable,
                    "this agent publishes to no fleet collection ([index] backend = \"qdrant\")",
                );
            };
            let Some(ix) = shared.index() else {
                return no_index(shared);
            };
            let kind = match parse_kind(kind.as_deref()) {
                Ok(k) => k,
                Err(r) => return r,
            };
            if let Some(h) = hosts.iter().find(|h| !rast_pkgindex::qdrant::valid_host(h)) {
                return Response::err(ErrorCode::BadRequest, format!("host {h:?}"));
            }
            blocking(move || {
                let s = ix.searcher()?;
                let groups = rast_pkgindex::fleet::search(
                    &fleet,
                    s.encoder(),
                    &rast_pkgindex::fleet::Ask {
                        query: &query,
                        kind,
                        hosts: &hosts,
                        per_host: limit.clamp(1, 100),
                        max_hosts: 1000,
                    },
                )
                .map_err(|e| e.to_string())?;
                Ok(json!({ "query": query, "groups": groups }))
            })
            .await
        }
        Request::IndexStatus => Response::ok(index_status(shared)),
        Request::BackupStatus => match &shared.cfg.backup {
            None => Response::err(
                ErrorCode::Unavailable,
                "no [backup.schedule] configured for the agent",
            ),
            Some(job) => Response::ok(super::jobs::backup_status(shared, job)),
        },
        Request::Refresh => {
            shared.refresh_now.notify_one();
            Response::ok(json!({ "queued": true }))
        }
        Request::BackupRun => {
            if shared.cfg.backup.is_none() {
                return Response::err(
                    ErrorCode::Unavailable,
                    "no [backup.schedule] configured for the agent",
                );
            }
            let running = shared.backup_state.lock().expect("backup").running;
            if let Some(pid) = running {
                return Response::ok(json!({ "started": false, "running_pid": pid }));
            }
            shared.backup_now.notify_one();
            Response::ok(json!({ "started": true }))
        }
    }
}

fn no_index(shared: &Shared) -> Response {
    let why = shared
        .index_state
        .lock()
        .expect("index state")
        .last_error
        .clone()
        .unwrap_or_else(|| "still loading".into());
    Response::err(
        ErrorCode::Unavailable,
        format!(
            "no index loaded from {} ({why})",
            shared.cfg.index_dir.display()
        ),
    )
}

/// Runs CPU-bound work off the runtime.
async fn blocking<F>(f: F) -> Response
where
    F: FnOnce() -> Result<Value, String> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Response::ok(v),
        Ok(Err(e)) => Response::err(ErrorCode::Internal, e),
        Err(e) => Response::err(ErrorCode::Internal, format!("worker failed: {e}")),
    }
}

fn status(shared: &Shared, peer: Peer) -> Value {
    let ix = shared.index();
    json!({
        "agent": "rast-agent",
        "version": env!("CARGO_PKG_VERSION"),
        "protocol": PROTOCOL,
        "pid": std::process::id(),
        "uptime_seconds": shared.started.elapsed().as_secs(),
        "now": unix_now(),
        "peer": { "uid": peer.uid, "privileged": peer.privileged },
        "index": {
            "dir": shared.cfg.index_dir,
            "loaded": ix.is_some(),
            "packages": ix.as_ref().map(|i| i.catalog.len()),
        },
        "llm": shared.cfg.llm.as_ref().map(|l| json!({"url": l.url, "model": l.model})),
        "backup_schedule": shared.cfg.backup.as_ref().map(|b| b.schedule.to_string()),
        "requests": *shared.counters.lock().expect("counters"),
    })
}

fn index_status(shared: &Shared) -> Value {
    let st = shared.index_state.lock().expect("index state");
    let on_disk = rast_pkgindex::index::status(&shared.cfg.index_dir)
        .ok()
        .and_then(|s| serde_json::to_value(s).ok());
    json!({
        "dir": shared.cfg.index_dir,
        "loaded": shared.index().is_some(),
        "on_disk": on_disk,
        "refreshing": st.refreshing,
        "refreshes": st.refreshes,
        "last_refresh": st.last_refresh,
        "last_error": st.last_error,
        "watching": shared.cfg.watch,
        "debounce_ms": shared.cfg.debounce.as_millis() as u64,
    })
}
