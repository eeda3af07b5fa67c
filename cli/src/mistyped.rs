//! Telling a mistyped command from a request in plain words: `rast delete 3` is a
//! command line with a wrong verb, `rast "delete snapshot 3"` is a request.
//!
//! The rule (docs/tree.md, "Mistyped commands"), for words that name no command:
//! - given as **one quoted argument with a space** in it, they are always a request
//!   for the planner (which corrects typos inside sentences);
//! - given as **separate words**, they are a mistyped command — "unknown command",
//!   a suggestion when a command is close, exit 2, nothing planned or run — when
//!   - there is one word only, or
//!   - the second word is a number (`VERB N …` is the shape of every snapshot
//!     command, never of a sentence the planner needs), or
//!   - there are at most three words and the first is close to a command name or
//!     alias: Damerau–Levenshtein distance ≤ 1 for words of up to 4 letters, ≤ 2
//!     from 5, or one is a prefix of the other (3+ letters; `delete` → `del`);
//! - anything else (an unquoted sentence, `rast show me what changed`) is a request.
//!
//! Nothing here runs a command; the caller prints the message and exits 2.

/// What separate words that reached no command are.
#[derive(Debug, PartialEq, Eq)]
pub enum Words {
    /// A request in plain words: plan it.
    Request,
    /// A command line whose first word is no command.
    Mistyped {
        word: String,
        /// The nearest commands (at most three).
        suggestions: Vec<String>,
    },
}

/// Names shorter than this take part in no fuzzy match (`c`, `in`, `up` would
/// match half the dictionary).
const MIN_NAME: usize = 3;

fn max_distance(word: &str) -> usize {
    if word.chars().count() <= 4 {
        1
    } else {
        2
    }
}

/// The commands nearest to `word` (all at the same distance), at most three.
pub fn suggest(word: &str, commands: &[String]) -> Vec<String> {
    let w = word.to_lowercase();
    if w.chars().count() < MIN_NAME {
        return Vec::new();
    }
    let mut scored: Vec<(usize, &String)> = commands
        .iter()
        .filter(|c| c.chars().count() >= MIN_NAME)
        .filter_map(|c| {
            let d = strsim::damerau_levenshtein(&w, c);
            let prefix = w.starts_with(c.as_str()) || c.starts_with(w.as_str());
            (d <= max_distance(&w) || prefix).then_some((d, c))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    // Only the nearest: `upgrde` suggests `upgrade`, not also `tupgrade`.
    let best = scored.first().map(|s| s.0);
    scored
        .into_iter()
        .filter(|s| Some(s.0) == best)
        .take(3)
        .map(|(_, c)| c.clone())
        .collect()
}

fn is_number(w: &str) -> bool {
    !w.is_empty() && w.chars().all(|c| c.is_ascii_digit())
}

/// Applies the module's rule to the words after `rast` (flags already removed).
pub fn classify(words: &[String], commands: &[String]) -> Words {
    let Some(first) = words.first() else {
        return Words::Request;
    };
    if words.len() == 1 && first.trim().contains(char::is_whitespace) {
        return Words::Request;
    }
    let suggestions = suggest(first, commands);
    let mistyped = words.len() == 1
        || words.get(1).is_some_and(|w| is_number(w))
        || (words.len() <= 3 && !suggestions.is_empty());
    if mistyped {
        Words::Mistyped {
            word: first.clone(),
            suggestions,
        }
    } else {
        Words::Request
    }
}

/// Every subcommand name and alias of the `rast` grammar.
pub fn command_names() -> Vec<String> {
    use clap::CommandFactory;
    crate::args::Cli::command()
        .get_subcommands()
        .flat_map(|c| {
            std::iter::once(c.get_name().to_string()).chain(c.get_all_aliases().map(str::to_string))
        })
        .collect()
}

/// The error line for [`Words::Mistyped`].
pub fn message(word: &str, suggestions: &[String]) -> String {
    let hint = match suggestions {
        [] => String::new(),
        [one] => format!(": did you mean `{one}`?"),
        many => format!(
            ": did you mean {}?",
            many.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    };
    format!(
        "unknown command `{word}`{hint}\n  (see `rast --help`; a request in plain words goes in quotes: rast \"remove snapshot 3\")"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    fn names() -> Vec<String> {
        command_names()
    }

    fn mistyped(s: &str) -> Vec<String> {
        match classify(&words(s), &names()) {
            Words::Mistyped { suggestions, .. } => suggestions,
            Words::Request => panic!("{s:?} was taken as a request"),
        }
    }

    #[test]
    fn command_shaped_words_are_mistyped_commands() {
        assert_eq!(mistyped("delete 3")[0], "del");
        assert_eq!(mistyped("instal 3 foo-app")[0], "install");
        assert_eq!(mistyped("upgrde 4"), ["upgrade"]);
        assert_eq!(mistyped("isntall htop")[0], "install");
        assert_eq!(mistyped("clnoe 2")[0], "clone");
        // No close command: still not a request, and no suggestion.
        assert!(mistyped("frobnicate 3").is_empty());
        assert!(mistyped("firefox").is_empty());
    }

    #[test]
    fn sentences_are_requests() {
        let n = names();
        for s in [
            "install the latest firefox",
            "delete snapshot 3",
            "instal 3 foo-app",
        ] {
            // One quoted argument.
            assert_eq!(classify(&[s.to_string()], &n), Words::Request, "{s}");
        }
        for s in [
            "show me what changed",
            "get me a pdf reader",
            "what is installed in the current snapshot",
            "do some housekeeping",
        ] {
            assert_eq!(classify(&words(s), &n), Words::Request, "{s}");
        }
    }

    #[test]
    fn short_aliases_match_nothing_fuzzily() {
        // `c` (current) and `in` (install) must not make "a" or "on" commands.
        assert!(suggest("on", &names()).is_empty());
        assert!(!suggest("see", &names()).contains(&"c".to_string()));
    }

    #[test]
    fn messages_teach() {
        assert_eq!(
            message("delete", &["del".into()]).lines().next().unwrap(),
            "unknown command `delete`: did you mean `del`?"
        );
        assert!(message("x", &[]).starts_with("unknown command `x`\n"));
        assert!(message("dep", &["deploy".into(), "desc".into()]).contains("`deploy` or `desc`"));
    }
}
