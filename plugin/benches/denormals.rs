//! Denormals: processing silence after a loud burst must cost no more than
//! processing audio. Recursive filters decaying towards silence reach
//! subnormal numbers, which x86 CPUs process up to a hundred times slower;
//! the engine flushes them to zero on the audio thread
//! (`dsp::denormal::FlushDenormals`).
//!
//! Printed, every module on, stereo 48 kHz, 512-frame blocks, best of five
//! [median]:
//! - the engine on 19 s of silence after a 1 s full-scale noise burst, and
//!   on 19 s of programme after 1 s of programme, and their ratio (the
//!   target: ≤ 1.0, with a 10 % allowance for noise of the measurement);
//! - the peer that shows what is at stake on this machine: a one-pole
//!   filter whose state sits in the subnormal range, timed with and without
//!   flush-to-zero.
//!
//! `cargo bench -p stem_master --bench denormals`.

use std::hint::black_box;
use std::time::{Duration, Instant};
use stem_master::dsp::denormal::FlushDenormals;
use stem_master::engine::{Engine, EngineSettings};

mod common;
use common::{every_module_on, programme, Programme};

const RATE: usize = 48_000;
const BLOCK: usize = 512;
const RUNS: usize = 5;
/// Seconds of lead-in (burst or programme), not timed.
const LEAD_S: usize = 1;
/// Seconds timed after the lead-in.
const TIMED_S: usize = 19;

const PROGRAMME: Programme = Programme {
    low_hz: 55.0,
    low_step_hz: 10.0,
    low_level: 0.3,
    high_hz: 3000.0,
    high_level: 0.2,
    noise_level: 0.15,
    pulsing: true,
    seed: 0x1357_9bdf,
};

/// Time to process `signal` after `lead` (untimed) through a fresh engine.
fn run(lead: &[Vec<f32>], signal: &[Vec<f32>], settings: &EngineSettings) -> Duration {
    let mut engine = Engine::new();
    engine.prepare(RATE as f32, BLOCK, 2).unwrap();
    engine.set_settings(settings);
    engine.reset();
    let (mut l, mut r) = (lead[0].clone(), lead[1].clone());
    for (l, r) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
        engine.process(&mut [l, r]);
    }
    let (mut left, mut right) = (signal[0].clone(), signal[1].clone());
    let start = Instant::now();
    for (l, r) in left.chunks_mut(BLOCK).zip(right.chunks_mut(BLOCK)) {
        engine.process(&mut [l, r]);
    }
    black_box((&left, &right));
    start.elapsed()
}

/// A one-pole low-pass whose state starts at the smallest normal f32 and
/// decays through the subnormal range, over `samples` zeros.
fn subnormal_one_pole(samples: usize) -> Duration {
    let mut y = black_box(f32::MIN_POSITIVE);
    let a = black_box(0.999_999_9f32);
    let input = black_box(vec![0.0f32; samples]);
    let start = Instant::now();
    for &x in &input {
        y = a * y + (1.0 - a) * x;
    }
    black_box(y);
    start.elapsed()
}

fn best_and_median(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { RUNS };
    let settings = every_module_on();
    let programme = programme(RATE, LEAD_S + TIMED_S, &PROGRAMME);
    let split = |signal: &[Vec<f32>]| -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        let at = LEAD_S * RATE;
        (
            signal.iter().map(|c| c[..at].to_vec()).collect(),
            signal.iter().map(|c| c[at..].to_vec()).collect(),
        )
    };
    let (audio_lead, audio) = split(&programme);
    // A full-scale noise burst (xorshift), then digital silence.
    let mut seed = 0x2545_f491u32;
    let burst: Vec<Vec<f32>> = (0..2)
        .map(|_| {
            (0..LEAD_S * RATE)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    (seed as f32 / u32::MAX as f32) * 2.0 - 1.0
                })
                .collect()
        })
        .collect();
    let silence = vec![vec![0.0f32; TIMED_S * RATE]; 2];

    black_box(run(&audio_lead, &audio, &settings));
    let (audio_best, audio_median) = best_and_median(
        (0..runs)
            .map(|_| run(&audio_lead, &audio, &settings))
            .collect(),
    );
    let (silence_best, silence_median) = best_and_median(
        (0..runs)
            .map(|_| run(&burst, &silence, &settings))
            .collect(),
    );
    let ns = |t: Duration| t.as_secs_f64() * 1e9 / (TIMED_S * RATE) as f64;
    println!(
        "denormals, every module on, stereo 48 kHz, {BLOCK}-frame blocks, best of {runs} [median]:"
    );
    println!(
        "  programme after programme       {:6.1} [{:6.1}] ns/frame",
        ns(audio_best),
        ns(audio_median)
    );
    println!(
        "  silence after a full-scale burst {:6.1} [{:6.1}] ns/frame",
        ns(silence_best),
        ns(silence_median)
    );
    let ratio = ns(silence_best) / ns(audio_best);
    println!(
        "  silence ÷ programme: {ratio:.2} [{:.2}] (target ≤ 1.0 + 10 % measurement allowance: {})",
        ns(silence_median) / ns(audio_median),
        if ratio <= 1.1 { "met" } else { "NOT MET" }
    );

    let samples = 20_000_000;
    let plain = best_and_median((0..runs).map(|_| subnormal_one_pole(samples)).collect()).0;
    let flushed = best_and_median(
        (0..runs)
            .map(|_| {
                let _ftz = FlushDenormals::enable();
                subnormal_one_pole(samples)
            })
            .collect(),
    )
    .0;
    let per = |t: Duration| t.as_secs_f64() * 1e9 / samples as f64;
    println!(
        "  peer: a one-pole filter in the subnormal range, {:.2} ns/sample plain, {:.2} with flush-to-zero: {:.1}× slower without it",
        per(plain),
        per(flushed),
        per(plain) / per(flushed)
    );
}
