//! Building and querying the hybrid index.
//!
//! Index dir layout: `bm25/` (tantivy), `vectors.bin` (flat store, unless Qdrant is
//! configured), `state.json` (per document: content hash and embedding-text hash, plus
//! what was indexed and when). A rebuild compares hashes: only documents whose
//! embedding text changed are embedded again, only changed documents are rewritten in
//! BM25, and removed ones are deleted from both. `state.json` is written last (temp +
//! rename): a build that dies half-way is redone by the next one, never trusted.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rast_embeddings::Encoder;
use serde::{Deserialize, Serialize};

use crate::bm25::Bm25;
use crate::doc::{Doc, Kind};
use crate::etcwalk::{self, WalkReport};
use crate::family::Families;
use crate::frame;
use crate::history;
use crate::pacdb::{self, Package};
use crate::qdrant::{QdrantConfig, QdrantStore};
use crate::rank;
use crate::vectors::{FlatStore, VectorStore};
use crate::{Error, Result};

/// Where documents come from.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub sync_dbs: Vec<PathBuf>,
    pub local_db: Option<PathBuf>,
    pub etc: Option<PathBuf>,
    /// `/etc/...` paths indexed even if not world-readable.
    pub allow: Vec<PathBuf>,
    /// The snapshot the local database belongs to (shown in results).
    pub snapshot: Option<String>,
    /// Configuration history: each snapshot's /etc (snapshot name, directory). Past
    /// versions of files — those that differ from `etc`'s — are indexed once each
    /// ([`Kind::History`]), and every config document names the snapshots holding
    /// its version.
    pub history: Vec<(String, PathBuf)>,
}

/// Which vector store.
#[derive(Clone, Debug, Default)]
pub enum Backend {
    #[default]
    Flat,
    Qdrant(QdrantConfig),
}

/// Persistent per-index state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub model: String,
    pub dim: usize,
    pub backend: String,
    pub built_at: u64,
    pub sources: Vec<String>,
    /// id → (content hash, embedding-text hash).
    pub docs: BTreeMap<String, (String, String)>,
    /// The host name published to a Qdrant collection (Qdrant backend only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// What a build did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BuildReport {
    pub packages: usize,
    pub configs: usize,
    pub embedded: usize,
    pub rewritten: usize,
    pub removed: usize,
    pub config_files: usize,
    pub skipped_secret_files: usize,
    pub skipped_unreadable_files: usize,
    /// Past versions of config files indexed (distinct file versions, and chunks).
    pub history_versions: usize,
    pub history_chunks: usize,
    pub seconds: f64,
    pub embed_seconds: f64,
    /// Qdrant backend: points written to the fleet collection, and as which host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetReport>,
}

/// What a build published to the fleet collection.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FleetReport {
    pub host: String,
    pub collection: String,
    pub written: usize,
    pub deleted: usize,
    /// Everything was written again (first build, lost state, wiped collection).
    pub republished: bool,
}

/// Progress of a build, for bars.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    Collected { docs: usize, to_embed: usize },
    Embedded { done: usize, total: usize },
}

/// The state format; 2 added the BM25 `snapshots` field (configuration history), 3 the
/// `upstream` field (Debian's words for the same software).
const STATE_VERSION: u32 = 3;

fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

