//! The engine as the plugin and the CLI drive it: block-size invariance,
//! reset, automation without zipper noise, bypass, bad input, and no
//! allocation while processing.

mod common;

use common::{gain, max_step, test_signal};
use stem_master::engine::{Engine, EngineSettings, BYPASS_CROSSFADE_SECONDS, TRIM_RAMP_SECONDS};

// Every allocation inside `assert_no_alloc` aborts the test binary. With the
// `assert_process_allocs` feature nice-plug installs the same allocator.
#[cfg(not(feature = "assert_process_allocs"))]
#[global_allocator]
static ALLOCATOR: nice_assert_no_alloc::AllocDisabler = nice_assert_no_alloc::AllocDisabler;

const SAMPLE_RATES_HZ: [f32; 4] = [44_100.0, 48_000.0, 96_000.0, 192_000.0];
const BLOCK_SIZES: [usize; 6] = [1, 7, 64, 512, 4096, 8192];
const MAX_BLOCK: usize = 8192;

/// Settings changes at fixed sample positions: an automation lane that
/// moves the trims, toggles bypass and switches every module on and off
/// with non-neutral settings.
fn automation(frames: usize) -> Vec<(usize, EngineSettings)> {
    let at = |fraction: f64| (frames as f64 * fraction) as usize;
    let set = |input_trim_db, output_trim_db, bypass| EngineSettings {
        input_trim_db,
        output_trim_db,
        bypass,
        ..EngineSettings::default()
    };
    let mut modules = set(6.0, -3.5, false);
    modules.tone_on = true;
    modules.tone.low_cut_enabled = true;
    modules.tone.high_shelf_db = 3.0;
    modules.tone.tilt_db = -2.0;
    modules.tone.bell_db = -4.0;
    modules.deharsh_on = true;
    modules.deharsh.threshold_db = -6.0;
    modules.low_end_on = true;
    modules.low_end.mono_below_enabled = true;
    modules.low_end.stabilizer_enabled = true;
    modules.low_end.crossover_hz = 150.0;
    modules.glue_on = true;
    modules.glue.threshold_db = -24.0;
    modules.glue.ratio = 4.0;
    modules.punch_on = true;
    modules.punch.attack_db = 6.0;
    modules.width_on = true;
    modules.width.side_gain_percent = 150.0;
    let mut moved = modules;
    moved.glue.threshold_db = -10.0;
    moved.low_end.crossover_hz = 60.0;
    moved.width.balance = 0.3;
    moved.tone.bell_hz = 5000.0;
    moved.tone.low_cut_slope = stem_master::dsp::tone::LowCutSlope::Db24;
    moved.deharsh.centre_hz = 6000.0;
    vec![
        (0, set(0.0, 0.0, false)),
        (at(0.1), set(-12.0, 0.0, false)),
        (at(0.2) + 3, modules),
        (at(0.3) + 7, moved),
        (
            at(0.35),
            EngineSettings {
                bypass: true,
                ..moved
            },
        ),
        (at(0.5) + 1, set(24.0, -24.0, false)),
        (at(0.7), set(-24.0, 24.0, false)),
        (at(0.85) + 5, set(0.0, 0.0, false)),
    ]
}

/// Runs `input` through `engine` in blocks of `block` frames, applying each
/// automation point at its sample (blocks are cut there, as a host with
/// sample-accurate automation does), and removes the engine's latency as a
/// host or the CLI does: `latency` silent frames are fed after the input and
/// the first `latency` output frames dropped, so output frame `n` belongs to
/// input frame `n`.
fn run(
    engine: &mut Engine,
    input: &[Vec<f32>],
    block: usize,
    lane: &[(usize, EngineSettings)],
) -> Vec<Vec<f32>> {
    let latency = engine.latency_samples() as usize;
    let frames = input[0].len();
    let mut output: Vec<Vec<f32>> = input
        .iter()
        .map(|channel| {
            channel
                .iter()
                .copied()
                .chain(std::iter::repeat_n(0.0, latency))
                .collect()
        })
        .collect();
    let total = frames + latency;
    let mut cuts: Vec<usize> = lane
        .iter()
        .map(|(at, _)| *at)
        .filter(|&at| at < total)
        .collect();
    cuts.push(total);
    for (index, window) in cuts.windows(2).enumerate() {
        engine.set_settings(&lane[index].1);
        let mut start = window[0];
        while start < window[1] {
            let end = (start + block).min(window[1]);
            let mut slices: Vec<&mut [f32]> =
                output.iter_mut().map(|c| &mut c[start..end]).collect();
            engine.process(&mut slices);
            start = end;
        }
    }
    output
        .iter_mut()
        .map(|channel| channel.drain(latency..).collect())
        .collect()
}

