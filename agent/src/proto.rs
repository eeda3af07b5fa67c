//! The rast-agent wire protocol: newline-delimited JSON over a Unix stream socket.
//!
//! A client writes one [`Request`] object per line and reads one [`Response`] object
//! per line, in order; a connection may carry any number of requests. Lines longer
//! than [`MAX_LINE`] bytes close the connection.
//!
//! ```text
//! → {"method":"plan","request":"install htop"}
//! ← {"ok":true,"result":{"request":"install htop","actions":[…],…}}
//! → {"method":"refresh"}
//! ← {"ok":false,"error":{"code":"forbidden","message":"refresh needs root"}}
//! ```
//!
//! Invariant: [`Request::privileged`] is the single list of what changes state on the
//! machine; the server refuses those to peers that are not root (SO_PEERCRED).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bumped when a request or result changes incompatibly; `status` reports it.
pub const PROTOCOL: u32 = 1;

/// Longest accepted request line (bytes).
pub const MAX_LINE: usize = 64 * 1024;

/// One request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// The agent's version, uptime, index, counters and the caller's rights.
    Status,
    /// A typed plan for a plain-words request (nothing is run).
    Plan { request: String },
    /// Hybrid search over packages and /etc.
    Search {
        query: String,
        #[serde(default = "default_limit")]
        limit: usize,
        /// "package" or "config"; both when absent.
        #[serde(default)]
        kind: Option<String>,
    },
    /// A `--fleet` query over the Qdrant collection the agent's host publishes to,
    /// grouped by host (`limit` per host; `hosts` empty: every host).
    FleetSearch {
        query: String,
        #[serde(default = "default_limit")]
        limit: usize,
        #[serde(default)]
        kind: Option<String>,
        #[serde(default)]
        hosts: Vec<String>,
    },
    /// What the loaded index holds and when it was last refreshed.
    IndexStatus,
    /// The backup job: schedule, next run, last run, whether one is running.
    BackupStatus,
    /// Rebuild the index now (root only; the pacman hook sends this).
    Refresh,
    /// Start the configured backup job now (root only).
    BackupRun,
}

fn default_limit() -> usize {
    10
}

impl Request {
    /// Whether only root may ask this.
    pub fn privileged(&self) -> bool {
        matches!(self, Request::Refresh | Request::BackupRun)
    }

    /// The method name as on the wire (logs and counters).
    pub fn method(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Plan { .. } => "plan",
            Request::Search { .. } => "search",
            Request::FleetSearch { .. } => "fleet_search",
            Request::IndexStatus => "index_status",
            Request::BackupStatus => "backup_status",
            Request::Refresh => "refresh",
            Request::BackupRun => "backup_run",
        }
    }
}

/// Machine-readable error classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The peer may not ask this (not root).
    Forbidden,
    /// The line was not a valid request.
    BadRequest,
    /// The agent cannot answer now (no index loaded, no backup job configured).
    Unavailable,
    /// Something failed while answering.
    Internal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// One response: `ok` with a `result`, or not `ok` with an `error`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl Response {
    pub fn ok(result: Value) -> Response {
        Response {
            ok: true,
            result: Some(result),
            error: None,
        }
    }

    pub fn err(code: ErrorCode, message: impl Into<String>) -> Response {
        Response {
            ok: false,
            result: None,
            error: Some(ErrorBody {
                code,
                message: message.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_reject_unknowns() {
        let r: Request =
            serde_json::from_str(r#"{"method":"search","query":"pdf reader"}"#).unwrap();
        assert_eq!(
            r,
            Request::Search {
                query: "pdf reader".into(),
                limit: 10,
                kind: None
            }
        );
        assert!(serde_json::from_str::<Request>(r#"{"method":"rm"}"#).is_err());
        assert!(serde_json::from_str::<Request>(
            r#"{"method":"plan","request":"x","as_root":true}"#
        )
        .is_err());
        for m in [Request::Refresh, Request::BackupRun] {
            assert!(m.privileged());
            let back: Request = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            assert_eq!(back, m);
        }
        assert!(!Request::Plan {
            request: "x".into()
        }
        .privileged());
    }
}
