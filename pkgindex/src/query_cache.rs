//! Query vectors kept on disk beside the index (`query-cache/`), so a new `rast search`
//! process that has seen a query before answers it without loading the model at all
//! (the encoder is lazy: see rast-embeddings).
//!
//! One file per query, named by the BLAKE3 of the model name and the query (the query
//! itself is never written), holding its vector as little-endian f32s; mode 0600;
//! written to a temporary name and renamed, so a reader sees a whole vector or none.
//! Invariants: a file of the wrong size is ignored (and the query embedded again); the
//! cache is best-effort — an index directory the user cannot write simply is not
//! cached into; it never holds more than [`MAX_ENTRIES`] files (at that size it is
//! emptied and starts over). Rebuilding the index with another model changes every key.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Most query vectors kept (1.5 KiB each at 384 dimensions).
pub const MAX_ENTRIES: usize = 4096;

pub struct QueryCache {
    dir: PathBuf,
    dim: usize,
}

impl QueryCache {
    pub fn new(index_dir: &Path, dim: usize) -> QueryCache {
        QueryCache {
            dir: index_dir.join("query-cache"),
            dim,
        }
    }

    fn path(&self, query: &str) -> PathBuf {
        let mut h = blake3::Hasher::new();
        h.update(rast_embeddings::MODEL_NAME.as_bytes());
        h.update(&[0]);
        h.update(query.as_bytes());
        self.dir.join(&h.finalize().to_hex()[..32])
    }

    /// The cached vector of `query`, if there is a whole one.
    pub fn get(&self, query: &str) -> Option<Vec<f32>> {
        let b = std::fs::read(self.path(query)).ok()?;
        if b.len() != self.dim * 4 {
            return None;
        }
        Some(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    }

    /// Keeps `v` as the vector of `query` (silently not, where that cannot be done).
    pub fn put(&self, query: &str, v: &[f32]) {
        let _ = self.try_put(query, v);
    }

    fn try_put(&self, query: &str, v: &[f32]) -> std::io::Result<()> {
        if v.len() != self.dim {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir)?;
        if std::fs::read_dir(&self.dir)?.count() >= MAX_ENTRIES {
            self.clear();
            std::fs::create_dir_all(&self.dir)?;
        }
        let dest = self.path(query);
        let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        f.write_all(&bytes)?;
        drop(f);
        std::fs::rename(&tmp, &dest)
    }

    /// Empties the cache.
    pub fn clear(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_wrong_sizes_ignored_and_bounded() {
        let d = tempfile::tempdir().unwrap();
        let c = QueryCache::new(d.path(), 3);
        assert!(c.get("pdf viewer").is_none());
        c.put("pdf viewer", &[0.5, -1.0, 2.0]);
        assert_eq!(c.get("pdf viewer"), Some(vec![0.5, -1.0, 2.0]));
        assert!(c.get("pdf  viewer").is_none(), "another query, another key");
        c.put("short", &[1.0]);
        assert!(
            c.get("short").is_none(),
            "a vector of the wrong width is not kept"
        );
        std::fs::write(c.path("cut"), [0u8; 5]).unwrap();
        assert!(c.get("cut").is_none(), "a cut file is ignored");
        let names: Vec<String> = std::fs::read_dir(d.path().join("query-cache"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.contains("pdf")),
            "the query is never written"
        );
        c.clear();
        assert!(c.get("pdf viewer").is_none());
    }
}
