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

use crate::meter::k_weighting::{KWeightingCoefficients, KWeightingFilter};

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

/// Tracks the loudness of an original and a processed signal.
pub struct LoudnessMatch {
    coefficients: KWeightingCoefficients,
    /// K-weighting state of the original, per channel.
    original: [KWeightingFilter; MAX_CHANNELS],
    /// K-weighting state of the processed signal, per channel.
    processed: [KWeightingFilter; MAX_CHANNELS],
    /// Sum of squared K-weighted samples of the original in the current hop,
    /// per channel (full scale²·samples).
    original_hop: [f64; MAX_CHANNELS],
    /// The same for the processed signal.
    processed_hop: [f64; MAX_CHANNELS],
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
        Self {
            coefficients: KWeightingCoefficients::new(rate),
            original: [KWeightingFilter::default(); MAX_CHANNELS],
            processed: [KWeightingFilter::default(); MAX_CHANNELS],
            original_hop: [0.0; MAX_CHANNELS],
            processed_hop: [0.0; MAX_CHANNELS],
            hop_fill: 0,
            original_energy: 0.0,
            processed_energy: 0.0,
            alpha: (-(HOP_SAMPLES as f64) / (TIME_CONSTANT_S * rate)).exp(),
            gain: 1.0,
        }
    }

    /// Forgets both signals.
    pub fn reset(&mut self) {
        self.original = [KWeightingFilter::default(); MAX_CHANNELS];
        self.processed = [KWeightingFilter::default(); MAX_CHANNELS];
        self.original_hop = [0.0; MAX_CHANNELS];
        self.processed_hop = [0.0; MAX_CHANNELS];
        self.hop_fill = 0;
        self.original_energy = 0.0;
        self.processed_energy = 0.0;
        self.gain = 1.0;
    }

    /// Measures one frame of both signals: the first `channels` samples of
    /// each array. The same arithmetic as [`Self::measure_block`].
    #[inline]
    pub fn measure(&mut self, original: [f32; 2], processed: [f32; 2], channels: usize) {
        self.accumulate(original, processed, channels);
        self.hop_fill += 1;
        if self.hop_fill == HOP_SAMPLES {
            self.end_hop();
        }
    }

    /// Measures a block of both signals (planar, equal lengths, 1 or 2
    /// channels): the same result as [`Self::measure`] frame by frame.
    pub fn measure_block(&mut self, original: &[&[f32]], processed: &[&[f32]]) {
        let channels = original.len().min(processed.len()).min(MAX_CHANNELS);
        let Some(frames) = original.first().map(|c| c.len()) else {
            return;
        };
        let mut start = 0;
        while start < frames {
            let end = (start + HOP_SAMPLES - self.hop_fill).min(frames);
            if channels == 2 {
                // Four independent recursions per frame, interleaved so the
                // CPU overlaps them.
                let c = &self.coefficients;
                let [original_left, original_right] = &mut self.original;
                let [processed_left, processed_right] = &mut self.processed;
                let mut original_hop = self.original_hop;
                let mut processed_hop = self.processed_hop;
                for (((&a, &b), &p), &q) in original[0][start..end]
                    .iter()
                    .zip(&original[1][start..end])
                    .zip(&processed[0][start..end])
                    .zip(&processed[1][start..end])
                {
                    let (a, b) = (
                        original_left.process_sample(c, a),
                        original_right.process_sample(c, b),
                    );
                    let (p, q) = (
                        processed_left.process_sample(c, p),
                        processed_right.process_sample(c, q),
                    );
                    original_hop[0] += a * a;
                    original_hop[1] += b * b;
                    processed_hop[0] += p * p;
                    processed_hop[1] += q * q;
                }
                self.original_hop = original_hop;
                self.processed_hop = processed_hop;
            } else {
                for n in start..end {
                    let frame = |signal: &[&[f32]]| [signal[0][n], 0.0];
                    self.accumulate(frame(original), frame(processed), channels);
                }
            }
            self.hop_fill += end - start;
            if self.hop_fill == HOP_SAMPLES {
                self.end_hop();
            }
            start = end;
        }
    }

    /// Adds one frame's squared K-weighted samples to the hop sums.
    #[inline(always)]
    fn accumulate(&mut self, original: [f32; 2], processed: [f32; 2], channels: usize) {
        let c = &self.coefficients;
        for channel in 0..channels.min(MAX_CHANNELS) {
            let y = self.original[channel].process_sample(c, original[channel]);
            self.original_hop[channel] += y * y;
            let y = self.processed[channel].process_sample(c, processed[channel]);
            self.processed_hop[channel] += y * y;
        }
    }

    /// Folds the finished hop into the averages and updates the gain.
    fn end_hop(&mut self) {
        let scale = 1.0 / HOP_SAMPLES as f64;
        let original_square: f64 = self.original_hop.iter().sum::<f64>() * scale;
        let processed_square: f64 = self.processed_hop.iter().sum::<f64>() * scale;
        self.original_hop = [0.0; MAX_CHANNELS];
        self.processed_hop = [0.0; MAX_CHANNELS];
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
