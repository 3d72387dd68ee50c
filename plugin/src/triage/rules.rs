//! The rules: from the meters' per-second features to one [`Finding`] per
//! hint. Every threshold is a named constant here and is explained, with its
//! source, in `docs/triage.md`.
//!
//! Each rule looks at a window of seconds: the last few seconds live
//! ([`Scope::Live`]), the whole file offline ([`Scope::Whole`]). Rules whose
//! figure only makes sense locally (steadiness of the low end, loudness
//! jumps, resonances) slide their local window over the whole file and
//! report a typical or the worst position. Live evaluation never allocates;
//! whole-file medians over more than 64 values sort a heap copy (offline).

use super::{Finding, HintId, Severity, HINT_COUNT};
use crate::meter::features::{SecondFeatures, FEATURE_BANDS};
use crate::role::StemRole;

/// Which audio the rules judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The last seconds of a stream (the live plugin).
    Live,
    /// Everything given (a whole file).
    Whole,
}

/// What the audio is and where it is going.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TriageContext {
    /// The material's stem role.
    pub role: StemRole,
    /// Delivery target loudness, LUFS.
    pub target_lufs: f32,
    /// Delivery target true-peak ceiling, dBTP.
    pub ceiling_dbtp: f32,
    /// Integrated loudness (BS.1770 gated) of everything measured, LUFS;
    /// None below the gate.
    pub integrated_lufs: Option<f32>,
    /// Whether the audio is a stereo pair (stereo rules run only then).
    pub stereo: bool,
}

// ---- Windows, seconds -------------------------------------------------------

/// Live window of most rules, seconds.
pub const LIVE_WINDOW_S: usize = 3;
/// Live window of the DC rule, which needs a longer average, seconds.
pub const LONG_WINDOW_S: usize = 5;
/// Window over which the steadiness of the low end and the PSR are judged,
/// seconds.
pub const STEADINESS_WINDOW_S: usize = 5;

// ---- Thresholds (see docs/triage.md) ----------------------------------------

/// Below this short-term loudness everything is silence, LUFS (the BS.1770
/// absolute gate).
pub const SILENCE_LUFS: f32 = -70.0;
/// RMS below which a window counts as silent, dBFS (the gate's level for
/// unweighted signal).
pub const SILENT_RMS_DBFS: f32 = -70.0;
/// RMS below which a window is too quiet to judge tone, stereo or
/// dynamics, dBFS.
pub const ACTIVE_RMS_DBFS: f32 = -60.0;
/// Distance from the target at which loudness is worth a note, LU.
pub const TARGET_INFO_LU: f32 = 1.0;
/// Distance from the target that is a warning, LU.
pub const TARGET_WARN_LU: f32 = 6.0;
/// True peak above which a stem (not the full mix) warns, dBTP.
pub const STEM_TRUE_PEAK_DBTP: f32 = 0.0;
/// Clip runs per second (on average over the window) that make clipping a
/// problem.
pub const CLIP_PROBLEM_RUNS_PER_SECOND: f32 = 1.0;
/// Fewest clip runs that make clipping a problem.
pub const CLIP_PROBLEM_MIN_RUNS: f32 = 3.0;
/// DC offset that warns, dBFS.
pub const DC_WARN_DBFS: f32 = -50.0;
/// DC offset that is a problem, dBFS.
pub const DC_PROBLEM_DBFS: f32 = -40.0;
/// Median PSR below which a mix is over-compressed (warn), dB.
pub const PSR_WARN_DB: f32 = 8.0;
/// Median PSR below which a mix is crushed, dB.
pub const PSR_PROBLEM_DB: f32 = 6.0;
/// Level step between steady sections that warns, dB.
pub const JUMP_WARN_DB: f32 = 6.0;
/// Level step that is a problem, dB.
pub const JUMP_PROBLEM_DB: f32 = 10.0;
/// Largest spread of the per-second level inside a section that counts as
/// steady, dB.
pub const JUMP_STEADY_DB: f32 = 4.0;
/// Standard deviation of the per-second low-end level that warns, dB.
pub const LOW_END_WARN_DB: f32 = 2.5;
/// Standard deviation of the per-second low-end level that is a problem, dB.
pub const LOW_END_PROBLEM_DB: f32 = 4.5;
/// Share of the low end (20–250 Hz) in the total below which the low-end
/// rules do not judge, dB.
pub const LOW_END_PRESENT_DB: f32 = -30.0;
/// Low-band (below 150 Hz) correlation under which the bass is wide (warn).
pub const LOW_CORRELATION_WARN: f32 = 0.5;
/// Low-band correlation under which the bass cancels in mono (problem).
pub const LOW_CORRELATION_PROBLEM: f32 = 0.0;
/// Low-band correlation at or under which one channel is polarity-inverted.
pub const INVERTED_LOW_CORRELATION: f32 = -0.7;
/// Broadband correlation at or under which a channel is inverted when there
/// is no low band to judge.
pub const INVERTED_CORRELATION: f32 = -0.9;
/// Broadband correlation under which mono compatibility is poor (warn).
pub const MONO_WARN_CORRELATION: f32 = 0.0;
/// Broadband correlation under which mono compatibility is a problem.
pub const MONO_PROBLEM_CORRELATION: f32 = -0.5;
/// Side-to-mid ratio at or below which both channels are the same, dB.
pub const DUAL_MONO_SIDE_DB: f32 = -60.0;
/// Excess over the role's reference that warns: 2–5 kHz, 250–500 Hz, dB.
pub const BAND_EXCESS_WARN_DB: f32 = 3.0;
/// Excess over the role's reference that is a problem, dB.
pub const BAND_EXCESS_PROBLEM_DB: f32 = 6.0;
/// Excess of 5–20 kHz over the reference that warns (too bright), dB.
pub const BRIGHT_WARN_DB: f32 = 4.0;
/// Excess of 5–20 kHz that is a problem, dB.
pub const BRIGHT_PROBLEM_DB: f32 = 8.0;
/// Shortfall of 5–20 kHz under the reference that warns (too dull), dB.
pub const DULL_WARN_DB: f32 = 6.0;
/// Shortfall of 5–20 kHz that is a problem, dB.
pub const DULL_PROBLEM_DB: f32 = 10.0;
/// Prominence of a steady narrow spectral peak that warns, dB.
pub const RESONANCE_WARN_DB: f32 = 15.0;
/// Prominence of a steady narrow peak that is a problem, dB.
pub const RESONANCE_PROBLEM_DB: f32 = 25.0;
/// Largest relative frequency difference of the same resonance from one
/// second to the next.
pub const RESONANCE_SAME_FREQUENCY: f32 = 0.03;
/// Share of the file over which a resonance must hold to be reported for
/// the whole file.
pub const RESONANCE_WHOLE_SHARE: f32 = 0.3;
/// Crest factor (sample peak over RMS, per second) under which drums are
/// smeared (warn), dB.
pub const CREST_WARN_DB: f32 = 10.0;
/// Crest factor under which drums are flattened (problem), dB.
pub const CREST_PROBLEM_DB: f32 = 7.0;

