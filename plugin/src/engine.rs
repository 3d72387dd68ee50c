//! The processing engine: everything Stem Master does to audio, in one type
//! that both the plugin and the `stem-master` command-line tool drive.
//!
//! Signal flow per block, in this fixed order: sanitise input (NaN/Inf → 0)
//! → input trim → tone → de-harsh → low end (mono bass, stabilizer) → glue
//! compressor → punch → width → output trim → true-peak limiter (so its
//! ceiling is the final peak level) → bypass crossfade against the dry
//! input, delayed by the engine's latency so the two stay aligned → meters
//! ([`Analyzer`]) on the output. The latency is the limiter's band limit
//! and look-ahead; it depends only on the sample rate, whether the limiter
//! is on or off. Every module has its own click-free on/off switch
//! ([`ModuleSlot`]).
//!
//! All memory is allocated in [`Engine::prepare`]; [`Engine::process`] never
//! allocates, locks or blocks.

use crate::delivery::DeliveryTarget;
use crate::dsp::db_to_gain;
use crate::dsp::deharsh::{Deharsh, DeharshParams};
use crate::dsp::delay::DelayLine;
use crate::dsp::denormal::FlushDenormals;
use crate::dsp::glue::{Glue, GlueParams};
use crate::dsp::limiter::{Limiter, LimiterParams};
use crate::dsp::loudness_match::LoudnessMatch;
use crate::dsp::low_end::{LowEnd, LowEndParams};
use crate::dsp::module_slot::{ChainModule, ModuleSlot};
use crate::dsp::punch::{Punch, PunchParams};
use crate::dsp::smoothing::LinearRamp;
use crate::dsp::tone::{Tone, ToneParams};
use crate::dsp::width::{Width, WidthParams};
use crate::meter::loudness::LoudnessMeter;
use crate::meter::Analyzer;
use crate::role::StemRole;
use crate::triage::live::LiveTriage;
use crate::triage::rules::TriageContext;

/// Time a trim takes to reach a new value, in seconds.
pub const TRIM_RAMP_SECONDS: f32 = 0.020;
/// Length of the crossfade between processed and dry signal when bypass
/// toggles, in seconds.
pub const BYPASS_CROSSFADE_SECONDS: f32 = 0.010;
/// Most channels the engine processes.
pub const MAX_CHANNELS: usize = 2;
/// Loudness history the engine's own analyzer keeps, seconds; the plugin
/// copies new points out at every block, the CLI keeps its own analyzer.
const ANALYZER_HISTORY_SECONDS: u32 = 2;

/// What the user has set: plain values in the units named by each field.
/// The plugin builds this from its parameters at every block, the CLI once
/// from the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineSettings {
    /// Gain applied before any processing, in dB.
    pub input_trim_db: f32,
    /// Gain applied after all processing, in dB.
    pub output_trim_db: f32,
    /// What the instance is processing.
    pub role: StemRole,
    /// When true the output crossfades to the unprocessed input.
    pub bypass: bool,
    /// When true the output crossfades to the unprocessed input brought to
    /// the processed signal's loudness (gain-matched A/B).
    pub compare_original: bool,
    /// Tone module switched on.
    pub tone_on: bool,
    /// Tone settings (low cut, shelves, tilt, bell).
    pub tone: ToneParams,
    /// De-harsh module switched on.
    pub deharsh_on: bool,
    /// De-harsh settings.
    pub deharsh: DeharshParams,
    /// Low-end module switched on.
    pub low_end_on: bool,
    /// Low-end settings (mono below the crossover, stabilizer).
    pub low_end: LowEndParams,
    /// Glue compressor switched on.
    pub glue_on: bool,
    /// Glue compressor settings.
    pub glue: GlueParams,
    /// Punch (transient shaper) switched on.
    pub punch_on: bool,
    /// Punch settings.
    pub punch: PunchParams,
    /// Width module switched on.
    pub width_on: bool,
    /// Width and balance settings.
    pub width: WidthParams,
    /// Limiter switched on.
    pub limiter_on: bool,
    /// Limiter settings (drive, ceiling, release).
    pub limiter: LimiterParams,
    /// Delivery target: its loudness is what Learn aims for, its ceiling
    /// caps the limiter's.
    pub target: DeliveryTarget,
    /// Loudness of the custom target, LUFS.
    pub target_custom_lufs: f32,
}

