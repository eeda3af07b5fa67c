//! The offline planner: a request in plain words → a validated [`Plan`].
//!
//! Steps: refuse shell fragments and destructive requests (→ `clarify`); split the
//! request into clauses where a new verb starts ("clone 2 and install htop in it");
//! give each clause an intent by ordered verb/synonym rules (most specific first);
//! fill the intent's fields — snapshot references, package names resolved through the
//! catalogue and index ([`resolve`]), queries with filler words removed. Anything it
//! cannot map becomes `clarify`, never a guess that runs. Pure and deterministic for a
//! given catalogue: the CLI, the agent and the fuzzer share it.

pub mod resolve;
pub mod safety;
pub mod text;

use crate::action::{Action, Plan, NEW};
use resolve::{How, Resolved, Resolver};
use text::{has, has_any, normalize, snapshot_ids, strip_snapshot_refs, words};

/// Requests longer than this are not planned (clarify).
pub const MAX_REQUEST: usize = 1000;

/// Verbs that start a new clause after "and" / "then".
const CLAUSE_VERBS: &[&str] = &[
    "install",
    "add",
    "remove",
    "uninstall",
    "delete",
    "update",
    "upgrade",
    "deploy",
    "clone",
    "branch",
    "sync",
    "run",
    "search",
    "find",
    "show",
    "list",
    "back",
    "backup",
    "fix",
    "clean",
    "refresh",
    "roll",
    "rollback",
    "boot",
    "label",
    "describe",
    "then",
    "get",
    "check",
    "verify",
    "prune",
    "restore",
    "copy",
    "make",
    "create",
    "tell",
    "save",
    "commit",
];

/// Words dropped from queries (search, config search, list filters).
const QUERY_FILLER: &[&str] = &[
    "a",
    "an",
    "the",
    "for",
    "of",
    "to",
    "me",
    "my",
    "i",
    "is",
    "are",
    "there",
    "any",
    "some",
    "package",
    "packages",
    "that",
    "which",
    "what",
    "where",
    "can",
    "could",
    "please",
    "with",
    "do",
    "does",
    "have",
    "has",
    "set",
    "sets",
    "file",
    "files",
    "config",
    "configured",
    "configuration",
    "setting",
    "settings",
    "defined",
    "search",
    "find",
    "look",
    "looking",
    "show",
    "list",
    "good",
    "in",
    "on",
    "it",
    "by",
    "be",
    "system",
    "installed",
    "tell",
    "about",
    "all",
    "everything",
    "want",
    "need",
    "something",
    "program",
    "app",
    "tool",
    "stuff",
    "etc",
    "/etc",
    "and",
    "or",
    "available",
];

/// Why `request` is refused before any planning (too long, destructive, shell
/// syntax), or `None`. No planner — offline rules or the LLM — sees a refused request.
pub fn refusal(request: &str) -> Option<String> {
    if request.len() > MAX_REQUEST {
        return Some("That request is too long; say it in one sentence.".into());
    }
    let t = fix_verb_typos(&normalize(request));
    if let Some(w) = safety::destructive_words(&t) {
        return Some(format!("{w:?} looks destructive; rast plans package and snapshot actions, not shell commands. Use `rast run` yourself if you mean it."));
    }
    if !is_run_request(&t) {
        if let Some(f) = safety::shell_fragment(&t) {
            return Some(format!("{f:?} is shell syntax; rast does not run shell text. Say what you want done (e.g. \"install htop\")."));
        }
    }
    None
}

/// The planner: intent rules over a catalogue (and optionally the index).
pub struct Planner<'a> {
    pub resolver: Resolver<'a>,
}

struct Ctx {
    /// Whether an earlier action of this plan made a snapshot.
    made_snapshot: bool,
    notes: Vec<String>,
    confidence: f32,
}

