//! The limiter never allocates on the audio thread: `process`, `set_params`,
//! `reset` and the getters run under `assert_no_alloc`, which aborts the test
//! binary on any allocation.

use nice_assert_no_alloc::assert_no_alloc;
use stem_master::dsp::limiter::{Limiter, LimiterParams};

#[test]
fn limiter_does_not_allocate() {
    for sample_rate in [22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        let mut limiter = Limiter::new(sample_rate, 512, 2);
        // Loud enough to limit; longer than the internal chunk.
        let mut left: Vec<f32> = (0..5_000).map(|n| 1.5 * (n as f32 * 0.07).sin()).collect();
        let mut right: Vec<f32> = (0..5_000).map(|n| 1.2 * (n as f32 * 0.05).cos()).collect();
        left[777] = f32::NAN;
        let (reduction, latency) = assert_no_alloc(|| {
            let mut reduction = 0.0_f32;
            let mut start = 0;
            for (i, block) in [1_usize, 7, 64, 512, 4_096].into_iter().cycle().enumerate() {
                if start >= left.len() {
                    break;
                }
                let end = (start + block).min(left.len());
                limiter.set_params(&LimiterParams {
                    drive_db: (i % 5) as f32 * 6.0,
                    ceiling_dbtp: -0.1 - (i % 3) as f32,
                    release_ms: 10.0 + 300.0 * (i % 4) as f32,
                });
                limiter.process(&mut [&mut left[start..end], &mut right[start..end]]);
                reduction = reduction.max(limiter.gain_reduction_db());
                start = end;
            }
            limiter.process(&mut [&mut [][..], &mut [][..]]);
            let latency = limiter.latency_samples();
            limiter.reset();
            (reduction, latency)
        });
        assert!(reduction > 1.0, "{sample_rate}: {reduction}");
        assert!(latency > 0);
        assert!(left.iter().chain(&right).all(|s| s.is_finite()));
    }
}
