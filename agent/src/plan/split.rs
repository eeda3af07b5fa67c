//! Clause splitting: "clone 3, install nginx in it and deploy it" → three clauses.
//!
//! A clause ends at a comma or full stop, or before "and" / "then" / "and then" /
//! "after that", when the next word (after such joiners and a "please") is one a
//! clause starts with in the corpus ("install", "deploy", "back", "i") — so "install
//! gimp and inkscape" stays one clause. The planner merges a clause that reads as
//! nothing on its own back into the one before ([`super::Planner`]). At most
//! [`MAX_CLAUSES`] clauses; the rest stays in the last.

use std::ops::Range;

use super::lex::Token;

pub const MAX_CLAUSES: usize = 4;

const JOINERS: &[&str] = &[
    "and",
    "then",
    "also",
    "afterwards",
    "afterward",
    "finally",
    "lastly",
];
/// Words between a joiner and the next verb; they belong to no clause.
const FILLERS: &[&str] = &["and", "then", "also", "finally", "afterwards", "lastly"];
/// Words a clause may open with before its verb ("please", "also").
const OPENERS: &[&str] = &["please", "pls", "kindly", "now", "just"];

/// "snapshot 5 should be …", "#9 must have …": a clause whose subject is a snapshot.
fn subject_ref(toks: &[Token], i: usize) -> bool {
    let w = |j: usize| toks.get(j).map(|t| t.word.as_str()).unwrap_or("");
    let is_ref_start = matches!(w(i), "snapshot" | "snap") || super::refs::digits(w(i)).is_some();
    is_ref_start
        && (i + 1..i + 4).any(|j| {
            matches!(
                w(j),
                "should" | "must" | "needs" | "can" | "is" | "isn't" | "has" | "wants" | "doesn't"
            )
        })
}

/// Token ranges of the clauses of `toks`.
pub fn clauses(toks: &[Token], starts_clause: &dyn Fn(&str) -> bool) -> Vec<Range<usize>> {
    let w = |i: usize| toks.get(i).map(|t| t.word.as_str()).unwrap_or("");
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 1;
    while i < toks.len() {
        let after_comma = toks[i - 1].comma || toks[i - 1].raw.ends_with('.') && w(i - 1) != "no";
        let joiner =
            JOINERS.contains(&w(i)) || w(i) == "after" && matches!(w(i + 1), "that" | "this");
        if (after_comma || joiner) && out.len() + 1 < MAX_CLAUSES {
            let mut j = i;
            while j < toks.len()
                && (FILLERS.contains(&w(j))
                    || w(j) == "after" && matches!(w(j + 1), "that" | "this")
                    || matches!(w(j), "that" | "this") && w(j.saturating_sub(1)) == "after")
            {
                j += 1;
            }
            let cut = i;
            let mut verb = j;
            while verb < toks.len() && OPENERS.contains(&w(verb)) {
                verb += 1;
            }
            if verb < toks.len()
                && j > start
                && (starts_clause(w(verb)) || subject_ref(toks, verb))
                && cut > start
            {
                out.push(start..cut);
                start = j;
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    if start < toks.len() {
        out.push(start..toks.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        let toks: Vec<Token> = s
            .split_whitespace()
            .map(|w| Token {
                raw: w.trim_end_matches(',').into(),
                word: w.trim_matches([',', '.']).into(),
                comma: w.ends_with(','),
            })
            .collect();
        let starts = |w: &str| {
            [
                "install", "deploy", "clone", "update", "clean", "back", "remove",
            ]
            .contains(&w)
        };
        clauses(&toks, &starts)
            .into_iter()
            .map(|r| {
                toks[r]
                    .iter()
                    .map(|t| t.word.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn splits_where_a_new_verb_starts() {
        assert_eq!(
            split("clone 3, install nginx in it and deploy it"),
            ["clone 3", "install nginx in it", "deploy it"]
        );
        assert_eq!(
            split("install gimp and inkscape"),
            ["install gimp and inkscape"]
        );
        assert_eq!(
            split("install htop, wget and git"),
            ["install htop wget and git"]
        );
        assert_eq!(
            split("remove htop and then clean up unused dependencies"),
            ["remove htop", "clean up unused dependencies"]
        );
        assert_eq!(
            split("update everything, and after that back it up"),
            ["update everything", "back it up"]
        );
        assert_eq!(split("clone 2. then deploy it"), ["clone 2", "deploy it"]);
        assert_eq!(
            split("clone 1 and install a and deploy 2 and update 3 and remove b").len(),
            MAX_CLAUSES
        );
    }
}
