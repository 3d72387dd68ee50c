//! The analysis engine: every meter of Stem Master fed from one call, the
//! same in the plugin (on the audio thread) and in the CLI (offline).

use super::delay::DelayAnalyzer;
use super::features::{SampleSums, SecondFeatures};
use super::history::{HistoryPoint, LoudnessHistory};
use super::lines::LineFinder;
use super::loudness::{LoudnessMeter, LoudnessReadings, HOPS_PER_SECOND};
use super::low_band::LowBandEnvelope;
use super::spectrum::SpectrumAnalyzer;
use super::stereo::StereoMeter;
use super::true_peak::{sample_peak, TruePeakMeter};

/// Most channels the analyzer measures (7.1).
pub const MAX_CHANNELS: usize = 8;
/// Hops (10 ms) between history points (100 ms).
const HOPS_PER_HISTORY_POINT: u64 =
    HOPS_PER_SECOND / super::history::HISTORY_POINTS_PER_SECOND as u64;
/// Hops in the window of the recent true peak used for PSR (3 s).
const RECENT_PEAK_HOPS: usize = 300;
/// Finished seconds of features the analyzer keeps for its readers.
pub const SECONDS_KEPT: usize = 8;
/// Range searched for narrow spectral lines, Hz.
pub const LINE_RANGE_HZ: (f64, f64) = (1000.0, 12_000.0);
/// A second is part of the programme when its short-term loudness is within
/// this distance of the integrated loudness so far, LU (the relative gate
/// of the loudness range, EBU Tech 3342).
pub const PROGRAMME_GATE_LU: f64 = 20.0;
/// ... and at least this loud, LUFS (the absolute gate of BS.1770).
pub const PROGRAMME_ABSOLUTE_GATE_LUFS: f64 = -70.0;

/// Everything the meters report, in plain numbers. `None` where a value does
/// not exist (silence below the gate, too little audio, mono for stereo
/// figures).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AnalyzerReadings {
    /// Loudness values.
    pub loudness: LoudnessReadings,
    /// Highest true peak since the last reset, dBTP.
    pub true_peak_max_dbtp: Option<f64>,
    /// Highest true peak of the last 3 s, dBTP.
    pub true_peak_recent_dbtp: Option<f64>,
    /// Highest sample peak since the last reset, dBFS.
    pub sample_peak_max_dbfs: Option<f64>,
    /// Peak-to-loudness ratio: true peak max − integrated loudness, dB.
    pub plr_db: Option<f64>,
    /// Peak-to-short-term-loudness ratio: true peak of the last 3 s −
    /// short-term loudness, dB.
    pub psr_db: Option<f64>,
    /// Phase correlation of the last ~300 ms, −1..=1 (stereo only).
    pub correlation: Option<f32>,
    /// The same below 150 Hz.
    pub low_band_correlation: Option<f32>,
}

/// The meters of one signal.
pub struct Analyzer {
    /// Channels measured.
    channels: usize,
    loudness: LoudnessMeter,
    true_peak: TruePeakMeter,
    /// Present for stereo input.
    stereo: Option<StereoMeter>,
    spectrum: SpectrumAnalyzer,
    /// Peaks of the low end, per second.
    low_band: LowBandEnvelope,
    /// Scratch for the line search, sized for the spectrum.
    line_finder: LineFinder,
    /// Delay analysis of the cross-spectra (stereo input only).
    delay: Option<DelayAnalyzer>,
    history: LoudnessHistory,
    /// Highest true peak in the current hop, linear.
    hop_true_peak: f32,
    /// True peak of each of the last 300 hops, linear (ring by hop index).
    recent_hop_peaks: Vec<f32>,
    /// Highest true peak since reset, linear.
    true_peak_max: f32,
    /// Highest sample peak since reset, linear.
    sample_peak_max: f32,
    /// Per-sample sums of the current second.
    sample_sums: SampleSums,
    /// The second being gathered (peaks so far).
    current_second: SecondFeatures,
    /// Stereo moment sums at the start of the current second.
    /// (ΣL², ΣR², ΣLR, the same below 150 Hz, full-scale² · samples.)
    stereo_mark: [f64; 6],
    /// The last [`SECONDS_KEPT`] finished seconds, by index modulo the size.
    seconds: [SecondFeatures; SECONDS_KEPT],
    /// Seconds finished since reset.
    seconds_done: u64,
}

