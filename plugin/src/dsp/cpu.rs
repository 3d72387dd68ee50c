//! What the processor offers beyond the x86-64 baseline, checked once.
//!
//! The hot interpolation and filter kernels (limiter, true-peak meter) work
//! on 16 lanes of f32. Each has an `#[inline(always)]` body and a twin
//! marked `#[target_feature(enable = "avx")]` that calls it, so the body is
//! compiled a second time for AVX: 8 lanes per instruction instead of
//! SSE2's 4. They use no fused multiply-add, so both versions do the same
//! roundings in the same order: the results are bit-identical, which the
//! kernels' tests check. Callers hold an [`Avx`] to call the twin.

/// Whether the CPU supports AVX (the standard library caches the answer).
pub fn has_avx() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Proof that the CPU supports AVX; only [`Avx::detect`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Avx(());

impl Avx {
    /// `Some` when the CPU supports AVX.
    pub fn detect() -> Option<Self> {
        has_avx().then_some(Self(()))
    }
}
