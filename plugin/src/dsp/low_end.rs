//! Low-end control: mono below a crossover and a low-band "stabilizer"
//! compressor, for stems and masters.
//!
//! # Crossover
//!
//! Each channel is split by a 4th-order Linkwitz–Riley crossover
//! (S. H. Linkwitz, "Active crossover networks for noncoincident drivers",
//! JAES 24(1), 1976): low = LP·LP, high = HP·HP, where LP and HP are
//! 2nd-order Butterworth sections (Q = 1/√2) with the same corner and the
//! same denominator (R. Bristow-Johnson, "Audio EQ Cookbook", LPF/HPF, written
//! with K = tan(π·f_c/f_s), the bilinear transform prewarped at f_c). In the
//! analogue prototype
//!
//! ```text
//! LP⁴ + HP⁴ = (1 + s⁴) / (s² + √2·s + 1)² = (s² − √2·s + 1) / (s² + √2·s + 1),
//! ```
//!
//! a 2nd-order all-pass; the bilinear transform is a substitution, so the
//! digital bands also sum to an exact all-pass (|low + high| = 1 at every
//! frequency; measured from the `f32` output within 6e-7 dB, each band
//! within 3e-4 dB of its analytic response). Each band is −6.02 dB at the
//! crossover, `|LP⁴| = 1/(1 + (f/f_c)⁴)` in the analogue prototype.
//!
//! **Phase.** While the crossover is in use (mono-below or stabilizer on) the
//! output is magnitude-flat but *not* bit-identical to the input: it carries
//! the all-pass phase of the crossover, `−2·atan2(√2·Ω, 1 − Ω²)` with
//! Ω = f/f_c in the prototype: 0° at DC, −180° at f_c, towards −360° far
//! above. The group delay is largest at low frequencies, 2√2/(2π·f_c):
//! 3.8 ms for f_c = 120 Hz, 11 ms for 40 Hz, and falls towards zero well
//! above f_c. The engine must not mix this output with an unprocessed copy
//! of the same signal (comb filtering around f_c). With both features off the
//! module is bit-transparent (the crossover path is faded out over 20 ms and
//! then skipped entirely).
//!
//! # Mono below the crossover
//!
//! The low bands are re-mixed with a side gain `g` (1 = untouched, 0 = mono):
//! `low_L' = ½(1+g)·low_L + ½(1−g)·low_R`, `low_R'` mirrored. At g = 0 both
//! become the low-band mid `(low_L + low_R)/2`; the high bands are untouched.
//! Switching the feature ramps `g` over 20 ms.
//!
//! # Stabilizer
//!
//! A feed-forward compressor on the low band only, stereo-linked, after
//! D. Giannoulis, M. Massberg, J. D. Reiss, "Digital Dynamic Range Compressor
//! Design — A Tutorial and Analysis", JAES 60(6), 2012:
//!
//! * Detector input: `max(low_L'², low_R'²)` (stereo link by the louder
//!   channel, after the mono-below re-mix), averaged by two cascaded one-pole
//!   low-passes of [`POWER_TIME_CONSTANT_S`] each (an RMS-type level
//!   detector as discussed in the paper; the second pole suppresses the 2f
//!   ripple of bass tones). Level
//!   `x_G = 10·log10(2·p)` dBFS, calibrated so a sine of peak amplitude A
//!   reads 20·log10(A) dBFS (AES17 convention: a full-scale sine is 0 dBFS).
//! * The paper's soft-knee gain computer, knee width [`KNEE_DB`]:
//!   the reduction is `x_L = (1 − 1/R)·(x_G − T + W/2)²/(2W)` inside the knee,
//!   `(1 − 1/R)·(x_G − T)` above it and 0 below.
//! * The paper's smooth branching peak detector on `x_L`, placed in the log
//!   domain after the gain computer (the arrangement the paper recommends:
//!   release independent of the amount of reduction), with
//!   `α = exp(−1/(τ·f_s))` for the attack and release time constants.
//! * The low band (both channels) is multiplied by `10^(−y_L/20)`; the high
//!   band is untouched.
//!
//! The two power averagers add about 20 ms to the attack. For a steady sine
//! the static curve is met within 0.09 dB from 40 Hz up and 0.14 dB at
//! 30 Hz (slightly more reduction: the residual 2f ripple of the detector
//! meets the faster attack; test `stabilizer_static_curve_matches_analytic`).
//! The reduction itself ripples by only ±0.004 dB on a 30 Hz tone and
//! ±0.001 dB at 60 Hz (T −18, R 3, −6 dBFS), so the gain adds next to no
//! distortion to the bass.
//!
//! # Smoothing, determinism, cost
//!
//! The crossover frequency glides in log2(Hz) over [`CROSSOVER_GLIDE_S`]
//! with the coefficients recomputed every sample while it moves; threshold,
//! ratio, attack and release ramp linearly over [`PARAM_RAMP_S`]; the enable
//! switches fade over [`FADE_S`]. Everything is per sample, so the output
//! does not depend on the block split. Filters and detector run in `f64`.
//! Non-finite input samples are read as 0.0; a state that ever becomes
//! non-finite is cleared at the end of the block. No look-ahead: latency 0.
//! Filter states decaying in silence may become subnormal; the engine runs
//! `process` under [`crate::dsp::denormal::FlushDenormals`]-style
//! flush-to-zero (the detector states flush themselves).

use crate::dsp::biquad::{BiquadCoefficients, BiquadState};
use crate::dsp::smoothing::LinearRamp;

/// Lowest crossover frequency, Hz.
pub const CROSSOVER_MIN_HZ: f32 = 40.0;
/// Highest crossover frequency, Hz.
pub const CROSSOVER_MAX_HZ: f32 = 250.0;
/// Lowest stabilizer threshold, dBFS.
pub const THRESHOLD_MIN_DB: f32 = -40.0;
/// Highest stabilizer threshold, dBFS.
pub const THRESHOLD_MAX_DB: f32 = 0.0;
/// Lowest stabilizer ratio (1 = no compression), unitless.
pub const RATIO_MIN: f32 = 1.0;
/// Highest stabilizer ratio, unitless.
pub const RATIO_MAX: f32 = 8.0;
/// Shortest stabilizer attack time constant, ms.
pub const ATTACK_MIN_MS: f32 = 5.0;
/// Longest stabilizer attack time constant, ms.
pub const ATTACK_MAX_MS: f32 = 200.0;
/// Shortest stabilizer release time constant, ms.
pub const RELEASE_MIN_MS: f32 = 20.0;
/// Longest stabilizer release time constant, ms.
pub const RELEASE_MAX_MS: f32 = 2000.0;

/// Soft-knee width of the stabilizer's gain computer, dB (fixed).
pub const KNEE_DB: f64 = 6.0;
/// Time constant of each of the two one-pole power averagers in the
/// stabilizer's level detector, seconds.
pub const POWER_TIME_CONSTANT_S: f64 = 0.010;
/// Duration of the crossover frequency glide after a change, seconds.
pub const CROSSOVER_GLIDE_S: f32 = 0.05;
/// Ramp time of threshold, ratio, attack and release, seconds.
pub const PARAM_RAMP_S: f32 = 0.02;
/// Fade time of the on/off switches (crossover path, mono, stabilizer),
/// seconds.
pub const FADE_S: f32 = 0.02;

/// Detector states smaller than this (power in full-scale², reduction in
/// dB) are set to zero so silence leaves no subnormal numbers behind.
const FLUSH_BELOW: f64 = 1.0e-30;

/// Parameters of [`LowEnd`]. Out-of-range values are clamped, non-finite
/// ones replaced by the default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LowEndParams {
    /// Fold the band below `crossover_hz` to mono (both channels get the
    /// low-band mid). Default off.
    pub mono_below_enabled: bool,
    /// Crossover frequency, Hz, 40..=250, default 120. Shared by mono-below
    /// and stabilizer.
    pub crossover_hz: f32,
    /// Compress the band below `crossover_hz`. Default off.
    pub stabilizer_enabled: bool,
    /// Stabilizer threshold, dBFS (sine-calibrated RMS), −40..=0, default −18.
    pub stabilizer_threshold_db: f32,
    /// Stabilizer ratio, 1..=8 (: 1), default 3.
    pub stabilizer_ratio: f32,
    /// Stabilizer attack time constant, ms, 5..=200, default 30.
    pub stabilizer_attack_ms: f32,
    /// Stabilizer release time constant, ms, 20..=2000, default 250.
    pub stabilizer_release_ms: f32,
}

