//! bf16 matrix multiply on Intel AMX tiles, for the encoder's linear layers.
//!
//! Why: the six layers' linear maps are ~95 % of an index build's arithmetic. In f32 on
//! AVX-512 a core does at most 32 multiply-adds a cycle; one AMX `tdpbf16ps` does 8,192
//! (a 16×16 f32 tile += 16×32 by 32×16 bf16) in about 16 cycles. Inputs are rounded to
//! bf16 (8 significant bits), products are summed in f32: the embeddings stay within
//! cosine 0.999 of sentence-transformers' f32 ones (embeddings/tests/reference.rs).
//!
//! Invariants:
//! - [`available`] is true only when CPUID reports AMX-TILE and AMX-BF16 **and** Linux
//!   granted this process the tile-data state (`arch_prctl(ARCH_REQ_XCOMP_PERM)`, asked
//!   once per process); every caller checks it, and falls back to f32 otherwise.
//! - Weights are packed once ([`pack_weights`]) into 16×16-pair tiles, the layout
//!   `tdpbf16ps` reads (pairs of consecutive k for one output column).
//! - [`matmul`] loads its own tile configuration and releases the tiles before it
//!   returns, so no tile state outlives a call and any thread may call it.
//! - Shapes: k and n multiples of 32; the activations hold a multiple of 32 rows (the
//!   caller pads with zeros and ignores the extra output rows).

/// Rows and columns of every tile this kernel uses (16 rows of 64 bytes).
const TILE: usize = 16;
/// bf16 values per tile row (64 bytes).
const TILE_K: usize = 32;

/// Whether AMX bf16 tiles can be used by this process (checked and requested once).
pub fn available() -> bool {
    static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OK.get_or_init(request_tiles)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn request_tiles() -> bool {
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // CPUID leaf 7: EDX bit 22 AMX-BF16, bit 24 AMX-TILE.
    let leaf7 = std::arch::x86_64::__cpuid_count(7, 0);
    if leaf7.edx & (1 << 22) == 0 || leaf7.edx & (1 << 24) == 0 {
        return false;
    }
    // SAFETY: a plain syscall with integer arguments; it only changes this process's
    // permitted XSAVE features.
    let r = unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        )
    };
    r == 0
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn request_tiles() -> bool {
    false
}

