//! Package names from words: exact name → what packages provide → known aliases →
//! fuzzy (typos) → semantic (the hybrid index), in that order. Only names that exist in
//! the catalogue come out; when the choice is not clear the caller asks (`clarify`).

use rast_pkgindex::catalog::Catalog;

/// How a name was found (shown in the plan's explanation, and it sets confidence).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    Exact,
    Provides,
    Alias,
    Fuzzy,
    Semantic,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// One or more packages, each with how it was found.
    Found(Vec<(String, How)>),
    /// Several plausible packages: ask.
    Ambiguous(Vec<String>),
    /// Some words named packages, these did not: ask rather than drop them.
    Missing(Vec<String>),
    NotFound,
}

/// A semantic package search (the hybrid index); optional.
pub trait Semantic {
    /// Package names best matching `query`, best first.
    fn packages(&self, query: &str, limit: usize) -> Vec<String>;
    /// Config files (`/etc/…`) whose text best matches `query`, best first.
    fn config_files(&self, _query: &str, _limit: usize) -> Vec<String> {
        Vec::new()
    }
}

/// Names people use for packages that are named otherwise. Targets are tried in order;
/// the first that exists in the catalogue wins.
const ALIASES: &[(&str, &[&str])] = &[
    ("postgres", &["postgresql"]),
    ("postgre", &["postgresql"]),
    ("psql", &["postgresql"]),
    ("lts kernel", &["linux-lts"]),
    ("kernel lts", &["linux-lts"]),
    ("long term kernel", &["linux-lts"]),
    ("zen kernel", &["linux-zen"]),
    ("hardened kernel", &["linux-hardened"]),
    ("kernel", &["linux"]),
    ("vscode", &["code"]),
    ("vs code", &["code"]),
    ("visual studio code", &["code"]),
    ("chrome", &["chromium"]),
    ("google chrome", &["chromium"]),
    ("node", &["nodejs"]),
    ("node js", &["nodejs"]),
    ("python3", &["python"]),
    ("pip", &["python-pip"]),
    ("python pip", &["python-pip"]),
    ("libreoffice", &["libreoffice-fresh", "libreoffice-still"]),
    ("office", &["libreoffice-fresh", "libreoffice-still"]),
    ("java", &["jdk-openjdk", "jre-openjdk"]),
    ("jdk", &["jdk-openjdk"]),
    ("openjdk", &["jdk-openjdk"]),
    ("docker compose", &["docker-compose"]),
    ("golang", &["go"]),
    ("rust", &["rust", "rustup"]),
    ("ssh", &["openssh"]),
    ("ssh server", &["openssh"]),
    ("sshd", &["openssh"]),
    ("apache", &["apache"]),
    ("httpd", &["apache"]),
    ("mysql", &["mariadb"]),
    ("mongo", &["mongodb"]),
    ("redis", &["redis", "valkey"]),
    ("steam", &["steam"]),
    ("obs", &["obs-studio"]),
    ("libreoffice writer", &["libreoffice-fresh"]),
    ("vim", &["vim", "gvim"]),
    ("neovim", &["neovim"]),
    ("nvim", &["neovim"]),
    ("ffmpeg", &["ffmpeg"]),
    ("wireshark", &["wireshark-qt", "wireshark-cli"]),
    ("virtualbox", &["virtualbox"]),
    ("qemu", &["qemu-full", "qemu-desktop", "qemu-base"]),
    ("tex", &["texlive-core", "texlive-basic"]),
    ("latex", &["texlive-core", "texlive-basic"]),
    ("pulseaudio", &["pulseaudio"]),
    ("pipewire", &["pipewire"]),
    ("network manager", &["networkmanager"]),
];

/// Words that describe a package rather than name it; never taken as a name.
pub const GENERIC: &[&str] = &[
    "browser",
    "editor",
    "player",
    "viewer",
    "reader",
    "client",
    "server",
    "app",
    "apps",
    "application",
    "applications",
    "program",
    "programs",
    "tool",
    "tools",
    "package",
    "packages",
    "software",
    "thing",
    "stuff",
    "utility",
    "utilities",
    "manager",
    "suite",
    "version",
    "latest",
    "newest",
    "new",
    "current",
    "recent",
    "stable",
    "the",
    "a",
    "an",
    "some",
    "me",
    "my",
    "please",
    "also",
    "too",
    "it",
    "them",
    "this",
    "that",
    "one",
    "system",
    "snapshot",
    "and",
    "or",
    "with",
    "for",
    "of",
    "in",
    "on",
    "to",
    "from",
    "into",
    "text",
    "web",
    "video",
    "audio",
    "music",
    "image",
    "photo",
    "email",
    "mail",
    "game",
    "games",
    "office",
    "terminal",
    "font",
    "fonts",
    "driver",
    "drivers",
    "library",
];

/// How Arch names packages after what they are for (`*` = the word).
const NAME_FORMS: &[&str] = &["*-tools", "*-utils", "python-*", "*-cli", "*-bin"];

