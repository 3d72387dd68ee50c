//! The programme since the reset: everything the rules need to judge the
//! audio as a whole, accumulated one second at a time in fixed memory, the
//! same live (the plugin's verdict) and offline (a whole file).
//!
//! * Level figures (true peak, clipping, DC) cover every second.
//! * Tone, stereo and dynamics figures cover the **gated** seconds only
//!   (those within 20 LU of the integrated loudness so far, see
//!   [`SecondFeatures::gated`]): quiet intros, breaks, fade-outs and
//!   silence do not speak for the programme.
//! * Medians over the programme (PSR, crest factor, the low end's spread)
//!   come from histograms with 0.05 dB bins.
//! * Repeated material is remembered for the first [`REPETITION_SECONDS`]
//!   seconds (see [`Repetitions`]).

use super::summary::{
    amplitude_db, crest_db, for_each_low_end_residual, low_end_level_db, power_db, second_rms_dbfs,
    Histogram, Summary, LOW_END_MEAN_POINTS,
};
use crate::meter::delay::StereoDelay;
use crate::meter::features::SecondFeatures;
use crate::meter::lines::{Line, MAX_LINES};
use crate::meter::spectrum::{third_octave_centre_hz, THIRD_OCTAVES};

/// Seconds of repeated material remembered (20 minutes).
pub const REPETITION_SECONDS: usize = 1200;
/// Length of the windows compared for repetition, seconds.
pub const REPETITION_WINDOW_S: usize = 3;
/// Two windows count as the same music when their spectral shapes differ
/// by at most this much (RMS over the third octaves from 100 Hz to 10 kHz,
/// each window normalised to its own level), dB: about the level
/// difference a listener notices in a band, so that the same theme played
/// by a fuller or softer ensemble does not count.
pub const REPETITION_MATCH_DB: f32 = 1.0;
/// Windows compared start at least this far apart, seconds.
pub const REPETITION_GAP_S: usize = 6;
/// Pairs of matching windows remembered.
pub const REPETITION_PAIRS: usize = 4096;
/// A level step needs this many matching pairs across it and as many on
/// either side.
pub const REPETITION_MIN_PAIRS: u32 = 8;
/// Matches of the latest window, the most recent first, that say what
/// holds now.
pub const REPETITION_RECENT_MATCHES: u32 = 1;
/// Pairs whose level difference is further than this from the median of
/// all pairs are mismatches, not repetitions, dB.
pub const REPETITION_OUTLIER_DB: f32 = 12.0;
/// A split must leave this much of the programme on either side, seconds:
/// intros, outros and fades are arrangement, not edits.
pub const REPETITION_EDGE_S: usize = 30;
/// Length of the windows either side of a step inside continuous music,
/// seconds.
pub const CONTINUITY_WINDOW_S: usize = 10;
/// The two windows are the same music when their spectral shapes differ by
/// at most this much, dB (10 s averages of one passage differ by less than
/// 3 s averages of its repeats).
pub const CONTINUITY_MATCH_DB: f32 = 1.0;
/// Smallest step inside continuous music worth keeping, dB.
pub const CONTINUITY_MIN_STEP_DB: f32 = 3.0;
/// Third-octave bands of the repetition shapes: 100 Hz to 10 kHz.
const SHAPE_FIRST: usize = 10;
/// Number of bands in a shape.
const SHAPE_BANDS: usize = 21;

