//! Short-term and momentary loudness over the last 1 to 10 minutes, with
//! the target's ±1 LU band. Zoom with the slider or the mouse wheel over
//! the graph.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Vec2};

use crate::shared::SharedState;

/// History points per second (the analyzer's 100 ms step).
const POINTS_PER_S: f32 = 10.0;
/// Shortest and longest span shown, minutes.
const SPAN_MINUTES: (f32, f32) = (1.0, 10.0);
/// Half-width of the target band, LU.
const TARGET_BAND_LU: f32 = 1.0;

/// The graph's state between frames.
pub struct HistoryGraph {
    /// Span shown, minutes.
    span_minutes: f32,
    /// The points read this frame (allocated once, at the longest span).
    points: Vec<(f32, f32)>,
}

impl Default for HistoryGraph {
    fn default() -> Self {
        Self {
            span_minutes: 2.0,
            points: vec![(f32::NAN, f32::NAN); (SPAN_MINUTES.1 * 60.0 * POINTS_PER_S) as usize],
        }
    }
}

impl HistoryGraph {
    /// Draws the graph, `height` points high, against `target_lufs`, with
    /// `range_lu` (below, above) around it.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        shared: &SharedState,
        target_lufs: f32,
        range_lu: (f32, f32),
        height: f32,
    ) {
        ui.horizontal(|ui| {
            ui.strong("History")
                .on_hover_text("Short-term (bold) and momentary loudness, LUFS");
            ui.add(
                egui::Slider::new(&mut self.span_minutes, SPAN_MINUTES.0..=SPAN_MINUTES.1)
                    .suffix(" min")
                    .fixed_decimals(0),
            )
            .on_hover_text("Span shown, minutes (or the mouse wheel over the graph)");
        });
        let width = ui.available_width().max(100.0);
        let (response, painter) = ui.allocate_painter(Vec2::new(width, height), Sense::hover());
        if response.hovered() {
            let scroll = ui.input(|input| input.smooth_scroll_delta.y);
            if scroll != 0.0 {
                self.span_minutes = (self.span_minutes * (1.0 - scroll / 400.0))
                    .clamp(SPAN_MINUTES.0, SPAN_MINUTES.1);
            }
        }
        let rect = response.rect;
        let plot = Rect::from_min_max(
            rect.min + Vec2::new(40.0, 4.0),
            rect.max - Vec2::new(4.0, 16.0),
        );
        painter.rect_filled(plot, 2.0, ui.visuals().extreme_bg_color);
        let (low, high) = (target_lufs + range_lu.0, target_lufs + range_lu.1);
        let y_of = |lufs: f32| {
            plot.bottom()
                + (plot.top() - plot.bottom()) * ((lufs - low) / (high - low)).clamp(0.0, 1.0)
        };
        let weak = ui.visuals().weak_text_color();
        let font = FontId::proportional(10.0);

        // The target band and the loudness axis every 6 LU.
        painter.rect_filled(
            Rect::from_x_y_ranges(
                plot.x_range(),
                y_of(target_lufs + TARGET_BAND_LU)..=y_of(target_lufs - TARGET_BAND_LU),
            ),
            0.0,
            Color32::from_rgba_unmultiplied(90, 200, 120, 40),
        );
        let mut lu = (range_lu.0 / 6.0).ceil() * 6.0;
        while lu <= range_lu.1 {
            let y = y_of(target_lufs + lu);
            painter.hline(
                plot.x_range(),
                y,
                Stroke::new(0.5, weak.gamma_multiply(0.4)),
            );
            painter.text(
                Pos2::new(plot.left() - 4.0, y),
                Align2::RIGHT_CENTER,
                format!("{:.0}", target_lufs + lu),
                font.clone(),
                weak,
            );
            lu += 6.0;
        }
        let span_s = self.span_minutes.round() * 60.0;
        for minute in 0..=(span_s / 60.0) as usize {
            let x = plot.right() - plot.width() * (minute as f32 * 60.0 / span_s);
            painter.text(
                Pos2::new(x, plot.bottom() + 2.0),
                Align2::CENTER_TOP,
                if minute == 0 {
                    "now".to_string()
                } else {
                    format!("−{minute} min")
                },
                font.clone(),
                weak,
            );
        }

        let wanted = ((span_s * POINTS_PER_S) as usize).min(self.points.len());
        let count = shared.history.copy_latest(&mut self.points[..wanted]);
        let x_of = |i: usize| {
            plot.right() - plot.width() * ((count - 1 - i) as f32 / wanted.max(1) as f32)
        };
        for (pick, colour, stroke_width) in [
            (0usize, Color32::from_rgb(120, 170, 230), 1.0),
            (1usize, Color32::from_rgb(240, 240, 240), 2.0),
        ] {
            // Points below the scale are drawn at its floor; unmeasured
            // ones (−∞) break the line.
            let mut line = Vec::with_capacity(count);
            for (i, &(momentary, short_term)) in self.points[..count].iter().enumerate() {
                let value = if pick == 0 { momentary } else { short_term };
                if value.is_finite() {
                    line.push(Pos2::new(x_of(i), y_of(value)));
                } else if line.len() > 1 {
                    painter.add(Shape::line(
                        std::mem::take(&mut line),
                        Stroke::new(stroke_width, colour),
                    ));
                } else {
                    line.clear();
                }
            }
            if line.len() > 1 {
                painter.add(Shape::line(line, Stroke::new(stroke_width, colour)));
            }
        }
        let _ = response.on_hover_text(format!(
            "Short-term loudness (white) and momentary (blue) over the last {:.0} min; the \
             green band is the target ±{TARGET_BAND_LU:.0} LU",
            span_s / 60.0
        ));
    }
}
