//! rast-backup — encrypted incremental btrfs backups.
//!
//! Pipeline: `btrfs send` (full, or `-p PARENT`) → cut into chunks of plaintext →
//! each chunk zstd-compressed and age-encrypted on its own → uploaded to an object
//! store (S3, GCS, Azure or a local directory, via `object_store`). A manifest listing
//! every chunk (plaintext length, ciphertext SHA-256) is written **last**: a backup
//! without its manifest is incomplete, never listed as complete, and `clean` removes
//! it. See docs/backup-format.md.
//!
//! Modules: [`engine`] (the operations), [`verify`] (what a restore needs, checked), [`seal`] (send stream → sealed chunks),
//! [`unseal`] (a sealed chunk → its plaintext, checked against the manifest),
//! [`format`] (manifest and object names), [`store`] (targets by URL), [`retention`],
//! [`schedule`], [`keys`].
//!
//! Invariants: nothing of a snapshot's content leaves the machine unencrypted;
//! listing, chain resolution, verification of presence/hashes and pruning need only
//! public data (a machine may hold no identity); pruning never deletes a backup a kept
//! one depends on; a restore judges completeness by the flags `btrfs receive` sets only at its end and deletes what it left half-received (see `engine::restore`).

mod child;
pub mod engine;
pub mod format;
pub mod keys;
mod pool;
pub mod retention;
pub mod schedule;
pub mod seal;
pub mod store;
pub mod unseal;
pub mod verify;

/// Errors of the backup crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("target {url}: {reason}")]
    Target { url: String, reason: String },
    #[error("object store: {0}")]
    Store(String),
    #[error("keys: {0}")]
    Keys(String),
    /// The identity given is not one the backup was sealed to (its data is intact).
    #[error("keys: {0}")]
    WrongKey(String),
    #[error("backup {0} not found (see `rast backup list`)")]
    NotFound(String),
    #[error("backup {id} is damaged: {reason}")]
    Damaged { id: String, reason: String },
    #[error("no space left on {into} to restore {id} (it needs {need} bytes of send stream); the half-received subvolume is deleted, the rest of {into} is untouched — free space there or restore elsewhere")]
    NoSpace { id: String, into: String, need: u64 },
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<object_store::Error> for Error {
    fn from(e: object_store::Error) -> Self {
        // The root cause, not only the outermost message.
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            let t = s.to_string();
            if !msg.contains(&t) {
                msg.push_str(": ");
                msg.push_str(&t);
            }
            src = s.source();
        }
        Error::Store(msg)
    }
}
