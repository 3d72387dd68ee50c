//! Properties that hold for any parameters, any signal, any block size and
//! any sample rate: random parameter sets × random signals (noise,
//! impulses, DC, full-scale squares, silence, denormals, NaN and Inf
//! bursts, +40 dB overs) × random host blocks (including empty ones) ×
//! sample rates from 44.1 to 192 kHz, processed under `assert_no_alloc`.
//!
//! - nothing panics and nothing allocates on the audio thread;
//! - the output is always finite;
//! - with the limiter on (and neither bypass nor the A/B comparison), no
//!   output sample exceeds the ceiling in force;
//! - a NaN or Inf burst leaves no trace: the output equals that of the same
//!   signal with silence in place of the burst, so it has recovered by the
//!   end of the burst's block.
//!
//! `STEM_MASTER_FUZZ_CASES` sets the number of cases (CI: the default
//! below); `STEM_MASTER_FUZZ_SEED` the first seed. `cargo xtask fuzz N`
//! runs N cases in release mode.

mod common;

use common::host::{activate, TestHost};
use common::Rng;
use nice_plug::prelude::*;
use stem_master::StemMaster;

// `assert_no_alloc` is compiled out of release builds (`cargo xtask fuzz`
// runs in release for speed; the debug run in CI checks the allocations).
#[cfg(all(debug_assertions, not(feature = "assert_process_allocs")))]
#[global_allocator]
static ALLOCATOR: nice_assert_no_alloc::AllocDisabler = nice_assert_no_alloc::AllocDisabler;

/// Cases in a plain `cargo test` run.
const DEFAULT_CASES: u64 = 1200;
/// Sample rates drawn from, Hz.
const RATES: [f32; 6] = [44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0];
/// Largest host blocks drawn from, frames.
const MAX_BLOCKS: [usize; 7] = [1, 7, 64, 480, 1024, 4096, 8192];
/// Allowed excess over the ceiling: 0.01 dB (the limiter's own tests hold
/// it to its ceiling; this only absorbs f32 rounding of the linear gain).
const CEILING_TOLERANCE_DB: f32 = 0.01;

/// A signal segment kind.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Noise,
    Impulses,
    Dc,
    Square,
    Silence,
    Denormals,
    Over40dB,
    NonFinite,
}

const KINDS: [Kind; 8] = [
    Kind::Noise,
    Kind::Impulses,
    Kind::Dc,
    Kind::Square,
    Kind::Silence,
    Kind::Denormals,
    Kind::Over40dB,
    Kind::NonFinite,
];

/// A random stereo signal of `frames` made of segments of random kinds;
/// also returns the ranges holding NaN or Inf.
fn signal(rng: &mut Rng, frames: usize, rate: f32) -> ([Vec<f32>; 2], Vec<std::ops::Range<usize>>) {
    let mut audio = [vec![0.0f32; frames], vec![0.0f32; frames]];
    let mut bursts = Vec::new();
    let mut start = 0;
    while start < frames {
        let len = (1 + rng.below(frames / 3 + 1)).min(frames - start);
        let kind = KINDS[rng.below(KINDS.len())];
        let level = 10f32.powf(-rng.unit() * 3.0);
        let period = 2 + rng.below((rate / 40.0) as usize);
        for channel in audio.iter_mut() {
            for (i, x) in channel[start..start + len].iter_mut().enumerate() {
                *x = match kind {
                    Kind::Noise => level * (rng.unit() * 2.0 - 1.0),
                    Kind::Impulses => {
                        if i % period == 0 {
                            level
                        } else {
                            0.0
                        }
                    }
                    Kind::Dc => level,
                    Kind::Square => {
                        if (i / period).is_multiple_of(2) {
                            1.0
                        } else {
                            -1.0
                        }
                    }
                    Kind::Silence => 0.0,
                    Kind::Denormals => 1e-40 * (rng.unit() * 2.0 - 1.0),
                    Kind::Over40dB => 100.0 * (rng.unit() * 2.0 - 1.0),
                    Kind::NonFinite => {
                        [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.3][rng.below(4)]
                    }
                };
            }
        }
        if matches!(kind, Kind::NonFinite) {
            bursts.push(start..start + len);
        }
        start += len;
    }
    (audio, bursts)
}

/// Sets a random subset of the parameters to random values.
fn randomize(plugin: &StemMaster, rng: &mut Rng) {
    let params = plugin.params();
    for (id, param, _) in params.param_map() {
        // Bypass and A/B rarely, so that most cases exercise the modules.
        let p = if id == "bypass" || id == "ab" {
            0.1
        } else {
            0.5
        };
        if rng.chance(p) {
            // SAFETY: the params outlive this call; nothing processes yet.
            unsafe { param._internal_set_normalized_value(rng.unit()) };
        }
    }
}

/// Runs `f` under `assert_no_alloc` in debug builds.
fn no_alloc<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(debug_assertions)]
    return nice_assert_no_alloc::assert_no_alloc(f);
    #[cfg(not(debug_assertions))]
    f()
}

