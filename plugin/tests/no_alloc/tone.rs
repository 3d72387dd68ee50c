//! The tone shaper never allocates on the audio thread: `set_params`,
//! `process` (settled, ramping, transparent, any block length), `reset` and
//! the getters run under `assert_no_alloc`, which aborts on any allocation.

use nice_assert_no_alloc::assert_no_alloc;
use stem_master::dsp::tone::{LowCutSlope, Tone, ToneParams};

#[test]
fn tone_does_not_allocate() {
    for fs in [44_100.0f32, 192_000.0] {
        let mut tone = Tone::new(fs, 512, 2);
        let mut left: Vec<f32> = (0..5_000).map(|n| (n as f32 * 0.05).sin() * 0.5).collect();
        let mut right = left.clone();
        left[17] = f32::NAN;
        let busy = ToneParams {
            low_cut_enabled: true,
            low_cut_slope: LowCutSlope::Db24,
            low_shelf_db: 3.0,
            high_shelf_db: -2.0,
            tilt_db: 1.5,
            bell_db: 4.0,
            ..ToneParams::default()
        };
        let idle = ToneParams::default();
        let response = assert_no_alloc(|| {
            for (k, block) in [1usize, 7, 64, 512, 4_096].into_iter().enumerate() {
                tone.set_params(if k % 2 == 0 { &busy } else { &idle });
                for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
                    let mut chans = [l, r];
                    tone.process(&mut chans);
                }
            }
            let response = tone.frequency_response_db(1_000.0)
                + busy.frequency_response_db(f64::from(fs), 50.0);
            tone.reset();
            let mut one = [&mut left[..100]];
            tone.process(&mut one);
            (response, tone.latency_samples())
        });
        assert!(response.0.is_finite() && response.1 == 0);
        assert!(left.iter().chain(&right).all(|v| v.is_finite()));
    }
}
