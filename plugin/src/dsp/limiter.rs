//! Look-ahead, true-peak-aware brickwall limiter for the end of the mastering
//! chain.
//!
//! # Signal flow (stereo-linked)
//!
//! ```text
//! x ─► drive ─► band limit ─► u ─────────────────► delay D ───────────► × g ─► y
//!                (< 0.45·fs)   │                                        ▲
//!                              └► detector ─► required ─► hold ─► release ─► box mean
//!                  (×4 + vertex,  reduction  (sliding  (exp.)   (length W)
//!                   max over ch.)            max, H)
//! ```
//!
//! ## Band limit
//!
//! A finite look-ahead can only predict the peaks of content it can
//! interpolate from a few samples. Content within ~0.01·fs of fs/2 (hard
//! clipping, aliasing) has an ideal reconstruction that depends on samples
//! far away (sinc tails fall as 1/t): without a band limit, clipped white
//! noise limited to the ceiling measured up to +1.27 dB over it by an ideal
//! ×16 reconstruction. So the driven signal first passes a linear-phase
//! low-pass, a Kaiser-windowed sinc of [`BAND_LIMIT_TAPS`] = 73 taps (β =
//! 5.65, −6 dB at 0.465·fs): flat within ±0.01 dB to 0.44·fs (19.4 kHz at
//! 44.1 kHz, 21.1 kHz at 48 kHz), at least 56 dB down from 0.49·fs. Its
//! delay of [`BAND_LIMIT_DELAY`] = 36 samples adds to the latency. This is
//! what an oversampled limiter's decimation filter does too. Below the
//! threshold the limiter is this low-pass and a delay; switched off (in the
//! engine) it is a plain delay, bit-exact.
//!
//! ## Detector
//!
//! Each channel's driven signal `u` is interpolated at `L` = 4 points per
//! sample period ([`OVERSAMPLING_FACTOR`]) by a Kaiser-windowed-sinc Nyquist
//! interpolator, the design of `meter::true_peak` (P. P. Vaidyanathan,
//! *Multirate Systems and Filter Banks*, 1993, §4.6.1; J. F. Kaiser, Proc.
//! IEEE ISCAS 1974): 32 taps per phase, β = 5, each phase normalised to unit
//! DC gain, folded by symmetry (60 multiplies per sample). Its error for a
//! tone up to 0.45·fs is at most 4.6e-3 (0.04 dB).
//!
//! `L` is 4 at *every* sample rate, not only below 96 kHz as BS.1770-5
//! Annex 2 allows for metering: a limiter must hold its ceiling for any
//! content up to 0.45·fs, and at `L` = 2 even the refined estimate below
//! misses a tone at 0.45·fs by 0.72 dB (0.15 dB at 0.3·fs). The cost per
//! sample is the same at every rate.
//!
//! A grid of `L` points per period misses crests between its points by up
//! to `1 − cos(π·f/L)` (0.55 dB at 0.45·fs), so each grid point is refined
//! by quadratic (parabolic) interpolation through it and its two grid
//! neighbours — the three-point vertex formula of J. O. Smith, *Spectral
//! Audio Signal Processing*, "Quadratic Interpolation of Spectral Peaks",
//! applied in time:
//!
//! ```text
//! crest ≈ b + (a − c)² / (8·(2b − a − c)),   used when |a − c| ≤ 2b − a − c
//! ```
//!
//! (`a`, `b`, `c` sign-flipped so that `b ≥ 0`; the condition says the
//! parabola's vertex lies within half a grid step of `b`, so `b` is a local
//! maximum and the correction is at most `(2b − a − c)/8`; otherwise `|b|`).
//! For a tone it never over-reads, and under-reads by at most 0.010 dB at
//! 0.3·fs, 0.049 dB at 0.45·fs and 0.074 dB at fs/2. The detector value of
//! sample `m` is the largest estimate over `m, m + 1/4, m + 1/2, m + 3/4`;
//! the stereo link takes the larger of the two channels. Interpolating needs
//! 16 samples of the future, so the detector runs [`DETECTOR_DELAY`] samples
//! behind the input. Measured against tone crests from 0.01 to 0.45·fs:
//! −0.042 … +0.039 dB.
//!
//! ## Gain computer
//!
//! Two stages, "hold, then box filter" (G. Luff, *Designing a
//! straightforward limiter*, Signalsmith Audio blog, 2022), with the smooth
//! release of the decoupled peak detector of D. Giannoulis, M. Massberg and
//! J. D. Reiss, "Digital Dynamic Range Compressor Design — A Tutorial and
//! Analysis", JAES 60(6), 2012, applied to the gain:
//!
//! 1. required reduction `q_r = 1 − min(1, T / peak)`, threshold
//!    `T` = ceiling − [`SAFETY_MARGIN_DB`] (0.05 dB);
//! 2. hold: sliding maximum of `q_r` over `H = W + 2K` samples by the
//!    monotonic deque of D. Lemire, "Streaming maximum-minimum filter using
//!    no more than three comparisons per element", Nordic J. Computing
//!    13(4), 2006 ([`SlidingMax`]: O(1) amortised, preallocated) — the
//!    sliding minimum of the required gain `1 − q_r`;
//! 3. release: instant attack, exponential return towards the held value
//!    with time constant `release_ms`, in the linear reduction `1 − g`;
//! 4. box (moving-average) filter of length `W`: the attack is a linear ramp
//!    of `W` samples.
//!
//! A peak at detector sample `p` holds `q ≥ q_r(p)` over `[p, p + H)`; every
//! box window inside that span averages to at least `q_r(p)`, so the gain
//! is at most `T / peak` for all the `2K + 1` samples `p − K ..= p + K`
//! ([`HOLD_GUARD_SAMPLES`], `K` = 4): the interpolated output around the
//! peak is the interpolated input times one gain, which is what bounds the
//! output's *true* peak, not only its samples. The gain reaches its target
//! by the time the peak arrives and never sooner than the ramp allows.
//! All of it runs in f64.
//!
//! ## Latency
//!
//! The band limit's 36 samples plus the look-ahead `D = round(1.5 ms · fs)`
//! ([`LOOKAHEAD_SECONDS`]; 66 samples at 44.1 kHz, 72 at 48 kHz, 144 at
//! 96 kHz, 288 at 192 kHz): 102, 108, 180 and 324 samples (2.3, 2.25, 1.9
//! and 1.7 ms). It depends on the sample rate only. It is the detector's 16 plus the box filter's `W − 1` plus the
//! guard `K`, so `W = D − 16 − K + 1` (47, 53, 125, 269 samples, 1.07 …
//! 1.40 ms of attack ramp).
//!
//! ## Parameters
//!
//! Drive, ceiling and release move along 20 ms linear ramps ([`LinearRamp`],
//! per sample; the derived coefficients in f64, recomputed only while a ramp
//! moves). The drive acts before the detector and the delay, the ceiling at
//! the detector, so both are looked ahead with the signal and no move lets
//! a peak through.
//!
//! ## What "true peak" means here
//!
//! The output's true peak stays within 0.1 dB of the ceiling by the BS.1770
//! meter (`meter::true_peak`) and by an ideal ×16 (FFT) reconstruction —
//! measured at 44.1 to 192 kHz over band-limited programme (clipped noise,
//! squares, fs/4 sines at 45°, impulse trains, tone bursts, +20 dB
//! overdrive: at most 0.02 dB *under* the ceiling) and over full-band
//! torture signals (hard-clipped white noise, naive squares with content up
//! to fs/2: at most +0.03 dB by the ×16 reference).
//!
//! Non-finite input samples are processed as 0.0; finite ones are clipped
//! to ±1e6 (+120 dBFS) after the drive.

// The detector interpolates with the true-peak meter's filter (32-tap
// Kaiser-windowed sinc per branch, β = 5), so both read peaks alike.
use crate::dsp::cpu::Avx;
use crate::dsp::smoothing::LinearRamp;
use crate::meter::true_peak::{branch_taps, kaiser_low_pass, TAPS_PER_PHASE};

/// Look-ahead of the gain computer, in seconds; rounded to samples. The
/// latency is this plus the band-limiting low-pass's [`BAND_LIMIT_DELAY`].
pub const LOOKAHEAD_SECONDS: f32 = 0.0015;

/// Taps of the linear-phase low-pass that band-limits the limiter's input to
/// below 0.45·fs (odd; the same at every sample rate).
pub const BAND_LIMIT_TAPS: usize = 73;

/// Delay of the band-limiting low-pass, in samples.
pub const BAND_LIMIT_DELAY: usize = (BAND_LIMIT_TAPS - 1) / 2;

/// −6 dB point of the band-limiting low-pass, as a fraction of the sample
/// rate: midway between its passband edge (0.45) and fs/2.
const BAND_LIMIT_CUTOFF: f64 = 0.465;

/// Kaiser window parameter of the band-limiting low-pass: β = 0.1102·(A −
/// 8.7) for A = 60 dB stopband attenuation (J. F. Kaiser, 1974).
const BAND_LIMIT_BETA: f64 = 5.65;

/// Detection threshold below the ceiling, in dB: covers the detector's
/// residual under-reading (interpolation filter and vertex estimate, ≤ 0.09
/// dB for a tone at 0.45·fs) together with the 0.1 dB tolerance the output's
/// true peak is specified to.
pub const SAFETY_MARGIN_DB: f32 = 0.05;

/// Interpolated points per sample period in the detector (`L`), at every
/// sample rate.
pub const OVERSAMPLING_FACTOR: usize = 4;

/// Tap pairs of a folded symmetric branch.
const TAP_PAIRS: usize = TAPS_PER_PHASE / 2;

/// Delay of the detector behind the newest input sample, in samples (T/2).
pub const DETECTOR_DELAY: usize = TAPS_PER_PHASE / 2;

/// Samples either side of a detected peak that get the peak's full gain
/// reduction (`K`).
pub const HOLD_GUARD_SAMPLES: usize = 4;

/// Shortest box filter (attack ramp) in samples; only reached below
/// ~28 kHz, where the latency is raised to keep it.
const MIN_RAMP_SAMPLES: usize = 8;

/// Frames processed per internal pass; bounds the scratch buffers.
const CHUNK_FRAMES: usize = 256;

/// Consecutive detector outputs computed together (one accumulator block).
const LANES: usize = 16;

/// Largest magnitude accepted after the drive, linear full scale
/// (+120 dBFS); finite samples beyond it are clipped so no sum overflows.
const INPUT_LIMIT: f32 = 1.0e6;

/// Length of the parameter ramps, in seconds.
const PARAM_RAMP_SECONDS: f32 = 0.020;

/// Below this distance from its target (in linear gain) the release snaps
/// to the target, so a released limiter returns to a gain of exactly 1.
const RELEASE_SNAP: f64 = 1.0e-9;

/// Largest channel count the limiter is specified for.
const MAX_CHANNELS: usize = 2;

/// Drive range, in dB.
const DRIVE_RANGE_DB: (f32, f32) = (0.0, 24.0);

/// Ceiling range, in dBTP.
const CEILING_RANGE_DBTP: (f32, f32) = (-3.0, -0.1);

/// Release range, in ms.
const RELEASE_RANGE_MS: (f32, f32) = (10.0, 1000.0);

/// Limiter settings (plain values; out-of-range values are clamped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterParams {
    /// Input gain into the limiter, in dB, 0 ..= +24, default 0.
    pub drive_db: f32,
    /// Output ceiling, in dBTP (true peak, dB re full scale), −3.0 ..= −0.1,
    /// default −1.0.
    pub ceiling_dbtp: f32,
    /// Release time constant, in ms, 10 ..= 1000, default 100: the time in
    /// which the remaining linear reduction `1 − g` falls to 1/e.
    pub release_ms: f32,
}

