//! The `stem-master` command-line tool: runs the plugin's engine offline on
//! WAV files. `src/bin/stem-master.rs` only calls [`run`].

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::delivery::DeliveryTarget;
use crate::params::{self, ParamKind, StemMasterParams};
use crate::role::StemRole;

mod analyze;
pub mod json;
mod render;
pub mod wav;

use wav::OutputFormat;

/// Exit status: success.
pub const EXIT_OK: i32 = 0;
/// Exit status: the output could not be written.
pub const EXIT_OUTPUT_FAILED: i32 = 1;
/// Exit status: bad command line, or input that cannot be read or is not supported.
pub const EXIT_BAD_INPUT: i32 = 2;

/// Text of `stem-master --help`.
pub const HELP: &str = "\
stem-master — Stem Master's processing engine, offline, on WAV files

USAGE:
    stem-master analyze IN.wav [--json] [--timeline] [--role ROLE] [--target TARGET]
    stem-master analyze --stem NAME=FILE... [--mix FILE] [--json] [--target TARGET]
    stem-master render IN.wav -o OUT.wav [OPTIONS]
    stem-master params
    stem-master --help | --version

COMMANDS:
    analyze   Measure IN.wav: loudness (EBU R128 / ITU-R BS.1770-5: integrated,
              max momentary and short-term, loudness range), true peak,
              sample peak, PLR, and stereo figures (correlation, low-band
              correlation, balance, side-to-mid ratio, mono fold-down loss);
              then triage it: the problems found (hints, with evidence, the
              control that fixes each and where in the file it held) and
              the verdict: stereo mastering, stem mastering or full mix
              (docs/triage.md).
    render    Process IN.wav exactly as the plugin would and write OUT.wav.
    params    List every parameter ID with its range, unit and default.

