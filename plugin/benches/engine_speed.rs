//! CPU cost of the whole engine per instance, stereo 48 kHz, 512-frame
//! blocks: the plain bypass, the Full Mix starting point (glue and
//! limiter, the default role), each module alone and every module on, all
//! with the meters. Printed as ns per frame, × real time and % of one core
//! (processing time ÷ audio duration), and as a ratio to the plain bypass
//! measured in the same run. Each case runs five times; the figures are the
//! best run (the cost without interference from other work on the machine)
//! and, in brackets, the median. The target: the Full Mix starting
//! point at ≥ 300× real time (≤ 0.33 % of a core).
//!
//! `cargo bench -p stem_master --bench engine_speed` (or `cargo xtask bench`);
//! an extra argument runs only the cases whose name contains it.

use std::hint::black_box;
use std::time::{Duration, Instant};
use stem_master::engine::{Engine, EngineSettings};
use stem_master::params::{role_starting_point, set_from_text, StemMasterParams};
use stem_master::role::StemRole;

mod common;
use common::{every_module_on, programme, Programme};

const SECONDS: usize = 20;
const BLOCK: usize = 512;
const RUNS: usize = 5;

/// The programme this bench feeds.
const PROGRAMME: Programme = Programme {
    low_hz: 55.0,
    low_step_hz: 10.0,
    low_level: 0.3,
    high_hz: 3000.0,
    high_level: 0.2,
    noise_level: 0.15,
    pulsing: true,
    seed: 0x2468_ace1,
};

fn run(signal: &[Vec<f32>], rate: usize, settings: &EngineSettings) -> Duration {
    let mut engine = Engine::new();
    engine.prepare(rate as f32, BLOCK, 2).unwrap();
    engine.set_settings(settings);
    engine.reset();
    let mut left = signal[0].clone();
    let mut right = signal[1].clone();
    let start = Instant::now();
    for (l, r) in left.chunks_mut(BLOCK).zip(right.chunks_mut(BLOCK)) {
        engine.process(&mut [l, r]);
    }
    black_box((&left, &right));
    start.elapsed()
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    let runs = if quick { 1 } else { RUNS };
    let full_mix = {
        let params = StemMasterParams::default();
        for (id, value) in role_starting_point(StemRole::FullMix) {
            set_from_text(&params, &id, &value).expect("the starting point is valid");
        }
        params.engine_settings()
    };
    // The same with 6 dB more into the limiter, so it works all the time
    // (the programme alone stays under the ceiling after the glue).
    let mut full_mix_limiting = full_mix;
    full_mix_limiting.limiter.drive_db = 6.0;
    let bypassed = EngineSettings {
        bypass: true,
        ..EngineSettings::default()
    };
    let rate = 48_000;
    let signal = programme(rate, SECONDS, &PROGRAMME);
    let audio = Duration::from_secs(SECONDS as u64);
    let base = EngineSettings::default();
    let all = every_module_on();
    let only = |f: fn(&mut EngineSettings)| {
        let mut s = base;
        f(&mut s);
        s
    };
    let cases: [(&str, EngineSettings); 13] = [
        ("plain bypass", bypassed),
        ("Full Mix starting point (glue, limiter)", full_mix),
        ("Full Mix, limiter working (+6 dB drive)", full_mix_limiting),
        ("engine, all modules off (meters only)", base),
        (
            "tone",
            only(|s| {
                s.tone_on = true;
                s.tone.bell_db = -3.0;
                s.tone.low_cut_enabled = true
            }),
        ),
        ("de-harsh", only(|s| s.deharsh_on = true)),
        (
            "low end (mono + stabilizer)",
            only(|s| {
                s.low_end_on = true;
                s.low_end.mono_below_enabled = true;
                s.low_end.stabilizer_enabled = true
            }),
        ),
        ("glue", only(|s| s.glue_on = true)),
        (
            "punch",
            only(|s| {
                s.punch_on = true;
                s.punch.attack_db = 3.0
            }),
        ),
        (
            "width",
            only(|s| {
                s.width_on = true;
                s.width.side_gain_percent = 120.0
            }),
        ),
        (
            "limiter (+6 dB drive)",
            only(|s| {
                s.limiter_on = true;
                s.limiter.drive_db = 6.0
            }),
        ),
        ("gain-matched A/B on", only(|s| s.compare_original = true)),
        ("full chain, every module on", all),
    ];
    println!(
        "engine CPU, stereo 48 kHz, {BLOCK}-frame blocks, {SECONDS} s, best of {runs} [median]:"
    );
    // One untimed pass first, so the clock and caches have settled before
    // the bypass (the reference of every ratio) is timed.
    black_box(run(&signal, rate, &full_mix));
    let mut bypass_ns = None;
    for (name, settings) in cases {
        // The bypass always runs: it is the reference of the ratios.
        if !(name.contains(filter.as_str()) || name == "plain bypass") {
            continue;
        }
        let mut times: Vec<Duration> = (0..runs).map(|_| run(&signal, rate, &settings)).collect();
        times.sort();
        let (best, median) = (times[0], times[times.len() / 2]);
        let share = |time: Duration| time.as_secs_f64() / audio.as_secs_f64() * 100.0;
        let ns = |time: Duration| time.as_secs_f64() * 1e9 / (rate * SECONDS) as f64;
        let real_time = |time: Duration| audio.as_secs_f64() / time.as_secs_f64();
        let ratio = *bypass_ns.get_or_insert(ns(best));
        println!(
            "  {name:<42} {:6.1} [{:6.1}] ns/frame {:5.0}× [{:5.0}×] real time {:5.3} [{:5.3}] % of a core  {:4.2}× the bypass",
            ns(best),
            ns(median),
            real_time(best),
            real_time(median),
            share(best),
            share(median),
            ns(best) / ratio
        );
    }
}