/// The programme since the reset.
#[derive(Debug, Clone)]
pub struct Programme {
    /// Seconds pushed.
    seconds: u64,
    /// Frames of all seconds.
    frames: f64,
    /// Σx of the first two channels over all seconds.
    channel_sums: [f64; 2],
    /// Highest true peak of all seconds, linear.
    true_peak: f32,
    /// Clip runs of all seconds.
    clip_runs: u32,
    /// Seconds above the silence line, and those of them with a clip run.
    audible_seconds: u32,
    clip_seconds: u32,
    /// Gated seconds, their frames and Σx².
    gated_seconds: u32,
    gated_frames: f64,
    gated_energy: f64,
    /// Third-octave powers of the gated seconds, full-scale² · frames.
    third_octaves: [f64; THIRD_OCTAVES],
    /// Spectrum frames of the gated seconds.
    spectrum_frames: u64,
    /// Stereo moments of the gated seconds.
    stereo: [f64; 6],
    /// True peaks of the last three seconds, linear (for PSR).
    recent_true_peaks: [f32; 3],
    /// PSR of the gated seconds, dB.
    psr: Histogram<800>,
    /// Crest factor of the gated seconds, dB.
    crest: Histogram<800>,
    /// The low end's level of the last gated seconds with a low end, dB,
    /// oldest first; `low_end_len` valid.
    low_end_recent: [f32; LOW_END_MEAN_POINTS],
    low_end_len: usize,
    /// Residuals of the low end's level around its running mean, dB.
    low_end: Histogram<1200>,
    /// Repeated material.
    repetitions: Repetitions,
    /// The latest programme lines, tuning and delays the analyzer measured.
    lines: [Line; MAX_LINES],
    tuning_cents: f32,
    delay: StereoDelay,
}

impl Default for Programme {
    fn default() -> Self {
        Self {
            seconds: 0,
            frames: 0.0,
            channel_sums: [0.0; 2],
            true_peak: 0.0,
            clip_runs: 0,
            audible_seconds: 0,
            clip_seconds: 0,
            gated_seconds: 0,
            gated_frames: 0.0,
            gated_energy: 0.0,
            third_octaves: [0.0; THIRD_OCTAVES],
            spectrum_frames: 0,
            stereo: [0.0; 6],
            recent_true_peaks: [0.0; 3],
            psr: Histogram::new(-10.0, 0.05),
            crest: Histogram::new(-10.0, 0.05),
            low_end_recent: [0.0; LOW_END_MEAN_POINTS],
            low_end_len: 0,
            low_end: Histogram::new(-30.0, 0.05),
            repetitions: Repetitions::default(),
            lines: [Line::default(); MAX_LINES],
            tuning_cents: 0.0,
            delay: StereoDelay::default(),
        }
    }
}

impl Programme {
    /// Forgets everything, keeping the memory. Never allocates.
    pub fn reset(&mut self) {
        self.repetitions.reset();
        self.seconds = 0;
        self.frames = 0.0;
        self.channel_sums = [0.0; 2];
        self.true_peak = 0.0;
        self.clip_runs = 0;
        self.audible_seconds = 0;
        self.clip_seconds = 0;
        self.gated_seconds = 0;
        self.gated_frames = 0.0;
        self.gated_energy = 0.0;
        self.third_octaves = [0.0; THIRD_OCTAVES];
        self.spectrum_frames = 0;
        self.stereo = [0.0; 6];
        self.recent_true_peaks = [0.0; 3];
        self.psr.clear();
        self.crest.clear();
        self.low_end_recent = [0.0; LOW_END_MEAN_POINTS];
        self.low_end_len = 0;
        self.low_end.clear();
        self.lines = [Line::default(); MAX_LINES];
        self.tuning_cents = 0.0;
        self.delay = StereoDelay::default();
    }

