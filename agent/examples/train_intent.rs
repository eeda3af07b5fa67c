//! Trains the planner's intent model (agent/data/intent.bin) from the corpus.
//!
//!     cargo run --release -p rast-agent --example train_intent -- \
//!         --corpus agent/corpus/generated.jsonl agent/corpus/written.jsonl \
//!         --dbs tests/data/arch-2022/{core,extra,multilib}.db.tar.gz \
//!         --model-dir models/all-MiniLM-L6-v2 --out agent/data/intent.bin
//!
//! Run by scripts/build-intent-model. Steps: the request words and each word's carrier
//! share from the train split (slot words are the slot texts the generator recorded);
//! the words clauses start with; every word of MiniLM's vocabulary and of the requests
//! embedded alone (its static vector); clauses featurised by the planner's own
//! `intent::features`; a softmax regression trained with Adam on the train split only;
//! the temperature fitted on the validation split (by family, never seen in training);
//! then each word's vector folded into its per-class logit contribution. Deterministic.
//! `--no-dense` trains without the vectors (for comparison).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use rast_agent::plan::intent::{self, Features, ModelParts, WordInfo};
use rast_agent::plan::lex::{self, Vocabulary};
use rast_agent::plan::{refs, split, text, KINDS};
use serde::Deserialize;

#[derive(Deserialize)]
struct Row {
    request: String,
    intents: Vec<String>,
    split: String,
    #[serde(default)]
    slots: Vec<String>,
    #[serde(default)]
    expect: Vec<serde_json::Value>,
    #[serde(default)]
    family: String,
    /// The clauses of a multi-clause request, as generated.
    #[serde(default)]
    clauses: Option<Vec<String>>,
}

impl Row {
    fn clause_texts(&self) -> Vec<String> {
        match &self.clauses {
            Some(c) if c.len() == self.intents.len() => c.clone(),
            _ => vec![self.request.clone()],
        }
    }

    /// Slot words: as the generator recorded them, or what the expected plan names.
    fn slot_texts(&self) -> Vec<String> {
        if !self.slots.is_empty() {
            return self.slots.clone();
        }
        let mut out = Vec::new();
        for a in &self.expect {
            for k in ["packages", "text_any", "command_any", "query_any"] {
                if let Some(v) = a.get(k).and_then(|v| v.as_array()) {
                    let take = if k == "packages" { v.len() } else { 1 };
                    out.extend(
                        v.iter()
                            .take(take)
                            .filter_map(|x| x.as_str())
                            .map(str::to_string),
                    );
                }
            }
            if let Some(q) = a.get("query").and_then(|v| v.as_str()) {
                out.push(q.to_string());
            }
        }
        out
    }
}

struct Args {
    corpus: Vec<PathBuf>,
    dbs: Vec<PathBuf>,
    model_dir: PathBuf,
    out: PathBuf,
    dense: bool,
    epochs: usize,
    l2: f32,
    l2_dense: f32,
    /// 1: every intent weighs alike; 0: every example does.
    balance: f32,
}

fn args() -> Args {
    let mut a = Args {
        corpus: vec![],
        dbs: vec![],
        model_dir: "models/all-MiniLM-L6-v2".into(),
        out: "agent/data/intent.bin".into(),
        dense: true,
        epochs: 300,
        l2: 1e-3,
        l2_dense: 1e-5,
        balance: 0.5,
    };
    let mut it = std::env::args().skip(1).peekable();
    while let Some(x) = it.next() {
        let many =
            |v: &mut Vec<PathBuf>,
             it: &mut std::iter::Peekable<std::iter::Skip<std::env::Args>>| {
                while let Some(p) = it.peek() {
                    if p.starts_with("--") {
                        break;
                    }
                    v.push(it.next().unwrap().into());
                }
            };
        match x.as_str() {
            "--corpus" => many(&mut a.corpus, &mut it),
            "--dbs" => many(&mut a.dbs, &mut it),
            "--model-dir" => a.model_dir = it.next().expect("--model-dir DIR").into(),
            "--out" => a.out = it.next().expect("--out FILE").into(),
            "--no-dense" => a.dense = false,
            "--epochs" => a.epochs = it.next().unwrap().parse().unwrap(),
            "--l2" => a.l2 = it.next().unwrap().parse().unwrap(),
            "--l2-dense" => a.l2_dense = it.next().unwrap().parse().unwrap(),
            "--balance" => a.balance = it.next().unwrap().parse().unwrap(),
            o => panic!("unknown argument {o}"),
        }
    }
    assert!(
        !a.corpus.is_empty() && !a.dbs.is_empty(),
        "--corpus and --dbs are required"
    );
    a
}

