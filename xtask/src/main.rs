//! `cargo xtask`: bundling (from nice-plug-xtask) plus project commands.
//!
//! - `cargo xtask bundle stem_master --release` builds `target/bundled/Stem Master.{vst3,clap}`.
//! - `cargo xtask install` bundles and copies both into `~/.vst3` and `~/.clap`.
//! - `cargo xtask bench` runs the speed benchmarks, which print ratios against
//!   their peers measured in the same run.
//! - `cargo xtask fuzz [CASES]` runs the property and WAV fuzz tests in
//!   release mode with CASES cases each (default 100 000), from a seed taken
//!   from the clock (printed, so a failure can be replayed with
//!   `STEM_MASTER_FUZZ_SEED`).
//! - `cargo xtask memory [MINUTES]` analyses and renders a stereo 96 kHz
//!   file of MINUTES minutes (default 120) with the release CLI and prints
//!   its peak memory (RSS, from GNU `time`) against a 1-minute file's.
//! - `cargo xtask calibrate` runs the triage on released music from Debian's
//!   game-soundtrack packages (installed with apt, so not part of CI) and
//!   prints its false-alarm and recall figures (see `calibrate.rs`).
//! - `cargo xtask screenshot` renders the real editor, with the demonstration
//!   arrangement playing through it, to `docs/editor.png` under Xvfb
//!   (Debian packages `xvfb xauth imagemagick`).

mod calibrate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Package and display name, as in `bundler.toml`.
const PACKAGE: &str = "stem_master";
const BUNDLE_NAME: &str = "Stem Master";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("install") => install(),
        Some("bench") => bench(),
        Some("screenshot") => screenshot(),
        Some("fuzz") => fuzz(args.get(1).map(String::as_str)),
        Some("memory") => memory(args.get(1).map(String::as_str)),
        Some("calibrate") => calibrate::calibrate(&args[1..]),
        _ => nice_plug_xtask::main_with_args("cargo xtask", args)
            .map_err(|error| format!("{error:#}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Builds both bundles in release mode and installs them for the current user.
fn install() -> Result<(), String> {
    nice_plug_xtask::main_with_args(
        "cargo xtask",
        ["bundle", PACKAGE, "--release"].map(String::from),
    )
    .map_err(|error| format!("{error:#}"))?;
    // main_with_args changed into the workspace root.
    let bundled = PathBuf::from("target/bundled");
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let home = PathBuf::from(home);

    let vst3_source = bundled.join(format!("{BUNDLE_NAME}.vst3"));
    let vst3_target = home.join(".vst3").join(format!("{BUNDLE_NAME}.vst3"));
    replace_with_copy(&vst3_source, &vst3_target)?;

    let clap_source = bundled.join(format!("{BUNDLE_NAME}.clap"));
    let clap_target = home.join(".clap").join(format!("{BUNDLE_NAME}.clap"));
    replace_with_copy(&clap_source, &clap_target)?;

    println!("installed {}", vst3_target.display());
    println!("installed {}", clap_target.display());
    Ok(())
}

/// Runs every benchmark of the plugin crate in release mode.
fn bench() -> Result<(), String> {
    nice_plug_xtask::chdir_workspace_root().map_err(|error| format!("{error:#}"))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["bench", "-p", PACKAGE])
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo bench failed ({status})"))
    }
}

/// Runs the fuzz tests in release mode for `cases` cases each.
fn fuzz(cases: Option<&str>) -> Result<(), String> {
    let cases: u64 = cases
        .unwrap_or("100000")
        .parse()
        .map_err(|_| "usage: cargo xtask fuzz [CASES]".to_string())?;
    nice_plug_xtask::chdir_workspace_root().map_err(|error| format!("{error:#}"))?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    println!("fuzz: {cases} cases each from seed {seed} (replay: STEM_MASTER_FUZZ_SEED={seed})");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "test",
            "--release",
            "-p",
            PACKAGE,
            "--test",
            "fuzz_properties",
            "--test",
            "fuzz_wav",
            "--",
            "--nocapture",
        ])
        .env("STEM_MASTER_FUZZ_CASES", cases.to_string())
        .env("STEM_MASTER_FUZZ_SEED", seed.to_string())
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found a failure ({status}); replay with STEM_MASTER_FUZZ_SEED={seed}"
        ))
    }
}

