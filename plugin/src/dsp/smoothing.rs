//! Parameter smoothing: linear ramps that reach their target in a fixed time.
//!
//! A linear ramp bounds the sample-to-sample step (`|target - start| / n`),
//! which is what keeps automation free of zipper noise, and it lands exactly on
//! its target, so a settled value is bit-exact and costs nothing to hold.

/// A value that moves linearly to a new target over a fixed number of samples.
#[derive(Debug, Clone)]
pub struct LinearRamp {
    /// Value produced by the last call to [`LinearRamp::advance`], in the
    /// parameter's own unit.
    current: f32,
    /// Where the ramp under way started, in the parameter's own unit.
    start: f32,
    /// Where the ramp is heading, in the parameter's own unit.
    target: f32,
    /// Change per sample while ramping, in the parameter's unit per sample.
    step: f32,
    /// Samples left until `current == target`.
    remaining: u32,
    /// Length of a full ramp, in samples (at least 1).
    ramp_samples: u32,
}

impl LinearRamp {
    /// A settled ramp at `value` whose moves take `ramp_samples` samples.
    pub fn new(value: f32, ramp_samples: u32) -> Self {
        Self {
            current: value,
            start: value,
            target: value,
            step: 0.0,
            remaining: 0,
            ramp_samples: ramp_samples.max(1),
        }
    }

    /// The number of samples of `seconds` at `sample_rate_hz`, at least one.
    pub fn samples_for(seconds: f32, sample_rate_hz: f32) -> u32 {
        ((seconds * sample_rate_hz).round() as u32).max(1)
    }

    /// Changes the ramp length for later moves; a ramp under way jumps to
    /// its target.
    pub fn set_ramp_samples(&mut self, ramp_samples: u32) {
        self.ramp_samples = ramp_samples.max(1);
        self.snap_to_target();
    }

    /// Starts a ramp from the current value to `target`. Setting the target it
    /// already has does nothing, so calling this every block is free.
    #[inline]
    pub fn set_target(&mut self, target: f32) {
        if target == self.target {
            return;
        }
        self.target = target;
        self.start = self.current;
        self.remaining = self.ramp_samples;
        self.step = (target - self.current) / self.ramp_samples as f32;
    }

    /// Jumps to `value` at once and stops any ramp.
    pub fn snap(&mut self, value: f32) {
        self.current = value;
        self.start = value;
        self.target = value;
        self.step = 0.0;
        self.remaining = 0;
    }

    /// Jumps to the current target.
    pub fn snap_to_target(&mut self) {
        self.snap(self.target);
    }

    /// Advances one sample and returns the new value.
    #[inline]
    pub fn advance(&mut self) -> f32 {
        if self.remaining > 0 {
            self.remaining -= 1;
            // Computed from the start rather than accumulated, so rounding
            // errors do not build up over long ramps.
            let done = (self.ramp_samples - self.remaining) as f32;
            self.current = if self.remaining == 0 {
                self.target
            } else {
                self.start + self.step * done
            };
        }
        self.current
    }

    /// The value last produced.
    #[inline]
    pub fn value(&self) -> f32 {
        self.current
    }

    /// The value the ramp is heading for.
    #[inline]
    pub fn target(&self) -> f32 {
        self.target
    }

    /// Whether the ramp has reached its target.
    #[inline]
    pub fn is_settled(&self) -> bool {
        self.remaining == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaches_target_exactly_after_ramp_samples() {
        let mut ramp = LinearRamp::new(0.0, 10);
        ramp.set_target(1.0);
        let values: Vec<f32> = (0..12).map(|_| ramp.advance()).collect();
        for (i, value) in values.iter().take(9).enumerate() {
            assert!((value - (i + 1) as f32 * 0.1).abs() < 1e-6, "{i}: {value}");
        }
        assert_eq!(values[9], 1.0);
        assert_eq!(values[11], 1.0);
        assert!(ramp.is_settled());
    }

    #[test]
    fn step_is_bounded_by_distance_over_length() {
        let mut ramp = LinearRamp::new(-24.0, 960);
        ramp.set_target(24.0);
        let mut previous = ramp.value();
        for _ in 0..1000 {
            let value = ramp.advance();
            // Each value is start + step·k, rounded once: the step between two
            // neighbours is off by at most two roundings near 24 (2 × 1.9e-6).
            assert!((value - previous).abs() <= 48.0 / 960.0 + 4e-6);
            previous = value;
        }
        assert_eq!(previous, 24.0);
    }

    #[test]
    fn retarget_mid_ramp_starts_from_current_value() {
        let mut ramp = LinearRamp::new(0.0, 4);
        ramp.set_target(4.0);
        assert_eq!(ramp.advance(), 1.0);
        assert_eq!(ramp.advance(), 2.0);
        ramp.set_target(0.0);
        assert_eq!(ramp.advance(), 1.5);
        for _ in 0..3 {
            ramp.advance();
        }
        assert_eq!(ramp.value(), 0.0);
    }

    #[test]
    fn same_target_does_not_restart() {
        let mut ramp = LinearRamp::new(0.0, 4);
        ramp.set_target(1.0);
        ramp.advance();
        ramp.set_target(1.0);
        ramp.advance();
        ramp.advance();
        assert_eq!(ramp.advance(), 1.0);
        assert!(ramp.is_settled());
    }

    #[test]
    fn samples_for_rounds_and_is_at_least_one() {
        assert_eq!(LinearRamp::samples_for(0.02, 48_000.0), 960);
        assert_eq!(LinearRamp::samples_for(0.02, 44_100.0), 882);
        assert_eq!(LinearRamp::samples_for(0.0, 48_000.0), 1);
    }
}
