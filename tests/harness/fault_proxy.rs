//! **Test double**: a fault-injecting HTTP proxy on 127.0.0.1 in front of a real
//! object-store server (s3s-fs in the drills). It forwards every request unchanged —
//! the Host header too, so SigV4 signatures still verify upstream — and, while a
//! [`Drill`] is set, misbehaves on the requests it matches the way real object stores
//! do: latency spikes, 500/503/SlowDown answers, connections reset in the middle of an
//! upload or a download, GET bodies cut short (with a matching Content-Length, so only
//! a length check can tell), and PUT responses lost after the server stored the object.
//!
//! Invariants: a request the drill does not match is forwarded byte for byte; a fault
//! is injected only on matching requests and is counted ([`FaultProxy::injected`]), so
//! a drill can assert its faults really happened. Each request opens its own upstream
//! connection (no pooling: nothing is shared between a faulted request and the next).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// How a matched request misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded after this delay.
    Latency(Duration),
    /// Answered with this status and an S3 error body (`code`), not forwarded.
    Status(u16, &'static str),
    /// The connection is closed after the first part of the request body is read.
    ResetUpload,
    /// Half the response body is sent, then the connection is closed.
    ResetDownload,
    /// Half the response body is sent, with a Content-Length saying that is all.
    TruncateGet,
    /// Forwarded (the server stores it), then the connection is closed unanswered.
    LostResponse,
}

/// Which objects a drill's fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objects {
    Chunks,
    Manifests,
    /// Chunks and manifests.
    Backup,
}

/// A fault, where and how often: it hits the matching requests numbered `start`,
/// `start + every`, … (counting from 0), at most `times` in all.
#[derive(Clone, Copy, Debug)]
pub struct Drill {
    pub fault: Fault,
    /// The HTTP method it applies to ("PUT", "GET"; "" for any).
    pub method: &'static str,
    pub objects: Objects,
    pub start: u32,
    pub every: u32,
    pub times: u32,
}

#[derive(Default)]
struct State {
    drill: Mutex<Option<Drill>>,
    matched: AtomicU32,
    injected: AtomicU32,
}

/// The running proxy (stopped when dropped).
pub struct FaultProxy {
    pub port: u16,
    state: Arc<State>,
    _rt: tokio::runtime::Runtime,
}

type Body = BoxBody<Bytes, std::io::Error>;

impl FaultProxy {
    /// Starts a proxy to `127.0.0.1:upstream` on a free port.
    pub fn start(upstream: u16) -> FaultProxy {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::default());
        let st = state.clone();
        rt.spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let st = st.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let st = st.clone();
                        async move { handle(&st, upstream, req).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(sock), svc)
                        .await;
                });
            }
        });
        FaultProxy {
            port,
            state,
            _rt: rt,
        }
    }

    /// Sets (or with `None` clears) the drill and resets the counters.
    pub fn set(&self, drill: Option<Drill>) {
        *self.state.drill.lock().unwrap() = drill;
        self.state.matched.store(0, Ordering::SeqCst);
        self.state.injected.store(0, Ordering::SeqCst);
    }

    /// Faults injected since the last [`FaultProxy::set`].
    pub fn injected(&self) -> u32 {
        self.state.injected.load(Ordering::SeqCst)
    }
}

/// The fault for this request, if the drill picks it (and counts it).
fn pick(st: &State, method: &str, path: &str) -> Option<Fault> {
    let d = (*st.drill.lock().unwrap())?;
    let object = match d.objects {
        Objects::Chunks => path.contains("/chunk-"),
        Objects::Manifests => path.ends_with("/manifest.json"),
        Objects::Backup => path.contains("/chunk-") || path.ends_with("/manifest.json"),
    };
    if !object || !(d.method.is_empty() || d.method == method) {
        return None;
    }
    let n = st.matched.fetch_add(1, Ordering::SeqCst);
    let hit = n >= d.start && (n - d.start).is_multiple_of(d.every.max(1));
    if !hit {
        return None;
    }
    // Count the injection only while under the budget.
    st.injected
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |i| {
            (i < d.times).then_some(i + 1)
        })
        .ok()
        .map(|_| d.fault)
}

fn full(b: Bytes) -> Body {
    Full::new(b)
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// An error the server side of hyper answers by closing the connection.
fn reset() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, "fault: reset")
}

async fn handle(
    st: &State,
    upstream: u16,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    let fault = pick(st, req.method().as_str(), req.uri().path());
    let (parts, mut body) = req.into_parts();
    match fault {
        Some(Fault::Latency(d)) => tokio::time::sleep(d).await,
        Some(Fault::Status(status, code)) => {
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>fault injected by the test proxy</Message></Error>"
            );
            return Ok(Response::builder()
                .status(status)
                .header("content-type", "application/xml")
                .body(full(Bytes::from(xml)))
                .unwrap());
        }
        Some(Fault::ResetUpload) => {
            // Read the first part of the body, then hang up.
            let _ = body.frame().await;
            return Err(reset());
        }
        _ => {}
    }
    let bytes = body
        .collect()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .to_bytes();
    let mut up = Request::from_parts(parts, Full::new(bytes));
    let path = up
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    *up.uri_mut() = path.parse().unwrap();
    let resp = forward(upstream, up).await?;
    let (mut parts, body) = resp.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .to_bytes();
    parts.headers.remove("transfer-encoding");
    parts.headers.remove("connection");
    let half = body.slice(..body.len() / 2);
    let body = match fault {
        Some(Fault::LostResponse) => return Err(reset()),
        Some(Fault::ResetDownload) if parts.status.is_success() => {
            let frames: Vec<Result<Frame<Bytes>, std::io::Error>> =
                vec![Ok(Frame::data(half)), Err(reset())];
            StreamBody::new(futures::stream::iter(frames)).boxed()
        }
        Some(Fault::TruncateGet) if parts.status.is_success() => {
            parts.headers.insert("content-length", half.len().into());
            full(half)
        }
        _ => full(body),
    };
    Ok(Response::from_parts(parts, body))
}

/// Sends one request to the upstream server on a connection of its own.
async fn forward(
    upstream: u16,
    req: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, std::io::Error> {
    let addr: SocketAddr = ([127, 0, 0, 1], upstream).into();
    let sock = tokio::net::TcpStream::connect(addr).await?;
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(sock))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    send.send_request(req).await.map_err(std::io::Error::other)
}
