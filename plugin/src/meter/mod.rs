//! Metering: loudness (ITU-R BS.1770-5, EBU Tech 3341/3342), true peak,
//! stereo image and spectrum. Plain Rust on slices; nothing here knows about
//! the plugin framework. Everything allocates in its constructor and never
//! while processing.

pub mod analyzer;
pub mod history;
pub mod k_weighting;
pub mod loudness;
pub mod spectrum;
pub mod stereo;
pub mod true_peak;

pub use analyzer::{Analyzer, AnalyzerReadings};
