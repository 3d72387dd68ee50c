//! The spectrum analyser and the stereo meter never allocate on the audio
//! thread: `process`, `reset` and every getter run under `assert_no_alloc`,
//! which aborts the test binary on any allocation.

use nice_assert_no_alloc::assert_no_alloc;
use stem_master::meter::spectrum::SpectrumAnalyzer;
use stem_master::meter::stereo::StereoMeter;

fn signal(len: usize, freq: f32, fs: f32) -> Vec<f32> {
    (0..len)
        .map(|n| 0.5 * (std::f32::consts::TAU * freq * n as f32 / fs).sin())
        .collect()
}

#[test]
fn spectrum_does_not_allocate() {
    for fs in [22_050.0, 48_000.0, 384_000.0] {
        let mut an = SpectrumAnalyzer::new(fs, 2);
        let l = signal(an.fft_size() * 3 + 17, 997.0, fs);
        let r = signal(an.fft_size() * 3 + 17, 3001.0, fs);
        let frames = assert_no_alloc(|| {
            for block in [1usize, 64, 4096] {
                for (a, b) in l.chunks(block).zip(r.chunks(block)) {
                    an.process(&[a, b]);
                }
            }
            let live = an.sixth_octave_db()[34];
            let long = an.long_term_sixth_octave_db()[34];
            let centres = SpectrumAnalyzer::sixth_octave_centres_hz().len();
            let bands = (an.long_term_bands(), an.live_bands());
            let frames = an.frames_analysed();
            an.reset();
            assert!(live.is_finite() && long.is_finite() && centres > 0);
            assert!(bands.0.mid_db > -20.0);
            frames
        });
        assert!(frames > 0);
    }
}

#[test]
fn stereo_does_not_allocate() {
    for fs in [22_050.0, 48_000.0, 384_000.0] {
        let mut m = StereoMeter::new(fs);
        let l = signal(20_000, 60.0, fs);
        let r = signal(20_000, 61.0, fs);
        let summary = assert_no_alloc(|| {
            for block in [1usize, 64, 4096] {
                for (a, b) in l.chunks(block).zip(r.chunks(block)) {
                    m.process(a, b);
                }
            }
            let live = (m.correlation(), m.low_band_correlation());
            let summary = m.summary();
            m.reset();
            assert!(live.0.is_some() && live.1.is_some());
            summary
        });
        assert!(summary.correlation.is_some());
    }
}
