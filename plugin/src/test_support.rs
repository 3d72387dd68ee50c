//! Helpers shared by the unit tests of several modules.

/// Sample rates the meters and processors must support, Hz.
pub const RATES: [f32; 6] = [22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0, 384_000.0];

/// Deterministic white noise, uniform in ±1 (xorshift64*), so tests do not
/// depend on a random crate.
pub struct Noise(pub u64);

impl Noise {
    /// The next value, uniform in [−1, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        bits as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    /// `len` samples of noise with peak `amplitude`.
    pub fn signal(&mut self, len: usize, amplitude: f64) -> Vec<f32> {
        (0..len).map(|_| (amplitude * self.next()) as f32).collect()
    }
}
