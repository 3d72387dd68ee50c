//! The master's view of linked stems: each stem against the mix, and the
//! three link hints — `stem-balance`, `masking`, `low-end-conflict`.
//! Thresholds and their sources: docs/triage.md, "Stem link". Never
//! allocates (fixed arrays), so it can run anywhere.

use super::{StemPublication, LINK_BANDS};
use crate::role::StemRole;
use crate::triage::{Finding, Severity};

/// Most stems judged together.
pub const MAX_STEMS: usize = super::registry::MAX_LINKED;
/// Third-octave bands whose centre is at or below 125 Hz: the low end
/// (bands 0..=8, centres 19.7–125 Hz, reaching up to about 140 Hz).
const LOW_BANDS: usize = 9;
/// First and last third-octave band judged for masking: centres 99 Hz
/// (band 7) to 8 kHz (band 26).
const MASKING_BANDS: (usize, usize) = (7, 26);
/// Stems quieter than this are not judged (silent or nearly), LUFS.
pub const PRESENT_LUFS: f32 = -60.0;
/// A band below this level is never a main band, dB re a full-scale sine.
pub const MAIN_BAND_FLOOR_DB: f32 = -80.0;
/// A band is one of a stem's main bands when it is within this of the
/// stem's loudest band, dB.
pub const MAIN_BAND_DB: f32 = 6.0;
/// Two stems collide in a band when both have it as a main band and their
/// levels there are within this, dB.
pub const COLLISION_DB: f32 = 3.0;
/// Colliding bands (of one pair) that warn / are a problem.
pub const MASKING_WARN_BANDS: usize = 2;
/// Colliding bands of one pair that are a problem.
pub const MASKING_PROBLEM_BANDS: usize = 4;
/// Share of the low end that a stem other than bass or drums may carry
/// before it conflicts with them (warn / problem).
pub const LOW_END_CONFLICT_WARN: f32 = 0.25;
/// Share that is a problem.
pub const LOW_END_CONFLICT_PROBLEM: f32 = 0.5;
/// Vocals against everything else, LU: the range outside which the
/// balance warns (below, above).
pub const VOCAL_BALANCE_WARN_LU: (f32, f32) = (-8.0, 3.0);
/// The range outside which it is a problem.
pub const VOCAL_BALANCE_PROBLEM_LU: (f32, f32) = (-12.0, 6.0);

/// One stem as the master sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StemRow {
    /// Loudness of the stem, LUFS (integrated; short-term while the
    /// integrated value does not exist yet).
    pub loudness_lufs: f32,
    /// The stem's loudness minus the mix's, LU.
    pub relative_to_mix_lu: f32,
    /// Its share of the low-end energy (third-octave bands to 125 Hz) among
    /// all stems, 0..=1.
    pub low_end_share: f32,
}

/// The link hints, with the stems they are about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkAssessment {
    /// One row per stem, in the order given; `stems` are valid.
    pub rows: [StemRow; MAX_STEMS],
    /// Number of stems.
    pub stems: usize,
    /// Vocals against the rest: value = vocals − rest, LU.
    pub stem_balance: Finding,
    /// The pair that collides most: value = colliding bands, frequency =
    /// centre of the first colliding band, Hz.
    pub masking: Finding,
    /// The two stems of `masking` (indices into the stems given).
    pub masking_pair: (usize, usize),
    /// The stem that crowds the low end most: value = its share, 0..=1.
    pub low_end_conflict: Finding,
    /// The stem of `low_end_conflict`.
    pub low_end_stem: usize,
}

/// Power (linear) of a dB level; 0 for non-finite levels.
fn power(db: f32) -> f64 {
    if db.is_finite() {
        10f64.powf(f64::from(db) / 10.0)
    } else {
        0.0
    }
}

fn to_db(power: f64) -> f32 {
    if power > 0.0 {
        (10.0 * power.log10()) as f32
    } else {
        f32::NEG_INFINITY
    }
}

/// Centre of third-octave band `band`, Hz.
pub fn band_centre_hz(band: usize) -> f32 {
    1000.0 * 2f32.powf((band as f32 - 17.0) / 3.0)
}

/// The loudness a stem is judged by, LUFS.
fn loudness(stem: &StemPublication) -> f32 {
    if stem.integrated_lufs.is_finite() {
        stem.integrated_lufs
    } else {
        stem.short_term_lufs
    }
}

