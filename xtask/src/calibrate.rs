//! `cargo xtask calibrate`: the triage on released music.
//!
//! The synthetic corpus tests say that each rule does what it is built to
//! do; this harness says how the triage behaves on music that was released
//! as finished. It downloads (it is not part of CI):
//!
//! - the game soundtracks of Debian's `warzone2100-music` (Opus),
//!   `nexuiz-music` (Ogg Vorbis inside a `.pk3` zip) and `hyperrogue-music`
//!   (Ogg Vorbis), and `ffmpeg` to decode and degrade them.
//!
//! Each track is decoded to a 32-bit float WAV, whole or cut at
//! [`MAX_SECONDS`] with a [`FADE_SECONDS`] fade-out before the cut (so that
//! the cut is not an abrupt ending), and analysed by the release CLI
//! (`stem-master analyze --json`, role full mix). The harness prints:
//!
//! 1. a table per track: verdict and every warn/problem hint with the figure
//!    its message quotes;
//! 2. the false-alarm figures: tracks without a `problem` judgement hint,
//!    judgement warn/problem hints per track, tracks both too dull and too
//!    bright, full-mix verdicts;
//! 3. recall: each degradation of [`DEGRADATIONS`] applied to each track of
//!    [`RECALL_TRACKS`]. A case counts when the expected hint is at warn or
//!    above on the degraded file and was not on the clean one.
//!
//! Everything lands in `target/calibration/`; decoded files are reused
//! between runs, analyses are always repeated. `--json PATH` also writes
//! every analysis and figure as one JSON document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Longest stretch of a track that is analysed, seconds.
const MAX_SECONDS: f64 = 300.0;
/// Fade-out before a cut, seconds.
const FADE_SECONDS: f64 = 3.0;
/// Tracks shorter than this are jingles, not programme, seconds.
const MIN_SECONDS: f64 = 30.0;
/// Lowest sample rate of a released track, Hz (below it: sound effects).
const MIN_SAMPLE_RATE_HZ: u32 = 32_000;
/// Debian packages the harness needs.
const PACKAGES: [&str; 4] = [
    "warzone2100-music",
    "nexuiz-music",
    "hyperrogue-music",
    "ffmpeg",
];
/// Where the material and the results go, from the workspace root.
const WORK_DIR: &str = "target/calibration";

/// Hints that judge the music rather than measure a technical fact: all but
/// true-peak-over, clipping, loudness-off-target, dc-offset, silent and
/// band-limited-source.
const TECHNICAL_HINTS: [&str; 6] = [
    "true-peak-over",
    "clipping",
    "loudness-off-target",
    "dc-offset",
    "silent",
    "band-limited-source",
];

/// Tracks every degradation is applied to: two from each album or
/// package, chosen for their range of styles (orchestral, electronic,
/// metal, ambient, chiptune-like), named as [`Track::name`] names them.
pub const RECALL_TRACKS: [&str; 10] = [
    "wz-legacy-track5",
    "wz-aftermath-track20",
    "wz-original-track2",
    "nexuiz-brainsukker",
    "nexuiz-northern-lights",
    "nexuiz-subcities",
    "hr3-caves",
    "hr3-jungle",
    "hr3-desert",
    "hr-domina-mountain",
];

/// One way of damaging a track, and the hint that must name it.
struct Degradation {
    /// Short name, used in file names.
    id: &'static str,
    /// What it does.
    description: &'static str,
    /// The hint that must be raised at warn or above.
    hint: &'static str,
    /// How ffmpeg makes it from the clean WAV: a filter graph, or an encoder
    /// round trip.
    recipe: Recipe,
}

