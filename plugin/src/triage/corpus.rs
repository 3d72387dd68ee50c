//! Synthetic test material for the triage: a clean, balanced arrangement
//! (drums, bass, chords, a voice-like formant signal), each part as a stem,
//! and the signals that must or must not raise each hint. Deterministic.
//! Also the demonstration signal of the editor screenshot.

use crate::dsp::biquad::{BiquadCoefficients, BiquadState};
use crate::meter::features::SecondFeatures;
use crate::meter::Analyzer;
use crate::role::StemRole;
use std::f64::consts::TAU;

use super::report::{triage, TriageReport};
use super::rules::TriageContext;

/// Deterministic white noise, uniform in ±1 (xorshift64*), with no random
/// crate.
pub struct Noise(pub u64);

impl Noise {
    /// The next value, uniform in [0, 1).
    pub fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next value, uniform in [−1, 1). (Endless, so not an iterator.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> f64 {
        self.next_unit() * 2.0 - 1.0
    }

    /// Approximately Gaussian (sum of 4 uniforms), unit variance.
    pub fn next_gaussian(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.next_unit()).sum();
        (sum - 2.0) * 3.0_f64.sqrt()
    }

    /// `len` samples of noise with peak `amplitude`.
    pub fn signal(&mut self, len: usize, amplitude: f64) -> Vec<f32> {
        (0..len).map(|_| (amplitude * self.next()) as f32).collect()
    }
}

/// Sample rate of the corpus, Hz.
pub const FS: f64 = 48_000.0;
/// Tempo of the arrangement: 120 BPM, one beat every 0.5 s.
const BEAT_S: f64 = 0.5;

/// Planar audio, one vector per channel.
pub type Audio = Vec<Vec<f32>>;

fn samples(seconds: f64) -> usize {
    (seconds * FS) as usize
}

/// RBJ cookbook band-pass, 0 dB at the centre.
fn band_pass(hz: f64, q: f64) -> BiquadCoefficients {
    let w = TAU * hz / FS;
    let alpha = w.sin() / (2.0 * q);
    let a0 = 1.0 + alpha;
    BiquadCoefficients {
        b0: alpha / a0,
        b1: 0.0,
        b2: -alpha / a0,
        a1: -2.0 * w.cos() / a0,
        a2: (1.0 - alpha) / a0,
    }
}

/// RBJ cookbook high-pass.
fn high_pass(hz: f64, q: f64) -> BiquadCoefficients {
    crate::dsp::tone::design::highpass(hz, q, FS)
}

/// Runs `x` through `c` in place.
pub fn filter(x: &mut [f64], c: BiquadCoefficients) {
    let mut state = BiquadState::default();
    for v in x.iter_mut() {
        *v = state.process(&c, *v);
    }
}

/// Kick on every beat: a sine swept from 120 to 50 Hz, decaying in 150 ms,
/// with a 2 ms click; snare on beats 2 and 4: band-passed noise and a
/// 190 Hz body; closed hi-hat on every eighth: noise above 7 kHz.
pub fn drums(seconds: f64, seed: u64) -> Vec<f64> {
    let n = samples(seconds);
    let mut noise = Noise(seed);
    let mut kick = vec![0.0; n];
    let mut snare_noise = vec![0.0; n];
    let mut snare_body = vec![0.0; n];
    let mut hats = vec![0.0; n];
    let beat = samples(BEAT_S);
    let mut phase = 0.0;
    for i in 0..n {
        let t = (i % beat) as f64 / FS;
        let freq = 50.0 + 70.0 * (-t / 0.03).exp();
        phase += TAU * freq / FS;
        if i % beat == 0 {
            phase = 0.0;
        }
        kick[i] = phase.sin() * (-t / 0.15).exp() + 0.3 * noise.next() * (-t / 0.002).exp();
        let beat_index = i / beat;
        if beat_index % 2 == 1 {
            snare_noise[i] = noise.next() * (-t / 0.08).exp();
            snare_body[i] = (TAU * 190.0 * t).sin() * (-t / 0.05).exp();
        }
        let eighth = beat / 2;
        let th = (i % eighth) as f64 / FS;
        // Closed hat on the eighths, open (longer) on the off-beats.
        let decay = if (i / eighth) % 2 == 1 { 0.12 } else { 0.03 };
        hats[i] = noise.next() * (-th / decay).exp();
    }
    filter(&mut snare_noise, band_pass(1000.0, 0.8));
    filter(&mut hats, high_pass(6000.0, 0.7));
    filter(&mut hats, high_pass(6000.0, 0.7));
    (0..n)
        .map(|i| 0.9 * kick[i] + 0.45 * snare_noise[i] + 0.35 * snare_body[i] + 1.0 * hats[i])
        .collect()
}

