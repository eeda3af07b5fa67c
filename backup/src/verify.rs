//! Verification: what a restore needs, checked without restoring.
//!
//! [`verify`] checks one backup's chunks; [`verify_chain`] checks every backup a
//! restore of one id needs, parents first. What "checked" means depends on
//! [`Reading`]: every chunk downloaded and its ciphertext SHA-256 and length matched
//! (no key needed), with identities also decrypted, decompressed and matched against
//! its plaintext digest; or, for a subset, the sampled chunks read that way and the
//! others only listed (present, with the listed length) — restic's
//! `check --read-data-subset`.
//!
//! Invariants: `ok` is true only when every check made passed, and a chain is
//! `restorable` only when every link is ok — never for a chain with a missing,
//! incomplete or damaged link. The sample of a subset is a pure function of the
//! backup id and chunk index (the same run reads the same chunks; `n/t` lets runs
//! rotate through all of them).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::engine::{chain, manifest, Listed};
use crate::format;
use crate::store::Target;
use crate::unseal::Opener;
use crate::{Error, Result};

/// Which chunks [`verify`] downloads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reading {
    /// Every chunk.
    All,
    /// A deterministic share, 0 < fraction ≤ 1 (`N%`).
    Share(f64),
    /// Group `n` of `t` (1-based): over `t` runs with n = 1…t every chunk is read.
    Group { n: u32, t: u32 },
}