/// Writes a 16-bit stereo 96 kHz WAV of `minutes` (a programme of two
/// tones and noise), streaming, so the tool itself needs little memory.
fn write_long_wav(path: &Path, minutes: u64) -> Result<(), String> {
    use std::io::Write;
    const RATE: u32 = 96_000;
    let frames = minutes * 60 * u64::from(RATE);
    let data_bytes = frames * 4;
    if data_bytes + 44 > u64::from(u32::MAX) {
        return Err(format!("{minutes} minutes do not fit a WAV file"));
    }
    let file = std::fs::File::create(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut header = Vec::with_capacity(44);
    header.extend(b"RIFF");
    header.extend(((36 + data_bytes) as u32).to_le_bytes());
    header.extend(b"WAVEfmt ");
    header.extend(16u32.to_le_bytes());
    header.extend(1u16.to_le_bytes());
    header.extend(2u16.to_le_bytes());
    header.extend(RATE.to_le_bytes());
    header.extend((RATE * 4).to_le_bytes());
    header.extend(4u16.to_le_bytes());
    header.extend(16u16.to_le_bytes());
    header.extend(b"data");
    header.extend((data_bytes as u32).to_le_bytes());
    out.write_all(&header).map_err(|e| e.to_string())?;
    let mut noise = 0x1234_5678u32;
    let (step_l, step_r) = (
        std::f64::consts::TAU * 110.0 / f64::from(RATE),
        std::f64::consts::TAU * 2750.0 / f64::from(RATE),
    );
    let (mut phase_l, mut phase_r) = (0.0f64, 0.0f64);
    let mut block = Vec::with_capacity(1 << 16);
    for n in 0..frames {
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        let n_l = (noise as f64 / f64::from(u32::MAX)) * 0.1 - 0.05;
        let left = 0.4 * phase_l.sin() + n_l;
        let right = 0.3 * phase_r.sin() + n_l;
        phase_l = (phase_l + step_l) % std::f64::consts::TAU;
        phase_r = (phase_r + step_r) % std::f64::consts::TAU;
        block.extend(((left * 32767.0) as i16).to_le_bytes());
        block.extend(((right * 32767.0) as i16).to_le_bytes());
        if block.len() >= 1 << 16 || n + 1 == frames {
            out.write_all(&block).map_err(|e| e.to_string())?;
            block.clear();
        }
    }
    out.flush().map_err(|e| e.to_string())
}

/// Peak RSS (KiB) and wall time (s) of the release CLI with `args`, from
/// GNU time.
fn measure_cli(args: &[&str]) -> Result<(u64, f64), String> {
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M %e", "target/release/stem-master"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run /usr/bin/time (Debian package `time`): {e}"))?;
    let text = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("stem-master {} failed: {text}", args.join(" ")));
    }
    let last = text.lines().last().unwrap_or_default();
    let mut fields = last.split_whitespace();
    let rss = fields.next().and_then(|v| v.parse().ok());
    let seconds = fields.next().and_then(|v| v.parse().ok());
    rss.zip(seconds)
        .ok_or(format!("unexpected output of time: {text}"))
}

