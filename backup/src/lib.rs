//! rast-backup — encrypted incremental btrfs backups (not built yet).
//!
//! Will own: the `btrfs send` → zstd → age → object store pipeline, chunked objects,
//! manifests written last, chain resolution, retention, verify and restore.
