//! Errors of the snapshot crate. Every failure a user can hit has its own variant
//! with a message that says what to do; `cli` renders them once.

use std::path::PathBuf;

use crate::SnapId;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid snapshot id {0:?}: an id is a non-negative number such as 0 or 12")]
    InvalidId(String),
    #[error("snapshot {0} does not exist (see `rast tree`)")]
    NoSuchSnapshot(SnapId),
    #[error("snapshot 0 is the base snapshot: it changes only by `rast base-update`; to change the system, clone it, change the clone and deploy it: `rast clone 0`, then `rast install N PKG…` and `rast deploy N` with the new N")]
    BaseImmutable,
    #[error("refusing to delete snapshot {id}: it is the {role} snapshot")]
    Protected { id: SnapId, role: &'static str },
    #[error("{0} is not a btrfs filesystem")]
    NotBtrfs(PathBuf),
    #[error("{0} is not the top level (subvolid=5) of a btrfs filesystem; mount it with -o subvolid=5 and pass that directory to --root")]
    NotTopLevel(PathBuf),
    #[error(
        "{0} holds no rastOS/astOS layout (no @.snapshots or .snapshots); run `rast init` first"
    )]
    NotInitialised(PathBuf),
    #[error("{0} is already initialised (found {1})")]
    AlreadyInitialised(PathBuf, PathBuf),
    #[error("tree metadata {path} is unreadable ({reason}); run `rast fsck` to rebuild it from the subvolumes")]
    CorruptMeta { path: PathBuf, reason: String },
    #[error("tree metadata {0} is missing; run `rast fsck` to rebuild it from the subvolumes")]
    MissingMeta(PathBuf),
    #[error("cannot import astOS tree {path}: {reason}")]
    AstosImport { path: PathBuf, reason: String },
    #[error("another rast is changing the tree (pid {pid}: {what}); waited {waited_s} s — retry later, or check that process")]
    Locked {
        pid: String,
        what: String,
        waited_s: u64,
    },
    #[error("snapshot {0} is being changed by an unfinished transaction (leftover {1}); run `rast unlock {0}` or `rast tmp` if no rast is running")]
    Busy(SnapId, PathBuf),
    #[error("subvolume {path}: {op} failed: {source}")]
    Btrfs {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{program} failed ({status}){detail}")]
    CommandFailed {
        program: String,
        status: String,
        detail: String,
    },
    #[error("invalid ast.conf line {line}: {text:?} (expected key::value)")]
    BadConf { line: usize, text: String },
    #[error("invalid package name {0:?}: names use letters, digits and @._+- and do not start with - or .")]
    InvalidPackage(String),
    #[error("no deployed slot (snapshot-tmp/snapshot-tmp0) is the default subvolume; deploy a snapshot first")]
    NoDeployment,
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
