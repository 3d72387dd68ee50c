//! What a rule reads: the figures of a stretch of audio, from the last few
//! seconds ([`Summary::of_window`], live) or from the programme since the
//! reset ([`super::programme::Programme::summary`]). The rules in
//! [`super::rules`] are the same for both; only the stretch differs.

use crate::meter::delay::StereoDelay;
use crate::meter::features::SecondFeatures;
use crate::meter::lines::{Line, MAX_LINES};
use crate::meter::spectrum::THIRD_OCTAVES;

/// The figures of a stretch of audio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Seconds the summary covers (the programme: its gated seconds).
    pub seconds: f32,
    /// Frames (samples per channel) the level figures cover.
    pub frames: f64,
    /// Σx² of those frames, mean over channels, full-scale² · samples.
    pub energy: f64,
    /// Mean of the first two channels' samples (DC) over the DC stretch,
    /// linear full scale.
    pub dc: [f64; 2],
    /// Highest true peak, linear full scale.
    pub true_peak: f32,
    /// Clip runs counted.
    pub clip_runs: u32,
    /// Share of the audible seconds that hold a clip run, 0..=1.
    pub clip_share: f32,
    /// Mean square per third-octave band, averaged over the spectrum frames,
    /// full-scale².
    pub third_octaves: [f64; THIRD_OCTAVES],
    /// Spectrum frames behind `third_octaves`.
    pub spectrum_frames: u32,
    /// ΣL², ΣR², ΣLR, and the same below 150 Hz, full-scale² · samples.
    pub stereo: [f64; 6],
    /// Median PSR (true peak of the last 3 s − short-term loudness) of the
    /// loud seconds, dB.
    pub psr_db: Option<f32>,
    /// Robust spread of the low end's peak level around its running mean,
    /// dB (see `unstable-low-end`).
    pub low_end_spread_db: Option<f32>,
    /// Median per-second crest factor (sample peak over RMS), dB.
    pub crest_db: Option<f32>,
    /// Narrow lines of the spectrum, strongest first.
    pub lines: [Line; MAX_LINES],
    /// The tuning of the notes, cents from A440.
    pub tuning_cents: f32,
    /// Delays between the channels.
    pub delay: StereoDelay,
    /// The largest level step of repeated material: (step in dB, time of
    /// the step in s from the start).
    pub jump: Option<(f32, f32)>,
}

impl Default for Summary {
    fn default() -> Self {
        Self {
            seconds: 0.0,
            frames: 0.0,
            energy: 0.0,
            dc: [0.0; 2],
            true_peak: 0.0,
            clip_runs: 0,
            clip_share: 0.0,
            third_octaves: [0.0; THIRD_OCTAVES],
            spectrum_frames: 0,
            stereo: [0.0; 6],
            psr_db: None,
            low_end_spread_db: None,
            crest_db: None,
            lines: [Line::default(); MAX_LINES],
            tuning_cents: 0.0,
            delay: StereoDelay::default(),
            jump: None,
        }
    }
}

/// Windows of the live rules, seconds.
pub mod windows {
    /// Most rules: the last 3 s.
    pub const SHORT_S: usize = 3;
    /// PSR: the last 5 s.
    pub const PSR_S: usize = 5;
    /// DC: the last 10 s. A full-scale 20 Hz sine averages to at most
    /// 1/(π·20 Hz·10 s) = −56 dBFS over it, 6 dB under the warning line, so
    /// bass alone cannot raise the hint.
    pub const DC_S: usize = 10;
    /// The steadiness of the low end: 10 s, enough for six residuals
    /// around a 5 s running mean.
    pub const LOW_END_S: usize = 10;
}

impl Summary {
    /// RMS level of the level figures, dBFS (−300 for silence).
    pub fn rms_dbfs(&self) -> f32 {
        power_db(self.energy / self.frames.max(1.0))
    }

    /// Level of the DC, dBFS: the larger of the two channels'.
    pub fn dc_dbfs(&self) -> f32 {
        self.dc
            .iter()
            .map(|x| amplitude_db(x.abs() as f32))
            .fold(-300.0, f32::max)
    }

    /// Correlation of the pair, broadband or below 150 Hz; None without
    /// signal in both channels.
    pub fn correlation(&self, low: bool) -> Option<f32> {
        let o = if low { 3 } else { 0 };
        let (ll, rr, lr) = (self.stereo[o], self.stereo[o + 1], self.stereo[o + 2]);
        let floor = 1.0e-10 * self.frames.max(1.0);
        (ll > floor && rr > floor).then(|| (lr / (ll * rr).sqrt()).clamp(-1.0, 1.0) as f32)
    }

