//! Stereo image: correlation (broadband and low band), balance, side-to-mid, mono fold-down loss.
//!
//! # Correlation
//!
//! The phase correlation of a stereo pair is the normalised cross-correlation
//! at lag 0, `r = E[L·R] / sqrt(E[L²]·E[R²])` (the quantity a
//! "correlation meter" shows, IEC 60268-18 / EBU Tech 3341 annex on
//! correlation meters; M. Dickreiter et al., "Handbuch der
//! Tonstudiotechnik", 8th ed., 2014, §7.4.7).
//!
//! * Live ([`StereoMeter::correlation`]): the three expectations are one-pole
//!   exponential averages (an RC integrator, as in analogue correlation
//!   meters) with a 300 ms time constant, updated every sample in `f64`.
//!   After a step change the reading moves `1 − e^(−t/0.3 s)` of the way.
//! * Whole run ([`StereoMeter::summary`]): plain sums since the last reset in
//!   `f64`.
//!
//! # Low band
//!
//! Both channels are low-passed at 150 Hz with a 4th-order Linkwitz–Riley
//! filter: two cascaded 2nd-order Butterworth sections (Q = 1/√2), each from
//! R. Bristow-Johnson's "Audio EQ Cookbook" (bilinear transform prewarped at
//! 150 Hz), in transposed direct form II with `f64` state. The response is
//! `|H| = 1/(1 + (f/150 Hz)⁴)` (−6.02 dB at 150 Hz, −24 dB/octave), with
//! the bilinear transform's extra attenuation towards Nyquist.
//!
//! # Silence
//!
//! A channel (or band) counts as silent when its mean square over the
//! measurement (the 300 ms average live, the whole run in the summary) is
//! below 1e-10, i.e. RMS below −100 dBFS.
//!
//! Non-finite samples count as 0.0; finite ones are clipped to ±1e6
//! (+120 dBFS). Recursive state below 1e-200 in magnitude is flushed to zero
//! every sample so silence never leaves subnormal numbers behind (which
//! would be slow without flush-to-zero).

use super::sanitize;
/// Time constant of the live averages, seconds.
const LIVE_TIME_CONSTANT_S: f64 = 0.3;

/// Samples per update of the live averages (1.3 ms at 48 kHz): the live
/// readings move in steps of at most 0.5 % of their time constant.
const LIVE_HOP_SAMPLES: usize = 64;

/// Corner frequency of the low-band filter, Hz.
const LOW_BAND_HZ: f64 = 150.0;

/// Mean square (full-scale²) below which a signal counts as silent
/// (−100 dBFS RMS).
const SILENT_MEAN_SQUARE: f64 = 1.0e-10;

/// Clamp for the side-to-mid and mono-loss ratios, dB.
const RATIO_CLAMP_DB: f64 = 120.0;

/// Recursive state smaller than this in magnitude is set to zero.
const FLUSH_BELOW: f64 = 1.0e-200;

/// Whole-run figures since the last reset (what an offline analysis reports
/// for a file). "Silent" means whole-run RMS below −100 dBFS.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StereoSummary {
    /// Σ L·R / sqrt(ΣL²·ΣR²) over everything fed, −1..=+1; None if either
    /// channel was silent.
    pub correlation: Option<f32>,
    /// The same for both channels low-passed at 150 Hz (LR4); None if either
    /// channel's low band was silent.
    pub low_band_correlation: Option<f32>,
    /// 10·log10(ΣL² / ΣR²), dB; positive = left louder. None if either side
    /// silent.
    pub balance_db: Option<f32>,
    /// Side-to-mid energy ratio, dB: 10·log10(ΣS²/ΣM²) with M = (L+R)/2,
    /// S = (L−R)/2, clamped to ±120 dB (so S ≡ 0, i.e. L = R, reads −120).
    /// None if M is silent.
    pub side_to_mid_db: Option<f32>,
    /// Level lost when folded to mono, dB, ≥ 0:
    /// 10·log10((ΣL²+ΣR²) / (2·ΣM²)), M = (L+R)/2. 0 for L = R, 3.01 for
    /// uncorrelated equal-level channels or one silent channel, clamped at
    /// 120 dB (L = −R). None if both channels are silent.
    pub mono_loss_db: Option<f32>,
}

