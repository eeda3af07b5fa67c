//! A linear layer `y = x·Wᵀ + b` of the encoder, in the fastest arithmetic the CPU has
//! that keeps embeddings within cosine 0.999 of f32 ([`Precision::Auto`]):
//! 1. bf16 on AMX tiles where the CPU and kernel allow it ([`super::amx`]);
//! 2. else 16-bit integers on AVX-512 VNNI ([`super::vnni`]: 10-bit weights, 12-bit
//!    activations, 32-bit sums);
//! 3. else f32 through the `gemm` crate (the kernels candle itself calls).
//!
//! All run single-threaded — the encoder runs one chunk of texts per thread, so a matrix
//! multiply never waits on other threads. A shape a faster kernel cannot take falls back
//! to f32 for that layer only.

use super::{amx, math, vnni};

/// Which arithmetic the linear layers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// The fastest of AMX bf16, VNNI int16 and f32 this CPU has.
    Auto,
    /// f32 throughout (what candle and sentence-transformers compute).
    F32,
}

/// The arithmetic one layer ended up with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// bf16 on AMX tiles.
    AmxBf16,
    /// 16-bit integers on AVX-512 VNNI.
    VnniInt16,
    /// f32 through `gemm`.
    F32,
}

impl Kernel {
    /// A short name for reports ("amx-bf16", "vnni-int16", "f32").
    pub fn name(self) -> &'static str {
        match self {
            Kernel::AmxBf16 => "amx-bf16",
            Kernel::VnniInt16 => "vnni-int16",
            Kernel::F32 => "f32",
        }
    }
}

enum Weights {
    /// PyTorch's `out × in` layout, row-major.
    F32(Vec<f32>),
    /// [`amx::pack_weights`] of the same matrix.
    Tiles(Vec<u16>),
    /// [`vnni::pack_weights`] of the same matrix.
    Int16(vnni::Packed),
}

/// One linear layer: `n` outputs from `k` inputs.
pub struct Linear {
    n: usize,
    k: usize,
    weights: Weights,
    bias: Vec<f32>,
}

/// Per-thread buffers a linear layer reuses across calls.
#[derive(Default)]
pub struct Scratch {
    bf16: Vec<u16>,
    int16: Vec<i16>,
    row_scales: Vec<f32>,
}

/// Rows the AMX kernel works in (outputs are computed for padded rows).
const ROW_BLOCK: usize = 32;

impl Linear {
    /// From PyTorch's weight (`n × k`) and bias (`n`).
    pub fn new(w: Vec<f32>, bias: Vec<f32>, n: usize, k: usize, precision: Precision) -> Linear {
        assert_eq!(w.len(), n * k);
        assert_eq!(bias.len(), n);
        let auto = precision == Precision::Auto;
        let weights = if auto
            && amx::available()
            && n.is_multiple_of(ROW_BLOCK)
            && k.is_multiple_of(ROW_BLOCK)
        {
            Weights::Tiles(amx::pack_weights(&w, n, k))
        } else if auto && vnni::available() && vnni::fits(n, k) {
            Weights::Int16(vnni::pack_weights(&w, n, k))
        } else {
            Weights::F32(w)
        };
        Linear {
            n,
            k,
            weights,
            bias,
        }
    }

    /// The arithmetic this layer runs in.
    pub fn kernel(&self) -> Kernel {
        match self.weights {
            Weights::Tiles(_) => Kernel::AmxBf16,
            Weights::Int16(_) => Kernel::VnniInt16,
            Weights::F32(_) => Kernel::F32,
        }
    }

    /// Writes `x (m×k) · Wᵀ` into `out` (resized; its first m×n values are the result,
    /// without the bias: see [`Linear::forward`]).
    fn product(&self, x: &[f32], m: usize, scratch: &mut Scratch, out: &mut Vec<f32>) {
        let (n, k) = (self.n, self.k);
        assert_eq!(x.len(), m * k);
        match &self.weights {
            Weights::Tiles(packed) => {
                let padded = m.div_ceil(ROW_BLOCK) * ROW_BLOCK;
                scratch.bf16.resize(padded * k, 0);
                amx::to_bf16(x, &mut scratch.bf16[..m * k]);
                scratch.bf16[m * k..].fill(0);
                out.resize(padded * n, 0.0);
                amx::matmul(&scratch.bf16, padded, k, packed, n, out);
            }
            Weights::Int16(packed) => {
                vnni::quantize_rows(x, k, &mut scratch.int16, &mut scratch.row_scales);
                out.resize(m * n, 0.0);
                vnni::matmul(&scratch.int16, &scratch.row_scales, m, packed, out);
            }
            Weights::F32(w) => {
                out.resize(m * n, 0.0);
                // SAFETY: dst is m×n (row stride n), lhs m×k (row stride k), rhs is Wᵀ
                // read from W (n×k): element (p, j) at j·k + p; all inside their slices.
                unsafe {
                    gemm::gemm(
                        m,
                        n,
                        k,
                        out.as_mut_ptr(),
                        1,
                        n as isize,
                        false,
                        x.as_ptr(),
                        1,
                        k as isize,
                        w.as_ptr(),
                        k as isize,
                        1,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
            }
        }
        out.truncate(m * n);
    }

    /// `out = x·Wᵀ + b` for `m` rows.
    pub fn forward(&self, x: &[f32], m: usize, scratch: &mut Scratch, out: &mut Vec<f32>) {
        self.product(x, m, scratch, out);
        math::add_bias(out, &self.bias);
    }

    /// `out = GELU(x·Wᵀ + b)` (the exact, erf form BERT uses).
    pub fn forward_gelu(&self, x: &[f32], m: usize, scratch: &mut Scratch, out: &mut Vec<f32>) {
        self.product(x, m, scratch, out);
        math::add_bias_gelu(out, &self.bias);
    }
}
