//! Fleet queries: one hybrid search over every host that publishes to the Qdrant
//! collection ([`crate::qdrant`]), answered as [`Hit`]s grouped by host — the
//! server fuses dense and lexical candidates (DBSF: each list's scores normalised,
//! then summed) and the fused list is grouped by its `host` payload, at most
//! `per_host` hits each, so one loud host cannot take every place.

use rast_embeddings::Encoder;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::doc::Kind;
use crate::index::{snippet, Hit};
use crate::qdrant::{FleetQuery, QdrantConfig, QdrantStore};
use crate::{Error, Result};

/// One host's answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HostHits {
    pub host: String,
    pub hits: Vec<FleetHit>,
}

/// A hit of a fleet query.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FleetHit {
    #[serde(flatten)]
    pub hit: Hit,
    /// Config: the line of the file that matches the query best, and its text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<(usize, String)>,
}

/// The line of a chunk (starting at file line `first`) sharing most words with the
/// query, first such line on ties.
pub fn best_line(text: &str, first: usize, query: &str) -> Option<(usize, String)> {
    let words: Vec<String> = crate::sparse::terms(query).collect();
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .max_by_key(|(i, l)| {
            let have: Vec<String> = crate::sparse::terms(l).collect();
            (
                words.iter().filter(|w| have.contains(w)).count(),
                usize::MAX - i,
            )
        })
        .map(|(i, l)| (first + i, l.trim().to_string()))
}

/// What to ask the fleet.
#[derive(Clone, Debug)]
pub struct Ask<'a> {
    pub query: &'a str,
    pub kind: Option<Kind>,
    /// Only these hosts (empty: all).
    pub hosts: &'a [String],
    pub per_host: usize,
    pub max_hosts: usize,
}

/// Runs `ask` against the collection in `cfg`, best host first.
pub fn search(cfg: &QdrantConfig, enc: &Encoder, ask: &Ask) -> Result<Vec<HostHits>> {
    let query = ask.query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let dense = enc
        .embed_one(query)
        .map_err(|e| Error::Index(e.to_string()))?;
    let store = QdrantStore::connect(cfg.clone(), enc.dim())?;
    let groups = store.fleet(&FleetQuery {
        text: query,
        dense: &dense,
        kind: ask.kind,
        hosts: ask.hosts,
        per_host: ask.per_host,
        max_hosts: ask.max_hosts,
    })?;
    Ok(groups
        .into_iter()
        .map(|(host, hits)| HostHits {
            host,
            hits: hits
                .into_iter()
                .filter_map(|(score, p)| to_hit(&p, score, query))
                .collect(),
        })
        .collect())
}

fn to_hit(p: &Value, score: f32, query: &str) -> Option<FleetHit> {
    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let n = |k: &str| p.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
    let kind: Kind = s("kind").parse().ok()?;
    if kind == Kind::History {
        return None; // never published; an older build's point is not an answer
    }
    let text = s("text");
    let line = (kind == Kind::Config)
        .then(|| best_line(&text, n("line_start"), query))
        .flatten();
    let hit = match kind {
        Kind::Package => Hit {
            kind,
            name: s("name"),
            repo: Some(s("repo")),
            version: Some(s("version")),
            section: None,
            lines: None,
            snippet: text,
            score,
            installed: p.get("installed").and_then(Value::as_bool).unwrap_or(false),
            id: s("doc_id"),
            snapshots: Vec::new(),
        },
        Kind::Config | Kind::History => Hit {
            kind,
            name: s("name"),
            repo: None,
            version: None,
            section: Some(s("section")).filter(|x| !x.is_empty()),
            lines: Some((n("line_start"), n("line_end"))),
            snippet: snippet(&text, query),
            score,
            installed: false,
            id: s("doc_id"),
            snapshots: Vec::new(),
        },
    };
    Some(FleetHit { hit, line })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_become_hits() {
        let p = serde_json::json!({"kind": "config", "name": "/etc/ssh/sshd_config", "section": "",
            "line_start": 30, "line_end": 34, "text": "#Port 22\nPermitRootLogin yes\nMaxAuthTries 6",
            "doc_id": "etc:/etc/ssh/sshd_config#3", "host": "web-1"});
        let f = to_hit(&p, 0.5, "PermitRootLogin").unwrap();
        assert_eq!(f.line, Some((31, "PermitRootLogin yes".to_string())));
        let h = f.hit;
        assert_eq!(h.lines, Some((30, 34)));
        assert_eq!(h.section, None);
        assert!(h.snippet.contains("PermitRootLogin yes"));
        let p = serde_json::json!({"kind": "package", "name": "openssl", "repo": "core",
            "version": "3.0.7-1", "installed": true, "text": "TLS toolkit", "doc_id": "pkg:core/openssl"});
        let h = to_hit(&p, 0.5, "openssl").unwrap().hit;
        assert!(
            h.installed && h.snippet == "TLS toolkit" && h.version.as_deref() == Some("3.0.7-1")
        );
        assert!(to_hit(&serde_json::json!({"kind": "what"}), 0.1, "x").is_none());
    }
}
