//! Split-package families: the packages one PKGBUILD builds (`%BASE%` in pacman's
//! databases: qemu → qemu-full, qemu-desktop, qemu-img, qemu-system-arm, … 69 in all)
//! and the member that stands for the family — its *head*.
//!
//! A search for what a family does ("emulate a computer") otherwise fills the top 10
//! with its parts (eight `qemu-system-*` emulators ahead of `qemu-desktop`), and a
//! search whose best match is a part ("do maths with huge numbers" → `maxima-sbcl`, a
//! Lisp backend) shows the part instead of the program people install. So, ranking
//! ([`Families::diversify`]): where a family first appears in a result list, its head
//! takes that place if retrieval found the head too, and the family's other members
//! rank at [`SIBLING_WEIGHT`] of their score — unless the query names that member by a
//! word its name has and the head's lacks ("emulate an arm board"), when it keeps its
//! place with the head just below. Exact name matches (score ≥ 1) are never moved.
//!
//! The head, from the database alone: a member named after the base or providing the
//! base's name (`maxima`; `qemu-full` provides `qemu`), and among several, the one that
//! depends on the most of its siblings (the umbrella: `qemu-full` depends on 63, which
//! is also how `avidemux-qt`, depending on `avidemux-cli`, heads a base no member is
//! named after). A family where neither rule names anyone has no head: its members are
//! only spread out. Families are per repository, so a base reused across repositories
//! does not join unrelated packages.
//!
//! File `families.json` beside the index (member id → family, family → head id),
//! rewritten atomically on every build; an index without it ranks as before.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::pacdb::{bare_name, Package};
use crate::{Error, Result};

pub const FILE: &str = "families.json";

/// Score weight of a family's members after its first (and its head).
pub const SIBLING_WEIGHT: f32 = 0.5;

/// Families of two or more packages, by index id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Families {
    /// Member id → family number.
    member: HashMap<String, usize>,
    /// Family number → head id (None: no member stands for the others).
    head: Vec<Option<String>>,
}

impl Families {
    /// Groups `(id, package)` pairs by repository and base, keeping families of two
    /// or more, and picks each one's head.
    pub fn of<'a>(packages: impl IntoIterator<Item = (&'a str, &'a Package)>) -> Families {
        let mut groups: HashMap<(&str, &str), Vec<(&str, &Package)>> = HashMap::new();
        for (id, p) in packages {
            groups.entry((&p.repo, p.base())).or_default().push((id, p));
        }
        let mut groups: Vec<_> = groups.into_iter().filter(|(_, m)| m.len() > 1).collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0)); // the same file for the same databases
        let mut f = Families::default();
        for ((_, base), members) in groups {
            let n = f.head.len();
            f.head.push(head(base, &members).map(str::to_string));
            for (id, _) in members {
                f.member.insert(id.to_string(), n);
            }
        }
        f
    }

    /// The head of `id`'s family, if `id` is in one that has a head.
    pub fn head_of(&self, id: &str) -> Option<&str> {
        self.member.get(id).and_then(|&n| self.head[n].as_deref())
    }

    /// Re-ranks `fused` (best first) for `query`: where a family first appears, its
    /// head — if retrieval found it too (it is somewhere in `fused`) — takes that
    /// place and the member that brought it ranks as a sibling; siblings rank at
    /// [`SIBLING_WEIGHT`]. A member the query names by what sets it apart from the
    /// head ("kernel **headers**" → `linux-headers`, "emulate an **arm** board" →
    /// `qemu-system-arm`, "kernel documentation" → `linux-docs`, [`crate::rank`]'s
    /// part words) keeps its place with the head just below it. Exact matches
    /// (score ≥ 1) and packages in no family keep their scores. Best first again.
    pub fn diversify(&self, query: &str, fused: Vec<(String, f32)>) -> Vec<(String, f32)> {
        if self.member.is_empty() {
            return fused;
        }
        let words = query_words(query);
        let retrieved: HashSet<&str> = fused.iter().map(|(id, _)| id.as_str()).collect();
        let mut seen = vec![false; self.head.len()];
        let mut out: Vec<(String, f32)> = Vec::with_capacity(fused.len());
        let mut brought: HashSet<String> = HashSet::new();
        for (id, score) in &fused {
            let Some(&n) = self.member.get(id) else {
                out.push((id.clone(), *score));
                continue;
            };
            if brought.contains(id) {
                continue; // a head already placed
            }
            if *score >= 1.0 {
                seen[n] = true;
                out.push((id.clone(), *score));
                continue;
            }
            if seen[n] {
                out.push((id.clone(), score * SIBLING_WEIGHT));
                continue;
            }
            seen[n] = true;
            match self.head[n].as_deref() {
                Some(h) if h != id && retrieved.contains(h) => {
                    brought.insert(h.to_string());
                    let member = name_of(id);
                    if names_part(&words, member, name_of(h))
                        || crate::rank::asks_for_part(member, query)
                    {
                        out.push((id.clone(), *score));
                        out.push((h.to_string(), score * (1.0 - 1e-4)));
                    } else {
                        out.push((h.to_string(), *score));
                        out.push((id.clone(), score * SIBLING_WEIGHT));
                    }
                }
                _ => out.push((id.clone(), *score)),
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec(self).map_err(|e| Error::Index(e.to_string()))?;
        crate::atomic::atomic_write(&dir.join(FILE), &bytes)
    }

    /// The families beside the index; none when the file is missing (an index built
    /// before it) or unreadable — ranking then keeps fusion's order.
    pub fn load(dir: &Path) -> Families {
        match std::fs::read(dir.join(FILE)) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; families not used", dir.join(FILE).display());
                Families::default()
            }),
            Err(_) => Families::default(),
        }
    }
}

