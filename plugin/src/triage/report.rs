//! Offline triage of a whole file: the hints with where they held, and the
//! verdict.
//!
//! The file plays through the live triage second by second, so the figures
//! are those the plugin would have shown. Then:
//!
//! * **A hint describes the programme.** Its severity and the figure its
//!   message quotes are those of the rules over the programme as a whole
//!   (its gated seconds; the level faults over every second). Its ranges
//!   are where the rules over the last seconds found it at `warn` or
//!   above, and its coverage is the share of the programme's gated seconds
//!   those ranges hold.
//! * **A local excursion is `info`.** Where the rules over the last
//!   seconds raised a hint at `warn` or above for at least
//!   [`LOCAL_MIN_S`] seconds but the programme does not carry it, it is
//!   reported at `info`, with the worst local figure, the programme's
//!   figure beside it, and its ranges.
//! * **Technical faults and events keep their weight.** True-peak overs,
//!   clipping, DC, silence and an inverted polarity are judged on the
//!   programme's peak, count or mean, which a short fault already moves;
//!   a level step of repeated material is an event at a stated time.
//! * **Opposite hints never both appear.** Too bright and too dull are one
//!   figure; a local excursion the other way is not reported.
//!
//! Ranges: each flagged second stands for the rule's window ending there
//! (3 s for most rules, 5 s for PSR, 10 s for DC, 12 s for the low end);
//! touching spans merge.

use super::live::LiveTriage;
use super::rules::TriageContext;
use super::summary::windows;
use super::verdict::{verdict, Verdict};
use super::{clock, message, Finding, HintId, Severity, HINT_COUNT};
use crate::meter::features::SecondFeatures;

/// One reported hint.
#[derive(Debug, Clone, PartialEq)]
pub struct HintReport {
    /// Which hint.
    pub hint: HintId,
    /// How serious.
    pub severity: Severity,
    /// One line quoting the figure it was judged on and where it held.
    pub message: String,
    /// The control that addresses it.
    pub fix: &'static str,
    /// Where it held, seconds from the start: (start, end) pairs.
    pub ranges_s: Vec<(f64, f64)>,
    /// Share of the programme's gated seconds it held over, 0..=1.
    pub coverage: f32,
    /// Whether the figure is the programme's (false: a local excursion).
    pub programme: bool,
    /// The figures behind the message.
    pub finding: Finding,
}

/// The triage of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageReport {
    /// Raised hints, most serious first.
    pub hints: Vec<HintReport>,
    /// The service the file needs.
    pub verdict: Verdict,
    /// Every rule's finding on the programme, raised or not (by
    /// [`HintId::index`]; `measured` false where a rule had nothing to
    /// judge).
    pub programme: [Finding; HINT_COUNT],
}

impl TriageReport {
    /// The reported severity of a hint (None when not raised).
    pub fn severity(&self, hint: HintId) -> Severity {
        self.hints
            .iter()
            .find(|h| h.hint == hint)
            .map_or(Severity::None, |h| h.severity)
    }

    /// Recomputes the verdict from the hints (after link hints are added).
    pub fn decide(&mut self, role: crate::role::StemRole, duration_s: f64) {
        self.hints.sort_by_key(|h| std::cmp::Reverse(h.severity));
        let mut severities = [Severity::None; HINT_COUNT];
        let mut coverage = [0.0; HINT_COUNT];
        for hint in self.hints.iter().filter(|h| h.programme) {
            severities[hint.hint.index()] = hint.severity;
            coverage[hint.hint.index()] = hint.coverage;
        }
        self.verdict = verdict(&severities, &coverage, role, duration_s as f32);
    }
}

/// The seconds of audio a flagged evaluation of `hint` stands for.
fn window_s(hint: HintId) -> f64 {
    match hint {
        HintId::DcOffset => windows::DC_S as f64,
        HintId::UnstableLowEnd => windows::LOW_END_S as f64,
        HintId::OverCompressed => windows::PSR_S as f64,
        _ => windows::SHORT_S as f64,
    }
}

/// What the rules over the last seconds saw of one hint across the file.
#[derive(Debug, Clone, Default)]
struct Local {
    /// Merged spans where it held at warn or above, seconds.
    ranges: Vec<(f64, f64)>,
    /// The worst local finding (highest severity, then the largest excess).
    worst: Option<Finding>,
}