fn prepared(
    sample_rate_hz: f32,
    max_block: usize,
    channels: usize,
    settings: &EngineSettings,
) -> Engine {
    let mut engine = Engine::new();
    engine.prepare(sample_rate_hz, max_block, channels).unwrap();
    engine.set_settings(settings);
    engine.reset();
    engine
}

#[test]
fn output_does_not_depend_on_block_size() {
    for sample_rate in SAMPLE_RATES_HZ {
        let frames = (sample_rate * 0.5) as usize;
        let input = test_signal(2, frames, sample_rate, 7);
        let lane = automation(frames);
        let reference = run(
            &mut prepared(sample_rate, MAX_BLOCK, 2, &lane[0].1),
            &input,
            MAX_BLOCK,
            &lane,
        );
        for block in BLOCK_SIZES {
            let output = run(
                &mut prepared(sample_rate, MAX_BLOCK, 2, &lane[0].1),
                &input,
                block,
                &lane,
            );
            // Every sample takes the same arithmetic path whatever the block
            // size, so the results must be bit-identical.
            assert_eq!(output, reference, "{sample_rate} Hz, block {block}");
        }
    }
}

#[test]
fn blocks_longer_than_prepared_are_split_transparently() {
    let input = test_signal(2, 5000, 48_000.0, 3);
    let lane = automation(5000);
    let reference = run(
        &mut prepared(48_000.0, MAX_BLOCK, 2, &lane[0].1),
        &input,
        5000,
        &lane,
    );
    let small = run(
        &mut prepared(48_000.0, 64, 2, &lane[0].1),
        &input,
        5000,
        &lane,
    );
    assert_eq!(small, reference);
}

#[test]
fn reset_equals_a_fresh_instance() {
    let input = test_signal(2, 24_000, 48_000.0, 11);
    let lane = automation(24_000);
    let mut used = prepared(48_000.0, 512, 2, &lane[0].1);
    run(&mut used, &input, 512, &lane);
    let mut settings = EngineSettings {
        input_trim_db: -3.0,
        output_trim_db: 1.0,
        glue_on: true,
        punch_on: true,
        low_end_on: true,
        width_on: true,
        ..EngineSettings::default()
    };
    settings.glue.threshold_db = -30.0;
    settings.low_end.mono_below_enabled = true;
    settings.width.side_gain_percent = 50.0;
    used.set_settings(&settings);
    used.reset();
    let after_reset = run(&mut used, &input, 512, &[(0, settings)]);
    let fresh = run(
        &mut prepared(48_000.0, 512, 2, &settings),
        &input,
        512,
        &[(0, settings)],
    );
    assert_eq!(after_reset, fresh);
}

#[test]
fn settings_given_before_the_first_block_after_reset_apply_at_once() {
    // A host restores the session's parameter values with the first block
    // after activation: no ramp from the defaults may be heard.
    let mut engine = prepared(48_000.0, 512, 1, &EngineSettings::default());
    let restored = EngineSettings {
        input_trim_db: -6.0,
        ..EngineSettings::default()
    };
    engine.set_settings(&restored);
    let latency = engine.latency_samples() as usize;
    let mut block = vec![0.5f32; 512];
    engine.process(&mut [&mut block]);
    let expected = (0.5 * gain(-6.0)) as f32;
    assert!(
        block[latency..]
            .iter()
            .all(|&y| (y - expected).abs() <= 1e-7),
        "{:?}",
        &block[latency..latency + 4]
    );
    // Later changes ramp again.
    engine.set_settings(&EngineSettings::default());
    let mut block = vec![0.5f32; 512];
    engine.process(&mut [&mut block]);
    assert!(block[0] < 0.26 && block[511] < 0.5 && block[511] > 0.26);
}

#[test]
fn switching_a_compressing_module_does_not_click() {
    // 1 kHz at −6 dBFS into the glue compressor at −30 dB threshold, 4:1:
    // about 18 dB of gain reduction switched in and out.
    let rate = 48_000.0;
    let frames = 48_000;
    let tone: Vec<f32> = (0..frames)
        .map(|n| 0.5 * (std::f32::consts::TAU * 1000.0 * n as f32 / rate).sin())
        .collect();
    let off = EngineSettings::default();
    let mut on = off;
    on.glue_on = true;
    on.glue.threshold_db = -30.0;
    on.glue.ratio = 4.0;
    let lane = [(0, off), (12_000, on), (36_000, off)];
    let output = run(
        &mut prepared(rate, 512, 1, &off),
        std::slice::from_ref(&tone),
        512,
        &lane,
    );
    // The tone's own largest step is 2π·1000/48000·0.5 = 0.0654; the 20 ms
    // crossfade between dry and compressed adds at most |dry − wet|/960
    // per sample (< 0.0006): nothing like a click.
    let signal_step = common::max_step(&tone);
    let step = common::max_step(&output[0]);
    assert!(step <= signal_step + 0.001, "{step} vs {signal_step}");
    // And the module really works: the middle is much quieter.
    let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    assert!(rms(&output[0][24_000..36_000]) < 0.3 * rms(&tone[24_000..36_000]));
    assert_eq!(
        &output[0][40_000..],
        &tone[40_000..],
        "off again: bit-exact"
    );
}

