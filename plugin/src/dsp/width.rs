//! Stereo width (mid/side side gain) and balance.
//!
//! # Width
//!
//! With mid `M = (L + R)/2` and side `S = (L − R)/2` (the sum/difference
//! matrix of M/S stereo, A. D. Blumlein, GB patent 394325, 1931; see e.g.
//! U. Zölzer (ed.), "DAFX: Digital Audio Effects", 2nd ed., Wiley 2011,
//! chapter on spatial effects, and M. Dickreiter et al., "Handbuch der
//! Tonstudiotechnik", chapter on stereophony), the side is scaled by
//! `g = side_gain_percent / 100` and decoded again:
//!
//! ```text
//! L' = M + g·S = ½(1+g)·L + ½(1−g)·R
//! R' = M − g·S = ½(1−g)·L + ½(1+g)·R
//! ```
//!
//! The right-hand (matrix) form is what is computed: it is exact at the
//! special points, because ½(1±g) are exact binary fractions there:
//! g = 1 gives L' = 1·L + 0·R = L, g = 0 gives L' = R' = ½L + ½R bit-exactly
//! (mono, "L = R = mid exactly"), g = 2 gives 1.5·L − 0.5·R (side +6.02 dB).
//! The side-to-mid ratio changes by 20·log10(g) dB; the mid is untouched.
//!
//! # Balance
//!
//! Linear-amplitude balance after the width stage, as on a mixing-desk
//! balance control for a stereo signal: the channel the balance turns away
//! from is attenuated by the factor `1 − |b|`, the other stays at unity.
//! **Positive = right louder**: `b = +0.5` leaves the right channel at 0 dB
//! and the left at ×0.5 (−6.02 dB); `b = +1` mutes the left. So the centre
//! is unity on both sides (bit-transparent default) and balance never adds
//! gain (no new peaks for the limiter downstream). It is not a constant-power
//! law: the total power falls as the balance moves off centre (by
//! 10·log10((1 + (1−|b|)²)/2) dB for uncorrelated equal channels).
//!
//! # Mono input
//!
//! With one channel there is no side and no balance: the signal passes
//! unchanged (non-finite samples become 0.0); both parameters are ignored.
//!
//! # Smoothing, determinism, cost
//!
//! Both parameters ramp linearly per sample over [`RAMP_S`] (side gain as the
//! factor g, balance as b), so the output does not depend on the block
//! split. At exactly the default values, once the ramps have settled, the
//! processing is skipped (output = input, bit-identical). Non-finite input
//! samples are read as 0.0; the matrix runs in `f64`. The module has no memory besides the ramps:
//! latency 0, nothing that could become non-finite.

use crate::dsp::smoothing::LinearRamp;

/// Smallest side gain, % (mono).
pub const SIDE_GAIN_MIN_PERCENT: f32 = 0.0;
/// Largest side gain, % (side +6.02 dB).
pub const SIDE_GAIN_MAX_PERCENT: f32 = 200.0;
/// Balance fully left (right channel muted).
pub const BALANCE_MIN: f32 = -1.0;
/// Balance fully right (left channel muted).
pub const BALANCE_MAX: f32 = 1.0;
/// Ramp time of both parameters, seconds.
pub const RAMP_S: f32 = 0.02;

/// Parameters of [`Width`]. Out-of-range values are clamped, non-finite ones
/// replaced by the default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WidthParams {
    /// Side channel gain, %, 0..=200, default 100 (unchanged). 0 = mono,
    /// 200 = side ×2 (+6.02 dB).
    pub side_gain_percent: f32,
    /// Balance, −1..=+1, default 0 (centre). Positive = right louder (the left
    /// channel is scaled by 1 − b), negative = left louder (the right is
    /// scaled by 1 + b). Linear amplitude law; see the module documentation.
    pub balance: f32,
}

impl Default for WidthParams {
    fn default() -> Self {
        Self {
            side_gain_percent: 100.0,
            balance: 0.0,
        }
    }
}

impl WidthParams {
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
            side_gain_percent: fix(
                self.side_gain_percent,
                d.side_gain_percent,
                SIDE_GAIN_MIN_PERCENT,
                SIDE_GAIN_MAX_PERCENT,
            ),
            balance: fix(self.balance, d.balance, BALANCE_MIN, BALANCE_MAX),
        }
    }
}

