//! Natural-language requests end to end: the planner's score on the dev set, on the
//! corpus's validation split (phrasings the intent model was not trained on) and on our
//! own sets of other phrasings, typos and unsafe requests (real Arch 2022 databases,
//! scored by the dev set's own score.py), and `rast --yes "…"` executing a two-step
//! plan on a real sandbox.

use std::path::{Path, PathBuf};
use std::process::Command;

use rast_e2e::{arch2022_etc_index, data, rast_bin, test_repo, Fs};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

fn score(set: &Path, min: f64) {
    let out = Command::new("python3")
        .arg(data().join("nl-eval/score.py"))
        .args(["--min", &min.to_string()])
        .arg(set)
        .arg("--")
        .arg(rast_bin())
        .args(["plan", "--json", "--index-dir"])
        .arg(arch2022_etc_index())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "{}: {}",
        set.display(),
        text.lines().rev().nth(1).unwrap_or("")
    );
    assert!(out.status.success(), "score below {min}:\n{text}");
}

#[test]
fn dev_set_scores_at_least_95_percent() {
    score(&data().join("nl-eval/dev.jsonl"), 0.95);
}

#[test]
fn other_phrasings_typos_and_unsafe_requests() {
    score(&repo("agent/tests/fixtures/nl-extra.jsonl"), 0.95);
}

/// Requests written before the intent model existed, in the words of the issue's
/// classes of misses (other verbs, typos, package words by meaning, plans of several
/// steps, context that flips the intent).
#[test]
fn held_out_style_requests() {
    score(&repo("agent/tests/fixtures/nl-heldout.jsonl"), 0.95);
}

/// The corpus's validation split (families of phrasings the model never saw), planned
/// in process (1,100 processes would take minutes) and scored by score.py's rules.
#[test]
fn corpus_validation_split() {
    let warm = rast_agent::warm::WarmIndex::open(arch2022_etc_index(), None).unwrap();
    let (mut pass, mut total) = (0, 0);
    let mut misses = Vec::new();
    for f in ["agent/corpus/generated.jsonl", "agent/corpus/written.jsonl"] {
        for l in std::fs::read_to_string(repo(f)).unwrap().lines() {
            let case: serde_json::Value = serde_json::from_str(l).unwrap();
            if case["split"] != "val" {
                continue;
            }
            total += 1;
            let req = case["request"].as_str().unwrap();
            let plan = serde_json::to_value(warm.plan(req, None)).unwrap();
            match rast_agent::eval::check(&case, &plan) {
                None => pass += 1,
                Some(why) => misses.push(format!("{req:?}: {why}")),
            }
        }
    }
    assert!(total > 500, "the validation split is too small ({total})");
    let acc = pass as f64 / total as f64;
    eprintln!(
        "corpus validation split: {pass}/{total} = {:.1} %",
        acc * 100.0
    );
    assert!(
        acc >= 0.95,
        "{:.1} % < 95 %:\n{}",
        acc * 100.0,
        misses.join("\n")
    );
}

/// The in-process scorer agrees with score.py (same passes on the held-out set).
#[test]
fn in_process_scoring_agrees_with_score_py() {
    let set = repo("agent/tests/fixtures/nl-heldout.jsonl");
    let out = Command::new("python3")
        .arg(data().join("nl-eval/score.py"))
        .arg(&set)
        .arg("--")
        .arg(rast_bin())
        .args(["plan", "--json", "--index-dir"])
        .arg(arch2022_etc_index())
        .env("RAST_NO_AGENT", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let py_misses: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("MISS "))
        // score.py prints the request's Python repr: quotes around it.
        .map(|l| {
            let q = &l[..1];
            let end = l[1..]
                .find(&format!("{q}: "))
                .map_or(l.len() - 1, |i| i + 1);
            l[1..end].to_string()
        })
        .collect();
    let warm = rast_agent::warm::WarmIndex::open(arch2022_etc_index(), None).unwrap();
    let mut rs_misses = Vec::new();
    for l in std::fs::read_to_string(&set).unwrap().lines() {
        let case: serde_json::Value = serde_json::from_str(l).unwrap();
        let req = case["request"].as_str().unwrap();
        let plan = serde_json::to_value(warm.plan(req, None)).unwrap();
        if rast_agent::eval::check(&case, &plan).is_some() {
            rs_misses.push(req.to_string());
        }
    }
    assert_eq!(py_misses, rs_misses);
}

/// An index of the test repo, and a config pointing rast at it.
fn with_index(fs: &Fs) -> std::path::PathBuf {
    let idx = fs.dir.path().join("index");
    fs.ok(&[
        "index",
        "build",
        "--no-etc",
        "--index-dir",
        idx.to_str().unwrap(),
        "--sync-dbs",
        test_repo().join("rasttest.db").to_str().unwrap(),
    ]);
    let conf = fs.dir.path().join("rast.toml");
    std::fs::write(&conf, format!("[index]\ndir = \"{}\"\n", idx.display())).unwrap();
    conf
}

#[test]
fn a_request_runs_through_the_explicit_commands() {
    let fs = Fs::initialised();
    let conf = with_index(&fs);
    let run = |args: &[&str]| {
        let mut c = fs.cmd(args);
        c.env("RAST_CONFIG", &conf);
        c.output().unwrap()
    };
    let before = fs.uuids(0);
    // Without --yes and without a terminal, a changing plan is refused; nothing changes.
    let out = run(&["install foo-app in a new clone of snapshot 0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(fs.tree_edges().len(), 1);
    // --dry-run shows the plan only.
    let out = run(&["--dry-run", "install foo-app in a new clone of snapshot 0"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("clone snapshot 0"));
    assert_eq!(fs.tree_edges().len(), 1);
    // Confirmed: clone 0, then install into the clone.
    let out = run(&["--yes", "install foo-app in a new clone of snapshot 0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs.tree_edges(), vec![(0, None), (1, None)]);
    let has = |id: u64, name: &str| {
        fs.installed(id)
            .iter()
            .any(|l| l.split_whitespace().next() == Some(name))
    };
    assert!(has(1, "foo-app"));
    assert!(has(1, "libfoo"), "its dependency too");
    assert!(!has(0, "foo-app"));
    assert_eq!(fs.uuids(0), before, "snapshot 0 untouched");
    // Read-only plans run without asking.
    let out = run(&["show the snapshot tree"]);
    assert!(out.status.success());
    // Unclear or unsafe requests ask back and change nothing (exit 1).
    for r in [
        "make me a sandwich",
        "install foo-app; rm -rf /",
        "install nosuchpackage",
    ] {
        let out = run(&["--yes", r]);
        assert_eq!(out.status.code(), Some(1), "{r}");
        assert_eq!(fs.tree_edges().len(), 2, "{r}");
    }
}

#[test]
fn plan_json_is_the_typed_contract() {
    let out = Command::new(rast_bin())
        .args(["plan", "--json", "--index-dir"])
        .arg(arch2022_etc_index())
        .arg("clone snapshot 2 and install htop in it")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["request"], "clone snapshot 2 and install htop in it");
    assert_eq!(v["needs_confirmation"], true);
    assert_eq!(
        v["actions"],
        serde_json::json!([
            {"kind": "clone", "snapshot": "2"},
            {"kind": "install", "packages": ["htop"], "snapshot": "new"}
        ])
    );
    assert!(v["confidence"].as_f64().unwrap() > 0.5);
    assert!(v["explanation"].as_str().unwrap().contains("htop"));
}
