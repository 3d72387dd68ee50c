//! The editor window. It reads parameters and [`SharedState`] and never makes
//! the audio thread wait: everything it reads is atomic.

use nice_plug::context::gui::GuiContext;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings};
use nice_plug_egui::{Frame, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::dsp::gain_to_db;
use crate::params::{self, StemMasterParams};
use crate::role::StemRole;
use crate::shared::{SharedState, GAIN_REDUCTION_NAMES};
use nice_plug_egui::widgets::generic_ui::{self, GenericSlider};

mod loudness_panel;
mod meter_bar;
mod stems_panel;
mod triage_panel;

use meter_bar::{PeakBallistics, PEAK_METER_FLOOR_DB};

/// Default window size, in logical pixels.
const DEFAULT_SIZE: (u32, u32) = (560, 560);

/// The editor's initial window state.
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(
        nice_plug::editor::dpi::LogicalSize::new(DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32),
        1.0,
    )
}

/// Builds the editor for a plugin instance.
pub fn create(
    params: Arc<StemMasterParams>,
    shared: Arc<SharedState>,
    state: Arc<EguiEditorState>,
) -> Option<EguiEditor<EditorApp>> {
    let app = EditorApp {
        params,
        shared,
        gui_context: None,
        input_meter: PeakBallistics::default(),
        output_meter: PeakBallistics::default(),
        last_frame: None,
        link_name: None,
        stems_panel: stems_panel::StemsPanel::default(),
    };
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        EguiNiceSettings::new().with_tile("Stem Master"),
        app,
    )
}

/// What the editor keeps between frames.
pub struct EditorApp {
    params: Arc<StemMasterParams>,
    shared: Arc<SharedState>,
    /// Host connection for parameter changes; present while the window is open.
    gui_context: Option<GuiContext>,
    /// Displayed input peak, with decay.
    input_meter: PeakBallistics,
    /// Displayed output peak, with decay.
    output_meter: PeakBallistics,
    /// When the previous frame was drawn, for meter decay.
    last_frame: Option<Instant>,
    /// The stem link name being edited (read from the saved state when the
    /// window opens).
    link_name: Option<String>,
    /// The master's stem table.
    stems_panel: stems_panel::StemsPanel,
}

impl nice_plug_egui::NiceEguiApp for EditorApp {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        gui_context: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui_context = Some(gui_context);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        let now = Instant::now();
        let elapsed_s = self
            .last_frame
            .map_or(0.0, |last| now.duration_since(last).as_secs_f32());
        self.last_frame = Some(now);
        self.input_meter
            .update(SharedState::take_peak(&self.shared.input_peak), elapsed_s);
        self.output_meter
            .update(SharedState::take_peak(&self.shared.output_peak), elapsed_s);

        let Some(gui_context) = self.gui_context.as_ref() else {
            return;
        };
        let setter = gui_context.param_setter();
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("Stem Master");
            let sample_rate = self.shared.sample_rate_hz.load(Ordering::Relaxed);
            let latency = self.shared.latency_samples.load(Ordering::Relaxed);
            let channels = self.shared.channels.load(Ordering::Relaxed);
            ui.label(format!(
                "{:.1} kHz · {} · latency {latency} samples",
                sample_rate / 1000.0,
                if channels == 1 { "mono" } else { "stereo" },
            ));
            ui.separator();
            egui::Grid::new("controls").num_columns(2).show(ui, |ui| {
                ui.label("Stem role").on_hover_text(
                    "What this instance processes. Picking a role sets its starting point for \
                     the modules once (docs/roles.md); later edits are kept.",
                );
                let current = self.params.role.value();
                let mut picked = current;
                egui::ComboBox::from_id_salt("role")
                    .selected_text(current.display_name())
                    .show_ui(ui, |ui| {
                        for role in StemRole::ALL {
                            ui.selectable_value(&mut picked, role, role.display_name());
                        }
                    });
                if picked != current {
                    pick_role(&self.params, gui_context, picked);
                }
                ui.end_row();
                ui.label("Link name").on_hover_text(
                    "The name the master instance shows for this stem; empty for the role's \
                     name. Saved with the session.",
                );
                let params = &self.params;
                let name = self.link_name.get_or_insert_with(|| {
                    params
                        .link_name
                        .read()
                        .map(|name| name.clone())
                        .unwrap_or_default()
                });
                if ui
                    .add(
                        egui::TextEdit::singleline(name)
                            .char_limit(crate::link::NAME_BYTES)
                            .hint_text(current.display_name())
                            .desired_width(180.0),
                    )
                    .changed()
                {
                    set_link_name(&self.params, &self.shared, name);
                }
                ui.end_row();
                ui.label("Link group").on_hover_text(
                    "Instances in the same group (1–16) see each other: stems on the stem \
                     buses, the Full Mix instance on the master bus",
                );
                ui.add(ParamSlider::for_param(&self.params.link_group, &setter).with_width(180.0));
                ui.end_row();
                ui.label("Input trim")
                    .on_hover_text("Gain before all processing, in dB (−24 to +24)");
                ui.add(ParamSlider::for_param(&self.params.input_trim, &setter).with_width(180.0));
                ui.end_row();
                ui.label("Output trim")
                    .on_hover_text("Gain after all processing, in dB (−24 to +24)");
                ui.add(ParamSlider::for_param(&self.params.output_trim, &setter).with_width(180.0));
                ui.end_row();
                ui.label("Bypass")
                    .on_hover_text("Crossfades to the unprocessed signal over 10 ms");
                ui.add(ParamSlider::for_param(&self.params.bypass, &setter).with_width(180.0));
                ui.end_row();
                ui.label("Compare original").on_hover_text(
                    "A/B: plays the unprocessed signal at the processed loudness (3 s \
                     K-weighted average), so louder never wins by being louder",
                );
                ui.add(
                    ParamSlider::for_param(&self.params.compare_original, &setter)
                        .with_width(180.0),
                );
                ui.end_row();
            });
            ui.separator();
            meter_bar::show(ui, "In", self.input_meter.displayed_db());
            meter_bar::show(ui, "Out", self.output_meter.displayed_db());
            ui.separator();
            loudness_panel::show(ui, &self.shared);
            ui.separator();
            triage_panel::show(ui, &self.shared, self.params.role.value());
            ui.separator();
            if self.params.role.value() == StemRole::FullMix {
                self.stems_panel
                    .show(ui, &self.shared, self.params.link_group.value() as u32);
                ui.separator();
            }
            ui.horizontal(|ui| {
                for (name, held) in GAIN_REDUCTION_NAMES
                    .iter()
                    .zip(&self.shared.gain_reduction_db)
                {
                    let db = SharedState::take_peak(held);
                    let text = if db >= 0.05 {
                        format!("{name} −{db:.1} dB")
                    } else {
                        format!("{name} 0.0 dB")
                    };
                    ui.label(text)
                        .on_hover_text("Gain reduction since the last frame, dB");
                }
            });
            ui.separator();
            delivery_row(ui, &self.params, &self.shared, gui_context);
            ui.separator();
            egui::CollapsingHeader::new("All parameters").show(ui, |ui| {
                generic_ui::create(ui, self.params.clone(), &setter, GenericSlider);
            });
        });
        if self.input_meter.displayed_db() > PEAK_METER_FLOOR_DB
            || self.output_meter.displayed_db() > PEAK_METER_FLOOR_DB
        {
            ui.ctx().request_repaint();
        }
    }

    fn editor_closed(&mut self) {
        self.gui_context = None;
        self.last_frame = None;
        self.link_name = None;
    }
}