pub fn load_state(dir: &Path) -> Result<Option<State>> {
    match std::fs::read(state_path(dir)) {
        Ok(b) => Ok(Some(serde_json::from_slice(&b).map_err(|e| {
            Error::Index(format!("{}: {e}", state_path(dir).display()))
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Io(state_path(dir), e)),
    }
}

fn save_state(dir: &Path, s: &State) -> Result<()> {
    let bytes = serde_json::to_vec(s).map_err(|e| Error::Index(e.to_string()))?;
    crate::atomic::atomic_write(&state_path(dir), &bytes)
}

/// What one build indexes: the documents, the /etc walk's report and the
/// split-package families of the packages.
pub struct Collected {
    pub docs: Vec<Doc>,
    pub walk: WalkReport,
    pub families: Families,
}

/// Every document the sources describe, and the packages' families.
pub fn collect(src: &Sources) -> Result<Collected> {
    let local: Vec<Package> = match &src.local_db {
        Some(d) => pacdb::read_local(d)?,
        None => Vec::new(),
    };
    let local_by_name: HashMap<&str, &Package> =
        local.iter().map(|p| (p.name.as_str(), p)).collect();
    let mut sync = Vec::new();
    for db in &src.sync_dbs {
        sync.extend(pacdb::read_sync(db)?);
    }
    let in_sync: std::collections::HashSet<&str> = sync.iter().map(|p| p.name.as_str()).collect();
    let local_only: Vec<&Package> = local
        .iter()
        .filter(|p| !in_sync.contains(p.name.as_str()))
        .collect();
    let homes = crate::upstream::Homepages::of(
        sync.iter()
            .chain(local_only.iter().copied())
            .map(|p| p.url.as_str()),
    );
    let snapshot = src.snapshot.as_deref();
    let mut docs = Vec::new();
    for p in &sync {
        let installed = local_by_name.get(p.name.as_str()).copied();
        docs.push(Doc::package(p, installed, snapshot, &homes));
    }
    for &p in &local_only {
        docs.push(Doc::package(p, Some(p), snapshot, &homes));
    }
    // Package documents were pushed in the order of `sync` then `local_only`.
    let families = Families::of(
        docs.iter()
            .map(|d| d.id.as_str())
            .zip(sync.iter().chain(local_only.iter().copied())),
    );
    let mut report = WalkReport::default();
    if let Some(etc) = &src.etc {
        let (chunks, rep) = etcwalk::walk(etc, &src.allow);
        report = rep;
        let mut current: Vec<Doc> = chunks.iter().map(Doc::config).collect();
        if !src.history.is_empty() {
            docs.extend(history::versions(
                etc,
                &chunks,
                &src.history,
                &src.allow,
                &mut current,
            ));
        }
        docs.extend(current);
    }
    // Ids are unique by construction except for a package listed twice in one repo.
    let mut seen = std::collections::HashSet::new();
    docs.retain(|d| seen.insert(d.id.clone()));
    Ok(Collected {
        docs,
        walk: report,
        families,
    })
}

/// The vectors this host searches: always the embedded store in the index directory
/// — with the Qdrant backend too, so searching this host never needs the server
/// (Qdrant holds a copy for `--fleet` queries).
fn open_store(dir: &Path, dim: usize) -> Result<Box<dyn VectorStore>> {
    Ok(Box::new(FlatStore::open(dir, dim)?))
}

fn backend_name(b: &Backend) -> String {
    match b {
        Backend::Flat => "embedded".into(),
        Backend::Qdrant(c) => format!("qdrant {} ({})", c.url, c.collection),
    }
}

/// Builds or updates the index in `dir` from `src`.
pub fn build(
    dir: &Path,
    src: &Sources,
    backend: &Backend,
    enc: &Encoder,
    progress: &mut dyn FnMut(Progress),
) -> Result<BuildReport> {
    let t0 = Instant::now();
    std::fs::create_dir_all(dir).map_err(|e| Error::Io(dir.to_path_buf(), e))?;
    let Collected {
        docs,
        walk,
        families,
    } = collect(src)?;
    let mut state = load_state(dir)?.unwrap_or_default();
    // An index written before the current BM25 schema: its BM25 side is rebuilt from
    // scratch (every document rewritten), its vectors kept.
    let old_schema = state.version < STATE_VERSION && dir.join("bm25").exists();
    if old_schema {
        std::fs::remove_dir_all(dir.join("bm25")).map_err(|e| Error::Io(dir.join("bm25"), e))?;
    }
    let backend_id = backend_name(backend);
    if state.dim != enc.dim()
        || state.backend != backend_id
        || state.model != rast_embeddings::MODEL_NAME
    {
        state.docs.clear(); // different model or store: everything is new
    }
    // The fleet copy: connect first (a server that is down fails the build before
    // any work), and republish everything when the collection does not hold exactly
    // what the local state says it does (wiped, or another host name).
    let mut fleet = match backend {
        Backend::Flat => None,
        Backend::Qdrant(cfg) => {
            let q = QdrantStore::connect(cfg.clone(), enc.dim())?;
            let same_host = state.host.as_deref() == Some(cfg.host.as_str());
            let published = state
                .docs
                .keys()
                .filter(|id| Kind::of_id(id) != Kind::History)
                .count();
            let republish = !same_host || q.count()? != published;
            Some((q, republish))
        }
    };
    let ids: std::collections::HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
    let removed: Vec<String> = state
        .docs
        .keys()
        .filter(|id| !ids.contains(id.as_str()))
        .cloned()
        .collect();
    let mut to_embed = Vec::new();
    let mut to_rewrite = Vec::new();
    let mut embed_hashes = HashMap::new();
    for d in &docs {
        let eh = d.embed_hash();
        match state.docs.get(&d.id) {
            Some((full, old_eh)) => {
                if *old_eh != eh {
                    to_embed.push(d);
                }
                if *full != d.hash || old_schema {
                    to_rewrite.push(d);
                }
            }
            None => {
                to_embed.push(d);
                to_rewrite.push(d);
            }
        }
        embed_hashes.insert(d.id.as_str(), eh);
    }
    progress(Progress::Collected {
        docs: docs.len(),
        to_embed: to_embed.len(),
    });
    let te = Instant::now();
    let texts: Vec<String> = to_embed.iter().map(|d| d.embed_text()).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let total = refs.len();
    if total > 256 {
        rast_embeddings::reuse_freed_memory(); // a fifth of the embedding time otherwise
    }
    let vecs = enc
        .embed_with_progress(&refs, &mut |done| {
            progress(Progress::Embedded { done, total })
        })
        .map_err(|e| Error::Index(e.to_string()))?;
    let embed_seconds = te.elapsed().as_secs_f64();
    let mut store = FlatStore::open(dir, enc.dim())?;
    if !vecs.is_empty() || !removed.is_empty() || store.lacks_8bit_rows() {
        store.apply(
            to_embed.iter().map(|d| d.id.clone()).zip(vecs).collect(),
            &removed,
        )?;
    }
    let fleet_report = match (&mut fleet, backend) {
        (Some((q, republish)), Backend::Qdrant(cfg)) => {
            let all = *republish;
            // Configuration history stays on this host: the fleet answers about now.
            let fleet = |d: &&Doc| d.kind() != Kind::History;
            let docs: Vec<&Doc> = docs.iter().filter(fleet).collect();
            let to_embed: Vec<&Doc> = to_embed.iter().copied().filter(fleet).collect();
            let to_rewrite: Vec<&Doc> = to_rewrite.iter().copied().filter(fleet).collect();
            let written = publish(q, &store, &docs, &to_embed, &to_rewrite, &removed, all)?;
            Some(FleetReport {
                host: cfg.host.clone(),
                collection: cfg.collection.clone(),
                written,
                deleted: removed.len(),
                republished: all,
            })
        }
        _ => None,
    };
    let bm = Bm25::open_or_create(&dir.join("bm25"))?;
    let mut w = bm.writer()?;
    for id in &removed {
        bm.delete(&w, id);
    }
    for d in &to_rewrite {
        bm.put(&w, d)?;
    }
    w.commit().map_err(|e| Error::Index(e.to_string()))?;
    drop(w);
    // The 8-bit copy of the model that cold queries use; without it they use the f32
    // model (slower, same answers), so a failure here is a warning, not an error.
    let copy = dir.join(rast_embeddings::quantized::FILE_NAME);
    if !rast_embeddings::quantized::is_current(enc.model_dir(), &copy) {
        // Indexed texts join the probes that decide whether the tokenizer built in code
        // may replace tokenizer.json for queries.
        let samples: Vec<String> = docs.iter().take(2000).map(Doc::embed_text).collect();
        let samples: Vec<&str> = samples.iter().map(String::as_str).collect();
        if let Err(e) = rast_embeddings::quantized::write_if_stale(enc.model_dir(), &copy, &samples)
        {
            tracing::warn!("query encoder copy not written ({e}); queries use the full model");
        }
    }
    state.version = STATE_VERSION;
    state.model = rast_embeddings::MODEL_NAME.into();
    state.dim = enc.dim();
    state.backend = backend_id;
    state.host = match backend {
        Backend::Flat => None,
        Backend::Qdrant(cfg) => Some(cfg.host.clone()),
    };
    state.built_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut srcs: Vec<String> = src
        .sync_dbs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    srcs.extend(src.local_db.iter().map(|p| p.display().to_string()));
    srcs.extend(src.etc.iter().map(|p| p.display().to_string()));
    state.sources = srcs;
    state.docs = docs
        .iter()
        .map(|d| {
            (
                d.id.clone(),
                (d.hash.clone(), embed_hashes[d.id.as_str()].clone()),
            )
        })
        .collect();
    crate::catalog::Catalog::from_docs(&docs).write(dir)?;
    families.write(dir)?;
    save_state(dir, &state)?;
    Ok(BuildReport {
        packages: docs.iter().filter(|d| d.kind() == Kind::Package).count(),
        configs: docs.iter().filter(|d| d.kind() == Kind::Config).count(),
        history_versions: docs
            .iter()
            .filter(|d| d.kind() == Kind::History)
            .map(|d| d.id.split('#').next().unwrap_or(""))
            .collect::<std::collections::HashSet<_>>()
            .len(),
        history_chunks: docs.iter().filter(|d| d.kind() == Kind::History).count(),
        embedded: to_embed.len(),
        rewritten: to_rewrite.len(),
        removed: removed.len(),
        config_files: walk.files,
        skipped_secret_files: walk.skipped_secret,
        skipped_unreadable_files: walk.skipped_unreadable,
        seconds: t0.elapsed().as_secs_f64(),
        embed_seconds,
        fleet: fleet_report,
    })
}

/// Writes this build's changes to the fleet collection: changed documents (every
/// document when `all`), their vectors from the embedded store, removed ones deleted;
/// after writing everything, the host's points of older builds are deleted too.
fn publish(
    q: &mut QdrantStore,
    store: &FlatStore,
    docs: &[&Doc],
    to_embed: &[&Doc],
    to_rewrite: &[&Doc],
    removed: &[String],
    all: bool,
) -> Result<usize> {
    let lens: Vec<usize> = docs
        .iter()
        .map(|d| crate::sparse::len(&crate::sparse::doc_text(d)))
        .collect();
    let avg_len = lens.iter().sum::<usize>() as f32 / lens.len().max(1) as f32;
    let build = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let changed: Vec<&Doc> = if all {
        docs.to_vec()
    } else {
        let mut seen = std::collections::HashSet::new();
        to_embed
            .iter()
            .chain(to_rewrite)
            .copied()
            .filter(|d| seen.insert(d.id.as_str()))
            .collect()
    };
    for chunk in changed.chunks(512) {
        let vecs: Vec<Vec<f32>> = chunk
            .iter()
            .map(|d| {
                store.get(&d.id).ok_or_else(|| {
                    Error::Index(format!("no vector for {} in the embedded store", d.id))
                })
            })
            .collect::<Result<_>>()?;
        let batch: Vec<(&Doc, &[f32])> = chunk
            .iter()
            .copied()
            .zip(vecs.iter().map(Vec::as_slice))
            .collect();
        q.put(&batch, avg_len, &build)?;
    }
    q.delete(removed)?;
    if all {
        q.delete_stale(&build)?;
    }
    Ok(changed.len())
}

/// Summary for `rast index status`.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub dir: PathBuf,
    pub packages: usize,
    pub configs: usize,
    pub model: String,
    pub backend: String,
    pub built_at: u64,
    pub sources: Vec<String>,
    pub bytes_on_disk: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

pub fn status(dir: &Path) -> Result<Status> {
    let s = load_state(dir)?
        .ok_or_else(|| Error::NoIndex(dir.to_path_buf(), "no state.json".into()))?;
    let bytes = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    Ok(Status {
        dir: dir.to_path_buf(),
        packages: s
            .docs
            .keys()
            .filter(|i| Kind::of_id(i) == Kind::Package)
            .count(),
        configs: s
            .docs
            .keys()
            .filter(|i| Kind::of_id(i) == Kind::Config)
            .count(),
        model: s.model,
        backend: s.backend,
        built_at: s.built_at,
        sources: s.sources,
        bytes_on_disk: bytes,
        host: s.host,
    })
}

/// One search result.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Hit {
    pub kind: Kind,
    /// Package name, or config path.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Config: `[section]` and line range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<(usize, usize)>,
    pub snippet: String,
    pub score: f32,
    pub installed: bool,
    pub id: String,
    /// Config with history: the snapshots holding this version of the file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<String>,
}

/// An open index, ready to answer queries (keep it around to answer many).
pub struct Searcher {
    bm25: Bm25,
    vectors: Box<dyn VectorStore>,
    encoder: Encoder,
    cache: std::sync::Mutex<HashMap<String, Vec<f32>>>,
    /// Query vectors kept across processes ([`crate::query_cache`]).
    disk: crate::query_cache::QueryCache,
    /// The 8-bit query encoder beside the index, opened on the first query to embed
    /// (None: missing or made from another model — the f32 encoder answers).
    query_model: std::sync::OnceLock<Option<rast_embeddings::quantized::QueryEncoder>>,
    /// Split-package families ([`crate::family`]): heads first, parts spread out.
    families: Families,
    dir: PathBuf,
}

impl Searcher {
    /// Opens the index in `dir` for this host's queries — always the embedded vector
    /// store, whatever the backend (the Qdrant backend only adds the fleet copy).
    pub fn open(dir: &Path, encoder: Encoder) -> Result<Searcher> {
        if load_state(dir)?.is_none() {
            return Err(Error::NoIndex(
                dir.to_path_buf(),
                "run `rast index build` first".into(),
            ));
        }
        let bm25 = Bm25::open(&dir.join("bm25"))?;
        let vectors = open_store(dir, encoder.dim())?;
        Ok(Searcher {
            bm25,
            vectors,
            disk: crate::query_cache::QueryCache::new(dir, encoder.dim()),
            encoder,
            cache: Default::default(),
            query_model: Default::default(),
            families: Families::load(dir),
            dir: dir.to_path_buf(),
        })
    }

    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// Forgets cached query embeddings, in memory and on disk (benchmarks measure the
    /// uncached path).
    pub fn clear_query_cache(&self) {
        self.cache.lock().expect("cache").clear();
        self.disk.clear();
    }

    /// The 8-bit query encoder, if the index has a current one.
    fn query_model(&self) -> Option<&rast_embeddings::quantized::QueryEncoder> {
        self.query_model
            .get_or_init(|| {
                let file = self.dir.join(rast_embeddings::quantized::FILE_NAME);
                if !file.exists() {
                    return None;
                }
                rast_embeddings::quantized::QueryEncoder::open(self.encoder.model_dir(), &file)
                    .map_err(|e| tracing::debug!("8-bit query encoder not used: {e}"))
                    .ok()
            })
            .as_ref()
    }

    /// Loads what a new query needs now — the 8-bit query encoder, else the model — so
    /// the first real query is warm (query caches would otherwise defer it).
    pub fn warm_up(&self) -> Result<()> {
        match self.query_model() {
            Some(m) => m.embed("warm up"),
            None => self.encoder.embed_one("warm up"),
        }
        .map(|_| ())
        .map_err(|e| Error::Index(e.to_string()))
    }

    /// Embeds a query (with the 8-bit encoder when the index has one), remembering the
    /// last few hundred.
    pub fn embed_query(&self, q: &str) -> Result<Vec<f32>> {
        if let Some(v) = self.cache.lock().expect("cache").get(q) {
            return Ok(v.clone());
        }
        let v = match self.disk.get(q) {
            Some(v) => v,
            None => {
                // The 8-bit copy when the index has one: smaller to load, and faster
                // warm too (measured: 5 vs 13 ms p50 per warm search at 3.5k).
                let v = match self.query_model() {
                    Some(m) => m.embed(q),
                    None => self.encoder.embed_one(q),
                }
                .map_err(|e| Error::Index(e.to_string()))?;
                self.disk.put(q, &v);
                v
            }
        };
        let mut c = self.cache.lock().expect("cache");
        if c.len() > 512 {
            c.clear();
        }
        c.insert(q.to_string(), v.clone());
        Ok(v)
    }

    /// Hybrid search: exact package names first, then reciprocal-rank fusion of BM25
    /// and vector hits.
    pub fn search(&self, query: &str, limit: usize, kind: Option<Kind>) -> Result<Vec<Hit>> {
        self.search_with(&rank::Params::default(), query, limit, kind)
    }

    /// [`Searcher::search`] with explicit fusion parameters (for tuning).
    pub fn search_with(
        &self,
        params: &rank::Params,
        query: &str,
        limit: usize,
        kind: Option<Kind>,
    ) -> Result<Vec<Hit>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let depth = (limit * 5).max(50);
        let exact = if matches!(kind, None | Some(Kind::Package)) {
            self.bm25.exact(query)?
        } else {
            Vec::new()
        };
        let lexical = self
            .bm25
            .search(query, depth, kind, params.lexical_all_words)?;
        let dense = self.dense(query, depth, kind)?;
        let fused = self
            .families
            .diversify(query, rank::fuse_with(params, &exact, &lexical, &dense));
        // Libraries, modules and docs splits the query does not ask for go after the
        // programs (an exact name match stays first: its score is above 1).
        let mut out = Vec::with_capacity(limit * 2);
        for (id, score) in fused.into_iter().take(limit * 2) {
            if let Some(d) = self.bm25.fetch(&id)? {
                let part = d.kind() == Kind::Package
                    && score < 1.0
                    && rank::unasked_part(&d.name, &d.desc, query);
                let score = if part {
                    score * rank::PART_WEIGHT
                } else {
                    score
                };
                out.push(to_hit(d, score, query));
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        out.truncate(limit);
        Ok(out)
    }

    /// The dense list: a request looked up as one for software ([`frame`]) wherever
    /// packages are searched; config-only searches keep the words as typed. A mixed
    /// search uses the framed vector for its config chunks too: one forward pass and
    /// one scan (two cost 2× warm: 38 vs 19 ms p50 at 3.5k + /etc), and on eight config
    /// questions the top 5 differed in one place (docs/search.md).
    fn dense(&self, query: &str, depth: usize, kind: Option<Kind>) -> Result<Vec<(String, f32)>> {
        let text = match (kind, frame::as_software_request(query)) {
            (None | Some(Kind::Package), Some(framed)) => framed,
            _ => query.to_string(),
        };
        self.vectors.search(&self.embed_query(&text)?, depth, kind)
    }

    pub fn len(&self) -> u64 {
        self.bm25.count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn to_hit(d: Doc, score: f32, query: &str) -> Hit {
    match d.kind() {
        Kind::Package => Hit {
            kind: Kind::Package,
            snippet: d.desc.clone(),
            repo: Some(d.repo.clone()),
            version: Some(d.version.clone()),
            section: None,
            lines: None,
            installed: d.installed,
            name: d.name,
            score,
            id: d.id,
            snapshots: Vec::new(),
        },
        k @ (Kind::Config | Kind::History) => Hit {
            kind: k,
            snippet: snippet(&d.text, query),
            repo: None,
            version: None,
            section: (!d.section.is_empty()).then(|| d.section.clone()),
            lines: Some(d.lines),
            installed: false,
            name: d.name,
            score,
            id: d.id,
            snapshots: d.snapshots,
        },
    }
}

/// Up to three lines of `text`, preferring lines that contain a query word.
pub fn snippet(text: &str, query: &str) -> String {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .filter(|w| w.len() > 2)
        .collect();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let hit = lines.iter().position(|l| {
        let l = l.to_lowercase();
        words.iter().any(|w| l.contains(w.as_str()))
    });
    let start = hit
        .unwrap_or(0)
        .saturating_sub(if hit.is_some() { 1 } else { 0 });
    lines
        .iter()
        .skip(start)
        .take(3)
        .map(|l| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}
