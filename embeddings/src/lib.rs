//! rast-embeddings — the local sentence-embedding encoder (not built yet).
//!
//! Will own: the candle BERT encoder for all-MiniLM-L6-v2 loaded from a local folder,
//! tokenization with `tokenizers`, length-sorted batching, mean pooling over the
//! attention mask and L2 normalisation (as sentence-transformers does).
