//! The editor window. It reads parameters and [`SharedState`] and never makes
//! the audio thread wait: everything it reads is atomic.

use nice_plug::context::gui::GuiContext;
use nice_plug_egui::resizable_window::ResizableWindow;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings};
use nice_plug_egui::{Frame, RepaintNotifier};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::dsp::gain_to_db;
use crate::params::{self, StemMasterParams};
use crate::role::StemRole;
use crate::shared::SharedState;
use nice_plug_egui::widgets::generic_ui::{self, GenericSlider};

mod controls;
mod history_graph;
mod loudness_meters;
mod loudness_panel;
mod meter_bar;
mod spectrum_view;
mod stems_panel;
mod stereo_view;
mod triage_panel;

use controls::Controls;
use history_graph::HistoryGraph;
use loudness_meters::{LoudnessBars, LoudnessScale};
use meter_bar::{Ballistics, PEAK_METER_FLOOR_DB};
use spectrum_view::SpectrumView;
use stereo_view::StereoView;

/// Default window size, in logical pixels.
const DEFAULT_SIZE: (f32, f32) = (1120.0, 780.0);
/// Smallest window, in logical pixels: the meters, the graphs and the
/// controls still fit side by side; the rest scrolls.
pub const MIN_SIZE: (f32, f32) = (780.0, 520.0);
/// Repaint interval while the window is open (meters move), seconds.
const FRAME_S: f32 = 1.0 / 30.0;

/// The editor's initial window state.
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(
        nice_plug::editor::dpi::LogicalSize::new(DEFAULT_SIZE.0, DEFAULT_SIZE.1),
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
        input_meter: Ballistics::peak(),
        output_meter: Ballistics::peak(),
        momentary: f32::NAN,
        last_frame: None,
        link_name: None,
        scale: LoudnessScale::default(),
        history: HistoryGraph::default(),
        spectrum: SpectrumView::default(),
        stereo: StereoView::default(),
        controls: Controls::default(),
        stems_panel: stems_panel::StemsPanel::default(),
    };
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        EguiNiceSettings::new()
            .with_tile("Stem Master")
            .with_resize_hint(
                nice_plug::prelude::ResizeHint::RESIZABLE.with_min_logical_size(
                    nice_plug::editor::dpi::LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1),
                ),
            ),
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
    input_meter: Ballistics,
    /// Displayed output peak, with decay.
    output_meter: Ballistics,
    /// Displayed momentary loudness (a 100 ms lag over the 10 ms updates),
    /// LUFS.
    momentary: f32,
    /// When the previous frame was drawn, for meter decay.
    last_frame: Option<Instant>,
    /// The stem link name being edited (read from the saved state when the
    /// window opens).
    link_name: Option<String>,
    /// EBU scale of the loudness bars and the history.
    scale: LoudnessScale,
    /// Loudness history graph.
    history: HistoryGraph,
    /// Spectrum with the role's reference.
    spectrum: SpectrumView,
    /// Correlation and goniometer.
    stereo: StereoView,
    /// The module sections.
    controls: Controls,
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
            .map_or(0.0, |last| now.duration_since(last).as_secs_f32().min(1.0));
        self.last_frame = Some(now);
        self.input_meter
            .update_peak(SharedState::take_peak(&self.shared.input_peak), elapsed_s);
        self.output_meter
            .update_peak(SharedState::take_peak(&self.shared.output_peak), elapsed_s);
        self.controls.update_meters(&self.shared, elapsed_s);
        self.momentary = meter_bar::approach(
            self.momentary,
            self.shared.meters.momentary_lufs.load().unwrap_or(f32::NAN),
            elapsed_s,
            0.1,
        );

        let Some(gui_context) = self.gui_context.clone() else {
            return;
        };
        let setter = gui_context.param_setter();
        let role = self.params.role.value();
        let target = self.params.target.value();
        let target_lufs = target.loudness_lufs(params::checked(&self.params.target_custom_lufs));
        let ceiling_dbtp = target
            .ceiling_dbtp()
            .map_or(params::checked(&self.params.limiter.ceiling_dbtp), |cap| {
                cap.min(params::checked(&self.params.limiter.ceiling_dbtp))
            });
        ResizableWindow::new("stem-master")
            .min_size(egui::Vec2::new(MIN_SIZE.0, MIN_SIZE.1))
            .show(ui, |ui| {
                egui::Panel::top("top").show(ui, |ui| {
                    self.top_bar(ui, &gui_context);
                    ui.separator();
                    egui::ScrollArea::vertical()
                        .id_salt("triage-scroll")
                        .max_height(118.0)
                        .show(ui, |ui| {
                            if let Some(section) = triage_panel::show(ui, &self.shared, role) {
                                self.controls.focus = Some(section);
                            }
                        });
                });
                egui::Panel::right("controls")
                    .resizable(true)
                    .default_size(300.0)
                    .size_range(260.0..=480.0)
                    .show(ui, |ui| {
                        egui::ScrollArea::vertical()
                            .id_salt("controls-scroll")
                            .show(ui, |ui| {
                                delivery_row(ui, &self.params, &self.shared, &gui_context);
                                ui.separator();
                                self.controls.show(ui, &self.params, &setter);
                                ui.separator();
                                self.link_controls(ui, &setter);
                                ui.separator();
                                egui::CollapsingHeader::new("All parameters").show(ui, |ui| {
                                    generic_ui::create(
                                        ui,
                                        self.params.clone(),
                                        &setter,
                                        GenericSlider,
                                    );
                                });
                            });
                    });
                egui::CentralPanel::default().show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("main-scroll")
                        .show(ui, |ui| {
                            self.meters(ui, target_lufs, ceiling_dbtp);
                            ui.separator();
                            ui.columns(2, |columns| {
                                self.spectrum.show(
                                    &mut columns[0],
                                    &self.shared,
                                    role,
                                    elapsed_s,
                                    180.0,
                                );
                                self.stereo.show(&mut columns[1], &self.shared, elapsed_s);
                            });
                            ui.separator();
                            self.history.show(
                                ui,
                                &self.shared,
                                target_lufs,
                                self.scale.range_lu(),
                                140.0,
                            );
                            if role == StemRole::FullMix {
                                ui.separator();
                                self.stems_panel.show(
                                    ui,
                                    &self.shared,
                                    self.params.link_group_checked(),
                                );
                            }
                        });
                });
            });
        // The meters move while the window is open; nothing is drawn while
        // it is closed.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_secs_f32(FRAME_S));
    }

    fn editor_closed(&mut self) {
        self.gui_context = None;
        self.last_frame = None;
        self.link_name = None;
    }
}

