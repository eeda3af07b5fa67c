//! The fields of a clause once its intent is known: the phrases naming packages, a
//! query's content words, a description's text, a command's argv, the security flag.
//!
//! Which words carry a request ("install", "take … off", "where did i set") and which
//! fill its slots is learned from the corpus: the model file gives each word its
//! carrier share (see [`super::intent::WordInfo`]). A slot is what is left once the
//! carriers, the small function words and the snapshot references are taken out.

use super::intent::WordInfo;
use super::lex::Token;
use super::refs::{self, Span};

/// Words that are never part of a slot.
pub const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "some", "any", "my", "me", "our", "your", "i", "we", "you", "please", "pls",
    "for", "to", "of", "in", "on", "into", "onto", "from", "at", "by", "is", "are", "be", "it",
    "its", "this", "that", "these", "those", "there", "do", "does", "did", "can", "could", "would",
    "will", "should", "so", "too", "also", "just", "now", "then", "again", "really", "thanks",
    "thank", "ok", "okay", "hey", "hi", "yo", "oh", "up", "out", "off", "all", "if", "whether",
];

/// Words that separate several packages in one phrase.
const SEPARATORS: &[&str] = &[
    "and", "plus", "&", "with", "along", "together", "as", "well", "or",
];

/// Carrier share above which a word is taken as carrying the request.
const CARRIER: u8 = 150;

/// Context the slot extractors need.
pub struct Slots<'a> {
    pub toks: &'a [Token],
    pub spans: &'a [Span],
    pub info: &'a dyn Fn(&str) -> WordInfo,
    pub is_package: &'a dyn Fn(&str) -> bool,
}

