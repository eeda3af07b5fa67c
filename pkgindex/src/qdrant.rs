//! The Qdrant implementation of [`VectorStore`] (config `[index] backend = "qdrant"`),
//! for fleets that share one vector collection. Each point carries the payload
//! `{doc_id, kind, host, snapshot}`; searches filter on this host (and kind), so
//! several machines can share a collection without seeing each other's documents.
//! Point ids are UUIDs derived from (host, doc id), so re-indexing replaces points.
//! The client is async (gRPC); this store runs it on a private current-thread runtime.

use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, DeletePointsBuilder, Distance, Filter,
    PointStruct, PointsIdsList, QueryPointsBuilder, UpsertPointsBuilder, VectorParamsBuilder,
};
use qdrant_client::{Payload, Qdrant};
use sha2::{Digest, Sha256};

use crate::doc::Kind;
use crate::vectors::VectorStore;
use crate::{Error, Result};

/// Connection settings.
#[derive(Clone, Debug)]
pub struct QdrantConfig {
    pub url: String,
    pub collection: String,
    pub api_key: Option<String>,
    /// This machine's name in the payload.
    pub host: String,
    /// The snapshot indexed (payload only).
    pub snapshot: String,
}

/// Vectors in a Qdrant collection.
pub struct QdrantStore {
    rt: tokio::runtime::Runtime,
    client: Qdrant,
    cfg: QdrantConfig,
    dim: usize,
}

fn qerr(e: impl std::fmt::Display) -> Error {
    Error::Index(format!("qdrant: {e}"))
}

/// A UUID (as text) for `doc_id` on `host`.
pub fn point_id(host: &str, doc_id: &str) -> String {
    let h = Sha256::digest(format!("{host}\0{doc_id}").as_bytes());
    let x = hex::encode(&h[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

impl QdrantStore {
    /// Connects and creates the collection (cosine, `dim`) if missing.
    pub fn connect(cfg: QdrantConfig, dim: usize) -> Result<QdrantStore> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Index(e.to_string()))?;
        let mut b = Qdrant::from_url(&cfg.url);
        if let Some(k) = &cfg.api_key {
            b = b.api_key(k.clone());
        }
        let client = b.build().map_err(qerr)?;
        rt.block_on(async {
            if !client
                .collection_exists(&cfg.collection)
                .await
                .map_err(qerr)?
            {
                client
                    .create_collection(
                        CreateCollectionBuilder::new(&cfg.collection)
                            .vectors_config(VectorParamsBuilder::new(dim as u64, Distance::Cosine)),
                    )
                    .await
                    .map_err(qerr)?;
            }
            Ok::<_, Error>(())
        })?;
        Ok(QdrantStore {
            rt,
            client,
            cfg,
            dim,
        })
    }

    fn host_filter(&self, kind: Option<Kind>) -> Filter {
        let mut must = vec![Condition::matches("host", self.cfg.host.clone())];
        if let Some(k) = kind {
            must.push(Condition::matches("kind", k.as_str().to_string()));
        }
        Filter::must(must)
    }
}

impl VectorStore for QdrantStore {
    fn apply(&mut self, upsert: Vec<(String, Vec<f32>)>, remove: &[String]) -> Result<()> {
        let cfg = &self.cfg;
        let points: Vec<PointStruct> = upsert
            .into_iter()
            .map(|(id, v)| {
                let payload: Payload = serde_json::json!({"doc_id": id, "kind": Kind::of_id(&id).as_str(), "host": cfg.host, "snapshot": cfg.snapshot})
                    .try_into()
                    .expect("a JSON object");
                PointStruct::new(point_id(&cfg.host, &id), v, payload)
            })
            .collect();
        self.rt.block_on(async {
            if !points.is_empty() {
                self.client
                    .upsert_points_chunked(
                        UpsertPointsBuilder::new(&cfg.collection, points).wait(true),
                        256,
                    )
                    .await
                    .map_err(qerr)?;
            }
            if !remove.is_empty() {
                let ids = PointsIdsList {
                    ids: remove
                        .iter()
                        .map(|r| point_id(&cfg.host, r).into())
                        .collect(),
                };
                self.client
                    .delete_points(
                        DeletePointsBuilder::new(&cfg.collection)
                            .points(ids)
                            .wait(true),
                    )
                    .await
                    .map_err(qerr)?;
            }
            Ok(())
        })
    }

    fn search(&self, query: &[f32], k: usize, kind: Option<Kind>) -> Result<Vec<(String, f32)>> {
        if query.len() != self.dim {
            return Err(Error::Index(format!(
                "query has {} dimensions, the collection {}",
                query.len(),
                self.dim
            )));
        }
        let req = QueryPointsBuilder::new(&self.cfg.collection)
            .query(query.to_vec())
            .limit(k as u64)
            .filter(self.host_filter(kind))
            .with_payload(true);
        let resp = self.rt.block_on(self.client.query(req)).map_err(qerr)?;
        Ok(resp
            .result
            .into_iter()
            .filter_map(|p| {
                let id = p.payload.get("doc_id")?.as_str()?.to_string();
                Some((id, p.score))
            })
            .collect())
    }

    fn len(&self) -> usize {
        let req = CountPointsBuilder::new(&self.cfg.collection)
            .filter(self.host_filter(None))
            .exact(true);
        self.rt
            .block_on(self.client.count(req))
            .ok()
            .and_then(|r| r.result)
            .map(|r| r.count as usize)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_ids_are_stable_uuids_per_host() {
        let a = point_id("host-a", "pkg:extra/firefox");
        assert_eq!(a, point_id("host-a", "pkg:extra/firefox"));
        assert_ne!(a, point_id("host-b", "pkg:extra/firefox"));
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }

    /// Runs against a real Qdrant when RAST_QDRANT_URL is set; skipped otherwise (no
    /// Qdrant server can be installed from this machine's registries).
    #[test]
    fn against_a_real_server() {
        let Ok(url) = std::env::var("RAST_QDRANT_URL") else {
            eprintln!("skipped: RAST_QDRANT_URL is not set (no Qdrant server available)");
            return;
        };
        let cfg = |host: &str| QdrantConfig {
            url: url.clone(),
            collection: "rast-test".into(),
            api_key: std::env::var("RAST_QDRANT_API_KEY").ok(),
            host: host.into(),
            snapshot: "1".into(),
        };
        let mut a = QdrantStore::connect(cfg("test-a"), 3).unwrap();
        let mut b = QdrantStore::connect(cfg("test-b"), 3).unwrap();
        a.apply(
            vec![
                ("pkg:x/a".into(), vec![1., 0., 0.]),
                ("etc:/etc/a#0".into(), vec![0., 1., 0.]),
            ],
            &[],
        )
        .unwrap();
        b.apply(vec![("pkg:x/b".into(), vec![1., 0., 0.])], &[])
            .unwrap();
        let hits = a.search(&[1., 0., 0.], 5, None).unwrap();
        assert_eq!(hits[0].0, "pkg:x/a");
        assert!(
            hits.iter().all(|h| h.0 != "pkg:x/b"),
            "another host's points are not visible"
        );
        assert_eq!(
            a.search(&[1., 0., 0.], 5, Some(Kind::Config)).unwrap()[0].0,
            "etc:/etc/a#0"
        );
        a.apply(vec![], &["pkg:x/a".into(), "etc:/etc/a#0".into()])
            .unwrap();
        b.apply(vec![], &["pkg:x/b".into()]).unwrap();
        assert_eq!(a.len(), 0);
    }
}
