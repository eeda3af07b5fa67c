//! The crate's errors: a model folder that is missing a file or cannot be loaded, the
//! tokenizer's and candle's own failures.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("model folder {0} is missing {1}; fetch the model with scripts/fetch-model")]
    MissingFile(PathBuf, &'static str),
    #[error("no model folder found (tried {0}); run scripts/fetch-model, or pass --model-dir / set RAST_MODEL_DIR")]
    NoModel(String),
    #[error("loading the model from {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("model: {0}")]
    Candle(#[from] candle_core::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