impl Default for LimiterParams {
    fn default() -> Self {
        Self {
            drive_db: 0.0,
            ceiling_dbtp: -1.0,
            release_ms: 100.0,
        }
    }
}

impl LimiterParams {
    /// The same settings with every field clamped to its range (NaN falls
    /// back to the default).
    fn clamped(&self) -> Self {
        let defaults = Self::default();
        let clamp = |value: f32, (low, high): (f32, f32), default: f32| {
            if value.is_nan() {
                default
            } else {
                value.clamp(low, high)
            }
        };
        Self {
            drive_db: clamp(self.drive_db, DRIVE_RANGE_DB, defaults.drive_db),
            ceiling_dbtp: clamp(self.ceiling_dbtp, CEILING_RANGE_DBTP, defaults.ceiling_dbtp),
            release_ms: clamp(self.release_ms, RELEASE_RANGE_MS, defaults.release_ms),
        }
    }
}

/// Sliding maximum over the last `window` values pushed (fewer at the
/// start), by Lemire's monotonic deque: O(1) amortised per value (each value
/// enters and leaves the deque once), storage preallocated in `new` and
/// never reallocated.
#[derive(Debug, Clone)]
pub struct SlidingMax {
    /// Ring storage of the deque's values, strictly decreasing from front to
    /// back, in the caller's unit; length a power of two > `window`.
    values: Vec<f64>,
    /// Ring storage of each value's push time, in pushes since reset.
    times: Vec<u64>,
    /// `values.len() − 1`, to wrap the counters below into ring indices.
    mask: usize,
    /// Front of the deque (the current maximum), as a counter (wrapping).
    head: usize,
    /// One past the back of the deque, as a counter (wrapping).
    tail: usize,
    /// Window length, in pushes (at least 1).
    window: u64,
    /// Time stamp the next push gets, in pushes since reset.
    now: u64,
}

impl SlidingMax {
    /// An empty filter over `window` (at least 1) values.
    pub fn new(window: usize) -> Self {
        let window = window.max(1);
        // At most `window` values are live after a push, `window + 1`
        // during one.
        let capacity = (window + 1).next_power_of_two();
        Self {
            values: vec![0.0; capacity],
            times: vec![0; capacity],
            mask: capacity - 1,
            head: 0,
            tail: 0,
            window: window as u64,
            now: 0,
        }
    }

    /// Forgets every value pushed.
    pub fn reset(&mut self) {
        self.head = 0;
        self.tail = 0;
        self.now = 0;
    }

    /// Adds `value` (not NaN) and returns the maximum of the last `window`
    /// values pushed, this one included.
    #[inline]
    pub fn push(&mut self, value: f64) -> f64 {
        let mask = self.mask;
        let values = &mut self.values[..=mask];
        let times = &mut self.times[..=mask];
        let (mut head, mut tail, now) = (self.head, self.tail, self.now);
        // Values at the back that are not larger can never be the maximum
        // again: `value` outlives them.
        while tail != head && values[tail.wrapping_sub(1) & mask] <= value {
            tail = tail.wrapping_sub(1);
        }
        values[tail & mask] = value;
        times[tail & mask] = now;
        tail = tail.wrapping_add(1);
        // Time stamps increase by one per push, so at most the front expires.
        if times[head & mask] + self.window <= now {
            head = head.wrapping_add(1);
        }
        self.head = head;
        self.tail = tail;
        self.now = now + 1;
        values[head & mask]
    }

    /// Whether every value in the window is 0 (values are never negative).
    pub fn holds_only_zeros(&self) -> bool {
        self.head == self.tail || self.values[self.head & self.mask] == 0.0
    }

    /// The same as `count` calls of `push(0.0)` when
    /// [`Self::holds_only_zeros`]: one zero, pushed last, remains.
    pub fn push_zeros(&mut self, count: usize) {
        debug_assert!(self.holds_only_zeros());
        if count == 0 {
            return;
        }
        let last = self.now + count as u64 - 1;
        self.head = self.tail;
        self.values[self.tail & self.mask] = 0.0;
        self.times[self.tail & self.mask] = last;
        self.tail = self.tail.wrapping_add(1);
        self.now = last + 1;
    }
}

/// The folded interpolator coefficients (dimensionless), see the module docs.
#[derive(Debug, Clone)]
struct BranchTaps {
    /// Half-sample branch, coefficient of the pair sum `x_i + x_{T−1−i}`.
    half_pair: [f32; TAP_PAIRS],
    /// Quarter-sample branch, even part `(c_i + c_{T−1−i})/2`, coefficient of
    /// the pair sum.
    quarter_even: [f32; TAP_PAIRS],
    /// Quarter-sample branch, odd part `(c_i − c_{T−1−i})/2`, coefficient of
    /// the pair difference `x_i − x_{T−1−i}`.
    quarter_odd: [f32; TAP_PAIRS],
}

impl BranchTaps {
    fn new() -> Self {
        let half_branch = branch_taps(0.5);
        let quarter_branch = branch_taps(0.25);
        let mut taps = Self {
            half_pair: [0.0; TAP_PAIRS],
            quarter_even: [0.0; TAP_PAIRS],
            quarter_odd: [0.0; TAP_PAIRS],
        };
        for i in 0..TAP_PAIRS {
            let mirror = TAPS_PER_PHASE - 1 - i;
            taps.half_pair[i] = half_branch[i] as f32;
            taps.quarter_even[i] = (0.5 * (quarter_branch[i] + quarter_branch[mirror])) as f32;
            taps.quarter_odd[i] = (0.5 * (quarter_branch[i] - quarter_branch[mirror])) as f32;
        }
        taps
    }
}

/// The band-limiting low-pass folded by its symmetry.
#[derive(Debug, Clone)]
struct BandLimitTaps {
    /// Coefficient of the pair sum `x_k + x_{N−1−k}`, `k < (N − 1)/2`.
    pairs: [f32; BAND_LIMIT_DELAY],
    /// Coefficient of the centre sample.
    centre: f32,
}

impl BandLimitTaps {
    fn new() -> Self {
        let design = kaiser_low_pass(BAND_LIMIT_TAPS, BAND_LIMIT_CUTOFF, BAND_LIMIT_BETA);
        let mut pairs = [0.0; BAND_LIMIT_DELAY];
        for (pair, &coefficient) in pairs.iter_mut().zip(&design) {
            *pair = coefficient as f32;
        }
        Self {
            pairs,
            centre: design[BAND_LIMIT_DELAY] as f32,
        }
    }
}

/// What the per-channel kernels of a chunk work on.
struct ChunkKernels<'a> {
    /// See [`Limiter::band_limit_history`] (one channel).
    history: &'a [f32],
    /// See [`Limiter::buffers`] (one channel).
    buffer: &'a mut [f32],
    /// Look-ahead `D`, samples.
    lookahead: usize,
    /// Frames in the chunk.
    frames: usize,
    /// The band-limiting low-pass.
    band_limit: &'a BandLimitTaps,
    /// The detector's interpolator.
    taps: &'a BranchTaps,
    /// See [`Limiter::previous_point`] (one channel).
    previous: &'a mut f32,
    /// Detector peaks per frame, maxed into.
    peaks: &'a mut [f32],
}

/// Band-limits the chunk into the look-ahead buffer and runs the detector.
#[inline(always)]
fn chunk_kernels(chunk: ChunkKernels<'_>) {
    let ChunkKernels {
        history,
        buffer,
        lookahead,
        frames,
        band_limit,
        taps,
        previous,
        peaks,
    } = chunk;
    band_limit_chunk(
        history,
        frames,
        band_limit,
        &mut buffer[lookahead..lookahead + frames],
    );
    detect_chunk(buffer, lookahead, frames, taps, previous, peaks);
}

/// [`chunk_kernels`] compiled for AVX ([`crate::dsp::cpu`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn chunk_kernels_avx(chunk: ChunkKernels<'_>) {
    chunk_kernels(chunk);
}

/// Band-limits one channel's chunk: `output[i]` is the low-pass over
/// `history[i ..= i + N − 1]` (`N` = [`BAND_LIMIT_TAPS`]), whose newest
/// sample is the chunk's frame `i`. `history` holds `LANES` samples of slack
/// after the chunk for a partial last block.
#[inline(always)]
fn band_limit_chunk(history: &[f32], frames: usize, taps: &BandLimitTaps, output: &mut [f32]) {
    for block_start in (0..frames).step_by(LANES) {
        // One bounds check per block: every index below is known to fit.
        let window: &[f32; BAND_LIMIT_TAPS - 1 + LANES] = history
            [block_start..block_start + BAND_LIMIT_TAPS - 1 + LANES]
            .try_into()
            .expect("the window of a block of LANES outputs");
        let mut sum = [0.0_f32; LANES];
        for lane in 0..LANES {
            sum[lane] = taps.centre * window[BAND_LIMIT_DELAY + lane];
        }
        for (k, &tap) in taps.pairs.iter().enumerate() {
            for lane in 0..LANES {
                sum[lane] += tap * (window[k + lane] + window[BAND_LIMIT_TAPS - 1 - k + lane]);
            }
        }
        let count = LANES.min(frames - block_start);
        output[block_start..block_start + count].copy_from_slice(&sum[..count]);
    }
}

/// Estimated crest magnitude near grid point `b` from its neighbours `a`
/// and `c` on the oversampled grid: the vertex of the parabola through them
/// when `b` is the grid point nearest that vertex, else `|b|`. Never less
/// than `|b|`, and at most `|b| + (2|b| − a' − c')/8`.
#[inline(always)]
fn vertex_peak(a: f32, b: f32, c: f32) -> f32 {
    let flip = if b < 0.0 { -1.0 } else { 1.0 };
    let (a, b, c) = (a * flip, b * flip, c * flip);
    let curvature = 2.0 * b - a - c;
    let slope = a - c;
    let slope_squared = slope * slope;
    let correction = slope_squared / (8.0 * curvature.max(f32::MIN_POSITIVE));
    if curvature > 0.0 && slope_squared <= curvature * curvature {
        b + correction
    } else {
        b
    }
}

/// Replaces a non-finite sample by 0.0.
#[inline(always)]
fn sanitized(sample: f32) -> f32 {
    if sample.is_finite() {
        sample
    } else {
        0.0
    }
}

