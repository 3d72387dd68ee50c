//! The rules: from a [`Summary`] of a stretch of audio to one [`Finding`]
//! per hint. Every threshold is a named constant here and is explained,
//! with its source, in `docs/triage.md`.
//!
//! The same rules judge the programme as a whole ([`Scope::Programme`]:
//! the offline report, the live verdict) and the last few seconds
//! ([`Scope::Now`]: the live hint list, and the places in a file where a
//! local excursion held). Nothing here allocates.

use super::summary::{power_db, Summary};
use super::{Finding, HintId, Severity, HINT_COUNT};
use crate::meter::delay::StereoDelay;
use crate::meter::lines::{cents_from_grid, Line, NOTE_GRID_CENTS};
use crate::meter::spectrum::{third_octave_centre_hz, THIRD_OCTAVES};
use crate::role::StemRole;

/// Which stretch of audio the rules judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The last seconds of a stream: what holds now.
    Now,
    /// The programme since the reset (a whole file offline).
    Programme,
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
    /// Sample rate, Hz (the top of the band a file can carry).
    pub sample_rate_hz: f32,
}

// ---- Thresholds (see docs/triage.md) ----------------------------------------

/// Below this short-term loudness everything is silence, LUFS (the BS.1770
/// absolute gate).
pub const SILENCE_LUFS: f32 = -70.0;
/// RMS below which a stretch counts as silent, dBFS.
pub const SILENT_RMS_DBFS: f32 = -70.0;
/// RMS below which a stretch is too quiet to judge tone, stereo or
/// dynamics, dBFS.
pub const ACTIVE_RMS_DBFS: f32 = -60.0;
/// Distance from the target at which loudness is worth a note, LU.
pub const TARGET_INFO_LU: f32 = 1.0;
/// Distance from the target that is a warning, LU.
pub const TARGET_WARN_LU: f32 = 6.0;
/// True peak above which a stem (not the full mix) warns, dBTP.
pub const STEM_TRUE_PEAK_DBTP: f32 = 0.0;
/// Share of the audible seconds holding a clip run that makes clipping a
/// problem: it is heard throughout, not as an accident.
pub const CLIP_PROBLEM_SHARE: f32 = 0.1;
/// Fewest clip runs that make clipping a problem.
pub const CLIP_PROBLEM_MIN_RUNS: u32 = 3;
/// DC offset that warns, dBFS.
pub const DC_WARN_DBFS: f32 = -50.0;
/// DC offset that is a problem, dBFS.
pub const DC_PROBLEM_DBFS: f32 = -40.0;
/// Median PSR below which a mix is over-compressed (warn), dB.
pub const PSR_WARN_DB: f32 = 8.0;
/// Median PSR below which a mix is crushed, dB.
pub const PSR_PROBLEM_DB: f32 = 6.0;
/// Level step of repeated material that warns, dB.
pub const JUMP_WARN_DB: f32 = 4.0;
/// Level step of repeated material that is a problem, dB.
pub const JUMP_PROBLEM_DB: f32 = 8.0;
/// Matches of the latest window needed to call it a jump live.
pub const JUMP_MIN_MATCHES_NOW: u32 = 1;
/// Spread of the low end's peak level around its running mean that warns,
/// dB: notes swinging by about ±6 dB.
pub const LOW_END_WARN_DB: f32 = 4.5;
/// The same that is a problem, dB: about ±10 dB.
pub const LOW_END_PROBLEM_DB: f32 = 7.0;
/// The low end's peaks must be within this distance of the second's mean
/// square for the second to have a low end, dB.
pub const LOW_END_PRESENT_DB: f64 = -30.0;
/// Share of the low band (below 150 Hz) in the total below which the
/// low-band correlation is not judged, dB.
pub const LOW_BAND_PRESENT_DB: f32 = -30.0;
/// Low-band correlation under which the bass is wide: a mono fold-down
/// loses more than 3 dB of it (warn).
pub const LOW_CORRELATION_WARN: f32 = 0.0;
/// Low-band correlation under which the fold-down loses more than 6 dB
/// (problem).
pub const LOW_CORRELATION_PROBLEM: f32 = -0.5;
/// Correlation of 20–100 Hz at or under which one channel is
/// polarity-inverted.
pub const INVERTED_LOW_CORRELATION: f32 = -0.5;
/// Phase-only cross-correlation at zero delay at or under which one
/// channel is polarity-inverted (when 20–100 Hz is not in phase).
pub const INVERTED_ZERO_LAG: f32 = -0.5;
/// `detail` of a phase-inverted finding judged on the phase-only
/// cross-correlation (0: on 20–100 Hz).
pub const INVERTED_BY_LAG: f32 = 1.0;
/// `detail` of a phase-inverted finding judged on the broadband
/// correlation alone.
pub const INVERTED_BY_OPPOSITION: f32 = 2.0;
/// Broadband correlation at or under which the channels are one signal and
/// its inverse, whatever their spectrum.
pub const INVERTED_CORRELATION: f32 = -0.9;
/// Broadband correlation under which mono compatibility is poor (warn).
pub const MONO_WARN_CORRELATION: f32 = 0.0;
/// Broadband correlation under which mono compatibility is a problem.
pub const MONO_PROBLEM_CORRELATION: f32 = -0.5;
/// Side-to-mid ratio at or below which both channels are the same, dB.
pub const DUAL_MONO_SIDE_DB: f32 = -60.0;
/// Share of the phase structure one delay must explain for the channels to
/// be delayed copies (warn).
pub const FAKE_STEREO_WARN: f32 = 0.6;
/// The same that is a problem: a plain copy.
pub const FAKE_STEREO_PROBLEM: f32 = 0.85;
/// `reference` code of a fake-stereo finding: a delay between left and
/// right (Haas).
pub const FAKE_BY_DELAY: f32 = 0.0;
/// `reference` code of a fake-stereo finding: the side a delayed mid
/// (comb).
pub const FAKE_BY_COMB: f32 = 1.0;
/// 3–4 kHz standing this far above the spectrum's own trend (a full mix)
/// or above the role's reference (a stem) warns, dB.
pub const HARSH_WARN_DB: f32 = 3.0;
/// The same that is a problem, dB.
pub const HARSH_PROBLEM_DB: f32 = 6.0;
/// 250–400 Hz standing this far above the trend or reference warns, dB:
/// the low mids vary more between released mixes than 3–4 kHz does, so the
/// line sits as far into that spread.
pub const MUD_WARN_DB: f32 = 4.0;
/// The same that is a problem, dB.
pub const MUD_PROBLEM_DB: f32 = 7.0;
/// The spread of released music's top octaves against the reference (one
/// standard deviation), dB.
pub const TILT_SPREAD_DB: f32 = 7.0;
/// Distance of the top octaves from the reference worth a note, dB.
pub const TILT_INFO_DB: f32 = 6.0;
/// Distance that warns: two standard deviations, beyond what 95 % of
/// released music does, dB.
pub const TILT_WARN_DB: f32 = 14.0;
/// Distance that is a problem: three standard deviations, dB.
pub const TILT_PROBLEM_DB: f32 = 21.0;
/// Level at which the programme is assumed to play, dB SPL: a line is
/// audible in quiet when the programme's level plus its level relative to
/// the programme exceeds the threshold of hearing (ISO 226:2003).
pub const LISTENING_LEVEL_DB_SPL: f32 = 80.0;
/// Above its masking line, a line this strong is a problem, dB.
pub const RESONANCE_PROBLEM_ABOVE_MASKING_DB: f32 = 10.0;
/// A tone is heard through noise in its critical band from about this
/// signal-to-noise ratio in that band (the critical ratio), dB.
pub const CRITICAL_RATIO_DB: f32 = -4.0;
/// Crest factor (sample peak over RMS, per second) under which drums are
/// smeared (warn), dB.
pub const CREST_WARN_DB: f32 = 10.0;
/// Crest factor under which drums are flattened (problem), dB.
pub const CREST_PROBLEM_DB: f32 = 7.0;
/// A fall of this much from one third octave to the next above 5 kHz is
/// the edge of the content, dB.
pub const CUTOFF_CLIFF_DB: f32 = 15.0;
/// ... when the band below the edge is within this distance of the
/// 1–4 kHz level, dB.
pub const CUTOFF_FLOOR_DB: f32 = 60.0;
/// A cutoff below this is worth a note, Hz (above it, little is audible).
pub const CUTOFF_INFO_HZ: f32 = 16_500.0;
/// A cutoff below this warns: the air that nearly every listener under 50
/// hears is gone, Hz.
pub const CUTOFF_WARN_HZ: f32 = 15_000.0;
/// A cutoff below this is a problem: the presence of voices and cymbals
/// goes, Hz.
pub const CUTOFF_PROBLEM_HZ: f32 = 11_000.0;
/// `reference` code of a band-limited finding with a brick-wall edge.
pub const CUTOFF_SHELF: f32 = 1.0;

