//! Every parameter of Stem Master, with its permanent ID, and the plain-data
//! view of them that the CLI and the engine use.
//!
//! Parameter IDs are part of every saved session and preset: never rename or
//! reuse one. `tests::parameter_list_snapshot` fails when the list changes.

/// Number of stem link groups (parameter `link_group`, 1-based).
pub const LINK_GROUPS: i32 = 16;

/// Version of the saved-state format, stored in every state as the field
/// `state_version`. 0: states saved before the format carried a version
/// (plugin 0.1.0 up to the stem link); same parameter IDs and units, read
/// as they are. 1: adds `state_version`.
pub const STATE_VERSION: u32 = 1;

use nice_plug::plugin::ParamValue;
use nice_plug::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::delivery::DeliveryTarget;
use crate::dsp::deharsh::DeharshParams;
use crate::dsp::glue::GlueParams;
use crate::dsp::limiter::LimiterParams;
use crate::dsp::low_end::LowEndParams;
use crate::dsp::punch::PunchParams;
use crate::dsp::tone::{LowCutSlope, ToneParams};
use crate::dsp::width::WidthParams;
use crate::engine::EngineSettings;
use crate::role::StemRole;

/// Range of both trims, in dB.
pub const TRIM_RANGE_DB: (f32, f32) = (-24.0, 24.0);

/// The plugin's parameters. Values are read by the audio thread at the start
/// of every (sub-)block and passed to the engine as [`EngineSettings`].
#[derive(Params)]
pub struct StemMasterParams {
    /// Gain before all processing, in dB.
    #[id = "in_gain"]
    pub input_trim: FloatParam,
    /// Gain after all processing, in dB.
    #[id = "out_gain"]
    pub output_trim: FloatParam,
    /// What this instance processes.
    #[id = "role"]
    pub role: EnumParam<StemRole>,
    /// Crossfades to the unprocessed signal; the host's bypass switch.
    #[id = "bypass"]
    pub bypass: BoolParam,
    /// Gain-matched A/B: plays the original at the processed loudness.
    #[id = "ab"]
    pub compare_original: BoolParam,
    /// Stem link group: instances with the same group see each other.
    #[id = "link_group"]
    pub link_group: IntParam,
    /// The name the stem link shows for this instance; empty for the
    /// role's name. Saved with the session; set from the editor.
    #[persist = "link_name"]
    pub link_name: Arc<std::sync::RwLock<String>>,
    /// The saved-state format ([`STATE_VERSION`]); restored states are
    /// migrated to it before they load ([`prepare_state`]).
    #[persist = "state_version"]
    pub state_version: Arc<AtomicU32>,
    /// Tone: low cut, shelves, tilt and bell.
    #[nested(group = "Tone")]
    pub tone: ToneControls,
    /// De-harsh dynamic band.
    #[nested(group = "De-harsh")]
    pub deharsh: DeharshControls,
    /// Low end: mono below the crossover and the low-band stabilizer.
    #[nested(group = "Low End")]
    pub low_end: LowEndControls,
    /// Glue compressor.
    #[nested(group = "Glue")]
    pub glue: GlueControls,
    /// Punch (transient shaper).
    #[nested(group = "Punch")]
    pub punch: PunchControls,
    /// Width and balance.
    #[nested(group = "Width")]
    pub width: WidthControls,
    /// True-peak limiter.
    #[nested(group = "Limiter")]
    pub limiter: LimiterControls,
    /// Delivery target.
    #[id = "target"]
    pub target: EnumParam<DeliveryTarget>,
    /// Loudness of the custom delivery target, LUFS.
    #[id = "target_lufs"]
    pub target_custom_lufs: FloatParam,
}

impl Default for StemMasterParams {
    fn default() -> Self {
        Self {
            input_trim: db_param("Input Trim", 0.0, TRIM_RANGE_DB.0, TRIM_RANGE_DB.1),
            output_trim: db_param("Output Trim", 0.0, TRIM_RANGE_DB.0, TRIM_RANGE_DB.1),
            role: EnumParam::new("Stem Role", StemRole::FullMix),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            compare_original: BoolParam::new("Compare Original", false),
            link_group: IntParam::new(
                "Link Group",
                1,
                IntRange::Linear {
                    min: 1,
                    max: LINK_GROUPS,
                },
            ),
            link_name: Arc::new(std::sync::RwLock::new(String::new())),
            state_version: Arc::new(AtomicU32::new(STATE_VERSION)),
            tone: ToneControls::default(),
            deharsh: DeharshControls::default(),
            low_end: LowEndControls::default(),
            glue: GlueControls::default(),
            punch: PunchControls::default(),
            width: WidthControls::default(),
            limiter: LimiterControls::default(),
            target: EnumParam::new("Delivery Target", DeliveryTarget::Spotify),
            target_custom_lufs: db_param("Custom Target", -14.0, -30.0, -5.0)
                .with_unit(" LUFS")
                .with_string_to_value(Arc::new(|text| parse_number(text, "lufs"))),
        }
    }
}

/// Tone controls; units as in [`ToneParams`].
#[derive(Params)]
pub struct ToneControls {
    /// Module on/off.
    #[id = "tone_on"]
    pub on: BoolParam,
    /// Low cut on/off.
    #[id = "lowcut_on"]
    pub low_cut: BoolParam,
    /// Low-cut corner, Hz.
    #[id = "lowcut_hz"]
    pub low_cut_hz: FloatParam,
    /// Low-cut slope.
    #[id = "lowcut_slope"]
    pub low_cut_slope: EnumParam<LowCutSlope>,
    /// Low-shelf corner, Hz.
    #[id = "lowshelf_hz"]
    pub low_shelf_hz: FloatParam,
    /// Low-shelf gain, dB.
    #[id = "lowshelf_db"]
    pub low_shelf_db: FloatParam,
    /// High-shelf corner, Hz.
    #[id = "highshelf_hz"]
    pub high_shelf_hz: FloatParam,
    /// High-shelf gain, dB.
    #[id = "highshelf_db"]
    pub high_shelf_db: FloatParam,
    /// Tilt around 1 kHz, dB (positive = brighter).
    #[id = "tilt_db"]
    pub tilt_db: FloatParam,
    /// Bell centre, Hz.
    #[id = "bell_hz"]
    pub bell_hz: FloatParam,
    /// Bell gain, dB.
    #[id = "bell_db"]
    pub bell_db: FloatParam,
    /// Bell Q.
    #[id = "bell_q"]
    pub bell_q: FloatParam,
}

