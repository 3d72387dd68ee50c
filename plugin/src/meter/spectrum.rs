//! Spectrum analysis (realfft): averaged spectra, 1/6-octave display bins, band energies.
//!
//! # Method
//!
//! Welch's method of averaged modified periodograms (P. D. Welch, "The use of
//! fast Fourier transform for the estimation of power spectra", IEEE Trans.
//! Audio Electroacoust. AU-15(2), 1967): each of the given channels is cut
//! into frames of `N` samples with 50 % overlap (hop `N/2`), each frame is
//! weighted by a periodic Hann window and transformed with a real FFT, and
//! the channels' power spectra are averaged: the spectrum of what the
//! channels carry together, whatever their phase relation (the mean of the
//! channels' samples would lose anti-phase content and comb-filter delayed
//! content).
//!
//! `N` is the power of two nearest (in the log domain) to `fs · 85.3 ms`:
//! 2048 at 22.05 kHz, 4096 at 44.1/48 kHz, 8192 at 88.2/96 kHz, 16384 at
//! 176.4/192 kHz, 32768 at 384 kHz. The bin spacing `fs/N` therefore stays
//! between 10.8 and 14.6 Hz at every rate.
//!
//! # Calibration
//!
//! Each FFT bin holds a *mean-square* (power) estimate
//!
//! ```text
//! P[k] = c_k · |X[k]|² / (N · Σ w²),   c_k = 2 for 0 < k < N/2, 1 for DC and Nyquist,
//! ```
//!
//! the one-sided power spectrum normalised for the window's power (Parseval
//! applied to the windowed frame; G. Heinzel, A. Rüdiger, R. Schilling,
//! "Spectrum and spectral density estimation by the DFT", MPI Garching 2002,
//! eqs. 19–24). With this scaling `Σ_k P[k]` is the signal's mean square:
//! white noise reads its true power in any band, and a sine's power `A²/2`
//! is recovered exactly by summing the bins of its main lobe (for a periodic
//! Hann window and a sine centred on bin `k0`: `|X[k0]| = AN/4`,
//! `|X[k0±1]| = AN/8`, `Σ w² = 3N/8`, so the three bins sum to `A²/2`). This
//! is the same thing as dividing the amplitude-normalised spectrum by the
//! Hann window's equivalent noise bandwidth of 1.5 bins (Harris 1978,
//! table 1).
//!
//! Levels are reported in dB relative to the power of a full-scale sine
//! (`0.5`), i.e. `10·log10(2·P)`: a sine of amplitude 1.0 reads 0 dB, the
//! AES17 "dBFS" convention. White noise of RMS `σ` reads
//! `10·log10(2σ²·B/(fs/2))` in a band of width `B`. Silence reads
//! [`FLOOR_DB`].
//!
//! # 1/6-octave bins
//!
//! Centres `1000·2^(k/6)` Hz for `k = −34..=26` (19.7 Hz … 20.2 kHz, 61
//! bins, [`SIXTH_OCTAVE_BINS`]), edges at the centre `·2^(±1/12)`, so that
//! 20 Hz and 20 kHz are both inside the covered range. A bin's power is the
//! integral of the piecewise-constant power spectral density over the bin:
//! every FFT bin is taken to cover `[(k−½)·fs/N, (k+½)·fs/N]` and contributes
//! the fraction of that interval lying inside the 1/6-octave bin. The bins
//! thus partition the spectrum (their powers add up to the total power), noise
//! reads its true band power at every frequency, and a sine reads 0 dB in its
//! bin wherever the bin is wider than the Hann main lobe (about 4 FFT bins,
//! ≈ 47 Hz): from about 500 Hz up. Below that the 1/6-octave bins are
//! narrower than the FFT can resolve; a sine's power is then shared among
//! neighbouring 1/6-octave bins (their sum still reads 0 dB) and the peak bin
//! reads lower (see the `sine_reading_below_the_resolution_limit` test for
//! figures). Bins wholly above Nyquist read the floor.
//!
//! # Averaging
//!
//! * Live: per FFT bin, a one-pole exponential average of the frame powers
//!   with a 0.3 s time constant (coefficient `1 − exp(−hop/(0.3 s·fs))` per
//!   frame), seeded with the first frame after a reset so it does not ramp up
//!   from silence.
//! * Long term: the plain mean of all frame powers since the reset, summed in
//!   `f64`.
//!
//! Frames are analysed once the first `N` samples have arrived and then every
//! `N/2` samples; a partial frame at the end of the input is not analysed.

use super::cross_spectrum::StereoSpectra;
use super::sanitize;
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Reading for silence and for bins above Nyquist, dB.
pub const FLOOR_DB: f32 = -150.0;

/// Number of 1/6-octave display bins (`k = −34..=26`).
pub const SIXTH_OCTAVE_BINS: usize = 61;

/// Centre frequencies `1000·2^(k/6)` Hz, `k = −34..=26`.
static SIXTH_OCTAVE_CENTRES_HZ: [f32; SIXTH_OCTAVE_BINS] = [
    19.686266, 22.097088, 24.80314, 27.840586, 31.25, 35.07694, 39.37253, 44.194176, 49.60628,
    55.68117, 62.5, 70.15388, 78.74506, 88.38835, 99.21256, 111.36234, 125.0, 140.30775, 157.49013,
    176.7767, 198.42513, 222.72469, 250.0, 280.6155, 314.98026, 353.5534, 396.85025, 445.44937,
    500.0, 561.231, 629.9605, 707.1068, 793.7005, 890.89874, 1000.0, 1122.462, 1259.921, 1414.2136,
    1587.401, 1781.7975, 2000.0, 2244.924, 2519.842, 2828.4272, 3174.802, 3563.595, 4000.0,
    4489.848, 5039.684, 5656.8545, 6349.604, 7127.19, 8000.0, 8979.696, 10079.368, 11313.709,
    12699.208, 14254.38, 16000.0, 17959.393, 20158.736,
];

/// Edges (Hz) of the bands [`BandLevels`] reports: sub, bass, low mid, mid,
/// high mid, presence, air.
const BAND_EDGES_HZ: [f64; 8] = [20.0, 60.0, 250.0, 500.0, 2000.0, 5000.0, 8000.0, 20_000.0];

/// Number of bands in [`BandLevels`].
const BANDS: usize = 7;

/// Time constant of the live exponential average, seconds.
const LIVE_TIME_CONSTANT_S: f64 = 0.3;

/// Frame length target, seconds; the FFT size is the nearest power of two.
const FRAME_DURATION_S: f64 = 0.0853;

/// Time constant of the medium-term average the narrow-peak search reads,
/// seconds: long enough for changing notes to blur, short enough for a
/// resonance to show within a few seconds.
const MEDIUM_TIME_CONSTANT_S: f64 = 3.0;

/// Number of third-octave bands in [`IntervalBands::third_octaves`].
pub const THIRD_OCTAVES: usize = 31;

