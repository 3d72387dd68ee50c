//! What the processor offers beyond the x86-64 baseline, checked once.
//!
//! The hot interpolation and filter kernels (limiter, true-peak meter) work
//! on 16 lanes of f32. Compiled for AVX they take 8 lanes per instruction
//! instead of SSE2's 4. They use no fused multiply-add, so both versions do
//! the same roundings in the same order: the results are bit-identical,
//! which the kernels' tests check.

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

/// Runs `kernel`, compiled for AVX when `avx` is given: the
/// `#[inline(always)]` functions it calls are inlined into an AVX function.
#[inline(always)]
pub fn run_kernel<R>(avx: Option<Avx>, kernel: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if avx.is_some() {
        // SAFETY: an `Avx` exists only when the CPU supports AVX.
        return unsafe { with_avx(kernel) };
    }
    let _ = avx;
    kernel()
}

/// # Safety
///
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn with_avx<R>(kernel: impl FnOnce() -> R) -> R {
    kernel()
}