// ---- Role expectations -------------------------------------------------------

/// Where a role's spectrum is expected to sit, relative to its 500–2000 Hz
/// band, dB: pink noise (equal power per octave) tilted by `tilt_db_per_octave`
/// about 1 kHz. See docs/triage.md, "Tonal references".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneReference {
    /// Tilt of the reference against pink noise, dB per octave.
    pub tilt_db_per_octave: f32,
    /// Whether the role is judged for harshness.
    pub harshness: bool,
    /// Whether the role is judged for mud, brightness and dullness.
    pub balance: bool,
    /// Extra allowance before harshness is flagged, dB (drums carry the
    /// snare's crack and the cymbals there).
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

    fn with_info(self, info: f32) -> Self {
        Self {
            info: Some(info),
            ..self
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
        Finding::new(self.classify(value, shown), value, reference)
    }
}

/// Severities currently shown, per hint, for the hysteresis margins.
type Shown = [Severity; HINT_COUNT];

/// Collects the findings of one evaluation.
struct Findings<'a> {
    findings: [Finding; HINT_COUNT],
    shown: &'a Shown,
}

impl Findings<'_> {
    fn set(&mut self, hint: HintId, finding: Finding) {
        self.findings[hint.index()] = finding;
    }

    fn shown(&self, hint: HintId) -> Severity {
        self.shown[hint.index()]
    }

    fn severity(&self, hint: HintId) -> Severity {
        self.findings[hint.index()].severity
    }

    /// Lowers `hint` to nothing because `because` explains it.
    fn explained_by(&mut self, hint: HintId, because: HintId) {
        if self.severity(because) >= Severity::Warn {
            self.findings[hint.index()].severity = Severity::None;
        }
    }
}

