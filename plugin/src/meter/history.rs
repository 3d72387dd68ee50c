//! Loudness history: momentary and short-term loudness every 100 ms, in a
//! ring of fixed capacity.

/// One history point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryPoint {
    /// Momentary loudness, LUFS (−∞ for silence).
    pub momentary_lufs: f32,
    /// Short-term loudness, LUFS (−∞ for silence).
    pub short_term_lufs: f32,
}

/// The last `capacity` points, oldest first.
#[derive(Debug, Clone)]
pub struct LoudnessHistory {
    /// Storage; slot `i % capacity` holds point `i`.
    points: Vec<HistoryPoint>,
    /// Points pushed since creation or clear.
    pushed: u64,
}

/// History points per second.
pub const HISTORY_POINTS_PER_SECOND: u32 = 10;

impl LoudnessHistory {
    /// A ring for `capacity` points (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            points: vec![
                HistoryPoint {
                    momentary_lufs: f32::NEG_INFINITY,
                    short_term_lufs: f32::NEG_INFINITY,
                };
                capacity.max(1)
            ],
            pushed: 0,
        }
    }

    /// Appends a point, dropping the oldest when full.
    pub fn push(&mut self, point: HistoryPoint) {
        let capacity = self.points.len() as u64;
        self.points[(self.pushed % capacity) as usize] = point;
        self.pushed += 1;
    }

    /// Points pushed since creation or the last clear (may exceed the
    /// capacity).
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Points held.
    pub fn len(&self) -> usize {
        self.pushed.min(self.points.len() as u64) as usize
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// The held points, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &HistoryPoint> + '_ {
        let capacity = self.points.len() as u64;
        let first = self.pushed.saturating_sub(capacity);
        (first..self.pushed).map(move |i| &self.points[(i % capacity) as usize])
    }

    /// The point pushed as number `index` (0-based since the last clear), if
    /// still held.
    pub fn get(&self, index: u64) -> Option<&HistoryPoint> {
        let capacity = self.points.len() as u64;
        (index < self.pushed && index + capacity >= self.pushed)
            .then(|| &self.points[(index % capacity) as usize])
    }

    /// Forgets every point.
    pub fn clear(&mut self) {
        self.pushed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(x: f32) -> HistoryPoint {
        HistoryPoint {
            momentary_lufs: x,
            short_term_lufs: -x,
        }
    }

    #[test]
    fn keeps_the_newest_points_in_order() {
        let mut history = LoudnessHistory::new(3);
        assert!(history.is_empty());
        for x in 0..5 {
            history.push(point(x as f32));
        }
        let kept: Vec<f32> = history.iter().map(|p| p.momentary_lufs).collect();
        assert_eq!(kept, [2.0, 3.0, 4.0]);
        assert_eq!(history.len(), 3);
        assert_eq!(history.pushed(), 5);
        assert_eq!(history.get(1), None);
        assert_eq!(history.get(4).unwrap().short_term_lufs, -4.0);
        history.clear();
        assert_eq!(history.iter().count(), 0);
    }
}