/// Processes `audio` in random host blocks of at most `max_block` frames
/// (some of them empty), under `assert_no_alloc`.
fn process_random_blocks(
    plugin: &mut StemMaster,
    host: &mut TestHost,
    audio: &mut [Vec<f32>; 2],
    max_block: usize,
    blocks: &[usize],
) {
    let frames = audio[0].len();
    let [left, right] = audio;
    let (left, right) = (left.as_mut_ptr(), right.as_mut_ptr());
    let mut buffer = Buffer::default();
    // SAFETY: no slices are stored yet.
    unsafe { buffer.set_slices(0, |slices| slices.reserve(2)) };
    no_alloc(|| {
        let mut start = 0;
        let mut next = blocks.iter().cycle();
        while start < frames {
            let len = (*next.next().unwrap()).min(max_block).min(frames - start);
            // SAFETY: both pointers address `frames` samples of `audio`,
            // which outlives this loop; the channels do not overlap.
            unsafe {
                buffer.set_slices(len, |slices| {
                    slices.clear();
                    slices.push(std::slice::from_raw_parts_mut(left.add(start), len));
                    slices.push(std::slice::from_raw_parts_mut(right.add(start), len));
                })
            };
            let mut aux = AuxiliaryBuffers {
                inputs: &mut [],
                outputs: &mut [],
            };
            assert_eq!(
                plugin.process(&mut buffer, &mut aux, host),
                ProcessStatus::Normal
            );
            start += len;
        }
    });
}

/// Which checks a case ran beyond finiteness.
#[derive(Default)]
struct Checked {
    /// The limiter's ceiling was checked.
    ceiling: bool,
    /// A NaN or Inf burst was checked against its cleaned twin.
    burst: bool,
}

/// One case: what it checked, or a description of what failed.
fn run_case(seed: u64) -> Result<Checked, String> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let rate = RATES[rng.below(RATES.len())];
    let max_block = MAX_BLOCKS[rng.below(MAX_BLOCKS.len())];
    let frames = (rate * (0.05 + 0.2 * rng.unit())) as usize;
    let blocks: Vec<usize> = (0..16)
        .map(|_| {
            let len = rng.below(max_block + 1).max(1);
            if rng.chance(0.1) {
                0
            } else {
                len
            }
        })
        .collect();
    let (input, bursts) = signal(&mut rng, frames, rate);

    let render = |input: &[Vec<f32>; 2], rng_params: u64| {
        let mut plugin = StemMaster::default();
        let mut params_rng = Rng(rng_params);
        randomize(&plugin, &mut params_rng);
        let mut host = TestHost::new(rate);
        activate(&mut plugin, &mut host, rate, max_block as u32);
        let mut audio = input.clone();
        process_random_blocks(&mut plugin, &mut host, &mut audio, max_block, &blocks);
        let p = plugin.parameters();
        let limited = p.limiter.on.value() && !p.bypass.value() && !p.compare_original.value();
        let ceiling_db = p
            .target
            .value()
            .ceiling_dbtp()
            .map_or(p.limiter.ceiling_dbtp.value(), |cap| {
                cap.min(p.limiter.ceiling_dbtp.value())
            });
        (audio, limited.then_some(ceiling_db))
    };
    let params_seed = rng.next_u64() | 1;
    let describe = || format!("seed {seed}: {rate} Hz, blocks ≤ {max_block}, {frames} frames");
    let (output, ceiling) = render(&input, params_seed);

    for (c, channel) in output.iter().enumerate() {
        if let Some(i) = channel.iter().position(|x| !x.is_finite()) {
            return Err(format!(
                "{}: channel {c} sample {i} is {}",
                describe(),
                channel[i]
            ));
        }
    }
    if let Some(ceiling_db) = ceiling {
        let limit = 10f32.powf((ceiling_db + CEILING_TOLERANCE_DB) / 20.0);
        for (c, channel) in output.iter().enumerate() {
            if let Some(i) = channel.iter().position(|x| x.abs() > limit) {
                return Err(format!(
                    "{}: channel {c} sample {i} = {} over the {ceiling_db:.2} dBTP ceiling",
                    describe(),
                    channel[i]
                ));
            }
        }
    }
    if !bursts.is_empty() {
        // The same signal with silence in place of NaN and Inf: the output
        // must be identical, so no burst leaves a trace.
        let mut cleaned = input.clone();
        for channel in cleaned.iter_mut() {
            for x in channel.iter_mut().filter(|x| !x.is_finite()) {
                *x = 0.0;
            }
        }
        let (reference, _) = render(&cleaned, params_seed);
        for (c, (out, reference)) in output.iter().zip(&reference).enumerate() {
            if let Some(i) = out
                .iter()
                .zip(reference)
                .position(|(a, b)| a.to_bits() != b.to_bits())
            {
                return Err(format!(
                    "{}: after non-finite input, channel {c} sample {i} is {} instead of {}",
                    describe(),
                    out[i],
                    reference[i]
                ));
            }
        }
    }
    Ok(Checked {
        ceiling: ceiling.is_some(),
        burst: !bursts.is_empty(),
    })
}

#[test]
fn any_parameters_any_signal_any_block_size() {
    let cases: u64 = std::env::var("STEM_MASTER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let first: u64 = std::env::var("STEM_MASTER_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    let (mut ceilings, mut bursts) = (0, 0);
    for seed in first..first + cases {
        match std::panic::catch_unwind(|| run_case(seed)) {
            Ok(Ok(checked)) => {
                ceilings += usize::from(checked.ceiling);
                bursts += usize::from(checked.burst);
            }
            Ok(Err(failure)) => failures.push(failure),
            Err(_) => failures.push(format!("seed {seed}: panicked")),
        }
        if failures.len() >= 10 {
            break;
        }
    }
    println!(
        "{cases} cases from seed {first} in {:.1} s: {ceilings} checked the limiter ceiling, \
         {bursts} a NaN/Inf burst",
        started.elapsed().as_secs_f64()
    );
    // The draw must exercise both checks often (each is about a third of
    // the cases); fewer means the generator broke, not that all is well.
    assert!(cases < 100 || (ceilings as u64 > cases / 10 && bursts as u64 > cases / 10));
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