impl EngineSettings {
    /// The limiter settings in force: the user's, with the ceiling lowered
    /// to the delivery target's where that is stricter.
    pub fn effective_limiter(&self) -> LimiterParams {
        let mut limiter = self.limiter;
        if let Some(ceiling) = self.target.ceiling_dbtp() {
            limiter.ceiling_dbtp = limiter.ceiling_dbtp.min(ceiling);
        }
        limiter
    }

    /// Integrated loudness the delivery target asks for, LUFS.
    pub fn target_lufs(&self) -> f32 {
        self.target.loudness_lufs(self.target_custom_lufs)
    }
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            input_trim_db: 0.0,
            output_trim_db: 0.0,
            role: StemRole::FullMix,
            bypass: false,
            compare_original: false,
            tone_on: false,
            tone: ToneParams::default(),
            deharsh_on: false,
            deharsh: DeharshParams::default(),
            low_end_on: false,
            low_end: LowEndParams::default(),
            glue_on: false,
            glue: GlueParams::default(),
            punch_on: false,
            punch: PunchParams::default(),
            width_on: false,
            width: WidthParams::default(),
            limiter_on: false,
            limiter: LimiterParams::default(),
            target: DeliveryTarget::default(),
            target_custom_lufs: -14.0,
        }
    }
}

/// Gain reduction of the dynamic modules during the last block, dB (≥ 0).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GainReduction {
    /// De-harsh band cut.
    pub deharsh_db: f32,
    /// Low-band stabilizer.
    pub stabilizer_db: f32,
    /// Glue compressor.
    pub glue_db: f32,
    /// True-peak limiter.
    pub limiter_db: f32,
}

impl ChainModule for Tone {
    fn process(&mut self, channels: &mut [&mut [f32]]) {
        Tone::process(self, channels);
    }
    fn reset(&mut self) {
        Tone::reset(self);
    }
}

impl ChainModule for Deharsh {
    fn process(&mut self, channels: &mut [&mut [f32]]) {
        Deharsh::process(self, channels);
    }
    fn reset(&mut self) {
        Deharsh::reset(self);
    }
}

impl ChainModule for LowEnd {
    fn process(&mut self, channels: &mut [&mut [f32]]) {
        LowEnd::process(self, channels);
    }
    fn reset(&mut self) {
        LowEnd::reset(self);
    }
}

impl ChainModule for Glue {
    fn process(&mut self, channels: &mut [&mut [f32]]) {
        Glue::process(self, channels);
    }
    fn reset(&mut self) {
        Glue::reset(self);
    }
}

impl ChainModule for Punch {
    fn process(&mut self, channels: &mut [&mut [f32]]) {
        Punch::process(self, channels);
    }
    fn reset(&mut self) {
        Punch::reset(self);
    }
}

impl ChainModule for Limiter {
    fn process(&mut self, channels: &mut [&mut [f32]]) {
        Limiter::process(self, channels);
    }
    fn reset(&mut self) {
        Limiter::reset(self);
    }
    fn latency_samples(&self) -> usize {
        Limiter::latency_samples(self) as usize
    }
}

impl ChainModule for Width {
    fn process(&mut self, channels: &mut [&mut [f32]]) {
        Width::process(self, channels);
    }
    fn reset(&mut self) {
        Width::reset(self);
    }
}

/// The processing modules, in chain order.
struct Chain {
    tone: ModuleSlot<Tone>,
    deharsh: ModuleSlot<Deharsh>,
    low_end: ModuleSlot<LowEnd>,
    glue: ModuleSlot<Glue>,
    punch: ModuleSlot<Punch>,
    width: ModuleSlot<Width>,
}