/// Running mean squares / sums of products of a stereo pair.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Moments {
    /// E[L²] or ΣL², full-scale².
    ll: f64,
    /// E[R²] or ΣR², full-scale².
    rr: f64,
    /// E[L·R] or ΣL·R, full-scale².
    lr: f64,
}

impl Moments {
    /// One step of the exponential average towards the means of the sums
    /// `hop` over `count` samples, with coefficient `c`.
    #[inline]
    fn average(&mut self, hop: &Moments, count: f64, c: f64) {
        self.ll = flush(self.ll + c * (hop.ll / count - self.ll));
        self.rr = flush(self.rr + c * (hop.rr / count - self.rr));
        self.lr = flush(self.lr + c * (hop.lr / count - self.lr));
    }

    /// Adds the sums `other`.
    #[inline]
    fn add(&mut self, other: &Moments) {
        self.ll += other.ll;
        self.rr += other.rr;
        self.lr += other.lr;
    }

    /// Adds one sample pair to the sums.
    #[inline]
    fn accumulate(&mut self, l: f64, r: f64) {
        self.ll += l * l;
        self.rr += r * r;
        self.lr += l * r;
    }

    /// Correlation coefficient, given the silence threshold for `ll`/`rr`
    /// (same unit). Both silent: None; exactly one silent: None when
    /// `one_silent_is_none`, else 0 (no common component).
    fn correlation(&self, threshold: f64, one_silent_is_none: bool) -> Option<f32> {
        let l_silent = self.ll < threshold;
        let r_silent = self.rr < threshold;
        match (l_silent, r_silent) {
            (true, true) => None,
            (true, false) | (false, true) => (!one_silent_is_none).then_some(0.0),
            (false, false) => {
                let r = self.lr / (self.ll * self.rr).sqrt();
                Some(r.clamp(-1.0, 1.0) as f32)
            }
        }
    }
}

/// 2nd-order Butterworth low-pass section, transposed direct form II, for
/// two channels side by side (one lane each, so each operation serves both).
#[derive(Debug, Clone, Copy, Default)]
struct Biquad {
    /// Feed-forward coefficients b0, b1, b2 (normalised by a0).
    b: [f64; 3],
    /// Feedback coefficients a1, a2 (normalised by a0).
    a: [f64; 2],
    /// State s1, s2 per lane (signal units).
    s: [[f64; 2]; 2],
}

impl Biquad {
    /// Low-pass at `corner_hz`, quality `q` (R. Bristow-Johnson, "Cookbook
    /// formulae for audio EQ biquad filter coefficients", LPF). `1 − cos ω₀`
    /// is computed as `2·sin²(ω₀/2)` to keep precision at low `ω₀`.
    fn low_pass(corner_hz: f64, q: f64, sample_rate_hz: f64) -> Self {
        let w0 = std::f64::consts::TAU * corner_hz / sample_rate_hz;
        let alpha = w0.sin() / (2.0 * q);
        let one_minus_cos = 2.0 * (0.5 * w0).sin().powi(2);
        let a0 = 1.0 + alpha;
        Self {
            b: [
                0.5 * one_minus_cos / a0,
                one_minus_cos / a0,
                0.5 * one_minus_cos / a0,
            ],
            a: [-2.0 * w0.cos() / a0, (1.0 - alpha) / a0],
            s: [[0.0; 2]; 2],
        }
    }

    #[inline(always)]
    fn process(&mut self, x: [f64; 2]) -> [f64; 2] {
        let [s1, s2] = self.s;
        let mut y = [0.0; 2];
        let mut next = [[0.0; 2]; 2];
        for lane in 0..2 {
            y[lane] = self.b[0] * x[lane] + s1[lane];
            next[0][lane] = flush(self.b[1] * x[lane] - self.a[0] * y[lane] + s2[lane]);
            next[1][lane] = flush(self.b[2] * x[lane] - self.a[1] * y[lane]);
        }
        self.s = next;
        y
    }

    fn reset(&mut self) {
        self.s = [[0.0; 2]; 2];
    }
}

