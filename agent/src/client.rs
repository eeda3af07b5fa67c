//! A blocking client for the agent socket (the CLI is synchronous).
//!
//! [`Client::connect`] fails fast when no agent listens, so callers can fall back to
//! in-process work; every read and write has a timeout so a stuck agent cannot hang
//! the CLI.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::proto::{ErrorBody, Request, Response, MAX_LINE};

/// Where the agent listens unless configured otherwise.
pub const DEFAULT_SOCKET: &str = "/run/rast/agent.sock";

/// `RAST_AGENT_SOCKET`, or the default.
pub fn socket_path() -> PathBuf {
    std::env::var_os("RAST_AGENT_SOCKET")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET))
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach rast-agent at {path}: {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("talking to rast-agent: {0}")]
    Io(#[from] std::io::Error),
    #[error("rast-agent sent something that is not a response: {0}")]
    Protocol(String),
    #[error("rast-agent refused: {}", .0.message)]
    Remote(ErrorBody),
}

pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    /// Connects to the agent at `path`; `timeout` bounds each read and write.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Client, ClientError> {
        let s = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_path_buf(),
            source,
        })?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        Ok(Client {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    /// Sends `req` and returns its result, or the agent's error.
    pub fn call(&mut self, req: &Request) -> Result<Value, ClientError> {
        let mut line = serde_json::to_vec(req).map_err(|e| ClientError::Protocol(e.to_string()))?;
        line.push(b'\n');
        self.writer.write_all(&line)?;
        let mut back = String::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64 * 64)
            .read_line(&mut back)?;
        if n == 0 {
            return Err(ClientError::Protocol("connection closed".into()));
        }
        let r: Response =
            serde_json::from_str(&back).map_err(|e| ClientError::Protocol(e.to_string()))?;
        match (r.ok, r.result, r.error) {
            (true, Some(v), _) => Ok(v),
            (false, _, Some(e)) => Err(ClientError::Remote(e)),
            _ => Err(ClientError::Protocol("neither result nor error".into())),
        }
    }
}
