//! The quantized query encoder must give the f32 encoder's vectors: cosine >= 0.995 on
//! every query of the search query sets and the reference texts (measured minimum and
//! mean printed), and a copy made from another model is refused.

use rast_embeddings::quantized::{self, QueryEncoder};
use rast_embeddings::{dot, resolve_model_dir, Encoder};

fn queries() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for set in [
        "tests/data/search-eval/dev.jsonl",
        "pkgindex/tests/fixtures/search-extra.jsonl",
        "pkgindex/tests/fixtures/search-heldout.jsonl",
    ] {
        for line in std::fs::read_to_string(root.join(set)).unwrap().lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                out.push(v["query"].as_str().unwrap().to_string());
            }
        }
    }
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/reference.json")).unwrap();
    for c in fixture["cases"].as_array().unwrap() {
        out.push(c["text"].as_str().unwrap().to_string());
    }
    out
}

#[test]
fn quantized_queries_match_the_f32_model() {
    let dir = resolve_model_dir(None).unwrap_or_else(|e| panic!("{e} (run scripts/fetch-model)"));
    let tmp = std::env::temp_dir().join(format!("rast-q8-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let file = tmp.join(quantized::FILE_NAME);
    assert!(
        quantized::write_if_stale(&dir, &file, &[]).unwrap(),
        "first write"
    );
    assert!(
        !quantized::write_if_stale(&dir, &file, &[]).unwrap(),
        "a current copy is kept"
    );
    assert!(quantized::is_current(&dir, &file));
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 30 << 20, "the copy is {size} bytes");

    let f32_enc = Encoder::load(&dir).unwrap();
    let q8 = QueryEncoder::open(&dir, &file).unwrap();
    assert!(
        q8.built_tokenizer(),
        "MiniLM's tokenizer is plain BERT WordPiece"
    );
    let texts = queries();
    assert!(texts.len() > 60);
    let (mut worst, mut sum) = (1.0f32, 0.0f32);
    for t in &texts {
        let a = f32_enc.embed_one(t).unwrap();
        let b = q8.embed(t).unwrap();
        assert_eq!(b.len(), 384);
        let norm: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit vector");
        let cos = dot(&a, &b);
        sum += cos;
        if cos < worst {
            worst = cos;
        }
        assert!(cos >= 0.995, "cosine {cos} for {t:?}");
    }
    println!(
        "q8 vs f32 over {} texts: min cosine {worst:.5}, mean {:.5}; file {size} bytes",
        texts.len(),
        sum / texts.len() as f32
    );

    // A copy of another model (here: a different config) is refused.
    let other = tmp.join("other-model");
    std::fs::create_dir_all(&other).unwrap();
    for f in ["model.safetensors", "tokenizer.json"] {
        std::os::unix::fs::symlink(dir.join(f), other.join(f)).unwrap();
    }
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    std::fs::write(
        other.join("config.json"),
        config.replace("\"gelu\"", "\"gelu_new\""),
    )
    .unwrap();
    assert!(!quantized::is_current(&other, &file));
    let err = QueryEncoder::open(&other, &file).err().expect("refused");
    assert!(err.to_string().contains("another model"), "{err}");
    // And no copy is made of an architecture the forward pass does not implement.
    let err = quantized::write_if_stale(&other, &tmp.join("other.gguf"), &[]).expect_err("refused");
    assert!(err.to_string().contains("supports BERT"), "{err}");
    assert!(!tmp.join("other.gguf").exists());
    std::fs::remove_dir_all(&tmp).unwrap();
}
