//! The process-wide registry of Stem Master instances: a fixed table of
//! slots in static memory, written and read with atomics only.
//!
//! * An instance **claims** a slot when it is activated (compare-and-swap on
//!   the slot's owner) and **releases** it when it is deactivated or
//!   dropped ([`SlotHandle`]'s `Drop`).
//! * The owner **publishes** its measurements into the slot from the audio
//!   thread: plain atomic stores between two increments of a sequence
//!   counter (a seqlock over atomics, so no reader can make it wait and no
//!   value is ever torn).
//! * Readers take a **snapshot** of every slot of their link group: they
//!   retry a slot whose sequence changed while they read it, and skip slots
//!   that have not published for [`SLOT_TIMEOUT_MS`] (a crashed or stalled
//!   instance, or one whose host stopped calling it).
//!
//! Only instances in the same process see each other: a host that runs each
//! plugin in its own process (sandboxing) gives every instance its own
//! registry, and the master then sees no stems.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use super::{StemPublication, LINK_BANDS, NAME_BYTES};
use crate::role::StemRole;

/// Slots in the registry: instances that can be linked at once.
pub const MAX_LINKED: usize = 64;
/// A slot that has not published for this long is ignored, milliseconds.
pub const SLOT_TIMEOUT_MS: u64 = 2000;
/// Attempts a reader makes at a slot that keeps changing under it.
const READ_ATTEMPTS: usize = 4;

/// Owner value of a free slot.
const FREE: u64 = 0;
/// Owner value of a slot being set up by [`claim`]: readers skip it.
const CLAIMING: u64 = u64::MAX;

/// One instance's published values, every field an atomic.
struct Slot {
    /// Token of the instance holding the slot; [`FREE`] when free.
    owner: AtomicU64,
    /// Link group of the owner (1-based).
    group: AtomicU32,
    /// Seqlock counter: odd while the owner writes.
    sequence: AtomicU64,
    /// Time of the last publication, milliseconds since [`now_ms`]'s epoch.
    updated_ms: AtomicU64,
    /// [`StemRole::index`] of the owner.
    role: AtomicU32,
    /// Seqlock counter of the name (written by the editor thread, apart
    /// from the audio thread's values): odd while written.
    name_sequence: AtomicU64,
    /// The name, UTF-8, [`NAME_BYTES`] bytes, four per word.
    name: [AtomicU32; NAME_BYTES / 4],
    /// Length of the name in bytes.
    name_len: AtomicU32,
    /// The loudness and stereo values of [`StemPublication`], as f32 bits:
    /// momentary, short-term, integrated LUFS, true peak dBTP, low band dB,
    /// correlation, sample rate Hz.
    scalars: [AtomicU32; SCALARS],
    /// Band levels, dB, as f32 bits.
    bands: [AtomicU32; LINK_BANDS],
}

/// Number of scalar values in a slot.
const SCALARS: usize = 7;

impl Slot {
    const fn new() -> Self {
        Self {
            owner: AtomicU64::new(FREE),
            group: AtomicU32::new(0),
            sequence: AtomicU64::new(0),
            updated_ms: AtomicU64::new(0),
            role: AtomicU32::new(0),
            name_sequence: AtomicU64::new(0),
            name: [const { AtomicU32::new(0) }; NAME_BYTES / 4],
            name_len: AtomicU32::new(0),
            scalars: [const { AtomicU32::new(0) }; SCALARS],
            bands: [const { AtomicU32::new(0) }; LINK_BANDS],
        }
    }
}

/// The registry of this process.
static SLOTS: [Slot; MAX_LINKED] = [const { Slot::new() }; MAX_LINKED];
/// Source of owner tokens (never [`FREE`]).
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);
/// The epoch of [`now_ms`].
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Milliseconds since the registry's epoch (the first call in the
/// process). A monotonic clock read; no system call on Linux (vDSO).
pub fn now_ms() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// A claimed slot. Dropping it releases the slot.
#[derive(Debug)]
pub struct SlotHandle {
    /// Index of the slot.
    index: usize,
    /// This claim's token.
    token: u64,
}