ANALYZE OPTIONS:
    --json                 Print one JSON object instead of a table. Values
                           that do not exist (silence below the gate, stereo
                           figures of a mono file) are null.
    --timeline             Add momentary and short-term loudness every 100 ms
                           (JSON: \"timeline\"; table: one line per second).
    --role ROLE            What the file is: drums, bass, vocals,
                           backing-vocals, music, effects or full-mix
                           (default full-mix); the triage judges it by what
                           that role should sound like.
    --target TARGET        Delivery target the triage checks loudness and true
                           peak against: spotify, apple, youtube, amazon,
                           deezer, aes, ebu, or a loudness in LUFS (ceiling
                           −1 dBTP). Default spotify (−14 LUFS, −1 dBTP).
    --stem NAME=FILE       A stem of the track, repeatable: each is measured,
                           set against the mix (loudness relative to it,
                           share of the low end) and the stems are judged
                           together (stem-balance, masking,
                           low-end-conflict). NAME is also the stem's role
                           when it names one (vocals, drums, bass, ...),
                           otherwise the role is music. Stems must share one
                           sample rate; shorter ones count as silence after
                           their end; mono stems feed both channels.
    --mix FILE             The mix of the stems, judged as the full mix
                           (default: the sum of the stems).

RENDER OPTIONS:
    -o, --output PATH      Where to write (required). Written to a hidden
                           temporary file next to PATH and renamed into place
                           when complete, so PATH is never left half-written.
                           PATH must not be the input file.
    --role ROLE            Stem role: drums, bass, vocals, backing-vocals,
                           music, effects or full-mix (default full-mix).
                           Applies the role's starting point for the
                           modules (docs/roles.md), as picking the role in
                           the editor does; --set values then override it.
    --set ID=VALUE         Set a parameter by its ID (see `stem-master params`);
                           repeatable. Numbers may carry their unit (-3dB),
                           toggles take on/off, choices their listed names.
    --bits 32|24|16        Output sample format (default 32):
                             32  32-bit float, not clipped;
                             24  24-bit integer, rounded to nearest, clipped;
                             16  16-bit integer with TPDF dither (±1 LSB peak,
                                 triangular), clipped.
    --no-dither            With --bits 16: round to nearest instead of dithering.
    --block FRAMES         Frames per engine call (default 1024, 1 to 65536).
                           The result does not depend on it.
    --learn                Two passes: first measure the integrated loudness
                           entering the limiter, then switch the limiter on
                           with the drive that brings it to the delivery
                           target (--set target=spotify|apple|youtube|amazon|
                           deezer|aes|ebu|custom, --set target_lufs=N for
                           custom), as the editor's Learn does. Heavily
                           limited material lands slightly below the target.

INPUT:
    16-, 24- or 32-bit integer or 32-bit float PCM WAV, mono or stereo,
    22 050 to 384 000 Hz. Files of any length are streamed. The output has
    the input's length, channels and rate; the engine's latency is removed,
    so output and input line up sample for sample.

EXIT STATUS:
    0  success
    1  the output could not be written (nothing was replaced)
    2  bad command line, or unreadable or unsupported input
";

/// Runs the tool with `args` (without the program name) and returns its exit
/// status. Messages go to `out` and `err`; errors are one line on `err`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let args: Result<Vec<String>, _> = args.into_iter().map(OsString::into_string).collect();
    let Ok(args) = args else {
        let _ = writeln!(err, "stem-master: arguments must be valid UTF-8");
        return EXIT_BAD_INPUT;
    };
    let result = match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            let _ = out.write_all(HELP.as_bytes());
            return EXIT_OK;
        }
        Some("-V" | "--version") => {
            let _ = writeln!(out, "stem-master {}", env!("CARGO_PKG_VERSION"));
            return EXIT_OK;
        }
        Some("params") => {
            if args.len() > 1 {
                Err(Failure::usage(format!(
                    "params takes no arguments (got '{}')",
                    args[1]
                )))
            } else {
                print_params(out);
                Ok(())
            }
        }
        Some("analyze") => parse_analyze(&args[1..]).and_then(|options| match options {
            None => {
                let _ = out.write_all(HELP.as_bytes());
                Ok(())
            }
            Some(options) => analyze::analyze(&options, out),
        }),
        Some("render") => RenderOptions::parse(&args[1..]).and_then(|options| {
            if options.help {
                let _ = out.write_all(HELP.as_bytes());
                Ok(())
            } else {
                render::render(&options)
            }
        }),
        Some(other) => Err(Failure::usage(format!(
            "unknown command '{other}' (try --help)"
        ))),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(failure) => {
            let _ = writeln!(err, "stem-master: {}", failure.message);
            failure.status
        }
    }
}

/// An error with its exit status.
#[derive(Debug)]
pub struct Failure {
    /// One line for stderr, without the program name.
    pub message: String,
    /// Exit status.
    pub status: i32,
}

impl Failure {
    fn usage(message: String) -> Self {
        Self {
            message,
            status: EXIT_BAD_INPUT,
        }
    }

    fn input(path: &Path, reason: String) -> Self {
        Self {
            message: format!("{}: {reason}", path.display()),
            status: EXIT_BAD_INPUT,
        }
    }

    fn output(message: String) -> Self {
        Self {
            message,
            status: EXIT_OUTPUT_FAILED,
        }
    }
}

/// Everything `render` was told.
pub struct RenderOptions {
    /// File to read.
    pub input: PathBuf,
    /// File to write.
    pub output: PathBuf,
    /// Parameters, set from `--role` and `--set`.
    pub params: StemMasterParams,
    /// Sample format of the output.
    pub format: OutputFormat,
    /// Frames per engine call.
    pub block_frames: usize,
    /// Measure first and set the limiter drive for the delivery target.
    pub learn: bool,
    /// `--help` was given.
    pub help: bool,
}

