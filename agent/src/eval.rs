//! Scoring a plan against a labelled request, as tests/data/nl-eval/score.py does (the
//! same fields, the same matching), in process: `make nl-eval` and the corpus test use
//! it where a process per request would take minutes. Not used by the planner.

use serde_json::Value;

fn norm(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Array(a) => Some(
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join(" ")
                .trim()
                .to_lowercase(),
        ),
        Value::String(s) => Some(s.trim().to_lowercase()),
        o => Some(o.to_string().to_lowercase()),
    }
}

fn contains_any(value: &Value, options: &[Value]) -> bool {
    let v = norm(value).unwrap_or_default();
    options.iter().any(|o| {
        let o = norm(o).unwrap_or_default();
        v.contains(&o) || (!v.is_empty() && o.contains(&v))
    })
}

fn sorted_strs(v: Option<&Value>) -> Vec<String> {
    let mut x: Vec<String> = v
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    x.sort();
    x
}

/// score.py's `action_ok`.
fn action_ok(got: &Value, exp: &Value) -> Option<String> {
    let kind = exp["kind"].as_str().unwrap_or("");
    if got["kind"].as_str() != Some(kind) {
        return Some(format!("kind {} != {kind}", got["kind"]));
    }
    let pk = sorted_strs(got.get("packages"));
    if exp.get("packages").is_some() && pk != sorted_strs(exp.get("packages")) {
        return Some(format!("packages {pk:?} != {}", exp["packages"]));
    }
    for f in ["snapshot", "parent"] {
        if let Some(e) = exp.get(f) {
            if norm(got.get(f).unwrap_or(&Value::Null)) != norm(e) {
                return Some(format!("{f} {} != {e}", got.get(f).unwrap_or(&Value::Null)));
            }
        }
    }
    if exp.get("security_only") == Some(&Value::Bool(true))
        && got.get("security_only") != Some(&Value::Bool(true))
    {
        return Some("security_only not set".into());
    }
    if let Some(q) = exp.get("query") {
        if !contains_any(
            got.get("query").unwrap_or(&Value::Null),
            std::slice::from_ref(q),
        ) {
            return Some(format!(
                "query {} lacks {q}",
                got.get("query").unwrap_or(&Value::Null)
            ));
        }
    }
    for (f, g) in [
        ("query_any", "query"),
        ("text_any", "text"),
        ("command_any", "command"),
    ] {
        if let Some(opts) = exp.get(f).and_then(Value::as_array) {
            if !contains_any(got.get(g).unwrap_or(&Value::Null), opts) {
                return Some(format!(
                    "{g} {} not like {}",
                    got.get(g).unwrap_or(&Value::Null),
                    exp[f]
                ));
            }
        }
    }
    if let Some(s) = exp.get("snapshots").and_then(Value::as_array) {
        let g: Vec<Option<String>> = got
            .get("snapshots")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(norm).collect())
            .unwrap_or_default();
        let e: Vec<Option<String>> = s.iter().map(norm).collect();
        if g != e {
            return Some(format!(
                "snapshots {} != {}",
                got.get("snapshots").unwrap_or(&Value::Null),
                exp["snapshots"]
            ));
        }
    }
    None
}

fn match_list(acts: &[Value], exp: &[Value]) -> Option<String> {
    if acts.len() != exp.len() {
        let k = |v: &[Value]| {
            v.iter()
                .map(|a| a["kind"].as_str().unwrap_or("?").to_string())
                .collect::<Vec<_>>()
        };
        return Some(format!(
            "{} actions {:?} != {} {:?}",
            acts.len(),
            k(acts),
            exp.len(),
            k(exp)
        ));
    }
    for (i, (g, e)) in acts.iter().zip(exp).enumerate() {
        if let Some(err) = action_ok(g, e) {
            return Some(format!("action {i}: {err}"));
        }
    }
    None
}

/// score.py's `check`: `None` if `plan` (the plan JSON) satisfies `case` (one line of a
/// set), else why not.
pub fn check(case: &Value, plan: &Value) -> Option<String> {
    let acts: Vec<Value> = plan["actions"].as_array().cloned().unwrap_or_default();
    if let Some(e) = case.get("expect").and_then(Value::as_array) {
        return match_list(&acts, e);
    }
    if let Some(alts) = case.get("expect_alternatives").and_then(Value::as_array) {
        let errs: Vec<Option<String>> = alts
            .iter()
            .map(|a| match_list(&acts, a.as_array().map(Vec::as_slice).unwrap_or(&[])))
            .collect();
        return if errs.iter().any(Option::is_none) {
            None
        } else {
            Some(errs.into_iter().flatten().collect::<Vec<_>>().join(" | "))
        };
    }
    let kinds: Vec<&str> = acts.iter().filter_map(|a| a["kind"].as_str()).collect();
    for k in case
        .get("expect_not_kind")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if kinds.contains(&k.as_str().unwrap_or("")) {
            return Some(format!("forbidden kind {k}"));
        }
    }
    let pkgs: Vec<String> = acts
        .iter()
        .flat_map(|a| sorted_strs(a.get("packages")))
        .collect();
    if let Some(sub) = case.get("expect_packages_subset") {
        let sub = sorted_strs(Some(sub));
        if !pkgs.iter().all(|p| sub.contains(p)) {
            return Some(format!("packages {pkgs:?} exceed {sub:?}"));
        }
    }
    None
}
