//! Loads the bundled `Stem Master.clap` in a small, real CLAP host built on `clack-host` and
//! checks it from the outside, the way a DAW sees it:
//!
//! * the factory exposes `com.stem-master.stem-master` with the expected name and features;
//! * the audio-ports extension reports one main stereo input and one main stereo output;
//! * the params extension lists `in_gain`, `out_gain`, `role` and `bypass` under the ids
//!   nice-plug derives from their string ids, with the expected names, ranges and defaults;
//! * the latency extension reports the limiter's band limit and look-ahead (36 + 72 = 108 samples at 48 kHz)
//!   once activated, and the audio is checked after removing it, as a host compensates it;
//! * audio processed at 48 kHz with block sizes 1, 64, 1000 and 4096 is bit-transparent without
//!   events, reacts sample-accurately to an `in_gain` event placed mid-block (20 ms linear ramp in
//!   dB), honours the host bypass parameter (10 ms crossfade to the dry signal), and gives the same
//!   output whatever the block size.
//!
//! * lifecycle: one instance activated and deactivated again and again at 44.1 to 192 kHz with
//!   maximum blocks from 1 to 8192 frames, reporting the latency of each rate, fed empty
//!   (zero-frame) blocks between full ones, and passing audio through unchanged each time;
//! * state: every parameter restored bit-exactly by a new instance; truncated or garbage state
//!   refused, a state of a newer format loading the defaults, a state saved before the format
//!   had a version loading with its values;
//! * the mono and the stereo port configurations, each passing audio through.
//!
//! The bundle comes from `$STEM_MASTER_CLAP` or `<workspace>/target/bundled/Stem Master.clap`;
//! build it first with `cargo xtask bundle stem_master --release`.

use std::cell::Cell;
use std::ffi::CStr;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::OnceLock;

use clack_extensions::audio_ports::{
    AudioPortFlags, AudioPortInfoBuffer, AudioPortRescanFlags, AudioPortType, HostAudioPorts,
    HostAudioPortsImpl, PluginAudioPorts,
};
use clack_extensions::audio_ports_config::{AudioPortsConfigBuffer, PluginAudioPortsConfig};
use clack_extensions::latency::{HostLatency, HostLatencyImpl, PluginLatency};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamInfoFlags, ParamRescanFlags, PluginParams,
};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;

// ---------------------------------------------------------------------------------------------
// The contract under test
// ---------------------------------------------------------------------------------------------

const PLUGIN_ID: &CStr = c"com.stem-master.stem-master";
const PLUGIN_NAME: &str = "Stem Master";
const REQUIRED_FEATURES: [&str; 3] = ["audio-effect", "mastering", "stereo"];

const SAMPLE_RATE: f64 = 48_000.0;
const MAX_BLOCK_SIZE: u32 = 4096;
/// Block sizes the host uses; every run gets a freshly created and activated instance.
const BLOCK_SIZES: [usize; 4] = [1, 64, 1000, 4096];
/// 2 s of audio at 48 kHz.
const SIGNAL_LEN: usize = 96_000;

/// Range of both trim parameters, in dB (linear in dB).
const TRIM_MIN_DB: f64 = -24.0;
const TRIM_MAX_DB: f64 = 24.0;
const TRIM_TARGET_DB: f64 = -6.0;
/// The trims are smoothed by a linear ramp in dB over round(0.020 * fs) samples.
const TRIM_RAMP_LEN: usize = 960;
/// The plugin's latency at 48 kHz: the limiter's band limit (36 samples)
/// and 1.5 ms look-ahead (72 samples).
const LATENCY_SAMPLES: usize = 108;
/// Bypass crossfades over 10 ms = 480 samples.
const BYPASS_FADE_LEN: usize = 480;

/// Where the `in_gain` event lands. Deliberately not 24_000: that is a multiple of both 64 and
/// 1000 and would sit on a block boundary. 24_011 is mid-block for 64 (offset 11), 1000
/// (offset 11) and 4096 (offset 3531), so nice-plug really has to split the host's block.
const TRIM_EVENT_SAMPLE: usize = 24_011;
/// Where the bypass event lands: mid-block for 64 (offset 5), 1000 (37) and 4096 (2693).
const BYPASS_EVENT_SAMPLE: usize = 60_037;

// Tolerances. All gains involved are exact or computed once in f32, and each output sample is
// `input * g_in * g_out` (or a crossfade that ends at exactly 0/1 weights), i.e. at most a couple of
// f32 roundings away from the f64 reference.

/// Unity paths (no events, before an event, fully bypassed): the gains are exactly 1.0, so the
/// output should be bit-identical; 1e-6 is ~16 ulp at the signal's 0.5 peak.
const UNITY_ABS_TOL: f64 = 1e-6;
/// Settled -6 dB trim: f32 products carry ~1e-7 relative error (plus the f32 rounding of
/// 10^(-6/20) itself, ~6e-8 relative), so 1e-5 relative leaves two orders of magnitude margin.
const GAIN_REL_TOL: f64 = 1e-5;
/// Absolute floor for the relative check so that exact zeros of the input are not judged on a
/// zero-width tolerance.
const GAIN_ABS_FLOOR: f64 = 1e-9;
/// Outputs of different block sizes: the same per-sample arithmetic should give identical
/// results; 1e-6 absorbs harmless reassociation (e.g. vectorised gain computation).
const BLOCK_INVARIANCE_ABS_TOL: f64 = 1e-6;
/// Per-sample gains (out / in) are only evaluated where |in| is at least this large...
const RATIO_MIN_INPUT: f32 = 1e-3;
/// ...and then carry about 2-3e-7 relative rounding, well below this slack for the monotonicity
/// and bounds checks (one ramp step is ~5e-4 in linear gain).
const RATIO_SLACK: f64 = 1e-6;

/// nice-plug's CLAP parameter id: a Java-style string hash of the parameter's string id with the
/// top bit cleared (nice-plug `wrapper::util::hash_param_id`).
fn hash_param_id(string_id: &str) -> u32 {
    let mut hash: u32 = 0;
    for byte in string_id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(u32::from(byte));
    }
    hash & !(1 << 31)
}