impl Default for LowEndParams {
    fn default() -> Self {
        Self {
            mono_below_enabled: false,
            crossover_hz: 120.0,
            stabilizer_enabled: false,
            stabilizer_threshold_db: -18.0,
            stabilizer_ratio: 3.0,
            stabilizer_attack_ms: 30.0,
            stabilizer_release_ms: 250.0,
        }
    }
}

impl LowEndParams {
    /// The parameters with every value finite and inside its range.
    fn sanitized(&self) -> Self {
        let d = Self::default();
        let fix = |v: f32, default: f32, lo: f32, hi: f32| {
            if v.is_finite() {
                v.clamp(lo, hi)
            } else {
                default
            }
        };
        Self {
            mono_below_enabled: self.mono_below_enabled,
            crossover_hz: fix(
                self.crossover_hz,
                d.crossover_hz,
                CROSSOVER_MIN_HZ,
                CROSSOVER_MAX_HZ,
            ),
            stabilizer_enabled: self.stabilizer_enabled,
            stabilizer_threshold_db: fix(
                self.stabilizer_threshold_db,
                d.stabilizer_threshold_db,
                THRESHOLD_MIN_DB,
                THRESHOLD_MAX_DB,
            ),
            stabilizer_ratio: fix(
                self.stabilizer_ratio,
                d.stabilizer_ratio,
                RATIO_MIN,
                RATIO_MAX,
            ),
            stabilizer_attack_ms: fix(
                self.stabilizer_attack_ms,
                d.stabilizer_attack_ms,
                ATTACK_MIN_MS,
                ATTACK_MAX_MS,
            ),
            stabilizer_release_ms: fix(
                self.stabilizer_release_ms,
                d.stabilizer_release_ms,
                RELEASE_MIN_MS,
                RELEASE_MAX_MS,
            ),
        }
    }
}

/// The LR4 crossover's two 2nd-order Butterworth sections (applied twice
/// each).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrossoverCoefficients {
    /// Butterworth low-pass section (the low band is this one squared).
    pub low_pass: BiquadCoefficients,
    /// Butterworth high-pass section (the high band is this one squared).
    pub high_pass: BiquadCoefficients,
}

impl CrossoverCoefficients {
    /// Butterworth LP/HP pair at `corner_hz` (RBJ cookbook LPF/HPF with
    /// Q = 1/√2, in the equivalent K = tan(π·f_c/f_s) form, which keeps
    /// precision at low corners: no `1 − cos ω₀` cancellation).
    pub fn new(corner_hz: f64, sample_rate_hz: f64) -> Self {
        let k = (std::f64::consts::PI * corner_hz / sample_rate_hz).tan();
        let k2 = k * k;
        let norm = 1.0 / (1.0 + std::f64::consts::SQRT_2 * k + k2);
        let a1 = 2.0 * (k2 - 1.0) * norm;
        let a2 = (1.0 - std::f64::consts::SQRT_2 * k + k2) * norm;
        let lp = k2 * norm;
        Self {
            low_pass: BiquadCoefficients {
                b0: lp,
                b1: 2.0 * lp,
                b2: lp,
                a1,
                a2,
            },
            high_pass: BiquadCoefficients {
                b0: norm,
                b1: -2.0 * norm,
                b2: norm,
                a1,
                a2,
            },
        }
    }
}

/// Crossover state of one channel.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ChannelSplit {
    /// The two cascaded low-pass sections (state in signal units).
    low: [BiquadState; 2],
    /// The two cascaded high-pass sections (state in signal units).
    high: [BiquadState; 2],
}

impl ChannelSplit {
    /// Splits one sample into (low band, high band).
    #[inline(always)]
    fn split(&mut self, c: &CrossoverCoefficients, x: f64) -> (f64, f64) {
        let low = self.low[0].process(&c.low_pass, x);
        let low = self.low[1].process(&c.low_pass, low);
        let high = self.high[0].process(&c.high_pass, x);
        let high = self.high[1].process(&c.high_pass, high);
        (low, high)
    }

    /// Whether every state variable is finite (probed by filtering zero into
    /// a copy, since the state is private to `BiquadState`).
    fn is_finite(&self, c: &CrossoverCoefficients) -> bool {
        let mut probe = *self;
        let (low, high) = probe.split(c, 0.0);
        let (low2, high2) = probe.split(c, 0.0);
        low.is_finite() && high.is_finite() && low2.is_finite() && high2.is_finite()
    }
}

/// State of the stabilizer's level detector and gain smoother.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Detector {
    /// First one-pole power average, full-scale².
    power1: f64,
    /// Second one-pole power average (the detector level), full-scale².
    power2: f64,
    /// Smoothed gain reduction y_L (smooth branching peak detector), dB, ≥ 0.
    reduction_db: f64,
}

/// Low-end control: mono below a crossover and a low-band compressor. See
/// the module documentation.
pub struct LowEnd {
    /// Sample rate, Hz.
    sample_rate_hz: f64,
    /// Channels the instance was prepared for (1 or 2).
    channels: usize,
    /// The last parameters set (sanitised).
    params: LowEndParams,
    /// Crossover frequency, log2(Hz), gliding over [`CROSSOVER_GLIDE_S`].
    log2_crossover: LinearRamp,
    /// log2(Hz) the current `coefficients` were computed for.
    coefficients_log2_hz: f32,
    /// Crossover coefficients for `coefficients_log2_hz`.
    coefficients: CrossoverCoefficients,
    /// Mix of the crossover path, 0 (dry input) ..= 1 (processed), unitless.
    wet: LinearRamp,
    /// Side gain of the low band, 1 (stereo) ..= 0 (mono below), unitless.
    low_side_gain: LinearRamp,
    /// Scale on the stabilizer's reduction, 0 (off) ..= 1 (on), unitless.
    stabilizer_amount: LinearRamp,
    /// Stabilizer threshold T, dBFS.
    threshold_db: LinearRamp,
    /// Stabilizer ratio R, unitless.
    ratio: LinearRamp,
    /// Stabilizer attack time constant, ms.
    attack_ms: LinearRamp,
    /// Stabilizer release time constant, ms.
    release_ms: LinearRamp,
    /// Attack time (ms) `attack_coeff` was computed for.
    coeff_attack_ms: f32,
    /// Release time (ms) `release_coeff` was computed for.
    coeff_release_ms: f32,
    /// Attack pole α_A = exp(−1/(τ_A·f_s)), unitless.
    attack_coeff: f64,
    /// Release pole α_R = exp(−1/(τ_R·f_s)), unitless.
    release_coeff: f64,
    /// One-pole coefficient of the power averagers, 1 − exp(−1/(τ·f_s)).
    power_coeff: f64,
    /// Crossover state per channel (left, right).
    split: [ChannelSplit; 2],
    /// Stabilizer detector state (shared: stereo-linked).
    detector: Detector,
    /// Largest applied low-band reduction during the last `process`, dB ≥ 0.
    last_reduction_db: f32,
}

/// Per-sample control values.
#[derive(Clone, Copy)]
struct Controls {
    wet: f64,
    side_gain: f64,
    amount: f64,
    threshold_db: f64,
    ratio: f64,
}