/// MIDI note to Hz.
fn midi_hz(note: f64) -> f64 {
    440.0 * 2f64.powf((note - 69.0) / 12.0)
}

/// Roots of the chord progression (A minor, F, C, G), one chord per 2 s.
const ROOTS: [f64; 4] = [45.0, 41.0, 48.0, 43.0];
/// The chords' notes.
const CHORDS: [[f64; 3]; 4] = [
    [57.0, 60.0, 64.0],
    [53.0, 57.0, 60.0],
    [55.0, 60.0, 64.0],
    [55.0, 59.0, 62.0],
];

/// Bass: the chord root on every beat, eight harmonics (1/n above the
/// third falling as 1/n²), 5 ms attack, a gentle decay; `level_db(beat)`
/// sets each note's level.
pub fn bass_with_levels(seconds: f64, level_db: impl Fn(usize) -> f64) -> Vec<f64> {
    bass_signal(seconds, level_db, 0.0)
}

/// The bass with every partial a quarter period ahead (cosines for sines):
/// the quadrature signal, so `b·cos φ + q·sin φ` shifts every partial by φ.
pub fn bass_quadrature(seconds: f64) -> Vec<f64> {
    bass_signal(seconds, |_| 0.0, std::f64::consts::FRAC_PI_2)
}

fn bass_signal(seconds: f64, level_db: impl Fn(usize) -> f64, shift: f64) -> Vec<f64> {
    let n = samples(seconds);
    let beat = samples(BEAT_S);
    let mut phase = 0.0;
    (0..n)
        .map(|i| {
            let beat_index = i / beat;
            let chord = (i / samples(2.0)) % 4;
            let f0 = midi_hz(ROOTS[chord]);
            phase += TAU * f0 / FS;
            let t = (i % beat) as f64 / FS;
            let envelope = (t / 0.005).min(1.0)
                * (0.7 + 0.3 * (-t / 0.1).exp())
                * ((BEAT_S - t) / 0.01).min(1.0);
            let mut v = 0.0;
            for h in 1..=8 {
                let h = f64::from(h);
                let amp = if h <= 3.0 { 1.0 / h } else { 3.0 / (h * h) };
                v += amp * (h * phase + shift).sin();
            }
            v * envelope * 10f64.powf(level_db(beat_index) / 20.0)
        })
        .collect()
}

/// Bass with every note at the same level.
pub fn bass(seconds: f64) -> Vec<f64> {
    bass_with_levels(seconds, |_| 0.0)
}

/// A sum of sinusoids computed by rotating phasors (exact to rounding,
/// much cheaper than `sin` per sample): `(frequency Hz, amplitude, phase)`.
fn add_partials(out: &mut [f64], from: usize, to: usize, partials: &[(f64, f64, f64)]) {
    for &(freq, amp, phase) in partials {
        let (step_sin, step_cos) = (TAU * freq / FS).sin_cos();
        let start = phase + TAU * freq * from as f64 / FS;
        let (mut s, mut c) = start.sin_cos();
        for o in &mut out[from..to] {
            *o += amp * s;
            let next_s = s * step_cos + c * step_sin;
            c = c * step_cos - s * step_sin;
            s = next_s;
        }
    }
}

