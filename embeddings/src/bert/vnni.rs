//! Integer matrix multiply on AVX-512 VNNI, for the encoder's linear layers on CPUs
//! without AMX.
//!
//! Why: on AVX-512 a core's f32 FMA does 16 multiply-adds per instruction; VNNI's
//! `vpdpwssd` does 32 (pairs of 16-bit integers summed into 32-bit lanes), so the same
//! linear layers take about half the instructions. Weights are quantised to 10 bits per
//! output row and activations to 12 bits per input row, both symmetric (a scale, no
//! zero point): that keeps the embeddings within cosine 0.9999 of the f32 ones (the
//! reference test in embeddings/tests/reference.rs holds it to sentence-transformers),
//! where 8-bit activations (the `vpdpbusd` route, twice as fast again) lost up to 0.0015.
//!
//! Invariants:
//! - [`available`] is true only when the CPU reports AVX-512F, BW and VNNI; callers check
//!   it (and [`fits`]) and fall back to f32 otherwise.
//! - No sum can overflow: a dot product of `k` terms is at most
//!   `k · W_MAX · X_MAX`, and [`fits`] admits only the `k` for which that is below
//!   `i32::MAX` (k ≤ 2,052: MiniLM's widest input is 1,536).
//! - Weights are packed once ([`pack_weights`]) as, for each block of [`COLS`] (48)
//!   outputs and each pair of inputs, three 64-byte vectors of (16 outputs × the 2
//!   inputs) — what one `vpdpwssd` reads.
//! - The kernel keeps 8 rows × 48 outputs in 24 of the 32 vector registers: each weight
//!   vector loaded serves 8 rows, a 48-output panel of 384 inputs (37 KB) stays in L1.
//!   (Measured on one core, 1,024×384 by 384×1,536: 146–161 G multiply-adds/s against
//!   67–76 for gemm's f32 kernel; 6 × 64 and 12 × 32 blocks gave 106–147.)
//! - Shapes: `n` a multiple of 48, `k` even; any number of rows.

/// Largest quantised weight magnitude (10 bits, symmetric).
const W_MAX: f32 = 511.0;
/// Largest quantised activation magnitude (12 bits, symmetric).
const X_MAX: f32 = 2047.0;
/// Vectors of 16 outputs per packed block.
const VECS: usize = 3;
/// Outputs per packed block.
pub const COLS: usize = 16 * VECS;
/// Rows one kernel call keeps in registers (ROWS × VECS accumulators of the 32).
const ROWS: usize = 8;

/// Whether this CPU has the instructions [`matmul`] uses.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether a layer with `k` inputs can never overflow a 32-bit sum, and has the shape
/// the kernel needs (`n` outputs in blocks of [`COLS`], inputs in pairs).
pub fn fits(n: usize, k: usize) -> bool {
    n.is_multiple_of(COLS)
        && k.is_multiple_of(2)
        && (k as f64) * (W_MAX as f64) * (X_MAX as f64) < i32::MAX as f64
}

/// Quantised, packed weights of one layer and each output's scale.
pub struct Packed {
    data: Vec<i16>,
    scales: Vec<f32>,
    n: usize,
    k: usize,
}

/// Scale that maps the largest magnitude of `row` to `max` (1 for an all-zero row).
fn scale(row: &[f32], max: f32) -> f32 {
    let m = row.iter().fold(0f32, |m, x| m.max(x.abs()));
    if m > 0.0 {
        m / max
    } else {
        1.0
    }
}