impl LowEnd {
    /// A bypassed instance (default parameters) for `channels` (1 or 2) at
    /// `sample_rate_hz`. `max_block` is accepted for the common API; the
    /// module needs no buffers and handles any block length.
    pub fn new(sample_rate_hz: f32, max_block: usize, channels: usize) -> Self {
        let _ = max_block;
        let fs = f64::from(sample_rate_hz.max(1.0));
        let d = LowEndParams::default();
        let glide = LinearRamp::samples_for(CROSSOVER_GLIDE_S, fs as f32);
        let ramp = LinearRamp::samples_for(PARAM_RAMP_S, fs as f32);
        let fade = LinearRamp::samples_for(FADE_S, fs as f32);
        let log2_hz = d.crossover_hz.log2();
        let mut low_end = Self {
            sample_rate_hz: fs,
            channels: channels.clamp(1, 2),
            params: d,
            log2_crossover: LinearRamp::new(log2_hz, glide),
            // NaN: forces the first `update_coefficients` to compute.
            coefficients_log2_hz: f32::NAN,
            coefficients: CrossoverCoefficients::new(f64::from(d.crossover_hz), fs),
            wet: LinearRamp::new(0.0, fade),
            low_side_gain: LinearRamp::new(1.0, fade),
            stabilizer_amount: LinearRamp::new(0.0, fade),
            threshold_db: LinearRamp::new(d.stabilizer_threshold_db, ramp),
            ratio: LinearRamp::new(d.stabilizer_ratio, ramp),
            attack_ms: LinearRamp::new(d.stabilizer_attack_ms, ramp),
            release_ms: LinearRamp::new(d.stabilizer_release_ms, ramp),
            coeff_attack_ms: f32::NAN,
            coeff_release_ms: f32::NAN,
            attack_coeff: 0.0,
            release_coeff: 0.0,
            power_coeff: 1.0 - (-1.0 / (POWER_TIME_CONSTANT_S * fs)).exp(),
            split: [ChannelSplit::default(); 2],
            detector: Detector::default(),
            last_reduction_db: 0.0,
        };
        low_end.update_coefficients();
        low_end
    }

    /// Sets new targets; the ramps run inside `process`. Cheap when nothing
    /// changed.
    pub fn set_params(&mut self, params: &LowEndParams) {
        let p = params.sanitized();
        self.params = p;
        let active = p.mono_below_enabled || p.stabilizer_enabled;
        self.wet.set_target(if active { 1.0 } else { 0.0 });
        self.low_side_gain
            .set_target(if p.mono_below_enabled { 0.0 } else { 1.0 });
        self.stabilizer_amount
            .set_target(if p.stabilizer_enabled { 1.0 } else { 0.0 });
        self.log2_crossover.set_target(p.crossover_hz.log2());
        self.threshold_db.set_target(p.stabilizer_threshold_db);
        self.ratio.set_target(p.stabilizer_ratio);
        self.attack_ms.set_target(p.stabilizer_attack_ms);
        self.release_ms.set_target(p.stabilizer_release_ms);
        if self.is_bypassed() {
            // Nothing is audible: jump straight to the new settings.
            self.snap_controls();
        }
    }

    /// Clears all signal state and jumps every smoother to its target, as a
    /// fresh instance with the current parameters.
    pub fn reset(&mut self) {
        self.split = [ChannelSplit::default(); 2];
        self.detector = Detector::default();
        self.wet.snap_to_target();
        self.snap_controls();
        self.last_reduction_db = 0.0;
    }

    /// No look-ahead: always 0.
    pub fn latency_samples(&self) -> u32 {
        0
    }

    /// Largest low-band gain reduction applied during the last `process`
    /// call, dB (≥ 0).
    pub fn gain_reduction_db(&self) -> f32 {
        self.last_reduction_db
    }

    /// The current (sanitised) parameters.
    pub fn params(&self) -> &LowEndParams {
        &self.params
    }

    /// Processes planar audio in place: one channel (no mono-below effect),
    /// or two (left, right); further channels are left untouched. Blocks of
    /// any length; channels of unequal length are processed up to the
    /// shortest.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        self.last_reduction_db = 0.0;
        let n_ch = channels.len().min(self.channels);
        if n_ch == 0 {
            return;
        }
        let len = channels[..n_ch].iter().map(|c| c.len()).min().unwrap_or(0);
        let (first, rest) = channels.split_at_mut(1);
        let left = &mut first[0][..len];
        let mut right = if n_ch == 2 {
            Some(&mut rest[0][..len])
        } else {
            None
        };

        let mut i = 0;
        let mut max_reduction = 0.0f64;
        while i < len && !self.is_bypassed() {
            let c = self.advance_controls();
            let x_l = read(left[i]);
            let (low_l, high_l) = self.split[0].split(&self.coefficients, x_l);
            match right.as_deref_mut() {
                Some(right) => {
                    let x_r = read(right[i]);
                    let (low_r, high_r) = self.split[1].split(&self.coefficients, x_r);
                    // Mono below: M/S re-mix of the low bands with side gain
                    // g, exact at g = 1 (coefficients 1 and 0).
                    let direct = 0.5 * (1.0 + c.side_gain);
                    let cross = 0.5 * (1.0 - c.side_gain);
                    let mixed_l = direct * low_l + cross * low_r;
                    let mixed_r = direct * low_r + cross * low_l;
                    let reduction = self.detect((mixed_l * mixed_l).max(mixed_r * mixed_r), &c);
                    max_reduction = max_reduction.max(reduction);
                    let gain = gain_from_reduction(reduction);
                    left[i] = mix(c.wet, x_l, gain * mixed_l + high_l);
                    right[i] = mix(c.wet, x_r, gain * mixed_r + high_r);
                }
                None => {
                    let reduction = self.detect(low_l * low_l, &c);
                    max_reduction = max_reduction.max(reduction);
                    let gain = gain_from_reduction(reduction);
                    left[i] = mix(c.wet, x_l, gain * low_l + high_l);
                }
            }
            i += 1;
            if self.wet.is_settled() && self.wet.target() == 0.0 {
                self.enter_bypass();
            }
        }
        // Bypassed: the input passes unchanged (non-finite samples become 0).
        for x in left[i..].iter_mut() {
            *x = sanitize(*x);
        }
        if let Some(right) = right {
            for x in right[i..].iter_mut() {
                *x = sanitize(*x);
            }
        }
        self.last_reduction_db = max_reduction as f32;
        self.recover_non_finite_state();
    }

    /// Whether the crossover path is fully faded out (output = input).
    #[inline]
    fn is_bypassed(&self) -> bool {
        self.wet.is_settled() && self.wet.target() == 0.0
    }

    /// Clears the signal state and jumps every control except `wet` to its
    /// target: called when the crossover path has faded out.
    fn enter_bypass(&mut self) {
        self.split = [ChannelSplit::default(); 2];
        self.detector = Detector::default();
        self.snap_controls();
    }

    /// Jumps every smoother except `wet` to its target and updates the
    /// coefficients.
    fn snap_controls(&mut self) {
        for ramp in [
            &mut self.log2_crossover,
            &mut self.low_side_gain,
            &mut self.stabilizer_amount,
            &mut self.threshold_db,
            &mut self.ratio,
            &mut self.attack_ms,
            &mut self.release_ms,
        ] {
            ramp.snap_to_target();
        }
        self.update_coefficients();
    }

    /// Recomputes the crossover and time-constant coefficients if their
    /// smoothers moved since the last computation.
    #[inline]
    fn update_coefficients(&mut self) {
        let log2_hz = self.log2_crossover.value();
        if log2_hz != self.coefficients_log2_hz {
            self.coefficients_log2_hz = log2_hz;
            self.coefficients =
                CrossoverCoefficients::new(f64::from(log2_hz).exp2(), self.sample_rate_hz);
        }
        let attack_ms = self.attack_ms.value();
        if attack_ms != self.coeff_attack_ms {
            self.coeff_attack_ms = attack_ms;
            self.attack_coeff = time_coeff(attack_ms, self.sample_rate_hz);
        }
        let release_ms = self.release_ms.value();
        if release_ms != self.coeff_release_ms {
            self.coeff_release_ms = release_ms;
            self.release_coeff = time_coeff(release_ms, self.sample_rate_hz);
        }
    }

    /// Advances every smoother by one sample and returns the values.
    #[inline]
    fn advance_controls(&mut self) -> Controls {
        self.log2_crossover.advance();
        self.attack_ms.advance();
        self.release_ms.advance();
        self.update_coefficients();
        Controls {
            wet: f64::from(self.wet.advance()),
            side_gain: f64::from(self.low_side_gain.advance()),
            amount: f64::from(self.stabilizer_amount.advance()),
            threshold_db: f64::from(self.threshold_db.advance()),
            ratio: f64::from(self.ratio.advance()),
        }
    }

    /// One step of the stabilizer's detector for the linked low-band power
    /// `power` (full-scale²); returns the reduction to apply, dB ≥ 0.
    #[inline]
    fn detect(&mut self, power: f64, c: &Controls) -> f64 {
        if c.amount == 0.0 && self.stabilizer_amount.is_settled() {
            // Stabilizer off: idle, and start from silence when switched on.
            self.detector = Detector::default();
            return 0.0;
        }
        let d = &mut self.detector;
        d.power1 = flush(d.power1 + self.power_coeff * (power - d.power1));
        d.power2 = flush(d.power2 + self.power_coeff * (d.power1 - d.power2));
        // Sine-calibrated level: mean square A²/2 reads 20·log10(A) dBFS.
        let level_db = 10.0 * (2.0 * d.power2).log10();
        let target = static_reduction_db(level_db, c.threshold_db, c.ratio);
        // Smooth branching peak detector (Giannoulis et al. 2012).
        let alpha = if target > d.reduction_db {
            self.attack_coeff
        } else {
            self.release_coeff
        };
        d.reduction_db = flush(alpha * d.reduction_db + (1.0 - alpha) * target);
        d.reduction_db * c.amount
    }

    /// Clears any state that became non-finite (cannot happen with finite
    /// coefficients and sanitised input; a safety net).
    fn recover_non_finite_state(&mut self) {
        for split in &mut self.split {
            if !split.is_finite(&self.coefficients) {
                *split = ChannelSplit::default();
            }
        }
        let d = &self.detector;
        if !(d.power1.is_finite() && d.power2.is_finite() && d.reduction_db.is_finite()) {
            self.detector = Detector::default();
        }
    }
}