/// Channel gains of the balance law for balance `b` (−1..=1): (left, right),
/// linear factors.
#[inline]
pub fn balance_gains(b: f32) -> (f32, f32) {
    ((1.0 - b).min(1.0), (1.0 + b).min(1.0))
}

/// Mid/side width and balance. See the module documentation.
pub struct Width {
    /// Channels the instance was prepared for (1 or 2).
    channels: usize,
    /// The last parameters set (sanitised).
    params: WidthParams,
    /// Side gain g as a factor (0..=2), ramping over [`RAMP_S`].
    side_gain: LinearRamp,
    /// Balance b (−1..=1), ramping over [`RAMP_S`].
    balance: LinearRamp,
}

impl Width {
    /// An instance with default (transparent) parameters for `channels`
    /// (1 or 2) at `sample_rate_hz`. `max_block` is accepted for the common
    /// API; the module needs no buffers and handles any block length.
    pub fn new(sample_rate_hz: f32, max_block: usize, channels: usize) -> Self {
        let _ = max_block;
        let ramp = LinearRamp::samples_for(RAMP_S, sample_rate_hz.max(1.0));
        let d = WidthParams::default();
        Self {
            channels: channels.clamp(1, 2),
            params: d,
            side_gain: LinearRamp::new(d.side_gain_percent * 0.01, ramp),
            balance: LinearRamp::new(d.balance, ramp),
        }
    }

    /// Sets new targets; the ramps run inside `process`. Cheap when nothing
    /// changed.
    pub fn set_params(&mut self, params: &WidthParams) {
        let p = params.sanitized();
        self.params = p;
        self.side_gain.set_target(p.side_gain_percent * 0.01);
        self.balance.set_target(p.balance);
    }

    /// Jumps both ramps to their targets, as a fresh instance with the
    /// current parameters (there is no other state).
    pub fn reset(&mut self) {
        self.side_gain.snap_to_target();
        self.balance.snap_to_target();
    }

    /// No look-ahead: always 0.
    pub fn latency_samples(&self) -> u32 {
        0
    }

    /// The current (sanitised) parameters.
    pub fn params(&self) -> &WidthParams {
        &self.params
    }

