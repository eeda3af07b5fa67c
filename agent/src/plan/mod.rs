//! The offline planner: a request in plain words → a validated [`Plan`].
//!
//! The pipeline, one module a step:
//! 1. **refuse** ([`safety`]): shell fragments and destructive requests → `clarify`;
//! 2. **lex** ([`lex`], [`text`]): tokens, typos of request words corrected;
//! 3. **split** ([`split`]): clauses at commas, "and", "then", when a new verb starts;
//! 4. **intent** ([`features`], [`intent`]): the trained classifier's calibrated
//!    probabilities per action kind, over the clause's words and their static MiniLM
//!    vectors;
//! 5. **slots** ([`refs`], [`slots`]): snapshot references ("number three", "it" after
//!    a clone), package phrases, queries, descriptions, commands;
//! 6. **resolve** ([`resolve`]): package words → real names (exact, provides, aliases,
//!    typos, meaning), or a question listing the candidates;
//! 7. **assemble** ([`assemble`]): the likeliest intent whose fields the clause has
//!    becomes actions; one that cannot apply ("delete" of a package) yields to the
//!    next; then [`Plan::validate`].
//!
//! Anything it cannot map becomes `clarify`, never a guess that runs. Pure and
//! deterministic for a given catalogue: the CLI, the agent and the fuzzer share it.

pub mod assemble;
pub mod explain;
pub mod features;
pub mod files;
pub mod intent;
pub mod lex;
pub mod refs;
pub mod resolve;
pub mod safety;
pub mod slots;
pub mod split;
pub mod text;

pub use explain::explain;
pub use safety::refusal;

use crate::action::{Action, Plan, NEW};
use assemble::{Clause, Ctx, Outcome};
use lex::Token;
use resolve::Resolver;

/// Requests longer than this are not planned (clarify).
pub const MAX_REQUEST: usize = 1000;

/// Intents less likely than this (or than this share of the likeliest) are not tried.
const MIN_TRY: f32 = 0.06;
/// Below this probability the planner asks instead of guessing.
const MIN_SURE: f32 = 0.2;

/// The planner over a catalogue (and optionally the index, for meaning).
pub struct Planner<'a> {
    pub resolver: Resolver<'a>,
}

