//! The spectrum: 1/6-octave levels of the output (pink noise reads flat),
//! smoothed on the GUI side, with the role's tonal reference (the line the
//! triage judges tone against, placed at the measured 500–2000 Hz level)
//! and the harsh band, 2–5 kHz, marked red while `harsh-high-mids` is
//! raised.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Vec2};

use super::meter_bar::approach;
use crate::meter::spectrum::SpectrumAnalyzer;
use crate::role::StemRole;
use crate::shared::{SharedState, SPECTRUM_BINS};
use crate::triage::rules::tone_reference;
use crate::triage::{HintId, Severity};

/// Time constant of the display smoothing, seconds.
const SMOOTHING_TAU_S: f32 = 0.25;
/// Level range shown, dB re a full-scale sine.
const RANGE_DB: (f32, f32) = (-90.0, 0.0);
/// Frequency range shown, Hz.
const RANGE_HZ: (f32, f32) = (20.0, 20_000.0);
/// The harsh band, Hz.
const HARSH_HZ: (f32, f32) = (2000.0, 5000.0);

/// The view's state between frames.
pub struct SpectrumView {
    /// Displayed levels, dB.
    displayed_db: [f32; SPECTRUM_BINS],
    /// The latest levels read.
    latest_db: [f32; SPECTRUM_BINS],
}

impl Default for SpectrumView {
    fn default() -> Self {
        Self {
            displayed_db: [f32::NAN; SPECTRUM_BINS],
            latest_db: [RANGE_DB.0; SPECTRUM_BINS],
        }
    }
}

impl SpectrumView {
    /// Draws the spectrum of material of `role`, `height` points high.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        shared: &SharedState,
        role: StemRole,
        elapsed_s: f32,
        height: f32,
    ) {
        let latest = &mut self.latest_db;
        shared.spectrum_db.read(|bins| latest.copy_from_slice(bins));
        for (shown, &now) in self.displayed_db.iter_mut().zip(&self.latest_db) {
            *shown = approach(*shown, now.max(RANGE_DB.0), elapsed_s, SMOOTHING_TAU_S);
        }
        let harsh = shared.triage.finding(HintId::HarshHighMids).severity > Severity::None;
        ui.strong("Spectrum");
        let width = ui.available_width().max(120.0);
        let (response, painter) = ui.allocate_painter(Vec2::new(width, height), Sense::hover());
        let rect = response.rect;
        let plot = Rect::from_min_max(
            rect.min + Vec2::new(30.0, 4.0),
            rect.max - Vec2::new(4.0, 16.0),
        );
        painter.rect_filled(plot, 2.0, ui.visuals().extreme_bg_color);
        let x_of = |hz: f32| {
            let t = (hz / RANGE_HZ.0).log2() / (RANGE_HZ.1 / RANGE_HZ.0).log2();
            plot.left() + plot.width() * t.clamp(0.0, 1.0)
        };
        let y_of = |db: f32| {
            let t = ((db - RANGE_DB.0) / (RANGE_DB.1 - RANGE_DB.0)).clamp(0.0, 1.0);
            plot.bottom() + (plot.top() - plot.bottom()) * t
        };
        let weak = ui.visuals().weak_text_color();
        let font = FontId::proportional(10.0);
        painter.rect_filled(
            Rect::from_x_y_ranges(x_of(HARSH_HZ.0)..=x_of(HARSH_HZ.1), plot.y_range()),
            0.0,
            if harsh {
                Color32::from_rgba_unmultiplied(230, 80, 70, 70)
            } else {
                Color32::from_rgba_unmultiplied(160, 160, 160, 14)
            },
        );
        for hz in [50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0] {
            let x = x_of(hz);
            painter.vline(
                x,
                plot.y_range(),
                Stroke::new(0.5, weak.gamma_multiply(0.3)),
            );
            painter.text(
                Pos2::new(x, plot.bottom() + 2.0),
                Align2::CENTER_TOP,
                if hz >= 1000.0 {
                    format!("{:.0}k", hz / 1000.0)
                } else {
                    format!("{hz:.0}")
                },
                font.clone(),
                weak,
            );
        }
        let mut db = RANGE_DB.0;
        while db <= RANGE_DB.1 {
            painter.text(
                Pos2::new(plot.left() - 3.0, y_of(db)),
                Align2::RIGHT_CENTER,
                format!("{db:.0}"),
                font.clone(),
                weak,
            );
            db += 30.0;
        }

        let centres = SpectrumAnalyzer::sixth_octave_centres_hz();
        let line: Vec<Pos2> = centres
            .iter()
            .zip(&self.displayed_db)
            .filter(|(&hz, db)| (RANGE_HZ.0..=RANGE_HZ.1).contains(&hz) && db.is_finite())
            .map(|(&hz, &db)| Pos2::new(x_of(hz), y_of(db)))
            .collect();
        if line.len() > 1 {
            for pair in line.windows(2) {
                painter.add(Shape::convex_polygon(
                    vec![
                        pair[0],
                        pair[1],
                        Pos2::new(pair[1].x, plot.bottom()),
                        Pos2::new(pair[0].x, plot.bottom()),
                    ],
                    Color32::from_rgba_unmultiplied(120, 170, 230, 50),
                    Stroke::NONE,
                ));
            }
            painter.add(Shape::line(
                line,
                Stroke::new(1.5, Color32::from_rgb(120, 170, 230)),
            ));
        }

        // The role's reference: pink noise tilted about 1 kHz, through the
        // measured 500–2000 Hz level.
        if let Some(reference) = tone_reference(role) {
            let (sum, count) = centres
                .iter()
                .zip(&self.displayed_db)
                .filter(|(&hz, db)| (500.0..=2000.0).contains(&hz) && **db > RANGE_DB.0)
                .fold((0.0, 0), |(s, n), (_, &db)| (s + db, n + 1));
            if count > 0 {
                let anchor = sum / count as f32;
                let at = |hz: f32| anchor + reference.tilt_db_per_octave * (hz / 1000.0).log2();
                painter.line_segment(
                    [
                        Pos2::new(x_of(RANGE_HZ.0), y_of(at(RANGE_HZ.0))),
                        Pos2::new(x_of(RANGE_HZ.1), y_of(at(RANGE_HZ.1))),
                    ],
                    Stroke::new(1.0, Color32::from_rgb(235, 175, 60)),
                );
            }
        }
        response.on_hover_text(format!(
            "1/6-octave spectrum of the output, dB (pink noise reads flat; a full-scale sine \
             reads 0 dB). Amber line: the {} reference the triage judges tone against \
             ({}). Red band: 2–5 kHz while harsh high mids are raised.",
            role.display_name(),
            match tone_reference(role) {
                Some(r) => format!(
                    "{:+.1} dB per octave against pink noise",
                    r.tilt_db_per_octave
                ),
                None => "none for this role".to_string(),
            }
        ));
    }
}