/// Word orders of two or three words joined with `-`.
fn orders(w: &[&str]) -> Vec<String> {
    match w {
        [a, b] => vec![format!("{a}-{b}"), format!("{b}-{a}")],
        [a, b, c] => vec![
            format!("{a}-{b}-{c}"),
            format!("{b}-{a}-{c}"),
            format!("{c}-{a}-{b}"),
            format!("{a}-{c}-{b}"),
        ],
        _ => vec![],
    }
}

/// A light stem: plural and -ing/-ed endings off ("screenshots" ~ "screenshot").
fn stem(w: &str) -> String {
    for suf in ["ing", "ed", "es", "s"] {
        if w.len() > suf.len() + 3 {
            if let Some(s) = w.strip_suffix(suf) {
                return s.to_string();
            }
        }
    }
    w.to_string()
}

/// Whether `w` is a plain word that describes a package ("database", "compiler")
/// rather than one that may name one: the intent model knows it as a word.
fn describes(w: &str) -> bool {
    super::intent::shipped().info(w).has_vector
}

/// Whether `n` may be a pacman package name (pacman's own rules: alphanumerics and
/// `@._+-`, not starting with `-` or `.`).
pub fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 128
        && !n.starts_with(['-', '.'])
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"@._+-".contains(&b))
}

pub struct Resolver<'a> {
    pub catalog: &'a Catalog,
    pub semantic: Option<&'a dyn Semantic>,
}

