//! The crate's one error type. Every decode variant carries the absolute byte offset (from
//! the start of the datagram) where the problem was found and the offending value.

use flowwire_record::ValueError;

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
    /// A template (or options template) id below 256.
    #[error("template id {template_id} at offset {offset} is below 256")]
    BadTemplateId {
        /// Absolute offset of the template record.
        offset: usize,
        /// The id.
        template_id: u16,
    },
    /// A template with no fields.
    #[error("template {template_id} at offset {offset} has no fields")]
    EmptyTemplate {
        /// Absolute offset of the template record.
        offset: usize,
        /// The id.
        template_id: u16,
    },
    /// A template whose records would be zero bytes long (all fields of length 0): data
    /// sets of it could not be iterated without spinning, so it is rejected.
    #[error("template {template_id} at offset {offset} describes zero-length records")]
    ZeroLengthTemplate {
        /// Absolute offset of the template record.
        offset: usize,
        /// The id.
        template_id: u16,
    },
    /// An options template whose scope or option length is not a multiple of 4.
    #[error("options template {template_id} at offset {offset}: bad {what} length {length}")]
    BadOptionsLength {
        /// Absolute offset of the options template record.
        offset: usize,
        /// The id.
        template_id: u16,
        /// `"scope"` or `"option"`.
        what: &'static str,
        /// The length found.
        length: u16,
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
    /// Encoding: the output buffer is too short.
    #[error("output buffer too short: {required} bytes required, {remaining} remaining")]
    BufferTooShort {
        /// Bytes needed.
        required: usize,
        /// Bytes available.
        remaining: usize,
    },
    /// Encoding: a value does not fit the field it is written into.
    #[error("cannot encode field {field_type}: {source}")]
    Value {
        /// The field type.
        field_type: u16,
        /// What the value codec said.
        source: ValueError,
    },
    /// Encoding: something the target format cannot carry (an IPv6 address in NetFlow v5, a
    /// FlowSet longer than 65535 bytes...).
    #[error("cannot encode: {what}")]
    NotRepresentable {
        /// What could not be represented.
        what: &'static str,
    },
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