/// Linear peak to dB; `None` for silence.
fn peak_db(peak: f32) -> Option<f64> {
    (peak > 0.0).then(|| 20.0 * f64::from(peak).log10())
}

impl Analyzer {
    /// Allocates everything for `channels` channels (1 to 8) at
    /// `sample_rate_hz`, keeping `history_seconds` of loudness history.
    pub fn new(sample_rate_hz: f32, channels: usize, history_seconds: u32) -> Self {
        let channels = channels.clamp(1, MAX_CHANNELS);
        let history_points =
            history_seconds as usize * super::history::HISTORY_POINTS_PER_SECOND as usize;
        let spectrum = SpectrumAnalyzer::new(sample_rate_hz, channels);
        let line_finder = LineFinder::new(spectrum.fft_size() / 2 + 1);
        let delay = (channels == 2)
            .then(|| DelayAnalyzer::new(spectrum.fft_size(), f64::from(sample_rate_hz)));
        Self {
            channels,
            loudness: LoudnessMeter::new(f64::from(sample_rate_hz), channels),
            true_peak: TruePeakMeter::new(sample_rate_hz, channels),
            stereo: (channels == 2).then(|| StereoMeter::new(sample_rate_hz)),
            spectrum,
            low_band: LowBandEnvelope::new(sample_rate_hz),
            line_finder,
            delay,
            history: LoudnessHistory::new(history_points),
            hop_true_peak: 0.0,
            recent_hop_peaks: vec![0.0; RECENT_PEAK_HOPS],
            true_peak_max: 0.0,
            sample_peak_max: 0.0,
            sample_sums: SampleSums::default(),
            current_second: SecondFeatures::default(),
            stereo_mark: [0.0; 6],
            seconds: [SecondFeatures::default(); SECONDS_KEPT],
            seconds_done: 0,
        }
    }

    /// Channels measured.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Starts over as if new.
    pub fn reset(&mut self) {
        self.loudness.reset();
        self.true_peak.reset();
        if let Some(stereo) = &mut self.stereo {
            stereo.reset();
        }
        self.spectrum.reset();
        self.low_band.reset();
        self.history.clear();
        self.hop_true_peak = 0.0;
        self.recent_hop_peaks.fill(0.0);
        self.true_peak_max = 0.0;
        self.sample_peak_max = 0.0;
        self.sample_sums.reset();
        self.current_second = SecondFeatures::default();
        self.stereo_mark = [0.0; 6];
        self.seconds = [SecondFeatures::default(); SECONDS_KEPT];
        self.seconds_done = 0;
    }

    /// Clears integrated loudness, loudness range and all maxima, keeping
    /// the running windows (the meter's reset button).
    pub fn reset_statistics(&mut self) {
        self.loudness.reset_statistics();
        self.true_peak_max = 0.0;
        self.sample_peak_max = 0.0;
    }

    /// Measures planar audio (one slice per channel, equal lengths). Never
    /// allocates.
    pub fn process(&mut self, channels: &[&[f32]]) {
        let used = channels.len().min(self.channels);
        let Some(len) = channels.first().map(|c| c.len()) else {
            return;
        };
        let mut start = 0;
        while start < len {
            let end = (start + self.loudness.samples_to_hop_end()).min(len);
            let mut chunk: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
            for (slot, channel) in chunk.iter_mut().zip(&channels[..used]) {
                *slot = &channel[start..end];
            }
            let chunk = &chunk[..used];
            let mut chunk_peak = 0.0f32;
            for (index, channel) in chunk.iter().enumerate() {
                let peak = sample_peak(channel);
                chunk_peak = chunk_peak.max(peak);
                self.sample_sums.add(index, channel, peak);
            }
            self.sample_peak_max = self.sample_peak_max.max(chunk_peak);
            self.current_second.sample_peak = self.current_second.sample_peak.max(chunk_peak);
            self.current_second.frames += (end - start) as u32;
            self.hop_true_peak = self.hop_true_peak.max(self.true_peak.process(chunk));
            if let (Some(stereo), [left, right]) = (&mut self.stereo, chunk) {
                stereo.process(left, right);
            }
            self.spectrum.process(chunk);
            self.low_band.process(chunk);
            if self.loudness.process_within_hop(chunk) {
                self.finish_hop();
            }
            start = end;
        }
    }