/// Centre of third-octave band `index`: `1000·2^((index − 17)/3)` Hz
/// (19.7 Hz … 20.2 kHz); its edges lie a sixth of an octave either side.
pub fn third_octave_centre_hz(index: usize) -> f64 {
    1000.0 * 2f64.powf((index as f64 - 17.0) / 3.0)
}

/// Band powers gathered over an interval of frames (the analyzer takes one
/// per second).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalBands {
    /// Mean square in each third-octave band
    /// ([`third_octave_centre_hz`]) summed over the frames, full-scale² ·
    /// frames.
    pub third_octaves: [f64; THIRD_OCTAVES],
    /// Frames in the interval.
    pub frames: u32,
}

/// Power in each band, dB, −150 floor: the integral of the power spectrum
/// over the band, i.e. the sum of the power of the FFT bins inside it, the
/// two bins straddling the band edges weighted by the fraction of their
/// width inside (so white noise reads exactly its share `B/(fs/2)` of the
/// power; counting edge bins whole would be up to +0.8 dB off for the 40 Hz
/// wide sub band). Calibrated like the rest of the module: a full-scale sine
/// inside the band reads 0 dB. Bands above Nyquist read the floor; the air
/// band ends at Nyquist if that is below 20 kHz.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandLevels {
    /// 20–60 Hz, dB.
    pub sub_db: f32,
    /// 60–250 Hz, dB.
    pub bass_db: f32,
    /// 250–500 Hz (mud), dB.
    pub low_mid_db: f32,
    /// 500–2000 Hz, dB.
    pub mid_db: f32,
    /// 2000–5000 Hz (harshness), dB.
    pub high_mid_db: f32,
    /// 5000–8000 Hz, dB.
    pub presence_db: f32,
    /// 8000–20000 Hz (or up to Nyquist if lower), dB.
    pub air_db: f32,
}

impl BandLevels {
    /// All bands at [`FLOOR_DB`].
    pub const FLOOR: Self = Self {
        sub_db: FLOOR_DB,
        bass_db: FLOOR_DB,
        low_mid_db: FLOOR_DB,
        mid_db: FLOOR_DB,
        high_mid_db: FLOOR_DB,
        presence_db: FLOOR_DB,
        air_db: FLOOR_DB,
    };
}

/// The FFT bins one 1/6-octave bin integrates over.
#[derive(Debug, Clone, Copy, Default)]
struct BinSpan {
    /// Index of the first FFT bin with a non-zero weight.
    first: usize,
    /// Number of FFT bins with non-zero weight (0: bin above Nyquist).
    len: usize,
    /// Fraction (0..=1) of the first FFT bin's interval inside the bin.
    weight_first: f64,
    /// Fraction (0..=1) of the last FFT bin's interval inside the bin (used
    /// when `len ≥ 2`; interior FFT bins have weight 1).
    weight_last: f64,
}

impl BinSpan {
    /// The span integrating over `[lo_hz, hi_hz]` (clipped to Nyquist) for
    /// an FFT of `fft_size` points with bin spacing `bin_hz`. FFT bin `k`
    /// covers `[(k−½)·bin_hz, (k+½)·bin_hz]` clipped to `[0, fs/2]` and is
    /// weighted by the fraction of that interval inside `[lo_hz, hi_hz]`.
    fn new(lo_hz: f64, hi_hz: f64, bin_hz: f64, fft_size: usize) -> Self {
        let last_bin = fft_size / 2;
        let nyquist = last_bin as f64 * bin_hz;
        let hi_hz = hi_hz.min(nyquist);
        if lo_hz >= hi_hz {
            return Self::default(); // Wholly above Nyquist: reads the floor.
        }
        let fraction = |k: usize| {
            let b_lo = ((k as f64 - 0.5) * bin_hz).max(0.0);
            let b_hi = ((k as f64 + 0.5) * bin_hz).min(nyquist);
            let overlap = (hi_hz.min(b_hi) - lo_hz.max(b_lo)).max(0.0);
            (overlap / (b_hi - b_lo)).clamp(0.0, 1.0)
        };
        let first = ((lo_hz / bin_hz + 0.5).floor() as usize).min(last_bin);
        let last = ((hi_hz / bin_hz + 0.5).floor() as usize).min(last_bin);
        Self {
            first,
            len: last - first + 1,
            weight_first: fraction(first),
            weight_last: fraction(last),
        }
    }

    /// Weighted sum of `power` over the span (same unit as `power`).
    #[inline]
    fn power(&self, power: &[f64]) -> f64 {
        match self.len {
            0 => 0.0,
            1 => power[self.first] * self.weight_first,
            len => {
                let last = self.first + len - 1;
                let interior: f64 = power[self.first + 1..last].iter().sum();
                power[self.first] * self.weight_first + interior + power[last] * self.weight_last
            }
        }
    }
}

/// Averaged FFT power spectrum of one or more channels (channel powers
/// averaged).
pub struct SpectrumAnalyzer {
    /// Forward real FFT of `fft_size` points, planned in [`Self::new`].
    fft: Arc<dyn RealToComplex<f32>>,
    /// FFT length `N`, samples (a power of two).
    fft_size: usize,
    /// Hop between frames, samples (`N/2`, 50 % overlap).
    hop: usize,
    /// Sample rate, Hz.
    sample_rate_hz: f64,
    /// Most channels analysed (at least 1).
    channels: usize,
    /// Channels given to the last [`Self::process`] call (1..=`channels`).
    used_channels: usize,
    /// Periodic Hann window, `N` coefficients (unitless).
    window: Vec<f32>,
    /// Most recent input samples of each channel (full-scale units),
    /// channel `c` at `c·N..(c+1)·N`; the first `filled` entries of each are
    /// valid, oldest first.
    frame: Vec<f32>,
    /// Number of valid samples per channel in `frame`.
    filled: usize,
    /// FFT input (windowed frame; realfft uses it as scratch), `N` samples.
    fft_in: Vec<f32>,
    /// FFT output, `N/2 + 1` complex bins (unnormalised DFT).
    fft_out: Vec<Complex<f32>>,
    /// Scratch space for `process_with_scratch`.
    scratch: Vec<Complex<f32>>,
    /// `2 / (N · Σ w²)`: turns `|X[k]|²` into one-sided mean square for
    /// `0 < k < N/2` (half of it for DC and Nyquist), full-scale² units.
    power_scale: f64,
    /// One-pole coefficient of the live average per frame (unitless, 0..1).
    live_coeff: f64,
    /// Live (exponentially averaged) mean square per FFT bin, full-scale².
    live_power: Vec<f64>,
    /// Sum over all frames since reset of each FFT bin's mean square,
    /// full-scale².
    sum_power: Vec<f64>,
    /// Medium-term (3 s) exponential average of each FFT bin's mean square,
    /// full-scale².
    medium_power: Vec<f64>,
    /// One-pole coefficient of the medium-term average per frame.
    medium_coeff: f64,
    /// The current frame's mean square per FFT bin, full-scale².
    frame_power: Vec<f64>,
    /// Frames since the last [`Self::take_interval_bands`].
    interval_frames: u32,
    /// Third-octave band mean squares summed over the frames since the
    /// last [`Self::take_interval_bands`], full-scale² · frames.
    interval_third_power: [f64; THIRD_OCTAVES],
    /// FFT bins each third-octave band integrates over.
    third_spans: [BinSpan; THIRD_OCTAVES],
    /// Sum of the frame powers of the current second, per FFT bin,
    /// full-scale² · frames (see [`Self::close_second`]).
    second_power: Vec<f64>,
    /// Frames in `second_power`.
    second_frames: u32,
    /// Sum of the frame powers of every gated second since reset (the
    /// programme's long-term spectrum), per FFT bin, full-scale² · frames.
    programme_power: Vec<f64>,
    /// Frames in `programme_power`.
    programme_frames: u64,
    /// Cross-spectra of the first two channels, when two are analysed.
    stereo: Option<StereoSpectra>,
    /// FFT bin spacing, Hz.
    bin_hz: f64,
    /// Frames analysed since reset.
    frames: u64,
    /// FFT bins each 1/6-octave bin integrates over.
    spans: [BinSpan; SIXTH_OCTAVE_BINS],
    /// FFT bins each band of [`BandLevels`] integrates over.
    band_spans: [BinSpan; BANDS],
    /// Live 1/6-octave spectrum, dB re full-scale sine.
    live_db: [f32; SIXTH_OCTAVE_BINS],
    /// Long-term 1/6-octave spectrum, dB re full-scale sine.
    long_term_db: [f32; SIXTH_OCTAVE_BINS],
}