    /// Share of the low band (below 150 Hz) in the stereo energy, dB.
    pub fn low_band_share_db(&self) -> f32 {
        power_db((self.stereo[3] + self.stereo[4]) / (self.stereo[0] + self.stereo[1]).max(1e-30))
    }

    /// Side-to-mid energy ratio, dB (120 for a silent mid).
    pub fn side_to_mid_db(&self) -> f32 {
        let [ll, rr, lr, ..] = self.stereo;
        let mid = (ll + rr + 2.0 * lr).max(0.0);
        let side = (ll + rr - 2.0 * lr).max(0.0);
        if mid <= 0.0 {
            return 120.0;
        }
        (10.0 * (side / mid).max(1e-12).log10()) as f32
    }

    /// The summary of the last seconds of `history` (oldest first), as the
    /// live rules read it: each figure over its own window
    /// ([`windows`]), the lines and delays of the last second's 3 s
    /// spectra, and `jump` as given (the programme's reading of the latest
    /// window). Never allocates.
    pub fn of_window(history: &[SecondFeatures], jump: Option<(f32, f32)>) -> Self {
        let mut summary = Summary {
            jump,
            ..Summary::default()
        };
        let Some(last) = history.last() else {
            return summary;
        };
        let short = last_n(history, windows::SHORT_S);
        summary.seconds = short.len() as f32;
        let mut active_seconds = 0;
        let mut clip_seconds = 0;
        for s in short {
            summary.frames += f64::from(s.frames);
            summary.energy += s.energy;
            summary.true_peak = summary.true_peak.max(s.true_peak);
            summary.clip_runs += s.clip_runs;
            for (sum, band) in summary.third_octaves.iter_mut().zip(s.third_octave_power) {
                *sum += band;
            }
            summary.spectrum_frames += s.spectrum_frames;
            for (sum, m) in summary.stereo.iter_mut().zip(s.stereo_moments) {
                *sum += m;
            }
            if second_rms_dbfs(s) >= super::rules::SILENT_RMS_DBFS {
                active_seconds += 1;
                clip_seconds += u32::from(s.clip_runs > 0);
            }
        }
        if summary.spectrum_frames > 0 {
            let frames = f64::from(summary.spectrum_frames);
            summary.third_octaves.iter_mut().for_each(|b| *b /= frames);
        }
        summary.clip_share = if active_seconds > 0 {
            clip_seconds as f32 / active_seconds as f32
        } else {
            0.0
        };

        let dc = last_n(history, windows::DC_S);
        if dc.len() == windows::DC_S {
            let frames: f64 = dc.iter().map(|s| f64::from(s.frames)).sum();
            for c in 0..2 {
                summary.dc[c] = dc.iter().map(|s| s.channel_sums[c]).sum::<f64>() / frames.max(1.0);
            }
        }

        let mut psr = SmallMedian::default();
        let psr_window = last_n(history, windows::PSR_S);
        let offset = history.len() - psr_window.len();
        for (i, s) in psr_window.iter().enumerate() {
            if let Some(value) = psr_of(history, offset + i) {
                if s.gated {
                    psr.push(value);
                }
            }
        }
        summary.psr_db = psr.median_of_at_least(3);

        let mut crest = SmallMedian::default();
        for s in short.iter().filter(|s| s.gated) {
            crest.push(crest_db(s));
        }
        summary.crest_db = crest.median();

        let low = last_n(history, windows::LOW_END_S);
        let mut levels = [0.0f32; windows::LOW_END_S];
        let mut count = 0;
        for s in low {
            if let Some(level) = low_end_level_db(s) {
                levels[count] = level;
                count += 1;
            }
        }
        let mut residuals = SmallMedian::default();
        for_each_low_end_residual(&levels[..count], |r| residuals.push(r));
        summary.low_end_spread_db = residuals.spread_of_at_least(5);

        summary.lines = last.lines;
        summary.tuning_cents = last.tuning_cents;
        summary.delay = last.delay;
        summary
    }
}

/// The last `n` seconds of `history`.
pub fn last_n(history: &[SecondFeatures], n: usize) -> &[SecondFeatures] {
    &history[history.len().saturating_sub(n)..]
}

/// RMS of one second, dBFS.
pub fn second_rms_dbfs(s: &SecondFeatures) -> f32 {
    power_db(s.energy / f64::from(s.frames.max(1)))
}

