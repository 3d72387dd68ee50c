//! A wait-free triple buffer: one writer publishes whole values, one reader
//! always gets the latest complete one. Neither side ever waits.
//!
//! Three slots: the writer fills its own slot, then swaps it with the shared
//! "middle" slot; the reader swaps the middle slot with its own when it is
//! marked fresh. The slot a side owns is never touched by the other side.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Marks the middle slot as holding a value the reader has not taken.
const FRESH: u8 = 0b100;
/// Extracts a slot index.
const INDEX: u8 = 0b011;

/// A value shared by one writer and one reader, without locks.
pub struct TripleBuffer<T> {
    slots: [UnsafeCell<T>; 3],
    /// Index of the middle slot, with [`FRESH`] set when it holds a new value.
    middle: AtomicU8,
    /// Index of the writer's slot (only the writer changes it).
    write_slot: AtomicU8,
    /// Index of the reader's slot (only the reader changes it).
    read_slot: AtomicU8,
    /// Set while a writer is inside [`TripleBuffer::write`]; a second,
    /// concurrent writer gives up instead of racing.
    writing: AtomicBool,
    /// The same for readers.
    reading: AtomicBool,
}

// SAFETY: each slot is accessed by at most one thread at a time: the writer
// only touches `write_slot`, the reader only `read_slot`, and ownership of a
// slot changes hands only through the atomic swap of `middle` (AcqRel), which
// orders the writes to a slot before the reads of it. The `writing` and
// `reading` flags keep a second writer or reader out.
unsafe impl<T: Send> Sync for TripleBuffer<T> {}
unsafe impl<T: Send> Send for TripleBuffer<T> {}

impl<T: Clone> TripleBuffer<T> {
    /// A buffer whose three slots start as `initial`.
    pub fn new(initial: T) -> Self {
        Self {
            slots: [
                UnsafeCell::new(initial.clone()),
                UnsafeCell::new(initial.clone()),
                UnsafeCell::new(initial),
            ],
            middle: AtomicU8::new(1),
            write_slot: AtomicU8::new(0),
            read_slot: AtomicU8::new(2),
            writing: AtomicBool::new(false),
            reading: AtomicBool::new(false),
        }
    }

    /// Lets `fill` update the writer's slot in place, then publishes it.
    /// The slot holds whatever was written into it two publications ago, so
    /// `fill` should overwrite the whole value. Returns false (and does
    /// nothing) if another thread is writing at the same time.
    pub fn write(&self, fill: impl FnOnce(&mut T)) -> bool {
        if self.writing.swap(true, Ordering::Acquire) {
            return false;
        }
        let slot = self.write_slot.load(Ordering::Relaxed) & INDEX;
        // SAFETY: the writer's slot belongs to this thread alone (see the
        // Sync impl); the `writing` flag excludes other writers.
        fill(unsafe { &mut *self.slots[usize::from(slot)].get() });
        let previous = self.middle.swap(slot | FRESH, Ordering::AcqRel);
        self.write_slot.store(previous & INDEX, Ordering::Relaxed);
        self.writing.store(false, Ordering::Release);
        true
    }

    /// Calls `read` with the latest published value (or the last one read
    /// when nothing new was published). Returns `None` if another thread is
    /// reading at the same time.
    pub fn read<R>(&self, read: impl FnOnce(&T) -> R) -> Option<R> {
        if self.reading.swap(true, Ordering::Acquire) {
            return None;
        }
        if self.middle.load(Ordering::Relaxed) & FRESH != 0 {
            let own = self.read_slot.load(Ordering::Relaxed) & INDEX;
            let previous = self.middle.swap(own, Ordering::AcqRel);
            self.read_slot.store(previous & INDEX, Ordering::Relaxed);
        }
        let slot = self.read_slot.load(Ordering::Relaxed) & INDEX;
        // SAFETY: the reader's slot belongs to this thread alone; the
        // `reading` flag excludes other readers.
        let result = read(unsafe { &*self.slots[usize::from(slot)].get() });
        self.reading.store(false, Ordering::Release);
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn reader_sees_the_latest_value() {
        let buffer = TripleBuffer::new([0u32; 4]);
        assert_eq!(buffer.read(|v| *v), Some([0; 4]));
        buffer.write(|v| *v = [1; 4]);
        buffer.write(|v| *v = [2; 4]);
        assert_eq!(buffer.read(|v| *v), Some([2; 4]));
        assert_eq!(
            buffer.read(|v| *v),
            Some([2; 4]),
            "stale read repeats the last value"
        );
        buffer.write(|v| *v = [3; 4]);
        assert_eq!(buffer.read(|v| *v), Some([3; 4]));
    }

    /// Values are never torn: every element of a read array is the same.
    #[test]
    fn concurrent_reads_are_never_torn() {
        let buffer = Arc::new(TripleBuffer::new([0u64; 64]));
        let writer = {
            let buffer = buffer.clone();
            std::thread::spawn(move || {
                for i in 1..=200_000u64 {
                    buffer.write(|v| v.fill(i));
                }
            })
        };
        let mut last = 0;
        while !writer.is_finished() {
            let value = buffer.read(|v| *v).unwrap();
            assert!(value.iter().all(|&x| x == value[0]), "torn read");
            assert!(value[0] >= last, "values only move forward");
            last = value[0];
        }
        writer.join().unwrap();
        assert_eq!(buffer.read(|v| v[0]), Some(200_000));
    }
}
