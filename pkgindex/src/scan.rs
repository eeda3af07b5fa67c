//! The arithmetic of the flat store's exact search: dot products over f32 and 8-bit
//! rows, top-k selection, and the quantisation that makes the 8-bit rows.
//!
//! Invariants:
//! - [`quantize`] is symmetric per vector: `x ≈ q · scale` with `scale = max|x| / 127`,
//!   so an 8-bit dot times the two scales approximates the f32 dot to about 1e-3 for
//!   unit vectors of a few hundred dimensions. It only orders candidates: every score a
//!   search returns is the f32 dot of the stored row.
//! - [`top_k`] keeps the `k` best by score, ties broken by the lower row, so a scan split
//!   across threads returns the same set as one scan.

use std::collections::BinaryHeap;

/// A scored row. Ordered worst-first, so a max-heap's top is the worst kept hit.
#[derive(PartialEq, Debug)]
pub(crate) struct Hit(pub f32, pub usize);
impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Hit {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}

/// The `k` best of rows `lo..hi` by `score` (`None` skips a row), unordered.
#[inline(always)]
pub(crate) fn top_k(
    lo: usize,
    hi: usize,
    k: usize,
    mut score: impl FnMut(usize) -> Option<f32>,
) -> Vec<Hit> {
    let mut heap: BinaryHeap<Hit> = BinaryHeap::with_capacity(k + 1);
    for r in lo..hi {
        let Some(s) = score(r) else { continue };
        if heap.len() < k {
            heap.push(Hit(s, r));
        } else if heap.peek().is_some_and(|w| Hit(s, r) < *w) {
            heap.pop();
            heap.push(Hit(s, r));
        }
    }
    heap.into_vec()
}

/// Sorts hits best first (score descending, then row).
pub(crate) fn sort_best_first(hits: &mut [Hit]) {
    hits.sort();
}

pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Four accumulators let the compiler vectorise.
    let mut s = [0f32; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..4 {
            s[i] += x[i] * y[i];
        }
    }
    s.iter().sum::<f32>() + ra.iter().zip(rb).map(|(x, y)| x * y).sum::<f32>()
}

fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

/// `v` as 8-bit values and the scale that maps them back.
pub(crate) fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return (vec![0; v.len()], 0.0);
    }
    let scale = max / 127.0;
    let q = v
        .iter()
        .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, scale)
}

/// The 8-bit rows of a store: `rows` is `count × dim` values, `scales` one per row.
pub(crate) struct Rows8<'a> {
    pub dim: usize,
    pub rows: &'a [i8],
    pub scales: &'a [f32],
}

impl Rows8<'_> {
    /// The `k` best rows of `lo..hi` by approximate dot with `q` (quantised by
    /// [`quantize`]), skipping rows `keep` rejects.
    pub fn top_k(
        &self,
        q: &[i8],
        lo: usize,
        hi: usize,
        k: usize,
        keep: &dyn Fn(usize) -> bool,
    ) -> Vec<Hit> {
        let (dim, dot) = (self.dim, fastest_dot_i8());
        top_k(lo, hi, k, |r| {
            if !keep(r) {
                return None;
            }
            let row = &self.rows[r * dim..(r + 1) * dim];
            Some(dot(q, row) as f32 * self.scales[r])
        })
    }
}

/// The fastest [`dot_i8`] this CPU runs.
fn fastest_dot_i8() -> fn(&[i8], &[i8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return |a, b| unsafe { dot_i8_avx2(a, b) };
    }
    dot_i8
}

/// [`dot_i8`] in AVX2, 32 values per step: `maddubs` multiplies unsigned by signed
/// bytes, so `a`'s sign moves onto `b` (`|a| · sign(a)·b`); pairs of products
/// (at most 2 · 127² = 32,258, so the 16-bit sums never saturate: [`quantize`] never
/// yields -128) are widened to 32 bits by `madd` with ones.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_i8_avx2(a: &[i8], b: &[i8]) -> i32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_si256();
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 <= n, so both 32-byte loads are in bounds (unaligned loads).
        let (x, y) = unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().add(i) as *const __m256i),
                _mm256_loadu_si256(b.as_ptr().add(i) as *const __m256i),
            )
        };
        let pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
        i += 32;
    }
    let s = _mm_add_epi32(
        _mm256_castsi256_si128(acc),
        _mm256_extracti128_si256(acc, 1),
    );
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
    _mm_cvtsi128_si32(s) + dot_i8(&a[i..n], &b[i..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantized_dot_tracks_the_f32_dot() {
        let mut rng = 7u64;
        let mut next = || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((rng >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let unit = |v: Vec<f32>| {
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / n).collect::<Vec<_>>()
        };
        for _ in 0..200 {
            let a = unit((0..384).map(|_| next()).collect());
            let b = unit((0..384).map(|_| next()).collect());
            let ((qa, sa), (qb, sb)) = (quantize(&a), quantize(&b));
            let approx = dot_i8(&qa, &qb) as f32 * sa * sb;
            assert!(
                (approx - dot(&a, &b)).abs() < 2e-3,
                "{approx} vs {}",
                dot(&a, &b)
            );
        }
        assert_eq!(quantize(&[0.0, 0.0]), (vec![0, 0], 0.0));
        assert_eq!(quantize(&[0.5, -1.0]).0, vec![64, -127]);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_dot_equals_the_portable_one() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this CPU has no AVX2");
            return;
        }
        let mut x = 3u32;
        let mut next = || {
            x = x.wrapping_mul(1664525).wrapping_add(1013904223);
            ((x >> 24) as u8 as i8).max(-127)
        };
        for len in [0, 1, 31, 32, 33, 384, 385] {
            let a: Vec<i8> = (0..len).map(|_| next()).collect();
            let b: Vec<i8> = (0..len).map(|_| next()).collect();
            // SAFETY: AVX2 checked above.
            assert_eq!(unsafe { dot_i8_avx2(&a, &b) }, dot_i8(&a, &b), "len {len}");
        }
        let max = vec![127i8; 384];
        let min = vec![-127i8; 384];
        assert_eq!(unsafe { dot_i8_avx2(&max, &min) }, -127 * 127 * 384);
        assert_eq!(unsafe { dot_i8_avx2(&min, &min) }, 127 * 127 * 384);
    }

    #[test]
    fn split_scans_keep_the_same_set() {
        let scores = [0.5f32, 0.9, 0.5, 0.1, 0.9, 0.7];
        let score = |r: usize| Some(scores[r]);
        let mut one = top_k(0, 6, 3, score);
        let mut two = top_k(0, 3, 3, score);
        two.extend(top_k(3, 6, 3, score));
        sort_best_first(&mut one);
        sort_best_first(&mut two);
        two.truncate(3);
        assert_eq!(one, vec![Hit(0.9, 1), Hit(0.9, 4), Hit(0.7, 5)]);
        assert_eq!(one, two);
    }
}
