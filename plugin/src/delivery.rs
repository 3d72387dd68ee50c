//! Delivery targets: the integrated loudness and true-peak ceiling a
//! platform or standard expects.
//!
//! Sources: Spotify for Artists (−14 LUFS, −1 dBTP), Apple Music Sound Check
//! (≈ −16 LUFS, −1 dBTP), YouTube (−14 LUFS, turn-down only), Amazon Music
//! (−14 LUFS, −2 dBTP), Deezer (−15 LUFS), AES TD1008 (music −16 LUFS per
//! track, ≤ −1 dBTP), EBU R128 broadcast (−23 LUFS, −1 dBTP).

/// Where the master is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeliveryTarget {
    #[default]
    Spotify,
    AppleMusic,
    YouTube,
    Amazon,
    Deezer,
    Aes,
    Ebu,
    /// The loudness set by the user; the limiter's own ceiling.
    Custom,
}

impl DeliveryTarget {
    /// Every target, in parameter order (never reorder).
    pub const ALL: [DeliveryTarget; 8] = [
        DeliveryTarget::Spotify,
        DeliveryTarget::AppleMusic,
        DeliveryTarget::YouTube,
        DeliveryTarget::Amazon,
        DeliveryTarget::Deezer,
        DeliveryTarget::Aes,
        DeliveryTarget::Ebu,
        DeliveryTarget::Custom,
    ];

    /// Permanent machine name (CLI, saved state).
    pub const fn id(self) -> &'static str {
        match self {
            DeliveryTarget::Spotify => "spotify",
            DeliveryTarget::AppleMusic => "apple",
            DeliveryTarget::YouTube => "youtube",
            DeliveryTarget::Amazon => "amazon",
            DeliveryTarget::Deezer => "deezer",
            DeliveryTarget::Aes => "aes",
            DeliveryTarget::Ebu => "ebu",
            DeliveryTarget::Custom => "custom",
        }
    }

    /// Name shown to the user (its lower case is the machine name).
    pub const fn display_name(self) -> &'static str {
        match self {
            DeliveryTarget::Spotify => "Spotify",
            DeliveryTarget::AppleMusic => "Apple",
            DeliveryTarget::YouTube => "YouTube",
            DeliveryTarget::Amazon => "Amazon",
            DeliveryTarget::Deezer => "Deezer",
            DeliveryTarget::Aes => "AES",
            DeliveryTarget::Ebu => "EBU",
            DeliveryTarget::Custom => "Custom",
        }
    }

    /// What the target is, for tooltips.
    pub const fn description(self) -> &'static str {
        match self {
            DeliveryTarget::Spotify => "Spotify: −14 LUFS, −1 dBTP",
            DeliveryTarget::AppleMusic => "Apple Music (Sound Check): −16 LUFS, −1 dBTP",
            DeliveryTarget::YouTube => "YouTube: −14 LUFS (turned down only), −1 dBTP",
            DeliveryTarget::Amazon => "Amazon Music: −14 LUFS, −2 dBTP",
            DeliveryTarget::Deezer => "Deezer: −15 LUFS, −1 dBTP",
            DeliveryTarget::Aes => "AES TD1008 (music): −16 LUFS per track, −1 dBTP",
            DeliveryTarget::Ebu => "EBU R128 broadcast: −23 LUFS, −1 dBTP",
            DeliveryTarget::Custom => "Custom loudness; the limiter's own ceiling",
        }
    }

    /// Target integrated loudness, LUFS; `custom_lufs` for [`Self::Custom`].
    pub fn loudness_lufs(self, custom_lufs: f32) -> f32 {
        match self {
            DeliveryTarget::Spotify | DeliveryTarget::YouTube | DeliveryTarget::Amazon => -14.0,
            DeliveryTarget::AppleMusic | DeliveryTarget::Aes => -16.0,
            DeliveryTarget::Deezer => -15.0,
            DeliveryTarget::Ebu => -23.0,
            DeliveryTarget::Custom => custom_lufs,
        }
    }

    /// Highest true peak the target allows, dBTP; `None` for
    /// [`Self::Custom`] (the limiter's ceiling decides).
    pub fn ceiling_dbtp(self) -> Option<f32> {
        match self {
            DeliveryTarget::Amazon => Some(-2.0),
            DeliveryTarget::Custom => None,
            _ => Some(-1.0),
        }
    }

    /// Parses a machine or display name, ignoring case.
    pub fn parse(text: &str) -> Option<DeliveryTarget> {
        let wanted = text.trim().to_lowercase();
        Self::ALL
            .into_iter()
            .find(|t| t.id() == wanted || t.display_name().to_lowercase() == wanted)
    }
}

/// Drive into the limiter, dB, that brings a signal measured at
/// `measured_lufs` before the limiter to `target_lufs`, within the drive's
/// 0 to +24 dB range. Limiting takes a little loudness back, so heavily
/// limited material lands slightly below the target; the meters show where.
pub fn learned_drive_db(measured_lufs: f64, target_lufs: f32) -> f32 {
    ((f64::from(target_lufs) - measured_lufs) as f32).clamp(0.0, 24.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_their_figures() {
        let figures: Vec<(&str, f32, Option<f32>)> = DeliveryTarget::ALL
            .iter()
            .map(|t| (t.id(), t.loudness_lufs(-12.0), t.ceiling_dbtp()))
            .collect();
        assert_eq!(
            figures,
            [
                ("spotify", -14.0, Some(-1.0)),
                ("apple", -16.0, Some(-1.0)),
                ("youtube", -14.0, Some(-1.0)),
                ("amazon", -14.0, Some(-2.0)),
                ("deezer", -15.0, Some(-1.0)),
                ("aes", -16.0, Some(-1.0)),
                ("ebu", -23.0, Some(-1.0)),
                ("custom", -12.0, None),
            ]
        );
        assert_eq!(
            DeliveryTarget::parse("Apple"),
            Some(DeliveryTarget::AppleMusic)
        );
        assert_eq!(DeliveryTarget::parse("EBU"), Some(DeliveryTarget::Ebu));
        assert_eq!(DeliveryTarget::parse("tidal"), None);
        assert_eq!(learned_drive_db(-20.0, -14.0), 6.0);
        assert_eq!(learned_drive_db(-10.0, -14.0), 0.0, "never turns down");
        assert_eq!(learned_drive_db(-60.0, -14.0), 24.0);
    }
}
