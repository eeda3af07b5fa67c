//! A quantized copy of the encoder for queries: the same MiniLM, its matrices in 8-bit
//! blocks (ggml's Q8_0, 32 weights and one f16 scale per block), in one GGUF file.
//!
//! Why: a cold `rast search` with a query never seen before must load an encoder. The
//! f32 model is 90 MB of weights (47 MB of them the 30,522-row word table a query uses
//! ten rows of); loading it costs ~100 ms and ~175 MiB of peak memory. The Q8_0 copy is
//! 25 MB, loads in milliseconds, and its query vectors stay within cosine 0.999 of the
//! f32 model's (measured over the search query sets; a unit test checks the floor).
//! Documents are always embedded by the f32 model ([`crate::Encoder`]); only queries
//! use this copy.
//!
//! Invariants: the file records which model it was made from (size and modification
//! time of `model.safetensors`, and the config's text); [`QueryEncoder::open`] refuses a
//! file made from another model, so a stale copy is never used — callers fall back to
//! the f32 encoder. The file is written atomically (temporary file, then rename).
//! One text per forward pass (no padding, so no attention mask is needed). The word
//! table stays in the file and a query reads its tokens' rows; the tokenizer is built in
//! code from vocab.txt when the writer checked it agrees with tokenizer.json (recorded
//! in the file), else tokenizer.json is parsed.

use std::path::{Path, PathBuf};

