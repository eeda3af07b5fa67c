//! The package catalogue beside the index (`catalog.json`): every package's name,
//! repo, version, one-line description and provides — what the planner needs to
//! resolve names exactly (name → provides → alias → fuzzy) without loading the model.
//! Written atomically on every build; an index built before it existed has none
//! ([`Catalog::load`] says so and `rast index build` adds it). Beside it,
//! `config-files.json` lists the indexed /etc files (what the planner resolves "the
//! pacman config" or "my fstab" against); an index without it knows no files.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::doc::{Doc, Kind};
use crate::{Error, Result};

pub const FILE: &str = "catalog.json";
pub const CONFIG_FILES: &str = "config-files.json";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub repo: String,
    pub version: String,
    pub desc: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub installed: bool,
}

/// All packages, with lookups by name and by what they provide.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub entries: Vec<Entry>,
    /// Indexed config files (`/etc/…`, current or only in past snapshots), sorted.
    pub config_files: Vec<String>,
    by_name: HashMap<String, usize>,
    by_provides: HashMap<String, Vec<usize>>,
}

impl Catalog {
    pub fn new(entries: Vec<Entry>) -> Catalog {
        let mut c = Catalog {
            entries,
            ..Default::default()
        };
        for (i, e) in c.entries.iter().enumerate() {
            // The first repository listed wins, as pacman's does.
            c.by_name.entry(e.name.clone()).or_insert(i);
            for p in &e.provides {
                let bare = p.split(['=', '<', '>']).next().unwrap_or(p).to_string();
                c.by_provides.entry(bare).or_default().push(i);
            }
        }
        c
    }

    pub fn from_docs(docs: &[Doc]) -> Catalog {
        let mut files: Vec<String> = docs
            .iter()
            .filter(|d| d.kind().is_config())
            .map(|d| d.name.clone())
            .collect();
        files.sort();
        files.dedup();
        let mut c = Catalog::new(
            docs.iter()
                .filter(|d| d.kind() == Kind::Package)
                .map(|d| Entry {
                    name: d.name.clone(),
                    repo: d.repo.clone(),
                    version: d.version.clone(),
                    desc: d.desc.clone(),
                    provides: d.provides.clone(),
                    installed: d.installed,
                })
                .collect(),
        );
        c.config_files = files;
        c
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    /// Packages providing `name` (virtual packages, sonames, alternatives).
    pub fn providers(&self, name: &str) -> Vec<&Entry> {
        self.by_provides
            .get(name)
            .map(|v| v.iter().map(|&i| &self.entries[i]).collect())
            .unwrap_or_default()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let p = dir.join(FILE);
        let bytes = serde_json::to_vec(&self.entries).map_err(|e| Error::Index(e.to_string()))?;
        crate::atomic::atomic_write(&p, &bytes)?;
        let files =
            serde_json::to_vec(&self.config_files).map_err(|e| Error::Index(e.to_string()))?;
        crate::atomic::atomic_write(&dir.join(CONFIG_FILES), &files)
    }

    pub fn load(dir: &Path) -> Result<Catalog> {
        let p = dir.join(FILE);
        let bytes = std::fs::read(&p).map_err(|e| {
            Error::Index(format!(
                "{}: {e} (an index from before the catalogue: run `rast index build`)",
                p.display()
            ))
        })?;
        let entries: Vec<Entry> = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Index(format!("{}: {e}", p.display())))?;
        let mut c = Catalog::new(entries);
        c.config_files = std::fs::read(dir.join(CONFIG_FILES))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Ok(c)
    }
}
