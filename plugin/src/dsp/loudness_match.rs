//! Level matching for the A/B comparison: the gain that makes the original
//! signal as loud as the processed one, so louder never wins by being louder.
//!
//! Both signals are K-weighted (ITU-R BS.1770, the loudness weighting) and
//! their mean squares averaged exponentially with a 3 s time constant, the
//! length of EBU short-term loudness. The matching gain is the square root
//! of the ratio of the two averages, limited to ±24 dB.

use crate::meter::k_weighting::{KWeightingCoefficients, KWeightingFilter};

/// Averaging time constant, seconds.
const TIME_CONSTANT_S: f64 = 3.0;
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
    /// Averaged K-weighted mean square of the original (sum over channels).
    original_energy: f64,
    /// The same for the processed signal.
    processed_energy: f64,
    /// Per-sample smoothing factor of the averages.
    alpha: f64,
}

impl LoudnessMatch {
    /// A matcher for `sample_rate_hz`.
    pub fn new(sample_rate_hz: f32) -> Self {
        let rate = f64::from(sample_rate_hz);
        Self {
            coefficients: KWeightingCoefficients::new(rate),
            original: [KWeightingFilter::default(); MAX_CHANNELS],
            processed: [KWeightingFilter::default(); MAX_CHANNELS],
            original_energy: 0.0,
            processed_energy: 0.0,
            alpha: (-1.0 / (TIME_CONSTANT_S * rate)).exp(),
        }
    }

    /// Forgets both signals.
    pub fn reset(&mut self) {
        self.original = [KWeightingFilter::default(); MAX_CHANNELS];
        self.processed = [KWeightingFilter::default(); MAX_CHANNELS];
        self.original_energy = 0.0;
        self.processed_energy = 0.0;
    }

    /// Measures one frame of both signals: the first `channels` samples of
    /// each array.
    #[inline]
    pub fn measure(&mut self, original: [f32; 2], processed: [f32; 2], channels: usize) {
        let c = &self.coefficients;
        let mut original_square = 0.0;
        for (filter, &x) in self.original.iter_mut().zip(&original[..channels]) {
            let y = filter.process_sample(c, x);
            original_square += y * y;
        }
        let mut processed_square = 0.0;
        for (filter, &x) in self.processed.iter_mut().zip(&processed[..channels]) {
            let y = filter.process_sample(c, x);
            processed_square += y * y;
        }
        self.original_energy =
            original_square + self.alpha * (self.original_energy - original_square);
        self.processed_energy =
            processed_square + self.alpha * (self.processed_energy - processed_square);
        if !(self.original_energy.is_finite() && self.processed_energy.is_finite()) {
            self.reset();
        }
    }

    /// The factor that brings the original to the processed signal's
    /// loudness; 1 when either is silent.
    #[inline]
    pub fn gain(&self) -> f32 {
        if self.original_energy < SILENCE || self.processed_energy < SILENCE {
            return 1.0;
        }
        (self.processed_energy / self.original_energy)
            .sqrt()
            .clamp(1.0 / MAX_GAIN, MAX_GAIN) as f32
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
}