use candle_core::quantized::{gguf_file, GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::LayerNorm;
use tokenizers::Tokenizer;

use crate::error::{Error, Result};
use crate::tokenize::{bert_tokenizer, load_tokenizer};

/// File name beside an index.
pub const FILE_NAME: &str = "query-encoder.gguf";
const SOURCE_KEY: &str = "rast.source";
const TOKENIZER_KEY: &str = "rast.tokenizer";
const BUILT_TOKENIZER: &str = "bert-wordpiece";
const WORD_TABLE: &str = "embeddings.word_embeddings.weight";

/// Texts that exercise the tokenizer: accents, capitals, CJK, punctuation, digits,
/// unknown words, long input.
const TOKENIZER_PROBES: &[&str] = &[
    "",
    "pdf viewer",
    "Ünïcödé naïve café résumé Ångström",
    "東京 北京 서울 Москва",
    "split and merge MKV videos!!! (fast) -- [really] 1,234.5 $%&",
    "libreoffice-fresh: LibreOffice branch which contains new features and program enhancements",
    "/etc/ssh/sshd_config PermitRootLogin prohibit-password #Port 22",
    "qwertyuiopasdfghjklzxcvbnm xylophonist's dwarves' \u{1F600} emoji 😀 tab\there",
];

/// Whether the built tokenizer gives tokenizer.json's ids on the probes and `extra`.
fn built_tokenizer_agrees(model_dir: &Path, extra: &[&str]) -> bool {
    let (Ok(json), Ok(built)) = (load_tokenizer(model_dir), bert_tokenizer(model_dir)) else {
        return false;
    };
    let long = TOKENIZER_PROBES.join(" ").repeat(20);
    TOKENIZER_PROBES
        .iter()
        .chain(extra)
        .chain(std::iter::once(&long.as_str()))
        .all(|t| match (json.encode(*t, true), built.encode(*t, true)) {
            (Ok(a), Ok(b)) => a.get_ids() == b.get_ids() && a.get_type_ids() == b.get_type_ids(),
            _ => false,
        })
}

/// What identifies the model a copy was made from, read without reading the weights.
fn source_id(model_dir: &Path) -> Result<String> {
    let weights = model_dir.join("model.safetensors");
    let meta = std::fs::metadata(&weights).map_err(|e| load_err(&weights, e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let config = std::fs::read_to_string(model_dir.join("config.json"))
        .map_err(|e| load_err(&model_dir.join("config.json"), e))?;
    let config: String = config.split_whitespace().collect();
    Ok(format!("{}:{mtime}:{config}", meta.len()))
}

fn load_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Load {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Whether `file` is a copy of the model in `model_dir`.
pub fn is_current(model_dir: &Path, file: &Path) -> bool {
    let Ok(want) = source_id(model_dir) else {
        return false;
    };
    let Ok(mut f) = std::fs::File::open(file) else {
        return false;
    };
    match gguf_file::Content::read(&mut f) {
        Ok(c) => {
            matches!(c.metadata.get(SOURCE_KEY), Some(gguf_file::Value::String(s)) if *s == want)
        }
        Err(_) => false,
    }
}

/// Writes the quantized copy of the model in `model_dir` to `file` unless `file` is
/// already a copy of it. `samples` (e.g. the texts being indexed) join the probes that
/// decide whether queries may use the tokenizer built in code. Returns whether it wrote.
pub fn write_if_stale(model_dir: &Path, file: &Path, samples: &[&str]) -> Result<bool> {
    if is_current(model_dir, file) {
        return Ok(false);
    }
    let source = source_id(model_dir)?;
    // The forward pass below is BERT's with erf GELU, absolute positions and eps 1e-12
    // (MiniLM's config); another architecture gets no copy and queries use the model.
    let config_path = model_dir.join("config.json");
    let config: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&config_path).map_err(|e| load_err(&config_path, e))?,
    )
    .map_err(|e| load_err(&config_path, e))?;
    let supported = config["model_type"] == "bert"
        && config["hidden_act"] == "gelu"
        && config["layer_norm_eps"].as_f64() == Some(1e-12)
        && matches!(
            config["position_embedding_type"].as_str(),
            None | Some("absolute")
        );
    if !supported {
        return Err(load_err(
            &config_path,
            "the 8-bit query encoder supports BERT with erf GELU only",
        ));
    }
    let weights = model_dir.join("model.safetensors");
    let tensors = candle_core::safetensors::load(&weights, &Device::Cpu)?;
    let mut quantized: Vec<(String, QTensor)> = Vec::new();
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    for name in names {
        if name.starts_with("pooler.") || name.ends_with("position_ids") {
            continue; // sentence-transformers pools by mean; ids are implicit
        }
        let t = tensors[name].to_dtype(DType::F32)?;
        // Matrices (the linear layers and the word table) in 8 bits; biases, layer
        // norms and the small position/type tables stay f32.
        let table = name.contains("position") || name.contains("token_type");
        let big = t.rank() == 2 && t.dim(1)? % 32 == 0 && !table;
        let dtype = if big { GgmlDType::Q8_0 } else { GgmlDType::F32 };
        quantized.push((name.clone(), QTensor::quantize(&t, dtype)?));
    }
    let tokenizer = if built_tokenizer_agrees(model_dir, samples) {
        BUILT_TOKENIZER
    } else {
        "json"
    };
    let tmp = PathBuf::from(format!("{}.tmp", file.display()));
    let write = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        let value = gguf_file::Value::String(source);
        let tok = gguf_file::Value::String(tokenizer.to_string());
        let refs: Vec<(&str, &QTensor)> = quantized.iter().map(|(n, t)| (n.as_str(), t)).collect();
        gguf_file::write(
            &mut out,
            &[(SOURCE_KEY, &value), (TOKENIZER_KEY, &tok)],
            &refs,
        )?;
        use std::io::Write;
        out.flush()?;
        out.into_inner()?.sync_all()?;
        std::fs::rename(&tmp, file)?;
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        load_err(file, e)
    })?;
    Ok(true)
}

struct Linear {
    w: QMatMul,
    b: Tensor,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.w.forward(x)?.broadcast_add(&self.b)
    }
}

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    ln1: LayerNorm,
    up: Linear,
    down: Linear,
    ln2: LayerNorm,
}

