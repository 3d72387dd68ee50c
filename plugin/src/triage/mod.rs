//! Triage: what is wrong with the audio, which control fixes it, and which
//! service the track needs — stereo mastering, stem mastering or a full mix.
//!
//! The rules ([`rules`]) read the meters' per-second features
//! ([`crate::meter::features::SecondFeatures`]) and turn them into
//! [`Finding`]s: a severity and the measured figure that decided it. The same
//! rules run live ([`live::LiveTriage`], once a second on the audio thread,
//! with hysteresis, no allocation) and offline ([`report`], over a whole
//! file, with the time ranges where each hint held). [`verdict`] turns the
//! findings into the service the track needs. `docs/triage.md` explains every
//! rule, its threshold and where the threshold comes from.
//!
//! Plain Rust: nothing here knows the plugin framework.

pub mod corpus;
#[cfg(test)]
mod corpus_tests;
pub mod live;
pub mod programme;
pub mod report;
pub mod rules;
pub mod summary;
pub mod verdict;

use crate::link::aggregate as rules_link;
use crate::role::StemRole;

/// How serious a hint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    /// Not raised.
    #[default]
    None,
    /// Worth knowing; no action needed.
    Info,
    /// Should be fixed before release.
    Warn,
    /// Clearly audible or a delivery failure.
    Problem,
}

impl Severity {
    /// Machine name used in JSON (`"none"` for [`Severity::None`]).
    pub const fn id(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Problem => "problem",
        }
    }

    /// The severity stored as `code` by [`Severity::code`]; None for
    /// unknown codes.
    pub fn from_code(code: u8) -> Severity {
        match code {
            1 => Severity::Info,
            2 => Severity::Warn,
            3 => Severity::Problem,
            _ => Severity::None,
        }
    }

    /// A small number for atomics: 0 none, 1 info, 2 warn, 3 problem.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

/// Every hint the triage can raise. The machine names ([`HintId::id`]) are
/// permanent: the CLI's JSON and the documentation use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HintId {
    Silent,
    LoudnessOffTarget,
    TruePeakOver,
    Clipping,
    DcOffset,
    OverCompressed,
    LoudnessJumps,
    UnstableLowEnd,
    WideLowEnd,
    PoorMonoCompatibility,
    PhaseInverted,
    MonoAsStereo,
    HarshHighMids,
    MetallicResonance,
    SmearedTransients,
    TooBright,
    TooDull,
    Muddy,
    /// The side is a delayed or filtered copy of the mid (Haas, comb,
    /// all-pass widening of a mono source).
    FakeStereo,
    /// Content stops well below the top of the audible band (lossy coding,
    /// a low-rate generator, resampling).
    BandLimitedSource,
    /// Stem link: vocals against the rest.
    StemBalance,
    /// Stem link: two stems share their main bands at the same level.
    Masking,
    /// Stem link: a stem other than bass or drums crowds the low end.
    LowEndConflict,
}

/// Number of hint ids.
pub const HINT_COUNT: usize = 23;

/// What kind of treatment a problem needs; decides the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A whole-record treatment fixes it (loudness, peaks, overall tone).
    WholeRecord,
    /// Tied to one element; a grouped stem can fix it.
    Element,
    /// Structural: only a new mix fixes it.
    Structural,
}

impl HintId {
    /// Every hint, in display order (also the index order of arrays).
    pub const ALL: [HintId; HINT_COUNT] = [
        HintId::Silent,
        HintId::LoudnessOffTarget,
        HintId::TruePeakOver,
        HintId::Clipping,
        HintId::DcOffset,
        HintId::OverCompressed,
        HintId::LoudnessJumps,
        HintId::UnstableLowEnd,
        HintId::WideLowEnd,
        HintId::PoorMonoCompatibility,
        HintId::PhaseInverted,
        HintId::MonoAsStereo,
        HintId::HarshHighMids,
        HintId::MetallicResonance,
        HintId::SmearedTransients,
        HintId::TooBright,
        HintId::TooDull,
        HintId::Muddy,
        HintId::FakeStereo,
        HintId::BandLimitedSource,
        HintId::StemBalance,
        HintId::Masking,
        HintId::LowEndConflict,
    ];