impl Resolver<'_> {
    fn exists(&self, n: &str) -> bool {
        valid_name(n) && self.catalog.get(n).is_some()
    }

    fn alias(&self, phrase: &str) -> Option<String> {
        ALIASES
            .iter()
            .filter(|(a, _)| *a == phrase)
            .flat_map(|(_, targets)| targets.iter())
            .find(|t| self.exists(t))
            .map(|t| t.to_string())
    }

    /// Resolves one phrase naming one or more packages ("gimp", "the chromium
    /// browser", "postgres", "fierfox", "numpy for python", "intel microcode").
    pub fn resolve(&self, phrase: &str) -> Resolved {
        let words: Vec<&str> = phrase
            .split(|c: char| c.is_whitespace() || c == ',')
            .map(|w| w.trim_matches(|c: char| "\"'()[]{}!?.:".contains(c)))
            .filter(|w| !w.is_empty())
            .collect();
        let content: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !GENERIC.contains(w) && !super::slots::FUNCTION_WORDS.contains(w))
            .collect();
        if content.is_empty() {
            return Resolved::NotFound;
        }
        let joined = words.join(" ");
        let content_joined = content.join(" ");
        // 1. The phrase is a name, in any word order ("qt6 base" → qt6-base, "numpy
        //    python" → python-numpy).
        if (2..=3).contains(&content.len()) {
            for cand in orders(&content).into_iter().chain([words.join("-")]) {
                if self.exists(&cand) {
                    return Resolved::Found(vec![(cand, How::Exact)]);
                }
            }
        }
        // 2. Aliases of the whole phrase ("lts kernel", "postgres").
        for p in [&joined, &content_joined] {
            if let Some(n) = self.alias(p) {
                return Resolved::Found(vec![(n, How::Alias)]);
            }
        }
        // 3. Each word that is a name or an alias; the other words must be typos of
        //    names, or words that describe ("the postgres database server"), else ask.
        let mut found: Vec<(String, How)> = Vec::new();
        let mut rest: Vec<&str> = Vec::new();
        for w in &content {
            if self.exists(w) {
                found.push((w.to_string(), How::Exact));
            } else if let Some(n) = self.alias(w) {
                found.push((n, How::Alias));
            } else {
                rest.push(w);
            }
        }
        if !found.is_empty() {
            let mut missing = Vec::new();
            for w in rest {
                if describes(w) {
                    continue;
                }
                match self.fuzzy(w) {
                    Some(n) => found.push((n, How::Fuzzy)),
                    None => missing.push(w.to_string()),
                }
            }
            if !missing.is_empty() {
                return Resolved::Missing(missing);
            }
            found.dedup();
            return Resolved::Found(found);
        }
        // 4. What packages provide.
        for w in content
            .iter()
            .chain(std::iter::once(&content_joined.as_str()))
        {
            let providers = self.catalog.providers(w);
            match providers.len() {
                0 => {}
                1 => return Resolved::Found(vec![(providers[0].name.clone(), How::Provides)]),
                _ => {
                    let mut names: Vec<String> = providers.iter().map(|e| e.name.clone()).collect();
                    names.sort();
                    names.dedup();
                    names.truncate(8);
                    return Resolved::Ambiguous(names);
                }
            }
        }
        // 5. Arch's naming: "wireguard" → wireguard-tools, "numpy" → python-numpy.
        if content.len() == 1 {
            let w = content[0];
            let named: Vec<String> = NAME_FORMS
                .iter()
                .map(|f| f.replace('*', w))
                .filter(|n| self.exists(n))
                .collect();
            if named.len() == 1 {
                return Resolved::Found(vec![(named[0].clone(), How::Provides)]);
            }
            // 6. Typos: the closest name, if clearly closest.
            if let Some(n) = self.fuzzy(w) {
                return Resolved::Found(vec![(n, How::Fuzzy)]);
            }
        }
        // 7. Meaning: the index's best matches; the one that covers every word of the
        //    phrase, or a question listing them.
        if let Some(sem) = self.semantic {
            let hits = sem.packages(&content_joined, 8);
            // Every word counts here, "reader" in "a pdf reader" too.
            let all: Vec<&str> = words
                .iter()
                .copied()
                .filter(|w| !super::slots::FUNCTION_WORDS.contains(w))
                .collect();
            let full: Vec<&String> = hits.iter().filter(|h| self.covers(h, &all)).collect();
            let named: Vec<&&String> = full
                .iter()
                .filter(|h| h.split(['-', '_']).any(|t| content.contains(&t)))
                .collect();
            if full.len() == 1 {
                return Resolved::Found(vec![(full[0].clone(), How::Semantic)]);
            }
            if named.len() == 1 {
                return Resolved::Found(vec![(named[0].to_string(), How::Semantic)]);
            }
            let mut cands: Vec<String> = full.iter().map(|s| s.to_string()).collect();
            for h in &hits {
                if !cands.contains(h) {
                    cands.push(h.clone());
                }
            }
            cands.truncate(5);
            if !cands.is_empty() {
                return Resolved::Ambiguous(cands);
            }
        }
        Resolved::NotFound
    }

    /// Whether package `name`'s name, description and provides mention every word.
    fn covers(&self, name: &str, words: &[&str]) -> bool {
        let Some(e) = self.catalog.get(name) else {
            return false;
        };
        let mut vocab: Vec<String> = e
            .name
            .split(['-', '_'])
            .chain(e.desc.split(|c: char| !c.is_alphanumeric()))
            .chain(e.provides.iter().map(String::as_str))
            .filter(|w| !w.is_empty())
            .map(|w| stem(&w.to_lowercase()))
            .collect();
        vocab.sort();
        vocab.dedup();
        words.iter().all(|w| vocab.binary_search(&stem(w)).is_ok())
    }

    /// The one name within a small edit distance of `w` (1 for short words, 2 for
    /// longer), nearest first; none if two are equally near.
    pub fn fuzzy(&self, w: &str) -> Option<String> {
        if w.len() < 4 || !valid_name(w) {
            return None;
        }
        let limit = if w.len() <= 5 { 1 } else { 2 };
        let mut best: Option<(usize, &str)> = None;
        let mut tie = false;
        for n in self.catalog.names() {
            if n.len().abs_diff(w.len()) > limit {
                continue;
            }
            let d = strsim::damerau_levenshtein(w, n);
            if d > limit {
                continue;
            }
            match best {
                Some((bd, bn)) if d > bd || (d == bd && n == bn) => {}
                Some((bd, _)) if d == bd => tie = true,
                _ => {
                    best = Some((d, n));
                    tie = false;
                }
            }
        }
        best.filter(|_| !tie).map(|(_, n)| n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rast_pkgindex::catalog::Entry;

    pub fn catalog(names: &[(&str, &[&str])]) -> Catalog {
        Catalog::new(
            names
                .iter()
                .map(|(n, prov)| Entry {
                    name: n.to_string(),
                    repo: "extra".into(),
                    version: "1.0-1".into(),
                    desc: String::new(),
                    provides: prov.iter().map(|s| s.to_string()).collect(),
                    installed: false,
                })
                .collect(),
        )
    }

    #[test]
    fn resolution_order() {
        let c = catalog(&[
            ("firefox", &[]),
            ("chromium", &[]),
            ("postgresql", &[]),
            ("linux-lts", &[]),
            ("qt6-base", &[]),
            ("gimp", &[]),
            ("inkscape", &[]),
            ("jre-openjdk", &["java-runtime"]),
            ("jre17-openjdk", &["java-runtime"]),
            ("ttf-dejavu", &["ttf-font"]),
        ]);
        let r = Resolver {
            catalog: &c,
            semantic: None,
        };
        let one = |p: &str| match r.resolve(p) {
            Resolved::Found(v) => v.into_iter().map(|x| x.0).collect::<Vec<_>>(),
            other => panic!("{p}: {other:?}"),
        };
        assert_eq!(one("the chromium browser"), ["chromium"]);
        assert_eq!(one("postgres"), ["postgresql"]);
        assert_eq!(one("lts kernel"), ["linux-lts"]);
        assert_eq!(one("qt6 base"), ["qt6-base"]);
        assert_eq!(one("gimp inkscape"), ["gimp", "inkscape"]);
        assert_eq!(one("fierfox"), ["firefox"]);
        assert_eq!(one("ttf-font"), ["ttf-dejavu"]);
        assert!(matches!(r.resolve("java-runtime"), Resolved::Ambiguous(v) if v.len() == 2));
        assert_eq!(r.resolve("a pdf reader"), Resolved::NotFound);
        assert!(!valid_name("rm -rf"));
        assert!(!valid_name("-x"));
        assert!(valid_name("lib32-glibc"));
    }
}
