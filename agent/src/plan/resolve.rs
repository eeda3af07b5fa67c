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
    /// browser", "postgres", "fierfox", "a pdf reader").
    pub fn resolve(&self, phrase: &str) -> Resolved {
        let words: Vec<&str> = phrase
            .split(|c: char| c.is_whitespace() || c == ',')
            .map(|w| w.trim_matches(|c: char| "\"'()[]{}!?.:".contains(c)))
            .filter(|w| !w.is_empty())
            .collect();
        let content: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !GENERIC.contains(w))
            .collect();
        if content.is_empty() && words.is_empty() {
            return Resolved::NotFound;
        }
        let joined = words.join(" ");
        let content_joined = content.join(" ");
        // 1. The phrase is a name ("visual-studio-code", "qt6 base" → "qt6-base").
        for cand in [content.join("-"), words.join("-")] {
            if content.len() > 1 && self.exists(&cand) {
                return Resolved::Found(vec![(cand, How::Exact)]);
            }
        }
        // 2. Aliases of the whole phrase ("lts kernel", "postgres").
        for p in [&joined, &content_joined] {
            if let Some(n) = self.alias(p) {
                return Resolved::Found(vec![(n, How::Alias)]);
            }
        }
        // 3. Each word that is a name or an alias.
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
            // A list with other words in it ("htop tmux git"): each must be a package
            // (typos corrected), or the user is asked — never silently dropped.
            let mut missing = Vec::new();
            for w in rest {
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
        // 5. Typos: the closest name, if clearly closest.
        if content.len() == 1 {
            if let Some(n) = self.fuzzy(content[0]) {
                return Resolved::Found(vec![(n, How::Fuzzy)]);
            }
        }
        // 6. Meaning: the index's best matches; one clear answer or a question.
        if let Some(sem) = self.semantic {
            let q = if content.is_empty() {
                &joined
            } else {
                &content_joined
            };
            let hits = sem.packages(q, 5);
            match hits.len() {
                0 => {}
                1 => return Resolved::Found(vec![(hits[0].clone(), How::Semantic)]),
                _ => return Resolved::Ambiguous(hits),
            }
        }
        Resolved::NotFound
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
