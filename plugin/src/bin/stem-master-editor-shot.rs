//! Renders the real Stem Master editor with real signal in its meters and
//! saves screenshots, without a DAW: `cargo xtask screenshot` runs it under
//! Xvfb.
//!
//! ```text
//! stem-master-editor-shot [--scale F] OUT.png=WxH [OUT.png=WxH ...]
//! ```
//!
//! Five plugin instances play the synthetic arrangement of the triage
//! corpus (drums, bass, vocals and music stems, and the Full Mix instance
//! on their sum, with its starting point, glue and limiter on) for 20 s as
//! fast as they can, then in real time while the master's editor is open
//! in a top-level X11 window. For each `OUT.png=WxH`, the window is resized
//! to W×H physical pixels and captured with ImageMagick's `import` (the
//! window sits at the screen's origin under a bare X server). `--scale`
//! gives the editor a display scale factor (e.g. 2 for a HiDPI screen).
//! Each picture is written to a temporary file and renamed, so a failed run
//! never leaves a half-written one.

use nice_plug::context::gui::{GuiContext, GuiContextInner};
use nice_plug::context::process::SendEventError;
use nice_plug::editor::dpi::NativeSize;
use nice_plug::editor::{EditorHandle, SpawnedEditor};
use nice_plug::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stem_master::params::{normalized_from_text, role_starting_point};
use stem_master::role::StemRole;
use stem_master::triage::corpus;
use stem_master::StemMaster;

/// Sample rate of the demonstration, Hz.
const SAMPLE_RATE: f32 = 48_000.0;
/// Host block, frames.
const BLOCK: usize = 480;
/// Length of the arrangement, looped, seconds.
const LOOP_S: f64 = 16.0;
/// Audio processed before the window opens, seconds.
const WARM_UP_S: f64 = 20.0;
/// Time for the window to settle after a resize, before the capture.
const SETTLE: Duration = Duration::from_millis(1500);

/// The GUI's host: parameter changes go straight to the parameters.
struct ShotGui;

impl GuiContextInner for ShotGui {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Standalone
    }
    unsafe fn raw_begin_set_parameter(&self, _param: ParamPtr) {}
    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        // SAFETY: the editor passes pointers into the parameters it holds.
        unsafe { param._internal_set_normalized_value(normalized) };
    }
    unsafe fn raw_end_set_parameter(&self, _param: ParamPtr) {}
    fn get_state(&self) -> PluginState {
        PluginState {
            version: String::new(),
            params: Default::default(),
            fields: Default::default(),
        }
    }
    fn set_state(&self, _state: PluginState) {}
    fn request_restart(&self) {}
}

/// The audio side's host.
struct ShotHost {
    transport: Transport,
}

impl ActivateContext<StemMaster> for ShotHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Standalone
    }
    fn execute(&self, _task: ()) {}
    fn set_latency_samples(&self, _samples: u32) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

impl ProcessContext<StemMaster> for ShotHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Standalone
    }
    fn execute_background(&self, _task: ()) {}
    fn execute_gui(&self, _task: ()) {}
    fn transport(&self) -> &Transport {
        &self.transport
    }
    fn next_event(&mut self) -> Option<PluginNoteEvent<StemMaster>> {
        None
    }
    fn try_send_event(
        &mut self,
        event: PluginNoteEvent<StemMaster>,
    ) -> Result<(), (PluginNoteEvent<StemMaster>, SendEventError)> {
        Err((event, SendEventError::NoOutputBuffer))
    }
    fn set_latency_samples(&self, _samples: u32) {}
    fn request_restart(&self) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

/// Sets parameter `id` of `plugin` from its text form.
fn set(plugin: &StemMaster, id: &str, value: &str) -> Result<(), String> {
    let (param, normalized) = normalized_from_text(plugin.parameters(), id, value)?;
    // SAFETY: `param` points into `params`, alive for this call; nothing
    // processes yet.
    unsafe { param._internal_set_normalized_value(normalized) };
    Ok(())
}