/// A clause with its tokens, references and intent probabilities.
struct Scored<'t> {
    toks: &'t [Token],
    spans: Vec<refs::Span>,
    kinds: Vec<(&'static str, f32)>,
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

    fn is_package(&self, w: &str) -> bool {
        resolve::valid_name(w) && self.resolver.catalog.get(w).is_some()
    }

    /// The request's tokens (typos corrected), as the planner reads them.
    pub fn tokens(&self, request: &str) -> Vec<Token> {
        let model = intent::shipped();
        lex::tokens(&text::normalize_case_kept(request), model, &|w| {
            self.is_package(w)
        })
    }

    fn score<'t>(&self, toks: &'t [Token], question: bool) -> Scored<'t> {
        let model = intent::shipped();
        let spans = refs::find(toks);
        let f = intent::features(
            toks,
            &spans,
            &|w| model.info(w),
            &|w| self.is_package(w),
            question,
        );
        let kinds = model
            .classify(&f)
            .into_iter()
            .map(|(k, p)| (kind_name(k), p))
            .collect();
        Scored { toks, spans, kinds }
    }

    /// How the planner read `request`: each clause with its likeliest intents
    /// (for `rast plan --why` and the evaluation tools).
    pub fn trace(&self, request: &str) -> Vec<(String, Vec<(&'static str, f32)>)> {
        let toks = self.tokens(request);
        let question = text::is_question(request);
        self.merge(clause_ranges(&toks), &toks, question)
            .into_iter()
            .map(|s| {
                let words = lex::join(s.toks);
                (words, s.kinds.into_iter().take(3).collect())
            })
            .collect()
    }

    fn plan_inner(&self, request: &str) -> Plan {
        if let Some(why) = refusal(request) {
            return Plan::clarify(request, why, vec![]);
        }
        let toks = self.tokens(request);
        if toks.is_empty() {
            return Plan::clarify(request, "What should I do?".into(), vec![]);
        }
        let question = text::is_question(request);
        let clauses = self.merge(clause_ranges(&toks), &toks, question);
        let mut ctx = Ctx {
            confidence: 0.95,
            ..Default::default()
        };
        let mut actions = Vec::new();
        for c in &clauses {
            match self.clause(c, &mut ctx) {
                Ok(mut a) => {
                    for x in &a {
                        if x.makes_snapshot() {
                            ctx.it = Some(NEW.to_string());
                        } else if let Some(s) = snapshot_of(x) {
                            if ctx.it.as_deref() != Some(NEW) {
                                ctx.it = Some(s);
                            }
                        }
                    }
                    actions.append(&mut a);
                }
                Err((question, candidates)) => {
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

    /// Scores the clauses, merging back a clause that says nothing on its own ("install
    /// gcc and make") or only restates the one before ("I don't need X, remove it").
    fn merge<'t>(
        &self,
        ranges: Vec<std::ops::Range<usize>>,
        toks: &'t [Token],
        question: bool,
    ) -> Vec<Scored<'t>> {
        let info = |w: &str| intent::shipped().info(w);
        let is_pkg = |w: &str| self.is_package(w);
        // A clause that is only a place ("on snapshot 6, drop apache") belongs to the
        // next one.
        let mut ranges = ranges;
        let mut i = 0;
        while i + 1 < ranges.len() {
            let t = &toks[ranges[i].clone()];
            let spans = refs::find(t);
            let only_place = !t.is_empty()
                && matches!(
                    t[0].word.as_str(),
                    "in" | "on" | "inside" | "within" | "from" | "for" | "under" | "below" | "into"
                )
                && spans.len() == 1
                && spans[0].end == t.len();
            if only_place {
                let next = ranges.remove(i + 1);
                ranges[i] = ranges[i].start..next.end;
            } else {
                i += 1;
            }
        }
        let mut out: Vec<(std::ops::Range<usize>, Scored<'t>)> = Vec::new();
        for r in ranges {
            let s = self.score(&toks[r.clone()], question);
            if let Some((prev_r, prev)) = out.last() {
                let (k, p) = s.kinds[0];
                let (pk, pp) = prev.kinds[0];
                let own_fields = s
                    .spans
                    .iter()
                    .any(|x| matches!(x.r, refs::Ref::Id(_) | refs::Ref::NewFrom { .. }))
                    || !slots::Slots {
                        toks: s.toks,
                        spans: &s.spans,
                        info: &info,
                        is_package: &is_pkg,
                    }
                    .strong_package_phrases()
                    .is_empty();
                // Worth trying as one clause: a clause that reads as nothing on its own
                // ("… and make"), one that restates the one before ("I don't need X,
                // remove it"), or a bare "delete it" after a clause with no clear verb
                // ("snapshot 10 can go, delete it").
                let weak = (p < 0.5 || k == "clarify") && r.len() <= 2;
                let restates = k == pk && !own_fields;
                // "curl isn't installed, add it": a statement, then what to do about it.
                let pronoun_only =
                    !own_fields && pp < 0.9 && s.spans.iter().any(|x| x.r == refs::Ref::Pronoun);
                if weak || restates || pronoun_only {
                    let merged = prev_r.start..r.end;
                    let m = self.score(&toks[merged.clone()], question);
                    let (mk, mp) = m.kinds[0];
                    let agrees = if pronoun_only { mk == k } else { mk == pk };
                    if mk != "clarify" && (agrees || restates || mp > pp.max(p)) {
                        out.pop();
                        out.push((merged, m));
                        continue;
                    }
                }
            }
            out.push((r, s));
        }
        out.into_iter().map(|(_, s)| s).collect()
    }

    /// One clause → its actions, or a question.
    fn clause(&self, s: &Scored, ctx: &mut Ctx) -> Result<Vec<Action>, (String, Vec<String>)> {
        let info = |w: &str| intent::shipped().info(w);
        let is_pkg = |w: &str| self.is_package(w);
        let c = Clause {
            toks: s.toks,
            spans: s.spans.clone(),
            slots: slots::Slots {
                toks: s.toks,
                spans: &s.spans,
                info: &info,
                is_package: &is_pkg,
            },
        };
        let top = s.kinds[0].1;
        // An explicit "run CMD in snapshot N" is run, whatever else the words suggest;
        // run is never assembled from anything else.
        if refs::is_run_request(s.toks, &s.spans) {
            return match self.assemble("run", &c, ctx) {
                Outcome::Actions(a) => Ok(a),
                Outcome::Ask(q, cands) => Err((q, cands)),
                Outcome::Infeasible => Err((
                    "Which command should I run, and in which snapshot?".into(),
                    vec![],
                )),
            };
        }
        for &(kind, p) in &s.kinds {
            if p < MIN_TRY.max(top * 0.1) {
                break;
            }
            if kind == "run" {
                continue;
            }
            if kind == "clarify" && p < 0.5 {
                continue;
            }
            if p < MIN_SURE {
                break;
            }
            match self.assemble(kind, &c, ctx) {
                Outcome::Actions(a) => {
                    ctx.confidence = ctx.confidence.min(p.max(0.05));
                    return Ok(a);
                }
                Outcome::Ask(q, cands) => return Err((q, cands)),
                Outcome::Infeasible => continue,
            }
        }
        let mut q = String::from("I'm not sure what you mean.");
        let guesses: Vec<&str> = s
            .kinds
            .iter()
            .filter(|(k, p)| *k != "clarify" && *p >= MIN_TRY)
            .take(2)
            .map(|(k, _)| *k)
            .collect();
        if !guesses.is_empty() {
            q.push_str(&format!(
                " It reads a little like: {}. Could you say it another way (e.g. \"install htop in snapshot 2\")?",
                guesses.join(" or ").replace('_', " ")
            ));
        } else {
            q.push_str(" I can install/remove/upgrade packages, search, manage snapshots (clone, deploy, rollback, …) and backups — see `rast --help`.");
        }
        Err((q, vec![]))
    }
}

/// The clauses of a request; an explicit "run CMD in snapshot N" is one clause whatever
/// its command says.
fn clause_ranges(toks: &[Token]) -> Vec<std::ops::Range<usize>> {
    if refs::is_run_request(toks, &refs::find(toks)) {
        return std::iter::once(0..toks.len()).collect();
    }
    split::clauses(toks, &|w| intent::shipped().info(w).clause_start)
}

/// The snapshot an action acted on (for "it" in a later clause).
fn snapshot_of(a: &Action) -> Option<String> {
    serde_json::to_value(a)
        .ok()?
        .get("snapshot")?
        .as_str()
        .map(str::to_string)
}

/// The action kind a model class names (model classes are action kinds).
fn kind_name(k: &str) -> &'static str {
    KINDS.iter().copied().find(|x| *x == k).unwrap_or("clarify")
}

/// Every action kind, as the model's classes name them.
pub const KINDS: &[&str] = &[
    "install",
    "remove",
    "upgrade",
    "search",
    "list_installed",
    "info",
    "clean_unused",
    "fix_keys",
    "refresh",
    "tree",
    "current",
    "new_tree",
    "rollback",
    "etc_update",
    "clone",
    "clone_tree",
    "branch",
    "clone_branch",
    "clone_under",
    "deploy",
    "delete",
    "describe",
    "run",
    "sync",
    "diff",
    "backup_create",
    "backup_restore",
    "backup_list",
    "backup_verify",
    "backup_prune",
    "config_search",
    "config_log",
    "config_diff",
    "config_restore",
    "clarify",
];

#[cfg(test)]
mod tests;
