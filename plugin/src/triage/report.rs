//! Offline triage of a whole file: the hints with their time ranges, and the
//! verdict.
//!
//! A hint is reported at the higher of two severities:
//!
//! * the rules over the whole file ([`Scope::Whole`]), and
//! * the highest severity the live triage ([`LiveTriage`]) showed while the
//!   file played through it, second by second.
//!
//! Its time ranges are where the rules, evaluated second by second as in the
//! plugin, flagged it: each flagged second stands for the rule's window
//! ending there (3 s for most rules, 5 s for DC, the low end and PSR, 6 s
//! for a loudness jump), and touching spans merge. Ranges are therefore as
//! precise as the window. A hint found only over the whole file, and the
//! distance from the loudness target (an integrated figure), span the whole
//! file.

use super::live::LiveTriage;
use super::rules::{assess, live_window_s, Scope, TriageContext};
use super::verdict::{verdict, Verdict};
use super::{message, Finding, HintId, Severity, HINT_COUNT};
use crate::meter::features::SecondFeatures;

/// One reported hint.
#[derive(Debug, Clone, PartialEq)]
pub struct HintReport {
    /// Which hint.
    pub hint: HintId,
    /// How serious.
    pub severity: Severity,
    /// One line quoting the measured evidence.
    pub message: String,
    /// The control that addresses it.
    pub fix: &'static str,
    /// Where it held, seconds from the start: (start, end) pairs.
    pub ranges_s: Vec<(f64, f64)>,
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
}

impl TriageReport {
    /// The reported severity of a hint (None when not raised).
    pub fn severity(&self, hint: HintId) -> Severity {
        self.hints
            .iter()
            .find(|h| h.hint == hint)
            .map_or(Severity::None, |h| h.severity)
    }
}

/// Triages a file from its per-second features (in order from the first
/// second), the context and its length in seconds.
pub fn triage(
    seconds: &[SecondFeatures],
    context: &TriageContext,
    duration_s: f64,
) -> TriageReport {
    let whole = assess(
        seconds,
        context,
        Scope::Whole,
        &[Severity::None; HINT_COUNT],
    );

    let mut live = LiveTriage::default();
    let mut live_worst = [Finding::default(); HINT_COUNT];
    let mut ranges: Vec<Vec<(f64, f64)>> = vec![Vec::new(); HINT_COUNT];
    for (index, second) in seconds.iter().enumerate() {
        live.push(second, context);
        let end = (index + 1) as f64;
        for hint in HintId::ALL {
            let shown = live.finding(hint);
            if shown.severity > live_worst[hint.index()].severity {
                live_worst[hint.index()] = shown;
            }
            if live.raw_severity(hint) > Severity::None {
                let start = (end - live_window_s(hint) as f64).max(0.0);
                let list = &mut ranges[hint.index()];
                match list.last_mut() {
                    Some(last) if last.1 >= start => last.1 = end.min(duration_s),
                    _ => list.push((start, end.min(duration_s))),
                }
            }
        }
    }

    let mut severities = [Severity::None; HINT_COUNT];
    let mut hints = Vec::new();
    for hint in HintId::ALL {
        let from_whole = whole[hint.index()];
        let from_live = live_worst[hint.index()];
        let finding = if from_whole.severity >= from_live.severity {
            from_whole
        } else {
            from_live
        };
        if finding.severity == Severity::None {
            continue;
        }
        severities[hint.index()] = finding.severity;
        let mut hint_ranges = std::mem::take(&mut ranges[hint.index()]);
        if hint_ranges.is_empty() || hint == HintId::LoudnessOffTarget {
            hint_ranges.clear();
            hint_ranges.push((0.0, duration_s));
        }
        hints.push(HintReport {
            hint,
            severity: finding.severity,
            message: message(hint, &finding, context.role),
            fix: hint.fix(),
            ranges_s: hint_ranges,
            finding,
        });
    }
    hints.sort_by_key(|h| std::cmp::Reverse(h.severity));
    TriageReport {
        hints,
        verdict: verdict(&severities, context.role, duration_s as f32),
    }
}