/// The seconds of audio a live evaluation of `hint` looks back over: a
/// flagged evaluation stands for this span ending at its second.
pub fn live_window_s(hint: HintId) -> usize {
    match hint {
        HintId::DcOffset => LONG_WINDOW_S,
        HintId::UnstableLowEnd | HintId::OverCompressed => STEADINESS_WINDOW_S,
        // Two 3 s sections.
        HintId::LoudnessJumps => 2 * LIVE_WINDOW_S,
        _ => LIVE_WINDOW_S,
    }
}

/// Band indices of [`SecondFeatures::band_power`].
const SUB: usize = 0;
const BASS: usize = 1;
const LOW_MID: usize = 2;
const MID: usize = 3;
const HIGH_MID: usize = 4;
const PRESENCE: usize = 5;
const AIR: usize = 6;

// ---- Role expectations -------------------------------------------------------

/// Where a role's spectrum is expected to sit, relative to its 500–2000 Hz
/// band, dB: pink noise (equal power per octave) tilted by `tilt_db_per_octave`
/// about 1 kHz. See docs/triage.md, "Tonal references".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneReference {
    /// Tilt of the reference against pink noise, dB per octave.
    pub tilt_db_per_octave: f32,
    /// Whether the role is judged for harshness (2–5 kHz).
    pub harshness: bool,
    /// Whether the role is judged for mud, brightness and dullness.
    pub balance: bool,
    /// Extra allowance in 2–5 kHz before harshness is flagged, dB (drums
    /// carry the snare's crack and the cymbals there).
    pub harshness_allowance_db: f32,
}

impl ToneReference {
    /// Expected level of the band `low_hz..high_hz` relative to the
    /// 500–2000 Hz band, dB.
    pub fn band_db(&self, low_hz: f32, high_hz: f32) -> f32 {
        let octaves = (high_hz / low_hz).log2();
        let centre_octaves = ((low_hz * high_hz).sqrt() / 1000.0).log2();
        10.0 * (octaves / 2.0).log10() + self.tilt_db_per_octave * centre_octaves
    }
}

/// The tonal reference of a role, or None where tone is not judged (bass and
/// effects stems have no typical spectrum).
pub fn tone_reference(role: StemRole) -> Option<ToneReference> {
    match role {
        StemRole::FullMix => Some(ToneReference {
            tilt_db_per_octave: -1.5,
            harshness: true,
            balance: true,
            harshness_allowance_db: 0.0,
        }),
        StemRole::Music | StemRole::Vocals | StemRole::BackingVocals => Some(ToneReference {
            tilt_db_per_octave: -3.0,
            harshness: true,
            balance: true,
            harshness_allowance_db: 0.0,
        }),
        StemRole::Drums => Some(ToneReference {
            tilt_db_per_octave: 0.0,
            harshness: true,
            balance: false,
            harshness_allowance_db: 3.0,
        }),
        StemRole::Bass | StemRole::Effects => None,
    }
}