/// How ffmpeg makes a degradation.
enum Recipe {
    /// `-filter_complex GRAPH` with the input as `[0:a]` and the output as
    /// `[out]`; `{mid}` is replaced by half the track's length in seconds,
    /// `{clip_gain}` by the gain that puts its peak 9 dB over full scale.
    Filter(&'static str),
    /// Encode with these ffmpeg arguments into a file of this extension,
    /// then decode again.
    Codec(&'static [&'static str], &'static str),
}

/// The degradations of the recall figures.
const DEGRADATIONS: [Degradation; 8] = [
    Degradation {
        id: "mp3-32k",
        description: "MP3 at 32 kbps (LAME)",
        hint: "band-limited-source",
        recipe: Recipe::Codec(&["-c:a", "libmp3lame", "-b:a", "32k"], "mp3"),
    },
    Degradation {
        id: "haas-15ms",
        description: "mono, the right channel 15 ms late",
        hint: "fake-stereo",
        recipe: Recipe::Filter(
            "[0:a]pan=mono|c0=0.5*c0+0.5*c1,asplit=2[a][b];[b]adelay=15[d];\
             [a][d]join=inputs=2:channel_layout=stereo[out]",
        ),
    },
    Degradation {
        id: "comb-12ms",
        description: "L = m + 0.7·m(t−12 ms), R = m − 0.7·m(t−12 ms)",
        hint: "fake-stereo",
        recipe: Recipe::Filter(
            "[0:a]pan=mono|c0=0.5*c0+0.5*c1,asplit=2[a][b];[b]adelay=12[d];\
             [a][d]join=inputs=2:channel_layout=stereo,pan=stereo|c0=c0+0.7*c1|c1=c0-0.7*c1[out]",
        ),
    },
    Degradation {
        id: "step-6db",
        description: "+6 dB gain step at the middle",
        hint: "loudness-jumps",
        recipe: Recipe::Filter("[0:a]aeval='val(ch)*if(gte(t,{mid}),1.99526,1)':c=same[out]"),
    },
    Degradation {
        id: "clip-9db",
        description: "peak driven 9 dB over full scale, hard-clipped",
        hint: "clipping",
        recipe: Recipe::Filter("[0:a]aeval='max(-1,min(1,val(ch)*{clip_gain}))':c=same[out]"),
    },
    Degradation {
        id: "bell-3k5",
        description: "+8 dB bell at 3.5 kHz, Q 1",
        hint: "harsh-high-mids",
        recipe: Recipe::Filter("[0:a]equalizer=f=3500:t=q:w=1:g=8[out]"),
    },
    Degradation {
        id: "bass-wobble",
        description: "below 120 Hz (LR4) ±6 dB at 0.3 Hz",
        hint: "unstable-low-end",
        recipe: Recipe::Filter(
            "[0:a]acrossover=split=120:order=4th[lo][hi];\
             [lo]volume=volume='pow(10,0.3*sin(2*PI*0.3*t))':eval=frame[lm];\
             [lm][hi]amix=inputs=2:normalize=0[out]",
        ),
    },
    Degradation {
        id: "polarity",
        description: "right channel's polarity flipped",
        hint: "phase-inverted",
        recipe: Recipe::Filter("[0:a]aeval='val(0)|-val(1)':c=same[out]"),
    },
];

/// A released track and where it comes from.
#[derive(Debug, Clone)]
struct Track {
    /// Short name: package prefix and file stem.
    name: String,
    /// A file ffmpeg can read (extracted from its archive if need be).
    source: PathBuf,
    /// Length of the source, seconds.
    duration_s: f64,
}

/// The command's options.
struct Options {
    /// Skip the degradations (false alarms only).
    skip_recall: bool,
    /// Where to write every result as JSON.
    json: Option<PathBuf>,
    /// Parallel analyses.
    jobs: usize,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        skip_recall: false,
        json: None,
        jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-recall" => options.skip_recall = true,
            "--json" => {
                options.json = Some(PathBuf::from(args.next().ok_or("--json needs a path")?))
            }
            "--jobs" => {
                options.jobs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n: &usize| n > 0)
                    .ok_or("--jobs needs a positive number")?
            }
            other => {
                return Err(format!(
                    "unknown option {other}; usage: cargo xtask calibrate [--no-recall] \
                     [--json PATH] [--jobs N]"
                ))
            }
        }
    }
    Ok(options)
}

