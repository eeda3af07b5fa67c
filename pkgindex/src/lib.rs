//! rast-pkgindex — the hybrid index of packages and `/etc`.
//!
//! Sources: pacman sync databases in any form pacman writes ([`pacdb`]), a snapshot's
//! local database, and an `/etc` tree walked under the secret rules of [`secrets`] and
//! cut into chunks ([`etcwalk`]). Each becomes a [`doc::Doc`] with a stable id and a
//! content hash. [`index::build`] keeps a tantivy BM25 index ([`bm25`]) and dense
//! vectors from the local MiniLM model ([`vectors`]: an embedded exact-scan store, or
//! Qdrant via [`qdrant`]) in step, re-embedding only what changed.
//! [`index::Searcher`] answers with exact names first, then reciprocal-rank fusion
//! ([`rank`]) of both lists; the dense list looks packages up with the request framed
//! as one for software ([`frame`]).
//!
//! Invariant: no text enters documents, the index dir or logs before
//! [`secrets::admit`] has approved and redacted it.

mod atomic;
pub mod bm25;
pub mod catalog;
pub mod desc;
pub mod doc;
pub mod etcwalk;
pub mod family;
pub mod fleet;
pub mod frame;
pub mod history;
pub mod index;
pub mod pacdb;
pub mod qdrant;
pub mod query_cache;
pub mod rank;
mod scan;
pub mod secrets;
pub mod sparse;
pub mod upstream;
pub mod vectors;
pub mod vocab;

use std::path::PathBuf;

/// Errors of the index crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error("package database: {0}")]
    Db(String),
    #[error("index: {0}")]
    Index(String),
    #[error("no index in {0} ({1})")]
    NoIndex(PathBuf, String),
}

pub type Result<T> = std::result::Result<T, Error>;