/// The words of a text as the lexer trims them.
fn plain_words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| ",;:!?.\"'()[]{}".contains(c))
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

struct TrainVocab {
    request: Vec<String>,
    known: HashSet<String>,
}

impl Vocabulary for TrainVocab {
    fn request_words(&self) -> &[String] {
        &self.request
    }
    fn known(&self, w: &str) -> bool {
        self.known.contains(w)
    }
}

const LEADING_FILLERS: &[&str] = &["please", "pls", "ok", "okay", "hey", "yo", "so", "now"];

fn main() {
    let a = args();
    let mut rows: Vec<Row> = Vec::new();
    for p in &a.corpus {
        let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let r: Row = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", p.display(), i + 1));
            rows.push(r);
        }
    }
    let mut packages: HashSet<String> = HashSet::new();
    for db in &a.dbs {
        for p in rast_pkgindex::pacdb::read_sync(db).expect("sync db") {
            packages.insert(p.name);
        }
    }
    let is_package = |w: &str| packages.contains(w);
    let train: Vec<&Row> = rows.iter().filter(|r| r.split == "train").collect();
    let val: Vec<&Row> = rows.iter().filter(|r| r.split == "val").collect();

    // Request words and carrier shares (train split only).
    let mut carrier_n: HashMap<String, u32> = HashMap::new();
    let mut slot_n: HashMap<String, u32> = HashMap::new();
    let mut qcarrier_n: HashMap<String, u32> = HashMap::new();
    let mut qslot_n: HashMap<String, u32> = HashMap::new();
    let mut families_of: HashMap<String, HashSet<String>> = HashMap::new();
    let query_kinds = ["search", "config_search", "list_installed"];
    let mut start_n: HashMap<String, u32> = HashMap::new();
    // Generated rows first (their slots are recorded), then hand-written ones, whose
    // words count as carriers only where generated rows already use them so.
    let mut ordered: Vec<&&Row> = train
        .iter()
        .filter(|r| {
            !r.slots.is_empty() || r.family.starts_with("chain:") || !r.family.starts_with("w-")
        })
        .collect();
    ordered.extend(
        train
            .iter()
            .filter(|r| r.slots.is_empty() && r.family.starts_with("w-")),
    );
    for r in ordered {
        let written = r.slots.is_empty() && r.family.starts_with("w-");
        let mut slot_words: Vec<String> =
            r.slot_texts().iter().flat_map(|s| plain_words(s)).collect();
        let queryish = r.intents.iter().all(|k| query_kinds.contains(&k.as_str()));
        for w in plain_words(&r.request) {
            let is_slot = if let Some(i) = slot_words.iter().position(|s| *s == w) {
                slot_words.remove(i);
                true
            } else {
                written && !carrier_n.contains_key(&w)
            };
            let (c, sl) = if queryish {
                (&mut qcarrier_n, &mut qslot_n)
            } else {
                (&mut carrier_n, &mut slot_n)
            };
            if is_slot {
                *sl.entry(w.clone()).or_default() += 1;
            } else {
                *c.entry(w.clone()).or_default() += 1;
                families_of.entry(w).or_default().insert(r.family.clone());
            }
        }
        for c in r.clause_texts() {
            if let Some(w) = plain_words(&c)
                .into_iter()
                .find(|w| !LEADING_FILLERS.contains(&w.as_str()))
            {
                *start_n.entry(w).or_default() += 1;
            }
        }
    }
    let vocab_txt = std::fs::read_to_string(a.model_dir.join("vocab.txt")).expect("vocab.txt");
    let bert: HashSet<&str> = vocab_txt.lines().collect();
    // A request word is used outside slots at least twice, and is an English word or
    // used by three families (a typo the generator made once is not a word).
    let mut all_carriers: HashMap<String, u32> = carrier_n.clone();
    for (w, n) in &qcarrier_n {
        *all_carriers.entry(w.clone()).or_default() += n;
    }
    let request_words: BTreeSet<String> = all_carriers
        .iter()
        .filter(|(w, n)| {
            **n >= 2
                && refs::digits(w).is_none()
                && (bert.contains(w.as_str()) || families_of.get(*w).is_some_and(|f| f.len() >= 3))
        })
        .map(|(w, _)| w.clone())
        .collect();
    // A rare word one edit away from a frequent one is its typo ("snaapshot").
    let request_words: BTreeSet<String> = request_words
        .iter()
        .filter(|w| {
            let n = all_carriers[*w];
            bert.contains(w.as_str())
                || !request_words.iter().any(|v| {
                    v != *w && all_carriers[v] >= 5 * n && strsim::damerau_levenshtein(w, v) <= 1
                })
        })
        .cloned()
        .collect();
    let starts: BTreeSet<String> = start_n
        .iter()
        .filter(|(w, n)| {
            **n >= 2
                && request_words.contains(*w)
                && !matches!(w.as_str(), "snapshot" | "snapshots" | "snap" | "number")
        })
        .map(|(w, _)| w.clone())
        .chain(["then".to_string()])
        .collect();
    let share = |c: &HashMap<String, u32>, s: &HashMap<String, u32>, w: &str| -> u8 {
        let c = *c.get(w).unwrap_or(&0) as f32;
        let s = *s.get(w).unwrap_or(&0) as f32;
        if c + s == 0.0 {
            0
        } else {
            (255.0 * c / (c + s)).round() as u8
        }
    };
    let carrier_share = |w: &str| -> u8 {
        if request_words.contains(w) {
            let c =
                carrier_n.get(w).copied().unwrap_or(0) + qcarrier_n.get(w).copied().unwrap_or(0);
            let s = slot_n.get(w).copied().unwrap_or(0) + qslot_n.get(w).copied().unwrap_or(0);
            (255.0 * c as f32 / (c + s).max(1) as f32).round() as u8
        } else {
            0
        }
    };
    let query_share = |w: &str| -> u8 {
        if request_words.contains(w) {
            share(&qcarrier_n, &qslot_n, w)
        } else {
            0
        }
    };

    // The words with vectors: MiniLM's whole words and the request words.
    let mut vocab: BTreeSet<String> = request_words.clone();
    for l in vocab_txt.lines() {
        if l.len() >= 2 && l.bytes().all(|b| b.is_ascii_lowercase()) {
            vocab.insert(l.to_string());
        }
    }
    let words: Vec<String> = vocab.into_iter().collect();
    let word_ix: HashMap<&str, usize> = words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_str(), i))
        .collect();
    let lexvocab = TrainVocab {
        request: request_words.iter().cloned().collect(),
        known: words.iter().cloned().collect(),
    };
    let info = |w: &str| -> WordInfo {
        match word_ix.get(w) {
            Some(_) => WordInfo {
                request_word: request_words.contains(w),
                clause_start: starts.contains(w),
                carrier: carrier_share(w),
                query_carrier: query_share(w),
                has_vector: true,
            },
            None => WordInfo::default(),
        }
    };
    eprintln!(
        "train-intent: {} rows ({} train, {} val), {} request words, {} clause starts, {} words with vectors",
        rows.len(),
        train.len(),
        val.len(),
        request_words.len(),
        starts.len(),
        words.len()
    );

    let dim = 384;
    let cache = std::env::var_os("RAST_TRAIN_VECTOR_CACHE").map(PathBuf::from);
    let cached: Option<Vec<Vec<f32>>> = cache
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<(Vec<String>, Vec<Vec<f32>>)>(&b).ok())
        .filter(|(w, _)| *w == words)
        .map(|(_, v)| v);
    let vectors: Vec<Vec<f32>> = if let (true, Some(v)) = (a.dense, cached) {
        v
    } else if a.dense {
        let enc = rast_embeddings::Encoder::load(&a.model_dir).expect("model");
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let t = std::time::Instant::now();
        let v = enc.embed(&refs).expect("embed");
        eprintln!(
            "train-intent: embedded {} words in {:.1} s",
            v.len(),
            t.elapsed().as_secs_f32()
        );
        if let Some(p) = &cache {
            std::fs::write(p, serde_json::to_vec(&(&words, &v)).unwrap()).ok();
        }
        v
    } else {
        vec![vec![0.0; dim]; words.len()]
    };

    // Clauses with labels.
    let classes: Vec<String> = KINDS.iter().map(|s| s.to_string()).collect();
    let class_ix: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    // How the planner reads a text: its tokens, and the clauses it splits them into.
    let tokens_of = |s: &str| lex::tokens(&text::normalize_case_kept(s), &lexvocab, &is_package);
    let split_of = |toks: &[lex::Token]| split::clauses(toks, &|w| starts.contains(w));
    // The splitter against the generated clauses.
    let (mut split_ok, mut split_n) = (0, 0);
    for r in rows.iter().filter(|r| r.clauses.is_some()) {
        let toks = tokens_of(&r.request);
        let got: Vec<String> = split_of(&toks)
            .into_iter()
            .map(|x| lex::join(&toks[x]))
            .collect();
        let want: Vec<String> = r
            .clause_texts()
            .iter()
            .map(|c| lex::join(&tokens_of(c)))
            .collect();
        split_n += 1;
        if got == want {
            split_ok += 1;
        } else if std::env::var_os("RAST_TRAIN_SHOW_SPLITS").is_some() {
            eprintln!(
                "train-intent: split {:?} as {got:?}, generated {want:?}",
                r.request
            );
        }
    }
    eprintln!("train-intent: splitter agrees with the generated clauses on {split_ok}/{split_n} multi-clause requests");
    let clauses = |set: &[&Row]| -> Vec<(Features, usize, String)> {
        let mut out = Vec::new();
        for r in set {
            let q = text::is_question(&r.request);
            let mut texts = r.clause_texts();
            if texts.len() != r.intents.len() {
                // Hand-written requests of several clauses: as the planner splits them.
                let toks = tokens_of(&r.request);
                let got: Vec<String> = split_of(&toks)
                    .into_iter()
                    .map(|x| {
                        toks[x]
                            .iter()
                            .map(|t| t.raw.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect();
                if got.len() != r.intents.len() {
                    continue;
                }
                texts = got;
            }
            for (c, intent) in texts.iter().zip(&r.intents) {
                let t = tokens_of(c);
                let spans = refs::find(&t);
                let f = intent::features(&t, &spans, &info, &is_package, q);
                let y = *class_ix
                    .get(intent.as_str())
                    .unwrap_or_else(|| panic!("unknown intent {intent}"));
                out.push((f, y, format!("{}: {}", r.family, r.request)));
            }
        }
        out
    };
    let tr = clauses(&train);
    let va = clauses(&val);
    eprintln!(
        "train-intent: {} train clauses, {} val clauses",
        tr.len(),
        va.len()
    );

    // Sparse feature ids: seen at least twice in training.
    let mut fcount: BTreeMap<String, u32> = BTreeMap::new();
    for (f, _, _) in &tr {
        for s in &f.sparse {
            *fcount.entry(s.clone()).or_default() += 1;
        }
    }
    let feat_names: Vec<String> = fcount
        .into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|(f, _)| f)
        .collect();
    let feat_ix: HashMap<&str, usize> = feat_names
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    let encode = |f: &Features| -> (Vec<usize>, Vec<f32>) {
        let mut s: Vec<usize> = f
            .sparse
            .iter()
            .filter_map(|x| feat_ix.get(x.as_str()).copied())
            .collect();
        s.sort();
        let mut d = vec![0f32; dim];
        let rows: Vec<usize> = f
            .dense
            .iter()
            .filter_map(|w| word_ix.get(w.as_str()).copied())
            .collect();
        if !rows.is_empty() {
            for &i in &rows {
                for (x, y) in d.iter_mut().zip(&vectors[i]) {
                    *x += y / rows.len() as f32;
                }
            }
        }
        (s, d)
    };
    let xtr: Vec<(Vec<usize>, Vec<f32>, usize)> = tr
        .iter()
        .map(|(f, y, _)| {
            let (s, d) = encode(f);
            (s, d, *y)
        })
        .collect();
    let xva: Vec<(Vec<usize>, Vec<f32>, usize)> = va
        .iter()
        .map(|(f, y, _)| {
            let (s, d) = encode(f);
            (s, d, *y)
        })
        .collect();

    let nc = classes.len();
    let nf = feat_names.len();
    // Parameters: sparse W (nf × nc), dense W (dim × nc), bias (nc).
    let np = nf * nc + dim * nc + nc;
    let mut w = vec![0f32; np];
    let mut m = vec![0f32; np];
    let mut v2 = vec![0f32; np];
    let (b1, b2, lr, eps) = (0.9f32, 0.999f32, 0.05f32, 1e-8f32);
    let dense_off = nf * nc;
    let bias_off = dense_off + dim * nc;
    // Class weights: every intent counts alike, however many phrasings it has.
    let mut per_class = vec![0usize; nc];
    for x in &xtr {
        per_class[x.2] += 1;
    }
    let cw: Vec<f32> = per_class
        .iter()
        .map(|&n| {
            if n == 0 {
                0.0
            } else {
                (xtr.len() as f32 / (nc as f32 * n as f32)).powf(a.balance)
            }
        })
        .collect();
    let logits = |w: &[f32], s: &[usize], d: &[f32]| -> Vec<f32> {
        let mut l = w[bias_off..bias_off + nc].to_vec();
        for &i in s {
            for c in 0..nc {
                l[c] += w[i * nc + c];
            }
        }
        for (k, x) in d.iter().enumerate() {
            if *x != 0.0 {
                let row = &w[dense_off + k * nc..dense_off + (k + 1) * nc];
                for c in 0..nc {
                    l[c] += x * row[c];
                }
            }
        }
        l
    };
    for epoch in 0..a.epochs {
        let mut g = vec![0f32; np];
        let mut loss = 0.0;
        for (s, d, y) in &xtr {
            let p = intent::softmax(&logits(&w, s, d), 1.0);
            loss -= cw[*y] * p[*y].max(1e-9).ln();
            for c in 0..nc {
                let e = cw[*y] * (p[c] - if c == *y { 1.0 } else { 0.0 });
                g[bias_off + c] += e;
                for &i in s {
                    g[i * nc + c] += e;
                }
                for (k, x) in d.iter().enumerate() {
                    g[dense_off + k * nc + c] += e * x;
                }
            }
        }
        let n = xtr.len() as f32;
        let t = epoch as i32 + 1;
        for i in 0..np {
            let reg = if i < dense_off {
                a.l2 * w[i]
            } else if i < bias_off {
                a.l2_dense * w[i]
            } else {
                0.0
            };
            let gi = g[i] / n + reg;
            m[i] = b1 * m[i] + (1.0 - b1) * gi;
            v2[i] = b2 * v2[i] + (1.0 - b2) * gi * gi;
            let mh = m[i] / (1.0 - b1.powi(t));
            let vh = v2[i] / (1.0 - b2.powi(t));
            w[i] -= lr * mh / (vh.sqrt() + eps);
        }
        if epoch % 50 == 0 || epoch + 1 == a.epochs {
            let acc = |set: &[(Vec<usize>, Vec<f32>, usize)]| {
                set.iter()
                    .filter(|(s, d, y)| {
                        let l = logits(&w, s, d);
                        l.iter()
                            .enumerate()
                            .max_by(|a, b| a.1.total_cmp(b.1))
                            .map(|x| x.0)
                            == Some(*y)
                    })
                    .count() as f32
                    / set.len().max(1) as f32
            };
            eprintln!(
                "train-intent: epoch {epoch:3} loss {:.4} train {:.1} % val {:.1} %",
                loss / n,
                100.0 * acc(&xtr),
                100.0 * acc(&xva)
            );
        }
    }

    // Temperature: the one that makes validation probabilities honest (least NLL).
    let nll = |t: f32| -> f32 {
        xva.iter()
            .map(|(s, d, y)| -intent::softmax(&logits(&w, s, d), t)[*y].max(1e-9).ln())
            .sum::<f32>()
            / xva.len().max(1) as f32
    };
    let temperature = (1..=40)
        .map(|i| i as f32 * 0.1)
        .min_by(|a, b| nll(*a).total_cmp(&nll(*b)))
        .unwrap();
    // Per-class validation report.
    let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut ok = 0;
    for ((s, d, y), (_, _, fam)) in xva.iter().zip(&va) {
        let l = logits(&w, s, d);
        let p = l
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        if p == *y {
            ok += 1;
        } else {
            *confusion
                .entry((classes[*y].clone(), classes[p].clone()))
                .or_default() += 1;
            eprintln!(
                "train-intent: val miss [{fam}] {} -> {}",
                classes[*y], classes[p]
            );
        }
    }
    eprintln!(
        "train-intent: validation {ok}/{} = {:.1} % (clauses), temperature {temperature:.1}, {} sparse features",
        xva.len(),
        100.0 * ok as f32 / xva.len().max(1) as f32,
        nf
    );
    for ((e, g), n) in &confusion {
        eprintln!("train-intent:   {e} read as {g}: {n}");
    }

    // Fold each word's vector into per-class logit contributions.
    let dense_w = &w[dense_off..bias_off];
    let model_words: Vec<(String, WordInfo, Vec<f32>)> = words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            let mut u = vec![0f32; nc];
            if a.dense {
                for (k, x) in vectors[i].iter().enumerate() {
                    for c in 0..nc {
                        u[c] += x * dense_w[k * nc + c];
                    }
                }
            }
            (word.clone(), info(word), u)
        })
        .collect();
    let parts = ModelParts {
        classes,
        temperature,
        words: model_words,
        feats: feat_names
            .iter()
            .enumerate()
            .map(|(i, f)| (f.clone(), w[i * nc..(i + 1) * nc].to_vec()))
            .collect(),
        bias: w[bias_off..bias_off + nc].to_vec(),
    };
    let bytes = parts.to_bytes();
    let tmp = a.out.with_extension("tmp");
    std::fs::write(&tmp, &bytes).expect("write model");
    std::fs::rename(&tmp, &a.out).expect("rename model");
    eprintln!(
        "train-intent: wrote {} ({:.1} MiB)",
        a.out.display(),
        bytes.len() as f64 / 1048576.0
    );
}
