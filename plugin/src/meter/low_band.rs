//! The level of the low end's peaks, second by second.
//!
//! The first two channels (a mono signal counts twice) are low-passed at
//! 120 Hz with the stereo meter's 4th-order Linkwitz–Riley filter: the
//! octave and a half where kick and bass fundamentals sit (a bass guitar's
//! low E is 41 Hz, its open G 98 Hz) and little else plays. Their
//! mean square is taken over blocks of five loudness hops (50 ms), and each
//! second reports the 90th percentile of its blocks: the level the bass notes
//! and kick hits reach in that second, whatever the number of notes that
//! fall in it. A mean over the second would read a busy bar louder than a
//! sparse one at the same note level.
//!
//! The triage reads how this level swings from second to second
//! (`unstable-low-end`).

use super::sanitize;
use super::stereo::LinkwitzRiley4;

/// Corner of the low band, Hz.
pub const LOW_BAND_HZ: f64 = 120.0;

/// Loudness hops (10 ms) per block.
pub const HOPS_PER_BLOCK: u32 = 5;
/// Blocks per second.
pub const BLOCKS_PER_SECOND: usize = 20;
/// Percentile of a second's block levels that is reported.
const PEAK_PERCENTILE: f32 = 0.9;

/// Low-band block energies of the current second.
#[derive(Debug, Clone)]
pub struct LowBandEnvelope {
    /// 120 Hz LR4 low-pass of the first two channels.
    filter: LinkwitzRiley4,
    /// Σ of the low-passed mean square over the samples of the current
    /// block, full-scale² · samples.
    block_energy: f64,
    /// Samples in the current block.
    block_samples: u32,
    /// Hops finished in the current block.
    block_hops: u32,
    /// Mean square of each finished block of the current second,
    /// full-scale²; `blocks` are valid.
    second: [f32; BLOCKS_PER_SECOND],
    /// Finished blocks in `second`.
    blocks: usize,
}

impl LowBandEnvelope {
    /// A new envelope at `sample_rate_hz`.
    pub fn new(sample_rate_hz: f32) -> Self {
        Self {
            filter: LinkwitzRiley4::new(LOW_BAND_HZ, f64::from(sample_rate_hz)),
            block_energy: 0.0,
            block_samples: 0,
            block_hops: 0,
            second: [0.0; BLOCKS_PER_SECOND],
            blocks: 0,
        }
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.filter.reset();
        self.block_energy = 0.0;
        self.block_samples = 0;
        self.block_hops = 0;
        self.blocks = 0;
    }

    /// Adds samples of the current hop: the first two of `channels` (one
    /// channel counts as both). Never allocates.
    pub fn process(&mut self, channels: &[&[f32]]) {
        let (left, right) = match channels {
            [] => return,
            [mono] => (*mono, *mono),
            [left, right, ..] => (*left, *right),
        };
        for (&l, &r) in left.iter().zip(right) {
            let [l, r] = self
                .filter
                .process([f64::from(sanitize(l)), f64::from(sanitize(r))]);
            self.block_energy += 0.5 * (l * l + r * r);
        }
        self.block_samples += left.len().min(right.len()) as u32;
    }

    /// Marks the end of a loudness hop; every [`HOPS_PER_BLOCK`] hops close
    /// a block.
    pub fn end_hop(&mut self) {
        self.block_hops += 1;
        if self.block_hops == HOPS_PER_BLOCK {
            self.close_block();
        }
    }

    fn close_block(&mut self) {
        if self.block_samples > 0 && self.blocks < BLOCKS_PER_SECOND {
            self.second[self.blocks] = (self.block_energy / f64::from(self.block_samples)) as f32;
            self.blocks += 1;
        }
        self.block_energy = 0.0;
        self.block_samples = 0;
        self.block_hops = 0;
    }

    /// The 90th percentile of the blocks' mean squares in the second that
    /// ends now (full-scale²; an unfinished block counts), and starts the
    /// next second. 0 when the second had no block.
    pub fn take_second(&mut self) -> f32 {
        if self.block_samples > 0 {
            self.close_block();
        }
        let blocks = &mut self.second[..self.blocks];
        let level = if blocks.is_empty() {
            0.0
        } else {
            blocks.sort_unstable_by(f32::total_cmp);
            let rank =
                ((PEAK_PERCENTILE * blocks.len() as f32).ceil() as usize).clamp(1, blocks.len());
            blocks[rank - 1]
        };
        self.blocks = 0;
        level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 40 Hz sine passes the filter (−0.1 dB) and reads its mean square;
    /// 2 kHz is gone; the peak percentile follows the loudest blocks, not
    /// the mean.
    #[test]
    fn reports_the_low_band_peaks_of_each_second() {
        let fs = 48_000.0f32;
        let hop = 480;
        let mut envelope = LowBandEnvelope::new(fs);
        let tone = |f: f32, amp: f32, n: usize, start: usize| -> Vec<f32> {
            (0..n)
                .map(|i| amp * (std::f32::consts::TAU * f * (start + i) as f32 / fs).sin())
                .collect()
        };
        let mut levels = Vec::new();
        for second in 0..3 {
            for h in 0..100 {
                let start = (second * 100 + h) * hop;
                // Second 1: the bass plays only in its first 15 blocks of 20
                // (75 hops), at 0.5; second 2: a 2 kHz tone only.
                let block = match second {
                    0 => tone(40.0, 0.5, hop, start),
                    1 if h < 75 => tone(40.0, 0.5, hop, start),
                    1 => vec![0.0; hop],
                    _ => tone(2000.0, 0.5, hop, start),
                };
                envelope.process(&[&block, &block]);
                envelope.end_hop();
            }
            levels.push(envelope.take_second());
        }
        // 0.5² / 2 = 0.125, within the filter's passband ripple and the
        // start-up of the first block.
        assert!((levels[0] / 0.125 - 1.0).abs() < 0.05, "{levels:?}");
        // 15 of 20 blocks loud: the 90th percentile is still the bass.
        assert!((levels[1] / 0.125 - 1.0).abs() < 0.05, "{levels:?}");
        // 2 kHz is 4.2 octaves above the corner: about −100 dB.
        assert!(levels[2] < 1e-8, "{levels:?}");
    }
}