// ---- Classification with hysteresis -----------------------------------------

/// Where each severity starts for one rule.
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    /// Where `info` starts, in the value's unit (None: never info).
    info: Option<f32>,
    /// Where `warn` starts, in the value's unit.
    warn: Option<f32>,
    /// Where `problem` starts, in the value's unit.
    problem: Option<f32>,
    /// True when larger values are worse.
    higher_is_worse: bool,
    /// How far a severity's threshold moves towards "better" while that
    /// severity (or a higher one) is shown, in the value's unit.
    margin: f32,
}

impl Thresholds {
    fn rising(warn: f32, problem: f32, margin: f32) -> Self {
        Self {
            info: None,
            warn: Some(warn),
            problem: Some(problem),
            higher_is_worse: true,
            margin,
        }
    }

    fn falling(warn: f32, problem: f32, margin: f32) -> Self {
        Self {
            higher_is_worse: false,
            ..Self::rising(warn, problem, margin)
        }
    }

    /// The severity `value` reaches while `shown` is displayed.
    fn classify(&self, value: f32, shown: Severity) -> Severity {
        if !value.is_finite() {
            return Severity::None;
        }
        for (severity, threshold) in [
            (Severity::Problem, self.problem),
            (Severity::Warn, self.warn),
            (Severity::Info, self.info),
        ] {
            let Some(mut threshold) = threshold else {
                continue;
            };
            if severity <= shown {
                threshold += if self.higher_is_worse {
                    -self.margin
                } else {
                    self.margin
                };
            }
            let beyond = if self.higher_is_worse {
                value >= threshold
            } else {
                value <= threshold
            };
            if beyond {
                return severity;
            }
        }
        Severity::None
    }

    fn finding(&self, value: f32, reference: f32, shown: Severity) -> Finding {
        Finding {
            severity: self.classify(value, shown),
            value,
            reference,
            frequency_hz: 0.0,
            measured: true,
        }
    }
}

// ---- Figures over a window --------------------------------------------------

/// Sums of a run of seconds.
#[derive(Debug, Clone, Copy, Default)]
struct WindowSums {
    /// Frames (samples per channel).
    frames: f64,
    /// Σx², mean over channels, full-scale² · samples.
    energy: f64,
    /// Σx of the first two channels, full-scale · samples.
    channel_sums: [f64; 2],
    /// Highest sample magnitude, linear full scale.
    sample_peak: f32,
    /// Highest true peak, linear full scale.
    true_peak: f32,
    /// Clip runs.
    clip_runs: u32,
    /// Band mean squares summed over spectrum frames, full-scale² · frames.
    band_power: [f64; FEATURE_BANDS],
    /// Spectrum frames.
    spectrum_frames: u32,
    /// ΣL², ΣR², ΣLR, then the same below 150 Hz, full-scale² · samples.
    stereo: [f64; 6],
    /// Highest short-term loudness at a second's end, LUFS.
    short_term_max: f32,
}

impl WindowSums {
    fn over(seconds: &[SecondFeatures]) -> Self {
        let mut w = WindowSums {
            short_term_max: f32::NEG_INFINITY,
            ..Self::default()
        };
        for s in seconds {
            w.frames += f64::from(s.frames);
            w.energy += s.energy;
            w.channel_sums[0] += s.channel_sums[0];
            w.channel_sums[1] += s.channel_sums[1];
            w.sample_peak = w.sample_peak.max(s.sample_peak);
            w.true_peak = w.true_peak.max(s.true_peak);
            w.clip_runs += s.clip_runs;
            for (sum, band) in w.band_power.iter_mut().zip(s.band_power) {
                *sum += band;
            }
            w.spectrum_frames += s.spectrum_frames;
            for (sum, m) in w.stereo.iter_mut().zip(s.stereo_moments) {
                *sum += m;
            }
            w.short_term_max = w.short_term_max.max(s.short_term_lufs);
        }
        w
    }

    fn rms_dbfs(&self) -> f32 {
        power_db(self.energy / self.frames.max(1.0))
    }

    /// Mean square of a band, full-scale².
    fn band(&self, band: usize) -> f64 {
        self.band_power[band] / f64::from(self.spectrum_frames.max(1))
    }

    /// Level of the bands `bands` relative to the mid band, dB.
    fn relative_to_mid(&self, bands: &[usize]) -> f32 {
        let power: f64 = bands.iter().map(|&b| self.band(b)).sum();
        power_db(power) - power_db(self.band(MID))
    }