/// 4th-order Linkwitz–Riley low-pass: two identical Butterworth sections,
/// for two channels side by side.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LinkwitzRiley4 {
    /// The two cascaded sections.
    sections: [Biquad; 2],
}

impl LinkwitzRiley4 {
    pub(super) fn new(corner_hz: f64, sample_rate_hz: f64) -> Self {
        let section = Biquad::low_pass(corner_hz, std::f64::consts::FRAC_1_SQRT_2, sample_rate_hz);
        Self {
            sections: [section; 2],
        }
    }

    #[inline(always)]
    pub(super) fn process(&mut self, x: [f64; 2]) -> [f64; 2] {
        let y = self.sections[0].process(x);
        self.sections[1].process(y)
    }

    pub(super) fn reset(&mut self) {
        self.sections.iter_mut().for_each(Biquad::reset);
    }
}

/// Stereo image meter: live and whole-run correlation, balance, side-to-mid
/// ratio and mono fold-down loss.
pub struct StereoMeter {
    /// One-pole coefficient of the live averages per hop of
    /// [`LIVE_HOP_SAMPLES`], `1 − exp(−hop/(0.3 s · fs))` (unitless).
    live_coeff: f64,
    /// Low-band (150 Hz LR4) filter of the left and right channels.
    low: LinkwitzRiley4,
    /// Live 300 ms exponential averages of L², R², L·R (full-scale²).
    live: Moments,
    /// The same for the low-passed channels.
    live_low: Moments,
    /// Sums of L², R², L·R over the current hop (full-scale² · samples).
    hop: Moments,
    /// The same for the low-passed channels.
    hop_low: Moments,
    /// Samples in the current hop so far.
    hop_fill: usize,
    /// Whole-run sums of L², R², L·R over the finished hops (full-scale² ·
    /// samples).
    total: Moments,
    /// The same for the low-passed channels.
    total_low: Moments,
    /// Sample pairs fed since reset.
    samples: u64,
}

impl StereoMeter {
    /// # Panics
    ///
    /// If `sample_rate_hz` is not a finite number between 1 kHz and 10 MHz.
    pub fn new(sample_rate_hz: f32) -> Self {
        assert!(
            sample_rate_hz.is_finite() && (1000.0..=1.0e7).contains(&sample_rate_hz),
            "StereoMeter: unsupported sample rate {sample_rate_hz} Hz"
        );
        let fs = f64::from(sample_rate_hz);
        // exp_m1 keeps the small coefficient exact at high rates.
        let live_coeff = -(-(LIVE_HOP_SAMPLES as f64) / (LIVE_TIME_CONSTANT_S * fs)).exp_m1();
        let low = LinkwitzRiley4::new(LOW_BAND_HZ, fs);
        Self {
            live_coeff,
            low,
            live: Moments::default(),
            live_low: Moments::default(),
            hop: Moments::default(),
            hop_low: Moments::default(),
            hop_fill: 0,
            total: Moments::default(),
            total_low: Moments::default(),
            samples: 0,
        }
    }

    /// Clears all history; afterwards the meter behaves like a new one.
    pub fn reset(&mut self) {
        self.low.reset();
        self.live = Moments::default();
        self.live_low = Moments::default();
        self.hop = Moments::default();
        self.hop_low = Moments::default();
        self.hop_fill = 0;
        self.total = Moments::default();
        self.total_low = Moments::default();
        self.samples = 0;
    }

    /// Feeds one block of a stereo pair (equal lengths; if they differ, the
    /// shorter length is used). Non-finite samples count as 0.0.
    pub fn process(&mut self, left: &[f32], right: &[f32]) {
        let frames = left.len().min(right.len());
        let mut start = 0;
        while start < frames {
            let end = (start + LIVE_HOP_SAMPLES - self.hop_fill).min(frames);
            for (&l, &r) in left[start..end].iter().zip(&right[start..end]) {
                let l = f64::from(sanitize(l));
                let r = f64::from(sanitize(r));
                let [low_l, low_r] = self.low.process([l, r]);
                self.hop.accumulate(l, r);
                self.hop_low.accumulate(low_l, low_r);
            }
            self.hop_fill += end - start;
            self.samples += (end - start) as u64;
            if self.hop_fill == LIVE_HOP_SAMPLES {
                self.end_hop();
            }
            start = end;
        }
    }

