//! `stem-master analyze`: the meters over a WAV file, as a table or JSON.

use std::io::Write;
use std::path::PathBuf;

use super::json::Json;
use super::wav::WavSource;
use super::Failure;
use crate::link::aggregate;
use crate::link::{third_octaves, StemPublication};
use crate::meter::features::SecondFeatures;
use crate::meter::history::HISTORY_POINTS_PER_SECOND;
use crate::meter::stereo::StereoSummary;
use crate::meter::{Analyzer, AnalyzerReadings};
use crate::role::StemRole;
use crate::triage::report::{triage, HintReport, TriageReport};
use crate::triage::rules::TriageContext;
use crate::triage::{HintId, Severity};

/// Frames read per block.
const BLOCK_FRAMES: usize = 8192;
/// History kept when no timeline is asked for, seconds.
const MINIMAL_HISTORY_SECONDS: u32 = 1;

/// Everything `analyze` was told.
pub struct AnalyzeOptions {
    /// File to measure (None when stems are given).
    pub input: Option<PathBuf>,
    /// Stems to measure together (`--stem`).
    pub stems: Vec<StemInput>,
    /// The mix of the stems (`--mix`); their sum when None.
    pub mix: Option<PathBuf>,
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
    /// Per-stem figures, when stems were given.
    stems: Vec<StemReport>,
}

/// One stem of a multi-stem analysis.
struct StemReport {
    /// Name as given on the command line.
    name: String,
    /// Role it was judged as.
    role: StemRole,
    /// Its file.
    file: String,
    /// Integrated loudness, LUFS.
    integrated_lufs: f32,
    /// Its loudness minus the mix's, LU.
    relative_to_mix_lu: f32,
    /// Its share of the energy below 125 Hz among the stems, 0..=1.
    low_end_share: f32,
}

/// One `--stem NAME=PATH`.
#[derive(Debug, Clone, PartialEq)]
pub struct StemInput {
    /// The name given.
    pub name: String,
    /// The role: the name read as a role, or music.
    pub role: StemRole,
    /// The file.
    pub path: PathBuf,
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

/// The meters of one signal as it is fed, and its per-second features.
struct Measurement {
    analyzer: Analyzer,
    /// One record per second of audio: 2 hours take 7200 of them (about
    /// 1 MB).
    seconds: Vec<SecondFeatures>,
    /// Frames fed.
    frames: u64,
    /// Channels measured.
    channels: usize,
    /// Sample rate, Hz.
    rate: u32,
}

impl Measurement {
    fn new(rate: u32, channels: usize, history_seconds: u32) -> Self {
        Self {
            analyzer: Analyzer::new(rate as f32, channels, history_seconds),
            seconds: Vec::new(),
            frames: 0,
            channels,
            rate,
        }
    }

    fn feed(&mut self, slices: &[&[f32]]) {
        self.frames += slices.first().map_or(0, |s| s.len()) as u64;
        self.analyzer.process(slices);
        take_seconds(&self.analyzer, &mut self.seconds);
    }

    /// Judges the last, partial second too.
    fn finish(&mut self) {
        self.analyzer.finish_partial_second();
        take_seconds(&self.analyzer, &mut self.seconds);
    }

    fn duration_s(&self) -> f64 {
        self.frames as f64 / f64::from(self.rate)
    }