// ---- The rules ----------------------------------------------------------------

/// Judges `summary` for `context`. `shown` is what is currently displayed
/// per hint (index by [`HintId::index`]): a shown severity is kept with
/// slightly relaxed thresholds, so music hovering at a threshold does not
/// make it flicker. For the programme, pass all `None`.
pub fn assess(
    summary: &Summary,
    context: &TriageContext,
    scope: Scope,
    shown: &Shown,
) -> [Finding; HINT_COUNT] {
    let mut out = Findings {
        findings: [Finding::default(); HINT_COUNT],
        shown,
    };
    if summary.seconds <= 0.0 && scope == Scope::Now {
        return out.findings;
    }
    let role = context.role;

    // Silence: nothing else is judged.
    let silent = match scope {
        Scope::Now => summary.rms_dbfs() < SILENT_RMS_DBFS,
        Scope::Programme => context.integrated_lufs.is_none(),
    };
    if silent {
        let severity = if scope == Scope::Programme && role != StemRole::Effects {
            Severity::Problem
        } else {
            Severity::Info
        };
        out.set(
            HintId::Silent,
            Finding::new(severity, summary.rms_dbfs(), SILENT_RMS_DBFS),
        );
        return out.findings;
    }

    level_rules(&mut out, summary, context, scope);
    if summary.rms_dbfs() < ACTIVE_RMS_DBFS {
        return out.findings;
    }
    dynamics_rules(&mut out, summary, role);
    if context.stereo {
        stereo_rules(&mut out, summary, role);
    }
    let cutoff_hz = band_limit_rule(&mut out, summary, context);
    tone_rules(&mut out, summary, role, cutoff_hz);
    resonance_rule(&mut out, summary, context);
    out.findings
}

/// Loudness against the target, true peak, clipping and DC.
fn level_rules(out: &mut Findings, s: &Summary, context: &TriageContext, scope: Scope) {
    let role = context.role;
    if role == StemRole::FullMix && scope == Scope::Programme {
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
                out.shown(HintId::LoudnessOffTarget),
            );
            finding.value = integrated;
            out.set(HintId::LoudnessOffTarget, finding);
        }
    }

    let true_peak_dbtp = super::summary::amplitude_db(s.true_peak);
    let (thresholds, reference) = if role == StemRole::FullMix {
        (
            Thresholds::rising(context.ceiling_dbtp.min(0.0) + 0.05, 0.0, 0.2),
            context.ceiling_dbtp,
        )
    } else {
        (
            Thresholds {
                problem: None,
                ..Thresholds::rising(STEM_TRUE_PEAK_DBTP + 0.05, 0.0, 0.2)
            },
            STEM_TRUE_PEAK_DBTP,
        )
    };
    out.set(
        HintId::TruePeakOver,
        thresholds.finding(true_peak_dbtp, reference, out.shown(HintId::TruePeakOver)),
    );

    // Clipping: any run warns; clipping in a tenth of the audible seconds
    // is a problem.
    let severity = if s.clip_share >= CLIP_PROBLEM_SHARE && s.clip_runs >= CLIP_PROBLEM_MIN_RUNS {
        Severity::Problem
    } else if s.clip_runs >= 1 {
        Severity::Warn
    } else {
        Severity::None
    };
    let mut clipping = Finding::new(severity, s.clip_runs as f32, 1.0);
    clipping.detail = 100.0 * s.clip_share;
    out.set(HintId::Clipping, clipping);

    if s.dc != [0.0; 2] {
        out.set(
            HintId::DcOffset,
            Thresholds::rising(DC_WARN_DBFS, DC_PROBLEM_DBFS, 2.0).finding(
                s.dc_dbfs(),
                DC_WARN_DBFS,
                out.shown(HintId::DcOffset),
            ),
        );
    }
}