impl Planner<'_> {
    pub fn plan(&self, request: &str) -> Plan {
        let plan = self.plan_inner(request);
        match plan.validate() {
            Ok(()) => plan,
            Err(e) => Plan::clarify(
                request,
                format!("I could not make a safe plan: {e}"),
                vec![],
            ),
        }
    }

    fn plan_inner(&self, request: &str) -> Plan {
        if let Some(why) = refusal(request) {
            return Plan::clarify(request, why, vec![]);
        }
        let t = fix_verb_typos(&normalize(request));
        if t.is_empty() {
            return Plan::clarify(request, "What should I do?".into(), vec![]);
        }
        let is_run = is_run_request(&t);
        let mut ctx = Ctx {
            made_snapshot: false,
            notes: Vec::new(),
            confidence: 0.95,
        };
        let mut actions = Vec::new();
        let clauses = if is_run {
            vec![t.clone()]
        } else {
            split_clauses(&t)
        };
        for c in &clauses {
            match self.clause(c, &mut ctx) {
                Ok(mut a) => {
                    for x in &a {
                        ctx.made_snapshot |= x.makes_snapshot();
                    }
                    actions.append(&mut a);
                }
                Err(clarify) => {
                    let Action::Clarify {
                        question,
                        candidates,
                    } = clarify
                    else {
                        unreachable!("clause errors are clarifications")
                    };
                    return Plan::clarify(request, question, candidates);
                }
            }
        }
        if actions.is_empty() {
            return Plan::clarify(request, "What should I do?".into(), vec![]);
        }
        let mut explanation = actions
            .iter()
            .map(explain)
            .collect::<Vec<_>>()
            .join("; then ");
        if !ctx.notes.is_empty() {
            explanation.push_str(&format!(" ({})", ctx.notes.join("; ")));
        }
        Plan::new(request, actions, explanation, ctx.confidence)
    }

    /// One clause → its actions, or a clarification.
    fn clause(&self, c: &str, ctx: &mut Ctx) -> Result<Vec<Action>, Action> {
        let ids = snapshot_ids(c);
        let refers_new = ctx.made_snapshot
            && has_any(
                c,
                &[
                    "in it",
                    "into it",
                    "to it",
                    "on it",
                    "there",
                    "in the new one",
                    "in the clone",
                    "in the new snapshot",
                    "inside it",
                ],
            );
        let snap = || -> Option<String> {
            if refers_new {
                Some(NEW.to_string())
            } else {
                ids.first().cloned()
            }
        };
        let clarify = |q: &str| Action::Clarify {
            question: q.to_string(),
            candidates: vec![],
        };
        let ws = words(c);

        // Explicit command inside a snapshot.
        if is_run_request(c) {
            return self.run(c, snap()).map(|a| vec![a]);
        }
        // "install X in a new clone of snapshot N": clone first, then act on the clone.
        if let Some(kind) = [
            "new clone of",
            "clone of",
            "a copy of",
            "new branch of",
            "branch of",
            "new child of",
        ]
        .iter()
        .find(|p| has(c, p))
        {
            let rest = c.find(kind).map(|i| c[..i].to_string()).unwrap_or_default();
            let acts_on_packages = has_any(
                &rest,
                &[
                    "install",
                    "add",
                    "remove",
                    "uninstall",
                    "upgrade",
                    "update",
                    "get",
                    "put",
                ],
            );
            if let (Some(n), true) = (ids.first(), acts_on_packages) {
                let rest = remove_phrases(
                    &rest,
                    &[
                        "in a", "into a", "in the", "into the", "on a", "in", "into", "on",
                    ],
                );
                let first = if kind.contains("branch") || kind.contains("child") {
                    Action::Branch {
                        snapshot: Some(n.clone()),
                    }
                } else {
                    Action::Clone {
                        snapshot: Some(n.clone()),
                    }
                };
                let mut sub = Ctx {
                    made_snapshot: true,
                    notes: Vec::new(),
                    confidence: ctx.confidence,
                };
                let mut then = self.clause(&format!("{rest} in it"), &mut sub)?;
                ctx.notes.append(&mut sub.notes);
                ctx.confidence = sub.confidence;
                then.insert(0, first);
                return Ok(then);
            }
        }
        // Comparisons.
        if has_any(
            c,
            &[
                "diff",
                "difference",
                "differences",
                "what changed",
                "changes between",
                "compare",
            ],
        ) {
            if ids.len() >= 2 {
                return Ok(vec![Action::Diff {
                    snapshots: vec![ids[0].clone(), ids[1].clone()],
                }]);
            }
            if !has_any(c, &["/etc", "etc"]) {
                return Err(clarify(
                    "Which two snapshots should I compare? (e.g. \"diff snapshot 2 and 5\")",
                ));
            }
        }
        // Descriptions.
        if has_any(
            c,
            &[
                "label",
                "describe snapshot",
                "rename",
                "description",
                "call snapshot",
                "name snapshot",
                "tag snapshot",
            ],
        ) {
            let text = describe_text(c);
            return match (snap(), text) {
                (s, Some(text)) if s.is_some() || has(c, "current") => {
                    Ok(vec![Action::Describe { snapshot: s, text }])
                }
                _ => Err(clarify("Which snapshot, and what should its description say? (e.g. \"label snapshot 2 as gaming setup\")")),
            };
        }
        // Backups.
        if has_any(c, &["backup", "backups", "back up", "back-up", "backed up"]) {
            let target = ws
                .iter()
                .find(|w| {
                    ["s3://", "gs://", "az://", "file:///"]
                        .iter()
                        .any(|p| w.starts_with(p))
                })
                .cloned();
            let a = if has_any(c, &["restore", "recover", "bring back"]) {
                Action::BackupRestore {
                    snapshot: snap(),
                    target,
                }
            } else if has_any(
                c,
                &[
                    "prune",
                    "old backups",
                    "older backups",
                    "retention",
                    "expire",
                    "thin out",
                    "clean up",
                    "clean old",
                    "delete old",
                    "remove old",
                ],
            ) {
                Action::BackupPrune { target }
            } else if has_any(
                c,
                &[
                    "verify",
                    "check",
                    "ok",
                    "intact",
                    "integrity",
                    "healthy",
                    "corrupt",
                    "corrupted",
                    "valid",
                    "fine",
                    "good",
                ],
            ) {
                Action::BackupVerify { target }
            } else if has_any(
                c,
                &[
                    "list",
                    "show",
                    "which backups",
                    "what backups",
                    "my backups",
                    "have i got",
                    "do i have",
                    "see",
                ],
            ) && !has_any(c, &["make", "create", "now", "take"])
            {
                Action::BackupList { target }
            } else {
                Action::BackupCreate {
                    snapshot: snap(),
                    target,
                }
            };
            return Ok(vec![a]);
        }
        // /etc.
        if has_any(c, &["/etc", "etc"])
            && has_any(
                c,
                &[
                    "save", "commit", "keep", "apply", "update", "merge", "changes", "persist",
                    "store",
                ],
            )
        {
            return Ok(vec![Action::EtcUpdate]);
        }
        if has_any(
            c,
            &[
                "config",
                "configured",
                "configuration",
                "setting",
                "settings",
                "which file",
                "config file",
                "/etc",
                "set up in",
                "where is",
                "where are",
                "where do i set",
                "sets the",
                "defined",
            ],
        ) && !has_any(c, &["install", "package", "packages"])
        {
            let q = query(c, &[]);
            return if q.is_empty() {
                Err(clarify("Which setting are you looking for?"))
            } else {
                Ok(vec![Action::ConfigSearch { query: q }])
            };
        }
        // Snapshots and the tree.
        if has_any(
            c,
            &[
                "roll back",
                "rollback",
                "revert",
                "undo the last",
                "go back to the previous",
                "go back to the last",
                "previous deployment",
                "last working",
            ],
        ) {
            return Ok(vec![Action::Rollback]);
        }
        if has_any(
            c,
            &[
                "deploy",
                "boot into",
                "boot from",
                "boot to",
                "as default",
                "the default",
                "boot snapshot",
                "switch to snapshot",
                "next boot",
                "next time",
            ],
        ) {
            return match snap() {
                Some(s) => Ok(vec![Action::Deploy { snapshot: Some(s) }]),
                None if has(c, "current") || has(c, "this") => {
                    Ok(vec![Action::Deploy { snapshot: None }])
                }
                None => Err(clarify("Which snapshot should I deploy? (see `rast tree`)")),
            };
        }
        let cloning = has_any(c, &["clone", "copy", "duplicate", "cbranch", "ubranch"]);
        if (!cloning || ids.is_empty())
            && has_any(
                c,
                &[
                    "new tree",
                    "new base tree",
                    "new base",
                    "fresh tree",
                    "new root tree",
                    "empty tree",
                    "new-tree",
                    "fresh base",
                ],
            )
        {
            return Ok(vec![Action::NewTree]);
        }
        if cloning
            && ids.len() >= 2
            && has_any(
                c,
                &[
                    "under",
                    "below",
                    "beneath",
                    "child of",
                    "as a child",
                    "inside",
                    "into",
                ],
            )
        {
            return Ok(vec![Action::CloneUnder {
                snapshot: Some(ids[0].clone()),
                parent: ids[1].clone(),
            }]);
        }
        if cloning
            && has_any(
                c,
                &[
                    "tree",
                    "recursively",
                    "recursive",
                    "with its children",
                    "whole",
                    "subtree",
                    "and its children",
                    "everything under",
                ],
            )
            && !has(c, "new tree")
        {
            return need_snap(snap(), |s| Action::CloneTree { snapshot: s });
        }
        if has_any(
            c,
            &[
                "clone branch",
                "cbranch",
                "clone as a sibling",
                "sibling",
                "clone-branch",
            ],
        ) {
            return need_snap(snap(), |s| Action::CloneBranch { snapshot: s });
        }
        if has_any(c, &["branch", "fork"]) && !has(c, "git") {
            return need_snap(snap(), |s| Action::Branch { snapshot: s });
        }
        if cloning {
            return need_snap(snap(), |s| Action::Clone { snapshot: s });
        }
        let deleting = has_any(
            c,
            &[
                "delete",
                "remove",
                "destroy",
                "drop",
                "get rid of",
                "del",
                "erase",
            ],
        );
        if deleting
            && (first_object_is_snapshot(&ws)
                || has_any(c, &["snapshots", "the snapshot"])
                    && !ids.is_empty()
                    && !has_any(c, &["from", "in", "inside"]))
        {
            return match ids.first() {
                Some(id) => Ok(vec![Action::Delete {
                    snapshot: id.clone(),
                }]),
                None => Err(clarify("Which snapshot should I delete?")),
            };
        }
        if has_any(c, &["sync", "synchronize", "synchronise", "propagate"])
            && !has_any(
                c,
                &["database", "databases", "mirrors", "repos", "repositories"],
            )
        {
            return need_snap(snap(), |s| Action::Sync { snapshot: s });
        }
        if has_any(
            c,
            &[
                "tree",
                "list snapshots",
                "show snapshots",
                "all snapshots",
                "my snapshots",
                "which snapshots",
                "what snapshots",
                "snapshot list",
            ],
        ) {
            return Ok(vec![Action::Tree]);
        }
        if has_any(
            c,
            &[
                "which snapshot",
                "what snapshot",
                "current snapshot",
                "am i on",
                "am i in",
                "am i using",
                "booted",
                "running snapshot",
                "am i running",
            ],
        ) {
            return Ok(vec![Action::Current]);
        }
        // Packages.
        if has_any(
            c,
            &[
                "keys",
                "key",
                "keyring",
                "keyrings",
                "signature",
                "signatures",
                "gpg",
                "pgp",
                "fix broken",
                "broken packages",
                "corrupted packages",
                "invalid or corrupted",
                "unknown trust",
            ],
        ) {
            return Ok(vec![Action::FixKeys { snapshot: snap() }]);
        }
        if has_any(
            c,
            &[
                "unused",
                "orphan",
                "orphans",
                "orphaned",
                "autoremove",
                "no longer needed",
                "not needed",
                "leftover",
                "unneeded",
                "-qdt",
            ],
        ) {
            return Ok(vec![Action::CleanUnused { snapshot: snap() }]);
        }
        if has_any(
            c,
            &[
                "refresh",
                "package database",
                "package databases",
                "package lists",
                "sync databases",
                "mirrors",
                "-sy",
            ],
        ) && !has_any(c, &["upgrade", "-syu"])
        {
            return Ok(vec![Action::Refresh { snapshot: snap() }]);
        }
        let list_words = has_any(
            c,
            &[
                "list",
                "show",
                "what",
                "which",
                "do i have",
                "have i got",
                "everything",
                "all",
                "see",
                "display",
            ],
        );
        if has(c, "installed") && list_words || has_any(c, &["-q", "-qe"]) {
            let q = query(&strip_snapshot_refs(c), &["installed"]);
            let q = q.split(' ').find(|w| !w.is_empty()).map(str::to_string);
            return Ok(vec![Action::ListInstalled {
                query: q,
                snapshot: snap(),
            }]);
        }
        if has_any(
            c,
            &[
                "upgrade",
                "update",
                "updates",
                "-syu",
                "up to date",
                "up-to-date",
                "patch",
                "patches",
            ],
        ) {
            let security = has_any(
                c,
                &[
                    "security",
                    "cve",
                    "cves",
                    "vulnerability",
                    "vulnerabilities",
                    "vulnerable",
                    "advisory",
                    "advisories",
                    "exploit",
                    "exploits",
                ],
            );
            return Ok(vec![Action::Upgrade {
                snapshot: snap(),
                security_only: security,
            }]);
        }
        if has_any(
            c,
            &[
                "tell me about",
                "info",
                "information",
                "details",
                "what version",
                "which version",
                "what is",
                "what's",
                "describe the package",
                "what does",
                "-si",
                "-qi",
            ],
        ) {
            let rest = remove_phrases(
                c,
                &[
                    "tell me about",
                    "info about",
                    "information about",
                    "information on",
                    "details of",
                    "details about",
                    "details on",
                    "info on",
                    "info",
                    "information",
                    "details",
                    "what version of",
                    "which version of",
                    "what version",
                    "which version",
                    "what is",
                    "what's",
                    "describe the package",
                    "what does",
                    "do",
                    "is available",
                    "available",
                    "the package",
                    "package",
                    "is",
                ],
            );
            return self
                .packages(&rest, ctx)
                .map(|packages| vec![Action::Info { packages }]);
        }
        if has_any(
            c,
            &[
                "search",
                "find",
                "look for",
                "looking for",
                "is there",
                "are there",
                "any package",
                "packages for",
                "something for",
                "recommend",
                "suggest",
                "alternatives",
                "alternative",
                "options for",
                "-ss",
            ],
        ) {
            let q = query(c, &["for", "like"]);
            return if q.is_empty() {
                Err(clarify("What should I search for?"))
            } else {
                Ok(vec![Action::Search { query: q }])
            };
        }
        let removing = has_any(
            c,
            &[
                "uninstall",
                "remove",
                "get rid of",
                "delete",
                "purge",
                "erase",
                "drop",
                "-r",
                "-rns",
                "take out",
                "throw out",
            ],
        );
        if removing {
            let rest = remove_phrases(
                &strip_snapshot_refs(c),
                &[
                    "uninstall",
                    "remove",
                    "get rid of",
                    "delete",
                    "purge",
                    "erase",
                    "drop",
                    "take out",
                    "throw out",
                    "please",
                    "from",
                    "it",
                    "in it",
                ],
            );
            return self.packages(&rest, ctx).map(|packages| {
                vec![Action::Remove {
                    packages,
                    snapshot: snap(),
                }]
            });
        }
        let installing = has_any(
            c,
            &[
                "install",
                "add",
                "get me",
                "i need",
                "i want",
                "give me",
                "set up",
                "setup",
                "put",
                "grab",
                "download",
                "get",
                "i'd like",
                "i would like",
                "can i have",
                "-s",
                "bring in",
            ],
        );
        if installing {
            let rest = remove_phrases(
                &strip_snapshot_refs(c),
                &[
                    "install",
                    "add",
                    "get me",
                    "i need",
                    "i want",
                    "give me",
                    "set up",
                    "setup",
                    "put",
                    "grab",
                    "download",
                    "get",
                    "i'd like",
                    "i would like",
                    "can i have",
                    "bring in",
                    "please",
                    "in it",
                    "into it",
                    "to it",
                    "on it",
                    "there",
                    "in the new one",
                    "in the clone",
                    "in the new snapshot",
                    "inside it",
                    "could you",
                    "can you",
                    "for me",
                    "on my system",
                    "to my system",
                    "to the system",
                    "the latest version of",
                    "latest version of",
                    "version of",
                    "the newest",
                    "the latest",
                ],
            );
            return self.packages(&rest, ctx).map(|packages| {
                vec![Action::Install {
                    packages,
                    snapshot: snap(),
                }]
            });
        }
        Err(Action::Clarify {
            question: "I don't know how to do that. I can install/remove/upgrade packages, search, manage snapshots (clone, deploy, rollback, …) and backups — see `rast --help`.".into(),
            candidates: vec![],
        })
    }

    /// Package names in `rest` ("gimp and inkscape", "the chromium browser").
    fn packages(&self, rest: &str, ctx: &mut Ctx) -> Result<Vec<String>, Action> {
        let mut out: Vec<String> = Vec::new();
        let segments: Vec<String> = rest
            .replace(" as well as ", ",")
            .replace(" plus ", ",")
            .replace(" & ", ",")
            .replace(" and ", ",")
            .replace(" with ", ",")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        for seg in &segments {
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
                    return Err(Action::Clarify {
                        question: format!("Which package do you mean by {seg:?}?"),
                        candidates: c,
                    })
                }
                Resolved::Missing(words) => {
                    return Err(Action::Clarify {
                        question: format!(
                            "I found no package called {}; try `rast -Ss {}`.",
                            words
                                .iter()
                                .map(|w| format!("{w:?}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            words[0]
                        ),
                        candidates: vec![],
                    })
                }
                Resolved::NotFound => {
                    if resolve::GENERIC.iter().any(|g| g == seg) {
                        continue;
                    }
                    return Err(Action::Clarify {
                        question: format!(
                            "I found no package called {seg:?}; try `rast -Ss {seg}`."
                        ),
                        candidates: vec![],
                    });
                }
            }
        }
        if out.is_empty() {
            return Err(Action::Clarify {
                question: "Which package?".into(),
                candidates: vec![],
            });
        }
        Ok(out)
    }

    /// "run pacman -Qdt inside snapshot 3" → Run { snapshot 3, argv }.
    fn run(&self, c: &str, snap: Option<String>) -> Result<Action, Action> {
        let body = c
            .trim_start_matches("please ")
            .trim_start_matches("run ")
            .trim_start_matches("execute ");
        // Cut the "inside snapshot N" part off the command.
        let mut cmd = body.to_string();
        for sep in [
            " inside snapshot",
            " in snapshot",
            " on snapshot",
            " within snapshot",
            " inside #",
            " in #",
            " on #",
            " inside the",
            " in the",
            " inside it",
            " in it",
        ] {
            if let Some(i) = cmd.find(sep) {
                cmd.truncate(i);
            }
        }
        let argv: Vec<String> = cmd
            .split_whitespace()
            .map(|w| w.trim_matches(['"', '\'', '`']).to_string())
            .filter(|w| !w.is_empty())
            .collect();
        let clar = |q: String| Action::Clarify {
            question: q,
            candidates: vec![],
        };
        if argv.is_empty() {
            return Err(clar(
                "Which command should I run, and in which snapshot?".into(),
            ));
        }
        if let Some(why) = safety::unsafe_argv(&argv) {
            return Err(clar(why));
        }
        if snap.is_none() {
            return Err(clar(
                "In which snapshot should I run it? (e.g. \"run pacman -Qdt inside snapshot 3\")"
                    .into(),
            ));
        }
        Ok(Action::Run {
            snapshot: snap,
            command: argv,
        })
    }
}

