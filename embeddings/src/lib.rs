//! rast-embeddings — local sentence embeddings with all-MiniLM-L6-v2.
//!
//! The model is loaded from a folder holding `model.safetensors`, `config.json` and
//! `tokenizer.json` (see [`resolve_model_dir`]). Embeddings match
//! sentence-transformers: tokens truncated at [`MAX_TOKENS`] (256, the model's
//! `max_seq_length`), BERT forward pass, **mean pooling over each text's own tokens**,
//! then L2 normalisation. The shipped tokenizer.json pads every input to 128 and
//! truncates at 128; both are switched off.
//!
//! Documents go through [`bert`], a forward pass written for throughput: texts packed
//! end to end (no padding), one chunk of texts per thread, the linear layers in bf16 on
//! AMX tiles or in 16-bit integers on AVX-512 VNNI where the CPU allows it, else f32
//! ([`Precision`], [`Kernel`]). Queries of a cold
//! process go through the 8-bit copy in [`quantized`]. Results come back in input order
//! and a text's vector never depends on the other texts embedded with it.
//!
//! Loading is lazy: [`Encoder::load`] checks the folder and reads the config (the
//! width), the weights and the tokenizer are read on the first text to embed — so a
//! process that finds every query vector in a cache never pays for the model (about
//! 90 MB of weights and a 700 kB tokenizer). A folder that cannot be loaded fails at
//! that first use with the same error.

pub mod bert;
mod error;
pub mod quantized;
mod resolve;
mod tokenize;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use tokenizers::Tokenizer;

pub use bert::{Kernel, Precision};

pub use error::{Error, Result};
pub use resolve::{resolve_model_dir, MODEL_NAME};
use tokenize::load_tokenizer;
pub use tokenize::MAX_TOKENS;

/// Tokens per chunk of texts one thread embeds in one forward pass (texts are packed end
/// to end, so this bounds the work and the buffers, ~8 MB of activations at 1,024).
pub const CHUNK_TOKENS: usize = 1024;

/// The model and tokenizer, once loaded.
struct Loaded {
    model: bert::Bert,
    tokenizer: Tokenizer,
}

/// A sentence encoder (loaded on first use).
pub struct Encoder {
    dir: PathBuf,
    dim: usize,
    precision: Precision,
    loaded: std::sync::OnceLock<std::result::Result<Loaded, String>>,
}

/// The one field of config.json needed before the weights load.
#[derive(serde::Deserialize)]
struct Width {
    hidden_size: usize,
}

impl Encoder {
    /// Opens the model in `dir`: checks its files and reads its config; the weights and
    /// the tokenizer are loaded on the first text to embed. Arithmetic:
    /// [`Precision::Auto`].
    pub fn load(dir: &Path) -> Result<Encoder> {
        Self::load_with(dir, Precision::Auto)
    }

    /// As [`Encoder::load`], choosing the linear layers' arithmetic.
    pub fn load_with(dir: &Path, precision: Precision) -> Result<Encoder> {
        for f in ["model.safetensors", "config.json", "tokenizer.json"] {
            if !dir.join(f).is_file() {
                return Err(Error::MissingFile(dir.to_path_buf(), f));
            }
        }
        let load_err = |reason: String| Error::Load {
            path: dir.to_path_buf(),
            reason,
        };
        let config: Width = serde_json::from_slice(
            &std::fs::read(dir.join("config.json")).map_err(|e| load_err(e.to_string()))?,
        )
        .map_err(|e| load_err(e.to_string()))?;
        Ok(Encoder {
            dir: dir.to_path_buf(),
            dim: config.hidden_size,
            precision,
            loaded: std::sync::OnceLock::new(),
        })
    }

    /// Whether the weights have been loaded (a text was embedded).
    pub fn is_loaded(&self) -> bool {
        self.loaded.get().is_some()
    }

    fn loaded(&self) -> Result<&Loaded> {
        self.loaded
            .get_or_init(|| {
                Self::load_weights(&self.dir, self.precision).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|reason| Error::Load {
                path: self.dir.clone(),
                reason: reason.clone(),
            })
    }

    fn load_weights(dir: &Path, precision: Precision) -> Result<Loaded> {
        Ok(Loaded {
            tokenizer: load_tokenizer(dir)?,
            model: bert::Bert::load(dir, precision)?,
        })
    }

    /// The arithmetic the linear layers run in on this CPU (loads the weights).
    pub fn kernel(&self) -> Result<Kernel> {
        Ok(self.loaded()?.model.kernel())
    }

    /// The model folder.
    pub fn model_dir(&self) -> &Path {
        &self.dir
    }

    /// Embedding width (384 for MiniLM).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of tokens `text` has (after truncation, special tokens included).
    pub fn token_count(&self, text: &str) -> Result<usize> {
        Ok(self
            .loaded()?
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?
            .len())
    }

    /// Embeds one text.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>> {
        Ok(self.embed(&[text])?.pop().expect("one in, one out"))
    }

    /// Embeds `texts` (any number), returning unit vectors in input order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed_with_progress(texts, &mut |_| {})
    }

    /// As [`Encoder::embed`], calling `progress(done)` after each batch.
    pub fn embed_with_progress(
        &self,
        texts: &[&str],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new()); // nothing to embed: the weights stay unloaded
        }
        let m = self.loaded()?;
        let encodings = m
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        // Longest first, so the last chunks (when threads run out of work) are short.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].get_ids().len()));
        let mut chunks: Vec<&[usize]> = Vec::new();
        let (mut from, mut tokens) = (0, 0);
        for (at, &i) in order.iter().enumerate() {
            tokens += encodings[i].get_ids().len().max(1);
            if tokens >= CHUNK_TOKENS {
                chunks.push(&order[from..=at]);
                (from, tokens) = (at + 1, 0);
            }
        }
        if from < order.len() {
            chunks.push(&order[from..]);
        }
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        let mut done = 0;
        // Waves of a few chunks per thread, so progress is reported as work lands.
        let wave = 4 * rayon::current_num_threads();
        for group in chunks.chunks(wave) {
            let vectors: Vec<Vec<Vec<f32>>> = group
                .par_iter()
                .map(|chunk| {
                    let tokens: Vec<bert::Tokens> = chunk
                        .iter()
                        .map(|&i| {
                            let e = &encodings[i];
                            // Never empty with special tokens on ([CLS] [SEP]); one
                            // padding id keeps the forward pass total if it ever is.
                            if e.get_ids().is_empty() {
                                (&[0u32][..], &[0u32][..])
                            } else {
                                (e.get_ids(), e.get_type_ids())
                            }
                        })
                        .collect();
                    m.model.embed(&tokens)
                })
                .collect();
            for (chunk, vs) in group.iter().zip(vectors) {
                for (&i, v) in chunk.iter().zip(vs) {
                    out[i] = v;
                }
                done += chunk.len();
            }
            progress(done);
        }
        Ok(out)
    }
}

/// Makes glibc keep freed memory for reuse instead of handing every large block back to
/// the kernel. A forward pass allocates and frees dozens of tensors of a few MB; by
/// default each is a fresh `mmap` (glibc's threshold is 128 KiB), so the kernel faults
/// in and zeroes its pages every time — measured at a fifth of an index build's time
/// (63 → 79 docs/s on Arch's 3,568 packages). Call it in processes that embed many
/// texts (an index build); the cost is that the process keeps its peak heap until it
/// exits. A no-op off glibc.
pub fn reuse_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}

/// Cosine similarity of two unit vectors (their dot product).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
