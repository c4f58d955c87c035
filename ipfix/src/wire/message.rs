//! The IPFIX message header (RFC 7011 §3.1) and a view over a whole message.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |       Version Number          |            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           Export Time                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Sequence Number                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Observation Domain ID                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! After [`Message::new_checked`] succeeds no accessor panics: the buffer holds at least the
//! header and at least `length` bytes.

use super::set::SetIter;
use super::{be16, be32};
use crate::error::Error;

/// Byte ranges of the header fields.
mod field {
    use core::ops::Range;
    pub(crate) const VERSION: Range<usize> = 0..2;
    pub(crate) const LENGTH: Range<usize> = 2..4;
    pub(crate) const EXPORT_TIME: Range<usize> = 4..8;
    pub(crate) const SEQUENCE: Range<usize> = 8..12;
    pub(crate) const DOMAIN: Range<usize> = 12..16;
}

/// The length of the message header.
pub const HEADER_LEN: usize = 16;
/// The IPFIX version number.
pub const VERSION: u16 = 10;

/// A zero-copy view over one IPFIX message (header and sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
    base: usize,
}

impl<T: AsRef<[u8]>> Message<T> {
    /// A view without checks; accessors then return 0 / empty for missing bytes rather than
    /// panic, but [`Message::new_checked`] is what decoders should use.
    pub const fn new_unchecked(buffer: T) -> Self {
        Message { buffer, base: 0 }
    }

    /// A view after checking the header: at least 16 bytes, version 10, and a length field
    /// that is at least 16 and no more than the buffer. Bytes after `length` are ignored by
    /// the view (they may be the next message of a stream).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        Self::new_checked_at(buffer, 0)
    }

    /// Like [`Message::new_checked`], for a message that starts at absolute offset `base` of
    /// a larger input: errors and the offsets of sets and records are reported from there.
    pub fn new_checked_at(buffer: T, base: usize) -> Result<Self, Error> {
        let m = Message { buffer, base };
        m.check_len()?;
        Ok(m)
    }

    /// Checks the header as [`Message::new_checked`] does.
    pub fn check_len(&self) -> Result<(), Error> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated {
                offset: self.base,
                needed: HEADER_LEN,
                available: b.len(),
                what: "message header",
            });
        }
        let version = self.version();
        if version != VERSION {
            return Err(Error::BadVersion {
                offset: self.base,
                version,
            });
        }
        let length = self.length();
        if usize::from(length) < HEADER_LEN || usize::from(length) > b.len() {
            return Err(Error::BadMessageLength {
                offset: self.base,
                length,
                available: b.len(),
            });
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The absolute offset of the message in the decoder's input.
    pub fn base(&self) -> usize {
        self.base
    }

    /// Version number (10).
    pub fn version(&self) -> u16 {
        be16(self.buffer.as_ref(), field::VERSION.start)
    }

    /// Total length of the message in octets, header included.
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// Export time: seconds since the Unix epoch.
    pub fn export_time(&self) -> u32 {
        be32(self.buffer.as_ref(), field::EXPORT_TIME.start)
    }

    /// Sequence number: data records sent before this message in this observation domain,
    /// modulo 2^32.
    pub fn sequence_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQUENCE.start)
    }

    /// Observation domain id.
    pub fn observation_domain_id(&self) -> u32 {
        be32(self.buffer.as_ref(), field::DOMAIN.start)
    }

    /// The message's bytes (header included), `length` long.
    pub fn as_bytes(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        b.get(..usize::from(self.length())).unwrap_or(b)
    }

    /// The bytes after the header, up to `length`.
    pub fn payload(&self) -> &[u8] {
        self.as_bytes().get(HEADER_LEN..).unwrap_or_default()
    }

    /// The sets of the message.
    pub fn sets(&self) -> SetIter<'_> {
        SetIter::new(self.payload(), self.base + HEADER_LEN)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Message<T> {
    /// Writes the version number.
    pub fn set_version(&mut self, v: u16) {
        super::put16(self.buffer.as_mut(), field::VERSION.start, v);
    }
    /// Writes the length.
    pub fn set_length(&mut self, v: u16) {
        super::put16(self.buffer.as_mut(), field::LENGTH.start, v);
    }
    /// Writes the export time.
    pub fn set_export_time(&mut self, v: u32) {
        super::put32(self.buffer.as_mut(), field::EXPORT_TIME.start, v);
    }
    /// Writes the sequence number.
    pub fn set_sequence_number(&mut self, v: u32) {
        super::put32(self.buffer.as_mut(), field::SEQUENCE.start, v);
    }
    /// Writes the observation domain id.
    pub fn set_observation_domain_id(&mut self, v: u32) {
        super::put32(self.buffer.as_mut(), field::DOMAIN.start, v);
    }
}

