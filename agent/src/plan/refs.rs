//! Snapshot references in a clause, with the token span each covers: `snapshot 3`,
//! `snap 3`, `#3`, `snapshot #3`, `snapshot number three`, `snapshot no. 3`, `number 3`,
//! `the third snapshot`, a bare `3`; `the current snapshot` / `this one`; pronouns that
//! point back at an earlier clause (`it`, `there`, `the new one`, `the clone`); and
//! snapshots a plan must make first (`a new clone of 3`, `a fresh branch of 2`).
//!
//! Invariant: an id that comes out is decimal digits without leading zeros (≤ 9 digits);
//! a number right after a version-ish word ("python 3") or before a unit ("2 days") is
//! not a snapshot.

use super::lex::Token;

/// What a span refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ref {
    Id(String),
    /// The current (running) snapshot.
    Current,
    /// "it", "there", "the new one": an earlier clause's snapshot.
    Pronoun,
    /// A snapshot the plan makes first: `a new clone of N` / `a new branch of N`.
    NewFrom {
        branch: bool,
        id: String,
    },
}

/// One reference: tokens `start..end`, and the preposition before it (`in`, `under`…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub r: Ref,
    /// Index of the preposition right before the span, if any.
    pub prep: Option<usize>,
}

impl Span {
    pub fn id(&self) -> Option<&str> {
        match &self.r {
            Ref::Id(s) => Some(s),
            _ => None,
        }
    }
}

const SNAP_WORDS: &[&str] = &["snapshot", "snapshots", "snap", "snaps"];
const PREPS: &[&str] = &[
    "in", "into", "to", "on", "onto", "inside", "for", "from", "of", "under", "below", "beneath",
    "at", "with", "between", "than", "off", "within", "against", "and", "vs", "versus",
];
/// Words after which a number is a version, not a snapshot.
const VERSIONISH: &[&str] = &[
    "version",
    "v",
    "python",
    "python3",
    "gtk",
    "qt",
    "jdk",
    "java",
    "openjdk",
    "php",
    "lua",
    "perl",
    "postgresql",
    "kde",
    "plasma",
    "gnome",
    "linux",
    "kernel",
    "-j",
    "last",
    "past",
    "top",
    "first",
];
/// Words after a number that make it a quantity.
const UNITS: &[&str] = &[
    "days", "day", "hours", "hour", "minutes", "minute", "weeks", "week", "months", "gb", "mb",
    "gib", "mib", "kb", "percent", "%", "times", "backups", "packages", "versions", "years",
];

const NUMBER_WORDS: &[(&str, u32)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
];

const ORDINALS: &[(&str, u32)] = &[
    ("zeroth", 0),
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("fifth", 5),
    ("sixth", 6),
    ("seventh", 7),
    ("eighth", 8),
    ("ninth", 9),
    ("tenth", 10),
];

/// A decimal id from `3`, `#3`, `03`, `3's`.
pub fn digits(w: &str) -> Option<String> {
    let d = w.trim_start_matches('#');
    let d = d.strip_suffix("'s").unwrap_or(d);
    if d.is_empty() || d.len() > 9 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = d.trim_start_matches('0');
    Some(if n.is_empty() { "0".into() } else { n.into() })
}

fn number_word(w: &str) -> Option<String> {
    let w = w.strip_suffix("'s").unwrap_or(w);
    NUMBER_WORDS
        .iter()
        .find(|(k, _)| *k == w)
        .map(|(_, v)| v.to_string())
}

/// "3rd", "third", "12th" → the number.
fn ordinal(w: &str) -> Option<String> {
    if let Some((_, v)) = ORDINALS.iter().find(|(k, _)| *k == w) {
        return Some(v.to_string());
    }
    let n = w
        .strip_suffix("st")
        .or_else(|| w.strip_suffix("nd"))
        .or_else(|| w.strip_suffix("rd"))
        .or_else(|| w.strip_suffix("th"))?;
    digits(n)
}

