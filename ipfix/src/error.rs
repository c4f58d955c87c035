//! The crate's one error type.
//!
//! Every decode error carries the absolute byte offset (from the start of the buffer handed to
//! the decoder: the UDP payload, the stream chunk or the file) where the offending unit starts,
//! and the offending value. [`Error`] implements the contract's [`CodecError`], so a
//! [`Sink`](flowwire_record::codec::Sink) gets its offset and protocol-neutral
//! [`ErrorKind`] without knowing the type, and can downcast to it.

use flowwire_record::ValueError;
use flowwire_record::codec::{CodecError, ErrorKind};
use flowwire_record::registry::FieldId;

pub use flowwire_record::codec::TemplateProblem;

/// Every error of decoding, encoding and session handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer bytes than a unit needs.
    #[error("{what} at offset {offset} needs {needed} bytes, {available} available")]
    Truncated {
        /// Absolute offset of the unit.
        offset: usize,
        /// Bytes the unit needs.
        needed: usize,
        /// Bytes there are.
        available: usize,
        /// What was being read.
        what: &'static str,
    },
    /// A message header whose version is not 10.
    #[error("message at offset {offset}: version {version}, expected 10")]
    BadVersion {
        /// Absolute offset of the message.
        offset: usize,
        /// The version found.
        version: u16,
    },
    /// A message length shorter than the header or longer than the bytes there are.
    #[error("message at offset {offset}: length {length}, but {available} bytes available")]
    BadMessageLength {
        /// Absolute offset of the message.
        offset: usize,
        /// The length field.
        length: u16,
        /// Bytes available from the message start.
        available: usize,
    },
    /// A set length shorter than the set header or past the end of the message.
    #[error(
        "set at offset {offset} (id {set_id}): length {length}, but {available} bytes left in the message"
    )]
    BadSetLength {
        /// Absolute offset of the set.
        offset: usize,
        /// The set id.
        set_id: u16,
        /// The length field.
        length: u16,
        /// Bytes left in the message from the set start.
        available: usize,
    },
    /// A set id that is reserved (0, 1, 4-255).
    #[error("set at offset {offset}: reserved set id {set_id}")]
    ReservedSetId {
        /// Absolute offset of the set.
        offset: usize,
        /// The set id.
        set_id: u16,
    },
    /// A template or options template record that was refused.
    #[error("template {template_id} at offset {offset} refused: {problem}")]
    BadTemplate {
        /// Absolute offset of the template record.
        offset: usize,
        /// The template id.
        template_id: u16,
        /// Why.
        problem: TemplateProblem,
    },
    /// A data set whose template is unknown, dropped: data before templates is not kept
    /// ([`SessionConfig::pending`](crate::session::SessionConfig::pending) is `None`) or the
    /// pending buffer refused it.
    #[error("data set at offset {offset}: no template {template_id}, dropped")]
    MissingTemplate {
        /// Absolute offset of the data set.
        offset: usize,
        /// The template id (the set id).
        template_id: u16,
    },
    /// A data record that does not fit in what is left of its set.
    #[error(
        "record of template {template_id} at offset {offset} needs {needed} bytes, {available} left in the set"
    )]
    RecordTruncated {
        /// Absolute offset of the record (or of the field that overran).
        offset: usize,
        /// The template id.
        template_id: u16,
        /// Bytes needed.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// A field value that does not decode strictly as its data type.
    #[error("field {field} at offset {offset}: {source}")]
    BadValue {
        /// Absolute offset of the field.
        offset: usize,
        /// The element.
        field: FieldId,
        /// Why.
        source: ValueError,
    },
    /// A structured-data list (RFC 6313) that is malformed.
    #[error("list at offset {offset}: {what}")]
    BadList {
        /// Absolute offset of the list (or of the bad part of it).
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// Lists nested deeper than the limit.
    #[error("list at offset {offset} nested {depth} deep, more than the limit")]
    ListTooDeep {
        /// Absolute offset of the list.
        offset: usize,
        /// The depth it would have.
        depth: usize,
    },
    /// An encode buffer too small.
    #[error("buffer too small: {required} bytes required, {remaining} remaining")]
    BufferTooSmall {
        /// Bytes needed.
        required: usize,
        /// Bytes there are.
        remaining: usize,
    },
    /// A value that cannot be encoded as its template says.
    #[error("cannot encode field {field}: {source}")]
    Encode {
        /// The element.
        field: FieldId,
        /// Why.
        source: ValueError,
    },
    /// A record or message that does not agree with its template or limits on encode.
    #[error("cannot encode: {what}")]
    Unencodable {
        /// What is wrong.
        what: &'static str,
    },
    /// A strict exporter refused a record with fields IPFIX cannot carry.
    #[error("IPFIX cannot carry {what}")]
    NotCarried {
        /// What could not be carried.
        what: &'static str,
    },
}

impl Error {
    /// The absolute byte offset the error is about, for decode errors.
    pub fn offset(&self) -> Option<usize> {
        let mut e = *self;
        e.offset_mut().map(|o| *o)
    }

    /// The offset of a decode error, to re-base it.
    pub(crate) fn offset_mut(&mut self) -> Option<&mut usize> {
        match self {
            Error::Truncated { offset, .. }
            | Error::BadVersion { offset, .. }
            | Error::BadMessageLength { offset, .. }
            | Error::BadSetLength { offset, .. }
            | Error::ReservedSetId { offset, .. }
            | Error::BadTemplate { offset, .. }
            | Error::MissingTemplate { offset, .. }
            | Error::RecordTruncated { offset, .. }
            | Error::BadValue { offset, .. }
            | Error::BadList { offset, .. }
            | Error::ListTooDeep { offset, .. } => Some(offset),
            Error::BufferTooSmall { .. }
            | Error::Encode { .. }
            | Error::Unencodable { .. }
            | Error::NotCarried { .. } => None,
        }
    }

    /// The same error with `by` added to its offset: for an outer parser that knows where
    /// the inner buffer starts (a stream chunk in a file, say).
    pub fn shifted(mut self, by: usize) -> Self {
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
            Error::Truncated { .. } | Error::RecordTruncated { .. } => ErrorKind::Truncated,
            Error::BadVersion { .. } => ErrorKind::Version,
            Error::BadMessageLength { .. } | Error::BadSetLength { .. } => ErrorKind::Length,
            Error::ReservedSetId { .. } => ErrorKind::Reserved,
            Error::BadTemplate { .. } => ErrorKind::Template,
            Error::MissingTemplate { .. } => ErrorKind::MissingTemplate,
            Error::BadValue { .. } | Error::BadList { .. } | Error::ListTooDeep { .. } => {
                ErrorKind::Value
            }
            Error::BufferTooSmall { .. }
            | Error::Encode { .. }
            | Error::Unencodable { .. }
            | Error::NotCarried { .. } => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_kinds() {
        let e = Error::MissingTemplate {
            offset: 20,
            template_id: 256,
        };
        assert_eq!(CodecError::offset(&e), Some(20));
        assert_eq!(e.kind(), ErrorKind::MissingTemplate);
        assert_eq!(e.shifted(100).offset(), Some(120));
        let e = Error::NotCarried { what: "x" };
        assert_eq!((e.offset(), e.shifted(3)), (None, e));
        assert_eq!(e.kind(), ErrorKind::Other);
    }
}
