//! Configuration history in the index: every snapshot's /etc walked under the same
//! secret rules as the current one ([`crate::etcwalk`]), each distinct version of a
//! file indexed once.
//!
//! A file's version is the SHA-256 of its redacted text (the chunks' texts in order),
//! first 16 hex digits. The current /etc's documents stay as they are and learn which
//! snapshots hold their version; a version the current /etc does not have becomes
//! [`Kind::History`](crate::doc::Kind::History) documents (one per chunk) naming the
//! snapshots that held it. So history costs documents only for versions that differ,
//! and a secret file never enters it (the walk refuses it in every snapshot).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::doc::Doc;
use crate::etcwalk::{self, Chunk};

/// The version key of one file's chunks.
fn key(chunks: &[&Chunk]) -> String {
    let mut h = Sha256::new();
    for c in chunks {
        h.update(c.text.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())[..16].to_string()
}

fn by_path(chunks: &[Chunk]) -> BTreeMap<&str, Vec<&Chunk>> {
    let mut m: BTreeMap<&str, Vec<&Chunk>> = BTreeMap::new();
    for c in chunks {
        m.entry(c.path.as_str()).or_default().push(c);
    }
    m
}

/// Snapshot names in numeric order where they are numbers.
fn sort_names(v: &mut [String]) {
    v.sort_by_key(|s| (s.parse::<u64>().unwrap_or(u64::MAX), s.clone()));
}

/// The history documents for `snapshots` (name, /etc directory), given the current
/// /etc's chunks; sets `snapshots` on the `current` documents whose version the
/// snapshots hold.
pub fn versions(
    current_dir: &Path,
    current_chunks: &[Chunk],
    snapshots: &[(String, PathBuf)],
    allow: &[PathBuf],
    current: &mut [Doc],
) -> Vec<Doc> {
    let now: HashMap<&str, String> = by_path(current_chunks)
        .into_iter()
        .map(|(p, cs)| (p, key(&cs)))
        .collect();
    // (path, version) → the snapshots holding it, and its chunks (kept once).
    let mut holders: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut texts: HashMap<(String, String), Vec<Chunk>> = HashMap::new();
    for (name, dir) in snapshots {
        // The current snapshot's /etc was walked already.
        let walked;
        let chunks = if dir == current_dir {
            current_chunks
        } else {
            walked = etcwalk::walk(dir, allow).0;
            &walked
        };
        for (path, cs) in by_path(chunks) {
            let k = (path.to_string(), key(&cs));
            holders.entry(k.clone()).or_default().push(name.clone());
            texts
                .entry(k)
                .or_insert_with(|| cs.into_iter().cloned().collect());
        }
    }
    for d in current.iter_mut() {
        if let Some(k) = now.get(d.name.as_str()) {
            if let Some(h) = holders.get(&(d.name.clone(), k.clone())) {
                d.snapshots = h.clone();
                sort_names(&mut d.snapshots);
                *d = d.clone().rehashed();
            }
        }
    }
    let mut out = Vec::new();
    for ((path, version), mut names) in holders {
        if now.get(path.as_str()) == Some(&version) {
            continue;
        }
        sort_names(&mut names);
        for c in &texts[&(path.clone(), version.clone())] {
            out.push(Doc::history(c, &version, names.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Kind;

    fn etc(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, text) in files {
            let f = d.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(&f, text).unwrap();
        }
        d
    }

    #[test]
    fn each_distinct_version_is_indexed_once_with_its_snapshots() {
        let port = |n: u32| format!("Port {n}\nPermitRootLogin no\n");
        let s1 = etc(&[("ssh/sshd_config", &port(22)), ("hostname", "a\n")]);
        let s2 = etc(&[("ssh/sshd_config", &port(2222)), ("hostname", "a\n")]);
        let s3 = etc(&[("ssh/sshd_config", &port(2222))]);
        let s4 = etc(&[("ssh/sshd_config", &port(22)), ("shadow", "root:$6$x\n")]);
        let now = etc(&[("ssh/sshd_config", &port(22))]);
        let (chunks, _) = etcwalk::walk(now.path(), &[]);
        let mut current: Vec<Doc> = chunks.iter().map(Doc::config).collect();
        let snaps: Vec<(String, PathBuf)> = [("1", &s1), ("2", &s2), ("3", &s3), ("10", &s4)]
            .iter()
            .map(|(n, d)| (n.to_string(), d.path().to_path_buf()))
            .collect();
        let past = versions(now.path(), &chunks, &snaps, &[], &mut current);
        assert_eq!(
            current[0].snapshots,
            ["1", "10"],
            "Port 22 now and in 1 and 10"
        );
        let port2222: Vec<&Doc> = past
            .iter()
            .filter(|d| d.name == "/etc/ssh/sshd_config")
            .collect();
        assert_eq!(port2222.len(), 1, "one version, indexed once: {past:?}");
        assert_eq!(port2222[0].snapshots, ["2", "3"]);
        assert!(port2222[0].text.contains("Port 2222"));
        assert_eq!(port2222[0].kind(), Kind::History);
        let host: Vec<&Doc> = past.iter().filter(|d| d.name == "/etc/hostname").collect();
        assert_eq!(host.len(), 1, "a file the current /etc lacks is history");
        assert_eq!(host[0].snapshots, ["1", "2"]);
        assert!(
            past.iter().all(|d| !d.name.ends_with("shadow")),
            "secret files never enter the history"
        );
        // Indexing the same tree again gives the same ids (nothing re-embedded).
        let mut again: Vec<Doc> = chunks.iter().map(Doc::config).collect();
        let past2 = versions(now.path(), &chunks, &snaps, &[], &mut again);
        let ids = |v: &[Doc]| v.iter().map(|d| d.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&past), ids(&past2));
    }
}
