//! The low-end module never allocates on the audio thread: `set_params`,
//! `process`, `reset` and the getters run under `assert_no_alloc`, which
//! aborts the test binary on any allocation.

use nice_assert_no_alloc::assert_no_alloc;
use stem_master::dsp::low_end::{LowEnd, LowEndParams};

fn signal(len: usize, freq: f32, fs: f32) -> Vec<f32> {
    (0..len)
        .map(|n| 0.5 * (std::f32::consts::TAU * freq * n as f32 / fs).sin())
        .collect()
}

#[test]
fn low_end_does_not_allocate() {
    for fs in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        for channels in [1usize, 2] {
            let mut low_end = LowEnd::new(fs, 512, channels);
            let mut l = signal(8192, 55.0, fs);
            let mut r = signal(8192, 70.0, fs);
            l[100] = f32::NAN;
            let on = LowEndParams {
                mono_below_enabled: true,
                stabilizer_enabled: true,
                stabilizer_threshold_db: -30.0,
                crossover_hz: 200.0,
                ..LowEndParams::default()
            };
            let reduction = assert_no_alloc(|| {
                let mut reduction = 0.0f32;
                for (k, (a, b)) in l.chunks_mut(700).zip(r.chunks_mut(700)).enumerate() {
                    // Switches, glides and the bypass path, with blocks longer
                    // than the prepared maximum.
                    let p = match k % 4 {
                        0 | 1 => on,
                        2 => LowEndParams {
                            crossover_hz: 60.0,
                            ..on
                        },
                        _ => LowEndParams::default(),
                    };
                    low_end.set_params(&p);
                    if channels == 2 {
                        low_end.process(&mut [a, b]);
                    } else {
                        low_end.process(&mut [a]);
                    }
                    reduction = reduction.max(low_end.gain_reduction_db());
                }
                let latency = low_end.latency_samples();
                let params = *low_end.params();
                low_end.reset();
                assert_eq!(latency, 0);
                assert!(params.crossover_hz > 0.0);
                reduction
            });
            assert!(reduction > 0.0);
        }
    }
}
