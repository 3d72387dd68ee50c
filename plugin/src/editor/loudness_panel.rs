//! Loudness and peak readings as numbers (one decimal), with the reset
//! button.

use std::sync::atomic::Ordering;

use crate::shared::{OptionalF32, SharedState};

/// One row: label, value with one decimal and unit, and what it means.
fn row(ui: &mut egui::Ui, label: &str, value: &OptionalF32, unit: &str, help: &str) {
    ui.label(label).on_hover_text(help);
    let text = match value.load() {
        Some(v) => format!("{v:.1} {unit}"),
        None => "—".to_string(),
    };
    ui.monospace(text);
}

/// Draws the readings.
pub fn show(ui: &mut egui::Ui, shared: &SharedState) {
    let m = &shared.meters;
    egui::Grid::new("loudness").num_columns(4).show(ui, |ui| {
        row(
            ui,
            "Momentary",
            &m.momentary_lufs,
            "LUFS",
            "Loudness of the last 400 ms (EBU R128 M)",
        );
        row(
            ui,
            "Max M",
            &m.momentary_max_lufs,
            "LUFS",
            "Highest momentary loudness since reset",
        );
        ui.end_row();
        row(
            ui,
            "Short-term",
            &m.short_term_lufs,
            "LUFS",
            "Loudness of the last 3 s (EBU R128 S)",
        );
        row(
            ui,
            "Max S",
            &m.short_term_max_lufs,
            "LUFS",
            "Highest short-term loudness since reset",
        );
        ui.end_row();
        row(
            ui,
            "Integrated",
            &m.integrated_lufs,
            "LUFS",
            "Gated loudness since reset (BS.1770-5)",
        );
        row(
            ui,
            "Range",
            &m.range_lu,
            "LU",
            "Loudness range since reset (EBU Tech 3342)",
        );
        ui.end_row();
        row(
            ui,
            "True peak",
            &m.true_peak_max_dbtp,
            "dBTP",
            "Highest oversampled peak since reset",
        );
        row(
            ui,
            "TP 3 s",
            &m.true_peak_recent_dbtp,
            "dBTP",
            "Highest true peak of the last 3 s",
        );
        ui.end_row();
        row(
            ui,
            "PLR",
            &m.plr_db,
            "dB",
            "Peak-to-loudness ratio: true peak − integrated",
        );
        row(
            ui,
            "PSR",
            &m.psr_db,
            "dB",
            "Peak-to-short-term ratio: true peak (3 s) − short-term",
        );
        ui.end_row();
    });
    if ui
        .button("Reset")
        .on_hover_text("Restart integrated loudness, loudness range and maxima")
        .clicked()
    {
        shared
            .reset_statistics_requested
            .store(true, Ordering::Relaxed);
    }
}