#[test]
fn compare_original_plays_the_input_at_the_processed_loudness() {
    // Processing = +6.02 dB of input trim. After 15 s the A/B switch
    // brings in the original, matched by the 3 s K-weighted averages: the
    // output must be the original × 2 (the averages have settled to 1 %).
    let rate = 48_000.0;
    let frames = 20 * 48_000;
    let input = test_signal(2, frames, rate, 31);
    let processed = EngineSettings {
        input_trim_db: 20.0 * 2f32.log10(),
        ..EngineSettings::default()
    };
    let compared = EngineSettings {
        compare_original: true,
        ..processed
    };
    let switch = 15 * 48_000;
    let output = run(
        &mut prepared(rate, 1024, 2, &processed),
        &input,
        1024,
        &[(0, processed), (switch, compared)],
    );
    let latency = prepared(rate, 1024, 2, &processed).latency_samples() as usize;
    for (x, y) in input.iter().zip(&output) {
        // Before: the processed signal.
        for n in 0..switch - latency {
            assert!((y[n] - 2.0 * x[n]).abs() <= 2e-6);
        }
        // After the 10 ms crossfade: the original, level-matched.
        for n in switch - latency + 480..frames {
            assert!(
                (y[n] - 2.0 * x[n]).abs() <= 0.02 * x[n].abs() + 1e-6,
                "{n}: {} vs {}",
                y[n],
                x[n]
            );
        }
    }
}

#[test]
fn settled_trims_match_the_analytic_gain() {
    for (input_db, output_db) in [
        (0.0, 0.0),
        (-6.0, 0.0),
        (0.0, 12.0),
        (-24.0, 24.0),
        (3.3, -7.7),
    ] {
        let settings = EngineSettings {
            input_trim_db: input_db,
            output_trim_db: output_db,
            ..EngineSettings::default()
        };
        let input = test_signal(2, 4800, 48_000.0, 5);
        let output = run(
            &mut prepared(48_000.0, 1024, 2, &settings),
            &input,
            1024,
            &[(0, settings)],
        );
        let expected = gain(f64::from(input_db)) * gain(f64::from(output_db));
        for (x, y) in input.iter().flatten().zip(output.iter().flatten()) {
            // f32 powf and two f32 products: a few ulp, below 1e-6 relative.
            let error = (f64::from(*y) - f64::from(*x) * expected).abs();
            assert!(
                error <= 1e-6 * f64::from(x.abs()) * expected + 1e-12,
                "{x} -> {y}, want ×{expected}"
            );
        }
    }
}

#[test]
fn trim_automation_ramps_without_zipper_noise() {
    for sample_rate in SAMPLE_RATES_HZ {
        let ramp = (TRIM_RAMP_SECONDS * sample_rate).round() as usize;
        let frames = 4 * ramp;
        let dc = vec![vec![0.5f32; frames]];
        let start = EngineSettings {
            input_trim_db: -24.0,
            ..EngineSettings::default()
        };
        let end = EngineSettings {
            input_trim_db: 24.0,
            ..EngineSettings::default()
        };
        let lane = [(0, start), (ramp, end)];
        let output = run(&mut prepared(sample_rate, 512, 1, &start), &dc, 512, &lane);
        let out = &output[0];
        // A linear ramp in dB over `ramp` samples: each sample moves the gain
        // by at most the factor 10^(48 dB / ramp / 20) at the top of the range.
        let db_step = 48.0 / ramp as f64;
        let bound = 0.5 * gain(24.0) * (1.0 - gain(-db_step));
        assert!(
            f64::from(max_step(out)) <= bound * 1.001,
            "{sample_rate}: step {} > {bound}",
            max_step(out)
        );
        // Before the change: -24 dB exactly; it arrives exactly `ramp`
        // samples later and stays.
        assert!((f64::from(out[ramp - 1]) - 0.5 * gain(-24.0)).abs() < 1e-7);
        assert!((f64::from(out[2 * ramp - 1]) - 0.5 * gain(24.0)).abs() < 1e-5);
        assert!(
            f64::from(out[2 * ramp - 2]) < 0.5 * gain(24.0) - 1e-4,
            "still ramping one sample earlier"
        );
        // Monotonic in between.
        assert!(out[ramp..2 * ramp].windows(2).all(|p| p[1] >= p[0]));
    }
}