/// Claims a free slot for an instance of `role` named `name` (empty: the
/// role's name) in link `group`, or None when all [`MAX_LINKED`] slots are
/// taken. Not for the audio thread's hot path (it scans the table), but it
/// never allocates or blocks.
pub fn claim(group: u32, role: StemRole, name: &str, now_ms: u64) -> Option<SlotHandle> {
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    for (index, slot) in SLOTS.iter().enumerate() {
        // Taken as CLAIMING first: readers skip the slot until its data
        // and name are this instance's, then the token is stored.
        if slot
            .owner
            .compare_exchange(FREE, CLAIMING, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            let handle = SlotHandle { index, token };
            write_name(slot, name, None);
            handle.write(
                |slot| &slot.sequence,
                |slot| {
                    slot.group.store(group, Ordering::Relaxed);
                    slot.role.store(role.index() as u32, Ordering::Relaxed);
                    for word in &slot.scalars {
                        word.store(f32::NAN.to_bits(), Ordering::Relaxed);
                    }
                    for word in &slot.bands {
                        word.store(f32::NAN.to_bits(), Ordering::Relaxed);
                    }
                    slot.updated_ms.store(now_ms, Ordering::Relaxed);
                },
            );
            slot.owner.store(token, Ordering::Release);
            return Some(handle);
        }
    }
    None
}

impl SlotHandle {
    /// Index of the slot (stable while claimed).
    pub fn index(&self) -> usize {
        self.index
    }

    /// This claim's token (for [`rename`]).
    pub fn token(&self) -> u64 {
        self.token
    }

    /// Runs `write` on the slot between the two increments of `sequence`
    /// (one writer per counter).
    fn write(&self, sequence: impl Fn(&Slot) -> &AtomicU64, write: impl FnOnce(&Slot)) {
        let slot = &SLOTS[self.index];
        let counter = sequence(slot);
        let start = counter.load(Ordering::Relaxed);
        counter.store(start.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        write(slot);
        counter.store(start.wrapping_add(2), Ordering::Release);
    }

    /// Publishes the instance's values (audio thread: atomic stores only).
    pub fn publish(&self, publication: &StemPublication, group: u32, now_ms: u64) {
        self.write(
            |slot| &slot.sequence,
            |slot| {
                slot.group.store(group, Ordering::Relaxed);
                slot.role
                    .store(publication.role.index() as u32, Ordering::Relaxed);
                let scalars = publication.scalars();
                for (word, value) in slot.scalars.iter().zip(scalars) {
                    word.store(value.to_bits(), Ordering::Relaxed);
                }
                for (word, value) in slot.bands.iter().zip(&publication.band_db) {
                    word.store(value.to_bits(), Ordering::Relaxed);
                }
                slot.updated_ms.store(now_ms, Ordering::Relaxed);
            },
        );
    }
}

/// Renames the instance holding slot `index` with claim `token` (its
/// editor); returns false when that claim no longer holds the slot. The
/// name has its own seqlock and this is its only writer after the claim.
pub fn rename(index: usize, token: u64, name: &str) -> bool {
    let Some(slot) = SLOTS.get(index) else {
        return false;
    };
    write_name(slot, name, Some(token))
}

/// Writes `name` (cut at a character boundary within [`NAME_BYTES`]
/// bytes) under the slot's name seqlock; with `owner`, only if that claim
/// still holds the slot once the name is locked (a claim marks the slot
/// before it writes its own name, so a late rename cannot overwrite it).
/// Returns whether the name was written.
fn write_name(slot: &Slot, name: &str, owner: Option<u64>) -> bool {
    let mut end = name.len().min(NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let mut bytes = [0u8; NAME_BYTES];
    bytes[..end].copy_from_slice(&name.as_bytes()[..end]);
    // The name has two possible writers (a claim on the activating thread,
    // a rename from the editor): take its counter from even to odd with a
    // compare-and-swap, so only one writes at a time. Neither runs on the
    // audio thread.
    let start = loop {
        let current = slot.name_sequence.load(Ordering::Relaxed);
        if current.is_multiple_of(2)
            && slot
                .name_sequence
                .compare_exchange_weak(
                    current,
                    current.wrapping_add(1),
                    Ordering::Acquire,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            break current;
        }
        std::hint::spin_loop();
    };
    if owner.is_some_and(|token| slot.owner.load(Ordering::Acquire) != token) {
        slot.name_sequence
            .store(start.wrapping_add(2), Ordering::Release);
        return false;
    }
    fence(Ordering::Release);
    for (word, chunk) in slot.name.iter().zip(bytes.chunks_exact(4)) {
        word.store(
            u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]),
            Ordering::Relaxed,
        );
    }
    slot.name_len.store(end as u32, Ordering::Relaxed);
    slot.name_sequence
        .store(start.wrapping_add(2), Ordering::Release);
    true
}