impl SpectrumAnalyzer {
    /// FFT size scaled with the sample rate: the power of two nearest to
    /// fs·0.0853 s (4096 at 48 kHz, 32768 at 384 kHz, 2048 at 22.05 kHz),
    /// Hann window, 50 % overlap (hop = size/2). Input is the power average of the
    /// channels given (at most `channels` of them; `channels` is raised to 1
    /// if 0).
    ///
    /// # Panics
    ///
    /// If `sample_rate_hz` is not a finite number between 1 kHz and 10 MHz.
    pub fn new(sample_rate_hz: f32, channels: usize) -> Self {
        assert!(
            sample_rate_hz.is_finite() && (1000.0..=1.0e7).contains(&sample_rate_hz),
            "SpectrumAnalyzer: unsupported sample rate {sample_rate_hz} Hz"
        );
        let fs = f64::from(sample_rate_hz);
        let fft_size = Self::fft_size_for(sample_rate_hz);
        let hop = fft_size / 2;
        let bins = fft_size / 2 + 1;

        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(fft_size);
        let fft_in = fft.make_input_vec();
        let fft_out = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();

        // Periodic ("DFT-even") Hann window, F. J. Harris, "On the use of
        // windows for harmonic analysis with the discrete Fourier transform",
        // Proc. IEEE 66(1), 1978, eq. 27a.
        let window: Vec<f32> = (0..fft_size)
            .map(|n| {
                let phase = std::f64::consts::TAU * n as f64 / fft_size as f64;
                (0.5 - 0.5 * phase.cos()) as f32
            })
            .collect();
        let sum_w2: f64 = window.iter().map(|&w| f64::from(w) * f64::from(w)).sum();
        let power_scale = 2.0 / (fft_size as f64 * sum_w2);

        let live_coeff = 1.0 - (-(hop as f64) / (LIVE_TIME_CONSTANT_S * fs)).exp();
        let medium_coeff = 1.0 - (-(hop as f64) / (MEDIUM_TIME_CONSTANT_S * fs)).exp();

        let bin_hz = fs / fft_size as f64;
        let step = 2f64.powf(1.0 / 12.0);
        let mut spans = [BinSpan::default(); SIXTH_OCTAVE_BINS];
        for (span, &centre) in spans.iter_mut().zip(SIXTH_OCTAVE_CENTRES_HZ.iter()) {
            let centre = f64::from(centre);
            *span = BinSpan::new(centre / step, centre * step, bin_hz, fft_size);
        }
        let mut band_spans = [BinSpan::default(); BANDS];
        for (band, span) in band_spans.iter_mut().enumerate() {
            *span = BinSpan::new(
                BAND_EDGES_HZ[band],
                BAND_EDGES_HZ[band + 1],
                bin_hz,
                fft_size,
            );
        }

        let mut third_spans = [BinSpan::default(); THIRD_OCTAVES];
        for (index, span) in third_spans.iter_mut().enumerate() {
            let centre = third_octave_centre_hz(index);
            let edge = 2f64.powf(1.0 / 6.0);
            *span = BinSpan::new(centre / edge, centre * edge, bin_hz, fft_size);
        }
        Self {
            fft,
            fft_size,
            hop,
            sample_rate_hz: fs,
            channels: channels.max(1),
            used_channels: channels.max(1),
            window,
            frame: vec![0.0; fft_size * channels.max(1)],
            filled: 0,
            fft_in,
            fft_out,
            scratch,
            power_scale,
            live_coeff,
            live_power: vec![0.0; bins],
            sum_power: vec![0.0; bins],
            medium_power: vec![0.0; bins],
            medium_coeff,
            frame_power: vec![0.0; bins],
            interval_frames: 0,
            interval_third_power: [0.0; THIRD_OCTAVES],
            third_spans,
            second_power: vec![0.0; bins],
            second_frames: 0,
            programme_power: vec![0.0; bins],
            programme_frames: 0,
            stereo: (channels >= 2).then(|| StereoSpectra::new(bins)),
            bin_hz,
            frames: 0,
            spans,
            band_spans,
            live_db: [FLOOR_DB; SIXTH_OCTAVE_BINS],
            long_term_db: [FLOOR_DB; SIXTH_OCTAVE_BINS],
        }
    }

    /// The FFT size [`Self::new`] chooses for a sample rate: the power of two
    /// nearest to `fs · 0.0853 s` in the log domain.
    pub fn fft_size_for(sample_rate_hz: f32) -> usize {
        let target = f64::from(sample_rate_hz) * FRAME_DURATION_S;
        let exponent = target.log2().round().clamp(6.0, 20.0) as u32;
        1usize << exponent
    }

    /// FFT length, samples.
    pub fn fft_size(&self) -> usize {
        self.fft_size
    }

    /// Hop between analysed frames, samples (`fft_size / 2`).
    pub fn hop_size(&self) -> usize {
        self.hop
    }

