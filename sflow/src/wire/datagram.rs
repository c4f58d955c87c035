//! The datagram header (sFlow v5 §"sample_datagram_v5").

use crate::error::{Error, Result};
use crate::repr::split_tag;
use crate::wire::be32;
use crate::wire::sample::SampleRef;
use crate::xdr::{Address, Reader, Xdr};

/// Field offsets. The fields after the agent address move with its type, so they are
/// relative to the end of the address.
mod field {
    /// datagram_version.
    pub(super) const VERSION: usize = 0;
    /// agent_address type.
    pub(super) const ADDRESS_TYPE: usize = 4;
    /// agent_address value.
    pub(super) const ADDRESS: usize = 8;
    /// sub_agent_id, after the address.
    pub(super) const SUB_AGENT_ID: usize = 0;
    /// sequence_number, after the address.
    pub(super) const SEQUENCE: usize = 4;
    /// uptime, after the address.
    pub(super) const UPTIME: usize = 8;
    /// number of samples, after the address.
    pub(super) const SAMPLE_COUNT: usize = 12;
    /// first sample, after the address.
    pub(super) const SAMPLES: usize = 16;
}

/// The only version this crate decodes.
pub const VERSION_5: u32 = 5;

/// A checked view of an sFlow v5 datagram.
#[derive(Debug, Clone)]
pub struct Datagram<T: AsRef<[u8]>> {
    buffer: T,
    /// Offset of the field after the agent address.
    after_address: usize,
}

impl<T: AsRef<[u8]>> Datagram<T> {
    /// Checks the version, the agent address type and that the fixed header is present.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let data = buffer.as_ref();
        let mut r = Reader::new(data, 0);
        let version = r.u32("datagram version")?;
        if version != VERSION_5 {
            return Err(Error::BadVersion {
                offset: field::VERSION,
                version,
            });
        }
        let _ = Address::read(&mut r)?;
        let after_address = r.offset();
        r.take(field::SAMPLES, "datagram header")?;
        Ok(Datagram {
            buffer,
            after_address,
        })
    }

    /// The buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The version (always 5).
    pub fn version(&self) -> u32 {
        be32(self.data(), field::VERSION)
    }

    /// The agent address.
    pub fn agent(&self) -> Address {
        let data = self.data();
        let a = data.get(field::ADDRESS..self.after_address).unwrap_or(&[]);
        match be32(data, field::ADDRESS_TYPE) {
            1 => <[u8; 4]>::try_from(a).map_or(Address::Unknown, |b| Address::V4(b.into())),
            2 => <[u8; 16]>::try_from(a).map_or(Address::Unknown, |b| Address::V6(b.into())),
            _ => Address::Unknown,
        }
    }

    /// The sub-agent id.
    pub fn sub_agent_id(&self) -> u32 {
        be32(self.data(), self.after_address + field::SUB_AGENT_ID)
    }

    /// The datagram sequence number.
    pub fn sequence(&self) -> u32 {
        be32(self.data(), self.after_address + field::SEQUENCE)
    }

    /// Milliseconds since the agent booted.
    pub fn uptime(&self) -> u32 {
        be32(self.data(), self.after_address + field::UPTIME)
    }

    /// The declared number of samples (advisory: never used to allocate).
    pub fn sample_count(&self) -> u32 {
        be32(self.data(), self.after_address + field::SAMPLE_COUNT)
    }

    /// Length of the fixed header.
    pub fn header_len(&self) -> usize {
        self.after_address + field::SAMPLES
    }

    /// The samples.
    pub fn samples(&self) -> SampleIter<'_> {
        let start = self.header_len();
        SampleIter {
            data: self.data().get(start..).unwrap_or(&[]),
            base: start,
            pos: 0,
            left: self.sample_count(),
            failed: false,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Datagram<T> {
    fn put32(&mut self, at: usize, v: u32) {
        if let Some(b) = self.buffer.as_mut().get_mut(at..at + 4) {
            b.copy_from_slice(&v.to_be_bytes());
        }
    }

    /// Sets the sub-agent id (in place).
    pub fn set_sub_agent_id(&mut self, v: u32) {
        self.put32(self.after_address + field::SUB_AGENT_ID, v)
    }

    /// Sets the datagram sequence number (in place), e.g. in a relay that renumbers.
    pub fn set_sequence(&mut self, v: u32) {
        self.put32(self.after_address + field::SEQUENCE, v)
    }

    /// Sets the uptime (in place).
    pub fn set_uptime(&mut self, v: u32) {
        self.put32(self.after_address + field::UPTIME, v)
    }
}

/// Iterator over the samples of a datagram: yields the declared number of samples, or stops
/// after the first one whose header or declared length does not fit.
#[derive(Debug, Clone)]
pub struct SampleIter<'a> {
    data: &'a [u8],
    base: usize,
    pos: usize,
    left: u32,
    failed: bool,
}

impl<'a> SampleIter<'a> {
    /// Bytes after the declared samples (meaningful once the iterator is exhausted): not an
    /// error, but worth a warning.
    pub fn trailing_bytes(&self) -> usize {
        if self.failed {
            0
        } else {
            self.data.len().saturating_sub(self.pos)
        }
    }
}

impl<'a> Iterator for SampleIter<'a> {
    type Item = Result<SampleRef<'a>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 || self.failed {
            return None;
        }
        self.left -= 1;
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
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
                let offset = self.base + self.pos;
                self.pos += 8 + data.len();
                return Some(Ok(SampleRef {
                    offset,
                    enterprise,
                    format,
                    data,
                }));
            }
        }
        let mut r = Reader::new(rest, self.base + self.pos);
        match SampleRef::read(&mut r) {
            Ok(s) => {
                self.pos += rest.len() - r.remaining();
                Some(Ok(s))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (
            0,
            Some((self.data.len().saturating_sub(self.pos) / 8).min(self.left as usize)),
        )
    }
}
