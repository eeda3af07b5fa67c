//! Request text: normalising, tokens, phrase tests, snapshot references.

/// Lower case, typographic quotes straightened, trailing punctuation and extra
/// spaces removed.
pub fn normalize(s: &str) -> String {
    let s = s
        .replace(['’', '‘'], "'")
        .replace(['“', '”'], "\"")
        .to_lowercase();
    let s = s.trim().trim_end_matches(['?', '!', '.']);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Words, with surrounding punctuation removed (`#3` keeps its `#`).
pub fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| ",;:!?.\"'()[]{}".contains(c))
                .to_string()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether `text` contains `phrase` on word boundaries.
pub fn has(text: &str, phrase: &str) -> bool {
    let mut from = 0;
    while let Some(i) = text[from..].find(phrase) {
        let start = from + i;
        let end = start + phrase.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '-');
        if boundary(before) && boundary(after) {
            return true;
        }
        from = start + phrase.len().max(1);
        if from >= text.len() {
            break;
        }
    }
    false
}

pub fn has_any(text: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| has(text, p))
}

fn number(w: &str) -> Option<String> {
    let d = w.trim_start_matches('#');
    (!d.is_empty() && d.len() <= 9 && d.bytes().all(|b| b.is_ascii_digit()))
        .then(|| d.trim_start_matches('0').to_string())
        .map(|n| if n.is_empty() { "0".to_string() } else { n })
}

const NUMBER_WORDS: &[(&str, &str)] = &[
    ("zero", "0"),
    ("one", "1"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
];

/// Snapshot ids the text names, in order: `snapshot 3`, `snap 3`, `#3`, `snapshot
/// number 3`, `snapshot three`, and bare numbers.
pub fn snapshot_ids(text: &str) -> Vec<String> {
    let ws = words(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let w = ws[i].as_str();
        if matches!(w, "snapshot" | "snap" | "snapshots") {
            let mut j = i + 1;
            if ws.get(j).is_some_and(|x| x == "number" || x == "no") {
                j += 1;
            }
            if let Some(x) = ws.get(j) {
                let n = number(x).or_else(|| {
                    NUMBER_WORDS
                        .iter()
                        .find(|(k, _)| k == x)
                        .map(|(_, v)| v.to_string())
                });
                if let Some(n) = n {
                    out.push(n);
                    i = j + 1;
                    continue;
                }
            }
        } else if let Some(n) = number(w) {
            // A bare number right after a version-ish word is not a snapshot.
            let prev = if i > 0 { ws[i - 1].as_str() } else { "" };
            if !matches!(
                prev,
                "version" | "v" | "python" | "gtk" | "qt" | "jdk" | "java"
            ) {
                out.push(n);
            }
        }
        i += 1;
    }
    out
}

/// Removes snapshot references ("in snapshot 3", "to #3", "of snapshot 2") from text.
pub fn strip_snapshot_refs(text: &str) -> String {
    let ws = words(text);
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let w = ws[i].as_str();
        let is_ref_word = matches!(w, "snapshot" | "snap");
        let next_is_num = ws.get(i + 1).is_some_and(|x| number(x).is_some());
        if (is_ref_word && next_is_num) || (w.starts_with('#') && number(w).is_some()) {
            if out.last().is_some_and(|p| {
                matches!(
                    p.as_str(),
                    "in" | "to" | "into" | "from" | "of" | "on" | "inside" | "under"
                )
            }) {
                out.pop();
            }
            i += if is_ref_word { 2 } else { 1 };
            continue;
        }
        out.push(ws[i].clone());
        i += 1;
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_and_phrases() {
        assert_eq!(snapshot_ids("add vlc to snapshot 3"), ["3"]);
        assert_eq!(
            snapshot_ids("what changed between snapshot 2 and 5"),
            ["2", "5"]
        );
        assert_eq!(snapshot_ids("deploy #7"), ["7"]);
        assert_eq!(snapshot_ids("clone snapshot number three"), ["3"]);
        assert_eq!(snapshot_ids("install python 3"), Vec::<String>::new());
        assert_eq!(strip_snapshot_refs("add vlc to snapshot 3"), "add vlc");
        assert!(has("get rid of htop", "get rid of"));
        assert!(!has("installed", "install"));
        assert!(has("save my /etc changes", "/etc"));
        assert_eq!(normalize("  Install   Firefox?! "), "install firefox");
    }
}