    /// Position in [`HintId::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Permanent machine name.
    pub const fn id(self) -> &'static str {
        match self {
            HintId::Silent => "silent",
            HintId::LoudnessOffTarget => "loudness-off-target",
            HintId::TruePeakOver => "true-peak-over",
            HintId::Clipping => "clipping",
            HintId::DcOffset => "dc-offset",
            HintId::OverCompressed => "over-compressed",
            HintId::LoudnessJumps => "loudness-jumps",
            HintId::UnstableLowEnd => "unstable-low-end",
            HintId::WideLowEnd => "wide-low-end",
            HintId::PoorMonoCompatibility => "poor-mono-compatibility",
            HintId::PhaseInverted => "phase-inverted",
            HintId::MonoAsStereo => "mono-as-stereo",
            HintId::HarshHighMids => "harsh-high-mids",
            HintId::MetallicResonance => "metallic-resonance",
            HintId::SmearedTransients => "smeared-transients",
            HintId::TooBright => "too-bright",
            HintId::TooDull => "too-dull",
            HintId::Muddy => "muddy",
            HintId::FakeStereo => "fake-stereo",
            HintId::BandLimitedSource => "band-limited-source",
            HintId::StemBalance => "stem-balance",
            HintId::Masking => "masking",
            HintId::LowEndConflict => "low-end-conflict",
        }
    }

    /// Whether the hint judges several linked stems together (the master's
    /// view) rather than one signal.
    pub const fn is_link(self) -> bool {
        matches!(
            self,
            HintId::StemBalance | HintId::Masking | HintId::LowEndConflict
        )
    }

    /// Parses a machine name.
    pub fn parse(text: &str) -> Option<HintId> {
        Self::ALL.into_iter().find(|hint| hint.id() == text)
    }

    /// Short title for the editor.
    pub const fn title(self) -> &'static str {
        match self {
            HintId::Silent => "Silent",
            HintId::LoudnessOffTarget => "Loudness off target",
            HintId::TruePeakOver => "True-peak over",
            HintId::Clipping => "Clipping",
            HintId::DcOffset => "DC offset",
            HintId::OverCompressed => "Over-compressed",
            HintId::LoudnessJumps => "Loudness jumps",
            HintId::UnstableLowEnd => "Unstable low end",
            HintId::WideLowEnd => "Wide low end",
            HintId::PoorMonoCompatibility => "Poor mono compatibility",
            HintId::PhaseInverted => "Phase inverted",
            HintId::MonoAsStereo => "Mono as stereo",
            HintId::HarshHighMids => "Harsh high mids",
            HintId::MetallicResonance => "Metallic resonance",
            HintId::SmearedTransients => "Smeared transients",
            HintId::TooBright => "Too bright",
            HintId::TooDull => "Too dull",
            HintId::Muddy => "Muddy",
            HintId::FakeStereo => "Fake stereo",
            HintId::BandLimitedSource => "Band-limited source",
            HintId::StemBalance => "Stem balance",
            HintId::Masking => "Masking",
            HintId::LowEndConflict => "Low-end conflict",
        }
    }

    /// What kind of treatment the problem needs on material of `role` at
    /// `severity`.
    pub fn kind(self, role: StemRole, severity: Severity) -> ProblemKind {
        match self {
            HintId::PhaseInverted | HintId::PoorMonoCompatibility | HintId::Masking => {
                ProblemKind::Structural
            }
            // Squashed or wildly uneven dynamics at problem level are a
            // production matter; milder cases a mastering engineer rides.
            HintId::OverCompressed | HintId::LoudnessJumps => {
                if severity >= Severity::Problem {
                    ProblemKind::Structural
                } else {
                    ProblemKind::WholeRecord
                }
            }
            // A whole mix in mono, or widened from mono, has no image to
            // master; one such part is an element problem.
            HintId::MonoAsStereo | HintId::FakeStereo => {
                if role == StemRole::FullMix {
                    ProblemKind::Structural
                } else {
                    ProblemKind::Element
                }
            }
            HintId::UnstableLowEnd
            | HintId::WideLowEnd
            | HintId::HarshHighMids
            | HintId::MetallicResonance
            | HintId::SmearedTransients
            | HintId::StemBalance
            | HintId::LowEndConflict => ProblemKind::Element,
            HintId::Silent
            | HintId::LoudnessOffTarget
            | HintId::TruePeakOver
            | HintId::Clipping
            | HintId::DcOffset
            | HintId::TooBright
            | HintId::TooDull
            | HintId::Muddy
            | HintId::BandLimitedSource => ProblemKind::WholeRecord,
        }
    }

    /// The Stem Master control that addresses the problem, and in which
    /// direction; "needs a mix" where no mastering move can.
    pub const fn fix(self) -> &'static str {
        match self {
            HintId::Silent => "check the routing: nothing reaches Stem Master",
            HintId::LoudnessOffTarget => {
                "below the target: Limiter on, press Learn (Drive up); above it: Limiter Drive \
                 or Input Trim down"
            }
            HintId::TruePeakOver => "Limiter: switch on, ceiling at or below the target's",
            HintId::Clipping => {
                "Input Trim down if the clipping happens before Stem Master; clipping already in \
                 the file needs a clean export"
            }
            HintId::DcOffset => "Tone: switch on Low Cut (20–30 Hz)",
            HintId::OverCompressed => {
                "Glue and Limiter: less drive, higher threshold; if the source is already \
                 squashed, needs a mix"
            }
            HintId::LoudnessJumps => {
                "automate Input Trim per section; if the arrangement is unbalanced, needs a mix"
            }
            HintId::UnstableLowEnd => "Low End: switch on Stabilizer, lower its threshold",
            HintId::WideLowEnd => "Low End: switch on Mono Bass (crossover 100–150 Hz)",
            HintId::PoorMonoCompatibility => {
                "Width: narrow the image; out-of-phase parts need a mix"
            }
            HintId::PhaseInverted => "needs a mix: flip the polarity of one channel",
            HintId::MonoAsStereo => {
                "Width cannot create a real stereo image; needs a mix (or a stem with real width)"
            }
            HintId::HarshHighMids => {
                "De-harsh: switch on around 3–4 kHz; or Tone: Bell cut in 2–5 kHz"
            }
            HintId::MetallicResonance => {
                "Tone: narrow Bell cut (Q 6–8) at the resonance; below 10 kHz De-harsh, narrow, \
                 also works"
            }
            HintId::SmearedTransients => "Punch: more attack; Glue: slower attack or less ratio",
            HintId::TooBright => "Tone: High Shelf down, or Tilt towards dark",
            HintId::TooDull => "Tone: High Shelf up, or Tilt towards bright",
            HintId::Muddy => "Tone: Bell cut around 250–400 Hz (Q about 1)",
            HintId::FakeStereo => {
                "no control creates real width: Width towards 0 % keeps mono playback free of \
                 comb filtering; real width needs a mix (or a stem recorded or panned in stereo)"
            }
            HintId::BandLimitedSource => {
                "no control restores it: use the original or a lossless export, and do not boost \
                 the air band"
            }
            HintId::StemBalance => "Input Trim on the vocal stem, up or down",
            HintId::Masking => {
                "needs a mix: give each part its own range; on the stems, a Tone Bell cut on \
                 one of the two in the shared band"
            }
            HintId::LowEndConflict => {
                "Tone: Low Cut on the crowding stem (100–150 Hz), leave the low end to bass and \
                 kick"
            }
        }
    }
}

