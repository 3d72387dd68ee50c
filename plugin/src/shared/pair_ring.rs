//! Pairs of values shared with the editor — loudness history points,
//! goniometer samples — written by the audio thread into a ring of atomics,
//! read by the editor without waiting.

use std::sync::atomic::{AtomicU64, Ordering};

/// A ring of `(f32, f32)` points, e.g. (momentary, short-term) loudness or
/// (left, right) samples. Each point is one 64-bit atomic holding both
/// values, so a point is never torn.
pub struct PairRing {
    /// Point `i` lives in slot `i % len`: the first value's bits high, the
    /// second's low.
    points: Vec<AtomicU64>,
    /// Points written so far.
    pushed: AtomicU64,
}

fn pack(first: f32, second: f32) -> u64 {
    (u64::from(first.to_bits()) << 32) | u64::from(second.to_bits())
}

fn unpack(bits: u64) -> (f32, f32) {
    (
        f32::from_bits((bits >> 32) as u32),
        f32::from_bits(bits as u32),
    )
}

impl PairRing {
    /// A ring for `capacity` points (at least one).
    pub fn new(capacity: usize) -> Self {
        let silent = pack(f32::NEG_INFINITY, f32::NEG_INFINITY);
        Self {
            points: (0..capacity.max(1))
                .map(|_| AtomicU64::new(silent))
                .collect(),
            pushed: AtomicU64::new(0),
        }
    }

    /// Points the ring holds at most.
    pub fn capacity(&self) -> usize {
        self.points.len()
    }

    /// Appends a point (audio thread). Wait-free.
    pub fn push(&self, first: f32, second: f32) {
        let index = self.pushed.load(Ordering::Relaxed);
        let slot = (index % self.points.len() as u64) as usize;
        self.points[slot].store(pack(first, second), Ordering::Relaxed);
        self.pushed.store(index + 1, Ordering::Release);
    }

    /// Forgets all points (audio thread).
    pub fn clear(&self) {
        self.pushed.store(0, Ordering::Release);
    }

    /// Points written since the last clear.
    pub fn pushed(&self) -> u64 {
        self.pushed.load(Ordering::Acquire)
    }

    /// Copies the newest `out.len()` points (or fewer) into `out`, oldest
    /// first, and returns how many were copied. A point being overwritten
    /// during the copy reads as either its old or its new value.
    pub fn copy_latest(&self, out: &mut [(f32, f32)]) -> usize {
        let pushed = self.pushed();
        let count = (out.len() as u64).min(pushed).min(self.points.len() as u64);
        let first = pushed - count;
        for (i, slot) in out.iter_mut().take(count as usize).enumerate() {
            let index = ((first + i as u64) % self.points.len() as u64) as usize;
            *slot = unpack(self.points[index].load(Ordering::Relaxed));
        }
        count as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_points_in_order() {
        let ring = PairRing::new(4);
        for i in 0..6 {
            ring.push(i as f32, -(i as f32));
        }
        let mut out = [(0.0, 0.0); 10];
        let n = ring.copy_latest(&mut out);
        assert_eq!(
            &out[..n],
            &[(2.0, -2.0), (3.0, -3.0), (4.0, -4.0), (5.0, -5.0)]
        );
        let mut two = [(0.0, 0.0); 2];
        assert_eq!(ring.copy_latest(&mut two), 2);
        assert_eq!(two, [(4.0, -4.0), (5.0, -5.0)]);
        ring.clear();
        assert_eq!(ring.copy_latest(&mut out), 0);
    }
}
