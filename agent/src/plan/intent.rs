//! The intent model: which action kind a clause asks for, as calibrated probabilities.
//!
//! A linear softmax classifier trained by `scripts/build-intent-model` on the project's
//! corpus (agent/corpus), over two kinds of features of a clause:
//! - **sparse**: the clause's tokens as the model sees them (request words as typed, a
//!   snapshot reference as `<snap>`, a package name as `<pkg>`, a number `<num>`, any
//!   other word `<unk>`), their bigrams with start/end marks, and a few shape features;
//! - **dense**: the mean of the words' static MiniLM vectors (each word embedded once by
//!   the shipped all-MiniLM-L6-v2 at build time). The classifier is linear, so the
//!   model file keeps, per word, the vector's contribution to each class's logit rather
//!   than the vector: the mean of those is exactly the dense term. This is what lets a
//!   word the corpus never used ("obliterate") count like its neighbours ("delete").
//!
//! The file (`agent/data/intent.bin`) is compiled into the binary: no model folder, no
//! network is needed to plan, and a plan is the same wherever it was made. Invariant:
//! [`features`] (module `features`) is the one featurisation, used by the trainer and at
//! run time alike.

use std::collections::HashMap;
use std::sync::OnceLock;

pub use super::features::{features, Features};
use super::lex::Vocabulary;

const MAGIC: &[u8; 8] = b"RASTINT2";

/// The model shipped with rast.
pub fn shipped() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| {
        Model::from_bytes(include_bytes!("../../data/intent.bin"))
            .expect("agent/data/intent.bin is built by scripts/build-intent-model")
    })
}

/// Per-word facts the model file carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WordInfo {
    /// A word requests are made of (seen outside slots in the corpus).
    pub request_word: bool,
    /// A word a clause may start with ("install", "clone", "then").
    pub clause_start: bool,
    /// How often (0–255) the word was a carrier rather than a slot in the corpus.
    pub carrier: u8,
    /// The same, in requests that carry a query (search, config search, lists): what
    /// a query's words are measured against ("backup" carries backups, not searches).
    pub query_carrier: u8,
    /// It has a static vector (a known English word or request word).
    pub has_vector: bool,
}

/// The classifier.
pub struct Model {
    pub classes: Vec<String>,
    pub temperature: f32,
    words: HashMap<String, u32>,
    info: Vec<WordInfo>,
    request_words: Vec<String>,
    dense: Vec<i16>,
    dense_scale: f32,
    feats: HashMap<String, u32>,
    feat_w: Vec<i16>,
    feat_scale: f32,
    bias: Vec<f32>,
}

/// What the model file holds, for the trainer to write.
pub struct ModelParts {
    pub classes: Vec<String>,
    pub temperature: f32,
    /// word, info, dense logit contribution per class.
    pub words: Vec<(String, WordInfo, Vec<f32>)>,
    /// feature name, weight per class.
    pub feats: Vec<(String, Vec<f32>)>,
    pub bias: Vec<f32>,
}

impl Vocabulary for Model {
    fn request_words(&self) -> &[String] {
        &self.request_words
    }
    fn known(&self, w: &str) -> bool {
        self.words.contains_key(w)
    }
}

impl Model {
    pub fn info(&self, w: &str) -> WordInfo {
        self.words
            .get(w)
            .map(|&i| self.info[i as usize])
            .unwrap_or_default()
    }

    /// Class probabilities for `f`, best first.
    pub fn classify(&self, f: &Features) -> Vec<(&str, f32)> {
        let c = self.classes.len();
        let mut logits = self.bias.clone();
        for name in &f.sparse {
            if let Some(&i) = self.feats.get(name) {
                let row = &self.feat_w[i as usize * c..(i as usize + 1) * c];
                for (l, w) in logits.iter_mut().zip(row) {
                    *l += *w as f32 * self.feat_scale;
                }
            }
        }
        let rows: Vec<usize> = f
            .dense
            .iter()
            .filter_map(|w| self.words.get(w))
            .map(|&i| i as usize)
            .filter(|&i| self.info[i].has_vector)
            .collect();
        if !rows.is_empty() {
            let k = self.dense_scale / rows.len() as f32;
            for i in rows {
                for (l, w) in logits.iter_mut().zip(&self.dense[i * c..(i + 1) * c]) {
                    *l += *w as f32 * k;
                }
            }
        }
        let probs = softmax(&logits, self.temperature);
        let mut out: Vec<(&str, f32)> =
            self.classes.iter().map(String::as_str).zip(probs).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }

