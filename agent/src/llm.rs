//! Optional LLM backend: an OpenAI-compatible chat endpoint asked for a plan when the
//! offline planner is unsure. Off unless `[planner] llm_url` is set; never required.
//!
//! Invariants:
//! - the LLM is only asked about requests the offline planner did not refuse as
//!   unsafe ([`crate::plan::refusal`]), so it cannot talk rast into a shell command;
//! - its answer is parsed into the same typed [`Action`]s, checked by the same
//!   [`Plan::validate`], and every package it names must exist in the catalogue;
//!   anything else is discarded and the offline plan stands;
//! - the API key is read from an environment variable and never logged.

use std::time::Duration;

use rast_pkgindex::catalog::Catalog;
use serde_json::{json, Value};

use crate::action::{Action, Plan};

/// `[planner]` settings for the LLM. Its `Debug` form hides the key.
#[derive(Clone)]
pub struct LlmConfig {
    /// Base URL of the API, e.g. `http://127.0.0.1:8080/v1` (`/chat/completions` is
    /// appended).
    pub url: String,
    pub model: String,
    /// The key itself (read by the caller from the configured environment variable).
    pub api_key: Option<String>,
    pub timeout: Duration,
    /// Ask the LLM when the offline plan's confidence is below this (clarifications
    /// have confidence 0).
    pub below_confidence: f32,
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<hidden>"))
            .field("timeout", &self.timeout)
            .field("below_confidence", &self.below_confidence)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("LLM endpoint: {0}")]
    Http(String),
    #[error("LLM answer is not a plan: {0}")]
    Shape(String),
    #[error("LLM plan rejected: {0}")]
    Invalid(String),
}

const SYSTEM: &str = "You translate a request about an Arch Linux system managed by rast \
(btrfs snapshots, pacman packages, encrypted backups) into JSON: \
{\"actions\": [ACTION, ...], \"explanation\": \"...\", \"confidence\": 0..1}. \
Each ACTION is an object with \"kind\" and the fields of that kind: \
install{packages,snapshot?} remove{packages,snapshot?} upgrade{snapshot?,security_only} \
search{query} list_installed{query?,snapshot?} info{packages} clean_unused{snapshot?} \
fix_keys{snapshot?} refresh{snapshot?} tree current new_tree clone{snapshot} \
clone_tree{snapshot} branch{snapshot} clone_branch{snapshot} clone_under{snapshot,parent} \
deploy{snapshot} rollback delete{snapshot} describe{snapshot,text} run{snapshot,command} \
sync{snapshot} etc_update diff{snapshots} backup_create{snapshot?,target?} \
backup_list{target?} backup_restore{snapshot?,target?} backup_verify{target?} \
backup_prune{target?} config_search{query} clarify{question,candidates}. \
Snapshots are decimal ids as strings, or \"new\" for the snapshot an earlier action made. \
Package names must be exact Arch package names. Never produce shell text; if unsure, clarify.";

impl LlmConfig {
    /// Asks the endpoint for a plan of `request` and checks it.
    pub fn ask(&self, request: &str, catalog: &Catalog) -> Result<Plan, LlmError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| LlmError::Http(e.to_string()))?;
        let url = format!("{}/chat/completions", self.url.trim_end_matches('/'));
        let body = json!({
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": request},
            ],
        });
        let mut rq = client.post(&url).json(&body);
        if let Some(k) = &self.api_key {
            rq = rq.bearer_auth(k);
        }
        let resp = rq.send().map_err(|e| LlmError::Http(root_cause(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(LlmError::Http(format!("{url} answered {status}")));
        }
        let v: Value = resp.json().map_err(|e| LlmError::Shape(e.to_string()))?;
        let content = v
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| LlmError::Shape("no choices[0].message.content".into()))?;
        parse_answer(request, content, catalog)
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    msg
}

/// The model's message content → a checked plan.
pub fn parse_answer(request: &str, content: &str, catalog: &Catalog) -> Result<Plan, LlmError> {
    // Some servers wrap JSON in a Markdown fence despite response_format.
    let text = content
        .trim()
        .trim_start_matches("```json")
        .trim_start_matches("```")
        .trim_end_matches("```")
        .trim();
    let v: Value = serde_json::from_str(text).map_err(|e| LlmError::Shape(e.to_string()))?;
    let actions: Vec<Action> = serde_json::from_value(
        v.get("actions")
            .cloned()
            .ok_or_else(|| LlmError::Shape("no \"actions\"".into()))?,
    )
    .map_err(|e| LlmError::Shape(e.to_string()))?;
    if actions.is_empty() {
        return Err(LlmError::Invalid("no actions".into()));
    }
    for a in &actions {
        if let Action::Install { packages, .. }
        | Action::Remove { packages, .. }
        | Action::Info { packages } = a
        {
            if let Some(p) = packages.iter().find(|p| catalog.get(p).is_none()) {
                return Err(LlmError::Invalid(format!("unknown package {p:?}")));
            }
        }
    }
    let explanation = v
        .get("explanation")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let confidence = v
        .get("confidence")
        .and_then(Value::as_f64)
        .unwrap_or(0.5)
        .clamp(0.0, 0.9) as f32;
    let plan = Plan::new(
        request,
        actions,
        format!("{explanation} (planned by the LLM backend)")
            .trim()
            .to_string(),
        confidence,
    );
    plan.validate().map_err(LlmError::Invalid)?;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rast_pkgindex::catalog::Entry;

    fn cat() -> Catalog {
        Catalog::new(vec![Entry {
            name: "okular".into(),
            repo: "extra".into(),
            version: "1".into(),
            desc: String::new(),
            provides: vec![],
            installed: false,
        }])
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let c = LlmConfig {
            url: "http://127.0.0.1:1/v1".into(),
            model: "m".into(),
            api_key: Some("sk-secret".into()),
            timeout: std::time::Duration::from_secs(1),
            below_confidence: 0.6,
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("sk-secret") && shown.contains("<hidden>"),
            "{shown}"
        );
    }

    #[test]
    fn answers_are_checked_like_any_plan() {
        let ok = parse_answer(
            "r",
            "```json\n{\"actions\":[{\"kind\":\"install\",\"packages\":[\"okular\"]}],\"explanation\":\"a pdf reader\",\"confidence\":1.0}\n```",
            &cat(),
        )
        .unwrap();
        assert_eq!(ok.actions.len(), 1);
        assert!(ok.needs_confirmation);
        assert!(ok.confidence <= 0.9, "an LLM plan is never fully trusted");
        for bad in [
            r#"{"actions":[{"kind":"install","packages":["evince"]}]}"#,
            r#"{"actions":[{"kind":"run","snapshot":"1","command":["sh","-c","rm -rf /"]}]}"#,
            r#"{"actions":[{"kind":"install","packages":["okular"],"snapshot":"new"}]}"#,
            r#"{"actions":[{"kind":"shell","text":"ls"}]}"#,
            r#"{"actions":[]}"#,
            "not json",
        ] {
            assert!(parse_answer("r", bad, &cat()).is_err(), "{bad}");
        }
    }
}
