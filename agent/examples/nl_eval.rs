//! Scores the planner on labelled request sets and prints a per-kind confusion table.
//!
//!     cargo run --release -p rast-agent --example nl_eval -- \
//!         --index-dir DIR [--min 0.95] SET.jsonl[:val] ...
//!
//! `make nl-eval` runs it on the dev set, the corpus's validation split and the
//! project's fixtures. A set given as `FILE:val` keeps only the lines whose `split` is
//! `val`; `A,B` scores several files as one set. Each line is scored as ../shared/nl-eval/score.py scores it (the same
//! fields, the same matching), in process: the planner is the one `rast plan` uses,
//! with the index in DIR (catalogue and meaning). Exit 1 if a set scores below --min.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rast_agent::eval::check;
use rast_agent::warm::WarmIndex;
use serde_json::Value;

fn main() {
    let mut index_dir: Option<PathBuf> = None;
    let mut min: Option<f64> = None;
    let mut sets: Vec<String> = Vec::new();
    let mut quiet = false;
    let mut why: Vec<String> = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--index-dir" => index_dir = it.next().map(PathBuf::from),
            "--min" => min = it.next().and_then(|s| s.parse().ok()),
            "--quiet" => quiet = true,
            "--why" => why.push(it.next().expect("--why REQUEST")),
            _ => sets.push(a),
        }
    }
    let dir = index_dir.expect("--index-dir DIR (an index of the Arch 2022 catalogue)");
    let warm = WarmIndex::open(&dir, None).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for r in &why {
        let planner = rast_agent::Planner {
            resolver: rast_agent::plan::resolve::Resolver {
                catalog: &warm.catalog,
                semantic: Some(&warm),
            },
        };
        println!("{r:?}");
        for (c, kinds) in planner.trace(r) {
            let k: Vec<String> = kinds.iter().map(|(k, p)| format!("{k} {p:.2}")).collect();
            println!("  clause {c:?}: {}", k.join(", "));
        }
        println!(
            "  plan: {}",
            serde_json::to_string(&warm.plan(r, None)).unwrap()
        );
    }
    let mut failed_gate = false;
    for set in &sets {
        // "A:val,B:val" scores several files as one set.
        let mut lines: Vec<(String, bool)> = Vec::new();
        for part in set.split(',') {
            let (path, only_val) = match part.strip_suffix(":val") {
                Some(p) => (p, true),
                None => (part, false),
            };
            let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
            lines.extend(text.lines().map(|l| (l.to_string(), only_val)));
        }
        let (mut pass, mut fail) = (0, 0);
        let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut misses = Vec::new();
        for (line, only_val) in lines.iter().filter(|l| !l.0.trim().is_empty()) {
            let case: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{set}: {e}: {line}"));
            if *only_val && case["split"] != "val" {
                continue;
            }
            let req = case["request"].as_str().unwrap_or("");
            let plan = serde_json::to_value(warm.plan(req, None)).unwrap();
            let err = check(&case, &plan);
            let want = case
                .get("expect")
                .and_then(|e| e.get(0))
                .and_then(|a| a["kind"].as_str())
                .unwrap_or("(alternatives)")
                .to_string();
            let got = plan["actions"][0]["kind"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            let e = by_kind.entry(want.clone()).or_default();
            e.1 += 1;
            match err {
                None => {
                    pass += 1;
                    e.0 += 1;
                }
                Some(err) => {
                    fail += 1;
                    if want != got {
                        *confusion.entry((want, got)).or_default() += 1;
                    }
                    misses.push(format!("MISS {req:?}: {err}"));
                }
            }
        }
        let total = pass + fail;
        let acc = pass as f64 / total.max(1) as f64;
        if !quiet {
            for m in &misses {
                println!("{m}");
            }
        }
        println!("\n{set}: {pass}/{total} = {:.1} %", acc * 100.0);
        println!("  {:<16} {:>6}  read as", "kind (first)", "right");
        for (k, (ok, n)) in &by_kind {
            let wrong: Vec<String> = confusion
                .iter()
                .filter(|((w, _), _)| w == k)
                .map(|((_, g), c)| format!("{g} ×{c}"))
                .collect();
            println!("  {k:<16} {ok:>3}/{n:<3} {}", wrong.join(", "));
        }
        if min.is_some_and(|m| acc < m) {
            failed_gate = true;
        }
    }
    if failed_gate {
        std::process::exit(1);
    }
}
