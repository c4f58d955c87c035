//! NetFlow v5 datagram: the 24-byte header followed by up to 30 fixed 48-byte flow records.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-------------------------------+-------------------------------+
//! |        version (5)            |            count              |
//! +-------------------------------+-------------------------------+
//! |                          sysUptime (ms)                       |
//! +---------------------------------------------------------------+
//! |                          unix_secs                            |
//! +---------------------------------------------------------------+
//! |                          unix_nsecs                           |
//! +---------------------------------------------------------------+
//! |                          flow_sequence                        |
//! +---------------+---------------+---+---------------------------+
//! |  engine_type  |   engine_id   |mod| sampling interval (14 bit) |
//! +---------------+---------------+---+---------------------------+
//! ```
//!
//! `count` is checked against the datagram: [`V5Packet::records`] yields the records that
//! are really there (at most `count`) and then, if `count` claimed more (or more than 30), a
//! [`Error::CountMismatch`].

use super::v5_record::{RECORD_LEN, V5Record};
use super::{read_u8, read_u16, read_u32, write_u8, write_u16, write_u32};
use crate::error::{Error, Result, truncated};

mod field {
    use crate::wire::Field;
    pub(super) const VERSION: Field = 0..2;
    pub(super) const COUNT: Field = 2..4;
    pub(super) const SYS_UPTIME: Field = 4..8;
    pub(super) const UNIX_SECS: Field = 8..12;
    pub(super) const UNIX_NSECS: Field = 12..16;
    pub(super) const FLOW_SEQUENCE: Field = 16..20;
    pub(super) const ENGINE_TYPE: usize = 20;
    pub(super) const ENGINE_ID: usize = 21;
    pub(super) const SAMPLING: Field = 22..24;
    pub(super) const RECORDS: usize = 24;
}

/// Length of the v5 header.
pub const HEADER_LEN: usize = field::RECORDS;
/// The most records a v5 datagram may carry.
pub const MAX_RECORDS: usize = 30;
/// The version number of NetFlow v5.
pub const VERSION: u16 = 5;

/// A view of a NetFlow v5 datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V5Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> V5Packet<T> {
    /// Wraps bytes without checking them (accessors then return 0 for missing bytes).
    pub const fn new_unchecked(buffer: T) -> Self {
        V5Packet { buffer }
    }

    /// Wraps bytes after [`V5Packet::check_len`] and a version check.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = V5Packet::new_unchecked(buffer);
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
            return Err(truncated(0, HEADER_LEN, len, "NetFlow v5 header"));
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

    /// Version (5).
    pub fn version(&self) -> u16 {
        read_u16(self.b(), field::VERSION.start)
    }
    /// The number of records the header claims.
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
    /// Export time, residual nanoseconds.
    pub fn unix_nsecs(&self) -> u32 {
        read_u32(self.b(), field::UNIX_NSECS.start)
    }
    /// Sequence number: flows seen before this datagram's first.
    pub fn flow_sequence(&self) -> u32 {
        read_u32(self.b(), field::FLOW_SEQUENCE.start)
    }
    /// Type of flow-switching engine.
    pub fn engine_type(&self) -> u8 {
        read_u8(self.b(), field::ENGINE_TYPE)
    }
    /// Slot number of the flow-switching engine.
    pub fn engine_id(&self) -> u8 {
        read_u8(self.b(), field::ENGINE_ID)
    }
    /// The raw sampling field: mode in the top 2 bits, interval in the low 14.
    pub fn sampling(&self) -> u16 {
        read_u16(self.b(), field::SAMPLING.start)
    }
    /// Sampling mode (0 none, 1 deterministic, 2 random).
    pub fn sampling_mode(&self) -> u8 {
        (self.sampling() >> 14) as u8
    }
    /// Sampling interval (1 in N; 0 when not sampled).
    pub fn sampling_interval(&self) -> u16 {
        self.sampling() & 0x3fff
    }

    /// Complete records present in the datagram, up to `count`.
    pub fn records_present(&self) -> usize {
        let room = self.b().len().saturating_sub(HEADER_LEN) / RECORD_LEN;
        room.min(usize::from(self.count()))
    }

    /// The length of the message as its header describes it (24 + 48 × count); bytes after
    /// it may be another message.
    pub fn message_len(&self) -> usize {
        HEADER_LEN + usize::from(self.count()) * RECORD_LEN
    }

    /// Checks `count` against the datagram: an error if it claims more records than are
    /// present or more than 30. Advisory: [`V5Packet::records`] decodes what is there anyway.
    pub fn check_count(&self) -> Result<()> {
        let count = self.count();
        let present = self.records_present();
        if usize::from(count) > present || usize::from(count) > MAX_RECORDS {
            return Err(Error::CountMismatch {
                offset: 0,
                count,
                present,
            });
        }
        Ok(())
    }

    /// The records present (at most `count`), then one [`Error::CountMismatch`] if `count`
    /// claims more than are present or more than 30.
    pub fn records(&self) -> V5Records<'_> {
        V5Records {
            bytes: self.b(),
            index: 0,
            present: self.records_present(),
            count: self.count(),
            done: false,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> V5Packet<T> {
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
    /// Sets sysUptime.
    pub fn set_sys_uptime(&mut self, v: u32) {
        write_u32(self.bm(), field::SYS_UPTIME.start, v)
    }
    /// Sets unix_secs.
    pub fn set_unix_secs(&mut self, v: u32) {
        write_u32(self.bm(), field::UNIX_SECS.start, v)
    }
    /// Sets unix_nsecs.
    pub fn set_unix_nsecs(&mut self, v: u32) {
        write_u32(self.bm(), field::UNIX_NSECS.start, v)
    }
    /// Sets flow_sequence.
    pub fn set_flow_sequence(&mut self, v: u32) {
        write_u32(self.bm(), field::FLOW_SEQUENCE.start, v)
    }
    /// Sets engine_type.
    pub fn set_engine_type(&mut self, v: u8) {
        write_u8(self.bm(), field::ENGINE_TYPE, v)
    }
    /// Sets engine_id.
    pub fn set_engine_id(&mut self, v: u8) {
        write_u8(self.bm(), field::ENGINE_ID, v)
    }
    /// Sets the raw sampling field.
    pub fn set_sampling(&mut self, v: u16) {
        write_u16(self.bm(), field::SAMPLING.start, v)
    }
    /// The bytes of record `index` (0-based), for writing; `None` if out of range.
    pub fn record_mut(&mut self, index: usize) -> Option<V5Record<&mut [u8]>> {
        let start = HEADER_LEN.checked_add(index.checked_mul(RECORD_LEN)?)?;
        let end = start.checked_add(RECORD_LEN)?;
        self.bm().get_mut(start..end).map(V5Record::new_unchecked)
    }
}

/// Iterator over a v5 datagram's records; see [`V5Packet::records`].
#[derive(Debug, Clone)]
pub struct V5Records<'a> {
    bytes: &'a [u8],
    index: usize,
    present: usize,
    count: u16,
    done: bool,
}