fn need_snap(
    s: Option<String>,
    f: impl Fn(Option<String>) -> Action,
) -> Result<Vec<Action>, Action> {
    match s {
        Some(s) => Ok(vec![f(Some(s))]),
        None => Err(Action::Clarify {
            question: "Which snapshot? (see `rast tree`)".into(),
            candidates: vec![],
        }),
    }
}

/// "run X inside/in/on snapshot N", "execute X in snapshot N".
fn is_run_request(t: &str) -> bool {
    let t = t.trim_start_matches("please ");
    (t.starts_with("run ") || t.starts_with("execute "))
        && has_any(t, &["snapshot", "inside", "in it", "chroot"])
        || has_any(t, &["in a chroot of"])
}

/// Whether the verb's object is a snapshot ("delete snapshot 9", "remove #3").
fn first_object_is_snapshot(ws: &[String]) -> bool {
    let verbs = ["delete", "remove", "destroy", "drop", "del", "erase", "rid"];
    let Some(i) = ws.iter().position(|w| verbs.contains(&w.as_str())) else {
        return false;
    };
    let mut j = i + 1;
    while ws
        .get(j)
        .is_some_and(|w| matches!(w.as_str(), "of" | "the" | "old" | "my" | "that" | "this"))
    {
        j += 1;
    }
    ws.get(j).is_some_and(|w| {
        matches!(w.as_str(), "snapshot" | "snap" | "snapshots")
            || (w.starts_with('#') && w.len() > 1)
    })
}

