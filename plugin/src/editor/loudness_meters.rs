//! Loudness bars on an EBU R128 scale (EBU Tech 3341: "EBU +9", 27 LU
//! shown, and "EBU +18", 54 LU shown), placed so that 0 LU is the chosen
//! delivery target, with the target drawn as a line; and a true-peak bar
//! with the limiter's ceiling.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Vec2};

use super::meter_bar::PEAK_METER_FLOOR_DB;

/// Which EBU scale the bars use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoudnessScale {
    /// −18 … +9 LU around the target (EBU Tech 3341 "EBU +9").
    #[default]
    Ebu9,
    /// −36 … +18 LU around the target ("EBU +18").
    Ebu18,
}

impl LoudnessScale {
    /// LU shown below and above the target.
    pub fn range_lu(self) -> (f32, f32) {
        match self {
            LoudnessScale::Ebu9 => (-18.0, 9.0),
            LoudnessScale::Ebu18 => (-36.0, 18.0),
        }
    }

    /// Spacing of the scale's ticks, LU.
    fn tick_lu(self) -> f32 {
        match self {
            LoudnessScale::Ebu9 => 3.0,
            LoudnessScale::Ebu18 => 6.0,
        }
    }

    /// Name on the switch.
    pub fn label(self) -> &'static str {
        match self {
            LoudnessScale::Ebu9 => "EBU +9",
            LoudnessScale::Ebu18 => "EBU +18",
        }
    }
}

/// What the bars show, LUFS / dBTP; NaN for not measured yet.
#[derive(Debug, Clone, Copy)]
pub struct LoudnessBars {
    /// Momentary loudness (GUI ballistics applied), LUFS.
    pub momentary_lufs: f32,
    /// Short-term loudness, LUFS.
    pub short_term_lufs: f32,
    /// Integrated loudness, LUFS.
    pub integrated_lufs: f32,
    /// True peak of the last 3 s (falling), dBTP.
    pub true_peak_dbtp: f32,
    /// Highest true peak since reset, dBTP.
    pub true_peak_max_dbtp: f32,
    /// Delivery target, LUFS.
    pub target_lufs: f32,
    /// The limiter ceiling in force, dBTP.
    pub ceiling_dbtp: f32,
}

/// Colour of a loudness against the target: green within ±1 LU, amber
/// above, blue below.
fn loudness_colour(relative_lu: f32) -> Color32 {
    if relative_lu > 1.0 {
        Color32::from_rgb(235, 175, 60)
    } else if relative_lu < -1.0 {
        Color32::from_rgb(90, 150, 220)
    } else {
        Color32::from_rgb(90, 200, 120)
    }
}