/// Crest factor of one second: sample peak over RMS, dB.
pub fn crest_db(s: &SecondFeatures) -> f32 {
    amplitude_db(s.sample_peak) - second_rms_dbfs(s)
}

/// PSR of second `at` of `history`: the highest true peak of the 3 s
/// ending there minus its short-term loudness, dB; None for the first two
/// seconds and below the absolute gate.
pub fn psr_of(history: &[SecondFeatures], at: usize) -> Option<f32> {
    let s = &history[at];
    if at < 2 || s.short_term_lufs < super::rules::SILENCE_LUFS {
        return None;
    }
    let peak = history[at - 2..=at]
        .iter()
        .map(|s| s.true_peak)
        .fold(0.0f32, f32::max);
    Some(amplitude_db(peak) - s.short_term_lufs)
}

/// Level of the low end's peaks in a second, dB, when the second is part
/// of the programme and has a low end (its peaks within 30 dB of the
/// second's mean square); None otherwise.
pub fn low_end_level_db(s: &SecondFeatures) -> Option<f32> {
    let mean_square = s.energy / f64::from(s.frames.max(1));
    let low = f64::from(s.low_peak);
    (s.gated
        && low > 0.0
        && low >= mean_square * 10f64.powf(super::rules::LOW_END_PRESENT_DB / 10.0))
    .then(|| power_db(low))
}

/// Points of the running mean the low end's level is compared with: 5 s,
/// so that the bass entering or leaving with the arrangement moves the mean
/// within a few seconds, while notes swinging from one second to the next
/// stand out of it.
pub const LOW_END_MEAN_POINTS: usize = 5;

/// Calls `f` with each level's distance from the mean of the
/// [`LOW_END_MEAN_POINTS`] levels centred on it (the first and last two
/// have none).
pub fn for_each_low_end_residual(levels: &[f32], mut f: impl FnMut(f32)) {
    let half = LOW_END_MEAN_POINTS / 2;
    if levels.len() < LOW_END_MEAN_POINTS {
        return;
    }
    for centre in half..levels.len() - half {
        let mean =
            levels[centre - half..=centre + half].iter().sum::<f32>() / LOW_END_MEAN_POINTS as f32;
        f(levels[centre] - mean);
    }
}

/// Power (mean square) to dB, −300 for silence.
pub fn power_db(power: f64) -> f32 {
    if power > 1e-30 {
        (10.0 * power.log10()) as f32
    } else {
        -300.0
    }
}

/// Linear amplitude to dB, −300 for silence.
pub fn amplitude_db(amplitude: f32) -> f32 {
    if amplitude > 1e-15 {
        20.0 * amplitude.log10()
    } else {
        -300.0
    }
}

/// Median and spread of up to 16 values, on the stack.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmallMedian {
    values: [f32; 16],
    len: usize,
}

impl SmallMedian {
    /// Adds a value (beyond 16, ignored).
    pub fn push(&mut self, value: f32) {
        if self.len < self.values.len() && value.is_finite() {
            self.values[self.len] = value;
            self.len += 1;
        }
    }

    /// The median; None when empty.
    pub fn median(&self) -> Option<f32> {
        let mut values = self.values;
        median_in_place(&mut values[..self.len])
    }

    /// The median of at least `n` values.
    pub fn median_of_at_least(&self, n: usize) -> Option<f32> {
        (self.len >= n).then(|| self.median()).flatten()
    }

    /// The interquartile range of at least `n` values over 1.349 (the
    /// standard deviation, for normally distributed values; robust to a
    /// quarter of outliers, and unlike the median absolute deviation it
    /// reads a swing between two levels at its full size).
    pub fn spread_of_at_least(&self, n: usize) -> Option<f32> {
        if self.len < n {
            return None;
        }
        let mut values = self.values;
        let values = &mut values[..self.len];
        values.sort_unstable_by(f32::total_cmp);
        Some((quantile_sorted(values, 0.75) - quantile_sorted(values, 0.25)) / IQR_TO_SIGMA)
    }
}

/// Linear interpolation between order statistics (type 7 of Hyndman and
/// Fan) of sorted values.
fn quantile_sorted(values: &[f32], q: f32) -> f32 {
    let position = q * (values.len() - 1) as f32;
    let below = position.floor() as usize;
    let above = (below + 1).min(values.len() - 1);
    values[below] + (position - below as f32) * (values[above] - values[below])
}

/// The interquartile range of normally distributed values over this is
/// their standard deviation.
pub const IQR_TO_SIGMA: f32 = 1.349;