/// The description in "label snapshot 2 as gaming setup" / "… to 'work'".
fn describe_text(c: &str) -> Option<String> {
    if let Some(a) = c.find('"') {
        if let Some(b) = c[a + 1..].find('"') {
            let t = c[a + 1..a + 1 + b].trim();
            return (!t.is_empty()).then(|| t.to_string());
        }
    }
    for sep in [" as ", " to ", " with ", ": ", " called ", " named "] {
        if let Some(i) = c.rfind(sep) {
            let t = c[i + sep.len()..].trim().trim_matches('\'');
            if !t.is_empty() && snapshot_ids(t).is_empty() {
                return Some(t.to_string());
            }
        }
    }
    None
}

/// Removes phrases (word-bounded) from text.
fn remove_phrases(c: &str, phrases: &[&str]) -> String {
    let mut ws = words(c);
    let mut sorted: Vec<&str> = phrases.to_vec();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in sorted {
        let pw: Vec<&str> = p.split(' ').collect();
        let mut i = 0;
        while i + pw.len() <= ws.len() {
            if ws[i..i + pw.len()].iter().zip(&pw).all(|(a, b)| a == b) {
                ws.drain(i..i + pw.len());
            } else {
                i += 1;
            }
        }
    }
    ws.join(" ")
}