    /// Clears all history; afterwards the analyser behaves like a new one.
    pub fn reset(&mut self) {
        self.frame.fill(0.0);
        self.filled = 0;
        self.live_power.fill(0.0);
        self.sum_power.fill(0.0);
        self.medium_power.fill(0.0);
        self.interval_third_power = [0.0; THIRD_OCTAVES];
        self.interval_frames = 0;
        self.second_power.fill(0.0);
        self.second_frames = 0;
        self.programme_power.fill(0.0);
        self.programme_frames = 0;
        if let Some(stereo) = &mut self.stereo {
            stereo.reset();
        }
        self.frames = 0;
        self.live_db = [FLOOR_DB; SIXTH_OCTAVE_BINS];
        self.long_term_db = [FLOOR_DB; SIXTH_OCTAVE_BINS];
    }

    /// Feeds one block. The power spectra of the first `channels` slices
    /// (as many as are given, if fewer) are averaged; the block length is
    /// that of the shortest slice. Non-finite samples count as 0.0.
    pub fn process(&mut self, channels: &[&[f32]]) {
        let used = &channels[..channels.len().min(self.channels)];
        if used.is_empty() {
            return;
        }
        self.used_channels = used.len();
        let len = used.iter().map(|c| c.len()).min().unwrap_or(0);
        let n = self.fft_size;
        let mut pos = 0;
        while pos < len {
            let take = (n - self.filled).min(len - pos);
            for (c, channel) in used.iter().enumerate() {
                let dest = &mut self.frame[c * n + self.filled..c * n + self.filled + take];
                for (out, &x) in dest.iter_mut().zip(&channel[pos..pos + take]) {
                    *out = sanitize(x);
                }
            }
            self.filled += take;
            pos += take;
            if self.filled == n {
                self.analyse_frame();
                for c in 0..self.channels {
                    self.frame.copy_within(c * n + self.hop..(c + 1) * n, c * n);
                }
                self.filled = n - self.hop;
            }
        }
    }

    /// Windows, transforms and accumulates the full `frame`.
    fn analyse_frame(&mut self) {
        let n = self.fft_size;
        let used = self.used_channels.clamp(1, self.channels);
        let scale = self.power_scale / used as f64;
        self.frame_power.fill(0.0);
        for c in 0..used {
            for ((x, &s), &w) in self
                .fft_in
                .iter_mut()
                .zip(&self.frame[c * n..(c + 1) * n])
                .zip(&self.window)
            {
                *x = s * w;
            }
            if self
                .fft
                .process_with_scratch(&mut self.fft_in, &mut self.fft_out, &mut self.scratch)
                .is_err()
            {
                // Only possible with wrongly sized buffers, which `new` rules out.
                return;
            }
            for (p, x) in self.frame_power.iter_mut().zip(&self.fft_out) {
                let re = f64::from(x.re);
                let im = f64::from(x.im);
                *p += (re * re + im * im) * scale;
            }
            if let Some(stereo) = &mut self.stereo {
                if used >= 2 && c < 2 {
                    stereo.add_channel(c, &self.fft_out, self.power_scale);
                }
            }
        }
        let stereo_frame = used >= 2;
        let last = self.frame_power.len() - 1;
        let first_frame = self.frames == 0;
        for (k, (((frame, live), sum), medium)) in self
            .frame_power
            .iter_mut()
            .zip(self.live_power.iter_mut())
            .zip(self.sum_power.iter_mut())
            .zip(self.medium_power.iter_mut())
            .enumerate()
        {
            if k == 0 || k == last {
                *frame *= 0.5;
            }
            let p = *frame;
            *sum += p;
            if first_frame {
                *live = p;
                *medium = p;
            } else {
                *live += self.live_coeff * (p - *live);
                *medium += self.medium_coeff * (p - *medium);
            }
        }
        if let Some(stereo) = &mut self.stereo {
            if stereo_frame {
                stereo.finish_frame(first_frame, self.medium_coeff);
            }
        }
        for (second, &p) in self.second_power.iter_mut().zip(&self.frame_power) {
            *second += p;
        }
        self.second_frames += 1;
        self.frames += 1;
        for (band, span) in self.interval_third_power.iter_mut().zip(&self.third_spans) {
            *band += span.power(&self.frame_power);
        }
        self.interval_frames += 1;

        let inv_frames = 1.0 / self.frames as f64;
        for (b, span) in self.spans.iter().enumerate() {
            self.live_db[b] = power_to_db(span.power(&self.live_power));
            self.long_term_db[b] = power_to_db(span.power(&self.sum_power) * inv_frames);
        }
    }

    /// Number of frames analysed since reset.
    pub fn frames_analysed(&self) -> u64 {
        self.frames
    }

    /// Live display spectrum: power averaged exponentially (time constant
    /// 0.3 s) into the 1/6-octave bins of [`Self::sixth_octave_centres_hz`],
    /// dB re a full-scale sine; [`FLOOR_DB`] for silence, before the first
    /// frame and above Nyquist.
    pub fn sixth_octave_db(&self) -> &[f32] {
        &self.live_db
    }