/// Chords: three notes, partials up to 14 kHz falling as 1/n with a gentle
/// low-pass (−3 dB at 8 kHz); a centre part, and partials above 300 Hz
/// detuned by ±4 cents in each channel at half the level, so the image is
/// wide in the mids and highs and mono in the bass. 50 ms fades.
pub fn chords(seconds: f64) -> [Vec<f64>; 2] {
    let n = samples(seconds);
    let chord_len = samples(2.0);
    let mut out = [vec![0.0; n], vec![0.0; n]];
    let mut partials = [Vec::new(), Vec::new()];
    let mut start = 0;
    while start < n {
        let end = (start + chord_len).min(n);
        let chord = (start / chord_len) % 4;
        for list in &mut partials {
            list.clear();
        }
        for (k, &note) in CHORDS[chord].iter().enumerate() {
            let f0 = midi_hz(note);
            let mut h = 1.0;
            while h * f0 < 14_000.0 {
                let f = h * f0;
                let amp = 1.0 / h / (1.0 + (f / 8000.0).powi(2)).sqrt();
                let phase = k as f64 + 0.7 * h;
                for list in &mut partials {
                    list.push((f, amp, phase));
                }
                if f > 300.0 {
                    for (side, detune) in [(0usize, 1.0023f64), (1, 0.9977)] {
                        partials[side].push((f * detune, 0.5 * amp, phase + 1.3 * h));
                    }
                }
                h += 1.0;
            }
        }
        for side in 0..2 {
            add_partials(&mut out[side], start, end, &partials[side]);
            for (i, o) in out[side][start..end].iter_mut().enumerate() {
                let t = i as f64 / FS;
                *o *= (t / 0.05).min(1.0) * ((2.0 - t) / 0.05).min(1.0);
            }
        }
        start = end;
    }
    out
}

/// A voice-like signal: a harmonic source (f0 from a five-note melody,
/// 5.5 Hz vibrato of ±1.5 %) through four formant band-passes that move
/// between the vowels /a/, /e/ and /o/ every half second; it sings 3.5 s
/// and rests 0.5 s.
pub fn voice(seconds: f64) -> Vec<f64> {
    let n = samples(seconds);
    let melody = [220.0, 247.0, 262.0, 294.0, 330.0, 294.0, 262.0, 247.0];
    // (F1, F2, F3) Hz and gains of the vowels.
    let vowels = [
        [(730.0, 1.0), (1090.0, 0.5), (2440.0, 0.8), (3300.0, 1.0)],
        [(530.0, 1.0), (1840.0, 0.5), (2480.0, 0.8), (3300.0, 1.0)],
        [(570.0, 1.0), (840.0, 0.6), (2410.0, 0.7), (3300.0, 1.0)],
    ];
    let segment = samples(0.5);
    let mut source = vec![0.0; n];
    let mut phase = 0.0;
    for (i, s) in source.iter_mut().enumerate() {
        let time = i as f64 / FS;
        let f0 = melody[(i / segment) % melody.len()] * (1.0 + 0.015 * (TAU * 5.5 * time).sin());
        phase += TAU * f0 / FS;
        let mut v = 0.0;
        let mut h = 1.0;
        while h * f0 < 12_000.0 {
            v += (h * phase).sin() / h;
            h += 1.0;
        }
        let in_phrase = time % 4.0;
        let envelope = (in_phrase / 0.05).min(1.0) * ((3.5 - in_phrase) / 0.05).clamp(0.0, 1.0);
        *s = v * envelope;
    }
    let mut out = vec![0.0; n];
    for (vowel_index, vowel) in vowels.iter().enumerate() {
        for &(formant, gain) in vowel {
            let mut band = source.clone();
            filter(&mut band, band_pass(formant, 5.0));
            for (i, o) in out.iter_mut().enumerate() {
                if (i / segment) % vowels.len() == vowel_index {
                    *o += gain * band[i];
                }
            }
        }
    }
    // Breath and sibilance: noise above 5 kHz following the phrases.
    let mut breath = Noise(11)
        .signal(n, 1.0)
        .iter()
        .map(|&x| f64::from(x))
        .collect::<Vec<f64>>();
    filter(&mut breath, high_pass(5000.0, 0.7));
    for (i, o) in out.iter_mut().enumerate() {
        let in_phrase = (i as f64 / FS) % 4.0;
        if in_phrase < 3.5 {
            *o += 0.15 * breath[i];
        }
    }
    out
}