/// An activated instance with `role`.
fn instance(role: StemRole, host: &mut ShotHost) -> Result<StemMaster, String> {
    let mut plugin = StemMaster::default();
    set(&plugin, "role", role.id())?;
    let config = BufferConfig {
        sample_rate: SAMPLE_RATE,
        min_buffer_size: None,
        max_buffer_size: BLOCK as u32,
        process_mode: ProcessMode::Realtime,
    };
    if !plugin.activate(&StemMaster::AUDIO_IO_LAYOUTS[0], &config, host) {
        return Err(format!("{} instance did not activate", role.display_name()));
    }
    plugin.reset();
    Ok(plugin)
}

/// The stems of the arrangement, stereo, scaled together so that their sum
/// sits at −16 LUFS.
fn stems() -> Vec<(StemRole, [Vec<f32>; 2])> {
    let d = corpus::drums(LOOP_S, 7);
    let b = corpus::bass(LOOP_S);
    let [cl, cr] = corpus::chords(LOOP_S);
    let v = corpus::voice(LOOP_S);
    let mix = corpus::mix_f64(LOOP_S);
    let scaled = corpus::at_loudness(&mix, -16.0);
    let gain = f64::from(scaled[0][1000]) / mix[0][1000];
    let part =
        |x: &[f64], g: f64| -> Vec<f32> { x.iter().map(|&s| (s * g * gain) as f32).collect() };
    vec![
        (
            StemRole::Drums,
            [part(&d, corpus::MIX_DRUMS), part(&d, corpus::MIX_DRUMS)],
        ),
        (
            StemRole::Bass,
            [part(&b, corpus::MIX_BASS), part(&b, corpus::MIX_BASS)],
        ),
        (
            StemRole::Vocals,
            [part(&v, corpus::MIX_VOICE), part(&v, corpus::MIX_VOICE)],
        ),
        (
            StemRole::Music,
            [part(&cl, corpus::MIX_CHORDS), part(&cr, corpus::MIX_CHORDS)],
        ),
    ]
}

/// Processes one block at `at` (frames into the loop) through every stem
/// instance and the master on their sum.
fn play_block(
    stems: &mut [(StemMaster, [Vec<f32>; 2])],
    master: &mut StemMaster,
    host: &mut ShotHost,
    at: usize,
    sum: &mut [Vec<f32>; 2],
    work: &mut [Vec<f32>; 2],
) {
    let len = stems[0].1[0].len();
    let frames = BLOCK.min(len - at);
    sum.iter_mut().for_each(|c| c[..frames].fill(0.0));
    for (plugin, audio) in stems.iter_mut() {
        for (w, a) in work.iter_mut().zip(audio.iter()) {
            w[..frames].copy_from_slice(&a[at..at + frames]);
        }
        process(plugin, host, work, frames);
        for (s, w) in sum.iter_mut().zip(work.iter()) {
            s[..frames]
                .iter_mut()
                .zip(&w[..frames])
                .for_each(|(s, w)| *s += w);
        }
    }
    process(master, host, sum, frames);
}

fn process(
    plugin: &mut StemMaster,
    host: &mut ShotHost,
    channels: &mut [Vec<f32>; 2],
    frames: usize,
) {
    let [left, right] = channels;
    let (left, right) = (&mut left[..frames], &mut right[..frames]);
    let mut buffer = Buffer::default();
    // SAFETY: both slices live until `process` returns and have `frames`
    // samples.
    unsafe {
        buffer.set_slices(frames, |slices| {
            slices.clear();
            slices.push(left);
            slices.push(right);
        })
    };
    let mut aux = AuxiliaryBuffers {
        inputs: &mut [],
        outputs: &mut [],
    };
    plugin.process(&mut buffer, &mut aux, host);
}

/// What the command line asks for.
struct Request {
    scale: Option<f64>,
    shots: Vec<(PathBuf, u32, u32)>,
}

