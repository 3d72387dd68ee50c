//! The width module never allocates on the audio thread: `set_params`,
//! `process`, `reset` and the getters run under `assert_no_alloc`, which
//! aborts the test binary on any allocation.

use nice_assert_no_alloc::assert_no_alloc;
use stem_master::dsp::width::{Width, WidthParams};

fn signal(len: usize, freq: f32, fs: f32) -> Vec<f32> {
    (0..len)
        .map(|n| 0.5 * (std::f32::consts::TAU * freq * n as f32 / fs).sin())
        .collect()
}

#[test]
fn width_does_not_allocate() {
    for fs in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        for channels in [1usize, 2] {
            let mut width = Width::new(fs, 512, channels);
            let mut l = signal(8192, 100.0, fs);
            let mut r = signal(8192, 300.0, fs);
            r[50] = f32::INFINITY;
            let settings = [
                WidthParams::default(),
                WidthParams {
                    side_gain_percent: 0.0,
                    balance: 0.5,
                },
                WidthParams {
                    side_gain_percent: 200.0,
                    balance: -1.0,
                },
            ];
            let latency = assert_no_alloc(|| {
                for (k, (a, b)) in l.chunks_mut(700).zip(r.chunks_mut(700)).enumerate() {
                    width.set_params(&settings[k % settings.len()]);
                    if channels == 2 {
                        width.process(&mut [a, b]);
                    } else {
                        width.process(&mut [a]);
                    }
                }
                let params = *width.params();
                width.reset();
                assert!(params.side_gain_percent >= 0.0);
                width.latency_samples()
            });
            assert_eq!(latency, 0);
            assert!(l.iter().all(|x| x.is_finite()));
            // A single channel leaves `r` alone; with two it is sanitised.
            assert_eq!(r.iter().all(|x| x.is_finite()), channels == 2);
        }
    }
}
