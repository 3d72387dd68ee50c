//! The one type that carries data between the audio thread, the editor and
//! the host: atomics for single values, a wait-free triple buffer for arrays
//! and an atomic ring for the loudness history. No side ever waits.

use atomic_float::AtomicF32;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicU8, Ordering};

mod pair_ring;
mod triple_buffer;

pub use pair_ring::PairRing;
pub use triple_buffer::TripleBuffer;

use crate::meter::AnalyzerReadings;
use crate::triage::live::LiveTriage;
use crate::triage::verdict::{Service, Verdict};
use crate::triage::{Finding, HintId, HintSet, Severity, HINT_COUNT};

/// Loudness history the editor can show, seconds (20 minutes).
pub const HISTORY_SECONDS: usize = 20 * 60;
/// Samples the goniometer ring keeps (85 ms at 48 kHz).
pub const SCOPE_POINTS: usize = 4096;
/// Bins of the display spectrum (1/6 octave, 20 Hz to 20 kHz).
pub const SPECTRUM_BINS: usize = crate::meter::spectrum::SIXTH_OCTAVE_BINS;

/// A scalar reading that may be missing: stored as NaN when absent.
#[derive(Debug)]
pub struct OptionalF32(AtomicF32);

impl OptionalF32 {
    fn new() -> Self {
        Self(AtomicF32::new(f32::NAN))
    }

    /// Stores a value (audio thread).
    #[inline]
    pub fn store(&self, value: Option<f64>) {
        let value = value
            .filter(|v| v.is_finite())
            .map_or(f32::NAN, |v| v as f32);
        self.0.store(value, Ordering::Relaxed);
    }

    /// The value, if there is one.
    #[inline]
    pub fn load(&self) -> Option<f32> {
        let value = self.0.load(Ordering::Relaxed);
        (!value.is_nan()).then_some(value)
    }
}

/// Meter readings as the editor sees them. Units as in [`AnalyzerReadings`].
#[derive(Debug)]
pub struct MeterValues {
    /// Momentary loudness, LUFS.
    pub momentary_lufs: OptionalF32,
    /// Short-term loudness, LUFS.
    pub short_term_lufs: OptionalF32,
    /// Integrated loudness since the last reset, LUFS.
    pub integrated_lufs: OptionalF32,
    /// Loudness range since the last reset, LU.
    pub range_lu: OptionalF32,
    /// Highest momentary loudness since the last reset, LUFS.
    pub momentary_max_lufs: OptionalF32,
    /// Highest short-term loudness since the last reset, LUFS.
    pub short_term_max_lufs: OptionalF32,
    /// Highest true peak since the last reset, dBTP.
    pub true_peak_max_dbtp: OptionalF32,
    /// Highest true peak of the last 3 s, dBTP.
    pub true_peak_recent_dbtp: OptionalF32,
    /// Highest sample peak since the last reset, dBFS.
    pub sample_peak_max_dbfs: OptionalF32,
    /// Peak-to-loudness ratio, dB.
    pub plr_db: OptionalF32,
    /// Peak-to-short-term-loudness ratio, dB.
    pub psr_db: OptionalF32,
    /// Phase correlation of the last ~300 ms, −1..=1.
    pub correlation: OptionalF32,
    /// Phase correlation below 150 Hz, −1..=1.
    pub low_band_correlation: OptionalF32,
}

impl MeterValues {
    fn new() -> Self {
        Self {
            momentary_lufs: OptionalF32::new(),
            short_term_lufs: OptionalF32::new(),
            integrated_lufs: OptionalF32::new(),
            range_lu: OptionalF32::new(),
            momentary_max_lufs: OptionalF32::new(),
            short_term_max_lufs: OptionalF32::new(),
            true_peak_max_dbtp: OptionalF32::new(),
            true_peak_recent_dbtp: OptionalF32::new(),
            sample_peak_max_dbfs: OptionalF32::new(),
            plr_db: OptionalF32::new(),
            psr_db: OptionalF32::new(),
            correlation: OptionalF32::new(),
            low_band_correlation: OptionalF32::new(),
        }
    }

    /// Publishes a full set of readings (audio thread).
    pub fn store(&self, r: &AnalyzerReadings) {
        let l = &r.loudness;
        self.momentary_lufs.store(l.momentary_lufs);
        self.short_term_lufs.store(l.short_term_lufs);
        self.integrated_lufs.store(l.integrated_lufs);
        self.range_lu.store(l.range_lu);
        self.momentary_max_lufs.store(l.momentary_max_lufs);
        self.short_term_max_lufs.store(l.short_term_max_lufs);
        self.true_peak_max_dbtp.store(r.true_peak_max_dbtp);
        self.true_peak_recent_dbtp.store(r.true_peak_recent_dbtp);
        self.sample_peak_max_dbfs.store(r.sample_peak_max_dbfs);
        self.plr_db.store(r.plr_db);
        self.psr_db.store(r.psr_db);
        self.correlation.store(r.correlation.map(f64::from));
        self.low_band_correlation
            .store(r.low_band_correlation.map(f64::from));
    }
}