/// Draws the bars in a block `height` points high.
pub fn show(ui: &mut egui::Ui, bars: &LoudnessBars, scale: LoudnessScale, height: f32) {
    let bar_width = 26.0;
    let gap = 10.0;
    let axis_width = 34.0;
    let width = axis_width + 3.0 * (bar_width + gap) + axis_width + bar_width + gap;
    let (response, painter) = ui.allocate_painter(Vec2::new(width, height), Sense::hover());
    let rect = response.rect;
    let top = rect.top() + 6.0;
    let bottom = rect.bottom() - 18.0;
    let (low_lu, high_lu) = scale.range_lu();
    let y_of_lu = |lu: f32| {
        let t = ((lu - low_lu) / (high_lu - low_lu)).clamp(0.0, 1.0);
        bottom + (top - bottom) * t
    };
    let text = ui.visuals().text_color();
    let weak = ui.visuals().weak_text_color();
    let font = FontId::proportional(10.0);
    let background = ui.visuals().extreme_bg_color;

    // The LU axis, 0 = the target.
    let mut lu = low_lu;
    while lu <= high_lu + 1e-3 {
        let y = y_of_lu(lu);
        painter.text(
            Pos2::new(rect.left() + axis_width - 4.0, y),
            Align2::RIGHT_CENTER,
            format!("{lu:+.0}"),
            font.clone(),
            if lu == 0.0 { text } else { weak },
        );
        lu += scale.tick_lu();
    }
    let values = [
        ("M", bars.momentary_lufs),
        ("S", bars.short_term_lufs),
        ("I", bars.integrated_lufs),
    ];
    for (k, (label, lufs)) in values.into_iter().enumerate() {
        let x = rect.left() + axis_width + k as f32 * (bar_width + gap);
        let bar = Rect::from_min_max(Pos2::new(x, top), Pos2::new(x + bar_width, bottom));
        painter.rect_filled(bar, 2.0, background);
        let relative = lufs - bars.target_lufs;
        if relative.is_finite() {
            let fill = Rect::from_min_max(Pos2::new(x, y_of_lu(relative)), bar.right_bottom());
            painter.rect_filled(fill, 2.0, loudness_colour(relative));
        }
        painter.text(
            Pos2::new(x + bar_width / 2.0, bottom + 2.0),
            Align2::CENTER_TOP,
            label,
            font.clone(),
            text,
        );
    }
    // The target line across the three bars.
    let target_y = y_of_lu(0.0);
    painter.hline(
        (rect.left() + axis_width - 2.0)
            ..=(rect.left() + axis_width + 3.0 * (bar_width + gap) - gap + 2.0),
        target_y,
        Stroke::new(1.5, text),
    );

    // True peak, dBTP from the meter floor to +3.
    let tp_left = rect.left() + axis_width + 3.0 * (bar_width + gap) + axis_width;
    let tp_top_db = 3.0;
    let tp_low_db = PEAK_METER_FLOOR_DB.max(-30.0);
    let y_of_db = |db: f32| {
        let t = ((db - tp_low_db) / (tp_top_db - tp_low_db)).clamp(0.0, 1.0);
        bottom + (top - bottom) * t
    };
    for db in [3.0f32, 0.0, -6.0, -12.0, -18.0, -24.0, -30.0] {
        painter.text(
            Pos2::new(tp_left - 4.0, y_of_db(db)),
            Align2::RIGHT_CENTER,
            format!("{db:+.0}"),
            font.clone(),
            weak,
        );
    }
    let bar = Rect::from_min_max(
        Pos2::new(tp_left, top),
        Pos2::new(tp_left + bar_width, bottom),
    );
    painter.rect_filled(bar, 2.0, background);
    if bars.true_peak_dbtp.is_finite() {
        let over = bars.true_peak_dbtp > bars.ceiling_dbtp;
        let fill = Rect::from_min_max(
            Pos2::new(tp_left, y_of_db(bars.true_peak_dbtp)),
            bar.right_bottom(),
        );
        painter.rect_filled(
            fill,
            2.0,
            if over {
                Color32::from_rgb(230, 80, 70)
            } else {
                Color32::from_rgb(150, 150, 160)
            },
        );
    }
    if bars.true_peak_max_dbtp.is_finite() {
        painter.hline(
            tp_left..=tp_left + bar_width,
            y_of_db(bars.true_peak_max_dbtp),
            Stroke::new(2.0, Color32::WHITE),
        );
    }
    painter.hline(
        (tp_left - 2.0)..=(tp_left + bar_width + 2.0),
        y_of_db(bars.ceiling_dbtp),
        Stroke::new(1.5, Color32::from_rgb(230, 80, 70)),
    );
    painter.text(
        Pos2::new(tp_left + bar_width / 2.0, bottom + 2.0),
        Align2::CENTER_TOP,
        "TP",
        font,
        text,
    );
    response.on_hover_text(format!(
        "M, S, I: momentary (400 ms), short-term (3 s) and integrated loudness on the {} scale; \
         0 LU is the target, {:.1} LUFS (line). Green within ±1 LU, amber above, blue below.\n\
         TP: true peak of the last 3 s, dBTP, with the highest since reset (white) and the \
         ceiling in force, {:.1} dBTP (red line).",
        scale.label(),
        bars.target_lufs,
        bars.ceiling_dbtp
    ));
}