/// One rule's result: how serious, and the figures that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Finding {
    /// Severity reached.
    pub severity: Severity,
    /// The measured figure (unit depends on the hint; see [`message`]).
    pub value: f32,
    /// What the figure was compared with: the warning line, the role's
    /// reference or the target (same unit as `value`).
    pub reference: f32,
    /// A frequency the hint is about (resonance, the cutoff of a
    /// band-limited source), Hz; 0 when none.
    pub frequency_hz: f32,
    /// A second figure, unit by hint: the delay in ms (fake-stereo), the
    /// time of the step in s from the start (loudness-jumps), the distance
    /// from the note grid in cents (metallic-resonance), the share of the
    /// programme's seconds that clip in % (clipping), the likely bit rate in
    /// kbit/s (band-limited-source); 0 when none.
    pub detail: f32,
    /// Whether the rule ran and measured (false when it had nothing to
    /// judge: silence, too little audio, a role it does not apply to).
    pub measured: bool,
}

impl Finding {
    /// A measured finding at `severity`.
    pub fn new(severity: Severity, value: f32, reference: f32) -> Self {
        Self {
            severity,
            value,
            reference,
            frequency_hz: 0.0,
            detail: 0.0,
            measured: true,
        }
    }
}

/// Minutes and seconds, `m:ss`.
pub fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", total / 60, total % 60)
}

