//! Stem link: instances on stem buses share what they measure with the
//! instance on the master bus.
//!
//! [`registry`] is the process-wide table the instances publish into;
//! [`StemPublication`] is what one instance publishes. Plain Rust: nothing
//! here knows the plugin framework.

pub mod aggregate;
pub mod inspect;
pub mod registry;

use crate::triage::{Finding, HintId};
use registry::{LinkedStem, MAX_LINKED};

use crate::meter::spectrum::SIXTH_OCTAVE_BINS;
use crate::meter::AnalyzerReadings;
use crate::role::StemRole;

/// Third-octave bands published: centres `1000·2^(j/3)` Hz for
/// `j = −17..=13` (19.7 Hz … 8 kHz … 20.2 kHz).
pub const LINK_BANDS: usize = 31;
/// Longest name, bytes of UTF-8.
pub const NAME_BYTES: usize = 32;

/// What one instance publishes to the link. Missing values are NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StemPublication {
    /// What the instance processes.
    pub role: StemRole,
    /// Its name (UTF-8, `name_len` bytes) as the user set it; empty for
    /// the role's name ([`Self::display_name`]).
    pub name: [u8; NAME_BYTES],
    /// Bytes of `name` in use.
    pub name_len: u8,
    /// Momentary loudness (400 ms), LUFS.
    pub momentary_lufs: f32,
    /// Short-term loudness (3 s), LUFS.
    pub short_term_lufs: f32,
    /// Integrated loudness since the meter's reset, LUFS.
    pub integrated_lufs: f32,
    /// Highest true peak of the last 3 s, dBTP.
    pub true_peak_dbtp: f32,
    /// Third-octave band levels of the spectrum's 3 s average, dB re a
    /// full-scale sine, [`LINK_BANDS`] bands.
    pub band_db: [f32; LINK_BANDS],
    /// Level below 150 Hz: the low band's share of the stereo energy over
    /// the last 300 ms, dB (NaN for mono); shown, not judged.
    pub low_band_db: f32,
    /// Phase correlation of the last 300 ms, −1..=1 (NaN for mono).
    pub correlation: f32,
    /// Sample rate of the instance, Hz.
    pub sample_rate_hz: f32,
}

impl StemPublication {
    /// Nothing measured yet.
    pub fn empty(role: StemRole) -> Self {
        Self {
            role,
            name: [0; NAME_BYTES],
            name_len: 0,
            momentary_lufs: f32::NAN,
            short_term_lufs: f32::NAN,
            integrated_lufs: f32::NAN,
            true_peak_dbtp: f32::NAN,
            band_db: [f32::NAN; LINK_BANDS],
            low_band_db: f32::NAN,
            correlation: f32::NAN,
            sample_rate_hz: f32::NAN,
        }
    }

    /// The analyzer's current values for an instance of `role` at
    /// `sample_rate_hz`: loudness and peaks from `readings`, third-octave
    /// bands from the 1/6-octave spectrum `sixth_octave_db` (its 3 s
    /// average), the low band's share from the stereo moments
    /// `low_share_db`.
    pub fn measure(
        role: StemRole,
        sample_rate_hz: f32,
        readings: &AnalyzerReadings,
        sixth_octave_db: &[f32],
        low_share_db: Option<f32>,
    ) -> Self {
        let value = |x: Option<f64>| x.map_or(f32::NAN, |x| x as f32);
        let l = &readings.loudness;
        Self {
            momentary_lufs: value(l.momentary_lufs),
            short_term_lufs: value(l.short_term_lufs),
            integrated_lufs: value(l.integrated_lufs),
            true_peak_dbtp: value(readings.true_peak_recent_dbtp),
            band_db: third_octaves(sixth_octave_db),
            low_band_db: low_share_db.unwrap_or(f32::NAN),
            correlation: readings.correlation.unwrap_or(f32::NAN),
            sample_rate_hz,
            ..Self::empty(role)
        }
    }

    /// The name as text (empty when the user set none).
    pub fn name(&self) -> &str {
        let bytes = &self.name[..usize::from(self.name_len).min(NAME_BYTES)];
        std::str::from_utf8(bytes).unwrap_or("")
    }

    /// The name to show: the user's, or the role's.
    pub fn display_name(&self) -> &str {
        match self.name() {
            "" => self.role.display_name(),
            name => name,
        }
    }

    /// The scalar values in the registry's order.
    fn scalars(&self) -> [f32; 7] {
        [
            self.momentary_lufs,
            self.short_term_lufs,
            self.integrated_lufs,
            self.true_peak_dbtp,
            self.low_band_db,
            self.correlation,
            self.sample_rate_hz,
        ]
    }

    /// The inverse of [`Self::scalars`].
    fn from_scalars(role: StemRole, s: [f32; 7], band_db: [f32; LINK_BANDS]) -> Self {
        Self {
            momentary_lufs: s[0],
            short_term_lufs: s[1],
            integrated_lufs: s[2],
            true_peak_dbtp: s[3],
            low_band_db: s[4],
            correlation: s[5],
            sample_rate_hz: s[6],
            band_db,
            ..Self::empty(role)
        }
    }
}

