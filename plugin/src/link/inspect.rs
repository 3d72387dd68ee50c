//! The stem link as JSON, for tools and host tests that run in the host's
//! process: what the master of a link group sees. Exported from the plugin
//! library as the C function `stem_master_link_json`; never called by the
//! plugin itself, and never on the audio thread (it allocates).

use super::registry::{self, LinkedStem, MAX_LINKED};
use super::{aggregate, MasterView, StemPublication};
use crate::cli::json::Json;
use crate::role::StemRole;
use crate::triage::{HintId, Severity};

/// What the master (the first live Full Mix instance) of link `group`
/// sees at `now_ms`, as compact JSON:
///
/// ```text
/// {"group": 1,
///  "master": {"slot", "name", "integrated_lufs", "short_term_lufs"} | null,
///  "stems": [{"slot", "name", "role", "momentary_lufs", "short_term_lufs",
///             "integrated_lufs", "true_peak_dbtp", "correlation",
///             "relative_to_mix_lu", "low_end_share", "age_ms"}],
///  "hints": [{"id", "severity", "message"}]}
/// ```
///
/// Loudness in LUFS, relative loudness in LU, shares 0..=1, ages in
/// milliseconds since the stem last published; unmeasured values are null.
/// Without a master, the stems are judged against a mix of unknown
/// loudness (relative loudness null).
pub fn link_json(group: u32, now_ms: u64) -> String {
    let mut linked = Box::new(
        [LinkedStem {
            slot: 0,
            publication: StemPublication::empty(StemRole::FullMix),
            updated_ms: 0,
        }; MAX_LINKED],
    );
    let found = registry::snapshot(group, None, now_ms, &mut linked);
    let master = linked[..found]
        .iter()
        .find(|stem| stem.publication.role == StemRole::FullMix)
        .copied();
    let mix_lufs = master.map_or(f32::NAN, |m| {
        let p = &m.publication;
        if p.integrated_lufs.is_finite() {
            p.integrated_lufs
        } else {
            p.short_term_lufs
        }
    });
    let mut view = MasterView::default();
    view.update(group, master.map(|m| m.slot), now_ms, mix_lufs);
    let assessment = view.assessment();

    let number = |x: f32| Json::number(Some(f64::from(x)));
    let stems = view
        .publications()
        .iter()
        .zip(view.slots())
        .enumerate()
        .map(|(i, (stem, slot))| {
            let row = &assessment.rows[i];
            let age = linked[..found]
                .iter()
                .find(|linked| linked.slot == slot)
                .map_or(0, |linked| now_ms.saturating_sub(linked.updated_ms));
            Json::object([
                ("slot", Json::Integer(slot as i64)),
                ("name", Json::String(stem.display_name().to_string())),
                ("role", Json::String(stem.role.id().to_string())),
                ("momentary_lufs", number(stem.momentary_lufs)),
                ("short_term_lufs", number(stem.short_term_lufs)),
                ("integrated_lufs", number(stem.integrated_lufs)),
                ("true_peak_dbtp", number(stem.true_peak_dbtp)),
                ("correlation", number(stem.correlation)),
                ("relative_to_mix_lu", number(row.relative_to_mix_lu)),
                ("low_end_share", number(row.low_end_share)),
                ("age_ms", Json::Integer(age as i64)),
            ])
        })
        .collect();
    let names: Vec<&str> = view
        .publications()
        .iter()
        .map(StemPublication::display_name)
        .collect();
    let hints = [
        (HintId::StemBalance, &assessment.stem_balance),
        (HintId::Masking, &assessment.masking),
        (HintId::LowEndConflict, &assessment.low_end_conflict),
    ]
    .into_iter()
    .filter(|(_, finding)| finding.severity > Severity::None)
    .map(|(hint, finding)| {
        Json::object([
            ("id", Json::String(hint.id().to_string())),
            ("severity", Json::String(finding.severity.id().to_string())),
            (
                "message",
                Json::String(aggregate::describe(hint, assessment, &names)),
            ),
        ])
    })
    .collect();
    let master = match master {
        Some(m) => Json::object([
            ("slot", Json::Integer(m.slot as i64)),
            (
                "name",
                Json::String(m.publication.display_name().to_string()),
            ),
            ("integrated_lufs", number(m.publication.integrated_lufs)),
            ("short_term_lufs", number(m.publication.short_term_lufs)),
        ]),
        None => Json::Null,
    };
    Json::object([
        ("group", Json::Integer(i64::from(group))),
        ("master", master),
        ("stems", Json::Array(stems)),
        ("hints", Json::Array(hints)),
    ])
    .to_text()
}

/// C entry point of [`link_json`] at the current time: writes at most
/// `capacity` bytes of the JSON (UTF-8, no terminating zero) to `buffer`
/// and returns the JSON's full length in bytes; call again with a larger
/// buffer when the result exceeds `capacity`.
///
/// # Safety
/// `buffer` must be valid for writes of `capacity` bytes, or null with
/// `capacity` 0.
#[no_mangle]
pub unsafe extern "C" fn stem_master_link_json(
    group: u32,
    buffer: *mut u8,
    capacity: usize,
) -> usize {
    let text = link_json(group, registry::now_ms());
    let written = text.len().min(capacity);
    if written > 0 && !buffer.is_null() {
        // SAFETY: the caller guarantees `capacity` writable bytes at
        // `buffer`, and `written <= capacity`.
        unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), buffer, written) };
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stem and a master in a group of their own: the JSON names the
    /// master, lists the stem with its loudness against the mix, and
    /// leaves out the master itself.
    #[test]
    fn lists_the_stems_a_master_sees() {
        let group = 9_001;
        let now = registry::now_ms();
        let master = registry::claim(group, StemRole::FullMix, "", now).expect("slot");
        let stem = registry::claim(group, StemRole::Drums, "Kit", now).expect("slot");
        let mut p = StemPublication::empty(StemRole::FullMix);
        p.integrated_lufs = -14.0;
        master.publish(&p, group, now);
        let mut d = StemPublication::empty(StemRole::Drums);
        d.integrated_lufs = -20.5;
        stem.publish(&d, group, now);
        let json = link_json(group, now);
        assert!(json.contains(r#""master":{"slot":"#), "{json}");
        assert!(json.contains(r#""name":"Kit","role":"drums""#), "{json}");
        assert!(json.contains(r#""relative_to_mix_lu":-6.500"#), "{json}");
        assert_eq!(json.matches(r#""slot":"#).count(), 2, "{json}");

        let mut buffer = [0u8; 16];
        // SAFETY: `buffer` holds 16 writable bytes.
        let full = unsafe { stem_master_link_json(group, buffer.as_mut_ptr(), buffer.len()) };
        assert!(full > buffer.len());
        assert_eq!(&buffer, &json.as_bytes()[..16]);
        drop(stem);
        let json = link_json(group, registry::now_ms());
        assert!(json.contains(r#""stems":[]"#), "{json}");
    }
}
