//! The crate's one error type.

use flowwire_record::codec::{CodecError, ErrorKind};

/// Everything that can go wrong decoding or encoding sFlow.
///
/// Every decode variant carries the absolute byte offset (from the start of the datagram
/// handed to the decoder, or of the buffer handed to a parser) where the problem was found,
/// and the offending value. [`CodecError::kind`] sorts them into the protocol-neutral kinds
/// shared by every flowwire codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer bytes remain than the structure needs.
    #[error("truncated {what} at offset {offset}: needed {needed} bytes, {available} available")]
    Truncated {
        /// Absolute offset of the structure.
        offset: usize,
        /// Bytes needed.
        needed: usize,
        /// Bytes that remain.
        available: usize,
        /// What was being read.
        what: &'static str,
    },
    /// The datagram version is not 5.
    #[error("unsupported sFlow datagram version {version} at offset {offset}")]
    BadVersion {
        /// Absolute offset of the version field.
        offset: usize,
        /// The version found.
        version: u32,
    },
    /// An address type other than 0 (unknown), 1 (IPv4) or 2 (IPv6).
    #[error("invalid address type {value} at offset {offset}")]
    BadAddressType {
        /// Absolute offset of the type field.
        offset: usize,
        /// The type found.
        value: u32,
    },
    /// A count that cannot fit in the bytes that remain.
    #[error("{what} count {count} at offset {offset} cannot fit in {available} remaining bytes")]
    BadCount {
        /// Absolute offset of the count field.
        offset: usize,
        /// The count found.
        count: u32,
        /// Bytes that remain after the count.
        available: usize,
        /// What was being counted.
        what: &'static str,
    },
    /// A length field that points past the end of its container.
    #[error("{what} length {length} at offset {offset} exceeds the {available} remaining bytes")]
    BadLength {
        /// Absolute offset of the length field.
        offset: usize,
        /// The declared length.
        length: u32,
        /// Bytes that remain after the length field.
        available: usize,
        /// What the length belongs to.
        what: &'static str,
    },
    /// A known record (or sample) whose content does not match its declared length. The
    /// record is skipped by its declared length and the rest of the sample still decodes.
    #[error(
        "{what} {enterprise}:{format} at offset {offset}: declared length {declared}, content needs {content}"
    )]
    BadContentLength {
        /// Absolute offset of the record's tag.
        offset: usize,
        /// What kind of structure (`flow record`, `counter record`, `sample`).
        what: &'static str,
        /// Enterprise of the record.
        enterprise: u32,
        /// Format of the record.
        format: u32,
        /// The declared length.
        declared: u32,
        /// How many bytes the content needed (at least this many if longer than declared).
        content: usize,
    },
    /// Bytes left over after a structure that must fill its buffer exactly.
    #[error("{remaining} bytes left over after the structure, at offset {offset}")]
    Trailing {
        /// Absolute offset of the first byte left over.
        offset: usize,
        /// How many bytes are left over.
        remaining: usize,
    },
    /// Encoding: the output buffer, or the datagram size limit, is too small for what is
    /// written.
    #[error("buffer too small: {required} bytes required, {remaining} remaining")]
    BufferTooSmall {
        /// Bytes needed.
        required: usize,
        /// Bytes available.
        remaining: usize,
    },
    /// Encoding: a value out of the range of the field that carries it (a length too long for
    /// its length field, a VLAN id above 4095, octets above 2^32 - 1...).
    #[error("cannot encode {what}: value {value} out of range")]
    OutOfRange {
        /// What could not be encoded.
        what: &'static str,
        /// The offending value (a length or a number).
        value: u64,
    },
    /// Encoding: something sFlow has no way to carry.
    #[error("sFlow cannot carry {what}")]
    Unencodable {
        /// What could not be encoded.
        what: &'static str,
    },
    /// Encoding: a strict exporter refused a record with a field sFlow cannot carry (the
    /// first such field is named).
    #[error("sFlow cannot carry the record's {what} (strict exporter)")]
    NotCarried {
        /// The field, as named in `FlowRecord`.
        what: &'static str,
    },
}

impl Error {
    /// The absolute byte offset the error refers to, for decode errors.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Error::Truncated { offset, .. }
            | Error::BadVersion { offset, .. }
            | Error::BadAddressType { offset, .. }
            | Error::BadCount { offset, .. }
            | Error::BadLength { offset, .. }
            | Error::BadContentLength { offset, .. }
            | Error::Trailing { offset, .. } => Some(*offset),
            Error::BufferTooSmall { .. }
            | Error::OutOfRange { .. }
            | Error::Unencodable { .. }
            | Error::NotCarried { .. } => None,
        }
    }

    /// The offset of a decode error, to re-base it.
    pub(crate) fn offset_mut(&mut self) -> Option<&mut usize> {
        match self {
            Error::Truncated { offset, .. }
            | Error::BadVersion { offset, .. }
            | Error::BadAddressType { offset, .. }
            | Error::BadCount { offset, .. }
            | Error::BadLength { offset, .. }
            | Error::BadContentLength { offset, .. }
            | Error::Trailing { offset, .. } => Some(offset),
            Error::BufferTooSmall { .. }
            | Error::OutOfRange { .. }
            | Error::Unencodable { .. }
            | Error::NotCarried { .. } => None,
        }
    }

    /// The error with its offset moved by `by`: for a structure read from inside a larger
    /// buffer, whose offsets must stay absolute in that buffer.
    pub(crate) fn shifted(mut self, by: usize) -> Self {
        if let Some(o) = self.offset_mut() {
            *o = o.saturating_add(by);
        }
        self
    }
}

impl CodecError for Error {
    fn offset(&self) -> Option<usize> {
        Error::offset(self)
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Error::Truncated { .. } => ErrorKind::Truncated,
            Error::BadVersion { .. } => ErrorKind::Version,
            Error::BadAddressType { .. } => ErrorKind::Reserved,
            Error::BadCount { .. }
            | Error::BadLength { .. }
            | Error::BadContentLength { .. }
            | Error::Trailing { .. } => ErrorKind::Length,
            Error::OutOfRange { .. } => ErrorKind::Value,
            Error::BufferTooSmall { .. } | Error::Unencodable { .. } | Error::NotCarried { .. } => {
                ErrorKind::Other
            }
        }
    }
}

/// Short for `Result<T, Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;