/// Look-ahead true-peak brickwall limiter, stereo-linked, for 1 or 2
/// planar channels.
#[derive(Debug, Clone)]
pub struct Limiter {
    /// Sample rate, in Hz.
    sample_rate_hz: f32,
    /// Channels allocated (1 or 2).
    channels: usize,
    /// Look-ahead `D` of the gain computer behind the band-limited signal,
    /// in samples; the latency is this plus [`BAND_LIMIT_DELAY`].
    lookahead: usize,
    /// Box filter (attack ramp) length `W`, in samples.
    ramp_len: usize,
    /// Parameter targets, clamped.
    params: LimiterParams,
    /// Drive, in dB, ramping per sample.
    drive_db: LinearRamp,
    /// Ceiling, in dBTP, ramping per sample.
    ceiling_db: LinearRamp,
    /// Release time constant, in ms, ramping per sample.
    release_ms: LinearRamp,
    /// Linear drive gain for the current `drive_db` value.
    drive_gain: f32,
    /// Detection threshold `T` (linear full scale) for the current ceiling:
    /// ceiling − [`SAFETY_MARGIN_DB`].
    threshold: f64,
    /// Release per-sample decay factor `exp(−1 / (τ·fs))` (dimensionless).
    release_decay: f64,
    /// Per channel: the driven signal (full scale), `latency` samples of
    /// history (oldest first) then the current chunk, then [`LANES`] samples
    /// of slack read (never used) by a partial accumulator block.
    buffers: Vec<Vec<f32>>,
    /// Per channel: the driven signal (full scale) before band-limiting,
    /// [`BAND_LIMIT_TAPS`] − 1 samples of history (oldest first) then the
    /// current chunk, then [`LANES`] samples of slack.
    band_limit_history: Vec<Vec<f32>>,
    /// The band-limiting low-pass.
    band_limit: BandLimitTaps,
    /// Whether the kernels run compiled for AVX ([`crate::dsp::cpu`]).
    avx: Option<Avx>,
    /// Whether a chunk with nothing to reduce may skip the per-frame gain
    /// computer (always, except in the test that compares both paths).
    idle_shortcut: bool,
    /// Chunks that took the idle shortcut since construction (a statistic).
    idle_chunks: u64,
    /// Per channel: the last interpolated point of the previous detector
    /// sample (phase `(L − 1)/L`), the left neighbour of the next sample for
    /// the vertex estimate; full scale.
    previous_point: Vec<f32>,
    /// Interpolator coefficients.
    taps: BranchTaps,
    /// Scratch: drive gain per frame of the chunk (linear).
    drive_scratch: Vec<f32>,
    /// Scratch: detector peak per frame of the chunk, largest over channels
    /// (linear full scale).
    peak_scratch: Vec<f32>,
    /// Scratch: gain per frame of the chunk (linear, 0 ..= 1).
    gain_scratch: Vec<f32>,
    /// Scratch: required linear reduction `1 − min(1, T/peak)` per frame of
    /// the chunk (0 ..< 1).
    required_scratch: Vec<f64>,
    /// Hold stage: sliding maximum of the required reduction over `H`.
    hold: SlidingMax,
    /// Release stage output: linear reduction `1 − g` before the box filter.
    release_state: f64,
    /// Box filter ring of the last `W` release outputs (linear reduction).
    box_ring: Vec<f64>,
    /// Next write position in `box_ring`.
    box_position: usize,
    /// Sum of `box_ring` (linear reduction · samples).
    box_sum: f64,
    /// Entries of `box_ring` that are not zero; while none are, `box_sum` is
    /// set to exactly 0 so rounding residue cannot build up.
    box_nonzero: usize,
    /// Smallest gain applied during the last `process` call (linear).
    min_gain: f32,
}

impl Limiter {
    /// Allocates for `channels` (1 or 2) at `sample_rate_hz`. `max_block` is
    /// accepted for the common API; any block length works (processing is
    /// chunked internally).
    pub fn new(sample_rate_hz: f32, max_block: usize, channels: usize) -> Self {
        let _ = max_block;
        debug_assert!(
            (1..=MAX_CHANNELS).contains(&channels),
            "Limiter: {channels} channels, expected 1..={MAX_CHANNELS}"
        );
        debug_assert!(
            sample_rate_hz.is_finite() && sample_rate_hz > 0.0,
            "Limiter: sample rate {sample_rate_hz}"
        );
        let channels = channels.max(1);
        let lookahead = ((LOOKAHEAD_SECONDS * sample_rate_hz).round() as usize)
            .max(DETECTOR_DELAY + HOLD_GUARD_SAMPLES + MIN_RAMP_SAMPLES - 1)
            .max(TAPS_PER_PHASE);
        let ramp_len = lookahead + 1 - DETECTOR_DELAY - HOLD_GUARD_SAMPLES;
        let hold_len = ramp_len + 2 * HOLD_GUARD_SAMPLES;
        let ramp_samples = LinearRamp::samples_for(PARAM_RAMP_SECONDS, sample_rate_hz);
        let params = LimiterParams::default();
        let mut limiter = Self {
            sample_rate_hz,
            channels,
            lookahead,
            ramp_len,
            params,
            drive_db: LinearRamp::new(params.drive_db, ramp_samples),
            ceiling_db: LinearRamp::new(params.ceiling_dbtp, ramp_samples),
            release_ms: LinearRamp::new(params.release_ms, ramp_samples),
            drive_gain: 1.0,
            threshold: 1.0,
            release_decay: 0.0,
            buffers: vec![vec![0.0; lookahead + CHUNK_FRAMES + LANES]; channels],
            band_limit_history: vec![
                vec![0.0; BAND_LIMIT_TAPS - 1 + CHUNK_FRAMES + LANES];
                channels
            ],
            band_limit: BandLimitTaps::new(),
            avx: Avx::detect(),
            idle_shortcut: true,
            idle_chunks: 0,
            previous_point: vec![0.0; channels],
            taps: BranchTaps::new(),
            drive_scratch: vec![1.0; CHUNK_FRAMES],
            peak_scratch: vec![0.0; CHUNK_FRAMES],
            gain_scratch: vec![1.0; CHUNK_FRAMES],
            required_scratch: vec![0.0; CHUNK_FRAMES],
            hold: SlidingMax::new(hold_len),
            release_state: 0.0,
            box_ring: vec![0.0; ramp_len],
            box_position: 0,
            box_sum: 0.0,
            box_nonzero: 0,
            min_gain: 1.0,
        };
        limiter.update_drive(params.drive_db);
        limiter.update_ceiling(params.ceiling_dbtp);
        limiter.update_release(params.release_ms);
        limiter
    }

    /// New parameter targets; the values ramp inside `process`.
    pub fn set_params(&mut self, params: &LimiterParams) {
        let params = params.clamped();
        self.params = params;
        self.drive_db.set_target(params.drive_db);
        self.ceiling_db.set_target(params.ceiling_dbtp);
        self.release_ms.set_target(params.release_ms);
    }

    /// Clears all signal state and jumps the parameters to their targets, as
    /// a fresh instance given the same `set_params`.
    pub fn reset(&mut self) {
        for buffer in self.buffers.iter_mut().chain(&mut self.band_limit_history) {
            buffer.fill(0.0);
        }
        self.previous_point.fill(0.0);
        self.hold.reset();
        self.release_state = 0.0;
        self.box_ring.fill(0.0);
        self.box_position = 0;
        self.box_sum = 0.0;
        self.box_nonzero = 0;
        self.min_gain = 1.0;
        self.drive_db.snap_to_target();
        self.ceiling_db.snap_to_target();
        self.release_ms.snap_to_target();
        self.update_drive(self.drive_db.value());
        self.update_ceiling(self.ceiling_db.value());
        self.update_release(self.release_ms.value());
    }

    /// Latency, in samples: the band limit's [`BAND_LIMIT_DELAY`] plus the
    /// look-ahead `round(1.5 ms · fs)`; depends on the sample rate only.
    pub fn latency_samples(&self) -> u32 {
        (self.lookahead + BAND_LIMIT_DELAY) as u32
    }

    /// Largest gain reduction applied during the last `process` call, in dB
    /// (≥ 0).
    pub fn gain_reduction_db(&self) -> f32 {
        (-20.0 * self.min_gain.log10()).max(0.0)
    }

    fn update_drive(&mut self, drive_db: f32) {
        self.drive_gain = drive_gain_for(drive_db);
    }

    fn update_ceiling(&mut self, ceiling_db: f32) {
        self.threshold = threshold_for(ceiling_db);
    }

    fn update_release(&mut self, release_ms: f32) {
        self.release_decay = release_decay_for(release_ms, self.sample_rate_hz);
    }

    /// Limits planar audio in place (one slice per channel, equal lengths,
    /// any length). Channels beyond those allocated are left untouched.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let used = channels.len().min(self.channels);
        self.min_gain = 1.0;
        if used == 0 {
            return;
        }
        let frames = channels[..used]
            .iter()
            .map(|channel| channel.len())
            .min()
            .unwrap_or(0);
        let mut start = 0;
        while start < frames {
            let end = (start + CHUNK_FRAMES).min(frames);
            self.process_chunk(&mut channels[..used], start, end);
            start = end;
        }
        if !(self.release_state.is_finite() && self.box_sum.is_finite()) {
            // Unreachable with sanitised input; kept as the house rule's
            // last line of defence.
            self.reset();
        }
    }

    /// One chunk of at most [`CHUNK_FRAMES`] frames, `[start, end)` of every
    /// channel.
    fn process_chunk(&mut self, channels: &mut [&mut [f32]], start: usize, end: usize) {
        let frames = end - start;
        let lookahead = self.lookahead;

        // Drive ramp, per frame.
        if self.drive_db.is_settled() {
            self.drive_scratch[..frames].fill(self.drive_gain);
        } else {
            for slot in &mut self.drive_scratch[..frames] {
                if !self.drive_db.is_settled() {
                    self.drive_gain = drive_gain_for(self.drive_db.advance());
                }
                *slot = self.drive_gain;
            }
        }

        // Driven input, band-limited, into each channel's buffer; detector
        // per channel, stereo-linked by the largest estimate.
        self.peak_scratch[..frames].fill(0.0);
        for (channel, samples) in channels.iter().enumerate() {
            let history = &mut self.band_limit_history[channel];
            for ((slot, &sample), &drive) in history[BAND_LIMIT_TAPS - 1..][..frames]
                .iter_mut()
                .zip(&samples[start..end])
                .zip(&self.drive_scratch[..frames])
            {
                *slot = (sanitized(sample) * drive).clamp(-INPUT_LIMIT, INPUT_LIMIT);
            }
            let buffer = &mut self.buffers[channel];
            let previous = &mut self.previous_point[channel];
            let peaks = &mut self.peak_scratch[..frames];
            let (band_limit, taps) = (&self.band_limit, &self.taps);
            let chunk = ChunkKernels {
                history,
                buffer,
                lookahead,
                frames,
                band_limit,
                taps,
                previous,
                peaks,
            };
            match self.avx {
                // SAFETY: an `Avx` exists only when the CPU supports AVX.
                #[cfg(target_arch = "x86_64")]
                Some(_) => unsafe { chunk_kernels_avx(chunk) },
                _ => chunk_kernels(chunk),
            }
            history.copy_within(frames..frames + BAND_LIMIT_TAPS - 1, 0);
        }

        // Required reduction per frame against the (ramping) threshold.
        let required = &mut self.required_scratch[..frames];
        if self.ceiling_db.is_settled() {
            let threshold = self.threshold;
            for (slot, &peak) in required.iter_mut().zip(&self.peak_scratch[..frames]) {
                *slot = required_reduction(threshold, peak);
            }
        } else {
            for (slot, &peak) in required.iter_mut().zip(&self.peak_scratch[..frames]) {
                if !self.ceiling_db.is_settled() {
                    let ceiling_db = self.ceiling_db.advance();
                    self.threshold = threshold_for(ceiling_db);
                }
                *slot = required_reduction(self.threshold, peak);
            }
        }

        // Nothing to reduce and nothing held or releasing: the gain is 1
        // throughout, and the gain computer's state only moves on in time.
        let idle = self.idle_shortcut
            && self.release_state == 0.0
            && self.box_nonzero == 0
            && self.release_ms.is_settled()
            && self.hold.holds_only_zeros()
            && self.required_scratch[..frames].iter().all(|&r| r == 0.0);
        if idle {
            self.idle_chunks += 1;
            self.hold.push_zeros(frames);
            self.box_position = (self.box_position + frames) % self.ramp_len;
            self.gain_scratch[..frames].fill(1.0);
        } else {
            self.compute_gains(frames);
        }

        // Delayed signal times gain; keep the last `lookahead` samples.
        for (channel, samples) in channels.iter_mut().enumerate() {
            let buffer = &mut self.buffers[channel];
            for ((out, &delayed), &gain) in samples[start..end]
                .iter_mut()
                .zip(&buffer[..frames])
                .zip(&self.gain_scratch[..frames])
            {
                *out = delayed * gain;
            }
            buffer.copy_within(frames..frames + lookahead, 0);
        }
    }

    /// Hold, release and box filter for the chunk's `frames` required
    /// reductions, per frame, into the gain scratch (state in locals so it
    /// stays in registers).
    fn compute_gains(&mut self, frames: usize) {
        let inverse_ramp_len = 1.0 / self.ramp_len as f64;
        let ramp_len = self.ramp_len;
        let mut min_gain = self.min_gain;
        let mut release_state = self.release_state;
        let mut position = self.box_position;
        let mut sum = self.box_sum;
        let mut nonzero = self.box_nonzero;
        let mut decay = self.release_decay;
        let box_ring = &mut self.box_ring[..ramp_len];
        for (&required, gain_slot) in self.required_scratch[..frames]
            .iter()
            .zip(&mut self.gain_scratch[..frames])
        {
            if !self.release_ms.is_settled() {
                decay = release_decay_for(self.release_ms.advance(), self.sample_rate_hz);
            }
            let held = self.hold.push(required);
            // Instant attack, exponential release towards the held value;
            // the last 1e-9 snaps so a released limiter ends at exactly 0.
            let released = held + (release_state - held) * decay;
            let released = if released - held < RELEASE_SNAP {
                held
            } else {
                released
            };
            release_state = if held >= release_state {
                held
            } else {
                released
            };
            let leaving = box_ring[position];
            box_ring[position] = release_state;
            position = if position + 1 == ramp_len {
                0
            } else {
                position + 1
            };
            nonzero = nonzero + usize::from(release_state != 0.0) - usize::from(leaving != 0.0);
            sum = if nonzero == 0 {
                0.0
            } else {
                sum + (release_state - leaving)
            };
            let gain = (1.0 - sum * inverse_ramp_len).clamp(0.0, 1.0) as f32;
            *gain_slot = gain;
            min_gain = min_gain.min(gain);
        }
        self.min_gain = min_gain;
        self.release_decay = decay;
        self.release_state = release_state;
        self.box_position = position;
        self.box_sum = sum;
        self.box_nonzero = nonzero;
    }
}

