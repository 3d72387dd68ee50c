//! The Punch transient shaper never allocates on the audio thread:
//! `process`, `set_params`, `reset` and the getters run under
//! `assert_no_alloc`, which aborts the test binary on any allocation.

use nice_assert_no_alloc::assert_no_alloc;
use stem_master::dsp::punch::{Punch, PunchParams};

#[test]
fn punch_does_not_allocate() {
    for fs in [44_100.0f32, 192_000.0] {
        let len = 20_000;
        // Decaying bursts every 5000 samples, so both gains are in use.
        let mut left: Vec<f32> = (0..len)
            .map(|n| 0.7 * (n as f32 * 0.031).sin() * (-((n % 5000) as f32) / 800.0).exp())
            .collect();
        let mut right = left.clone();
        right[4321] = f32::INFINITY;
        let mut punch = Punch::new(fs, 1024, 2);
        let moved = PunchParams {
            attack_db: 9.0,
            sustain_db: -6.0,
        };
        let neutral = PunchParams::default();
        let (boost, cut) = assert_no_alloc(|| {
            let (mut boost, mut cut) = (0.0f32, 0.0f32);
            for (i, block) in [1usize, 64, 1024, 4096].into_iter().enumerate() {
                punch.set_params(if i % 2 == 0 { &moved } else { &neutral });
                for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
                    punch.process(&mut [l, r]);
                    boost = boost.max(punch.gain_boost_db());
                    cut = cut.max(punch.gain_reduction_db());
                }
            }
            assert_eq!(punch.latency_samples(), 0);
            punch.reset();
            punch.process(&mut [&mut left[..100]]);
            (boost, cut)
        });
        assert!(boost > 1.0 && cut > 1.0);
        assert!(left.iter().chain(&right).all(|x| x.is_finite()));
    }
}