/// Reads tensors out of the GGUF file by name.
struct Reader<'a> {
    content: gguf_file::Content,
    f: std::fs::File,
    file: &'a Path,
}

impl Reader<'_> {
    fn has(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    fn q(&mut self, name: &str) -> Result<QTensor> {
        self.content
            .tensor(&mut self.f, name, &Device::Cpu)
            .map_err(|e| load_err(self.file, format!("{name}: {e}")))
    }

    fn dense(&mut self, name: &str) -> Result<Tensor> {
        Ok(self.q(name)?.dequantize(&Device::Cpu)?)
    }

    fn linear(&mut self, prefix: &str) -> Result<Linear> {
        Ok(Linear {
            w: QMatMul::from_qtensor(self.q(&format!("{prefix}.weight"))?)?,
            b: self.dense(&format!("{prefix}.bias"))?,
        })
    }

    fn norm(&mut self, prefix: &str) -> Result<LayerNorm> {
        Ok(LayerNorm::new(
            self.dense(&format!("{prefix}.weight"))?,
            self.dense(&format!("{prefix}.bias"))?,
            1e-12,
        ))
    }
}

/// The word table, left in the file: a query reads the rows of its tokens only (a
/// 12 MB table, of which a query needs a few kB).
struct WordRows {
    file: std::fs::File,
    path: PathBuf,
    /// Byte offset of row 0 in the file.
    start: u64,
    rows: usize,
    dim: usize,
    dtype: GgmlDType,
}

impl WordRows {
    fn row_bytes(&self) -> usize {
        self.dim / self.dtype.block_size() * self.dtype.type_size()
    }

    /// The rows of `ids`, as a (1, n, dim) f32 tensor.
    fn lookup(&self, ids: &[u32]) -> Result<Tensor> {
        use std::os::unix::fs::FileExt;
        let row = self.row_bytes();
        let mut raw = vec![0u8; row * ids.len()];
        for (i, &id) in ids.iter().enumerate() {
            let id = (id as usize).min(self.rows - 1);
            self.file
                .read_exact_at(
                    &mut raw[i * row..(i + 1) * row],
                    self.start + (id * row) as u64,
                )
                .map_err(|e| load_err(&self.path, format!("reading the word table: {e}")))?;
        }
        let q = candle_core::quantized::ggml_file::qtensor_from_ggml(
            self.dtype,
            &raw,
            vec![ids.len(), self.dim],
            &Device::Cpu,
        )?;
        Ok(q.dequantize(&Device::Cpu)?.unsqueeze(0)?)
    }
}

/// The quantized encoder, for one query at a time.
pub struct QueryEncoder {
    tokenizer: Tokenizer,
    built_tokenizer: bool,
    word: WordRows,
    position: Tensor,
    token_type: Tensor,
    ln: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
}

