//! Narrow spectral lines that are not partials of a note: the raw material
//! of the `metallic-resonance` hint.
//!
//! [`LineFinder::find`] searches an averaged power spectrum (one value per
//! FFT bin, Hann window) for narrow peaks:
//!
//! 1. **Candidates.** Every local maximum standing at least
//!    [`SHOULDER_DB`] above the bins two bins away (which rules out the
//!    flanks of broad humps) and at least [`CANDIDATE_DB`] above the
//!    log-mean of its ±1/6-octave neighbourhood (at least ±6 bins), its own
//!    Hann main lobe (±2 bins) excluded. A log mean, so that one other peak
//!    barely moves it.
//! 2. **Notes are set aside.** A candidate is a partial of a note when it
//!    is harmonic n of a plausible fundamental f0 (50–1500 Hz, from its
//!    spacing to another candidate), f0 is itself a candidate (±2 bins) or
//!    lies on the note grid ([`cents_from_grid`], ±[`NOTE_GRID_CENTS`]: a
//!    note whose fundamental is weak, as in a whole programme's average),
//!    and two neighbouring harmonics of the same f0 are candidates (±1
//!    bin). A resonance rings alone; notes come with their harmonics. The
//!    harmonic numbers keep a dense spectrum (a whole programme's notes)
//!    from offering a chance comb to any line.
//! 3. **The lines.** The remaining candidates in the search range, the
//!    strongest first, at most [`MAX_LINES`].
//!
//! Each line reports its frequency (parabolic interpolation of the dB
//! values of the peak bin and its neighbours, which for a Hann window puts
//! a stationary sine within about 0.05 bin of its true frequency), its
//! prominence over the neighbourhood, and its power (the three bins of its
//! main lobe) relative to the whole spectrum's, so that the triage can judge
//! where it sits on the note grid and whether it can be heard.
//!
//! Two limits follow from step 2: a line that falls exactly on a note's
//! comb is missed, and a partial whose fundamental is missing (high-passed
//! away) can be reported.

/// A narrow peak must be this far above each of its two neighbours at
/// ±2 FFT bins, dB.
pub const SHOULDER_DB: f64 = 3.0;
/// Prominence over its neighbourhood from which a narrow peak is a
/// candidate (a line, or a partial that vouches for a harmonic series), dB.
pub const CANDIDATE_DB: f32 = 6.0;
/// Fundamentals a harmonic series may have, Hz.
const SERIES_SPACING_HZ: (f64, f64) = (50.0, 1500.0);
/// Lines reported at most.
pub const MAX_LINES: usize = 4;
/// Frequencies within this many cents of a note of the A440
/// equal-tempered grid are notes.
pub const NOTE_GRID_CENTS: f32 = 15.0;

/// Cents from the nearest note of the equal-tempered grid tuned
/// `tuning_cents` away from A440, −50..=50.
pub fn cents_from_grid(frequency_hz: f32, tuning_cents: f32) -> f32 {
    let cents = 1200.0 * (frequency_hz / 440.0).log2() - tuning_cents;
    cents - 100.0 * (cents / 100.0).round()
}

/// Range of the peaks the tuning is read from, Hz: high enough for the
/// interpolated frequency to be good to a few cents, low enough for notes
/// to dominate.
const TUNING_RANGE_HZ: (f64, f64) = (500.0, 5000.0);
/// The peaks must agree this well on a tuning (the length of their mean
/// direction on the circle of cents, 0..=1) for it to count; else A440.
pub const TUNING_AGREEMENT: f32 = 0.3;

/// One narrow line.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Line {
    /// Frequency, Hz (interpolated between bins); 0 for no line.
    pub frequency_hz: f32,
    /// How far the peak bin stands above its neighbourhood, dB.
    pub prominence_db: f32,
    /// Power of the line's main lobe relative to the power of the whole
    /// spectrum, dB.
    pub level_db: f32,
}

/// Scratch space for the search, allocated once for a spectrum size.
#[derive(Debug, Clone)]
pub struct LineFinder {
    /// dB per FFT bin.
    db: Vec<f64>,
    /// Running sums of `db`, for neighbourhood means.
    prefix: Vec<f64>,
    /// Candidates (FFT bin, prominence dB), in bin order; capacity one per
    /// bin.
    candidates: Vec<(usize, f32)>,
    /// The tuning of the notes in the last spectrum searched, cents from
    /// A440 (0 when they do not agree on one).
    tuning_cents: f32,
}

