//! An index opened for planning: the catalogue (always) and the hybrid searcher with
//! its embedding model (on first semantic need, or at once with [`WarmIndex::warm_up`]
//! in the daemon). The CLI's in-process planner and rast-agent both plan through this,
//! so a plan does not depend on where it was made.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rast_pkgindex::catalog::Catalog;
use rast_pkgindex::doc::Kind;
use rast_pkgindex::index::Searcher;

use crate::action::Plan;
use crate::llm::LlmConfig;
use crate::plan::resolve::{Resolver, Semantic};
use crate::Planner;

pub struct WarmIndex {
    pub dir: PathBuf,
    pub catalog: Catalog,
    model_dir: Option<PathBuf>,
    searcher: OnceLock<Result<Searcher, String>>,
}

impl WarmIndex {
    /// Opens the catalogue in `dir`; the model loads later.
    pub fn open(dir: &Path, model_dir: Option<&Path>) -> rast_pkgindex::Result<WarmIndex> {
        Ok(WarmIndex {
            dir: dir.to_path_buf(),
            catalog: Catalog::load(dir)?,
            model_dir: model_dir.map(Path::to_path_buf),
            searcher: OnceLock::new(),
        })
    }

    /// The searcher, loading the model on first use.
    pub fn searcher(&self) -> Result<&Searcher, String> {
        self.searcher
            .get_or_init(|| {
                let d = rast_embeddings::resolve_model_dir(self.model_dir.as_deref())
                    .map_err(|e| e.to_string())?;
                let enc = rast_embeddings::Encoder::load(&d).map_err(|e| e.to_string())?;
                Searcher::open(&self.dir, enc).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Loads the query encoder now (the 8-bit copy beside the index, else the model:
    /// both are lazy, and query caches would spare them) and runs one search so the
    /// first real request is warm.
    pub fn warm_up(&self) -> Result<(), String> {
        let s = self.searcher()?;
        s.warm_up().map_err(|e| e.to_string())?;
        s.search("warm up", 1, Some(Kind::Package))
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Plans `request`: the offline planner, then the LLM (if configured) when the
    /// offline plan is unsure and the request was not refused as unsafe.
    pub fn plan(&self, request: &str, llm: Option<&LlmConfig>) -> Plan {
        let planner = Planner {
            resolver: Resolver {
                catalog: &self.catalog,
                semantic: Some(self),
            },
        };
        let local = planner.plan(request);
        let Some(llm) = llm else { return local };
        if local.confidence >= llm.below_confidence || crate::plan::refusal(request).is_some() {
            return local;
        }
        match llm.ask(request, &self.catalog) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("keeping the offline plan: {e}");
                local
            }
        }
    }
}

impl Semantic for WarmIndex {
    fn packages(&self, query: &str, limit: usize) -> Vec<String> {
        self.searcher()
            .ok()
            .and_then(|s| s.search(query, limit, Some(Kind::Package)).ok())
            .map(|hits| hits.into_iter().map(|h| h.name).collect())
            .unwrap_or_default()
    }

    fn config_files(&self, query: &str, limit: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let hits = self
            .searcher()
            .ok()
            .and_then(|s| s.search(query, limit * 3, Some(Kind::Config)).ok())
            .unwrap_or_default();
        for h in hits {
            if !out.contains(&h.name) {
                out.push(h.name);
            }
        }
        out.truncate(limit);
        out
    }
}