/// The one-line message of a hint, quoting the evidence: the measured
/// figure and the line it is judged against (a hint held by the
/// hysteresis margin may sit just on the good side of that line). Where it
/// held is added by the caller.
pub fn message(hint: HintId, finding: &Finding, role: StemRole) -> String {
    let v = finding.value;
    let r = finding.reference;
    let d = finding.detail;
    let role_name = role.display_name().to_lowercase();
    match hint {
        HintId::Silent => {
            if v < -150.0 {
                "digital silence: nothing to judge".to_string()
            } else {
                format!("the signal stays at {v:.0} dBFS RMS, below −70: nothing to judge")
            }
        }
        HintId::LoudnessOffTarget => format!(
            "integrated loudness {v:.1} LUFS is {:.1} LU {} the {r:.1} LUFS target",
            (v - r).abs(),
            if v > r { "above" } else { "below" }
        ),
        HintId::TruePeakOver => {
            format!("true peak reaches {v:+.1} dBTP; the ceiling is {r:+.1} dBTP")
        }
        HintId::Clipping => format!(
            "{v:.0} clipped run{} (flat tops of 3 or more samples at full scale), in {d:.0} % of \
             the programme's seconds",
            if v == 1.0 { "" } else { "s" }
        ),
        HintId::DcOffset => {
            format!("DC offset (mean of the waveform) of {v:.1} dBFS; warning from {r:.0} dBFS")
        }
        HintId::OverCompressed => format!(
            "peak-to-short-term-loudness ratio (PSR) of {v:.1} dB (median of the loud seconds); \
             under {r:.0} dB little micro-dynamics is left"
        ),
        HintId::LoudnessJumps => format!(
            "music that returns plays {:.1} dB {} after {} than before it (the same spectral \
             shape, compared with itself); warning from {r:.0} dB",
            v.abs(),
            if v > 0.0 { "louder" } else { "quieter" },
            clock(f64::from(d))
        ),
        HintId::UnstableLowEnd => format!(
            "the low end's peaks (below 120 Hz) swing by ±{v:.1} dB from second to second around \
             their running level; steady is under {r:.1} dB"
        ),
        HintId::WideLowEnd => format!(
            "below 150 Hz the channels correlate at {v:+.2}: a mono fold-down loses {:.1} dB of \
             the low end (warning under {r:+.1})",
            mono_loss_db(v)
        ),
        HintId::PoorMonoCompatibility => format!(
            "phase correlation {v:+.2} (poor from under {r:+.1}): the mono fold-down loses {:.1} dB",
            mono_loss_db(v)
        ),
        HintId::PhaseInverted => {
            if d == rules::INVERTED_BY_OPPOSITION {
                format!("the channels correlate at {v:+.2}: one channel's polarity is inverted")
            } else if d != rules::INVERTED_BY_LAG {
                format!(
                    "20–100 Hz, where every production keeps kick and bass in phase, \
                     correlates at {v:+.2}: one channel's polarity is inverted"
                )
            } else {
                format!(
                    "the channels' phase-only cross-correlation at zero delay is {v:+.2}: one \
                     channel's polarity is inverted"
                )
            }
        }
        HintId::MonoAsStereo => format!(
            "side signal {:.0} dB below the mid: both channels carry the same signal",
            -v
        ),
        HintId::HarshHighMids => format!(
            "2.5–4 kHz, where hearing is most sensitive, stands {v:+.1} dB above the spectrum's \
             own trend (warning from {r:+.0} dB)"
        ),
        HintId::Muddy => format!(
            "250–400 Hz stands {v:+.1} dB above the spectrum's own trend (warning from {r:+.0} dB)"
        ),
        HintId::TooBright | HintId::TooDull => format!(
            "5–{:.0} kHz sits {v:+.1} dB against the {role_name} reference (released music \
             spans about ±{:.0} dB)",
            if finding.frequency_hz > 0.0 {
                (finding.frequency_hz / 1000.0).min(16.0)
            } else {
                16.0
            },
            rules::TILT_SPREAD_DB
        ),
        HintId::MetallicResonance => format!(
            "a narrow line at {:.0} Hz, {d:+.0} cents from the note grid, stands {v:.1} dB above \
             its neighbourhood (audible from {r:.1} dB) and holds",
            finding.frequency_hz
        ),
        HintId::SmearedTransients => format!(
            "crest factor (peak over RMS) of {v:.1} dB; a {role_name} stem should keep {r:.0} dB \
             or more"
        ),
        HintId::FakeStereo => {
            if r == rules::FAKE_BY_DELAY {
                format!(
                    "one channel repeats the other {:.1} ms late (phase-only cross-correlation \
                     {v:.2}): a mono source widened by a delay, which combs in mono",
                    d.abs()
                )
            } else {
                format!(
                    "the side is the mid delayed by {:.1} ms (phase-only cross-correlation \
                     {v:.2}): a mono source widened by a comb, which colours both channels",
                    d.abs()
                )
            }
        }
        HintId::BandLimitedSource => format!(
            "content stops at {:.1} kHz{}: {}",
            finding.frequency_hz / 1000.0,
            if r == rules::CUTOFF_SHELF { ", with a lossy coder's shelf below it" } else { "" },
            rules::likely_source(finding)
        ),
        HintId::StemBalance => format!(
            "the vocals sit {v:+.1} LU against the other stems (balanced from {:+.0} to {:+.0} LU)",
            rules_link::VOCAL_BALANCE_WARN_LU.0,
            rules_link::VOCAL_BALANCE_WARN_LU.1
        ),
        HintId::Masking => format!(
            "two stems share {v:.0} of their main third-octave bands at nearly the same level, \
             from {:.0} Hz",
            finding.frequency_hz
        ),
        HintId::LowEndConflict => format!(
            "a stem other than bass or drums carries {:.0} % of the energy below 125 Hz",
            100.0 * v
        ),
    }
}

