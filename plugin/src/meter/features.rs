//! What the triage reads: one summary of the meters per second of audio.
//!
//! Each [`SecondFeatures`] holds *sums* (energy, DC, stereo moments, band
//! power) rather than finished figures, so that the triage can add up any
//! run of seconds — the last three seconds live, the whole file offline —
//! and compute its figures over exactly that window. Peaks, clip runs and
//! the short-term loudness at the end of the second complete the record.
//!
//! # Clip runs
//!
//! A clip run is a run of at least [`CLIP_RUN_SAMPLES`] (3) consecutive
//! samples of one channel at or above [`CLIP_LEVEL`] in magnitude
//! (0.999, −0.009 dBFS) that hold one value (within [`FLAT_TOP`]): the flat
//! top a clipped waveform leaves. The count of 3 is the "over" convention of
//! Pro Tools' meters and the default of Audacity's "Find Clipping". The
//! flatness matters: a band-limited peak curves through its maximum, so a
//! low note that peaks at full scale spends several samples above 0.999
//! without being clipped (a 50 Hz peak at 48 kHz stays within 0.1 % of its
//! top for 7 samples), while a clipped one sits at one value. Samples above
//! full scale in a floating-point file that were never clipped are not flat
//! either; they show as true-peak overs instead.

/// Magnitude (full scale = 1.0) at or above which a sample counts towards a
/// clip run: 0.999, −0.009 dBFS.
pub const CLIP_LEVEL: f32 = 0.999;
/// Consecutive samples at [`CLIP_LEVEL`] that make a clip run.
pub const CLIP_RUN_SAMPLES: u32 = 3;
/// Largest difference between consecutive samples of a flat top, linear
/// full scale (2⁻²⁰, below a 20-bit step): a full-scale 20 Hz sine at
/// 48 kHz changes 7·10⁻⁶ between samples at its peak, a clipped one not at
/// all.
pub const FLAT_TOP: f32 = 1.0 / 1_048_576.0;
/// Channels whose DC sums are kept.
pub const DC_CHANNELS: usize = 2;

use super::delay::StereoDelay;
use super::lines::{Line, MAX_LINES};
use super::spectrum::THIRD_OCTAVES;

/// The meters' summary of one second of audio (10 ms loudness hops 100 at a
/// time). Sums are over the samples or spectrum frames of this second only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SecondFeatures {
    /// Seconds completed since the analyzer's reset before this one (0 for
    /// the first second).
    pub index: u64,
    /// Frames (samples per channel) in this second.
    pub frames: u32,
    /// Σx² over the frames, averaged over the channels, full-scale² ·
    /// samples: `energy / frames` is the mean square of the second.
    pub energy: f64,
    /// Σx of the first two channels, full-scale · samples (DC offset).
    pub channel_sums: [f64; DC_CHANNELS],
    /// Highest sample magnitude of the second, linear full scale.
    pub sample_peak: f32,
    /// Highest true peak of the second (BS.1770: ×4 oversampled below
    /// 96 kHz, ×2 to 192 kHz, the samples themselves above), linear.
    pub true_peak: f32,
    /// Clip runs that reached [`CLIP_RUN_SAMPLES`] samples in this second,
    /// over all channels.
    pub clip_runs: u32,
    /// Short-term (3 s) loudness at the end of the second, LUFS;
    /// `-inf` when silent.
    pub short_term_lufs: f32,
    /// Whether the second belongs to the programme: its short-term loudness
    /// is at least −70 LUFS and within 20 LU of the integrated loudness so
    /// far (the relative gate of the loudness range, EBU Tech 3342). Quiet
    /// intros, breaks, fades and silence are not gated in.
    pub gated: bool,
    /// Mean square in each third-octave band
    /// ([`super::spectrum::third_octave_centre_hz`], 19.7 Hz … 20.2 kHz)
    /// summed over the spectrum frames completed in this second, full-scale²
    /// · frames.
    pub third_octave_power: [f64; THIRD_OCTAVES],
    /// Spectrum frames completed in this second.
    pub spectrum_frames: u32,
    /// Stereo moment sums of this second: ΣL², ΣR², ΣL·R, and the same for
    /// both channels low-passed at 150 Hz, full-scale² · samples. Zero for
    /// anything but stereo.
    pub stereo_moments: [f64; 6],
    /// Level the low end's peaks reach in this second: the 90th percentile
    /// of the 50 ms mean squares below 120 Hz, full-scale² (see
    /// [`super::low_band`]).
    pub low_peak: f32,
    /// Narrow lines of the medium-term (3 s) spectrum between 1 and 12 kHz
    /// at the end of the second, strongest first (see [`super::lines`]).
    pub lines: [Line; MAX_LINES],
    /// The same for the programme's long-term spectrum since the reset.
    pub programme_lines: [Line; MAX_LINES],
    /// The tuning of the notes in the medium-term spectrum, cents from A440
    /// (see [`super::lines::LineFinder::tuning_cents`]).
    pub tuning_cents: f32,
    /// The same for the programme's long-term spectrum.
    pub programme_tuning_cents: f32,
    /// Delays between the channels in the medium-term (3 s) cross-spectra
    /// (stereo only; see [`super::delay`]).
    pub delay: StereoDelay,
    /// The same for the programme's cross-spectra since the reset.
    pub programme_delay: StereoDelay,
}

