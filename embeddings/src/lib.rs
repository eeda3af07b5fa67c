//! rast-embeddings — local sentence embeddings with all-MiniLM-L6-v2 on candle.
//!
//! The model is loaded from a folder holding `model.safetensors`, `config.json` and
//! `tokenizer.json` (see [`resolve_model_dir`]). Embeddings match
//! sentence-transformers: tokens truncated at [`MAX_TOKENS`] (256, the model's
//! `max_seq_length`), BERT forward pass in f32, **mean pooling over the attention
//! mask** built from each text's real length, then L2 normalisation. The shipped
//! tokenizer.json pads every input to 128 and truncates at 128; both are switched off
//! and padding is done here, per batch, to the longest text of the batch.
//!
//! Throughput: texts are sorted by token count before batching, so a batch pads to a
//! length close to all of its members (padding is wasted compute); results come back
//! in input order.
//!
//! Loading is lazy: [`Encoder::load`] checks the folder and reads the config (the
//! width), the weights and the tokenizer are read on the first text to embed — so a
//! process that finds every query vector in a cache never pays for the model (about
//! 90 MB of weights and a 700 kB tokenizer). A folder that cannot be loaded fails at
//! that first use with the same error.

mod error;
pub mod quantized;
mod resolve;
mod tokenize;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::Tokenizer;

pub use error::{Error, Result};
pub use resolve::{resolve_model_dir, MODEL_NAME};
use tokenize::load_tokenizer;
pub use tokenize::MAX_TOKENS;

/// Texts per forward pass (16 beats 64 on a CPU: less padding, better cache use).
pub const BATCH: usize = 16;

/// The model and tokenizer, once loaded.
struct Loaded {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

/// A sentence encoder (loaded on first use).
pub struct Encoder {
    dir: PathBuf,
    config: Config,
    dim: usize,
    loaded: std::sync::OnceLock<std::result::Result<Loaded, String>>,
}

impl Encoder {
    /// Opens the model in `dir`: checks its files and reads its config; the weights
    /// (memory-mapped) and the tokenizer are loaded on the first text to embed.
    pub fn load(dir: &Path) -> Result<Encoder> {
        for f in ["model.safetensors", "config.json", "tokenizer.json"] {
            if !dir.join(f).is_file() {
                return Err(Error::MissingFile(dir.to_path_buf(), f));
            }
        }
        let load_err = |reason: String| Error::Load {
            path: dir.to_path_buf(),
            reason,
        };
        let config: Config = serde_json::from_slice(
            &std::fs::read(dir.join("config.json")).map_err(|e| load_err(e.to_string()))?,
        )
        .map_err(|e| load_err(e.to_string()))?;
        Ok(Encoder {
            dir: dir.to_path_buf(),
            dim: config.hidden_size,
            config,
            loaded: std::sync::OnceLock::new(),
        })
    }

    /// Whether the weights have been loaded (a text was embedded).
    pub fn is_loaded(&self) -> bool {
        self.loaded.get().is_some()
    }

    fn loaded(&self) -> Result<&Loaded> {
        self.loaded
            .get_or_init(|| Self::load_weights(&self.dir, &self.config).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|reason| Error::Load {
                path: self.dir.clone(),
                reason: reason.clone(),
            })
    }

    fn load_weights(dir: &Path, config: &Config) -> Result<Loaded> {
        let tokenizer = load_tokenizer(dir)?;
        let device = Device::Cpu;
        // SAFETY: the weights file is not modified while mapped (it is ours, read-only).
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(
                &[dir.join("model.safetensors")],
                DType::F32,
                &device,
            )?
        };
        let model = BertModel::load(vb, config)?;
        Ok(Loaded {
            model,
            tokenizer,
            device,
        })
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
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        let mut done = 0;
        for batch in order.chunks(BATCH) {
            let len = batch
                .iter()
                .map(|&i| encodings[i].get_ids().len())
                .max()
                .unwrap_or(0)
                .max(1);
            let mut ids = Vec::with_capacity(batch.len() * len);
            let mut types = Vec::with_capacity(batch.len() * len);
            let mut mask = Vec::with_capacity(batch.len() * len);
            for &i in batch {
                let e = &encodings[i];
                let n = e.get_ids().len();
                ids.extend_from_slice(e.get_ids());
                types.extend_from_slice(e.get_type_ids());
                mask.extend(std::iter::repeat_n(1u32, n));
                ids.extend(std::iter::repeat_n(0u32, len - n));
                types.extend(std::iter::repeat_n(0u32, len - n));
                mask.extend(std::iter::repeat_n(0u32, len - n));
            }
            let shape = (batch.len(), len);
            let ids = Tensor::from_vec(ids, shape, &m.device)?;
            let types = Tensor::from_vec(types, shape, &m.device)?;
            let mask = Tensor::from_vec(mask, shape, &m.device)?;
            let hidden = m.model.forward(&ids, &types, Some(&mask))?; // (b, len, dim)
            let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (b, len, 1)
            let summed = hidden.broadcast_mul(&m)?.sum(1)?; // (b, dim)
            let counts = m.sum(1)?.clamp(1e-9, f32::MAX as f64)?; // (b, 1)
            let mean = summed.broadcast_div(&counts)?;
            let norm = mean
                .sqr()?
                .sum_keepdim(1)?
                .sqrt()?
                .clamp(1e-12, f32::MAX as f64)?;
            let unit = mean.broadcast_div(&norm)?;
            for (row, &i) in unit.to_vec2::<f32>()?.into_iter().zip(batch) {
                out[i] = row;
            }
            done += batch.len();
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