impl LineFinder {
    /// Scratch for spectra of `bins` values (`fft_size / 2 + 1`).
    pub fn new(bins: usize) -> Self {
        Self {
            db: vec![0.0; bins],
            prefix: vec![0.0; bins + 1],
            candidates: Vec::with_capacity(bins),
            tuning_cents: 0.0,
        }
    }

    /// The tuning of the notes found by the last [`Self::find`]: the
    /// prominence-weighted mean of their distances from the A440 grid, on
    /// the circle of cents (a note 49 cents sharp is next to one 49 cents
    /// flat), when they agree to [`TUNING_AGREEMENT`]; else 0.
    pub fn tuning_cents(&self) -> f32 {
        self.tuning_cents
    }

    /// The lines of `power` (mean square per FFT bin, bins spaced `bin_hz`
    /// apart, index 0 at DC) between `low_hz` and `high_hz`, strongest
    /// first, into `out`; returns how many were found. Never allocates
    /// (for a spectrum no longer than the one given to [`Self::new`]).
    pub fn find(
        &mut self,
        power: &[f64],
        bin_hz: f64,
        low_hz: f64,
        high_hz: f64,
        out: &mut [Line; MAX_LINES],
    ) -> usize {
        *out = [Line::default(); MAX_LINES];
        let bins = power.len().min(self.db.len());
        if bins < 32 {
            return 0;
        }
        let last_bin = bins - 1;
        let high_hz = high_hz.min(0.9 * last_bin as f64 * bin_hz);
        let first = ((low_hz / bin_hz).round() as usize).max(8);
        let last = ((high_hz / bin_hz).round() as usize).min(last_bin - 8);
        if first >= last {
            return 0;
        }
        let total: f64 = power[..bins].iter().sum();
        if total <= 0.0 {
            return 0;
        }
        // Peaks below the range (down to the lowest fundamental) count as
        // neighbours and fundamentals of those inside it.
        let search_first = ((SERIES_SPACING_HZ.0 / bin_hz) as usize).max(4);
        let half_width =
            |k: usize| ((k as f64 * (2f64.powf(1.0 / 6.0) - 1.0)).round() as usize).max(6);
        let lo = search_first.saturating_sub(half_width(search_first)).max(1);
        let hi = (last + half_width(last)).min(last_bin);
        let db = &mut self.db;
        let prefix = &mut self.prefix;
        prefix[lo] = 0.0;
        for k in lo..=hi {
            db[k] = 10.0 * (power[k] + 1.0e-30).log10();
            prefix[k + 1] = prefix[k] + db[k];
        }
        let mean =
            |from: usize, to: usize| (prefix[to + 1] - prefix[from]) / (to + 1 - from) as f64;
        let candidates = &mut self.candidates;
        candidates.clear();
        for k in search_first..=last {
            let level = db[k];
            if level < db[k - 1]
                || level < db[k + 1]
                || level - db[k - 2] < SHOULDER_DB
                || level - db[k + 2] < SHOULDER_DB
            {
                continue;
            }
            let w = half_width(k);
            let (left_from, left_to) = (k.saturating_sub(w).max(lo), k - 3);
            let (right_from, right_to) = (k + 3, (k + w).min(hi));
            let left_n = (left_to + 1 - left_from) as f64;
            let right_n = (right_to + 1 - right_from) as f64;
            let neighbourhood = (mean(left_from, left_to) * left_n
                + mean(right_from, right_to) * right_n)
                / (left_n + right_n);
            let prominence = (level - neighbourhood) as f32;
            if prominence >= CANDIDATE_DB {
                // Within the capacity reserved in `new`: no allocation.
                candidates.push((k, prominence));
            }
        }
        // The notes' tuning, from the interpolated frequencies of the
        // candidates where the resolution allows.
        let (mut sin, mut cos, mut weight) = (0.0f64, 0.0f64, 0.0f64);
        for &(k, prominence) in candidates.iter() {
            let hz = k as f64 * bin_hz;
            if !(TUNING_RANGE_HZ.0..=TUNING_RANGE_HZ.1).contains(&hz) {
                continue;
            }
            let frequency = (k as f64 + parabolic_offset(db, k)) * bin_hz;
            let angle =
                std::f64::consts::TAU * f64::from(cents_from_grid(frequency as f32, 0.0)) / 100.0;
            let w = f64::from(prominence);
            sin += w * angle.sin();
            cos += w * angle.cos();
            weight += w;
        }
        self.tuning_cents = if weight > 0.0 && (sin.hypot(cos) / weight) as f32 >= TUNING_AGREEMENT
        {
            (sin.atan2(cos) * 100.0 / std::f64::consts::TAU) as f32
        } else {
            0.0
        };
        let tuning = self.tuning_cents;
        let candidates = &candidates[..];
        // Candidates are in bin order: a binary search finds one within
        // `tolerance` bins of `bin`.
        let has_peak_within = |bin: usize, tolerance: usize| {
            let at = candidates.partition_point(|&(k, _)| k + tolerance < bin);
            candidates
                .get(at)
                .is_some_and(|&(k, _)| k <= bin + tolerance)
        };
        let (min_spacing, max_spacing) = (
            (SERIES_SPACING_HZ.0 / bin_hz).ceil() as usize,
            (SERIES_SPACING_HZ.1 / bin_hz).floor() as usize,
        );
        let mut found = 0;
        for &(k, prominence) in candidates {
            if k < first {
                continue;
            }
            // A note: `k` is harmonic n of a fundamental f0 = k/n that is
            // itself a candidate or a note of the grid, and two neighbouring
            // harmonics (n−1 and n+1, or n+1 and n+2, or n−2 and n−1) are
            // candidates too.
            let in_series = candidates.iter().any(|&(other, _)| {
                let spacing = k.abs_diff(other);
                if !(min_spacing..=max_spacing).contains(&spacing) {
                    return false;
                }
                let n = (k as f64 / spacing as f64).round();
                if n < 2.0 {
                    return false;
                }
                let f0 = k as f64 / n;
                let harmonic = |m: f64| -> bool {
                    m >= 1.0 && {
                        let bin = (m * f0).round() as usize;
                        has_peak_within(bin, if m == 1.0 { 2 } else { 1 })
                    }
                };
                let fundamental_hz = (f0 * bin_hz) as f32;
                (harmonic(1.0) || cents_from_grid(fundamental_hz, tuning).abs() <= NOTE_GRID_CENTS)
                    && [(-1.0, 1.0), (1.0, 2.0), (-2.0, -1.0)]
                        .iter()
                        .any(|&(a, b)| harmonic(n + a) && harmonic(n + b))
            });
            if in_series {
                continue;
            }
            let offset = parabolic_offset(db, k);
            let lobe = power[k - 1] + power[k] + power[k + 1];
            let line = Line {
                frequency_hz: ((k as f64 + offset) * bin_hz) as f32,
                prominence_db: prominence,
                level_db: (10.0 * (lobe / total).log10()) as f32,
            };
            // Keep the strongest MAX_LINES, strongest first.
            let at = out[..found]
                .iter()
                .position(|l| l.prominence_db < prominence)
                .unwrap_or(found);
            if at < MAX_LINES {
                let end = found.min(MAX_LINES - 1);
                out.copy_within(at..end, at + 1);
                out[at] = line;
                found = (found + 1).min(MAX_LINES);
            }
        }
        found
    }
}