    /// The report of this signal, judged as `role` against the target.
    fn report(&self, file: String, options: &AnalyzeOptions, role: StemRole) -> Report {
        let timeline = options.timeline.then(|| {
            self.analyzer
                .history()
                .iter()
                .map(|p| (p.momentary_lufs, p.short_term_lufs))
                .collect()
        });
        let readings = self.analyzer.readings();
        let duration_s = self.duration_s();
        let context = TriageContext {
            role,
            target_lufs: options.target.lufs,
            ceiling_dbtp: options.target.ceiling_dbtp,
            integrated_lufs: readings.loudness.integrated_lufs.map(|x| x as f32),
            stereo: self.channels == 2,
            sample_rate_hz: self.rate as f32,
        };
        Report {
            file,
            sample_rate_hz: self.rate,
            channels: self.channels,
            duration_s,
            readings,
            stereo: self.analyzer.stereo().map(|s| s.summary()),
            timeline,
            role,
            target: options.target.clone(),
            triage: triage(&self.seconds, &context, duration_s),
            stems: Vec::new(),
        }
    }
}

/// History to keep for a file of `frames` at `rate`: the whole file for a
/// timeline (one point per 100 ms, plus slack for the last partial second).
fn history_seconds(options: &AnalyzeOptions, frames: u64, rate: u32) -> u32 {
    if options.timeline {
        (frames / u64::from(rate)) as u32 + 2
    } else {
        MINIMAL_HISTORY_SECONDS
    }
}

fn measure(options: &AnalyzeOptions) -> Result<Report, Failure> {
    if !options.stems.is_empty() {
        return measure_stems(options);
    }
    let input = options
        .input
        .as_ref()
        .expect("the parser requires an input without stems");
    let mut source = WavSource::open(input).map_err(|reason| Failure::input(input, reason))?;
    let channels = source.channels();
    let rate = source.sample_rate_hz();
    let mut measurement = Measurement::new(
        rate,
        channels,
        history_seconds(options, source.frames(), rate),
    );
    let mut planar = vec![vec![0.0f32; BLOCK_FRAMES]; channels];
    loop {
        let frames = source
            .read_block(&mut planar)
            .map_err(|reason| Failure::input(input, reason))?;
        if frames == 0 {
            break;
        }
        let slices: Vec<&[f32]> = planar.iter().map(|c| &c[..frames]).collect();
        measurement.feed(&slices);
    }
    measurement.finish();
    Ok(measurement.report(input.display().to_string(), options, options.role))
}

/// Exported stems, read in step: each measured on its own, and the mix —
/// the given `--mix`, or the sum of the stems — measured and judged as a
/// full mix, with the link hints of the stems added.
///
/// Stems must share one sample rate. Shorter stems (and a shorter mix) are
/// read as silence after their end; mono stems are added to both channels
/// of a stereo sum.
fn measure_stems(options: &AnalyzeOptions) -> Result<Report, Failure> {
    let mut sources = Vec::new();
    for stem in &options.stems {
        let source =
            WavSource::open(&stem.path).map_err(|reason| Failure::input(&stem.path, reason))?;
        sources.push(source);
    }
    let mut mix_source = match &options.mix {
        Some(path) => Some(WavSource::open(path).map_err(|reason| Failure::input(path, reason))?),
        None => None,
    };
    let rate = sources[0].sample_rate_hz();
    let rates = sources
        .iter()
        .map(|s| s.sample_rate_hz())
        .chain(mix_source.iter().map(|s| s.sample_rate_hz()));
    if let Some(other) = rates.clone().find(|&r| r != rate) {
        return Err(Failure::usage(format!(
            "stems and mix must share one sample rate (found {rate} Hz and {other} Hz); \
             resample them first"
        )));
    }
    // Channels of the stems' sum: stereo if any stem is.
    let sum_channels = sources.iter().map(WavSource::channels).max().unwrap_or(1);
    let mix_channels = mix_source
        .as_ref()
        .map_or(sum_channels, WavSource::channels);
    let longest = sources
        .iter()
        .map(WavSource::frames)
        .chain(mix_source.iter().map(WavSource::frames))
        .max()
        .unwrap_or(0);
    // A mono stem in a stereo sum plays in both channels: it is measured
    // that way too (BS.1770 reads dual mono 3 LU louder than the mono
    // file), so that its loudness and its share of the mix agree.
    let mut stems: Vec<Measurement> = sources
        .iter()
        .map(|_| Measurement::new(rate, sum_channels, MINIMAL_HISTORY_SECONDS))
        .collect();
    let mut mix = Measurement::new(rate, mix_channels, history_seconds(options, longest, rate));
    let mut planar: Vec<Vec<Vec<f32>>> = sources
        .iter()
        .map(|s| vec![vec![0.0f32; BLOCK_FRAMES]; s.channels()])
        .collect();
    let mut mix_planar = vec![vec![0.0f32; BLOCK_FRAMES]; mix_channels];
    loop {
        let mut block = 0;
        let mut read = vec![0usize; sources.len()];
        for (i, source) in sources.iter_mut().enumerate() {
            read[i] = source
                .read_block(&mut planar[i])
                .map_err(|reason| Failure::input(&options.stems[i].path, reason))?;
            block = block.max(read[i]);
        }
        let mut mix_read = 0;
        if let (Some(source), Some(path)) = (&mut mix_source, &options.mix) {
            mix_read = source
                .read_block(&mut mix_planar)
                .map_err(|reason| Failure::input(path, reason))?;
            block = block.max(mix_read);
        }
        if block == 0 {
            break;
        }
        for (i, stem) in stems.iter_mut().enumerate() {
            // A stem that ended reads as silence up to the block's length.
            for channel in &mut planar[i] {
                channel[read[i]..block].fill(0.0);
            }
            let slices: Vec<&[f32]> = (0..sum_channels)
                .map(|c| &planar[i][c.min(planar[i].len() - 1)][..block])
                .collect();
            stem.feed(&slices);
        }
        if mix_source.is_some() {
            for channel in &mut mix_planar {
                channel[mix_read..block].fill(0.0);
            }
        } else {
            for (c, out) in mix_planar.iter_mut().enumerate() {
                out[..block].fill(0.0);
                for stem in &planar {
                    let channel = &stem[c.min(stem.len() - 1)];
                    for (o, x) in out[..block].iter_mut().zip(&channel[..block]) {
                        *o += x;
                    }
                }
            }
        }
        let slices: Vec<&[f32]> = mix_planar.iter().map(|c| &c[..block]).collect();
        mix.feed(&slices);
    }
    for stem in &mut stems {
        stem.finish();
    }
    mix.finish();
    let mix_name = options.mix.as_ref().map_or_else(
        || "sum of the stems".to_string(),
        |p| p.display().to_string(),
    );
    let mut report = mix.report(mix_name, options, StemRole::FullMix);
    let publications: Vec<StemPublication> = options
        .stems
        .iter()
        .zip(&stems)
        .map(|(stem, measurement)| {
            let readings = measurement.analyzer.readings();
            let mut publication = StemPublication::empty(stem.role);
            publication.integrated_lufs = readings
                .loudness
                .integrated_lufs
                .map_or(f32::NAN, |x| x as f32);
            publication.band_db =
                third_octaves(measurement.analyzer.spectrum().long_term_sixth_octave_db());
            publication
        })
        .collect();
    let mix_lufs = report
        .readings
        .loudness
        .integrated_lufs
        .map_or(f32::NAN, |x| x as f32);
    let assessment = aggregate::assess(&publications, mix_lufs);
    let names: Vec<&str> = options.stems.iter().map(|s| s.name.as_str()).collect();
    for (i, stem) in options.stems.iter().enumerate() {
        let row = assessment.rows[i];
        report.stems.push(StemReport {
            name: stem.name.clone(),
            role: stem.role,
            file: stem.path.display().to_string(),
            integrated_lufs: row.loudness_lufs,
            relative_to_mix_lu: row.relative_to_mix_lu,
            low_end_share: row.low_end_share,
        });
    }
    let duration_s = report.duration_s;
    for (hint, finding) in [
        (HintId::StemBalance, assessment.stem_balance),
        (HintId::Masking, assessment.masking),
        (HintId::LowEndConflict, assessment.low_end_conflict),
    ] {
        if finding.severity == Severity::None {
            continue;
        }
        report.triage.hints.push(HintReport {
            hint,
            severity: finding.severity,
            message: aggregate::describe(hint, &assessment, &names),
            fix: hint.fix(),
            ranges_s: vec![(0.0, duration_s)],
            // Judged on the stems' whole-file averages.
            coverage: 1.0,
            programme: true,
            finding,
        });
    }
    report.triage.decide(StemRole::FullMix, duration_s);
    Ok(report)
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
    pairs.push((
        "figures".to_string(),
        Json::Object(
            HintId::ALL
                .iter()
                .filter(|hint| report.triage.programme[hint.index()].measured)
                .map(|hint| {
                    let f = report.triage.programme[hint.index()];
                    (
                        hint.id().to_string(),
                        Json::object([
                            ("value", Json::number(Some(f64::from(f.value)))),
                            ("reference", Json::number(Some(f64::from(f.reference)))),
                            ("detail", Json::number(Some(f64::from(f.detail)))),
                            ("severity", Json::String(f.severity.id().to_string())),
                        ]),
                    )
                })
                .collect(),
        ),
    ));
    if !report.stems.is_empty() {
        let number = |x: f32| Json::number(Some(f64::from(x)));
        pairs.push((
            "stems".to_string(),
            Json::Array(
                report
                    .stems
                    .iter()
                    .map(|stem| {
                        Json::object([
                            ("name", Json::String(stem.name.clone())),
                            ("role", Json::String(stem.role.id().to_string())),
                            ("file", Json::String(stem.file.clone())),
                            ("integrated_lufs", number(stem.integrated_lufs)),
                            ("relative_to_mix_lu", number(stem.relative_to_mix_lu)),
                            ("low_end_share", number(stem.low_end_share)),
                        ])
                    })
                    .collect(),
            ),
        ));
    }
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
    if !report.stems.is_empty() {
        text.push_str("\nstem            role            integrated  vs mix  low end\n");
        for stem in &report.stems {
            let show = |x: f32, unit: &str| {
                if x.is_finite() {
                    format!("{x:.1} {unit}")
                } else {
                    "—".to_string()
                }
            };
            text.push_str(&format!(
                "{:<16}{:<16}{:>10}  {:>6}  {:>5.0} %\n",
                stem.name,
                stem.role.id(),
                show(stem.integrated_lufs, "LUFS"),
                show(stem.relative_to_mix_lu, "LU"),
                100.0 * stem.low_end_share
            ));
        }
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
