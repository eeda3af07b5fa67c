//! `rast config check --online`: can the services rast.toml names be reached? Only what
//! the file configures is contacted, read-only: the backup target is listed under a
//! prefix nothing uses (auth, bucket and network in one request; nothing written) and
//! the Qdrant server is asked for its health and whether the collection exists
//! (created by the first `index build`, never here). Each finding is what answered or
//! what did not, by `[section] key`; config_check.rs adds the file's line.

use std::time::Duration;

use serde::Serialize;

use crate::config::Config;

/// What answered.
#[derive(Debug, Serialize)]
pub struct Reached {
    pub key: String,
    pub what: String,
}

/// What did not: the section and key that name it, and why.
pub struct Unreachable {
    pub section: &'static str,
    pub key: &'static str,
    pub message: String,
}

/// Probes every service `cfg` names.
pub fn probe(cfg: &Config) -> (Vec<Reached>, Vec<Unreachable>) {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    let mut found = |section: &'static str, key: &'static str, r: Result<String, String>| match r {
        Ok(what) => ok.push(Reached {
            key: format!("[{section}] {key}"),
            what,
        }),
        Err(message) => bad.push(Unreachable {
            section,
            key,
            message,
        }),
    };
    if let Some(url) = &cfg.backup.target {
        found("backup", "target", backup_target(cfg, url));
    }
    if cfg.index.backend.as_deref() == Some("qdrant") {
        if let Some(url) = &cfg.index.url {
            let collection = cfg.index.collection.as_deref().unwrap_or("rast");
            let r = rast_pkgindex::qdrant::probe(url, cfg.index.api_key().as_deref(), collection)
                .map(|p| {
                    let c = if p.collection_exists {
                        format!("collection {collection:?} exists")
                    } else {
                        format!("collection {collection:?} does not exist yet (the first `rast index build` creates it)")
                    };
                    format!("Qdrant {} at {url}; {c}", p.version)
                })
                .map_err(|e| format!("unreachable: {e}"));
            found("index", "url", r);
        }
    }
    (ok, bad)
}

fn backup_target(cfg: &Config, url: &str) -> Result<String, String> {
    let mut o = cfg.backup.target_options().map_err(|e| format!("{e:#}"))?;
    // A check answers in seconds: one retry, a short budget.
    o.max_retries = Some(1);
    o.retry_timeout = Some(Duration::from_secs(5));
    let t = rast_backup::store::Target::open(url, &o).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(15),
            t.list_under("rast-config-check-probe"),
        )
        .await
        .map_err(|_| "unreachable: no answer in 15 s".to_string())?
        .map_err(|e| format!("unreachable: {e}"))
    })?;
    Ok(format!("{url} answered a listing"))
}
