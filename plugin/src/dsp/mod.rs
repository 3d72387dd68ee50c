//! Signal processing on plain slices. Nothing here knows about the plugin
//! framework or the editor.

pub mod biquad;
pub mod cpu;
pub mod deharsh;
pub mod delay;
pub mod denormal;
pub mod fast_math;
pub mod glue;
pub mod limiter;
pub mod loudness_match;
pub mod low_end;
pub mod module_slot;
pub mod punch;
pub mod smoothing;
pub mod tone;
pub mod width;

/// Converts decibels to a linear amplitude factor.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db * 0.05)
}

/// Converts a linear amplitude factor to decibels; silence gives `-inf`.
#[inline]
pub fn gain_to_db(gain: f32) -> f32 {
    20.0 * gain.log10()
}