impl Default for SecondFeatures {
    fn default() -> Self {
        Self {
            index: 0,
            frames: 0,
            energy: 0.0,
            channel_sums: [0.0; DC_CHANNELS],
            sample_peak: 0.0,
            true_peak: 0.0,
            clip_runs: 0,
            short_term_lufs: f32::NEG_INFINITY,
            gated: false,
            third_octave_power: [0.0; THIRD_OCTAVES],
            spectrum_frames: 0,
            stereo_moments: [0.0; 6],
            low_peak: 0.0,
            lines: [Line::default(); MAX_LINES],
            programme_lines: [Line::default(); MAX_LINES],
            tuning_cents: 0.0,
            programme_tuning_cents: 0.0,
            delay: StereoDelay::default(),
            programme_delay: StereoDelay::default(),
        }
    }
}

/// Per-sample sums for [`SecondFeatures`]: energy, DC and clip runs. The
/// run lengths carry over block and second boundaries.
#[derive(Debug, Clone)]
pub struct SampleSums {
    /// Σx² over the current second, per channel, full-scale² · samples.
    energy: [f64; super::analyzer::MAX_CHANNELS],
    /// Σx over the current second, per channel, full-scale · samples.
    sums: [f64; super::analyzer::MAX_CHANNELS],
    /// Current run of flat samples at [`CLIP_LEVEL`], per channel, samples.
    run_length: [u32; super::analyzer::MAX_CHANNELS],
    /// The previous sample of each channel (for flatness), linear.
    previous: [f32; super::analyzer::MAX_CHANNELS],
    /// Clip runs counted in the current second.
    clip_runs: u32,
}

impl Default for SampleSums {
    fn default() -> Self {
        Self {
            energy: [0.0; super::analyzer::MAX_CHANNELS],
            sums: [0.0; super::analyzer::MAX_CHANNELS],
            run_length: [0; super::analyzer::MAX_CHANNELS],
            previous: [0.0; super::analyzer::MAX_CHANNELS],
            clip_runs: 0,
        }
    }
}

/// Lanes of the f32 partial sums.
const LANES: usize = 8;

/// Σx² and Σx of `samples` in eight f32 lanes (vectorised), then summed.
/// Callers pass at most one 10 ms hop (≤ 3840 samples at 384 kHz), so the
/// f32 partial sums stay within about 1e-6 relative.
fn lane_sums(samples: &[f32]) -> (f32, f32) {
    let mut energy = [0.0f32; LANES];
    let mut sum = [0.0f32; LANES];
    let mut chunks = samples.chunks_exact(LANES);
    for chunk in &mut chunks {
        for lane in 0..LANES {
            energy[lane] += chunk[lane] * chunk[lane];
            sum[lane] += chunk[lane];
        }
    }
    for (lane, &x) in chunks.remainder().iter().enumerate() {
        energy[lane] += x * x;
        sum[lane] += x;
    }
    (energy.iter().sum(), sum.iter().sum())
}

