//! Live triage: once a second, the rules over the last seconds (what holds
//! now, with hysteresis) and over the programme since the reset (the
//! verdict). Fixed-size state; nothing allocates after construction.
//!
//! # Hysteresis
//!
//! * A hint is raised when the rules find it above the shown severity in
//!   [`RAISE_SECONDS`] consecutive evaluations; it then shows the lowest
//!   severity of those evaluations. With the rules' 3 s windows a clear
//!   problem shows within about 3–4 s of its start.
//! * It is lowered or cleared when the rules find it below the shown
//!   severity in [`CLEAR_SECONDS`] consecutive evaluations, to the highest
//!   severity of those. While it is shown, its thresholds are relaxed by
//!   the rule's margin. A problem that ends is cleared within the rule's
//!   window plus 4 s; music hovering around a threshold keeps the hint
//!   steady instead of making it flicker.
//!
//! # The programme
//!
//! The same rules judge the programme since the reset
//! ([`super::programme::Programme`]), and the verdict is taken from those
//! findings, weighted by how much of the programme each hint held over
//! (the share of the gated seconds in which the rules over the last seconds
//! found it at `warn` or above).

use super::programme::Programme;
use super::rules::{assess, Scope, TriageContext, JUMP_MIN_MATCHES_NOW};
use super::summary::Summary;
use super::verdict::{verdict, Verdict};
use super::{Finding, HintId, Severity, HINT_COUNT};
use crate::meter::features::SecondFeatures;

/// Seconds of features kept: the longest window of a live rule (the low
/// end's 12 s) and some.
pub const HISTORY_S: usize = 16;
/// Consecutive evaluations at a higher severity that raise a hint.
pub const RAISE_SECONDS: u32 = 2;
/// Consecutive evaluations at a lower severity that lower or clear it.
pub const CLEAR_SECONDS: u32 = 4;

/// The live state of the triage.
#[derive(Debug, Clone)]
pub struct LiveTriage {
    /// The last [`HISTORY_S`] seconds, oldest first; `len` are valid.
    history: [SecondFeatures; HISTORY_S],
    /// Valid entries of `history`.
    len: usize,
    /// The programme since the reset.
    programme: Programme,
    /// The programme's findings at the latest evaluation.
    programme_findings: [Finding; HINT_COUNT],
    /// Per hint: gated seconds in which the rules over the last seconds
    /// found it at warn or above.
    held_seconds: [u32; HINT_COUNT],
    /// Severity shown per hint.
    shown: [Severity; HINT_COUNT],
    /// The latest measured finding per hint (its figures are the evidence
    /// shown); kept when a rule does not run (silence, too little audio).
    latest: [Finding; HINT_COUNT],
    /// Severity the rules reported at the latest evaluation, before
    /// hysteresis (thresholds relaxed for shown hints).
    raw: [Severity; HINT_COUNT],
    /// Per hint: consecutive evaluations above the shown severity, and the
    /// lowest severity among them.
    above: [(u32, Severity); HINT_COUNT],
    /// Per hint: consecutive evaluations below the shown severity, and the
    /// highest severity among them.
    below: [(u32, Severity); HINT_COUNT],
    /// Seconds evaluated since reset.
    seconds: u64,
}

impl Default for LiveTriage {
    fn default() -> Self {
        Self {
            history: [SecondFeatures::default(); HISTORY_S],
            len: 0,
            programme: Programme::default(),
            programme_findings: [Finding::default(); HINT_COUNT],
            held_seconds: [0; HINT_COUNT],
            shown: [Severity::None; HINT_COUNT],
            latest: [Finding::default(); HINT_COUNT],
            raw: [Severity::None; HINT_COUNT],
            above: [(0, Severity::None); HINT_COUNT],
            below: [(0, Severity::None); HINT_COUNT],
            seconds: 0,
        }
    }
}

impl LiveTriage {
    /// Forgets everything, keeping the memory.
    pub fn reset(&mut self) {
        self.programme.reset();
        self.len = 0;
        self.programme_findings = [Finding::default(); HINT_COUNT];
        self.held_seconds = [0; HINT_COUNT];
        self.shown = [Severity::None; HINT_COUNT];
        self.latest = [Finding::default(); HINT_COUNT];
        self.raw = [Severity::None; HINT_COUNT];
        self.above = [(0, Severity::None); HINT_COUNT];
        self.below = [(0, Severity::None); HINT_COUNT];
        self.seconds = 0;
    }

