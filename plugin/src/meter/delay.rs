//! Delays between the channels of a stereo pair: polarity, Haas delays and
//! combs, from the cross-spectra of [`super::cross_spectrum`].
//!
//! # Method
//!
//! The generalized cross-correlation with the phase transform (GCC-PHAT;
//! C. H. Knapp and G. C. Carter, "The generalized correlation method for
//! estimation of time delay", IEEE Trans. ASSP 24(4), 1976): each bin of a
//! cross-spectrum is divided by its magnitude, keeping only its phase, and
//! the result is transformed back to a cross-correlation over lags. Phase
//! only, so the music's own spectrum (loud bass, tonal peaks) does not
//! shape the result: a pure delay τ between the two signals gives a single
//! peak of height 1 at lag τ, and content the two do not share spreads
//! evenly over all lags.
//!
//! Bins from 100 Hz to 8 kHz count (above −80 dB of the loudest bin); at
//! least half of them must, or nothing is measured (a few tones make a
//! periodic cross-correlation with a peak at every period). Two pairs are
//! read:
//!
//! * **left and right.** A mix whose centre is in phase peaks at lag 0 with
//!   a positive value; a polarity flip of one channel makes that peak
//!   negative; a Haas delay (mono with one channel late) moves the peak to
//!   the delay.
//! * **mid and side.** When the side is a delayed or filtered copy of the
//!   mid (a comb widener: L = m + g·m(t−τ), R = m − g·m(t−τ) makes
//!   S = g·m(t−τ)), the peak sits at the delay.
//!
//! Beside them, the plain correlation of the channels between 20 and
//! 100 Hz, from the same cross-spectrum: kick and bass live there, in phase
//! in any production and for any microphone pair (at 50 Hz the wavelength
//! is 7 m), so it turns negative only when a channel is inverted.

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner};
use std::sync::Arc;

use super::cross_spectrum::CrossSpectra;

/// Lowest frequency counted, Hz.
const BAND_LOW_HZ: f64 = 100.0;
/// Highest frequency counted, Hz.
const BAND_HIGH_HZ: f64 = 8000.0;
/// The band of [`StereoDelay::sub_correlation`], Hz.
pub const SUB_BAND_HZ: (f64, f64) = (20.0, 100.0);
/// Bins more than this far below the loudest bin do not count, dB.
const BIN_FLOOR_DB: f64 = 80.0;
/// Lags within this distance of zero count as zero, ms (the spread of a
/// Hann-windowed peak, and the delays of a spaced microphone pair's centre).
pub const ZERO_LAG_MS: f64 = 0.5;
/// Shortest lag read as a delay between copies, ms.
pub const MIN_DELAY_MS: f64 = 1.0;
/// Longest lag searched, ms (past the Haas window).
pub const MAX_DELAY_MS: f64 = 40.0;

/// What the cross-spectra say about delays between the channels.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StereoDelay {
    /// Whether there was enough signal to measure.
    pub measured: bool,
    /// GCC-PHAT of left and right at lag 0 (±0.5 ms), −1..=1: near 1 for a
    /// centred mix, negative when one channel's polarity is flipped.
    pub lr_zero: f32,
    /// The largest |GCC-PHAT| of left and right at a lag of 1–40 ms,
    /// 0..=1.
    pub lr_delayed: f32,
    /// Its lag, ms; positive when the right channel is late.
    pub lr_delay_ms: f32,
    /// The largest |GCC-PHAT| of mid and side at a lag of 1–40 ms, 0..=1.
    pub ms_delayed: f32,
    /// Its lag, ms; positive when the side is late.
    pub ms_delay_ms: f32,
    /// Correlation of the channels between 20 and 100 Hz, −1..=1: the
    /// range of kick and bass, which every production keeps in phase and
    /// every microphone pair picks up in phase (NaN without signal there).
    pub sub_correlation: f32,
}

/// The inverse transform and buffers, allocated once.
pub struct DelayAnalyzer {
    /// Inverse real FFT of `fft_size` points.
    inverse: Arc<dyn ComplexToReal<f64>>,
    /// FFT length of the spectra read, samples.
    fft_size: usize,
    /// Sample rate, Hz.
    sample_rate_hz: f64,
    /// Phase-only spectrum for the inverse transform.
    spectrum: Vec<Complex<f64>>,
    /// Its transform: the cross-correlation over lags (unnormalised).
    lags: Vec<f64>,
    /// Scratch of the inverse transform.
    scratch: Vec<Complex<f64>>,
}

