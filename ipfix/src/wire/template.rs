//! Template records and options template records (RFC 7011 §3.4) and their field
//! specifiers (§3.2).
//!
//! ```text
//! Template record:          Template ID (2) | Field Count (2) | field specifiers
//! Options template record:  Template ID (2) | Field Count (2) | Scope Field Count (2) | ...
//! Withdrawal (either set):  Template ID (2) | Field Count = 0
//!
//! Field specifier:  E | Information Element id (15 bits) | Field Length (2) [| PEN (4)]
//! ```

use flowwire_record::registry::FieldId;

use super::{be16, be32};
use crate::error::Error;

/// The field length that announces a variable-length field (RFC 7011 §7).
pub const VARIABLE_LENGTH: u16 = 65535;
/// The enterprise bit of a field specifier's element id.
pub const ENTERPRISE_BIT: u16 = 0x8000;

/// Byte ranges of a template record header.
mod field {
    use core::ops::Range;
    pub(crate) const TEMPLATE_ID: Range<usize> = 0..2;
    pub(crate) const FIELD_COUNT: Range<usize> = 2..4;
    pub(crate) const SCOPE_FIELD_COUNT: Range<usize> = 4..6;
    pub(crate) const SPEC_ID: Range<usize> = 0..2;
    pub(crate) const SPEC_LENGTH: Range<usize> = 2..4;
    pub(crate) const SPEC_PEN: Range<usize> = 4..8;
}

/// One field specifier: element id, enterprise number (when the enterprise bit is set) and
/// field length (65535 for variable length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    /// The element id, without the enterprise bit.
    pub id: u16,
    /// The private enterprise number, when the enterprise bit is set.
    pub pen: Option<u32>,
    /// The field length in octets, or [`VARIABLE_LENGTH`].
    pub length: u16,
}

impl FieldSpec {
    /// An IANA element of fixed length.
    pub const fn iana(id: u16, length: u16) -> Self {
        FieldSpec {
            id,
            pen: None,
            length,
        }
    }

    /// An enterprise-specific element.
    pub const fn enterprise(pen: u32, id: u16, length: u16) -> Self {
        FieldSpec {
            id,
            pen: Some(pen),
            length,
        }
    }

    /// The element's identity (PEN 0 when the enterprise bit is clear).
    pub const fn field_id(&self) -> FieldId {
        FieldId {
            pen: match self.pen {
                Some(p) => p,
                None => 0,
            },
            id: self.id,
        }
    }

    /// Whether the field is variable-length.
    pub const fn is_variable_length(&self) -> bool {
        self.length == VARIABLE_LENGTH
    }

    /// The encoded size of the specifier: 4, or 8 with an enterprise number.
    pub const fn wire_len(&self) -> usize {
        if self.pen.is_some() { 8 } else { 4 }
    }

    /// Parses one specifier at the start of `bytes`; `offset` is its absolute offset.
    pub fn parse(bytes: &[u8], offset: usize) -> Result<Self, Error> {
        let truncated = |needed| Error::Truncated {
            offset,
            needed,
            available: bytes.len(),
            what: "field specifier",
        };
        if bytes.len() < 4 {
            return Err(truncated(4));
        }
        let raw = be16(bytes, field::SPEC_ID.start);
        let length = be16(bytes, field::SPEC_LENGTH.start);
        if raw & ENTERPRISE_BIT == 0 {
            return Ok(FieldSpec::iana(raw, length));
        }
        if bytes.len() < 8 {
            return Err(truncated(8));
        }
        Ok(FieldSpec::enterprise(
            be32(bytes, field::SPEC_PEN.start),
            raw & !ENTERPRISE_BIT,
            length,
        ))
    }

    /// Writes the specifier into the start of `out` (at least [`FieldSpec::wire_len`] bytes).
    pub fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        let need = self.wire_len();
        let Some(out) = out.get_mut(..need) else {
            return Err(Error::BufferTooSmall {
                required: need,
                remaining: out.len(),
            });
        };
        let id = self.id & !ENTERPRISE_BIT;
        match self.pen {
            Some(pen) => {
                super::put16(out, 0, id | ENTERPRISE_BIT);
                super::put16(out, 2, self.length);
                super::put32(out, 4, pen);
            }
            None => {
                super::put16(out, 0, id);
                super::put16(out, 2, self.length);
            }
        }
        Ok(())
    }
}

/// A view over one template or options template record, cut to its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateRecord<'a> {
    bytes: &'a [u8],
    offset: usize,
    options: bool,
}

impl<'a> TemplateRecord<'a> {
    /// Template id.
    pub fn template_id(&self) -> u16 {
        be16(self.bytes, field::TEMPLATE_ID.start)
    }

    /// Field count (0 for a withdrawal).
    pub fn field_count(&self) -> u16 {
        be16(self.bytes, field::FIELD_COUNT.start)
    }

    /// Scope field count of an options template record; 0 for template records and
    /// withdrawals.
    pub fn scope_field_count(&self) -> u16 {
        if self.options && !self.is_withdrawal() {
            be16(self.bytes, field::SCOPE_FIELD_COUNT.start)
        } else {
            0
        }
    }

    /// Whether this came from an options template set.
    pub fn is_options(&self) -> bool {
        self.options
    }

    /// Whether this is a withdrawal (field count 0).
    pub fn is_withdrawal(&self) -> bool {
        self.field_count() == 0
    }

    /// The absolute offset of the record.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The record's bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn header_len(&self) -> usize {
        header_len(self.options, self.field_count())
    }

    /// The field specifiers, in order (scope fields first in options templates).
    pub fn fields(&self) -> FieldSpecIter<'a> {
        FieldSpecIter {
            rest: self.bytes.get(self.header_len()..).unwrap_or_default(),
        }
    }
}

