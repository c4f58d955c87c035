//! Zero-copy views over the wire format, one file per wire unit.
//!
//! Views borrow the input and never allocate. Every length read from the wire is checked
//! against the bytes there are before it is used; after a view's checked constructor
//! succeeds, its accessors do not panic. Iterators yield `Result` items, report an error at
//! the absolute offset of the unit that is bad, and stop there.

pub mod data;
pub mod list;
pub mod message;
pub mod set;
pub mod template;

/// Big-endian u16 at `at`; 0 when out of range (callers check lengths first).
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at.wrapping_add(2)) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

/// Big-endian u32 at `at`; 0 when out of range.
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.wrapping_add(4)) {
        Some(&[a, x, y, z]) => u32::from_be_bytes([a, x, y, z]),
        _ => 0,
    }
}

/// Writes a big-endian u16 at `at` if it fits.
#[inline]
pub(crate) fn put16(b: &mut [u8], at: usize, v: u16) {
    if let Some(dst) = b.get_mut(at..at.wrapping_add(2)) {
        dst.copy_from_slice(&v.to_be_bytes());
    }
}

/// Writes a big-endian u32 at `at` if it fits.
#[inline]
pub(crate) fn put32(b: &mut [u8], at: usize, v: u32) {
    if let Some(dst) = b.get_mut(at..at.wrapping_add(4)) {
        dst.copy_from_slice(&v.to_be_bytes());
    }
}