/// nice-plug exposes continuous parameters to CLAP as their normalized value in `0..=1`
/// (stepped ones as `normalized * step_count`). The trims are linear in dB over
/// `TRIM_MIN_DB..=TRIM_MAX_DB`, so -6 dB is 0.375.
fn trim_clap_value(db: f64) -> f64 {
    (db - TRIM_MIN_DB) / (TRIM_MAX_DB - TRIM_MIN_DB)
}

fn db_to_gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

// ---------------------------------------------------------------------------------------------
// Locating and loading the bundle
// ---------------------------------------------------------------------------------------------

fn bundle_path() -> PathBuf {
    let path = match std::env::var_os("STEM_MASTER_CLAP") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("bundled")
            .join("Stem Master.clap"),
    };
    assert!(
        path.exists(),
        "CLAP bundle not found at {}.\nBuild it first with `cargo xtask bundle stem_master \
         --release` (or point STEM_MASTER_CLAP at an existing `Stem Master.clap`).",
        path.display()
    );
    path
}

/// The plugin entry, loaded once per test process and kept loaded: every test (they run in
/// parallel) shares it instead of repeatedly dlopen()ing and dlclose()ing the library.
fn plugin_entry() -> &'static PluginEntry {
    static ENTRY: OnceLock<PluginEntry> = OnceLock::new();
    ENTRY.get_or_init(|| {
        let path = bundle_path();
        // SAFETY: loading a dynamic library runs its initialisers and trusts it to follow the
        // CLAP ABI; this is exactly what the test is for and the library is our own build.
        unsafe { PluginEntry::load(&path) }
            .unwrap_or_else(|e| panic!("failed to load CLAP entry {}: {e:?}", path.display()))
    })
}

// ---------------------------------------------------------------------------------------------
// Minimal host implementation
// ---------------------------------------------------------------------------------------------

/// Thread-safe host state: records requests so the main thread can service them.
#[derive(Default)]
struct HostShared {
    restart_requested: AtomicBool,
    process_requested: AtomicBool,
    callback_requested: AtomicBool,
    flush_requests: AtomicU32,
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }

    fn request_process(&self) {
        // The test drives processing itself; nothing to wake up.
        self.process_requested.store(true, Ordering::SeqCst);
    }

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        // Params are only changed through process() events here, so there is nothing to flush.
        self.flush_requests.fetch_add(1, Ordering::SeqCst);
    }
}

/// Main-thread host state: accepts the notifications of the extensions we declare.
#[derive(Default)]
struct HostMainThread {
    params_rescans: Cell<u32>,
    latency_changes: Cell<u32>,
    audio_ports_rescans: Cell<u32>,
}

impl MainThreadHandler<'_> for HostMainThread {}

impl HostParamsImplMainThread for HostMainThread {
    fn rescan(&self, _flags: ParamRescanFlags) {
        self.params_rescans.set(self.params_rescans.get() + 1);
    }

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {}
}

impl HostLatencyImpl for HostMainThread {
    fn changed(&self) {
        self.latency_changes.set(self.latency_changes.get() + 1);
    }
}

impl HostAudioPortsImpl for HostMainThread {
    fn is_rescan_flag_supported(&self, _flag: AudioPortRescanFlags) -> bool {
        true
    }

    fn rescan(&self, _flags: AudioPortRescanFlags) {
        self.audio_ports_rescans
            .set(self.audio_ports_rescans.get() + 1);
    }
}

struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostParams>()
            .register::<HostLatency>()
            .register::<HostAudioPorts>();
    }
}

fn new_instance() -> PluginInstance<TestHost> {
    let host_info = HostInfo::new(
        "stem_master_tests",
        "Stem Master contributors",
        "https://github.com/stem-master/stem-master",
        env!("CARGO_PKG_VERSION"),
    )
    .expect("host info contains no NUL bytes");

    PluginInstance::<TestHost>::new(
        |_| HostShared::default(),
        |_| HostMainThread::default(),
        plugin_entry(),
        PLUGIN_ID,
        &host_info,
    )
    .unwrap_or_else(|e| panic!("failed to instantiate {PLUGIN_ID:?}: {e}"))
}

fn audio_config() -> PluginAudioConfiguration {
    PluginAudioConfiguration {
        sample_rate: SAMPLE_RATE,
        min_frames_count: 1,
        max_frames_count: MAX_BLOCK_SIZE,
    }
}

/// Runs the plugin's main-thread callback while it keeps asking for one (bounded, so a plugin
/// that re-requests forever cannot hang the test).
fn service_main_thread_callbacks(instance: &mut PluginInstance<TestHost>) {
    for _ in 0..16 {
        let requested =
            instance.access_shared_handler(|h| h.callback_requested.swap(false, Ordering::SeqCst));
        if !requested {
            return;
        }
        instance.call_on_main_thread_callback();
    }
}

// ---------------------------------------------------------------------------------------------
// Audio
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Stereo {
    left: Vec<f32>,
    right: Vec<f32>,
}

impl Stereo {
    fn silence(len: usize) -> Self {
        Self {
            left: vec![0.0; len],
            right: vec![0.0; len],
        }
    }

    fn len(&self) -> usize {
        self.left.len()
    }