/// Runs the calibration.
pub fn calibrate(args: &[String]) -> Result<(), String> {
    let options = parse_options(args)?;
    nice_plug_xtask::chdir_workspace_root().map_err(|error| format!("{error:#}"))?;
    ensure_packages(&PACKAGES)?;
    crate::build_cli()?;
    let work = PathBuf::from(WORK_DIR);
    let tracks = find_tracks(&work.join("source"))?;
    println!("{} tracks:", tracks.len());
    for track in &tracks {
        println!(
            "  {:<28} {:6.1} s  {}",
            track.name,
            track.duration_s,
            track.source.display()
        );
    }

    let clean_dir = work.join("clean");
    std::fs::create_dir_all(&clean_dir).map_err(|e| e.to_string())?;
    let mut jobs: Vec<Job> = Vec::new();
    for track in &tracks {
        let wav = clean_dir.join(format!("{}.wav", track.name));
        decode_excerpt(track, &wav)?;
        jobs.push(Job {
            track: track.name.clone(),
            degradation: None,
            wav,
        });
    }
    if !options.skip_recall {
        for id in RECALL_TRACKS {
            if !tracks.iter().any(|t| t.name == id) {
                return Err(format!("recall track {id} is missing"));
            }
        }
        for degradation in &DEGRADATIONS {
            let dir = work.join(degradation.id);
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            for name in RECALL_TRACKS {
                let clean = clean_dir.join(format!("{name}.wav"));
                let wav = dir.join(format!("{name}.wav"));
                degrade(degradation, &clean, &wav)?;
                jobs.push(Job {
                    track: name.to_string(),
                    degradation: Some(degradation.id),
                    wav,
                });
            }
        }
    }
    println!(
        "\nanalysing {} files with {} jobs...",
        jobs.len(),
        options.jobs
    );
    let analyses = analyse_all(&jobs, options.jobs)?;

    let clean: Vec<(&Job, &Value)> = jobs
        .iter()
        .zip(&analyses)
        .filter(|(job, _)| job.degradation.is_none())
        .collect();
    print_track_table(&clean);
    let figures = false_alarm_figures(&clean);
    print_false_alarm_figures(&figures);
    let recall = (!options.skip_recall).then(|| recall_figures(&jobs, &analyses));
    if let Some(recall) = &recall {
        print_recall(recall);
    }
    if let Some(path) = &options.json {
        let document = serde_json::json!({
            "tracks": tracks.iter().map(|t| serde_json::json!({
                "name": t.name, "source": t.source.display().to_string(), "duration_s": t.duration_s,
            })).collect::<Vec<_>>(),
            "analyses": jobs.iter().zip(&analyses).map(|(job, analysis)| serde_json::json!({
                "track": job.track, "degradation": job.degradation, "analysis": analysis,
            })).collect::<Vec<_>>(),
            "false_alarms": figures.to_json(),
            "recall": recall.as_ref().map(|r| r.to_json()),
        });
        let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("\nwrote {}", path.display());
    }
    Ok(())
}

/// Installs the Debian packages that are missing (with sudo when not root).
pub fn ensure_packages(packages: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", package])
                .output()
                .map(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
                .unwrap_or(false)
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("installing {}", missing.join(" "));
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false);
    let run = |args: &[&str]| -> Result<(), String> {
        let (program, rest) = if root {
            ("apt-get", args)
        } else {
            ("sudo", args)
        };
        let mut command = Command::new(program);
        if !root {
            command.arg("apt-get");
        }
        let status = command
            .args(rest)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))?;
        status
            .success()
            .then_some(())
            .ok_or(format!("apt-get {} failed", args.join(" ")))
    };
    run(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    run(&install)
}

