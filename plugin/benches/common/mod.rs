//! The test programme the benches feed: stereo, a low tone per channel, a
//! high tone and white noise (xorshift32, so every run gets the same
//! samples), optionally pulsing between full and 0.3 level every half
//! second like a beat.

/// What the programme is made of; amplitudes are linear full scale.
pub struct Programme {
    /// Low tone of the left channel, Hz; the right one is `low_step_hz`
    /// higher.
    pub low_hz: f32,
    /// See `low_hz`, Hz.
    pub low_step_hz: f32,
    /// Amplitude of the low tone.
    pub low_level: f32,
    /// High tone, Hz (both channels).
    pub high_hz: f32,
    /// Amplitude of the high tone.
    pub high_level: f32,
    /// Peak amplitude of the white noise.
    pub noise_level: f32,
    /// Whether the whole signal pulses (1 / 0.3 every half second).
    pub pulsing: bool,
    /// Noise seed (not 0).
    pub seed: u32,
}

/// `seconds` of the programme at `rate` Hz, two planar channels.
pub fn programme(rate: usize, seconds: usize, shape: &Programme) -> Vec<Vec<f32>> {
    let mut state = shape.seed;
    (0..2)
        .map(|channel| {
            (0..rate * seconds)
                .map(|n| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    let t = n as f32 / rate as f32;
                    let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                    let level = if shape.pulsing && !(n / (rate / 2)).is_multiple_of(2) {
                        0.3
                    } else {
                        1.0
                    };
                    let low_hz = shape.low_hz + shape.low_step_hz * channel as f32;
                    level
                        * (shape.low_level * (std::f32::consts::TAU * low_hz * t).sin()
                            + shape.high_level * (std::f32::consts::TAU * shape.high_hz * t).sin()
                            + 2.0 * shape.noise_level * noise)
                })
                .collect()
        })
        .collect()
}