impl Chain {
    fn new(sample_rate_hz: f32, max_block: usize, channels: usize) -> Self {
        Self {
            tone: ModuleSlot::new(
                Tone::new(sample_rate_hz, max_block, channels),
                sample_rate_hz,
                max_block,
                channels,
            ),
            deharsh: ModuleSlot::new(
                Deharsh::new(sample_rate_hz, max_block, channels),
                sample_rate_hz,
                max_block,
                channels,
            ),
            low_end: ModuleSlot::new(
                LowEnd::new(sample_rate_hz, max_block, channels),
                sample_rate_hz,
                max_block,
                channels,
            ),
            glue: ModuleSlot::new(
                Glue::new(sample_rate_hz, max_block, channels),
                sample_rate_hz,
                max_block,
                channels,
            ),
            punch: ModuleSlot::new(
                Punch::new(sample_rate_hz, max_block, channels),
                sample_rate_hz,
                max_block,
                channels,
            ),
            width: ModuleSlot::new(
                Width::new(sample_rate_hz, max_block, channels),
                sample_rate_hz,
                max_block,
                channels,
            ),
        }
    }

    fn set_settings(&mut self, settings: &EngineSettings) {
        self.tone.set_enabled(settings.tone_on);
        self.tone.module.set_params(&settings.tone);
        self.deharsh.set_enabled(settings.deharsh_on);
        self.deharsh.module.set_params(&settings.deharsh);
        self.low_end.set_enabled(settings.low_end_on);
        self.low_end.module.set_params(&settings.low_end);
        self.glue.set_enabled(settings.glue_on);
        self.glue.module.set_params(&settings.glue);
        self.punch.set_enabled(settings.punch_on);
        self.punch.module.set_params(&settings.punch);
        self.width.set_enabled(settings.width_on);
        self.width.module.set_params(&settings.width);
    }

    fn reset(&mut self) {
        self.tone.reset();
        self.deharsh.reset();
        self.low_end.reset();
        self.glue.reset();
        self.punch.reset();
        self.width.reset();
    }

    fn process(&mut self, channels: &mut [&mut [f32]]) {
        self.tone.process(channels);
        self.deharsh.process(channels);
        self.low_end.process(channels);
        self.glue.process(channels);
        self.punch.process(channels);
        self.width.process(channels);
    }

    fn gain_reduction(&self) -> GainReduction {
        GainReduction {
            deharsh_db: if self.deharsh.is_active() {
                self.deharsh.module.gain_reduction_db()
            } else {
                0.0
            },
            stabilizer_db: if self.low_end.is_active() {
                self.low_end.module.gain_reduction_db()
            } else {
                0.0
            },
            limiter_db: 0.0,
            glue_db: if self.glue.is_active() {
                self.glue.module.gain_reduction_db()
            } else {
                0.0
            },
        }
    }
}

/// Errors from [`Engine::prepare`].
#[derive(Debug, Clone, PartialEq)]
pub enum PrepareError {
    /// The sample rate is not a positive finite number of hertz.
    SampleRate(f32),
    /// The channel count is zero or above [`MAX_CHANNELS`].
    Channels(usize),
    /// The maximum block size is zero.
    MaxBlock,
}

impl std::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrepareError::SampleRate(rate) => write!(f, "unsupported sample rate {rate} Hz"),
            PrepareError::Channels(n) => {
                write!(f, "unsupported channel count {n} (1 to {MAX_CHANNELS})")
            }
            PrepareError::MaxBlock => write!(f, "maximum block size must be at least 1"),
        }
    }
}

impl std::error::Error for PrepareError {}

/// A gain in dB, ramped linearly in dB and converted to a factor per sample
/// only while it moves.
#[derive(Debug, Clone)]
struct SmoothedGain {
    /// The ramp, in dB.
    db: LinearRamp,
    /// `db_to_gain(db.value())`, as a linear factor.
    gain: f32,
}

impl SmoothedGain {
    fn new(db: f32, ramp_samples: u32) -> Self {
        Self {
            db: LinearRamp::new(db, ramp_samples),
            gain: db_to_gain(db),
        }
    }