/// The package name of an index id (`pkg:REPO/NAME`).
fn name_of(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// A query's words, lowercase, a plural `s` dropped.
fn query_words(query: &str) -> HashSet<String> {
    query
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| singular(w).to_string())
        .collect()
}

fn singular(w: &str) -> &str {
    match w.strip_suffix('s') {
        Some(s) if s.len() >= 2 => s,
        _ => w,
    }
}

/// Whether the query says a word of `member`'s name that `head`'s name lacks.
fn names_part(words: &HashSet<String>, member: &str, head: &str) -> bool {
    let head: HashSet<&str> = head.split(['-', '_']).collect();
    member
        .split(['-', '_'])
        .filter(|w| w.len() >= 2 && !head.contains(w))
        .any(|w| words.contains(singular(&w.to_lowercase())))
}

/// The member that stands for a family (module doc).
fn head<'a>(base: &str, members: &[(&'a str, &Package)]) -> Option<&'a str> {
    let names: HashSet<&str> = members.iter().map(|(_, p)| p.name.as_str()).collect();
    let siblings = |p: &Package| {
        p.depends
            .iter()
            .map(|d| bare_name(d))
            .filter(|d| *d != p.name && names.contains(d))
            .count()
    };
    let named = |p: &Package| p.name == base || p.provides.iter().any(|x| bare_name(x) == base);
    let pool: Vec<&(&str, &Package)> = if members.iter().any(|(_, p)| named(p)) {
        members.iter().filter(|(_, p)| named(p)).collect()
    } else {
        members.iter().filter(|(_, p)| siblings(p) > 0).collect()
    };
    pool.into_iter()
        .max_by(|a, b| {
            siblings(a.1)
                .cmp(&siblings(b.1))
                // then the shorter, then the alphabetically first name
                .then_with(|| b.1.name.len().cmp(&a.1.name.len()))
                .then_with(|| b.1.name.cmp(&a.1.name))
        })
        .map(|(id, _)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, base: &str, depends: &[&str], provides: &[&str]) -> Package {
        Package {
            name: name.into(),
            base: base.into(),
            repo: "extra".into(),
            depends: depends.iter().map(|s| s.to_string()).collect(),
            provides: provides.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn families(pkgs: &[Package]) -> Families {
        let ids: Vec<String> = pkgs
            .iter()
            .map(|p| format!("pkg:extra/{}", p.name))
            .collect();
        Families::of(ids.iter().map(String::as_str).zip(pkgs))
    }

    #[test]
    fn the_head_is_named_after_the_base_or_provides_it_then_pulls_in_most_siblings() {
        let f = families(&[
            pkg("maxima", "maxima", &["maxima-backend"], &[]),
            pkg("maxima-sbcl", "maxima", &["sbcl"], &["maxima-backend"]),
            pkg("qemu-img", "qemu", &["glib2"], &[]),
            pkg("qemu-system-arm", "qemu", &[], &[]),
            pkg("qemu-base", "qemu", &["qemu-img=7.1"], &["qemu=7.1"]),
            pkg(
                "qemu-full",
                "qemu",
                &["qemu-img=7.1", "qemu-system-arm=7.1"],
                &["qemu=7.1"],
            ),
            pkg("avidemux-cli", "avidemux", &["libxml2"], &[]),
            pkg("avidemux-qt", "avidemux", &["avidemux-cli=2.8"], &[]),
            pkg("foo-a", "foo", &[], &[]),
            pkg("foo-b", "foo", &[], &[]),
            pkg("alone", "alone", &[], &[]),
        ]);
        assert_eq!(f.head_of("pkg:extra/maxima-sbcl"), Some("pkg:extra/maxima"));
        assert_eq!(f.head_of("pkg:extra/qemu-img"), Some("pkg:extra/qemu-full"));
        assert_eq!(
            f.head_of("pkg:extra/avidemux-cli"),
            Some("pkg:extra/avidemux-qt")
        );
        assert_eq!(f.head_of("pkg:extra/foo-a"), None, "nobody stands for foo");
        assert_eq!(f.head_of("pkg:extra/alone"), None, "a family of one");
    }

    #[test]
    fn families_are_per_repository() {
        let mut other = pkg("maxima-sbcl", "maxima", &[], &[]);
        other.repo = "community".into();
        let pkgs = [pkg("maxima", "maxima", &[], &[]), other];
        let ids = ["pkg:extra/maxima", "pkg:community/maxima-sbcl"];
        let f = Families::of(ids.into_iter().zip(&pkgs));
        assert_eq!(f.head_of("pkg:community/maxima-sbcl"), None);
    }

    #[test]
    fn diversify_puts_the_head_first_and_spreads_the_parts() {
        let f = families(&[
            pkg(
                "qemu-full",
                "qemu",
                &["qemu-img", "qemu-system-arm"],
                &["qemu"],
            ),
            pkg("qemu-img", "qemu", &[], &[]),
            pkg("qemu-system-arm", "qemu", &[], &[]),
        ]);
        let s = |v: &[(&str, f32)]| -> Vec<(String, f32)> {
            v.iter()
                .map(|(i, x)| (format!("pkg:extra/{i}"), *x))
                .collect()
        };
        let names = |v: Vec<(String, f32)>| -> Vec<String> {
            v.into_iter()
                .map(|(i, _)| i.trim_start_matches("pkg:extra/").to_string())
                .collect()
        };
        let list = [
            ("qemu-system-arm", 0.030),
            ("qemu-img", 0.029),
            ("zsnes", 0.020),
            ("qemu-full", 0.010),
        ];
        assert_eq!(
            names(f.diversify("emulate a computer", s(&list))),
            ["qemu-full", "zsnes", "qemu-system-arm", "qemu-img"],
            "the head takes the family's first place, once; its parts go after zsnes"
        );
        assert_eq!(
            names(f.diversify("emulate ARM boards", s(&list))),
            ["qemu-system-arm", "qemu-full", "zsnes", "qemu-img"],
            "a part the query names keeps its place, the head just below"
        );
        // A head retrieval did not find is not brought in; the parts still spread.
        assert_eq!(
            names(f.diversify("emulate a computer", s(&list[..3]))),
            ["qemu-system-arm", "zsnes", "qemu-img"]
        );
        // An exact match stays first and its siblings are spread out after it.
        let out = f.diversify(
            "qemu-img",
            s(&[
                ("qemu-img", 1.0),
                ("qemu-system-arm", 0.03),
                ("zsnes", 0.02),
            ]),
        );
        assert_eq!(names(out), ["qemu-img", "zsnes", "qemu-system-arm"]);
        // Packages in no family are untouched.
        let out = f.diversify("x", s(&[("a", 0.03), ("b", 0.02)]));
        assert_eq!(names(out), ["a", "b"]);
    }
}