    /// Adds one second of features and evaluates. Never allocates.
    pub fn push(&mut self, second: &SecondFeatures, context: &TriageContext) {
        if self.len == HISTORY_S {
            self.history.copy_within(1.., 0);
            self.len -= 1;
        }
        self.history[self.len] = *second;
        self.len += 1;
        self.seconds += 1;
        self.programme.push(second);

        // Now: the last seconds, and the latest window against the same
        // music earlier.
        let jump_now = self
            .programme
            .latest_repetition()
            .filter(|&(_, matches)| matches >= JUMP_MIN_MATCHES_NOW)
            .map(|(difference, _)| (difference, self.seconds as f32))
            .or(self.programme.latest_continuity_step());
        let window = Summary::of_window(&self.history[..self.len], jump_now);
        let findings = assess(&window, context, Scope::Now, &self.shown);
        for (index, finding) in findings.iter().enumerate() {
            // Link hints come from the master's view (`push_link`).
            if HintId::ALL[index].is_link() {
                continue;
            }
            if finding.measured {
                self.latest[index] = *finding;
            }
            self.raw[index] = finding.severity;
            if second.gated && finding.severity >= Severity::Warn {
                self.held_seconds[index] += 1;
            }
            self.apply(index, finding.severity);
        }

        // The programme since the reset.
        let link = self.programme_findings;
        self.programme_findings = assess(
            &self.programme.summary(),
            context,
            Scope::Programme,
            &[Severity::None; HINT_COUNT],
        );
        for hint in HintId::ALL.into_iter().filter(|h| h.is_link()) {
            self.programme_findings[hint.index()] = link[hint.index()];
        }
    }

    /// The master's link findings of this second (stem-balance, masking,
    /// low-end-conflict), through the same hysteresis; they count for the
    /// programme as they are shown. Call once per [`Self::push`].
    pub fn push_link(&mut self, findings: &[(HintId, Finding)]) {
        for &(hint, finding) in findings {
            if !hint.is_link() {
                continue;
            }
            let index = hint.index();
            if finding.measured {
                self.latest[index] = finding;
            }
            self.raw[index] = finding.severity;
            self.apply(index, finding.severity);
            self.programme_findings[index] = Finding {
                severity: self.shown[index],
                ..self.latest[index]
            };
            self.held_seconds[index] = if self.shown[index] >= Severity::Warn {
                self.programme.gated_seconds()
            } else {
                0
            };
        }
    }

    /// One evaluation's severity for hint `index`, through the hysteresis.
    fn apply(&mut self, index: usize, level: Severity) {
        let shown = self.shown[index];
        let (above, below) = (&mut self.above[index], &mut self.below[index]);
        if level > shown {
            let lowest = if above.0 == 0 {
                level
            } else {
                above.1.min(level)
            };
            *above = (above.0 + 1, lowest);
            *below = (0, Severity::None);
            if above.0 >= RAISE_SECONDS {
                self.shown[index] = above.1;
                *above = (0, Severity::None);
            }
        } else if level < shown {
            *below = (below.0 + 1, below.1.max(level));
            *above = (0, Severity::None);
            if below.0 >= CLEAR_SECONDS {
                self.shown[index] = below.1;
                *below = (0, Severity::None);
            }
        } else {
            *above = (0, Severity::None);
            *below = (0, Severity::None);
        }
    }

    /// Severity shown per hint (what holds now).
    pub fn shown(&self) -> &[Severity; HINT_COUNT] {
        &self.shown
    }

    /// The hint's shown severity with the latest figures.
    pub fn finding(&self, hint: HintId) -> Finding {
        Finding {
            severity: self.shown[hint.index()],
            ..self.latest[hint.index()]
        }
    }

    /// Severity the rules reported for the hint at the latest evaluation,
    /// before hysteresis.
    pub fn raw_severity(&self, hint: HintId) -> Severity {
        self.raw[hint.index()]
    }

    /// The latest evaluation's finding for the hint over the last seconds
    /// (before hysteresis).
    pub fn raw_finding(&self, hint: HintId) -> Finding {
        Finding {
            severity: self.raw[hint.index()],
            ..self.latest[hint.index()]
        }
    }