/// The master's view of the stems linked to it: a fixed buffer for the
/// registry's snapshot, so that it can be refreshed on the audio thread.
pub struct MasterView {
    /// The latest snapshot; `stems` entries are valid.
    linked: Box<[LinkedStem; MAX_LINKED]>,
    /// Their publications, in the same order.
    publications: Box<[StemPublication; MAX_LINKED]>,
    /// Stems visible in the latest snapshot.
    stems: usize,
    /// Their judgement at the latest update.
    assessment: aggregate::LinkAssessment,
}

impl Default for MasterView {
    fn default() -> Self {
        let empty = StemPublication::empty(StemRole::FullMix);
        Self {
            linked: Box::new(
                [LinkedStem {
                    slot: 0,
                    publication: empty,
                    updated_ms: 0,
                }; MAX_LINKED],
            ),
            publications: Box::new([empty; MAX_LINKED]),
            stems: 0,
            assessment: aggregate::assess(&[], f32::NAN),
        }
    }
}

impl MasterView {
    /// Reads the live stems of `group` (other than `own_slot`) and judges
    /// them against a mix of `mix_lufs` LUFS; returns the link findings.
    /// Never allocates.
    pub fn update(
        &mut self,
        group: u32,
        own_slot: Option<usize>,
        now_ms: u64,
        mix_lufs: f32,
    ) -> [(HintId, Finding); 3] {
        let found = registry::snapshot(group, own_slot, now_ms, &mut self.linked);
        // Other Full Mix instances (a second master, or a stem instance
        // whose role was never set) are not stems.
        self.stems = 0;
        for stem in &self.linked[..found] {
            if stem.publication.role != StemRole::FullMix {
                self.publications[self.stems] = stem.publication;
                self.stems += 1;
            }
        }
        self.assessment = aggregate::assess(&self.publications[..self.stems], mix_lufs);
        let assessment = &self.assessment;
        [
            (HintId::StemBalance, assessment.stem_balance),
            (HintId::Masking, assessment.masking),
            (HintId::LowEndConflict, assessment.low_end_conflict),
        ]
    }

    /// Stems visible at the latest update.
    pub fn stems(&self) -> usize {
        self.stems
    }

    /// What the stems visible at the latest update published, in the
    /// order of [`Self::assessment`]'s rows.
    pub fn publications(&self) -> &[StemPublication] {
        &self.publications[..self.stems]
    }

    /// Their judgement at the latest update.
    pub fn assessment(&self) -> &aggregate::LinkAssessment {
        &self.assessment
    }

    /// The slots of the stems visible at the latest update, in the same
    /// order.
    pub fn slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.linked
            .iter()
            .filter(|stem| stem.publication.role != StemRole::FullMix)
            .map(|stem| stem.slot)
            .take(self.stems)
    }
}

/// Third-octave band levels (dB) from the 1/6-octave bins of the spectrum
/// analyser: band `j` (centre `1000·2^(j/3)`) spans the 1/6-octave bin of
/// the same centre and half of each neighbour, summed as power.
pub fn third_octaves(sixth_octave_db: &[f32]) -> [f32; LINK_BANDS] {
    let power = |k: isize| -> f64 {
        if k < 0 || k as usize >= sixth_octave_db.len().min(SIXTH_OCTAVE_BINS) {
            0.0
        } else {
            10f64.powf(f64::from(sixth_octave_db[k as usize]) / 10.0)
        }
    };
    std::array::from_fn(|band| {
        let centre = 2 * band as isize;
        let p = power(centre) + 0.5 * (power(centre - 1) + power(centre + 1));
        if p > 0.0 {
            (10.0 * p.log10()) as f32
        } else {
            f32::NEG_INFINITY
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat 1/6-octave spectrum at −40 dB gives third octaves at
    /// −40 + 10·log10(2) (two bins' worth of power), except the outermost
    /// bands, which have one neighbour only (1.5 bins).
    #[test]
    fn third_octaves_sum_their_sixth_octave_bins() {
        let flat = [-40.0f32; SIXTH_OCTAVE_BINS];
        let bands = third_octaves(&flat);
        for (j, &b) in bands.iter().enumerate() {
            let bins: f32 = if j == 0 || j == LINK_BANDS - 1 {
                1.5
            } else {
                2.0
            };
            assert!(
                (b - (-40.0 + 10.0 * bins.log10())).abs() < 1e-4,
                "band {j}: {b}"
            );
        }
    }

    #[test]
    fn scalars_round_trip() {
        let mut p = StemPublication::empty(StemRole::Bass);
        p.momentary_lufs = -20.0;
        p.integrated_lufs = -21.5;
        p.correlation = 0.5;
        let back = StemPublication::from_scalars(StemRole::Bass, p.scalars(), p.band_db);
        assert_eq!(
            back.scalars().map(f32::to_bits),
            p.scalars().map(f32::to_bits)
        );
    }
}