    fn channels(&self) -> [(&'static str, &[f32]); 2] {
        [("L", &self.left), ("R", &self.right)]
    }
}

/// Deterministic 2 s stereo test signal: different sums of sines on L and R, peaks <= 0.5.
fn test_signal() -> Stereo {
    let voice = |partials: &[(f64, f64, f64)], n: usize| {
        let t = n as f64 / SAMPLE_RATE;
        partials
            .iter()
            .map(|&(amp, hz, phase)| amp * (std::f64::consts::TAU * hz * t + phase).sin())
            .sum::<f64>() as f32
    };
    let left = [
        (0.30, 220.0, 0.0),
        (0.15, 1_370.0, 0.4),
        (0.05, 5_100.0, 2.0),
    ];
    let right = [
        (0.25, 330.0, 0.7),
        (0.20, 2_900.0, 1.1),
        (0.04, 9_000.0, 0.3),
    ];

    Stereo {
        left: (0..SIGNAL_LEN).map(|n| voice(&left, n)).collect(),
        right: (0..SIGNAL_LEN).map(|n| voice(&right, n)).collect(),
    }
}

/// A parameter value event at an absolute sample position of the rendered signal.
#[derive(Clone, Copy, Debug)]
struct ParamChange {
    sample: usize,
    param_id: u32,
    value: f64,
}

/// Renders `input` through a fresh, activated instance, in host blocks of `block_size` samples,
/// delivering `changes` as sample-accurate `CLAP_EVENT_PARAM_VALUE` events. Processing happens on a
/// separate audio thread, as in a real host.
fn render(input: &Stereo, block_size: usize, changes: &[ParamChange]) -> Stereo {
    assert!(
        changes.windows(2).all(|w| w[0].sample <= w[1].sample),
        "param changes must be sorted by time"
    );

    let mut instance = new_instance();
    let processor = instance
        .activate(|_, _| (), audio_config())
        .unwrap_or_else(|e| panic!("activate(48 kHz, 1..=4096) failed: {e}"));
    let latency = {
        let handle = instance.plugin_handle();
        let extension = handle
            .get_extension::<PluginLatency>()
            .expect("plugin does not implement the latency extension");
        extension.get(&handle) as usize
    };
    // Compensate the latency as a host does: feed that many silent frames
    // after the input and drop as many from the start of the output.
    let mut padded = Stereo::silence(input.len() + latency);
    padded.left[..input.len()].copy_from_slice(&input.left);
    padded.right[..input.len()].copy_from_slice(&input.right);
    let padded = &padded;

    let (result, processor) = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(format!("audio (block {block_size})"))
            .spawn_scoped(scope, move || {
                process_on_audio_thread(processor, padded, block_size, changes)
            })
            .expect("failed to spawn the audio thread")
            .join()
            .expect("the audio thread panicked")
    });

    instance.deactivate(processor);
    service_main_thread_callbacks(&mut instance);

    let output = result.unwrap_or_else(|e| panic!("block size {block_size}: {e}"));
    Stereo {
        left: output.left[latency..].to_vec(),
        right: output.right[latency..].to_vec(),
    }
}

/// The audio-thread half of [`render`]: start processing, feed every block, stop processing. The
/// processor is always handed back so the main thread can deactivate the plugin cleanly.
fn process_on_audio_thread(
    processor: StoppedPluginAudioProcessor<TestHost>,
    input: &Stereo,
    block_size: usize,
    changes: &[ParamChange],
) -> (
    Result<Stereo, String>,
    StoppedPluginAudioProcessor<TestHost>,
) {
    let mut processor = match processor.start_processing() {
        Ok(processor) => processor,
        Err(e) => {
            let message = format!("start_processing() failed: {e}");
            return (Err(message), e.into_stopped_processor());
        }
    };

    let mut output = Stereo::silence(input.len());
    let (mut in_l, mut in_r) = (vec![0.0f32; block_size], vec![0.0f32; block_size]);
    let (mut out_l, mut out_r) = (vec![0.0f32; block_size], vec![0.0f32; block_size]);
    let mut input_ports = AudioPorts::with_capacity(2, 1);
    let mut output_ports = AudioPorts::with_capacity(2, 1);
    let mut input_events = EventBuffer::with_capacity(changes.len().max(1));
    let mut output_events = EventBuffer::with_capacity(64);

    let mut status = Ok(());
    for start in (0..input.len()).step_by(block_size) {
        let len = block_size.min(input.len() - start);
        let block = start..start + len;

        // Fresh copies every block: the plugin must not rely on (or be hurt by) what it wrote
        // into these buffers during the previous call.
        in_l[..len].copy_from_slice(&input.left[block.clone()]);
        in_r[..len].copy_from_slice(&input.right[block.clone()]);
        out_l[..len].fill(0.0);
        out_r[..len].fill(0.0);

        input_events.clear();
        for change in changes.iter().filter(|c| block.contains(&c.sample)) {
            let offset = u32::try_from(change.sample - start).expect("offset fits in u32");
            input_events.push(&ParamValueEvent::new(
                offset,
                ClapId::new(change.param_id),
                Pckn::match_all(),
                change.value,
            ));
        }
        output_events.clear();

        let audio_inputs = input_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only([
                InputChannel::variable(&mut in_l[..len]),
                InputChannel::variable(&mut in_r[..len]),
            ]),
        }]);
        let mut audio_outputs = output_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only([&mut out_l[..len], &mut out_r[..len]]),
        }]);

        if let Err(e) = processor.process(
            &audio_inputs,
            &mut audio_outputs,
            &InputEvents::from_buffer(&input_events),
            &mut OutputEvents::from_buffer(&mut output_events),
            Some(start as u64),
            None,
        ) {
            status = Err(format!(
                "process() failed for the block starting at sample {start}: {e}"
            ));
            break;
        }

        output.left[block.clone()].copy_from_slice(&out_l[..len]);
        output.right[block].copy_from_slice(&out_r[..len]);
    }

    (status.map(|()| output), processor.stop_processing())
}

// ---------------------------------------------------------------------------------------------
// Numeric checks
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Tolerance {
    /// |out - expected| <= tol
    Absolute(f64),
    /// |out - expected| <= tol * |expected| (with a tiny absolute floor)
    Relative(f64),
}

impl Tolerance {
    fn allows(self, actual: f64, expected: f64) -> bool {
        let error = (actual - expected).abs();
        match self {
            Tolerance::Absolute(tol) => error <= tol,
            Tolerance::Relative(tol) => error <= (tol * expected.abs()).max(GAIN_ABS_FLOOR),
        }
    }
}