/// Triages a file from its per-second features (in order from the first
/// second), the context and its length in seconds.
pub fn triage(
    seconds: &[SecondFeatures],
    context: &TriageContext,
    duration_s: f64,
) -> TriageReport {
    let mut live = LiveTriage::default();
    let mut local: Vec<Local> = vec![Local::default(); HINT_COUNT];
    for (index, second) in seconds.iter().enumerate() {
        live.push(second, context);
        let end = ((index + 1) as f64).min(duration_s);
        for hint in HintId::ALL {
            let raw = live.raw_finding(hint);
            if raw.severity < Severity::Warn {
                continue;
            }
            let entry = &mut local[hint.index()];
            let start = (end - window_s(hint)).max(0.0);
            match entry.ranges.last_mut() {
                Some(last) if last.1 >= start => last.1 = end,
                _ => entry.ranges.push((start, end)),
            }
            if entry.worst.is_none_or(|w| worse(hint, &raw, &w)) {
                entry.worst = Some(raw);
            }
        }
    }

    let mut hints = Vec::new();
    for hint in HintId::ALL.into_iter().filter(|h| !h.is_link()) {
        let programme = live.programme_finding(hint);
        let entry = std::mem::take(&mut local[hint.index()]);
        let coverage = live.coverage(hint);
        if programme.severity > Severity::None {
            let mut ranges = entry.ranges;
            if ranges.is_empty() || hint == HintId::LoudnessOffTarget {
                ranges = vec![(0.0, duration_s)];
            }
            let place = match hint {
                HintId::LoudnessJumps => String::new(),
                HintId::TruePeakOver | HintId::Clipping if !ranges.is_empty() => {
                    format!(" — {}", places(&ranges))
                }
                _ => format!(" — over the programme{}", held_over(coverage)),
            };
            hints.push(HintReport {
                hint,
                severity: programme.severity,
                message: message(hint, &programme, context.role) + &place,
                fix: hint.fix(),
                ranges_s: ranges,
                coverage,
                programme: true,
                finding: programme,
            });
        } else if let Some(worst) = entry.worst.filter(|_| held_s(&entry.ranges) >= LOCAL_MIN_S) {
            hints.push(HintReport {
                hint,
                severity: Severity::Info,
                message: format!(
                    "locally, {} — {}{}",
                    message(hint, &worst, context.role),
                    places(&entry.ranges),
                    if programme.measured {
                        format!(
                            " (the programme as a whole: {})",
                            message(hint, &programme, context.role)
                        )
                    } else {
                        String::new()
                    }
                ),
                fix: hint.fix(),
                ranges_s: entry.ranges,
                coverage,
                programme: false,
                finding: Finding {
                    severity: Severity::Info,
                    ..worst
                },
            });
        }
    }
    // Too bright and too dull are one figure: keep the programme's, or the
    // wider-spread local one.
    let pair = [HintId::TooBright, HintId::TooDull];
    let present: Vec<usize> = hints
        .iter()
        .enumerate()
        .filter(|(_, h)| pair.contains(&h.hint))
        .map(|(i, _)| i)
        .collect();
    if present.len() == 2 {
        let (a, b) = (&hints[present[0]], &hints[present[1]]);
        let drop = if a.programme != b.programme {
            if a.programme {
                present[1]
            } else {
                present[0]
            }
        } else if a.coverage >= b.coverage {
            present[1]
        } else {
            present[0]
        };
        hints.remove(drop);
    }
    let mut report = TriageReport {
        hints,
        verdict: Verdict::default(),
        programme: std::array::from_fn(|i| live.programme_finding(HintId::ALL[i])),
    };
    report.decide(context.role, duration_s);
    report
}

/// Whether `a` is a worse local finding of `hint` than `b`.
fn worse(hint: HintId, a: &Finding, b: &Finding) -> bool {
    if a.severity != b.severity {
        return a.severity > b.severity;
    }
    // Falling rules (lower is worse) against rising ones.
    let lower_is_worse = matches!(
        hint,
        HintId::OverCompressed
            | HintId::SmearedTransients
            | HintId::WideLowEnd
            | HintId::PoorMonoCompatibility
            | HintId::PhaseInverted
            | HintId::TooDull
            | HintId::BandLimitedSource
    );
    if lower_is_worse {
        a.value < b.value
    } else {
        a.value.abs() > b.value.abs()
    }
}

/// Seconds a local excursion must hold (its ranges together) to be
/// reported: a few seconds of a passage are the music's own shape.
pub const LOCAL_MIN_S: f64 = 10.0;

/// Seconds the ranges cover.
fn held_s(ranges: &[(f64, f64)]) -> f64 {
    ranges.iter().map(|(a, b)| b - a).sum()
}

/// " (held over N % of it)" when the share is known and partial.
fn held_over(coverage: f32) -> String {
    if coverage > 0.0 && coverage < 0.995 {
        format!(" (held over {:.0} % of it)", 100.0 * coverage)
    } else {
        String::new()
    }
}

/// The ranges in words: "from 0:12 to 0:45", at most three, then "and N
/// more".
fn places(ranges: &[(f64, f64)]) -> String {
    let mut words: Vec<String> = ranges
        .iter()
        .take(3)
        .map(|&(a, b)| format!("from {} to {}", clock(a), clock(b)))
        .collect();
    if ranges.len() > 3 {
        words.push(format!("and {} more", ranges.len() - 3));
    }
    words.join(", ")
}
