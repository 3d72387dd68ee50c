//! Second-order IIR sections in double precision (transposed direct form
//! II), the building block of every filter in Stem Master.

/// Normalised biquad coefficients (a0 = 1): y = b0·x + b1·x₋₁ + b2·x₋₂ − a1·y₋₁ − a2·y₋₂.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BiquadCoefficients {
    pub b0: f64,
    pub b1: f64,
    pub b2: f64,
    pub a1: f64,
    pub a2: f64,
}

impl BiquadCoefficients {
    /// Passes the signal unchanged.
    pub const IDENTITY: Self = Self {
        b0: 1.0,
        b1: 0.0,
        b2: 0.0,
        a1: 0.0,
        a2: 0.0,
    };

    /// Magnitude response at `frequency_hz` for `sample_rate_hz`, as a linear factor.
    pub fn magnitude_at(&self, frequency_hz: f64, sample_rate_hz: f64) -> f64 {
        let w = std::f64::consts::TAU * frequency_hz / sample_rate_hz;
        let (c1, s1) = (w.cos(), -w.sin());
        let (c2, s2) = ((2.0 * w).cos(), -(2.0 * w).sin());
        let num = (
            self.b0 + self.b1 * c1 + self.b2 * c2,
            self.b1 * s1 + self.b2 * s2,
        );
        let den = (
            1.0 + self.a1 * c1 + self.a2 * c2,
            self.a1 * s1 + self.a2 * s2,
        );
        ((num.0 * num.0 + num.1 * num.1) / (den.0 * den.0 + den.1 * den.1)).sqrt()
    }
}

/// The two state variables of one transposed-direct-form-II section.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BiquadState {
    s1: f64,
    s2: f64,
}

impl BiquadState {
    /// Filters one sample.
    #[inline(always)]
    pub fn process(&mut self, c: &BiquadCoefficients, x: f64) -> f64 {
        let y = c.b0 * x + self.s1;
        self.s1 = c.b1 * x - c.a1 * y + self.s2;
        self.s2 = c.b2 * x - c.a2 * y;
        y
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_passes_and_state_filters() {
        let mut state = BiquadState::default();
        assert_eq!(state.process(&BiquadCoefficients::IDENTITY, 0.25), 0.25);
        // One-pole smoother y = 0.5x + 0.5y₋₁ as a biquad.
        let c = BiquadCoefficients {
            b0: 0.5,
            b1: 0.0,
            b2: 0.0,
            a1: -0.5,
            a2: 0.0,
        };
        let mut state = BiquadState::default();
        let out: Vec<f64> = (0..3).map(|_| state.process(&c, 1.0)).collect();
        assert_eq!(out, [0.5, 0.75, 0.875]);
        assert!((c.magnitude_at(0.0, 48_000.0) - 1.0).abs() < 1e-12);
    }
}