/// Splits a buffer holding IPFIX messages back to back (a datagram carrying several, a
/// stream, an RFC 5655 file) into messages. Yields an error and stops at the first bad
/// header; never reads past the buffer.
#[derive(Debug, Clone)]
pub struct MessageIter<'a> {
    rest: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> MessageIter<'a> {
    /// Messages of `buffer`, whose first byte is at absolute offset `base`.
    pub fn new(buffer: &'a [u8], base: usize) -> Self {
        MessageIter {
            rest: buffer,
            offset: base,
            done: false,
        }
    }

    /// The absolute offset of what has not been consumed yet.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a> Iterator for MessageIter<'a> {
    type Item = Result<Message<&'a [u8]>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        match Message::new_checked_at(self.rest, self.offset) {
            Ok(m) => {
                let len = usize::from(m.length());
                let (this, rest) = self.rest.split_at_checked(len)?;
                self.rest = rest;
                self.offset += len;
                Some(Ok(Message::new_unchecked_at(this, m.base)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<T: AsRef<[u8]>> Message<T> {
    pub(crate) const fn new_unchecked_at(buffer: T, base: usize) -> Self {
        Message { buffer, base }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static BYTES: [u8; 20] = [
        0x00, 0x0a, 0x00, 0x14, // version, length 20
        0x65, 0x53, 0xf1, 0x00, // export time
        0x00, 0x00, 0x00, 0x07, // sequence
        0x00, 0x00, 0x00, 0x2a, // domain 42
        0xde, 0xad, 0xbe, 0xef, // payload (not a valid set, not looked at here)
    ];

    #[test]
    fn deconstruct() {
        let m = Message::new_checked(&BYTES[..]).unwrap();
        assert_eq!(m.version(), 10);
        assert_eq!(m.length(), 20);
        assert_eq!(m.export_time(), 0x6553_f100);
        assert_eq!(m.sequence_number(), 7);
        assert_eq!(m.observation_domain_id(), 42);
        assert_eq!(m.payload(), &[0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    fn construct() {
        let mut buf = [0xa5u8; 20];
        let mut m = Message::new_unchecked(&mut buf[..]);
        m.set_version(10);
        m.set_length(20);
        m.set_export_time(0x6553_f100);
        m.set_sequence_number(7);
        m.set_observation_domain_id(42);
        assert_eq!(&buf[..16], &BYTES[..16]);
    }

    #[test]
    fn truncation_at_every_length() {
        for len in 0..BYTES.len() {
            let r = Message::new_checked(&BYTES[..len]);
            assert!(r.is_err(), "len {len}");
        }
        let mut bad = BYTES;
        bad[1] = 9;
        assert_eq!(
            Message::new_checked(&bad[..]),
            Err(Error::BadVersion {
                offset: 0,
                version: 9
            })
        );
        bad = BYTES;
        bad[3] = 15;
        assert!(matches!(
            Message::new_checked(&bad[..]),
            Err(Error::BadMessageLength { length: 15, .. })
        ));
    }

    #[test]
    fn back_to_back() {
        let mut two = BYTES.to_vec();
        two.extend_from_slice(&BYTES);
        two.push(0);
        let got: Vec<_> = MessageIter::new(&two, 100).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].as_ref().unwrap().base(), 120);
        assert!(matches!(got[2], Err(Error::Truncated { offset: 140, .. })));
    }
}
