//! The plugin under concurrent use, as in a host with its editor open: an
//! audio thread processes in a tight loop (under `assert_no_alloc`) while
//! another thread sets parameters — random normalized values, including
//! NaN, ±∞ and values outside 0..=1, as a buggy host or a damaged state
//! might send — and a third reads the meters, history, spectrum and triage
//! the editor reads.
//!
//! - every output sample is finite, and so is every value the engine is
//!   given: NaN and out-of-range parameter values never reach the DSP;
//! - every value read is whole and sane (each is one atomic, a packed pair
//!   or a seqlock-guarded record, so a torn read would show as nonsense);
//! - nothing deadlocks: all three threads finish within a watchdog's time.

mod common;

use common::host::{activate, TestHost};
use common::Rng;
use nice_plug::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use stem_master::StemMaster;

#[cfg(not(feature = "assert_process_allocs"))]
#[global_allocator]
static ALLOCATOR: nice_assert_no_alloc::AllocDisabler = nice_assert_no_alloc::AllocDisabler;

/// How long the three threads run together.
const RUN: Duration = Duration::from_secs(2);
/// How long they may take to finish before the test calls it a deadlock.
const WATCHDOG: Duration = Duration::from_secs(60);

/// A parameter pointer moved to the setter thread. The parameters are
/// atomics and outlive every thread of the test.
#[derive(Clone, Copy)]
struct SendPtr(ParamPtr);
// SAFETY: see the type's documentation; the parameters are shared through
// an `Arc` held until all threads are joined.
unsafe impl Send for SendPtr {}

