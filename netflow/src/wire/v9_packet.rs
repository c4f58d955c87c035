//! NetFlow v9 export packet (RFC 3954 §5.1): a 20-byte header followed by FlowSets.
//!
//! ```text
//! +--------------------------------+--------------------------------+
//! |       Version Number (9)       |             Count              |
//! +--------------------------------+--------------------------------+
//! |                            sysUpTime                            |
//! +-----------------------------------------------------------------+
//! |                           UNIX Secs                             |
//! +-----------------------------------------------------------------+
//! |                       Sequence Number                           |
//! +-----------------------------------------------------------------+
//! |                           Source ID                             |
//! +-----------------------------------------------------------------+
//! ```
//!
//! `Count` (template, options template and data records in the packet) is advisory: real
//! exporters get it wrong both ways, so [`V9Packet::flowsets`] walks the FlowSets by their
//! lengths to the end of the datagram. A zero-filled tail (a FlowSet header of zeros) ends the
//! walk cleanly.

use super::v9_flowset::{FlowSet, SET_HEADER_LEN};
use super::{read_u16, read_u32, write_u16, write_u32};
use crate::error::{Error, Result, truncated};

mod field {
    use crate::wire::Field;
    pub(super) const VERSION: Field = 0..2;
    pub(super) const COUNT: Field = 2..4;
    pub(super) const SYS_UPTIME: Field = 4..8;
    pub(super) const UNIX_SECS: Field = 8..12;
    pub(super) const SEQUENCE: Field = 12..16;
    pub(super) const SOURCE_ID: Field = 16..20;
    pub(super) const FLOWSETS: usize = 20;
}

/// Length of the v9 header.
pub const HEADER_LEN: usize = field::FLOWSETS;
/// The version number of NetFlow v9.
pub const VERSION: u16 = 9;

/// A view of a NetFlow v9 export packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V9Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> V9Packet<T> {
    /// Wraps bytes without checking them.
    pub const fn new_unchecked(buffer: T) -> Self {
        V9Packet { buffer }
    }

    /// Wraps bytes after [`V9Packet::check_len`] and a version check.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = V9Packet::new_unchecked(buffer);
        p.check_len()?;
        if p.version() != VERSION {
            return Err(Error::BadVersion {
                offset: 0,
                version: p.version(),
            });
        }
        Ok(p)
    }

    /// Checks that the header is complete.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(truncated(0, HEADER_LEN, len, "NetFlow v9 header"));
        }
        Ok(())
    }

    /// The wrapped bytes.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Version (9).
    pub fn version(&self) -> u16 {
        read_u16(self.b(), field::VERSION.start)
    }
    /// Records in the packet, as the exporter counted them (advisory).
    pub fn count(&self) -> u16 {
        read_u16(self.b(), field::COUNT.start)
    }
    /// Milliseconds since the exporter booted, at export.
    pub fn sys_uptime(&self) -> u32 {
        read_u32(self.b(), field::SYS_UPTIME.start)
    }
    /// Export time, seconds since the Unix epoch.
    pub fn unix_secs(&self) -> u32 {
        read_u32(self.b(), field::UNIX_SECS.start)
    }
    /// Sequence number: export packets sent before this one (per source id).
    pub fn sequence(&self) -> u32 {
        read_u32(self.b(), field::SEQUENCE.start)
    }
    /// Source id: the exporting observation domain.
    pub fn source_id(&self) -> u32 {
        read_u32(self.b(), field::SOURCE_ID.start)
    }

    /// The FlowSets, each a `Result`: the walk stops after the first error (a FlowSet whose
    /// length cannot be trusted leaves nothing to resynchronise on) and at a zero-filled tail.
    pub fn flowsets(&self) -> FlowSets<'_> {
        FlowSets {
            bytes: self.b(),
            pos: HEADER_LEN,
            done: false,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> V9Packet<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    /// Sets the version.
    pub fn set_version(&mut self, v: u16) {
        write_u16(self.bm(), field::VERSION.start, v)
    }
    /// Sets the count.
    pub fn set_count(&mut self, v: u16) {
        write_u16(self.bm(), field::COUNT.start, v)
    }
    /// Sets sysUpTime.
    pub fn set_sys_uptime(&mut self, v: u32) {
        write_u32(self.bm(), field::SYS_UPTIME.start, v)
    }
    /// Sets UNIX Secs.
    pub fn set_unix_secs(&mut self, v: u32) {
        write_u32(self.bm(), field::UNIX_SECS.start, v)
    }
    /// Sets the sequence number.
    pub fn set_sequence(&mut self, v: u32) {
        write_u32(self.bm(), field::SEQUENCE.start, v)
    }
    /// Sets the source id.
    pub fn set_source_id(&mut self, v: u32) {
        write_u32(self.bm(), field::SOURCE_ID.start, v)
    }
}