/// Every music track of the three packages, sorted by name. Nexuiz's
/// tracks are extracted from their zip archive into `extract_dir`.
fn find_tracks(extract_dir: &Path) -> Result<Vec<Track>, String> {
    let mut sources: Vec<(String, PathBuf)> = Vec::new();
    let warzone = Path::new("/usr/share/games/warzone2100/music");
    for path in files_with_extension(warzone, "opus")? {
        let stem = file_stem(&path);
        // albums/<album>_soundtrack/<track>.opus; menu.opus sits at the top.
        let album = path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().replace("_soundtrack", ""))
            .filter(|album| album != "music");
        let name = match album {
            Some(album) => format!("wz-{album}-{stem}"),
            None => format!("wz-{stem}"),
        };
        sources.push((name, path));
    }
    for path in files_with_extension(Path::new("/usr/share/hyperrogue/music"), "ogg")? {
        sources.push((file_stem(&path), path));
    }
    let pk3 = Path::new("/usr/share/games/nexuiz/data/music.pk3");
    for (name, path) in extract_nexuiz(pk3, extract_dir)? {
        sources.push((name, path));
    }
    sources.sort();
    let mut tracks = Vec::new();
    for (name, source) in sources {
        // ffmpeg 5.1 refuses the Vorbis headers of a few files.
        let duration_s = match probe_duration(&source) {
            Ok(duration_s) => duration_s,
            Err(error) => {
                println!("skipping {name}: {error}");
                continue;
            }
        };
        if duration_s < MIN_SECONDS {
            println!("skipping {name}: {duration_s:.1} s is a jingle, not a track");
            continue;
        }
        let rate = probe_sample_rate(&source)?;
        if rate < MIN_SAMPLE_RATE_HZ {
            println!("skipping {name}: {rate} Hz is a sound effect's rate, not a release's");
            continue;
        }
        tracks.push(Track {
            name,
            source,
            duration_s,
        });
    }
    Ok(tracks)
}

/// Files under `dir` (recursively) ending in `.extension`.
fn files_with_extension(dir: &Path, extension: &str) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            found.extend(files_with_extension(&path, extension)?);
        } else if path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
    Ok(found)
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Extracts the `.ogg` tracks of Nexuiz's music archive (a zip file).
fn extract_nexuiz(pk3: &Path, dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let file =
        std::fs::File::open(pk3).map_err(|e| format!("cannot open {}: {e}", pk3.display()))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| format!("cannot read {}: {e}", pk3.display()))?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut tracks = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| e.to_string())?;
        let entry_name = entry.name().to_string();
        if !entry_name.ends_with(".ogg") {
            continue;
        }
        let stem = file_stem(Path::new(&entry_name));
        let name = format!("nexuiz-{stem}");
        let path = dir.join(format!("{name}.ogg"));
        if !path.exists() {
            let mut out = std::fs::File::create(&path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            std::io::copy(&mut entry, &mut out).map_err(|e| e.to_string())?;
        }
        tracks.push((name, path));
    }
    Ok(tracks)
}

/// Length of an audio file, seconds (ffprobe).
fn probe_duration(path: &Path) -> Result<f64, String> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run ffprobe: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("ffprobe cannot read the length of {}", path.display()))
}

/// Sample rate of the first audio stream, Hz (ffprobe).
fn probe_sample_rate(path: &Path) -> Result<u32, String> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=sample_rate",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run ffprobe: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .split(',')
        .next()
        .and_then(|rate| rate.parse().ok())
        .ok_or(format!(
            "ffprobe cannot read the sample rate of {}",
            path.display()
        ))
}

/// How far the clipping degradation drives the peak over full scale, dB.
const CLIP_OVER_DB: f64 = 9.0;

/// Sample peak of a file, dBFS (ffmpeg's `volumedetect`).
fn probe_peak_db(path: &Path) -> Result<f64, String> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "info", "-i"])
        .arg(path)
        .args(["-af", "volumedetect", "-f", "null", "-"])
        .output()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|line| {
            line.split("max_volume:")
                .nth(1)
                .and_then(|rest| rest.trim().trim_end_matches(" dB").parse().ok())
        })
        .ok_or(format!(
            "ffmpeg cannot measure the peak of {}",
            path.display()
        ))
}

/// Runs ffmpeg quietly with `args`, overwriting its output.
fn ffmpeg(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-y", "-v", "error"])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ffmpeg {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Whether `output` exists and is newer than `input` (work already done).
fn up_to_date(input: &Path, output: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(input), modified(output)), (Some(i), Some(o)) if o >= i)
}