/// Peak memory of analyze and render on a long file against a 1-minute one.
fn memory(minutes: Option<&str>) -> Result<(), String> {
    let minutes: u64 = minutes
        .unwrap_or("120")
        .parse()
        .map_err(|_| "usage: cargo xtask memory [MINUTES]".to_string())?;
    nice_plug_xtask::chdir_workspace_root().map_err(|error| format!("{error:#}"))?;
    build_cli()?;
    let dir = PathBuf::from("target/memory");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    println!("stem-master, stereo 96 kHz 16-bit, peak RSS and wall time:");
    let mut peaks = Vec::new();
    for length in [1, minutes] {
        let input = dir.join(format!("programme-{length}min.wav"));
        let output = dir.join(format!("rendered-{length}min.wav"));
        write_long_wav(&input, length)?;
        let (input_s, output_s) = (input.to_string_lossy(), output.to_string_lossy());
        let analyze = measure_cli(&["analyze", "--json", &input_s])?;
        let render = measure_cli(&["render", &input_s, "-o", &output_s])?;
        let size = std::fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
        println!(
            "  {length:>4} min ({:.2} GB): analyze {:7.1} MB in {:6.1} s, render {:7.1} MB in {:6.1} s",
            size as f64 / 1e9,
            analyze.0 as f64 / 1024.0,
            analyze.1,
            render.0 as f64 / 1024.0,
            render.1
        );
        peaks.push((analyze.0, render.0));
        let _ = std::fs::remove_file(&input);
        let _ = std::fs::remove_file(&output);
    }
    println!(
        "  {minutes} min against 1 min: analyze {:.2}×, render {:.2}× the peak memory",
        peaks[1].0 as f64 / peaks[0].0 as f64,
        peaks[1].1 as f64 / peaks[0].1 as f64
    );
    Ok(())
}

/// Builds the release CLI, `target/release/stem-master` (run from the
/// workspace root).
fn build_cli() -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--release", "-p", PACKAGE, "--bin", "stem-master"])
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("building the CLI failed".into())
    }
}

/// Size of the picture in the README, physical pixels.
const SCREENSHOT_SIZE: &str = "1280x960";

/// Builds the screenshot tool and runs it under a virtual X server.
fn screenshot() -> Result<(), String> {
    nice_plug_xtask::chdir_workspace_root().map_err(|error| format!("{error:#}"))?;
    for tool in ["xvfb-run", "import"] {
        let found = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|out| out.status.success())
            .unwrap_or(false);
        if !found {
            return Err(format!(
                "{tool} is missing: install the Debian packages xvfb xauth imagemagick"
            ));
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "-p", PACKAGE, "--bin", "stem-master-editor-shot"])
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !status.success() {
        return Err(format!("building the screenshot tool failed ({status})"));
    }
    let status = std::process::Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 2560x1600x24"])
        .arg("target/debug/stem-master-editor-shot")
        .arg(format!("docs/editor.png={SCREENSHOT_SIZE}"))
        .status()
        .map_err(|error| format!("cannot run xvfb-run: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the screenshot failed ({status})"))
    }
}

/// Copies a file or a directory tree to `target`, replacing what was there.
fn replace_with_copy(source: &Path, target: &Path) -> Result<(), String> {
    if !source.exists() {
        return Err(format!("{} was not built", source.display()));
    }
    let parent = target.parent().ok_or("target has no parent folder")?;
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    if target.is_dir() {
        std::fs::remove_dir_all(target)
            .map_err(|e| format!("cannot remove {}: {e}", target.display()))?;
    } else if target.exists() {
        std::fs::remove_file(target)
            .map_err(|e| format!("cannot remove {}: {e}", target.display()))?;
    }
    copy_recursively(source, target)
}

fn copy_recursively(source: &Path, target: &Path) -> Result<(), String> {
    if source.is_dir() {
        std::fs::create_dir_all(target)
            .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
        let entries = std::fs::read_dir(source)
            .map_err(|e| format!("cannot read {}: {e}", source.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", source.display()))?;
            copy_recursively(&entry.path(), &target.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(source, target).map(|_| ()).map_err(|e| {
            format!(
                "cannot copy {} to {}: {e}",
                source.display(),
                target.display()
            )
        })
    }
}
