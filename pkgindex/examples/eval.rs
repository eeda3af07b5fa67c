//! Relevance of the hybrid ranking on query sets, over a grid of fusion weights.
//! Usage: cargo run --release -p rast-pkgindex --example eval -- INDEX_DIR SET.jsonl…
//! Prints hit@5 and MRR@10 per set and parameter choice (the metrics of
//! ../shared/search-eval/score.py), so weights are chosen on more than one set.
//! With `RAST_EVAL_MISSES=1`, also prints each query the default weights miss (no
//! relevant package in the top 5) with what ranked instead: study misses by class.

use rast_pkgindex::index::Searcher;
use rast_pkgindex::rank::Params;

/// A query and the package names that answer it.
type Case = (String, Vec<String>);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::path::PathBuf::from(&args[0]);
    let enc =
        rast_embeddings::Encoder::load(&rast_embeddings::resolve_model_dir(None).unwrap()).unwrap();
    let s = Searcher::open(&dir, enc).unwrap();
    let sets: Vec<(String, Vec<Case>)> = args[1..]
        .iter()
        .map(|p| {
            let cases = std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    (
                        v["query"].as_str().unwrap().to_string(),
                        v["relevant"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|x| x.as_str().unwrap().to_string())
                            .collect(),
                    )
                })
                .collect();
            (p.clone(), cases)
        })
        .collect();
    if std::env::var_os("RAST_EVAL_MISSES").is_some() {
        for (q, rel) in sets.iter().flat_map(|(_, c)| c) {
            let top: Vec<String> = s
                .search(q, 10, None)
                .unwrap()
                .into_iter()
                .map(|h| h.name)
                .collect();
            if !top.iter().take(5).any(|n| rel.contains(n)) {
                let at = top.iter().position(|n| rel.contains(n)).map(|r| r + 1);
                println!("miss {q:?} (relevant at {at:?}): {}", top.join(" "));
            }
        }
    }
    for (lex, dense, all) in [
        (1.0, 1.0, false),
        (0.25, 1.0, false),
        (0.0, 1.0, false),
        (1.0, 1.0, true),
        (0.5, 1.0, true),
        (0.25, 1.0, true),
    ] {
        let p = Params {
            k: 60.0,
            lexical: lex,
            dense,
            lexical_all_words: all,
        };
        let mut line = format!("lexical {lex:.2} dense {dense:.1} all-words {all}:");
        for (name, cases) in &sets {
            let (mut hits, mut rr) = (0, 0.0);
            for (q, rel) in cases {
                let names: Vec<String> = s
                    .search_with(&p, q, 10, None)
                    .unwrap()
                    .into_iter()
                    .map(|h| h.name)
                    .collect();
                if let Some(r) = names.iter().position(|n| rel.contains(n)) {
                    if r < 5 {
                        hits += 1;
                    }
                    rr += 1.0 / (r + 1) as f64;
                }
            }
            let short = std::path::Path::new(name)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            line += &format!(
                "  {short}: hit@5 {hits}/{} MRR@10 {:.3}",
                cases.len(),
                rr / cases.len() as f64
            );
        }
        println!("{line}");
    }
}