/// PSR, repeated material at two levels, the drums' crest factor and the
/// steadiness of the low end.
fn dynamics_rules(out: &mut Findings, s: &Summary, role: StemRole) {
    if matches!(role, StemRole::FullMix | StemRole::Music) {
        if let Some(psr) = s.psr_db {
            out.set(
                HintId::OverCompressed,
                Thresholds::falling(PSR_WARN_DB, PSR_PROBLEM_DB, 0.5).finding(
                    psr,
                    PSR_WARN_DB,
                    out.shown(HintId::OverCompressed),
                ),
            );
        }
        if let Some((step, at_s)) = s.jump {
            let mut finding = Thresholds::rising(JUMP_WARN_DB, JUMP_PROBLEM_DB, 1.0).finding(
                step.abs(),
                JUMP_WARN_DB,
                out.shown(HintId::LoudnessJumps),
            );
            finding.value = step;
            finding.detail = at_s;
            out.set(HintId::LoudnessJumps, finding);
        }
    }
    if role == StemRole::Drums {
        if let Some(crest) = s.crest_db {
            out.set(
                HintId::SmearedTransients,
                Thresholds::falling(CREST_WARN_DB, CREST_PROBLEM_DB, 0.5).finding(
                    crest,
                    CREST_WARN_DB,
                    out.shown(HintId::SmearedTransients),
                ),
            );
        }
    }
    if matches!(role, StemRole::FullMix | StemRole::Music | StemRole::Bass) {
        if let Some(spread) = s.low_end_spread_db {
            out.set(
                HintId::UnstableLowEnd,
                Thresholds::rising(LOW_END_WARN_DB, LOW_END_PROBLEM_DB, 0.5).finding(
                    spread,
                    LOW_END_WARN_DB,
                    out.shown(HintId::UnstableLowEnd),
                ),
            );
        }
    }
}

/// Polarity, fake width, mono compatibility, the low band's width and dual
/// mono. An inverted channel and a widened mono source explain the loss in
/// mono and the wide low end they cause; only they are raised then.
fn stereo_rules(out: &mut Findings, s: &Summary, role: StemRole) {
    let correlation = s.correlation(false);
    let low_correlation = s
        .correlation(true)
        .filter(|_| s.low_band_share_db() >= LOW_BAND_PRESENT_DB);
    let margin = |hint: HintId, out: &Findings, m: f32| {
        if out.shown(hint) > Severity::None {
            m
        } else {
            0.0
        }
    };

    // A widened mono source explains the opposition it creates.
    fake_stereo_rule(out, &s.delay, role);

    // Polarity: the whole image in opposition, kick and bass included.
    let inverted_margin = margin(HintId::PhaseInverted, out, 0.1);
    let broadband_negative = correlation.is_some_and(|c| c < 0.0);
    let sub = s.delay.sub_correlation;
    let by_sub =
        (s.delay.measured && sub <= INVERTED_LOW_CORRELATION + inverted_margin).then_some(sub);
    // The phase-only evidence speaks for the whole image only when the sub
    // band does not contradict it (a widener gone wrong leaves kick and
    // bass in phase).
    let by_lag = (s.delay.measured
        && s.delay.lr_zero <= INVERTED_ZERO_LAG + inverted_margin
        && (sub.is_nan() || sub <= 0.0))
        .then_some(s.delay.lr_zero);
    // Whatever the spectrum, channels this opposed are one signal and its
    // inverse.
    let by_opposition = correlation.filter(|&c| c <= INVERTED_CORRELATION + inverted_margin);
    if broadband_negative && out.severity(HintId::FakeStereo) < Severity::Warn {
        if let Some(value) = by_opposition {
            let mut finding = Finding::new(Severity::Problem, value, INVERTED_CORRELATION);
            finding.detail = INVERTED_BY_OPPOSITION;
            out.set(HintId::PhaseInverted, finding);
        } else if let Some(value) = by_sub {
            out.set(
                HintId::PhaseInverted,
                Finding::new(Severity::Problem, value, INVERTED_LOW_CORRELATION),
            );
        } else if let Some(value) = by_lag {
            let mut finding = Finding::new(Severity::Problem, value, INVERTED_ZERO_LAG);
            finding.detail = INVERTED_BY_LAG;
            out.set(HintId::PhaseInverted, finding);
        }
    }

    if let Some(c) = correlation {
        out.set(
            HintId::PoorMonoCompatibility,
            Thresholds::falling(MONO_WARN_CORRELATION, MONO_PROBLEM_CORRELATION, 0.1).finding(
                c,
                MONO_WARN_CORRELATION,
                out.shown(HintId::PoorMonoCompatibility),
            ),
        );
    }
    if role != StemRole::Effects {
        if let Some(low) = low_correlation {
            out.set(
                HintId::WideLowEnd,
                Thresholds::falling(LOW_CORRELATION_WARN, LOW_CORRELATION_PROBLEM, 0.1).finding(
                    low,
                    LOW_CORRELATION_WARN,
                    out.shown(HintId::WideLowEnd),
                ),
            );
        }
    }
    for cause in [HintId::PhaseInverted, HintId::FakeStereo] {
        out.explained_by(HintId::PoorMonoCompatibility, cause);
        out.explained_by(HintId::WideLowEnd, cause);
    }

    let dual_mono_severity = match role {
        StemRole::FullMix | StemRole::Music | StemRole::Effects => Severity::Warn,
        StemRole::Drums => Severity::Info,
        StemRole::Vocals | StemRole::BackingVocals | StemRole::Bass => Severity::None,
    };
    let side = s.side_to_mid_db();
    if side <= DUAL_MONO_SIDE_DB + margin(HintId::MonoAsStereo, out, 3.0) {
        out.set(
            HintId::MonoAsStereo,
            Finding::new(dual_mono_severity, side, DUAL_MONO_SIDE_DB),
        );
    }
}

