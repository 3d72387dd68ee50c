//! Differential test against the `ebur128` crate (a port of libebur128, an
//! independent implementation of BS.1770): random multi-sine and noise
//! programmes with random sample rate, length and channel count.
//!
//! Tolerances: integrated, momentary and short-term loudness within
//! 0.02 LU; true peak within 0.1 dB. ebur128 interpolates with the 48-tap
//! filter of BS.1770 Annex 2 (12 taps per phase), whose response droops
//! towards Nyquist; the programmes keep their partials below 0.2·fs
//! (9.6 kHz at 48 kHz) so the peak comparison measures our code rather than
//! that filter's droop. For the same reason the noise is low-passed at
//! 0.2·fs (a 127-tap Blackman-windowed sinc) before it is mixed in.

use ebur128::{Channel, EbuR128, Mode};
use stem_master::meter::Analyzer;

/// SplitMix64: small, deterministic, good enough for test signals.
struct Random(u64);

impl Random {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next_u64() % items.len() as u64) as usize]
    }
}

/// A programme: per channel a few sines plus noise, with level steps every
/// few seconds so the gates have work to do.
fn programme(random: &mut Random, rate: f64, channels: usize, seconds: f64) -> Vec<Vec<f32>> {
    let frames = (seconds * rate) as usize;
    let step_frames = (random.range(1.5, 6.0) * rate) as usize;
    let steps: Vec<f64> = (0..=frames / step_frames)
        .map(|_| random.range(-30.0, 0.0))
        .collect();
    (0..channels)
        .map(|_| {
            let partials: Vec<(f64, f64, f64)> = (0..random.pick(&[1, 3, 6]))
                .map(|_| {
                    (
                        random.range(30.0, 0.2 * rate),
                        random.range(0.05, 0.4),
                        random.range(0.0, 6.3),
                    )
                })
                .collect();
            let noise_level = random.range(0.0, 0.6);
            let mut state = random.next_u64() | 1;
            let white: Vec<f64> = (0..frames + LOW_PASS.len())
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
                })
                .collect();
            let low_pass = low_pass_taps();
            (0..frames)
                .map(|n| {
                    let t = n as f64 / rate;
                    let tonal: f64 = partials
                        .iter()
                        .map(|(f, a, p)| a * (std::f64::consts::TAU * f * t + p).sin())
                        .sum();
                    let noise: f64 = low_pass.iter().zip(&white[n..]).map(|(h, x)| h * x).sum();
                    let gain = 10f64.powf(steps[n / step_frames] / 20.0);
                    ((tonal + noise_level * noise) * gain * 0.5) as f32
                })
                .collect()
        })
        .collect()
}

/// Length of the noise low-pass.
const LOW_PASS: [(); 127] = [(); 127];

/// A low-pass FIR with its cutoff at 0.2·fs: Blackman-windowed sinc,
/// unity gain at DC.
fn low_pass_taps() -> Vec<f64> {
    let n = LOW_PASS.len();
    let centre = (n - 1) as f64 / 2.0;
    let taps: Vec<f64> = (0..n)
        .map(|i| {
            let x = i as f64 - centre;
            let sinc = if x == 0.0 {
                0.4
            } else {
                (std::f64::consts::PI * 0.4 * x).sin() / (std::f64::consts::PI * x)
            };
            let phase = std::f64::consts::TAU * i as f64 / (n - 1) as f64;
            sinc * (0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos())
        })
        .collect();
    let sum: f64 = taps.iter().sum();
    taps.iter().map(|t| t / sum).collect()
}

fn channel_map(channels: usize) -> Vec<Channel> {
    match channels {
        1 => vec![Channel::Center],
        2 => vec![Channel::Left, Channel::Right],
        5 => vec![
            Channel::Left,
            Channel::Right,
            Channel::Center,
            Channel::LeftSurround,
            Channel::RightSurround,
        ],
        6 => vec![
            Channel::Left,
            Channel::Right,
            Channel::Center,
            Channel::Unused,
            Channel::LeftSurround,
            Channel::RightSurround,
        ],
        _ => unreachable!(),
    }
}

