//! `stem-master analyze` as a user runs it: the table, the JSON shape,
//! nulls for values that do not exist, the timeline, and bad input.

mod common;

use common::stem_master;

use hound::{SampleFormat, WavSpec, WavWriter};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    common::scratch("cli-analyze", name)
}

/// Writes planar audio as 32-bit float WAV.
fn write_wav(path: &Path, audio: &[Vec<f32>], rate: u32) {
    let spec = WavSpec {
        channels: audio.len() as u16,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: SampleFormat::Float,
    };
    let mut writer = WavWriter::create(path, spec).unwrap();
    for n in 0..audio[0].len() {
        for channel in audio {
            writer.write_sample(channel[n]).unwrap();
        }
    }
    writer.finalize().unwrap();
}

/// A 1 kHz sine at `peak_dbfs`, `seconds` long.
fn sine(peak_dbfs: f64, seconds: f64, rate: u32) -> Vec<f32> {
    let amplitude = 10f64.powf(peak_dbfs / 20.0);
    (0..(seconds * f64::from(rate)) as usize)
        .map(|n| {
            (amplitude * (std::f64::consts::TAU * 1000.0 * n as f64 / f64::from(rate)).sin()) as f32
        })
        .collect()
}

fn analyze_json(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["analyze", path.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let output = stem_master(&args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

fn number(value: &Value, path: &str) -> f64 {
    value
        .pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{path} is a number in {value}"))
}

#[test]
fn json_has_the_documented_shape_and_values() {
    let dir = scratch("shape");
    let path = dir.join("tone.wav");
    let tone = sine(-23.0, 10.0, 48_000);
    write_wav(&path, &[tone.clone(), tone], 48_000);
    let report = analyze_json(&path, &[]);

    let keys = |path: &str| -> Vec<String> {
        let object = if path.is_empty() {
            &report
        } else {
            report.pointer(path).unwrap()
        };
        object.as_object().unwrap().keys().cloned().collect()
    };
    for key in [
        "file",
        "sample_rate",
        "channels",
        "duration_s",
        "loudness",
        "stereo",
    ] {
        assert!(keys("").contains(&key.to_string()), "top-level {key}");
    }
    for key in [
        "integrated_lufs",
        "momentary_max_lufs",
        "short_term_max_lufs",
        "lra_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "plr_db",
    ] {
        assert!(
            keys("/loudness").contains(&key.to_string()),
            "loudness.{key}"
        );
    }
    for key in [
        "correlation",
        "low_band_correlation",
        "balance_db",
        "side_to_mid_db",
        "mono_loss_db",
    ] {
        assert!(keys("/stereo").contains(&key.to_string()), "stereo.{key}");
    }
    assert!(report.get("timeline").is_none(), "timeline only when asked");
    assert_eq!(report["file"], path.to_str().unwrap());
    assert_eq!(report["sample_rate"], 48_000);
    assert_eq!(report["channels"], 2);
    assert!((number(&report, "/duration_s") - 10.0).abs() < 1e-3);

    // A stereo in-phase 1 kHz tone at −23 dBFS: −22.993 LUFS (BS.1770),
    // true and sample peak −23 dB, PLR 0, correlation +1, balance 0, no
    // side signal, no mono loss.
    assert!((number(&report, "/loudness/integrated_lufs") + 22.993).abs() < 0.01);
    assert!((number(&report, "/loudness/momentary_max_lufs") + 22.993).abs() < 0.01);
    assert!((number(&report, "/loudness/short_term_max_lufs") + 22.993).abs() < 0.01);
    assert!(number(&report, "/loudness/lra_lu").abs() < 0.05);
    assert!((number(&report, "/loudness/true_peak_dbtp") + 23.0).abs() < 0.05);
    assert!((number(&report, "/loudness/sample_peak_dbfs") + 23.0).abs() < 0.01);
    assert!(number(&report, "/loudness/plr_db").abs() < 0.05);
    assert!((number(&report, "/stereo/correlation") - 1.0).abs() < 1e-4);
    assert!((number(&report, "/stereo/low_band_correlation") - 1.0).abs() < 1e-3);
    assert!(number(&report, "/stereo/balance_db").abs() < 1e-3);
    assert!(number(&report, "/stereo/mono_loss_db").abs() < 1e-3);
}

#[test]
fn values_that_do_not_exist_are_null() {
    let dir = scratch("nulls");
    let silence = dir.join("silence.wav");
    write_wav(&silence, &[vec![0.0; 96_000], vec![0.0; 96_000]], 48_000);
    let report = analyze_json(&silence, &[]);
    for key in [
        "integrated_lufs",
        "momentary_max_lufs",
        "short_term_max_lufs",
        "lra_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "plr_db",
    ] {
        assert!(
            report["loudness"][key].is_null(),
            "silence: loudness.{key} = {}",
            report["loudness"][key]
        );
    }
    for key in [
        "correlation",
        "low_band_correlation",
        "balance_db",
        "side_to_mid_db",
        "mono_loss_db",
    ] {
        assert!(report["stereo"][key].is_null(), "silence: stereo.{key}");
    }

    let mono = dir.join("mono.wav");
    write_wav(&mono, &[sine(-20.0, 5.0, 44_100)], 44_100);
    let report = analyze_json(&mono, &[]);
    assert_eq!(report["channels"], 1);
    assert!(report["loudness"]["integrated_lufs"].is_number());
    for key in [
        "correlation",
        "low_band_correlation",
        "balance_db",
        "side_to_mid_db",
        "mono_loss_db",
    ] {
        assert!(report["stereo"][key].is_null(), "mono: stereo.{key}");
    }

    // Shorter than 3 s: no short-term maximum and no loudness range exist.
    let short = dir.join("short.wav");
    let tone = sine(-20.0, 1.0, 48_000);
    write_wav(&short, &[tone.clone(), tone], 48_000);
    let report = analyze_json(&short, &[]);
    assert!(report["loudness"]["short_term_max_lufs"].is_null());
    assert!(report["loudness"]["lra_lu"].is_null());
    assert!(report["loudness"]["momentary_max_lufs"].is_number());
}

#[test]
fn timeline_has_a_point_every_100_ms() {
    let dir = scratch("timeline");
    let path = dir.join("steps.wav");
    let mut signal = sine(-30.0, 5.0, 48_000);
    signal.extend(sine(-20.0, 5.0, 48_000));
    write_wav(&path, &[signal.clone(), signal], 48_000);
    let report = analyze_json(&path, &["--timeline"]);
    let timeline = &report["timeline"];
    assert!((number(&report, "/timeline/hop_s") - 0.1).abs() < 1e-9);
    let momentary = timeline["momentary_lufs"].as_array().unwrap();
    let short_term = timeline["short_term_lufs"].as_array().unwrap();
    assert_eq!(momentary.len(), 100);
    assert_eq!(short_term.len(), 100);
    // At 4.9 s the momentary window holds only the −30 dBFS part, at 9.9 s
    // only the −20 dBFS part; short-term likewise at 4.9 and 9.9 s.
    let at = |series: &[Value], i: usize| series[i].as_f64().unwrap();
    assert!((at(momentary, 48) + 29.993).abs() < 0.01);
    assert!((at(momentary, 98) + 19.993).abs() < 0.01);
    assert!((at(short_term, 48) + 29.993).abs() < 0.01);
    assert!((at(short_term, 99) + 19.993).abs() < 0.01);

    let table = stem_master(&["analyze", path.to_str().unwrap(), "--timeline"]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("integrated"), "{text}");
    // One timeline row per second of the 10 s file.
    let rows = text
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains("s  "))
        .count();
    assert_eq!(rows, 10, "{text}");
}

#[test]
fn table_lists_the_main_figures() {
    let dir = scratch("table");
    let path = dir.join("tone.wav");
    let tone = sine(-23.0, 4.0, 48_000);
    write_wav(&path, &[tone.clone(), tone], 48_000);
    let output = stem_master(&["analyze", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "integrated",
        "-23.0 LUFS",
        "true peak",
        "dBTP",
        "loudness range",
        "correlation",
        "mono loss",
    ] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }
}

#[test]
fn bad_input_fails_with_one_line_and_status_2() {
    let dir = scratch("bad");
    let garbage = dir.join("garbage.wav");
    std::fs::write(&garbage, b"RIFF....WAVEjunk").unwrap();
    for args in [
        vec!["analyze", garbage.to_str().unwrap()],
        vec![
            "analyze",
            dir.join("missing.wav").to_str().unwrap(),
            "--json",
        ],
        vec!["analyze"],
        vec!["analyze", garbage.to_str().unwrap(), "--bogus"],
    ] {
        let output = stem_master(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(output.stdout.is_empty());
    }
}

/// One hint of a JSON report: id, severity, message, fix, ranges.
type Hint = (String, String, String, String, Vec<(f64, f64)>);

/// The hints of a JSON report.
fn hints(report: &Value) -> Vec<Hint> {
    report["hints"]
        .as_array()
        .expect("hints is an array")
        .iter()
        .map(|hint| {
            let text = |key: &str| {
                hint[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("{key}"))
                    .to_string()
            };
            let ranges = hint["ranges_s"]
                .as_array()
                .expect("ranges_s")
                .iter()
                .map(|r| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap()))
                .collect();
            (
                text("id"),
                text("severity"),
                text("message"),
                text("fix"),
                ranges,
            )
        })
        .collect()
}

/// `--json` carries the hints (id, severity, message with the evidence,
/// fix, time ranges) and the verdict; `--role` and `--target` change what
/// the audio is judged against.
#[test]
fn json_lists_hints_and_verdict() {
    let dir = scratch("triage");
    // One channel inverted: a structural problem for any role.
    let inverted = dir.join("inverted.wav");
    let tone = sine(-20.0, 10.0, 48_000);
    let negative: Vec<f32> = tone.iter().map(|x| -x).collect();
    write_wav(&inverted, &[tone.clone(), negative], 48_000);
    let report = analyze_json(&inverted, &[]);
    let found = hints(&report);
    let (_, severity, message, fix, ranges) = found
        .iter()
        .find(|h| h.0 == "phase-inverted")
        .expect("phase-inverted raised");
    assert_eq!(severity, "problem");
    assert!(message.contains("-1.00"), "evidence in: {message}");
    assert!(fix.contains("needs a mix"), "{fix}");
    assert_eq!(ranges.len(), 1);
    assert!(ranges[0].0 <= 3.0 && ranges[0].1 >= 9.0, "{ranges:?}");
    assert_eq!(report["verdict"]["service"], "full-mix");
    assert!(number(&report, "/verdict/confidence") > 0.5);
    assert!(report["verdict"]["because"]
        .as_array()
        .unwrap()
        .contains(&Value::from("phase-inverted")));
    assert_eq!(report["role"], "full-mix");
    assert_eq!(report["target"]["name"], "spotify");

    // The same in-phase tone at −23 LUFS: 9 LU under Spotify's −14 (warn),
    // on target for EBU R128's −23.
    let quiet = dir.join("quiet.wav");
    let tone = sine(-23.0, 10.0, 48_000);
    write_wav(&quiet, &[tone.clone(), tone], 48_000);
    let severity_of = |report: &Value, id: &str| {
        hints(report)
            .into_iter()
            .find(|h| h.0 == id)
            .map(|h| h.1)
            .unwrap_or_else(|| "none".into())
    };
    let spotify = analyze_json(&quiet, &[]);
    assert_eq!(severity_of(&spotify, "loudness-off-target"), "warn");
    let ebu = analyze_json(&quiet, &["--target", "ebu"]);
    assert_eq!(severity_of(&ebu, "loudness-off-target"), "none");
    assert_eq!(ebu["target"]["lufs"], -23.0);
    let custom = analyze_json(&quiet, &["--target", "-20"]);
    assert_eq!(severity_of(&custom, "loudness-off-target"), "info");
    // Identical channels: a fault for a full mix, normal for a vocal stem.
    assert_eq!(severity_of(&spotify, "mono-as-stereo"), "warn");
    let vocal = analyze_json(&quiet, &["--role", "vocals"]);
    assert_eq!(vocal["role"], "vocals");
    assert_eq!(severity_of(&vocal, "mono-as-stereo"), "none");
    assert_eq!(severity_of(&vocal, "loudness-off-target"), "none");

    // The table shows the verdict and each hint with its fix.
    let output = stem_master(&["analyze", inverted.to_str().unwrap()]);
    let text = String::from_utf8(output.stdout).unwrap();
    for needle in ["verdict", "full mix", "phase-inverted", "fix:"] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }

    for (flag, value) in [
        ("--target", "tidal"),
        ("--target", "+3"),
        ("--role", "guitar"),
    ] {
        let output = stem_master(&["analyze", quiet.to_str().unwrap(), flag, value]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

/// `seconds` of a sum of `count` sines spread evenly (in log frequency)
/// from `low_hz` to `high_hz`, phases from `seed`, each at `amplitude`.
fn sines(
    low_hz: f64,
    high_hz: f64,
    count: usize,
    amplitude: f64,
    seed: u64,
    seconds: f64,
) -> Vec<f32> {
    let rate = 48_000.0;
    let mut state = seed;
    let partials: Vec<(f64, f64)> = (0..count)
        .map(|k| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let phase = (state >> 11) as f64 / (1u64 << 53) as f64 * std::f64::consts::TAU;
            let f = low_hz * (high_hz / low_hz).powf((k as f64 + 0.5) / count as f64);
            (f * (1.0 + 0.01 * (phase - 3.0) / 3.0), phase)
        })
        .collect();
    (0..(seconds * rate) as usize)
        .map(|n| {
            let t = n as f64 / rate;
            let v: f64 = partials
                .iter()
                .map(|&(f, p)| (std::f64::consts::TAU * f * t + p).sin())
                .sum();
            (amplitude * v) as f32
        })
        .collect()
}

/// `--stem NAME=FILE ...`: every stem measured and set against the mix
/// (the sum of the stems), the link hints raised for stems built to mask
/// each other and not for stems that don't, and the verdict follows.
#[test]
fn stems_are_judged_together() {
    let dir = scratch("stems");
    let write = |name: &str, mono: Vec<f32>| {
        let path = dir.join(format!("{name}.wav"));
        write_wav(&path, &[mono.clone(), mono], 48_000);
        path
    };
    // Two stems with their energy in the same bands at the same level.
    let vocals = write("vocals", sines(300.0, 3000.0, 24, 0.02, 1, 8.0));
    let music = write("music", sines(300.0, 3000.0, 24, 0.02, 2, 8.0));
    // A bass and hats: no band in common.
    let bass = write("bass", sines(45.0, 110.0, 6, 0.05, 3, 8.0));
    let hats = write("drums", sines(5000.0, 12000.0, 24, 0.01, 4, 8.0));
    let stem = |name: &str, path: &Path| format!("{name}={}", path.display());
    let json = |args: &[String]| -> Value {
        let mut all = vec!["analyze".to_string(), "--json".to_string()];
        all.extend_from_slice(args);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let output = stem_master(&refs);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };

    let masking = json(&[
        "--stem".into(),
        stem("vocals", &vocals),
        "--stem".into(),
        stem("music", &music),
    ]);
    let found = hints(&masking);
    let hint = found
        .iter()
        .find(|h| h.0 == "masking")
        .expect("masking raised");
    assert!(
        hint.2.contains("vocals") && hint.2.contains("music"),
        "{}",
        hint.2
    );
    assert_eq!(masking["verdict"]["service"], "full-mix");
    // Two equally loud, unrelated stems: each 3 LU under their sum; each
    // reads what its own analysis reads.
    let rows = masking["stems"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let relative = row["relative_to_mix_lu"].as_f64().unwrap();
        assert!((relative + 3.0).abs() < 0.3, "{row}");
        let own = analyze_json(Path::new(row["file"].as_str().unwrap()), &[]);
        let own_lufs = number(&own, "/loudness/integrated_lufs");
        assert!((row["integrated_lufs"].as_f64().unwrap() - own_lufs).abs() < 0.01);
    }
    assert_eq!(rows[0]["name"], "vocals");
    assert_eq!(rows[0]["role"], "vocals");

    let apart = json(&[
        "--stem".into(),
        stem("bass", &bass),
        "--stem".into(),
        stem("drums", &hats),
    ]);
    assert!(hints(&apart).iter().all(|h| h.0 != "masking"), "{apart}");
    let shares: Vec<f64> = apart["stems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["low_end_share"].as_f64().unwrap())
        .collect();
    assert!(shares[0] > 0.99 && shares[1] < 0.01, "{shares:?}");

    // Music carrying the low end against a bass: low-end-conflict.
    let boomy = write("boomy", sines(40.0, 110.0, 6, 0.05, 5, 8.0));
    let conflict = json(&[
        "--stem".into(),
        stem("bass", &bass),
        "--stem".into(),
        stem("music", &boomy),
    ]);
    assert!(
        hints(&conflict).iter().any(|h| h.0 == "low-end-conflict"),
        "{conflict}"
    );

    // A mono stem in a stereo sum plays in both channels and is measured
    // so: BS.1770 reads it 3.01 LU above the mono file on its own, and it
    // then sits 3 LU under its sum with an equally loud stereo stem.
    let mono_vocals = dir.join("mono-vocals.wav");
    write_wav(
        &mono_vocals,
        &[sines(300.0, 3000.0, 24, 0.02, 1, 8.0)],
        48_000,
    );
    let mixed = json(&[
        "--stem".into(),
        stem("vocals", &mono_vocals),
        "--stem".into(),
        stem("music", &music),
    ]);
    let own = number(
        &analyze_json(&mono_vocals, &[]),
        "/loudness/integrated_lufs",
    );
    let row = &mixed["stems"][0];
    assert!(
        (row["integrated_lufs"].as_f64().unwrap() - (own + 3.01)).abs() < 0.05,
        "{row} against {own}"
    );
    assert!(
        (row["relative_to_mix_lu"].as_f64().unwrap() + 3.0).abs() < 0.3,
        "{row}"
    );
    // --role does not go with --stem.
    let output = stem_master(&[
        "analyze",
        "--stem",
        &stem("vocals", &vocals),
        "--role",
        "bass",
    ]);
    assert_eq!(output.status.code(), Some(2));

    // Stems at different sample rates: a clear error, status 2.
    let other_rate = dir.join("other-rate.wav");
    let tone = sine(-20.0, 2.0, 44_100);
    write_wav(&other_rate, &[tone.clone(), tone], 44_100);
    let output = stem_master(&[
        "analyze",
        "--stem",
        &stem("vocals", &vocals),
        "--stem",
        &stem("music", &other_rate),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("sample rate"), "{stderr}");
}
