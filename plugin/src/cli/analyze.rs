//! `stem-master analyze`: the meters over a WAV file, as a table or JSON.

use std::io::Write;
use std::path::PathBuf;

use super::json::Json;
use super::wav::WavSource;
use super::Failure;
use crate::meter::features::SecondFeatures;
use crate::meter::history::HISTORY_POINTS_PER_SECOND;
use crate::meter::stereo::StereoSummary;
use crate::meter::{Analyzer, AnalyzerReadings};
use crate::role::StemRole;
use crate::triage::report::{triage, TriageReport};
use crate::triage::rules::TriageContext;

/// Frames read per block.
const BLOCK_FRAMES: usize = 8192;
/// History kept when no timeline is asked for, seconds.
const MINIMAL_HISTORY_SECONDS: u32 = 1;

/// Everything `analyze` was told.
pub struct AnalyzeOptions {
    /// File to measure.
    pub input: PathBuf,
    /// Print JSON instead of a table.
    pub json: bool,
    /// Include momentary and short-term loudness every 100 ms.
    pub timeline: bool,
    /// What the file is.
    pub role: StemRole,
    /// Where it is going.
    pub target: Target,
}

/// A delivery target for the triage.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Its name as given (a platform id, or "N LUFS").
    pub name: String,
    /// Integrated loudness it asks for, LUFS.
    pub lufs: f32,
    /// Highest true peak it allows, dBTP.
    pub ceiling_dbtp: f32,
}

/// What an analysis found.
struct Report {
    file: String,
    sample_rate_hz: u32,
    channels: usize,
    duration_s: f64,
    readings: AnalyzerReadings,
    stereo: Option<StereoSummary>,
    /// (momentary, short-term) LUFS every 100 ms, when asked for.
    timeline: Option<Vec<(f32, f32)>>,
    /// Role the file was judged as.
    role: StemRole,
    /// Target it was judged against.
    target: Target,
    /// Hints and verdict.
    triage: TriageReport,
}

/// Runs the analysis and prints it to `out`.
pub fn analyze(options: &AnalyzeOptions, out: &mut dyn Write) -> Result<(), Failure> {
    let report = measure(options)?;
    let text = if options.json {
        to_json(&report).to_text() + "\n"
    } else {
        to_table(&report)
    };
    out.write_all(text.as_bytes())
        .map_err(|error| Failure::output(format!("cannot write the report: {error}")))
}

fn measure(options: &AnalyzeOptions) -> Result<Report, Failure> {
    let mut source =
        WavSource::open(&options.input).map_err(|reason| Failure::input(&options.input, reason))?;
    let channels = source.channels();
    let rate = source.sample_rate_hz();
    // The history must hold the whole file for a timeline: one point per
    // 100 ms of the header's length, plus slack for the last partial second.
    let history_seconds = if options.timeline {
        (source.frames() / u64::from(rate)) as u32 + 2
    } else {
        MINIMAL_HISTORY_SECONDS
    };
    let mut analyzer = Analyzer::new(rate as f32, channels, history_seconds);
    let mut planar = vec![vec![0.0f32; BLOCK_FRAMES]; channels];
    let mut frames_read = 0u64;
    // One record per second of audio: 2 hours take 7200 of them (about
    // 1 MB).
    let mut seconds: Vec<SecondFeatures> = Vec::new();
    loop {
        let frames = source
            .read_block(&mut planar)
            .map_err(|reason| Failure::input(&options.input, reason))?;
        if frames == 0 {
            break;
        }
        frames_read += frames as u64;
        let slices: Vec<&[f32]> = planar.iter().map(|c| &c[..frames]).collect();
        analyzer.process(&slices);
        take_seconds(&analyzer, &mut seconds);
    }
    // The last, partial second is judged too.
    analyzer.finish_partial_second();
    take_seconds(&analyzer, &mut seconds);
    let timeline = options.timeline.then(|| {
        analyzer
            .history()
            .iter()
            .map(|p| (p.momentary_lufs, p.short_term_lufs))
            .collect()
    });
    let readings = analyzer.readings();
    let duration_s = frames_read as f64 / f64::from(rate);
    let context = TriageContext {
        role: options.role,
        target_lufs: options.target.lufs,
        ceiling_dbtp: options.target.ceiling_dbtp,
        integrated_lufs: readings.loudness.integrated_lufs.map(|x| x as f32),
        stereo: channels == 2,
    };
    Ok(Report {
        file: options.input.display().to_string(),
        sample_rate_hz: rate,
        channels,
        duration_s,
        readings,
        stereo: analyzer.stereo().map(|s| s.summary()),
        timeline,
        role: options.role,
        target: options.target.clone(),
        triage: triage(&seconds, &context, duration_s),
    })
}