#[test]
fn parameters_and_meters_from_other_threads_while_audio_runs() {
    let rate = 48_000.0;
    let mut plugin = StemMaster::default();
    let mut host = TestHost::new(rate);
    activate(&mut plugin, &mut host, rate, 512);
    let params = plugin.parameters().clone();
    let shared = plugin.shared().clone();
    let pointers: Vec<SendPtr> = plugin
        .params()
        .param_map()
        .into_iter()
        .map(|(_, p, _)| SendPtr(p))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let (done, finished) = mpsc::channel::<(&'static str, Result<u64, String>)>();

    // The audio thread.
    {
        let stop = stop.clone();
        let done = done.clone();
        let params = params.clone();
        std::thread::spawn(move || {
            let mut rng = Rng(7);
            let mut left = vec![0.0f32; 512];
            let mut right = vec![0.0f32; 512];
            let mut buffer = Buffer::default();
            // SAFETY: no slices are stored yet.
            unsafe { buffer.set_slices(0, |slices| slices.reserve(2)) };
            let mut blocks = 0u64;
            let result = (|| {
                while !stop.load(Ordering::Relaxed) {
                    let len = 1 + (rng.next_u64() % 512) as usize;
                    for x in left[..len].iter_mut().chain(right[..len].iter_mut()) {
                        *x = 0.25 * (rng.unit() * 2.0 - 1.0);
                    }
                    let (l, r) = (left.as_mut_ptr(), right.as_mut_ptr());
                    nice_assert_no_alloc::assert_no_alloc(|| {
                        // SAFETY: both pointers address `len` samples of
                        // buffers that outlive the call; they do not overlap.
                        unsafe {
                            buffer.set_slices(len, |slices| {
                                slices.clear();
                                slices.push(std::slice::from_raw_parts_mut(l, len));
                                slices.push(std::slice::from_raw_parts_mut(r, len));
                            })
                        };
                        let mut aux = AuxiliaryBuffers {
                            inputs: &mut [],
                            outputs: &mut [],
                        };
                        plugin.process(&mut buffer, &mut aux, &mut host);
                    });
                    if let Some(x) = left[..len]
                        .iter()
                        .chain(&right[..len])
                        .find(|x| !x.is_finite())
                    {
                        return Err(format!("block {blocks}: output sample {x}"));
                    }
                    // What the engine is given, checked now and then
                    // (formatting allocates, so outside the checked region).
                    if blocks.is_multiple_of(64) {
                        let settings = format!("{:?}", params.engine_settings());
                        if settings.contains("NaN") || settings.contains("inf") {
                            return Err(format!("block {blocks}: the engine was given {settings}"));
                        }
                    }
                    blocks += 1;
                }
                Ok(blocks)
            })();
            plugin.deactivate();
            let _ = done.send(("audio", result));
        });
    }

    // The parameter setter.
    {
        let stop = stop.clone();
        let done = done.clone();
        let keep = params.clone();
        std::thread::spawn(move || {
            let _keep = keep;
            let mut rng = Rng(11);
            let mut changes = 0u64;
            let specials = [
                f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                -0.5,
                1.5,
                0.0,
                1.0,
            ];
            while !stop.load(Ordering::Relaxed) {
                let SendPtr(param) = pointers[(rng.next_u64() % pointers.len() as u64) as usize];
                let value = if rng.unit() < 0.2 {
                    specials[(rng.next_u64() % specials.len() as u64) as usize]
                } else {
                    rng.unit()
                };
                // Bypass and A/B stay off, so the modules keep running.
                // SAFETY: the parameters outlive this thread (`_keep`).
                unsafe {
                    if param.name() != "Bypass" && param.name() != "Compare Original" {
                        param._internal_set_normalized_value(value);
                    }
                }
                changes += 1;
            }
            let _ = done.send(("parameters", Ok(changes)));
        });
    }

    // The meter reader (what the editor reads).
    {
        let stop = stop.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let reads = AtomicU64::new(0);
            let check = || -> Result<(), String> {
                let m = &shared.meters;
                for (name, value, range) in [
                    ("momentary", &m.momentary_lufs, (-200.0, 60.0)),
                    ("short-term", &m.short_term_lufs, (-200.0, 60.0)),
                    ("integrated", &m.integrated_lufs, (-200.0, 60.0)),
                    ("true peak", &m.true_peak_max_dbtp, (-400.0, 80.0)),
                    ("correlation", &m.correlation, (-1.0001, 1.0001)),
                    (
                        "low correlation",
                        &m.low_band_correlation,
                        (-1.0001, 1.0001),
                    ),
                ] {
                    if let Some(v) = value.load() {
                        if !(v >= range.0 && v <= range.1) {
                            return Err(format!("{name} read {v}"));
                        }
                    }
                }
                let mut points = [(0.0f32, 0.0f32); 64];
                let n = shared.history.copy_latest(&mut points);
                for &(momentary, short_term) in &points[..n] {
                    for v in [momentary, short_term] {
                        if v.is_nan() || v > 60.0 {
                            return Err(format!("history point {v}"));
                        }
                    }
                }
                if let Some(Some(bad)) = shared
                    .spectrum_db
                    .read(|bins| bins.iter().copied().find(|b| !(*b >= -151.0 && *b <= 60.0)))
                {
                    return Err(format!("spectrum bin {bad}"));
                }
                let verdict = shared.triage.verdict();
                if !(0.0..=1.0).contains(&verdict.confidence) {
                    return Err(format!("verdict confidence {}", verdict.confidence));
                }
                reads.fetch_add(1, Ordering::Relaxed);
                Ok(())
            };
            let mut result = Ok(());
            while !stop.load(Ordering::Relaxed) && result.is_ok() {
                result = check();
            }
            let _ = done.send(("meters", result.map(|()| reads.load(Ordering::Relaxed))));
        });
    }
    drop(done);

    let start = Instant::now();
    std::thread::sleep(RUN);
    stop.store(true, Ordering::Relaxed);
    let mut counts = Vec::new();
    for _ in 0..3 {
        let left = WATCHDOG.saturating_sub(start.elapsed());
        let (thread, result) = finished.recv_timeout(left).unwrap_or_else(|_| {
            panic!("a thread did not finish within {WATCHDOG:?}: deadlock or a panic in it")
        });
        let count = result.unwrap_or_else(|e| panic!("{thread} thread: {e}"));
        // Each thread must have done real work, or nothing was tested.
        assert!(count >= 100, "{thread} thread did only {count} iterations");
        counts.push(format!("{thread}: {count}"));
    }
    println!("in {RUN:?}: {}", counts.join(", "));
}
