//! Helpers shared by the unit tests of several modules.

/// Sample rates the meters and processors must support, Hz.
pub const RATES: [f32; 6] = [22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0, 384_000.0];

/// Sample rates the processing modules are specified for, Hz.
pub const PROCESSOR_RATES: [f32; 4] = [44_100.0, 48_000.0, 96_000.0, 192_000.0];

/// Deterministic uniform noise in [−amp, amp): a 64-bit LCG, top 24 bits.
pub fn lcg_noise(len: usize, seed: u64, amp: f32) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amp
        })
        .collect()
}

/// Deterministic white-ish noise in ±`amplitude` (xorshift64).
pub fn xorshift_noise(seed: u64, amplitude: f32, len: usize) -> Vec<f32> {
    let mut s = seed.max(1);
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            amplitude * ((s >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0)
        })
        .collect()
}

/// `len` samples of a sine of `freq` Hz at `fs`, peak `amplitude`,
/// starting at `phase` radians.
pub fn sine_with_phase(freq: f64, amplitude: f64, phase: f64, fs: f32, len: usize) -> Vec<f32> {
    let w = std::f64::consts::TAU * freq / f64::from(fs);
    (0..len)
        .map(|n| (amplitude * (w * n as f64 + phase).sin()) as f32)
        .collect()
}

/// Largest sample-to-sample step of `x[from..]` (full scale).
pub fn max_step(x: &[f32], from: usize) -> f32 {
    x[from..]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

pub use crate::triage::corpus::Noise;

/// Zero samples either side of a signal in [`fft_upsampled`].
pub const UPSAMPLE_MARGIN: usize = 4096;

/// `samples` (zero-extended by [`UPSAMPLE_MARGIN`] either side) at `factor`
/// points per sample period, by FFT zero-padding: exact sinc interpolation
/// of the periodic extension, which the zero margin makes the zero-extended
/// signal up to tails of order 1/margin of the edge samples. Sample `n` of
/// the input is point `(UPSAMPLE_MARGIN + n) · factor` of the result. The
/// ideal reconstruction against which true-peak readings are checked.
pub fn fft_upsampled(samples: &[f32], factor: usize) -> Vec<f64> {
    let margin = UPSAMPLE_MARGIN;
    let length = (samples.len() + 2 * margin).next_multiple_of(1024);
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(length);
    let inverse = planner.plan_fft_inverse(length * factor);
    let mut time = forward.make_input_vec();
    for (slot, &sample) in time[margin..].iter_mut().zip(samples) {
        *slot = f64::from(sample);
    }
    let mut spectrum = forward.make_output_vec();
    forward
        .process(&mut time, &mut spectrum)
        .expect("forward FFT");
    let mut padded = inverse.make_input_vec();
    padded[..spectrum.len()].copy_from_slice(&spectrum);
    // The old Nyquist bin is shared by ±fs/2: keep half of it.
    padded[length / 2] *= 0.5;
    padded[length / 2].im = 0.0;
    padded[0].im = 0.0;
    let mut upsampled = inverse.make_output_vec();
    inverse
        .process(&mut padded, &mut upsampled)
        .expect("inverse FFT");
    let scale = 1.0 / length as f64;
    for value in &mut upsampled {
        *value *= scale;
    }
    upsampled
}