    /// Folds the finished hop into the live averages and the totals.
    fn end_hop(&mut self) {
        let count = LIVE_HOP_SAMPLES as f64;
        self.live.average(&self.hop, count, self.live_coeff);
        self.live_low.average(&self.hop_low, count, self.live_coeff);
        self.total.add(&self.hop);
        self.total_low.add(&self.hop_low);
        self.hop = Moments::default();
        self.hop_low = Moments::default();
        self.hop_fill = 0;
    }

    /// Live phase correlation over about the last 300 ms (exponential
    /// average, time constant 300 ms), −1..=+1. None when both channels are
    /// below −100 dBFS RMS; 0.0 when only one is (nothing in common).
    pub fn correlation(&self) -> Option<f32> {
        self.live.correlation(SILENT_MEAN_SQUARE, false)
    }

    /// The same for both channels low-passed at 150 Hz (LR4).
    pub fn low_band_correlation(&self) -> Option<f32> {
        self.live_low.correlation(SILENT_MEAN_SQUARE, false)
    }

    /// Live (300 ms) energy below 150 Hz relative to the whole signal's, dB;
    /// None when both channels are below −100 dBFS RMS.
    pub fn low_band_share_db(&self) -> Option<f32> {
        let total = self.live.ll + self.live.rr;
        let low = self.live_low.ll + self.live_low.rr;
        (total >= 2.0 * SILENT_MEAN_SQUARE)
            .then(|| (10.0 * (low.max(1e-30) / total).log10()) as f32)
    }

    /// Sums since the last reset, including the unfinished hop: ΣL², ΣR²,
    /// ΣL·R, then the same for the low band, full-scale² · samples.
    pub fn moment_sums(&self) -> [f64; 6] {
        let mut t = self.total;
        t.add(&self.hop);
        let mut low = self.total_low;
        low.add(&self.hop_low);
        [t.ll, t.rr, t.lr, low.ll, low.rr, low.lr]
    }

    /// Whole-run figures since the last reset.
    pub fn summary(&self) -> StereoSummary {
        if self.samples == 0 {
            return StereoSummary::default();
        }
        // Thresholds on sums: n · mean-square threshold.
        let threshold = SILENT_MEAN_SQUARE * self.samples as f64;
        let mut t = self.total;
        t.add(&self.hop);
        let mut t_low = self.total_low;
        t_low.add(&self.hop_low);
        let l_silent = t.ll < threshold;
        let r_silent = t.rr < threshold;
        // ΣM² and ΣS² from the moments: M² = (L² + R² + 2LR)/4, S² = (L² +
        // R² − 2LR)/4.
        let total_mid = (0.25 * (t.ll + t.rr + 2.0 * t.lr)).max(0.0);
        let total_side = (0.25 * (t.ll + t.rr - 2.0 * t.lr)).max(0.0);
        let mid_silent = total_mid < threshold;

        let balance_db = (!l_silent && !r_silent).then(|| (10.0 * (t.ll / t.rr).log10()) as f32);
        let side_to_mid_db = (!mid_silent).then(|| clamped_ratio_db(total_side, total_mid));
        let mono_loss_db = (!(l_silent && r_silent))
            .then(|| clamped_ratio_db(t.ll + t.rr, 2.0 * total_mid).max(0.0));

        StereoSummary {
            correlation: t.correlation(threshold, true),
            low_band_correlation: t_low.correlation(threshold, true),
            balance_db,
            side_to_mid_db,
            mono_loss_db,
        }
    }
}

/// `10·log10(num/den)` clamped to ±[`RATIO_CLAMP_DB`]; `den` may be 0.
fn clamped_ratio_db(num: f64, den: f64) -> f32 {
    let limit = 10f64.powf(RATIO_CLAMP_DB / 10.0);
    let db = if num >= den * limit {
        RATIO_CLAMP_DB
    } else if num * limit <= den {
        -RATIO_CLAMP_DB
    } else {
        10.0 * (num / den).log10()
    };
    db as f32
}

