//! The Rust encoder must reproduce sentence-transformers: cosine >= 0.999 against
//! reference vectors for 24 varied texts (see fixtures/make_reference.py for how they
//! were made), including the empty text, non-Latin scripts, config files, code and
//! texts longer than 128 and 256 tokens (truncation). Both arithmetics are held to it:
//! [`Precision::Auto`] (bf16 on AMX or int16 on VNNI where the CPU has them) and
//! [`Precision::F32`].

use rast_embeddings::{dot, resolve_model_dir, Encoder, Precision};

fn encoder_with(precision: Precision) -> Encoder {
    let dir =
        resolve_model_dir(None).unwrap_or_else(|e| panic!("{e} (CI runs scripts/fetch-model)"));
    Encoder::load_with(&dir, precision).unwrap()
}

fn encoder() -> Encoder {
    encoder_with(Precision::Auto)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot(a, b) / (n(a) * n(b))
}

#[test]
fn matches_sentence_transformers() {
    check_against_reference(Precision::Auto);
}

#[test]
fn matches_sentence_transformers_in_f32() {
    check_against_reference(Precision::F32);
}

fn check_against_reference(precision: Precision) {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/reference.json")).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let enc = encoder_with(precision);
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
        "worst cosine vs sentence-transformers ({precision:?}, {}): {} ({:?})",
        enc.kernel().unwrap().name(),
        worst.0,
        worst.1
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
