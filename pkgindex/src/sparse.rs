//! Lexical sparse vectors for Qdrant: BM25's term-frequency part on the document
//! side (saturated by `k1`, normalised by length with `b`), weight 1 per query term,
//! and Qdrant's `idf` modifier on the collection supplies the inverse document
//! frequency across every host — together, BM25 computed by the server.
//!
//! Terms are lower-cased runs of letters and digits (2+ characters); a term's index
//! is its 32-bit FNV-1a hash (collisions merge two rare terms' weights; harmless at
//! this vocabulary size). The same function tokenizes documents and queries.

use std::collections::BTreeMap;

use crate::doc::Doc;

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// (indices, values) in Qdrant's sparse-vector form, indices ascending.
pub type Sparse = (Vec<u32>, Vec<f32>);

fn fnv1a(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The terms of `text`, in order (repeats kept).
pub fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.chars().count() >= 2)
        .map(str::to_lowercase)
}

/// What of a document is matched lexically: its name, description, groups and
/// provides, config section and text (what the local BM25 index holds).
pub fn doc_text(d: &Doc) -> String {
    [d.name.as_str(), &d.desc, &d.extra, &d.section, &d.text].join(" ")
}

/// Number of terms of `text` (a document's length for [`doc_vector`]).
pub fn len(text: &str) -> usize {
    terms(text).count()
}

/// The document-side vector of `text`, for a collection whose average document
/// length is `avg_len` terms.
pub fn doc_vector(text: &str, avg_len: f32) -> Sparse {
    let mut tf: BTreeMap<u32, f32> = BTreeMap::new();
    let mut n = 0usize;
    for t in terms(text) {
        *tf.entry(fnv1a(&t)).or_default() += 1.0;
        n += 1;
    }
    let norm = K1 * (1.0 - B + B * n as f32 / avg_len.max(1.0));
    tf.into_iter()
        .map(|(i, f)| (i, f * (K1 + 1.0) / (f + norm)))
        .unzip()
}

/// The query-side vector: 1 per distinct term.
pub fn query_vector(query: &str) -> Sparse {
    let mut idx: Vec<u32> = terms(query).map(|t| fnv1a(&t)).collect();
    idx.sort_unstable();
    idx.dedup();
    let vals = vec![1.0; idx.len()];
    (idx, vals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_queries_share_terms() {
        let (qi, qv) = query_vector("PermitRootLogin yes");
        assert_eq!(qi.len(), 2);
        assert!(qv.iter().all(|v| *v == 1.0));
        let (di, dv) = doc_vector("PermitRootLogin yes\n# PermitRootLogin no", 4.0);
        for i in &qi {
            assert!(di.contains(i), "query term in the document");
        }
        assert!(di.windows(2).all(|w| w[0] < w[1]), "indices ascending");
        // "permitrootlogin" twice weighs more than "yes" once, but saturates below k1+1.
        let w = |term: &str| dv[di.iter().position(|i| *i == fnv1a(term)).unwrap()];
        assert!(w("permitrootlogin") > w("yes"));
        assert!(w("permitrootlogin") < K1 + 1.0);
    }

    #[test]
    fn longer_documents_weigh_a_term_less() {
        let short = doc_vector("openssl", 10.0);
        let long = doc_vector(
            "openssl toolkit for the transport layer security and more words",
            10.0,
        );
        let i = fnv1a("openssl");
        let at = |v: &Sparse| v.1[v.0.iter().position(|x| *x == i).unwrap()];
        assert!(at(&short) > at(&long));
    }

    #[test]
    fn one_letter_fragments_and_punctuation_are_not_terms() {
        assert_eq!(
            terms("a = /etc/x.conf, ok").collect::<Vec<_>>(),
            ["etc", "conf", "ok"]
        );
        assert!(query_vector("").0.is_empty());
    }
}
