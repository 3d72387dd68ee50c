//! The verdict: which service the material needs, how sure, and why.

use super::{HintId, HintSet, ProblemKind, Severity, HINT_COUNT};
use crate::role::StemRole;

/// The service a track needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Service {
    /// The mix is balanced; loudness, peaks and overall tone only.
    #[default]
    StereoMastering,
    /// A few grouped stems need corrective moves.
    StemMastering,
    /// Balance, image or dynamics are broken: only a new mix fixes them.
    FullMix,
}

impl Service {
    /// Permanent machine name (JSON).
    pub const fn id(self) -> &'static str {
        match self {
            Service::StereoMastering => "stereo-mastering",
            Service::StemMastering => "stem-mastering",
            Service::FullMix => "full-mix",
        }
    }

    /// Name shown to the user.
    pub const fn display_name(self) -> &'static str {
        match self {
            Service::StereoMastering => "Stereo mastering",
            Service::StemMastering => "Stem mastering",
            Service::FullMix => "Full mix",
        }
    }

    /// A small number for atomics.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The service stored by [`Service::code`].
    pub fn from_code(code: u8) -> Service {
        match code {
            1 => Service::StemMastering,
            2 => Service::FullMix,
            _ => Service::StereoMastering,
        }
    }
}

/// The service, a confidence and the hints that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Verdict {
    /// What the material needs.
    pub service: Service,
    /// How clear the case is, 0..=1: an ordinal score from the rules below,
    /// not a calibrated probability.
    pub confidence: f32,
    /// The hints that decided it.
    pub because: HintSet,
}

/// Audio shorter than this lowers the confidence, seconds.
pub const FULL_CONFIDENCE_AFTER_S: f32 = 30.0;
/// Element problems at once that make a mix broken rather than fixable
/// stem by stem.
pub const ELEMENT_PROBLEMS_FOR_FULL_MIX: usize = 3;
/// Share of the programme a structural hint must hold over to call for a
/// new mix; a structural fault in a smaller part is a part to fix.
pub const STRUCTURAL_COVERAGE: f32 = 0.5;