/// The channels as delayed or filtered copies of one mono source.
fn fake_stereo_rule(out: &mut Findings, delay: &StereoDelay, role: StemRole) {
    if !delay.measured {
        return;
    }
    let shown = out.shown(HintId::FakeStereo);
    let thresholds = Thresholds::rising(FAKE_STEREO_WARN, FAKE_STEREO_PROBLEM, 0.05);
    let mut finding = if delay.lr_delayed >= delay.ms_delayed {
        let mut f = thresholds.finding(delay.lr_delayed, FAKE_BY_DELAY, shown);
        f.detail = delay.lr_delay_ms;
        f
    } else {
        let mut f = thresholds.finding(delay.ms_delayed, FAKE_BY_COMB, shown);
        f.detail = delay.ms_delay_ms;
        f
    };
    // Effects are widened on purpose.
    if role == StemRole::Effects {
        finding.severity = finding.severity.min(Severity::Info);
    }
    out.set(HintId::FakeStereo, finding);
}

/// Third-octave levels in dB of a summary's spectrum.
fn third_octave_db(s: &Summary) -> [f32; THIRD_OCTAVES] {
    std::array::from_fn(|i| power_db(s.third_octaves[i]))
}

/// Index of the third-octave band nearest `hz`.
fn band_index(hz: f64) -> usize {
    ((3.0 * (hz / 1000.0).log2()).round() + 17.0).clamp(0.0, (THIRD_OCTAVES - 1) as f64) as usize
}

/// Where the content stops: the lower edge of the first third octave above
/// 5 kHz that falls [`CUTOFF_CLIFF_DB`] under the band below it while that
/// band still stands within [`CUTOFF_FLOOR_DB`] of the 1–4 kHz level, and
/// whether the fall is a brick wall (≥ 40 dB within a band). None when the
/// content reaches the top of the file's band, or fades out by itself
/// first.
pub fn content_cutoff(s: &Summary, sample_rate_hz: f32) -> Option<(f32, bool)> {
    if s.spectrum_frames == 0 {
        return None;
    }
    let db = third_octave_db(s);
    let reference = {
        let (a, b) = (band_index(1000.0), band_index(4000.0));
        power_db(s.third_octaves[a..=b].iter().sum::<f64>() / (b + 1 - a) as f64)
    };
    let edge = 2f64.powf(1.0 / 6.0);
    // Bands wholly below 95 % of Nyquist can be judged.
    let top = (0..THIRD_OCTAVES)
        .rev()
        .find(|&i| third_octave_centre_hz(i) * edge < 0.475 * f64::from(sample_rate_hz))?;
    for i in band_index(5000.0)..=top {
        // The content below the edge still stands within CUTOFF_FLOOR_DB of
        // the 1–4 kHz level: it was cut, not faded out by the music itself.
        if db[i - 1] < reference - CUTOFF_FLOOR_DB {
            return None;
        }
        let fall = db[i - 1] - db[i];
        if fall >= CUTOFF_CLIFF_DB {
            let brick_wall = fall >= 40.0;
            return Some(((third_octave_centre_hz(i) / edge) as f32, brick_wall));
        }
    }
    None
}

/// Band-limited source; returns the cutoff (Hz) the tone rules must stay
/// under, if any.
fn band_limit_rule(out: &mut Findings, s: &Summary, context: &TriageContext) -> Option<f32> {
    // A bass stem has no top octaves by nature.
    if context.role == StemRole::Bass {
        return None;
    }
    let (cutoff, brick_wall) = content_cutoff(s, context.sample_rate_hz)?;
    let mut severity = if cutoff < CUTOFF_PROBLEM_HZ {
        Severity::Problem
    } else if cutoff < CUTOFF_WARN_HZ {
        Severity::Warn
    } else if cutoff < CUTOFF_INFO_HZ || context.sample_rate_hz > 50_000.0 {
        Severity::Info
    } else {
        Severity::None
    };
    // A stem may end where its instrument ends (a low-passed pad): only a
    // full mix's edge speaks for the source.
    if context.role != StemRole::FullMix {
        severity = severity.min(Severity::Info);
    }
    let mut finding = Finding::new(
        severity,
        cutoff / 1000.0,
        if brick_wall { CUTOFF_SHELF } else { 0.0 },
    );
    finding.frequency_hz = cutoff;
    finding.detail = lame_bit_rate_for(cutoff);
    out.set(HintId::BandLimitedSource, finding);
    Some(cutoff)
}