    /// Centre frequencies (Hz) of the 1/6-octave bins, `1000·2^(k/6)` for
    /// `k = −34..=26` ([`SIXTH_OCTAVE_BINS`] = 61 bins, 19.7 Hz … 20.2 kHz).
    pub fn sixth_octave_centres_hz() -> &'static [f32] {
        &SIXTH_OCTAVE_CENTRES_HZ
    }

    /// Long-term average (plain mean of the power spectra of all frames since
    /// reset) in the same bins and calibration as [`Self::sixth_octave_db`].
    pub fn long_term_sixth_octave_db(&self) -> &[f32] {
        &self.long_term_db
    }

    /// Band energies from the long-term average spectrum, dB re a full-scale
    /// sine (floor before the first frame).
    pub fn long_term_bands(&self) -> BandLevels {
        if self.frames == 0 {
            return BandLevels::FLOOR;
        }
        self.bands(&self.sum_power, 1.0 / self.frames as f64)
    }

    /// The medium-term (3 s exponential average) spectrum in the 1/6-octave
    /// bins of [`Self::sixth_octave_db`], dB re a full-scale sine, into
    /// `out` (at most [`SIXTH_OCTAVE_BINS`] values). Never allocates.
    pub fn medium_sixth_octave_db(&self, out: &mut [f32]) {
        for (value, span) in out.iter_mut().zip(&self.spans) {
            *value = if self.frames == 0 {
                FLOOR_DB
            } else {
                power_to_db(span.power(&self.medium_power))
            };
        }
    }

    /// Band energies from the live (exponentially averaged) spectrum.
    pub fn live_bands(&self) -> BandLevels {
        self.bands(&self.live_power, 1.0)
    }

    /// Third-octave band mean squares summed over the frames analysed since
    /// the previous call, and the number of those frames; starts the next
    /// interval.
    pub fn take_interval_bands(&mut self) -> IntervalBands {
        let taken = IntervalBands {
            third_octaves: self.interval_third_power,
            frames: self.interval_frames,
        };
        self.interval_third_power = [0.0; THIRD_OCTAVES];
        self.interval_frames = 0;
        taken
    }

    /// Ends the analyzer's current second: its frames join the programme's
    /// long-term spectra when `gated` (the second is loud enough to be part
    /// of the programme; the analyzer decides), and are dropped otherwise.
    pub fn close_second(&mut self, gated: bool) {
        if gated {
            for (programme, second) in self.programme_power.iter_mut().zip(&self.second_power) {
                *programme += second;
            }
            self.programme_frames += u64::from(self.second_frames);
        }
        self.second_power.fill(0.0);
        self.second_frames = 0;
        if let Some(stereo) = &mut self.stereo {
            stereo.close_second(gated);
        }
    }

    /// The medium-term (3 s exponential average) power per FFT bin,
    /// full-scale², averaged over the channels.
    pub fn medium_power(&self) -> &[f64] {
        &self.medium_power
    }

    /// The programme's long-term spectrum: the sum of the frame powers of
    /// every gated second since reset, per FFT bin (full-scale² · frames),
    /// and the number of those frames.
    pub fn programme_power(&self) -> (&[f64], u64) {
        (&self.programme_power, self.programme_frames)
    }

    /// The cross-spectra of the first two channels (stereo input only).
    pub fn stereo_spectra(&self) -> Option<&StereoSpectra> {
        self.stereo.as_ref()
    }

    /// FFT bin spacing, Hz.
    pub fn bin_hz(&self) -> f64 {
        self.bin_hz
    }

    /// Sample rate, Hz.
    pub fn sample_rate_hz(&self) -> f64 {
        self.sample_rate_hz
    }

    /// Sums `power · scale` over each band's FFT bins.
    fn bands(&self, power: &[f64], scale: f64) -> BandLevels {
        let mut db = [FLOOR_DB; BANDS];
        for (out, span) in db.iter_mut().zip(&self.band_spans) {
            *out = power_to_db(span.power(power) * scale);
        }
        BandLevels {
            sub_db: db[0],
            bass_db: db[1],
            low_mid_db: db[2],
            mid_db: db[3],
            high_mid_db: db[4],
            presence_db: db[5],
            air_db: db[6],
        }
    }
}

