//! `/etc/rast/rast.toml` (or `--config FILE` / `RAST_CONFIG`): settings that commands
//! read when no flag overrides them. A missing file means all defaults; a malformed
//! one is an error naming the file.
//!
//! ```toml
//! [agent]
//! socket = "/run/rast/agent.sock"
//! group = "rast"
//! idle_timeout = "5m"             # a silent connection is closed
//! max_connections_per_user = 32   # per unprivileged uid
//! [planner]
//! llm_url = "http://127.0.0.1:8080/v1"   # optional; off when absent
//! [index]
//! dir = "/var/lib/rast/index"
//! backend = "embedded"            # or "qdrant"
//! url = "http://127.0.0.1:6334"   # qdrant
//! collection = "rast"
//! api_key_env = "QDRANT_API_KEY"  # the key is read from this environment variable
//! host = "web-01"                 # name in the fleet [default: the indexed /etc/hostname]
//! allow = ["/etc/sudoers.d/10-wheel"]   # index these even if not world-readable
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub index: IndexConfig,
    #[serde(default)]
    pub backup: BackupConfig,
    #[serde(default)]
    pub agent: AgentConfig,
    #[serde(default)]
    pub planner: PlannerConfig,
}

/// `[agent]`: rast-agent's socket and behaviour.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub socket: Option<PathBuf>,
    /// Group allowed on the socket; default "rast" (root only if that group is missing).
    pub group: Option<String>,
    /// Quiet time before an index refresh (humantime, e.g. "2s").
    pub debounce: Option<String>,
    /// Watch pacman's databases and /etc (default true).
    pub watch: Option<bool>,
    /// Close a connection silent this long [default: 5m].
    pub idle_timeout: Option<String>,
    /// Connections one unprivileged user may hold open [default: 32].
    pub max_connections_per_user: Option<usize>,
}

/// `[planner]`: the optional LLM backend (off unless `llm_url` is set).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlannerConfig {
    /// OpenAI-compatible API base, e.g. "http://127.0.0.1:8080/v1".
    pub llm_url: Option<String>,
    pub llm_model: Option<String>,
    /// Environment variable holding the API key (default OPENAI_API_KEY).
    pub llm_key_env: Option<String>,
    /// Ask the LLM when the offline plan's confidence is below this (default 0.6).
    pub llm_below_confidence: Option<f32>,
    pub llm_timeout: Option<String>,
}

/// `[backup]`: where, for whom, how.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    pub target: Option<String>,
    #[serde(default)]
    pub recipients: Vec<String>,
    pub identity: Option<PathBuf>,
    pub zstd_level: Option<i32>,
    pub chunk_mib: Option<usize>,
    pub parallel: Option<usize>,
    pub full_every: Option<usize>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    #[serde(default)]
    pub allow_http: bool,
    /// Retries of one request to a remote target (default 3).
    pub max_retries: Option<usize>,
    /// How long one request may go on retrying (humantime, default "30s").
    pub retry_timeout: Option<String>,
    pub preserve_min: Option<String>,
    pub preserve: Option<String>,
    /// Upload limit in MiB/s.
    pub bwlimit_mib: Option<f64>,
    /// What `rast backup run` backs up: "current", "deployed" or snapshot numbers.
    #[serde(default)]
    pub snapshots: Vec<String>,
    pub schedule: Option<rast_backup::schedule::ScheduleConfig>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    pub dir: Option<PathBuf>,
    pub backend: Option<String>,
    pub url: Option<String>,
    pub collection: Option<String>,
    pub api_key_env: Option<String>,
    /// This machine's name in a fleet collection [default: the indexed /etc/hostname].
    pub host: Option<String>,
    #[serde(default)]
    pub allow: Vec<PathBuf>,
}

