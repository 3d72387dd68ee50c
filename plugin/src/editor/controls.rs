//! The controls: one section per DSP module, in signal order, each with
//! its on/off switch in the header and, where the module reduces gain, its
//! gain-reduction meter. Every control's tooltip says what it does and in
//! which unit. A triage hint opens the section of the control that fixes
//! it.

use nice_plug::prelude::{Param, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;

use super::meter_bar::Ballistics;
use crate::params::StemMasterParams;
use crate::shared::SharedState;
use crate::triage::HintId;

/// A section of the controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Input and output trims.
    Trim,
    /// Tone: low cut, shelves, tilt, bell.
    Tone,
    /// De-harsh: a dynamic cut in the high mids.
    Deharsh,
    /// Low end: mono bass and the stabilizer.
    LowEnd,
    /// Glue compressor.
    Glue,
    /// Transient punch.
    Punch,
    /// Stereo width.
    Width,
    /// True-peak limiter.
    Limiter,
}

impl Section {
    /// Every section, in signal order.
    pub const ALL: [Section; 8] = [
        Section::Trim,
        Section::Tone,
        Section::Deharsh,
        Section::LowEnd,
        Section::Glue,
        Section::Punch,
        Section::Width,
        Section::Limiter,
    ];

    /// Title in the editor.
    pub const fn title(self) -> &'static str {
        match self {
            Section::Trim => "Trim",
            Section::Tone => "Tone",
            Section::Deharsh => "De-harsh",
            Section::LowEnd => "Low End",
            Section::Glue => "Glue",
            Section::Punch => "Punch",
            Section::Width => "Width",
            Section::Limiter => "Limiter",
        }
    }

    /// The section holding the control that fixes `hint`, when a mastering
    /// move can (its fix text names that control first).
    pub const fn fixing(hint: HintId) -> Option<Section> {
        match hint {
            HintId::LoudnessOffTarget | HintId::TruePeakOver => Some(Section::Limiter),
            HintId::Clipping | HintId::LoudnessJumps | HintId::StemBalance => Some(Section::Trim),
            HintId::DcOffset
            | HintId::LowEndConflict
            | HintId::MetallicResonance
            | HintId::TooBright
            | HintId::TooDull
            | HintId::Muddy => Some(Section::Tone),
            HintId::OverCompressed => Some(Section::Glue),
            HintId::UnstableLowEnd | HintId::WideLowEnd => Some(Section::LowEnd),
            HintId::PoorMonoCompatibility | HintId::FakeStereo => Some(Section::Width),
            HintId::HarshHighMids => Some(Section::Deharsh),
            HintId::SmearedTransients => Some(Section::Punch),
            HintId::Silent
            | HintId::PhaseInverted
            | HintId::MonoAsStereo
            | HintId::Masking
            | HintId::BandLimitedSource => None,
        }
    }

    /// Index into [`SharedState::gain_reduction_db`] of the module's
    /// gain-reduction meter.
    const fn reduction_meter(self) -> Option<usize> {
        match self {
            Section::Deharsh => Some(0),
            Section::LowEnd => Some(1),
            Section::Glue => Some(2),
            Section::Limiter => Some(3),
            _ => None,
        }
    }
}

/// The controls' state between frames.
pub struct Controls {
    /// Gain-reduction meters with ballistics, in the order of
    /// [`SharedState::gain_reduction_db`].
    reduction: [Ballistics; 4],
    /// A section to open and scroll to on the next frame (a hint was
    /// clicked).
    pub focus: Option<Section>,
}

impl Default for Controls {
    fn default() -> Self {
        Self {
            reduction: std::array::from_fn(|_| Ballistics::reduction()),
            focus: None,
        }
    }
}

/// One control row: its name, its slider, its tooltip.
fn row<P: Param>(ui: &mut egui::Ui, setter: &ParamSetter, param: &P, help: &str) {
    ui.label(param.name()).on_hover_text(help);
    ui.add(ParamSlider::for_param(param, setter).with_width(150.0))
        .on_hover_text(help);
    ui.end_row();
}

/// A switch for a module's on/off parameter, as a host gesture.
fn switch(ui: &mut egui::Ui, setter: &ParamSetter, on: &nice_plug::prelude::BoolParam, help: &str) {
    let mut value = on.value();
    if ui.checkbox(&mut value, "").on_hover_text(help).changed() {
        setter.begin_set_parameter(on);
        setter.set_parameter(on, value);
        setter.end_set_parameter(on);
    }
}

impl Controls {
    /// Takes the held gain reductions (once per frame).
    pub fn update_meters(&mut self, shared: &SharedState, elapsed_s: f32) {
        for (meter, held) in self.reduction.iter_mut().zip(&shared.gain_reduction_db) {
            meter.update(SharedState::take_peak(held), elapsed_s);
        }
    }