/// Decodes a track to a 32-bit float WAV at its own rate: whole, or its
/// first [`MAX_SECONDS`] with a fade-out over the last [`FADE_SECONDS`].
fn decode_excerpt(track: &Track, wav: &Path) -> Result<(), String> {
    if up_to_date(&track.source, wav) {
        return Ok(());
    }
    let partial = partial_path(wav);
    let source = track.source.to_string_lossy();
    let wav_text = partial.to_string_lossy();
    if track.duration_s > MAX_SECONDS {
        let fade = format!(
            "afade=t=out:st={}:d={FADE_SECONDS}",
            MAX_SECONDS - FADE_SECONDS
        );
        let length = MAX_SECONDS.to_string();
        ffmpeg(&[
            "-i",
            &source,
            "-t",
            &length,
            "-af",
            &fade,
            "-c:a",
            "pcm_f32le",
            &wav_text,
        ])?;
    } else {
        ffmpeg(&["-i", &source, "-c:a", "pcm_f32le", &wav_text])?;
    }
    finish(&partial, wav)
}

/// Where a file is written before it is complete: `NAME.partial.wav`.
fn partial_path(wav: &Path) -> PathBuf {
    wav.with_extension("partial.wav")
}

/// Moves a completed file into place, so an interrupted run never leaves
/// a half-written file that a later run would take as done.
fn finish(partial: &Path, wav: &Path) -> Result<(), String> {
    std::fs::rename(partial, wav)
        .map_err(|e| format!("cannot move {} into place: {e}", partial.display()))
}

/// Makes the degraded copy of `clean`.
fn degrade(degradation: &Degradation, clean: &Path, wav: &Path) -> Result<(), String> {
    if up_to_date(clean, wav) {
        return Ok(());
    }
    let partial = partial_path(wav);
    let clean_text = clean.to_string_lossy();
    let wav_text = partial.to_string_lossy();
    match &degradation.recipe {
        Recipe::Filter(graph) => {
            let mid = probe_duration(clean)? / 2.0;
            let mut graph = graph.replace("{mid}", &format!("{mid:.3}"));
            if graph.contains("{clip_gain}") {
                let peak_db = probe_peak_db(clean)?;
                let gain = 10f64.powf((CLIP_OVER_DB - peak_db) / 20.0);
                graph = graph.replace("{clip_gain}", &format!("{gain:.6}"));
            }
            ffmpeg(&[
                "-i",
                &clean_text,
                "-filter_complex",
                &graph,
                "-map",
                "[out]",
                "-c:a",
                "pcm_f32le",
                &wav_text,
            ])?;
        }
        Recipe::Codec(encode, extension) => {
            let coded = wav.with_extension(extension);
            let coded_text = coded.to_string_lossy();
            let mut args = vec!["-i", &*clean_text];
            args.extend_from_slice(encode);
            args.push(&coded_text);
            ffmpeg(&args)?;
            ffmpeg(&["-i", &coded_text, "-c:a", "pcm_f32le", &wav_text])?;
            std::fs::remove_file(&coded).map_err(|e| e.to_string())?;
        }
    }
    finish(&partial, wav)
}

/// One file to analyse.
struct Job {
    /// The track's name.
    track: String,
    /// The degradation applied, if any.
    degradation: Option<&'static str>,
    /// The WAV file.
    wav: PathBuf,
}

/// `stem-master analyze --json` on every job, `jobs` at a time, in order.
fn analyse_all(jobs: &[Job], parallel: usize) -> Result<Vec<Value>, String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<Value, String>>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..parallel.max(1) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(job) = jobs.get(index) else {
                    break;
                };
                let result = analyse(&job.wav);
                *results[index].lock().unwrap() = Some(result);
            });
        }
    });
    results
        .into_iter()
        .map(|slot| slot.into_inner().unwrap().unwrap())
        .collect()
}