/// LAME's default low-pass per bit rate (kbit/s → Hz), from its
/// `optimum_bandwidth` table.
const LAME_LOWPASS: [(f32, f32); 17] = [
    (8.0, 2000.0),
    (16.0, 3700.0),
    (24.0, 3900.0),
    (32.0, 5500.0),
    (40.0, 7000.0),
    (48.0, 7500.0),
    (56.0, 10_000.0),
    (64.0, 11_000.0),
    (80.0, 13_500.0),
    (96.0, 15_100.0),
    (112.0, 15_600.0),
    (128.0, 17_000.0),
    (160.0, 17_500.0),
    (192.0, 18_600.0),
    (224.0, 19_400.0),
    (256.0, 19_700.0),
    (320.0, 20_500.0),
];

/// The LAME bit rate whose low-pass is nearest `cutoff_hz` (in octaves).
fn lame_bit_rate_for(cutoff_hz: f32) -> f32 {
    LAME_LOWPASS
        .iter()
        .min_by(|a, b| {
            let distance = |lowpass: f32| (lowpass / cutoff_hz).log2().abs();
            distance(a.1).total_cmp(&distance(b.1))
        })
        .map_or(320.0, |(rate, _)| *rate)
}

/// The likely cause of a band-limited finding, in words.
pub fn likely_source(finding: &Finding) -> String {
    let cutoff = finding.frequency_hz;
    if (15_000.0..=16_500.0).contains(&cutoff) && finding.reference == CUTOFF_SHELF {
        "generated or resampled at 32 kHz (its Nyquist frequency is 16 kHz)".to_string()
    } else if cutoff >= 19_000.0 {
        "upsampled from 44.1 or 48 kHz; nothing is lost that can be heard".to_string()
    } else {
        format!(
            "lossy coding at roughly {:.0} kbit/s (LAME's default low-pass for that rate)",
            finding.detail
        )
    }
}