    fn correlation(&self, low: bool) -> Option<f32> {
        let o = if low { 3 } else { 0 };
        let (ll, rr, lr) = (self.stereo[o], self.stereo[o + 1], self.stereo[o + 2]);
        let floor = 1.0e-10 * self.frames;
        (ll > floor && rr > floor).then(|| (lr / (ll * rr).sqrt()).clamp(-1.0, 1.0) as f32)
    }

    /// Share of the low band (below 150 Hz) in the stereo energy, dB.
    fn low_band_share_db(&self) -> f32 {
        power_db((self.stereo[3] + self.stereo[4]) / (self.stereo[0] + self.stereo[1]).max(1e-30))
    }

    /// Side-to-mid energy ratio, dB (−120 for identical channels).
    fn side_to_mid_db(&self) -> f32 {
        let [ll, rr, lr, ..] = self.stereo;
        let mid = (ll + rr + 2.0 * lr).max(0.0);
        let side = (ll + rr - 2.0 * lr).max(0.0);
        if mid <= 0.0 {
            return 120.0;
        }
        (10.0 * (side / mid).max(1e-12).log10()) as f32
    }
}

/// Power (mean square) to dB, −300 for silence.
fn power_db(power: f64) -> f32 {
    if power > 1e-30 {
        (10.0 * power.log10()) as f32
    } else {
        -300.0
    }
}

/// Linear amplitude to dB, −300 for silence.
fn amplitude_db(amplitude: f32) -> f32 {
    if amplitude > 1e-15 {
        20.0 * amplitude.log10()
    } else {
        -300.0
    }
}

/// The last `seconds` of `history` live, all of it for the whole file.
fn window(history: &[SecondFeatures], seconds: usize, scope: Scope) -> &[SecondFeatures] {
    match scope {
        Scope::Live => &history[history.len().saturating_sub(seconds)..],
        Scope::Whole => history,
    }
}

/// Values kept on the stack for a median: every live window fits.
const MAX_STACK_VALUES: usize = 64;

/// Collects values for a median: on the stack up to [`MAX_STACK_VALUES`]
/// (every live window), on the heap beyond (whole files, offline only).
struct MedianOf {
    /// The first values, unit of the caller.
    stack: [f32; MAX_STACK_VALUES],
    /// Values in `stack`.
    len: usize,
    /// All values, once there are more than fit on the stack.
    spill: Vec<f32>,
}

impl MedianOf {
    fn new() -> Self {
        Self {
            stack: [0.0; MAX_STACK_VALUES],
            len: 0,
            // An empty Vec does not allocate.
            spill: Vec::new(),
        }
    }

    fn push(&mut self, value: f32) {
        if self.spill.is_empty() && self.len < MAX_STACK_VALUES {
            self.stack[self.len] = value;
            self.len += 1;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.stack[..self.len]);
            }
            self.spill.push(value);
        }
    }

    fn count(&self) -> usize {
        if self.spill.is_empty() {
            self.len
        } else {
            self.spill.len()
        }
    }

    /// The median (mean of the middle two for an even count); None when
    /// empty.
    fn median(&mut self) -> Option<f32> {
        let values = if self.spill.is_empty() {
            &mut self.stack[..self.len]
        } else {
            &mut self.spill[..]
        };
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
}

// ---- The rules ----------------------------------------------------------------