impl Slots<'_> {
    fn in_span(&self, i: usize) -> bool {
        refs::covered(self.spans).contains(&i)
    }

    fn carrier(&self, w: &str) -> bool {
        (self.info)(w).carrier > CARRIER
    }

    /// Phrases that name packages ("gimp", "intel microcode", "numpy for python"),
    /// split at "and", ",", "plus", "with". Words before the request's first carrier
    /// (an opening "yo", "hey") and carriers are left out; a package name that is
    /// also a carrier word ("tree", "make") stays when it is the only candidate or is
    /// listed with other packages.
    pub fn package_phrases(&self) -> Vec<String> {
        self.phrases(true)
    }

    /// As [`Slots::package_phrases`], without package names that are also carriers:
    /// what certainly names a package ("trash the tree at 8" names none).
    pub fn strong_package_phrases(&self) -> Vec<String> {
        self.phrases(false)
    }

    fn phrases(&self, weak_ok: bool) -> Vec<String> {
        let first_carrier = self
            .toks
            .iter()
            .position(|t| self.carrier(&t.word) && !(self.is_package)(&t.word));
        let mut phrases: Vec<Vec<(usize, bool)>> = vec![Vec::new()];
        for (i, t) in self.toks.iter().enumerate() {
            let w = t.word.as_str();
            if self.in_span(i) {
                phrases.push(Vec::new());
                continue;
            }
            if SEPARATORS.contains(&w) {
                phrases.push(Vec::new());
                continue;
            }
            let pkg = (self.is_package)(w);
            let before_verb = first_carrier.is_some_and(|c| i < c);
            let keep_weak = self.carrier(w) && pkg;
            let skip = !pkg && (FUNCTION_WORDS.contains(&w) || self.carrier(w) || before_verb)
                || w.starts_with('-');
            if !skip {
                phrases.last_mut().unwrap().push((i, keep_weak));
            }
            if t.comma {
                phrases.push(Vec::new());
            }
        }
        phrases.retain(|p| !p.is_empty());
        // Weak words (package names that are also carriers) stay only if nothing strong
        // exists, or if they stand alone in a list of packages.
        let strong = phrases.iter().flatten().filter(|(_, weak)| !weak).count();
        let out: Vec<String> = phrases
            .iter()
            .filter_map(|p| {
                let kept: Vec<&str> = p
                    .iter()
                    .filter(|(_, weak)| {
                        !weak || weak_ok && (strong == 0 || p.len() == 1 && phrases.len() > 1)
                    })
                    .map(|(i, _)| self.toks[*i].word.as_str())
                    .collect();
                (!kept.is_empty()).then(|| kept.join(" "))
            })
            .collect();
        out
    }

    /// Content words of a query ("is there a package for wireguard" → "wireguard").
    pub fn query(&self) -> String {
        let mut out = Vec::new();
        for (i, t) in self.toks.iter().enumerate() {
            let w = t.word.as_str();
            if self.in_span(i)
                || FUNCTION_WORDS.contains(&w)
                || (self.info)(w).query_carrier > CARRIER
            {
                continue;
            }
            if w.starts_with('-') && w.len() <= 4 {
                continue;
            }
            out.push(w);
        }
        if out.is_empty() {
            // Everything was a carrier: keep the rarest-carrier words rather than nothing.
            let mut c: Vec<(u8, &str)> = self
                .toks
                .iter()
                .enumerate()
                .filter(|(i, t)| !self.in_span(*i) && !FUNCTION_WORDS.contains(&t.word.as_str()))
                .map(|(_, t)| ((self.info)(&t.word).query_carrier, t.word.as_str()))
                .collect();
            c.sort();
            if let Some((share, w)) = c.first() {
                if *share < 240 {
                    out.push(w);
                }
            }
        }
        out.join(" ")
    }

    /// The description in "label snapshot 2 as gaming setup", "name 3 testing ground",
    /// "describe 2 as \"kde test\"" (quotes win), as typed.
    pub fn text(&self) -> Option<String> {
        let raw: Vec<&str> = self.toks.iter().map(|t| t.raw.as_str()).collect();
        let joined = raw.join(" ");
        if let Some(a) = joined.find('"') {
            if let Some(b) = joined[a + 1..].find('"') {
                let t = joined[a + 1..a + 1 + b].trim();
                return (!t.is_empty()).then(|| t.to_string());
            }
        }
        let after_ref = self.spans.iter().map(|s| s.end).max().unwrap_or(0);
        let intro = [
            "as",
            "to",
            "with",
            "called",
            "named",
            "description",
            "label",
            "name",
            "tag",
        ];
        let start = (after_ref..self.toks.len())
            .rev()
            .find(|&i| intro.contains(&self.toks[i].word.as_str()))
            .map(|i| i + 1)
            .or_else(|| (after_ref > 0).then_some(after_ref))?;
        let mut words: Vec<&str> = raw[start.min(raw.len())..].to_vec();
        while words.first().is_some_and(|w| {
            matches!(
                w.to_lowercase().as_str(),
                "the" | "a" | "as" | "to" | "description" | "label" | "name"
            )
        }) {
            words.remove(0);
        }
        let t = words
            .join(" ")
            .trim_matches(|c: char| c == '\'' || c == '"' || c == ':')
            .to_string();
        (!t.is_empty()).then_some(t)
    }

    /// The argv of "run pacman -Qdt inside snapshot 3" / "inside snapshot 3 run CMD" /
    /// "in snapshot 1, execute CMD": the words after run/execute, up to a snapshot
    /// reference, as typed.
    pub fn command(&self) -> Vec<String> {
        let Some(verb) = self
            .toks
            .iter()
            .position(|t| matches!(t.word.as_str(), "run" | "execute" | "exec"))
        else {
            return Vec::new();
        };
        let mut end = self.toks.len();
        for s in self.spans.iter().filter(|s| s.start > verb) {
            let cut = s.prep.unwrap_or(s.start);
            // "in a chroot of snapshot 3", "inside the snapshot".
            let mut c = cut;
            while c > verb + 1
                && matches!(
                    self.toks[c - 1].word.as_str(),
                    "in" | "inside" | "a" | "chroot" | "of" | "the" | "on" | "within"
                )
            {
                c -= 1;
            }
            end = end.min(c);
        }
        self.toks[verb + 1..end]
            .iter()
            .map(|t| t.raw.trim_matches(['"', '\'', '`']).to_string())
            .filter(|w| !w.is_empty())
            .collect()
    }
}