    /// Adds one second. Never allocates.
    pub fn push(&mut self, s: &SecondFeatures) {
        self.seconds += 1;
        self.frames += f64::from(s.frames);
        self.channel_sums[0] += s.channel_sums[0];
        self.channel_sums[1] += s.channel_sums[1];
        self.true_peak = self.true_peak.max(s.true_peak);
        self.clip_runs += s.clip_runs;
        if second_rms_dbfs(s) >= super::rules::SILENT_RMS_DBFS {
            self.audible_seconds += 1;
            self.clip_seconds += u32::from(s.clip_runs > 0);
        }
        self.recent_true_peaks.rotate_left(1);
        self.recent_true_peaks[2] = s.true_peak;
        if s.gated {
            self.gated_seconds += 1;
            self.gated_frames += f64::from(s.frames);
            self.gated_energy += s.energy;
            for (sum, band) in self.third_octaves.iter_mut().zip(s.third_octave_power) {
                *sum += band;
            }
            self.spectrum_frames += u64::from(s.spectrum_frames);
            for (sum, m) in self.stereo.iter_mut().zip(s.stereo_moments) {
                *sum += m;
            }
            if self.seconds >= 3 && s.short_term_lufs >= super::rules::SILENCE_LUFS {
                let peak = self.recent_true_peaks.iter().fold(0.0f32, |m, &x| m.max(x));
                self.psr.push(amplitude_db(peak) - s.short_term_lufs);
            }
            self.crest.push(crest_db(s));
        }
        if let Some(level) = low_end_level_db(s) {
            if self.low_end_len == LOW_END_MEAN_POINTS {
                self.low_end_recent.rotate_left(1);
                self.low_end_len -= 1;
            }
            self.low_end_recent[self.low_end_len] = level;
            self.low_end_len += 1;
            if self.low_end_len == LOW_END_MEAN_POINTS {
                let histogram = &mut self.low_end;
                for_each_low_end_residual(&self.low_end_recent, |r| histogram.push(r));
            }
        }
        self.repetitions.push(s);
        self.lines = s.programme_lines;
        self.tuning_cents = s.programme_tuning_cents;
        self.delay = s.programme_delay;
    }

    /// Seconds pushed since the reset.
    pub fn seconds(&self) -> u64 {
        self.seconds
    }

    /// Gated seconds since the reset.
    pub fn gated_seconds(&self) -> u32 {
        self.gated_seconds
    }

    /// The level of repeated material in the latest window against the
    /// same material earlier: (mean difference in dB, matches).
    pub fn latest_repetition(&self) -> Option<(f32, u32)> {
        self.repetitions.latest
    }

    /// A level step inside continuous music that ends now: (step dB, time
    /// of the step s).
    pub fn latest_continuity_step(&self) -> Option<(f32, f32)> {
        self.repetitions.continuity_now
    }

    /// The figures of the programme as a whole.
    pub fn summary(&self) -> Summary {
        let mut third_octaves = self.third_octaves;
        if self.spectrum_frames > 0 {
            let frames = self.spectrum_frames as f64;
            third_octaves.iter_mut().for_each(|b| *b /= frames);
        }
        let frames = self.frames.max(1.0);
        Summary {
            seconds: self.gated_seconds as f32,
            frames: self.gated_frames,
            energy: self.gated_energy,
            dc: [self.channel_sums[0] / frames, self.channel_sums[1] / frames],
            true_peak: self.true_peak,
            clip_runs: self.clip_runs,
            clip_share: if self.audible_seconds > 0 {
                self.clip_seconds as f32 / self.audible_seconds as f32
            } else {
                0.0
            },
            third_octaves,
            spectrum_frames: self.spectrum_frames.min(u64::from(u32::MAX)) as u32,
            stereo: self.stereo,
            psr_db: (self.psr.count() >= 3).then(|| self.psr.median()).flatten(),
            low_end_spread_db: (self.low_end.count() >= 5)
                .then(|| self.low_end.spread())
                .flatten(),
            crest_db: self.crest.median(),
            lines: self.lines,
            tuning_cents: self.tuning_cents,
            delay: self.delay,
            jump: self.repetitions.largest_unexplained_step(),
        }
    }
}