/// A band's excess over the straight line (dB against log frequency)
/// fitted through the third octaves `fit` (centres in Hz, inclusive)
/// outside `excluded`: the mean residual of the bands `measured`.
// Band indices are the regression's abscissa.
#[allow(clippy::needless_range_loop)]
fn bump_db(
    db: &[f32; THIRD_OCTAVES],
    fit: (f64, f64),
    excluded: (f64, f64),
    measured: (f64, f64),
) -> f32 {
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    for i in band_index(fit.0)..=band_index(fit.1) {
        if (band_index(excluded.0)..=band_index(excluded.1)).contains(&i) {
            continue;
        }
        let x = i as f64;
        let y = f64::from(db[i]);
        n += 1.0;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    let intercept = (sy - slope * sx) / n;
    let (a, b) = (band_index(measured.0), band_index(measured.1));
    let residual: f64 = (a..=b)
        .map(|i| f64::from(db[i]) - (intercept + slope * i as f64))
        .sum();
    (residual / (b + 1 - a) as f64) as f32
}

/// Harshness and mud, brightness and dullness, all below the content's
/// cutoff.
///
/// * A full mix is its own reference: a full mix's long-term spectrum is
///   smooth, so harshness and mud are bumps over the straight line the
///   spectrum follows around them (dB against log frequency).
/// * A stem has its instrument's own shape (a voice's formants, a snare's
///   crack), so harshness and mud compare its bands with the role's tilted
///   pink reference.
/// * Brightness and dullness compare the top octaves (5 kHz to 16 kHz or
///   the cutoff) with the mids, against the role's reference, for every
///   role with one.
fn tone_rules(out: &mut Findings, s: &Summary, role: StemRole, cutoff_hz: Option<f32>) {
    let Some(reference) = tone_reference(role) else {
        return;
    };
    if s.spectrum_frames < 8 {
        return;
    }
    let db = third_octave_db(s);
    if db[band_index(1000.0)] < -200.0 {
        return;
    }
    let top_hz = cutoff_hz.unwrap_or(f32::INFINITY);
    let edge = 2f32.powf(1.0 / 6.0);
    let power = |a: usize, b: usize| s.third_octaves[a..=b].iter().sum::<f64>();
    let edges = |a: usize, b: usize| {
        (
            third_octave_centre_hz(a) as f32 / edge,
            third_octave_centre_hz(b) as f32 * edge,
        )
    };
    let (m0, m1) = (band_index(500.0), band_index(2000.0));
    let mids = power_db(power(m0, m1));
    let (mid_low, mid_high) = edges(m0, m1);
    // A band against the mids, minus what the role's reference expects.
    let against_reference = |from_hz: f64, to_hz: f64| {
        let (a, b) = (band_index(from_hz), band_index(to_hz));
        let (lo, hi) = edges(a, b);
        power_db(power(a, b))
            - mids
            - (reference.band_db(lo, hi) - reference.band_db(mid_low, mid_high))
    };
    let full_mix = role == StemRole::FullMix;

    if reference.harshness && top_hz >= 11_000.0 {
        let value = if full_mix {
            bump_db(&db, (250.0, 10_000.0), (1600.0, 6300.0), (3150.0, 4000.0))
        } else {
            against_reference(2000.0, 5000.0) - reference.harshness_allowance_db
        };
        out.set(
            HintId::HarshHighMids,
            Thresholds::rising(HARSH_WARN_DB, HARSH_PROBLEM_DB, 1.0).finding(
                value,
                HARSH_WARN_DB,
                out.shown(HintId::HarshHighMids),
            ),
        );
    }
    if !reference.balance {
        return;
    }
    let value = if full_mix {
        bump_db(&db, (63.0, 2000.0), (200.0, 630.0), (250.0, 400.0))
    } else {
        against_reference(250.0, 400.0)
    };
    out.set(
        HintId::Muddy,
        Thresholds::rising(MUD_WARN_DB, MUD_PROBLEM_DB, 1.0).finding(
            value,
            MUD_WARN_DB,
            out.shown(HintId::Muddy),
        ),
    );
    // The top octaves: from 5 kHz to 16 kHz or the cutoff, if that leaves
    // at least an octave.
    let first = band_index(5000.0);
    let top = (0..THIRD_OCTAVES)
        .rev()
        .find(|&i| third_octave_centre_hz(i) as f32 * edge <= top_hz * 1.01)
        .unwrap_or(0)
        .min(band_index(16_000.0));
    if top < first + 3 {
        return;
    }
    let deviation = against_reference(third_octave_centre_hz(first), third_octave_centre_hz(top));
    let (_, top_edge_hz) = edges(first, top);
    let mut bright = Thresholds::rising(TILT_WARN_DB, TILT_PROBLEM_DB, 1.0)
        .with_info(TILT_INFO_DB)
        .finding(deviation, 0.0, out.shown(HintId::TooBright));
    bright.frequency_hz = top_edge_hz;
    let mut dull = Thresholds::falling(-TILT_WARN_DB, -TILT_PROBLEM_DB, 1.0)
        .with_info(-TILT_INFO_DB)
        .finding(deviation, 0.0, out.shown(HintId::TooDull));
    dull.frequency_hz = top_edge_hz;
    // One figure: at most one of the two holds.
    out.set(HintId::TooBright, bright);
    out.set(HintId::TooDull, dull);
}

/// ISO 226:2003 threshold of hearing (T_f), dB SPL, at its third-octave
/// frequencies from 20 Hz to 12.5 kHz.
const HEARING_THRESHOLD: [(f32, f32); 29] = [
    (20.0, 78.5),
    (25.0, 68.7),
    (31.5, 59.5),
    (40.0, 51.1),
    (50.0, 44.0),
    (63.0, 37.5),
    (80.0, 31.5),
    (100.0, 26.5),
    (125.0, 22.1),
    (160.0, 17.9),
    (200.0, 14.4),
    (250.0, 11.4),
    (315.0, 8.6),
    (400.0, 6.2),
    (500.0, 4.4),
    (630.0, 3.0),
    (800.0, 2.2),
    (1000.0, 2.4),
    (1250.0, 3.5),
    (1600.0, 1.7),
    (2000.0, -1.3),
    (2500.0, -4.2),
    (3150.0, -6.0),
    (4000.0, -5.4),
    (5000.0, -1.5),
    (6300.0, 6.0),
    (8000.0, 12.6),
    (10_000.0, 13.9),
    (12_500.0, 12.3),
];

/// The threshold of hearing at `frequency_hz`, dB SPL (ISO 226:2003,
/// interpolated in log frequency; held beyond the table's ends).
pub fn hearing_threshold_db_spl(frequency_hz: f32) -> f32 {
    let f = frequency_hz.clamp(20.0, 12_500.0);
    let i = HEARING_THRESHOLD
        .windows(2)
        .position(|w| f <= w[1].0)
        .unwrap_or(HEARING_THRESHOLD.len() - 2);
    let (f0, t0) = HEARING_THRESHOLD[i];
    let (f1, t1) = HEARING_THRESHOLD[i + 1];
    let x = (f / f0).log2() / (f1 / f0).log2();
    t0 + x * (t1 - t0)
}

/// Prominence over the neighbourhood (per FFT bin of `bin_hz`) from which a
/// line stands out of the music around it: the critical band's width
/// (Glasberg and Moore's ERB) in bins, plus the critical ratio.
pub fn masking_line_db(frequency_hz: f32, bin_hz: f32) -> f32 {
    let erb = 24.7 * (4.37 * frequency_hz / 1000.0 + 1.0);
    10.0 * (erb / bin_hz.max(1e-3)).log10() + CRITICAL_RATIO_DB
}

/// Whether a line is a resonance: off the note grid (at the music's own
/// tuning) and audible (over the threshold of hearing at the listening
/// level). Returns its cents from the grid and its masking line.
fn resonance_candidate(line: &Line, tuning_cents: f32, bin_hz: f32) -> Option<(f32, f32)> {
    if line.frequency_hz <= 0.0 {
        return None;
    }
    let cents = cents_from_grid(line.frequency_hz, tuning_cents);
    let audible =
        LISTENING_LEVEL_DB_SPL + line.level_db >= hearing_threshold_db_spl(line.frequency_hz);
    (cents.abs() > NOTE_GRID_CENTS && audible)
        .then(|| (cents, masking_line_db(line.frequency_hz, bin_hz)))
}

/// A narrow line that no instrument plays: off the note grid, outside any
/// harmonic series (the line search sets those aside), audible in quiet
/// and above the masking of the music around it.
fn resonance_rule(out: &mut Findings, s: &Summary, context: &TriageContext) {
    if matches!(context.role, StemRole::Bass | StemRole::Effects) {
        return;
    }
    // The analyzer's FFT bin spacing at this rate (10.8–14.6 Hz).
    let bin_hz = context.sample_rate_hz
        / crate::meter::spectrum::SpectrumAnalyzer::fft_size_for(context.sample_rate_hz) as f32;
    let shown = out.shown(HintId::MetallicResonance);
    let mut best: Option<Finding> = None;
    for line in s.lines.iter() {
        let Some((cents, masking)) = resonance_candidate(line, s.tuning_cents, bin_hz) else {
            continue;
        };
        let mut finding = Thresholds::rising(
            masking,
            masking + RESONANCE_PROBLEM_ABOVE_MASKING_DB,
            2.0,
        )
        .finding(line.prominence_db, masking, shown);
        finding.frequency_hz = line.frequency_hz;
        finding.detail = cents;
        if best
            .is_none_or(|b| finding.prominence_above_reference() > b.prominence_above_reference())
        {
            best = Some(finding);
        }
    }
    if let Some(finding) = best {
        out.set(HintId::MetallicResonance, finding);
    }
}

impl Finding {
    /// How far the figure stands beyond its reference (for comparing
    /// candidates of one rule).
    fn prominence_above_reference(&self) -> f32 {
        self.value - self.reference
    }
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

    /// The note grid: A4, C5 (+0 cents) and a quarter tone (±50 cents);
    /// a music tuned 17 cents sharp moves its grid.
    #[test]
    fn cents_from_the_grid() {
        assert!(cents_from_grid(440.0, 0.0).abs() < 1e-3);
        assert!(cents_from_grid(523.2511, 0.0).abs() < 1e-2);
        let quarter = 440.0 * 2f32.powf(0.5 / 12.0);
        assert!((cents_from_grid(quarter, 0.0).abs() - 50.0).abs() < 1e-2);
        // 3170 Hz is G7 + 18.7 cents: on the grid of a music tuned to
        // A444.5.
        assert!((cents_from_grid(3170.0, 0.0) - 18.7).abs() < 0.1);
        assert!((cents_from_grid(3170.0, 17.5) - 1.2).abs() < 0.1);
    }

    /// ISO 226:2003's threshold at its own frequencies, and between them.
    #[test]
    fn hearing_threshold_follows_iso_226() {
        assert_eq!(hearing_threshold_db_spl(1000.0), 2.4);
        assert_eq!(hearing_threshold_db_spl(3150.0), -6.0);
        let between = hearing_threshold_db_spl(3500.0);
        assert!((-6.0..=-5.4).contains(&between));
        // An inaudible spur: 80 dB under a programme at 80 dB SPL is 0 dB
        // SPL, under the threshold above 6 kHz.
        assert!(LISTENING_LEVEL_DB_SPL - 80.0 < hearing_threshold_db_spl(9000.0));
    }

    /// The LAME table: 32 kbit/s low-passes at 5.5 kHz, 128 kbit/s at
    /// 17 kHz; an edge names the rate of the nearest low-pass.
    #[test]
    fn lame_rates_follow_the_low_pass() {
        assert_eq!(lame_bit_rate_for(5300.0), 32.0);
        assert_eq!(lame_bit_rate_for(16_900.0), 128.0);
        assert_eq!(lame_bit_rate_for(21_000.0), 320.0);
    }
}