impl<'a> Iterator for V5Records<'a> {
    type Item = Result<V5Record<&'a [u8]>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.index < self.present {
            let start = HEADER_LEN + self.index * RECORD_LEN;
            self.index += 1;
            if let Some(b) = self.bytes.get(start..start + RECORD_LEN) {
                return Some(Ok(V5Record::new_unchecked(b)));
            }
        }
        self.done = true;
        let count = usize::from(self.count);
        if count > self.present || count > MAX_RECORDS {
            return Some(Err(Error::CountMismatch {
                offset: 0,
                count: self.count,
                present: self.present,
            }));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header (count 1, uptime 0x01020304, secs 1_700_000_000, nsecs 5, seq 7, engine 1/2,
    /// sampling mode 1 interval 100) and one record of zeros.
    pub(crate) fn fixture() -> Vec<u8> {
        let mut v = vec![
            0x00, 0x05, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00,
            0x00, 0x05, 0x00, 0x00, 0x00, 0x07, 0x01, 0x02, 0x40, 0x64,
        ];
        v.extend_from_slice(&[0; RECORD_LEN]);
        v
    }

    #[test]
    fn deconstruct() {
        let f = fixture();
        let p = V5Packet::new_checked(&f[..]).unwrap();
        assert_eq!(p.version(), 5);
        assert_eq!(p.count(), 1);
        assert_eq!(p.sys_uptime(), 0x0102_0304);
        assert_eq!(p.unix_secs(), 1_700_000_000);
        assert_eq!(p.unix_nsecs(), 5);
        assert_eq!(p.flow_sequence(), 7);
        assert_eq!((p.engine_type(), p.engine_id()), (1, 2));
        assert_eq!((p.sampling_mode(), p.sampling_interval()), (1, 100));
        assert_eq!(p.records().count(), 1);
        assert!(p.check_count().is_ok());
    }

    #[test]
    fn construct() {
        let f = fixture();
        let mut buf = vec![0xa5; f.len()];
        let mut p = V5Packet::new_unchecked(&mut buf[..]);
        p.set_version(5);
        p.set_count(1);
        p.set_sys_uptime(0x0102_0304);
        p.set_unix_secs(1_700_000_000);
        p.set_unix_nsecs(5);
        p.set_flow_sequence(7);
        p.set_engine_type(1);
        p.set_engine_id(2);
        p.set_sampling(0x4064);
        p.record_mut(0).unwrap().into_inner().fill(0);
        assert!(p.record_mut(1).is_none());
        assert_eq!(buf, f);
    }

    #[test]
    fn count_beyond_datagram_decodes_what_is_there() {
        let mut f = fixture();
        f[3] = 3;
        let p = V5Packet::new_checked(&f[..]).unwrap();
        let items: Vec<_> = p.records().collect();
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok());
        assert_eq!(
            items[1],
            Err(Error::CountMismatch {
                offset: 0,
                count: 3,
                present: 1
            })
        );
        assert!(p.check_count().is_err());
    }

    #[test]
    fn truncation_at_every_length() {
        let f = fixture();
        for n in 0..f.len() {
            match V5Packet::new_checked(&f[..n]) {
                Err(Error::Truncated { needed: 24, .. }) => assert!(n < 24),
                Ok(p) => {
                    assert!(n >= 24);
                    let items: Vec<_> = p.records().collect();
                    assert_eq!(items.len(), 1);
                    assert!(items[0].is_err());
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn wrong_version() {
        let mut f = fixture();
        f[1] = 9;
        assert_eq!(
            V5Packet::new_checked(&f[..]),
            Err(Error::BadVersion {
                offset: 0,
                version: 9
            })
        );
    }
}