/// Judges `history` (oldest second first) for `context`. `shown` is what
/// is currently displayed per hint (index by [`HintId::index`]): a shown
/// severity is kept with slightly relaxed thresholds, so music hovering at
/// a threshold does not make it flicker. Offline, pass all `None`.
pub fn assess(
    history: &[SecondFeatures],
    context: &TriageContext,
    scope: Scope,
    shown: &[Severity; HINT_COUNT],
) -> [Finding; HINT_COUNT] {
    let mut findings = [Finding::default(); HINT_COUNT];
    if history.is_empty() {
        return findings;
    }
    let role = context.role;
    let shown_of = |hint: HintId| shown[hint.index()];
    let mut set = |hint: HintId, finding: Finding| findings[hint.index()] = finding;

    // Silence: nothing else is judged.
    let short = WindowSums::over(window(history, LIVE_WINDOW_S, scope));
    let silent = match scope {
        Scope::Live => history.len() >= LIVE_WINDOW_S && short.rms_dbfs() < SILENT_RMS_DBFS,
        Scope::Whole => context.integrated_lufs.is_none(),
    };
    if silent {
        let severity = if scope == Scope::Whole && role != StemRole::Effects {
            Severity::Problem
        } else {
            Severity::Info
        };
        set(
            HintId::Silent,
            Finding {
                severity,
                value: short.rms_dbfs(),
                reference: SILENT_RMS_DBFS,
                frequency_hz: 0.0,
                measured: true,
            },
        );
        return findings;
    }

    let active = short.rms_dbfs() >= ACTIVE_RMS_DBFS;

    // Loudness against the delivery target: the full mix only.
    if role == StemRole::FullMix && history.len() >= LIVE_WINDOW_S {
        if let Some(integrated) = context.integrated_lufs {
            let distance = (integrated - context.target_lufs).abs();
            let thresholds = Thresholds {
                info: Some(TARGET_INFO_LU),
                warn: Some(TARGET_WARN_LU),
                problem: None,
                higher_is_worse: true,
                margin: 0.5,
            };
            let mut finding = thresholds.finding(
                distance,
                context.target_lufs,
                shown_of(HintId::LoudnessOffTarget),
            );
            finding.value = integrated;
            set(HintId::LoudnessOffTarget, finding);
        }
    }

    // True peak.
    let true_peak_dbtp = amplitude_db(short.true_peak);
    let thresholds = if role == StemRole::FullMix {
        Thresholds::rising(context.ceiling_dbtp.min(0.0) + 0.05, 0.0, 0.2)
    } else {
        Thresholds {
            problem: None,
            ..Thresholds::rising(STEM_TRUE_PEAK_DBTP + 0.05, 0.0, 0.2)
        }
    };
    let finding = thresholds.finding(
        true_peak_dbtp,
        if role == StemRole::FullMix {
            context.ceiling_dbtp
        } else {
            STEM_TRUE_PEAK_DBTP
        },
        shown_of(HintId::TruePeakOver),
    );
    set(HintId::TruePeakOver, finding);

    // Clipping: any run warns; one per second on average is a problem.
    let runs = short.clip_runs as f32;
    let seconds = short.frames as f32 / frames_per_second(history);
    let severity =
        if runs >= CLIP_PROBLEM_RUNS_PER_SECOND * seconds && runs >= CLIP_PROBLEM_MIN_RUNS {
            Severity::Problem
        } else if runs >= 1.0 {
            Severity::Warn
        } else {
            Severity::None
        };
    set(
        HintId::Clipping,
        Finding {
            severity,
            value: runs,
            reference: 1.0,
            frequency_hz: 0.0,
            measured: true,
        },
    );

    // DC offset, over the long window (a 3 s mean of low bass is not DC).
    if history.len() >= LONG_WINDOW_S {
        let long = WindowSums::over(window(history, LONG_WINDOW_S, scope));
        let dc = long
            .channel_sums
            .iter()
            .map(|sum| amplitude_db((sum.abs() / long.frames.max(1.0)) as f32))
            .fold(-300.0f32, f32::max);
        set(
            HintId::DcOffset,
            Thresholds::rising(DC_WARN_DBFS, DC_PROBLEM_DBFS, 2.0).finding(
                dc,
                DC_WARN_DBFS,
                shown_of(HintId::DcOffset),
            ),
        );
    }

    if !active {
        return findings;
    }

    // Dynamics: PSR (mixes), crest factor (drums).
    if matches!(role, StemRole::FullMix | StemRole::Music) {
        if let Some(psr) = median_psr(window(history, STEADINESS_WINDOW_S, scope), history, scope) {
            set(
                HintId::OverCompressed,
                Thresholds::falling(PSR_WARN_DB, PSR_PROBLEM_DB, 0.5).finding(
                    psr,
                    PSR_WARN_DB,
                    shown_of(HintId::OverCompressed),
                ),
            );
        }
        if let Some(jump) = largest_jump(window(history, LIVE_WINDOW_S, scope), history, scope) {
            set(
                HintId::LoudnessJumps,
                Thresholds::rising(JUMP_WARN_DB, JUMP_PROBLEM_DB, 1.0).finding(
                    jump,
                    JUMP_WARN_DB,
                    shown_of(HintId::LoudnessJumps),
                ),
            );
        }
    }
    if role == StemRole::Drums {
        let mut crest = MedianOf::new();
        for s in window(history, LIVE_WINDOW_S, scope) {
            let rms = power_db(s.energy / f64::from(s.frames.max(1)));
            if rms >= ACTIVE_RMS_DBFS {
                crest.push(amplitude_db(s.sample_peak) - rms);
            }
        }
        if let Some(value) = crest.median() {
            set(
                HintId::SmearedTransients,
                Thresholds::falling(CREST_WARN_DB, CREST_PROBLEM_DB, 0.5).finding(
                    value,
                    CREST_WARN_DB,
                    shown_of(HintId::SmearedTransients),
                ),
            );
        }
    }

    // Low end steadiness.
    if matches!(role, StemRole::FullMix | StemRole::Music | StemRole::Bass) {
        if let Some(spread) = low_end_spread(history, role, scope) {
            set(
                HintId::UnstableLowEnd,
                Thresholds::rising(LOW_END_WARN_DB, LOW_END_PROBLEM_DB, 0.5).finding(
                    spread,
                    LOW_END_WARN_DB,
                    shown_of(HintId::UnstableLowEnd),
                ),
            );
        }
    }

    // Stereo image.
    if context.stereo {
        let correlation = short.correlation(false);
        let low_present = short.low_band_share_db() >= LOW_END_PRESENT_DB;
        let low_correlation = short.correlation(true).filter(|_| low_present);
        let inverted_reference = if low_correlation.is_some() {
            INVERTED_LOW_CORRELATION
        } else {
            INVERTED_CORRELATION
        };
        let inverted = match low_correlation {
            Some(low) => {
                let margin = if shown_of(HintId::PhaseInverted) > Severity::None {
                    0.1
                } else {
                    0.0
                };
                (low <= INVERTED_LOW_CORRELATION + margin && correlation.is_some_and(|c| c < 0.0))
                    .then_some(low)
            }
            None => correlation.filter(|&c| c <= INVERTED_CORRELATION),
        };
        if let Some(value) = inverted {
            set(
                HintId::PhaseInverted,
                Finding {
                    severity: Severity::Problem,
                    value,
                    reference: inverted_reference,
                    frequency_hz: 0.0,
                    measured: true,
                },
            );
        } else {
            if let Some(c) = correlation {
                set(
                    HintId::PoorMonoCompatibility,
                    Thresholds::falling(MONO_WARN_CORRELATION, MONO_PROBLEM_CORRELATION, 0.1)
                        .finding(
                            c,
                            MONO_WARN_CORRELATION,
                            shown_of(HintId::PoorMonoCompatibility),
                        ),
                );
            }
            if role != StemRole::Effects {
                if let Some(low) = low_correlation {
                    set(
                        HintId::WideLowEnd,
                        Thresholds::falling(LOW_CORRELATION_WARN, LOW_CORRELATION_PROBLEM, 0.1)
                            .finding(low, LOW_CORRELATION_WARN, shown_of(HintId::WideLowEnd)),
                    );
                }
            }
        }
        let dual_mono_severity = match role {
            StemRole::FullMix | StemRole::Music | StemRole::Effects => Severity::Warn,
            StemRole::Drums => Severity::Info,
            StemRole::Vocals | StemRole::BackingVocals | StemRole::Bass => Severity::None,
        };
        let side = short.side_to_mid_db();
        let margin = if shown_of(HintId::MonoAsStereo) > Severity::None {
            3.0
        } else {
            0.0
        };
        if side <= DUAL_MONO_SIDE_DB + margin {
            set(
                HintId::MonoAsStereo,
                Finding {
                    severity: dual_mono_severity,
                    value: side,
                    reference: DUAL_MONO_SIDE_DB,
                    frequency_hz: 0.0,
                    measured: true,
                },
            );
        }
    }

    // Tone against the role's reference.
    if let Some(reference) = tone_reference(role) {
        if short.spectrum_frames >= 8 && short.band(MID) > 1e-12 {
            if reference.harshness {
                let value = short.relative_to_mid(&[HIGH_MID]);
                let expected = reference.band_db(2000.0, 5000.0) + reference.harshness_allowance_db;
                set(
                    HintId::HarshHighMids,
                    Thresholds::rising(
                        expected + BAND_EXCESS_WARN_DB,
                        expected + BAND_EXCESS_PROBLEM_DB,
                        1.0,
                    )
                    .finding(value, expected, shown_of(HintId::HarshHighMids)),
                );
            }
            if reference.balance {
                let value = short.relative_to_mid(&[LOW_MID]);
                let expected = reference.band_db(250.0, 500.0);
                set(
                    HintId::Muddy,
                    Thresholds::rising(
                        expected + BAND_EXCESS_WARN_DB,
                        expected + BAND_EXCESS_PROBLEM_DB,
                        1.0,
                    )
                    .finding(value, expected, shown_of(HintId::Muddy)),
                );
                let value = short.relative_to_mid(&[PRESENCE, AIR]);
                let expected = reference.band_db(5000.0, 20_000.0);
                set(
                    HintId::TooBright,
                    Thresholds::rising(
                        expected + BRIGHT_WARN_DB,
                        expected + BRIGHT_PROBLEM_DB,
                        1.0,
                    )
                    .finding(value, expected, shown_of(HintId::TooBright)),
                );
                set(
                    HintId::TooDull,
                    Thresholds::falling(expected - DULL_WARN_DB, expected - DULL_PROBLEM_DB, 1.0)
                        .finding(value, expected, shown_of(HintId::TooDull)),
                );
            }
        }
    }

    // Resonance: a narrow peak that stays at one frequency.
    if !matches!(role, StemRole::Bass | StemRole::Effects) {
        let thresholds = Thresholds::rising(RESONANCE_WARN_DB, RESONANCE_PROBLEM_DB, 2.0);
        let shown = shown_of(HintId::MetallicResonance);
        let finding = match scope {
            Scope::Live => steady_resonance(history).map(|(hz, db)| {
                let mut f = thresholds.finding(db, RESONANCE_WARN_DB, shown);
                f.frequency_hz = hz;
                f
            }),
            Scope::Whole => whole_file_resonance(history, &thresholds),
        };
        if let Some(finding) = finding {
            set(HintId::MetallicResonance, finding);
        }
    }

    findings
}