impl DelayAnalyzer {
    /// For spectra of an `fft_size`-point FFT at `sample_rate_hz`.
    pub fn new(fft_size: usize, sample_rate_hz: f64) -> Self {
        let inverse = RealFftPlanner::<f64>::new().plan_fft_inverse(fft_size);
        let spectrum = inverse.make_input_vec();
        let lags = inverse.make_output_vec();
        let scratch = inverse.make_scratch_vec();
        Self {
            inverse,
            fft_size,
            sample_rate_hz,
            spectrum,
            lags,
            scratch,
        }
    }

    /// Reads `cross` (with the channel-averaged `power` of the same
    /// average). Never allocates.
    // Bins are read from four arrays at once: an index is the plainest.
    #[allow(clippy::needless_range_loop)]
    pub fn analyze(&mut self, power: &[f64], cross: CrossSpectra<'_>) -> StereoDelay {
        let bins = self.spectrum.len();
        if power.len() != bins || cross.cross_re.len() != bins {
            return StereoDelay::default();
        }
        let bin_hz = self.sample_rate_hz / self.fft_size as f64;
        let first = ((BAND_LOW_HZ / bin_hz).ceil() as usize).max(1);
        let last = ((BAND_HIGH_HZ / bin_hz).floor() as usize).min(bins - 2);
        if first >= last {
            return StereoDelay::default();
        }
        let loudest = power[first..=last].iter().fold(0.0f64, |m, &p| m.max(p));
        if loudest <= 1e-20 {
            return StereoDelay::default();
        }
        let floor = loudest * 10f64.powf(-BIN_FLOOR_DB / 10.0);

        // Left and right: S_LR.
        let mut counted = 0usize;
        self.spectrum.fill(Complex::new(0.0, 0.0));
        for k in first..=last {
            let s = Complex::new(cross.cross_re[k], cross.cross_im[k]);
            let magnitude = s.norm();
            if power[k] >= floor && magnitude > 0.0 {
                self.spectrum[k] = s / magnitude;
                counted += 1;
            }
        }
        // Phase-only correlation needs a broad spectrum: a few tones make a
        // periodic cross-correlation with peaks at every period.
        if counted < 8 || counted * 2 < last + 1 - first {
            return StereoDelay::default();
        }
        self.transform();
        let (lr_zero, lr_delayed, lr_lag) = self.read_lags(counted);

        // Mid and side: S_MS = (difference − j·Im S_LR)/2.
        let mut counted_ms = 0usize;
        self.spectrum.fill(Complex::new(0.0, 0.0));
        for k in first..=last {
            let s = Complex::new(0.5 * cross.difference[k], -0.5 * cross.cross_im[k]);
            let magnitude = s.norm();
            if power[k] >= floor && magnitude > 0.0 {
                self.spectrum[k] = s / magnitude;
                counted_ms += 1;
            }
        }
        let (ms_delayed, ms_lag) = if counted_ms >= 8 {
            self.transform();
            let (_, delayed, lag) = self.read_lags(counted_ms);
            (delayed, lag)
        } else {
            (0.0, 0.0)
        };

        // 20–100 Hz: S_LL = P + difference, S_RR = P − difference.
        let (sub_first, sub_last) = (
            ((SUB_BAND_HZ.0 / bin_hz).ceil() as usize).max(1),
            ((SUB_BAND_HZ.1 / bin_hz).floor() as usize).min(bins - 1),
        );
        let (mut lr, mut ll, mut rr) = (0.0, 0.0, 0.0);
        for k in sub_first..=sub_last {
            lr += cross.cross_re[k];
            ll += power[k] + cross.difference[k];
            rr += power[k] - cross.difference[k];
        }
        let sub_correlation = if ll > 1e-20 && rr > 1e-20 {
            (lr / (ll * rr).sqrt()).clamp(-1.0, 1.0) as f32
        } else {
            f32::NAN
        };
        StereoDelay {
            measured: true,
            lr_zero,
            lr_delayed,
            lr_delay_ms: lr_lag,
            ms_delayed,
            ms_delay_ms: ms_lag,
            sub_correlation,
        }
    }

    /// Inverse transform of `spectrum` into `lags`.
    fn transform(&mut self) {
        // DC and Nyquist are zero: realfft's requirement holds.
        if self
            .inverse
            .process_with_scratch(&mut self.spectrum, &mut self.lags, &mut self.scratch)
            .is_err()
        {
            self.lags.fill(0.0);
        }
    }