/// Asserts `output[n] == input[n] * gain` on both channels for every `n` in `range`.
fn assert_gain(
    what: &str,
    input: &Stereo,
    output: &Stereo,
    range: Range<usize>,
    gain: f64,
    tolerance: Tolerance,
) {
    assert_eq!(input.len(), output.len(), "{what}: length mismatch");
    for ((channel, inp), (_, out)) in input.channels().into_iter().zip(output.channels()) {
        let failures: Vec<usize> = range
            .clone()
            .filter(|&n| !tolerance.allows(f64::from(out[n]), f64::from(inp[n]) * gain))
            .collect();
        if let Some(&first) = failures.first() {
            let expected = f64::from(inp[first]) * gain;
            panic!(
                "{what}: channel {channel}: {} of {} samples in {range:?} are not input * {gain:.7} \
                 ({tolerance:?}); first at sample {first}: input {:.9}, output {:.9}, expected \
                 {expected:.9}, error {:.3e}",
                failures.len(),
                range.len(),
                inp[first],
                out[first],
                (f64::from(out[first]) - expected).abs(),
            );
        }
    }
}

/// Asserts that over `range` the per-sample gain `out / in` stays within
/// `[to_gain, from_gain]` and moves monotonically from `from_gain` towards `to_gain`, and that
/// it has visibly left `from_gain` within the first few samples (i.e. the ramp starts at the
/// event, not at the next host block).
fn assert_monotonic_ramp(
    what: &str,
    input: &Stereo,
    output: &Stereo,
    range: Range<usize>,
    from_gain: f64,
    to_gain: f64,
) {
    let (low, high) = (from_gain.min(to_gain), from_gain.max(to_gain));
    let falling = to_gain < from_gain;
    for ((channel, inp), (_, out)) in input.channels().into_iter().zip(output.channels()) {
        let ratios: Vec<(usize, f64)> = range
            .clone()
            .filter(|&n| inp[n].abs() >= RATIO_MIN_INPUT)
            .map(|n| (n, f64::from(out[n]) / f64::from(inp[n])))
            .collect();
        assert!(
            ratios.len() > range.len() / 2,
            "{what}: test signal too quiet to measure the ramp on {channel}"
        );

        for &(n, ratio) in &ratios {
            assert!(
                (low - RATIO_SLACK..=high + RATIO_SLACK).contains(&ratio),
                "{what}: channel {channel}: gain {ratio:.7} at sample {n} is outside the ramp's \
                 range [{low:.7}, {high:.7}]"
            );
        }
        for pair in ratios.windows(2) {
            let ((n0, r0), (n1, r1)) = (pair[0], pair[1]);
            let step = if falling { r1 - r0 } else { r0 - r1 };
            assert!(
                step <= RATIO_SLACK,
                "{what}: channel {channel}: gain is not monotonic during the ramp: {r0:.7} at \
                 sample {n0}, then {r1:.7} at sample {n1}"
            );
        }

        // One step of a 960-sample ramp from 0 to -6 dB is ~7e-4 in linear gain, so a ramp that
        // starts at the event sample has moved by well over 1e-4 within 16 samples.
        let early = range.start..range.start + 16;
        assert!(
            ratios
                .iter()
                .any(|&(n, r)| early.contains(&n) && (r - from_gain).abs() > 1e-4),
            "{what}: channel {channel}: gain still at {from_gain:.7} 16 samples after the event \
             at sample {} (automation not sample-accurate?)",
            range.start
        );
    }
}

/// Asserts that two renders agree sample by sample within `tol`.
fn assert_same_output(what: &str, reference: &Stereo, other: &Stereo, tol: f64) {
    for ((channel, a), (_, b)) in reference.channels().into_iter().zip(other.channels()) {
        let worst = a
            .iter()
            .zip(b)
            .enumerate()
            .map(|(n, (&x, &y))| (n, (f64::from(x) - f64::from(y)).abs()))
            .max_by(|p, q| p.1.total_cmp(&q.1));
        if let Some((n, error)) = worst {
            assert!(
                error <= tol,
                "{what}: channel {channel}: outputs differ by {error:.3e} (> {tol:.0e}) at sample \
                 {n}: {} vs {}",
                a[n],
                b[n]
            );
        }
    }
}

/// Renders the same input with every block size (a fresh instance each time).
fn render_all_block_sizes(input: &Stereo, changes: &[ParamChange]) -> Vec<(usize, Stereo)> {
    BLOCK_SIZES
        .iter()
        .map(|&block_size| (block_size, render(input, block_size, changes)))
        .collect()
}

