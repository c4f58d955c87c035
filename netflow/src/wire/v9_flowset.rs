//! NetFlow v9 FlowSet (RFC 3954 §5.2-5.4): a 4-byte header (FlowSet id, length including the
//! header) and a body of template records (id 0), options template records (id 1) or data
//! records (id ≥ 256, the template id). Ids 2-255 are reserved.

use super::read_u16;
use super::v9_data::DataRecords;
use super::v9_template::{OptionsTemplateRecords, TemplateRecords};
use crate::template::Template;

mod field {
    use crate::wire::Field;
    pub(super) const SET_ID: Field = 0..2;
    pub(super) const LENGTH: Field = 2..4;
    pub(super) const BODY: usize = 4;
}

/// Length of a FlowSet header.
pub const SET_HEADER_LEN: usize = field::BODY;
/// FlowSet id of template FlowSets.
pub const TEMPLATE_SET_ID: u16 = 0;
/// FlowSet id of options template FlowSets.
pub const OPTIONS_TEMPLATE_SET_ID: u16 = 1;
/// The lowest data FlowSet (template) id.
pub const MIN_DATA_SET_ID: u16 = 256;

/// What a FlowSet carries, by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowSetKind {
    /// Template records (id 0).
    Template,
    /// Options template records (id 1).
    OptionsTemplate,
    /// Data records of the template with this id (≥ 256).
    Data(u16),
    /// A reserved id (2-255).
    Reserved(u16),
}

impl FlowSetKind {
    /// The kind of a FlowSet id.
    pub const fn from_id(id: u16) -> Self {
        match id {
            TEMPLATE_SET_ID => FlowSetKind::Template,
            OPTIONS_TEMPLATE_SET_ID => FlowSetKind::OptionsTemplate,
            MIN_DATA_SET_ID.. => FlowSetKind::Data(id),
            _ => FlowSetKind::Reserved(id),
        }
    }
}

/// A view of one FlowSet, as handed out by [`crate::wire::v9_packet::V9Packet::flowsets`]:
/// its bytes (header included, exactly `length` of them) and its absolute offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowSet<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> FlowSet<'a> {
    /// A FlowSet over `bytes` (header included) found at absolute `offset`. Accessors read 0
    /// for missing header bytes; the packet's iterator only hands out complete FlowSets.
    pub const fn new(bytes: &'a [u8], offset: usize) -> Self {
        FlowSet { bytes, offset }
    }

    /// The FlowSet id.
    pub fn set_id(&self) -> u16 {
        read_u16(self.bytes, field::SET_ID.start)
    }
    /// The length field (header included).
    pub fn length(&self) -> u16 {
        read_u16(self.bytes, field::LENGTH.start)
    }
    /// What the FlowSet carries.
    pub fn kind(&self) -> FlowSetKind {
        FlowSetKind::from_id(self.set_id())
    }
    /// Absolute offset of the FlowSet in the datagram.
    pub const fn offset(&self) -> usize {
        self.offset
    }
    /// All its bytes, header included.
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// The body (after the 4-byte header).
    pub fn body(&self) -> &'a [u8] {
        self.bytes.get(field::BODY..).unwrap_or_default()
    }
    /// Absolute offset of the body.
    pub const fn body_offset(&self) -> usize {
        self.offset + field::BODY
    }

    /// The template records of a template FlowSet (id 0).
    pub fn templates(&self) -> TemplateRecords<'a> {
        TemplateRecords::new(self.body(), self.body_offset())
    }

    /// The options template records of an options template FlowSet (id 1).
    pub fn options_templates(&self) -> OptionsTemplateRecords<'a> {
        OptionsTemplateRecords::new(self.body(), self.body_offset())
    }

    /// The data records of a data FlowSet, split by `template`.
    pub fn data_records<'t>(&self, template: &'t Template) -> DataRecords<'a, 't> {
        DataRecords::new(self.body(), self.body_offset(), template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(FlowSetKind::from_id(0), FlowSetKind::Template);
        assert_eq!(FlowSetKind::from_id(1), FlowSetKind::OptionsTemplate);
        assert_eq!(FlowSetKind::from_id(2), FlowSetKind::Reserved(2));
        assert_eq!(FlowSetKind::from_id(255), FlowSetKind::Reserved(255));
        assert_eq!(FlowSetKind::from_id(256), FlowSetKind::Data(256));
    }

    #[test]
    fn deconstruct() {
        let b = [1u8, 0, 0, 8, 1, 2, 3, 4];
        let s = FlowSet::new(&b, 100);
        assert_eq!(
            (s.set_id(), s.length(), s.kind()),
            (256, 8, FlowSetKind::Data(256))
        );
        assert_eq!((s.body(), s.body_offset()), (&b[4..], 104));
        let short = FlowSet::new(&b[..1], 0);
        assert_eq!(
            (short.set_id(), short.length(), short.body()),
            (0, 0, &[][..])
        );
    }
}