fn is_snap_word(w: &str) -> bool {
    SNAP_WORDS.contains(&w)
}

/// Every reference in `toks`, in order, spans not overlapping.
pub fn find(toks: &[Token]) -> Vec<Span> {
    let w = |i: usize| toks.get(i).map(|t| t.word.as_str()).unwrap_or("");
    let mut out: Vec<Span> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some((end, r)) = at(toks, i) {
            let prep = (i > 0 && PREPS.contains(&w(i - 1))).then(|| i - 1);
            out.push(Span {
                start: i,
                end,
                r,
                prep,
            });
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The reference starting at `i`, as (end, ref).
fn at(toks: &[Token], i: usize) -> Option<(usize, Ref)> {
    let w = |j: usize| toks.get(j).map(|t| t.word.as_str()).unwrap_or("");
    let cur = w(i);
    // in/into/on a (new|fresh) (clone|copy) of REF / … a (new) (branch|child) of REF:
    // a place to act in that the plan makes first ("make a copy of 3" is the object).
    let locative = i > 0
        && matches!(
            w(i - 1),
            "in" | "into" | "on" | "onto" | "to" | "inside" | "for" | "within"
        );
    if locative {
        let mut j = i;
        if matches!(w(j), "a" | "an" | "the") {
            j += 1;
        }
        let fresh = matches!(w(j), "new" | "fresh" | "brand-new");
        if fresh {
            j += 1;
        }
        let making = w(j);
        let branch = matches!(making, "branch" | "child");
        let clone = matches!(making, "clone" | "copy" | "duplicate");
        if (branch || clone) && (fresh || j > i) && matches!(w(j + 1), "of" | "off" | "from") {
            if let Some((end, Ref::Id(id))) = at(toks, j + 2) {
                return Some((end, Ref::NewFrom { branch, id }));
            }
        }
    }
    // snapshot [number|no|nr|#] N
    if is_snap_word(cur) {
        let mut j = i + 1;
        if matches!(w(j), "number" | "no" | "nr" | "num" | "#" | "id") {
            j += 1;
        }
        if let Some(n) = digits(w(j)).or_else(|| number_word(w(j))) {
            return Some((j + 1, Ref::Id(n)));
        }
        return None;
    }
    if cur.starts_with('#') {
        return digits(cur).map(|n| (i + 1, Ref::Id(n)));
    }
    // number N
    if cur == "number" {
        if let Some(n) = digits(w(i + 1)).or_else(|| number_word(w(i + 1))) {
            return Some((i + 2, Ref::Id(n)));
        }
    }
    // the third snapshot / the 3rd one
    if let Some(n) = ordinal(cur) {
        let j = i + 1;
        if is_snap_word(w(j)) {
            return Some((j + 1, Ref::Id(n)));
        }
    }
    if cur == "the" {
        if let Some(n) = ordinal(w(i + 1)) {
            if is_snap_word(w(i + 2)) || w(i + 2) == "one" {
                return Some((i + 3, Ref::Id(n)));
            }
        }
    }
    // Current snapshot.
    if matches!(
        cur,
        "current" | "this" | "running" | "booted" | "active" | "present"
    ) && (is_snap_word(w(i + 1)) || w(i + 1) == "one")
    {
        return Some((i + 2, Ref::Current));
    }
    if cur == "the"
        && matches!(w(i + 1), "current" | "running" | "booted" | "active")
        && (is_snap_word(w(i + 1 + 1)) || w(i + 2) == "one")
    {
        return Some((i + 3, Ref::Current));
    }
    // Pronouns and "the new one".
    if matches!(cur, "it" | "there") {
        return Some((i + 1, Ref::Pronoun));
    }
    if matches!(cur, "the" | "that") {
        let a = w(i + 1);
        let b = w(i + 2);
        if matches!(
            (a, b),
            ("new", "one")
                | ("new", "snapshot")
                | ("new", "clone")
                | ("new", "copy")
                | ("new", "branch")
                | ("same", "one")
                | ("latest", "one")
        ) {
            return Some((i + 3, Ref::Pronoun));
        }
        if matches!(
            a,
            "clone" | "copy" | "branch" | "one" | "snapshot" | "duplicate"
        ) {
            return Some((i + 2, Ref::Pronoun));
        }
    }
    // A bare number.
    if let Some(n) = digits(cur) {
        let prev = if i > 0 { w(i - 1) } else { "" };
        let next = w(i + 1);
        if !VERSIONISH.contains(&prev) && !UNITS.contains(&next) && !cur.contains('.') {
            return Some((i + 1, Ref::Id(n)));
        }
    }
    None
}

/// Token indices covered by spans and their prepositions.
pub fn covered(spans: &[Span]) -> Vec<usize> {
    let mut v = Vec::new();
    for s in spans {
        if let Some(p) = s.prep {
            v.push(p);
        }
        v.extend(s.start..s.end);
    }
    v
}

/// "run X inside/in snapshot N", "execute X in snapshot N", "inside snapshot N run X",
/// "in snapshot N, run X", "run X in a chroot of N".
pub fn is_run_request(toks: &[Token], spans: &[Span]) -> bool {
    let w = |i: usize| toks.get(i).map(|t| t.word.as_str()).unwrap_or("");
    let verbs = ["run", "execute", "exec"];
    let mut i = 0;
    while matches!(w(i), "please" | "can" | "could" | "you" | "now") {
        i += 1;
    }
    let verb_first = verbs.contains(&w(i));
    // "inside snapshot 3 run …": a reference, then the verb.
    let ref_first = spans
        .first()
        .filter(|s| s.prep == Some(i) || s.start == i)
        .is_some_and(|s| verbs.contains(&w(s.end)));
    let names_place = spans
        .iter()
        .any(|s| matches!(s.r, Ref::Id(_) | Ref::Pronoun))
        || toks.iter().any(|t| t.word == "chroot");
    (verb_first || ref_first) && names_place
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Token> {
        s.split_whitespace()
            .map(|w| Token {
                raw: w.into(),
                word: w.trim_matches(',').into(),
                comma: false,
            })
            .collect()
    }

    fn refs(s: &str) -> Vec<Ref> {
        find(&toks(s)).into_iter().map(|s| s.r).collect()
    }

    fn id(s: &str) -> Ref {
        Ref::Id(s.into())
    }

    #[test]
    fn forms() {
        assert_eq!(refs("add vlc to snapshot 3"), [id("3")]);
        assert_eq!(refs("deploy #7"), [id("7")]);
        assert_eq!(refs("clone snapshot number three"), [id("3")]);
        assert_eq!(refs("clone snapshot no 12"), [id("12")]);
        assert_eq!(refs("deploy number 4"), [id("4")]);
        assert_eq!(refs("install evince into the third snapshot"), [id("3")]);
        assert_eq!(refs("what changed between 2 and 05"), [id("2"), id("5")]);
        assert_eq!(refs("change snapshot 3's description"), [id("3")]);
        assert_eq!(refs("install python 3"), []);
        assert_eq!(refs("prune backups older than 30 days"), []);
        assert_eq!(refs("deploy the current snapshot"), [Ref::Current]);
        assert_eq!(refs("install nginx in it"), [Ref::Pronoun]);
        assert_eq!(refs("remove vim from the new one"), [Ref::Pronoun]);
        assert_eq!(
            refs("install vim in a new clone of snapshot 2"),
            [Ref::NewFrom {
                branch: false,
                id: "2".into()
            }]
        );
        assert_eq!(
            refs("add git to a fresh branch of #4"),
            [Ref::NewFrom {
                branch: true,
                id: "4".into()
            }]
        );
        let s = find(&toks("add vlc to snapshot 3"));
        assert_eq!((s[0].start, s[0].end, s[0].prep), (3, 5, Some(2)));
    }
}
