//! A clause as the intent model sees it (see [`super::intent`]): its tokens mapped to
//! classes (`<snap>`, `<pkg>`, `<num>`, `<unk>`, or the request word itself), their
//! unigrams and bigrams, shape features (how many snapshot ids and packages, what the
//! first verb acts on, negation, a question), and the words whose static vectors count.
//!
//! Invariant: this is the one featurisation; the trainer (agent/examples/train_intent.rs)
//! calls it too, so a model and the planner can never disagree about what a clause is.

use super::intent::WordInfo;
use super::lex::Token;
use super::refs::{Ref, Span};

/// A clause as features: sparse feature names and the words whose vectors count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    pub sparse: Vec<String>,
    pub dense: Vec<String>,
}

/// How the model sees one word outside a snapshot reference.
fn token_class(
    w: &str,
    info: &dyn Fn(&str) -> WordInfo,
    is_package: &dyn Fn(&str) -> bool,
) -> String {
    if super::refs::digits(w).is_some() {
        return "<num>".into();
    }
    if info(w).request_word {
        return w.to_string();
    }
    if w.starts_with('/') {
        return "<path>".into();
    }
    if w.contains("://") {
        return "<url>".into();
    }
    if is_package(w) {
        return "<pkg>".into();
    }
    "<unk>".into()
}

/// The features of a clause (`toks` with its snapshot references `spans`).
/// `info` tells what the model knows of a word; `question` whether the request was
/// asked as a question.
pub fn features(
    toks: &[Token],
    spans: &[Span],
    info: &dyn Fn(&str) -> WordInfo,
    is_package: &dyn Fn(&str) -> bool,
    question: bool,
) -> Features {
    let mut mapped: Vec<String> = Vec::new();
    let mut dense: Vec<String> = Vec::new();
    let mut i = 0;
    let mut n_ids = 0;
    let mut also_pkg = 0;
    while i < toks.len() {
        if let Some(s) = spans.iter().find(|s| s.start == i) {
            match &s.r {
                Ref::Id(_) => {
                    mapped.push("<snap>".into());
                    n_ids += 1;
                    i = s.end;
                    continue;
                }
                Ref::Current => {
                    mapped.push("<cur>".into());
                    i = s.end;
                    continue;
                }
                Ref::NewFrom { .. } => {
                    // "a new clone of <snap>": the words count, the id is a slot.
                    for t in &toks[s.start..s.end - 1] {
                        if super::refs::digits(&t.word).is_none() && !t.word.starts_with('#') {
                            mapped.push(token_class(&t.word, info, is_package));
                            dense.push(t.word.clone());
                        }
                    }
                    mapped.push("<snap>".into());
                    n_ids += 1;
                    i = s.end;
                    continue;
                }
                Ref::Pronoun => {}
            }
        }
        let w = &toks[i].word;
        let m = token_class(w, info, is_package);
        if m == *w || (!is_package(w) && info(w).has_vector) {
            dense.push(w.clone());
        } else if m == "<unk>" && w.contains('-') {
            // "clone-branch", "tree-sync": the parts say what the whole does.
            dense.extend(
                w.split('-')
                    .filter(|p| info(p).has_vector)
                    .map(str::to_string),
            );
        }
        // A request word that is also a package name ("patch", "tree") counts both ways.
        if m == *w && i > 0 && is_package(w) {
            also_pkg += 1;
        }
        mapped.push(m);
        i += 1;
    }
    let dense: Vec<String> = dense
        .into_iter()
        .filter(|w| !super::slots::FUNCTION_WORDS.contains(&w.as_str()))
        .collect();
    let mut sparse: Vec<String> = mapped.iter().map(|m| format!("u:{m}")).collect();
    let mut prev = "<s>".to_string();
    for m in mapped.iter().chain(std::iter::once(&"</s>".to_string())) {
        sparse.push(format!("b:{prev} {m}"));
        prev = m.clone();
    }
    // What the clause acts on: counts of snapshot ids and package-like words, and the
    // kind of the first word after its first request word ("boot <snap>", "want <pkg>").
    let n_pkg = mapped.iter().filter(|m| *m == "<pkg>").count() + also_pkg;
    if also_pkg > 0 {
        sparse.push("u:<pkg>".into());
    }
    let n_unk = mapped.iter().filter(|m| *m == "<unk>").count();
    sparse.push(format!("s:ids={}", n_ids.min(2)));
    sparse.push(format!("s:pkgs={}", n_pkg.min(2)));
    sparse.push(format!("s:unk={}", n_unk.min(1)));
    sparse.push(format!(
        "s:ids={},pkgs={},unk={}",
        n_ids.min(2),
        n_pkg.min(1),
        n_unk.min(1)
    ));
    if let Some(v) = mapped.iter().position(|m| info(m).request_word) {
        if let Some(obj) = mapped[v + 1..]
            .iter()
            .find(|m| !super::slots::FUNCTION_WORDS.contains(&m.as_str()))
        {
            let kind = if obj.starts_with('<') {
                obj.as_str()
            } else {
                "<word>"
            };
            sparse.push(format!("s:obj={kind}"));
            sparse.push(format!("s:verb-obj={} {kind}", mapped[v]));
        }
    }
    if question {
        sparse.push("s:question".into());
    }
    // Negation flips "i need X" into "i don't need X".
    let neg = toks.iter().enumerate().any(|(i, t)| {
        matches!(
            t.word.as_str(),
            "don't" | "dont" | "not" | "never" | "isn't" | "doesn't" | "aren't" | "no" | "won't"
        ) && !(t.word == "no"
            && toks
                .get(i + 1)
                .is_some_and(|n| super::refs::digits(&n.word).is_some()))
    });
    if neg {
        sparse.push("s:negated".into());
    }
    if toks.iter().any(|t| t.raw.contains('"')) {
        sparse.push("s:quote".into());
    }
    if mapped.len() <= 2 {
        sparse.push("s:short".into());
    }
    Features { sparse, dense }
}
