//! Retention with btrbk's grammar, made safe for incremental chains.
//!
//! `preserve_min`: `all` | `no` | `latest` | `Nh`/`Nd`/`Nw`/`Nm`/`Ny` (keep everything
//! newer than that). `preserve`: e.g. `"24h 7d 4w 12m 2y"` — keep the newest backup
//! of each of the last 24 hours, 7 days, 4 weeks, 12 months, 2 years (`*` = all).
//! Whatever the policy decides, every ancestor of a kept backup is kept too (an
//! incremental is useless without its chain), and the reason is reported.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::{Error, Result};

/// What retention needs to know of a backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    /// Seconds since the epoch (buckets, preserve_min ages).
    pub created: u64,
    /// Finer order among backups (milliseconds); newest = largest.
    pub order: u64,
    pub parent: Option<String>,
}

/// A parsed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub min: MinKeep,
    /// (unit seconds, count); count u32::MAX = all.
    pub buckets: Vec<(u64, u32)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MinKeep {
    All,
    No,
    Latest,
    Newer(u64),
}

const H: u64 = 3600;
const D: u64 = 24 * H;

fn unit(c: char) -> Option<u64> {
    Some(match c {
        'h' => H,
        'd' => D,
        'w' => 7 * D,
        'm' => 30 * D,
        'y' => 365 * D,
        _ => return None,
    })
}

impl Policy {
    pub fn parse(preserve_min: &str, preserve: &str) -> Result<Policy> {
        let bad = |w: &str| {
            Error::Invalid(format!("bad retention {w:?}: use e.g. preserve_min \"latest\" or \"2d\", preserve \"24h 7d 4w 12m 2y\""))
        };
        let min = match preserve_min.trim() {
            "all" => MinKeep::All,
            "no" | "" => MinKeep::No,
            "latest" => MinKeep::Latest,
            w => {
                let (n, u) = w.split_at(w.len() - 1);
                MinKeep::Newer(
                    n.parse::<u64>().map_err(|_| bad(w))?
                        * unit(u.chars().next().unwrap()).ok_or_else(|| bad(w))?,
                )
            }
        };
        let mut buckets = Vec::new();
        for w in preserve.split_whitespace() {
            let (n, u) = w.split_at(w.len() - 1);
            let count = if n == "*" {
                u32::MAX
            } else {
                n.parse().map_err(|_| bad(w))?
            };
            buckets.push((
                unit(u.chars().next().unwrap()).ok_or_else(|| bad(w))?,
                count,
            ));
        }
        Ok(Policy { min, buckets })
    }
}

/// The decision for one backup.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Decision {
    pub id: String,
    pub keep: bool,
    pub reason: String,
}

/// Decides which of `items` to keep at time `now`.
pub fn plan(items: &[Item], policy: &Policy, now: u64) -> Vec<Decision> {
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by(|a, b| b.order.cmp(&a.order).then(b.id.cmp(&a.id))); // newest first
    let mut reason: BTreeMap<&str, String> = BTreeMap::new();
    for (i, it) in sorted.iter().enumerate() {
        let r = match policy.min {
            MinKeep::All => Some("preserve_min all".to_string()),
            MinKeep::Latest if i == 0 => Some("preserve_min latest".to_string()),
            MinKeep::Newer(s) if now.saturating_sub(it.created) <= s => {
                Some(format!("preserve_min: newer than {}h", s / H))
            }
            _ => None,
        };
        if let Some(r) = r {
            reason.insert(&it.id, r);
        }
    }
    for &(unit_s, count) in &policy.buckets {
        let mut seen = HashSet::new();
        for it in &sorted {
            let bucket = it.created / unit_s;
            let age = now / unit_s - bucket.min(now / unit_s);
            if age < count as u64 && seen.insert(bucket) {
                reason
                    .entry(&it.id)
                    .or_insert_with(|| format!("newest in its {}", name(unit_s)));
            }
        }
    }
    // Chains: a kept backup keeps its ancestors.
    let by_id: BTreeMap<&str, &Item> = items.iter().map(|i| (i.id.as_str(), i)).collect();
    let kept: Vec<String> = reason.keys().map(|s| s.to_string()).collect();
    for k in kept {
        let mut cur = by_id.get(k.as_str()).and_then(|i| i.parent.clone());
        while let Some(p) = cur {
            let Some(item) = by_id.get(p.as_str()) else {
                break;
            };
            reason
                .entry(item.id.as_str())
                .or_insert_with(|| format!("parent of kept {k}"));
            cur = item.parent.clone();
        }
    }
    sorted
        .iter()
        .map(|it| match reason.get(it.id.as_str()) {
            Some(r) => Decision {
                id: it.id.clone(),
                keep: true,
                reason: r.clone(),
            },
            None => Decision {
                id: it.id.clone(),
                keep: false,
                reason: "not preserved by the policy".into(),
            },
        })
        .collect()
}

fn name(unit_s: u64) -> &'static str {
    match unit_s {
        H => "hour",
        D => "day",
        x if x == 7 * D => "week",
        x if x == 30 * D => "month",
        _ => "year",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_btrbk_grammar() {
        let p = Policy::parse("2d", "24h 7d 4w 12m 2y *y").unwrap();
        assert_eq!(p.min, MinKeep::Newer(2 * D));
        assert_eq!(p.buckets[0], (H, 24));
        assert_eq!(p.buckets[5].1, u32::MAX);
        assert!(Policy::parse("2x", "").is_err());
        assert!(Policy::parse("latest", "7q").is_err());
    }

    /// Property: over random histories and policies, no kept backup loses an ancestor,
    /// and the newest is kept whenever preserve_min is latest.
    #[test]
    fn kept_backups_never_lose_an_ancestor() {
        let mut seed = 12345u64;
        let mut rnd = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            (seed >> 33) % n.max(1)
        };
        let policies = [
            ("no", "1d"),
            ("latest", ""),
            ("1d", "3d 2w"),
            ("no", "24h 7d 4w 12m 2y"),
            ("all", ""),
            ("no", ""),
        ];
        for trial in 0..500 {
            let now = 400 * D;
            let n = 1 + rnd(40) as usize;
            let mut items: Vec<Item> = Vec::new();
            let mut t = now - 300 * D;
            for i in 0..n {
                t += rnd(3 * D) + 1;
                let parent = if i > 0 && rnd(4) != 0 {
                    Some(items[rnd(i as u64) as usize].id.clone())
                } else {
                    None
                };
                items.push(Item {
                    id: format!("b{i:03}"),
                    created: t.min(now),
                    order: t.min(now) * 1000 + i as u64,
                    parent,
                });
            }
            let (m, p) = policies[trial % policies.len()];
            let d = plan(&items, &Policy::parse(m, p).unwrap(), now);
            let keep: HashSet<&str> = d.iter().filter(|x| x.keep).map(|x| x.id.as_str()).collect();
            for it in &items {
                if keep.contains(it.id.as_str()) {
                    if let Some(p) = &it.parent {
                        assert!(
                            keep.contains(p.as_str()),
                            "kept {} lost parent {p} ({m} / {p})",
                            it.id
                        );
                    }
                }
            }
            if m == "latest" {
                let newest = items
                    .iter()
                    .max_by_key(|i| (i.created, i.id.clone()))
                    .unwrap();
                assert!(keep.contains(newest.id.as_str()));
            }
            if m == "all" {
                assert_eq!(keep.len(), items.len());
            }
        }
    }
}
