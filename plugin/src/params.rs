//! Every parameter of Stem Master, with its permanent ID, and the plain-data
//! view of them that the CLI and the engine use.
//!
//! Parameter IDs are part of every saved session and preset: never rename or
//! reuse one. `tests::parameter_list_snapshot` fails when the list changes.

use nice_plug::prelude::*;
use std::sync::Arc;

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
}

impl Default for StemMasterParams {
    fn default() -> Self {
        Self {
            input_trim: trim_param("Input Trim"),
            output_trim: trim_param("Output Trim"),
            role: EnumParam::new("Stem Role", StemRole::FullMix),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
        }
    }
}

/// A trim: continuous (hosts see no steps, so any value a host sends is
/// used as is), shown with 0.01 dB resolution.
fn trim_param(name: &str) -> FloatParam {
    FloatParam::new(
        name,
        0.0,
        FloatRange::Linear {
            min: TRIM_RANGE_DB.0,
            max: TRIM_RANGE_DB.1,
        },
    )
    .with_unit(" dB")
    .with_value_to_string(Arc::new(|value| format!("{value:.2}")))
    .with_string_to_value(Arc::new(|text| parse_number(text, "db")))
}

impl StemMasterParams {
    /// The engine's view of the current parameter values.
    #[inline]
    pub fn engine_settings(&self) -> EngineSettings {
        EngineSettings {
            input_trim_db: self.input_trim.value(),
            output_trim_db: self.output_trim.value(),
            role: self.role.value(),
            bypass: self.bypass.value(),
        }
    }
}

impl Enum for StemRole {
    fn variants() -> &'static [&'static str] {
        const NAMES: [&str; 7] = [
            StemRole::ALL[0].display_name(),
            StemRole::ALL[1].display_name(),
            StemRole::ALL[2].display_name(),
            StemRole::ALL[3].display_name(),
            StemRole::ALL[4].display_name(),
            StemRole::ALL[5].display_name(),
            StemRole::ALL[6].display_name(),
        ];
        &NAMES
    }

    fn ids() -> Option<&'static [&'static str]> {
        const IDS: [&str; 7] = [
            StemRole::ALL[0].id(),
            StemRole::ALL[1].id(),
            StemRole::ALL[2].id(),
            StemRole::ALL[3].id(),
            StemRole::ALL[4].id(),
            StemRole::ALL[5].id(),
            StemRole::ALL[6].id(),
        ];
        Some(&IDS)
    }

    fn to_index(self) -> usize {
        self.index()
    }

    fn from_index(index: usize) -> Self {
        StemRole::from_index(index)
    }
}

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
                        min: param.preview_plain(0.0),
                        max: param.preview_plain(1.0),
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

/// Sets parameter `id` from text, as the CLI's `--set ID=VALUE` does. Values
/// go through the same normalization and rounding a host applies, so the CLI
/// and a host produce identical settings. Call only where no audio thread
/// reads `params` (offline use).
pub fn set_from_text(params: &StemMasterParams, id: &str, text: &str) -> Result<(), String> {
    let map = params.param_map();
    let (_, param, _) = map
        .iter()
        .find(|(known, _, _)| known == id)
        .ok_or_else(|| {
            let ids: Vec<&str> = map.iter().map(|(known, _, _)| known.as_str()).collect();
            format!("unknown parameter '{id}' (known: {})", ids.join(", "))
        })?;
    let normalized = ParamDescription::of(id, param).parse_normalized(param, text)?;
    // SAFETY: `param` points into `params`, alive for this call; offline use
    // means no other thread reads the value while it changes.
    unsafe {
        param._internal_set_normalized_value(normalized);
    }
    Ok(())
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
            ]
        );
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