impl Drop for SlotHandle {
    fn drop(&mut self) {
        // Only this claim's token frees the slot.
        let _ = SLOTS[self.index].owner.compare_exchange(
            self.token,
            FREE,
            Ordering::Release,
            Ordering::Relaxed,
        );
    }
}

/// One linked instance as a reader sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkedStem {
    /// Index of its slot (stable while it is linked).
    pub slot: usize,
    /// What it published.
    pub publication: StemPublication,
    /// When it last published, milliseconds since [`now_ms`]'s epoch.
    pub updated_ms: u64,
}

/// Every live instance of link `group` except the slot `exclude` (the
/// reader's own), into `out`; returns how many were found. A slot is live
/// when claimed and published within [`SLOT_TIMEOUT_MS`] of `now_ms`.
/// Never allocates or blocks.
pub fn snapshot(
    group: u32,
    exclude: Option<usize>,
    now_ms: u64,
    out: &mut [LinkedStem; MAX_LINKED],
) -> usize {
    let mut found = 0;
    for (index, slot) in SLOTS.iter().enumerate() {
        let owner = slot.owner.load(Ordering::Acquire);
        if Some(index) == exclude || owner == FREE || owner == CLAIMING {
            continue;
        }
        if let Some((stem, stem_group)) = read_slot(index, slot) {
            // The same owner before and after: not a mix of two claims.
            let same_owner = slot.owner.load(Ordering::Acquire) == owner;
            let fresh = now_ms.saturating_sub(stem.updated_ms) <= SLOT_TIMEOUT_MS;
            if same_owner && fresh && stem_group == group {
                out[found] = stem;
                found += 1;
            }
        }
    }
    found
}

/// Reads under a seqlock: `read` until `sequence` is even and unchanged
/// around it; None if it kept changing.
fn read_consistent<T>(sequence: &AtomicU64, read: impl Fn() -> T) -> Option<T> {
    for _ in 0..READ_ATTEMPTS {
        let before = sequence.load(Ordering::Acquire);
        if before % 2 == 1 {
            std::hint::spin_loop();
            continue;
        }
        let value = read();
        fence(Ordering::Acquire);
        if sequence.load(Ordering::Relaxed) == before {
            return Some(value);
        }
    }
    None
}

