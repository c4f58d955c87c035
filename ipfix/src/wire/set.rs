//! Sets (RFC 7011 §3.3): a 4-byte header (set id, length) and records, possibly padded.
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Set ID               |          Length               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::be16;
use crate::error::Error;

/// Byte ranges of the set header.
mod field {
    use core::ops::Range;
    pub(crate) const ID: Range<usize> = 0..2;
    pub(crate) const LENGTH: Range<usize> = 2..4;
}

/// The length of a set header.
pub const SET_HEADER_LEN: usize = 4;
/// Set id of template sets.
pub const TEMPLATE_SET_ID: u16 = 2;
/// Set id of options template sets.
pub const OPTIONS_TEMPLATE_SET_ID: u16 = 3;
/// The smallest data set id (= the smallest template id).
pub const MIN_DATA_SET_ID: u16 = 256;

/// What a set holds, by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetKind {
    /// Set id 2: template records.
    Template,
    /// Set id 3: options template records.
    OptionsTemplate,
    /// Set id ≥ 256: data records of that template.
    Data(u16),
    /// Set ids 0, 1 and 4-255: reserved (NetFlow v9's 0 and 1 show up in broken exporters).
    Reserved(u16),
}

impl SetKind {
    /// The kind of a set id.
    pub const fn from_id(id: u16) -> Self {
        match id {
            TEMPLATE_SET_ID => SetKind::Template,
            OPTIONS_TEMPLATE_SET_ID => SetKind::OptionsTemplate,
            id if id >= MIN_DATA_SET_ID => SetKind::Data(id),
            id => SetKind::Reserved(id),
        }
    }

    /// The set id.
    pub const fn id(self) -> u16 {
        match self {
            SetKind::Template => TEMPLATE_SET_ID,
            SetKind::OptionsTemplate => OPTIONS_TEMPLATE_SET_ID,
            SetKind::Data(id) | SetKind::Reserved(id) => id,
        }
    }
}

/// A zero-copy view over one set, cut to its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Set<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Set<'a> {
    /// A checked view: the buffer holds the header and the set's length is at least 4 and no
    /// more than the buffer. The view is cut to the length. `offset` is the set's absolute
    /// offset, used in errors.
    pub fn new_checked(buffer: &'a [u8], offset: usize) -> Result<Self, Error> {
        if buffer.len() < SET_HEADER_LEN {
            return Err(Error::Truncated {
                offset,
                needed: SET_HEADER_LEN,
                available: buffer.len(),
                what: "set header",
            });
        }
        let set_id = be16(buffer, field::ID.start);
        let length = be16(buffer, field::LENGTH.start);
        let len = usize::from(length);
        match buffer.get(..len) {
            Some(bytes) if len >= SET_HEADER_LEN => Ok(Set { bytes, offset }),
            _ => Err(Error::BadSetLength {
                offset,
                set_id,
                length,
                available: buffer.len(),
            }),
        }
    }

    /// The set id.
    pub fn id(&self) -> u16 {
        be16(self.bytes, field::ID.start)
    }

    /// What the set holds.
    pub fn kind(&self) -> SetKind {
        SetKind::from_id(self.id())
    }

    /// The length field (header included).
    pub fn length(&self) -> u16 {
        be16(self.bytes, field::LENGTH.start)
    }

    /// The absolute offset of the set header.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The absolute offset of the first record.
    pub fn body_offset(&self) -> usize {
        self.offset + SET_HEADER_LEN
    }

    /// The records and padding after the header.
    pub fn body(&self) -> &'a [u8] {
        self.bytes.get(SET_HEADER_LEN..).unwrap_or_default()
    }

    /// The whole set, header included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The template records of a template or options template set (empty for others).
    pub fn templates(&self) -> super::template::TemplateRecordIter<'a> {
        let kind = match self.kind() {
            SetKind::Template => Some(false),
            SetKind::OptionsTemplate => Some(true),
            _ => None,
        };
        super::template::TemplateRecordIter::new(
            if kind.is_some() { self.body() } else { &[] },
            self.body_offset(),
            kind.unwrap_or(false),
        )
    }
}

/// The sets of a message. Yields an error for a set whose length is shorter than its header
/// or runs past the message, and stops there: nothing after it can be located.
#[derive(Debug, Clone)]
pub struct SetIter<'a> {
    rest: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> SetIter<'a> {
    /// The sets in `payload` (a message without its header), whose first byte is at absolute
    /// offset `base`.
    pub fn new(payload: &'a [u8], base: usize) -> Self {
        SetIter {
            rest: payload,
            offset: base,
            done: false,
        }
    }
}

impl<'a> Iterator for SetIter<'a> {
    type Item = Result<Set<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        match Set::new_checked(self.rest, self.offset) {
            Ok(set) => {
                let len = set.as_bytes().len();
                self.rest = self.rest.get(len..).unwrap_or_default();
                self.offset += len;
                Some(Ok(set))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for SetIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_bad_lengths() {
        let payload = [
            0, 2, 0, 8, 1, 0, 0, 0, // template set, 8 bytes
            1, 0, 0, 6, 9, 9, // data set 256, 6 bytes
            1, 1, 0, 3, // length 3 < 4
            1, 1, 0, 4, // never reached
        ];
        let got: Vec<_> = SetIter::new(&payload, 16).collect();
        assert_eq!(got.len(), 3);
        let s0 = got[0].unwrap();
        assert_eq!(
            (s0.kind(), s0.length(), s0.offset()),
            (SetKind::Template, 8, 16)
        );
        let s1 = got[1].unwrap();
        assert_eq!(
            (s1.kind(), s1.body(), s1.offset()),
            (SetKind::Data(256), &[9, 9][..], 24)
        );
        assert_eq!(
            got[2],
            Err(Error::BadSetLength {
                offset: 30,
                set_id: 257,
                length: 3,
                available: 8
            })
        );
    }

    #[test]
    fn truncation_at_every_length() {
        let set = [1, 0, 0, 8, 1, 2, 3, 4];
        for len in 0..set.len() {
            let mut it = SetIter::new(&set[..len], 0);
            if len == 0 {
                assert!(it.next().is_none());
            } else {
                assert!(it.next().unwrap().is_err(), "len {len}");
                assert!(it.next().is_none(), "stops after an error");
            }
        }
        assert!(Set::new_checked(&set, 0).is_ok());
    }

    #[test]
    fn kinds() {
        assert_eq!(SetKind::from_id(0), SetKind::Reserved(0));
        assert_eq!(SetKind::from_id(3), SetKind::OptionsTemplate);
        assert_eq!(SetKind::from_id(255), SetKind::Reserved(255));
        assert_eq!(SetKind::from_id(256).id(), 256);
    }
}
