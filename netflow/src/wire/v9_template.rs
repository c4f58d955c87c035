//! NetFlow v9 template records (RFC 3954 §5.2) and options template records (§6.1).
//!
//! ```text
//! template record:          template id (2) | field count (2) | (type (2), length (2)) × count
//! options template record:  template id (2) | scope length (2, bytes) | option length (2, bytes)
//!                           | scope (type, length) × scope length/4 | option (type, length) × option length/4
//! ```
//!
//! Bytes after the last record that cannot hold another record, or that are all zero, are
//! padding (exporters pad to 4 bytes, NX-OS and Ixia with more).

use super::read_u16;
use super::v9_packet::all_zero;
use crate::error::{Error, Result, TemplateProblem, truncated};

/// Length of a template record header (id, field count).
pub const TEMPLATE_HEADER_LEN: usize = 4;
/// Length of an options template record header (id, scope length, option length).
pub const OPTIONS_HEADER_LEN: usize = 6;
/// Length of one (type, length) field specifier.
pub const FIELD_SPEC_LEN: usize = 4;

/// Options template scope types (RFC 3954 §6.1).
pub mod scope {
    /// The whole exporting system.
    pub const SYSTEM: u16 = 1;
    /// An interface (the value is its ifIndex).
    pub const INTERFACE: u16 = 2;
    /// A line card.
    pub const LINE_CARD: u16 = 3;
    /// A NetFlow cache.
    pub const CACHE: u16 = 4;
    /// A template.
    pub const TEMPLATE: u16 = 5;
}

/// Iterator over (field type, field length) specifiers.
#[derive(Debug, Clone)]
pub struct FieldSpecs<'a> {
    bytes: &'a [u8],
}

impl Iterator for FieldSpecs<'_> {
    type Item = (u16, u16);
    fn next(&mut self) -> Option<(u16, u16)> {
        let (spec, rest) = self.bytes.split_at_checked(FIELD_SPEC_LEN)?;
        self.bytes = rest;
        Some((read_u16(spec, 0), read_u16(spec, 2)))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.bytes.len() / FIELD_SPEC_LEN;
        (n, Some(n))
    }
}

impl ExactSizeIterator for FieldSpecs<'_> {}

/// A view of one template record, complete (as handed out by [`TemplateRecords`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateRecord<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> TemplateRecord<'a> {
    /// The template id.
    pub fn template_id(&self) -> u16 {
        read_u16(self.bytes, 0)
    }
    /// The field count.
    pub fn field_count(&self) -> u16 {
        read_u16(self.bytes, 2)
    }
    /// Absolute offset of the record.
    pub const fn offset(&self) -> usize {
        self.offset
    }
    /// The record's bytes.
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// The (field type, length) specifiers.
    pub fn fields(&self) -> FieldSpecs<'a> {
        FieldSpecs {
            bytes: self.bytes.get(TEMPLATE_HEADER_LEN..).unwrap_or_default(),
        }
    }
}

/// Iterator over a template FlowSet's records. Stops at padding; stops after the first error.
#[derive(Debug, Clone)]
pub struct TemplateRecords<'a> {
    bytes: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> TemplateRecords<'a> {
    /// Records in a template FlowSet body found at absolute `offset`.
    pub const fn new(body: &'a [u8], offset: usize) -> Self {
        TemplateRecords {
            bytes: body,
            offset,
            done: false,
        }
    }
}

impl<'a> Iterator for TemplateRecords<'a> {
    type Item = Result<TemplateRecord<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.bytes.len() < TEMPLATE_HEADER_LEN || all_zero(self.bytes) {
            return None;
        }
        let offset = self.offset;
        let id = read_u16(self.bytes, 0);
        let count = usize::from(read_u16(self.bytes, 2));
        if count == 0 {
            // The record is its 4-byte header alone: skip it, so the templates after it
            // are still learned.
            self.bytes = self.bytes.get(TEMPLATE_HEADER_LEN..).unwrap_or_default();
            self.offset += TEMPLATE_HEADER_LEN;
            return Some(Err(Error::BadTemplate {
                offset,
                template_id: id,
                problem: TemplateProblem::NoFields,
            }));
        }
        let need = TEMPLATE_HEADER_LEN + count * FIELD_SPEC_LEN;
        let Some((rec, rest)) = self.bytes.split_at_checked(need) else {
            self.done = true;
            return Some(Err(truncated(
                offset,
                need,
                self.bytes.len(),
                "template record",
            )));
        };
        self.bytes = rest;
        self.offset += need;
        Some(Ok(TemplateRecord { bytes: rec, offset }))
    }
}

/// A view of one options template record, complete (as handed out by
/// [`OptionsTemplateRecords`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionsTemplateRecord<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> OptionsTemplateRecord<'a> {
    /// The template id.
    pub fn template_id(&self) -> u16 {
        read_u16(self.bytes, 0)
    }
    /// Bytes of scope field specifiers.
    pub fn scope_length(&self) -> u16 {
        read_u16(self.bytes, 2)
    }
    /// Bytes of option field specifiers.
    pub fn option_length(&self) -> u16 {
        read_u16(self.bytes, 4)
    }
    /// Absolute offset of the record.
    pub const fn offset(&self) -> usize {
        self.offset
    }
    /// The record's bytes.
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// The scope (type, length) specifiers; types are [`scope`] values.
    pub fn scope_fields(&self) -> FieldSpecs<'a> {
        let end = OPTIONS_HEADER_LEN + usize::from(self.scope_length());
        FieldSpecs {
            bytes: self.bytes.get(OPTIONS_HEADER_LEN..end).unwrap_or_default(),
        }
    }
    /// The option (type, length) specifiers; types are field types.
    pub fn option_fields(&self) -> FieldSpecs<'a> {
        let start = OPTIONS_HEADER_LEN + usize::from(self.scope_length());
        FieldSpecs {
            bytes: self.bytes.get(start..).unwrap_or_default(),
        }
    }
}