    fn finish_hop(&mut self) {
        let hop = self.loudness.hops_done() - 1;
        self.recent_hop_peaks[(hop % RECENT_PEAK_HOPS as u64) as usize] = self.hop_true_peak;
        self.true_peak_max = self.true_peak_max.max(self.hop_true_peak);
        self.current_second.true_peak = self.current_second.true_peak.max(self.hop_true_peak);
        self.hop_true_peak = 0.0;
        self.low_band.end_hop();
        if self.loudness.hops_done().is_multiple_of(HOPS_PER_SECOND) {
            self.finish_second();
        }
        if self
            .loudness
            .hops_done()
            .is_multiple_of(HOPS_PER_HISTORY_POINT)
        {
            let readings = self.loudness.readings();
            let to_f32 = |x: Option<f64>| x.map_or(f32::NEG_INFINITY, |x| x as f32);
            self.history.push(HistoryPoint {
                momentary_lufs: to_f32(readings.momentary_lufs),
                short_term_lufs: to_f32(readings.short_term_lufs),
            });
        }
    }

    /// Completes the features of the unfinished last second, if it holds
    /// any audio (the end of a file); it is shorter than a second
    /// ([`SecondFeatures::frames`] says how long).
    pub fn finish_partial_second(&mut self) {
        if self.current_second.frames > 0 {
            self.current_second.true_peak = self.current_second.true_peak.max(self.hop_true_peak);
            self.finish_second();
        }
    }

    /// Completes the features of the second that just ended.
    fn finish_second(&mut self) {
        let mut second = self.current_second;
        second.index = self.seconds_done;
        self.sample_sums.finish_second(self.channels, &mut second);
        let loudness = self.loudness.readings();
        second.short_term_lufs = loudness
            .short_term_lufs
            .map_or(f32::NEG_INFINITY, |x| x as f32);
        second.gated = loudness.short_term_lufs.is_some_and(|short_term| {
            short_term >= PROGRAMME_ABSOLUTE_GATE_LUFS
                && loudness
                    .integrated_lufs
                    .is_none_or(|integrated| short_term >= integrated - PROGRAMME_GATE_LU)
        });
        let interval = self.spectrum.take_interval_bands();
        second.third_octave_power = interval.third_octaves;
        second.spectrum_frames = interval.frames;
        self.spectrum.close_second(second.gated);
        second.low_peak = self.low_band.take_second();
        if let Some(stereo) = &self.stereo {
            let sums = stereo.moment_sums();
            for ((out, now), before) in second
                .stereo_moments
                .iter_mut()
                .zip(sums)
                .zip(self.stereo_mark)
            {
                *out = (now - before).max(0.0);
            }
            // Cross terms may be negative.
            second.stereo_moments[2] = sums[2] - self.stereo_mark[2];
            second.stereo_moments[5] = sums[5] - self.stereo_mark[5];
            self.stereo_mark = sums;
        }
        self.measure_lines_and_delays(&mut second);
        self.seconds[(self.seconds_done % SECONDS_KEPT as u64) as usize] = second;
        self.seconds_done += 1;
        self.current_second = SecondFeatures::default();
    }

    /// The spectral lines and inter-channel delays of the medium-term and
    /// programme spectra, into `second`. Once a second; never allocates.
    fn measure_lines_and_delays(&mut self, second: &mut SecondFeatures) {
        if self.spectrum.frames_analysed() == 0 {
            return;
        }
        let (low, high) = LINE_RANGE_HZ;
        let bin_hz = self.spectrum.bin_hz();
        self.line_finder.find(
            self.spectrum.medium_power(),
            bin_hz,
            low,
            high,
            &mut second.lines,
        );
        second.tuning_cents = self.line_finder.tuning_cents();
        let (programme, programme_frames) = self.spectrum.programme_power();
        if programme_frames > 0 {
            self.line_finder
                .find(programme, bin_hz, low, high, &mut second.programme_lines);
            second.programme_tuning_cents = self.line_finder.tuning_cents();
        }
        if let (Some(delay), Some(stereo)) = (&mut self.delay, self.spectrum.stereo_spectra()) {
            second.delay = delay.analyze(self.spectrum.medium_power(), stereo.medium());
            if programme_frames > 0 {
                second.programme_delay = delay.analyze(programme, stereo.programme());
            }
        }
    }

