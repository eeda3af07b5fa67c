//! Where the model lives: `--model-dir`, then `RAST_MODEL_DIR`, then
//! `/usr/share/rast/models/all-MiniLM-L6-v2`, then this repository's
//! `models/all-MiniLM-L6-v2` (for builds from a checkout).

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Folder name of the model.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";

/// Candidate folders, in order.
pub fn candidates(flag: Option<&Path>) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(f) = flag {
        v.push(f.to_path_buf());
    }
    if let Some(env) = std::env::var_os("RAST_MODEL_DIR") {
        v.push(PathBuf::from(env));
    }
    v.push(Path::new("/usr/share/rast/models").join(MODEL_NAME));
    v.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../models")
            .join(MODEL_NAME),
    );
    v
}

/// The first candidate that holds a model. An explicit `flag` must hold one.
pub fn resolve_model_dir(flag: Option<&Path>) -> Result<PathBuf, Error> {
    let c = candidates(flag);
    if let Some(f) = flag {
        if !f.join("model.safetensors").is_file() {
            return Err(Error::MissingFile(f.to_path_buf(), "model.safetensors"));
        }
    }
    c.iter()
        .find(|d| d.join("model.safetensors").is_file())
        .cloned()
        .ok_or_else(|| {
            Error::NoModel(
                c.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
}
