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
//! - `cargo xtask screenshot` renders the real editor, with the demonstration
//!   arrangement playing through it, to `docs/editor.png` under Xvfb
//!   (Debian packages `xvfb xauth imagemagick`).

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