impl RenderOptions {
    fn parse(args: &[String]) -> Result<Self, Failure> {
        let mut input = None;
        let mut output = None;
        let params = StemMasterParams::default();
        let mut bits = 32;
        let mut dither = true;
        let mut block_frames = 1024;
        let mut help = false;
        let mut role = None;
        let mut sets: Vec<(String, String)> = Vec::new();
        let mut learn = false;
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let mut value = |name: &str| {
                iter.next()
                    .cloned()
                    .ok_or_else(|| Failure::usage(format!("{name} needs a value")))
            };
            match arg.as_str() {
                "-h" | "--help" => help = true,
                "-o" | "--output" => output = Some(PathBuf::from(value(arg)?)),
                "--role" => role = Some(parse_role(&value(arg)?)?),
                "--set" => {
                    let assignment = value(arg)?;
                    let (id, text) = assignment.split_once('=').ok_or_else(|| {
                        Failure::usage(format!("--set wants ID=VALUE, got '{assignment}'"))
                    })?;
                    sets.push((id.trim().to_string(), text.to_string()));
                }
                "--bits" => {
                    bits = match value(arg)?.as_str() {
                        "32" => 32,
                        "24" => 24,
                        "16" => 16,
                        other => {
                            return Err(Failure::usage(format!(
                                "--bits takes 32, 24 or 16, not '{other}'"
                            )))
                        }
                    }
                }
                "--no-dither" => dither = false,
                "--learn" => learn = true,
                "--block" => {
                    let text = value(arg)?;
                    block_frames = text
                        .parse::<usize>()
                        .ok()
                        .filter(|frames| (1..=65_536).contains(frames))
                        .ok_or_else(|| {
                            Failure::usage(format!("--block takes 1 to 65536 frames, not '{text}'"))
                        })?;
                }
                other => take_input(&mut input, "render", other)?,
            }
        }
        // The role's starting point first, as picking a role in the editor
        // does, then every --set in order.
        if let Some(role) = role {
            params::set_from_text(&params, "role", role.id()).map_err(Failure::usage)?;
            for (id, value) in params::role_starting_point(role) {
                params::set_from_text(&params, &id, &value).map_err(Failure::usage)?;
            }
        }
        for (id, value) in &sets {
            params::set_from_text(&params, id, value).map_err(Failure::usage)?;
        }
        let format = match (bits, dither) {
            (32, _) => OutputFormat::Float32,
            (24, _) => OutputFormat::Int24,
            (_, true) => OutputFormat::Int16Dithered,
            (_, false) => OutputFormat::Int16,
        };
        if help {
            return Ok(Self {
                input: PathBuf::new(),
                output: PathBuf::new(),
                params,
                format,
                block_frames,
                learn,
                help,
            });
        }
        let input = input.ok_or_else(|| Failure::usage("render needs an input file".into()))?;
        let output = output.ok_or_else(|| Failure::usage("render needs -o OUT.wav".into()))?;
        Ok(Self {
            input,
            output,
            params,
            format,
            block_frames,
            learn,
            help,
        })
    }
}

/// Takes an argument no option claimed: the input file, once; anything
/// that looks like an option is unknown.
fn take_input(input: &mut Option<PathBuf>, command: &str, arg: &str) -> Result<(), Failure> {
    if arg.starts_with('-') && arg != "-" {
        return Err(Failure::usage(format!(
            "unknown option '{arg}' (try --help)"
        )));
    }
    if input.replace(PathBuf::from(arg)).is_some() {
        return Err(Failure::usage(format!(
            "{command} takes one input file; '{arg}' is a second one"
        )));
    }
    Ok(())
}

/// A stem role by name, or a usage error listing the names.
fn parse_role(text: &str) -> Result<StemRole, Failure> {
    StemRole::parse(text).ok_or_else(|| {
        let ids: Vec<&str> = StemRole::ALL.iter().map(|r| r.id()).collect();
        Failure::usage(format!("unknown role '{text}' (one of {})", ids.join(", ")))
    })
}