impl Default for ToneControls {
    fn default() -> Self {
        let d = ToneParams::default();
        Self {
            on: BoolParam::new("Tone", false),
            low_cut: BoolParam::new("Low Cut", d.low_cut_enabled),
            low_cut_hz: hz_param("Low Cut Frequency", d.low_cut_hz, 20.0, 300.0),
            low_cut_slope: EnumParam::new("Low Cut Slope", d.low_cut_slope),
            low_shelf_hz: hz_param("Low Shelf Frequency", d.low_shelf_hz, 30.0, 500.0),
            low_shelf_db: db_param("Low Shelf Gain", d.low_shelf_db, -12.0, 12.0),
            high_shelf_hz: hz_param("High Shelf Frequency", d.high_shelf_hz, 2000.0, 16000.0),
            high_shelf_db: db_param("High Shelf Gain", d.high_shelf_db, -12.0, 12.0),
            tilt_db: db_param("Tilt", d.tilt_db, -6.0, 6.0),
            bell_hz: hz_param("Bell Frequency", d.bell_hz, 40.0, 16000.0),
            bell_db: db_param("Bell Gain", d.bell_db, -12.0, 12.0),
            bell_q: ratio_param("Bell Q", d.bell_q, 0.3, 8.0).with_unit(""),
        }
    }
}

impl Enum for LowCutSlope {
    fn variants() -> &'static [&'static str] {
        &["12 dB", "24 dB"]
    }

    fn ids() -> Option<&'static [&'static str]> {
        Some(&["12-db", "24-db"])
    }

    fn to_index(self) -> usize {
        match self {
            LowCutSlope::Db12 => 0,
            LowCutSlope::Db24 => 1,
        }
    }

    fn from_index(index: usize) -> Self {
        if index == 1 {
            LowCutSlope::Db24
        } else {
            LowCutSlope::Db12
        }
    }
}

/// De-harsh controls; units as in [`DeharshParams`].
#[derive(Params)]
pub struct DeharshControls {
    /// Module on/off.
    #[id = "dh_on"]
    pub on: BoolParam,
    /// Band centre, Hz.
    #[id = "dh_hz"]
    pub centre_hz: FloatParam,
    /// Band width, octaves.
    #[id = "dh_width"]
    pub width_octaves: FloatParam,
    /// Threshold: band level above the rest of the spectrum, dB.
    #[id = "dh_thresh"]
    pub threshold_db: FloatParam,
    /// Deepest cut, dB.
    #[id = "dh_max"]
    pub max_cut_db: FloatParam,
    /// Ratio.
    #[id = "dh_ratio"]
    pub ratio: FloatParam,
    /// Attack, ms.
    #[id = "dh_attack"]
    pub attack_ms: FloatParam,
    /// Release, ms.
    #[id = "dh_release"]
    pub release_ms: FloatParam,
}

impl Default for DeharshControls {
    fn default() -> Self {
        let d = DeharshParams::default();
        Self {
            on: BoolParam::new("De-harsh", false),
            centre_hz: hz_param("De-harsh Frequency", d.centre_hz, 1000.0, 10000.0),
            width_octaves: FloatParam::new(
                "De-harsh Width",
                d.width_octaves,
                FloatRange::Linear { min: 0.5, max: 3.0 },
            )
            .with_unit(" oct")
            .with_value_to_string(Arc::new(|value| format!("{value:.2}")))
            .with_string_to_value(Arc::new(|text| parse_number(text, "oct"))),
            threshold_db: db_param("De-harsh Threshold", d.threshold_db, -12.0, 12.0),
            max_cut_db: db_param("De-harsh Max Cut", d.max_cut_db, 0.0, 12.0),
            ratio: ratio_param("De-harsh Ratio", d.ratio, 1.0, 20.0),
            attack_ms: ms_param("De-harsh Attack", d.attack_ms, 0.5, 100.0),
            release_ms: ms_param("De-harsh Release", d.release_ms, 10.0, 1000.0),
        }
    }
}

/// Low-end controls; units as in [`LowEndParams`].
#[derive(Params)]
pub struct LowEndControls {
    /// Module on/off.
    #[id = "low_on"]
    pub on: BoolParam,
    /// Mono below the crossover.
    #[id = "mono_on"]
    pub mono_below: BoolParam,
    /// Crossover frequency, Hz.
    #[id = "xover_hz"]
    pub crossover_hz: FloatParam,
    /// Stabilizer on/off.
    #[id = "stab_on"]
    pub stabilizer: BoolParam,
    /// Stabilizer threshold, dBFS.
    #[id = "stab_thresh"]
    pub stabilizer_threshold_db: FloatParam,
    /// Stabilizer ratio.
    #[id = "stab_ratio"]
    pub stabilizer_ratio: FloatParam,
    /// Stabilizer attack, ms.
    #[id = "stab_attack"]
    pub stabilizer_attack_ms: FloatParam,
    /// Stabilizer release, ms.
    #[id = "stab_release"]
    pub stabilizer_release_ms: FloatParam,
}

impl Default for LowEndControls {
    fn default() -> Self {
        let d = LowEndParams::default();
        Self {
            on: BoolParam::new("Low End", false),
            mono_below: BoolParam::new("Mono Bass", d.mono_below_enabled),
            crossover_hz: hz_param("Crossover", d.crossover_hz, 40.0, 250.0),
            stabilizer: BoolParam::new("Stabilizer", d.stabilizer_enabled),
            stabilizer_threshold_db: db_param(
                "Stabilizer Threshold",
                d.stabilizer_threshold_db,
                -40.0,
                0.0,
            ),
            stabilizer_ratio: ratio_param("Stabilizer Ratio", d.stabilizer_ratio, 1.0, 8.0),
            stabilizer_attack_ms: ms_param("Stabilizer Attack", d.stabilizer_attack_ms, 5.0, 200.0),
            stabilizer_release_ms: ms_param(
                "Stabilizer Release",
                d.stabilizer_release_ms,
                20.0,
                2000.0,
            ),
        }
    }
}

