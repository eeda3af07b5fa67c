//! Index documents: one per package, one per config chunk, each with a stable id and a
//! content hash (SHA-256 of everything indexed), so a rebuild re-embeds only what
//! changed. Ids: `pkg:REPO/NAME` (`pkg:local/NAME` for packages no repository has),
//! `etc:/etc/PATH#N` (N = chunk number within the file), and for past versions of a
//! config file that the current /etc no longer has, `etch:/etc/PATH@VERSION#N`
//! (VERSION = the first 16 hex digits of the SHA-256 of the file's redacted text:
//! each distinct version is indexed once, however many snapshots hold it).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::etcwalk::Chunk;
use crate::pacdb::Package;

/// What a document describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Package,
    Config,
    /// A past version of a config chunk (searched only with `config search --history`).
    History,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Package => "package",
            Kind::Config => "config",
            Kind::History => "history",
        }
    }

    pub fn of_id(id: &str) -> Kind {
        if id.starts_with("etc:") {
            Kind::Config
        } else if id.starts_with("etch:") {
            Kind::History
        } else {
            Kind::Package
        }
    }

    /// Whether a search asking for `filter` returns documents of kind `k`: no filter
    /// means packages and current config (never history); `History` means current
    /// config and its past versions.
    pub fn admits(filter: Option<Kind>, k: Kind) -> bool {
        match filter {
            None => k != Kind::History,
            Some(Kind::History) => k == Kind::Config || k == Kind::History,
            Some(f) => f == k,
        }
    }

    /// Config text (current or past).
    pub fn is_config(self) -> bool {
        matches!(self, Kind::Config | Kind::History)
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "package" | "packages" | "pkg" => Ok(Kind::Package),
            "config" | "configs" | "etc" => Ok(Kind::Config),
            "history" => Ok(Kind::History),
            o => Err(format!("unknown kind {o:?}: use package or config")),
        }
    }
}

/// One document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doc {
    pub id: String,
    pub kind: Option<Kind>,
    /// Package name, or config path.
    pub name: String,
    pub repo: String,
    pub version: String,
    pub desc: String,
    pub url: String,
    /// groups, provides and depends, space-separated (BM25 only).
    pub extra: String,
    /// Names this package provides, without version constraints (exact matching).
    pub provides: Vec<String>,
    pub installed: bool,
    pub explicit: bool,
    pub snapshots: Vec<String>,
    /// Config chunks: section, line range and text.
    pub section: String,
    pub lines: (usize, usize),
    pub text: String,
    pub hash: String,
    /// Packages: the other form of what the description abbreviates or spells out
    /// ([`crate::vocab`]); in the embedding text and BM25's `extra`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expansions: Vec<String>,
    /// Packages: what Debian says about the same software ([`crate::upstream`]); in
    /// BM25's `upstream` field and the embedding text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub upstream: String,
}

impl Doc {
    pub fn kind(&self) -> Kind {
        self.kind.unwrap_or_else(|| Kind::of_id(&self.id))
    }

    /// A package document (`installed` from the local database, if known; `homes`: the
    /// homepages the other packages being indexed share, see [`crate::upstream`]).
    pub fn package(
        p: &Package,
        installed: Option<&Package>,
        snapshot: Option<&str>,
        homes: &crate::upstream::Homepages,
    ) -> Doc {
        let repo = if p.repo.is_empty() {
            "local".to_string()
        } else {
            p.repo.clone()
        };
        let mut d = Doc {
            id: format!("pkg:{repo}/{}", p.name),
            kind: Some(Kind::Package),
            name: p.name.clone(),
            repo,
            version: p.version.clone(),
            desc: p.desc.clone(),
            url: p.url.clone(),
            extra: [
                p.groups.join(" "),
                p.provides
                    .iter()
                    .map(|x| crate::pacdb::bare_name(x).to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                p.depends
                    .iter()
                    .map(|x| crate::pacdb::bare_name(x).to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
            .join(" ")
            .trim()
            .to_string(),
            provides: p
                .provides
                .iter()
                .map(|x| crate::pacdb::bare_name(x).to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            installed: installed.is_some(),
            explicit: installed.is_some_and(|i| i.explicit),
            snapshots: if installed.is_some() {
                snapshot.map(|s| vec![s.to_string()]).unwrap_or_default()
            } else {
                Vec::new()
            },
            ..Default::default()
        };
        if let Some(i) = installed {
            if i.version != p.version {
                d.desc = format!("{} (installed: {})", d.desc, i.version);
            }
        }
        d.expansions = crate::vocab::expansions(&p.desc);
        if !d.expansions.is_empty() {
            d.extra = format!("{} {}", d.extra, d.expansions.join(" "));
        }
        d.upstream = crate::upstream::words(&p.name, &p.url, homes)
            .unwrap_or_default()
            .to_string();
        d.hash = d.compute_hash();
        d
    }

    /// A config chunk document.
    pub fn config(c: &Chunk) -> Doc {
        let mut d = Doc {
            id: format!("etc:{}#{}", c.path, c.index),
            kind: Some(Kind::Config),
            name: c.path.clone(),
            section: c.section.clone(),
            lines: c.lines,
            text: c.text.clone(),
            ..Default::default()
        };
        d.hash = d.compute_hash();
        d
    }

    /// A chunk of a past version of a config file (`version`: its content key),
    /// held by `snapshots`.
    pub fn history(c: &Chunk, version: &str, snapshots: Vec<String>) -> Doc {
        let mut d = Doc {
            id: format!("etch:{}@{version}#{}", c.path, c.index),
            kind: Some(Kind::History),
            name: c.path.clone(),
            section: c.section.clone(),
            lines: c.lines,
            text: c.text.clone(),
            snapshots,
            ..Default::default()
        };
        d.hash = d.compute_hash();
        d
    }

    /// The text the embedding model sees.
    pub fn embed_text(&self) -> String {
        match self.kind() {
            Kind::Package => {
                let mut t = format!("{}: {}", self.name.replace(['-', '_'], " "), self.desc);
                if !self.expansions.is_empty() {
                    t.push_str(&format!(" ({})", self.expansions.join("; ")));
                }
                if !self.upstream.is_empty() {
                    t.push_str(". ");
                    t.push_str(&self.upstream);
                }
                t
            }
            Kind::Config | Kind::History => {
                let sec = if self.section.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", self.section)
                };
                format!("{}{sec}\n{}", self.name, self.text)
            }
        }
    }

    /// This document with its hash computed again (after a field changed).
    pub fn rehashed(mut self) -> Doc {
        self.hash = self.compute_hash();
        self
    }

    fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            &self.id,
            &self.name,
            &self.repo,
            &self.version,
            &self.desc,
            &self.url,
            &self.extra,
            &self.section,
            &self.text,
            &self.upstream,
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update([self.installed as u8, self.explicit as u8]);
        h.update(self.snapshots.join(",").as_bytes());
        h.update(format!("{:?}", self.lines).as_bytes());
        hex::encode(h.finalize())
    }

    /// Only the part of the hash the embedding depends on (re-embed only if it moved).
    pub fn embed_hash(&self) -> String {
        hex::encode(Sha256::digest(self.embed_text().as_bytes()))
    }
}