impl SampleSums {
    /// Adds one channel's samples as the meters read them (non-finite as
    /// 0, finite clipped to ±1e6). `peak` is the largest magnitude among
    /// them (as [`crate::meter::true_peak::sample_peak`] reads it): below
    /// [`CLIP_LEVEL`] no sample can start or continue a clip run, and the
    /// run scan is skipped.
    pub fn add(&mut self, channel: usize, samples: &[f32], peak: f32) {
        let (energy, sum) = lane_sums(samples);
        if energy.is_finite() && sum.is_finite() {
            self.energy[channel] += f64::from(energy);
            self.sums[channel] += f64::from(sum);
        } else {
            for &x in samples {
                let x = f64::from(super::sanitize(x));
                self.energy[channel] += x * x;
                self.sums[channel] += x;
            }
        }
        if peak < CLIP_LEVEL {
            self.run_length[channel] = 0;
            if let Some(&last) = samples.last() {
                self.previous[channel] = super::sanitize(last);
            }
            return;
        }
        let mut run = self.run_length[channel];
        let mut previous = self.previous[channel];
        for &x in samples {
            let x = super::sanitize(x);
            if x.abs() >= CLIP_LEVEL {
                // A run starts at its first sample; it continues while the
                // samples hold the first one's value.
                run = if run > 0 && (x - previous).abs() <= FLAT_TOP {
                    run + 1
                } else {
                    1
                };
                self.clip_runs += u32::from(run == CLIP_RUN_SAMPLES);
            } else {
                run = 0;
            }
            previous = x;
        }
        self.run_length[channel] = run;
        self.previous[channel] = previous;
    }

    /// Moves the second's sums into `features` (energy averaged over
    /// `channels`) and starts the next second; run lengths carry over.
    pub fn finish_second(&mut self, channels: usize, features: &mut SecondFeatures) {
        let channels = channels.clamp(1, super::analyzer::MAX_CHANNELS);
        features.energy = self.energy[..channels].iter().sum::<f64>() / channels as f64;
        features.channel_sums = [self.sums[0], self.sums[1]];
        features.clip_runs = self.clip_runs;
        self.energy = [0.0; super::analyzer::MAX_CHANNELS];
        self.sums = [0.0; super::analyzer::MAX_CHANNELS];
        self.clip_runs = 0;
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flat runs of 3 or more samples at 0.999 count once each, across
    /// block boundaries; runs of 2, samples at 0.998, and a peak that curves
    /// through full scale do not count.
    #[test]
    fn clip_runs_follow_the_three_sample_convention() {
        let mut signal = vec![0.5f32; 100];
        signal[10..12].fill(1.0); // 2 samples: not a run
        signal[20..23].fill(-0.999); // 3 samples: a run
        signal[30..40].fill(1.0); // 10 samples: one run
        signal[50..60].fill(0.998); // below the level
                                    // A rounded peak: above 0.999 but never twice the same value.
        for (i, x) in signal[70..76].iter_mut().enumerate() {
            *x = 1.0 - 1e-4 * (i as f32 - 2.5).powi(2);
        }
        signal[97..100].fill(1.0); // continues into the next block
        let mut sums = SampleSums::default();
        for block in signal.chunks(7) {
            sums.add(0, block, peak(block));
        }
        sums.add(0, &[1.0, 1.0, 0.0], 1.0);
        let mut features = SecondFeatures::default();
        sums.finish_second(1, &mut features);
        assert_eq!(features.clip_runs, 3);
    }

    /// Energy and DC sums are the sums of the samples given (exact here:
    /// the values are exact in f32).
    #[test]
    fn sums_are_exact() {
        let mut sums = SampleSums::default();
        sums.add(0, &[0.5, -0.25, 0.25], 0.5);
        sums.add(1, &[1.0, 1.0, 1.0], 1.0);
        let mut features = SecondFeatures::default();
        sums.finish_second(2, &mut features);
        assert_eq!(features.energy, (0.375 + 3.0) / 2.0);
        assert_eq!(features.channel_sums, [0.5, 3.0]);
    }

    /// Non-finite samples count as silence, as in every meter.
    #[test]
    fn non_finite_samples_count_as_silence() {
        let mut sums = SampleSums::default();
        sums.add(0, &[0.5, f32::NAN, f32::INFINITY, 1.0, 1.0], 1.0);
        let mut features = SecondFeatures::default();
        sums.finish_second(1, &mut features);
        assert_eq!(features.energy, 1.25 + 1.0);
        assert_eq!(features.channel_sums[0], 2.5);
        assert_eq!(features.clip_runs, 0);
    }

    fn peak(block: &[f32]) -> f32 {
        block.iter().fold(0.0, |m, x| m.max(x.abs()))
    }
}
