//! Users' words for what descriptions abbreviate, and the reverse: "internet relay chat"
//! for a description that says "IRC", "IRC" for one that spells it out.
//!
//! The pairs come from `data/abbreviations.tsv`, built by `scripts/build-vocabulary` from
//! real package descriptions (an abbreviation kept only where its letters are the
//! initials of the words it stands for, seen at least twice, one meaning dominant) —
//! data, not a list written here. Invariant: an abbreviation is recognised only as a
//! whole word in capitals ("IRC", never "irc" inside a word or the English "can"); a
//! long form only as whole words, case-insensitively.

use std::sync::OnceLock;

static TSV: &str = include_str!("../data/abbreviations.tsv");

/// (abbreviation in capitals, long form in lowercase).
fn pairs() -> &'static [(String, String)] {
    static P: OnceLock<Vec<(String, String)>> = OnceLock::new();
    P.get_or_init(|| {
        TSV.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(a, l)| (a.to_uppercase(), l.to_lowercase()))
            .collect()
    })
}

fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// What `text` abbreviates or spells out, in the other form: long forms for the
/// abbreviations it uses, abbreviations (lowercase) for the long forms it uses.
pub fn expansions(text: &str) -> Vec<String> {
    let ws = words(text);
    let lower: Vec<String> = ws.iter().map(|w| w.to_lowercase()).collect();
    let mut out = Vec::new();
    for (abbr, long) in pairs() {
        if ws.iter().any(|w| w == abbr) {
            if !text.to_lowercase().contains(long.as_str()) {
                out.push(long.clone());
            }
            continue;
        }
        let lw: Vec<&str> = long.split(' ').collect();
        let spelled = lower
            .windows(lw.len())
            .any(|win| win.iter().zip(&lw).all(|(a, b)| a == b));
        if spelled {
            out.push(abbr.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_whole_words_only() {
        let e = expansions("Modular text mode IRC client with Perl scripting");
        assert!(e.contains(&"internet relay chat".to_string()), "{e:?}");
        let e = expansions("A client for Internet Relay Chat networks");
        assert!(e.contains(&"irc".to_string()), "{e:?}");
        assert!(expansions("a circus of ircd-like words").is_empty());
        assert!(
            expansions("you can play music")
                .iter()
                .all(|x| x != "controller area network"),
            "the English word is not the abbreviation"
        );
        assert!(expansions("").is_empty());
    }

    #[test]
    fn the_shipped_pairs_are_well_formed() {
        assert!(pairs().len() > 50);
        for (a, l) in pairs() {
            let initials: String = l.split(' ').filter_map(|w| w.chars().next()).collect();
            assert_eq!(initials.to_uppercase(), *a, "{a} = {l}");
        }
    }
}