impl Reading {
    /// Parses restic's `--read-data-subset` forms: `N%` or `n/t`.
    pub fn parse_subset(s: &str) -> Result<Reading> {
        let bad = || {
            Error::Invalid(format!(
                "--read-data-subset {s:?}: expected a percentage (\"10%\") or a group (\"2/5\")"
            ))
        };
        if let Some(p) = s.strip_suffix('%') {
            let p: f64 = p.trim().parse().map_err(|_| bad())?;
            if !(p > 0.0 && p <= 100.0) {
                return Err(bad());
            }
            return Ok(Reading::Share(p / 100.0));
        }
        let (n, t) = s.split_once('/').ok_or_else(bad)?;
        let (n, t): (u32, u32) = (
            n.trim().parse().map_err(|_| bad())?,
            t.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || t == 0 || n > t {
            return Err(bad());
        }
        Ok(Reading::Group { n, t })
    }

    /// Whether chunk `index` of backup `id` is read.
    pub fn reads(&self, id: &str, index: u32) -> bool {
        let h = format::sha256(format!("{id}/{index}").as_bytes());
        let x = u64::from_str_radix(&h[..16], 16).unwrap_or(0);
        match *self {
            Reading::All => true,
            Reading::Share(f) => (x as f64) < f * (u64::MAX as f64),
            Reading::Group { n, t } => x % u64::from(t) == u64::from(n - 1),
        }
    }
}

/// Result of `verify`.
#[derive(Clone, Debug, Serialize)]
pub struct Verified {
    pub id: String,
    pub chunks: usize,
    /// Chunks downloaded (the rest, with a subset, were checked by listing).
    pub read: usize,
    pub ok: bool,
    pub problems: Vec<String>,
    pub read_data: bool,
    /// The identity given is not one the backup was sealed to: its data could not be
    /// checked (and it is not damaged for that).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wrong_key: bool,
}

/// Checks backup `id`'s chunks as `reading` says; with `identities`, the chunks read
/// are also decrypted, decompressed and checked against their plaintext digests.
pub async fn verify(
    t: &Target,
    id: &str,
    identities: Option<&[age::x25519::Identity]>,
    reading: Reading,
) -> Result<Verified> {
    let m = manifest(t, id)
        .await?
        .ok_or_else(|| Error::NotFound(id.into()))?;
    let mut problems = Vec::new();
    let mut opener = Opener::default();
    let mut buf = Vec::new();
    // Sizes of what is stored, for the chunks a subset does not read.
    let sizes: HashMap<String, u64> = if reading == Reading::All {
        HashMap::new()
    } else {
        t.list_under(id).await?.into_iter().collect()
    };
    let mut read = 0;
    let mut wrong_key = false;
    for c in &m.chunks {
        let name = format::chunk_name(id, c.index);
        if !reading.reads(id, c.index) {
            match sizes.get(&name) {
                None => problems.push(format!("{name} is missing")),
                Some(&n) if n != c.cipher_len => problems.push(format!(
                    "{name} is {n} bytes, the manifest lists {}",
                    c.cipher_len
                )),
                Some(_) => {}
            }
            continue;
        }
        read += 1;
        let max = c.cipher_len.min(format::MAX_STORED_CHUNK);
        match t.get_exact(&name, std::mem::take(&mut buf), max).await? {
            None => problems.push(format!("{name} is missing")),
            Some(b) if format::sha256(&b) != c.cipher_sha256 || b.len() as u64 != c.cipher_len => {
                problems.push(format!("{name} does not match its hash"))
            }
            Some(b) => {
                if let Some(ids) = identities {
                    match opener.open(&b, ids, c.plain_len) {
                        Ok(plain) if !c.plain_digest.matches(&plain) => {
                            problems.push(format!("{name} decrypts to other data"))
                        }
                        Ok(plain) if c.index == 0 && !plain.starts_with(format::SEND_MAGIC) => {
                            problems.push(format!("{name} is not a btrfs send stream"))
                        }
                        Ok(_) => {}
                        Err(Error::WrongKey(_)) => {
                            // Every chunk is sealed to the same recipients.
                            wrong_key = true;
                            problems.push(
                                "sealed to other recipients than the given identity: its data was not checked"
                                    .into(),
                            );
                            break;
                        }
                        Err(e) => problems.push(format!("{name}: {e}")),
                    }
                }
                buf = b;
            }
        }
    }
    Ok(Verified {
        id: id.into(),
        chunks: m.chunks.len(),
        read,
        ok: problems.is_empty(),
        problems,
        read_data: identities.is_some(),
        wrong_key,
    })
}

/// Result of verifying what restoring one backup needs: its whole chain.
#[derive(Clone, Debug, Serialize)]
pub struct ChainVerified {
    pub id: String,
    /// Every backup of the chain was verified and is intact: a restore would succeed.
    pub restorable: bool,
    /// Each backup of the chain, parents first.
    pub links: Vec<Verified>,
    /// Why the chain cannot be restored (a missing parent, a damaged link).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Verifies `id` and every backup before it in its chain, parents first ([`verify`]
/// on each): `verify` says ok only when a restore of `id` would find every object
/// it needs intact. `cache` holds results already computed (for `verify --all`).
pub async fn verify_chain(
    t: &Target,
    id: &str,
    identities: Option<&[age::x25519::Identity]>,
    reading: Reading,
    cache: &mut HashMap<String, Verified>,
) -> Result<ChainVerified> {
    let manifests = match chain(t, id).await {
        Ok(m) => m,
        Err(Error::Damaged { reason, .. }) => {
            return Ok(ChainVerified {
                id: id.into(),
                restorable: false,
                links: Vec::new(),
                reason: Some(format!("{id} cannot be restored: {reason}")),
            })
        }
        Err(e) => return Err(e),
    };
    let mut links = Vec::new();
    for m in &manifests {
        let v = match cache.get(&m.id) {
            Some(v) => v.clone(),
            None => {
                let v = verify(t, &m.id, identities, reading).await?;
                cache.insert(m.id.clone(), v.clone());
                v
            }
        };
        links.push(v);
    }
    if links.iter().any(|v| v.wrong_key) {
        return Ok(ChainVerified {
            id: id.into(),
            restorable: false,
            reason: Some(format!(
                "{id} cannot be restored with this identity: the chain is sealed to other recipients"
            )),
            links,
        });
    }
    let damaged: Vec<&str> = links
        .iter()
        .filter(|v| !v.ok)
        .map(|v| v.id.as_str())
        .collect();
    let reason = match damaged.as_slice() {
        [] => None,
        [one] if *one == id => Some(format!("{id} is damaged: it cannot be restored")),
        some => Some(format!(
            "{id} cannot be restored: its chain needs {}, which {} damaged",
            some.join(", "),
            if some.len() == 1 { "is" } else { "are" }
        )),
    };
    Ok(ChainVerified {
        id: id.into(),
        restorable: reason.is_none(),
        links,
        reason,
    })
}

/// For each complete backup of `listed` whose chain is known to be broken, why: a
/// parent that is not there complete, or a backup of its chain that `damaged` (the
/// last verify's findings: id → when/what) names. Backups not in the map are fine as
/// far as is known.
pub fn broken_chains(
    listed: &[Listed],
    damaged: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let complete: HashMap<&str, &Listed> = listed
        .iter()
        .filter(|l| l.complete)
        .map(|l| (l.id.as_str(), l))
        .collect();
    let mut out = BTreeMap::new();
    for l in complete.values() {
        let mut cur = Some(*l);
        let mut steps = 0;
        while let Some(c) = cur {
            if let Some(why) = damaged.get(&c.id) {
                let what = if c.id == l.id {
                    format!("damaged ({why})")
                } else {
                    format!("its chain needs {}, damaged ({why})", c.id)
                };
                out.insert(l.id.clone(), what);
                break;
            }
            steps += 1;
            cur = match &c.parent {
                None => None,
                Some(_) if steps > 10_000 => None,
                Some(p) => match complete.get(p.as_str()) {
                    Some(next) => Some(*next),
                    None => {
                        out.insert(
                            l.id.clone(),
                            format!("its chain needs {p}, which is missing or incomplete"),
                        );
                        None
                    }
                },
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: &str, parent: Option<&str>, complete: bool) -> Listed {
        Listed {
            id: id.into(),
            complete,
            lineage: None,
            uuid: None,
            parent: parent.map(str::to_string),
            created: None,
            created_ms: 0,
            objects: 1,
            stored_bytes: 1,
            plain_bytes: None,
        }
    }

    #[test]
    fn subsets_parse_and_sample_deterministically() {
        assert_eq!(Reading::parse_subset("10%").unwrap(), Reading::Share(0.1));
        assert_eq!(
            Reading::parse_subset("2/5").unwrap(),
            Reading::Group { n: 2, t: 5 }
        );
        for bad in ["0%", "101%", "x%", "0/5", "6/5", "1/0", "5", ""] {
            assert!(Reading::parse_subset(bad).is_err(), "{bad}");
        }
        let share = Reading::Share(0.25);
        let picked = (0..4000).filter(|&i| share.reads("b", i)).count();
        assert!((800..1200).contains(&picked), "about a quarter: {picked}");
        let again = (0..4000).filter(|&i| share.reads("b", i)).count();
        assert_eq!(picked, again, "the same sample each time");
        // The groups of n/t cover every chunk exactly once.
        for i in 0..500 {
            let groups = (1..=3)
                .filter(|&n| Reading::Group { n, t: 3 }.reads("b", i))
                .count();
            assert_eq!(groups, 1);
        }
    }

    #[test]
    fn broken_chains_name_the_missing_or_damaged_link() {
        let l = vec![
            listed("f", None, true),
            listed("i1", Some("f"), true),
            listed("i2", Some("i1"), true),
            listed("g", None, true),
            listed("j1", Some("gone"), true),
            listed("k", Some("half"), true),
            listed("half", None, false),
        ];
        let mut damaged = BTreeMap::new();
        damaged.insert("i1".to_string(), "at the last verify".to_string());
        let b = broken_chains(&l, &damaged);
        assert_eq!(b["i1"], "damaged (at the last verify)");
        assert_eq!(b["i2"], "its chain needs i1, damaged (at the last verify)");
        assert!(b["j1"].contains("needs gone, which is missing"));
        assert!(b["k"].contains("needs half"));
        assert!(!b.contains_key("f") && !b.contains_key("g"));
        assert!(
            !b.contains_key("half"),
            "incomplete backups are listed as such"
        );
    }
}