    /// Seconds of features finished since the last reset.
    pub fn seconds_done(&self) -> u64 {
        self.seconds_done
    }

    /// The features of second `index` (counted from the reset), if it is
    /// finished and still among the last [`SECONDS_KEPT`].
    pub fn second(&self, index: u64) -> Option<&SecondFeatures> {
        (index < self.seconds_done && index + SECONDS_KEPT as u64 >= self.seconds_done)
            .then(|| &self.seconds[(index % SECONDS_KEPT as u64) as usize])
    }

    /// Current readings.
    pub fn readings(&self) -> AnalyzerReadings {
        let loudness = self.loudness.readings();
        let recent_peak = self.recent_hop_peaks.iter().fold(0.0f32, |m, &x| m.max(x));
        let true_peak_max_dbtp = peak_db(self.true_peak_max);
        let true_peak_recent_dbtp = peak_db(recent_peak);
        AnalyzerReadings {
            loudness,
            true_peak_max_dbtp,
            true_peak_recent_dbtp,
            sample_peak_max_dbfs: peak_db(self.sample_peak_max),
            plr_db: true_peak_max_dbtp
                .zip(loudness.integrated_lufs)
                .map(|(p, i)| p - i),
            psr_db: true_peak_recent_dbtp
                .zip(loudness.short_term_lufs)
                .map(|(p, s)| p - s),
            correlation: self.stereo.as_ref().and_then(StereoMeter::correlation),
            low_band_correlation: self
                .stereo
                .as_ref()
                .and_then(StereoMeter::low_band_correlation),
        }
    }

    /// Loudness history, 10 points per second.
    pub fn history(&self) -> &LoudnessHistory {
        &self.history
    }

    /// The stereo meter, for stereo input.
    pub fn stereo(&self) -> Option<&StereoMeter> {
        self.stereo.as_ref()
    }

    /// The spectrum analyzer.
    pub fn spectrum(&self) -> &SpectrumAnalyzer {
        &self.spectrum
    }