/// The live triage as the editor sees it: per hint its shown severity and
/// the figures behind its message, and the verdict. Written once a second
/// by the audio thread; every value is its own atomic, so a reader may mix
/// figures from two consecutive seconds, never a torn number.
#[derive(Debug)]
pub struct TriageValues {
    /// Shown severity per hint ([`Severity::code`]), by [`HintId::index`].
    pub severity: [AtomicU8; HINT_COUNT],
    /// The measured figure per hint (unit depends on the hint).
    pub value: [AtomicF32; HINT_COUNT],
    /// What the figure is compared with (same unit).
    pub reference: [AtomicF32; HINT_COUNT],
    /// The frequency a hint is about, Hz (0 when none).
    pub frequency_hz: [AtomicF32; HINT_COUNT],
    /// A hint's second figure ([`Finding::detail`], unit by hint).
    pub detail: [AtomicF32; HINT_COUNT],
    /// The verdict's service ([`Service::code`]).
    pub service: AtomicU8,
    /// The verdict's confidence, 0..=1.
    pub confidence: AtomicF32,
    /// The hints that decided the verdict ([`HintSet`] bits).
    pub because: AtomicU32,
    /// Seconds of audio the triage has judged since the last reset.
    pub seconds: AtomicU32,
}

impl Default for TriageValues {
    fn default() -> Self {
        Self {
            severity: std::array::from_fn(|_| AtomicU8::new(0)),
            value: std::array::from_fn(|_| AtomicF32::new(0.0)),
            reference: std::array::from_fn(|_| AtomicF32::new(0.0)),
            frequency_hz: std::array::from_fn(|_| AtomicF32::new(0.0)),
            detail: std::array::from_fn(|_| AtomicF32::new(0.0)),
            service: AtomicU8::new(0),
            confidence: AtomicF32::new(0.0),
            because: AtomicU32::new(0),
            seconds: AtomicU32::new(0),
        }
    }
}

impl TriageValues {
    /// Publishes the live triage and its verdict (audio thread).
    pub fn store(&self, triage: &LiveTriage, verdict: &Verdict) {
        for hint in HintId::ALL {
            let i = hint.index();
            let finding = triage.finding(hint);
            self.severity[i].store(finding.severity.code(), Ordering::Relaxed);
            self.value[i].store(finding.value, Ordering::Relaxed);
            self.reference[i].store(finding.reference, Ordering::Relaxed);
            self.frequency_hz[i].store(finding.frequency_hz, Ordering::Relaxed);
            self.detail[i].store(finding.detail, Ordering::Relaxed);
        }
        self.service
            .store(verdict.service.code(), Ordering::Relaxed);
        self.confidence.store(verdict.confidence, Ordering::Relaxed);
        self.because.store(verdict.because.0, Ordering::Relaxed);
        self.seconds.store(
            triage.seconds().min(u64::from(u32::MAX)) as u32,
            Ordering::Relaxed,
        );
    }

    /// The published finding of a hint.
    pub fn finding(&self, hint: HintId) -> Finding {
        let i = hint.index();
        Finding {
            severity: Severity::from_code(self.severity[i].load(Ordering::Relaxed)),
            value: self.value[i].load(Ordering::Relaxed),
            reference: self.reference[i].load(Ordering::Relaxed),
            frequency_hz: self.frequency_hz[i].load(Ordering::Relaxed),
            detail: self.detail[i].load(Ordering::Relaxed),
            measured: true,
        }
    }

    /// The published verdict.
    pub fn verdict(&self) -> Verdict {
        Verdict {
            service: Service::from_code(self.service.load(Ordering::Relaxed)),
            confidence: self.confidence.load(Ordering::Relaxed),
            because: HintSet(self.because.load(Ordering::Relaxed)),
        }
    }

    /// Clears everything (no audio judged yet).
    pub fn clear(&self) {
        self.store(&LiveTriage::default(), &Verdict::default());
    }
}