fn header_len(options: bool, field_count: u16) -> usize {
    if options && field_count != 0 { 6 } else { 4 }
}

/// The field specifiers of a [`TemplateRecord`] (checked when the record was cut, so this
/// iterator cannot fail).
#[derive(Debug, Clone)]
pub struct FieldSpecIter<'a> {
    rest: &'a [u8],
}

impl Iterator for FieldSpecIter<'_> {
    type Item = FieldSpec;
    fn next(&mut self) -> Option<FieldSpec> {
        let spec = FieldSpec::parse(self.rest, 0).ok()?;
        self.rest = self.rest.get(spec.wire_len()..).unwrap_or_default();
        Some(spec)
    }
}

/// The records of a template or options template set. Trailing bytes too short for a record
/// header, or all zero, are padding. Yields an error for a record that runs past the set and
/// stops there.
#[derive(Debug, Clone)]
pub struct TemplateRecordIter<'a> {
    rest: &'a [u8],
    offset: usize,
    options: bool,
    done: bool,
}

impl<'a> TemplateRecordIter<'a> {
    /// The records of a set body whose first byte is at absolute `offset`; `options` for an
    /// options template set.
    pub fn new(body: &'a [u8], offset: usize, options: bool) -> Self {
        TemplateRecordIter {
            rest: body,
            offset,
            options,
            done: false,
        }
    }

    fn cut(&self) -> Result<usize, Error> {
        let b = self.rest;
        let field_count = be16(b, field::FIELD_COUNT.start);
        let mut pos = header_len(self.options, field_count);
        if b.len() < pos {
            return Err(Error::Truncated {
                offset: self.offset,
                needed: pos,
                available: b.len(),
                what: "options template record header",
            });
        }
        for _ in 0..field_count {
            let spec = FieldSpec::parse(b.get(pos..).unwrap_or_default(), self.offset + pos)
                .map_err(|e| match e {
                    Error::Truncated { offset, .. } => Error::Truncated {
                        offset,
                        needed: pos + 8,
                        available: b.len(),
                        what: "template record",
                    },
                    e => e,
                })?;
            pos += spec.wire_len();
        }
        Ok(pos)
    }
}

impl<'a> Iterator for TemplateRecordIter<'a> {
    type Item = Result<TemplateRecord<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Padding: fewer bytes than a record header, or nothing but zeros.
        if self.rest.len() < 4 || self.rest.iter().all(|&b| b == 0) {
            self.done = true;
            return None;
        }
        match self.cut() {
            Ok(len) => {
                let (bytes, rest) = self.rest.split_at_checked(len)?;
                let rec = TemplateRecord {
                    bytes,
                    offset: self.offset,
                    options: self.options,
                };
                self.rest = rest;
                self.offset += len;
                Some(Ok(rec))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for TemplateRecordIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    // Template 256: sourceIPv4Address/4, PEN 6876 id 898 varlen; then 2 bytes padding.
    static TEMPLATE: [u8; 18] = [
        0x01, 0x00, 0x00, 0x02, // id 256, 2 fields
        0x00, 0x08, 0x00, 0x04, // 8, len 4
        0x83, 0x82, 0xff, 0xff, 0x00, 0x00, 0x1a, 0xdc, // E|898, varlen, PEN 6876
        0x00, 0x00, // padding
    ];

    #[test]
    fn deconstruct() {
        let recs: Vec<_> = TemplateRecordIter::new(&TEMPLATE, 20, false).collect();
        assert_eq!(recs.len(), 1);
        let r = recs[0].unwrap();
        assert_eq!((r.template_id(), r.field_count(), r.offset()), (256, 2, 20));
        let f: Vec<_> = r.fields().collect();
        assert_eq!(
            f,
            vec![
                FieldSpec::iana(8, 4),
                FieldSpec::enterprise(6876, 898, VARIABLE_LENGTH)
            ]
        );
        assert_eq!(f[1].field_id(), FieldId::enterprise(6876, 898));
    }

    #[test]
    fn construct_specs() {
        let mut out = [0xa5u8; 12];
        FieldSpec::iana(8, 4).emit(&mut out[..4]).unwrap();
        FieldSpec::enterprise(6876, 898, VARIABLE_LENGTH)
            .emit(&mut out[4..])
            .unwrap();
        assert_eq!(&out[..], &TEMPLATE[4..16]);
        assert!(FieldSpec::enterprise(1, 1, 1).emit(&mut [0; 7]).is_err());
    }

    #[test]
    fn options_and_withdrawals() {
        let body = [
            0x01, 0x01, 0x00, 0x02, 0x00, 0x01, // options 257, 2 fields, 1 scope
            0x00, 0x0a, 0x00, 0x04, 0x00, 0x52, 0xff, 0xff, // ingressInterface, interfaceName
            0x01, 0x02, 0x00, 0x00, // withdrawal of 258
        ];
        let recs: Vec<_> = TemplateRecordIter::new(&body, 0, true)
            .map(Result::unwrap)
            .collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].scope_field_count(), 1);
        assert_eq!(recs[0].fields().count(), 2);
        assert!(recs[1].is_withdrawal());
        assert_eq!(recs[1].template_id(), 258);
        assert_eq!(recs[1].offset(), 14);
    }

    #[test]
    fn truncation_at_every_length() {
        for len in 0..16 {
            let got: Vec<_> = TemplateRecordIter::new(&TEMPLATE[..len], 0, false).collect();
            if len < 4 {
                assert!(got.is_empty(), "len {len} is padding");
            } else {
                assert_eq!(got.len(), 1, "len {len}");
                assert!(got[0].is_err(), "len {len}");
            }
        }
    }
}