    /// Completed 10 ms hops since the last reset.
    pub fn hops_done(&self) -> u64 {
        self.loudness.hops_done()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Noise;

    /// Three seconds of a stereo test signal at `fs`: noise, a 1 kHz tone
    /// in the left channel, a DC offset in the right and a burst of
    /// full-scale samples (one clip run per channel) in the second second.
    fn signal(fs: f32) -> Vec<Vec<f32>> {
        let n = (3.0 * fs) as usize;
        let mut noise = Noise(5);
        let mut left: Vec<f32> = (0..n)
            .map(|i| {
                (0.2 * noise.next()
                    + 0.3 * (std::f64::consts::TAU * 1000.0 * i as f64 / f64::from(fs)).sin())
                    as f32
            })
            .collect();
        let mut right: Vec<f32> = (0..n).map(|_| (0.2 * noise.next() + 0.01) as f32).collect();
        let burst = (1.5 * fs) as usize;
        left[burst..burst + 5].fill(1.0);
        right[burst..burst + 4].fill(-1.0);
        vec![left, right]
    }

    fn seconds_at_block(audio: &[Vec<f32>], fs: f32, block: usize) -> Vec<SecondFeatures> {
        let mut analyzer = Analyzer::new(fs, 2, 1);
        let mut seconds = Vec::new();
        let mut start = 0;
        while start < audio[0].len() {
            let end = (start + block).min(audio[0].len());
            analyzer.process(&[&audio[0][start..end], &audio[1][start..end]]);
            while (seconds.len() as u64) < analyzer.seconds_done() {
                seconds.push(*analyzer.second(seconds.len() as u64).unwrap());
            }
            start = end;
        }
        seconds
    }

    /// Each second's sums are those of its samples: frames, energy (mean
    /// over channels of Σx²), Σx per channel and the peaks, computed
    /// directly in f64 (tolerance 1e-5 relative: the f32 partial sums per
    /// 10 ms hop), and the clip runs of the burst.
    #[test]
    fn seconds_hold_the_sums_of_their_samples() {
        for fs in [44_100.0f32, 96_000.0] {
            let audio = signal(fs);
            let seconds = seconds_at_block(&audio, fs, 1024);
            assert_eq!(seconds.len(), 3);
            let per = fs as usize;
            for (index, second) in seconds.iter().enumerate() {
                assert_eq!(second.index, index as u64);
                assert_eq!(second.frames as usize, per);
                let range = index * per..(index + 1) * per;
                let energy: f64 = audio
                    .iter()
                    .map(|c| {
                        c[range.clone()]
                            .iter()
                            .map(|&x| f64::from(x).powi(2))
                            .sum::<f64>()
                    })
                    .sum::<f64>()
                    / 2.0;
                assert!((second.energy / energy - 1.0).abs() < 1e-5, "fs {fs}");
                for (channel, &sum) in audio.iter().zip(&second.channel_sums) {
                    let direct: f64 = channel[range.clone()].iter().map(|&x| f64::from(x)).sum();
                    assert!(
                        (sum - direct).abs() < 1e-5 * per as f64,
                        "{sum} vs {direct}"
                    );
                }
                let peak = audio
                    .iter()
                    .flat_map(|c| c[range.clone()].iter())
                    .fold(0.0f32, |m, x| m.max(x.abs()));
                assert_eq!(second.sample_peak, peak);
                assert!(second.true_peak >= second.sample_peak * 0.999);
                assert_eq!(second.clip_runs, if index == 1 { 2 } else { 0 });
                assert!(second.spectrum_frames > 0);
            }
            // The right channel's 0.01 offset: −40 dBFS of DC.
            let dc = seconds[2].channel_sums[1] / f64::from(seconds[2].frames);
            assert!((dc - 0.01).abs() < 0.005, "{dc}");
        }
    }

    /// The features do not depend on the host's block size: peaks, clip
    /// runs, spectrum and narrow peaks are identical; sums agree within
    /// 1e-5 relative (f32 partial sums per chunk).
    #[test]
    fn seconds_do_not_depend_on_the_block_size() {
        let fs = 48_000.0;
        let audio = signal(fs);
        let reference = seconds_at_block(&audio, fs, 4096);
        for block in [1, 7, 480, 8192] {
            let seconds = seconds_at_block(&audio, fs, block);
            assert_eq!(seconds.len(), reference.len());
            for (a, b) in seconds.iter().zip(&reference) {
                assert_eq!(a.frames, b.frames);
                assert_eq!(a.sample_peak, b.sample_peak);
                assert_eq!(a.true_peak, b.true_peak);
                assert_eq!(a.clip_runs, b.clip_runs);
                assert_eq!(a.third_octave_power, b.third_octave_power);
                assert_eq!(a.spectrum_frames, b.spectrum_frames);
                assert_eq!(a.lines, b.lines);
                assert_eq!(a.low_peak, b.low_peak);
                assert_eq!(a.gated, b.gated);
                assert!((a.energy / b.energy - 1.0).abs() < 1e-5, "block {block}");
                assert!((a.short_term_lufs - b.short_term_lufs).abs() < 1e-4);
                for (x, y) in a.stereo_moments.iter().zip(&b.stereo_moments) {
                    assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0), "block {block}");
                }
            }
        }
    }

    /// Only the last [`SECONDS_KEPT`] seconds are kept.
    #[test]
    fn old_seconds_are_dropped() {
        let fs = 22_050.0;
        let mut analyzer = Analyzer::new(fs, 1, 1);
        let silence = vec![0.0f32; 22_050];
        for _ in 0..10 {
            analyzer.process(&[&silence]);
        }
        assert_eq!(analyzer.seconds_done(), 10);
        assert!(analyzer.second(1).is_none());
        assert_eq!(analyzer.second(2).unwrap().index, 2);
        assert_eq!(analyzer.second(9).unwrap().index, 9);
        assert!(analyzer.second(10).is_none());
        analyzer.reset();
        assert_eq!(analyzer.seconds_done(), 0);
    }
}
