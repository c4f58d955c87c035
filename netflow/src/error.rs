//! The crate's one error type. Every decode variant carries the absolute byte offset (from
//! the start of the datagram) where the problem was found and the offending value.

use flowwire_record::ValueError;
pub use flowwire_record::codec::TemplateProblem;
use flowwire_record::codec::{CodecError, ErrorKind};
use flowwire_record::registry::FieldId;

/// Everything that can go wrong decoding or encoding NetFlow v5 and v9.
///
/// Decoding is forgiving where real exporters are sloppy (v9 `count`, FlowSet padding, a
/// zero-filled tail) and strict where a mistake would mean reading garbage; what is reported
/// here is always about a specific place in the datagram, so a collector can log it and carry
/// on with the next FlowSet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer bytes than the wire unit needs.
    #[error("truncated {what} at offset {offset}: needs {needed} bytes, {available} available")]
    Truncated {
        /// Absolute offset of the unit.
        offset: usize,
        /// Bytes the unit needs.
        needed: usize,
        /// Bytes there are.
        available: usize,
        /// Which wire unit.
        what: &'static str,
    },
    /// The header's version is not the one expected (5 or 9).
    #[error("unsupported NetFlow version {version} at offset {offset}")]
    BadVersion {
        /// Absolute offset of the header.
        offset: usize,
        /// The version found.
        version: u16,
    },
    /// NetFlow v5: `count` claims more records than the datagram holds, or more than 30. The
    /// records that are there were still decoded.
    #[error("v5 header at offset {offset} claims {count} records, {present} present")]
    CountMismatch {
        /// Absolute offset of the header.
        offset: usize,
        /// The header's count.
        count: u16,
        /// Complete records present (and decoded).
        present: usize,
    },
    /// A FlowSet whose length is below the 4-byte FlowSet header or beyond the datagram.
    #[error("FlowSet {set_id} at offset {offset} has bad length {length} ({available} bytes left)")]
    BadSetLength {
        /// Absolute offset of the FlowSet.
        offset: usize,
        /// Its FlowSet id.
        set_id: u16,
        /// The length it claims.
        length: u16,
        /// Bytes left in the datagram from `offset`.
        available: usize,
    },
    /// A FlowSet id of the reserved range 2-255; the FlowSet is skipped by its length.
    #[error("reserved FlowSet id {set_id} at offset {offset}")]
    ReservedSetId {
        /// Absolute offset of the FlowSet.
        offset: usize,
        /// The id.
        set_id: u16,
    },
    /// A template or options template refused: an id below 256, no fields, zero-length
    /// records, a scope or option length that is not a multiple of 4.
    #[error("template {template_id} at offset {offset} refused: {problem}")]
    BadTemplate {
        /// Absolute offset of the template record.
        offset: usize,
        /// The id.
        template_id: u16,
        /// What is wrong with it.
        problem: TemplateProblem,
    },
    /// A data FlowSet for which no template is known (yet).
    #[error("no template {template_id} for the data FlowSet at offset {offset}")]
    MissingTemplate {
        /// Absolute offset of the FlowSet.
        offset: usize,
        /// The template id (the FlowSet id).
        template_id: u16,
    },
    /// A variable-length (65535) field whose length prefix runs past the record's FlowSet.
    #[error(
        "variable-length field {field_type} at offset {offset}: length {length} runs past the FlowSet"
    )]
    BadVariableLength {
        /// Absolute offset of the field's length prefix.
        offset: usize,
        /// The field type.
        field_type: u16,
        /// The length the prefix claims.
        length: usize,
    },
    /// Encoding: the output buffer is too small.
    #[error("output buffer too small: {required} bytes required, {remaining} remaining")]
    BufferTooSmall {
        /// Bytes needed.
        required: usize,
        /// Bytes available.
        remaining: usize,
    },
    /// Encoding: a value does not fit the field it is written into.
    #[error("cannot encode field {field}: {source}")]
    Encode {
        /// The element (NetFlow v9 field types are IANA-numbered).
        field: FieldId,
        /// What the value codec said.
        source: ValueError,
    },
    /// Encoding: something the target format cannot carry (an IPv6 address in NetFlow v5, a
    /// FlowSet longer than 65535 bytes...).
    #[error("cannot encode: {what}")]
    Unencodable {
        /// What could not be represented.
        what: &'static str,
    },
    /// Encoding, strict exporter: the record has a field the protocol cannot carry.
    #[error("strict exporter: the record has {what}, which the protocol cannot carry")]
    NotCarried {
        /// The field left out.
        what: &'static str,
    },
}

impl Error {
    /// The offset of a decode error, to move it (one place instead of one arm per variant in
    /// every caller).
    pub(crate) fn offset_mut(&mut self) -> Option<&mut usize> {
        match self {
            Error::Truncated { offset, .. }
            | Error::BadVersion { offset, .. }
            | Error::CountMismatch { offset, .. }
            | Error::BadSetLength { offset, .. }
            | Error::ReservedSetId { offset, .. }
            | Error::BadTemplate { offset, .. }
            | Error::MissingTemplate { offset, .. }
            | Error::BadVariableLength { offset, .. } => Some(offset),
            Error::BufferTooSmall { .. }
            | Error::Encode { .. }
            | Error::Unencodable { .. }
            | Error::NotCarried { .. } => None,
        }
    }

    /// The error with its offset moved `by` bytes further (a message's errors, relative to
    /// the message, made relative to the datagram holding it).
    pub(crate) fn shifted(mut self, by: usize) -> Self {
        if let Some(o) = self.offset_mut() {
            *o = o.saturating_add(by);
        }
        self
    }
}

impl CodecError for Error {
    fn offset(&self) -> Option<usize> {
        match self {
            Error::Truncated { offset, .. }
            | Error::BadVersion { offset, .. }
            | Error::CountMismatch { offset, .. }
            | Error::BadSetLength { offset, .. }
            | Error::ReservedSetId { offset, .. }
            | Error::BadTemplate { offset, .. }
            | Error::MissingTemplate { offset, .. }
            | Error::BadVariableLength { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Error::Truncated { .. } => ErrorKind::Truncated,
            Error::BadVersion { .. } => ErrorKind::Version,
            Error::CountMismatch { .. }
            | Error::BadSetLength { .. }
            | Error::BadVariableLength { .. } => ErrorKind::Length,
            Error::ReservedSetId { .. } => ErrorKind::Reserved,
            Error::BadTemplate { .. } => ErrorKind::Template,
            Error::MissingTemplate { .. } => ErrorKind::MissingTemplate,
            Error::Encode { .. } => ErrorKind::Value,
            _ => ErrorKind::Other,
        }
    }
}

/// Shorthand for results with [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

pub(crate) fn truncated(
    offset: usize,
    needed: usize,
    available: usize,
    what: &'static str,
) -> Error {
    Error::Truncated {
        offset,
        needed,
        available,
        what,
    }
}