/// Sets values too small to matter to zero (see the module docs).
#[inline]
fn flush(x: f64) -> f64 {
    if x.abs() < FLUSH_BELOW {
        0.0
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::{Noise, RATES};

    fn tone(freq: f64, amp: f64, phase: f64, fs: f32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| {
                let t = n as f64 / f64::from(fs);
                (amp * (std::f64::consts::TAU * freq * t + phase).sin()) as f32
            })
            .collect()
    }

    /// Direct f64 evaluation of the summary definitions, for comparison.
    fn direct(l: &[f32], r: &[f32]) -> (f64, f64, f64, f64) {
        let (mut ll, mut rr, mut lr, mut mm, mut ss) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
        for (&a, &b) in l.iter().zip(r) {
            let (a, b) = (f64::from(a), f64::from(b));
            ll += a * a;
            rr += b * b;
            lr += a * b;
            mm += ((a + b) / 2.0).powi(2);
            ss += ((a - b) / 2.0).powi(2);
        }
        (
            lr / (ll * rr).sqrt(),
            10.0 * (ll / rr).log10(),
            10.0 * (ss / mm).log10(),
            10.0 * ((ll + rr) / (2.0 * mm)).log10(),
        )
    }

    fn close(got: Option<f32>, want: f64, tol: f64) -> bool {
        got.is_some_and(|g| (f64::from(g) - want).abs() <= tol)
    }

    /// L = R: correlation +1, balance 0, mono loss 0, side silent (−120 dB
    /// clamp). Tolerance 1e-6: only f32 output rounding.
    #[test]
    fn identical_channels() {
        for fs in RATES {
            let mut m = StereoMeter::new(fs);
            let x = Noise(1).signal((fs * 0.5) as usize, 0.5);
            m.process(&x, &x);
            assert!(close(m.correlation(), 1.0, 1e-6), "fs {fs}");
            assert!(close(m.low_band_correlation(), 1.0, 1e-6), "fs {fs}");
            let s = m.summary();
            assert!(close(s.correlation, 1.0, 1e-6));
            assert!(close(s.low_band_correlation, 1.0, 1e-6));
            assert_eq!(s.balance_db, Some(0.0));
            assert_eq!(s.side_to_mid_db, Some(-120.0));
            assert_eq!(s.mono_loss_db, Some(0.0));
        }
    }

    /// L = −R: correlation −1, mid silent (no side-to-mid), mono loss clamped.
    #[test]
    fn inverted_channels() {
        for fs in RATES {
            let mut m = StereoMeter::new(fs);
            let x = Noise(2).signal((fs * 0.5) as usize, 0.5);
            let y: Vec<f32> = x.iter().map(|v| -v).collect();
            m.process(&x, &y);
            assert!(close(m.correlation(), -1.0, 1e-6), "fs {fs}");
            assert!(close(m.low_band_correlation(), -1.0, 1e-6), "fs {fs}");
            let s = m.summary();
            assert!(close(s.correlation, -1.0, 1e-6));
            assert!(close(s.low_band_correlation, -1.0, 1e-6));
            assert_eq!(s.balance_db, Some(0.0));
            assert_eq!(s.side_to_mid_db, None);
            assert_eq!(s.mono_loss_db, Some(120.0));
        }
    }

    /// Sine against cosine over whole periods (50 samples per period):
    /// Σ sin·cos = 0 exactly, so correlation 0 (tolerance 1e-5 for the f32
    /// rounding of the samples), side-to-mid 0 dB, mono loss
    /// 10·log10 2 = 3.0103 dB. The live reading carries the average's ripple
    /// of relative size 1/(2ωτ) ≈ 1e-4 at fs/50 ≥ 441 Hz, tolerance 0.01.
    #[test]
    fn sine_against_cosine() {
        for fs in RATES {
            let freq = f64::from(fs) / 50.0;
            let len = 50 * 1000;
            let l = tone(freq, 0.7, 0.0, fs, len);
            let r = tone(freq, 0.7, std::f64::consts::FRAC_PI_2, fs, len);
            let mut m = StereoMeter::new(fs);
            m.process(&l, &r);
            let s = m.summary();
            assert!(close(s.correlation, 0.0, 1e-5), "fs {fs}: {s:?}");
            assert!(close(s.side_to_mid_db, 0.0, 1e-4), "fs {fs}: {s:?}");
            assert!(close(s.mono_loss_db, 3.0103, 1e-3), "fs {fs}: {s:?}");
            assert!(close(s.balance_db, 0.0, 1e-4), "fs {fs}: {s:?}");
            assert!(
                close(m.correlation(), 0.0, 0.01),
                "fs {fs}: {:?}",
                m.correlation()
            );
        }
    }

    /// Right at half the amplitude of left: balance 20·log10 2 = 6.0206 dB.
    #[test]
    fn six_db_balance() {
        for fs in RATES {
            let l = Noise(3).signal((fs * 0.25) as usize, 0.5);
            let r: Vec<f32> = l.iter().map(|v| v * 0.5).collect();
            let mut m = StereoMeter::new(fs);
            m.process(&l, &r);
            let s = m.summary();
            assert!(close(s.balance_db, 6.0206, 1e-4), "fs {fs}: {s:?}");
            assert!(close(s.correlation, 1.0, 1e-6));
            // M = 0.75 L, S = 0.25 L: side-to-mid = 20·log10(1/3).
            assert!(close(s.side_to_mid_db, -9.5424, 1e-4), "{s:?}");
            // (1 + 0.25) / (2 · 0.5625) → 0.4576 dB.
            assert!(close(
                s.mono_loss_db,
                10.0 * (1.25f64 / 1.125).log10(),
                1e-4
            ));
            // Swapped: negative.
            let mut m = StereoMeter::new(fs);
            m.process(&r, &l);
            assert!(close(m.summary().balance_db, -6.0206, 1e-4));
        }
    }

    /// Independent noises of equal level: mono loss 3.01 dB, correlation ≈ 0.
    /// Against the direct f64 sums the tolerance is 1e-4 (f32 output rounding
    /// ≈ 1e-7 relative); against the analytic value it is 0.05 dB: the sample
    /// correlation of n = 10 s of independent noise has standard deviation
    /// 1/√n ≤ 2.2e-3, moving the mono loss by ≤ 4.34·r ≈ 0.01 dB per σ.
    #[test]
    fn independent_noises() {
        for fs in [22_050.0, 48_000.0, 192_000.0] {
            let len = (fs * 10.0) as usize;
            let l = Noise(11).signal(len, 0.5);
            let r = Noise(12).signal(len, 0.5);
            let mut m = StereoMeter::new(fs);
            m.process(&l, &r);
            let s = m.summary();
            let (corr, bal, s2m, loss) = direct(&l, &r);
            assert!(close(s.correlation, corr, 1e-5));
            assert!(close(s.balance_db, bal, 1e-4));
            assert!(close(s.side_to_mid_db, s2m, 1e-4));
            assert!(close(s.mono_loss_db, loss, 1e-4));
            assert!(close(s.mono_loss_db, 3.0103, 0.05), "fs {fs}: {s:?}");
            assert!(close(s.correlation, 0.0, 0.01), "fs {fs}: {s:?}");
            assert!(close(m.correlation(), 0.0, 0.05), "{:?}", m.correlation());
        }
    }

    /// Common bass (60 Hz, power 0.125) plus independent white noise
    /// (power 0.09, of which ≈ 150/(fs/2) lies below 150 Hz) on each side.
    /// Broadband the correlation is 0.125/(0.125 + 0.09) = 0.581 (checked
    /// against direct sums, and analytically within 0.02 for the noise's
    /// sample statistics); in the low band the noise is ≥ 20 dB down, so the
    /// low-band correlation exceeds 0.98.
    #[test]
    fn low_band_correlation_sees_the_common_bass() {
        for fs in RATES {
            let len = (fs * 4.0) as usize;
            let bass = tone(60.0, 0.5, 0.3, fs, len);
            let mut noise_l = Noise(21);
            let mut noise_r = Noise(22);
            let amp = 0.09f64.sqrt() * 3f64.sqrt(); // uniform ±a has power a²/3
            let l: Vec<f32> = bass
                .iter()
                .map(|&b| b + (amp * noise_l.next()) as f32)
                .collect();
            let r: Vec<f32> = bass
                .iter()
                .map(|&b| b + (amp * noise_r.next()) as f32)
                .collect();
            let mut m = StereoMeter::new(fs);
            m.process(&l, &r);
            let s = m.summary();
            let (corr, ..) = direct(&l, &r);
            assert!(close(s.correlation, corr, 1e-5));
            assert!(close(s.correlation, 0.125 / 0.215, 0.02), "fs {fs}: {s:?}");
            let low = s.low_band_correlation.unwrap();
            assert!(low > 0.98, "fs {fs}: {s:?}");
            let live_low = m.low_band_correlation().unwrap();
            let live = m.correlation().unwrap();
            assert!(live_low > 0.98 && live < 0.7, "fs {fs}: {live_low} {live}");
        }
    }

    /// Steady-state gain of the LR4 low-pass against the analog response
    /// 1/(1 + (f/fc)⁴): exact at fc by prewarping; below fs/100 the bilinear
    /// warping changes the response by < 0.1 dB down to −50 dB.
    #[test]
    fn low_band_filter_response() {
        for fs in RATES {
            for (freq, tol) in [
                (37.5, 0.01),
                (75.0, 0.01),
                (150.0, 0.01),
                (300.0, 0.05),
                (600.0, 0.1),
            ] {
                let mut f = LinkwitzRiley4::new(LOW_BAND_HZ, f64::from(fs));
                let w = std::f64::consts::TAU * freq / f64::from(fs);
                let settle = (f64::from(fs) * 0.5) as usize;
                let n = (f64::from(fs) * 1.0) as usize;
                let mut p = 0.0;
                for i in 0..settle + n {
                    let y = f.process([(w * i as f64).sin(), 0.0])[0];
                    if i >= settle {
                        p += y * y;
                    }
                }
                let got = 10.0 * (2.0 * p / n as f64).log10();
                let want = -20.0 * (1.0 + (freq / LOW_BAND_HZ).powi(4)).log10();
                assert!(
                    (got - want).abs() < tol,
                    "fs {fs} f {freq}: {got} vs {want}"
                );
            }
        }
    }

    /// Content far above 150 Hz leaves the low band silent: None.
    #[test]
    fn low_band_of_treble_is_silent() {
        let fs = 48_000.0;
        let l = tone(5000.0, 0.5, 0.0, fs, 48_000 * 5);
        let r = tone(5000.0, 0.5, 1.0, fs, 48_000 * 5);
        let mut m = StereoMeter::new(fs);
        m.process(&l, &r);
        assert!(m.correlation().is_some());
        assert_eq!(m.low_band_correlation(), None);
    }

    /// After L = R switches to L = −R the live reading follows the
    /// exponential average: r(t) = 2·e^(−t/τ) − 1, so −0.2642 at t = τ.
    /// Tolerance 0.005: the 1 kHz tone's ripple is ≈ 1/(2ωτ) = 3e-4.
    #[test]
    fn live_time_constant() {
        let fs = 48_000.0;
        let x = tone(1000.0, 0.5, 0.0, fs, 48_000 * 3);
        let y: Vec<f32> = x.iter().map(|v| -v).collect();
        let mut m = StereoMeter::new(fs);
        m.process(&x[..96_000], &x[..96_000]);
        m.process(&x[96_000..96_000 + 14_400], &y[96_000..96_000 + 14_400]);
        let want = 2.0 * (-1.0f64).exp() - 1.0;
        assert!(
            close(m.correlation(), want, 0.005),
            "{:?} vs {want}",
            m.correlation()
        );
    }

    #[test]
    fn silence_and_one_sided_signals() {
        let fs = 44_100.0;
        let zero = vec![0.0f32; 44_100];
        let x = Noise(5).signal(44_100, 0.5);
        let mut m = StereoMeter::new(fs);
        assert_eq!(m.summary(), StereoSummary::default());
        m.process(&zero, &zero);
        assert_eq!(m.correlation(), None);
        assert_eq!(m.low_band_correlation(), None);
        assert_eq!(m.summary(), StereoSummary::default());

        // −110 dBFS RMS counts as silence.
        let quiet: Vec<f32> = x.iter().map(|v| v * 1e-5).collect();
        m.process(&quiet, &quiet);
        assert_eq!(m.correlation(), None);
        assert_eq!(m.summary().correlation, None);

        let mut m = StereoMeter::new(fs);
        m.process(&x, &zero);
        assert_eq!(m.correlation(), Some(0.0));
        let s = m.summary();
        assert_eq!(s.correlation, None);
        assert_eq!(s.low_band_correlation, None);
        assert_eq!(s.balance_db, None);
        // M = S = L/2.
        assert!(close(s.side_to_mid_db, 0.0, 1e-5));
        assert!(close(s.mono_loss_db, 3.0103, 1e-4));
    }

    fn snapshot(m: &StereoMeter) -> (Option<f32>, Option<f32>, StereoSummary) {
        (m.correlation(), m.low_band_correlation(), m.summary())
    }

    fn mixed_pair(fs: f32, len: usize) -> (Vec<f32>, Vec<f32>) {
        let bass = tone(55.0, 0.4, 0.0, fs, len);
        let mut n = Noise(77);
        let l: Vec<f32> = bass.iter().map(|&b| b + (0.2 * n.next()) as f32).collect();
        let r: Vec<f32> = bass
            .iter()
            .map(|&b| 0.8 * b + (0.3 * n.next()) as f32)
            .collect();
        (l, r)
    }

    /// Results are bit-identical whatever the block size.
    #[test]
    fn block_size_invariance() {
        for fs in [22_050.0, 48_000.0, 384_000.0] {
            let (l, r) = mixed_pair(fs, 40_000);
            let mut reference = None;
            for block in [1usize, 7, 64, 512, 4096] {
                let mut m = StereoMeter::new(fs);
                for (a, b) in l.chunks(block).zip(r.chunks(block)) {
                    m.process(a, b);
                }
                let snap = snapshot(&m);
                match &reference {
                    None => reference = Some(snap),
                    Some(want) => assert_eq!(&snap, want, "fs {fs} block {block}"),
                }
            }
        }
    }

    #[test]
    fn reset_equals_fresh() {
        let fs = 96_000.0;
        let (l, r) = mixed_pair(fs, 30_000);
        let mut used = StereoMeter::new(fs);
        used.process(&r, &l);
        used.reset();
        let mut fresh = StereoMeter::new(fs);
        assert_eq!(snapshot(&used), snapshot(&fresh));
        used.process(&l, &r);
        fresh.process(&l, &r);
        assert_eq!(snapshot(&used), snapshot(&fresh));
    }

    /// NaN and ±Inf count as 0.0: the result equals feeding zeros there.
    #[test]
    fn non_finite_input_does_not_poison() {
        let fs = 48_000.0;
        let (mut l, mut r) = mixed_pair(fs, 30_000);
        let (mut l0, mut r0) = (l.clone(), r.clone());
        for (i, bad) in [
            (3, f32::NAN),
            (500, f32::INFINITY),
            (20_000, f32::NEG_INFINITY),
        ] {
            l[i] = bad;
            r[i + 1] = bad;
            l0[i] = 0.0;
            r0[i + 1] = 0.0;
        }
        let mut a = StereoMeter::new(fs);
        a.process(&l, &r);
        let mut b = StereoMeter::new(fs);
        b.process(&l0, &r0);
        assert_eq!(snapshot(&a), snapshot(&b));
        let s = a.summary();
        assert!(s.correlation.unwrap().is_finite() && s.mono_loss_db.unwrap().is_finite());
        let nan = vec![f32::NAN; 10_000];
        let mut c = StereoMeter::new(fs);
        c.process(&nan, &nan);
        assert_eq!(snapshot(&c), (None, None, StereoSummary::default()));
    }

    /// Long silence after a signal flushes the recursive state to exact zero
    /// instead of leaving subnormals.
    #[test]
    fn state_decays_to_zero() {
        let fs = 22_050.0;
        let (l, r) = mixed_pair(fs, 10_000);
        let mut m = StereoMeter::new(fs);
        m.process(&l, &r);
        let zero = vec![0.0f32; 22_050];
        for _ in 0..300 {
            m.process(&zero, &zero);
        }
        assert_eq!(m.live, Moments::default());
        assert_eq!(m.live_low, Moments::default());
        assert!(m.low.sections.iter().all(|s| s.s == [[0.0; 2]; 2]));
    }
}