fn parse(args: &[String]) -> Result<Request, String> {
    let mut request = Request {
        scale: None,
        shots: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--scale" {
            let value = args.next().ok_or("--scale needs a number")?;
            request.scale = Some(
                value
                    .parse()
                    .ok()
                    .filter(|s: &f64| (0.5..=4.0).contains(s))
                    .ok_or(format!("--scale {value}: expected a number from 0.5 to 4"))?,
            );
            continue;
        }
        let (path, size) = arg
            .rsplit_once('=')
            .ok_or(format!("{arg}: expected OUT.png=WxH"))?;
        let (w, h) = size
            .split_once('x')
            .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
            .filter(|&(w, h): &(u32, u32)| (100..=8000).contains(&w) && (100..=8000).contains(&h))
            .ok_or(format!("{arg}: expected a size like 1120x780"))?;
        request.shots.push((PathBuf::from(path), w, h));
    }
    if request.shots.is_empty() {
        return Err("usage: stem-master-editor-shot [--scale F] OUT.png=WxH ...".into());
    }
    Ok(request)
}

fn run(request: Request) -> Result<(), String> {
    let mut host = ShotHost {
        transport: Transport::new(SAMPLE_RATE),
    };
    let mut players = Vec::new();
    for (role, audio) in stems() {
        players.push((instance(role, &mut host)?, audio));
    }
    let mut master = instance(StemRole::FullMix, &mut host)?;
    for (id, value) in role_starting_point(StemRole::FullMix) {
        set(&master, &id, &value)?;
    }
    set(&master, "glue_on", "on")?;
    set(&master, "lim_on", "on")?;
    set(&master, "lim_drive", "3")?;

    let loop_len = players[0].1[0].len();
    let mut sum = [vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]];
    let mut work = [vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]];
    let mut at = 0;
    let warm_up_blocks = (WARM_UP_S * f64::from(SAMPLE_RATE)) as usize / BLOCK;
    for _ in 0..warm_up_blocks {
        play_block(
            &mut players,
            &mut master,
            &mut host,
            at,
            &mut sum,
            &mut work,
        );
        at = (at + BLOCK) % loop_len;
    }

    let executor = AsyncExecutor::<StemMaster>::new(Arc::new(|_: ()| {}), Arc::new(|_: ()| {}));
    let editor = master.editor(executor).ok_or("the plugin has no editor")?;
    let SpawnedEditor { handle, window } = editor
        .spawn(None, false, None, GuiContext::new(Arc::new(ShotGui)), None)
        .map_err(|error| format!("cannot open the editor window: {error}"))?;
    handle
        .show(&window)
        .map_err(|error| format!("cannot show the editor window: {error:?}"))?;
    if let Some(scale) = request.scale {
        handle
            .set_fallback_scale_factor(scale, &window)
            .map_err(|error| format!("cannot set the scale: {error:?}"))?;
    }

    // Real-time playback while the window is open (the goniometer is fed
    // only then).
    let stop = Arc::new(AtomicBool::new(false));
    let audio = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut played = 0u64;
            while !stop.load(Ordering::Relaxed) {
                play_block(
                    &mut players,
                    &mut master,
                    &mut host,
                    at,
                    &mut sum,
                    &mut work,
                );
                at = (at + BLOCK) % loop_len;
                played += BLOCK as u64;
                let due = Duration::from_secs_f64(played as f64 / f64::from(SAMPLE_RATE));
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            master.deactivate();
        })
    };

    let mut result = Ok(());
    for (path, w, h) in &request.shots {
        handle
            .set_size(NativeSize::new(*w, *h), &window)
            .map_err(|error| format!("cannot resize the window: {error:?}"))?;
        std::thread::sleep(SETTLE);
        let partial = path.with_extension("png.partial");
        let status = std::process::Command::new("import")
            .args([
                "-window",
                "root",
                "-crop",
                &format!("{w}x{h}+0+0"),
                "+repage",
            ])
            .arg(format!("png:{}", partial.display()))
            .status();
        match status {
            Ok(status) if status.success() => {
                std::fs::rename(&partial, path)
                    .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
                println!("wrote {} ({w}×{h})", path.display());
            }
            Ok(status) => {
                let _ = std::fs::remove_file(&partial);
                result = Err(format!("import failed ({status}) for {}", path.display()));
                break;
            }
            Err(error) => {
                result = Err(format!("cannot run ImageMagick's import: {error}"));
                break;
            }
        }
    }
    drop(window);
    drop(handle);
    stop.store(true, Ordering::Relaxed);
    audio.join().map_err(|_| "the audio thread panicked")?;
    result
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("stem-master-editor-shot: {error}");
            ExitCode::from(2)
        }
    }
}
