//! The BERT forward pass of all-MiniLM-L6-v2, written for embedding many texts on a CPU.
//!
//! Why not candle's `BertModel`: an index build spent ~20 % of its time in candle's
//! thread pool handing small operations between two threads, ~18 % in scalar
//! `erff`/`expf`, and padded every batch to its longest text. Here:
//! - **Packed, not padded.** A chunk's texts are laid end to end (T tokens in all); the
//!   linear layers, GELU and layer norms run over all T rows at once, and attention runs
//!   per text over its own tokens only — so no padding and no attention mask exist.
//! - **One thread per chunk.** Chunks of texts run in parallel on rayon's pool; inside a
//!   chunk everything is single-threaded, so threads never wait on each other mid-layer.
//! - **bf16 on AMX, or int16 on AVX-512 VNNI,** for the linear layers where the CPU
//!   allows it, else f32 ([`Precision`], [`linear`]); attention, softmax, GELU and layer
//!   norms stay f32.
//!
//! Invariants: a text's vector depends only on that text (never on its chunk
//! neighbours), so batching and order do not change results; the output is the mean of
//! the last layer's token vectors, L2-normalised — sentence-transformers' pipeline for
//! this model. The config must describe a BERT with GELU and no more than its own
//! position table; anything else is refused at load.

mod amx;
mod linear;
mod math;
mod vnni;

use std::path::Path;

use candle_core::{DType, Device};
use serde::Deserialize;

pub use linear::{Kernel, Precision};
use linear::{Linear, Scratch};

use crate::error::{Error, Result};

/// The fields of config.json this forward pass uses.
#[derive(Deserialize)]
struct Config {
    hidden_size: usize,
    num_attention_heads: usize,
    num_hidden_layers: usize,
    intermediate_size: usize,
    layer_norm_eps: f64,
    hidden_act: String,
    max_position_embeddings: usize,
}

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    /// Query, key and value in one matrix (3·hidden outputs).
    qkv: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    up: Linear,
    down: Linear,
    out_norm: Norm,
}

/// The loaded model.
pub struct Bert {
    hidden: usize,
    heads: usize,
    eps: f32,
    max_positions: usize,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embed_norm: Norm,
    layers: Vec<Layer>,
}

/// A text to embed: its token ids and token type ids (same length, at least one).
pub type Tokens<'a> = (&'a [u32], &'a [u32]);