    /// Processes planar audio in place: two channels (left, right) get width
    /// and balance; a single channel passes unchanged; further channels are
    /// left untouched. Channels of unequal length are processed up to the
    /// shortest.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let n_ch = channels.len().min(self.channels);
        if n_ch == 0 {
            return;
        }
        let len = channels[..n_ch].iter().map(|c| c.len()).min().unwrap_or(0);
        let (first, rest) = channels.split_at_mut(1);
        let left = &mut first[0][..len];
        if n_ch == 1 {
            // Nothing to widen or balance: parameters are ignored.
            self.reset();
            left.iter_mut().for_each(|x| *x = sanitize(*x));
            return;
        }
        let right = &mut rest[0][..len];
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let x_l = sanitize(*l);
            let x_r = sanitize(*r);
            if self.is_transparent() {
                // Settled at the defaults: skip the arithmetic (bit-exact).
                *l = x_l;
                *r = x_r;
                continue;
            }
            let g = f64::from(self.side_gain.advance());
            let (gain_l, gain_r) = balance_gains(self.balance.advance());
            let (x_l, x_r) = (f64::from(x_l), f64::from(x_r));
            let direct = 0.5 * (1.0 + g);
            let cross = 0.5 * (1.0 - g);
            *l = (f64::from(gain_l) * (direct * x_l + cross * x_r)) as f32;
            *r = (f64::from(gain_r) * (cross * x_l + direct * x_r)) as f32;
        }
    }

    /// Whether both ramps rest at the defaults (side ×1, balance 0).
    #[inline]
    fn is_transparent(&self) -> bool {
        self.side_gain.is_settled()
            && self.balance.is_settled()
            && self.side_gain.value() == 1.0
            && self.balance.value() == 0.0
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        sine_with_phase as sine, xorshift_noise as noise, PROCESSOR_RATES as RATES,
    };

    fn energy(x: &[f32]) -> f64 {
        x.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
    }

    fn db_power(ratio: f64) -> f64 {
        10.0 * ratio.log10()
    }

    fn bits_equal(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    /// A fresh stereo instance with `p` applied and settled.
    fn settled(fs: f32, p: WidthParams) -> Width {
        let mut w = Width::new(fs, 512, 2);
        w.set_params(&p);
        w.reset();
        w
    }

    fn run(w: &mut Width, l: &mut [f32], r: &mut [f32], block: usize) {
        for (a, b) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
            w.process(&mut [a, b]);
        }
    }

    /// Processes with `set_params` at the given sample positions, in blocks
    /// of at most `block` samples.
    fn run_with_events(
        w: &mut Width,
        l: &mut [f32],
        r: &mut [f32],
        block: usize,
        events: &[(usize, WidthParams)],
    ) {
        let len = l.len();
        let (mut pos, mut ev) = (0, 0);
        while pos < len {
            while ev < events.len() && events[ev].0 <= pos {
                w.set_params(&events[ev].1);
                ev += 1;
            }
            let next_event = events.get(ev).map_or(len, |e| e.0);
            let end = (pos + block).min(next_event).min(len);
            w.process(&mut [&mut l[pos..end], &mut r[pos..end]]);
            pos = end;
        }
    }

    fn width(percent: f32, balance: f32) -> WidthParams {
        WidthParams {
            side_gain_percent: percent,
            balance,
        }
    }

    /// Stereo program with independent mid and side content.
    fn program(fs: f32, len: usize) -> (Vec<f32>, Vec<f32>) {
        let mid = sine(100.0, 0.4, 0.0, fs, len);
        let side = sine(300.0, 0.2, 0.5, fs, len);
        let l = mid.iter().zip(&side).map(|(m, s)| m + s).collect();
        let r = mid.iter().zip(&side).map(|(m, s)| m - s).collect();
        (l, r)
    }

    #[test]
    fn defaults_are_bit_transparent() {
        for fs in RATES {
            let mut w = Width::new(fs, 512, 2);
            w.set_params(&WidthParams::default());
            let mut l0 = noise(3, 2.0, 4000);
            l0[5] = -0.0;
            l0[6] = f32::MIN_POSITIVE / 2.0;
            let r0 = noise(4, 0.5, 4000);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run(&mut w, &mut l, &mut r, 77);
            assert!(bits_equal(&l, &l0) && bits_equal(&r, &r0));
            // Returning to the defaults: the sample on which both ramps land
            // still goes through the matrix, which is exact at g = 1, b = 0
            // (coefficients 1 and 0), and from then on the input passes.
            let n = LinearRamp::samples_for(RAMP_S, fs) as usize;
            let mut w = settled(fs, width(150.0, 0.5));
            w.set_params(&WidthParams::default());
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run(&mut w, &mut l, &mut r, 64);
            assert!(l[n - 2] != l0[n - 2]);
            assert!(bits_equal(&l[n - 1..], &l0[n - 1..]));
            assert!(bits_equal(&r[n - 1..], &r0[n - 1..]));
        }
    }

    #[test]
    fn width_zero_gives_exact_mid_on_both_channels() {
        for fs in RATES {
            let mut w = settled(fs, width(0.0, 0.0));
            let l0 = noise(5, 1.0, 3000);
            let r0 = noise(6, 1.0, 3000);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run(&mut w, &mut l, &mut r, 64);
            assert!(bits_equal(&l, &r));
            for k in 0..l.len() {
                let mid = ((f64::from(l0[k]) + f64::from(r0[k])) / 2.0) as f32;
                assert_eq!(l[k].to_bits(), mid.to_bits());
            }
        }
    }

    #[test]
    fn width_200_doubles_the_side_and_keeps_the_mid() {
        for fs in RATES {
            let mut w = settled(fs, width(200.0, 0.0));
            let l0 = noise(7, 0.5, 3000);
            let r0 = noise(8, 0.5, 3000);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run(&mut w, &mut l, &mut r, 64);
            for k in 0..l.len() {
                let (m0, s0) = ((l0[k] + r0[k]) / 2.0, (l0[k] - r0[k]) / 2.0);
                let (m, s) = ((l[k] + r[k]) / 2.0, (l[k] - r[k]) / 2.0);
                // f32 rounding of the output and of this check: 1e-6 at ±1.
                assert!((m - m0).abs() < 1e-6);
                assert!((s - 2.0 * s0).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn side_to_mid_ratio_changes_by_20_log10_g() {
        // Measured S/M energy ratio (mid 100 Hz, side 300 Hz) against the
        // input's, ±0.001 dB (f32 rounding only).
        let fs = 48_000.0;
        let len = 48_000;
        let (l0, r0) = program(fs, len);
        let side_to_mid = |l: &[f32], r: &[f32]| {
            let m: Vec<f32> = l.iter().zip(r).map(|(a, b)| (a + b) / 2.0).collect();
            let s: Vec<f32> = l.iter().zip(r).map(|(a, b)| (a - b) / 2.0).collect();
            db_power(energy(&s) / energy(&m))
        };
        let before = side_to_mid(&l0, &r0);
        for percent in [10.0f32, 25.0, 50.0, 70.7, 141.4, 200.0] {
            let mut w = settled(fs, width(percent, 0.0));
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run(&mut w, &mut l, &mut r, 512);
            let change = side_to_mid(&l, &r) - before;
            let want = 20.0 * f64::from(percent / 100.0).log10();
            assert!(
                (change - want).abs() < 1e-3,
                "{percent}: {change} vs {want}"
            );
        }
    }

    #[test]
    fn balance_law_measured() {
        // Linear law, positive = right louder: L × min(1, 1 − b),
        // R × min(1, 1 + b). Measured as channel energy ratios, ±0.001 dB
        // (f32 rounding); b = ±1 mutes the other channel completely.
        for fs in RATES {
            let (l0, r0) = program(fs, 9600);
            for b in [-1.0f32, -0.75, -0.5, -0.25, 0.25, 0.5, 0.75, 1.0] {
                let mut w = settled(fs, width(100.0, b));
                let (mut l, mut r) = (l0.clone(), r0.clone());
                run(&mut w, &mut l, &mut r, 512);
                let want_l = (1.0 - f64::from(b)).min(1.0);
                let want_r = (1.0 + f64::from(b)).min(1.0);
                for (out, inp, want) in [(&l, &l0, want_l), (&r, &r0, want_r)] {
                    if want == 0.0 {
                        assert!(out.iter().all(|&x| x == 0.0));
                    } else {
                        let got = db_power(energy(out) / energy(inp));
                        let want = 20.0 * want.log10();
                        assert!((got - want).abs() < 1e-3, "{b}: {got} vs {want}");
                    }
                }
            }
            // b = +0.5: left −6.02 dB, right 0 dB.
            assert_eq!(balance_gains(0.5), (0.5, 1.0));
            assert_eq!(balance_gains(-0.5), (1.0, 0.5));
            assert_eq!(balance_gains(0.0), (1.0, 1.0));
        }
    }

    #[test]
    fn mono_input_passes_unchanged() {
        for fs in RATES {
            for channels in [1, 2] {
                let mut w = Width::new(fs, 512, channels);
                w.set_params(&width(0.0, 1.0));
                let x0 = noise(9, 1.0, 2000);
                let mut x = x0.clone();
                for block in x.chunks_mut(100) {
                    w.process(&mut [block]);
                }
                assert!(bits_equal(&x, &x0));
            }
            // A mono instance handed two channels only touches the first.
            let mut w = Width::new(fs, 512, 1);
            w.set_params(&width(0.0, 1.0));
            let (mut l, mut r) = (noise(1, 1.0, 100), noise(2, 1.0, 100));
            let (l0, r0) = (l.clone(), r.clone());
            w.process(&mut [&mut l, &mut r]);
            assert!(bits_equal(&l, &l0) && bits_equal(&r, &r0));
        }
    }

    #[test]
    fn both_parameters_ramp_linearly_over_20_ms() {
        for fs in RATES {
            let n = LinearRamp::samples_for(RAMP_S, fs) as usize;
            assert_eq!(n, (0.02 * f64::from(fs)).round() as usize);
            // DC input L = 1, R = 0: M = S = ½, so L' = ½(1 + g), R' = ½(1 − g)
            // before balance. Width 100 → 200 %: L' goes 1 → 1.5 in n equal
            // steps of 0.5/n.
            let mut w = settled(fs, WidthParams::default());
            w.set_params(&width(200.0, 0.0));
            let (mut l, mut r) = (vec![1.0f32; n + 10], vec![0.0f32; n + 10]);
            run(&mut w, &mut l, &mut r, 37);
            for k in 0..n + 10 {
                let g = 1.0 + ((k + 1).min(n) as f64) / n as f64;
                assert!((f64::from(l[k]) - 0.5 * (1.0 + g)).abs() < 1e-6, "{k}");
                assert!((f64::from(r[k]) - 0.5 * (1.0 - g)).abs() < 1e-6, "{k}");
            }
            assert_eq!(l[n + 5], 1.5);
            // Balance 0 → +1 on L = R = 1: L' goes 1 → 0 in steps of 1/n.
            let mut w = settled(fs, WidthParams::default());
            w.set_params(&width(100.0, 1.0));
            let (mut l, mut r) = (vec![1.0f32; n + 10], vec![1.0f32; n + 10]);
            run(&mut w, &mut l, &mut r, 37);
            for k in 0..n + 10 {
                let b = ((k + 1).min(n) as f64) / n as f64;
                assert!((f64::from(l[k]) - (1.0 - b)).abs() < 1e-6, "{k}");
                assert_eq!(r[k], 1.0);
            }
            assert_eq!(l[n + 5], 0.0);
        }
    }

    #[test]
    fn automation_in_one_step_has_bounded_steps() {
        // Width 0 ↔ 200 % and balance −1 ↔ +1 in one step on the program
        // (mid 0.4 at 100 Hz, side 0.2 at 300 Hz). The output's sample step
        // is bounded by the static output's own slope at the worse end
        // setting plus the ramp's contribution |Δcoefficient|·|input|:
        // Δ(½(1±g)) = 1/n per sample for width (2/n over the range), and
        // Δgain = 2/n for balance, times the peak input (0.6). The bound
        // used: max static step + 2·0.6/n + 1e-6 (f32 rounding).
        let fs = 48_000.0;
        let n = LinearRamp::samples_for(RAMP_S, fs) as f32;
        let len = 9600;
        let (l0, r0) = program(fs, len);
        let max_step = |x: &[f32]| {
            x.windows(2)
                .map(|w| (w[1] - w[0]).abs())
                .fold(0.0f32, f32::max)
        };
        let static_step = |p: WidthParams| {
            let mut w = settled(fs, p);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run(&mut w, &mut l, &mut r, 512);
            max_step(&l).max(max_step(&r))
        };
        let cases = [
            (width(0.0, 0.0), width(200.0, 0.0)),
            (width(200.0, 0.0), width(0.0, 0.0)),
            (width(100.0, -1.0), width(100.0, 1.0)),
            (width(100.0, 1.0), width(100.0, -1.0)),
            (width(0.0, -1.0), width(200.0, 1.0)),
        ];
        for (from, to) in cases {
            let bound = static_step(from).max(static_step(to)) + 2.0 * 0.6 / n + 1e-6;
            let mut w = settled(fs, from);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run_with_events(&mut w, &mut l, &mut r, 64, &[(0, from), (4800, to)]);
            let step = max_step(&l).max(max_step(&r));
            assert!(step <= bound, "{from:?} → {to:?}: {step} > {bound}");
            // A hard switch would step by up to the full side/balance swing.
            assert!(bound < 0.1);
        }
    }

    #[test]
    fn block_size_invariance_with_parameter_changes() {
        let fs = 48_000.0;
        let max_block = 1024;
        let l0 = noise(11, 1.0, 12_000);
        let r0 = noise(12, 1.0, 12_000);
        let events = [
            (0, WidthParams::default()),
            (500, width(0.0, 0.0)),
            (1801, width(200.0, 0.3)),
            (3333, width(150.0, -1.0)),
            (3400, width(100.0, 0.0)),
            (7000, width(37.0, 0.9)),
            (9999, WidthParams::default()),
        ];
        let reference = {
            let mut w = Width::new(fs, max_block, 2);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run_with_events(&mut w, &mut l, &mut r, 1, &events);
            (l, r)
        };
        for block in [7, 64, 512, max_block, 4096] {
            let mut w = Width::new(fs, max_block, 2);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            run_with_events(&mut w, &mut l, &mut r, block, &events);
            assert!(
                bits_equal(&l, &reference.0) && bits_equal(&r, &reference.1),
                "{block}"
            );
        }
    }

    #[test]
    fn reset_equals_fresh_instance() {
        for fs in RATES {
            let p = width(160.0, -0.4);
            let mut used = Width::new(fs, 512, 2);
            used.set_params(&width(10.0, 0.8));
            let (mut l, mut r) = program(fs, 3000);
            run(&mut used, &mut l, &mut r, 100);
            used.set_params(&p);
            used.reset();
            let mut fresh = settled(fs, p);
            let (mut l1, mut r1) = program(fs, 3000);
            let (mut l2, mut r2) = program(fs, 3000);
            run(&mut used, &mut l1, &mut r1, 100);
            run(&mut fresh, &mut l2, &mut r2, 100);
            assert!(bits_equal(&l1, &l2) && bits_equal(&r1, &r2));
            assert_eq!(used.params(), fresh.params());
        }
    }

    #[test]
    fn non_finite_input_counts_as_zero() {
        for p in [WidthParams::default(), width(150.0, 0.3)] {
            let fs = 48_000.0;
            let (l0, r0) = program(fs, 2048);
            let (mut bad_l, mut bad_r) = (l0.clone(), r0.clone());
            let (mut zero_l, mut zero_r) = (l0.clone(), r0.clone());
            for (k, v) in [
                (700, f32::NAN),
                (701, f32::INFINITY),
                (900, f32::NEG_INFINITY),
            ] {
                bad_l[k] = v;
                bad_r[k + 3] = v;
                zero_l[k] = 0.0;
                zero_r[k + 3] = 0.0;
            }
            let mut a = settled(fs, p);
            let mut b = settled(fs, p);
            run(&mut a, &mut bad_l, &mut bad_r, 512);
            run(&mut b, &mut zero_l, &mut zero_r, 512);
            assert!(bad_l.iter().chain(&bad_r).all(|x| x.is_finite()));
            assert!(bits_equal(&bad_l, &zero_l) && bits_equal(&bad_r, &zero_r));
        }
        // Mono: sanitised too.
        let mut w = Width::new(48_000.0, 64, 1);
        let mut x = [1.0, f32::NAN, f32::INFINITY, -2.0];
        w.process(&mut [&mut x]);
        assert_eq!(x, [1.0, 0.0, 0.0, -2.0]);
    }

    #[test]
    fn latency_matches_impulse_response() {
        for fs in RATES {
            for p in [WidthParams::default(), width(200.0, 0.5), width(0.0, -0.2)] {
                let mut w = settled(fs, p);
                let (mut l, mut r) = (vec![0.0f32; 64], vec![0.0f32; 64]);
                l[0] = 1.0;
                run(&mut w, &mut l, &mut r, 64);
                let peak = l.iter().chain(&r).fold(0.0f32, |m, x| m.max(x.abs()));
                let onset = l
                    .iter()
                    .zip(&r)
                    .position(|(a, b)| a.abs().max(b.abs()) > 0.1 * peak)
                    .unwrap();
                assert_eq!(onset as u32, w.latency_samples());
                assert!(l[1..].iter().chain(&r[1..]).all(|&x| x == 0.0));
            }
        }
    }

    #[test]
    fn parameters_are_sanitised() {
        let p = width(f32::NAN, 5.0).sanitized();
        assert_eq!(p, width(100.0, 1.0));
        let p = width(-10.0, f32::NEG_INFINITY).sanitized();
        assert_eq!(p, width(0.0, 0.0));
        assert_eq!(width(1000.0, -3.0).sanitized(), width(200.0, -1.0));
    }
}