/// Where the peak at bin `k` of `db` lies between bins: parabolic
/// interpolation of the dB values, −0.5..=0.5.
fn parabolic_offset(db: &[f64], k: usize) -> f64 {
    let (a, b, c) = (db[k - 1], db[k], db[k + 1]);
    let denominator = a - 2.0 * b + c;
    if denominator.abs() > 1e-12 {
        (0.5 * (a - c) / denominator).clamp(-0.5, 0.5)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::spectrum::SpectrumAnalyzer;
    use crate::test_support::Noise;

    fn lines_of(signal: &[f32], fs: f32) -> Vec<Line> {
        let mut an = SpectrumAnalyzer::new(fs, 1);
        an.process(&[signal]);
        let power = an.medium_power();
        let mut finder = LineFinder::new(power.len());
        let mut out = [Line::default(); MAX_LINES];
        let n = finder.find(
            power,
            f64::from(fs) / an.fft_size() as f64,
            1000.0,
            12_000.0,
            &mut out,
        );
        out[..n].to_vec()
    }

    /// A lone sine in noise is found at its frequency (within a tenth of a
    /// bin: 1.2 Hz), with its level against the whole: the sine's power
    /// 0.01²/2 over the noise's 0.05²/3 (uniform in ±1·0.05 has variance
    /// 0.05²/3) plus its own, −15.4 dB. The partials of a harmonic tone (a
    /// note) are not lines.
    #[test]
    fn finds_a_lone_sine_but_not_a_note() {
        let fs = 48_000.0f32;
        let n = 6 * 48_000;
        let mut noise = Noise(3);
        let tone = |i: usize, f: f64| (std::f64::consts::TAU * f * i as f64 / 48_000.0).sin();
        let lone: Vec<f32> = (0..n)
            .map(|i| (0.05 * noise.next() + 0.01 * tone(i, 3170.0)) as f32)
            .collect();
        let lines = lines_of(&lone, fs);
        let line = lines.first().expect("a line");
        assert!((line.frequency_hz - 3170.0).abs() < 1.2, "{line:?}");
        assert!(line.prominence_db > 15.0, "{line:?}");
        let expected = 10.0
            * ((0.01f64.powi(2) / 2.0) / (0.05f64.powi(2) / 3.0 + 0.01f64.powi(2) / 2.0)).log10();
        assert!(
            (f64::from(line.level_db) - expected).abs() < 0.5,
            "{line:?} vs {expected}"
        );

        // A 220 Hz note with 40 partials (1/n), plus the same noise.
        let note: Vec<f32> = (0..n)
            .map(|i| {
                let partials: f64 = (1..=40)
                    .map(|h| tone(i, 220.0 * f64::from(h)) / f64::from(h))
                    .sum();
                (0.05 * noise.next() + 0.05 * partials) as f32
            })
            .collect();
        for line in lines_of(&note, fs) {
            assert!(
                line.prominence_db < 10.0,
                "partial reported as a line: {line:?}"
            );
        }
    }

    /// Notes tuned 20 cents sharp (A = 445.1 Hz) give a tuning of +20
    /// cents, within 5 (partials 5, 7, 10 and 11 of a note lie 14 to 49
    /// cents flat of the grid and pull the mean a little); notes at A440
    /// give 0 within 5.
    #[test]
    fn reads_the_tuning_of_the_notes() {
        let fs = 48_000.0f32;
        let n = 6 * 48_000;
        let mut noise = Noise(9);
        for (cents, expected) in [(20.0f64, 20.0f32), (0.0, 0.0)] {
            let a = 440.0 * 2f64.powf(cents / 1200.0);
            // A chord of three notes (A, C#, E) with 12 partials each.
            let signal: Vec<f32> = (0..n)
                .map(|i| {
                    let t = i as f64 / 48_000.0;
                    let chord: f64 = [0.0, 4.0, 7.0]
                        .iter()
                        .map(|st: &f64| {
                            let f0 = a * 2f64.powf(st / 12.0);
                            (1..=12)
                                .map(|h| {
                                    (std::f64::consts::TAU * f0 * f64::from(h) * t).sin()
                                        / f64::from(h)
                                })
                                .sum::<f64>()
                        })
                        .sum();
                    (0.02 * noise.next() + 0.05 * chord) as f32
                })
                .collect();
            let mut an = SpectrumAnalyzer::new(fs, 1);
            an.process(&[&signal]);
            let mut finder = LineFinder::new(an.medium_power().len());
            let mut out = [Line::default(); MAX_LINES];
            finder.find(
                an.medium_power(),
                f64::from(fs) / an.fft_size() as f64,
                1000.0,
                12_000.0,
                &mut out,
            );
            let tuning = finder.tuning_cents();
            assert!((tuning - expected).abs() < 5.0, "{cents}: {tuning}");
        }
    }
}