/// Static gain reduction of the stabilizer's gain computer, dB ≥ 0, for a
/// detector level `level_db` (dBFS), threshold `threshold_db` (dBFS) and
/// `ratio`, with the soft knee of width [`KNEE_DB`] (the soft-knee gain
/// computer of Giannoulis et al. 2012, written as x_G − y_G). Public so an
/// editor can draw the curve.
#[inline]
pub fn static_reduction_db(level_db: f64, threshold_db: f64, ratio: f64) -> f64 {
    let over = level_db - threshold_db;
    let slope = 1.0 - 1.0 / ratio;
    if 2.0 * over < -KNEE_DB {
        0.0
    } else if 2.0 * over <= KNEE_DB {
        let into = over + 0.5 * KNEE_DB;
        slope * into * into / (2.0 * KNEE_DB)
    } else {
        slope * over
    }
}

/// One-pole coefficient exp(−1/(τ·f_s)) for a time constant of `ms`.
fn time_coeff(ms: f32, sample_rate_hz: f64) -> f64 {
    (-1.0 / (f64::from(ms) * 1.0e-3 * sample_rate_hz)).exp()
}

/// Linear gain for a reduction of `reduction_db` dB.
#[inline]
fn gain_from_reduction(reduction_db: f64) -> f64 {
    if reduction_db == 0.0 {
        1.0
    } else {
        (-reduction_db * (std::f64::consts::LN_10 / 20.0)).exp()
    }
}

/// An input sample in `f64`, non-finite read as 0.0.
#[inline(always)]
fn read(x: f32) -> f64 {
    if x.is_finite() {
        f64::from(x)
    } else {
        0.0
    }
}