/// Where two stems collide: their shared main bands at nearly the same
/// level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Collision {
    /// Colliding third-octave bands.
    pub bands: usize,
    /// The lowest and highest colliding band (indices; centres from
    /// [`band_centre_hz`]).
    pub first_band: Option<usize>,
    /// The highest colliding band.
    pub last_band: Option<usize>,
}

impl Collision {
    /// How serious this many colliding bands are.
    pub fn severity(&self) -> Severity {
        if self.bands >= MASKING_PROBLEM_BANDS {
            Severity::Problem
        } else if self.bands >= MASKING_WARN_BANDS {
            Severity::Warn
        } else {
            Severity::None
        }
    }
}

/// A stem's main bands (within [`MAIN_BAND_DB`] of its loudest band and
/// above [`MAIN_BAND_FLOOR_DB`], among the masking bands), as a bit mask.
fn main_bands(stem: &StemPublication) -> u32 {
    let loudest = stem
        .band_db
        .iter()
        .cloned()
        .fold(f32::NEG_INFINITY, f32::max);
    (MASKING_BANDS.0..=MASKING_BANDS.1.min(LINK_BANDS - 1))
        .filter(|&band| {
            let level = stem.band_db[band];
            level.is_finite() && level >= MAIN_BAND_FLOOR_DB && level >= loudest - MAIN_BAND_DB
        })
        .fold(0u32, |mask, band| mask | (1 << band))
}

/// The collision of `a` and `b` within their shared main bands `shared`.
fn collision_of(a: &StemPublication, b: &StemPublication, shared: u32) -> Collision {
    let mut found = Collision::default();
    for band in MASKING_BANDS.0..=MASKING_BANDS.1.min(LINK_BANDS - 1) {
        if shared & (1 << band) != 0 && (a.band_db[band] - b.band_db[band]).abs() <= COLLISION_DB {
            found.bands += 1;
            found.first_band.get_or_insert(band);
            found.last_band = Some(band);
        }
    }
    found
}

/// Where stems `a` and `b` collide (nothing when either is quieter than
/// [`PRESENT_LUFS`]): the same test as the `masking` hint, for one pair.
pub fn collision(a: &StemPublication, b: &StemPublication) -> Collision {
    if !is_present(a) || !is_present(b) {
        return Collision::default();
    }
    collision_of(a, b, main_bands(a) & main_bands(b))
}

/// Whether a stem plays loud enough to be judged (NaN loudness: no).
fn is_present(stem: &StemPublication) -> bool {
    loudness(stem) >= PRESENT_LUFS
}