/// Values the audio thread publishes for the editor, and requests the
/// editor makes of the audio thread.
pub struct SharedState {
    /// Sample rate of the running engine, in Hz (0 before activation).
    pub sample_rate_hz: AtomicF32,
    /// Channels being processed (0 before activation).
    pub channels: AtomicU32,
    /// Latency reported to the host, in samples.
    pub latency_samples: AtomicU32,
    /// Largest absolute input sample since the editor last took it, linear
    /// full scale (1.0 = 0 dBFS). The editor resets it with `take_peak`.
    pub input_peak: AtomicF32,
    /// Largest absolute output sample since the editor last took it.
    pub output_peak: AtomicF32,
    /// Loudness, peak and correlation readings of the output.
    pub meters: MeterValues,
    /// Live triage hints and verdict of the output.
    pub triage: TriageValues,
    /// This instance's slot in the stem link registry, −1 when not linked
    /// (the master's view leaves its own slot out).
    pub link_slot: AtomicI32,
    /// The claim token of that slot (0 when not linked), so the editor can
    /// rename the instance (`link::registry::rename`).
    pub link_token: AtomicU64,
    /// Stems the master instance sees in its link group (0 on stems).
    pub linked_stems: AtomicU32,
    /// Live 1/6-octave spectrum of the output, dB (a full-scale sine reads
    /// 0 dB in its bin).
    pub spectrum_db: TripleBuffer<[f32; SPECTRUM_BINS]>,
    /// Momentary and short-term loudness every 100 ms, LUFS.
    pub history: PairRing,
    /// The latest output samples (left, right; the one channel twice for
    /// mono), full scale 1.0, for the goniometer: written only while the
    /// editor is open.
    pub scope: PairRing,
    /// Gain reduction since the editor last took it, dB (≥ 0), held at its
    /// maximum: de-harsh, stabilizer, glue, limiter.
    pub gain_reduction_db: [AtomicF32; 4],
    /// Set by the editor while Learn runs: the engine measures the loudness
    /// entering the limiter stage.
    pub learning: AtomicBool,
    /// What Learn measured, LUFS (integrated, entering the limiter stage).
    pub learned_lufs: OptionalF32,
    /// Set by the editor's reset button; the audio thread clears integrated
    /// loudness, loudness range and maxima, then clears this flag.
    pub reset_statistics_requested: AtomicBool,
}

impl Default for SharedState {
    fn default() -> Self {
        Self {
            sample_rate_hz: AtomicF32::new(0.0),
            channels: AtomicU32::new(0),
            latency_samples: AtomicU32::new(0),
            input_peak: AtomicF32::new(0.0),
            output_peak: AtomicF32::new(0.0),
            meters: MeterValues::new(),
            triage: TriageValues::default(),
            link_slot: AtomicI32::new(-1),
            link_token: AtomicU64::new(0),
            linked_stems: AtomicU32::new(0),
            spectrum_db: TripleBuffer::new([-150.0; SPECTRUM_BINS]),
            history: PairRing::new(HISTORY_SECONDS * 10),
            scope: PairRing::new(SCOPE_POINTS),
            gain_reduction_db: std::array::from_fn(|_| AtomicF32::new(0.0)),
            learning: AtomicBool::new(false),
            learned_lufs: OptionalF32::new(),
            reset_statistics_requested: AtomicBool::new(false),
        }
    }
}

impl SharedState {
    /// Raises a held peak to `peak` if it is higher (lock-free max).
    #[inline]
    pub fn hold_peak(held: &AtomicF32, peak: f32) {
        let mut current = held.load(Ordering::Relaxed);
        while peak > current {
            match held.compare_exchange_weak(current, peak, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
    }

    /// Takes a held peak and starts a new hold period.
    pub fn take_peak(held: &AtomicF32) -> f32 {
        held.swap(0.0, Ordering::Relaxed)
    }
}

/// Names of the gain-reduction readouts, in the order of
/// [`SharedState::gain_reduction_db`].
pub const GAIN_REDUCTION_NAMES: [&str; 4] = ["De-harsh", "Stabilizer", "Glue", "Limiter"];

/// Appends a block's frames to the goniometer ring: (left, right), or the
/// one channel twice. Atomic stores only.
#[inline]
pub fn push_scope(scope: &PairRing, channels: &[&mut [f32]]) {
    match channels {
        [mono] => mono.iter().for_each(|&x| scope.push(x, x)),
        [left, right, ..] => left
            .iter()
            .zip(right.iter())
            .for_each(|(&l, &r)| scope.push(l, r)),
        [] => {}
    }
}

/// Largest absolute sample over all channels; non-finite samples are skipped.
#[inline]
pub fn block_peak(channels: &[&mut [f32]]) -> f32 {
    channels
        .iter()
        .flat_map(|channel| channel.iter())
        .filter(|sample| sample.is_finite())
        .fold(0.0f32, |peak, sample| peak.max(sample.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_hold_the_maximum_until_taken() {
        let shared = SharedState::default();
        SharedState::hold_peak(&shared.output_peak, 0.25);
        SharedState::hold_peak(&shared.output_peak, 0.5);
        SharedState::hold_peak(&shared.output_peak, 0.125);
        assert_eq!(SharedState::take_peak(&shared.output_peak), 0.5);
        assert_eq!(SharedState::take_peak(&shared.output_peak), 0.0);
    }

    #[test]
    fn block_peak_ignores_non_finite_samples() {
        let mut left = [0.1, -0.7, f32::NAN];
        let mut right = [f32::INFINITY, 0.2, -0.3];
        assert_eq!(block_peak(&[&mut left, &mut right]), 0.7);
    }

    #[test]
    fn missing_readings_round_trip_as_none() {
        let value = OptionalF32::new();
        assert_eq!(value.load(), None);
        value.store(Some(-23.5));
        assert_eq!(value.load(), Some(-23.5));
        value.store(Some(f64::NEG_INFINITY));
        assert_eq!(value.load(), None);
    }
}
