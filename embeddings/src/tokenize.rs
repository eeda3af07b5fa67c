//! The model's tokenizer as the encoders use it: tokenizer.json with its shipped padding
//! switched off (batches pad themselves) and truncation at [`MAX_TOKENS`].

use std::path::Path;

use tokenizers::{Tokenizer, TruncationParams};

use crate::error::{Error, Result};

/// Truncation length in tokens (sentence-transformers' max_seq_length for MiniLM).
pub const MAX_TOKENS: usize = 256;

/// The model's tokenizer, with its shipped padding off and truncation at [`MAX_TOKENS`].
pub(crate) fn load_tokenizer(dir: &Path) -> Result<Tokenizer> {
    let load_err = |reason: String| Error::Load {
        path: dir.to_path_buf(),
        reason,
    };
    let mut tokenizer =
        Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| load_err(e.to_string()))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..Default::default()
        }))
        .map_err(|e| load_err(e.to_string()))?;
    Ok(tokenizer)
}
