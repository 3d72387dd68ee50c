//! The triage: the verdict on top, then the raised hints, most serious
//! first, each with its evidence and the control that fixes it; clicking a
//! hint opens that control's section.

use super::controls::Section;
use crate::role::StemRole;
use crate::shared::SharedState;
use crate::triage::{message, HintId, Severity};
use std::sync::atomic::Ordering;

/// Colour of a severity's marker.
pub(super) fn colour(severity: Severity) -> egui::Color32 {
    match severity {
        Severity::Problem => egui::Color32::from_rgb(230, 80, 70),
        Severity::Warn => egui::Color32::from_rgb(235, 175, 60),
        Severity::Info => egui::Color32::from_rgb(120, 170, 230),
        Severity::None => egui::Color32::GRAY,
    }
}

/// Draws the triage of the shared live state for material of `role`;
/// returns the section to open when the user clicked a hint.
pub fn show(ui: &mut egui::Ui, shared: &SharedState, role: StemRole) -> Option<Section> {
    let triage = &shared.triage;
    let seconds = triage.seconds.load(Ordering::Relaxed);
    if seconds == 0 {
        ui.label("Triage: play some audio; hints appear after a few seconds.");
        return None;
    }
    let verdict = triage.verdict();
    let reasons: Vec<&str> = verdict.because.iter().map(HintId::title).collect();
    ui.horizontal(|ui| {
        ui.strong(format!(
            "Verdict: {} ({:.0} % confidence)",
            verdict.service.display_name(),
            100.0 * verdict.confidence
        ))
        .on_hover_text(
            "Stereo mastering: only whole-record moves needed. Stem mastering: one or two \
             elements need corrective moves on their stems. Full mix: the balance, image or \
             dynamics need a new mix. Confidence is an ordinal score (docs/triage.md).",
        );
        if !reasons.is_empty() {
            ui.label(format!("because: {}", reasons.join(", ")));
        }
    });
    let mut raised: Vec<(HintId, Severity)> = HintId::ALL
        .iter()
        .map(|&hint| (hint, triage.finding(hint).severity))
        .filter(|&(_, severity)| severity > Severity::None)
        .collect();
    raised.sort_by_key(|&(_, severity)| std::cmp::Reverse(severity));
    if raised.is_empty() {
        ui.label(format!("No problems found in {seconds} s of audio."));
    }
    let mut clicked = None;
    for (hint, severity) in raised {
        let finding = triage.finding(hint);
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(colour(severity), "●");
            let fix = format!("Fix: {}", hint.fix());
            match Section::fixing(hint) {
                Some(section) => {
                    if ui
                        .link(hint.title())
                        .on_hover_text(format!("{fix}\n(click: open {})", section.title()))
                        .clicked()
                    {
                        clicked = Some(section);
                    }
                }
                None => {
                    ui.strong(hint.title()).on_hover_text(&fix);
                }
            }
            ui.label(message(hint, &finding, role)).on_hover_text(fix);
        });
    }
    clicked
}