/// A delivery target by name, or a loudness in LUFS (−40 to 0) for a
/// custom target with a −1 dBTP ceiling.
fn parse_target(text: &str) -> Result<analyze::Target, Failure> {
    if let Some(target) = DeliveryTarget::parse(text).filter(|t| *t != DeliveryTarget::Custom) {
        return Ok(analyze::Target {
            name: target.id().to_string(),
            lufs: target.loudness_lufs(0.0),
            ceiling_dbtp: target.ceiling_dbtp().unwrap_or(CUSTOM_TARGET_CEILING_DBTP),
        });
    }
    let number = text
        .trim()
        .trim_end_matches("LUFS")
        .trim_end_matches("lufs")
        .trim();
    match number.parse::<f32>() {
        Ok(lufs) if (-40.0..=0.0).contains(&lufs) => Ok(analyze::Target {
            name: format!("{lufs} LUFS"),
            lufs,
            ceiling_dbtp: CUSTOM_TARGET_CEILING_DBTP,
        }),
        _ => {
            let ids: Vec<&str> = DeliveryTarget::ALL
                .iter()
                .filter(|t| **t != DeliveryTarget::Custom)
                .map(|t| t.id())
                .collect();
            Err(Failure::usage(format!(
                "unknown target '{text}' (one of {}, or a loudness from -40 to 0 LUFS)",
                ids.join(", ")
            )))
        }
    }
}

/// True-peak ceiling of a target given as a number, dBTP.
const CUSTOM_TARGET_CEILING_DBTP: f32 = -1.0;

/// Parses `analyze`'s arguments; `None` means `--help`.
fn parse_analyze(args: &[String]) -> Result<Option<analyze::AnalyzeOptions>, Failure> {
    let mut input = None;
    let mut json = false;
    let mut timeline = false;
    let mut role = StemRole::FullMix;
    let mut target = parse_target("spotify")?;
    let mut stems: Vec<analyze::StemInput> = Vec::new();
    let mut mix = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| Failure::usage(format!("{name} needs a value")))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--json" => json = true,
            "--timeline" => timeline = true,
            "--role" => role = parse_role(&value(arg)?)?,
            "--target" => target = parse_target(&value(arg)?)?,
            "--stem" => {
                let text = value(arg)?;
                let (name, path) = text
                    .split_once('=')
                    .filter(|(n, p)| !n.trim().is_empty() && !p.is_empty())
                    .ok_or_else(|| {
                        Failure::usage(format!("--stem wants NAME=FILE, got '{text}'"))
                    })?;
                let name = name.trim().to_string();
                if stems.iter().any(|s| s.name == name) {
                    return Err(Failure::usage(format!("two stems are named '{name}'")));
                }
                stems.push(analyze::StemInput {
                    role: StemRole::parse(&name).unwrap_or(StemRole::Music),
                    name,
                    path: PathBuf::from(path),
                });
            }
            "--mix" => mix = Some(PathBuf::from(value(arg)?)),
            other => take_input(&mut input, "analyze", other)?,
        }
    }
    if stems.is_empty() {
        if mix.is_some() {
            return Err(Failure::usage("--mix goes with --stem".into()));
        }
        if input.is_none() {
            return Err(Failure::usage("analyze needs an input file".into()));
        }
    } else if input.is_some() {
        return Err(Failure::usage(
            "with --stem, give the mix as --mix FILE, not as an input file".into(),
        ));
    } else if args.iter().any(|arg| arg == "--role") {
        return Err(Failure::usage(
            "--role does not go with --stem: each stem's role is its NAME, the mix is the full mix"
                .into(),
        ));
    }
    Ok(Some(analyze::AnalyzeOptions {
        input,
        json,
        timeline,
        role,
        target,
        stems,
        mix,
    }))
}

fn print_params(out: &mut dyn Write) {
    let rows: Vec<[String; 5]> = params::describe(&StemMasterParams::default())
        .into_iter()
        .map(|description| {
            let (range, unit) = match &description.kind {
                ParamKind::Float { min, max, unit } => (format!("{min} to {max}"), unit.clone()),
                ParamKind::Choice(choices) => (choices.join(" | "), String::new()),
                ParamKind::Toggle => ("off | on".to_string(), String::new()),
            };
            [
                description.id,
                description.name,
                range,
                unit,
                description.default,
            ]
        })
        .collect();
    let header = ["ID", "NAME", "RANGE", "UNIT", "DEFAULT"].map(String::from);
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            line.push_str(&format!("{cell:<width$}  "));
        }
        line.push_str(&row[4]);
        let _ = writeln!(out, "{line}");
    }
}