/// Linear drive gain for a drive in dB (exactly 1 at 0 dB).
fn drive_gain_for(drive_db: f32) -> f32 {
    10f64.powf(f64::from(drive_db) / 20.0) as f32
}

/// Per-sample release decay `exp(−1 / (τ·fs))` for a time constant in ms.
fn release_decay_for(release_ms: f32, sample_rate_hz: f32) -> f64 {
    let samples = f64::from(release_ms) * 1e-3 * f64::from(sample_rate_hz);
    (-1.0 / samples).exp()
}

/// Detection threshold `T` (linear full scale) for a ceiling in dBTP.
fn threshold_for(ceiling_db: f32) -> f64 {
    10f64.powf(f64::from(ceiling_db - SAFETY_MARGIN_DB) / 20.0)
}

/// Linear reduction `1 − min(1, T/peak)` that brings `peak` down to the
/// threshold `T` (0 for a peak at or below it, including 0).
#[inline(always)]
fn required_reduction(threshold: f64, peak: f32) -> f64 {
    let peak = f64::from(peak);
    if peak > threshold {
        1.0 - threshold / peak
    } else {
        0.0
    }
}

/// `max(a, b)` written so that it vectorises to a plain SIMD max (no NaN
/// can reach it: the detector's inputs are finite and bounded).
#[inline(always)]
fn max_of(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// Detector for one channel's chunk of `frames` (≤ [`CHUNK_FRAMES`]) frames:
/// for frame `i` (newest sample `buffer[latency + i]`) the crest estimate of
/// detector sample `m = n_i − 16` over the grid points `m, m + 1/4, m + 1/2,
/// m + 3/4`, maxed into `peaks[i]`. `previous` carries the point `m + 3/4`
/// of the chunk's last frame (the left neighbour of the next sample point).
#[inline(always)]
fn detect_chunk(
    buffer: &[f32],
    latency: usize,
    frames: usize,
    taps: &BranchTaps,
    previous: &mut f32,
    peaks: &mut [f32],
) {
    // Frame i's window is buffer[latency + i − 31 ..= latency + i]; its
    // sample point m is buffer[latency + i − 16]. Blocks of LANES frames;
    // the surplus lanes of a last, partial block read slack samples and are
    // discarded.
    let window_start = latency + 1 - TAPS_PER_PHASE;
    // The sample point m of lane 0 within a block's window.
    let centre = TAPS_PER_PHASE - 1 - DETECTOR_DELAY;
    for block_start in (0..frames).step_by(LANES) {
        // One bounds check per block: every index below is known to fit.
        let window: &[f32; TAPS_PER_PHASE - 1 + LANES] = buffer
            [window_start + block_start..window_start + block_start + TAPS_PER_PHASE - 1 + LANES]
            .try_into()
            .expect("the window of a block of LANES outputs");
        let mut half = [0.0_f32; LANES];
        let mut even = [0.0_f32; LANES];
        let mut odd = [0.0_f32; LANES];
        for i in 0..TAP_PAIRS {
            let (half_tap, even_tap, odd_tap) =
                (taps.half_pair[i], taps.quarter_even[i], taps.quarter_odd[i]);
            for lane in 0..LANES {
                let (oldest, newest) = (window[i + lane], window[TAPS_PER_PHASE - 1 - i + lane]);
                let pair_sum = oldest + newest;
                let pair_difference = oldest - newest;
                half[lane] += half_tap * pair_sum;
                even[lane] += even_tap * pair_sum;
                odd[lane] += odd_tap * pair_difference;
            }
        }
        // Branch 3/4 is branch 1/4 reversed: E + O and E − O.
        let mut quarter = [0.0_f32; LANES];
        let mut three_quarter = [0.0_f32; LANES];
        for lane in 0..LANES {
            quarter[lane] = even[lane] + odd[lane];
            three_quarter[lane] = even[lane] - odd[lane];
        }
        let mut before = [0.0_f32; LANES];
        before[0] = *previous;
        before[1..].copy_from_slice(&three_quarter[..LANES - 1]);
        let mut estimate = [0.0_f32; LANES];
        for lane in 0..LANES {
            let (q, h, t) = (quarter[lane], half[lane], three_quarter[lane]);
            let (here, next) = (window[centre + lane], window[centre + 1 + lane]);
            estimate[lane] = max_of(
                max_of(vertex_peak(before[lane], here, q), vertex_peak(here, q, h)),
                max_of(vertex_peak(q, h, t), vertex_peak(h, t, next)),
            );
        }
        let count = LANES.min(frames - block_start);
        for (peak, &value) in peaks[block_start..block_start + count]
            .iter_mut()
            .zip(&estimate)
        {
            *peak = max_of(*peak, value);
        }
        *previous = three_quarter[count - 1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::true_peak::TruePeakMeter;
    use crate::test_support::{
        fft_upsampled, Noise as TestRng, PROCESSOR_RATES as RATES, UPSAMPLE_MARGIN,
    };
    use std::f64::consts::PI;

    fn db(ratio: f64) -> f64 {
        20.0 * ratio.log10()
    }

    /// Runs planar `input` through `limiter` in blocks of `block` frames.
    fn run(limiter: &mut Limiter, input: &[Vec<f32>], block: usize) -> Vec<Vec<f32>> {
        let mut output = input.to_vec();
        let frames = output[0].len();
        let mut start = 0;
        while start < frames {
            let end = (start + block).min(frames);
            let mut slices: Vec<&mut [f32]> =
                output.iter_mut().map(|c| &mut c[start..end]).collect();
            limiter.process(&mut slices);
            start = end;
        }
        output
    }

    /// Peak of the band-limited (sinc) interpolation of `samples` on a ×16
    /// grid, by FFT zero-padding of the zero-extended signal (f64).
    fn fft_true_peak_x16(samples: &[f32]) -> f64 {
        fft_true_peak_x16_within(samples, 0..samples.len())
    }

    /// As [`fft_true_peak_x16`], over the interpolated points of the sample
    /// periods `range` only (the whole signal is interpolated, so a range
    /// does not cut the signal and add edge ringing).
    fn fft_true_peak_x16_within(samples: &[f32], range: std::ops::Range<usize>) -> f64 {
        let factor = 16;
        let upsampled = fft_upsampled(samples, factor);
        let (first, last) = (
            (UPSAMPLE_MARGIN + range.start) * factor,
            (UPSAMPLE_MARGIN + range.end) * factor,
        );
        upsampled[first..last]
            .iter()
            .fold(0.0_f64, |peak, &v| peak.max(v.abs()))
    }

    fn meter_true_peak(channels: &[Vec<f32>], sample_rate: f32) -> f64 {
        let mut meter = TruePeakMeter::new(sample_rate, channels.len());
        let slices: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
        // Flush the meter's 16-sample interpolation delay with silence.
        let tail = vec![0.0_f32; 64];
        let tails: Vec<&[f32]> = channels.iter().map(|_| tail.as_slice()).collect();
        f64::from(meter.process(&slices).max(meter.process(&tails)))
    }

    /// `samples` between 1024 zeros either side, band-limited to
    /// `cutoff` · fs by zeroing the FFT bins above it (the onset and end
    /// are band-limited too, ringing into the zeros).
    fn band_limited(samples: &[f64], cutoff: f64) -> Vec<f32> {
        let pad = 1024;
        let length = (samples.len() + 2 * pad).next_multiple_of(1024);
        let mut planner = realfft::RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(length);
        let inverse = planner.plan_fft_inverse(length);
        let mut time = forward.make_input_vec();
        time[pad..pad + samples.len()].copy_from_slice(samples);
        let mut spectrum = forward.make_output_vec();
        forward
            .process(&mut time, &mut spectrum)
            .expect("forward FFT");
        for (bin, value) in spectrum.iter_mut().enumerate() {
            if bin as f64 > cutoff * length as f64 {
                *value = realfft::num_complex::Complex::new(0.0, 0.0);
            }
        }
        let mut output = inverse.make_output_vec();
        inverse
            .process(&mut spectrum, &mut output)
            .expect("inverse FFT");
        output.iter().map(|&v| (v / length as f64) as f32).collect()
    }

    /// Gaussian noise at +12 dB RMS re full scale, hard clipped at ±1.
    fn clipped_noise(rng: &mut TestRng, frames: usize) -> Vec<f64> {
        (0..frames)
            .map(|_| (4.0 * rng.next_gaussian()).clamp(-1.0, 1.0))
            .collect()
    }

    /// Naive (full-band, aliased) square wave of `period` samples, ±1.
    fn naive_square(period: f64, offset: f64, frames: usize) -> Vec<f64> {
        (0..frames)
            .map(|n| {
                if ((n as f64 + offset) / period).fract() < 0.5 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect()
    }

    /// Band-limited square wave (odd harmonics below 0.45 · fs), scaled to a
    /// sample peak of 1 (full scale).
    fn band_limited_square(
        frequency_hz: f64,
        sample_rate: f64,
        phase: f64,
        frames: usize,
    ) -> Vec<f32> {
        let signal: Vec<f64> = (0..frames)
            .map(|n| {
                let mut value = 0.0;
                let mut k = 1.0;
                while k * frequency_hz < 0.45 * sample_rate {
                    value += (2.0 * PI * k * frequency_hz * n as f64 / sample_rate + k * phase)
                        .sin()
                        / k;
                    k += 2.0;
                }
                value
            })
            .collect();
        let peak = signal.iter().fold(0.0_f64, |p, v| p.max(v.abs()));
        signal.iter().map(|v| (v / peak) as f32).collect()
    }

    /// A programme for the property tests: name, stereo signal, drive in dB.
    type Programme = (String, Vec<Vec<f32>>, f32);

    /// Programmes band-limited to 0.45 · fs (or exact, like impulses),
    /// whose true peak the ×16 FFT reference defines unambiguously.
    fn band_limited_programmes(sample_rate: f32) -> Vec<Programme> {
        let rate = f64::from(sample_rate);
        let frames = (0.15 * rate) as usize;
        let mut rng = TestRng(0x1234_5678_9abc_def1);
        let mut list = Vec::new();
        let clipped = (0..2)
            .map(|_| band_limited(&clipped_noise(&mut rng, frames), 0.45))
            .collect();
        list.push(("clipped noise (band-limited)".to_string(), clipped, 0.0));
        for frequency_hz in [100.0, 997.0, 5_500.0] {
            let square = (0..2)
                .map(|c| band_limited_square(frequency_hz, rate, 0.7 * c as f64, frames))
                .collect();
            list.push((
                format!("square {frequency_hz} Hz (band-limited)"),
                square,
                0.0,
            ));
        }
        // fs/4 sine at 45°: samples at ±0.707·A, true peak A.
        for amplitude in [1.0_f64, 2.0] {
            let sine = (0..2)
                .map(|_| {
                    (0..frames)
                        .map(|n| (amplitude * (PI / 2.0 * n as f64 + PI / 4.0).cos()) as f32)
                        .collect()
                })
                .collect();
            list.push((format!("fs/4 at 45°, A = {amplitude}"), sine, 0.0));
        }
        // Impulse trains, alternating polarity: single full-scale impulses,
        // and equal-sign pairs at +20 dBFS (inter-sample peak 4/π, +2.1 dB
        // over the samples, right at the end of a 22 dB attack ramp).
        for (spacing, pair) in [(50_usize, false), (700, false), (50, true), (333, true)] {
            let amplitude = if pair { 10.0 } else { 1.0 };
            let train = (0..2)
                .map(|c| {
                    let mut signal = vec![0.0_f32; frames];
                    let mut sign = amplitude;
                    let mut n = 10 + 3 * c;
                    while n + 1 < frames {
                        signal[n] = sign;
                        if pair {
                            signal[n + 1] = sign;
                        }
                        sign = -sign;
                        n += spacing;
                    }
                    signal
                })
                .collect();
            let name = if pair {
                "+20 dBFS impulse pairs"
            } else {
                "impulses"
            };
            list.push((format!("{name} every {spacing}"), train, 0.0));
        }
        // Isolated short tone bursts (Hann-windowed, 24 samples, at 0.2 and
        // 0.4·fs) at +20 dBFS in silence: the gain falls by 20 dB along the
        // attack ramp right before each one, the steepest gain change the
        // limiter makes next to a peak.
        for frequency in [0.2_f64, 0.4] {
            let bursts = (0..2)
                .map(|c| {
                    let raw: Vec<f64> = (0..frames)
                        .map(|n| {
                            let k = (n + 37 * c) % 1000;
                            if k < 24 {
                                let window = 0.5 - 0.5 * (2.0 * PI * k as f64 / 24.0).cos();
                                10.0 * window * (2.0 * PI * frequency * n as f64 + 0.4).sin()
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    band_limited(&raw, 0.45)
                })
                .collect();
            list.push((format!("+20 dBFS bursts at {frequency}·fs"), bursts, 0.0));
        }
        // +20 dB overdrive: a −6 dBFS programme (12 tones up to 0.45·fs plus
        // noise, in bursts), band-limited, with 20 dB drive.
        let programme: Vec<Vec<f32>> = (0..2)
            .map(|_| {
                let tones: Vec<(f64, f64, f64)> = (0..12)
                    .map(|_| {
                        (
                            rng.next_unit(),
                            0.45 * rng.next_unit(),
                            2.0 * PI * rng.next_unit(),
                        )
                    })
                    .collect();
                let raw: Vec<f64> = (0..frames)
                    .map(|n| {
                        let envelope = if (n / 2000) % 3 == 0 { 1.0 } else { 0.3 };
                        let tone: f64 = tones
                            .iter()
                            .map(|&(a, f, p)| a * (2.0 * PI * f * n as f64 + p).cos())
                            .sum();
                        envelope * (tone + 2.0 * rng.next_gaussian())
                    })
                    .collect();
                band_limited(&raw, 0.45)
            })
            .collect();
        let peak = programme
            .iter()
            .flatten()
            .fold(0.0_f32, |p, &v| p.max(v.abs()));
        let overdrive = programme
            .iter()
            .map(|c| c.iter().map(|&v| v * 0.5 / peak).collect())
            .collect();
        list.push((
            "−6 dBFS programme, +20 dB drive".to_string(),
            overdrive,
            20.0,
        ));
        list
    }

    /// Full-band torture signals with content up to fs/2: clipped white
    /// noise and naive squares.
    fn full_band_programmes(sample_rate: f32) -> Vec<Programme> {
        let frames = (0.15 * f64::from(sample_rate)) as usize;
        let mut rng = TestRng(0x0bad_cafe_f00d_1234);
        let to_f32 = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
        let mut list = Vec::new();
        let clipped = (0..2)
            .map(|_| to_f32(clipped_noise(&mut rng, frames)))
            .collect();
        list.push(("clipped white noise".to_string(), clipped, 0.0));
        for period in [4.37, 37.0, 480.0] {
            let square = (0..2)
                .map(|c| to_f32(naive_square(period, 0.3 * c as f64, frames)))
                .collect();
            list.push((format!("naive square, period {period}"), square, 0.0));
        }
        list
    }

    /// Runs every programme at every ceiling; returns the worst excess of the
    /// output true peak over the ceiling in dB, (by the meter, by ×16 FFT).
    fn worst_excess(sample_rate: f32, programmes: Vec<Programme>) -> (f64, f64) {
        let mut worst = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for (name, signal, drive_db) in programmes {
            for ceiling in [-0.1_f32, -1.0, -3.0] {
                let mut limiter = Limiter::new(sample_rate, 512, 2);
                limiter.set_params(&LimiterParams {
                    drive_db,
                    ceiling_dbtp: ceiling,
                    release_ms: 50.0,
                });
                limiter.reset();
                let tail = limiter.latency_samples() as usize + 64;
                let input: Vec<Vec<f32>> = signal
                    .iter()
                    .map(|c| {
                        let mut padded = c.clone();
                        padded.extend(std::iter::repeat_n(0.0, tail));
                        padded
                    })
                    .collect();
                let output = run(&mut limiter, &input, 512);
                let by_meter = db(meter_true_peak(&output, sample_rate)) - f64::from(ceiling);
                let by_fft = output
                    .iter()
                    .map(|c| db(fft_true_peak_x16(c)))
                    .fold(f64::NEG_INFINITY, f64::max)
                    - f64::from(ceiling);
                println!(
                    "{sample_rate} Hz, ceiling {ceiling:+.1}, {name}: meter {by_meter:+.4} dB, x16 {by_fft:+.4} dB"
                );
                worst = (worst.0.max(by_meter), worst.1.max(by_fft));
            }
        }
        worst
    }

    fn ceiling_property_at(sample_rate: f32) {
        let strict = worst_excess(sample_rate, band_limited_programmes(sample_rate));
        let full_band = worst_excess(sample_rate, full_band_programmes(sample_rate));
        println!(
            "{sample_rate} Hz worst: band-limited meter {:+.4} dB, x16 {:+.4} dB; full-band meter {:+.4} dB, x16 {:+.4} dB",
            strict.0, strict.1, full_band.0, full_band.1
        );
        // The specification: the output's true peak, by the meter and by the
        // ×16 reference, at most 0.1 dB over the ceiling, for band-limited
        // programme and for full-band torture signals alike (the band-limit
        // low-pass removes what lies within 0.01·fs of fs/2, whose ideal
        // reconstruction no finite look-ahead predicts; without it clipped
        // white noise read +1.27 dB by the ×16 reference).
        assert!(strict.0 <= 0.1 && strict.1 <= 0.1);
        assert!(full_band.0 <= 0.1 && full_band.1 <= 0.1);
    }

    #[test]
    fn true_peak_stays_under_ceiling_44k1() {
        ceiling_property_at(44_100.0);
    }

    #[test]
    fn true_peak_stays_under_ceiling_48k() {
        ceiling_property_at(48_000.0);
    }

    #[test]
    fn true_peak_stays_under_ceiling_96k() {
        ceiling_property_at(96_000.0);
    }

    #[test]
    fn true_peak_stays_under_ceiling_192k() {
        ceiling_property_at(192_000.0);
    }

    // ---- Gain computer parts ----

    #[test]
    fn sliding_max_matches_a_naive_maximum() {
        let mut rng = TestRng(5);
        for window in [1_usize, 2, 3, 7, 16, 61, 277] {
            let mut filter = SlidingMax::new(window);
            let mut history: Vec<f64> = Vec::new();
            for step in 0..5_000 {
                // Coarse values so that ties are common, runs of rising and
                // falling values, and occasional resets.
                let value = match (step / 300) % 3 {
                    0 => (rng.next_unit() * 8.0).floor(),
                    1 => (step % 50) as f64,
                    _ => 100.0 - (step % 70) as f64,
                };
                if step == 2_500 {
                    filter.reset();
                    history.clear();
                }
                history.push(value);
                let from = history.len().saturating_sub(window);
                let naive = history[from..]
                    .iter()
                    .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                assert_eq!(filter.push(value), naive, "window {window}, step {step}");
            }
        }
    }

    #[test]
    fn vertex_estimate_of_a_sampled_cosine() {
        // A cosine sampled on the detector grid (step θ = 2π·f/4 for a tone
        // at f cycles per sample), crest δ after a grid point: the estimate
        // never exceeds the crest and misses it by at most the figures in
        // the module docs (0.049 dB at 0.45·fs, 0.074 dB at fs/2).
        for (frequency, bound_db) in [(0.1_f64, 0.002), (0.3, 0.010), (0.45, 0.049), (0.5, 0.074)] {
            let theta = 2.0 * PI * frequency / 4.0;
            let mut worst_db = 0.0_f64;
            for step in 0..=100 {
                let delta = theta * step as f64 / 100.0;
                // The grid points around the crest; the best of the three
                // estimates, as the detector takes the largest.
                let at = |k: f64| (k * theta - delta).cos() as f32;
                let estimate = [-1.0, 0.0, 1.0]
                    .iter()
                    .map(|&k| vertex_peak(at(k - 1.0), at(k), at(k + 1.0)))
                    .fold(0.0_f32, f32::max);
                let error_db = db(f64::from(estimate));
                assert!(error_db < 1e-5, "f {frequency}: over-reads {error_db} dB");
                worst_db = worst_db.min(error_db);
            }
            println!("vertex estimate at {frequency}·fs: worst {worst_db:+.4} dB");
            assert!(worst_db > -bound_db - 1e-3, "f {frequency}: {worst_db} dB");
        }
        // Degenerate neighbourhoods stay finite and never read below |b|.
        for (a, b, c) in [
            (0.0, 0.0, 0.0),
            (1.0, 1.0, 1.0),
            (-1.0, -1.0, -1.0),
            (0.5, -1.0, 0.5),
            (1e6, -1e6, 1e6),
            (0.0, 1e-30, 0.0),
        ] {
            let estimate = vertex_peak(a, b, c);
            assert!(
                estimate.is_finite() && estimate >= b.abs(),
                "{a} {b} {c}: {estimate}"
            );
        }
    }

    /// Runs the detector alone over a long mono signal; returns one estimate
    /// per detector sample `m` (index m).
    fn detector_values(signal: &[f32]) -> Vec<f32> {
        let limiter = Limiter::new(48_000.0, 512, 1);
        let latency = limiter.lookahead;
        let mut peaks = Vec::new();
        let mut buffer = vec![0.0_f32; latency + CHUNK_FRAMES + LANES];
        let mut previous = 0.0;
        let mut padded = signal.to_vec();
        padded.extend(std::iter::repeat_n(0.0, DETECTOR_DELAY));
        for chunk in padded.chunks(CHUNK_FRAMES) {
            buffer[latency..latency + chunk.len()].copy_from_slice(chunk);
            let mut chunk_peaks = vec![0.0_f32; chunk.len()];
            detect_chunk(
                &buffer,
                latency,
                chunk.len(),
                &limiter.taps,
                &mut previous,
                &mut chunk_peaks,
            );
            peaks.extend(chunk_peaks);
            buffer.copy_within(chunk.len()..chunk.len() + latency, 0);
        }
        // Frame n holds detector sample n − 16.
        peaks.split_off(DETECTOR_DELAY)
    }

    #[test]
    fn detector_reads_tone_crests_within_its_stated_error() {
        // Tones from 0.01 to 0.45·fs at several phases: over each sample
        // period [m, m + 1) the analytic crest vs the detector's values of
        // m − 1, m, m + 1 (a crest near a period's edge may be estimated from
        // the neighbouring sample's grid point; the hold covers ±4 samples).
        // Bounds: interpolation filter ≤ 4.6e-3 (0.040 dB, module docs of
        // meter::true_peak) plus the vertex estimate's 0.049 dB below; never
        // above the crest by more than the filter's 0.040 dB.
        let mut worst_low = 0.0_f64;
        let mut worst_high = f64::NEG_INFINITY;
        for step in 0..=45 {
            let frequency = 0.01 + 0.44 * step as f64 / 45.0;
            for phase in [0.0, 0.37, 1.1, 2.9] {
                let tone = |t: f64| 0.8 * (2.0 * PI * frequency * t + phase).cos();
                let samples: Vec<f32> = (0..600).map(|n| tone(n as f64) as f32).collect();
                let values = detector_values(&samples);
                for m in 64..500 {
                    let crest = (0..=64)
                        .map(|k| tone(m as f64 + k as f64 / 64.0).abs())
                        .fold(0.0_f64, f64::max);
                    let nearby = (m - 1..=m + 1)
                        .map(|k| f64::from(values[k]))
                        .fold(0.0_f64, f64::max);
                    worst_low = worst_low.min(db(nearby / crest));
                    worst_high = worst_high.max(db(f64::from(values[m]) / 0.8));
                }
            }
        }
        println!("detector vs tone crests: {worst_low:+.4} dB low at worst, {worst_high:+.4} dB high at worst");
        // The crest sits within 1/64 sample of the reference grid: its own
        // error is below 1 − cos(π·0.45/64) = 2.4e-4 (0.002 dB).
        assert!(worst_low > -0.09, "{worst_low}");
        assert!(worst_high < 0.041, "{worst_high}");
    }

    // ---- Timing ----

    /// The limiter's band-limiting low-pass (its f32 taps, all `N` of them).
    fn band_limit_taps() -> Vec<f32> {
        let folded = BandLimitTaps::new();
        let mut taps = folded.pairs.to_vec();
        taps.push(folded.centre);
        taps.extend(folded.pairs.iter().rev());
        taps
    }

    /// `input` through the band-limiting low-pass, causally (delay
    /// [`BAND_LIMIT_DELAY`]), summed in f64: an independent reference for
    /// the limiter's f32 lane-blocked filter.
    fn band_limit_reference(input: &[f32]) -> Vec<f64> {
        let taps = band_limit_taps();
        (0..input.len())
            .map(|n| {
                taps.iter()
                    .enumerate()
                    .filter(|&(k, _)| k <= n)
                    .map(|(k, &tap)| f64::from(tap) * f64::from(input[n - k]))
                    .sum()
            })
            .collect()
    }

    #[test]
    fn band_limit_response_meets_its_design() {
        // |H(f)| of the taps the limiter uses, by direct evaluation of the
        // DTFT: flat within ±0.01 dB to 0.44·fs (19.4 kHz at 44.1 kHz,
        // 21.1 kHz at 48 kHz), at least 55 dB down from 0.49·fs, so content
        // near fs/2, whose ideal reconstruction no finite look-ahead can
        // predict, is gone before detection. The design gives −0.005 …
        // +0.009 dB and −56.1 dB.
        let taps = band_limit_taps();
        let response_db = |f: f64| {
            let (mut re, mut im) = (0.0, 0.0);
            for (k, &tap) in taps.iter().enumerate() {
                let phase = 2.0 * PI * f * k as f64;
                re += f64::from(tap) * phase.cos();
                im -= f64::from(tap) * phase.sin();
            }
            db((re * re + im * im).sqrt())
        };
        for i in 0..=440 {
            let f = i as f64 * 0.001;
            let gain = response_db(f);
            assert!(gain.abs() <= 0.01, "passband {f}·fs: {gain:+.4} dB");
        }
        for i in 490..=500 {
            let f = i as f64 * 0.001;
            let gain = response_db(f);
            assert!(gain <= -55.0, "stopband {f}·fs: {gain:+.1} dB");
        }
        // The 6 dB point sits at the design cutoff.
        assert!((response_db(BAND_LIMIT_CUTOFF) + 6.02).abs() < 0.1);
    }

    #[test]
    fn latency_is_band_limit_plus_1_5_ms_and_an_impulse_proves_it() {
        for (sample_rate, expected) in [
            (44_100.0, 66 + 36),
            (48_000.0, 72 + 36),
            (96_000.0, 144 + 36),
            (192_000.0, 288 + 36),
        ] {
            let mut limiter = Limiter::new(sample_rate, 512, 2);
            assert_eq!(limiter.latency_samples(), expected, "{sample_rate}");
            // Parameters never move the latency.
            for params in [
                LimiterParams {
                    drive_db: 24.0,
                    ceiling_dbtp: -3.0,
                    release_ms: 10.0,
                },
                LimiterParams {
                    drive_db: 0.0,
                    ceiling_dbtp: -0.1,
                    release_ms: 1000.0,
                },
            ] {
                limiter.set_params(&params);
                assert_eq!(limiter.latency_samples(), expected);
            }
            limiter.set_params(&LimiterParams::default());
            limiter.reset();
            // A lone sample below the threshold comes out as the band-limit
            // low-pass's impulse response, exactly (each output sample is
            // one tap times the sample), centred on the latency: nothing
            // else comes out.
            let taps = band_limit_taps();
            let mut input = vec![vec![0.0_f32; 1000]; 2];
            input[0][100] = 0.5;
            input[1][100] = -0.25;
            let output = run(&mut limiter, &input, 64);
            let centre = 100 + expected as usize;
            for (channel, value) in [(0, 0.5_f32), (1, -0.25)] {
                for (n, &sample) in output[channel].iter().enumerate() {
                    let k = n as isize - (centre - BAND_LIMIT_DELAY) as isize;
                    let want = if (0..BAND_LIMIT_TAPS as isize).contains(&k) {
                        taps[k as usize] * value
                    } else {
                        0.0
                    };
                    assert_eq!(
                        sample, want,
                        "{sample_rate} Hz, channel {channel}, sample {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn below_threshold_the_limiter_is_its_band_limit_low_pass() {
        for sample_rate in RATES {
            let rate = f64::from(sample_rate);
            let frames = (0.3 * rate) as usize;
            let mut rng = TestRng(77);
            // Band-limited noise and tones peaking at −4 dBTP (measured by the
            // ×16 reference), under a −3 dBTP ceiling: no reduction at all.
            let raw: Vec<Vec<f64>> = (0..2)
                .map(|c| {
                    (0..frames)
                        .map(|n| {
                            0.3 * rng.next_gaussian()
                                + (2.0 * PI * (440.0 + 100.0 * c as f64) * n as f64 / rate).sin()
                        })
                        .collect()
                })
                .collect();
            let mut input: Vec<Vec<f32>> = raw.iter().map(|c| band_limited(c, 0.45)).collect();
            let peak = input
                .iter()
                .map(|c| fft_true_peak_x16(c))
                .fold(0.0, f64::max);
            let scale = (10f64.powf(-4.0 / 20.0) / peak) as f32;
            for channel in &mut input {
                for sample in channel.iter_mut() {
                    *sample *= scale;
                }
            }
            let mut limiter = Limiter::new(sample_rate, 512, 2);
            limiter.set_params(&LimiterParams {
                ceiling_dbtp: -3.0,
                ..LimiterParams::default()
            });
            limiter.reset();
            let output = run(&mut limiter, &input, 333);
            let lookahead = limiter.latency_samples() as usize - BAND_LIMIT_DELAY;
            for (output, input) in output.iter().zip(&input) {
                assert!(output[..lookahead].iter().all(|&s| s == 0.0));
                // The f32 filter against the f64 reference: 73 products of
                // magnitude < 0.7, rounded in f32 (2^-24 relative each).
                let reference = band_limit_reference(input);
                for (n, (&out, &want)) in output[lookahead..].iter().zip(&reference).enumerate() {
                    assert!(
                        (f64::from(out) - want).abs() < 2e-6,
                        "{sample_rate} Hz at {n}: {out} vs {want}"
                    );
                }
            }
            assert_eq!(limiter.gain_reduction_db(), 0.0);
        }
    }

    #[test]
    fn after_a_full_release_the_limiter_is_transparent_again() {
        // The release snaps the last 1e-9 of reduction, so after enough
        // time (ln(1e9) ≈ 21 time constants) the gain is exactly 1 again.
        let sample_rate = 48_000.0;
        let mut limiter = Limiter::new(sample_rate, 512, 1);
        limiter.set_params(&LimiterParams {
            release_ms: 10.0,
            ..LimiterParams::default()
        });
        limiter.reset();
        let loud: Vec<f32> = (0..4_800)
            .map(|n| (2.0 * (n as f64 * 0.05).sin()) as f32)
            .collect();
        run(&mut limiter, &[loud], 256);
        assert!(limiter.gain_reduction_db() > 6.0);
        let quiet: Vec<f32> = (0..20_000)
            .map(|n| (0.1 * (n as f64 * 0.05).sin()) as f32)
            .collect();
        let output = run(&mut limiter, std::slice::from_ref(&quiet), 256);
        let lookahead = limiter.latency_samples() as usize - BAND_LIMIT_DELAY;
        let reference = band_limit_reference(&quiet);
        // 21 τ = 210 ms = 10 080 samples, plus the hold and the box filter.
        // Gain 1 within the f32 filter's rounding (≤ 1e-6 of 0.1 full scale,
        // 0.0001 dB): the 1e-9 snap has released the last of the reduction.
        for n in 11_000..20_000 {
            let want = reference[n - lookahead];
            assert!(
                (f64::from(output[0][n]) - want).abs() < 1e-7,
                "{n}: {} vs {want}",
                output[0][n]
            );
        }
    }

    // ---- Static behaviour ----

    /// Steady tone through the limiter: (output true peak by ×16 FFT over
    /// the last half, gain reduction readout at the end), both in dB.
    fn steady_tone(
        sample_rate: f32,
        frequency_hz: f64,
        level_db: f64,
        params: LimiterParams,
    ) -> (f64, f64) {
        let rate = f64::from(sample_rate);
        let frames = (0.2 * rate) as usize;
        let amplitude = 10f64.powf(level_db / 20.0);
        // 10 ms raised-cosine fade-in: an abrupt onset rings above the
        // tone's amplitude and would leave a release tail.
        let fade = 0.01 * rate;
        let tone: Vec<f32> = (0..frames)
            .map(|n| {
                let envelope = if (n as f64) < fade {
                    0.5 - 0.5 * (PI * n as f64 / fade).cos()
                } else {
                    1.0
                };
                (envelope * amplitude * (2.0 * PI * frequency_hz * n as f64 / rate + 0.3).sin())
                    as f32
            })
            .collect();
        let mut limiter = Limiter::new(sample_rate, 512, 2);
        limiter.set_params(&params);
        limiter.reset();
        let output = run(&mut limiter, &[tone.clone(), tone], 512);
        (
            // Away from both ends, whose cuts ring in the reference.
            db(fft_true_peak_x16_within(
                &output[0],
                frames / 2..frames * 3 / 4,
            )),
            f64::from(limiter.gain_reduction_db()),
        )
    }

    #[test]
    fn static_curve_matches_the_design() {
        // Design: output true peak = min(input true peak + drive, T), with
        // T = ceiling − 0.05 dB; readout = max(0, input + drive − T).
        // Tones up to 0.35·fs: the detector reads them within 0.02 dB
        // (filter ≤ 0.015 dB up to 0.3·fs, vertex ≤ 0.02 dB at 0.35·fs), and
        // with several crests per hold window the gain settles at the
        // largest estimate; the ×16 reference reads within 0.005 dB of the
        // crest. Tolerance ±0.05 dB, measured below 0.03 dB.
        let mut worst = 0.0_f64;
        for sample_rate in RATES {
            for frequency_hz in [997.0, 5_000.0, 0.35 * f64::from(sample_rate)] {
                for (level_db, drive_db) in [
                    (-20.0, 0.0),
                    (-6.0, 0.0),
                    (-1.2, 0.0),
                    (-0.5, 0.0),
                    (3.0, 0.0),
                    (-10.0, 12.0),
                    (-6.0, 24.0),
                ] {
                    for ceiling in [-0.1_f32, -1.0, -3.0] {
                        let params = LimiterParams {
                            drive_db,
                            ceiling_dbtp: ceiling,
                            release_ms: 100.0,
                        };
                        let (out_db, reduction_db) =
                            steady_tone(sample_rate, frequency_hz, level_db, params);
                        let threshold_db = f64::from(ceiling - SAFETY_MARGIN_DB);
                        let driven_db = level_db + f64::from(drive_db);
                        let want_out = driven_db.min(threshold_db);
                        let want_reduction = (driven_db - threshold_db).max(0.0);
                        worst = worst
                            .max((out_db - want_out).abs())
                            .max((reduction_db - want_reduction).abs());
                        assert!(
                            (out_db - want_out).abs() < 0.05,
                            "{sample_rate} Hz, {frequency_hz} Hz, {level_db} dB + {drive_db} dB, ceiling {ceiling}: out {out_db:.4} dB, want {want_out:.4}"
                        );
                        assert!(
                            (reduction_db - want_reduction).abs() < 0.05,
                            "{sample_rate} Hz, {frequency_hz} Hz, {level_db} dB + {drive_db} dB, ceiling {ceiling}: reduction {reduction_db:.4} dB, want {want_reduction:.4}"
                        );
                    }
                }
            }
        }
        println!("static curve: worst deviation {worst:.4} dB");
    }

    #[test]
    fn stereo_link_applies_one_gain_to_both_channels() {
        let sample_rate = 48_000.0;
        let frames = 9_600;
        // Loud left, quiet right: the right channel is reduced by the left's
        // gain, sample by sample.
        let left: Vec<f32> = (0..frames)
            .map(|n| (2.0 * (n as f64 * 0.031).sin()) as f32)
            .collect();
        let right: Vec<f32> = (0..frames)
            .map(|n| (0.05 * (n as f64 * 0.17).cos() + 0.06) as f32)
            .collect();
        let mut limiter = Limiter::new(sample_rate, 512, 2);
        let output = run(&mut limiter, &[left.clone(), right.clone()], 100);
        let latency = limiter.latency_samples() as usize;
        let lookahead = latency - BAND_LIMIT_DELAY;
        let (filtered_left, filtered_right) =
            (band_limit_reference(&left), band_limit_reference(&right));
        let mut reduced = 0;
        for n in latency..frames {
            let (in_left, in_right) = (filtered_left[n - lookahead], filtered_right[n - lookahead]);
            if in_left.abs() > 0.05 && in_right.abs() > 0.03 {
                let gain_left = f64::from(output[0][n]) / in_left;
                let gain_right = f64::from(output[1][n]) / in_right;
                // Both are g·x, x from the f32 filter (within ~1e-7 of the
                // f64 reference) and rounded once: equal within 1e-5.
                assert!(
                    (gain_left - gain_right).abs() < 1e-5,
                    "{n}: {gain_left} vs {gain_right}"
                );
                if gain_right < 0.9 {
                    reduced += 1;
                }
            }
        }
        assert!(reduced > frames / 2);
    }

    #[test]
    fn release_time_constant_matches_the_setting() {
        // A burst 12 dB over the ceiling, then silence: once the hold and
        // the box filter have passed, the reduction 1 − g decays as
        // exp(−t/τ) (the box mean of an exponential is the same
        // exponential). τ measured from two points one τ apart, read with
        // 1-sample blocks and the gain-reduction readout.
        for sample_rate in RATES {
            for release_ms in [10.0_f32, 100.0, 1000.0] {
                let rate = f64::from(sample_rate);
                let mut limiter = Limiter::new(sample_rate, 512, 1);
                limiter.set_params(&LimiterParams {
                    release_ms,
                    ..LimiterParams::default()
                });
                limiter.reset();
                let burst: Vec<f32> = (0..(0.05 * rate) as usize)
                    .map(|n| (3.5 * (2.0 * PI * 1000.0 * n as f64 / rate).sin()) as f32)
                    .collect();
                run(&mut limiter, &[burst], 64);
                let tau = f64::from(release_ms) * 1e-3 * rate;
                let settle = limiter.latency_samples() as usize
                    + limiter.ramp_len
                    + 2 * HOLD_GUARD_SAMPLES
                    + 10;
                let total = settle + tau.round() as usize + 1;
                let mut reduction = Vec::with_capacity(total);
                for _ in 0..total {
                    let mut sample = [0.0_f32];
                    limiter.process(&mut [&mut sample[..]]);
                    reduction
                        .push(1.0 - 10f64.powf(-f64::from(limiter.gain_reduction_db()) / 20.0));
                }
                let (first, second) = (reduction[settle], reduction[settle + tau.round() as usize]);
                let measured = tau.round() / (first / second).ln() / rate * 1e3;
                println!("{sample_rate} Hz, release {release_ms} ms: measured τ {measured:.2} ms");
                assert!(
                    (measured / f64::from(release_ms) - 1.0).abs() < 0.10,
                    "{sample_rate} Hz: release {release_ms} ms measured {measured} ms"
                );
            }
        }
    }

    // ---- Automation, block size, reset, robustness ----

    /// Runs `input` in blocks of `block`, applying each `(position, params)`
    /// of `schedule` exactly at its sample position.
    fn run_scheduled(
        limiter: &mut Limiter,
        input: &[Vec<f32>],
        block: usize,
        schedule: &[(usize, LimiterParams)],
    ) -> Vec<Vec<f32>> {
        let mut output = input.to_vec();
        let frames = output[0].len();
        let mut start = 0;
        let mut next_change = 0;
        while start < frames {
            while next_change < schedule.len() && schedule[next_change].0 <= start {
                limiter.set_params(&schedule[next_change].1);
                next_change += 1;
            }
            let mut end = (start + block).min(frames);
            if next_change < schedule.len() {
                end = end.min(schedule[next_change].0.max(start + 1));
            }
            let mut slices: Vec<&mut [f32]> =
                output.iter_mut().map(|c| &mut c[start..end]).collect();
            limiter.process(&mut slices);
            start = end;
        }
        output
    }

    fn test_programme(sample_rate: f32, frames: usize, seed: u64) -> Vec<Vec<f32>> {
        let rate = f64::from(sample_rate);
        let mut rng = TestRng(seed);
        (0..2)
            .map(|c| {
                let raw: Vec<f64> = (0..frames)
                    .map(|n| {
                        let burst = if (n / 3000) % 2 == 0 { 1.0 } else { 0.2 };
                        burst
                            * (0.25 * rng.next_gaussian()
                                + 0.6
                                    * (2.0 * PI * (220.0 + 110.0 * c as f64) * n as f64 / rate)
                                        .sin())
                    })
                    .collect();
                band_limited(&raw, 0.45)
            })
            .collect()
    }

    #[test]
    fn output_does_not_depend_on_block_size() {
        let schedule = [
            (
                0,
                LimiterParams {
                    drive_db: 6.0,
                    ceiling_dbtp: -1.0,
                    release_ms: 50.0,
                },
            ),
            (
                4_001,
                LimiterParams {
                    drive_db: 18.0,
                    ceiling_dbtp: -3.0,
                    release_ms: 10.0,
                },
            ),
            (
                9_999,
                LimiterParams {
                    drive_db: 0.0,
                    ceiling_dbtp: -0.1,
                    release_ms: 1000.0,
                },
            ),
            (
                15_000,
                LimiterParams {
                    drive_db: 24.0,
                    ceiling_dbtp: -0.5,
                    release_ms: 200.0,
                },
            ),
        ];
        for sample_rate in RATES {
            let input = test_programme(sample_rate, 20_000, 3);
            let max_block = 4_096;
            let reference = run_scheduled(
                &mut Limiter::new(sample_rate, max_block, 2),
                &input,
                1,
                &schedule,
            );
            for block in [7, 64, 255, 256, 257, 512, max_block, 20_000] {
                let output = run_scheduled(
                    &mut Limiter::new(sample_rate, max_block, 2),
                    &input,
                    block,
                    &schedule,
                );
                for (channel, (out, want)) in output.iter().zip(&reference).enumerate() {
                    for (n, (a, b)) in out.iter().zip(want).enumerate() {
                        assert_eq!(
                            a.to_bits(),
                            b.to_bits(),
                            "{sample_rate} Hz, block {block}, channel {channel}, sample {n}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn avx_and_baseline_kernels_give_identical_output() {
        let Some(avx) = Avx::detect() else {
            println!("no AVX on this CPU: only the baseline kernels exist here");
            return;
        };
        for sample_rate in RATES {
            let input = test_programme(sample_rate, 20_000, 5);
            let mut outputs = Vec::new();
            for kernels in [None, Some(avx)] {
                let mut limiter = Limiter::new(sample_rate, 512, 2);
                limiter.avx = kernels;
                limiter.set_params(&LimiterParams {
                    drive_db: 12.0,
                    ..LimiterParams::default()
                });
                limiter.reset();
                outputs.push(run(&mut limiter, &input, 300));
            }
            for (baseline, wide) in outputs[0].iter().zip(&outputs[1]) {
                for (a, b) in baseline.iter().zip(wide) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{sample_rate} Hz");
                }
            }
        }
    }

    #[test]
    fn the_idle_shortcut_equals_the_per_frame_gain_computer() {
        // Quiet and loud stretches, so chunks switch between the shortcut
        // and the per-frame path at many phases of the hold and release.
        let sample_rate = 48_000.0;
        let mut rng = TestRng(31);
        let input: Vec<Vec<f32>> = (0..2)
            .map(|_| {
                (0..60_000)
                    .map(|n| {
                        // 15 000 quiet samples (over 21 release time
                        // constants, so the gain returns to exactly 1),
                        // then 3 000 loud ones.
                        let loud = (n / 3_000) % 6 == 5;
                        let level = if loud { 1.5 } else { 0.1 };
                        (level * rng.next_gaussian()) as f32
                    })
                    .collect()
            })
            .collect();
        let mut outputs = Vec::new();
        for shortcut in [true, false] {
            let mut limiter = Limiter::new(sample_rate, 512, 2);
            limiter.idle_shortcut = shortcut;
            limiter.set_params(&LimiterParams {
                release_ms: 10.0,
                ..LimiterParams::default()
            });
            limiter.reset();
            outputs.push(run(&mut limiter, &input, 97));
            assert_eq!(
                limiter.idle_chunks > 50,
                shortcut,
                "{}",
                limiter.idle_chunks
            );
        }
        for (a, b) in outputs[0].iter().zip(&outputs[1]) {
            for (n, (x, y)) in a.iter().zip(b).enumerate() {
                assert_eq!(x.to_bits(), y.to_bits(), "sample {n}");
            }
        }
    }

    #[test]
    fn reset_equals_a_fresh_instance() {
        for sample_rate in [44_100.0, 96_000.0] {
            let other = test_programme(sample_rate, 7_000, 8);
            let programme = test_programme(sample_rate, 9_000, 9);
            let params = LimiterParams {
                drive_db: 9.0,
                ceiling_dbtp: -2.0,
                release_ms: 30.0,
            };
            // Used: other settings, other audio, then the target settings set
            // mid-ramp, then reset.
            let mut used = Limiter::new(sample_rate, 512, 2);
            used.set_params(&LimiterParams {
                drive_db: 20.0,
                ceiling_dbtp: -0.1,
                release_ms: 900.0,
            });
            run(&mut used, &other, 512);
            used.set_params(&params);
            run(
                &mut used,
                &other[..1]
                    .iter()
                    .chain(&other[1..])
                    .map(|c| c[..100].to_vec())
                    .collect::<Vec<_>>(),
                50,
            );
            used.reset();
            let mut fresh = Limiter::new(sample_rate, 512, 2);
            fresh.set_params(&params);
            fresh.reset();
            let a = run(&mut used, &programme, 300);
            let b = run(&mut fresh, &programme, 300);
            assert_eq!(a, b, "{sample_rate} Hz");
            // A fresh instance with no settings is the default instance.
            let mut used_default = Limiter::new(sample_rate, 512, 2);
            run(&mut used_default, &other, 512);
            used_default.set_params(&LimiterParams::default());
            used_default.reset();
            let c = run(&mut used_default, &programme, 300);
            let d = run(&mut Limiter::new(sample_rate, 512, 2), &programme, 300);
            assert_eq!(c, d);
        }
    }

    /// Largest sample-to-sample step of `signal[range]`.
    fn largest_step(signal: &[f32], range: std::ops::Range<usize>) -> f64 {
        signal[range]
            .windows(2)
            .map(|w| f64::from((w[1] - w[0]).abs()))
            .fold(0.0, f64::max)
    }

    #[test]
    fn parameter_jumps_do_not_click() {
        // A 200 Hz tone, whose own step per sample is small (2·sin(π·200/fs)
        // of its amplitude: 0.026 at 48 kHz), limited in at least one of the
        // two settings. Each parameter jumps from min to max and back in one
        // step. The gain moves along 20 ms ramps and the limiter's box-filter
        // ramp, so the largest output step during the change stays within
        // 1.5 × the largest steady-state step before or after (measured up
        // to 1.15 ×); an instant 0.5 dB gain step at a crest would add 0.06
        // of the amplitude, 2.3 × the tone's own step, and fail this.
        for sample_rate in RATES {
            let rate = f64::from(sample_rate);
            let frames = (0.6 * rate) as usize;
            let change = (0.3 * rate) as usize;
            let base = LimiterParams {
                drive_db: 0.0,
                ceiling_dbtp: -3.0,
                release_ms: 100.0,
            };
            let cases = [
                (
                    "drive",
                    0.25,
                    LimiterParams {
                        drive_db: 0.0,
                        ..base
                    },
                    LimiterParams {
                        drive_db: 24.0,
                        ..base
                    },
                ),
                (
                    "ceiling",
                    0.95,
                    LimiterParams {
                        ceiling_dbtp: -3.0,
                        ..base
                    },
                    LimiterParams {
                        ceiling_dbtp: -0.1,
                        ..base
                    },
                ),
                (
                    "release",
                    1.5,
                    LimiterParams {
                        release_ms: 10.0,
                        ..base
                    },
                    LimiterParams {
                        release_ms: 1000.0,
                        ..base
                    },
                ),
            ];
            for (name, amplitude, low, high) in cases {
                for (from, to) in [(low, high), (high, low)] {
                    let tone: Vec<f32> = (0..frames)
                        .map(|n| (amplitude * (2.0 * PI * 200.0 * n as f64 / rate).sin()) as f32)
                        .collect();
                    let mut limiter = Limiter::new(sample_rate, 512, 2);
                    limiter.set_params(&from);
                    limiter.reset();
                    let output =
                        run_scheduled(&mut limiter, &[tone.clone(), tone], 128, &[(change, to)]);
                    let period = (rate / 200.0) as usize;
                    let before = largest_step(&output[0], change - 10 * period..change);
                    let during = largest_step(&output[0], change..change + (0.1 * rate) as usize);
                    let after = largest_step(&output[0], frames - 10 * period..frames);
                    let bound = 1.5 * before.max(after);
                    println!("{sample_rate} Hz, {name} {from:?} → {to:?}: steps before {before:.4}, during {during:.4}, after {after:.4}");
                    assert!(
                        during <= bound,
                        "{sample_rate} Hz, {name}: {during} > {bound}"
                    );
                }
            }
        }
    }

    #[test]
    fn parameter_jumps_never_let_a_peak_through() {
        // Drive up and ceiling down are looked ahead with the signal: even
        // their fastest moves keep the output under the ceiling (sample
        // peaks of a band-limited programme, ×16 true peak ≤ +0.1 dB).
        for sample_rate in [44_100.0, 192_000.0] {
            let input = test_programme(sample_rate, 30_000, 21);
            let schedule = [
                (
                    0,
                    LimiterParams {
                        drive_db: 0.0,
                        ceiling_dbtp: -0.1,
                        release_ms: 10.0,
                    },
                ),
                (
                    9_000,
                    LimiterParams {
                        drive_db: 24.0,
                        ceiling_dbtp: -0.1,
                        release_ms: 10.0,
                    },
                ),
                (
                    18_000,
                    LimiterParams {
                        drive_db: 24.0,
                        ceiling_dbtp: -3.0,
                        release_ms: 10.0,
                    },
                ),
            ];
            let mut limiter = Limiter::new(sample_rate, 512, 2);
            let output = run_scheduled(&mut limiter, &input, 512, &schedule);
            let latency = limiter.latency_samples() as usize;
            // The ceiling ramps down over 20 ms after sample 18 000.
            let settled = 18_000 + latency + (0.02 * sample_rate) as usize;
            for channel in &output {
                let first = db(fft_true_peak_x16_within(channel, 0..18_000 + latency)) + 0.1;
                let second = db(fft_true_peak_x16_within(channel, settled..channel.len()));
                println!("{sample_rate} Hz: before the ceiling move {first:+.3} dB re −0.1 dBTP; after {:+.3} dB re −3 dBTP", second + 3.0);
                assert!(first <= 0.1);
                assert!(second + 3.0 <= 0.1);
            }
        }
    }

    #[test]
    fn non_finite_input_counts_as_silence() {
        let sample_rate = 48_000.0;
        let clean = test_programme(sample_rate, 6_000, 13);
        let mut poisoned = clean.clone();
        let mut zeroed = clean.clone();
        for (i, bad) in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -f32::NAN]
            .into_iter()
            .enumerate()
        {
            for offset in 0..3 {
                let position = 2_048 + 40 * i + offset;
                poisoned[i % 2][position] = bad;
                zeroed[i % 2][position] = 0.0;
            }
        }
        let params = LimiterParams {
            drive_db: 12.0,
            ..LimiterParams::default()
        };
        let mut with_bad = Limiter::new(sample_rate, 512, 2);
        let mut with_zero = Limiter::new(sample_rate, 512, 2);
        with_bad.set_params(&params);
        with_zero.set_params(&params);
        let a = run(&mut with_bad, &poisoned, 512);
        let b = run(&mut with_zero, &zeroed, 512);
        assert!(a.iter().flatten().all(|s| s.is_finite()));
        assert_eq!(a, b);
        // Huge finite input is clipped at +120 dBFS and limited like any
        // other peak.
        let mut limiter = Limiter::new(sample_rate, 512, 1);
        let mut huge = vec![0.0_f32; 400];
        huge[100] = 3.0e38;
        huge[101] = -1.0e30;
        let output = run(&mut limiter, &[huge], 512);
        let ceiling = 10f32.powf(-1.0 / 20.0);
        assert!(output[0]
            .iter()
            .all(|s| s.is_finite() && s.abs() <= ceiling));
    }

    #[test]
    fn params_are_clamped_and_odd_calls_are_safe() {
        let mut limiter = Limiter::new(48_000.0, 512, 2);
        limiter.set_params(&LimiterParams {
            drive_db: 100.0,
            ceiling_dbtp: 5.0,
            release_ms: f32::NAN,
        });
        assert_eq!(
            limiter.params,
            LimiterParams {
                drive_db: 24.0,
                ceiling_dbtp: -0.1,
                release_ms: 100.0
            }
        );
        limiter.set_params(&LimiterParams {
            drive_db: -10.0,
            ceiling_dbtp: -60.0,
            release_ms: 0.0,
        });
        assert_eq!(
            limiter.params,
            LimiterParams {
                drive_db: 0.0,
                ceiling_dbtp: -3.0,
                release_ms: 10.0
            }
        );
        // Empty calls, empty blocks, a mono call on a stereo instance and
        // extra channels (left untouched).
        limiter.process(&mut []);
        limiter.process(&mut [&mut [][..], &mut [][..]]);
        let mut mono = [0.5_f32; 10];
        limiter.process(&mut [&mut mono[..]]);
        let mut mono_limiter = Limiter::new(48_000.0, 512, 1);
        let mut extra = [0.7_f32; 10];
        let mut first = [0.1_f32; 10];
        mono_limiter.process(&mut [&mut first[..], &mut extra[..]]);
        assert!(extra.iter().all(|&s| s == 0.7));
        assert!(first.iter().all(|&s| s == 0.0));
        assert_eq!(Limiter::new(48_000.0, 512, 2).gain_reduction_db(), 0.0);
    }
}
