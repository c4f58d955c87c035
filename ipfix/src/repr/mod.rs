//! Owned representations: messages, sets, templates, data records and RFC 6313 lists, each
//! with `parse` (from a wire view), `buffer_len()` and `emit` into exactly that many bytes;
//! [`MessageRepr::put`] appends to a [`bytes::BufMut`].
//!
//! Lengths and padding are computed before anything is written: a set's length covers its
//! header, records and padding; a message's its header and sets. Decoding then encoding a
//! well-formed message gives back its bytes (variable-length fields use the 1-octet prefix
//! below 255 octets, as RFC 7011 §7 recommends).

mod data;
mod list;
mod message;
mod template;

pub(crate) use data::emit_field;
pub use data::{DataRecordRepr, FieldValue, varlen_size};
pub use list::{BasicListRepr, GroupRepr, SubTemplateListRepr, SubTemplateMultiListRepr};
pub use message::{MessageRepr, SetContent, SetRepr};
pub use template::TemplateRepr;