/// Repeated material: windows of [`REPETITION_WINDOW_S`] seconds whose
/// spectral shapes match, and the difference of their levels.
///
/// Released music repeats itself (choruses, verses, loops, themes) and
/// plays what returns at the level it had, within the arrangement's own
/// shaping. A gain change, an edit or a seam between two generated parts
/// breaks that: the same music returns a few dB louder or quieter than
/// before the break. So every new window is compared with every earlier
/// window that starts at least [`REPETITION_GAP_S`] seconds before it; a
/// pair whose shapes match within [`REPETITION_MATCH_DB`] is kept with its
/// level difference. A step at time t shows as pairs across t differing by
/// the step while pairs on one side of t agree.
#[derive(Debug, Clone)]
pub struct Repetitions {
    /// Per window (by the index of its last second): level in dB and shape
    /// (third-octave levels minus the level); `valid` when all its seconds
    /// were gated.
    windows: Vec<Window>,
    /// Gated flags and band powers of the last seconds, for the window
    /// ending now.
    recent: [(bool, f64, [f64; SHAPE_BANDS]); REPETITION_WINDOW_S],
    /// Seconds pushed.
    seconds: usize,
    /// Matching pairs: (earlier window, later window, level difference in
    /// dB, later minus earlier).
    pairs: Vec<(u16, u16, f32)>,
    /// The latest window against its most recent earlier matches: (mean
    /// difference dB, matches).
    latest: Option<(f32, u32)>,
    /// The last 2 × [`CONTINUITY_WINDOW_S`] seconds: gated, mean square and
    /// shape bands, oldest first; `continuity_len` valid.
    continuity: [(bool, f64, [f64; SHAPE_BANDS]); 2 * CONTINUITY_WINDOW_S],
    continuity_len: usize,
    /// The step inside continuous music found at the latest second, if any:
    /// (step dB, time of the step s).
    continuity_now: Option<(f32, f32)>,
    /// The largest such step since the reset.
    continuity_largest: Option<(f32, f32)>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Window {
    valid: bool,
    level_db: f32,
    shape: [f32; SHAPE_BANDS],
}

impl Default for Repetitions {
    fn default() -> Self {
        Self {
            windows: Vec::with_capacity(REPETITION_SECONDS),
            recent: [(false, 0.0, [0.0; SHAPE_BANDS]); REPETITION_WINDOW_S],
            seconds: 0,
            pairs: Vec::with_capacity(REPETITION_PAIRS),
            latest: None,
            continuity: [(false, 0.0, [0.0; SHAPE_BANDS]); 2 * CONTINUITY_WINDOW_S],
            continuity_len: 0,
            continuity_now: None,
            continuity_largest: None,
        }
    }
}

impl Repetitions {
    fn reset(&mut self) {
        self.windows.clear();
        self.recent = [(false, 0.0, [0.0; SHAPE_BANDS]); REPETITION_WINDOW_S];
        self.seconds = 0;
        self.pairs.clear();
        self.latest = None;
        self.continuity_len = 0;
        self.continuity_now = None;
        self.continuity_largest = None;
    }