    #[inline]
    fn next(&mut self) -> f32 {
        if !self.db.is_settled() {
            self.gain = db_to_gain(self.db.advance());
        }
        self.gain
    }

    fn snap_to_target(&mut self) {
        self.db.snap_to_target();
        self.gain = db_to_gain(self.db.value());
    }

    /// Multiplies samples `start..end` of every channel by the gain,
    /// advancing it per sample; a settled unity gain costs nothing.
    fn apply(&mut self, channels: &mut [&mut [f32]], start: usize, end: usize) {
        if self.db.is_settled() {
            let gain = self.gain;
            if gain != 1.0 {
                for channel in channels.iter_mut() {
                    for sample in &mut channel[start..end] {
                        *sample *= gain;
                    }
                }
            }
            return;
        }
        for i in start..end {
            let gain = self.next();
            for channel in channels.iter_mut() {
                channel[i] *= gain;
            }
        }
    }
}

/// The Stem Master processing engine.
pub struct Engine {
    /// Sample rate, in Hz.
    sample_rate_hz: f32,
    /// Largest block [`Engine::process`] handles in one pass, in samples per
    /// channel; longer blocks are split.
    max_block: usize,
    /// Channels being processed.
    channels: usize,
    /// The settings last passed to [`Engine::set_settings`].
    settings: EngineSettings,
    /// Input trim, in dB, ramped.
    input_trim: SmoothedGain,
    /// Output trim, in dB, ramped.
    output_trim: SmoothedGain,
    /// Share of the dry signal in the output: 0 = processed, 1 = bypassed.
    bypass_mix: LinearRamp,
    /// Share of the level-matched original in the output (A/B).
    compare_mix: LinearRamp,
    /// Loudness of the original and the processed signal, for the A/B.
    loudness_match: LoudnessMatch,
    /// Set by [`Engine::reset`]: the first block after it starts settled on
    /// the settings in force then, since no audio has been output that a
    /// jump could click against. Hosts deliver the session's parameter
    /// values with that first block.
    settle_on_next_block: bool,
    /// Per channel, the sanitised input of the current chunk (the dry signal
    /// the bypass crossfades to), `max_block` samples each.
    dry: Vec<Vec<f32>>,
    /// Meters on the output.
    analyzer: Analyzer,
    /// Live triage of the output, fed one second of meter features at a
    /// time.
    triage: LiveTriage,
    /// Seconds of features the triage has read from the analyzer.
    triage_seconds_read: u64,
    /// The processing modules before the output trim.
    chain: Chain,
    /// The limiter, after the output trim.
    limiter: ModuleSlot<Limiter>,
    /// Per channel, delays the bypass path by the engine's latency.
    dry_delay: Vec<DelayLine>,
    /// Whether Learn is measuring.
    learning: bool,
    /// Learn's meter: integrated loudness of the signal entering the
    /// limiter stage (before its drive).
    learn_meter: LoudnessMeter,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// An engine prepared for stereo at 48 kHz with 1024-sample blocks; call
    /// [`Engine::prepare`] with the real configuration before processing.
    pub fn new() -> Self {
        let settings = EngineSettings::default();
        let mut engine = Self {
            sample_rate_hz: 48_000.0,
            max_block: 0,
            channels: 0,
            settings,
            input_trim: SmoothedGain::new(settings.input_trim_db, 1),
            output_trim: SmoothedGain::new(settings.output_trim_db, 1),
            bypass_mix: LinearRamp::new(0.0, 1),
            compare_mix: LinearRamp::new(0.0, 1),
            loudness_match: LoudnessMatch::new(48_000.0),
            settle_on_next_block: true,
            dry: Vec::new(),
            analyzer: Analyzer::new(48_000.0, 2, ANALYZER_HISTORY_SECONDS),
            triage: LiveTriage::default(),
            triage_seconds_read: 0,
            chain: Chain::new(48_000.0, 1, 2),
            limiter: ModuleSlot::new(Limiter::new(48_000.0, 1, 2), 48_000.0, 1, 2),
            dry_delay: Vec::new(),
            learning: false,
            learn_meter: LoudnessMeter::new(48_000.0, 2),
        };
        engine
            .prepare(48_000.0, 1024, 2)
            .expect("the default configuration is valid");
        engine
    }