impl QueryEncoder {
    /// Opens the copy at `file` made from the model in `model_dir` (whose tokenizer it
    /// uses); an error if it is missing, unreadable or made from another model.
    pub fn open(model_dir: &Path, file: &Path) -> Result<QueryEncoder> {
        let want = source_id(model_dir)?;
        let mut f = std::fs::File::open(file).map_err(|e| load_err(file, e))?;
        let content = gguf_file::Content::read(&mut f).map_err(|e| load_err(file, e))?;
        match content.metadata.get(SOURCE_KEY) {
            Some(gguf_file::Value::String(s)) if *s == want => {}
            _ => {
                return Err(load_err(
                    file,
                    "made from another model (rebuild the index)",
                ))
            }
        }
        let built_tokenizer = matches!(content.metadata.get(TOKENIZER_KEY),
            Some(gguf_file::Value::String(s)) if s == BUILT_TOKENIZER);
        let tokenizer = if built_tokenizer {
            bert_tokenizer(model_dir)?
        } else {
            load_tokenizer(model_dir)?
        };
        let word = {
            let info = content
                .tensor_infos
                .get(WORD_TABLE)
                .ok_or_else(|| load_err(file, "no word table"))?;
            let (rows, dim) = info.shape.dims2()?;
            WordRows {
                file: f.try_clone().map_err(|e| load_err(file, e))?,
                path: file.to_path_buf(),
                start: content.tensor_data_offset + info.offset,
                rows,
                dim,
                dtype: info.ggml_dtype,
            }
        };
        let mut r = Reader { content, f, file };
        let position = r.dense("embeddings.position_embeddings.weight")?;
        let token_type = r.dense("embeddings.token_type_embeddings.weight")?;
        let ln = r.norm("embeddings.LayerNorm")?;
        let mut layers = Vec::new();
        for i in 0.. {
            let p = format!("encoder.layer.{i}");
            if !r.has(&format!("{p}.attention.self.query.weight")) {
                break;
            }
            layers.push(Layer {
                q: r.linear(&format!("{p}.attention.self.query"))?,
                k: r.linear(&format!("{p}.attention.self.key"))?,
                v: r.linear(&format!("{p}.attention.self.value"))?,
                o: r.linear(&format!("{p}.attention.output.dense"))?,
                ln1: r.norm(&format!("{p}.attention.output.LayerNorm"))?,
                up: r.linear(&format!("{p}.intermediate.dense"))?,
                down: r.linear(&format!("{p}.output.dense"))?,
                ln2: r.norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        let config: serde_json::Value = serde_json::from_slice(
            &std::fs::read(model_dir.join("config.json"))
                .map_err(|e| load_err(&model_dir.join("config.json"), e))?,
        )
        .map_err(|e| load_err(&model_dir.join("config.json"), e))?;
        let heads = config["num_attention_heads"].as_u64().unwrap_or(12) as usize;
        Ok(QueryEncoder {
            tokenizer,
            built_tokenizer,
            word,
            position,
            token_type,
            ln,
            layers,
            heads,
        })
    }

    /// Whether the tokenizer was built in code (the writer found it agrees with
    /// tokenizer.json), not parsed from tokenizer.json.
    pub fn built_tokenizer(&self) -> bool {
        self.built_tokenizer
    }

    /// The unit vector of `text` (mean pooling, as the f32 encoder).
    pub fn embed(&self, text: &str) -> Result<Vec<f32>> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let n = enc.get_ids().len().max(1);
        let dev = Device::Cpu;
        let types = Tensor::new(enc.get_type_ids(), &dev)?;
        let x = self.word.lookup(enc.get_ids())?; // (1, n, dim)
        let x = x
            .broadcast_add(&self.position.narrow(0, 0, n)?.unsqueeze(0)?)?
            .broadcast_add(&self.token_type.index_select(&types, 0)?.unsqueeze(0)?)?;
        let mut x = self.ln.forward(&x)?;
        let dim = x.dim(D::Minus1)?;
        let head = dim / self.heads;
        let split = |t: Tensor| -> candle_core::Result<Tensor> {
            t.reshape((1, n, self.heads, head))?
                .transpose(1, 2)?
                .contiguous()
        };
        for l in &self.layers {
            let q = split(l.q.forward(&x)?)?;
            let k = split(l.k.forward(&x)?)?;
            let v = split(l.v.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?.contiguous()?)? / (head as f64).sqrt())?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = probs.matmul(&v)?.transpose(1, 2)?.reshape((1, n, dim))?;
            let x1 = l.ln1.forward(&(l.o.forward(&ctx)? + &x)?)?;
            let h = l.down.forward(&l.up.forward(&x1)?.gelu_erf()?)?;
            x = l.ln2.forward(&(h + x1)?)?;
        }
        let mean = x.mean(1)?; // (1, dim)
        let norm = mean
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12, f32::MAX as f64)?;
        Ok(mean.broadcast_div(&norm)?.squeeze(0)?.to_vec1::<f32>()?)
    }
}
