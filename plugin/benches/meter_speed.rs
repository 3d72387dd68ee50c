//! Metering speed against the `ebur128` crate, measured in the same run.
//!
//! Both meters get the same 60 s stereo programme in 512-frame blocks (a
//! typical host block) and compute the same quantities: momentary,
//! short-term and integrated loudness, loudness range, sample and true peak.
//! ebur128 runs in its bounded-memory histogram mode, as a plugin must, and
//! in its exact mode; the ratio is taken against the faster of the two.
//! Runs are interleaved and the median of each is reported, so load on the
//! machine affects both sides alike.
//!
//! `cargo bench -p stem_master --bench meter_speed` (or `cargo xtask bench`).

use ebur128::{EbuR128, Mode};
use std::hint::black_box;
use std::time::{Duration, Instant};
use stem_master::meter::loudness::LoudnessMeter;
use stem_master::meter::true_peak::TruePeakMeter;
use stem_master::meter::Analyzer;

mod common;
use common::{programme, Programme};

const SECONDS: usize = 60;
const BLOCK: usize = 512;
const RUNS: usize = 9;

/// The programme this bench feeds.
const PROGRAMME: Programme = Programme {
    low_hz: 110.0,
    low_step_hz: 40.0,
    low_level: 0.3,
    high_hz: 2500.0,
    high_level: 0.2,
    noise_level: 0.1,
    pulsing: false,
    seed: 0x1234_5678,
};

fn blocks(signal: &[Vec<f32>]) -> impl Iterator<Item = [&[f32]; 2]> {
    (0..signal[0].len()).step_by(BLOCK).map(move |start| {
        let end = (start + BLOCK).min(signal[0].len());
        [&signal[0][start..end], &signal[1][start..end]]
    })
}

/// Our loudness and peak meters: the quantities ebur128 computes.
fn run_ours(signal: &[Vec<f32>], rate: usize) -> f64 {
    let mut loudness = LoudnessMeter::new(rate as f64, 2);
    let mut true_peak = TruePeakMeter::new(rate as f32, 2);
    let mut peak = 0.0f32;
    let mut sample_peak = 0.0f32;
    for block in blocks(signal) {
        loudness.process(&block);
        peak = peak.max(true_peak.process(&block));
        for channel in block {
            sample_peak = channel.iter().fold(sample_peak, |m, x| m.max(x.abs()));
        }
    }
    let r = loudness.readings();
    r.integrated_lufs.unwrap() + r.range_lu.unwrap() + f64::from(peak) + f64::from(sample_peak)
}

/// Loudness alone.
fn run_loudness(signal: &[Vec<f32>], rate: usize) -> f64 {
    let mut loudness = LoudnessMeter::new(rate as f64, 2);
    for block in blocks(signal) {
        loudness.process(&block);
    }
    loudness.readings().integrated_lufs.unwrap()
}

/// True peak alone.
fn run_true_peak(signal: &[Vec<f32>], rate: usize) -> f64 {
    let mut true_peak = TruePeakMeter::new(rate as f32, 2);
    let mut peak = 0.0f32;
    for block in blocks(signal) {
        peak = peak.max(true_peak.process(&block));
    }
    f64::from(peak)
}

/// The whole analyzer: the above plus spectrum and stereo meters.
fn run_analyzer(signal: &[Vec<f32>], rate: usize) -> f64 {
    let mut analyzer = Analyzer::new(rate as f32, 2, 1);
    for block in blocks(signal) {
        analyzer.process(&block);
    }
    analyzer.readings().loudness.integrated_lufs.unwrap()
}

fn run_ebur128(signal: &[Vec<f32>], rate: usize, histogram: bool) -> f64 {
    let mut mode = Mode::M | Mode::S | Mode::I | Mode::LRA | Mode::SAMPLE_PEAK | Mode::TRUE_PEAK;
    if histogram {
        mode |= Mode::HISTOGRAM;
    }
    let mut meter = EbuR128::new(2, rate as u32, mode).unwrap();
    for block in blocks(signal) {
        meter.add_frames_planar_f32(&block).unwrap();
    }
    meter.loudness_global().unwrap() + meter.loudness_range().unwrap() + meter.true_peak(0).unwrap()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // useful: run a single short pass then, so the bench stays compiled and
    // working without costing test time.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { RUNS };
    for rate in [48_000usize, 96_000] {
        let signal = programme(rate, SECONDS, &PROGRAMME);
        let samples = (signal[0].len() * 2) as f64;
        let mut times = [
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        ];
        for _ in 0..runs {
            for (slot, run) in [
                &(|s: &[Vec<f32>]| run_ours(s, rate)) as &dyn Fn(&[Vec<f32>]) -> f64,
                &|s| run_analyzer(s, rate),
                &|s| run_ebur128(s, rate, true),
                &|s| run_ebur128(s, rate, false),
                &|s| run_loudness(s, rate),
                &|s| run_true_peak(s, rate),
            ]
            .into_iter()
            .enumerate()
            {
                let start = Instant::now();
                black_box(run(black_box(&signal)));
                times[slot].push(start.elapsed());
            }
        }
        let [ours, analyzer, histogram, exact, loudness, true_peak] = times.map(median);
        let peer = histogram.min(exact);
        let ns = |d: Duration| d.as_secs_f64() * 1e9 / samples;
        println!(
            "metering, stereo {} kHz, {SECONDS} s in {BLOCK}-frame blocks (median of {runs}):",
            rate / 1000
        );
        println!(
            "  stem-master loudness + true peak   {:7.2} ns/sample",
            ns(ours)
        );
        println!(
            "    of which loudness                {:7.2} ns/sample",
            ns(loudness)
        );
        println!(
            "    of which true peak               {:7.2} ns/sample",
            ns(true_peak)
        );
        println!(
            "  stem-master full analyzer          {:7.2} ns/sample (adds spectrum, stereo)",
            ns(analyzer)
        );
        println!(
            "  ebur128 histogram mode             {:7.2} ns/sample",
            ns(histogram)
        );
        println!(
            "  ebur128 exact mode                 {:7.2} ns/sample",
            ns(exact)
        );
        println!(
            "  speed ratio (ebur128 / stem-master, same quantities): {:.2}x",
            peer.as_secs_f64() / ours.as_secs_f64()
        );
        println!(
            "  speed ratio (ebur128 / full analyzer):                {:.2}x",
            peer.as_secs_f64() / analyzer.as_secs_f64()
        );
    }
}