/// Glue compressor controls; units as in [`GlueParams`].
#[derive(Params)]
pub struct GlueControls {
    /// Module on/off.
    #[id = "glue_on"]
    pub on: BoolParam,
    /// Threshold, dBFS.
    #[id = "glue_thresh"]
    pub threshold_db: FloatParam,
    /// Ratio.
    #[id = "glue_ratio"]
    pub ratio: FloatParam,
    /// Attack, ms.
    #[id = "glue_attack"]
    pub attack_ms: FloatParam,
    /// Release, ms.
    #[id = "glue_release"]
    pub release_ms: FloatParam,
    /// Knee width, dB.
    #[id = "glue_knee"]
    pub knee_db: FloatParam,
    /// Wet share, %.
    #[id = "glue_mix"]
    pub mix_percent: FloatParam,
    /// Sidechain high-pass corner, Hz.
    #[id = "glue_hpf"]
    pub sidechain_hpf_hz: FloatParam,
    /// Make-up gain, dB.
    #[id = "glue_makeup"]
    pub makeup_db: FloatParam,
}

impl Default for GlueControls {
    fn default() -> Self {
        let d = GlueParams::default();
        Self {
            on: BoolParam::new("Glue", false),
            threshold_db: db_param("Glue Threshold", d.threshold_db, -40.0, 0.0),
            ratio: ratio_param("Glue Ratio", d.ratio, 1.0, 10.0),
            attack_ms: ms_param("Glue Attack", d.attack_ms, 0.1, 100.0),
            release_ms: ms_param("Glue Release", d.release_ms, 10.0, 2000.0),
            knee_db: db_param("Glue Knee", d.knee_db, 0.0, 24.0),
            mix_percent: percent_param("Glue Mix", d.mix * 100.0, 0.0, 100.0),
            sidechain_hpf_hz: hz_param("Glue Sidechain HPF", d.sidechain_hpf_hz, 20.0, 300.0),
            makeup_db: db_param("Glue Makeup", d.makeup_db, 0.0, 24.0),
        }
    }
}

/// Punch controls; units as in [`PunchParams`].
#[derive(Params)]
pub struct PunchControls {
    /// Module on/off.
    #[id = "punch_on"]
    pub on: BoolParam,
    /// Transient emphasis, dB.
    #[id = "punch_attack"]
    pub attack_db: FloatParam,
    /// Sustain emphasis, dB.
    #[id = "punch_sustain"]
    pub sustain_db: FloatParam,
}

impl Default for PunchControls {
    fn default() -> Self {
        let d = PunchParams::default();
        Self {
            on: BoolParam::new("Punch", false),
            attack_db: db_param("Punch Attack", d.attack_db, -12.0, 12.0),
            sustain_db: db_param("Punch Sustain", d.sustain_db, -12.0, 12.0),
        }
    }
}

/// Width controls; units as in [`WidthParams`].
#[derive(Params)]
pub struct WidthControls {
    /// Module on/off.
    #[id = "width_on"]
    pub on: BoolParam,
    /// Side gain, % (100 = unchanged).
    #[id = "width"]
    pub side_gain_percent: FloatParam,
    /// Balance, % (−100 = left only, +100 = right only).
    #[id = "balance"]
    pub balance_percent: FloatParam,
}

impl Default for WidthControls {
    fn default() -> Self {
        let d = WidthParams::default();
        Self {
            on: BoolParam::new("Width", false),
            side_gain_percent: percent_param("Stereo Width", d.side_gain_percent, 0.0, 200.0),
            balance_percent: percent_param("Balance", d.balance * 100.0, -100.0, 100.0),
        }
    }
}

/// Limiter controls; units as in [`LimiterParams`].
#[derive(Params)]
pub struct LimiterControls {
    /// Module on/off.
    #[id = "lim_on"]
    pub on: BoolParam,
    /// Gain into the limiter, dB.
    #[id = "lim_drive"]
    pub drive_db: FloatParam,
    /// Output ceiling, dBTP.
    #[id = "lim_ceiling"]
    pub ceiling_dbtp: FloatParam,
    /// Release, ms.
    #[id = "lim_release"]
    pub release_ms: FloatParam,
}

impl Default for LimiterControls {
    fn default() -> Self {
        let d = LimiterParams::default();
        Self {
            on: BoolParam::new("Limiter", false),
            drive_db: db_param("Limiter Drive", d.drive_db, 0.0, 24.0),
            ceiling_dbtp: db_param("Limiter Ceiling", d.ceiling_dbtp, -3.0, -0.1)
                .with_unit(" dBTP")
                .with_string_to_value(Arc::new(|text| parse_number(text, "dbtp"))),
            release_ms: ms_param("Limiter Release", d.release_ms, 10.0, 1000.0),
        }
    }
}

/// A linear parameter in dB, continuous (hosts see no steps, so any value a
/// host sends is used as is), shown with 0.01 dB resolution.
fn db_param(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min, max })
        .with_unit(" dB")
        .with_value_to_string(Arc::new(|value| format!("{value:.2}")))
        .with_string_to_value(Arc::new(|text| parse_number(text, "db")))
}

/// A frequency in Hz on a logarithmic-feeling (skewed) range.
fn hz_param(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-1.0),
        },
    )
    .with_unit(" Hz")
    .with_value_to_string(Arc::new(|value| format!("{value:.1}")))
    .with_string_to_value(Arc::new(|text| parse_number(text, "hz")))
}

/// A time in ms on a skewed range.
fn ms_param(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-1.5),
        },
    )
    .with_unit(" ms")
    .with_value_to_string(Arc::new(|value| format!("{value:.1}")))
    .with_string_to_value(Arc::new(|text| parse_number(text, "ms")))
}

/// A compression ratio (x:1) on a skewed range.
fn ratio_param(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-1.0),
        },
    )
    .with_unit(":1")
    .with_value_to_string(Arc::new(|value| format!("{value:.2}")))
    .with_string_to_value(Arc::new(|text| parse_number(text, ":1")))
}

