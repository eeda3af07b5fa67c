//! The `gemm` dependency serves src/bert's f32 products and turns on AVX-512 kernels in
//! the gemm that candle's CPU matmul calls (the 8-bit query encoder's f32 products;
//! docs/search.md, "Index build throughput"). That reaches candle only while both are
//! the same crate: if candle moves to another gemm version, ours becomes a second copy
//! and the feature silently stops reaching candle. This test fails then, naming what to
//! change.

#[test]
fn one_gemm_in_the_lock_file_so_avx512_reaches_candle() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("Cargo.lock at the workspace root");
    let versions: Vec<&str> = lock
        .split("[[package]]")
        .filter(|p| p.contains("\nname = \"gemm\"\n"))
        .filter_map(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .collect();
    assert_eq!(
        versions.len(),
        1,
        "Cargo.lock has gemm {versions:?}: set the workspace's gemm to the version \
         candle-core depends on"
    );
}
