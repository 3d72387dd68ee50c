//! Level matching for the A/B comparison: the gain that makes the original
//! signal as loud as the processed one, so louder never wins by being louder.
//!
//! Both signals are K-weighted (ITU-R BS.1770, the loudness weighting) and
//! their mean squares averaged exponentially with a 3 s time constant, the
//! length of EBU short-term loudness. The averages move once per hop of
//! [`HOP_SAMPLES`] samples (1.3 ms at 48 kHz), counted from the last reset,
//! so the result does not depend on how the audio is cut into blocks; with
//! a 3 s time constant one hop moves the gain by at most 0.002 dB. The
//! matching gain is the square root of the ratio of the two averages,
//! limited to ±24 dB.
//!
//! The four signals (original and processed, left and right) run through
//! the K-weighting side by side, one f32 lane each, so every operation
//! serves all four. f32 suffices here: this is a level match, not a meter,
//! and the test against the f64 meter filter shows the energies agree
//! within 0.01 dB.

use crate::meter::k_weighting::KWeightingCoefficients;

/// Averaging time constant, seconds.
const TIME_CONSTANT_S: f64 = 3.0;
/// Samples per update of the averages.
pub const HOP_SAMPLES: usize = 64;
/// Largest correction either way, as a linear factor (24 dB).
const MAX_GAIN: f64 = 15.848_931_924_611_133;
/// Below this mean square (about −70 LUFS) a signal counts as silent and
/// no correction is made.
const SILENCE: f64 = 1e-7;
/// Channels handled.
const MAX_CHANNELS: usize = 2;
/// Signals filtered side by side: original L, R, processed L, R.
const LANES: usize = 4;

/// One biquad's coefficients in f32 (normalised, `a0 = 1`).
#[derive(Debug, Clone, Copy)]
struct Section {
    b0: f32,
    b1: f32,
    b2: f32,
    a1: f32,
    a2: f32,
}

/// One biquad's direct-form-I state per lane: x₋₁, x₋₂, y₋₁, y₋₂.
type SectionState = [[f32; LANES]; 4];

/// Tracks the loudness of an original and a processed signal.
pub struct LoudnessMatch {
    /// K-weighting: the shelf, then the high-pass.
    sections: [Section; 2],
    /// Filter state of both sections, per lane.
    state: [SectionState; 2],
    /// Sums of squared K-weighted samples in the current hop, per lane
    /// (full scale²·samples).
    hop: [f32; LANES],
    /// Samples of the current hop seen so far.
    hop_fill: usize,
    /// Averaged K-weighted mean square of the original (sum over channels,
    /// full scale²).
    original_energy: f64,
    /// The same for the processed signal.
    processed_energy: f64,
    /// Smoothing factor of the averages per hop.
    alpha: f64,
    /// The matching gain for the averages as they stand (linear).
    gain: f32,
}

impl LoudnessMatch {
    /// A matcher for `sample_rate_hz`.
    pub fn new(sample_rate_hz: f32) -> Self {
        let rate = f64::from(sample_rate_hz);
        let k = KWeightingCoefficients::new(rate);
        let section = |c: &crate::dsp::biquad::BiquadCoefficients| Section {
            b0: c.b0 as f32,
            b1: c.b1 as f32,
            b2: c.b2 as f32,
            a1: c.a1 as f32,
            a2: c.a2 as f32,
        };
        Self {
            sections: [section(&k.shelf), section(&k.high_pass)],
            state: [[[0.0; LANES]; 4]; 2],
            hop: [0.0; LANES],
            hop_fill: 0,
            original_energy: 0.0,
            processed_energy: 0.0,
            alpha: (-(HOP_SAMPLES as f64) / (TIME_CONSTANT_S * rate)).exp(),
            gain: 1.0,
        }
    }

    /// Forgets both signals.
    pub fn reset(&mut self) {
        self.state = [[[0.0; LANES]; 4]; 2];
        self.hop = [0.0; LANES];
        self.hop_fill = 0;
        self.original_energy = 0.0;
        self.processed_energy = 0.0;
        self.gain = 1.0;
    }

