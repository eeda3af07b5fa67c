//! The encoder's elementwise and row-wise maths: bias, exact GELU, softmax, layer norm,
//! mean pooling — written as plain loops over slices that the compiler vectorises.
//!
//! Each public function runs a generic body compiled twice: once for AVX-512 (chosen at
//! run time when the CPU has it) and once for the baseline target. `erf` and `exp` are
//! polynomial approximations that vectorise (libm's scalar `erff`/`expf` were 18 % of a
//! candle index build): erf is Eigen's rational approximation (max error ~1e-7 on
//! [-4, 4], ±1 beyond), exp a degree-6 polynomial after range reduction by ln 2
//! (relative error ~2e-7). Sums run in 16 independent lanes so they vectorise too.

/// Runs `$body` with AVX-512 enabled when the CPU has it, else as compiled.
macro_rules! dispatch {
    ($name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        pub fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn generic($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
                unsafe fn wide($($arg: $ty),*) { generic($($arg),*) }
                if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                {
                    // SAFETY: the CPU has the features `wide` is compiled for.
                    return unsafe { wide($($arg),*) };
                }
            }
            generic($($arg),*)
        }
    };
}

const LANES: usize = 16;

/// Sum of `x` in 16 lanes (vectorisable; order differs from a left fold by rounding).
#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn max(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = a.max(v);
        }
    }
    acc.iter().fold(tail, |m, &v| m.max(v))
}

/// erf(x): Eigen's rational approximation, x·p(x²)/q(x²) on [-4, 4], ±1 outside.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10f32;
    for c in [
        2.770_681_4e-8,
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906_3e-4,
        -2.954_600_1e-3,
        -1.609_603_3e-2,
    ] {
        p = p * x2 + c;
    }
    let mut q = -1.456_607_2e-5f32;
    for c in [
        -2.133_740_6e-4,
        -1.682_827e-3,
        -7.373_329_3e-3,
        -1.426_474e-2,
    ] {
        q = q * x2 + c;
    }
    x * p / q
}

/// e^x for x ≤ 0 down to −87 (softmax's range after subtracting the row maximum).
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.max(-87.0);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    // x − n·ln2 in two parts (Cody–Waite), exact enough for |r| ≤ ln2/2.
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.0 / 720.0f32;
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = p * r + c;
    }
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

dispatch!(add_bias(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
});

