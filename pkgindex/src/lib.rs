//! rast-pkgindex — the hybrid package and `/etc` index (not built yet).
//!
//! Will own: pacman sync/local database readers, the `/etc` walker with its secret
//! filter and chunker, stable documents with content hashes, the tantivy BM25 index,
//! the `VectorStore` trait (embedded exact scan + Qdrant) and reciprocal-rank fusion.
//! See `docs/architecture.md` and the index/search issue.
