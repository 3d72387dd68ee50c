//! A horizontal peak meter with ballistics computed on the GUI side.

use super::peak_dbfs;

/// Bottom of the peak meter scale, in dBFS.
pub const PEAK_METER_FLOOR_DB: f32 = -60.0;
/// How fast a displayed peak falls, in dB per second (IEC 60268-18 peak
/// programme meters fall 20 dB in 1.7 s; this is close, and simpler).
const FALL_DB_PER_S: f32 = 12.0;

/// A displayed peak that jumps up at once and falls at a fixed rate.
#[derive(Debug, Clone)]
pub struct PeakBallistics {
    /// Value on screen, in dBFS.
    displayed_db: f32,
}

impl Default for PeakBallistics {
    fn default() -> Self {
        Self {
            displayed_db: PEAK_METER_FLOOR_DB,
        }
    }
}

impl PeakBallistics {
    /// Takes the peak measured since the last frame (linear) and the time
    /// since the last frame (seconds).
    pub fn update(&mut self, measured_peak: f32, elapsed_s: f32) {
        let fallen = self.displayed_db - FALL_DB_PER_S * elapsed_s;
        self.displayed_db = peak_dbfs(measured_peak)
            .max(fallen)
            .max(PEAK_METER_FLOOR_DB);
    }

    /// Value to draw, in dBFS.
    pub fn displayed_db(&self) -> f32 {
        self.displayed_db
    }
}

/// Draws one labelled meter row.
pub fn show(ui: &mut egui::Ui, label: &str, level_db: f32) {
    ui.horizontal(|ui| {
        ui.label(format!("{label:>3}"));
        let fraction = ((level_db - PEAK_METER_FLOOR_DB) / -PEAK_METER_FLOOR_DB).clamp(0.0, 1.0);
        let text = if level_db <= PEAK_METER_FLOOR_DB {
            "−∞ dBFS".to_string()
        } else {
            format!("{level_db:.1} dBFS")
        };
        ui.add(
            egui::ProgressBar::new(fraction)
                .desired_width(300.0)
                .text(text),
        )
        .on_hover_text("Sample peak, dBFS; falls 12 dB per second");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_up_and_falls_at_the_set_rate() {
        let mut meter = PeakBallistics::default();
        meter.update(1.0, 0.0);
        assert_eq!(meter.displayed_db(), 0.0);
        meter.update(0.0, 0.5);
        assert!((meter.displayed_db() + 6.0).abs() < 1e-4);
        meter.update(0.0, 100.0);
        assert_eq!(meter.displayed_db(), PEAK_METER_FLOOR_DB);
    }
}
