//! Which /etc file a clause names: "pacman.conf", "/etc/ssh/sshd_config", "my fstab",
//! "the pacman config", "the mirror list".
//!
//! Resolved against the files the index holds (the catalogue's `config_files`, from the
//! indexed /etc), never against a list written here: an explicit `/etc/…` path wins; then
//! a token that is a known file's name or path below /etc; then the clause's content
//! words scored against each file's path words (a file-name word counts twice a
//! directory word; a word that equals or starts a path word counts more than one
//! contained in it: "ssh" → `sshd_config`, "mirror" → `mirrorlist`). A tie is
//! broken by meaning (the index's config search) when the index is at hand, else it
//! is a question listing the candidates; nothing matching is a question too.

use super::resolve::Semantic;

/// What a clause's file words resolved to.
#[derive(Debug, PartialEq, Eq)]
pub enum FileRef {
    Found(String),
    Ambiguous(Vec<String>),
    Unknown,
}

/// Words that say "a file" without saying which.
const GENERIC: &[&str] = &[
    "file",
    "files",
    "config",
    "configs",
    "configuration",
    "conf",
    "cfg",
    "settings",
    "setting",
    "old",
    "previous",
    "earlier",
    "original",
    "version",
    "copy",
    "etc",
    "/etc",
    "my",
    "the",
    "a",
    "an",
    "of",
    "in",
    "from",
    "system",
    "it",
];

fn path_words(p: &str) -> (Vec<String>, Vec<String>) {
    let rel = p.strip_prefix("/etc/").unwrap_or(p);
    let (dir, base) = rel.rsplit_once('/').unwrap_or(("", rel));
    let split = |s: &str| -> Vec<String> {
        s.split(['/', '.', '_', '-'])
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    (split(base), split(dir))
}

/// How well `word` names path word `token`: 2 the same or a prefix either way (a
/// couple of letters off at most: "ssh" / "sshd"), 1 contained in it ("mirror" in
/// "mirrorlist", four letters and up), 0 not at all.
fn quality(word: &str, token: &str) -> u32 {
    if token == word
        || (word.len() >= 3 && token.starts_with(word))
        || (token.len() >= 3 && word.starts_with(token) && word.len() - token.len() <= 2)
    {
        2
    } else if word.len() >= 4 && token.contains(word) {
        1
    } else {
        0
    }
}

/// Resolves the clause's tokens (`raw`: as typed, lowercased; `content`: its content
/// words) against `files`.
pub fn resolve(
    raw: &[String],
    content: &[String],
    files: &[String],
    semantic: Option<&dyn Semantic>,
) -> FileRef {
    let clean = |t: &str| {
        t.trim_matches(|c: char| "\"'()[]{}!?,;:".contains(c))
            .trim_end_matches('.')
            .to_string()
    };
    // 1. An explicit path.
    if let Some(p) = raw
        .iter()
        .map(|t| clean(t))
        .find(|t| t.starts_with("/etc/"))
    {
        return FileRef::Found(p);
    }
    // 2. A known file's name or path below /etc ("pacman.conf", "ssh/sshd_config").
    for t in raw.iter().map(|t| clean(t)) {
        if t.len() < 3 {
            continue;
        }
        let named: Vec<String> = files
            .iter()
            .filter(|f| {
                let rel = f.strip_prefix("/etc/").unwrap_or(f).to_lowercase();
                rel == t || rel.rsplit('/').next() == Some(t.as_str())
            })
            .cloned()
            .collect();
        match named.len() {
            0 => {}
            1 => return FileRef::Found(named[0].clone()),
            _ => return FileRef::Ambiguous(named),
        }
    }
    // 3. Content words against path words.
    let words: Vec<&str> = content
        .iter()
        .map(String::as_str)
        .filter(|w| !GENERIC.contains(w) && w.len() >= 2)
        .collect();
    if words.is_empty() {
        return FileRef::Unknown;
    }
    let mut scored: Vec<(u32, &String)> = files
        .iter()
        .map(|f| {
            let (base, dir) = path_words(f);
            let s: u32 = words
                .iter()
                .map(|w| {
                    let best = |ts: &[String]| ts.iter().map(|t| quality(w, t)).max().unwrap_or(0);
                    // A file-name word counts twice a directory word.
                    (2 * best(&base)).max(best(&dir))
                })
                .sum();
            (s, f)
        })
        .filter(|(s, _)| *s > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.len().cmp(&b.1.len())));
    let Some(&(best, _)) = scored.first() else {
        return FileRef::Unknown;
    };
    let top: Vec<String> = scored
        .iter()
        .take_while(|(s, _)| *s == best)
        .map(|(_, f)| (*f).clone())
        .collect();
    if top.len() == 1 {
        return FileRef::Found(top[0].clone());
    }
    // A tie: the index's config search picks the one whose text fits the words.
    if let Some(sem) = semantic {
        let q = words.join(" ");
        if let Some(f) = sem
            .config_files(&q, 10)
            .into_iter()
            .find(|f| top.contains(f))
        {
            return FileRef::Found(f);
        }
    }
    FileRef::Ambiguous(top.into_iter().take(6).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<String> {
        [
            "/etc/pacman.conf",
            "/etc/pacman.d/mirrorlist",
            "/etc/fstab",
            "/etc/hosts",
            "/etc/hostname",
            "/etc/ssh/sshd_config",
            "/etc/ssh/ssh_config",
            "/etc/mkinitcpio.conf",
            "/etc/systemd/logind.conf",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn r(text: &str) -> FileRef {
        let raw: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        resolve(&raw, &raw, &files(), None)
    }

    #[test]
    fn names_paths_and_descriptions() {
        let f = |s: &str| FileRef::Found(s.to_string());
        assert_eq!(r("pacman.conf"), f("/etc/pacman.conf"));
        assert_eq!(r("/etc/fstab"), f("/etc/fstab"));
        assert_eq!(r("my old fstab"), f("/etc/fstab"));
        assert_eq!(r("the pacman config"), f("/etc/pacman.conf"));
        assert_eq!(r("the mirror list"), f("/etc/pacman.d/mirrorlist"));
        assert_eq!(r("sshd_config"), f("/etc/ssh/sshd_config"));
        assert_eq!(
            r("the initramfs mkinitcpio config"),
            f("/etc/mkinitcpio.conf")
        );
        assert_eq!(r("logind.conf"), f("/etc/systemd/logind.conf"));
        assert_eq!(r("hostname"), f("/etc/hostname"));
        assert_eq!(r("the logind config"), f("/etc/systemd/logind.conf"));
        assert_eq!(r("my LOGIND.CONF"), f("/etc/systemd/logind.conf"));
        // Not knowing which: ask, with the candidates.
        match r("the ssh config") {
            FileRef::Ambiguous(c) => assert_eq!(c.len(), 2, "{c:?}"),
            o => panic!("{o:?}"),
        }
        assert_eq!(r("the config"), FileRef::Unknown);
        assert_eq!(r("the printer setup"), FileRef::Unknown);
    }

    struct Meaning;
    impl Semantic for Meaning {
        fn packages(&self, _: &str, _: usize) -> Vec<String> {
            Vec::new()
        }
        fn config_files(&self, _: &str, _: usize) -> Vec<String> {
            vec!["/etc/hosts".into(), "/etc/ssh/sshd_config".into()]
        }
    }

    #[test]
    fn meaning_breaks_ties() {
        let raw: Vec<String> = ["the", "ssh", "config"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            resolve(&raw, &raw, &files(), Some(&Meaning)),
            FileRef::Found("/etc/ssh/sshd_config".into())
        );
    }
}
