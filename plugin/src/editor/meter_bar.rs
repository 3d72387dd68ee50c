//! Meter ballistics, computed on the GUI side from what the audio thread
//! holds, and the horizontal bar that shows a level.

use super::peak_dbfs;

/// Bottom of the peak meter scale, in dBFS.
pub const PEAK_METER_FLOOR_DB: f32 = -60.0;
/// How fast a displayed peak falls, in dB per second (IEC 60268-18 peak
/// programme meters fall 20 dB in 1.7 s; this is close, and simpler).
const PEAK_FALL_DB_PER_S: f32 = 12.0;
/// How fast a displayed gain reduction returns to zero, dB per second.
const REDUCTION_FALL_DB_PER_S: f32 = 20.0;

/// A displayed value that jumps up at once and falls at a fixed rate to a
/// floor.
#[derive(Debug, Clone)]
pub struct Ballistics {
    /// Value on screen, in the meter's unit.
    displayed: f32,
    /// Fall rate, units per second.
    fall_per_s: f32,
    /// Lowest value shown.
    floor: f32,
}

impl Ballistics {
    /// A peak meter in dBFS.
    pub const fn peak() -> Self {
        Self {
            displayed: PEAK_METER_FLOOR_DB,
            fall_per_s: PEAK_FALL_DB_PER_S,
            floor: PEAK_METER_FLOOR_DB,
        }
    }

    /// A gain-reduction meter in dB (≥ 0).
    pub const fn reduction() -> Self {
        Self {
            displayed: 0.0,
            fall_per_s: REDUCTION_FALL_DB_PER_S,
            floor: 0.0,
        }
    }

    /// Takes the value measured since the last frame (the meter's unit; NaN
    /// counts as nothing) and the time since the last frame (seconds).
    pub fn update(&mut self, measured: f32, elapsed_s: f32) {
        let fallen = self.displayed - self.fall_per_s * elapsed_s;
        let measured = if measured.is_nan() {
            self.floor
        } else {
            measured
        };
        self.displayed = measured.max(fallen).max(self.floor);
    }

    /// Takes a linear sample peak (full scale 1.0).
    pub fn update_peak(&mut self, measured_peak: f32, elapsed_s: f32) {
        self.update(peak_dbfs(measured_peak), elapsed_s);
    }

    /// Value to draw.
    pub fn displayed(&self) -> f32 {
        self.displayed
    }
}

/// Moves `current` towards `target` as a first-order lag with time
/// constant `tau_s` over `elapsed_s` seconds; a non-finite current value
/// jumps to the target.
pub fn approach(current: f32, target: f32, elapsed_s: f32, tau_s: f32) -> f32 {
    if !current.is_finite() || !target.is_finite() {
        return target;
    }
    current + (target - current) * (1.0 - (-elapsed_s / tau_s).exp())
}

/// Draws one labelled peak meter row (sample peak in dBFS).
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
                .desired_width(ui.available_width().clamp(80.0, 260.0))
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
        let mut meter = Ballistics::peak();
        meter.update_peak(1.0, 0.0);
        assert_eq!(meter.displayed(), 0.0);
        meter.update_peak(0.0, 0.5);
        assert!((meter.displayed() + 6.0).abs() < 1e-4);
        meter.update_peak(0.0, 100.0);
        assert_eq!(meter.displayed(), PEAK_METER_FLOOR_DB);

        let mut reduction = Ballistics::reduction();
        reduction.update(6.0, 0.1);
        assert_eq!(reduction.displayed(), 6.0);
        reduction.update(f32::NAN, 0.1);
        assert!((reduction.displayed() - 4.0).abs() < 1e-4);
    }

    /// A first-order lag reaches 1 − 1/e of a step after one time constant,
    /// whatever the frame rate.
    #[test]
    fn approach_is_a_first_order_lag() {
        let mut x = 0.0;
        for _ in 0..10 {
            x = approach(x, 1.0, 0.03, 0.3);
        }
        assert!((x - (1.0 - (-1.0f32).exp())).abs() < 1e-5, "{x}");
        assert_eq!(approach(f32::NEG_INFINITY, -20.0, 0.01, 0.3), -20.0);
    }
}
