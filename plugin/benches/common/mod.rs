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

/// Every module of the engine on, each doing some work: tone (low cut,
/// +2 dB high shelf, −3 dB bell, +1 dB tilt), de-harsh, low end (mono bass
/// and stabilizer), glue, punch (+3 dB attack), width (120 %), limiter
/// (+6 dB drive).
#[allow(dead_code)] // the meter bench does not use the engine
pub fn every_module_on() -> stem_master::engine::EngineSettings {
    use stem_master::dsp::{
        limiter::LimiterParams, low_end::LowEndParams, punch::PunchParams, tone::ToneParams,
        width::WidthParams,
    };
    use stem_master::engine::EngineSettings;
    let d = EngineSettings::default();
    EngineSettings {
        tone_on: true,
        tone: ToneParams {
            low_cut_enabled: true,
            high_shelf_db: 2.0,
            bell_db: -3.0,
            tilt_db: 1.0,
            ..d.tone
        },
        deharsh_on: true,
        low_end_on: true,
        low_end: LowEndParams {
            mono_below_enabled: true,
            stabilizer_enabled: true,
            ..d.low_end
        },
        glue_on: true,
        punch_on: true,
        punch: PunchParams {
            attack_db: 3.0,
            ..d.punch
        },
        width_on: true,
        width: WidthParams {
            side_gain_percent: 120.0,
            ..d.width
        },
        limiter_on: true,
        limiter: LimiterParams {
            drive_db: 6.0,
            ..d.limiter
        },
        ..d
    }
}
