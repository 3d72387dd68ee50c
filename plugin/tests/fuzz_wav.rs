//! The CLI on damaged WAV files: valid files of every supported format
//! (8/16/24/32-bit integer, 32/64-bit float, plain and extensible headers,
//! mono and stereo) are mutated at random — flipped bytes, cut short,
//! chunk sizes and header fields overwritten, bytes inserted — and run
//! through `analyze --json` and `render` in-process. Whatever the bytes:
//! nothing panics, the status is 0 (read) or 2 (bad input, one line),
//! the input is never changed, and a failed render leaves no output file
//! and no partial file behind.
//!
//! `STEM_MASTER_FUZZ_CASES` sets the number of cases and
//! `STEM_MASTER_FUZZ_SEED` the first seed; `cargo xtask fuzz` runs many
//! more in release mode.

mod common;

use common::Rng;

use std::ffi::OsString;
use std::path::Path;

/// Cases in a plain `cargo test` run.
const DEFAULT_CASES: u64 = 2000;

/// A valid WAV file: `channels`, `bits` (integer or float), `frames` of a
/// sine, with a plain or extensible format chunk.
fn wav(rng: &mut Rng) -> Vec<u8> {
    let (bits, float) = [
        (8, false),
        (16, false),
        (24, false),
        (32, false),
        (32, true),
        (64, true),
    ][rng.below(6)];
    let channels: u16 = 1 + rng.below(2) as u16;
    let rate: u32 = [22_050, 44_100, 48_000, 96_000][rng.below(4)];
    let frames = rng.below(6000);
    let extensible = rng.below(2) == 1;
    let bytes_per_sample = bits / 8;
    let mut data = Vec::new();
    for n in 0..frames {
        for c in 0..channels {
            let x = 0.5 * ((n as f64 * 0.05) + f64::from(c)).sin();
            match (bits, float) {
                (8, _) => data.push((128.0 + 127.0 * x) as u8),
                (16, _) => data.extend(((x * 32767.0) as i16).to_le_bytes()),
                (24, _) => data.extend(&((x * 8_388_607.0) as i32).to_le_bytes()[..3]),
                (32, false) => data.extend(((x * 2_147_483_647.0) as i32).to_le_bytes()),
                (32, true) => data.extend((x as f32).to_le_bytes()),
                _ => data.extend(x.to_le_bytes()),
            }
        }
    }
    let tag: u16 = if extensible {
        0xFFFE
    } else if float {
        3
    } else {
        1
    };
    let mut fmt = Vec::new();
    fmt.extend(tag.to_le_bytes());
    fmt.extend(channels.to_le_bytes());
    fmt.extend(rate.to_le_bytes());
    fmt.extend((rate * u32::from(channels) * bytes_per_sample).to_le_bytes());
    fmt.extend((channels * bytes_per_sample as u16).to_le_bytes());
    fmt.extend((bits as u16).to_le_bytes());
    if extensible {
        fmt.extend(22u16.to_le_bytes());
        fmt.extend((bits as u16).to_le_bytes());
        fmt.extend(if channels == 1 { 4u32 } else { 3u32 }.to_le_bytes());
        let sub: u16 = if float { 3 } else { 1 };
        fmt.extend(sub.to_le_bytes());
        fmt.extend([
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    let mut out = b"RIFF".to_vec();
    out.extend((4 + 8 + fmt.len() as u32 + 8 + data.len() as u32).to_le_bytes());
    out.extend(b"WAVEfmt ");
    out.extend((fmt.len() as u32).to_le_bytes());
    out.extend(&fmt);
    out.extend(b"data");
    out.extend((data.len() as u32).to_le_bytes());
    out.extend(&data);
    out
}

/// Damages `bytes` in 1 to 4 random ways.
fn mutate(bytes: &mut Vec<u8>, rng: &mut Rng) {
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            // Flip bytes, mostly in the header.
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let at = if rng.below(3) > 0 {
                        rng.below(80)
                    } else {
                        rng.below(bytes.len())
                    };
                    if at < bytes.len() {
                        bytes[at] ^= 1 << rng.below(8);
                    }
                }
            }
            // Cut short.
            1 => {
                let keep = rng.below(bytes.len() + 1);
                bytes.truncate(keep);
            }
            // A size or header field overwritten with an extreme value.
            2 => {
                let at = [4, 16, 20, 22, 24, 28, 32, 34, 40, 36 + rng.below(40)][rng.below(10)];
                let value = [0u32, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 3, 0xFFFE][rng.below(6)];
                if at + 4 <= bytes.len() {
                    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
                }
            }
            // Bytes inserted.
            3 => {
                let at = rng.below(bytes.len() + 1);
                let extra: Vec<u8> = (0..1 + rng.below(16))
                    .map(|_| rng.next_u64() as u8)
                    .collect();
                bytes.splice(at..at, extra);
            }
            // Random garbage of random length.
            _ => {
                let len = rng.below(200);
                *bytes = (0..len).map(|_| rng.next_u64() as u8).collect();
            }
        }
    }
}

fn run(args: &[&Path]) -> (i32, String) {
    let args: Vec<OsString> = args.iter().map(|a| a.as_os_str().to_owned()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = stem_master::cli::run(args, &mut out, &mut err);
    (status, String::from_utf8_lossy(&err).into_owned())
}

#[test]
fn damaged_wav_files_give_clear_errors_and_lose_nothing() {
    let cases: u64 = std::env::var("STEM_MASTER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let first: u64 = std::env::var("STEM_MASTER_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let dir = common::scratch("fuzz_wav", "cases");
    let input = dir.join("in.wav");
    let output = dir.join("out.wav");
    let (mut read, mut refused) = (0, 0);
    for seed in first..first + cases {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut bytes = wav(&mut rng);
        if seed % 8 != 0 {
            mutate(&mut bytes, &mut rng);
        }
        std::fs::write(&input, &bytes).unwrap();
        let _ = std::fs::remove_file(&output);
        let analyze =
            std::panic::catch_unwind(|| run(&[Path::new("analyze"), Path::new("--json"), &input]));
        let (status, err) = analyze.unwrap_or_else(|_| panic!("seed {seed}: analyze panicked"));
        assert!(
            status == stem_master::cli::EXIT_OK
                || (status == stem_master::cli::EXIT_BAD_INPUT && err.trim().lines().count() == 1),
            "seed {seed}: analyze exited {status} with {err:?}"
        );
        if status == 0 {
            read += 1;
        } else {
            refused += 1;
        }
        let render = std::panic::catch_unwind(|| {
            run(&[Path::new("render"), &input, Path::new("-o"), &output])
        });
        let (status, err) = render.unwrap_or_else(|_| panic!("seed {seed}: render panicked"));
        assert!(
            status == stem_master::cli::EXIT_OK
                || (status == stem_master::cli::EXIT_BAD_INPUT && err.trim().lines().count() == 1),
            "seed {seed}: render exited {status} with {err:?}"
        );
        assert_eq!(
            std::fs::read(&input).unwrap(),
            bytes,
            "seed {seed}: the input changed"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains("partial"))
            .collect();
        assert!(leftovers.is_empty(), "seed {seed}: left {leftovers:?}");
        assert_eq!(
            output.exists(),
            status == 0,
            "seed {seed}: render status {status}, {err:?}"
        );
    }
    println!("{cases} files: {read} read, {refused} refused with one line");
    // Both outcomes must be common, or the mutations are too weak or too
    // strong to test anything.
    assert!(cases < 50 || (read as u64 > cases / 10 && refused as u64 > cases / 10));
}