/// Delivery target, Learn and its result.
fn delivery_row(
    ui: &mut egui::Ui,
    params: &StemMasterParams,
    shared: &SharedState,
    gui_context: &GuiContext,
) {
    let setter = gui_context.param_setter();
    let target = params.target.value();
    ui.horizontal(|ui| {
        ui.label("Target").on_hover_text(target.description());
        ui.add(ParamSlider::for_param(&params.target, &setter).with_width(120.0));
        if target == crate::delivery::DeliveryTarget::Custom {
            ui.add(ParamSlider::for_param(&params.target_custom_lufs, &setter).with_width(120.0));
        }
        let learning = shared.learning.load(Ordering::Relaxed);
        let label = if learning { "Stop learning" } else { "Learn" };
        if ui
            .selectable_label(learning, label)
            .on_hover_text(
                "Measures the integrated loudness entering the limiter while you play the \
                 loudest typical section, then offers the limiter drive that reaches the target",
            )
            .clicked()
        {
            shared.learning.store(!learning, Ordering::Relaxed);
        }
        let target_lufs = target.loudness_lufs(params.target_custom_lufs.value());
        if let Some(measured) = shared.learned_lufs.load() {
            let drive = crate::delivery::learned_drive_db(f64::from(measured), target_lufs);
            ui.label(format!("{measured:.1} LUFS → drive +{drive:.1} dB"));
            if ui
                .button("Apply")
                .on_hover_text("Switches the limiter on with this drive")
                .clicked()
            {
                setter.begin_set_parameter(&params.limiter.on);
                setter.set_parameter(&params.limiter.on, true);
                setter.end_set_parameter(&params.limiter.on);
                setter.begin_set_parameter(&params.limiter.drive_db);
                setter.set_parameter(&params.limiter.drive_db, drive);
                setter.end_set_parameter(&params.limiter.drive_db);
                shared.learning.store(false, Ordering::Relaxed);
            }
        }
    });
}

/// Saves the stem link name and shows it to the master at once.
fn set_link_name(params: &StemMasterParams, shared: &SharedState, name: &str) {
    if let Ok(mut saved) = params.link_name.write() {
        saved.clear();
        saved.push_str(name);
    }
    let slot = shared.link_slot.load(Ordering::Relaxed);
    if slot >= 0 {
        crate::link::registry::rename(
            slot as usize,
            shared.link_token.load(Ordering::Relaxed),
            name,
        );
    }
}

/// Sets the role and, once, its starting point for the modules, as host
/// parameter changes (so they are undoable and recorded like any edit).
fn pick_role(params: &StemMasterParams, gui_context: &GuiContext, role: StemRole) {
    let setter = gui_context.param_setter();
    setter.begin_set_parameter(&params.role);
    setter.set_parameter(&params.role, role);
    setter.end_set_parameter(&params.role);
    for (id, value) in params::role_starting_point(role) {
        let Ok((param, normalized)) = params::normalized_from_text(params, &id, &value) else {
            continue;
        };
        // SAFETY: `param` points into `params`, which the editor holds for
        // as long as it runs; the calls come from the GUI thread, as
        // required.
        unsafe {
            gui_context.raw_begin_set_parameter(param);
            gui_context.raw_set_parameter_normalized(param, normalized);
            gui_context.raw_end_set_parameter(param);
        }
    }
}

/// Sample peak in dBFS of a linear peak, floored at the meter's bottom.
fn peak_dbfs(peak: f32) -> f32 {
    gain_to_db(peak).max(PEAK_METER_FLOOR_DB)
}