/// Appends the seconds the analyzer finished since the last call. A block
/// (8192 frames) is far shorter than the seconds the analyzer keeps, so
/// none is missed.
fn take_seconds(analyzer: &Analyzer, seconds: &mut Vec<SecondFeatures>) {
    for index in seconds.len() as u64..analyzer.seconds_done() {
        if let Some(second) = analyzer.second(index) {
            seconds.push(*second);
        }
    }
}

fn to_json(report: &Report) -> Json {
    let r = &report.readings;
    let l = &r.loudness;
    let stereo = report.stereo.unwrap_or_default();
    let f32_number = |x: Option<f32>| Json::number(x.map(f64::from));
    let mut pairs = vec![
        ("file".to_string(), Json::String(report.file.clone())),
        (
            "sample_rate".to_string(),
            Json::Integer(i64::from(report.sample_rate_hz)),
        ),
        (
            "channels".to_string(),
            Json::Integer(report.channels as i64),
        ),
        (
            "duration_s".to_string(),
            Json::number(Some(report.duration_s)),
        ),
        (
            "loudness".to_string(),
            Json::object([
                ("integrated_lufs", Json::number(l.integrated_lufs)),
                ("momentary_max_lufs", Json::number(l.momentary_max_lufs)),
                ("short_term_max_lufs", Json::number(l.short_term_max_lufs)),
                ("lra_lu", Json::number(l.range_lu)),
                ("true_peak_dbtp", Json::number(r.true_peak_max_dbtp)),
                ("sample_peak_dbfs", Json::number(r.sample_peak_max_dbfs)),
                ("plr_db", Json::number(r.plr_db)),
            ]),
        ),
        (
            "stereo".to_string(),
            Json::object([
                ("correlation", f32_number(stereo.correlation)),
                (
                    "low_band_correlation",
                    f32_number(stereo.low_band_correlation),
                ),
                ("balance_db", f32_number(stereo.balance_db)),
                ("side_to_mid_db", f32_number(stereo.side_to_mid_db)),
                ("mono_loss_db", f32_number(stereo.mono_loss_db)),
            ]),
        ),
    ];
    pairs.push((
        "role".to_string(),
        Json::String(report.role.id().to_string()),
    ));
    pairs.push((
        "target".to_string(),
        Json::object([
            ("name", Json::String(report.target.name.clone())),
            ("lufs", Json::number(Some(f64::from(report.target.lufs)))),
            (
                "ceiling_dbtp",
                Json::number(Some(f64::from(report.target.ceiling_dbtp))),
            ),
        ]),
    ));
    pairs.push((
        "hints".to_string(),
        Json::Array(
            report
                .triage
                .hints
                .iter()
                .map(|hint| {
                    Json::object([
                        ("id", Json::String(hint.hint.id().to_string())),
                        ("severity", Json::String(hint.severity.id().to_string())),
                        ("message", Json::String(hint.message.clone())),
                        ("fix", Json::String(hint.fix.to_string())),
                        (
                            "ranges_s",
                            Json::Array(
                                hint.ranges_s
                                    .iter()
                                    .map(|&(start, end)| {
                                        Json::Array(vec![
                                            Json::number(Some(start)),
                                            Json::number(Some(end)),
                                        ])
                                    })
                                    .collect(),
                            ),
                        ),
                    ])
                })
                .collect(),
        ),
    ));
    let verdict = &report.triage.verdict;
    pairs.push((
        "verdict".to_string(),
        Json::object([
            ("service", Json::String(verdict.service.id().to_string())),
            (
                "confidence",
                Json::number(Some(f64::from(verdict.confidence))),
            ),
            (
                "because",
                Json::Array(
                    verdict
                        .because
                        .iter()
                        .map(|hint| Json::String(hint.id().to_string()))
                        .collect(),
                ),
            ),
        ]),
    ));
    if let Some(timeline) = &report.timeline {
        let series = |pick: fn(&(f32, f32)) -> f32| {
            Json::Array(
                timeline
                    .iter()
                    .map(|point| Json::number(Some(f64::from(pick(point)))))
                    .collect(),
            )
        };
        pairs.push((
            "timeline".to_string(),
            Json::object([
                (
                    "hop_s",
                    Json::number(Some(1.0 / f64::from(HISTORY_POINTS_PER_SECOND))),
                ),
                ("momentary_lufs", series(|p| p.0)),
                ("short_term_lufs", series(|p| p.1)),
            ]),
        ));
    }
    Json::Object(pairs)
}