    /// Allocates every buffer for `channels` channels of at most `max_block`
    /// samples per call at `sample_rate_hz`, and resets all state. Call from
    /// the host's activation, never from the audio thread.
    pub fn prepare(
        &mut self,
        sample_rate_hz: f32,
        max_block: usize,
        channels: usize,
    ) -> Result<(), PrepareError> {
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
            return Err(PrepareError::SampleRate(sample_rate_hz));
        }
        if channels == 0 || channels > MAX_CHANNELS {
            return Err(PrepareError::Channels(channels));
        }
        if max_block == 0 {
            return Err(PrepareError::MaxBlock);
        }
        self.sample_rate_hz = sample_rate_hz;
        self.max_block = max_block;
        self.channels = channels;
        let trim_ramp = LinearRamp::samples_for(TRIM_RAMP_SECONDS, sample_rate_hz);
        self.input_trim.db.set_ramp_samples(trim_ramp);
        self.output_trim.db.set_ramp_samples(trim_ramp);
        let crossfade = LinearRamp::samples_for(BYPASS_CROSSFADE_SECONDS, sample_rate_hz);
        self.bypass_mix.set_ramp_samples(crossfade);
        self.compare_mix.set_ramp_samples(crossfade);
        self.loudness_match = LoudnessMatch::new(sample_rate_hz);
        self.dry = vec![vec![0.0; max_block]; channels];
        self.analyzer = Analyzer::new(sample_rate_hz, channels, ANALYZER_HISTORY_SECONDS);
        self.chain = Chain::new(sample_rate_hz, max_block, channels);
        self.chain.set_settings(&self.settings);
        self.limiter = ModuleSlot::new(
            Limiter::new(sample_rate_hz, max_block, channels),
            sample_rate_hz,
            max_block,
            channels,
        );
        self.limiter.set_enabled(self.settings.limiter_on);
        self.limiter
            .module
            .set_params(&self.settings.effective_limiter());
        self.learn_meter = LoudnessMeter::new(f64::from(sample_rate_hz), channels);
        self.dry_delay = vec![DelayLine::new(self.limiter.latency_samples()); channels];
        self.reset();
        Ok(())
    }

    /// Clears all signal history and jumps every smoothed value to its target,
    /// as if the engine had just been prepared with the current settings.
    /// Settings passed before the next [`Engine::process`] call apply at once
    /// too, without a ramp.
    pub fn reset(&mut self) {
        self.snap_to_targets();
        for channel in &mut self.dry {
            channel.fill(0.0);
        }
        for line in &mut self.dry_delay {
            line.reset();
        }
        self.loudness_match.reset();
        self.analyzer.reset();
        self.triage.reset();
        self.triage_seconds_read = 0;
        self.settle_on_next_block = true;
    }

    fn snap_to_targets(&mut self) {
        self.input_trim.snap_to_target();
        self.output_trim.snap_to_target();
        self.bypass_mix.snap_to_target();
        self.compare_mix.snap_to_target();
        self.chain.reset();
        self.limiter.reset();
    }

    /// Takes new settings. Values ramp from where they are, except before the
    /// first block after [`Engine::reset`], where they apply at once. Cheap
    /// enough to call every block.
    #[inline]
    pub fn set_settings(&mut self, settings: &EngineSettings) {
        self.settings = *settings;
        self.input_trim.db.set_target(settings.input_trim_db);
        self.output_trim.db.set_target(settings.output_trim_db);
        self.bypass_mix
            .set_target(if settings.bypass { 1.0 } else { 0.0 });
        self.compare_mix
            .set_target(if settings.compare_original { 1.0 } else { 0.0 });
        self.chain.set_settings(settings);
        self.limiter.set_enabled(settings.limiter_on);
        self.limiter
            .module
            .set_params(&settings.effective_limiter());
    }

    /// Starts (clearing what it measured before) or stops Learn. Cheap to
    /// call every block.
    pub fn set_learning(&mut self, learning: bool) {
        if learning && !self.learning {
            self.learn_meter.reset();
        }
        self.learning = learning;
    }

    /// What Learn measured: integrated loudness entering the limiter stage,
    /// LUFS, once there is enough audio above the gate.
    pub fn learned_lufs(&self) -> Option<f64> {
        self.learn_meter.readings().integrated_lufs
    }

    /// Gain reduction of the dynamic modules during the last block.
    pub fn gain_reduction(&self) -> GainReduction {
        GainReduction {
            limiter_db: if self.limiter.is_active() {
                self.limiter.module.gain_reduction_db()
            } else {
                0.0
            },
            ..self.chain.gain_reduction()
        }
    }

    /// The settings in effect.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// Delay from input to output, in samples: the limiter's band limit
    /// and look-ahead, fixed for a sample rate. The host and the CLI
    /// compensate it.
    pub fn latency_samples(&self) -> u32 {
        self.limiter.latency_samples() as u32
    }

    /// Sample rate the engine was prepared for, in Hz.
    pub fn sample_rate_hz(&self) -> f32 {
        self.sample_rate_hz
    }

    /// Channel count the engine was prepared for.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Largest block processed in one pass, in samples per channel.
    pub fn max_block(&self) -> usize {
        self.max_block
    }

    /// Processes planar audio in place: one slice per channel, all of the
    /// same length. Channels beyond those prepared pass through untouched;
    /// blocks longer than the prepared maximum are processed in pieces.
    /// Never allocates.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let _ftz = FlushDenormals::enable();
        let used = channels.len().min(self.channels);
        let Some(frames) = channels.first().map(|channel| channel.len()) else {
            return;
        };
        if frames == 0 {
            return;
        }
        if self.settle_on_next_block {
            self.settle_on_next_block = false;
            self.snap_to_targets();
        }
        debug_assert!(
            channels.iter().all(|channel| channel.len() == frames),
            "all channels of a block have the same length"
        );
        let mut start = 0;
        while start < frames {
            let end = (start + self.max_block).min(frames);
            self.process_chunk(&mut channels[..used], start, end);
            start = end;
        }
        let mut output: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
        for (view, channel) in output.iter_mut().zip(channels.iter()) {
            *view = channel;
        }
        self.analyzer.process(&output[..used]);
        self.update_triage();
    }

    /// Feeds the live triage every second of features the analyzer finished
    /// since the last call (one evaluation per second of audio; no
    /// allocation).
    fn update_triage(&mut self) {
        if self.triage_seconds_read == self.analyzer.seconds_done() {
            return;
        }
        let context = self.triage_context();
        while self.triage_seconds_read < self.analyzer.seconds_done() {
            if let Some(second) = self.analyzer.second(self.triage_seconds_read) {
                let second = *second;
                self.triage.push(&second, &context);
            }
            self.triage_seconds_read += 1;
        }
    }

    /// What the triage judges against: the role, the delivery target (its
    /// loudness, and its ceiling, or the limiter's own ceiling for a custom
    /// target) and the integrated loudness measured so far.
    pub fn triage_context(&self) -> TriageContext {
        let settings = &self.settings;
        TriageContext {
            role: settings.role,
            target_lufs: settings.target_lufs(),
            ceiling_dbtp: settings
                .target
                .ceiling_dbtp()
                .unwrap_or(settings.limiter.ceiling_dbtp),
            integrated_lufs: self
                .analyzer
                .readings()
                .loudness
                .integrated_lufs
                .map(|lufs| lufs as f32),
            stereo: self.channels == 2,
            sample_rate_hz: self.sample_rate_hz,
        }
    }

    /// The live triage of the output.
    pub fn triage(&self) -> &LiveTriage {
        &self.triage
    }

    /// The live triage, to add findings judged outside the engine (the
    /// stem link's, on the master).
    pub fn triage_mut(&mut self) -> &mut LiveTriage {
        &mut self.triage
    }

    /// The meters on the output.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// The meters on the output, to reset them.
    pub fn analyzer_mut(&mut self) -> &mut Analyzer {
        &mut self.analyzer
    }

    /// Processes samples `start..end` of every channel; `end - start` is at
    /// most `max_block`.
    fn process_chunk(&mut self, channels: &mut [&mut [f32]], start: usize, end: usize) {
        let len = end - start;
        for (channel, dry) in channels.iter_mut().zip(&mut self.dry) {
            for (sample, dry) in channel[start..end].iter_mut().zip(&mut dry[..len]) {
                // A NaN or infinity would poison every recursive state it
                // reaches; replace it with silence at the door.
                if !sample.is_finite() {
                    *sample = 0.0;
                }
                *dry = *sample;
            }
        }
        for (dry, line) in self.dry.iter_mut().zip(&mut self.dry_delay) {
            line.process(&mut dry[..len]);
        }

        // Input trim, sample by sample, so ramps advance identically
        // whatever the block size.
        self.input_trim.apply(channels, start, end);

        match channels {
            [only] => self.chain.process(&mut [&mut only[start..end]]),
            [left, right] => self
                .chain
                .process(&mut [&mut left[start..end], &mut right[start..end]]),
            _ => {}
        }

        // Output trim, then the limiter, so its ceiling is the final level.
        self.output_trim.apply(channels, start, end);
        if self.learning {
            match channels {
                [only] => self.learn_meter.process(&[&only[start..end]]),
                [left, right] => self
                    .learn_meter
                    .process(&[&left[start..end], &right[start..end]]),
                _ => {}
            }
        }
        match channels {
            [only] => self.limiter.process(&mut [&mut only[start..end]]),
            [left, right] => self
                .limiter
                .process(&mut [&mut left[start..end], &mut right[start..end]]),
            _ => {}
        }

        // The A/B against the level-matched original, then the bypass
        // crossfade against the plain original; both delayed by the
        // latency so they line up with the processed signal.
        let used = channels.len().min(MAX_CHANNELS);
        let bypass_settled = self.bypass_mix.is_settled();
        let all_processed = bypass_settled
            && self.bypass_mix.value() == 0.0
            && self.compare_mix.is_settled()
            && self.compare_mix.value() == 0.0;
        let all_dry = bypass_settled && self.bypass_mix.value() == 1.0;
        if all_processed || all_dry {
            // Only the measurement runs, and the output is the processed
            // signal or, bypassed, the (delayed) original.
            match (&self.dry[..used], &*channels) {
                ([dry], [only]) => self
                    .loudness_match
                    .measure_block(&[&dry[..len]], &[&only[start..end]]),
                ([dry_left, dry_right], [left, right]) => self.loudness_match.measure_block(
                    &[&dry_left[..len], &dry_right[..len]],
                    &[&left[start..end], &right[start..end]],
                ),
                _ => {}
            }
            if all_dry {
                // The A/B switch keeps moving while bypassed.
                for _ in 0..len {
                    if self.compare_mix.is_settled() {
                        break;
                    }
                    self.compare_mix.advance();
                }
                for (channel, dry) in channels.iter_mut().zip(&self.dry) {
                    channel[start..end].copy_from_slice(&dry[..len]);
                }
            }
            return;
        }
        for i in 0..len {
            let mut original = [0.0f32; MAX_CHANNELS];
            let mut processed = [0.0f32; MAX_CHANNELS];
            for c in 0..used {
                original[c] = self.dry[c][i];
                processed[c] = channels[c][start + i];
            }
            self.loudness_match.measure(original, processed, used);
            let compare_share = self.compare_mix.advance();
            let dry_share = self.bypass_mix.advance();
            let matched = if compare_share > 0.0 {
                self.loudness_match.gain()
            } else {
                1.0
            };
            for c in 0..used {
                let compared =
                    processed[c] * (1.0 - compare_share) + original[c] * matched * compare_share;
                // Exact at both ends: all wet at 0, all dry at 1.
                channels[c][start + i] = compared * (1.0 - dry_share) + original[c] * dry_share;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(input_trim_db: f32, output_trim_db: f32, bypass: bool) -> EngineSettings {
        EngineSettings {
            input_trim_db,
            output_trim_db,
            bypass,
            ..EngineSettings::default()
        }
    }

    #[test]
    fn prepare_rejects_bad_configurations() {
        let mut engine = Engine::new();
        assert_eq!(
            engine.prepare(0.0, 64, 2),
            Err(PrepareError::SampleRate(0.0))
        );
        assert!(engine.prepare(f32::NAN, 64, 2).is_err());
        assert_eq!(
            engine.prepare(48_000.0, 64, 0),
            Err(PrepareError::Channels(0))
        );
        assert_eq!(
            engine.prepare(48_000.0, 64, 3),
            Err(PrepareError::Channels(3))
        );
        assert_eq!(engine.prepare(48_000.0, 0, 2), Err(PrepareError::MaxBlock));
    }

    #[test]
    fn settled_trims_multiply_exactly_after_the_latency() {
        let mut engine = Engine::new();
        engine.set_settings(&settings(-6.0, 3.0, false));
        engine.reset();
        let latency = engine.latency_samples() as usize;
        let mut left = vec![0.5f32; 256];
        let mut right = vec![-0.25f32; 256];
        engine.process(&mut [&mut left, &mut right]);
        let expected = |x: f32| x * db_to_gain(-6.0) * db_to_gain(3.0);
        // The limiter stage is off, so the signal is the trimmed input,
        // delayed by the engine's fixed latency.
        assert!(left[..latency].iter().all(|&x| x == 0.0));
        assert!(left[latency..].iter().all(|&x| x == expected(0.5)));
        assert!(right[latency..].iter().all(|&x| x == expected(-0.25)));
    }

    #[test]
    fn the_delivery_target_caps_the_limiter_ceiling() {
        let mut settings = EngineSettings::default();
        settings.limiter.ceiling_dbtp = -1.0;
        settings.target = DeliveryTarget::Amazon;
        assert_eq!(settings.effective_limiter().ceiling_dbtp, -2.0);
        settings.limiter.ceiling_dbtp = -3.0;
        assert_eq!(
            settings.effective_limiter().ceiling_dbtp,
            -3.0,
            "a stricter user ceiling stays"
        );
        settings.target = DeliveryTarget::Custom;
        settings.limiter.ceiling_dbtp = -0.5;
        assert_eq!(settings.effective_limiter().ceiling_dbtp, -0.5);
        settings.target_custom_lufs = -9.0;
        assert_eq!(settings.target_lufs(), -9.0);
    }

    #[test]
    fn learn_measures_the_loudness_entering_the_limiter() {
        let mut engine = Engine::new();
        let mut settings = settings(0.0, -4.0, false);
        settings.limiter_on = true;
        settings.limiter.drive_db = 12.0;
        engine.set_settings(&settings);
        engine.reset();
        engine.set_learning(true);
        // Stereo 1 kHz at −20 dBFS: −19.993 LUFS; the output trim (−4 dB)
        // comes before the limiter stage, its drive after the measurement.
        let amplitude = 10f32.powf(-20.0 / 20.0);
        let mut left: Vec<f32> = (0..48_000 * 4)
            .map(|n| amplitude * (std::f32::consts::TAU * 1000.0 * n as f32 / 48_000.0).sin())
            .collect();
        let mut right = left.clone();
        engine.process(&mut [&mut left, &mut right]);
        let learned = engine.learned_lufs().unwrap();
        assert!((learned + 23.993).abs() < 0.01, "{learned}");
        engine.set_learning(false);
        engine.set_learning(true);
        assert_eq!(engine.learned_lufs(), None, "a new Learn starts afresh");
    }

    #[test]
    fn non_finite_input_becomes_silence_and_leaves_no_trace() {
        let mut engine = Engine::new();
        let latency = engine.latency_samples() as usize;
        let mut block = vec![0.5f32; 4 + latency];
        block[..3].copy_from_slice(&[f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
        engine.process(&mut [&mut block]);
        assert_eq!(block[latency..], [0.0, 0.0, 0.0, 0.5]);
    }
}