#[test]
fn bypass_crossfades_without_clicks_and_is_exact_when_settled() {
    for sample_rate in SAMPLE_RATES_HZ {
        let fade = (BYPASS_CROSSFADE_SECONDS * sample_rate).round() as usize;
        let frames = 6 * fade;
        let input = test_signal(2, frames, sample_rate, 9);
        let processed = EngineSettings {
            input_trim_db: -12.0,
            ..EngineSettings::default()
        };
        let bypassed = EngineSettings {
            bypass: true,
            ..processed
        };
        let lane = [(0, processed), (fade, bypassed), (4 * fade, processed)];
        let output = run(
            &mut prepared(sample_rate, 256, 2, &processed),
            &input,
            256,
            &lane,
        );
        let wet = gain(-12.0) as f32;
        // The bypass crossfade acts at the output, which lags the input by
        // the latency: in latency-compensated time it starts that much
        // earlier than the input trim would.
        let latency = prepared(sample_rate, 256, 2, &processed).latency_samples() as usize;
        let (fade_in, fade_out) = (fade - latency, 4 * fade - latency);
        for (x, y) in input.iter().zip(&output) {
            // Settled bypass passes the input bit for bit.
            assert_eq!(&y[fade_in + fade..fade_out], &x[fade_in + fade..fade_out]);
            // Settled processing is the trimmed input.
            for n in (0..fade_in).chain(fade_out + fade..frames - latency) {
                assert!((y[n] - x[n] * wet).abs() <= 1e-6, "{n}");
            }
            // During a crossfade the output is wet·(1−s) + dry·s with s rising
            // by 1/fade per sample: it adds at most |dry − wet|/fade to the
            // signal's own sample-to-sample step.
            let signal_step = max_step(x);
            let crossfade_step = max_step(&y[fade - 1..2 * fade + 1]);
            let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let bound = signal_step + (1.0 - wet) * peak / fade as f32;
            assert!(
                crossfade_step <= bound + 1e-6,
                "{sample_rate}: {crossfade_step} > {bound}"
            );
        }
    }
}

#[test]
fn nan_and_inf_never_poison_the_state() {
    let settings = EngineSettings {
        input_trim_db: -3.0,
        ..EngineSettings::default()
    };
    let mut poisoned = test_signal(2, 4096, 48_000.0, 13);
    let mut clean = poisoned.clone();
    for n in [0, 100, 1000, 1001, 1002, 2047] {
        poisoned[n % 2][n] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][n % 3];
        clean[n % 2][n] = 0.0;
    }
    let lane = [(0, settings)];
    let from_poisoned = run(
        &mut prepared(48_000.0, 512, 2, &settings),
        &poisoned,
        512,
        &lane,
    );
    let from_clean = run(
        &mut prepared(48_000.0, 512, 2, &settings),
        &clean,
        512,
        &lane,
    );
    assert!(from_poisoned.iter().flatten().all(|x| x.is_finite()));
    // Non-finite samples are silenced on entry: the rest of the output is
    // exactly what the clean signal gives, from the very next sample on.
    assert_eq!(from_poisoned, from_clean);
}

#[test]
fn processing_never_allocates() {
    for channels in [1, 2] {
        let frames = 3 * MAX_BLOCK;
        let mut engine = prepared(96_000.0, MAX_BLOCK, channels, &EngineSettings::default());
        let mut buffers = test_signal(channels, frames, 96_000.0, 17);
        let lane = automation(frames);
        nice_assert_no_alloc::assert_no_alloc(|| {
            // Block sizes up to twice the prepared maximum: the engine splits.
            for block in BLOCK_SIZES.into_iter().chain([2 * MAX_BLOCK]) {
                let mut start = 0;
                while start < frames {
                    let end = (start + block).min(frames);
                    let settings = lane.iter().rev().find(|(at, _)| *at <= start).unwrap().1;
                    engine.set_settings(&settings);
                    let [left, rest @ ..] = buffers.as_mut_slice() else {
                        unreachable!()
                    };
                    match rest.first_mut() {
                        Some(right) => {
                            engine.process(&mut [&mut left[start..end], &mut right[start..end]])
                        }
                        None => engine.process(&mut [&mut left[start..end]]),
                    }
                    start = end;
                }
            }
            engine.reset();
        });
        assert!(buffers.iter().flatten().all(|x| x.is_finite()));
    }
}