/// Whether the clause asks for security fixes only.
pub fn security(toks: &[Token]) -> bool {
    toks.iter().any(|t| {
        let w = t.word.as_str();
        w.starts_with("secur")
            || w.starts_with("vulnerab")
            || w.starts_with("advisor")
            || w.starts_with("exploit")
            || matches!(w, "cve" | "cves")
            || w.starts_with("cve-")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::refs;

    fn toks(s: &str) -> Vec<Token> {
        s.split_whitespace()
            .map(|w| Token {
                raw: w.trim_end_matches(',').into(),
                word: w.trim_matches([',', '"']).to_lowercase(),
                comma: w.ends_with(','),
            })
            .collect()
    }

    fn info(w: &str) -> WordInfo {
        let carriers = [
            "install",
            "remove",
            "take",
            "system",
            "get",
            "search",
            "find",
            "where",
            "set",
            "configured",
            "label",
            "snapshot",
            "run",
            "make",
            "tree",
            "package",
            "program",
        ];
        let c = if carriers.contains(&w) { 255 } else { 0 };
        WordInfo {
            carrier: c,
            query_carrier: c,
            ..Default::default()
        }
    }

    fn with<T>(s: &str, f: impl Fn(&Slots) -> T) -> T {
        let t = toks(s);
        let sp = refs::find(&t);
        let pk = |w: &str| ["gimp", "htop", "git", "make", "tree", "gcc", "python"].contains(&w);
        f(&Slots {
            toks: &t,
            spans: &sp,
            info: &info,
            is_package: &pk,
        })
    }

    #[test]
    fn packages() {
        assert_eq!(
            with("take gimp off the system", |s| s.package_phrases()),
            ["gimp"]
        );
        assert_eq!(
            with("install htop, git and gcc in snapshot 3", |s| s
                .package_phrases()),
            ["htop", "git", "gcc"]
        );
        assert_eq!(
            with("install numpy for python", |s| s.package_phrases()),
            ["numpy python"]
        );
        assert_eq!(
            with("yo install intel microcode", |s| s.package_phrases()),
            ["intel microcode"]
        );
        assert_eq!(with("install tree", |s| s.package_phrases()), ["tree"]);
        assert_eq!(
            with("install gcc and make", |s| s.package_phrases()),
            ["gcc", "make"]
        );
        assert!(with("remove snapshot 3", |s| s.package_phrases()).is_empty());
    }

    #[test]
    fn queries_texts_commands() {
        assert_eq!(with("search for a pdf viewer", |s| s.query()), "pdf viewer");
        assert_eq!(
            with("where is the ssh port configured", |s| s.query()),
            "ssh port"
        );
        assert_eq!(
            with("label snapshot 2 as gaming setup", |s| s.text()).unwrap(),
            "gaming setup"
        );
        assert_eq!(
            with("name 3 testing ground", |s| s.text()).unwrap(),
            "testing ground"
        );
        assert_eq!(
            with("describe 2 as \"KDE test\"", |s| s.text()).unwrap(),
            "KDE test"
        );
        assert_eq!(
            with("run pacman -Qdt inside snapshot 3", |s| s.command()),
            ["pacman", "-Qdt"]
        );
        assert_eq!(
            with("inside snapshot 2 run ls /etc", |s| s.command()),
            ["ls", "/etc"]
        );
        assert_eq!(
            with("run id in a chroot of snapshot 4", |s| s.command()),
            ["id"]
        );
        assert!(security(&toks("apply only the security updates")));
        assert!(!security(&toks("update everything")));
    }
}