    /// Adds a second; compares the window ending with it. Allocates
    /// nothing: every buffer was reserved at construction.
    fn push(&mut self, s: &SecondFeatures) {
        self.recent.rotate_left(1);
        let mut bands = [0.0; SHAPE_BANDS];
        bands.copy_from_slice(&s.third_octave_power[SHAPE_FIRST..SHAPE_FIRST + SHAPE_BANDS]);
        self.recent[REPETITION_WINDOW_S - 1] =
            (s.gated, s.energy / f64::from(s.frames.max(1)), bands);
        self.seconds += 1;
        self.latest = None;
        self.push_continuity(self.recent[REPETITION_WINDOW_S - 1]);
        if self.windows.len() >= REPETITION_SECONDS {
            return;
        }
        let mut window = Window::default();
        if self.seconds >= REPETITION_WINDOW_S && self.recent.iter().all(|r| r.0) {
            let mut sum = [0.0f64; SHAPE_BANDS];
            let mut mean_square = 0.0;
            for (_, ms, b) in &self.recent {
                mean_square += ms;
                for (s, x) in sum.iter_mut().zip(b) {
                    *s += x;
                }
            }
            let level = power_db(mean_square / REPETITION_WINDOW_S as f64);
            let total: f64 = sum.iter().sum();
            if total > 0.0 {
                window.valid = true;
                window.level_db = level;
                for (shape, s) in window.shape.iter_mut().zip(sum) {
                    *shape = power_db(s / total);
                }
            }
        }
        let index = self.windows.len();
        self.windows.push(window);
        if !window.valid {
            return;
        }
        // The most recent matches say what holds now: the music as it was
        // last heard.
        let mut recent_sum = 0.0f32;
        let mut recent = 0u32;
        for earlier in (0..(index + 1).saturating_sub(REPETITION_GAP_S)).rev() {
            let other = self.windows[earlier];
            if !other.valid {
                continue;
            }
            let distance = (window
                .shape
                .iter()
                .zip(&other.shape)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
                / SHAPE_BANDS as f32)
                .sqrt();
            if distance <= REPETITION_MATCH_DB {
                let difference = window.level_db - other.level_db;
                if recent < REPETITION_RECENT_MATCHES {
                    recent_sum += difference;
                    recent += 1;
                }
                if self.pairs.len() < REPETITION_PAIRS {
                    self.pairs.push((earlier as u16, index as u16, difference));
                }
            }
        }
        if recent > 0 {
            self.latest = Some((recent_sum / recent as f32, recent));
        }
    }

    /// Compares the two halves of the last 2 × [`CONTINUITY_WINDOW_S`]
    /// seconds: a level step between two windows of the same music.
    fn push_continuity(&mut self, second: (bool, f64, [f64; SHAPE_BANDS])) {
        const N: usize = 2 * CONTINUITY_WINDOW_S;
        if self.continuity_len == N {
            self.continuity.rotate_left(1);
            self.continuity_len -= 1;
        }
        self.continuity[self.continuity_len] = second;
        self.continuity_len += 1;
        self.continuity_now = None;
        if self.continuity_len < N || !self.continuity.iter().all(|s| s.0) {
            return;
        }
        let window = |part: &[(bool, f64, [f64; SHAPE_BANDS])]| {
            let mut bands = [0.0f64; SHAPE_BANDS];
            let mut mean_square = 0.0;
            for (_, ms, b) in part {
                mean_square += ms;
                for (sum, x) in bands.iter_mut().zip(b) {
                    *sum += x;
                }
            }
            let total: f64 = bands.iter().sum();
            let shape: [f32; SHAPE_BANDS] =
                std::array::from_fn(|i| power_db(bands[i] / total.max(1e-30)));
            (power_db(mean_square / part.len() as f64), shape)
        };
        let (before, before_shape) = window(&self.continuity[..CONTINUITY_WINDOW_S]);
        let (after, after_shape) = window(&self.continuity[CONTINUITY_WINDOW_S..]);
        let distance = (before_shape
            .iter()
            .zip(&after_shape)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            / SHAPE_BANDS as f32)
            .sqrt();
        let step = after - before;
        // A step, not a ramp: within each window the level holds (its
        // first and last three seconds within half the step), so a fade or
        // a build is not taken for an edit.
        let drift = |part: &[(bool, f64, [f64; SHAPE_BANDS])]| {
            let mean_db = |p: &[(bool, f64, [f64; SHAPE_BANDS])]| {
                power_db(p.iter().map(|s| s.1).sum::<f64>() / p.len() as f64)
            };
            (mean_db(&part[part.len() - 3..]) - mean_db(&part[..3])).abs()
        };
        let holds = drift(&self.continuity[..CONTINUITY_WINDOW_S]) <= 0.5 * step.abs()
            && drift(&self.continuity[CONTINUITY_WINDOW_S..]) <= 0.5 * step.abs();
        if distance <= CONTINUITY_MATCH_DB && step.abs() >= CONTINUITY_MIN_STEP_DB && holds {
            let at = (self.seconds - CONTINUITY_WINDOW_S) as f32;
            self.continuity_now = Some((step, at));
            if self
                .continuity_largest
                .is_none_or(|(s, _)| step.abs() > s.abs())
            {
                self.continuity_largest = Some((step, at));
            }
        }
    }

