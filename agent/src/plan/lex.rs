//! Tokens of a normalised request: words with their punctuation trimmed, the commas
//! between them, and typos of the words requests are made of corrected.
//!
//! Invariant: a token's `word` is either what was typed (lower case, punctuation
//! trimmed) or, for a word that is neither a known word nor a package name, the one
//! request word within a small edit distance ("installl" → "install"); package names
//! are never corrected here (the resolver does that against the catalogue).

/// One token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// As typed (case kept), punctuation kept: commands and descriptions use it.
    pub raw: String,
    /// Punctuation trimmed, typo corrected.
    pub word: String,
    /// A comma (or semicolon-free separator) followed it.
    pub comma: bool,
}

/// What the lexer needs to know about words.
pub trait Vocabulary {
    /// Words requests are made of (not slot words): typo corrections go to these.
    fn request_words(&self) -> &[String];
    /// Whether `w` is a known word at all (so it is not corrected).
    fn known(&self, w: &str) -> bool;
}

/// No words known: nothing is corrected.
pub struct NoVocabulary;

impl Vocabulary for NoVocabulary {
    fn request_words(&self) -> &[String] {
        &[]
    }
    fn known(&self, _: &str) -> bool {
        true
    }
}

/// Splits `t` (already [`super::text::normalize_case_kept`]) into tokens.
pub fn tokens(t: &str, vocab: &dyn Vocabulary, is_package: &dyn Fn(&str) -> bool) -> Vec<Token> {
    let mut out = Vec::new();
    for raw in t.split_whitespace() {
        let comma = raw.ends_with(',') || raw.ends_with(';');
        let word = raw
            .trim_matches(|c: char| ",;:!?.\"'()[]{}".contains(c))
            .to_lowercase();
        if word.is_empty() {
            if comma {
                if let Some(last) = out.last_mut() {
                    let last: &mut Token = last;
                    last.comma = true;
                }
            }
            continue;
        }
        let word = correct(&word, vocab, is_package);
        out.push(Token {
            raw: raw.trim_end_matches([',', ';']).to_string(),
            word,
            comma,
        });
    }
    out
}

/// The corrected form of `w`: itself when known, a package, short or not a plain word.
fn correct(w: &str, vocab: &dyn Vocabulary, is_package: &dyn Fn(&str) -> bool) -> String {
    if w.chars().count() < 4
        || !w.bytes().all(|b| b.is_ascii_lowercase())
        || vocab.known(w)
        || is_package(w)
    {
        return w.to_string();
    }
    let limit = if w.len() <= 5 { 1 } else { 2 };
    // Nearest first; among equals, one with the same first letter, then the same length.
    let rank = |d: usize, v: &str| {
        (
            d,
            usize::from(v.as_bytes()[0] != w.as_bytes()[0]),
            v.len().abs_diff(w.len()),
        )
    };
    let mut best: Option<((usize, usize, usize), &str)> = None;
    let mut tie = false;
    for v in vocab.request_words() {
        if v.len() < 4 || v.len().abs_diff(w.len()) > limit {
            continue;
        }
        let d = strsim::damerau_levenshtein(w, v);
        if d > limit {
            continue;
        }
        let r = rank(d, v);
        match best {
            Some((br, _)) if r > br => {}
            Some((br, _)) if r == br => tie = true,
            _ => {
                best = Some((r, v));
                tie = false;
            }
        }
    }
    match best {
        Some((_, v)) if !tie => v.to_string(),
        _ => w.to_string(),
    }
}

/// The words of `toks`, space-joined.
pub fn join(toks: &[Token]) -> String {
    toks.iter()
        .map(|t| t.word.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct V(Vec<String>);
    impl Vocabulary for V {
        fn request_words(&self) -> &[String] {
            &self.0
        }
        fn known(&self, w: &str) -> bool {
            self.0.iter().any(|x| x == w) || w == "hello"
        }
    }

    #[test]
    fn corrects_request_words_only() {
        let v = V(["install", "snapshot", "remove", "deploy"]
            .iter()
            .map(|s| s.to_string())
            .collect());
        let pk = |w: &str| w == "firefox" || w == "gimp";
        let t = tokens("installl gimp, fierfox to snaphot 3", &v, &pk);
        let w: Vec<&str> = t.iter().map(|t| t.word.as_str()).collect();
        assert_eq!(w, ["install", "gimp", "fierfox", "to", "snapshot", "3"]);
        assert!(t[1].comma && !t[0].comma);
        assert_eq!(tokens("hello", &v, &pk)[0].word, "hello");
        // Short words and non-words stay as typed.
        assert_eq!(tokens("rmv -s", &v, &pk)[1].word, "-s");
    }
}
