//! Natural-language requests end to end: the planner's score on the shared dev set
//! and on our own set of other phrasings, typos and unsafe requests (real Arch 2022
//! databases), and `rast --yes "…"` executing a two-step plan on a real sandbox.

use std::process::Command;

use rast_e2e::{arch2022_index, rast_bin, shared, test_repo, Fs};

fn score(set: &std::path::Path, min: f64) {
    let out = Command::new("python3")
        .arg(shared().join("nl-eval/score.py"))
        .args(["--min", &min.to_string()])
        .arg(set)
        .arg("--")
        .arg(rast_bin())
        .args(["plan", "--json", "--index-dir"])
        .arg(arch2022_index())
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
    score(&shared().join("nl-eval/dev.jsonl"), 0.95);
}

#[test]
fn other_phrasings_typos_and_unsafe_requests() {
    let set = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../agent/tests/fixtures/nl-extra.jsonl");
    score(&set, 0.95);
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
        .arg(arch2022_index())
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
