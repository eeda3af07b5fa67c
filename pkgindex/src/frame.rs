//! The words the dense retriever is given for a package search: a request, framed as
//! a request for software.
//!
//! People type what they want done ("keep track of changes to my source code", "touch
//! up a portrait photo"); packages are described as what they are ("the fast
//! distributed version control system"). Embedded bare, a request lands near whatever
//! shares its topic — fonts for "design my own font", libraries and data for photos.
//! Prefixed with "software to", the same request lands nearer descriptions of programs.
//! Measured on the five query sets (2026-12-03, Arch 2022, 3,568 packages; hit@5 and
//! MRR@10): held-out 23 → 26/29 (0.637 → 0.718), held-out2 29/34 (0.713 → 0.750),
//! held-out3 38/40 (0.758 → 0.770), extra 28/29 (0.866 → 0.834), dev 10/10 (1.000).
//! "software for" scored 130 of 142 hits, "a program to" 129, "tool to" 128, the
//! average of the bare and framed vectors 129, bare 128: framing as software is what
//! helps, not the exact phrase.
//!
//! Invariants: only the *dense* query of *package* documents is framed. BM25 and exact
//! names see the words as typed; a config-only search (`rast config search`) embeds
//! the words as typed (a config question is not a request for software — a mixed
//! search frames them, one vector for both kinds); queries shorter than
//! [`MIN_WORDS`] — names and keywords ("pdf viewer") — are left alone.

/// Requests of fewer words are names or keywords, embedded as typed.
pub const MIN_WORDS: usize = 3;

const PREFIX: &str = "software to ";

/// The text to embed for a package search of `query`, or None when it is embedded
/// as typed.
pub fn as_software_request(query: &str) -> Option<String> {
    let q = query.trim();
    (q.split_whitespace().count() >= MIN_WORDS).then(|| format!("{PREFIX}{q}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_framed_and_a_keyword_query_is_not() {
        assert_eq!(
            as_software_request("  touch up a photo "),
            Some("software to touch up a photo".into())
        );
        assert_eq!(as_software_request("pdf viewer"), None);
        assert_eq!(as_software_request("firefox"), None);
        assert_eq!(as_software_request(""), None);
    }
}