/// Non-finite samples replaced by 0.0, others unchanged.
#[inline(always)]
fn sanitize(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Crossfade `wet·processed + (1 − wet)·dry`, exact at wet = 0 and 1.
#[inline(always)]
fn mix(wet: f64, dry: f64, processed: f64) -> f32 {
    (wet * processed + (1.0 - wet) * dry) as f32
}

/// Values too small to matter are set to zero (no subnormals).
#[inline(always)]
fn flush(x: f64) -> f64 {
    if x.abs() < FLUSH_BELOW {
        0.0
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        sine_with_phase as sine, xorshift_noise as noise, PROCESSOR_RATES as RATES,
    };

    /// A complex number (re, im) for the analytic responses.
    #[derive(Clone, Copy, Debug)]
    struct C(f64, f64);

    impl C {
        fn mul(self, o: C) -> C {
            C(self.0 * o.0 - self.1 * o.1, self.0 * o.1 + self.1 * o.0)
        }
        fn add(self, o: C) -> C {
            C(self.0 + o.0, self.1 + o.1)
        }
        fn scale(self, k: f64) -> C {
            C(self.0 * k, self.1 * k)
        }
        fn abs(self) -> f64 {
            self.0.hypot(self.1)
        }
    }

    /// Complex response of one biquad at `f` Hz.
    fn biquad_response(c: &BiquadCoefficients, f: f64, fs: f64) -> C {
        let w = std::f64::consts::TAU * f / fs;
        let z1 = C(w.cos(), -w.sin());
        let z2 = z1.mul(z1);
        let num = C(c.b0, 0.0).add(z1.scale(c.b1)).add(z2.scale(c.b2));
        let den = C(1.0, 0.0).add(z1.scale(c.a1)).add(z2.scale(c.a2));
        let d = den.0 * den.0 + den.1 * den.1;
        C(
            (num.0 * den.0 + num.1 * den.1) / d,
            (num.1 * den.0 - num.0 * den.1) / d,
        )
    }

    /// Analytic LR4 (low, high) responses at `f` for corner `fc`.
    fn lr4(f: f64, fc: f64, fs: f64) -> (C, C) {
        let c = CrossoverCoefficients::new(fc, fs);
        let lp = biquad_response(&c.low_pass, f, fs);
        let hp = biquad_response(&c.high_pass, f, fs);
        (lp.mul(lp), hp.mul(hp))
    }

    fn db(x: f64) -> f64 {
        20.0 * x.log10()
    }

    /// Smallest number of samples ≥ `min_len` holding a whole number of
    /// cycles of `freq` at `fs` (so a DFT bin sits exactly on the tone).
    fn whole_cycles_len(freq: f64, fs: f32, min_len: usize) -> usize {
        let fs = f64::from(fs);
        let mut cycles = ((min_len as f64) * freq / fs).ceil().max(1.0);
        loop {
            let n = fs * cycles / freq;
            if (n - n.round()).abs() < 1e-9 {
                return n.round() as usize;
            }
            cycles += 1.0;
        }
    }

    /// Amplitude of the component at `freq` in `x` (DFT projection; exact
    /// when `x` holds whole cycles of `freq`).
    fn tone_amplitude(x: &[f32], freq: f64, fs: f32) -> f64 {
        let w = std::f64::consts::TAU * freq / f64::from(fs);
        let (mut re, mut im) = (0.0, 0.0);
        for (n, &v) in x.iter().enumerate() {
            let (s, c) = (w * n as f64).sin_cos();
            re += f64::from(v) * c;
            im -= f64::from(v) * s;
        }
        2.0 * re.hypot(im) / x.len() as f64
    }

    /// |DFT| of an impulse response at `freq`.
    fn response_magnitude(h: &[f32], freq: f64, fs: f32) -> f64 {
        tone_amplitude(h, freq, fs) * h.len() as f64 / 2.0
    }

    fn params() -> LowEndParams {
        LowEndParams::default()
    }

    /// Processes a stereo pair in blocks of `block`.
    fn run(le: &mut LowEnd, l: &mut [f32], r: &mut [f32], block: usize) {
        for (a, b) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
            le.process(&mut [a, b]);
        }
    }

    /// A fresh stereo instance with `p` applied and settled.
    fn settled(fs: f32, p: &LowEndParams) -> LowEnd {
        let mut le = LowEnd::new(fs, 512, 2);
        le.set_params(p);
        le.reset();
        le
    }

    /// Input used by the automation and invariance tests: bass with a
    /// different phase per channel (low-band side) plus mid-range tones.
    fn program(fs: f32, len: usize) -> (Vec<f32>, Vec<f32>) {
        let a = sine(60.0, 0.5, 0.0, fs, len);
        let b = sine(500.0, 0.2, 0.0, fs, len);
        let c = sine(60.0, 0.5, 1.0, fs, len);
        let d = sine(700.0, 0.2, 0.3, fs, len);
        let l = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        let r = c.iter().zip(&d).map(|(x, y)| x + y).collect();
        (l, r)
    }

    /// Largest sample-to-sample step in `x`.
    fn max_step(x: &[f32]) -> f32 {
        x.windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max)
    }

    /// Largest second difference |x[n] − 2x[n−1] + x[n−2]| in `x`.
    fn max_curvature(x: &[f32]) -> f32 {
        x.windows(3)
            .map(|w| (w[2] - 2.0 * w[1] + w[0]).abs())
            .fold(0.0, f32::max)
    }

    /// Processes `l`/`r` with `set_params` called at the given sample
    /// positions, in blocks of at most `block` samples.
    fn run_with_events(
        le: &mut LowEnd,
        l: &mut [f32],
        r: &mut [f32],
        block: usize,
        events: &[(usize, LowEndParams)],
    ) {
        let len = l.len();
        let (mut pos, mut ev) = (0, 0);
        while pos < len {
            while ev < events.len() && events[ev].0 <= pos {
                le.set_params(&events[ev].1);
                ev += 1;
            }
            let next_event = events.get(ev).map_or(len, |e| e.0);
            let end = (pos + block).min(next_event).min(len);
            le.process(&mut [&mut l[pos..end], &mut r[pos..end]]);
            pos = end;
        }
    }

    #[test]
    fn defaults_are_bit_transparent() {
        for fs in RATES {
            let mut le = LowEnd::new(fs, 512, 2);
            le.set_params(&LowEndParams::default());
            let l0 = noise(1, 1.5, 5000);
            let r0 = noise(2, 0.7, 5000);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run(&mut le, &mut l, &mut r, 333);
            assert!(l.iter().zip(&l0).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert!(r.iter().zip(&r0).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert_eq!(le.gain_reduction_db(), 0.0);
            assert_eq!(le.latency_samples(), 0);
        }
    }

    #[test]
    fn switching_off_returns_to_bit_transparent_after_the_fade() {
        let fs = 48_000.0;
        let on = LowEndParams {
            mono_below_enabled: true,
            stabilizer_enabled: true,
            stabilizer_threshold_db: -40.0,
            ..params()
        };
        let mut le = LowEnd::new(fs, 512, 2);
        let len = 20_000;
        let (l0, r0) = program(fs, len);
        let (mut l, mut r) = (l0.clone(), r0.clone());
        run_with_events(&mut le, &mut l, &mut r, 256, &[(0, on), (5000, params())]);
        // The output differs while on and during the 20 ms (960-sample) fade,
        let differs = |a: &[f32], b: &[f32]| a.iter().zip(b).any(|(x, y)| x != y);
        assert!(differs(&l[..5960], &l0[..5960]));
        // and is the input bit for bit from the end of the fade on.
        let fade_end = 5000 + LinearRamp::samples_for(FADE_S, fs) as usize;
        assert!(l[fade_end..]
            .iter()
            .zip(&l0[fade_end..])
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(r[fade_end..]
            .iter()
            .zip(&r0[fade_end..])
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(le.is_bypassed());
    }

    #[test]
    fn crossover_coefficients_are_butterworth() {
        for fs in RATES {
            let fs = f64::from(fs);
            for fc in [40.0, 120.0, 250.0] {
                let c = CrossoverCoefficients::new(fc, fs);
                // Same as the RBJ cookbook's cos/sin form (Q = 1/√2) to
                // rounding: relative 1e-9 (the cookbook form loses digits in
                // 1 − cos ω₀ at low ω₀).
                let w0 = std::f64::consts::TAU * fc / fs;
                let alpha = w0.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
                let a0 = 1.0 + alpha;
                let rbj_lp_b0 = (1.0 - w0.cos()) / 2.0 / a0;
                let rbj_hp_b0 = (1.0 + w0.cos()) / 2.0 / a0;
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-300);
                assert!(close(c.low_pass.b0, rbj_lp_b0), "{fs} {fc}");
                assert!(close(c.high_pass.b0, rbj_hp_b0));
                assert!(close(c.low_pass.a1, -2.0 * w0.cos() / a0));
                assert!(close(c.low_pass.a2, (1.0 - alpha) / a0));
                // −3.01 dB per section, −6.02 dB per band at the corner.
                let at_fc = c.low_pass.magnitude_at(fc, fs);
                assert!((db(at_fc) + 3.0103).abs() < 1e-3);
                assert!((db(c.high_pass.magnitude_at(fc, fs)) + 3.0103).abs() < 1e-3);
                // Close to the analogue LR4 |LP⁴| = 1/(1 + (f/fc)⁴) up to
                // 2·fc: the bilinear warping (none at fc, thanks to the
                // prewarping) stays within 0.02 dB there (worst 0.0104 dB at
                // 500 Hz for fc = 250 Hz at 44.1 kHz).
                for f in [10.0, 30.0, fc / 2.0, fc, fc * 2.0] {
                    let analog = 1.0 / (1.0 + (f / fc).powi(4));
                    let digital = c.low_pass.magnitude_at(f, fs).powi(2);
                    assert!((db(digital) - db(analog)).abs() < 0.02, "{fs} {fc} {f}");
                }
            }
        }
    }

    #[test]
    fn bands_are_lr4_and_sum_to_an_all_pass_measured() {
        let len = 1 << 16;
        let mut worst_sum = 0.0f64;
        let mut worst_band = 0.0f64;
        for fs in RATES {
            for fc in [40.0f32, 120.0, 250.0] {
                for stabilizer in [false, true] {
                    // Mono below on; the stabilizer (when on) sees a 1e-3
                    // impulse, far below its −40 dBFS floor: no reduction.
                    let p = LowEndParams {
                        mono_below_enabled: true,
                        stabilizer_enabled: stabilizer,
                        stabilizer_threshold_db: THRESHOLD_MIN_DB,
                        crossover_hz: fc,
                        ..params()
                    };
                    let amp = 1.0e-3f32;
                    // L = R = δ: the sum of the bands, low + high.
                    let mut le = settled(fs, &p);
                    let mut l = vec![0.0f32; len];
                    l[0] = amp;
                    let mut r = l.clone();
                    run(&mut le, &mut l, &mut r, 4096);
                    assert_eq!(le.gain_reduction_db(), 0.0);
                    // L = δ, R = 0: R' = ½·low band, L' − R' = high band.
                    let mut le = settled(fs, &p);
                    let mut l1 = vec![0.0f32; len];
                    l1[0] = amp;
                    let mut r1 = vec![0.0f32; len];
                    run(&mut le, &mut l1, &mut r1, 4096);
                    let low: Vec<f32> = r1.iter().map(|x| 2.0 * x).collect();
                    let high: Vec<f32> = l1.iter().zip(&r1).map(|(a, b)| a - b).collect();
                    let nyquist = f64::from(fs) / 2.0;
                    let mut f = 10.0;
                    while f < 0.95 * nyquist {
                        // |low + high| = 1 within ±0.01 dB (measured from
                        // the f32 output; the f32 rounding of the response
                        // contributes ~1e-5 dB).
                        let sum = response_magnitude(&l, f, fs) / f64::from(amp);
                        assert!(db(sum).abs() < 0.01, "{fs} {fc} {f}: {}", db(sum));
                        worst_sum = worst_sum.max(db(sum).abs());
                        let (lp, hp) = lr4(f, f64::from(fc), f64::from(fs));
                        // Each band against the analytic LR4 response, ±0.01 dB
                        // where the band is above −60 dB (below, the f32
                        // output's rounding noise dominates).
                        for (h, want) in [(&low, lp.abs()), (&high, hp.abs())] {
                            if db(want) > -60.0 {
                                let got = response_magnitude(h, f, fs) / f64::from(amp);
                                let err = db(got) - db(want);
                                assert!(err.abs() < 0.01, "{fs} {fc} {f}: {err}");
                                worst_band = worst_band.max(err.abs());
                            }
                        }
                        f *= 1.25;
                    }
                }
            }
        }
        println!("all-pass sum worst {worst_sum:.2e} dB, bands worst {worst_band:.2e} dB");
    }

    #[test]
    fn mono_below_cancels_low_side_and_keeps_high_side() {
        for fs in RATES {
            let p = LowEndParams {
                mono_below_enabled: true,
                ..params()
            };
            let settle = (0.3 * fs) as usize;
            // 50 Hz, L = −R (pure side): only the high band's share remains,
            // |HP⁴(50 Hz)| = −30.7 dB at 120 Hz; ±0.1 dB.
            let n = whole_cycles_len(50.0, fs, (0.1 * fs) as usize);
            let mut le = settled(fs, &p);
            let mut l = sine(50.0, 0.5, 0.0, fs, settle + n);
            let mut r: Vec<f32> = l.iter().map(|x| -x).collect();
            run(&mut le, &mut l, &mut r, 512);
            let (_, hp) = lr4(50.0, 120.0, f64::from(fs));
            for ch in [&l, &r] {
                let got = tone_amplitude(&ch[settle..], 50.0, fs) / 0.5;
                assert!((db(got) - db(hp.abs())).abs() < 0.1, "{fs}: {}", db(got));
                assert!(db(got) < -30.0);
            }
            // Without mono-below the side passes (all-pass: 0 dB ± 0.01).
            let mut le = settled(
                fs,
                &LowEndParams {
                    stabilizer_enabled: true,
                    ..params()
                },
            );
            let mut l = sine(50.0, 0.05, 0.0, fs, settle + n);
            let mut r: Vec<f32> = l.iter().map(|x| -x).collect();
            run(&mut le, &mut l, &mut r, 512);
            assert!(db(tone_amplitude(&l[settle..], 50.0, fs) / 0.05).abs() < 0.01);
            // 1 kHz side: preserved, ±0.1 dB.
            let n = whole_cycles_len(1000.0, fs, (0.1 * fs) as usize);
            let mut le = settled(fs, &p);
            let mut l = sine(1000.0, 0.5, 0.0, fs, settle + n);
            let mut r: Vec<f32> = l.iter().map(|x| -x).collect();
            run(&mut le, &mut l, &mut r, 512);
            for ch in [&l, &r] {
                let got = tone_amplitude(&ch[settle..], 1000.0, fs) / 0.5;
                assert!(db(got).abs() < 0.1, "{fs}: {}", db(got));
            }
            // A 50 Hz mono (L = R) tone is not affected by mono-below.
            let n = whole_cycles_len(50.0, fs, (0.1 * fs) as usize);
            let mut le = settled(fs, &p);
            let mut l = sine(50.0, 0.5, 0.0, fs, settle + n);
            let mut r = l.clone();
            run(&mut le, &mut l, &mut r, 512);
            assert!(db(tone_amplitude(&r[settle..], 50.0, fs) / 0.5).abs() < 0.01);
        }
    }

    /// Steady-state output amplitude of a `freq` sine of `level_db` dBFS
    /// through a settled instance, and the analytic expectation
    /// `A·|g·LP⁴ + HP⁴|` with g from the static curve at the low-band level
    /// `A·|LP⁴|`.
    fn static_point(fs: f32, p: &LowEndParams, freq: f64, level_db: f64) -> (f64, f64, f32) {
        let mut le = settled(fs, p);
        let a = 10f64.powf(level_db / 20.0);
        let settle = (0.6 * f64::from(fs)) as usize;
        let n = whole_cycles_len(freq, fs, (0.2 * fs) as usize);
        let mut l = sine(freq, a, 0.0, fs, settle + n);
        let mut r = l.clone();
        run(&mut le, &mut l[..settle], &mut r[..settle], 512);
        run(&mut le, &mut l[settle..], &mut r[settle..], n);
        let got = tone_amplitude(&l[settle..], freq, fs);
        let (lp, hp) = lr4(freq, f64::from(p.crossover_hz), f64::from(fs));
        let reduction = static_reduction_db(
            db(a * lp.abs()),
            f64::from(p.stabilizer_threshold_db),
            f64::from(p.stabilizer_ratio),
        );
        let want = a * lp.scale(10f64.powf(-reduction / 20.0)).add(hp).abs();
        (db(got / want), reduction, le.gain_reduction_db())
    }

    #[test]
    fn stabilizer_static_curve_matches_analytic() {
        // Output of a steady sine vs the analytic A·|g·LP⁴ + HP⁴|. The
        // detector's power average leaves a 2f ripple (±0.08 dB of level at
        // 60 Hz, ±0.17 dB at 40 Hz, ±0.3 dB at 30 Hz) which the
        // attack-faster-than-release detector turns into slightly more
        // reduction than the static curve. Tolerance ±0.1 dB from 40 Hz up
        // (measured worst −0.083 dB at 40 Hz, ratio 8), ±0.2 dB at 30 Hz
        // (measured worst −0.140 dB, ratio 8).
        let settings = [(-18.0, 3.0, 120.0), (-30.0, 8.0, 250.0), (-6.0, 2.0, 80.0)];
        let mut worst = 0.0f64;
        for fs in RATES {
            for &(threshold, ratio, fc) in &settings {
                let p = LowEndParams {
                    stabilizer_enabled: true,
                    stabilizer_threshold_db: threshold,
                    stabilizer_ratio: ratio,
                    crossover_hz: fc,
                    ..params()
                };
                let freqs: &[f64] = if fs == 48_000.0 {
                    &[30.0, 40.0, 60.0]
                } else {
                    &[40.0]
                };
                for &f in freqs {
                    let tol = if f < 40.0 { 0.2 } else { 0.1 };
                    for k in 0..=10 {
                        let level = -40.0 + 4.0 * f64::from(k);
                        let (err, reduction, readout) = static_point(fs, &p, f, level);
                        assert!(
                            err.abs() < tol,
                            "{fs} {threshold} {ratio} {f} Hz {level} dB: {err}"
                        );
                        worst = worst.max(err.abs());
                        // The readout is the peak of the reduction over the
                        // last block, ripple included: within 0.2 dB.
                        assert!(
                            (f64::from(readout) - reduction).abs() < 0.2,
                            "{readout} vs {reduction}"
                        );
                    }
                }
            }
        }
        println!("static curve worst {worst:.3} dB");
    }

    #[test]
    fn static_curve_formula() {
        // Below the knee nothing, above it (1 − 1/R)·(x − T), continuous
        // and smooth at the knee edges (Giannoulis et al. 2012).
        assert_eq!(static_reduction_db(-30.0, -18.0, 3.0), 0.0);
        assert_eq!(static_reduction_db(f64::NEG_INFINITY, -18.0, 3.0), 0.0);
        assert!((static_reduction_db(-10.0, -18.0, 3.0) - 8.0 * 2.0 / 3.0).abs() < 1e-12);
        assert!((static_reduction_db(-18.0, -18.0, 3.0) - (2.0 / 3.0) * 9.0 / 12.0).abs() < 1e-12);
        let edge = -18.0 + KNEE_DB / 2.0;
        let inside = static_reduction_db(edge - 1e-9, -18.0, 3.0);
        let outside = static_reduction_db(edge + 1e-9, -18.0, 3.0);
        assert!((inside - outside).abs() < 1e-8);
        assert!(static_reduction_db(-18.0 - KNEE_DB / 2.0 + 1e-9, -18.0, 3.0) < 1e-12);
        assert_eq!(static_reduction_db(0.0, -18.0, 1.0), 0.0);
    }

    #[test]
    fn stabilizer_evens_out_bass_note_levels() {
        // Notes of 55 Hz alternating −10 / −25 dBFS, 1.5 s each (measured
        // over the last 0.3 s of each). From the static curve (T −18 dBFS,
        // R 3, knee 6 dB, LR4 at 120 Hz): the −10 dBFS note's low band
        // (|LP⁴(55 Hz)| = −0.375 dB, so −10.375 dBFS) is reduced by
        // (1 − 1/3)·7.625 = 5.08 dB; with the unreduced high-band share
        // (HP⁴, −27 dB, in a different phase) the note leaves at −14.82 dBFS.
        // The −25 dBFS note is below the knee and leaves at −25.02 dBFS
        // (all-pass). The 15 dB spread becomes 10.20 dB (computed below from
        // the analytic curve; ±0.2 dB; measured 10.194 dB at every rate).
        for fs in RATES {
            let p = LowEndParams {
                stabilizer_enabled: true,
                ..params()
            };
            let mut le = settled(fs, &p);
            let note = whole_cycles_len(55.0, fs, (1.5 * fs) as usize);
            let measure = whole_cycles_len(55.0, fs, (0.3 * fs) as usize);
            let levels = [-10.0, -25.0, -10.0, -25.0];
            let mut l = Vec::new();
            for &level in &levels {
                l.extend(sine(55.0, 10f64.powf(level / 20.0), 0.0, fs, note));
            }
            let mut r = l.clone();
            run(&mut le, &mut l, &mut r, 256);
            let out: Vec<f64> = (0..levels.len())
                .map(|k| {
                    db(tone_amplitude(
                        &l[(k + 1) * note - measure..(k + 1) * note],
                        55.0,
                        fs,
                    ))
                })
                .collect();
            let (lp, hp) = lr4(55.0, 120.0, f64::from(fs));
            let expected = |level: f64| {
                let a = 10f64.powf(level / 20.0);
                let red = static_reduction_db(db(a * lp.abs()), -18.0, 3.0);
                db(a * lp.scale(10f64.powf(-red / 20.0)).add(hp).abs())
            };
            let want_spread = expected(-10.0) - expected(-25.0);
            assert!((want_spread - 10.2).abs() < 0.05, "{want_spread}");
            for pair in out.chunks(2) {
                let spread = pair[0] - pair[1];
                assert!(
                    (spread - want_spread).abs() < 0.2,
                    "{fs}: {spread} vs {want_spread}"
                );
                assert!(spread < 15.0 - 4.8);
            }
        }
    }

    #[test]
    fn stabilizer_leaves_high_band_untouched() {
        for fs in RATES {
            // Heavy settings so the bass is reduced by > 20 dB.
            let p = LowEndParams {
                stabilizer_enabled: true,
                stabilizer_threshold_db: -40.0,
                stabilizer_ratio: 8.0,
                stabilizer_attack_ms: 5.0,
                ..params()
            };
            let mut le = settled(fs, &p);
            let settle = (0.5 * fs) as usize;
            let n = whole_cycles_len(50.0, fs, (0.2 * fs) as usize);
            let bass = sine(50.0, 0.5, 0.0, fs, settle + n);
            let top = sine(1000.0, 0.1, 0.3, fs, settle + n);
            let mut l: Vec<f32> = bass.iter().zip(&top).map(|(a, b)| a + b).collect();
            let mut r = l.clone();
            run(&mut le, &mut l, &mut r, 512);
            assert!(le.gain_reduction_db() > 20.0, "{}", le.gain_reduction_db());
            // 1 kHz: ±0.1 dB (analytically |g·LP⁴ + HP⁴| at 1 kHz differs
            // from 1 by < 0.002 dB for any g).
            let got = tone_amplitude(&l[settle..], 1000.0, fs) / 0.1;
            assert!(db(got).abs() < 0.1, "{fs}: {}", db(got));
            // And the bass is reduced.
            assert!(tone_amplitude(&l[settle..], 50.0, fs) < 0.5 * 0.1);
        }
    }

    #[test]
    fn block_size_invariance_with_parameter_changes() {
        let fs = 48_000.0;
        let len = 24_000;
        let max_block = 1024;
        let (l0, r0) = program(fs, len);
        let mut p = params();
        let mut events = vec![(0, p)];
        p.mono_below_enabled = true;
        events.push((1000, p));
        p.stabilizer_enabled = true;
        p.stabilizer_threshold_db = -30.0;
        events.push((3001, p));
        p.crossover_hz = 250.0;
        events.push((5003, p));
        p.stabilizer_ratio = 8.0;
        p.stabilizer_attack_ms = 5.0;
        events.push((7777, p));
        p.stabilizer_release_ms = 20.0;
        p.crossover_hz = 40.0;
        events.push((9000, p));
        p.mono_below_enabled = false;
        p.stabilizer_threshold_db = 0.0;
        events.push((12_345, p));
        p.stabilizer_enabled = false;
        events.push((15_000, p));
        p.stabilizer_enabled = true;
        events.push((18_000, p));
        let reference = {
            let mut le = LowEnd::new(fs, max_block, 2);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run_with_events(&mut le, &mut l, &mut r, 1, &events);
            (l, r)
        };
        for block in [7, 64, 512, max_block, 4096] {
            let mut le = LowEnd::new(fs, max_block, 2);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run_with_events(&mut le, &mut l, &mut r, block, &events);
            assert!(
                l.iter()
                    .zip(&reference.0)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{block}"
            );
            assert!(
                r.iter()
                    .zip(&reference.1)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{block}"
            );
        }
    }

    #[test]
    fn reset_equals_fresh_instance() {
        for fs in RATES {
            let (l0, r0) = program(fs, 8000);
            let p = LowEndParams {
                mono_below_enabled: true,
                stabilizer_enabled: true,
                stabilizer_threshold_db: -30.0,
                crossover_hz: 180.0,
                ..params()
            };
            let mut used = LowEnd::new(fs, 512, 2);
            used.set_params(&LowEndParams {
                crossover_hz: 60.0,
                stabilizer_ratio: 8.0,
                ..p
            });
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run(&mut used, &mut l, &mut r, 100);
            used.set_params(&p);
            used.reset();
            assert_eq!(used.gain_reduction_db(), 0.0);
            let fresh_out = {
                let mut fresh = LowEnd::new(fs, 512, 2);
                fresh.set_params(&p);
                fresh.reset();
                let (mut l, mut r) = (l0.clone(), r0.clone());
                run(&mut fresh, &mut l, &mut r, 100);
                (l, r)
            };
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run(&mut used, &mut l, &mut r, 100);
            assert!(l
                .iter()
                .zip(&fresh_out.0)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
            assert!(r
                .iter()
                .zip(&fresh_out.1)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    #[test]
    fn automation_in_one_step_does_not_click() {
        // Every parameter jumps from one end of its range to the other at
        // sample 4800 (0.1 s, all states settled) while the program plays.
        // Two bounds on the output from just before the change to 0.4 s
        // after it:
        // * step |y[n] − y[n−1]| < 1.3 × the input's largest step
        //   (0.5·ω(60 Hz) + 0.2·ω(700 Hz) ≈ 0.0222 at 48 kHz): the all-pass
        //   phase and the ramps recombine the tones but add no edge; a hard
        //   on/off switch steps by up to the bass amplitude (~0.33 measured
        //   with the fades shortened to one sample);
        // * curvature |y[n] − 2y[n−1] + y[n−2]| < 1.2 × the input's
        //   (≈ 0.0017): this catches the subtler clicks of switched filter
        //   coefficients — an instant 40 → 250 Hz crossover jump measures
        //   14 × the input's curvature, a 5 ms glide 1.09 ×, the 50 ms glide
        //   1.00 ×.
        // Measured worst over all parameters: step 0.98 ×, curvature 1.00 ×.
        let fs = 48_000.0;
        let len = 24_000;
        let (l0, r0) = program(fs, len);
        let input_step = max_step(&l0).max(max_step(&r0));
        let input_curvature = max_curvature(&l0).max(max_curvature(&r0));
        let base = LowEndParams {
            mono_below_enabled: true,
            stabilizer_enabled: true,
            stabilizer_threshold_db: -40.0,
            stabilizer_ratio: 8.0,
            stabilizer_attack_ms: ATTACK_MIN_MS,
            ..params()
        };
        type Setter = fn(&mut LowEndParams, bool);
        let cases: [(&str, Setter); 7] = [
            ("mono", |p, hi| p.mono_below_enabled = hi),
            ("stabilizer", |p, hi| p.stabilizer_enabled = hi),
            ("crossover", |p, hi| {
                p.crossover_hz = if hi {
                    CROSSOVER_MAX_HZ
                } else {
                    CROSSOVER_MIN_HZ
                }
            }),
            ("threshold", |p, hi| {
                p.stabilizer_threshold_db = if hi {
                    THRESHOLD_MAX_DB
                } else {
                    THRESHOLD_MIN_DB
                }
            }),
            ("ratio", |p, hi| {
                p.stabilizer_ratio = if hi { RATIO_MAX } else { RATIO_MIN }
            }),
            ("attack", |p, hi| {
                p.stabilizer_attack_ms = if hi { ATTACK_MAX_MS } else { ATTACK_MIN_MS }
            }),
            ("release", |p, hi| {
                p.stabilizer_release_ms = if hi { RELEASE_MAX_MS } else { RELEASE_MIN_MS }
            }),
        ];
        let mut worst = (0.0f32, 0.0f32);
        for (name, set) in cases {
            for start_high in [false, true] {
                let mut from = base;
                set(&mut from, start_high);
                let mut to = base;
                set(&mut to, !start_high);
                let mut le = settled(fs, &from);
                let (mut l, mut r) = (l0.clone(), r0.clone());
                run_with_events(&mut le, &mut l, &mut r, 64, &[(0, from), (4800, to)]);
                let step = max_step(&l[4000..]).max(max_step(&r[4000..]));
                let curvature = max_curvature(&l[4000..]).max(max_curvature(&r[4000..]));
                worst.0 = worst.0.max(step / input_step);
                worst.1 = worst.1.max(curvature / input_curvature);
                assert!(
                    step < 1.3 * input_step,
                    "{name} {start_high}: {step} vs {input_step}"
                );
                assert!(
                    curvature < 1.2 * input_curvature,
                    "{name} {start_high}: {curvature} vs {input_curvature}"
                );
            }
        }
        println!(
            "automation worst: step {:.3}, curvature {:.3} × input",
            worst.0, worst.1
        );
    }

    #[test]
    fn crossover_glides_in_log_frequency_and_settles_exactly() {
        let fs = 48_000.0;
        let mut le = settled(
            fs,
            &LowEndParams {
                mono_below_enabled: true,
                ..params()
            },
        );
        le.set_params(&LowEndParams {
            mono_below_enabled: true,
            crossover_hz: 40.0,
            ..params()
        });
        let glide = LinearRamp::samples_for(CROSSOVER_GLIDE_S, fs) as usize;
        let mut l = vec![0.0f32; glide / 2];
        let mut r = l.clone();
        run(&mut le, &mut l, &mut r, 64);
        // Half way in log2: the geometric mean √(120·40) = 69.3 Hz.
        let mid_hz = f64::from(le.coefficients_log2_hz).exp2();
        assert!((mid_hz - (120.0f64 * 40.0).sqrt()).abs() < 0.05, "{mid_hz}");
        let mut l = vec![0.0f32; glide];
        let mut r = l.clone();
        run(&mut le, &mut l, &mut r, 64);
        let target = CrossoverCoefficients::new(f64::from(40f32.log2()).exp2(), f64::from(fs));
        assert_eq!(le.coefficients, target);
    }

    #[test]
    fn non_finite_input_counts_as_zero() {
        for p in [
            params(),
            LowEndParams {
                mono_below_enabled: true,
                stabilizer_enabled: true,
                stabilizer_threshold_db: -30.0,
                ..params()
            },
        ] {
            let fs = 48_000.0;
            let (l0, r0) = program(fs, 4096);
            let mut bad_l = l0.clone();
            let mut bad_r = r0.clone();
            let mut zero_l = l0.clone();
            let mut zero_r = r0.clone();
            for (k, v) in [
                (1100, f32::NAN),
                (1500, f32::INFINITY),
                (1900, f32::NEG_INFINITY),
            ] {
                bad_l[k] = v;
                bad_r[k + 1] = v;
                zero_l[k] = 0.0;
                zero_r[k + 1] = 0.0;
            }
            let mut a = settled(fs, &p);
            let mut b = settled(fs, &p);
            run(&mut a, &mut bad_l, &mut bad_r, 1024);
            run(&mut b, &mut zero_l, &mut zero_r, 1024);
            assert!(bad_l.iter().chain(&bad_r).all(|x| x.is_finite()));
            // Identical from the very same block on (the bad samples are read
            // as zeros), so also from the next block.
            assert_eq!(bad_l, zero_l);
            assert_eq!(bad_r, zero_r);
        }
    }

    #[test]
    fn non_finite_state_is_cleared_within_one_block() {
        let fs = 48_000.0;
        let p = LowEndParams {
            stabilizer_enabled: true,
            mono_below_enabled: true,
            ..params()
        };
        let mut le = settled(fs, &p);
        // Poison the state directly (cannot happen through `process`).
        let c = le.coefficients;
        le.split[0].split(&c, f64::NAN);
        le.detector.reduction_db = f64::INFINITY;
        let (mut l, mut r) = program(fs, 512);
        run(&mut le, &mut l, &mut r, 512);
        let (mut l, mut r) = program(fs, 512);
        run(&mut le, &mut l, &mut r, 512);
        assert!(l.iter().chain(&r).all(|x| x.is_finite()));
        assert!(le.gain_reduction_db().is_finite());
    }

    #[test]
    fn latency_matches_impulse_response() {
        for fs in RATES {
            for p in [
                params(),
                LowEndParams {
                    mono_below_enabled: true,
                    ..params()
                },
                LowEndParams {
                    stabilizer_enabled: true,
                    ..params()
                },
            ] {
                let mut le = settled(fs, &p);
                let mut l = vec![0.0f32; 256];
                l[0] = 0.5;
                let mut r = l.clone();
                run(&mut le, &mut l, &mut r, 256);
                // Onset: the first sample above 10 % of the peak response.
                let peak = l.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                let onset = l.iter().position(|x| x.abs() > 0.1 * peak).unwrap();
                assert_eq!(onset as u32, le.latency_samples());
            }
        }
    }

    #[test]
    fn single_channel_compresses_without_mono() {
        let fs = 48_000.0;
        let mut le = LowEnd::new(fs, 512, 1);
        le.set_params(&LowEndParams {
            mono_below_enabled: true,
            stabilizer_enabled: true,
            ..params()
        });
        le.reset();
        let settle = 24_000;
        let n = whole_cycles_len(60.0, fs, 9600);
        let mut x = sine(60.0, 0.5, 0.0, fs, settle + n);
        for block in x.chunks_mut(500) {
            le.process(&mut [block]);
        }
        let (lp, hp) = lr4(60.0, 120.0, 48_000.0);
        let red = static_reduction_db(db(0.5 * lp.abs()), -18.0, 3.0);
        let want = 0.5 * lp.scale(10f64.powf(-red / 20.0)).add(hp).abs();
        let got = tone_amplitude(&x[settle..], 60.0, fs);
        assert!((db(got) - db(want)).abs() < 0.1);
        // A stereo instance also accepts a single channel.
        let mut le = LowEnd::new(fs, 512, 2);
        le.set_params(&LowEndParams {
            mono_below_enabled: true,
            ..params()
        });
        let mut x = sine(60.0, 0.5, 0.0, fs, 1000);
        le.process(&mut [&mut x]);
        assert!(x.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn parameters_are_sanitised() {
        let p = LowEndParams {
            crossover_hz: f32::NAN,
            stabilizer_threshold_db: -100.0,
            stabilizer_ratio: 100.0,
            stabilizer_attack_ms: 0.0,
            stabilizer_release_ms: f32::INFINITY,
            ..params()
        }
        .sanitized();
        assert_eq!(p.crossover_hz, 120.0);
        assert_eq!(p.stabilizer_threshold_db, THRESHOLD_MIN_DB);
        assert_eq!(p.stabilizer_ratio, RATIO_MAX);
        assert_eq!(p.stabilizer_attack_ms, ATTACK_MIN_MS);
        assert_eq!(p.stabilizer_release_ms, 250.0);
        assert_eq!(
            LowEndParams {
                crossover_hz: 1.0e6,
                ..params()
            }
            .sanitized()
            .crossover_hz,
            CROSSOVER_MAX_HZ
        );
    }
}
