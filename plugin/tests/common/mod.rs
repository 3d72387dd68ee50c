//! Helpers shared by the plugin crate's integration tests.
#![allow(dead_code)]

pub mod host;

/// xorshift64*: the deterministic random numbers of the fuzz and thread
/// tests, with no random crate; the state is the seed (not 0).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1), 24 bits.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in 0..n (0 for n = 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }
}

/// Deterministic test signal: per channel a sum of sines plus white noise
/// (xorshift), peak below 0.9. Different content on each channel.
pub fn test_signal(
    channels: usize,
    frames: usize,
    sample_rate_hz: f32,
    seed: u32,
) -> Vec<Vec<f32>> {
    let mut state = seed.max(1);
    (0..channels)
        .map(|channel| {
            let f1 = 97.0 + 50.0 * channel as f32;
            let f2 = 1234.5 + 300.0 * channel as f32;
            (0..frames)
                .map(|n| {
                    let t = n as f32 / sample_rate_hz;
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                    0.4 * (std::f32::consts::TAU * f1 * t).sin()
                        + 0.3 * (std::f32::consts::TAU * f2 * t).sin()
                        + 0.2 * noise
                })
                .collect()
        })
        .collect()
}

/// `10^(db/20)` in double precision: the reference the engine's f32 gain is
/// checked against.
pub fn gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Largest absolute sample-to-sample difference.
pub fn max_step(samples: &[f32]) -> f32 {
    samples
        .windows(2)
        .map(|pair| (pair[1] - pair[0]).abs())
        .fold(0.0, f32::max)
}

/// Runs the `stem-master` binary built for these tests.
pub fn stem_master(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_stem-master"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A fresh, empty folder for one test: `<target tmp>/<suite>/<name>`.
pub fn scratch(suite: &str, name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(suite)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