impl Bert {
    /// Reads `model.safetensors` and `config.json` from `dir`.
    pub fn load(dir: &Path, precision: Precision) -> Result<Bert> {
        let err = |reason: String| Error::Load {
            path: dir.to_path_buf(),
            reason,
        };
        let config: Config = serde_json::from_slice(
            &std::fs::read(dir.join("config.json")).map_err(|e| err(e.to_string()))?,
        )
        .map_err(|e| err(e.to_string()))?;
        if config.hidden_act != "gelu"
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            return Err(err(format!(
                "unsupported BERT config (hidden_act {:?}, {} heads of {} wide)",
                config.hidden_act, config.num_attention_heads, config.hidden_size
            )));
        }
        let mut tensors =
            candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu)?;
        let h = config.hidden_size;
        let word_len = {
            let w = tensors
                .get("embeddings.word_embeddings.weight")
                .ok_or_else(|| err("model.safetensors has no word table".into()))?;
            w.elem_count()
        };
        let mut take = |name: &str, len: usize| -> Result<Vec<f32>> {
            let t = tensors
                .remove(name)
                .ok_or_else(|| err(format!("model.safetensors has no tensor {name}")))?;
            let v = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
            if v.len() != len {
                return Err(err(format!(
                    "{name} has {} values, expected {len}",
                    v.len()
                )));
            }
            Ok(v)
        };
        let word = take("embeddings.word_embeddings.weight", word_len)?;
        if word_len % h != 0 {
            return Err(err(format!(
                "word table of {word_len} values is not {h} wide"
            )));
        }
        let i = config.intermediate_size;
        let position = take(
            "embeddings.position_embeddings.weight",
            config.max_position_embeddings * h,
        )?;
        let token_type = take("embeddings.token_type_embeddings.weight", 2 * h)?;
        let embed_norm = Norm {
            weight: take("embeddings.LayerNorm.weight", h)?,
            bias: take("embeddings.LayerNorm.bias", h)?,
        };
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let mut qkv_w = Vec::with_capacity(3 * h * h);
            let mut qkv_b = Vec::with_capacity(3 * h);
            for part in ["query", "key", "value"] {
                qkv_w.extend(take(&format!("{p}.attention.self.{part}.weight"), h * h)?);
                qkv_b.extend(take(&format!("{p}.attention.self.{part}.bias"), h)?);
            }
            let mut linear = |name: &str, n: usize, k: usize| -> Result<Linear> {
                let w = take(&format!("{p}.{name}.weight"), n * k)?;
                let b = take(&format!("{p}.{name}.bias"), n)?;
                Ok(Linear::new(w, b, n, k, precision))
            };
            let attn_out = linear("attention.output.dense", h, h)?;
            let up = linear("intermediate.dense", i, h)?;
            let down = linear("output.dense", h, i)?;
            let mut norm = |name: &str| -> Result<Norm> {
                Ok(Norm {
                    weight: take(&format!("{p}.{name}.weight"), h)?,
                    bias: take(&format!("{p}.{name}.bias"), h)?,
                })
            };
            let attn_norm = norm("attention.output.LayerNorm")?;
            let out_norm = norm("output.LayerNorm")?;
            layers.push(Layer {
                qkv: Linear::new(qkv_w, qkv_b, 3 * h, h, precision),
                attn_out,
                attn_norm,
                up,
                down,
                out_norm,
            });
        }
        Ok(Bert {
            hidden: h,
            heads: config.num_attention_heads,
            eps: config.layer_norm_eps as f32,
            max_positions: config.max_position_embeddings,
            word,
            position,
            token_type,
            embed_norm,
            layers,
        })
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.hidden
    }

    /// The arithmetic of the linear layers (the first one's: all share a shape class).
    pub fn kernel(&self) -> Kernel {
        self.layers.first().map_or(Kernel::F32, |l| l.qkv.kernel())
    }

    /// Unit vectors for `texts`, in order. Each text is at most the position table long
    /// (the tokenizer truncates well below it) and its ids are inside the vocabulary.
    pub fn embed(&self, texts: &[Tokens]) -> Vec<Vec<f32>> {
        let h = self.hidden;
        let vocab = self.word.len() / h;
        let mut spans = Vec::with_capacity(texts.len());
        let mut t = 0;
        for (ids, types) in texts {
            let len = ids.len().min(self.max_positions);
            assert!(
                len > 0 && types.len() == ids.len(),
                "empty or malformed token list"
            );
            spans.push((t, len));
            t += len;
        }
        // Embeddings: word + position + token type, then layer norm.
        let mut x = vec![0f32; t * h];
        for ((ids, types), &(start, len)) in texts.iter().zip(&spans) {
            for p in 0..len {
                let id = (ids[p] as usize).min(vocab - 1);
                let ty = (types[p] as usize).min(1);
                let row = &mut x[(start + p) * h..][..h];
                let (w, pos, tt) = (
                    &self.word[id * h..][..h],
                    &self.position[p * h..][..h],
                    &self.token_type[ty * h..][..h],
                );
                for j in 0..h {
                    row[j] = w[j] + pos[j] + tt[j];
                }
            }
        }
        math::layer_norm(
            &mut x,
            &self.embed_norm.weight,
            &self.embed_norm.bias,
            self.eps,
        );

        let mut scratch = Scratch::default();
        let (mut qkv, mut ctx, mut tmp, mut up, mut scores) = (
            Vec::new(),
            vec![0f32; t * h],
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for layer in &self.layers {
            layer.qkv.forward(&x, t, &mut scratch, &mut qkv);
            for &(start, len) in &spans {
                self.attention(&qkv, start, len, &mut scores, &mut ctx);
            }
            layer.attn_out.forward(&ctx, t, &mut scratch, &mut tmp);
            let n = &layer.attn_norm;
            math::residual_layer_norm(&mut tmp, &x, &n.weight, &n.bias, self.eps);
            std::mem::swap(&mut x, &mut tmp);
            layer.up.forward_gelu(&x, t, &mut scratch, &mut up);
            layer.down.forward(&up, t, &mut scratch, &mut tmp);
            let n = &layer.out_norm;
            math::residual_layer_norm(&mut tmp, &x, &n.weight, &n.bias, self.eps);
            std::mem::swap(&mut x, &mut tmp);
        }
        spans
            .iter()
            .map(|&(start, len)| {
                let mut v = vec![0f32; h];
                math::mean_rows_unit(&x[start * h..(start + len) * h], &mut v);
                v
            })
            .collect()
    }

    /// Self-attention of one text (rows `start..start+len` of `qkv`), every head,
    /// written into the same rows of `ctx`.
    fn attention(
        &self,
        qkv: &[f32],
        start: usize,
        len: usize,
        scores: &mut Vec<f32>,
        ctx: &mut [f32],
    ) {
        let h = self.hidden;
        let d = h / self.heads;
        let row = 3 * h as isize;
        let scale = 1.0 / (d as f32).sqrt();
        scores.resize(len * len, 0.0);
        assert!(qkv.len() >= (start + len) * 3 * h && ctx.len() >= (start + len) * h);
        for head in 0..self.heads {
            let q = qkv[start * 3 * h + head * d..].as_ptr();
            let k = qkv[start * 3 * h + h + head * d..].as_ptr();
            let v = qkv[start * 3 * h + 2 * h + head * d..].as_ptr();
            // SAFETY: every pointer walks `len` rows of stride 3h (or h for ctx, len for
            // scores) and `d` or `len` columns inside the slices checked above.
            unsafe {
                // scores (len×len) = scale · Q (len×d) · Kᵀ (d×len)
                gemm::gemm(
                    len,
                    len,
                    d,
                    scores.as_mut_ptr(),
                    1,
                    len as isize,
                    false,
                    q,
                    1,
                    row,
                    k,
                    row,
                    1,
                    0.0,
                    scale,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            math::softmax_rows(scores, len);
            // SAFETY: as above.
            unsafe {
                // ctx rows (len×d, stride h) = softmax(scores) (len×len) · V (len×d)
                gemm::gemm(
                    len,
                    d,
                    len,
                    ctx[start * h + head * d..].as_mut_ptr(),
                    1,
                    h as isize,
                    false,
                    scores.as_ptr(),
                    1,
                    len as isize,
                    v,
                    1,
                    row,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
    }
}

/// A deterministic pseudo-random matrix in [-1, 1), for the kernels' tests.
#[cfg(test)]
fn test_matrix(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}