/// A percentage on a linear range.
fn percent_param(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min, max })
        .with_unit(" %")
        .with_value_to_string(Arc::new(|value| format!("{value:.1}")))
        .with_string_to_value(Arc::new(|text| parse_number(text, "%")))
}

/// A float parameter's value as the engine may use it: finite and within
/// its range. A host or a state can deliver NaN or out-of-range values
/// (wrappers pass normalized values through unchecked); those never reach
/// the DSP: NaN becomes the default, anything else is clamped.
pub fn checked(param: &FloatParam) -> f32 {
    let value = param.value();
    let (a, b) = (param.preview_plain(0.0), param.preview_plain(1.0));
    if value.is_finite() {
        value.clamp(a.min(b), a.max(b))
    } else {
        param.default_plain_value()
    }
}

impl StemMasterParams {
    /// The stem link group, 1..=[`LINK_GROUPS`] whatever the host or a
    /// state delivered.
    pub fn link_group_checked(&self) -> u32 {
        self.link_group.value().clamp(1, LINK_GROUPS) as u32
    }

    /// The engine's view of the current parameter values.
    #[inline]
    pub fn engine_settings(&self) -> EngineSettings {
        let tone = &self.tone;
        let deharsh = &self.deharsh;
        let low = &self.low_end;
        let glue = &self.glue;
        EngineSettings {
            input_trim_db: checked(&self.input_trim),
            output_trim_db: checked(&self.output_trim),
            role: self.role.value(),
            bypass: self.bypass.value(),
            compare_original: self.compare_original.value(),
            tone_on: tone.on.value(),
            tone: ToneParams {
                low_cut_enabled: tone.low_cut.value(),
                low_cut_hz: checked(&tone.low_cut_hz),
                low_cut_slope: tone.low_cut_slope.value(),
                low_shelf_hz: checked(&tone.low_shelf_hz),
                low_shelf_db: checked(&tone.low_shelf_db),
                high_shelf_hz: checked(&tone.high_shelf_hz),
                high_shelf_db: checked(&tone.high_shelf_db),
                tilt_db: checked(&tone.tilt_db),
                bell_hz: checked(&tone.bell_hz),
                bell_db: checked(&tone.bell_db),
                bell_q: checked(&tone.bell_q),
            },
            deharsh_on: deharsh.on.value(),
            deharsh: DeharshParams {
                centre_hz: checked(&deharsh.centre_hz),
                width_octaves: checked(&deharsh.width_octaves),
                threshold_db: checked(&deharsh.threshold_db),
                max_cut_db: checked(&deharsh.max_cut_db),
                ratio: checked(&deharsh.ratio),
                attack_ms: checked(&deharsh.attack_ms),
                release_ms: checked(&deharsh.release_ms),
            },
            low_end_on: low.on.value(),
            low_end: LowEndParams {
                mono_below_enabled: low.mono_below.value(),
                crossover_hz: checked(&low.crossover_hz),
                stabilizer_enabled: low.stabilizer.value(),
                stabilizer_threshold_db: checked(&low.stabilizer_threshold_db),
                stabilizer_ratio: checked(&low.stabilizer_ratio),
                stabilizer_attack_ms: checked(&low.stabilizer_attack_ms),
                stabilizer_release_ms: checked(&low.stabilizer_release_ms),
            },
            glue_on: glue.on.value(),
            glue: GlueParams {
                threshold_db: checked(&glue.threshold_db),
                ratio: checked(&glue.ratio),
                attack_ms: checked(&glue.attack_ms),
                release_ms: checked(&glue.release_ms),
                knee_db: checked(&glue.knee_db),
                mix: checked(&glue.mix_percent) / 100.0,
                sidechain_hpf_hz: checked(&glue.sidechain_hpf_hz),
                makeup_db: checked(&glue.makeup_db),
            },
            punch_on: self.punch.on.value(),
            punch: PunchParams {
                attack_db: checked(&self.punch.attack_db),
                sustain_db: checked(&self.punch.sustain_db),
            },
            width_on: self.width.on.value(),
            width: WidthParams {
                side_gain_percent: checked(&self.width.side_gain_percent),
                balance: checked(&self.width.balance_percent) / 100.0,
            },
            limiter_on: self.limiter.on.value(),
            limiter: LimiterParams {
                drive_db: checked(&self.limiter.drive_db),
                ceiling_dbtp: checked(&self.limiter.ceiling_dbtp),
                release_ms: checked(&self.limiter.release_ms),
            },
            target: self.target.value(),
            target_custom_lufs: checked(&self.target_custom_lufs),
        }
    }
}

/// Implements the plugin framework's `Enum` for a plain choice type with
/// `ALL` (parameter order), `id()` (permanent machine names, saved in
/// state) and `display_name()`.
macro_rules! choice_enum {
    ($choice:ty, $count:literal) => {
        impl Enum for $choice {
            fn variants() -> &'static [&'static str] {
                const NAMES: [&str; $count] = {
                    let mut names = [""; $count];
                    let mut i = 0;
                    while i < $count {
                        names[i] = <$choice>::ALL[i].display_name();
                        i += 1;
                    }
                    names
                };
                &NAMES
            }

            fn ids() -> Option<&'static [&'static str]> {
                const IDS: [&str; $count] = {
                    let mut ids = [""; $count];
                    let mut i = 0;
                    while i < $count {
                        ids[i] = <$choice>::ALL[i].id();
                        i += 1;
                    }
                    ids
                };
                Some(&IDS)
            }

            fn to_index(self) -> usize {
                <$choice>::ALL
                    .iter()
                    .position(|&choice| choice == self)
                    .unwrap_or(0)
            }

            fn from_index(index: usize) -> Self {
                <$choice>::ALL.get(index).copied().unwrap_or_default()
            }
        }
    };
}

choice_enum!(StemRole, 7);
choice_enum!(DeliveryTarget, 8);