    /// The largest level step with evidence that the arrangement does not
    /// explain it: repeated material at two levels across a split, or a step
    /// between two windows of the same music.
    fn largest_unexplained_step(&self) -> Option<(f32, f32)> {
        match (self.largest_step(), self.continuity_largest) {
            (Some(a), Some(b)) => Some(if a.0.abs() >= b.0.abs() { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    /// The split that best separates the pairs: the mean difference of the
    /// pairs across it minus that of the pairs on one side, and the time of
    /// the split in s; None without enough pairs on both sides.
    fn largest_step(&self) -> Option<(f32, f32)> {
        if self.pairs.len() < 2 * REPETITION_MIN_PAIRS as usize {
            return None;
        }
        let median = median_of_pairs(&self.pairs);
        let n = self.windows.len();
        // Pairs entering (earlier window before the split) and leaving
        // (later window's first second before the split) as it moves:
        // sweep over the splits with running sums.
        let mut entering_sum = [0.0f32; REPETITION_SECONDS + 1];
        let mut entering_count = [0u32; REPETITION_SECONDS + 1];
        let mut leaving_sum = [0.0f32; REPETITION_SECONDS + 1];
        let mut leaving_count = [0u32; REPETITION_SECONDS + 1];
        let mut total = 0.0f32;
        let mut total_count = 0u32;
        for &(earlier, later, difference) in &self.pairs {
            if (difference - median).abs() > REPETITION_OUTLIER_DB {
                continue;
            }
            // Window `w` ends with second `w` and starts with second
            // `w + 1 − WINDOW`. A pair is across split `t` (between seconds
            // t−1 and t) when the earlier window ends before t and the
            // later one starts at t or after: from t = earlier + 1 up to
            // t = later start.
            let enters = earlier as usize + 1;
            let leaves = later as usize + 2 - REPETITION_WINDOW_S;
            entering_sum[enters] += difference;
            entering_count[enters] += 1;
            leaving_sum[leaves] += difference;
            leaving_count[leaves] += 1;
            total += difference;
            total_count += 1;
        }
        let mut across = 0.0f32;
        let mut across_count = 0u32;
        let mut best: Option<(f32, f32)> = None;
        for split in 1..n {
            across += entering_sum[split] - leaving_sum[split];
            across_count = across_count + entering_count[split] - leaving_count[split];
            let same_count = total_count - across_count;
            if across_count < REPETITION_MIN_PAIRS
                || same_count < REPETITION_MIN_PAIRS
                || split < REPETITION_EDGE_S
                || split + REPETITION_EDGE_S > n
            {
                continue;
            }
            let step = across / across_count as f32 - (total - across) / same_count as f32;
            if best.is_none_or(|(b, _)| step.abs() > b.abs()) {
                best = Some((step, split as f32));
            }
        }
        best
    }
}

/// Median of the pairs' differences by counting in 0.1 dB bins over
/// ±40 dB (on the stack).
fn median_of_pairs(pairs: &[(u16, u16, f32)]) -> f32 {
    let mut histogram = Histogram::<800>::new(-40.0, 0.1);
    for &(_, _, d) in pairs {
        histogram.push(d);
    }
    histogram.median().unwrap_or(0.0)
}

/// Frequencies of the repetition shape's bands, for the documentation.
pub fn repetition_band_range_hz() -> (f64, f64) {
    (
        third_octave_centre_hz(SHAPE_FIRST),
        third_octave_centre_hz(SHAPE_FIRST + SHAPE_BANDS - 1),
    )
}