/// Decides the service from the severity of each hint on the programme
/// (indexed by [`HintId::index`]) and the share of the programme each held
/// over (`coverage`, 0..=1), for material of `role` after `duration_s`
/// seconds of audio. Only hints at `warn` or above decide.
///
/// * A silent programme: no verdict (confidence 0, because: silent).
/// * Any structural problem (inverted polarity, poor mono compatibility, a
///   mix in mono or widened from mono, crushed dynamics, repeated music at
///   two levels) held over at least half the programme → full mix.
///   Held over less, it counts as an element problem.
/// * Three or more element problems at once → full mix.
/// * One or two element problems (harshness, resonance, smeared drums,
///   unstable or wide low end, a dual-mono part) → stem mastering.
/// * Otherwise → stereo mastering, because of the whole-record hints raised
///   (loudness, peaks, tone), if any.
pub fn verdict(
    severities: &[Severity; HINT_COUNT],
    coverage: &[f32; HINT_COUNT],
    role: StemRole,
    duration_s: f32,
) -> Verdict {
    if severities[HintId::Silent.index()] >= Severity::Problem {
        let mut because = HintSet::default();
        because.insert(HintId::Silent);
        return Verdict {
            service: Service::StereoMastering,
            confidence: 0.0,
            because,
        };
    }
    let mut structural = HintSet::default();
    let mut element = HintSet::default();
    let mut whole = HintSet::default();
    // Whether any structural / element hint is at `problem`.
    let mut any_problem = [false; 2];
    let mut minor_doubts = 0;
    for hint in HintId::ALL {
        let severity = severities[hint.index()];
        if severity == Severity::None || hint == HintId::Silent {
            continue;
        }
        let mut kind = hint.kind(role, severity);
        if severity == Severity::Info {
            if kind != ProblemKind::WholeRecord {
                minor_doubts += 1;
            }
            continue;
        }
        if kind == ProblemKind::Structural && coverage[hint.index()] < STRUCTURAL_COVERAGE {
            kind = ProblemKind::Element;
        }
        let (set, slot) = match kind {
            ProblemKind::Structural => (&mut structural, Some(0)),
            ProblemKind::Element => (&mut element, Some(1)),
            ProblemKind::WholeRecord => (&mut whole, None),
        };
        set.insert(hint);
        if let Some(slot) = slot {
            any_problem[slot] |= severity == Severity::Problem;
        }
    }
    let bonus = |problem: bool| if problem { 0.1 } else { 0.0 };
    let (service, confidence, because) = if !structural.is_empty() {
        let extra = 0.05 * (structural.len() - 1) as f32;
        (
            Service::FullMix,
            (0.75 + bonus(any_problem[0]) + extra).min(0.95),
            structural,
        )
    } else if element.len() >= ELEMENT_PROBLEMS_FOR_FULL_MIX {
        let extra = 0.05 * (element.len() - ELEMENT_PROBLEMS_FOR_FULL_MIX) as f32;
        (Service::FullMix, (0.6 + extra).min(0.8), element)
    } else if !element.is_empty() {
        let extra = 0.1 * (element.len() - 1) as f32;
        (
            Service::StemMastering,
            (0.65 + bonus(any_problem[1]) + extra).min(0.9),
            element,
        )
    } else {
        (
            Service::StereoMastering,
            (0.9 - 0.05 * minor_doubts as f32).max(0.6),
            whole,
        )
    };
    let length_factor = 0.5 + 0.5 * (duration_s / FULL_CONFIDENCE_AFTER_S).clamp(0.0, 1.0);
    Verdict {
        service,
        confidence: confidence * length_factor,
        because,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(hints: &[(HintId, Severity)]) -> [Severity; HINT_COUNT] {
        let mut severities = [Severity::None; HINT_COUNT];
        for &(hint, severity) in hints {
            severities[hint.index()] = severity;
        }
        severities
    }

    /// Every hint held over the whole programme.
    const ALL_OF_IT: [f32; HINT_COUNT] = [1.0; HINT_COUNT];

    fn verdict(severities: &[Severity; HINT_COUNT], role: StemRole, duration_s: f32) -> Verdict {
        super::verdict(severities, &ALL_OF_IT, role, duration_s)
    }

    #[test]
    fn the_three_services_follow_the_kind_of_problem() {
        let clean = verdict(&with(&[]), StemRole::FullMix, 60.0);
        assert_eq!(clean.service, Service::StereoMastering);
        assert!(clean.because.is_empty());
        assert!((clean.confidence - 0.9).abs() < 1e-6);

        let loud = verdict(
            &with(&[
                (HintId::TruePeakOver, Severity::Problem),
                (HintId::TooBright, Severity::Warn),
            ]),
            StemRole::FullMix,
            60.0,
        );
        assert_eq!(loud.service, Service::StereoMastering);
        assert_eq!(loud.because.len(), 2);

        let harsh = verdict(
            &with(&[
                (HintId::HarshHighMids, Severity::Warn),
                (HintId::TruePeakOver, Severity::Warn),
            ]),
            StemRole::FullMix,
            60.0,
        );
        assert_eq!(harsh.service, Service::StemMastering);
        assert!(harsh.because.contains(HintId::HarshHighMids));
        assert!(!harsh.because.contains(HintId::TruePeakOver));

        let broken = verdict(
            &with(&[(HintId::PhaseInverted, Severity::Problem)]),
            StemRole::FullMix,
            60.0,
        );
        assert_eq!(broken.service, Service::FullMix);
        assert!((broken.confidence - 0.85).abs() < 1e-6);

        let many = verdict(
            &with(&[
                (HintId::HarshHighMids, Severity::Warn),
                (HintId::UnstableLowEnd, Severity::Warn),
                (HintId::MetallicResonance, Severity::Warn),
            ]),
            StemRole::FullMix,
            60.0,
        );
        assert_eq!(many.service, Service::FullMix);
        assert_eq!(many.because.len(), 3);
    }

    #[test]
    fn short_audio_and_silence_lower_the_confidence() {
        let short = verdict(&with(&[]), StemRole::FullMix, 6.0);
        assert!((short.confidence - 0.9 * 0.6).abs() < 1e-6);
        let silent = verdict(
            &with(&[(HintId::Silent, Severity::Problem)]),
            StemRole::FullMix,
            60.0,
        );
        assert_eq!(silent.confidence, 0.0);
        assert!(silent.because.contains(HintId::Silent));
    }

    /// A structural hint over a small part of the programme is a part to
    /// fix, not a reason for a new mix; a `silent` info (trailing silence)
    /// decides nothing.
    #[test]
    fn coverage_and_silence_weigh_in() {
        let mut coverage = ALL_OF_IT;
        coverage[HintId::PoorMonoCompatibility.index()] = 0.2;
        let local = super::verdict(
            &with(&[(HintId::PoorMonoCompatibility, Severity::Warn)]),
            &coverage,
            StemRole::FullMix,
            60.0,
        );
        assert_eq!(local.service, Service::StemMastering);
        let with_silence = verdict(
            &with(&[
                (HintId::Silent, Severity::Info),
                (HintId::HarshHighMids, Severity::Warn),
            ]),
            StemRole::FullMix,
            60.0,
        );
        assert_eq!(with_silence.service, Service::StemMastering);
        assert!(with_silence.confidence > 0.5);
    }

    #[test]
    fn a_dual_mono_mix_is_structural_but_a_dual_mono_stem_is_not() {
        let hints = with(&[(HintId::MonoAsStereo, Severity::Warn)]);
        assert_eq!(
            verdict(&hints, StemRole::FullMix, 60.0).service,
            Service::FullMix
        );
        assert_eq!(
            verdict(&hints, StemRole::Music, 60.0).service,
            Service::StemMastering
        );
    }
}
