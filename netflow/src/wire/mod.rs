//! Zero-copy views of the wire units, one file per unit, after smoltcp's `wire` module.
//!
//! A view wraps bytes (`T: AsRef<[u8]>` for the top-level packets, `&'a [u8]` plus the
//! absolute offset for the units found inside them). The contract: once a view is checked
//! (`new_checked`, or handed out by a parent's iterator), no accessor panics; accessors read a
//! byte range named in a private `field` module. Setters live in `impl`s bounded by
//! `AsMut<[u8]>`.

pub mod v5_packet;
pub mod v5_record;
pub mod v9_data;
pub mod v9_flowset;
pub mod v9_packet;
pub mod v9_template;

/// A byte range of a wire unit.
pub(crate) type Field = core::ops::Range<usize>;

/// Reads a big-endian u16 at `at`; 0 if out of range (never after `check_len`).
#[inline]
pub(crate) fn read_u16(b: &[u8], at: usize) -> u16 {
    b.get(at..at.saturating_add(2))
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_be_bytes)
}

/// Reads a big-endian u32 at `at`; 0 if out of range (never after `check_len`).
#[inline]
pub(crate) fn read_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at.saturating_add(4))
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

/// Reads the byte at `at`; 0 if out of range.
#[inline]
pub(crate) fn read_u8(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

/// Writes `v` big-endian at `at`; does nothing if out of range (never after `check_len`).
#[inline]
pub(crate) fn write_u16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at.saturating_add(2)) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Writes `v` big-endian at `at`; does nothing if out of range.
#[inline]
pub(crate) fn write_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at.saturating_add(4)) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Writes the byte at `at`; does nothing if out of range.
#[inline]
pub(crate) fn write_u8(b: &mut [u8], at: usize, v: u8) {
    if let Some(s) = b.get_mut(at) {
        *s = v;
    }
}