    /// Measures one frame of both signals: the first `channels` samples of
    /// each array. The same arithmetic as [`Self::measure_block`].
    #[inline]
    pub fn measure(&mut self, original: [f32; 2], processed: [f32; 2], channels: usize) {
        let used = channels.min(MAX_CHANNELS);
        let mut frame = [0.0; LANES];
        frame[..used].copy_from_slice(&original[..used]);
        frame[MAX_CHANNELS..MAX_CHANNELS + used].copy_from_slice(&processed[..used]);
        self.step(frame);
    }

    /// Measures a block of both signals (planar, equal lengths, 1 or 2
    /// channels): the same result as [`Self::measure`] frame by frame.
    pub fn measure_block(&mut self, original: &[&[f32]], processed: &[&[f32]]) {
        let channels = original.len().min(processed.len()).min(MAX_CHANNELS);
        let Some(frames) = original.first().map(|c| c.len()) else {
            return;
        };
        // Runs up to the end of the current hop: the four signals are
        // interleaved into frames of four lanes, then filtered.
        let mut frames_of_lanes = [[0.0f32; LANES]; HOP_SAMPLES];
        let mut start = 0;
        while start < frames {
            let end = (start + HOP_SAMPLES - self.hop_fill).min(frames);
            let run = &mut frames_of_lanes[..end - start];
            for (channel, lane) in (0..channels).flat_map(|c| [(c, c), (c, MAX_CHANNELS + c)]) {
                let signal = if lane < MAX_CHANNELS {
                    original
                } else {
                    processed
                };
                for (frame, &x) in run.iter_mut().zip(&signal[channel][start..end]) {
                    frame[lane] = x;
                }
            }
            for &frame in run.iter() {
                self.filter_frame(frame);
            }
            self.hop_fill += end - start;
            if self.hop_fill == HOP_SAMPLES {
                self.end_hop();
            }
            start = end;
        }
    }

    /// One frame of the four lanes through the K-weighting into the hop
    /// sums; ends the hop when it is full.
    #[inline(always)]
    fn step(&mut self, input: [f32; LANES]) {
        self.filter_frame(input);
        self.hop_fill += 1;
        if self.hop_fill == HOP_SAMPLES {
            self.end_hop();
        }
    }

    /// One frame of the four lanes through the K-weighting into the hop
    /// sums (non-finite samples count as silence).
    #[inline(always)]
    fn filter_frame(&mut self, input: [f32; LANES]) {
        let mut x = [0.0f32; LANES];
        for lane in 0..LANES {
            x[lane] = if input[lane].is_finite() {
                input[lane]
            } else {
                0.0
            };
        }
        for (state, k) in self.state.iter_mut().zip(&self.sections) {
            let [x1, x2, y1, y2] = *state;
            let mut y = [0.0f32; LANES];
            for lane in 0..LANES {
                y[lane] = k.b0 * x[lane] + k.b1 * x1[lane] + k.b2 * x2[lane]
                    - k.a2 * y2[lane]
                    - k.a1 * y1[lane];
            }
            *state = [x, x1, y, y1];
            x = y;
        }
        for (sum, &y) in self.hop.iter_mut().zip(&x) {
            *sum += y * y;
        }
    }

    /// Folds the finished hop into the averages and updates the gain.
    fn end_hop(&mut self) {
        let scale = 1.0 / HOP_SAMPLES as f64;
        let [original_left, original_right, processed_left, processed_right] = self.hop;
        let original_square = (f64::from(original_left) + f64::from(original_right)) * scale;
        let processed_square = (f64::from(processed_left) + f64::from(processed_right)) * scale;
        self.hop = [0.0; LANES];
        self.hop_fill = 0;
        self.original_energy =
            original_square + self.alpha * (self.original_energy - original_square);
        self.processed_energy =
            processed_square + self.alpha * (self.processed_energy - processed_square);
        if !(self.original_energy.is_finite() && self.processed_energy.is_finite()) {
            self.reset();
        }
        self.gain = if self.original_energy < SILENCE || self.processed_energy < SILENCE {
            1.0
        } else {
            (self.processed_energy / self.original_energy)
                .sqrt()
                .clamp(1.0 / MAX_GAIN, MAX_GAIN) as f32
        };
    }