/// Iterator over an options template FlowSet's records. Stops at padding; stops after the
/// first error.
#[derive(Debug, Clone)]
pub struct OptionsTemplateRecords<'a> {
    bytes: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> OptionsTemplateRecords<'a> {
    /// Records in an options template FlowSet body found at absolute `offset`.
    pub const fn new(body: &'a [u8], offset: usize) -> Self {
        OptionsTemplateRecords {
            bytes: body,
            offset,
            done: false,
        }
    }
}

impl<'a> Iterator for OptionsTemplateRecords<'a> {
    type Item = Result<OptionsTemplateRecord<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.bytes.len() < OPTIONS_HEADER_LEN || all_zero(self.bytes) {
            return None;
        }
        let offset = self.offset;
        let id = read_u16(self.bytes, 0);
        let scope_len = read_u16(self.bytes, 2);
        let option_len = read_u16(self.bytes, 4);
        for (what, length) in [("scope", scope_len), ("option", option_len)] {
            if usize::from(length) % FIELD_SPEC_LEN != 0 {
                self.done = true;
                return Some(Err(Error::BadTemplate {
                    offset,
                    template_id: id,
                    problem: TemplateProblem::BadOptionsLength { what, length },
                }));
            }
        }
        let need = OPTIONS_HEADER_LEN + usize::from(scope_len) + usize::from(option_len);
        let Some((rec, rest)) = self.bytes.split_at_checked(need) else {
            self.done = true;
            return Some(Err(truncated(
                offset,
                need,
                self.bytes.len(),
                "options template record",
            )));
        };
        self.bytes = rest;
        self.offset += need;
        Some(Ok(OptionsTemplateRecord { bytes: rec, offset }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TEMPLATES: [u8; 24] = [
        1, 0, 0, 2, 0, 8, 0, 4, 0, 12, 0, 4, // 256: 8/4, 12/4
        1, 1, 0, 1, 0, 1, 0, 8, // 257: 1/8
        0, 0, 0, 0, // padding
    ];

    static OPTIONS: [u8; 20] = [1, 2, 0, 4, 0, 8, 0, 2, 0, 4, 0, 34, 0, 4, 0, 35, 0, 1, 0, 0];

    #[test]
    fn template_records() {
        let recs: Vec<_> = TemplateRecords::new(&TEMPLATES, 24)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(recs.len(), 2);
        assert_eq!((recs[0].template_id(), recs[0].field_count()), (256, 2));
        assert_eq!(recs[0].fields().collect::<Vec<_>>(), vec![(8, 4), (12, 4)]);
        assert_eq!((recs[1].template_id(), recs[1].offset()), (257, 36));
    }

    #[test]
    fn options_template_records() {
        let recs: Vec<_> = OptionsTemplateRecords::new(&OPTIONS, 24)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(recs.len(), 1);
        let r = recs[0];
        assert_eq!(
            (r.template_id(), r.scope_length(), r.option_length()),
            (258, 4, 8)
        );
        assert_eq!(
            r.scope_fields().collect::<Vec<_>>(),
            vec![(scope::INTERFACE, 4)]
        );
        assert_eq!(
            r.option_fields().collect::<Vec<_>>(),
            vec![(34, 4), (35, 1)]
        );
    }

    #[test]
    fn truncation_at_every_length() {
        for n in 0..TEMPLATES.len() {
            let items: Vec<_> = TemplateRecords::new(&TEMPLATES[..n], 0).collect();
            let errors = items.iter().filter(|r| r.is_err()).count();
            assert!(errors <= 1);
            if n < 4 || n == 12 || n >= 20 {
                assert_eq!(errors, 0, "{n}");
            }
        }
        for n in 0..OPTIONS.len() {
            let items: Vec<_> = OptionsTemplateRecords::new(&OPTIONS[..n], 0).collect();
            assert!(items.len() <= 1);
            if (6..18).contains(&n) {
                assert!(items[0].is_err(), "{n}");
            }
        }
    }

    #[test]
    fn empty_template_is_an_error_and_the_next_one_still_parses() {
        let b = [1u8, 0, 0, 0, 1, 1, 0, 1, 0, 8, 0, 4];
        let items: Vec<_> = TemplateRecords::new(&b, 10).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0],
            Err(Error::BadTemplate {
                offset: 10,
                template_id: 256,
                problem: TemplateProblem::NoFields,
            })
        );
        let next = items[1].as_ref().unwrap();
        assert_eq!((next.template_id(), next.offset()), (257, 14));
    }

    #[test]
    fn bad_options_length() {
        let b = [1u8, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0, 0, 0];
        let items: Vec<_> = OptionsTemplateRecords::new(&b, 0).collect();
        assert!(matches!(
            items[0],
            Err(Error::BadTemplate {
                problem: TemplateProblem::BadOptionsLength { what: "scope", .. },
                ..
            })
        ));
    }
}