/// The content words of a query ("is there a package for wireguard" → "wireguard").
fn query(c: &str, extra: &[&str]) -> String {
    let c = strip_snapshot_refs(c);
    let c = remove_phrases(
        &c,
        &[
            "look for",
            "looking for",
            "is there",
            "are there",
            "where is",
            "where are",
            "which config file",
            "config file",
        ],
    );
    words(&c)
        .into_iter()
        .filter(|w| !QUERY_FILLER.contains(&w.as_str()) && !extra.contains(&w.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Verbs whose typos are corrected ("instal", "uninstal", "upgarde", "delet").
const TYPO_VERBS: &[&str] = &[
    "install",
    "uninstall",
    "remove",
    "upgrade",
    "update",
    "search",
    "deploy",
    "clone",
    "delete",
    "rollback",
    "refresh",
    "branch",
    "restore",
    "verify",
    "backup",
];

/// Corrects typos of verbs among the first three words.
fn fix_verb_typos(t: &str) -> String {
    let mut ws: Vec<String> = t.split(' ').map(str::to_string).collect();
    for w in ws.iter_mut().take(3) {
        // Inflected forms ("installed", "updates", "backups") are words, not typos.
        if w.len() < 5
            || TYPO_VERBS.iter().any(|v| w.starts_with(v))
            || CLAUSE_VERBS.contains(&w.as_str())
        {
            continue;
        }
        let limit = if w.len() <= 6 { 1 } else { 2 };
        let best = TYPO_VERBS
            .iter()
            .map(|v| (strsim::damerau_levenshtein(w, v), *v))
            .min();
        if let Some((_, v)) = best.filter(|(d, _)| *d <= limit) {
            *w = v.to_string();
        }
    }
    ws.join(" ")
}

/// Splits "A and B", "A then B", "A, then B" where B starts with a verb.
fn split_clauses(t: &str) -> Vec<String> {
    let ws = words(t);
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let w = &ws[i];
        let joiner = matches!(w.as_str(), "and" | "then" | "also" | "afterwards" | "after");
        if joiner && !cur.is_empty() {
            let mut j = i + 1;
            while ws
                .get(j)
                .is_some_and(|x| matches!(x.as_str(), "then" | "and" | "also" | "please" | "that"))
            {
                j += 1;
            }
            if ws
                .get(j)
                .is_some_and(|x| CLAUSE_VERBS.contains(&x.as_str()))
            {
                out.push(cur.join(" "));
                cur.clear();
                i = j;
                continue;
            }
        }
        cur.push(w.clone());
        i += 1;
    }
    if !cur.is_empty() {
        out.push(cur.join(" "));
    }
    out
}

/// One line in plain words per action.
pub fn explain(a: &Action) -> String {
    let snap = |s: &Option<String>| match s.as_deref() {
        None => "the current snapshot".to_string(),
        Some(NEW) => "the new snapshot".to_string(),
        Some(n) => format!("snapshot {n}"),
    };
    match a {
        Action::Install { packages, snapshot } => {
            format!("install {} into {}", packages.join(", "), snap(snapshot))
        }
        Action::Remove { packages, snapshot } => {
            format!("remove {} from {}", packages.join(", "), snap(snapshot))
        }
        Action::Upgrade {
            snapshot,
            security_only,
        } => format!(
            "upgrade {}{}",
            snap(snapshot),
            if *security_only {
                " (security fixes only)"
            } else {
                ""
            }
        ),
        Action::Search { query } => format!("search packages for {query:?}"),
        Action::ListInstalled { query, snapshot } => format!(
            "list packages installed in {}{}",
            snap(snapshot),
            query
                .as_ref()
                .map(|q| format!(" matching {q:?}"))
                .unwrap_or_default()
        ),
        Action::Info { packages } => format!("show details of {}", packages.join(", ")),
        Action::CleanUnused { snapshot } => {
            format!("remove unused dependencies from {}", snap(snapshot))
        }
        Action::FixKeys { snapshot } => format!("repair the pacman keyring of {}", snap(snapshot)),
        Action::Refresh { snapshot } => {
            format!("refresh the package databases of {}", snap(snapshot))
        }
        Action::Tree => "show the snapshot tree".into(),
        Action::Current => "show the current snapshot".into(),
        Action::NewTree => "make a new base tree (a fresh snapshot of the base)".into(),
        Action::Rollback => "roll back to the previous deployment".into(),
        Action::EtcUpdate => "save the running /etc into the current snapshot".into(),
        Action::Clone { snapshot } => format!("clone {} as a new tree", snap(snapshot)),
        Action::CloneTree { snapshot } => {
            format!("clone {} with its whole subtree", snap(snapshot))
        }
        Action::Branch { snapshot } => format!("make a new child of {}", snap(snapshot)),
        Action::CloneBranch { snapshot } => format!("clone {} as a sibling", snap(snapshot)),
        Action::CloneUnder { snapshot, parent } => {
            format!("clone {} under snapshot {parent}", snap(snapshot))
        }
        Action::Deploy { snapshot } => {
            format!("deploy {} (used from the next boot)", snap(snapshot))
        }
        Action::Delete { snapshot } => format!("delete snapshot {snapshot}"),
        Action::Describe { snapshot, text } => format!("describe {} as {text:?}", snap(snapshot)),
        Action::Run { snapshot, command } => {
            format!("run {:?} inside {}", command.join(" "), snap(snapshot))
        }
        Action::Sync { snapshot } => {
            format!("sync the packages of {} into its children", snap(snapshot))
        }
        Action::Diff { snapshots } => format!(
            "compare the packages of snapshots {}",
            snapshots.join(" and ")
        ),
        Action::BackupCreate { snapshot, target } => format!(
            "back up {} to {}",
            snap(snapshot),
            target.as_deref().unwrap_or("the configured target")
        ),
        Action::BackupRestore { snapshot, target } => format!(
            "restore the newest backup of {} from {}",
            snap(snapshot),
            target.as_deref().unwrap_or("the configured target")
        ),
        Action::BackupList { .. } => "list backups".into(),
        Action::BackupVerify { .. } => "verify all backups".into(),
        Action::BackupPrune { .. } => "prune backups by the retention policy".into(),
        Action::ConfigSearch { query } => format!("search /etc for {query:?}"),
        Action::Clarify { question, .. } => question.clone(),
    }
}

#[cfg(test)]
mod tests;
