//! Flush-to-zero for the audio thread.
//!
//! Recursive filters decaying towards silence produce subnormal numbers, which
//! many CPUs process a hundred times slower than normal ones. While a
//! [`FlushDenormals`] guard lives, the current thread's floating point unit
//! flushes subnormal results (FTZ) and treats subnormal inputs as zero (DAZ);
//! dropping the guard restores the previous mode.

use std::marker::PhantomData;

#[cfg(target_arch = "x86_64")]
/// MXCSR bits: flush-to-zero (bit 15) and denormals-are-zero (bit 6).
/// Intel 64 and IA-32 Architectures Software Developer's Manual, vol. 1, 10.2.3.
const MXCSR_FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

#[cfg(target_arch = "aarch64")]
/// FPCR bit 24: flush-to-zero (Arm Architecture Reference Manual, FPCR).
const FPCR_FZ: u64 = 1 << 24;

/// Scoped flush-to-zero mode for the current thread.
pub struct FlushDenormals {
    /// The control register as it was before, restored on drop.
    #[allow(dead_code)]
    previous: u64,
    /// The floating point mode belongs to this thread: the guard must not move.
    _not_send: PhantomData<*const ()>,
}

impl FlushDenormals {
    /// Enables flush-to-zero until the guard is dropped.
    #[inline]
    pub fn enable() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let mut mxcsr: u32 = 0;
            // SAFETY: stmxcsr only stores the SSE control register into the
            // 4-byte location we pass; SSE is part of the x86_64 baseline.
            unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut mxcsr, options(nostack)) };
            let wanted = mxcsr | MXCSR_FTZ_DAZ;
            if wanted != mxcsr {
                // SAFETY: ldmxcsr loads a control word that differs from the
                // current one only in the FTZ and DAZ mode bits.
                unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &wanted, options(nostack)) };
            }
            Self {
                previous: u64::from(mxcsr),
                _not_send: PhantomData,
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            let fpcr: u64;
            // SAFETY: reading FPCR has no side effects.
            unsafe { std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack)) };
            if fpcr & FPCR_FZ == 0 {
                // SAFETY: only the flush-to-zero mode bit changes.
                unsafe {
                    std::arch::asm!("msr fpcr, {}", in(reg) fpcr | FPCR_FZ, options(nomem, nostack))
                };
            }
            Self {
                previous: fpcr,
                _not_send: PhantomData,
            }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            Self {
                previous: 0,
                _not_send: PhantomData,
            }
        }
    }
}

impl Drop for FlushDenormals {
    #[inline]
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        {
            let previous = self.previous as u32;
            if previous & MXCSR_FTZ_DAZ != MXCSR_FTZ_DAZ {
                let mut mxcsr: u32 = 0;
                // SAFETY: as in `enable`.
                unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut mxcsr, options(nostack)) };
                let restored = (mxcsr & !MXCSR_FTZ_DAZ) | (previous & MXCSR_FTZ_DAZ);
                // SAFETY: restores the FTZ and DAZ bits to what they were.
                unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &restored, options(nostack)) };
            }
        }
        #[cfg(target_arch = "aarch64")]
        if self.previous & FPCR_FZ == 0 {
            let fpcr: u64;
            // SAFETY: as in `enable`.
            unsafe { std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack)) };
            // SAFETY: clears the flush-to-zero bit we set.
            unsafe {
                std::arch::asm!("msr fpcr, {}", in(reg) fpcr & !FPCR_FZ, options(nomem, nostack))
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    #[test]
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn subnormal_results_flush_to_zero_only_inside_the_guard() {
        let tiny = black_box(f32::MIN_POSITIVE);
        let half = black_box(0.5f32);
        assert!(
            (tiny * half).is_subnormal(),
            "without the guard the result is subnormal"
        );
        {
            let _guard = FlushDenormals::enable();
            assert_eq!(black_box(tiny) * black_box(half), 0.0);
        }
        assert!(
            (black_box(tiny) * black_box(half)).is_subnormal(),
            "mode restored"
        );
    }
}