fn median_in_place(values: &mut [f32]) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f32::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    })
}

/// A histogram of values from `LOW` in steps of `STEP` over `N` bins
/// (values outside go to the end bins), for medians over a whole
/// programme in fixed memory.
#[derive(Debug, Clone)]
pub struct Histogram<const N: usize> {
    /// Lower edge of the first bin.
    low: f32,
    /// Bin width.
    step: f32,
    /// Counts.
    bins: [u32; N],
    /// Values counted.
    count: u32,
}

impl<const N: usize> Histogram<N> {
    /// Bins from `low` in steps of `step`.
    pub const fn new(low: f32, step: f32) -> Self {
        Self {
            low,
            step,
            bins: [0; N],
            count: 0,
        }
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.bins = [0; N];
        self.count = 0;
    }

    /// Counts a value (non-finite values are ignored).
    pub fn push(&mut self, value: f32) {
        if !value.is_finite() {
            return;
        }
        let bin = ((value - self.low) / self.step)
            .floor()
            .clamp(0.0, (N - 1) as f32) as usize;
        self.bins[bin] += 1;
        self.count += 1;
    }

    /// Values counted.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The value at quantile `q` (0..=1), to within a bin (bin centres).
    pub fn quantile(&self, q: f32) -> Option<f32> {
        if self.count == 0 {
            return None;
        }
        let target = ((q * self.count as f32).ceil() as u32).clamp(1, self.count);
        let mut seen = 0;
        for (i, &c) in self.bins.iter().enumerate() {
            seen += c;
            if seen >= target {
                return Some(self.low + (i as f32 + 0.5) * self.step);
            }
        }
        None
    }

    /// The median.
    pub fn median(&self) -> Option<f32> {
        self.quantile(0.5)
    }

    /// The interquartile range over 1.349, to within a bin.
    pub fn spread(&self) -> Option<f32> {
        Some((self.quantile(0.75)? - self.quantile(0.25)?) / IQR_TO_SIGMA)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Histogram medians and spreads agree with the exact figures within a
    /// bin (0.05 here): values −2…+2 in steps of 0.01 have median 0 and
    /// quartiles ±1, so a spread of 2/1.349.
    #[test]
    fn histogram_median_and_spread_are_within_a_bin() {
        let mut h = Histogram::<800>::new(-20.0, 0.05);
        for i in -200..=200 {
            h.push(i as f32 * 0.01);
        }
        assert!(h.median().unwrap().abs() <= 0.05);
        assert!((h.spread().unwrap() - 2.0 / IQR_TO_SIGMA).abs() <= 0.1 / IQR_TO_SIGMA);
        let mut small = SmallMedian::default();
        for x in [1.0, -1.0, 2.0, -2.0, 0.0] {
            small.push(x);
        }
        assert_eq!(small.median(), Some(0.0));
        assert_eq!(small.spread_of_at_least(5), Some(2.0 / IQR_TO_SIGMA));
        assert_eq!(small.spread_of_at_least(6), None);
        // A swing between two levels reads its full size.
        let mut swing = SmallMedian::default();
        for x in [2.0, -2.0, 2.0, -2.0, 2.0, -2.0, 2.0, -2.0] {
            swing.push(x);
        }
        assert_eq!(swing.spread_of_at_least(5), Some(4.0 / IQR_TO_SIGMA));
    }

    /// Residuals around a 5-point running mean: a step between two steady
    /// levels (the bass entering) leaves residuals only at the step, which
    /// a robust spread ignores; a ±6 dB swing at 0.3 Hz, sampled once a
    /// second, leaves a spread of about 3 dB or more.
    #[test]
    fn a_step_in_the_low_end_leaves_no_residual() {
        let mut levels = vec![0.0f32; 20];
        levels[10..].fill(6.0);
        let mut step = SmallMedian::default();
        for_each_low_end_residual(&levels, |r| step.push(r));
        // 16 residuals, 4 of them at the step: the quartiles stay at 0.
        assert_eq!(step.spread_of_at_least(5), Some(0.0));
        let swing: Vec<f32> = (0..12)
            .map(|t| 6.0 * (std::f32::consts::TAU * 0.3 * t as f32).sin())
            .collect();
        let mut residuals = SmallMedian::default();
        for_each_low_end_residual(&swing, |r| residuals.push(r));
        let spread = residuals.spread_of_at_least(5).unwrap();
        assert!(spread > 3.0, "{spread}");
    }
}