/// Scales planar `f64` channels so that their integrated loudness is
/// `lufs`, and converts them to `f32`.
pub fn at_loudness(channels: &[Vec<f64>], lufs: f64) -> Audio {
    let as_f32: Audio = channels
        .iter()
        .map(|c| c.iter().map(|&x| x as f32).collect())
        .collect();
    let mut meter = crate::meter::loudness::LoudnessMeter::new(FS, channels.len());
    let slices: Vec<&[f32]> = as_f32.iter().map(|c| c.as_slice()).collect();
    meter.process(&slices);
    let measured = meter
        .readings()
        .integrated_lufs
        .expect("test material is above the gate");
    let gain = 10f64.powf((lufs - measured) / 20.0);
    channels
        .iter()
        .map(|c| c.iter().map(|&x| (x * gain) as f32).collect())
        .collect()
}

/// A mono part placed in the centre of a stereo pair.
pub fn centred(x: &[f64]) -> Vec<Vec<f64>> {
    vec![x.to_vec(), x.to_vec()]
}

/// Gains of the parts in the balanced mix.
pub const MIX_DRUMS: f64 = 0.5;
/// Bass gain in the mix.
pub const MIX_BASS: f64 = 0.4;
/// Voice gain in the mix.
pub const MIX_VOICE: f64 = 0.5;
/// Chords gain in the mix.
pub const MIX_CHORDS: f64 = 0.12;

/// The balanced arrangement as `f64` stereo, before level setting.
pub fn mix_f64(seconds: f64) -> Vec<Vec<f64>> {
    let d = drums(seconds, 7);
    let b = bass(seconds);
    let [cl, cr] = chords(seconds);
    let v = voice(seconds);
    let n = d.len();
    let mut left = vec![0.0; n];
    let mut right = vec![0.0; n];
    for i in 0..n {
        let centre = MIX_DRUMS * d[i] + MIX_BASS * b[i] + MIX_VOICE * v[i];
        left[i] = centre + MIX_CHORDS * cl[i];
        right[i] = centre + MIX_CHORDS * cr[i];
    }
    vec![left, right]
}

/// The balanced mix at −16 LUFS.
pub fn clean_mix(seconds: f64) -> Audio {
    at_loudness(&mix_f64(seconds), -16.0)
}

/// The per-second features of `audio` and its context as `role` for a
/// −14 LUFS, −1 dBTP target, measured exactly as the CLI does (the
/// analyzer, block by block).
pub fn features(audio: &Audio, role: StemRole) -> (Vec<SecondFeatures>, TriageContext) {
    let mut analyzer = Analyzer::new(FS as f32, audio.len(), 1);
    let mut seconds = Vec::new();
    let len = audio[0].len();
    let mut start = 0;
    while start < len {
        let end = (start + 4096).min(len);
        let block: Vec<&[f32]> = audio.iter().map(|c| &c[start..end]).collect();
        analyzer.process(&block);
        while (seconds.len() as u64) < analyzer.seconds_done() {
            seconds.push(*analyzer.second(seconds.len() as u64).expect("kept"));
        }
        start = end;
    }
    let context = TriageContext {
        role,
        target_lufs: -14.0,
        ceiling_dbtp: -1.0,
        integrated_lufs: analyzer
            .readings()
            .loudness
            .integrated_lufs
            .map(|x| x as f32),
        stereo: audio.len() == 2,
        sample_rate_hz: FS as f32,
    };
    (seconds, context)
}

/// Triage of `audio` as `role` (see [`features`]).
pub fn triage_audio(audio: &Audio, role: StemRole) -> TriageReport {
    let (seconds, context) = features(audio, role);
    triage(&seconds, &context, audio[0].len() as f64 / FS)
}