impl BackupConfig {
    /// How to reach the target (endpoint, region, retries) as the backup commands do.
    pub fn target_options(&self) -> Result<rast_backup::store::TargetOptions> {
        Ok(rast_backup::store::TargetOptions {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            allow_http: self.allow_http,
            max_retries: self.max_retries,
            retry_timeout: self
                .retry_timeout
                .as_deref()
                .map(humantime::parse_duration)
                .transpose()
                .context("[backup] retry_timeout")?,
        })
    }
}

impl IndexConfig {
    /// Qdrant's API key, from the variable `api_key_env` names (QDRANT_API_KEY).
    pub fn api_key(&self) -> Option<String> {
        let var = self.api_key_env.as_deref().unwrap_or("QDRANT_API_KEY");
        std::env::var(var).ok()
    }
}

/// The config file to read.
pub fn path() -> PathBuf {
    std::env::var_os("RAST_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/rast/rast.toml"))
}

pub fn load(p: &Path) -> Result<Config> {
    match std::fs::read_to_string(p) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("{} is not a valid rast config", p.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_index_section_and_rejects_typos() {
        let c: Config = toml::from_str("[index]\nbackend = \"qdrant\"\nurl = \"http://127.0.0.1:6334\"\nallow = [\"/etc/x\"]\n").unwrap();
        assert_eq!(c.index.backend.as_deref(), Some("qdrant"));
        assert_eq!(c.index.allow, vec![PathBuf::from("/etc/x")]);
        assert!(toml::from_str::<Config>("[index]\nbakend = 1\n").is_err());
        assert!(load(Path::new("/nonexistent/rast.toml"))
            .unwrap()
            .index
            .dir
            .is_none());
    }

    /// The example shipped as /etc/rast/rast.toml names only real keys with valid
    /// values: uncommented, it parses (unknown keys are refused).
    #[test]
    fn the_shipped_example_names_real_keys_and_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/rast.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            toml::from_str::<Config>(&text).is_ok(),
            "as shipped (all commented)"
        );
        let mut uncommented = String::new();
        let mut seen_schedule_every = false;
        for line in text.lines() {
            let l = match line.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") && !rest.starts_with(' ') => rest,
                Some(rest) if rest.starts_with('[') => rest.split(" #").next().unwrap_or(rest),
                _ => line,
            };
            // `every` and `at` exclude each other; the example shows `every`.
            if l.starts_with("every") {
                seen_schedule_every = true;
            }
            uncommented.push_str(l);
            uncommented.push('\n');
        }
        assert!(seen_schedule_every);
        let cfg: Config =
            toml::from_str(&uncommented).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(cfg.index.host.as_deref(), Some("web-01"));
        assert_eq!(cfg.agent.max_connections_per_user, Some(32));
        assert_eq!(cfg.backup.full_every, Some(14));
        assert!(cfg.backup.schedule.is_some());
    }

    /// Every key the code reads is in the shipped example and in docs/config.md's
    /// table of its section (so neither can fall behind the structs).
    #[test]
    fn every_key_is_shipped_and_documented() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let example = std::fs::read_to_string(root.join("packaging/rast.toml")).unwrap();
        let docs = std::fs::read_to_string(root.join("docs/config.md")).unwrap();
        // JSON of the defaults names every field, None ones as null.
        let all = serde_json::to_value(Config::default()).unwrap();
        for (section, keys) in all.as_object().unwrap() {
            let table = docs
                .split(&format!("## `[{section}]`"))
                .nth(1)
                .unwrap_or_else(|| panic!("docs/config.md has no [{section}] section"));
            let table = table.split("\n## ").next().unwrap();
            for key in keys.as_object().unwrap().keys() {
                assert!(
                    table.contains(&format!("| `{key}` |")),
                    "docs/config.md [{section}] lacks `{key}`"
                );
                if key != "schedule" {
                    assert!(
                        example.contains(&format!("# {key} = ")),
                        "packaging/rast.toml lacks [{section}] {key}"
                    );
                }
            }
        }
    }
}
