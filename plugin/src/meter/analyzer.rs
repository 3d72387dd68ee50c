//! The analysis engine: every meter of Stem Master fed from one call, the
//! same in the plugin (on the audio thread) and in the CLI (offline).

use super::features::{SampleSums, SecondFeatures};
use super::history::{HistoryPoint, LoudnessHistory};
use super::loudness::{LoudnessMeter, LoudnessReadings, HOPS_PER_SECOND};
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
/// Range searched for narrow spectral peaks, Hz.
const NARROW_PEAK_RANGE_HZ: (f64, f64) = (1000.0, 12_000.0);

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
        Self {
            channels,
            loudness: LoudnessMeter::new(f64::from(sample_rate_hz), channels),
            true_peak: TruePeakMeter::new(sample_rate_hz, channels),
            stereo: (channels == 2).then(|| StereoMeter::new(sample_rate_hz)),
            spectrum: SpectrumAnalyzer::new(sample_rate_hz, channels),
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

    /// Completes the features of the second that just ended.
    fn finish_second(&mut self) {
        let mut second = self.current_second;
        second.index = self.seconds_done;
        self.sample_sums.finish_second(self.channels, &mut second);
        second.short_term_lufs = self
            .loudness
            .readings()
            .short_term_lufs
            .map_or(f32::NEG_INFINITY, |x| x as f32);
        (second.band_power, second.spectrum_frames) = self.spectrum.take_interval_bands();
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
        let (low, high) = NARROW_PEAK_RANGE_HZ;
        if let Some((hz, db)) = self.spectrum.narrow_peak(low, high) {
            second.narrow_peak_hz = hz;
            second.narrow_peak_db = db;
        }
        self.seconds[(self.seconds_done % SECONDS_KEPT as u64) as usize] = second;
        self.seconds_done += 1;
        self.current_second = SecondFeatures::default();
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