/// Judges `stems` (at most [`MAX_STEMS`]) against the mix, whose loudness
/// is `mix_lufs` (LUFS).
pub fn assess(stems: &[StemPublication], mix_lufs: f32) -> LinkAssessment {
    let stems = &stems[..stems.len().min(MAX_STEMS)];
    let low: [f64; MAX_STEMS] = std::array::from_fn(|i| {
        stems.get(i).map_or(0.0, |s| {
            s.band_db[..LOW_BANDS].iter().map(|&b| power(b)).sum()
        })
    });
    let low_total: f64 = low.iter().sum();
    let mut rows = [StemRow {
        loudness_lufs: f32::NAN,
        relative_to_mix_lu: f32::NAN,
        low_end_share: f32::NAN,
    }; MAX_STEMS];
    for (i, stem) in stems.iter().enumerate() {
        let lufs = loudness(stem);
        rows[i] = StemRow {
            loudness_lufs: lufs,
            relative_to_mix_lu: lufs - mix_lufs,
            low_end_share: if low_total > 0.0 {
                (low[i] / low_total) as f32
            } else {
                0.0
            },
        };
    }

    let present: [bool; MAX_STEMS] = std::array::from_fn(|i| stems.get(i).is_some_and(is_present));

    // Vocals (lead and backing) against everything else.
    let mut vocal = 0.0f64;
    let mut rest = 0.0f64;
    for (i, stem) in stems.iter().enumerate() {
        if !present[i] {
            continue;
        }
        let energy = power(loudness(stem));
        if matches!(stem.role, StemRole::Vocals | StemRole::BackingVocals) {
            vocal += energy;
        } else {
            rest += energy;
        }
    }
    let mut stem_balance = Finding::default();
    if vocal > 0.0 && rest > 0.0 {
        let balance = to_db(vocal) - to_db(rest);
        let severity =
            if balance < VOCAL_BALANCE_PROBLEM_LU.0 || balance > VOCAL_BALANCE_PROBLEM_LU.1 {
                Severity::Problem
            } else if balance < VOCAL_BALANCE_WARN_LU.0 || balance > VOCAL_BALANCE_WARN_LU.1 {
                Severity::Warn
            } else {
                Severity::None
            };
        stem_balance = Finding {
            severity,
            value: balance,
            reference: if balance < 0.0 {
                VOCAL_BALANCE_WARN_LU.0
            } else {
                VOCAL_BALANCE_WARN_LU.1
            },
            frequency_hz: 0.0,
            detail: 0.0,
            measured: true,
        };
    }

    // Masking: main bands shared at nearly the same level. Each stem's main
    // bands as a bit mask, once.
    let main: [u32; MAX_STEMS] =
        std::array::from_fn(|i| stems.get(i).filter(|_| present[i]).map_or(0, main_bands));
    let mut masking = Finding::default();
    let mut masking_pair = (0, 0);
    for a in 0..stems.len() {
        for b in a + 1..stems.len() {
            let found = collision_of(&stems[a], &stems[b], main[a] & main[b]);
            if found.bands as f32 > masking.value {
                masking = Finding {
                    severity: found.severity(),
                    value: found.bands as f32,
                    reference: MASKING_WARN_BANDS as f32,
                    frequency_hz: found.first_band.map_or(0.0, band_centre_hz),
                    detail: 0.0,
                    measured: true,
                };
                masking_pair = (a, b);
            }
        }
    }

    // Low end: a stem other than bass or drums carrying much of it, judged
    // only while bass or drums play (in an intro without them, a pad may
    // carry all of the low end).
    let mut low_end_conflict = Finding::default();
    let mut low_end_stem = 0;
    let owners_play = stems.iter().enumerate().any(|(i, stem)| {
        present[i]
            && matches!(stem.role, StemRole::Bass | StemRole::Drums)
            && to_db(low[i]) >= MAIN_BAND_FLOOR_DB
    });
    for (i, stem) in stems.iter().enumerate() {
        if !owners_play || !present[i] || matches!(stem.role, StemRole::Bass | StemRole::Drums) {
            continue;
        }
        let share = rows[i].low_end_share;
        if share > low_end_conflict.value {
            low_end_conflict = Finding {
                severity: if share >= LOW_END_CONFLICT_PROBLEM {
                    Severity::Problem
                } else if share >= LOW_END_CONFLICT_WARN {
                    Severity::Warn
                } else {
                    Severity::None
                },
                value: share,
                reference: LOW_END_CONFLICT_WARN,
                frequency_hz: 0.0,
                detail: 0.0,
                measured: true,
            };
            low_end_stem = i;
        }
    }

    LinkAssessment {
        rows,
        stems: stems.len(),
        stem_balance,
        masking,
        masking_pair,
        low_end_conflict,
        low_end_stem,
    }
}

