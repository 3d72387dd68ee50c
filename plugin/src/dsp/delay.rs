//! A fixed delay of whole samples, for keeping dry paths aligned with
//! processing that looks ahead.

/// Delays one channel by a fixed number of samples.
#[derive(Debug, Clone)]
pub struct DelayLine {
    /// The last `delay` input samples (ring).
    buffer: Vec<f32>,
    /// Next slot to read from and write to.
    position: usize,
}

impl DelayLine {
    /// A line delaying by `delay` samples (0 passes through).
    pub fn new(delay: usize) -> Self {
        Self {
            buffer: vec![0.0; delay],
            position: 0,
        }
    }

    /// Delay in samples.
    pub fn delay(&self) -> usize {
        self.buffer.len()
    }

    /// Replaces every sample of `samples` by the one `delay` samples earlier.
    #[inline]
    pub fn process(&mut self, samples: &mut [f32]) {
        let len = self.buffer.len();
        if len == 0 {
            return;
        }
        // Swap runs of samples with the ring, from the read position to the
        // end of the ring at most.
        let mut rest = samples;
        while !rest.is_empty() {
            let run = (len - self.position).min(rest.len());
            let (now, later) = rest.split_at_mut(run);
            self.buffer[self.position..self.position + run].swap_with_slice(now);
            self.position += run;
            if self.position == len {
                self.position = 0;
            }
            rest = later;
        }
    }

    /// The last `delay` input samples, oldest first, as two runs.
    pub fn contents(&self) -> (&[f32], &[f32]) {
        let (newer, older) = self.buffer.split_at(self.position);
        (older, newer)
    }

    /// Fills the line with silence.
    pub fn reset(&mut self) {
        self.buffer.fill(0.0);
        self.position = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_by_whole_samples_across_calls() {
        let mut line = DelayLine::new(3);
        let mut a = [1.0, 2.0];
        let mut b = [3.0, 4.0, 5.0, 6.0];
        line.process(&mut a);
        line.process(&mut b);
        assert_eq!(a, [0.0, 0.0]);
        assert_eq!(b, [0.0, 1.0, 2.0, 3.0]);
        let mut none = DelayLine::new(0);
        let mut c = [7.0];
        none.process(&mut c);
        assert_eq!(c, [7.0]);
        let (older, newer) = line.contents();
        assert_eq!([older, newer].concat(), [4.0, 5.0, 6.0]);
        line.reset();
        let mut d = [9.0, 9.0, 9.0, 9.0];
        line.process(&mut d);
        assert_eq!(d, [0.0, 0.0, 0.0, 9.0]);
    }
}