/// The CLI's JSON analysis of one file (role full mix, default target).
fn analyse(wav: &Path) -> Result<Value, String> {
    let out = Command::new("target/release/stem-master")
        .args(["analyze", "--json"])
        .arg(wav)
        .output()
        .map_err(|e| format!("cannot run stem-master: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "stem-master analyze {} failed: {}",
            wav.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("{}: bad JSON: {e}", wav.display()))
}

/// The hints of an analysis at warn or above: (id, severity, message).
fn raised(analysis: &Value) -> Vec<(String, String, String)> {
    analysis["hints"]
        .as_array()
        .map(|hints| {
            hints
                .iter()
                .filter(|h| matches!(h["severity"].as_str(), Some("warn" | "problem")))
                .map(|h| {
                    (
                        h["id"].as_str().unwrap_or_default().to_string(),
                        h["severity"].as_str().unwrap_or_default().to_string(),
                        h["message"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_judgement(id: &str) -> bool {
    !TECHNICAL_HINTS.contains(&id)
}

fn print_track_table(clean: &[(&Job, &Value)]) {
    println!(
        "\n{:<28} {:>6} {:>5} {:>6}  verdict",
        "track", "LUFS", "LRA", "dBTP"
    );
    for (job, analysis) in clean {
        let loudness = &analysis["loudness"];
        let number = |v: &Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.1}"));
        let verdict = &analysis["verdict"];
        println!(
            "{:<28} {:>6} {:>5} {:>6}  {} {:.2}",
            job.track,
            number(&loudness["integrated_lufs"]),
            number(&loudness["lra_lu"]),
            number(&loudness["true_peak_dbtp"]),
            verdict["service"].as_str().unwrap_or("?"),
            verdict["confidence"].as_f64().unwrap_or(0.0),
        );
        for (id, severity, message) in raised(analysis) {
            println!("    {severity:<7} {id:<24} {message}");
        }
    }
}

/// The false-alarm figures of issue 14, point 5.
struct FalseAlarmFigures {
    tracks: usize,
    /// Tracks with no judgement hint at `problem`.
    without_problem: usize,
    /// Judgement hints at warn or problem, all tracks.
    judgement_hints: usize,
    /// Tracks told both too dull and too bright.
    dull_and_bright: usize,
    /// Verdicts by service.
    services: BTreeMap<String, usize>,
    /// Warn/problem hints raised, by id: (warn, problem).
    by_hint: BTreeMap<String, (usize, usize)>,
}

impl FalseAlarmFigures {
    fn to_json(&self) -> Value {
        serde_json::json!({
            "tracks": self.tracks,
            "without_problem_judgement_hint": self.without_problem,
            "judgement_warn_or_problem_hints": self.judgement_hints,
            "dull_and_bright": self.dull_and_bright,
            "services": self.services,
            "by_hint": self.by_hint.iter().map(|(id, (w, p))| (id.clone(), serde_json::json!({"warn": w, "problem": p}))).collect::<BTreeMap<_, _>>(),
        })
    }
}

fn false_alarm_figures(clean: &[(&Job, &Value)]) -> FalseAlarmFigures {
    let mut figures = FalseAlarmFigures {
        tracks: clean.len(),
        without_problem: 0,
        judgement_hints: 0,
        dull_and_bright: 0,
        services: BTreeMap::new(),
        by_hint: BTreeMap::new(),
    };
    for (_, analysis) in clean {
        let hints = raised(analysis);
        if !hints
            .iter()
            .any(|(id, severity, _)| is_judgement(id) && severity == "problem")
        {
            figures.without_problem += 1;
        }
        figures.judgement_hints += hints.iter().filter(|(id, ..)| is_judgement(id)).count();
        let has = |wanted: &str| {
            analysis["hints"]
                .as_array()
                .is_some_and(|all| all.iter().any(|h| h["id"] == wanted))
        };
        if has("too-dull") && has("too-bright") {
            figures.dull_and_bright += 1;
        }
        let service = analysis["verdict"]["service"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        *figures.services.entry(service).or_default() += 1;
        for (id, severity, _) in hints {
            let entry = figures.by_hint.entry(id).or_default();
            if severity == "problem" {
                entry.1 += 1;
            } else {
                entry.0 += 1;
            }
        }
    }
    figures
}

fn print_false_alarm_figures(f: &FalseAlarmFigures) {
    let n = f.tracks.max(1) as f64;
    let full_mix = f.services.get("full-mix").copied().unwrap_or(0);
    println!("\nreleased tracks, role full mix ({} tracks):", f.tracks);
    println!(
        "  without a problem judgement hint: {} ({:.0} %; needs at least 90 %)",
        f.without_problem,
        100.0 * f.without_problem as f64 / n
    );
    println!(
        "  judgement warn/problem hints: {} ({:.2} per track; needs at most 1.0)",
        f.judgement_hints,
        f.judgement_hints as f64 / n
    );
    println!(
        "  both too dull and too bright: {} (needs 0)",
        f.dull_and_bright
    );
    println!(
        "  full-mix verdicts: {} ({:.0} %; needs at most 10 %)",
        full_mix,
        100.0 * full_mix as f64 / n
    );
    let services: Vec<String> = f.services.iter().map(|(s, c)| format!("{s} {c}")).collect();
    println!("  verdicts: {}", services.join(", "));
    println!("  warn/problem hints raised (warn + problem):");
    for (id, (warn, problem)) in &f.by_hint {
        println!("    {id:<26} {warn:>3} + {problem:>3}");
    }
}

/// One recall case: (track, counted, severity on the clean file, severity
/// on the degraded one).
type Case = (String, bool, String, String);

/// Recall per degradation.
struct Recall {
    rows: Vec<(&'static Degradation, Vec<Case>)>,
}

impl Recall {
    fn to_json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|(d, cases)| {
                    serde_json::json!({
                        "degradation": d.id, "hint": d.hint,
                        "cases": cases.iter().map(|(t, counted, clean, degraded)| serde_json::json!({
                            "track": t, "counted": counted, "clean": clean, "degraded": degraded,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        )
    }
}

/// Severity of `hint` in an analysis ("none" when absent).
fn severity_of(analysis: &Value, hint: &str) -> String {
    analysis["hints"]
        .as_array()
        .and_then(|hints| hints.iter().find(|h| h["id"] == hint))
        .and_then(|h| h["severity"].as_str())
        .unwrap_or("none")
        .to_string()
}

fn recall_figures(jobs: &[Job], analyses: &[Value]) -> Recall {
    let find = |track: &str, degradation: Option<&str>| {
        jobs.iter()
            .position(|j| j.track == track && j.degradation == degradation)
            .map(|i| &analyses[i])
    };
    let at_least_warn = |s: &str| s == "warn" || s == "problem";
    let rows = DEGRADATIONS
        .iter()
        .map(|degradation| {
            let cases = RECALL_TRACKS
                .iter()
                .filter_map(|&track| {
                    let clean = severity_of(find(track, None)?, degradation.hint);
                    let degraded =
                        severity_of(find(track, Some(degradation.id))?, degradation.hint);
                    let counted = at_least_warn(&degraded) && !at_least_warn(&clean);
                    Some((track.to_string(), counted, clean, degraded))
                })
                .collect();
            (degradation, cases)
        })
        .collect();
    Recall { rows }
}

fn print_recall(recall: &Recall) {
    println!(
        "\nrecall (a case counts: the hint at warn or above degraded, not on the clean file):"
    );
    let mut total = 0;
    let mut counted = 0;
    for (degradation, cases) in &recall.rows {
        let hits = cases.iter().filter(|c| c.1).count();
        total += cases.len();
        counted += hits;
        println!(
            "  {:<12} {:<42} {:<22} {hits}/{}",
            degradation.id,
            degradation.description,
            degradation.hint,
            cases.len()
        );
        for (track, hit, clean, degraded) in cases {
            println!(
                "      {} {track:<26} clean {clean:<7} degraded {degraded}",
                if *hit { "+" } else { "-" }
            );
        }
    }
    println!(
        "  all: {counted}/{total} ({:.0} %; needs at least 90 %, and 4 of 5 per degradation)",
        100.0 * counted as f64 / total.max(1) as f64
    );
}