/// A consistent copy of a slot and its group, or None if it kept changing.
fn read_slot(index: usize, slot: &Slot) -> Option<(LinkedStem, u32)> {
    let (name, name_len) = read_consistent(&slot.name_sequence, || {
        let mut name = [0u8; NAME_BYTES];
        for (chunk, word) in name.chunks_exact_mut(4).zip(&slot.name) {
            chunk.copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
        }
        let len = (slot.name_len.load(Ordering::Relaxed) as usize).min(NAME_BYTES);
        (name, len)
    })?;
    read_consistent(&slot.sequence, || {
        let role = StemRole::from_index(slot.role.load(Ordering::Relaxed) as usize);
        let scalars: [f32; SCALARS] =
            std::array::from_fn(|i| f32::from_bits(slot.scalars[i].load(Ordering::Relaxed)));
        let band_db: [f32; LINK_BANDS] =
            std::array::from_fn(|i| f32::from_bits(slot.bands[i].load(Ordering::Relaxed)));
        let updated_ms = slot.updated_ms.load(Ordering::Relaxed);
        let group = slot.group.load(Ordering::Relaxed);
        let mut publication = StemPublication::from_scalars(role, scalars, band_db);
        publication.name = name;
        publication.name_len = name_len as u8;
        (
            LinkedStem {
                slot: index,
                publication,
                updated_ms,
            },
            group,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    // The registry is process-wide and tests run in parallel: each test
    // uses its own link group.

    fn publication(role: StemRole, lufs: f32) -> StemPublication {
        StemPublication {
            momentary_lufs: lufs,
            short_term_lufs: lufs,
            integrated_lufs: lufs,
            ..StemPublication::empty(role)
        }
    }

    fn live(group: u32, exclude: Option<usize>, now: u64) -> Vec<LinkedStem> {
        let mut out = [LinkedStem {
            slot: 0,
            publication: StemPublication::empty(StemRole::FullMix),
            updated_ms: 0,
        }; MAX_LINKED];
        let n = snapshot(group, exclude, now, &mut out);
        out[..n].to_vec()
    }

    #[test]
    fn claimed_slots_are_seen_by_their_group_until_released() {
        let group = 9001;
        let master = claim(group, StemRole::FullMix, "", 0).unwrap();
        let drums = claim(group, StemRole::Drums, "", 0).unwrap();
        let bass = claim(group, StemRole::Bass, "Sub bass", 0).unwrap();
        let other_group = claim(9002, StemRole::Vocals, "", 0).unwrap();
        drums.publish(&publication(StemRole::Drums, -20.0), group, 100);
        bass.publish(&publication(StemRole::Bass, -24.0), group, 100);
        other_group.publish(&publication(StemRole::Vocals, -18.0), 9002, 100);
        let seen = live(group, Some(master.index()), 200);
        assert_eq!(seen.len(), 2);
        let drums_row = seen.iter().find(|s| s.slot == drums.index()).unwrap();
        assert_eq!(drums_row.publication.role, StemRole::Drums);
        assert_eq!(drums_row.publication.integrated_lufs, -20.0);
        assert_eq!(drums_row.publication.display_name(), "Drums");
        let bass_row = seen.iter().find(|s| s.slot == bass.index()).unwrap();
        assert_eq!(bass_row.publication.display_name(), "Sub bass");
        drop(bass);
        let seen = live(group, Some(master.index()), 200);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].slot, drums.index());
    }

    #[test]
    fn a_slot_that_stops_publishing_times_out() {
        let group = 9003;
        let stem = claim(group, StemRole::Music, "", 0).unwrap();
        stem.publish(&publication(StemRole::Music, -20.0), group, 10_000);
        assert_eq!(live(group, None, 10_000 + SLOT_TIMEOUT_MS).len(), 1);
        assert_eq!(live(group, None, 10_001 + SLOT_TIMEOUT_MS).len(), 0);
        stem.publish(&publication(StemRole::Music, -20.0), group, 20_000);
        assert_eq!(live(group, None, 20_500).len(), 1);
    }

    #[test]
    fn names_are_cut_at_a_character_boundary() {
        let group = 9004;
        let stem = claim(group, StemRole::Vocals, "", 0).unwrap();
        stem.publish(&publication(StemRole::Vocals, -20.0), group, 0);
        assert_eq!(live(group, None, 0)[0].publication.display_name(), "Vocals");
        assert!(rename(stem.index(), stem.token(), "Lead vox"));
        assert_eq!(live(group, None, 0)[0].publication.name(), "Lead vox");
        // 31 ASCII bytes and a two-byte character: cut before it.
        let long = format!("{}é", "a".repeat(31));
        assert!(rename(stem.index(), stem.token(), &long));
        assert_eq!(live(group, None, 0)[0].publication.name(), "a".repeat(31));
        // A stale token (an earlier claim of the slot) renames nothing.
        assert!(!rename(stem.index(), stem.token() + 1_000_000, "Other"));
        assert_eq!(live(group, None, 0)[0].publication.name(), "a".repeat(31));
    }

    /// A writer publishing in a tight loop and a reader taking snapshots at
    /// the same time: every snapshot is one whole publication (all values
    /// equal), never a mix of two.
    #[test]
    fn snapshots_are_never_torn() {
        let group = 9005;
        let consistent = |value: f32| {
            let mut p = publication(StemRole::Drums, value);
            p.band_db = [value; LINK_BANDS];
            p.correlation = value;
            p
        };
        let stem = claim(group, StemRole::Drums, "", 0).unwrap();
        stem.publish(&consistent(0.0), group, 0);
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut value = 0.0f32;
                while !stop.load(Ordering::Relaxed) {
                    value += 1.0;
                    stem.publish(&consistent(value), group, 0);
                }
                stem
            })
        };
        let mut checked = 0;
        for _ in 0..20_000 {
            for row in live(group, None, 0) {
                let p = row.publication;
                assert_eq!(p.momentary_lufs, p.integrated_lufs);
                assert_eq!(p.correlation, p.integrated_lufs);
                assert!(p.band_db.iter().all(|&b| b == p.integrated_lufs));
                checked += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        let _stem = writer.join().unwrap();
        // A writer in a tight loop can make a read give up (it retries
        // four times); real instances publish every 10 ms. Most reads
        // succeed, and every one that does is whole.
        assert!(checked > 100, "only {checked} consistent snapshots");
    }
}
