//! Records (flow or counter data) inside a sample: tag, length, body.

use crate::error::{Error, Result};
use crate::repr::{CounterData, FlowData, split_tag};
use crate::xdr::Reader;

/// One record: its tag, and its body borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Absolute offset of the record's tag.
    pub offset: usize,
    /// Enterprise number.
    pub enterprise: u32,
    /// Format number.
    pub format: u32,
    /// The body (declared length bytes).
    pub data: &'a [u8],
}

impl<'a> RecordRef<'a> {
    /// Absolute offset of the body.
    pub fn body_offset(&self) -> usize {
        self.offset.saturating_add(8)
    }

    /// Decodes the record as a flow record (owned).
    pub fn flow(&self) -> Result<FlowData> {
        FlowData::decode(self.enterprise, self.format, self.data, self.offset)
    }

    /// Decodes the record as a counter record (owned).
    pub fn counters(&self) -> Result<CounterData> {
        CounterData::decode(self.enterprise, self.format, self.data, self.offset)
    }

    /// Runs `f` over the body, which it must consume exactly: content shorter or longer than
    /// the declared length is an [`Error::BadContentLength`] (the record is then skipped by its
    /// declared length by the caller).
    pub fn with_body<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&mut Reader<'a>) -> Result<T>,
    ) -> Result<T> {
        crate::repr::with_body(
            self.data,
            self.body_offset(),
            self.offset,
            what,
            self.enterprise,
            self.format,
            f,
        )
    }

    /// A cursor over the body, with absolute offsets.
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.data, self.body_offset())
    }
}

/// Iterator over the records of a sample.
#[derive(Debug, Clone, Copy)]
pub struct RecordIter<'a> {
    data: &'a [u8],
    base: usize,
    pos: usize,
    left: u32,
    failed: bool,
    what: &'static str,
}

impl<'a> RecordIter<'a> {
    /// Records from `data` (starting at absolute `base`), `count` of them.
    pub(crate) fn new(data: &'a [u8], base: usize, count: u32, what: &'static str) -> Self {
        RecordIter {
            data,
            base,
            pos: 0,
            left: count,
            failed: false,
            what,
        }
    }

    /// The declared number of records not yet yielded.
    pub fn remaining(&self) -> u32 {
        self.left
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<RecordRef<'a>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 || self.failed {
            return None;
        }
        self.left -= 1;
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let offset = self.base + self.pos;
        // Fast path: tag, length and the whole body are there.
        if let Some((head, after)) = rest.split_at_checked(8) {
            let word = |at: usize| {
                head.get(at..at + 4)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_be_bytes)
            };
            if let (Some(tag), Some(len)) = (word(0), word(4))
                && let Some(data) = after.get(..len as usize)
            {
                let (enterprise, format) = split_tag(tag);
                self.pos += 8 + data.len();
                return Some(Ok(RecordRef {
                    offset,
                    enterprise,
                    format,
                    data,
                }));
            }
        }
        let mut r = Reader::new(rest, offset);
        let item = (|| {
            let (enterprise, format) = split_tag(r.u32(self.what)?);
            let len_at = r.offset();
            let len = r.u32(self.what)?;
            let available = r.remaining();
            let data = r
                .take(len as usize, self.what)
                .map_err(|_| Error::BadLength {
                    offset: len_at,
                    length: len,
                    available,
                    what: self.what,
                })?;
            Ok(RecordRef {
                offset,
                enterprise,
                format,
                data,
            })
        })();
        match item {
            Ok(rec) => {
                self.pos += rest.len() - r.remaining();
                Some(Ok(rec))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