    /// From `lags` (the transform of `counted` unit bins): the most extreme
    /// value within ±[`ZERO_LAG_MS`] (signed), and the largest magnitude at
    /// 1–40 ms with its lag in ms (positive: the second signal late).
    fn read_lags(&self, counted: usize) -> (f32, f32, f32) {
        let n = self.fft_size;
        // Each unit bin contributes 2·cos(…) to the real inverse transform.
        let scale = 1.0 / (2.0 * counted as f64);
        let samples_per_ms = self.sample_rate_hz / 1000.0;
        let zero = (ZERO_LAG_MS * samples_per_ms).floor() as usize;
        let min_delay = (MIN_DELAY_MS * samples_per_ms).ceil() as usize;
        let max_delay = ((MAX_DELAY_MS * samples_per_ms).floor() as usize).min(n / 2 - 1);
        let at = |lag: isize| self.lags[lag.rem_euclid(n as isize) as usize] * scale;
        let mut zero_value = 0.0f64;
        for lag in -(zero as isize)..=(zero as isize) {
            let v = at(lag);
            if v.abs() > zero_value.abs() {
                zero_value = v;
            }
        }
        let mut delayed = 0.0f64;
        let mut delay_samples = 0isize;
        for lag in min_delay..=max_delay {
            for signed in [lag as isize, -(lag as isize)] {
                let v = at(signed).abs();
                if v > delayed {
                    delayed = v;
                    delay_samples = signed;
                }
            }
        }
        // A peak at lag −τ means the second signal is τ late (see the
        // module docs' sign convention for S_xy = X·conj(Y)).
        (
            zero_value.clamp(-1.0, 1.0) as f32,
            delayed.min(1.0) as f32,
            (-(delay_samples as f64) / samples_per_ms) as f32,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::spectrum::SpectrumAnalyzer;
    use crate::test_support::Noise;

    fn delays(left: &[f32], right: &[f32], fs: f32) -> StereoDelay {
        let mut an = SpectrumAnalyzer::new(fs, 2);
        an.process(&[left, right]);
        let stereo = an.stereo_spectra().expect("stereo");
        let mut analyzer = DelayAnalyzer::new(an.fft_size(), f64::from(fs));
        analyzer.analyze(an.medium_power(), stereo.medium())
    }

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut noise = Noise(seed);
        (0..n).map(|_| (0.3 * noise.next()) as f32).collect()
    }

    /// Identical channels: lag 0 at +1 and nothing elsewhere, and the
    /// channels correlate at +1 in 20–100 Hz; one channel inverted: −1.
    #[test]
    fn polarity_shows_at_lag_zero() {
        let fs = 48_000.0;
        let m = noise(5 * 48_000, 1);
        let same = delays(&m, &m, fs);
        assert!(same.lr_zero > 0.99, "{same:?}");
        assert!(same.lr_delayed < 0.1, "{same:?}");
        let inverted: Vec<f32> = m.iter().map(|x| -x).collect();
        let flipped = delays(&m, &inverted, fs);
        assert!(flipped.lr_zero < -0.99, "{flipped:?}");
        assert!(same.sub_correlation > 0.99 && flipped.sub_correlation < -0.99);
    }

    /// The right channel 15 ms late: the peak moves to +15 ms (within a
    /// sample), at nearly full height; a comb's side (0.7·m 12 ms late)
    /// shows in the mid/side pair at +12 ms; independent channels show none
    /// of it.
    #[test]
    fn delays_and_combs_are_found_at_their_lag() {
        let fs = 48_000.0;
        let m = noise(6 * 48_000, 2);
        let d = 720; // 15 ms
        let late: Vec<f32> = (0..m.len())
            .map(|i| if i >= d { m[i - d] } else { 0.0 })
            .collect();
        let haas = delays(&m, &late, fs);
        assert!(haas.lr_delayed > 0.9, "{haas:?}");
        assert!((haas.lr_delay_ms - 15.0).abs() < 0.05, "{haas:?}");
        assert!(haas.lr_zero.abs() < 0.1, "{haas:?}");

        let c = 576; // 12 ms
        let side: Vec<f32> = (0..m.len())
            .map(|i| if i >= c { 0.7 * m[i - c] } else { 0.0 })
            .collect();
        let left: Vec<f32> = m.iter().zip(&side).map(|(a, b)| a + b).collect();
        let right: Vec<f32> = m.iter().zip(&side).map(|(a, b)| a - b).collect();
        let comb = delays(&left, &right, fs);
        assert!(comb.ms_delayed > 0.9, "{comb:?}");
        assert!((comb.ms_delay_ms - 12.0).abs() < 0.05, "{comb:?}");

        let other = noise(6 * 48_000, 3);
        let wide = delays(&m, &other, fs);
        assert!(wide.lr_delayed < 0.15 && wide.ms_delayed < 0.15, "{wide:?}");
    }
}