/// Quantises and packs a linear layer's weights `w` (n rows of k, PyTorch's `out × in`).
pub fn pack_weights(w: &[f32], n: usize, k: usize) -> Packed {
    assert!(fits(n, k) && w.len() == n * k);
    let pairs = k / 2;
    let scales: Vec<f32> = w.chunks(k).map(|row| scale(row, W_MAX)).collect();
    let mut data = vec![0i16; n * k];
    for j in 0..n {
        let (block, lane) = (j / COLS, j % COLS);
        let (vector, lane) = (lane / 16, lane % 16);
        for p in 0..pairs {
            let at = ((block * pairs + p) * VECS + vector) * 32 + lane * 2;
            for e in 0..2 {
                data[at + e] = (w[j * k + 2 * p + e] / scales[j]).round() as i16;
            }
        }
    }
    Packed { data, scales, n, k }
}

/// Quantises activations `x` (m rows of k) into `q`, one scale per row into `scales`.
pub fn quantize_rows(x: &[f32], k: usize, q: &mut Vec<i16>, scales: &mut Vec<f32>) {
    assert!(
        available(),
        "vnni::quantize_rows called without AVX-512 VNNI"
    );
    q.resize(x.len(), 0);
    scales.clear();
    for (row, out) in x.chunks(k).zip(q.chunks_mut(k)) {
        let s = scale(row, X_MAX);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512F/BW (asserted above); `row` and `out` have one length.
        unsafe {
            kernel::quantize(row, 1.0 / s, out)
        };
        scales.push(s);
    }
}

