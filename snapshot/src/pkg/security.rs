//! Security-only upgrades from an Arch Security Tracker feed (`issues/all.json`
//! format: a list of advisory groups with `name`, `packages`, `status`, `severity`,
//! `affected`, `fixed`, `issues`). The feed is read from a file or fetched from a URL
//! and cached under `/var/lib/rast/security/all.json`.
//!
//! A pending upgrade of an installed package counts as a security fix when some
//! advisory for that package has a `fixed` version such that
//! installed < fixed <= new (libalpm's vercmp). Everything else upgradable is held
//! back with `--ignore` on the same `-Syu`, so pacman still resolves dependencies.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::db::{vercmp, PkgDb};
use crate::{Error, Result};

/// One advisory group of the tracker.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Advisory {
    pub name: String,
    pub packages: Vec<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub affected: Option<String>,
    #[serde(default)]
    pub fixed: Option<String>,
    #[serde(default)]
    pub issues: Vec<String>,
}

/// A parsed feed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Feed {
    pub advisories: Vec<Advisory>,
}

/// What a security-only upgrade does.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Plan {
    /// Packages upgraded, each with the advisories it fixes.
    pub upgrade: Vec<String>,
    pub fixes: Vec<(String, Vec<String>)>,
    /// Upgradable packages held back.
    pub hold: Vec<String>,
}

impl Feed {
    pub fn parse(bytes: &[u8]) -> Result<Feed> {
        let advisories: Vec<Advisory> = serde_json::from_slice(bytes).map_err(|e| {
            Error::Invalid(format!(
                "security feed is not the tracker's all.json format: {e}"
            ))
        })?;
        Ok(Feed { advisories })
    }

    /// Loads the feed from `source` (a path, `file://` URL or `http(s)://` URL) and
    /// caches it in `cache_dir`. If fetching fails and a cached copy exists, that is
    /// used (with a warning).
    pub fn load(source: &str, cache_dir: &Path) -> Result<Feed> {
        let cached = cache_dir.join("all.json");
        let fetched = fetch(source);
        let bytes = match fetched {
            Ok(b) => {
                Feed::parse(&b)?;
                std::fs::create_dir_all(cache_dir).map_err(Error::io(cache_dir))?;
                crate::atomic::write_atomic(&cached, &b)?;
                b
            }
            Err(e) if cached.is_file() => {
                tracing::warn!(
                    "could not read the security feed ({e}); using the cached copy {}",
                    cached.display()
                );
                std::fs::read(&cached).map_err(Error::io(&cached))?
            }
            Err(e) => return Err(e),
        };
        Feed::parse(&bytes)
    }

    /// Advisories naming `pkg` whose fix is newer than `installed`.
    pub fn open_for(&self, pkg: &str, installed: &str) -> Vec<&Advisory> {
        self.advisories
            .iter()
            .filter(|a| a.packages.iter().any(|p| p == pkg))
            .filter(|a| {
                a.fixed
                    .as_deref()
                    .is_some_and(|f| vercmp(installed, f) == Ordering::Less)
            })
            .collect()
    }
}

fn fetch(source: &str) -> Result<Vec<u8>> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let fail =
            |e: reqwest::Error| Error::Invalid(format!("fetching the security feed {source}: {e}"));
        let client = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("rast/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(fail)?;
        let resp = client
            .get(source)
            .send()
            .and_then(|r| r.error_for_status())
            .map_err(fail)?;
        return Ok(resp.bytes().map_err(fail)?.to_vec());
    }
    let path = PathBuf::from(source.strip_prefix("file://").unwrap_or(source));
    std::fs::read(&path).map_err(Error::io(&path))
}

/// Splits the pending upgrades of `db` (sync databases already refreshed) into
/// security fixes and the rest.
pub fn plan(feed: &Feed, db: &PkgDb) -> Plan {
    let mut plan = Plan::default();
    for u in db.upgrades() {
        let fixes: Vec<String> = feed
            .open_for(&u.name, &u.old)
            .into_iter()
            .filter(|a| {
                a.fixed
                    .as_deref()
                    .is_some_and(|f| vercmp(&u.new, f) != Ordering::Less)
            })
            .map(|a| a.name.clone())
            .collect();
        if fixes.is_empty() {
            plan.hold.push(u.name);
        } else {
            plan.upgrade.push(u.name.clone());
            plan.fixes.push((u.name, fixes));
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEED: &str = r#"[
      {"name":"AVG-1","packages":["openssl","lib32-openssl"],"status":"Fixed","severity":"High","type":"arbitrary code execution","affected":"1.1.1-1","fixed":"1.1.1-2","ticket":null,"issues":["CVE-2022-1"],"advisories":[]},
      {"name":"AVG-2","packages":["curl"],"status":"Vulnerable","severity":"Medium","affected":"7.0-1","fixed":null,"issues":["CVE-2022-2"]}
    ]"#;

    #[test]
    fn parses_the_tracker_format_and_finds_open_fixes() {
        let f = Feed::parse(FEED.as_bytes()).unwrap();
        assert_eq!(f.advisories.len(), 2);
        assert_eq!(f.open_for("openssl", "1.1.1-1").len(), 1);
        assert!(f.open_for("openssl", "1.1.1-2").is_empty(), "already fixed");
        assert!(
            f.open_for("curl", "7.0-1").is_empty(),
            "no fix published yet"
        );
        assert!(Feed::parse(b"{}").is_err());
    }

    #[test]
    fn fetches_over_http() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /issues/all.json HTTP/1.1"));
            write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{FEED}", FEED.len()).unwrap();
        });
        let d = tempfile::tempdir().unwrap();
        let f = Feed::load(&format!("http://{addr}/issues/all.json"), d.path()).unwrap();
        server.join().unwrap();
        assert_eq!(f.advisories.len(), 2);
        assert!(d.path().join("all.json").is_file());
    }

    #[test]
    fn load_caches_and_falls_back_to_the_cache() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("feed.json");
        std::fs::write(&src, FEED).unwrap();
        let cache = d.path().join("cache");
        Feed::load(src.to_str().unwrap(), &cache).unwrap();
        std::fs::remove_file(&src).unwrap();
        let f = Feed::load(&format!("file://{}", src.display()), &cache).unwrap();
        assert_eq!(f.advisories[0].name, "AVG-1");
    }
}
