//! Reciprocal-rank fusion of the lexical (BM25) and dense (vector) result lists, with
//! exact package-name (or provides) matches first.
//!
//! RRF scores each document Σ w/(K + rank) over the lists it appears in; it needs no
//! score calibration between BM25 and cosine, and rewards documents both retrievers
//! agree on. K = 60 (the value of the original paper); weights in [`Params`].
//!
//! Defaults chosen with `examples/eval.rs` on two query sets (../shared/search-eval's
//! dev set and tests/fixtures/search-extra.jsonl, 29 other phrasings): the dense list
//! carries natural-language queries, so it weighs 1.0 against BM25's 0.5, and BM25
//! requires every query word — a precise keyword signal instead of noise from words
//! like "program" or "a" (dev MRR@10 0.883 → 1.000, extra 0.570 → 0.683).

use std::collections::HashMap;

/// Fusion parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// The RRF constant.
    pub k: f32,
    pub lexical: f32,
    pub dense: f32,
    /// BM25 requires every query word (a precise signal) instead of any word.
    pub lexical_all_words: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            k: 60.0,
            lexical: 0.5,
            dense: 1.0,
            lexical_all_words: true,
        }
    }
}

/// Fuses ranked lists into one, best first.
pub fn fuse(
    exact: &[String],
    lexical: &[(String, f32)],
    dense: &[(String, f32)],
) -> Vec<(String, f32)> {
    fuse_with(&Params::default(), exact, lexical, dense)
}