/// Frames per second of the material (the frames of its fullest second).
fn frames_per_second(history: &[SecondFeatures]) -> f32 {
    history.iter().map(|s| s.frames).max().unwrap_or(1).max(1) as f32
}

/// Median over the seconds of `seconds` (a window ending at the end of
/// `history` live, all of it for the whole file) of the PSR: the highest
/// true peak of the last 3 s minus the short-term loudness, over seconds
/// whose short-term loudness is within 20 LU of the window's loudest (so
/// fades and breaks do not count). Needs three such seconds.
fn median_psr(seconds: &[SecondFeatures], history: &[SecondFeatures], scope: Scope) -> Option<f32> {
    let offset = match scope {
        Scope::Live => history.len() - seconds.len(),
        Scope::Whole => 0,
    };
    let loudest = seconds
        .iter()
        .map(|s| s.short_term_lufs)
        .fold(f32::NEG_INFINITY, f32::max);
    let mut values = MedianOf::new();
    for (i, s) in seconds.iter().enumerate() {
        let at = offset + i;
        if at < 2 || s.short_term_lufs <= loudest - 20.0 || s.short_term_lufs < SILENCE_LUFS {
            continue;
        }
        let peak = history[at - 2..=at]
            .iter()
            .map(|s| s.true_peak)
            .fold(0.0f32, f32::max);
        values.push(amplitude_db(peak) - s.short_term_lufs);
    }
    if values.count() < 3 {
        return None;
    }
    values.median()
}

