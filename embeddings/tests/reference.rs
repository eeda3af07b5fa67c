//! The Rust encoder must reproduce sentence-transformers: cosine >= 0.999 against
//! reference vectors for 24 varied texts (see fixtures/make_reference.py for how they
//! were made), including the empty text, non-Latin scripts, config files, code and
//! texts longer than 128 and 256 tokens (truncation).

use rast_embeddings::{dot, resolve_model_dir, Encoder};

fn encoder() -> Encoder {
    let dir =
        resolve_model_dir(None).unwrap_or_else(|e| panic!("{e} (CI runs scripts/fetch-model)"));
    Encoder::load(&dir).unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot(a, b) / (n(a) * n(b))
}

#[test]
fn matches_sentence_transformers() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/reference.json")).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let enc = encoder();
    assert_eq!(enc.dim(), 384);
    let got = enc.embed(&texts).unwrap();
    let mut worst = (1.0f32, "");
    for (c, v) in cases.iter().zip(&got) {
        let want: Vec<f32> = c["vector"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        let cos = cosine(v, &want);
        if cos < worst.0 {
            worst = (cos, c["text"].as_str().unwrap());
        }
        assert!((dot(v, v) - 1.0).abs() < 1e-4, "not unit length");
    }
    eprintln!(
        "worst cosine vs sentence-transformers: {} ({:?})",
        worst.0, worst.1
    );
    assert!(worst.0 >= 0.999, "cosine {} for {:?}", worst.0, worst.1);
    // Batching and order do not change results: one at a time gives the same vectors.
    for (t, v) in texts.iter().zip(&got).step_by(5) {
        assert!(cosine(&enc.embed_one(t).unwrap(), v) > 0.99999, "{t:?}");
    }
}

#[test]
fn related_texts_are_closer_than_unrelated_ones() {
    let enc = encoder();
    let v = enc
        .embed(&[
            "program to read pdf documents",
            "A document viewer for PDF files",
            "GNU C Library",
        ])
        .unwrap();
    assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]) + 0.2);
}

#[test]
fn missing_model_files_are_named() {
    let d = std::env::temp_dir().join(format!("rast-no-model-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let err = Encoder::load(&d).err().unwrap().to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("fetch-model"),
        "{err}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