dispatch!(add_bias_gelu(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            let y = *v + b;
            *v = 0.5 * y * (1.0 + erf(y * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
});

dispatch!(softmax_rows(x: &mut [f32], width: usize) {
    for row in x.chunks_exact_mut(width) {
        let m = max(row);
        for v in row.iter_mut() {
            *v = exp(*v - m);
        }
        let inv = 1.0 / sum(row);
        for v in row.iter_mut() {
            *v *= inv;
        }
    }
});

dispatch!(residual_layer_norm(x: &mut [f32], residual: &[f32], weight: &[f32], bias: &[f32], eps: f32) {
    let width = weight.len();
    for (row, res) in x.chunks_exact_mut(width).zip(residual.chunks_exact(width)) {
        for (v, r) in row.iter_mut().zip(res) {
            *v += r;
        }
        norm_row(row, weight, bias, eps);
    }
});

dispatch!(layer_norm(x: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    for row in x.chunks_exact_mut(weight.len()) {
        norm_row(row, weight, bias, eps);
    }
});

#[inline(always)]
fn norm_row(row: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    let n = row.len() as f32;
    let mean = sum(row) / n;
    for v in row.iter_mut() {
        *v -= mean;
    }
    let mut sq = [0f32; LANES];
    for c in row.chunks_exact(LANES) {
        for (a, v) in sq.iter_mut().zip(c) {
            *a += v * v;
        }
    }
    let tail: f32 = row
        .chunks_exact(LANES)
        .remainder()
        .iter()
        .map(|v| v * v)
        .sum();
    let inv = 1.0 / ((sq.iter().sum::<f32>() + tail) / n + eps).sqrt();
    for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
        *v = *v * inv * w + b;
    }
}

dispatch!(mean_rows_unit(x: &[f32], out: &mut [f32]) {
    let width = out.len();
    out.fill(0.0);
    let rows = x.len() / width;
    for row in x.chunks_exact(width) {
        for (o, v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
    let inv_rows = 1.0 / rows.max(1) as f32;
    for o in out.iter_mut() {
        *o *= inv_rows;
    }
    let mut sq = [0f32; LANES];
    for c in out.chunks_exact(LANES) {
        for (a, v) in sq.iter_mut().zip(c) {
            *a += v * v;
        }
    }
    let tail: f32 = out.chunks_exact(LANES).remainder().iter().map(|v| v * v).sum();
    let inv = 1.0 / (sq.iter().sum::<f32>() + tail).sqrt().max(1e-12);
    for o in out.iter_mut() {
        *o *= inv;
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    fn libm_erf(x: f64) -> f64 {
        // Abramowitz–Stegun 7.1.26 is too coarse; use the series/continued fraction via
        // the complementary error function of f64 maths: erf(x) = 1 − erfc(x).
        // Rust's std has no erf: integrate exp(−t²) with Simpson's rule instead.
        let n = 2000;
        let h = x / n as f64;
        let f = |t: f64| (-t * t).exp();
        let mut s = f(0.0) + f(x);
        for i in 1..n {
            s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        s * h / 3.0 * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_and_exp_match_f64_maths() {
        for i in -600..=600 {
            let x = i as f32 / 100.0;
            let want = libm_erf(x as f64);
            assert!(
                (erf(x) as f64 - want).abs() < 2e-6,
                "erf({x}) {} vs {want}",
                erf(x)
            );
        }
        for i in 0..=870 {
            let x = -(i as f32) / 10.0;
            let want = (x as f64).exp();
            let rel = (exp(x) as f64 - want).abs() / want;
            assert!(rel < 1e-6, "exp({x}) {} vs {want}", exp(x));
        }
    }

    #[test]
    fn rows_are_normalised_as_torch_does() {
        let mut x: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let orig = x.clone();
        softmax_rows(&mut x, 20);
        for (row, o) in x.chunks(20).zip(orig.chunks(20)) {
            let z: f64 = o.iter().map(|&v| (v as f64).exp()).sum();
            for (p, &v) in row.iter().zip(o) {
                assert!((*p as f64 - (v as f64).exp() / z).abs() < 1e-6);
            }
        }
        let (w, b) = (vec![2.0f32; 20], vec![0.5f32; 20]);
        let mut y = orig.clone();
        layer_norm(&mut y, &w, &b, 1e-12);
        for (row, o) in y.chunks(20).zip(orig.chunks(20)) {
            let mean = o.iter().map(|&v| v as f64).sum::<f64>() / 20.0;
            let var = o.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / 20.0;
            for (got, &v) in row.iter().zip(o) {
                let want = (v as f64 - mean) / var.sqrt() * 2.0 + 0.5;
                assert!((*got as f64 - want).abs() < 1e-5, "{got} vs {want}");
            }
        }
        let mut unit = [0f32; 20];
        mean_rows_unit(&orig, &mut unit);
        let norm: f32 = unit.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        let mut g = vec![-3.0f32, -1.0, 0.0, 0.5, 2.0, 10.0];
        let want: Vec<f64> = g
            .iter()
            .map(|&v| 0.5 * v as f64 * (1.0 + libm_erf(v as f64 / 2f64.sqrt())))
            .collect();
        add_bias_gelu(&mut g, &[0.0; 6]);
        for (a, b) in g.iter().zip(&want) {
            assert!((*a as f64 - b).abs() < 1e-5, "gelu {a} vs {b}");
        }
    }
}