fn to_table(report: &Report) -> String {
    let r = &report.readings;
    let l = &r.loudness;
    let value = |x: Option<f64>, unit: &str| match x {
        Some(x) if x.is_finite() => format!("{x:.1} {unit}"),
        _ => "—".to_string(),
    };
    let value32 = |x: Option<f32>, unit: &str, decimals: usize| match x {
        Some(x) if x.is_finite() => format!("{x:.decimals$} {unit}").trim_end().to_string(),
        _ => "—".to_string(),
    };
    let mut rows = vec![
        ("file", report.file.clone()),
        (
            "format",
            format!(
                "{} Hz, {} channel{}, {:.1} s",
                report.sample_rate_hz,
                report.channels,
                if report.channels == 1 { "" } else { "s" },
                report.duration_s
            ),
        ),
        ("integrated", value(l.integrated_lufs, "LUFS")),
        ("momentary max", value(l.momentary_max_lufs, "LUFS")),
        ("short-term max", value(l.short_term_max_lufs, "LUFS")),
        ("loudness range", value(l.range_lu, "LU")),
        ("true peak", value(r.true_peak_max_dbtp, "dBTP")),
        ("sample peak", value(r.sample_peak_max_dbfs, "dBFS")),
        ("PLR", value(r.plr_db, "dB")),
    ];
    if let Some(stereo) = &report.stereo {
        rows.extend([
            ("correlation", value32(stereo.correlation, "", 2)),
            (
                "low-band corr.",
                value32(stereo.low_band_correlation, "", 2),
            ),
            ("balance (L−R)", value32(stereo.balance_db, "dB", 1)),
            ("side/mid", value32(stereo.side_to_mid_db, "dB", 1)),
            ("mono loss", value32(stereo.mono_loss_db, "dB", 1)),
        ]);
    }
    let mut text = String::new();
    for (name, value) in rows {
        text.push_str(&format!("{name:<16}{value}\n"));
    }
    let verdict = &report.triage.verdict;
    let because: Vec<&str> = verdict.because.iter().map(|h| h.id()).collect();
    text.push_str(&format!(
        "\nverdict         {} ({:.0} % confidence{}{})\n",
        verdict.service.display_name().to_lowercase(),
        100.0 * verdict.confidence,
        if because.is_empty() {
            ""
        } else {
            "; because: "
        },
        because.join(", ")
    ));
    text.push_str(&format!(
        "judged as       {}, target {} ({:.1} LUFS, {:.1} dBTP)\n",
        report.role.id(),
        report.target.name,
        report.target.lufs,
        report.target.ceiling_dbtp
    ));
    if report.triage.hints.is_empty() {
        text.push_str("hints           none\n");
    }
    for hint in &report.triage.hints {
        let ranges: Vec<String> = hint
            .ranges_s
            .iter()
            .map(|(start, end)| format!("{start:.0}–{end:.0} s"))
            .collect();
        text.push_str(&format!(
            "{:<8}{}: {}\n        at {}\n        fix: {}\n",
            hint.severity.id(),
            hint.hint.id(),
            hint.message,
            ranges.join(", "),
            hint.fix
        ));
    }
    if let Some(timeline) = &report.timeline {
        text.push_str("\n    time  momentary  short-term (LUFS, every second)\n");
        let per_second = HISTORY_POINTS_PER_SECOND as usize;
        for (i, (m, s)) in timeline
            .iter()
            .enumerate()
            .skip(per_second - 1)
            .step_by(per_second)
        {
            let show = |x: f32| {
                if x.is_finite() {
                    format!("{x:.1}")
                } else {
                    "—".into()
                }
            };
            text.push_str(&format!(
                "{:>7.1}s  {:>9}  {:>10}\n",
                (i + 1) as f64 / per_second as f64,
                show(*m),
                show(*s)
            ));
        }
    }
    text
}