    /// Draws every section.
    pub fn show(&mut self, ui: &mut egui::Ui, params: &StemMasterParams, setter: &ParamSetter) {
        for section in Section::ALL {
            let id = ui.make_persistent_id(("section", section.title()));
            let mut state = egui::collapsing_header::CollapsingState::load_with_default_open(
                ui.ctx(),
                id,
                false,
            );
            let focused = self.focus == Some(section);
            if focused {
                state.set_open(true);
            }
            let header = state.show_header(ui, |ui| {
                if let Some(on) = module_switch(params, section) {
                    switch(
                        ui,
                        setter,
                        on,
                        "Switches the module on or off (a 20 ms crossfade)",
                    );
                }
                let title = ui.strong(section.title());
                if let Some(k) = section.reduction_meter() {
                    reduction_meter(ui, self.reduction[k].displayed());
                }
                title
            });
            let (_, title, _) = header.body(|ui| {
                egui::Grid::new(("controls", section.title()))
                    .num_columns(2)
                    .show(ui, |ui| section_rows(ui, params, setter, section));
            });
            if focused {
                title.inner.scroll_to_me(Some(egui::Align::TOP));
                self.focus = None;
            }
        }
    }
}

/// A gain-reduction meter: a bar growing from the left, 0–12 dB, and the
/// figure.
fn reduction_meter(ui: &mut egui::Ui, db: f32) {
    let (response, painter) =
        ui.allocate_painter(egui::Vec2::new(70.0, 10.0), egui::Sense::hover());
    let rect = response.rect;
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let fraction = (db / 12.0).clamp(0.0, 1.0);
    if fraction > 0.0 {
        let mut fill = rect;
        fill.set_width(rect.width() * fraction);
        painter.rect_filled(fill, 2.0, egui::Color32::from_rgb(235, 175, 60));
    }
    response.on_hover_text("Gain reduction, dB (bar to 12 dB; falls 20 dB per second)");
    ui.monospace(if db >= 0.05 {
        format!("−{db:.1} dB")
    } else {
        "0.0 dB".to_string()
    });
}

/// The on/off parameter of a section's module.
fn module_switch(
    params: &StemMasterParams,
    section: Section,
) -> Option<&nice_plug::prelude::BoolParam> {
    match section {
        Section::Trim => None,
        Section::Tone => Some(&params.tone.on),
        Section::Deharsh => Some(&params.deharsh.on),
        Section::LowEnd => Some(&params.low_end.on),
        Section::Glue => Some(&params.glue.on),
        Section::Punch => Some(&params.punch.on),
        Section::Width => Some(&params.width.on),
        Section::Limiter => Some(&params.limiter.on),
    }
}