#[test]
fn agrees_with_ebur128_on_random_programmes() {
    let mut random = Random(0x5EED_2026);
    let mut worst = [0.0f64; 4];
    for case in 0..12 {
        let rate = random.pick(&[
            22_050.0, 32_000.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0, 192_000.0,
        ]);
        let channels = random.pick(&[1usize, 2, 2, 5, 6]);
        let seconds = random.range(4.0, 16.0);
        let signal = programme(&mut random, rate, channels, seconds);
        let label = format!("case {case}: {rate} Hz, {channels} ch, {seconds:.1} s");

        // Exact block storage, not ebur128's 0.1 dB histogram mode, whose
        // bins would blur the comparison.
        let mode = Mode::M | Mode::S | Mode::I | Mode::TRUE_PEAK;
        let mut reference = EbuR128::new(channels as u32, rate as u32, mode).unwrap();
        reference.set_channel_map(&channel_map(channels)).unwrap();
        let mut ours = Analyzer::new(rate as f32, channels, 1);

        // Feed both in 100 ms chunks and compare M and S after each.
        let chunk = (rate / 10.0) as usize;
        let mut start = 0;
        while start < signal[0].len() {
            let end = (start + chunk).min(signal[0].len());
            let slices: Vec<&[f32]> = signal.iter().map(|c| &c[start..end]).collect();
            reference.add_frames_planar_f32(&slices).unwrap();
            ours.process(&slices);
            start = end;
            if end - (end / chunk) * chunk != 0 {
                continue; // the last, partial chunk ends off our 10 ms grid
            }
            let l = ours.readings().loudness;
            let pairs = [
                (
                    l.momentary_lufs,
                    reference.loudness_momentary().unwrap(),
                    0,
                    end as f64 >= 0.4 * rate,
                ),
                (
                    l.short_term_lufs,
                    reference.loudness_shortterm().unwrap(),
                    1,
                    end as f64 >= 3.0 * rate,
                ),
            ];
            for (ours, theirs, slot, full_window) in pairs {
                // Compare where the window is full and the programme is
                // above the absolute gate; below it digits do not matter.
                if !full_window || theirs < -70.0 {
                    continue;
                }
                let ours = ours
                    .unwrap_or_else(|| panic!("{label}: no value where ebur128 reads {theirs}"));
                let difference = (ours - theirs).abs();
                worst[slot] = worst[slot].max(difference);
                assert!(
                    difference <= 0.02,
                    "{label} at {end}: {ours:.4} vs ebur128 {theirs:.4}"
                );
            }
        }

        let readings = ours.readings();
        let theirs = reference.loudness_global().unwrap();
        if theirs.is_finite() {
            let integrated = readings.loudness.integrated_lufs.unwrap();
            worst[2] = worst[2].max((integrated - theirs).abs());
            assert!(
                (integrated - theirs).abs() <= 0.02,
                "{label}: I {integrated:.4} vs {theirs:.4}"
            );
        }
        let their_peak = (0..channels as u32)
            .map(|c| reference.true_peak(c).unwrap())
            .fold(0.0, f64::max);
        let their_peak_db = 20.0 * their_peak.log10();
        let our_peak_db = readings.true_peak_max_dbtp.unwrap();
        worst[3] = worst[3].max((our_peak_db - their_peak_db).abs());
        assert!(
            (our_peak_db - their_peak_db).abs() <= 0.1,
            "{label}: TP {our_peak_db:.3} vs {their_peak_db:.3}"
        );
    }
    println!(
        "worst differences: momentary {:.4} LU, short-term {:.4} LU, integrated {:.4} LU, true peak {:.3} dB",
        worst[0], worst[1], worst[2], worst[3]
    );
}
