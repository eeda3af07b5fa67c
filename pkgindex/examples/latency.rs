//! Warm query latency of a built index: opens it once (as rast-agent does), then times
//! whole searches — query embedding included — over a list of queries, several rounds.
//! The query-embedding cache is cleared before every query unless `--cached` is given. Usage: latency INDEX_DIR QUERIES.jsonl [ROUNDS] [--cached]
//! Prints `p50_ms p99_ms mean_ms n`.

use std::time::Instant;

use rast_pkgindex::index::Searcher;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cached = args.iter().any(|a| a == "--cached");
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let enc =
        rast_embeddings::Encoder::load(&rast_embeddings::resolve_model_dir(None).unwrap()).unwrap();
    let s = Searcher::open(std::path::Path::new(&args[0]), enc).unwrap();
    let queries: Vec<String> = std::fs::read_to_string(&args[1])
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["query"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    s.warm_up().unwrap(); // as rast-agent does
    s.search("warm up", 10, None).unwrap();
    let mut times = Vec::new();
    for _ in 0..rounds {
        for q in &queries {
            if !cached {
                s.clear_query_cache();
            }
            let t = Instant::now();
            let hits = s.search(q, 10, None).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(!hits.is_empty());
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        times[((times.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(times.len() - 1)]
    };
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "{:.2} {:.2} {:.2} {}",
        pct(0.5),
        pct(0.99),
        mean,
        times.len()
    );
}
