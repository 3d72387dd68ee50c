//! Live triage: the rules once a second over the last seconds, with
//! hysteresis, for the plugin's audio thread. Fixed-size state; nothing
//! allocates.
//!
//! # Hysteresis
//!
//! * A hint is raised (or raised to a higher severity) when the rules find
//!   it at that severity in [`RAISE_SECONDS`] consecutive evaluations.
//!   With the rules' 3 s windows a clear problem shows within about 3–4 s
//!   of its start.
//! * It is lowered or cleared when the rules find it lower in
//!   [`CLEAR_SECONDS`] consecutive evaluations; while it is shown, its
//!   thresholds are relaxed by the rule's margin. A problem that ends is
//!   cleared within the window (3–8 s) plus 4 s; music hovering around a
//!   threshold keeps the hint steady instead of making it flicker.

use super::rules::{assess, Scope, TriageContext};
use super::verdict::{verdict, Verdict};
use super::{Finding, HintId, Severity, HINT_COUNT};
use crate::meter::features::SecondFeatures;

/// Seconds of features kept: the longest rule window plus the sections a
/// loudness jump compares.
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
    /// Severity shown per hint.
    shown: [Severity; HINT_COUNT],
    /// The latest finding per hint (its figures are the evidence shown).
    latest: [Finding; HINT_COUNT],
    /// Severity the rules currently report, when different from the shown
    /// one, and for how many consecutive evaluations.
    pending: [(Severity, u32); HINT_COUNT],
    /// Seconds evaluated since reset.
    seconds: u64,
}

impl Default for LiveTriage {
    fn default() -> Self {
        Self {
            history: [SecondFeatures::default(); HISTORY_S],
            len: 0,
            shown: [Severity::None; HINT_COUNT],
            latest: [Finding::default(); HINT_COUNT],
            pending: [(Severity::None, 0); HINT_COUNT],
            seconds: 0,
        }
    }
}

impl LiveTriage {
    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::default();
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
        let findings = assess(&self.history[..self.len], context, Scope::Live, &self.shown);
        for (index, finding) in findings.iter().enumerate() {
            self.latest[index] = *finding;
            let level = finding.severity;
            let shown = self.shown[index];
            let pending = &mut self.pending[index];
            if level == shown {
                *pending = (level, 0);
                continue;
            }
            if pending.0 == level {
                pending.1 += 1;
            } else {
                *pending = (level, 1);
            }
            let needed = if level > shown {
                RAISE_SECONDS
            } else {
                CLEAR_SECONDS
            };
            if pending.1 >= needed {
                self.shown[index] = level;
                *pending = (level, 0);
            }
        }
    }

    /// Severity shown per hint.
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

    /// Seconds evaluated since reset.
    pub fn seconds(&self) -> u64 {
        self.seconds
    }

    /// The verdict from the shown hints.
    pub fn verdict(&self, context: &TriageContext) -> Verdict {
        verdict(&self.shown, context.role, self.seconds as f32)
    }
}