/// The largest level step between two steady 3 s sections whose second
/// section ends within `seconds` (live: the last 3 s, so a step is
/// reported for 3 s; whole file: anywhere): per-second RMS levels, each
/// section's spread at most [`JUMP_STEADY_DB`], both sections active. dB;
/// None when no position qualifies.
fn largest_jump(
    seconds: &[SecondFeatures],
    history: &[SecondFeatures],
    scope: Scope,
) -> Option<f32> {
    let offset = match scope {
        Scope::Live => history.len() - seconds.len(),
        Scope::Whole => 0,
    };
    let level = |s: &SecondFeatures| power_db(s.energy / f64::from(s.frames.max(1)));
    let mut largest: Option<f32> = None;
    for end in offset.max(5)..offset + seconds.len() {
        let before = &history[end - 5..end - 2];
        let after = &history[end - 2..=end];
        let stats = |part: &[SecondFeatures]| {
            let mut lo = f32::INFINITY;
            let mut hi = f32::NEG_INFINITY;
            let mut energy = 0.0;
            let mut frames = 0.0;
            for s in part {
                let l = level(s);
                lo = lo.min(l);
                hi = hi.max(l);
                energy += s.energy;
                frames += f64::from(s.frames);
            }
            (hi - lo, power_db(energy / frames.max(1.0)))
        };
        let (spread_before, level_before) = stats(before);
        let (spread_after, level_after) = stats(after);
        if spread_before > JUMP_STEADY_DB
            || spread_after > JUMP_STEADY_DB
            || level_before.min(level_after) < ACTIVE_RMS_DBFS
        {
            continue;
        }
        let jump = (level_after - level_before).abs();
        largest = Some(largest.map_or(jump, |l: f32| l.max(jump)));
    }
    largest
}

/// Standard deviation of the per-second low-end level over a window of
/// [`STEADINESS_WINDOW_S`] seconds, dB. For mixes the level is 20–250 Hz
/// relative to everything above 500 Hz (so the arrangement getting louder
/// does not count, and 250–500 Hz, which bass and low mids share, stays
/// out of both); for a bass stem it is the low band's own level. Seconds without
/// a low end are skipped; needs four seconds. Live: the last window; whole
/// file: the median over all window positions.
fn low_end_spread(history: &[SecondFeatures], role: StemRole, scope: Scope) -> Option<f32> {
    let level = |s: &SecondFeatures| -> Option<f32> {
        if s.spectrum_frames == 0 {
            return None;
        }
        let low = s.band_power[SUB] + s.band_power[BASS];
        let total: f64 = s.band_power.iter().sum();
        let share = power_db(low / total.max(1e-30));
        let above_500 = total - low - s.band_power[LOW_MID];
        let to_rest = power_db(low / above_500.max(1e-30));
        let rms = power_db(s.energy / f64::from(s.frames.max(1)));
        (share >= LOW_END_PRESENT_DB && rms >= ACTIVE_RMS_DBFS).then(|| {
            if role == StemRole::Bass {
                power_db(low / f64::from(s.spectrum_frames))
            } else {
                to_rest
            }
        })
    };
    let spread = |part: &[SecondFeatures]| -> Option<f32> {
        let mut n = 0.0f64;
        let mut sum = 0.0f64;
        let mut sum_sq = 0.0f64;
        for value in part.iter().filter_map(level) {
            n += 1.0;
            sum += f64::from(value);
            sum_sq += f64::from(value) * f64::from(value);
        }
        (n >= 4.0).then(|| {
            let mean = sum / n;
            ((sum_sq / n - mean * mean).max(0.0)).sqrt() as f32
        })
    };
    match scope {
        Scope::Live => spread(window(history, STEADINESS_WINDOW_S, scope)),
        Scope::Whole => {
            let mut values = MedianOf::new();
            let positions = history.len().saturating_sub(STEADINESS_WINDOW_S) + 1;
            for start in 0..positions {
                let end = (start + STEADINESS_WINDOW_S).min(history.len());
                if let Some(value) = spread(&history[start..end]) {
                    values.push(value);
                }
            }
            values.median()
        }
    }
}