impl EditorApp {
    /// Title, role, A/B, bypass, and what the engine runs at.
    fn top_bar(&mut self, ui: &mut egui::Ui, gui_context: &GuiContext) {
        let setter = gui_context.param_setter();
        ui.horizontal(|ui| {
            ui.heading("Stem Master");
            ui.separator();
            ui.label("Role").on_hover_text(
                "What this instance processes. Picking a role sets its starting point for the \
                 modules once (docs/roles.md); later edits are kept.",
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
            ui.separator();
            let comparing = self.params.compare_original.value();
            if ui
                .selectable_label(comparing, "A/B: original")
                .on_hover_text(
                    "Plays the unprocessed signal at the processed loudness (3 s K-weighted \
                     average), so louder never wins by being louder",
                )
                .clicked()
            {
                setter.begin_set_parameter(&self.params.compare_original);
                setter.set_parameter(&self.params.compare_original, !comparing);
                setter.end_set_parameter(&self.params.compare_original);
            }
            let bypassed = self.params.bypass.value();
            if ui
                .selectable_label(bypassed, "Bypass")
                .on_hover_text("Crossfades to the unprocessed signal over 10 ms")
                .clicked()
            {
                setter.begin_set_parameter(&self.params.bypass);
                setter.set_parameter(&self.params.bypass, !bypassed);
                setter.end_set_parameter(&self.params.bypass);
            }
            ui.separator();
            let sample_rate = self.shared.sample_rate_hz.load(Ordering::Relaxed);
            let latency = self.shared.latency_samples.load(Ordering::Relaxed);
            let channels = self.shared.channels.load(Ordering::Relaxed);
            ui.weak(format!(
                "{:.1} kHz · {} · latency {latency} samples",
                sample_rate / 1000.0,
                if channels == 1 { "mono" } else { "stereo" },
            ));
        });
    }

    /// Loudness bars, numbers, scale switch, reset and peak meters.
    fn meters(&mut self, ui: &mut egui::Ui, target_lufs: f32, ceiling_dbtp: f32) {
        let m = &self.shared.meters;
        let value = |v: &crate::shared::OptionalF32| v.load().unwrap_or(f32::NAN);
        let bars = LoudnessBars {
            momentary_lufs: self.momentary,
            short_term_lufs: value(&m.short_term_lufs),
            integrated_lufs: value(&m.integrated_lufs),
            true_peak_dbtp: value(&m.true_peak_recent_dbtp),
            true_peak_max_dbtp: value(&m.true_peak_max_dbtp),
            target_lufs,
            ceiling_dbtp,
        };
        // Side by side when there is room, else the numbers under the bars.
        let layout = if ui.available_width() >= 560.0 {
            egui::Layout::left_to_right(egui::Align::Min)
        } else {
            egui::Layout::top_down(egui::Align::Min)
        };
        ui.with_layout(layout, |ui| {
            loudness_meters::show(ui, &bars, self.scale, 210.0);
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.strong("Loudness");
                    for scale in [LoudnessScale::Ebu9, LoudnessScale::Ebu18] {
                        ui.selectable_value(&mut self.scale, scale, scale.label())
                            .on_hover_text(
                                "EBU Tech 3341 scale of the bars and the history: \
                                            27 LU or 54 LU around the target",
                            );
                    }
                    ui.weak(format!("target {target_lufs:.1} LUFS"));
                });
                loudness_panel::show(ui, &self.shared);
                meter_bar::show(ui, "In", self.input_meter.displayed());
                meter_bar::show(ui, "Out", self.output_meter.displayed());
            });
        });
    }

    /// The stem link's name and group.
    fn link_controls(&mut self, ui: &mut egui::Ui, setter: &nice_plug::prelude::ParamSetter) {
        ui.strong("Stem link");
        egui::Grid::new("link").num_columns(2).show(ui, |ui| {
            let role = self.params.role.value();
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
                        .hint_text(role.display_name())
                        .desired_width(150.0),
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
            ui.add(ParamSlider::for_param(&self.params.link_group, setter).with_width(150.0));
            ui.end_row();
        });
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
        let target_lufs = target.loudness_lufs(params::checked(&params.target_custom_lufs));
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