/// Whether every byte is zero (a zero-filled tail or padding).
pub(crate) fn all_zero(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}

/// Iterator over a packet's FlowSets; see [`V9Packet::flowsets`].
#[derive(Debug, Clone)]
pub struct FlowSets<'a> {
    bytes: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> FlowSets<'a> {
    /// Absolute offset of the next FlowSet.
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not walked yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }
}

impl<'a> Iterator for FlowSets<'a> {
    type Item = Result<FlowSet<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        if rest.is_empty() || all_zero(rest) {
            self.done = true;
            return None;
        }
        let offset = self.pos;
        if rest.len() < SET_HEADER_LEN {
            self.done = true;
            return Some(Err(truncated(
                offset,
                SET_HEADER_LEN,
                rest.len(),
                "FlowSet header",
            )));
        }
        let set_id = read_u16(rest, 0);
        let length = read_u16(rest, 2);
        let len = usize::from(length);
        if len < SET_HEADER_LEN || len > rest.len() {
            self.done = true;
            return Some(Err(Error::BadSetLength {
                offset,
                set_id,
                length,
                available: rest.len(),
            }));
        }
        self.pos += len;
        rest.get(..len).map(|b| Ok(FlowSet::new(b, offset)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Header (count 2, uptime 1000, secs 1_700_000_000, seq 42, source id 7), a template
    /// FlowSet (id 256: 8/4, 12/4, 1/4) and a data FlowSet with one record and 0 padding.
    pub(crate) fn fixture() -> Vec<u8> {
        let mut v = vec![
            0, 9, 0, 2, 0, 0, 0x03, 0xe8, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 42, 0, 0, 0, 7,
        ];
        v.extend_from_slice(&[0, 0, 0, 20, 1, 0, 0, 3, 0, 8, 0, 4, 0, 12, 0, 4, 0, 1, 0, 4]);
        v.extend_from_slice(&[1, 0, 0, 16, 10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 5, 220]);
        v
    }

    #[test]
    fn deconstruct() {
        let f = fixture();
        let p = V9Packet::new_checked(&f[..]).unwrap();
        assert_eq!(p.version(), 9);
        assert_eq!(p.count(), 2);
        assert_eq!(p.sys_uptime(), 1000);
        assert_eq!(p.unix_secs(), 1_700_000_000);
        assert_eq!(p.sequence(), 42);
        assert_eq!(p.source_id(), 7);
        let sets: Vec<_> = p.flowsets().map(|s| s.unwrap()).collect();
        assert_eq!(sets.len(), 2);
        assert_eq!((sets[0].set_id(), sets[0].offset()), (0, 20));
        assert_eq!((sets[1].set_id(), sets[1].offset()), (256, 40));
    }

    #[test]
    fn construct() {
        let f = fixture();
        let mut buf = f.clone();
        buf[..20].fill(0xa5);
        let mut p = V9Packet::new_unchecked(&mut buf[..]);
        p.set_version(9);
        p.set_count(2);
        p.set_sys_uptime(1000);
        p.set_unix_secs(1_700_000_000);
        p.set_sequence(42);
        p.set_source_id(7);
        assert_eq!(buf, f);
    }

    #[test]
    fn zero_filled_tail_ends_cleanly() {
        let mut f = fixture();
        f.extend_from_slice(&[0; 300]);
        let p = V9Packet::new_checked(&f[..]).unwrap();
        assert!(p.flowsets().all(|s| s.is_ok()));
        assert_eq!(p.flowsets().count(), 2);
    }

    #[test]
    fn truncation_at_every_length() {
        let f = fixture();
        for n in 0..f.len() {
            match V9Packet::new_checked(&f[..n]) {
                Err(Error::Truncated { .. }) => assert!(n < HEADER_LEN),
                Ok(p) => {
                    let sets: Vec<_> = p.flowsets().collect();
                    // Every cut but the FlowSet boundaries leaves one error at the end.
                    // (a cut inside the first FlowSet's zero id reads as a zero-filled tail)
                    if n <= 23 || n == 40 {
                        assert!(sets.iter().all(|s| s.is_ok()));
                    } else {
                        assert!(sets.last().unwrap().is_err(), "{n}");
                    }
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn bad_set_length_is_reported_with_offset() {
        let mut f = fixture();
        f[43] = 200;
        let p = V9Packet::new_checked(&f[..]).unwrap();
        let sets: Vec<_> = p.flowsets().collect();
        assert_eq!(
            sets[1],
            Err(Error::BadSetLength {
                offset: 40,
                set_id: 256,
                length: 200,
                available: 16
            })
        );
    }
}
