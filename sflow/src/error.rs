//! The crate's one error type.

/// Everything that can go wrong decoding or encoding sFlow.
///
/// Every decode variant carries the absolute byte offset (from the start of the datagram, or of
/// the buffer handed to the parser) where the problem was found, and the offending value.
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
    Version {
        /// Absolute offset of the version field.
        offset: usize,
        /// The version found.
        version: u32,
    },
    /// An address type other than 0 (unknown), 1 (IPv4) or 2 (IPv6).
    #[error("invalid address type {value} at offset {offset}")]
    AddressType {
        /// Absolute offset of the type field.
        offset: usize,
        /// The type found.
        value: u32,
    },
    /// A count that cannot fit in the bytes that remain.
    #[error("{what} count {count} at offset {offset} cannot fit in {available} remaining bytes")]
    Count {
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
    Length {
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
    ContentLength {
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
    /// The output buffer is too small.
    #[error("buffer too short: {required} bytes required, {remaining} remaining")]
    BufferTooShort {
        /// Bytes needed.
        required: usize,
        /// Bytes available.
        remaining: usize,
    },
    /// A value that cannot be encoded (too long for its length field, or out of range for a
    /// compact field).
    #[error("cannot encode {what}: value {value} out of range")]
    Encode {
        /// What could not be encoded.
        what: &'static str,
        /// The offending value (a length or a number).
        value: u64,
    },
}

impl Error {
    /// The absolute byte offset the error refers to, for decode errors.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Error::Truncated { offset, .. }
            | Error::Version { offset, .. }
            | Error::AddressType { offset, .. }
            | Error::Count { offset, .. }
            | Error::Length { offset, .. }
            | Error::ContentLength { offset, .. }
            | Error::Trailing { offset, .. } => Some(*offset),
            Error::BufferTooShort { .. } | Error::Encode { .. } => None,
        }
    }
}

/// Short for `Result<T, Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;
