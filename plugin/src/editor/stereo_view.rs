//! Stereo: phase correlation, broadband and below 150 Hz, as bars from −1
//! to +1 (smoothed on the GUI side), and a goniometer of the latest output
//! samples (mid up, side across; auto-scaled to the loudest point).

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Vec2};

use super::meter_bar::approach;
use crate::shared::{SharedState, SCOPE_POINTS};

/// Time constant of the correlation display, seconds.
const CORRELATION_TAU_S: f32 = 0.3;

/// The view's state between frames.
pub struct StereoView {
    /// Displayed broadband correlation.
    correlation: f32,
    /// Displayed low-band correlation.
    low_correlation: f32,
    /// The goniometer's samples (allocated once).
    points: Vec<(f32, f32)>,
    /// The goniometer's scale: full width = this amplitude (falls slowly).
    scale: f32,
}

impl Default for StereoView {
    fn default() -> Self {
        Self {
            correlation: f32::NAN,
            low_correlation: f32::NAN,
            points: vec![(0.0, 0.0); SCOPE_POINTS],
            scale: 0.1,
        }
    }
}

/// Colour of a correlation: red when out of phase, amber when wide, green
/// when safely in phase.
fn correlation_colour(value: f32) -> Color32 {
    if value < 0.0 {
        Color32::from_rgb(230, 80, 70)
    } else if value < 0.3 {
        Color32::from_rgb(235, 175, 60)
    } else {
        Color32::from_rgb(90, 200, 120)
    }
}

fn correlation_bar(ui: &mut egui::Ui, label: &str, value: f32, help: &str) {
    let width = ui.available_width().clamp(120.0, 400.0);
    let (response, painter) = ui.allocate_painter(Vec2::new(width, 18.0), Sense::hover());
    let rect = response.rect;
    let bar = Rect::from_min_max(
        rect.min + Vec2::new(64.0, 2.0),
        rect.max - Vec2::new(40.0, 2.0),
    );
    let text = ui.visuals().text_color();
    let font = FontId::proportional(11.0);
    painter.text(
        Pos2::new(rect.left(), rect.center().y),
        Align2::LEFT_CENTER,
        label,
        font.clone(),
        text,
    );
    painter.rect_filled(bar, 2.0, ui.visuals().extreme_bg_color);
    let x_of = |c: f32| bar.left() + bar.width() * (c.clamp(-1.0, 1.0) + 1.0) / 2.0;
    painter.vline(
        x_of(0.0),
        bar.y_range(),
        Stroke::new(1.0, ui.visuals().weak_text_color()),
    );
    if value.is_finite() {
        let (a, b) = (x_of(0.0).min(x_of(value)), x_of(0.0).max(x_of(value)));
        painter.rect_filled(
            Rect::from_x_y_ranges(a..=b.max(a + 2.0), bar.y_range()),
            1.0,
            correlation_colour(value),
        );
    }
    painter.text(
        Pos2::new(rect.right(), rect.center().y),
        Align2::RIGHT_CENTER,
        if value.is_finite() {
            format!("{value:+.2}")
        } else {
            "—".to_string()
        },
        FontId::monospace(11.0),
        text,
    );
    response.on_hover_text(help);
}

impl StereoView {
    /// Draws the view; `elapsed_s` is the time since the last frame.
    pub fn show(&mut self, ui: &mut egui::Ui, shared: &SharedState, elapsed_s: f32) {
        let m = &shared.meters;
        self.correlation = approach(
            self.correlation,
            m.correlation.load().unwrap_or(f32::NAN),
            elapsed_s,
            CORRELATION_TAU_S,
        );
        self.low_correlation = approach(
            self.low_correlation,
            m.low_band_correlation.load().unwrap_or(f32::NAN),
            elapsed_s,
            CORRELATION_TAU_S,
        );
        ui.strong("Stereo");
        correlation_bar(
            ui,
            "Correlation",
            self.correlation,
            "Phase correlation of the whole band over 300 ms, −1 to +1: +1 mono, 0 unrelated \
             channels, below 0 out of phase (cancels in mono)",
        );
        correlation_bar(
            ui,
            "Below 150 Hz",
            self.low_correlation,
            "Phase correlation below 150 Hz, −1 to +1: the low end should stay near +1",
        );

        let side = ui.available_width().clamp(100.0, 150.0);
        let (response, painter) = ui.allocate_painter(Vec2::splat(side), Sense::hover());
        let rect = response.rect;
        painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        let weak = ui.visuals().weak_text_color().gamma_multiply(0.5);
        let centre = rect.center();
        let half = side / 2.0 - 6.0;
        painter.line_segment(
            [
                Pos2::new(centre.x, rect.top()),
                Pos2::new(centre.x, rect.bottom()),
            ],
            Stroke::new(0.5, weak),
        );
        painter.line_segment(
            [
                Pos2::new(rect.left(), centre.y),
                Pos2::new(rect.right(), centre.y),
            ],
            Stroke::new(0.5, weak),
        );
        // The L and R axes (45°).
        painter.line_segment(
            [
                centre - Vec2::splat(half * 0.7),
                centre + Vec2::splat(half * 0.7),
            ],
            Stroke::new(0.5, weak),
        );
        painter.line_segment(
            [
                centre + Vec2::new(-half * 0.7, half * 0.7),
                centre + Vec2::new(half * 0.7, -half * 0.7),
            ],
            Stroke::new(0.5, weak),
        );
        let font = FontId::proportional(10.0);
        painter.text(
            rect.left_top() + Vec2::new(4.0, 2.0),
            Align2::LEFT_TOP,
            "L",
            font.clone(),
            weak,
        );
        painter.text(
            rect.right_top() + Vec2::new(-4.0, 2.0),
            Align2::RIGHT_TOP,
            "R",
            font,
            weak,
        );

        let count = shared.scope.copy_latest(&mut self.points);
        let loudest = self.points[..count]
            .iter()
            .map(|&(l, r)| l.abs().max(r.abs()))
            .filter(|x| x.is_finite())
            .fold(0.0f32, f32::max);
        // Auto-scale: up at once, down slowly (a fifth per second).
        self.scale = (self.scale * (1.0 - 0.2 * elapsed_s).max(0.5))
            .max(loudest)
            .max(1e-4);
        let colour = Color32::from_rgba_unmultiplied(120, 220, 160, 90);
        // |l ± r| ≤ 2·scale: the loudest sample reaches the edge.
        let gain = half / (2.0 * self.scale);
        for &(l, r) in &self.points[..count] {
            if !(l.is_finite() && r.is_finite()) {
                continue;
            }
            let (mid, sides) = (l + r, r - l);
            let p = centre + Vec2::new(sides * gain, -mid * gain);
            painter.rect_filled(Rect::from_center_size(p, Vec2::splat(1.5)), 0.0, colour);
        }
        response.on_hover_text(
            "Goniometer of the last 4096 output samples (85 ms at 48 kHz): mono is a vertical line, out-of-phase \
             signal lies across; scaled to the loudest sample",
        );
    }
}