/// `c (m×n) = x · Wᵀ`, dequantised: `x` and `x_scales` from [`quantize_rows`] (m rows).
pub fn matmul(x: &[i16], x_scales: &[f32], m: usize, w: &Packed, c: &mut [f32]) {
    let (n, k) = (w.n, w.k);
    assert!(available(), "vnni::matmul called without AVX-512 VNNI");
    assert!(x.len() == m * k && x_scales.len() == m && c.len() == m * n);
    #[cfg(target_arch = "x86_64")]
    for block in 0..n / COLS {
        let panel = &w.data[block * k * COLS..][..k * COLS];
        let w_scales = &w.scales[block * COLS..][..COLS];
        let mut row = 0;
        while row < m {
            let rows = ROWS.min(m - row);
            let (xs, out) = (&x[row * k..][..rows * k], &mut c[row * n + block * COLS..]);
            let sx = &x_scales[row..][..rows];
            // SAFETY: the CPU has the features (asserted above); every slice covers what
            // the kernel reads or writes: `rows` rows of k inputs, a k×COLS panel, and
            // `rows` output rows of stride n from this block's first column.
            unsafe {
                macro_rules! rows {
                    ($($r:literal)*) => {
                        match rows {
                            $($r => kernel::tile::<$r>(xs, k, panel, sx, w_scales, out, n),)*
                            _ => unreachable!("1 ..= ROWS rows"),
                        }
                    };
                }
                rows!(1 2 3 4 5 6 7 8)
            }
            row += rows;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use super::{COLS, VECS};
    use std::arch::x86_64::*;

    /// `out[i] = round_ties_even(row[i] · inv)` (the caller's scale keeps it in ±2047).
    ///
    /// # Safety
    /// AVX-512F/BW present; `row` and `out` have the same length.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn quantize(row: &[f32], inv: f32, out: &mut [i16]) {
        debug_assert_eq!(row.len(), out.len());
        let vectors = row.len() / 16;
        let tail = vectors * 16;
        let m = _mm512_set1_ps(inv);
        for v in 0..vectors {
            let x = _mm512_mul_ps(_mm512_loadu_ps(row.as_ptr().add(16 * v)), m);
            // cvtps rounds by MXCSR: to nearest, ties to even (Rust never changes it).
            let i = _mm512_cvtepi32_epi16(_mm512_cvtps_epi32(x));
            _mm256_storeu_si256(out.as_mut_ptr().add(16 * v) as *mut __m256i, i);
        }
        for (o, x) in out[tail..].iter_mut().zip(&row[tail..]) {
            *o = (x * inv).round_ties_even() as i16;
        }
    }

    /// `R` rows × [`COLS`] outputs: accumulates over all k inputs in VECS·R registers, then
    /// writes `acc · x_scale · w_scale` into `out` (row stride `ldo`).
    ///
    /// # Safety
    /// AVX-512F/BW/VNNI present; `x` holds R rows of `k` (even), `panel` k×COLS values,
    /// `out` at least ·ldo + COLS values.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn tile<const R: usize>(
        x: &[i16],
        k: usize,
        panel: &[i16],
        x_scales: &[f32],
        w_scales: &[f32],
        out: &mut [f32],
        ldo: usize,
    ) {
        debug_assert!(
            x.len() >= R * k && panel.len() >= k * COLS && out.len() >= (R - 1) * ldo + COLS
        );
        let pairs = k / 2;
        let xp = x.as_ptr() as *const i32;
        let bp = panel.as_ptr() as *const __m512i;
        let mut acc = [[_mm512_setzero_si512(); VECS]; R];
        for p in 0..pairs {
            let b: [__m512i; VECS] =
                std::array::from_fn(|v| _mm512_loadu_si512(bp.add(VECS * p + v)));
            for (r, acc) in acc.iter_mut().enumerate() {
                let a = _mm512_set1_epi32(xp.add(r * pairs + p).read_unaligned());
                for (acc, b) in acc.iter_mut().zip(&b) {
                    *acc = _mm512_dpwssd_epi32(*acc, a, *b);
                }
            }
        }
        let ws: [__m512; VECS] =
            std::array::from_fn(|v| _mm512_loadu_ps(w_scales.as_ptr().add(16 * v)));
        for (r, acc) in acc.iter().enumerate() {
            let s = _mm512_set1_ps(x_scales[r]);
            let o = out.as_mut_ptr().add(r * ldo);
            for (v, (acc, ws)) in acc.iter().zip(&ws).enumerate() {
                let y = _mm512_mul_ps(_mm512_cvtepi32_ps(*acc), _mm512_mul_ps(s, *ws));
                _mm512_storeu_ps(o.add(16 * v), y);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_matrix as matrix;
    use super::*;

    #[test]
    fn overflow_bound_admits_minilm_and_refuses_wider_inputs() {
        assert!(fits(1536, 384) && fits(384, 1536) && fits(1152, 384));
        assert!(!fits(384, 4096), "4,096 inputs could overflow an i32 sum");
        assert!(!fits(100, 384) && !fits(384, 383));
        assert_eq!(
            COLS, 48,
            "MiniLM's 384, 1,152 and 1,536 outputs are multiples of COLS"
        );
    }

    #[test]
    fn integer_product_matches_f64_within_quantisation() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512 VNNI");
            return;
        }
        // 17 rows: two full blocks of 8 and a remainder of 1; 96 outputs: two blocks.
        let (m, k, n) = (17, 96, 96);
        let (a, mut w) = (matrix(m * k, 3), matrix(n * k, 4));
        w[5 * k + 7] = 40.0; // one outlier weight: its row's scale must absorb it
        let packed = pack_weights(&w, n, k);
        let (mut q, mut s) = (Vec::new(), Vec::new());
        quantize_rows(&a, k, &mut q, &mut s);
        let mut c = vec![f32::NAN; m * n];
        matmul(&q, &s, m, &packed, &mut c);
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k)
                    .map(|p| a[i * k + p] as f64 * w[j * k + p] as f64)
                    .sum();
                let row_w = w[j * k..][..k]
                    .iter()
                    .fold(0f64, |m, x| m.max(x.abs() as f64));
                // Each term is off by at most half a step of either quantiser.
                let bound = k as f64 * (row_w / 511.0 + 1.0 / 2047.0) * 1.0;
                let got = c[i * n + j] as f64;
                assert!((got - want).abs() <= bound, "({i},{j}): {got} vs {want}");
                assert!(
                    (got - want).abs() <= 0.02 * row_w.max(1.0),
                    "({i},{j}): {got} vs {want}"
                );
            }
        }
    }
}
