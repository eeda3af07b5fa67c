//! A clause and an intent → the actions they stand for, or why not.
//!
//! Each kind takes the fields it needs from the clause ([`super::slots`], snapshot
//! references from [`super::refs`]) and says one of three things: the actions; a
//! question for the user (the intent fits, a field is missing or unclear); or that the
//! clause cannot be this kind at all (`remove` with nothing to remove, `delete` of a
//! package), so the planner tries the next likeliest intent. `run` is only ever
//! assembled from an explicit "run CMD inside snapshot N" ([`super::refs::is_run_request`]).

use super::files::{self, FileRef};
use super::lex::Token;
use super::refs::{Ref, Span};
use super::resolve::{How, Resolved};
use super::slots::{self, Slots};
use super::{safety, Planner};
use crate::action::{Action, NEW};

/// What assembling a clause as one kind gave.
#[derive(Debug)]
pub enum Outcome {
    Actions(Vec<Action>),
    Ask(String, Vec<String>),
    /// The clause cannot be this kind.
    Infeasible,
}

/// What earlier clauses of the plan left for later ones.
#[derive(Debug, Default)]
pub struct Ctx {
    /// The snapshot "it" refers to: [`NEW`] after a clause that made one, else the
    /// last snapshot named.
    pub it: Option<String>,
    pub notes: Vec<String>,
    pub confidence: f32,
}

/// One clause being assembled.
pub struct Clause<'a> {
    pub toks: &'a [Token],
    pub spans: Vec<Span>,
    pub slots: Slots<'a>,
}

fn ask(q: &str) -> Outcome {
    Outcome::Ask(q.to_string(), vec![])
}

/// The snapshot a clause acts on, and an action to make it first
/// ("install X in a new clone of 3").
enum Target {
    /// None: the current snapshot.
    One(Option<String>),
    /// Make a snapshot first (clone/branch of the id), then act on it.
    Made(Action),
    /// Several different snapshots named.
    Many,
}