/// Asserts that all renders agree with the block-size-1 render, where every event trivially lands
/// on a block boundary. Called after the per-render checks, which give more specific messages.
fn assert_block_size_invariant(what: &str, renders: &[(usize, Stereo)]) {
    let (reference_size, reference) = &renders[0];
    assert_eq!(
        *reference_size, 1,
        "the reference render must use single-sample blocks"
    );
    for (block_size, output) in &renders[1..] {
        assert_same_output(
            &format!("{what}: block size {block_size} vs block size {reference_size}"),
            reference,
            output,
            BLOCK_INVARIANCE_ABS_TOL,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Metadata helpers
// ---------------------------------------------------------------------------------------------

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[derive(Debug)]
struct ParamSummary {
    id: u32,
    name: String,
    flags: ParamInfoFlags,
    min: f64,
    max: f64,
    default: f64,
}

fn list_params(instance: &mut PluginInstance<TestHost>) -> Vec<ParamSummary> {
    let handle = instance.plugin_handle();
    let params = handle
        .get_extension::<PluginParams>()
        .expect("plugin does not implement the params extension");
    let mut buffer = ParamInfoBuffer::new();
    (0..params.count(&handle))
        .map(|index| {
            let info = params
                .get_info(&handle, index, &mut buffer)
                .unwrap_or_else(|| panic!("params.get_info({index}) failed"));
            ParamSummary {
                id: info.id.get(),
                name: lossy(info.name),
                flags: info.flags,
                min: info.min_value,
                max: info.max_value,
                default: info.default_value,
            }
        })
        .collect()
}

/// Expected CLAP view of a parameter (CLAP values as nice-plug exposes them, see
/// [`trim_clap_value`]).
struct ExpectedParam {
    string_id: &'static str,
    name: &'static str,
    /// `Some(step_count)` for stepped (bool/enum) parameters.
    steps: Option<u32>,
    default: f64,
    is_bypass: bool,
}

fn expected_params() -> [ExpectedParam; 4] {
    [
        ExpectedParam {
            string_id: "in_gain",
            name: "Input Trim",
            steps: None,
            default: trim_clap_value(0.0),
            is_bypass: false,
        },
        ExpectedParam {
            string_id: "out_gain",
            name: "Output Trim",
            steps: None,
            default: trim_clap_value(0.0),
            is_bypass: false,
        },
        ExpectedParam {
            // Drums, Bass, Vocals, Backing Vocals, Music, Effects, Full Mix: 6 steps,
            // default Full Mix (index 6).
            string_id: "role",
            name: "Stem Role",
            steps: Some(6),
            default: 6.0,
            is_bypass: false,
        },
        ExpectedParam {
            string_id: "bypass",
            name: "Bypass",
            steps: Some(1),
            default: 0.0,
            is_bypass: true,
        },
    ]
}

fn check_params(instance: &mut PluginInstance<TestHost>) {
    let listed = list_params(instance);
    let mut unique_ids: Vec<u32> = listed.iter().map(|p| p.id).collect();
    unique_ids.sort_unstable();
    unique_ids.dedup();
    assert_eq!(
        unique_ids.len(),
        listed.len(),
        "duplicate CLAP param ids: {listed:#?}"
    );

    for expected in expected_params() {
        let id = hash_param_id(expected.string_id);
        let param = listed.iter().find(|p| p.id == id).unwrap_or_else(|| {
            panic!(
                "no CLAP param with id {id} (= hash_param_id({:?})); listed: {listed:#?}",
                expected.string_id
            )
        });
        let what = format!("param {:?} (id {id})", expected.string_id);

        assert_eq!(param.name, expected.name, "{what}: display name");
        assert!(
            param.flags.contains(ParamInfoFlags::IS_AUTOMATABLE),
            "{what}: {param:?}"
        );
        assert!(
            !param.flags.contains(ParamInfoFlags::IS_HIDDEN),
            "{what}: {param:?}"
        );
        assert_eq!(
            param.flags.contains(ParamInfoFlags::IS_BYPASS),
            expected.is_bypass,
            "{what}: IS_BYPASS flag ({param:?})"
        );
        assert_eq!(
            param.flags.contains(ParamInfoFlags::IS_STEPPED),
            expected.steps.is_some(),
            "{what}: IS_STEPPED flag ({param:?})"
        );
        assert_eq!(param.min, 0.0, "{what}: min value");
        assert_eq!(
            param.max,
            f64::from(expected.steps.unwrap_or(1)),
            "{what}: max value"
        );
        // Defaults go through an f32 normalized value inside nice-plug.
        assert!(
            (param.default - expected.default).abs() < 1e-6,
            "{what}: default {} != {}",
            param.default,
            expected.default
        );
    }

    let handle = instance.plugin_handle();
    let params = handle
        .get_extension::<PluginParams>()
        .expect("plugin does not implement the params extension");
    for expected in expected_params() {
        let id = ClapId::new(hash_param_id(expected.string_id));
        let value = params
            .get_value(&handle, id)
            .unwrap_or_else(|| panic!("params.get_value({:?}) failed", expected.string_id));
        assert!(
            (value - expected.default).abs() < 1e-6,
            "fresh instance: {:?} = {value}, expected default {}",
            expected.string_id,
            expected.default
        );
    }

    // Cross-check the dB <-> CLAP value mapping the audio tests rely on: the plugin must render
    // the value we send for -6 dB as -6 dB.
    let mut text = [0u8; 256];
    let rendered = params
        .value_to_text(
            &handle,
            ClapId::new(hash_param_id("in_gain")),
            trim_clap_value(TRIM_TARGET_DB),
            &mut text,
        )
        .map(|bytes| lossy(bytes))
        .expect("params.value_to_text(in_gain) failed");
    assert!(
        rendered.trim_start().starts_with("-6"),
        "in_gain CLAP value {} should display as -6 dB, got {rendered:?}",
        trim_clap_value(TRIM_TARGET_DB)
    );
}

fn check_audio_ports(instance: &mut PluginInstance<TestHost>) {
    let handle = instance.plugin_handle();
    let ports = handle
        .get_extension::<PluginAudioPorts>()
        .expect("plugin does not implement the audio-ports extension");
    let mut buffer = AudioPortInfoBuffer::new();

    for (is_input, direction) in [(true, "input"), (false, "output")] {
        assert_eq!(
            ports.count(&handle, is_input),
            1,
            "expected exactly one {direction} port"
        );
        let info = ports
            .get(&handle, 0, is_input, &mut buffer)
            .unwrap_or_else(|| panic!("audio_ports.get(0, {direction}) failed"));
        assert!(
            info.flags.contains(AudioPortFlags::IS_MAIN),
            "{direction} port 0 is not the main port ({:?})",
            info.flags
        );
        assert_eq!(info.channel_count, 2, "main {direction} port channel count");
        assert_eq!(
            info.port_type,
            Some(AudioPortType::STEREO),
            "main {direction} port type"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn descriptor_ports_params_and_latency() {
    let factory = plugin_entry()
        .get_plugin_factory()
        .expect("the entry exposes no plugin factory");
    let ids: Vec<String> = factory
        .plugin_descriptors()
        .filter_map(|d| d.id())
        .map(|id| id.to_string_lossy().into_owned())
        .collect();
    let descriptor = factory
        .plugin_descriptors()
        .find(|d| d.id() == Some(PLUGIN_ID))
        .unwrap_or_else(|| panic!("factory has no {PLUGIN_ID:?}; it has {ids:?}"));

    let name = descriptor.name().map(|n| n.to_string_lossy().into_owned());
    assert_eq!(name.as_deref(), Some(PLUGIN_NAME), "descriptor name");
    let features: Vec<String> = descriptor
        .features()
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    for feature in REQUIRED_FEATURES {
        assert!(
            features.iter().any(|f| f == feature),
            "descriptor features {features:?} lack {feature:?}"
        );
    }

    let mut instance = new_instance();
    check_audio_ports(&mut instance);
    check_params(&mut instance);

    let processor = instance
        .activate(|_, _| (), audio_config())
        .unwrap_or_else(|e| panic!("activate(48 kHz, 1..=4096) failed: {e}"));
    {
        let handle = instance.plugin_handle();
        let latency = handle
            .get_extension::<PluginLatency>()
            .expect("plugin does not implement the latency extension");
        assert_eq!(
            latency.get(&handle),
            LATENCY_SAMPLES as u32,
            "reported latency after activation"
        );
    }
    instance.deactivate(processor);
    service_main_thread_callbacks(&mut instance);
}

#[test]
fn unity_passthrough_for_every_block_size() {
    let input = test_signal();
    for block_size in BLOCK_SIZES {
        let output = render(&input, block_size, &[]);
        assert_gain(
            &format!("no events, block size {block_size}"),
            &input,
            &output,
            0..SIGNAL_LEN,
            1.0,
            Tolerance::Absolute(UNITY_ABS_TOL),
        );
    }
}

#[test]
fn in_gain_event_mid_block_is_sample_accurate_and_block_size_invariant() {
    let input = test_signal();
    let target = db_to_gain(TRIM_TARGET_DB);
    let changes = [ParamChange {
        sample: TRIM_EVENT_SAMPLE,
        param_id: hash_param_id("in_gain"),
        value: trim_clap_value(TRIM_TARGET_DB),
    }];
    let ramp_end = TRIM_EVENT_SAMPLE + TRIM_RAMP_LEN;

    let renders = render_all_block_sizes(&input, &changes);
    for (block_size, output) in &renders {
        let what = |part: &str| {
            format!("in_gain -6 dB @ {TRIM_EVENT_SAMPLE}, block size {block_size}: {part}")
        };
        assert_gain(
            &what("before the event"),
            &input,
            output,
            0..TRIM_EVENT_SAMPLE,
            1.0,
            Tolerance::Absolute(UNITY_ABS_TOL),
        );
        assert_monotonic_ramp(
            &what("20 ms ramp"),
            &input,
            output,
            TRIM_EVENT_SAMPLE..ramp_end,
            1.0,
            target,
        );
        assert_gain(
            &what("after the ramp"),
            &input,
            output,
            ramp_end..SIGNAL_LEN,
            target,
            Tolerance::Relative(GAIN_REL_TOL),
        );
    }
    assert_block_size_invariant("in_gain -6 dB mid-block", &renders);
}

#[test]
fn bypass_event_returns_dry_signal_despite_trim() {
    let input = test_signal();
    let target = db_to_gain(TRIM_TARGET_DB);
    let changes = [
        ParamChange {
            sample: TRIM_EVENT_SAMPLE,
            param_id: hash_param_id("in_gain"),
            value: trim_clap_value(TRIM_TARGET_DB),
        },
        ParamChange {
            sample: BYPASS_EVENT_SAMPLE,
            param_id: hash_param_id("bypass"),
            value: 1.0,
        },
    ];

    let renders = render_all_block_sizes(&input, &changes);
    for (block_size, output) in &renders {
        let what = |part: &str| {
            format!("bypass on @ {BYPASS_EVENT_SAMPLE}, block size {block_size}: {part}")
        };
        // Bypass acts at the output, which lags the input by the latency:
        // in compensated time it takes effect that much earlier.
        let bypass_at = BYPASS_EVENT_SAMPLE - LATENCY_SAMPLES;
        assert_gain(
            &what("trimmed before bypass"),
            &input,
            output,
            TRIM_EVENT_SAMPLE + TRIM_RAMP_LEN..bypass_at,
            target,
            Tolerance::Relative(GAIN_REL_TOL),
        );
        assert_gain(
            &what("dry after the 10 ms crossfade"),
            &input,
            output,
            bypass_at + BYPASS_FADE_LEN..SIGNAL_LEN,
            1.0,
            Tolerance::Absolute(UNITY_ABS_TOL),
        );
    }
    assert_block_size_invariant("in_gain -6 dB, then bypass on, mid-block", &renders);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle, state and port configurations
// ---------------------------------------------------------------------------------------------

/// The latency the plugin must report at `rate`: the limiter's band limit (36 samples) and
/// 1.5 ms of look-ahead.
fn expected_latency(rate: f64) -> usize {
    36 + (0.0015 * rate).round() as usize
}

/// Processes blocks of the given frame counts (0 allowed) of a test signal on `channels`
/// channels, with `events` (offset in the first block, parameter id, CLAP value) in the first
/// block, on an audio thread; returns the input and the output, concatenated.
#[allow(clippy::type_complexity)]
fn process_blocks(
    processor: StoppedPluginAudioProcessor<TestHost>,
    channels: usize,
    blocks: &[usize],
    events: &[(u32, u32, f64)],
) -> (
    Result<(Vec<Vec<f32>>, Vec<Vec<f32>>), String>,
    StoppedPluginAudioProcessor<TestHost>,
) {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("audio".into())
            .spawn_scoped(scope, move || {
                let mut processor = match processor.start_processing() {
                    Ok(p) => p,
                    Err(e) => {
                        let message = format!("start_processing() failed: {e}");
                        return (Err(message), e.into_stopped_processor());
                    }
                };
                let total: usize = blocks.iter().sum();
                let input: Vec<Vec<f32>> = (0..channels)
                    .map(|c| {
                        (0..total)
                            .map(|n| 0.4 * ((n as f32) * 0.031 * (c as f32 + 1.0)).sin())
                            .collect()
                    })
                    .collect();
                let mut output = vec![vec![0.0f32; total]; channels];
                let mut input_ports = AudioPortsWithCapacity::new(channels);
                let mut input_events = EventBuffer::with_capacity(events.len().max(1));
                let mut output_events = EventBuffer::with_capacity(64);
                let mut start = 0;
                let mut status = Ok(());
                for (k, &len) in blocks.iter().enumerate() {
                    let mut ins: Vec<Vec<f32>> = input
                        .iter()
                        .map(|c| c[start..start + len].to_vec())
                        .collect();
                    let mut outs: Vec<Vec<f32>> = vec![vec![0.0; len]; channels];
                    input_events.clear();
                    if k == 0 {
                        for &(offset, id, value) in events {
                            input_events.push(&ParamValueEvent::new(
                                offset,
                                ClapId::new(id),
                                Pckn::match_all(),
                                value,
                            ));
                        }
                    }
                    output_events.clear();
                    let audio_inputs = input_ports.inputs.with_input_buffers([AudioPortBuffer {
                        latency: 0,
                        channels: AudioPortBufferType::f32_input_only(
                            ins.iter_mut()
                                .map(|c| InputChannel::variable(c.as_mut_slice())),
                        ),
                    }]);
                    let mut audio_outputs =
                        input_ports.outputs.with_output_buffers([AudioPortBuffer {
                            latency: 0,
                            channels: AudioPortBufferType::f32_output_only(
                                outs.iter_mut().map(|c| c.as_mut_slice()),
                            ),
                        }]);
                    if let Err(e) = processor.process(
                        &audio_inputs,
                        &mut audio_outputs,
                        &InputEvents::from_buffer(&input_events),
                        &mut OutputEvents::from_buffer(&mut output_events),
                        Some(start as u64),
                        None,
                    ) {
                        status = Err(format!("process() of block {k} ({len} frames) failed: {e}"));
                        break;
                    }
                    for (o, out) in output.iter_mut().zip(&outs) {
                        o[start..start + len].copy_from_slice(out);
                    }
                    start += len;
                }
                (
                    status.map(|()| (input, output)),
                    processor.stop_processing(),
                )
            })
            .expect("failed to spawn the audio thread")
            .join()
            .expect("the audio thread panicked")
    })
}

/// Input and output port lists for `channels` channels.
struct AudioPortsWithCapacity {
    inputs: AudioPorts,
    outputs: AudioPorts,
}

impl AudioPortsWithCapacity {
    fn new(channels: usize) -> Self {
        Self {
            inputs: AudioPorts::with_capacity(channels, 1),
            outputs: AudioPorts::with_capacity(channels, 1),
        }
    }
}

/// The output is the input delayed by `latency`, silent before, within [`UNITY_ABS_TOL`].
fn assert_delayed_passthrough(what: &str, input: &[Vec<f32>], output: &[Vec<f32>], latency: usize) {
    for (c, (i, o)) in input.iter().zip(output).enumerate() {
        for (n, &y) in o.iter().enumerate() {
            let expected = if n >= latency { i[n - latency] } else { 0.0 };
            assert!(
                y.is_finite() && (f64::from(y) - f64::from(expected)).abs() <= UNITY_ABS_TOL,
                "{what}: channel {c} sample {n}: {y} instead of {expected}"
            );
        }
    }
}

#[test]
fn activation_cycles_rates_block_limits_and_empty_blocks() {
    let mut instance = new_instance();
    let cycles: [(f64, u32); 7] = [
        (44_100.0, 1),
        (48_000.0, 8192),
        (96_000.0, 512),
        (192_000.0, 4096),
        (88_200.0, 64),
        (44_100.0, 8192),
        (48_000.0, 1),
    ];
    for (cycle, &(rate, max_block)) in cycles.iter().enumerate() {
        let config = PluginAudioConfiguration {
            sample_rate: rate,
            min_frames_count: 1,
            max_frames_count: max_block,
        };
        let processor = instance.activate(|_, _| (), config).unwrap_or_else(|e| {
            panic!("cycle {cycle}: activate({rate} Hz, ≤ {max_block}) failed: {e}")
        });
        let latency = {
            let handle = instance.plugin_handle();
            let extension = handle
                .get_extension::<PluginLatency>()
                .expect("latency extension");
            extension.get(&handle) as usize
        };
        assert_eq!(
            latency,
            expected_latency(rate),
            "cycle {cycle}: latency at {rate} Hz"
        );
        let m = max_block as usize;
        let mut blocks = vec![0, m, 0, 1, m.min(7), m];
        // Enough audio to get past the latency, in blocks of at most `m`.
        while blocks.iter().sum::<usize>() < latency + 2 * m + 64 {
            blocks.push(m);
            blocks.push(0);
        }
        let (result, processor) = process_blocks(processor, 2, &blocks, &[]);
        instance.deactivate(processor);
        service_main_thread_callbacks(&mut instance);
        let (input, output) = result.unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
        assert_delayed_passthrough(
            &format!("cycle {cycle}, {rate} Hz, blocks ≤ {max_block}"),
            &input,
            &output,
            latency,
        );
    }
}

/// Every parameter's CLAP id and current value.
fn param_values(instance: &mut PluginInstance<TestHost>) -> Vec<(u32, f64)> {
    let ids: Vec<u32> = list_params(instance).iter().map(|p| p.id).collect();
    let handle = instance.plugin_handle();
    let params = handle
        .get_extension::<PluginParams>()
        .expect("params extension");
    ids.into_iter()
        .map(|id| {
            let value = params
                .get_value(&handle, ClapId::new(id))
                .unwrap_or_else(|| panic!("get_value({id}) failed"));
            (id, value)
        })
        .collect()
}

fn save_state(instance: &mut PluginInstance<TestHost>) -> Vec<u8> {
    let handle = instance.plugin_handle();
    let state = handle
        .get_extension::<PluginState>()
        .expect("state extension");
    let mut bytes = Vec::new();
    state.save(&handle, &mut bytes).expect("state.save failed");
    bytes
}

fn load_state(instance: &mut PluginInstance<TestHost>, bytes: &[u8]) -> bool {
    let handle = instance.plugin_handle();
    let state = handle
        .get_extension::<PluginState>()
        .expect("state extension");
    let mut reader = bytes;
    state.load(&handle, &mut reader).is_ok()
}

/// A CLAP state as nice-plug writes it: the JSON's length (u64, little endian), then the JSON.
fn clap_state(json: &[u8]) -> Vec<u8> {
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(json);
    bytes
}

/// Values bit for bit.
fn same_values(a: &[(u32, f64)], b: &[(u32, f64)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1.to_bits() == y.1.to_bits())
}

#[test]
fn state_round_trips_bit_exact_and_bad_state_loads_defaults() {
    // An instance with every parameter moved to 37 % of its range, as host automation would.
    let mut edited = new_instance();
    let events: Vec<(u32, u32, f64)> = list_params(&mut edited)
        .iter()
        .map(|p| (0, p.id, p.min + 0.37 * (p.max - p.min)))
        .collect();
    let processor = edited
        .activate(|_, _| (), audio_config())
        .expect("activate");
    let (result, processor) = process_blocks(processor, 2, &[64], &events);
    edited.deactivate(processor);
    service_main_thread_callbacks(&mut edited);
    result.expect("processing with the events");
    let edited_values = param_values(&mut edited);
    let saved = save_state(&mut edited);

    let mut fresh = new_instance();
    let defaults = param_values(&mut fresh);
    assert!(
        !same_values(&defaults, &edited_values),
        "the events changed nothing"
    );

    // A new instance restores every value bit for bit.
    let mut restored = new_instance();
    assert!(
        load_state(&mut restored, &saved),
        "loading a saved state failed"
    );
    assert!(
        same_values(&param_values(&mut restored), &edited_values),
        "values differ after a round trip"
    );
    // And it still processes.
    let processor = restored
        .activate(|_, _| (), audio_config())
        .expect("activate after load");
    let (result, processor) = process_blocks(processor, 2, &[512, 512], &[]);
    restored.deactivate(processor);
    assert!(result
        .expect("processing after load")
        .1
        .iter()
        .flatten()
        .all(|x| x.is_finite()));

    // Truncated and garbage states are refused; the instance keeps its (default) values.
    for (what, bytes) in [
        ("truncated", saved[..saved.len() / 2].to_vec()),
        ("garbage", b"\x00\xffnot a state at all".to_vec()),
        ("empty", Vec::new()),
        ("JSON of another shape", clap_state(br#"{"params": 3}"#)),
        ("a length past the end", clap_state(b"{}")[..9].to_vec()),
    ] {
        let mut instance = new_instance();
        assert!(
            !load_state(&mut instance, &bytes),
            "{what} state was accepted"
        );
        assert!(
            same_values(&param_values(&mut instance), &defaults),
            "{what} state changed values"
        );
    }

    // A state of a newer format loads the defaults, whatever values it carries.
    let mut newer: serde_json::Value =
        serde_json::from_slice(&saved[8..]).expect("the state is a length and JSON");
    newer["fields"]["state_version"] = serde_json::Value::String("99".into());
    let mut instance = new_instance();
    assert!(load_state(
        &mut instance,
        &clap_state(newer.to_string().as_bytes())
    ));
    assert!(
        same_values(&param_values(&mut instance), &defaults),
        "a newer format did not load the defaults"
    );

    // A state saved before the format had a version loads with its values.
    let fixture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plugin/tests/fixtures/state-0.1.0-unversioned.json"
    ))
    .expect("fixture");
    let mut instance = new_instance();
    assert!(
        load_state(&mut instance, &clap_state(&fixture)),
        "the unversioned fixture was refused"
    );
    let values = param_values(&mut instance);
    let value = |id: &str| {
        values
            .iter()
            .find(|(k, _)| *k == hash_param_id(id))
            .expect(id)
            .1
    };
    assert!(
        (value("in_gain") - trim_clap_value(-3.25)).abs() < 1e-6,
        "in_gain {}",
        value("in_gain")
    );
    assert!(
        (value("out_gain") - trim_clap_value(1.5)).abs() < 1e-6,
        "out_gain {}",
        value("out_gain")
    );
    assert_eq!(value("glue_on"), 1.0);
    assert_eq!(value("lim_on"), 1.0);
    // link_group 3 of 1..=16: stepped, CLAP value = step index (through an f32 normalization).
    assert!(
        (value("link_group") - 2.0).abs() < 1e-5,
        "link_group {}",
        value("link_group")
    );
}

#[test]
fn mono_and_stereo_port_configurations() {
    let mut instance = new_instance();
    let mut configurations = Vec::new();
    {
        let handle = instance.plugin_handle();
        let ports = handle
            .get_extension::<PluginAudioPortsConfig>()
            .expect("plugin does not implement audio-ports-config");
        let mut buffer = AudioPortsConfigBuffer::new();
        for index in 0..ports.count(&handle) {
            let config = ports.get(&handle, index, &mut buffer).expect("config");
            let channels = |port: &Option<clack_extensions::audio_ports_config::MainPortInfo>| {
                port.as_ref().map_or(0, |p| p.channel_count)
            };
            configurations.push((
                config.id,
                channels(&config.main_input),
                channels(&config.main_output),
            ));
        }
    }
    for channels in [1u32, 2] {
        assert!(
            configurations
                .iter()
                .any(|&(_, i, o)| i == channels && o == channels),
            "no {channels}-channel configuration in {configurations:?}"
        );
    }
    for &(id, channels, _) in configurations
        .iter()
        .filter(|&&(_, i, o)| i == o && (i == 1 || i == 2))
    {
        {
            let handle = instance.plugin_handle();
            let ports = handle
                .get_extension::<PluginAudioPortsConfig>()
                .expect("audio-ports-config");
            ports
                .select(&handle, id)
                .unwrap_or_else(|_| panic!("selecting {channels} channels failed"));
        }
        service_main_thread_callbacks(&mut instance);
        let processor = instance
            .activate(|_, _| (), audio_config())
            .expect("activate");
        let (result, processor) =
            process_blocks(processor, channels as usize, &[1000, 0, 1000], &[]);
        instance.deactivate(processor);
        service_main_thread_callbacks(&mut instance);
        let (input, output) = result.unwrap_or_else(|e| panic!("{channels} channels: {e}"));
        assert_delayed_passthrough(
            &format!("{channels} channels"),
            &input,
            &output,
            LATENCY_SAMPLES,
        );
    }
}