/// Mean square (full-scale²) to dB re the power of a full-scale sine (0.5),
/// floored at [`FLOOR_DB`].
#[inline]
fn power_to_db(mean_square: f64) -> f32 {
    let relative = 2.0 * mean_square;
    if relative > 1.0e-15 {
        ((10.0 * relative.log10()) as f32).max(FLOOR_DB)
    } else {
        FLOOR_DB
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::{Noise, RATES};

    fn sine(freq: f64, amp: f64, fs: f32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| (amp * (std::f64::consts::TAU * freq * n as f64 / f64::from(fs)).sin()) as f32)
            .collect()
    }

    fn feed(an: &mut SpectrumAnalyzer, signal: &[f32], block: usize) {
        for chunk in signal.chunks(block) {
            an.process(&[chunk]);
        }
    }

    fn bands_array(b: BandLevels) -> [f32; 7] {
        [
            b.sub_db,
            b.bass_db,
            b.low_mid_db,
            b.mid_db,
            b.high_mid_db,
            b.presence_db,
            b.air_db,
        ]
    }

    fn band_of(freq: f64) -> Option<usize> {
        (0..BANDS).find(|&b| freq >= BAND_EDGES_HZ[b] && freq < BAND_EDGES_HZ[b + 1])
    }

    #[test]
    fn fft_sizes_follow_the_sample_rate() {
        let expected = [
            (22_050.0, 2048),
            (44_100.0, 4096),
            (48_000.0, 4096),
            (88_200.0, 8192),
            (96_000.0, 8192),
            (176_400.0, 16384),
            (192_000.0, 16384),
            (384_000.0, 32768),
        ];
        for (fs, n) in expected {
            let an = SpectrumAnalyzer::new(fs, 1);
            assert_eq!(an.fft_size(), n, "fs {fs}");
            assert_eq!(an.hop_size(), n / 2);
        }
    }

    #[test]
    fn centres_are_sixth_octaves_covering_20_hz_to_20_khz() {
        let c = SpectrumAnalyzer::sixth_octave_centres_hz();
        assert_eq!(c.len(), SIXTH_OCTAVE_BINS);
        for (i, &f) in c.iter().enumerate() {
            let k = i as i32 - 34;
            let exact = 1000.0 * 2f64.powf(f64::from(k) / 6.0);
            // f32 rounding: relative error ≤ 2^-24 ≈ 6e-8.
            assert!(
                (f64::from(f) - exact).abs() <= exact * 1.2e-7,
                "k {k}: {f} vs {exact}"
            );
        }
        let step = 2f64.powf(1.0 / 12.0);
        assert!(f64::from(c[0]) / step <= 20.0 && f64::from(c[0]) * step > 20.0);
        let top = f64::from(c[SIXTH_OCTAVE_BINS - 1]);
        assert!(top / step <= 20_000.0 && top * step > 20_000.0);
    }

    /// Frames start after N samples and follow every N/2.
    #[test]
    fn frame_count() {
        let mut an = SpectrumAnalyzer::new(48_000.0, 1);
        let n = an.fft_size();
        feed(&mut an, &vec![0.1; n - 1], 100);
        assert_eq!(an.frames_analysed(), 0);
        feed(&mut an, &[0.1], 1);
        assert_eq!(an.frames_analysed(), 1);
        feed(&mut an, &vec![0.1; 5 * n / 2], 333);
        assert_eq!(an.frames_analysed(), 6);
    }

    /// A full-scale sine at a 1/6-octave centre reads 0 dB (±0.2 dB) in its
    /// bin and in its band, live and long term, at every rate. The bin
    /// tolerance covers the Hann side lobes falling outside the bin (the
    /// main lobe, ±2 FFT bins, lies inside for f ≥ 500 Hz) and f32 FFT
    /// rounding (≈ 1e-6 relative).
    #[test]
    fn sine_reads_zero_db_in_its_bin_and_band() {
        let centres = SpectrumAnalyzer::sixth_octave_centres_hz();
        for fs in RATES {
            for k in [-5i32, 0, 7, 10, 16, 22, 26] {
                let bin = (k + 34) as usize;
                let freq = f64::from(centres[bin]);
                if freq * 2f64.powf(1.0 / 12.0) >= f64::from(fs) / 2.0 {
                    continue;
                }
                let mut an = SpectrumAnalyzer::new(fs, 1);
                let len = an.fft_size() * 4;
                feed(&mut an, &sine(freq, 1.0, fs, len), 512);
                let live = an.sixth_octave_db()[bin];
                let long = an.long_term_sixth_octave_db()[bin];
                assert!(live.abs() < 0.2, "fs {fs} f {freq}: live {live} dB");
                assert!(long.abs() < 0.2, "fs {fs} f {freq}: long-term {long} dB");
                // Neighbours two bins away hold only side-lobe leakage.
                for other in [bin.saturating_sub(2), (bin + 2).min(SIXTH_OCTAVE_BINS - 1)] {
                    if other != bin {
                        assert!(
                            an.long_term_sixth_octave_db()[other] < -25.0,
                            "fs {fs} f {freq}"
                        );
                    }
                }
                // Band check only where the main lobe (±2 FFT bins) and the
                // strongest side lobes lie inside one band.
                let margin = 4.0 * f64::from(fs) / an.fft_size() as f64;
                let Some(band) = band_of(freq) else { continue };
                if Some(band) != band_of(freq - margin) || Some(band) != band_of(freq + margin) {
                    continue;
                }
                let long_bands = bands_array(an.long_term_bands());
                let live_bands = bands_array(an.live_bands());
                assert!(
                    long_bands[band].abs() < 0.2,
                    "fs {fs} f {freq}: {long_bands:?}"
                );
                assert!(
                    live_bands[band].abs() < 0.2,
                    "fs {fs} f {freq}: {live_bands:?}"
                );
            }
        }
    }

    /// Sines well inside each band (off any bin centre) read 0 dB ±0.2 dB
    /// there, scaled by their level: a −20 dB sine reads −20 dB.
    #[test]
    fn sine_reads_its_level_in_each_band() {
        let inside = [37.0, 141.0, 363.0, 1017.0, 3271.0, 6450.0, 13_100.0];
        for fs in RATES {
            for (band, &freq) in inside.iter().enumerate() {
                if freq + 100.0 >= f64::from(fs) / 2.0 {
                    continue;
                }
                let mut an = SpectrumAnalyzer::new(fs, 1);
                let len = an.fft_size() * 6;
                feed(&mut an, &sine(freq, 0.1, fs, len), 4096);
                let got = bands_array(an.long_term_bands());
                assert!((got[band] + 20.0).abs() < 0.2, "fs {fs} f {freq}: {got:?}");
            }
        }
    }

    /// Resolution limit, documented in the module docs: below ≈ 500 Hz the
    /// 1/6-octave bins are narrower than the Hann main lobe. The sum of the
    /// bins around the sine still reads 0 dB (energy is conserved), the peak
    /// bin reads lower.
    #[test]
    fn sine_reading_below_the_resolution_limit() {
        let fs = 48_000.0;
        let centres = SpectrumAnalyzer::sixth_octave_centres_hz();
        for bin in [8usize, 10, 16, 22] {
            let freq = f64::from(centres[bin]);
            let mut an = SpectrumAnalyzer::new(fs, 1);
            let len = an.fft_size() * 4;
            feed(&mut an, &sine(freq, 1.0, fs, len), 1024);
            let db = an.long_term_sixth_octave_db();
            let total: f64 = db.iter().map(|&d| 10f64.powf(f64::from(d) / 10.0)).sum();
            let total_db = 10.0 * total.log10();
            // Side lobes below −100 dB add nothing; the f32 FFT adds ≈ 1e-6.
            assert!(total_db.abs() < 0.01, "f {freq}: total {total_db} dB");
            assert!(db[bin] <= 0.01 && db[bin] > -12.0, "f {freq}: {}", db[bin]);
        }
    }

    /// White noise of known RMS: every band and every 1/6-octave bin reads
    /// its share `σ² · B / (fs/2)` of the power (B = bandwidth below Nyquist).
    ///
    /// Tolerance: the long-term mean over F frames of the power in a band
    /// spanning M FFT bins has a relative standard deviation of
    /// `1.43/√(M·F)`: a single periodogram bin of noise is exponentially
    /// distributed (relative σ 1); Hann-windowed neighbouring bins have power
    /// correlation (2/3)² and next-neighbours (1/6)², so a sum of M bins has
    /// variance ≈ 1.94·M; 50 % overlapping Hann frames add a factor 1.06
    /// (Welch 1967, table 1); √(1.94·1.06) = 1.43. Bins narrower than one FFT
    /// bin fluctuate like one bin (M = 1). The tolerance is 4 σ (in dB,
    /// 4.34·relative σ) plus 0.01 dB; the signal is fixed (seeded), so the
    /// test is deterministic.
    #[test]
    fn white_noise_band_powers() {
        for fs in [22_050.0f32, 48_000.0, 96_000.0] {
            let mut an = SpectrumAnalyzer::new(fs, 1);
            let n = an.fft_size() as f64;
            let len = (fs * 10.0) as usize;
            let mut noise = Noise(0x1234_5678_9abc_def1);
            let sig: Vec<f32> = (0..len).map(|_| (0.5 * noise.next()) as f32).collect();
            let ms: f64 = sig.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / len as f64;
            feed(&mut an, &sig, 777);
            let frames = an.frames_analysed() as f64;

            let bin_hz = f64::from(fs) / n;
            let nyquist = f64::from(fs) / 2.0;
            let check = |lo: f64, hi: f64, got: f32, what: &str| {
                let hi = hi.min(nyquist);
                if lo >= hi {
                    assert_eq!(got, FLOOR_DB, "fs {fs} {what}");
                    return;
                }
                let expected = 10.0 * (2.0 * ms * (hi - lo) / nyquist).log10();
                let m = ((hi - lo) / bin_hz).max(1.0);
                let tol =
                    4.0 * 10.0 * std::f64::consts::LOG10_E * 1.43 / (m * frames).sqrt() + 0.01;
                let err = f64::from(got) - expected;
                assert!(err.abs() < tol, "fs {fs} {what}: err {err} dB, tol {tol}");
            };
            let got = bands_array(an.long_term_bands());
            for band in 0..BANDS {
                let (lo, hi) = (BAND_EDGES_HZ[band], BAND_EDGES_HZ[band + 1]);
                check(lo, hi, got[band], &format!("band {band}"));
            }
            let step = 2f64.powf(1.0 / 12.0);
            for (&c, &got) in SpectrumAnalyzer::sixth_octave_centres_hz()
                .iter()
                .zip(an.long_term_sixth_octave_db())
            {
                let c = f64::from(c);
                check(c / step, c * step, got, &format!("bin {c} Hz"));
            }
        }
    }

    /// Least-squares slope, dB per octave, of the long-term 1/6-octave
    /// spectrum between 100 Hz and 10 kHz.
    fn slope_db_per_octave(an: &SpectrumAnalyzer) -> f64 {
        let pts: Vec<(f64, f64)> = SpectrumAnalyzer::sixth_octave_centres_hz()
            .iter()
            .zip(an.long_term_sixth_octave_db())
            .filter(|(&c, _)| (100.0..=10_000.0).contains(&c))
            .map(|(&c, &d)| (f64::from(c).log2(), f64::from(d)))
            .collect();
        let n = pts.len() as f64;
        let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
        let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
        let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        sxy / sxx
    }

    /// White noise has constant power per Hz, so constant-relative-width bins
    /// rise by 3.01 dB per octave; pink noise (−3 dB/octave density, Paul
    /// Kellett's refined filter, musicdsp.org "Pink noise filter", accurate to
    /// ±0.05 dB above 9.2 Hz at 44.1 kHz) reads flat. Tolerance ±0.3
    /// dB/octave: the fit spans 6.6 octaves (40 bins), so bin scatter of
    /// ≈ 0.3 dB moves the slope by well under 0.1 dB/octave.
    #[test]
    fn white_rises_three_db_per_octave_pink_is_flat() {
        let fs = 44_100.0;
        let len = (fs * 10.0) as usize;
        let mut noise = Noise(0xdead_beef_cafe_f00d);
        let white: Vec<f32> = (0..len).map(|_| (0.3 * noise.next()) as f32).collect();
        let mut b = [0.0f64; 7];
        let pink: Vec<f32> = (0..len)
            .map(|_| {
                let w = noise.next();
                b[0] = 0.99886 * b[0] + w * 0.055_517_9;
                b[1] = 0.99332 * b[1] + w * 0.075_075_9;
                b[2] = 0.969 * b[2] + w * 0.153_852;
                b[3] = 0.8665 * b[3] + w * 0.310_485_6;
                b[4] = 0.55 * b[4] + w * 0.532_952_2;
                b[5] = -0.7616 * b[5] - w * 0.016_898;
                let out = b[..6].iter().sum::<f64>() + b[6] + w * 0.5362;
                b[6] = w * 0.115_926;
                (0.05 * out) as f32
            })
            .collect();
        let mut an_w = SpectrumAnalyzer::new(fs, 1);
        feed(&mut an_w, &white, 4096);
        let mut an_p = SpectrumAnalyzer::new(fs, 1);
        feed(&mut an_p, &pink, 4096);
        let sw = slope_db_per_octave(&an_w);
        let sp = slope_db_per_octave(&an_p);
        assert!((sw - 3.0103).abs() < 0.3, "white slope {sw}");
        assert!(sp.abs() < 0.3, "pink slope {sp}");
    }

    /// One frame of an arbitrary two-channel signal against a naive f64 DFT
    /// per windowed channel (powers averaged), integrated over bands and 1/6-octave
    /// bins in the test. Tolerance 0.01 dB: the f32 FFT's relative error
    /// (≈ 1e-6 · log2 N) is far below; bins more than 100 dB down (where f32
    /// rounding of the input matters) are skipped.
    #[test]
    fn bands_match_a_naive_dft() {
        let fs = 22_050.0f32;
        let mut an = SpectrumAnalyzer::new(fs, 2);
        let n = an.fft_size();
        let mut noise = Noise(99);
        let left: Vec<f32> = (0..n)
            .map(|i| (0.3 * (0.021 * i as f64).sin() + 0.1 * noise.next()) as f32)
            .collect();
        let right: Vec<f32> = (0..n)
            .map(|i| (0.2 * (0.45 * i as f64).cos() + 0.2 * noise.next()) as f32)
            .collect();
        an.process(&[&left, &right]);
        assert_eq!(an.frames_analysed(), 1);

        let hann = |i: usize| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos();
        let sum_w2: f64 = (0..n).map(|i| hann(i).powi(2)).sum();
        let power_of = |channel: &[f32]| -> Vec<f64> {
            let x: Vec<f64> = (0..n).map(|i| hann(i) * f64::from(channel[i])).collect();
            (0..=n / 2)
                .map(|k| {
                    let (mut re, mut im) = (0.0, 0.0);
                    for (i, &xi) in x.iter().enumerate() {
                        let ph = std::f64::consts::TAU * (k * i % n) as f64 / n as f64;
                        re += xi * ph.cos();
                        im -= xi * ph.sin();
                    }
                    let c = if k == 0 || k == n / 2 { 1.0 } else { 2.0 };
                    c * (re * re + im * im) / (n as f64 * sum_w2)
                })
                .collect()
        };
        // The channels' power spectra, averaged.
        let power: Vec<f64> = power_of(&left)
            .iter()
            .zip(power_of(&right))
            .map(|(a, b)| 0.5 * (a + b))
            .collect();
        // Power in [lo, hi]: bin k covers [(k−½)Δf, (k+½)Δf] ∩ [0, fs/2].
        let bin_hz = f64::from(fs) / n as f64;
        let nyquist = f64::from(fs) / 2.0;
        let integrate = |lo: f64, hi: f64| -> f64 {
            let hi = hi.min(nyquist);
            power
                .iter()
                .enumerate()
                .map(|(k, &p)| {
                    let b_lo = ((k as f64 - 0.5) * bin_hz).max(0.0);
                    let b_hi = ((k as f64 + 0.5) * bin_hz).min(nyquist);
                    p * (hi.min(b_hi) - lo.max(b_lo)).max(0.0) / (b_hi - b_lo)
                })
                .sum()
        };
        let compare = |got: f32, p: f64, what: &str| {
            let e = 10.0 * (2.0 * p).log10();
            if p <= 0.0 {
                assert_eq!(got, FLOOR_DB, "{what}");
            } else if e > -100.0 {
                assert!((f64::from(got) - e).abs() < 0.01, "{what}: {got} vs {e}");
            }
        };
        let got = bands_array(an.long_term_bands());
        for b in 0..BANDS {
            let p = integrate(BAND_EDGES_HZ[b], BAND_EDGES_HZ[b + 1]);
            compare(got[b], p, &format!("band {b}"));
        }
        let step = 2f64.powf(1.0 / 12.0);
        for (&c, &got) in SpectrumAnalyzer::sixth_octave_centres_hz()
            .iter()
            .zip(an.long_term_sixth_octave_db())
        {
            let c = f64::from(c);
            compare(got, integrate(c / step, c * step), &format!("bin {c} Hz"));
        }
        assert_eq!(an.long_term_bands(), an.live_bands());
        assert_eq!(an.long_term_sixth_octave_db(), an.sixth_octave_db());
    }

    /// The live average follows a level change with a 0.3 s time constant;
    /// the long-term average is the plain mean.
    #[test]
    fn live_average_time_constant() {
        let fs = 48_000.0;
        let mut an = SpectrumAnalyzer::new(fs, 1);
        let hop = an.hop_size();
        let loud = sine(1000.0, 1.0, fs, 40 * hop + hop);
        feed(&mut an, &loud, 512);
        assert!(an.live_bands().mid_db.abs() < 0.01);
        // Then silence: after the frames overlapping the tone are past, the
        // live power decays by exp(−t/0.3 s), i.e. 4.343/0.3 dB per second.
        let frames_before = an.frames_analysed();
        feed(&mut an, &vec![0.0; 2 * hop], 512);
        let a = an.live_bands().mid_db;
        feed(&mut an, &vec![0.0; 10 * hop], 512);
        let b = an.live_bands().mid_db;
        let seconds = 10.0 * hop as f64 / f64::from(fs);
        let expected = -10.0 * std::f64::consts::LOG10_E * seconds / LIVE_TIME_CONSTANT_S;
        assert!(
            (f64::from(b - a) - expected).abs() < 0.01,
            "{} vs {expected}",
            b - a
        );
        // Long term: the plain mean of 40 tone frames, one half-tone frame
        // and 11 silent ones. A frame half filled with the tone holds a
        // fraction Σ_{n<N/2} w²/Σ w² = 1/2 of its power (Hann symmetry).
        assert_eq!(an.frames_analysed(), frames_before + 12);
        let expected_long = 10.0 * (40.5f64 / 52.0).log10();
        let long = f64::from(an.long_term_bands().mid_db);
        // The half frame's spectrum is smeared by the truncation; ±0.05 dB.
        assert!(
            (long - expected_long).abs() < 0.05,
            "{long} vs {expected_long}"
        );
    }

    #[test]
    fn silence_reads_the_floor() {
        for fs in RATES {
            let mut an = SpectrumAnalyzer::new(fs, 2);
            assert!(an.sixth_octave_db().iter().all(|&d| d == FLOOR_DB));
            assert_eq!(an.long_term_bands(), BandLevels::FLOOR);
            let z = vec![0.0f32; an.fft_size() * 3];
            an.process(&[&z, &z]);
            assert_eq!(an.frames_analysed(), 5);
            assert!(an.sixth_octave_db().iter().all(|&d| d == FLOOR_DB));
            assert!(an
                .long_term_sixth_octave_db()
                .iter()
                .all(|&d| d == FLOOR_DB));
            assert_eq!(an.long_term_bands(), BandLevels::FLOOR);
            assert_eq!(an.live_bands(), BandLevels::FLOOR);
        }
    }

    #[test]
    fn bins_above_nyquist_read_the_floor() {
        let fs = 22_050.0;
        let mut an = SpectrumAnalyzer::new(fs, 1);
        let mut noise = Noise(7);
        let sig: Vec<f32> = (0..an.fft_size() * 4)
            .map(|_| (0.5 * noise.next()) as f32)
            .collect();
        feed(&mut an, &sig, 64);
        let step = 2f64.powf(1.0 / 12.0);
        for (&c, &d) in SpectrumAnalyzer::sixth_octave_centres_hz()
            .iter()
            .zip(an.sixth_octave_db())
        {
            if f64::from(c) / step >= 11_025.0 {
                assert_eq!(d, FLOOR_DB, "{c} Hz");
            } else {
                assert!(d > -60.0, "{c} Hz: {d}");
            }
        }
    }

    fn snapshot(an: &SpectrumAnalyzer) -> (u64, Vec<f32>, Vec<f32>, BandLevels, BandLevels) {
        (
            an.frames_analysed(),
            an.sixth_octave_db().to_vec(),
            an.long_term_sixth_octave_db().to_vec(),
            an.long_term_bands(),
            an.live_bands(),
        )
    }

    fn test_signal(len: usize, fs: f32) -> (Vec<f32>, Vec<f32>) {
        let mut noise = Noise(42);
        let l = (0..len)
            .map(|i| {
                let t = i as f64 / f64::from(fs);
                (0.4 * (std::f64::consts::TAU * 97.0 * t).sin() + 0.2 * noise.next()) as f32
            })
            .collect();
        let r = (0..len)
            .map(|i| {
                let t = i as f64 / f64::from(fs);
                (0.3 * (std::f64::consts::TAU * 3001.0 * t).sin() + 0.1 * noise.next()) as f32
            })
            .collect();
        (l, r)
    }

    /// Results are bit-identical whatever the block size.
    #[test]
    fn block_size_invariance() {
        for fs in [22_050.0, 48_000.0, 384_000.0] {
            let len = SpectrumAnalyzer::fft_size_for(fs) * 5 + 123;
            let (l, r) = test_signal(len, fs);
            let mut reference = None;
            for block in [1usize, 7, 64, 512, 4096] {
                let mut an = SpectrumAnalyzer::new(fs, 2);
                for (cl, cr) in l.chunks(block).zip(r.chunks(block)) {
                    an.process(&[cl, cr]);
                }
                let snap = snapshot(&an);
                assert!(snap.0 >= 9);
                match &reference {
                    None => reference = Some(snap),
                    Some(r) => assert_eq!(&snap, r, "fs {fs} block {block}"),
                }
            }
        }
    }

    #[test]
    fn reset_equals_fresh() {
        let fs = 48_000.0;
        let (l, r) = test_signal(20_000, fs);
        let mut used = SpectrumAnalyzer::new(fs, 2);
        used.process(&[&r, &l]);
        used.process(&[&l[..1000], &r[..1000]]);
        used.reset();
        assert_eq!(used.frames_analysed(), 0);
        let mut fresh = SpectrumAnalyzer::new(fs, 2);
        assert_eq!(snapshot(&used), snapshot(&fresh));
        used.process(&[&l, &r]);
        fresh.process(&[&l, &r]);
        assert_eq!(snapshot(&used), snapshot(&fresh));
    }

    /// NaN and ±Inf count as 0.0: the result equals feeding zeros there.
    #[test]
    fn non_finite_input_does_not_poison() {
        let fs = 48_000.0;
        let (mut l, r) = test_signal(30_000, fs);
        let mut zeroed = l.clone();
        for (i, bad) in [
            (10, f32::NAN),
            (5000, f32::INFINITY),
            (9000, f32::NEG_INFINITY),
        ] {
            l[i] = bad;
            zeroed[i] = 0.0;
        }
        let mut a = SpectrumAnalyzer::new(fs, 2);
        a.process(&[&l, &r]);
        let mut b = SpectrumAnalyzer::new(fs, 2);
        b.process(&[&zeroed, &r]);
        assert_eq!(snapshot(&a), snapshot(&b));
        let s = snapshot(&a);
        assert!(s.1.iter().chain(&s.2).all(|d| d.is_finite()));
        // A block of nothing but NaN reads as silence.
        let mut c = SpectrumAnalyzer::new(fs, 1);
        c.process(&[&vec![f32::NAN; 20_000]]);
        assert!(c.sixth_octave_db().iter().all(|&d| d == FLOOR_DB));
    }

    /// More slices than configured: the extra ones are ignored; a mono
    /// analyser fed the same signal on two slices reads the same.
    #[test]
    fn extra_channels_are_ignored() {
        let fs = 48_000.0;
        let (l, _) = test_signal(10_000, fs);
        let mut two = SpectrumAnalyzer::new(fs, 2);
        two.process(&[&l, &l]);
        let mut one = SpectrumAnalyzer::new(fs, 1);
        one.process(&[&l, &vec![0.0; 10_000]]);
        assert_eq!(snapshot(&one), snapshot(&two));
    }
}
