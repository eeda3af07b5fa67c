//! Fleet benchmark against a real Qdrant (bench/fleet-bench runs it): HOSTS simulated
//! hosts × PER points each, written through the same `QdrantStore::put` the index
//! uses, then fleet-wide and host-filtered hybrid queries, HNSW recall@10 against
//! exact brute force over the same vectors, and re-indexing one host.
//!
//! Vectors are generated (seeded; clustered around 64 random centres with noise of
//! norm ≈ 0.8, as real document embeddings cluster), not embedded: embedding 0.2–2 M texts would take
//! hours on 2 cores and measure the encoder, not the store. Texts are 8 words drawn
//! from a 5,000-word vocabulary.
//!
//! `fleet_bench URL HOSTS PER QUERIES [QDRANT_PID]` prints one Markdown table row
//! set; bench/fleet-bench assembles the table.

use std::time::Instant;

use rast_pkgindex::doc::{Doc, Kind};
use rast_pkgindex::qdrant::{FleetQuery, QdrantConfig, QdrantStore};

const DIM: usize = 384;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-9);
    v.iter_mut().for_each(|x| *x /= n);
}

fn vector(rng: &mut Rng, centres: &[Vec<f32>]) -> Vec<f32> {
    let c = &centres[(rng.next() % centres.len() as u64) as usize];
    // Noise of norm ≈ 0.8 around a unit centre: neighbours within a cluster are close,
    // clusters are apart (uniform noise of norm ≫ 1 would make every vector random, a
    // case no embedding model produces and HNSW is not built for).
    let scale = 0.8 / (DIM as f32 / 3.0).sqrt();
    let mut v: Vec<f32> = c.iter().map(|x| x + scale * rng.unit()).collect();
    normalise(&mut v);
    v
}

fn text(rng: &mut Rng) -> String {
    (0..8)
        .map(|_| format!("w{}", rng.next() % 5000))
        .collect::<Vec<_>>()
        .join(" ")
}

fn doc(i: usize, t: String) -> Doc {
    Doc {
        id: format!("etc:/etc/bench/{i}.conf#0"),
        kind: Some(Kind::Config),
        name: format!("/etc/bench/{i}.conf"),
        text: t,
        lines: (1, 8),
        ..Default::default()
    }
}

fn cfg(url: &str, host: String) -> QdrantConfig {
    QdrantConfig {
        url: url.into(),
        collection: "fleet-bench".into(),
        api_key: None,
        host,
        snapshot: "1".into(),
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

fn rss_kib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let url = &a[1];
    let hosts: usize = a[2].parse().unwrap();
    let per: usize = a[3].parse().unwrap();
    let queries: usize = a[4].parse().unwrap();
    let pid = a.get(5).cloned().unwrap_or_default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let centres: Vec<Vec<f32>> = (0..64)
        .map(|_| {
            let mut c: Vec<f32> = (0..DIM).map(|_| rng.unit()).collect();
            normalise(&mut c);
            c
        })
        .collect();
    // Write every host.
    let mut all: Vec<(usize, usize, Vec<f32>)> = Vec::with_capacity(hosts * per);
    let t = Instant::now();
    for h in 0..hosts {
        let mut store = QdrantStore::connect(cfg(url, format!("host-{h:04}")), DIM).unwrap();
        let docs: Vec<(Doc, Vec<f32>)> = (0..per)
            .map(|i| (doc(i, text(&mut rng)), vector(&mut rng, &centres)))
            .collect();
        for chunk in docs.chunks(1024) {
            let batch: Vec<(&Doc, &[f32])> = chunk.iter().map(|(d, v)| (d, v.as_slice())).collect();
            store.put(&batch, 8.0, "b1").unwrap();
        }
        for (i, (_, v)) in docs.into_iter().enumerate() {
            all.push((h, i, v));
        }
    }
    let write_s = t.elapsed().as_secs_f64();
    let points = hosts * per;
    // Queries, once the server has indexed what was written.
    let store = QdrantStore::connect(cfg(url, "host-0000".into()), DIM).unwrap();
    let t = Instant::now();
    let indexed = store
        .wait_indexed(std::time::Duration::from_secs(600))
        .unwrap();
    eprintln!(
        "fleet_bench: {points} points written in {write_s:.0} s; indexed {} after {:.0} s more",
        if indexed { "fully" } else { "NOT fully" },
        t.elapsed().as_secs_f64()
    );
    let mut fleet_ms = Vec::new();
    let mut host_ms = Vec::new();
    let mut recall = Vec::new();
    for q in 0..queries {
        let qv = vector(&mut rng, &centres);
        let qt = text(&mut rng);
        let one = [format!("host-{:04}", q % hosts)];
        for (ms, hs) in [(&mut fleet_ms, &[][..]), (&mut host_ms, &one[..])] {
            let t = Instant::now();
            let g = store
                .fleet(&FleetQuery {
                    text: &qt,
                    dense: &qv,
                    kind: None,
                    hosts: hs,
                    per_host: 3,
                    max_hosts: 20,
                })
                .unwrap();
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(!g.is_empty());
        }
        if q < 50 {
            let got = store.nearest(&qv, 10, &[]).unwrap();
            let mut exact: Vec<(f32, usize, usize)> = all
                .iter()
                .map(|(h, i, v)| (-v.iter().zip(&qv).map(|(a, b)| a * b).sum::<f32>(), *h, *i))
                .collect();
            exact.select_nth_unstable_by(9, |a, b| a.0.partial_cmp(&b.0).unwrap());
            exact.truncate(10);
            let exact_ids: Vec<(String, String)> = exact
                .iter()
                .map(|(_, h, i)| (format!("host-{h:04}"), format!("etc:/etc/bench/{i}.conf#0")))
                .collect();
            let hit = got.iter().filter(|g| exact_ids.contains(g)).count();
            recall.push(hit as f64 / 10.0);
        }
    }
    // Re-index one host: every point rewritten, stale ones deleted.
    let mut one = QdrantStore::connect(cfg(url, "host-0000".into()), DIM).unwrap();
    let docs: Vec<(Doc, Vec<f32>)> = (0..per)
        .map(|i| (doc(i, text(&mut rng)), vector(&mut rng, &centres)))
        .collect();
    let t = Instant::now();
    for chunk in docs.chunks(1024) {
        let batch: Vec<(&Doc, &[f32])> = chunk.iter().map(|(d, v)| (d, v.as_slice())).collect();
        one.put(&batch, 8.0, "b2").unwrap();
    }
    one.delete_stale("b2").unwrap();
    let reindex_s = t.elapsed().as_secs_f64();
    let r = recall.iter().sum::<f64>() / recall.len().max(1) as f64;
    let qrss = rss_kib(&pid) as f64 / 1024.0;
    println!(
        "| {hosts} | {points} | {:.0} | {:.1} / {:.1} | {:.1} / {:.1} | {r:.3} | {reindex_s:.1} s | {qrss:.0} MiB ({:.0} MiB per M points) | {:.0} MiB |",
        points as f64 / write_s,
        pct(&mut fleet_ms.clone(), 0.5),
        pct(&mut fleet_ms, 0.99),
        pct(&mut host_ms.clone(), 0.5),
        pct(&mut host_ms, 0.99),
        qrss / (points as f64 / 1e6),
        rss_kib("self") as f64 / 1024.0,
    );
}