/// Parses a number with an optional unit suffix (compared without case) and
/// accepts the Unicode minus sign.
fn parse_number(text: &str, unit: &str) -> Option<f32> {
    let text = text.trim().replace('\u{2212}', "-");
    let lower = text.to_ascii_lowercase();
    let number = lower.strip_suffix(unit).unwrap_or(&lower).trim();
    number.parse::<f32>().ok().filter(|value| value.is_finite())
}

/// What kind of value a parameter takes, for listing and parsing outside a host.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    /// A continuous value between `min` and `max` in `unit` (may be empty).
    Float {
        /// Lowest value, in `unit`.
        min: f32,
        /// Highest value, in `unit`.
        max: f32,
        /// Unit name without leading space, e.g. "dB".
        unit: String,
    },
    /// One of a fixed list of choices, by their machine names.
    Choice(Vec<String>),
    /// On or off.
    Toggle,
}

/// A parameter described in plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDescription {
    /// Permanent ID.
    pub id: String,
    /// Name shown in hosts.
    pub name: String,
    /// Value type and range.
    pub kind: ParamKind,
    /// Default value as text (a machine name for choices, "on"/"off" for toggles).
    pub default: String,
}

fn round_to_1e4(x: f32) -> f32 {
    (x * 1e4).round() / 1e4
}

/// Machine name for a display name: lower case, spaces as hyphens.
fn machine_name(display: &str) -> String {
    display.trim().to_lowercase().replace(' ', "-")
}

impl ParamDescription {
    fn of(id: &str, param: &ParamPtr) -> Self {
        // SAFETY: `param` comes from `param_map()` of a params object that the
        // caller keeps alive for the duration of this call.
        unsafe {
            let name = param.name().to_string();
            let default_normalized = param.default_normalized_value();
            let (kind, default) = match param {
                ParamPtr::FloatParam(_) | ParamPtr::IntParam(_) => (
                    ParamKind::Float {
                        // Rounded to 1e-4 in the parameter's unit: the
                        // range ends pass through f32 normalisation.
                        min: round_to_1e4(param.preview_plain(0.0)),
                        max: round_to_1e4(param.preview_plain(1.0)),
                        unit: param.unit().trim().to_string(),
                    },
                    param.normalized_value_to_string(default_normalized, false),
                ),
                ParamPtr::BoolParam(_) => (
                    ParamKind::Toggle,
                    if default_normalized >= 0.5 {
                        "on"
                    } else {
                        "off"
                    }
                    .to_string(),
                ),
                ParamPtr::EnumParam(_) => {
                    let last = param.step_count().unwrap_or(0);
                    let choices = (0..=last)
                        .map(|step| {
                            let normalized = if last == 0 {
                                0.0
                            } else {
                                step as f32 / last as f32
                            };
                            machine_name(&param.normalized_value_to_string(normalized, false))
                        })
                        .collect();
                    (
                        ParamKind::Choice(choices),
                        machine_name(&param.normalized_value_to_string(default_normalized, false)),
                    )
                }
            };
            Self {
                id: id.to_string(),
                name,
                kind,
                default,
            }
        }
    }

    /// Parses `text` for this parameter into a normalized value (0..1), or
    /// says why it cannot.
    fn parse_normalized(&self, param: &ParamPtr, text: &str) -> Result<f32, String> {
        match &self.kind {
            ParamKind::Float { min, max, unit } => {
                let value = parse_number(text, &unit.to_ascii_lowercase())
                    .ok_or_else(|| format!("{}: '{text}' is not a number", self.id))?;
                if value < *min || value > *max {
                    return Err(format!(
                        "{}: {value} is outside {min} to {max} {unit}",
                        self.id
                    ));
                }
                // SAFETY: as in `of`.
                Ok(unsafe { param.preview_normalized(value) })
            }
            ParamKind::Toggle => match text.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "1" | "yes" => Ok(1.0),
                "off" | "false" | "0" | "no" => Ok(0.0),
                _ => Err(format!("{}: '{text}' is not on or off", self.id)),
            },
            ParamKind::Choice(choices) => {
                let wanted = machine_name(text);
                let index = choices
                    .iter()
                    .position(|choice| *choice == wanted)
                    .ok_or_else(|| {
                        format!("{}: '{text}' is not one of {}", self.id, choices.join(", "))
                    })?;
                let last = choices.len().saturating_sub(1).max(1);
                Ok(index as f32 / last as f32)
            }
        }
    }
}

/// Describes every parameter, in declaration order.
pub fn describe(params: &StemMasterParams) -> Vec<ParamDescription> {
    params
        .param_map()
        .iter()
        .map(|(id, param, _group)| ParamDescription::of(id, param))
        .collect()
}

/// Finds parameter `id` and parses `text` for it into a normalized value
/// (0..1), or says why it cannot.
pub fn normalized_from_text(
    params: &StemMasterParams,
    id: &str,
    text: &str,
) -> Result<(ParamPtr, f32), String> {
    let map = params.param_map();
    let (_, param, _) = map
        .iter()
        .find(|(known, _, _)| known == id)
        .ok_or_else(|| {
            let ids: Vec<&str> = map.iter().map(|(known, _, _)| known.as_str()).collect();
            format!("unknown parameter '{id}' (known: {})", ids.join(", "))
        })?;
    let normalized = ParamDescription::of(id, param).parse_normalized(param, text)?;
    Ok((*param, normalized))
}

/// Sets parameter `id` from text, as the CLI's `--set ID=VALUE` does. Values
/// go through the same normalization and rounding a host applies, so the CLI
/// and a host produce identical settings. Call only where no audio thread
/// reads `params` (offline use).
pub fn set_from_text(params: &StemMasterParams, id: &str, text: &str) -> Result<(), String> {
    let (param, normalized) = normalized_from_text(params, id, text)?;
    // SAFETY: `param` points into `params`, alive for this call; offline use
    // means no other thread reads the value while it changes.
    unsafe {
        param._internal_set_normalized_value(normalized);
    }
    Ok(())
}

/// Parameters a role's starting point leaves alone: levels, the role itself,
/// the host bypass, the A/B switch and the delivery target.
const OUTSIDE_STARTING_POINTS: [&str; 7] = [
    "in_gain",
    "out_gain",
    "role",
    "bypass",
    "ab",
    "target",
    "target_lufs",
];

