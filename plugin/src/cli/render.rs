//! `stem-master render`: the engine over a WAV file, latency removed.

use super::wav::{WavSink, WavSource};
use super::{Failure, RenderOptions};
use crate::delivery::learned_drive_db;
use crate::engine::Engine;
use crate::params;

/// Renders `options.input` to `options.output`.
pub fn render(options: &RenderOptions) -> Result<(), Failure> {
    if options.learn {
        learn(options)?;
    }
    let mut source =
        WavSource::open(&options.input).map_err(|reason| Failure::input(&options.input, reason))?;
    refuse_to_overwrite_input(options)?;

    let channels = source.channels();
    let block = options.block_frames;
    let mut engine = Engine::new();
    engine
        .prepare(source.sample_rate_hz() as f32, block, channels)
        .map_err(|error| Failure::input(&options.input, error.to_string()))?;
    engine.set_settings(&options.params.engine_settings());
    engine.reset();

    let mut sink = WavSink::create(
        &options.output,
        channels,
        source.sample_rate_hz(),
        options.format,
    )
    .map_err(Failure::output)?;

    let mut planar = vec![vec![0.0f32; block]; channels];
    // Output frames still to drop: the engine's latency.
    let mut to_skip = engine.latency_samples() as usize;
    // Silent frames still to feed after the input ends, to flush the latency.
    let mut flush_frames = to_skip;
    loop {
        let mut frames = source
            .read_block(&mut planar)
            .map_err(|reason| Failure::input(&options.input, reason))?;
        if frames == 0 {
            if flush_frames == 0 {
                break;
            }
            frames = flush_frames.min(block);
            flush_frames -= frames;
            for channel in &mut planar {
                channel[..frames].fill(0.0);
            }
        }
        let mut slices: Vec<&mut [f32]> = planar
            .iter_mut()
            .map(|channel| &mut channel[..frames])
            .collect();
        engine.process(&mut slices);
        let skipped = to_skip.min(frames);
        to_skip -= skipped;
        let views: Vec<&[f32]> = planar.iter().map(Vec::as_slice).collect();
        sink.write_block(&views, skipped..frames)
            .map_err(Failure::output)?;
    }
    sink.commit().map_err(Failure::output)
}

/// The first pass of `--learn`: measures the loudness entering the limiter
/// stage over the whole file and sets the limiter's drive for the target.
fn learn(options: &RenderOptions) -> Result<(), Failure> {
    let mut source =
        WavSource::open(&options.input).map_err(|reason| Failure::input(&options.input, reason))?;
    let mut engine = Engine::new();
    engine
        .prepare(
            source.sample_rate_hz() as f32,
            options.block_frames,
            source.channels(),
        )
        .map_err(|error| Failure::input(&options.input, error.to_string()))?;
    let settings = options.params.engine_settings();
    engine.set_settings(&settings);
    engine.reset();
    engine.set_learning(true);
    let mut planar = vec![vec![0.0f32; options.block_frames]; source.channels()];
    loop {
        let frames = source
            .read_block(&mut planar)
            .map_err(|reason| Failure::input(&options.input, reason))?;
        if frames == 0 {
            break;
        }
        let mut slices: Vec<&mut [f32]> = planar.iter_mut().map(|c| &mut c[..frames]).collect();
        engine.process(&mut slices);
    }
    let measured = engine.learned_lufs().ok_or_else(|| {
        Failure::input(
            &options.input,
            "--learn found no audio above the −70 LUFS gate".into(),
        )
    })?;
    let drive = learned_drive_db(measured, settings.target_lufs());
    for (id, value) in [
        ("lim_on", "on".to_string()),
        ("lim_drive", format!("{drive}")),
    ] {
        params::set_from_text(&options.params, id, &value).map_err(Failure::usage)?;
    }
    Ok(())
}

/// Fails when the output path names the input file (by path or by identity).
fn refuse_to_overwrite_input(options: &RenderOptions) -> Result<(), Failure> {
    let same = match (
        std::fs::canonicalize(&options.input),
        std::fs::canonicalize(&options.output),
    ) {
        (Ok(input), Ok(output)) => input == output || same_inode(&input, &output),
        _ => false,
    };
    if same {
        return Err(Failure::usage(format!(
            "refusing to write over the input file {}",
            options.input.display()
        )));
    }
    Ok(())
}

#[cfg(unix)]
fn same_inode(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode(_: &std::path::Path, _: &std::path::Path) -> bool {
    false
}