/// [`fuse`] with explicit parameters.
pub fn fuse_with(
    p: &Params,
    exact: &[String],
    lexical: &[(String, f32)],
    dense: &[(String, f32)],
) -> Vec<(String, f32)> {
    let mut score: HashMap<&str, f32> = HashMap::new();
    for (r, (id, _)) in lexical.iter().enumerate() {
        *score.entry(id).or_default() += p.lexical / (p.k + r as f32 + 1.0);
    }
    for (r, (id, _)) in dense.iter().enumerate() {
        *score.entry(id).or_default() += p.dense / (p.k + r as f32 + 1.0);
    }
    for (r, id) in exact.iter().enumerate() {
        // Above anything fusion can give.
        *score.entry(id).or_default() += 1.0 - r as f32 * 0.01;
    }
    let mut v: Vec<(String, f32)> = score.into_iter().map(|(k, s)| (k.to_string(), s)).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Name shapes of packages that are parts of others rather than programs people ask
/// for — (pattern, the query word that asks for it anyway). Arch's own naming rules.
const PARTS: &[(&str, &str)] = &[
    ("lib32-", "32"),
    ("lib", "lib"),
    ("python-", "python"),
    ("perl-", "perl"),
    ("ruby-", "ruby"),
    ("haskell-", "haskell"),
    ("ocaml-", "ocaml"),
    ("-docs", "doc"),
    ("-doc", "doc"),
    ("-data", "data"),
    ("-common", "common"),
    ("-headers", "header"),
    ("-plugin", "plugin"),
    ("-plugins", "plugin"),
];

/// Weight of a package that is a part ([`PARTS`]) when the query does not ask for it.
pub const PART_WEIGHT: f32 = 0.5;

/// Whether package `name` (described as `desc`) is a library, a language module or a
/// docs/data split that `query` does not ask for (by a word like "library", "python",
/// "docs"). A `lib…` name counts only when its description says library
/// (`libreoffice` is a program); any other name counts when its description says
/// library and no word of something people run ([`PROGRAM_WORDS`]: "Class library for
/// numbers", not "Library and tools for …").
pub fn unasked_part(name: &str, desc: &str, query: &str) -> bool {
    let q = query.to_lowercase();
    if !q.contains("lib") && says_library(desc) {
        return true;
    }
    PARTS.iter().any(|(pat, word)| {
        let shaped = if *pat == "lib" {
            name.starts_with("lib") && desc.to_lowercase().contains("librar")
        } else {
            has_shape(name, pat)
        };
        shaped && !q.contains(word)
    })
}

/// Whether `name` has the part shape `pat` (`-docs`: a suffix; `python-`: a prefix).
fn has_shape(name: &str, pat: &str) -> bool {
    if pat.starts_with('-') {
        name.ends_with(pat)
    } else {
        name.starts_with(pat)
    }
}

/// Whether `query` asks for `name` by the word of its part shape ([`PARTS`]):
/// "kernel documentation" asks for `linux-docs`, "32-bit mesa" for `lib32-mesa`.
pub fn asks_for_part(name: &str, query: &str) -> bool {
    let q = query.to_lowercase();
    PARTS
        .iter()
        .any(|(pat, word)| has_shape(name, pat) && q.contains(word))
}

/// Words of a description that say the package is (also) something people run.
const PROGRAM_WORDS: &[&str] = &[
    "tool",
    "tools",
    "utility",
    "utilities",
    "program",
    "programs",
    "application",
    "applications",
    "client",
    "editor",
    "viewer",
    "player",
    "command",
    "daemon",
    "server",
    "interpreter",
    "compiler",
    "language",
];

/// Whether a description says its package is a library and nothing people run
/// ("Class library for numbers", not "Library and tools for …").
fn says_library(desc: &str) -> bool {
    let d = desc.to_lowercase();
    let words: Vec<&str> = d
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().any(|w| *w == "library" || *w == "libraries")
        && !words.iter().any(|w| PROGRAM_WORDS.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(ids: &[&str]) -> Vec<(String, f32)> {
        ids.iter().map(|i| (i.to_string(), 0.0)).collect()
    }

    #[test]
    fn parts_are_known_by_their_names_unless_asked_for() {
        let lib = "A library for reading PNG images";
        assert!(unasked_part("libpng", lib, "convert png images"));
        assert!(!unasked_part("libpng", lib, "png library"));
        assert!(unasked_part("imagemagick-doc", "docs", "convert images"));
        assert!(!unasked_part(
            "imagemagick-doc",
            "docs",
            "imagemagick documentation"
        ));
        assert!(unasked_part("python-pillow", "imaging", "edit images"));
        assert!(!unasked_part("python-pillow", "imaging", "python imaging"));
        assert!(unasked_part("lib32-mesa", "opengl", "opengl"));
        assert!(asks_for_part("linux-docs", "linux kernel documentation"));
        assert!(asks_for_part("lib32-mesa", "32-bit opengl"));
        assert!(!asks_for_part("linux-docs", "linux kernel"));
        assert!(!asks_for_part("linux", "linux kernel documentation"));
        assert!(unasked_part("audacious-plugins", "audio", "play music"));
        assert!(unasked_part(
            "xfce4-weather-plugin",
            "weather",
            "weather forecast"
        ));
        assert!(!unasked_part(
            "xfce4-weather-plugin",
            "weather",
            "weather panel plugin"
        ));
        assert!(!unasked_part("gimp", "image editor", "edit images"));
        assert!(!unasked_part(
            "libreoffice-fresh",
            "office suite",
            "an office suite"
        ));
    }

    #[test]
    fn a_description_that_says_library_is_a_part_too() {
        // KDE's and GNU's libraries are not named lib…; their descriptions say it.
        let q = "do maths with huge numbers";
        assert!(unasked_part("cln", "Class library for numbers", q));
        assert!(unasked_part(
            "kholidays",
            "KDE library for regional holidays",
            q
        ));
        assert!(!unasked_part(
            "cln",
            "Class library for numbers",
            "a number library"
        ));
        // A package that also ships something people run stays a program.
        let attr = "Library and tools for extended attributes";
        assert!(!unasked_part("attr", attr, "set extended attributes"));
        assert!(!unasked_part(
            "bc",
            "An arbitrary precision calculator language",
            q
        ));
        // "librarian" is not "library".
        assert!(!unasked_part(
            "calibre",
            "Ebook librarian",
            "organise my ebooks"
        ));
    }

    #[test]
    fn agreement_wins_and_exact_is_first() {
        let f = fuse(&[], &l(&["a", "b", "c"]), &l(&["d", "b", "e"]));
        assert_eq!(f[0].0, "b", "{f:?}");
        let f = fuse(&["z".to_string()], &l(&["a", "b"]), &l(&["a"]));
        assert_eq!(f[0].0, "z");
        assert_eq!(f[1].0, "a");
    }
}
