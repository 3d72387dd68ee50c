//! The de-harsher never allocates on the audio thread: `set_params`,
//! `process` (idle, cutting, moving centre, any block length), `reset` and
//! the getters run under `assert_no_alloc`, which aborts on any allocation.

use nice_assert_no_alloc::assert_no_alloc;
use stem_master::dsp::deharsh::{Deharsh, DeharshParams};

#[test]
fn deharsh_does_not_allocate() {
    for fs in [44_100.0f32, 192_000.0] {
        let mut d = Deharsh::new(fs, 512, 2);
        let mut left: Vec<f32> = (0..8_000)
            .map(|n| (std::f32::consts::TAU * 3_000.0 * n as f32 / fs).sin() * 0.3)
            .collect();
        let mut right = left.clone();
        right[99] = f32::INFINITY;
        let moved = DeharshParams {
            centre_hz: 5_000.0,
            width_octaves: 2.0,
            threshold_db: -3.0,
            ..DeharshParams::default()
        };
        let idle = DeharshParams::default();
        let meters = assert_no_alloc(|| {
            for (k, block) in [1usize, 7, 64, 512, 4_096].into_iter().enumerate() {
                d.set_params(if k % 2 == 0 { &moved } else { &idle });
                for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
                    let mut chans = [l, r];
                    d.process(&mut chans);
                }
            }
            let meters = (
                d.gain_reduction_db(),
                d.current_cut_db(),
                d.relative_level_db(),
                d.cut_response_db(3_000.0),
                d.reference_offset_db(),
                d.latency_samples(),
            );
            d.reset();
            let mut one = [&mut left[..100]];
            d.process(&mut one);
            meters
        });
        assert!(meters.0 > 0.0 && meters.3 < 0.0 && meters.5 == 0);
        assert!(left.iter().chain(&right).all(|v| v.is_finite()));
    }
}