/// The message of a link hint, naming the stems it is about (`names` in
/// the order the stems were given to [`assess`]).
pub fn describe(
    hint: crate::triage::HintId,
    assessment: &LinkAssessment,
    names: &[&str],
) -> String {
    use crate::triage::HintId;
    let name = |i: usize| names.get(i).copied().unwrap_or("?");
    match hint {
        HintId::Masking => {
            let (a, b) = assessment.masking_pair;
            format!(
                "{} and {} share {:.0} of their main third-octave bands within {COLLISION_DB:.0} dB \
                 of each other, from {:.0} Hz",
                name(a),
                name(b),
                assessment.masking.value,
                assessment.masking.frequency_hz
            )
        }
        HintId::LowEndConflict => format!(
            "{} carries {:.0} % of the energy below 125 Hz; bass and drums should own it",
            name(assessment.low_end_stem),
            100.0 * assessment.low_end_conflict.value
        ),
        _ => crate::triage::message(
            hint,
            &match hint {
                HintId::StemBalance => assessment.stem_balance,
                _ => crate::triage::Finding::default(),
            },
            StemRole::FullMix,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stem with `level_db` in bands `bands` and −100 dB elsewhere.
    fn stem(
        role: StemRole,
        lufs: f32,
        bands: std::ops::Range<usize>,
        level_db: f32,
    ) -> StemPublication {
        let mut p = StemPublication::empty(role);
        p.integrated_lufs = lufs;
        p.band_db = std::array::from_fn(|b| if bands.contains(&b) { level_db } else { -100.0 });
        p
    }

    #[test]
    fn masking_needs_shared_main_bands_at_nearly_the_same_level() {
        // Both loudest in bands 12..18 (315 Hz–1 kHz) at −20 dB: 6 bands.
        let a = stem(StemRole::Vocals, -20.0, 12..18, -20.0);
        let b = stem(StemRole::Music, -20.0, 12..18, -22.0);
        let found = assess(&[a, b], -17.0);
        assert_eq!(found.masking.severity, Severity::Problem);
        assert_eq!(found.masking.value, 6.0);
        assert_eq!(found.masking_pair, (0, 1));
        assert!((found.masking.frequency_hz - band_centre_hz(12)).abs() < 1e-3);
        // The same bands 4 dB apart: no collision.
        let c = stem(StemRole::Music, -20.0, 12..18, -24.1);
        assert_eq!(assess(&[a, c], -17.0).masking.severity, Severity::None);
        // Overlapping in one band only: below the warning.
        let d = stem(StemRole::Music, -20.0, 17..24, -20.0);
        assert_eq!(assess(&[a, d], -17.0).masking.value, 1.0);
        assert_eq!(assess(&[a, d], -17.0).masking.severity, Severity::None);
        // The pair function agrees with the hint, and names the bands.
        let pair = collision(&a, &b);
        assert_eq!(
            (pair.bands, pair.first_band, pair.last_band),
            (6, Some(12), Some(17))
        );
        assert_eq!(pair.severity(), Severity::Problem);
        assert_eq!(collision(&a, &c).bands, 0);
        assert_eq!(collision(&a, &d).bands, 1);
        let mut quiet = b;
        quiet.integrated_lufs = -61.0;
        assert_eq!(collision(&a, &quiet).bands, 0);
    }

    #[test]
    fn rows_balance_and_low_end() {
        let vocals = stem(StemRole::Vocals, -30.0, 14..20, -20.0);
        let bass = stem(StemRole::Bass, -20.0, 2..8, -20.0);
        let music = stem(StemRole::Music, -20.0, 2..8, -20.0);
        let found = assess(&[vocals, bass, music], -17.0);
        assert_eq!(found.stems, 3);
        assert!((found.rows[0].relative_to_mix_lu + 13.0).abs() < 1e-4);
        // Vocals at −30 against two stems at −20 (together −17): −13 LU.
        assert!((found.stem_balance.value + 13.01).abs() < 0.02);
        assert_eq!(found.stem_balance.severity, Severity::Problem);
        // Bass and music share the low end equally: music crowds it.
        assert!((found.rows[1].low_end_share - 0.5).abs() < 1e-3);
        assert_eq!(found.low_end_conflict.severity, Severity::Problem);
        assert_eq!(found.low_end_stem, 2);
        // With the music above 125 Hz only, no conflict.
        let high_music = stem(StemRole::Music, -20.0, 12..18, -20.0);
        let found = assess(&[vocals, bass, high_music], -17.0);
        assert_eq!(found.low_end_conflict.severity, Severity::None);
    }
}

#[cfg(test)]
mod silence_tests {
    use super::*;

    /// Silent stems (floor-level bands, no loudness) raise nothing: no
    /// masking between two of them, no low-end share for a music stem, no
    /// balance.
    #[test]
    fn silent_stems_raise_nothing() {
        let silent = |role| {
            let mut p = StemPublication::empty(role);
            p.band_db = [-150.0; LINK_BANDS];
            p.short_term_lufs = -120.0;
            p
        };
        let found = assess(&[silent(StemRole::Vocals), silent(StemRole::Music)], -30.0);
        assert_eq!(found.masking.severity, Severity::None);
        assert_eq!(found.stem_balance.severity, Severity::None);
        assert_eq!(found.low_end_conflict.severity, Severity::None);
        // A pad carrying all of the low end while bass and drums are silent
        // (an intro): not a conflict.
        let mut pad = StemPublication::empty(StemRole::Music);
        pad.integrated_lufs = -20.0;
        pad.band_db = std::array::from_fn(|b| if b < 9 { -20.0 } else { -60.0 });
        let found = assess(&[pad, silent(StemRole::Bass)], -20.0);
        assert_eq!(found.low_end_conflict.severity, Severity::None);
    }
}
