//! Metering: loudness (ITU-R BS.1770-5, EBU Tech 3341/3342), true peak,
//! stereo image and spectrum. Plain Rust on slices; nothing here knows about
//! the plugin framework. Everything allocates in its constructor and never
//! while processing.

pub mod analyzer;
pub mod cross_spectrum;
pub mod delay;
pub mod features;
pub mod history;
pub mod k_weighting;
pub mod lines;
pub mod loudness;
pub mod low_band;
pub mod spectrum;
pub mod stereo;
pub mod true_peak;

pub use analyzer::{Analyzer, AnalyzerReadings};

/// Largest magnitude a meter accepts, linear full scale (+120 dBFS): finite
/// samples beyond it are clipped so no sum can overflow.
const INPUT_LIMIT: f32 = 1.0e6;

/// A sample as the meters read it: non-finite samples count as silence,
/// finite ones are clipped to ±[`INPUT_LIMIT`].
#[inline]
pub(crate) fn sanitize(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(-INPUT_LIMIT, INPUT_LIMIT)
    } else {
        0.0
    }
}