/// Level lost when a pair with correlation `correlation` (equal levels)
/// is folded to mono, dB: the sum's power is (1 + r)/2 of a mono pair's.
fn mono_loss_db(correlation: f32) -> f32 {
    -10.0
        * ((1.0 + correlation.clamp(-1.0, 1.0)) / 2.0)
            .max(1e-6)
            .log10()
}

/// A set of hints, as bits by [`HintId::index`]: no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HintSet(pub u32);

impl HintSet {
    /// Adds a hint.
    pub fn insert(&mut self, hint: HintId) {
        self.0 |= 1 << hint.index();
    }

    /// Whether the hint is in the set.
    pub fn contains(self, hint: HintId) -> bool {
        self.0 & (1 << hint.index()) != 0
    }

    /// The hints in the set, in [`HintId::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = HintId> {
        HintId::ALL.into_iter().filter(move |h| self.contains(*h))
    }

    /// Number of hints in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_stable_and_indexed() {
        for (index, hint) in HintId::ALL.into_iter().enumerate() {
            assert_eq!(hint.index(), index);
            assert_eq!(HintId::parse(hint.id()), Some(hint));
        }
        let mut ids: Vec<&str> = HintId::ALL.iter().map(|h| h.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), HINT_COUNT);
        for code in 0..4 {
            assert_eq!(Severity::from_code(code).code(), code);
        }
    }
}
