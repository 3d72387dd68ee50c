//! On the master (role Full Mix): every linked stem side by side — its
//! loudness against the mix, its share of the low end, its correlation and
//! true peak, the stem it collides with and where — and the link hints.
//! The editor reads the stem link itself (lock-free), so the audio thread
//! does no work for this table.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::link::aggregate::{self, band_centre_hz, MASKING_WARN_BANDS};
use crate::link::{registry, MasterView};
use crate::shared::SharedState;
use crate::triage::{HintId, Severity};

/// How often the table reads the link: slower than the frame rate so that
/// the numbers can be read.
const REFRESH: Duration = Duration::from_millis(250);

/// The table's state between frames.
#[derive(Default)]
pub struct StemsPanel {
    /// The stems as last read.
    view: MasterView,
    /// When they were read.
    refreshed: Option<Instant>,
}

/// Colour of a severity: the triage's colours for warnings and problems,
/// the default text colour otherwise.
fn colour(ui: &egui::Ui, severity: Severity) -> egui::Color32 {
    if severity >= Severity::Warn {
        super::triage_panel::colour(severity)
    } else {
        ui.visuals().text_color()
    }
}

/// A number with one decimal, or a dash.
fn one_decimal(value: f32, unit: &str) -> String {
    if value.is_finite() {
        format!("{value:.1} {unit}")
    } else {
        "—".to_string()
    }
}

impl StemsPanel {
    /// Draws the table for the master of link `group`.
    pub fn show(&mut self, ui: &mut egui::Ui, shared: &SharedState, group: u32) {
        let own_slot = shared.link_slot.load(Ordering::Relaxed);
        if own_slot < 0 {
            ui.label(
                "Stem link: this instance is not linked (the plugin is not active, or all 64 \
                 link slots of this process are taken).",
            );
            return;
        }
        let now = Instant::now();
        if self
            .refreshed
            .is_none_or(|last| now.duration_since(last) >= REFRESH)
        {
            let m = &shared.meters;
            let mix_lufs = m
                .integrated_lufs
                .load()
                .or(m.short_term_lufs.load())
                .unwrap_or(f32::NAN);
            self.view
                .update(group, Some(own_slot as usize), registry::now_ms(), mix_lufs);
            self.refreshed = Some(now);
        }
        ui.ctx().request_repaint_after(REFRESH);
        let stems = self.view.publications();
        if stems.is_empty() {
            ui.label(format!(
                "Stem link: no linked stems visible in group {group}. Put Stem Master on the \
                 stem buses with the same link group. A host that runs each plugin in its own \
                 process (sandboxing) keeps them apart."
            ));
            return;
        }
        let assessment = self.view.assessment();
        ui.strong(format!(
            "Stem link: {} stem{} in group {group}",
            stems.len(),
            if stems.len() == 1 { "" } else { "s" }
        ));
        egui::Grid::new("stems")
            .num_columns(7)
            .striped(true)
            .show(ui, |ui| {
                for (title, help) in [
                    ("Stem", "The stem's link name (or its role)"),
                    (
                        "Loudness",
                        "Integrated loudness of the stem, LUFS (short-term until there is one)",
                    ),
                    ("vs mix", "The stem's loudness minus the mix's, LU"),
                    (
                        "Low end",
                        "Its share of the energy below 125 Hz among all stems, %",
                    ),
                    ("Corr", "Phase correlation of the last 300 ms, −1 to +1"),
                    ("TP", "Highest true peak of the last 3 s, dBTP"),
                    (
                        "Collides with",
                        "The stem sharing most of its main third-octave bands within 3 dB, \
                         and where",
                    ),
                ] {
                    ui.strong(title).on_hover_text(help);
                }
                ui.end_row();
                for (i, stem) in stems.iter().enumerate() {
                    let row = &assessment.rows[i];
                    ui.label(stem.display_name())
                        .on_hover_text(stem.role.display_name());
                    ui.monospace(one_decimal(row.loudness_lufs, "LUFS"));
                    ui.monospace(if row.relative_to_mix_lu.is_finite() {
                        format!("{:+.1} LU", row.relative_to_mix_lu)
                    } else {
                        "—".to_string()
                    });
                    let low_end = if i == assessment.low_end_stem {
                        assessment.low_end_conflict.severity
                    } else {
                        Severity::None
                    };
                    ui.colored_label(
                        colour(ui, low_end),
                        format!("{:.0} %", 100.0 * row.low_end_share),
                    );
                    ui.monospace(if stem.correlation.is_finite() {
                        format!("{:+.2}", stem.correlation)
                    } else {
                        "mono".to_string()
                    });
                    ui.monospace(one_decimal(stem.true_peak_dbtp, "dBTP"));
                    let worst = (0..stems.len())
                        .filter(|&j| j != i)
                        .map(|j| (j, aggregate::collision(stem, &stems[j])))
                        .max_by_key(|(_, found)| found.bands);
                    match worst {
                        Some((j, found)) if found.bands >= MASKING_WARN_BANDS => {
                            let (first, last) = (
                                found.first_band.map_or(0.0, band_centre_hz),
                                found.last_band.map_or(0.0, band_centre_hz),
                            );
                            ui.colored_label(
                                colour(ui, found.severity()),
                                format!(
                                    "{} · {} bands, {}–{}",
                                    stems[j].display_name(),
                                    found.bands,
                                    hz(first),
                                    hz(last)
                                ),
                            );
                        }
                        _ => {
                            ui.label("—");
                        }
                    }
                    ui.end_row();
                }
            });
        let names: Vec<&str> = stems.iter().map(|stem| stem.display_name()).collect();
        let balance = &assessment.stem_balance;
        if balance.measured {
            ui.colored_label(
                colour(ui, balance.severity),
                format!(
                    "Vocals against the rest: {:+.1} LU (expected {:+.0} to {:+.0} LU)",
                    balance.value,
                    aggregate::VOCAL_BALANCE_WARN_LU.0,
                    aggregate::VOCAL_BALANCE_WARN_LU.1
                ),
            );
        }
        for (hint, finding) in [
            (HintId::Masking, &assessment.masking),
            (HintId::LowEndConflict, &assessment.low_end_conflict),
        ] {
            if finding.severity > Severity::None {
                ui.colored_label(
                    colour(ui, finding.severity),
                    format!(
                        "● {}: {}",
                        hint.title(),
                        aggregate::describe(hint, assessment, &names)
                    ),
                )
                .on_hover_text(format!("Fix: {}", hint.fix()));
            }
        }
    }
}

/// A frequency as "250 Hz" or "2.5 kHz".
fn hz(frequency_hz: f32) -> String {
    if frequency_hz >= 1000.0 {
        format!("{:.1} kHz", frequency_hz / 1000.0)
    } else {
        format!("{frequency_hz:.0} Hz")
    }
}
