//! Whole-or-nothing file writes for the index's own files (catalog, state). A leaf
//! module: the catalog and the index both write through it.

use std::path::Path;

use crate::{Error, Result};

/// Writes `p` whole or not at all: temp file beside it, fsync, rename.
pub(crate) fn atomic_write(p: &Path, bytes: &[u8]) -> Result<()> {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = p.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| Error::Io(tmp.clone(), e))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::Io(tmp.clone(), e))?;
    std::fs::rename(&tmp, p).map_err(|e| Error::Io(p.to_path_buf(), e))
}