    pub fn from_bytes(b: &[u8]) -> Result<Model, String> {
        let mut r = Reader { b, at: 0 };
        if r.take(8)? != MAGIC {
            return Err("not a rast intent model".into());
        }
        let nc = r.u32()? as usize;
        let mut classes = Vec::with_capacity(nc);
        for _ in 0..nc {
            classes.push(r.string()?);
        }
        let temperature = r.f32()?;
        let bias = (0..nc).map(|_| r.f32()).collect::<Result<Vec<_>, _>>()?;
        let nw = r.u32()? as usize;
        let dense_scale = r.f32()?;
        let mut words = HashMap::with_capacity(nw);
        let mut info = Vec::with_capacity(nw);
        let mut request_words = Vec::new();
        for i in 0..nw {
            let w = r.string()?;
            let flags = r.take(1)?[0];
            let carrier = r.take(1)?[0];
            let query_carrier = r.take(1)?[0];
            let wi = WordInfo {
                request_word: flags & 1 != 0,
                clause_start: flags & 2 != 0,
                has_vector: flags & 4 != 0,
                carrier,
                query_carrier,
            };
            if wi.request_word {
                request_words.push(w.clone());
            }
            words.insert(w, i as u32);
            info.push(wi);
        }
        let dense = r.i16s(nw * nc)?;
        let nf = r.u32()? as usize;
        let feat_scale = r.f32()?;
        let mut feats = HashMap::with_capacity(nf);
        for i in 0..nf {
            feats.insert(r.string()?, i as u32);
        }
        let feat_w = r.i16s(nf * nc)?;
        if r.at != b.len() {
            return Err("trailing bytes in the intent model".into());
        }
        Ok(Model {
            classes,
            temperature,
            words,
            info,
            request_words,
            dense,
            dense_scale,
            feats,
            feat_w,
            feat_scale,
            bias,
        })
    }
}

impl ModelParts {
    /// The model file: weights quantised to i16 with one scale per table.
    pub fn to_bytes(&self) -> Vec<u8> {
        let nc = self.classes.len();
        let mut o = Vec::new();
        o.extend_from_slice(MAGIC);
        o.extend_from_slice(&(nc as u32).to_le_bytes());
        for c in &self.classes {
            put_str(&mut o, c);
        }
        o.extend_from_slice(&self.temperature.to_le_bytes());
        for b in &self.bias {
            o.extend_from_slice(&b.to_le_bytes());
        }
        o.extend_from_slice(&(self.words.len() as u32).to_le_bytes());
        let dmax = self
            .words
            .iter()
            .flat_map(|w| w.2.iter())
            .fold(0f32, |m, x| m.max(x.abs()));
        let dscale = if dmax > 0.0 { dmax / 32767.0 } else { 1.0 };
        o.extend_from_slice(&dscale.to_le_bytes());
        for (w, i, _) in &self.words {
            put_str(&mut o, w);
            let flags = u8::from(i.request_word)
                | u8::from(i.clause_start) << 1
                | u8::from(i.has_vector) << 2;
            o.push(flags);
            o.push(i.carrier);
            o.push(i.query_carrier);
        }
        for (_, _, d) in &self.words {
            assert_eq!(d.len(), nc);
            for x in d {
                o.extend_from_slice(&((x / dscale).round() as i16).to_le_bytes());
            }
        }
        o.extend_from_slice(&(self.feats.len() as u32).to_le_bytes());
        let fmax = self
            .feats
            .iter()
            .flat_map(|f| f.1.iter())
            .fold(0f32, |m, x| m.max(x.abs()));
        let fscale = if fmax > 0.0 { fmax / 32767.0 } else { 1.0 };
        o.extend_from_slice(&fscale.to_le_bytes());
        for (f, _) in &self.feats {
            put_str(&mut o, f);
        }
        for (_, w) in &self.feats {
            assert_eq!(w.len(), nc);
            for x in w {
                o.extend_from_slice(&((x / fscale).round() as i16).to_le_bytes());
            }
        }
        o
    }
}

fn put_str(o: &mut Vec<u8>, s: &str) {
    o.extend_from_slice(&(s.len() as u16).to_le_bytes());
    o.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or("the intent model is cut short")?;
        self.at += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = u16::from_le_bytes(self.take(2)?.try_into().unwrap()) as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|e| e.to_string())
    }
    fn i16s(&mut self, n: usize) -> Result<Vec<i16>, String> {
        Ok(self
            .take(n * 2)?
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect())
    }
}

pub fn softmax(logits: &[f32], temperature: f32) -> Vec<f32> {
    let t = temperature.max(1e-3);
    let m = logits.iter().fold(f32::MIN, |m, x| m.max(*x));
    let e: Vec<f32> = logits.iter().map(|x| ((x - m) / t).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|x| x / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_classify() {
        let parts = ModelParts {
            classes: vec!["install".into(), "remove".into()],
            temperature: 1.0,
            words: vec![
                (
                    "install".into(),
                    WordInfo {
                        request_word: true,
                        clause_start: true,
                        carrier: 250,
                        query_carrier: 250,
                        has_vector: true,
                    },
                    vec![2.0, -2.0],
                ),
                (
                    "erase".into(),
                    WordInfo {
                        has_vector: true,
                        ..Default::default()
                    },
                    vec![-1.0, 1.0],
                ),
            ],
            feats: vec![("u:install".into(), vec![1.0, -1.0])],
            bias: vec![0.0, 0.0],
        };
        let m = Model::from_bytes(&parts.to_bytes()).unwrap();
        assert!(m.info("install").clause_start);
        assert_eq!(m.request_words(), ["install"]);
        let f = Features {
            sparse: vec!["u:install".into()],
            dense: vec!["install".into()],
        };
        assert_eq!(m.classify(&f)[0].0, "install");
        // A word only the vectors know still counts.
        let f = Features {
            sparse: vec!["u:<unk>".into()],
            dense: vec!["erase".into()],
        };
        assert_eq!(m.classify(&f)[0].0, "remove");
        assert!(Model::from_bytes(b"nonsense").is_err());
    }
}