    /// The factor that brings the original to the processed signal's
    /// loudness; 1 when either is silent.
    #[inline]
    pub fn gain(&self) -> f32 {
        self.gain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_level_difference_and_ignores_silence() {
        let rate = 48_000.0;
        let mut matcher = LoudnessMatch::new(rate);
        let tone: Vec<f32> = (0..rate as usize * 15)
            .map(|n| 0.1 * (std::f32::consts::TAU * 1000.0 * n as f32 / rate).sin())
            .collect();
        for &x in &tone {
            matcher.measure([x, 0.0], [2.0 * x, 0.0], 1);
        }
        // Same spectrum, 6.02 dB apart: the factor is 2 once the 3 s
        // averages have settled (15 s = 5 time constants: within 1 %).
        assert!((matcher.gain() - 2.0).abs() < 0.02, "{}", matcher.gain());
        matcher.reset();
        assert_eq!(matcher.gain(), 1.0);
    }

    #[test]
    fn f32_filters_match_the_f64_loudness_weighting() {
        // Programme-like noise with strong lows and highs: the matcher's
        // K-weighted energy (f32) against the meter's f64 filter.
        use crate::meter::k_weighting::KWeightingFilter;
        use crate::test_support::{Noise, PROCESSOR_RATES};
        for rate in PROCESSOR_RATES {
            let mut noise = Noise(0x1234_5678);
            let signal: Vec<f32> = (0..(rate as usize * 4))
                .map(|n| {
                    let t = n as f32 / rate;
                    0.5 * (std::f32::consts::TAU * 45.0 * t).sin() + 0.15 * noise.next() as f32
                })
                .collect();
            let mut reference = KWeightingFilter::default();
            let c = KWeightingCoefficients::new(f64::from(rate));
            let f64_energy = reference.sum_of_squares(&c, &signal) / signal.len() as f64;
            let mut f32_energy = 0.0f64;
            let mut lanes = LoudnessMatch::new(rate);
            for &x in &signal {
                lanes.step([x, 0.0, 0.0, 0.0]);
                // The high-pass section's newest output, lane 0.
                f32_energy += f64::from(lanes.state[1][2][0]).powi(2);
            }
            let f32_energy = f32_energy / signal.len() as f64;
            let difference_db = 10.0 * (f32_energy / f64_energy).log10();
            println!("{rate} Hz: f32 K-weighted energy {difference_db:+.6} dB off the f64 meter");
            assert!(
                difference_db.abs() < 0.01,
                "{rate} Hz: {difference_db:+.5} dB"
            );
        }
    }

    #[test]
    fn block_and_frame_measurements_agree_exactly() {
        let rate = 44_100.0;
        let signal = |n: usize, f: f32| 0.2 * (std::f32::consts::TAU * f * n as f32 / rate).sin();
        let left: Vec<f32> = (0..20_000).map(|n| signal(n, 440.0)).collect();
        let right: Vec<f32> = (0..20_000).map(|n| signal(n, 3000.0)).collect();
        let louder: Vec<f32> = left.iter().map(|x| 1.7 * x).collect();
        let mut by_frame = LoudnessMatch::new(rate);
        for n in 0..left.len() {
            by_frame.measure([left[n], right[n]], [louder[n], right[n]], 2);
        }
        let mut by_block = LoudnessMatch::new(rate);
        let mut start = 0;
        for (i, len) in [1usize, 7, 64, 100, 513, 4096].iter().cycle().enumerate() {
            if start >= left.len() {
                break;
            }
            let end = (start + len + i % 3).min(left.len());
            by_block.measure_block(
                &[&left[start..end], &right[start..end]],
                &[&louder[start..end], &right[start..end]],
            );
            start = end;
        }
        assert_eq!(by_frame.gain().to_bits(), by_block.gain().to_bits());
        assert!(by_frame.gain() > 1.0);
    }
}