/// f32 → bf16, rounding to nearest even (inputs are finite activations and weights).
#[inline(always)]
pub fn bf16(x: f32) -> u16 {
    let b = x.to_bits();
    (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// Converts `src` (f32) into `dst` (bf16), same length.
pub fn to_bf16(src: &[f32], dst: &mut [u16]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = bf16(*s);
    }
}

/// Packs a linear layer's weights `w` (n rows of k, PyTorch's `out × in` layout) into
/// tiles: for each block of 16 output columns and each block of 32 inputs, 16 rows of
/// (16 columns × 2 consecutive inputs).
pub fn pack_weights(w: &[f32], n: usize, k: usize) -> Vec<u16> {
    assert!(n.is_multiple_of(2 * TILE) && k.is_multiple_of(TILE_K) && w.len() == n * k);
    let kt = k / TILE_K;
    let mut out = vec![0u16; n * k];
    for nb in 0..n / TILE {
        for kb in 0..kt {
            let tile = &mut out[(nb * kt + kb) * TILE * TILE_K..][..TILE * TILE_K];
            for p in 0..TILE {
                for c in 0..TILE {
                    for j in 0..2 {
                        let (row, col) = (nb * TILE + c, kb * TILE_K + 2 * p + j);
                        tile[p * TILE_K + c * 2 + j] = bf16(w[row * k + col]);
                    }
                }
            }
        }
    }
    out
}

/// `c (m×n, f32) = a (m×k, bf16) · packed`, where `packed` is [`pack_weights`] of an
/// n×k matrix. `m` must be a multiple of 32; `c` is written whole (no bias).
///
/// # Panics
/// If AMX is not [`available`] or a shape is wrong.
pub fn matmul(a: &[u16], m: usize, k: usize, packed: &[u16], n: usize, c: &mut [f32]) {
    assert!(available(), "AMX matmul called without AMX");
    assert!(m.is_multiple_of(2 * TILE) && n.is_multiple_of(2 * TILE) && k.is_multiple_of(TILE_K));
    assert!(a.len() >= m * k && packed.len() == n * k && c.len() >= m * n);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: shapes and lengths checked above (every tile load and store stays inside
    // `a`, `packed` and `c`); AMX is enabled for this process (`available`).
    unsafe {
        kernel::matmul(a.as_ptr(), m, k, packed.as_ptr(), n, c.as_mut_ptr())
    }
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::asm;

    use super::{TILE, TILE_K};

    /// LDTILECFG's 64-byte operand: palette 1, tiles 0–7 all 16 rows × 64 bytes.
    #[repr(C, align(64))]
    struct TileConfig([u8; 64]);

    impl TileConfig {
        fn new() -> TileConfig {
            let mut cfg = [0u8; 64];
            cfg[0] = 1; // palette
            for t in 0..8 {
                cfg[16 + 2 * t..18 + 2 * t].copy_from_slice(&((TILE_K * 2) as u16).to_le_bytes());
                cfg[48 + t] = TILE as u8;
            }
            TileConfig(cfg)
        }
    }

    /// Blocks of 32×32 outputs in tmm0–3, two A tiles (tmm4–5) and two B tiles
    /// (tmm6–7) per step of 32 inputs.
    ///
    /// # Safety
    /// AMX enabled; `a` holds m×k, `b` n×k packed, `c` m×n elements; m, n multiples of
    /// 32, k of 32.
    pub(super) unsafe fn matmul(
        a: *const u16,
        m: usize,
        k: usize,
        b: *const u16,
        n: usize,
        c: *mut f32,
    ) {
        let cfg = TileConfig::new();
        let kt = k / TILE_K;
        let a_stride = k * 2; // bytes per activation row
        let b_stride = TILE_K * 2; // bytes per packed tile row
        let c_stride = n * 4; // bytes per output row
        let tile_len = TILE * TILE_K;
        unsafe {
            asm!("ldtilecfg [{}]", in(reg) cfg.0.as_ptr(), options(nostack, readonly));
            for mb in (0..m).step_by(2 * TILE) {
                for nb in (0..n).step_by(2 * TILE) {
                    asm!(
                        "tilezero tmm0",
                        "tilezero tmm1",
                        "tilezero tmm2",
                        "tilezero tmm3",
                        options(nostack, nomem)
                    );
                    let b0 = b.add((nb / TILE) * kt * tile_len);
                    let b1 = b0.add(kt * tile_len);
                    for kb in 0..kt {
                        let a0 = a.add(mb * k + kb * TILE_K);
                        asm!(
                            "tileloadd tmm4, [{a0} + {sa}*1]",
                            "tileloadd tmm5, [{a1} + {sa}*1]",
                            "tileloadd tmm6, [{b0} + {sb}*1]",
                            "tileloadd tmm7, [{b1} + {sb}*1]",
                            "tdpbf16ps tmm0, tmm4, tmm6",
                            "tdpbf16ps tmm1, tmm4, tmm7",
                            "tdpbf16ps tmm2, tmm5, tmm6",
                            "tdpbf16ps tmm3, tmm5, tmm7",
                            a0 = in(reg) a0,
                            a1 = in(reg) a0.add(TILE * k),
                            b0 = in(reg) b0.add(kb * tile_len),
                            b1 = in(reg) b1.add(kb * tile_len),
                            sa = in(reg) a_stride,
                            sb = in(reg) b_stride,
                            options(nostack, readonly)
                        );
                    }
                    let c0 = c.add(mb * n + nb);
                    asm!(
                        "tilestored [{c0} + {sc}*1], tmm0",
                        "tilestored [{c1} + {sc}*1], tmm1",
                        "tilestored [{c2} + {sc}*1], tmm2",
                        "tilestored [{c3} + {sc}*1], tmm3",
                        c0 = in(reg) c0,
                        c1 = in(reg) c0.add(TILE),
                        c2 = in(reg) c0.add(TILE * n),
                        c3 = in(reg) c0.add(TILE * n + TILE),
                        sc = in(reg) c_stride,
                        options(nostack)
                    );
                }
            }
            asm!("tilerelease", options(nostack, nomem));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_matrix as matrix;
    use super::*;

    #[test]
    fn bf16_rounds_to_nearest_even() {
        assert_eq!(bf16(1.0), 0x3f80);
        assert_eq!(bf16(-2.0), 0xc000);
        // 1 + 2^-8 is halfway between two bf16 values: ties go to the even one (1.0).
        assert_eq!(bf16(1.0 + 1.0 / 256.0), 0x3f80);
        // 1 + 3·2^-8 rounds up to 1 + 2^-6 (even mantissa 0x02).
        assert_eq!(bf16(1.0 + 3.0 / 256.0), 0x3f82);
    }

    #[test]
    fn tiles_multiply_like_f32_within_bf16_rounding() {
        if !available() {
            eprintln!("skipped: this CPU or kernel gives no AMX bf16 tiles");
            return;
        }
        let (m, k, n) = (64, 96, 64);
        let (a, w) = (matrix(m * k, 1), matrix(n * k, 2));
        let mut a16 = vec![0u16; m * k];
        to_bf16(&a, &mut a16);
        let packed = pack_weights(&w, n, k);
        let mut c = vec![f32::NAN; m * n];
        matmul(&a16, m, k, &packed, n, &mut c);
        let back = |x: u16| f32::from_bits((x as u32) << 16);
        for i in 0..m {
            for j in 0..n {
                // Exact products of the rounded inputs, summed in f64: AMX must agree to
                // f32 accumulation error; the f32 product of unrounded inputs to bf16's.
                let rounded: f64 = (0..k)
                    .map(|p| back(bf16(a[i * k + p])) as f64 * back(bf16(w[j * k + p])) as f64)
                    .sum();
                let exact: f64 = (0..k)
                    .map(|p| a[i * k + p] as f64 * w[j * k + p] as f64)
                    .sum();
                let got = c[i * n + j] as f64;
                assert!(
                    (got - rounded).abs() < 1e-4,
                    "({i},{j}): {got} vs {rounded}"
                );
                assert!((got - exact).abs() < 0.05, "({i},{j}): {got} vs {exact}");
            }
        }
    }
}