/// What each role changes from the modules' defaults (docs/roles.md explains
/// why). Values are text, as `--set` takes them.
fn role_changes(role: StemRole) -> &'static [(&'static str, &'static str)] {
    match role {
        StemRole::Drums => &[
            ("tone_on", "on"),
            ("lowcut_on", "on"),
            ("lowcut_hz", "30"),
            ("punch_on", "on"),
            ("punch_attack", "3"),
            ("glue_on", "on"),
            ("glue_thresh", "-18"),
            ("glue_ratio", "2"),
            ("glue_attack", "30"),
            ("glue_release", "150"),
        ],
        StemRole::Bass => &[
            ("tone_on", "on"),
            ("lowcut_on", "on"),
            ("lowcut_hz", "30"),
            ("lowcut_slope", "24-db"),
            ("low_on", "on"),
            ("mono_on", "on"),
            ("xover_hz", "120"),
            ("stab_on", "on"),
        ],
        StemRole::Vocals => &[
            ("tone_on", "on"),
            ("lowcut_on", "on"),
            ("lowcut_hz", "80"),
            ("dh_on", "on"),
            ("glue_on", "on"),
            ("glue_thresh", "-20"),
            ("glue_ratio", "2"),
            ("glue_attack", "10"),
            ("glue_release", "150"),
        ],
        StemRole::BackingVocals => &[
            ("tone_on", "on"),
            ("lowcut_on", "on"),
            ("lowcut_hz", "120"),
            ("dh_on", "on"),
            ("width_on", "on"),
            ("width", "120"),
        ],
        StemRole::Music => &[
            ("tone_on", "on"),
            ("lowcut_on", "on"),
            ("lowcut_hz", "30"),
            ("low_on", "on"),
            ("mono_on", "on"),
            ("xover_hz", "100"),
            ("glue_on", "on"),
            ("glue_ratio", "1.5"),
            ("glue_thresh", "-20"),
        ],
        StemRole::Effects => &[
            ("tone_on", "on"),
            ("lowcut_on", "on"),
            ("lowcut_hz", "150"),
            ("width_on", "on"),
            ("width", "120"),
        ],
        StemRole::FullMix => &[
            ("glue_on", "on"),
            ("glue_thresh", "-18"),
            ("glue_ratio", "2"),
            ("glue_attack", "30"),
            ("glue_release", "200"),
            ("lim_on", "on"),
            ("lim_ceiling", "-1"),
        ],
    }
}

/// The starting point of a role: every module parameter at its default,
/// then the role's changes, as (parameter ID, value text) in the order to
/// apply them. Applied once when the user picks a role (in the editor or
/// with `--role`); later edits and host automation are never overridden.
pub fn role_starting_point(role: StemRole) -> Vec<(String, String)> {
    let defaults = describe(&StemMasterParams::default())
        .into_iter()
        .filter(|d| !OUTSIDE_STARTING_POINTS.contains(&d.id.as_str()))
        .map(|d| (d.id, d.default));
    let changes = role_changes(role)
        .iter()
        .map(|(id, value)| (id.to_string(), value.to_string()));
    let mut point: Vec<(String, String)> = Vec::new();
    for (id, value) in defaults.chain(changes) {
        match point.iter_mut().find(|(known, _)| *known == id) {
            Some(entry) => entry.1 = value,
            None => point.push((id, value)),
        }
    }
    point
}

/// What preparing a saved state for loading did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLoad {
    /// Saved in the current format.
    Current,
    /// Saved in an older format, now migrated.
    Migrated {
        /// The format it was saved in.
        from: u32,
    },
    /// Not readable by this version; replaced by the defaults.
    Rejected {
        /// Why, in one line.
        reason: String,
    },
}

/// Prepares a saved `state` for loading: states of older formats are
/// migrated; a state of a newer format, or whose version field is not a
/// number, is replaced by the defaults (every parameter and field), so
/// nothing half-understood reaches the engine. Called by the wrappers
/// before every load (`Plugin::filter_state`). Parameters the state lacks
/// keep their current values (a new instance's defaults), values of the
/// wrong type are skipped by the wrapper; values out of range are clamped
/// where they are used ([`checked`], [`StemMasterParams::link_group_checked`]).
pub fn prepare_state(state: &mut PluginState) -> StateLoad {
    let version = match state.fields.get("state_version") {
        None => Ok(0),
        Some(text) => text
            .trim()
            .parse::<u32>()
            .map_err(|_| format!("state version {text:?} is not a number")),
    };
    let result = match version {
        Ok(STATE_VERSION) => StateLoad::Current,
        Ok(from) if from < STATE_VERSION => StateLoad::Migrated { from },
        Ok(newer) => StateLoad::Rejected {
            reason: format!(
                "the state was saved in format {newer} by a newer Stem Master; this version \
                 reads formats up to {STATE_VERSION}"
            ),
        },
        Err(reason) => StateLoad::Rejected { reason },
    };
    match &result {
        StateLoad::Current => {}
        // Format 0 has the same parameter IDs and units: only the version
        // is added.
        StateLoad::Migrated { .. } => {}
        StateLoad::Rejected { .. } => *state = default_state(),
    }
    state
        .fields
        .insert("state_version".to_string(), STATE_VERSION.to_string());
    result
}

/// The state of a new instance: every parameter at its default, empty
/// link name, the current format.
pub fn default_state() -> PluginState {
    let params = StemMasterParams::default();
    let values = params
        .param_map()
        .into_iter()
        .map(|(id, param, _)| {
            // SAFETY: `param` points into `params`, alive for this call.
            // The plain defaults exactly as the parameters hold them, so a
            // load sets the same normalized values a new instance has.
            let value = unsafe {
                match param {
                    ParamPtr::FloatParam(p) => ParamValue::F32((*p).default_plain_value()),
                    ParamPtr::IntParam(p) => ParamValue::I32((*p).default_plain_value()),
                    ParamPtr::EnumParam(p) => ParamValue::I32((*p).default_plain_value()),
                    ParamPtr::BoolParam(p) => ParamValue::Bool((*p).default_plain_value()),
                }
            };
            (id, value)
        })
        .collect();
    let mut fields = params.serialize_fields();
    fields.insert("state_version".to_string(), STATE_VERSION.to_string());
    PluginState {
        version: env!("CARGO_PKG_VERSION").to_string(),
        params: values,
        fields,
    }
}