    /// The programme's finding for the hint since the reset.
    pub fn programme_finding(&self, hint: HintId) -> Finding {
        self.programme_findings[hint.index()]
    }

    /// Share of the programme's gated seconds in which the hint held at
    /// warn or above, 0..=1.
    pub fn coverage(&self, hint: HintId) -> f32 {
        let gated = self.programme.gated_seconds();
        if gated == 0 {
            return 0.0;
        }
        (self.held_seconds[hint.index()] as f32 / gated as f32).min(1.0)
    }

    /// Seconds evaluated since reset.
    pub fn seconds(&self) -> u64 {
        self.seconds
    }

    /// The verdict on the programme since the reset.
    pub fn verdict(&self, context: &TriageContext) -> Verdict {
        let severities: [Severity; HINT_COUNT] =
            std::array::from_fn(|i| self.programme_findings[i].severity);
        let coverage: [f32; HINT_COUNT] = std::array::from_fn(|i| self.coverage(HintId::ALL[i]));
        verdict(&severities, &coverage, context.role, self.seconds as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::StemRole;

    /// The true-peak hint's shown severity after each second, when each
    /// second's true peak is −3 dBTP (`None`), −0.5 dBTP (`Warn`) or
    /// +1 dBTP (`Problem`) against a −1 dBTP ceiling; the rules judge the
    /// highest peak of the last 3 s.
    fn shown_for(levels: &[Severity]) -> Vec<Severity> {
        let context = TriageContext {
            role: StemRole::FullMix,
            target_lufs: -14.0,
            ceiling_dbtp: -1.0,
            integrated_lufs: Some(-14.0),
            stereo: false,
            sample_rate_hz: 48_000.0,
        };
        let mut live = LiveTriage::default();
        levels
            .iter()
            .enumerate()
            .map(|(second, level)| {
                let peak_db: f32 = match level {
                    Severity::Problem => 1.0,
                    Severity::Warn => -0.5,
                    _ => -3.0,
                };
                let peak = 10f32.powf(peak_db / 20.0);
                let features = SecondFeatures {
                    index: second as u64,
                    frames: 48_000,
                    energy: 0.01 * 48_000.0,
                    sample_peak: peak,
                    true_peak: peak,
                    short_term_lufs: -14.0,
                    gated: true,
                    ..SecondFeatures::default()
                };
                live.push(&features, &context);
                live.shown()[HintId::TruePeakOver.index()]
            })
            .collect()
    }

    /// Raising takes two evaluations; clearing four once the problem has
    /// left the 3 s window.
    #[test]
    fn raise_and_clear_take_their_counts() {
        use Severity::*;
        let mut levels = vec![None; 3];
        levels.extend([Problem; 3]);
        levels.extend([None; 10]);
        let shown = shown_for(&levels);
        // Problem from index 3: shown after two evaluations.
        assert_eq!(shown[3], None);
        assert_eq!(shown[4], Problem);
        // The last problem second (index 5) leaves the window at index 8;
        // four evaluations below: cleared at index 11.
        assert_eq!(shown[10], Problem);
        assert_eq!(shown[11], None);
    }

    /// Levels alternating above the shown severity raise the hint (to the
    /// lower of them); levels alternating below it lower it (to the higher
    /// of them), instead of restarting the count at every change.
    #[test]
    fn alternating_levels_on_one_side_still_move_the_hint() {
        use Severity::*;
        let hint = HintId::Clipping.index();
        let mut live = LiveTriage::default();
        live.apply(hint, Warn);
        assert_eq!(live.shown[hint], None);
        live.apply(hint, Problem);
        assert_eq!(live.shown[hint], Warn);
        live.apply(hint, Problem);
        live.apply(hint, Problem);
        assert_eq!(live.shown[hint], Problem);
        for (evaluation, level) in [None, Info, None, Info].into_iter().enumerate() {
            live.apply(hint, level);
            let expected = if evaluation < 3 { Problem } else { Info };
            assert_eq!(live.shown[hint], expected);
        }
        // An evaluation at the shown level restarts the count.
        for level in [None, None, None, Info, None, None, None] {
            live.apply(hint, level);
            assert_eq!(live.shown[hint], Info);
        }
        live.apply(hint, None);
        assert_eq!(live.shown[hint], None);
    }
}
