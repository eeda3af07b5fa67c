//! Embedding throughput and agreement of the two arithmetics on the same texts.
//! Usage: cargo run --release -p rast-embeddings --example throughput -- TEXTS.jsonl
//! (one JSON string per line, e.g. from pkgindex's embed_texts example). Prints docs/s
//! for the fastest kernel this CPU has (amx-bf16, vnni-int16) and f32, and the lowest cosine between them.

use rast_embeddings::{dot, resolve_model_dir, Encoder, Precision};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: throughput TEXTS.jsonl");
    let texts: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let dir = resolve_model_dir(None).unwrap();
    let mut results = Vec::new();
    for precision in [Precision::Auto, Precision::F32] {
        let enc = Encoder::load_with(&dir, precision).unwrap();
        enc.embed(&texts[..16.min(texts.len())]).unwrap(); // load and warm up
        let t = std::time::Instant::now();
        let v = enc.embed(&texts).unwrap();
        let s = t.elapsed().as_secs_f64();
        let name = enc.kernel().unwrap().name();
        println!(
            "{name:>10}: {:.1} docs/s ({} texts, {s:.2} s)",
            texts.len() as f64 / s,
            texts.len()
        );
        results.push(v);
    }
    let worst = results[0]
        .iter()
        .zip(&results[1])
        .map(|(a, b)| dot(a, b))
        .fold(1.0f32, f32::min);
    println!("lowest cosine between the two: {worst:.6}");
}