/// The rows of one section.
fn section_rows(
    ui: &mut egui::Ui,
    params: &StemMasterParams,
    setter: &ParamSetter,
    section: Section,
) {
    match section {
        Section::Trim => {
            row(
                ui,
                setter,
                &params.input_trim,
                "Gain before all processing, dB (−24 to +24)",
            );
            row(
                ui,
                setter,
                &params.output_trim,
                "Gain after the modules, before the limiter, dB (−24 to +24)",
            );
        }
        Section::Tone => {
            let t = &params.tone;
            row(
                ui,
                setter,
                &t.low_cut,
                "High-pass filter on or off: removes rumble and DC below its frequency",
            );
            row(ui, setter, &t.low_cut_hz, "Low-cut corner frequency, Hz");
            row(
                ui,
                setter,
                &t.low_cut_slope,
                "Low-cut steepness, dB per octave",
            );
            row(
                ui,
                setter,
                &t.low_shelf_hz,
                "Low-shelf corner frequency, Hz",
            );
            row(
                ui,
                setter,
                &t.low_shelf_db,
                "Low-shelf gain, dB: raises or lowers everything below the corner",
            );
            row(
                ui,
                setter,
                &t.high_shelf_hz,
                "High-shelf corner frequency, Hz",
            );
            row(
                ui,
                setter,
                &t.high_shelf_db,
                "High-shelf gain, dB: raises or lowers everything above the corner",
            );
            row(
                ui,
                setter,
                &t.tilt_db,
                "Tilt around 1 kHz, dB at the ends: positive brighter, negative darker",
            );
            row(ui, setter, &t.bell_hz, "Bell centre frequency, Hz");
            row(
                ui,
                setter,
                &t.bell_db,
                "Bell gain, dB: a cut or boost around the centre",
            );
            row(
                ui,
                setter,
                &t.bell_q,
                "Bell Q (no unit): higher is narrower; 6–8 for a resonance",
            );
        }
        Section::Deharsh => {
            let d = &params.deharsh;
            row(
                ui,
                setter,
                &d.centre_hz,
                "Centre of the band it cuts when harsh, Hz (3–4 kHz for most harshness)",
            );
            row(ui, setter, &d.width_octaves, "Width of that band, octaves");
            row(
                ui,
                setter,
                &d.threshold_db,
                "How far the band may rise above the rest before it is cut, dB",
            );
            row(ui, setter, &d.max_cut_db, "Largest cut, dB");
            row(
                ui,
                setter,
                &d.ratio,
                "Ratio of the cut above the threshold (n:1)",
            );
            row(ui, setter, &d.attack_ms, "How fast the cut starts, ms");
            row(ui, setter, &d.release_ms, "How fast the cut lets go, ms");
        }
        Section::LowEnd => {
            let l = &params.low_end;
            row(
                ui,
                setter,
                &l.mono_below,
                "Mono bass on or off: sums both channels below the crossover",
            );
            row(
                ui,
                setter,
                &l.crossover_hz,
                "Crossover of mono bass and the stabilizer, Hz (100–150 Hz typical)",
            );
            row(
                ui,
                setter,
                &l.stabilizer,
                "Stabilizer on or off: evens out bass notes that jump in level",
            );
            row(
                ui,
                setter,
                &l.stabilizer_threshold_db,
                "Level above which the low band is held down, dBFS",
            );
            row(
                ui,
                setter,
                &l.stabilizer_ratio,
                "Stabilizer ratio above the threshold (n:1)",
            );
            row(ui, setter, &l.stabilizer_attack_ms, "Stabilizer attack, ms");
            row(
                ui,
                setter,
                &l.stabilizer_release_ms,
                "Stabilizer release, ms",
            );
        }
        Section::Glue => {
            let g = &params.glue;
            row(
                ui,
                setter,
                &g.threshold_db,
                "Level above which the compressor works, dBFS",
            );
            row(
                ui,
                setter,
                &g.ratio,
                "Compression ratio above the threshold (n:1); 1.5–2 glues",
            );
            row(
                ui,
                setter,
                &g.attack_ms,
                "Attack, ms: slower lets transients through",
            );
            row(ui, setter, &g.release_ms, "Release, ms");
            row(
                ui,
                setter,
                &g.knee_db,
                "Soft-knee width around the threshold, dB",
            );
            row(
                ui,
                setter,
                &g.mix_percent,
                "Compressed signal in the output, % (parallel compression below 100)",
            );
            row(
                ui,
                setter,
                &g.sidechain_hpf_hz,
                "High-pass on the detector, Hz: the bass drives the compressor less",
            );
            row(ui, setter, &g.makeup_db, "Gain after compression, dB");
        }
        Section::Punch => {
            let p = &params.punch;
            row(
                ui,
                setter,
                &p.attack_db,
                "Gain on the attack of transients, dB: positive sharpens smeared drums",
            );
            row(
                ui,
                setter,
                &p.sustain_db,
                "Gain on the sustain after transients, dB",
            );
        }
        Section::Width => {
            let w = &params.width;
            row(
                ui,
                setter,
                &w.side_gain_percent,
                "Side signal, % (100 unchanged, 0 mono, 200 twice as wide)",
            );
            row(
                ui,
                setter,
                &w.balance_percent,
                "Left–right balance, % (−100 left only … +100 right only)",
            );
        }
        Section::Limiter => {
            let l = &params.limiter;
            row(
                ui,
                setter,
                &l.drive_db,
                "Gain into the limiter, dB: raises loudness; Learn sets it for the target",
            );
            row(
                ui,
                setter,
                &l.ceiling_dbtp,
                "Highest true peak out, dBTP (the target may set it lower)",
            );
            row(ui, setter, &l.release_ms, "Limiter release, ms");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every hint whose fix names a Stem Master control leads to the
    /// section holding it; those that need a mix, a better source or a
    /// check of the routing lead nowhere.
    #[test]
    fn hints_lead_to_the_section_their_fix_names() {
        for hint in HintId::ALL {
            let fix = hint.fix().to_lowercase();
            match Section::fixing(hint) {
                Some(section) => {
                    let named = match section {
                        Section::Trim => "trim",
                        Section::LowEnd => "low end",
                        other => other.title(),
                    }
                    .to_lowercase();
                    assert!(
                        fix.contains(&named),
                        "{hint:?}: {fix} does not name {named}"
                    );
                }
                None => assert!(
                    fix.contains("needs a mix")
                        || fix.contains("no control restores")
                        || hint == HintId::Silent,
                    "{hint:?}: {fix}"
                ),
            }
        }
    }
}