/// The resonance of the last second if the two seconds before agree on
/// its frequency (within [`RESONANCE_SAME_FREQUENCY`]) in at least one:
/// (frequency in Hz, prominence in dB: the smaller of the last second's and
/// the strongest agreeing second's).
fn steady_resonance(seconds: &[SecondFeatures]) -> Option<(f32, f32)> {
    let (last, before) = seconds.split_last()?;
    if last.narrow_peak_hz <= 0.0 {
        return None;
    }
    let agreeing = before
        .iter()
        .rev()
        .take(2)
        .filter(|s| {
            (s.narrow_peak_hz - last.narrow_peak_hz).abs()
                <= RESONANCE_SAME_FREQUENCY * last.narrow_peak_hz
        })
        .map(|s| s.narrow_peak_db)
        .fold(f32::NAN, f32::max);
    (!agreeing.is_nan()).then(|| (last.narrow_peak_hz, last.narrow_peak_db.min(agreeing)))
}

/// Whole file: the severity that the live resonance measure reaches in at
/// least [`RESONANCE_WHOLE_SHARE`] of the seconds, with the median
/// prominence and a frequency of those seconds.
fn whole_file_resonance(history: &[SecondFeatures], thresholds: &Thresholds) -> Option<Finding> {
    let positions = history.len().saturating_sub(2);
    if positions == 0 {
        return None;
    }
    for severity in [Severity::Problem, Severity::Warn] {
        let mut values = MedianOf::new();
        let mut frequency = 0.0;
        for end in 3..=history.len() {
            if let Some((hz, db)) = steady_resonance(&history[end - 3..end]) {
                if thresholds.classify(db, Severity::None) >= severity {
                    frequency = hz;
                    values.push(db);
                }
            }
        }
        if values.count() as f32 >= RESONANCE_WHOLE_SHARE * positions as f32 {
            if let Some(value) = values.median() {
                return Some(Finding {
                    severity,
                    value,
                    reference: RESONANCE_WARN_DB,
                    frequency_hz: frequency,
                    measured: true,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pink noise has equal power per octave: with no tilt the reference of
    /// a band is 10·log10(its octaves / 2), and the tilt adds its slope
    /// times the band centre's distance from 1 kHz in octaves.
    #[test]
    fn tone_reference_is_tilted_pink_noise() {
        let flat = ToneReference {
            tilt_db_per_octave: 0.0,
            harshness: true,
            balance: true,
            harshness_allowance_db: 0.0,
        };
        assert!((flat.band_db(500.0, 2000.0)).abs() < 1e-5);
        assert!((flat.band_db(250.0, 500.0) + 3.0103).abs() < 1e-4);
        assert!((flat.band_db(5000.0, 20000.0)).abs() < 1e-5);
        let tilted = ToneReference {
            tilt_db_per_octave: -1.5,
            ..flat
        };
        // 5–20 kHz: centre 10 kHz, 3.32 octaves above 1 kHz.
        assert!((tilted.band_db(5000.0, 20000.0) + 1.5 * 10f32.log2()).abs() < 1e-4);
    }

    /// Thresholds: crossing raises, and a shown severity holds until the
    /// value is `margin` better than its threshold.
    #[test]
    fn hysteresis_holds_a_shown_severity_within_the_margin() {
        let t = Thresholds::rising(3.0, 6.0, 1.0);
        assert_eq!(t.classify(2.9, Severity::None), Severity::None);
        assert_eq!(t.classify(3.0, Severity::None), Severity::Warn);
        assert_eq!(t.classify(2.1, Severity::Warn), Severity::Warn);
        assert_eq!(t.classify(1.9, Severity::Warn), Severity::None);
        assert_eq!(t.classify(5.5, Severity::Warn), Severity::Warn);
        assert_eq!(t.classify(5.5, Severity::Problem), Severity::Problem);
        assert_eq!(t.classify(f32::NAN, Severity::Problem), Severity::None);
        let f = Thresholds::falling(8.0, 6.0, 0.5);
        assert_eq!(f.classify(8.2, Severity::None), Severity::None);
        assert_eq!(f.classify(8.2, Severity::Warn), Severity::Warn);
        assert_eq!(f.classify(5.9, Severity::None), Severity::Problem);
    }
}
