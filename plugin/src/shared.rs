//! The one type that carries data between the audio thread, the editor and
//! the host: atomics only, so no side ever waits for another.

use atomic_float::AtomicF32;
use std::sync::atomic::{AtomicU32, Ordering};

/// Values the audio thread publishes for the editor. Every store and load is
/// relaxed: each field is a self-contained number, and a reader may see one
/// block's value next to another block's.
#[derive(Debug)]
pub struct SharedState {
    /// Sample rate of the running engine, in Hz (0 before activation).
    pub sample_rate_hz: AtomicF32,
    /// Channels being processed (0 before activation).
    pub channels: AtomicU32,
    /// Latency reported to the host, in samples.
    pub latency_samples: AtomicU32,
    /// Largest absolute input sample since the editor last took it, linear
    /// full scale (1.0 = 0 dBFS). The editor resets it with `swap(0.0)`.
    pub input_peak: AtomicF32,
    /// Largest absolute output sample since the editor last took it, linear
    /// full scale.
    pub output_peak: AtomicF32,
}

impl Default for SharedState {
    fn default() -> Self {
        Self {
            sample_rate_hz: AtomicF32::new(0.0),
            channels: AtomicU32::new(0),
            latency_samples: AtomicU32::new(0),
            input_peak: AtomicF32::new(0.0),
            output_peak: AtomicF32::new(0.0),
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
}
