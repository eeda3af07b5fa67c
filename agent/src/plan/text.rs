//! Request text before tokens: typographic quotes straightened, trailing punctuation
//! and extra spaces removed; whether it was asked as a question.

/// Quotes straightened, trailing `?!.` and extra spaces removed; case kept (commands
/// and descriptions keep what the user typed).
pub fn normalize_case_kept(s: &str) -> String {
    let s = s.replace(['’', '‘'], "'").replace(['“', '”'], "\"");
    let s = s.trim().trim_end_matches(['?', '!', '.']);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`normalize_case_kept`], lower case.
pub fn normalize(s: &str) -> String {
    normalize_case_kept(s).to_lowercase()
}

/// Whether the request is asked as a question.
pub fn is_question(s: &str) -> bool {
    let t = s.trim();
    if t.ends_with('?') {
        return true;
    }
    let first = t.split_whitespace().next().unwrap_or("").to_lowercase();
    matches!(
        first.as_str(),
        "what"
            | "which"
            | "where"
            | "when"
            | "how"
            | "is"
            | "are"
            | "do"
            | "does"
            | "did"
            | "can"
            | "could"
            | "who"
            | "why"
            | "what's"
            | "where's"
            | "whats"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising() {
        assert_eq!(normalize("  Install   Firefox?! "), "install firefox");
        assert_eq!(normalize_case_kept("run pacman -Qdt. "), "run pacman -Qdt");
        assert_eq!(normalize("“label” it"), "\"label\" it");
        assert!(is_question("is firefox installed"));
        assert!(is_question("firefox installed?"));
        assert!(!is_question("install firefox"));
    }
}