impl Clause<'_> {
    fn ids(&self) -> Vec<&str> {
        self.spans
            .iter()
            .filter_map(|s| match &s.r {
                Ref::Id(i) => Some(i.as_str()),
                Ref::NewFrom { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }

    fn has_word(&self, w: &str) -> bool {
        self.toks.iter().any(|t| t.word == w)
    }

    /// Where a package/upgrade action goes.
    fn target(&self, ctx: &Ctx) -> Target {
        let mut out: Option<Target> = None;
        for s in &self.spans {
            let t = match &s.r {
                Ref::Id(i) => Target::One(Some(i.clone())),
                Ref::Current => Target::One(None),
                Ref::Pronoun => match &ctx.it {
                    Some(i) => Target::One(Some(i.clone())),
                    None => continue,
                },
                Ref::NewFrom { branch, id } => Target::Made(if *branch {
                    Action::Branch {
                        snapshot: Some(id.clone()),
                    }
                } else {
                    Action::Clone {
                        snapshot: Some(id.clone()),
                    }
                }),
            };
            out = match (out, t) {
                (None, t) => Some(t),
                (Some(Target::One(a)), Target::One(b)) if a == b => Some(Target::One(a)),
                _ => Some(Target::Many),
            };
        }
        out.unwrap_or(Target::One(None))
    }

    /// The one snapshot a tree action names: an id, "it", or the current one.
    fn one_snapshot(&self, ctx: &Ctx) -> Result<Option<String>, ()> {
        for s in &self.spans {
            match &s.r {
                Ref::Id(i) | Ref::NewFrom { id: i, .. } => return Ok(Some(i.clone())),
                Ref::Current => return Ok(None),
                Ref::Pronoun => {
                    if let Some(i) = &ctx.it {
                        return Ok(Some(i.clone()));
                    }
                }
            }
        }
        Err(())
    }
}

impl Planner<'_> {
    /// The actions `kind` stands for in clause `c`.
    pub(super) fn assemble(&self, kind: &str, c: &Clause, ctx: &mut Ctx) -> Outcome {
        let one = |f: fn(Option<String>) -> Action, q: &str| match c.one_snapshot(ctx) {
            Ok(s) => Outcome::Actions(vec![f(s)]),
            Err(()) => ask(q),
        };
        // "add vim to a new branch of 2" makes the branch as part of the install.
        let makes_place = c.spans.iter().any(|s| matches!(s.r, Ref::NewFrom { .. }));
        if makes_place
            && matches!(
                kind,
                "clone" | "clone_tree" | "branch" | "clone_branch" | "clone_under" | "new_tree"
            )
        {
            return Outcome::Infeasible;
        }
        match kind {
            "install" | "remove" => {
                let phrases = c.slots.package_phrases();
                if phrases.is_empty() {
                    if kind == "remove" && (c.has_word("everything") || c.has_word("all")) {
                        return ask("rast does not remove everything at once; which packages should I remove?");
                    }
                    return Outcome::Infeasible;
                }
                let packages = match self.packages(&phrases, ctx) {
                    Ok(p) => p,
                    Err(o) => return o,
                };
                let act = |s: Option<String>| {
                    if kind == "install" {
                        Action::Install {
                            packages: packages.clone(),
                            snapshot: s,
                        }
                    } else {
                        Action::Remove {
                            packages: packages.clone(),
                            snapshot: s,
                        }
                    }
                };
                on_target(c.target(ctx), act)
            }
            "info" => {
                let phrases = c.slots.package_phrases();
                if phrases.is_empty() {
                    return Outcome::Infeasible;
                }
                match self.packages(&phrases, ctx) {
                    Ok(packages) => Outcome::Actions(vec![Action::Info { packages }]),
                    Err(o) => o,
                }
            }
            "upgrade" => {
                let security_only = slots::security(c.toks);
                on_target(c.target(ctx), |snapshot| Action::Upgrade {
                    snapshot,
                    security_only,
                })
            }
            "search" | "config_search" => {
                let q = c.slots.query();
                if q.is_empty() {
                    return ask(if kind == "search" {
                        "What should I search for?"
                    } else {
                        "Which setting are you looking for?"
                    });
                }
                Outcome::Actions(vec![if kind == "search" {
                    Action::Search { query: q }
                } else {
                    Action::ConfigSearch { query: q }
                }])
            }
            "list_installed" => {
                let q = c.slots.query();
                let query = q
                    .split(' ')
                    .find(|w| !w.is_empty() && !matches!(*w, "installed" | "stuff"))
                    .map(str::to_string);
                on_target(c.target(ctx), |snapshot| Action::ListInstalled {
                    query: query.clone(),
                    snapshot,
                })
            }
            "clean_unused" => on_target(c.target(ctx), |snapshot| Action::CleanUnused { snapshot }),
            "fix_keys" => on_target(c.target(ctx), |snapshot| Action::FixKeys { snapshot }),
            "refresh" => on_target(c.target(ctx), |snapshot| Action::Refresh { snapshot }),
            "tree" => Outcome::Actions(vec![Action::Tree]),
            "current" => Outcome::Actions(vec![Action::Current]),
            "new_tree" => Outcome::Actions(vec![Action::NewTree]),
            "rollback" => Outcome::Actions(vec![Action::Rollback]),
            "etc_update" => Outcome::Actions(vec![Action::EtcUpdate]),
            "clone" => one(|snapshot| Action::Clone { snapshot }, "Which snapshot should I clone? (see `rast tree`)"),
            "clone_tree" => one(
                |snapshot| Action::CloneTree { snapshot },
                "Which snapshot's tree should I clone? (see `rast tree`)",
            ),
            "branch" => one(
                |snapshot| Action::Branch { snapshot },
                "Which snapshot should the new branch start from? (see `rast tree`)",
            ),
            "clone_branch" => one(
                |snapshot| Action::CloneBranch { snapshot },
                "Which snapshot should I clone as a sibling? (see `rast tree`)",
            ),
            "sync" => one(|snapshot| Action::Sync { snapshot }, "Which snapshot's tree should I sync?"),
            "deploy" => one(|snapshot| Action::Deploy { snapshot }, "Which snapshot should I deploy? (see `rast tree`)"),
            "delete" => {
                // A package named as the object means `remove`, not `delete`.
                let phrases = c.slots.strong_package_phrases();
                if phrases
                    .iter()
                    .any(|p| matches!(self.resolver.resolve(p), Resolved::Found(_)))
                {
                    return Outcome::Infeasible;
                }
                if c.ids().len() > 1 {
                    return ask("Which one snapshot should I delete? (one at a time, e.g. \"delete snapshot 3\")");
                }
                match c.one_snapshot(ctx) {
                    Ok(Some(id)) => Outcome::Actions(vec![Action::Delete { snapshot: id }]),
                    Ok(None) => ask("rast never deletes the current snapshot; which one should I delete?"),
                    Err(()) if c.ids().is_empty() && !phrases.is_empty() => Outcome::Infeasible,
                    Err(()) => ask("Which snapshot should I delete? (see `rast tree`)"),
                }
            }
            "clone_under" => {
                let ids = c.ids();
                if ids.len() < 2 {
                    return ask("Which snapshot should I clone, and under which parent? (e.g. \"clone 3 under 1\")");
                }
                // The parent is the one after "under"/"below"/"into"/"child of".
                let parent_at = c.spans.iter().position(|s| {
                    s.prep.is_some_and(|p| {
                        matches!(
                            c.toks[p].word.as_str(),
                            "under" | "below" | "beneath" | "into"
                        ) || c.toks[p].word == "of"
                            && p > 0
                            && matches!(c.toks[p - 1].word.as_str(), "child" | "kid")
                    })
                });
                let (src, parent) = match parent_at {
                    Some(0) => (ids[1], ids[0]),
                    _ => (ids[0], ids[1]),
                };
                Outcome::Actions(vec![Action::CloneUnder {
                    snapshot: Some(src.to_string()),
                    parent: parent.to_string(),
                }])
            }
            "describe" => {
                let snap = c.one_snapshot(ctx);
                match (snap, c.slots.text()) {
                    (Ok(snapshot), Some(text)) => Outcome::Actions(vec![Action::Describe { snapshot, text }]),
                    _ => ask("Which snapshot, and what should its description say? (e.g. \"label snapshot 2 as gaming setup\")"),
                }
            }
            "run" => {
                if !super::refs::is_run_request(c.toks, &c.spans) {
                    return Outcome::Infeasible;
                }
                let argv = c.slots.command();
                if argv.is_empty() {
                    return ask("Which command should I run, and in which snapshot?");
                }
                if let Some(why) = safety::unsafe_argv(&argv) {
                    return Outcome::Ask(why, vec![]);
                }
                match c.one_snapshot(ctx) {
                    Ok(Some(s)) => Outcome::Actions(vec![Action::Run {
                        snapshot: Some(s),
                        command: argv,
                    }]),
                    _ => ask("In which snapshot should I run it? (e.g. \"run pacman -Qdt inside snapshot 3\")"),
                }
            }
            "diff" => {
                let ids = c.ids();
                if ids.len() >= 2 {
                    return Outcome::Actions(vec![Action::Diff {
                        snapshots: vec![ids[0].to_string(), ids[1].to_string()],
                    }]);
                }
                if c.has_word("etc") || c.has_word("/etc") {
                    return Outcome::Infeasible;
                }
                ask("Which two snapshots should I compare? (e.g. \"diff snapshot 2 and 5\")")
            }
            "backup_create" | "backup_restore" => {
                let target = backup_target(c.toks);
                let snapshot = match c.target(ctx) {
                    Target::One(s) => s,
                    Target::Made(_) | Target::Many => {
                        return ask("Which one snapshot should I back up or restore?")
                    }
                };
                Outcome::Actions(vec![if kind == "backup_create" {
                    Action::BackupCreate { snapshot, target }
                } else {
                    Action::BackupRestore { snapshot, target }
                }])
            }
            "backup_list" => Outcome::Actions(vec![Action::BackupList {
                target: backup_target(c.toks),
            }]),
            "backup_verify" => Outcome::Actions(vec![Action::BackupVerify {
                target: backup_target(c.toks),
            }]),
            "backup_prune" => Outcome::Actions(vec![Action::BackupPrune {
                target: backup_target(c.toks),
            }]),
            "config_log" | "config_diff" | "config_restore" => {
                let file = match self.config_file(c) {
                    Ok(f) => f,
                    // A setting rather than a file ("when did I change the ssh
                    // port"): another intent (config search) fits better.
                    Err(None) => return Outcome::Infeasible,
                    Err(Some(o)) => return o,
                };
                match kind {
                    "config_log" => Outcome::Actions(vec![Action::ConfigLog { file }]),
                    "config_diff" => {
                        let ids = c.ids();
                        let snapshots = match ids.as_slice() {
                            [] => {
                                return ask(&format!(
                                    "Which snapshot should I compare {file} in? (e.g. \"{file} in snapshot 3\")"
                                ))
                            }
                            [one] => vec![one.to_string(), "live".to_string()],
                            [a, b, ..] => vec![a.to_string(), b.to_string()],
                        };
                        Outcome::Actions(vec![Action::ConfigDiff { file, snapshots }])
                    }
                    _ => restore_action(c, file),
                }
            }
            _ => ask("I don't know how to do that. I can install/remove/upgrade packages, search, manage snapshots (clone, deploy, rollback, …) and backups — see `rast --help`."),
        }
    }

    /// The /etc file the clause names ([`files::resolve`]): `Err(None)` when it names
    /// none at all, `Err(Some(question))` when it is unclear which.
    fn config_file(&self, c: &Clause) -> Result<String, Option<Outcome>> {
        let raw: Vec<String> = c.toks.iter().map(|t| t.raw.to_lowercase()).collect();
        let content: Vec<String> = c
            .slots
            .query()
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        match files::resolve(
            &raw,
            &content,
            &self.resolver.catalog.config_files,
            self.resolver.semantic,
        ) {
            FileRef::Found(f) => Ok(f),
            FileRef::Ambiguous(cands) => Err(Some(Outcome::Ask(
                format!("Which file do you mean: {}?", cands.join(", ")),
                cands,
            ))),
            FileRef::Unknown => Err(None),
        }
    }

    /// Package names for phrases ("gimp and inkscape", "the chromium browser").
    fn packages(&self, phrases: &[String], ctx: &mut Ctx) -> Result<Vec<String>, Outcome> {
        let mut out: Vec<String> = Vec::new();
        for seg in phrases {
            match self.resolver.resolve(seg) {
                Resolved::Found(v) => {
                    for (n, how) in v {
                        match how {
                            How::Exact => {}
                            How::Provides | How::Alias => {
                                ctx.notes.push(format!("{seg:?} → {n}"));
                                ctx.confidence = ctx.confidence.min(0.85);
                            }
                            How::Fuzzy => {
                                ctx.notes.push(format!("{seg:?} read as {n}"));
                                ctx.confidence = ctx.confidence.min(0.7);
                            }
                            How::Semantic => {
                                ctx.notes.push(format!("{seg:?} → {n} (by meaning)"));
                                ctx.confidence = ctx.confidence.min(0.6);
                            }
                        }
                        if !out.contains(&n) {
                            out.push(n);
                        }
                    }
                }
                Resolved::Ambiguous(c) => {
                    return Err(Outcome::Ask(
                        format!(
                            "Which package do you mean by {seg:?}? Did you mean: {}?",
                            c.join(", ")
                        ),
                        c,
                    ))
                }
                Resolved::Missing(words) => {
                    return Err(ask(&format!(
                        "I found no package called {}; try `rast -Ss {}`.",
                        words
                            .iter()
                            .map(|w| format!("{w:?}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        words[0]
                    )))
                }
                Resolved::NotFound => {
                    if super::resolve::GENERIC.iter().any(|g| g == seg) {
                        continue;
                    }
                    return Err(ask(&format!(
                        "I found no package called {seg:?}; try `rast -Ss {seg}`."
                    )));
                }
            }
        }
        if out.is_empty() {
            return Err(ask("Which package?"));
        }
        Ok(out)
    }
}

/// "put back my old fstab from snapshot 2 (into 5)": the snapshot after "from" / "of"
/// / "in" is where the version comes from, the one after "into" / "to" / "onto" the
/// one it goes to (default: the current one); unmarked, the first named is the source,
/// and a lone snapshot is always the source ("revert pacman.conf to snapshot 3").
fn restore_action(c: &Clause, file: String) -> Outcome {
    let mut from = None;
    let mut into = None;
    let mut plain = Vec::new();
    for s in &c.spans {
        let Some(id) = s.id().map(str::to_string) else {
            continue;
        };
        match s.prep.map(|p| c.toks[p].word.as_str()) {
            Some("into" | "to" | "onto") => into = Some(id),
            Some("from" | "of" | "in" | "at") => from = from.or(Some(id)),
            _ => plain.push(id),
        }
    }
    // One snapshot named is where the version comes from, whatever the preposition
    // ("roll back my resolv.conf to snapshot 5").
    if from.is_none() && plain.is_empty() {
        from = into.take();
    }
    let mut plain = plain.into_iter();
    let from = from.or_else(|| plain.next());
    let into = into.or_else(|| plain.next());
    match from {
        Some(from) => Outcome::Actions(vec![Action::ConfigRestore {
            file,
            from,
            snapshot: into,
        }]),
        None => ask(&format!(
            "From which snapshot should I take {file}? (`rast config log {file}` shows its versions)"
        )),
    }
}

fn on_target(t: Target, f: impl Fn(Option<String>) -> Action) -> Outcome {
    match t {
        Target::One(s) => Outcome::Actions(vec![f(s)]),
        Target::Made(first) => Outcome::Actions(vec![first, f(Some(NEW.to_string()))]),
        Target::Many => ask("That names more than one snapshot; which one should I change? (one request per snapshot, e.g. \"install vlc in snapshot 3\")"),
    }
}

/// An object-store URL named in the clause (`s3://…`, `file:///…`).
fn backup_target(toks: &[Token]) -> Option<String> {
    toks.iter()
        .map(|t| t.raw.trim_matches(['"', '\'']))
        .find(|w| {
            ["s3://", "gs://", "az://", "file:///"]
                .iter()
                .any(|p| w.starts_with(p))
        })
        .map(str::to_string)
}
