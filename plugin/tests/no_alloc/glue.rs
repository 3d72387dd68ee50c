//! The Glue compressor never allocates on the audio thread: `process`,
//! `set_params`, `reset` and the getters run under `assert_no_alloc`, which
//! aborts the test binary on any allocation.

use nice_assert_no_alloc::assert_no_alloc;
use stem_master::dsp::glue::{Glue, GlueParams};

#[test]
fn glue_does_not_allocate() {
    for fs in [44_100.0f32, 192_000.0] {
        let len = 20_000;
        let mut left: Vec<f32> = (0..len).map(|n| 0.7 * (n as f32 * 0.031).sin()).collect();
        let mut right: Vec<f32> = (0..len).map(|n| 0.5 * (n as f32 * 0.0071).sin()).collect();
        left[333] = f32::NAN;
        let mut glue = Glue::new(fs, 1024, 2);
        let moved = GlueParams {
            threshold_db: -35.0,
            ratio: 6.0,
            attack_ms: 0.5,
            release_ms: 50.0,
            knee_db: 12.0,
            mix: 0.7,
            sidechain_hpf_hz: 200.0,
            makeup_db: 4.0,
        };
        let neutral = GlueParams::default();
        let reduction = assert_no_alloc(|| {
            let mut reduction = 0.0f32;
            for (i, block) in [1usize, 64, 1024, 4096].into_iter().enumerate() {
                glue.set_params(if i % 2 == 0 { &moved } else { &neutral });
                for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
                    glue.process(&mut [l, r]);
                    reduction = reduction.max(glue.gain_reduction_db());
                }
            }
            assert_eq!(glue.latency_samples(), 0);
            glue.reset();
            glue.process(&mut [&mut left[..100]]);
            reduction
        });
        assert!(reduction > 1.0);
        assert!(left.iter().chain(&right).all(|x| x.is_finite()));
    }
}