/// The saved-state format an instance's parameters carry.
pub fn state_version(params: &StemMasterParams) -> u32 {
    params.state_version.load(Ordering::Relaxed)
}

#[cfg(test)]
mod state_tests {
    use super::*;

    /// A state saved by the plugin before the format had a version (0.1.0,
    /// through a VST3 host): role Backing Vocals, input trim −3.25 dB,
    /// output trim +1.5 dB, link group 3, glue on at ratio 3, limiter on.
    const UNVERSIONED: &str = include_str!("../tests/fixtures/state-0.1.0-unversioned.json");

    fn parse(text: &str) -> PluginState {
        serde_json::from_str(text).expect("the fixture is a state")
    }

    /// Parameter values as JSON, to compare them (`ParamValue` has no
    /// equality).
    fn json(params: &std::collections::BTreeMap<String, ParamValue>) -> serde_json::Value {
        serde_json::to_value(params).unwrap()
    }

    fn value<'a>(state: &'a PluginState, id: &str) -> &'a ParamValue {
        state
            .params
            .get(id)
            .unwrap_or_else(|| panic!("{id} missing"))
    }

    #[test]
    fn an_unversioned_state_migrates_with_every_value_kept() {
        let mut state = parse(UNVERSIONED);
        let before = json(&state.params);
        assert_eq!(prepare_state(&mut state), StateLoad::Migrated { from: 0 });
        assert_eq!(
            json(&state.params),
            before,
            "format 0 needs no value changes"
        );
        assert_eq!(state.fields["state_version"], STATE_VERSION.to_string());
        assert!(matches!(value(&state, "in_gain"), ParamValue::F32(x) if *x == -3.25));
        assert!(matches!(value(&state, "role"), ParamValue::String(r) if r == "backing-vocals"));
        assert!(matches!(value(&state, "link_group"), ParamValue::I32(3)));
        // And a second preparation sees the current format.
        assert_eq!(prepare_state(&mut state), StateLoad::Current);
    }

    #[test]
    fn a_newer_or_unreadable_format_loads_the_defaults() {
        for version in ["2", "99", "\"one\"", "-1", ""] {
            let mut state = parse(UNVERSIONED);
            state.fields.insert("state_version".into(), version.into());
            let result = prepare_state(&mut state);
            assert!(
                matches!(result, StateLoad::Rejected { .. }),
                "{version}: {result:?}"
            );
            let defaults = default_state();
            assert_eq!(json(&state.params), json(&defaults.params), "{version}");
            assert_eq!(state.fields, defaults.fields, "{version}");
        }
    }

    /// The defaults state names every parameter, at the value a new
    /// instance has.
    #[test]
    fn the_default_state_is_a_new_instance() {
        let state = default_state();
        let params = StemMasterParams::default();
        assert_eq!(state.params.len(), params.param_map().len());
        assert!(matches!(value(&state, "in_gain"), ParamValue::F32(x) if *x == 0.0));
        assert!(matches!(value(&state, "link_group"), ParamValue::I32(1)));
        assert!(matches!(value(&state, "bypass"), ParamValue::Bool(false)));
        assert_eq!(state_version(&params), STATE_VERSION);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(description: &ParamDescription) -> String {
        let kind = match &description.kind {
            ParamKind::Float { min, max, unit } => format!("float {min}..{max} {unit}"),
            ParamKind::Choice(choices) => format!("choice {}", choices.join("|")),
            ParamKind::Toggle => "toggle".to_string(),
        };
        format!(
            "{} | {} | {} | default {}",
            description.id, description.name, kind, description.default
        )
    }

    /// The permanent parameter list. Saved sessions and host automation refer
    /// to these IDs: a change here breaks users' projects. Add, never rename.
    #[test]
    fn parameter_list_snapshot() {
        let rows: Vec<String> = describe(&StemMasterParams::default())
            .iter()
            .map(row)
            .collect();
        assert_eq!(
            rows,
            [
                "in_gain | Input Trim | float -24..24 dB | default 0.00",
                "out_gain | Output Trim | float -24..24 dB | default 0.00",
                "role | Stem Role | choice drums|bass|vocals|backing-vocals|music|effects|full-mix | default full-mix",
                "bypass | Bypass | toggle | default off",
                "ab | Compare Original | toggle | default off",
            "link_group | Link Group | float 1..16  | default 1",
                "tone_on | Tone | toggle | default off",
                "lowcut_on | Low Cut | toggle | default off",
                "lowcut_hz | Low Cut Frequency | float 20..300 Hz | default 30.0",
                "lowcut_slope | Low Cut Slope | choice 12-db|24-db | default 12-db",
                "lowshelf_hz | Low Shelf Frequency | float 30..500 Hz | default 100.0",
                "lowshelf_db | Low Shelf Gain | float -12..12 dB | default 0.00",
                "highshelf_hz | High Shelf Frequency | float 2000..16000 Hz | default 8000.0",
                "highshelf_db | High Shelf Gain | float -12..12 dB | default 0.00",
                "tilt_db | Tilt | float -6..6 dB | default 0.00",
                "bell_hz | Bell Frequency | float 40..16000 Hz | default 1000.0",
                "bell_db | Bell Gain | float -12..12 dB | default 0.00",
                "bell_q | Bell Q | float 0.3..8  | default 1.00",
                "dh_on | De-harsh | toggle | default off",
                "dh_hz | De-harsh Frequency | float 1000..10000 Hz | default 3200.0",
                "dh_width | De-harsh Width | float 0.5..3 oct | default 1.30",
                "dh_thresh | De-harsh Threshold | float -12..12 dB | default 3.00",
                "dh_max | De-harsh Max Cut | float 0..12 dB | default 6.00",
                "dh_ratio | De-harsh Ratio | float 1..20 :1 | default 4.00",
                "dh_attack | De-harsh Attack | float 0.5..100 ms | default 5.0",
                "dh_release | De-harsh Release | float 10..1000 ms | default 80.0",
                "low_on | Low End | toggle | default off",
                "mono_on | Mono Bass | toggle | default off",
                "xover_hz | Crossover | float 40..250 Hz | default 120.0",
                "stab_on | Stabilizer | toggle | default off",
                "stab_thresh | Stabilizer Threshold | float -40..0 dB | default -18.00",
                "stab_ratio | Stabilizer Ratio | float 1..8 :1 | default 3.00",
                "stab_attack | Stabilizer Attack | float 5..200 ms | default 30.0",
                "stab_release | Stabilizer Release | float 20..2000 ms | default 250.0",
                "glue_on | Glue | toggle | default off",
                "glue_thresh | Glue Threshold | float -40..0 dB | default -18.00",
                "glue_ratio | Glue Ratio | float 1..10 :1 | default 2.00",
                "glue_attack | Glue Attack | float 0.1..100 ms | default 10.0",
                "glue_release | Glue Release | float 10..2000 ms | default 200.0",
                "glue_knee | Glue Knee | float 0..24 dB | default 6.00",
                "glue_mix | Glue Mix | float 0..100 % | default 100.0",
                "glue_hpf | Glue Sidechain HPF | float 20..300 Hz | default 60.0",
                "glue_makeup | Glue Makeup | float 0..24 dB | default 0.00",
                "punch_on | Punch | toggle | default off",
                "punch_attack | Punch Attack | float -12..12 dB | default 0.00",
                "punch_sustain | Punch Sustain | float -12..12 dB | default 0.00",
                "width_on | Width | toggle | default off",
                "width | Stereo Width | float 0..200 % | default 100.0",
                "balance | Balance | float -100..100 % | default 0.0",
                "lim_on | Limiter | toggle | default off",
                "lim_drive | Limiter Drive | float 0..24 dB | default 0.00",
                "lim_ceiling | Limiter Ceiling | float -3..-0.1 dBTP | default -1.00",
                "lim_release | Limiter Release | float 10..1000 ms | default 100.0",
                "target | Delivery Target | choice spotify|apple|youtube|amazon|deezer|aes|ebu|custom | default spotify",
                "target_lufs | Custom Target | float -30..-5 LUFS | default -14.00",
            ]
        );
    }

    #[test]
    fn target_choices_are_the_target_ids() {
        let descriptions = describe(&StemMasterParams::default());
        let target = descriptions.iter().find(|d| d.id == "target").unwrap();
        let ids: Vec<String> = DeliveryTarget::ALL
            .iter()
            .map(|t| t.id().to_string())
            .collect();
        assert_eq!(target.kind, ParamKind::Choice(ids));
    }

    #[test]
    fn role_choices_are_the_role_ids() {
        let descriptions = describe(&StemMasterParams::default());
        let role = descriptions.iter().find(|d| d.id == "role").unwrap();
        let ids: Vec<String> = StemRole::ALL.iter().map(|r| r.id().to_string()).collect();
        assert_eq!(role.kind, ParamKind::Choice(ids));
    }

    #[test]
    fn set_from_text_reaches_engine_settings() {
        let params = StemMasterParams::default();
        set_from_text(&params, "in_gain", "-6").unwrap();
        set_from_text(&params, "out_gain", "+1.5 dB").unwrap();
        set_from_text(&params, "role", "Backing Vocals").unwrap();
        set_from_text(&params, "bypass", "on").unwrap();
        let settings = params.engine_settings();
        assert_eq!(settings.input_trim_db, -6.0);
        assert_eq!(settings.output_trim_db, 1.5);
        assert_eq!(settings.role, StemRole::BackingVocals);
        assert!(settings.bypass);
        for role in StemRole::ALL {
            set_from_text(&params, "role", role.id()).unwrap();
            assert_eq!(params.engine_settings().role, role);
        }
    }

    #[test]
    fn every_role_starting_point_applies_and_resets_the_rest() {
        for role in StemRole::ALL {
            let params = StemMasterParams::default();
            // Leave something non-default behind: a starting point resets it.
            set_from_text(&params, "punch_sustain", "5").unwrap();
            set_from_text(&params, "in_gain", "-3").unwrap();
            for (id, value) in role_starting_point(role) {
                set_from_text(&params, &id, &value)
                    .unwrap_or_else(|e| panic!("{}: {e}", role.id()));
            }
            let settings = params.engine_settings();
            assert_eq!(settings.punch.sustain_db, 0.0, "{}", role.id());
            assert_eq!(settings.input_trim_db, -3.0, "levels are left alone");
            match role {
                StemRole::Bass => {
                    assert!(settings.low_end_on && settings.low_end.mono_below_enabled);
                    assert!(settings.low_end.stabilizer_enabled);
                    // Skewed ranges round-trip through f32 normalisation.
                    assert!((settings.low_end.crossover_hz - 120.0).abs() < 1e-3);
                }
                StemRole::Vocals => {
                    assert!(settings.deharsh_on && settings.tone.low_cut_enabled);
                    assert!((settings.tone.low_cut_hz - 80.0).abs() < 1e-3);
                }
                StemRole::FullMix => {
                    assert!(settings.glue_on && settings.limiter_on);
                    assert!((settings.limiter.ceiling_dbtp + 1.0).abs() < 1e-5);
                }
                StemRole::Drums => assert!(settings.punch_on && settings.glue_on),
                _ => {}
            }
        }
    }

    #[test]
    fn set_from_text_rejects_bad_values_with_reasons() {
        let params = StemMasterParams::default();
        let error = set_from_text(&params, "in_gain", "30").unwrap_err();
        assert!(error.contains("outside"), "{error}");
        assert!(set_from_text(&params, "in_gain", "loud").is_err());
        assert!(set_from_text(&params, "in_gain", "NaN").is_err());
        assert!(set_from_text(&params, "role", "guitar").is_err());
        assert!(set_from_text(&params, "bypass", "maybe").is_err());
        let error = set_from_text(&params, "volume", "1").unwrap_err();
        assert!(error.contains("in_gain"), "{error}");
        assert_eq!(params.engine_settings(), EngineSettings::default());
    }
}
