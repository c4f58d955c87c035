//! NetFlow v9 data records (RFC 3954 §5.4), split and decoded by their template.
//!
//! Records are the template's length (or, with H3C/Huawei variable-length fields, the sum of
//! their length-prefixed values). Bytes after the last record that are fewer than a record
//! (or all zero, for variable-length templates) are padding, of any length.

use flowwire_record::Value;

use super::read_u16;
use super::v9_packet::all_zero;
use crate::error::{Error, Result};
use crate::template::{FieldSpec, Template};

/// Reads a variable-length field's length prefix at the start of `b`: `(prefix bytes,
/// value length)`, or `None` if the prefix itself is cut short.
#[inline]
fn var_len(b: &[u8]) -> Option<(usize, usize)> {
    match *b.first()? {
        255 => {
            if b.len() < 3 {
                return None;
            }
            Some((3, usize::from(read_u16(b, 1))))
        }
        n => Some((1, usize::from(n))),
    }
}

/// Iterator over the data records of a FlowSet; see
/// [`crate::wire::v9_flowset::FlowSet::data_records`]. Stops after the first error.
#[derive(Debug, Clone)]
pub struct DataRecords<'a, 't> {
    bytes: &'a [u8],
    offset: usize,
    template: &'t Template,
    done: bool,
}

impl<'a, 't> DataRecords<'a, 't> {
    /// Records in a data FlowSet body found at absolute `offset`.
    pub const fn new(body: &'a [u8], offset: usize, template: &'t Template) -> Self {
        DataRecords {
            bytes: body,
            offset,
            template,
            done: false,
        }
    }

    fn record_len(&self) -> Result<usize> {
        if !self.template.is_variable() {
            return Ok(self.template.min_record_len());
        }
        let mut pos = 0usize;
        for spec in self.template.fields() {
            let rest = self.bytes.get(pos..).unwrap_or_default();
            let len = if spec.is_variable() {
                let Some((prefix, len)) = var_len(rest) else {
                    return Err(Error::BadVariableLength {
                        offset: self.offset + pos,
                        field_type: spec.field_type,
                        length: rest.len(),
                    });
                };
                if prefix + len > rest.len() {
                    return Err(Error::BadVariableLength {
                        offset: self.offset + pos,
                        field_type: spec.field_type,
                        length: len,
                    });
                }
                prefix + len
            } else {
                usize::from(spec.length)
            };
            if len > rest.len() {
                return Err(crate::error::truncated(
                    self.offset,
                    pos + len,
                    self.bytes.len(),
                    "variable-length data record",
                ));
            }
            pos += len;
        }
        Ok(pos)
    }
}

impl<'a, 't> Iterator for DataRecords<'a, 't> {
    type Item = Result<DataRecord<'a, 't>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done
            || self.bytes.len() < self.template.min_record_len()
            || (self.template.is_variable() && all_zero(self.bytes))
        {
            return None;
        }
        let len = match self.record_len() {
            Ok(len) => len,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let tail = self.bytes;
        let (rec, rest) = self.bytes.split_at_checked(len)?;
        let offset = self.offset;
        self.bytes = rest;
        self.offset += len;
        Some(Ok(DataRecord {
            bytes: rec,
            tail,
            offset,
            template: self.template,
        }))
    }
}

/// One data record: its bytes, absolute offset and template.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataRecord<'a, 't> {
    bytes: &'a [u8],
    tail: &'a [u8],
    offset: usize,
    template: &'t Template,
}

impl<'a, 't> DataRecord<'a, 't> {
    /// The record's bytes.
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// The record's bytes and those that follow it in its FlowSet (a decoder that reads
    /// through a fixed-size window can borrow it instead of copying the record).
    pub const fn tail(&self) -> &'a [u8] {
        self.tail
    }
    /// Absolute offset of the record.
    pub const fn offset(&self) -> usize {
        self.offset
    }
    /// The template it was split by.
    pub const fn template(&self) -> &'t Template {
        self.template
    }
    /// The fields in template order, as `(field spec, value)`; values borrow the record and
    /// nothing is allocated.
    pub fn fields(&self) -> DataFields<'a, 't> {
        DataFields {
            bytes: self.bytes,
            specs: self.template.fields().iter(),
        }
    }
    /// The fields in template order as `(field spec, value bytes)`, variable-length prefixes
    /// left out: for a copy that must encode back to the same bytes.
    pub fn raw_fields(&self) -> RawFields<'a, 't> {
        RawFields {
            bytes: self.bytes,
            specs: self.template.fields().iter(),
        }
    }
    /// The first non-scope field of this type.
    pub fn get(&self, field_type: u16) -> Option<Value<'a>> {
        self.fields()
            .find(|(s, _)| !s.scope && s.field_type == field_type)
            .map(|(_, v)| v)
    }
}

/// Iterator over a record's fields; see [`DataRecord::fields`].
#[derive(Debug, Clone)]
pub struct DataFields<'a, 't> {
    bytes: &'a [u8],
    specs: core::slice::Iter<'t, FieldSpec>,
}

impl<'a> Iterator for DataFields<'a, '_> {
    type Item = (FieldSpec, Value<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (spec, value) = next_field(&mut self.bytes, &mut self.specs)?;
        Some((spec, spec.decode(value)))
    }
}

/// Iterator over a record's fields as bytes; see [`DataRecord::raw_fields`].
#[derive(Debug, Clone)]
pub struct RawFields<'a, 't> {
    bytes: &'a [u8],
    specs: core::slice::Iter<'t, FieldSpec>,
}

impl<'a> Iterator for RawFields<'a, '_> {
    type Item = (FieldSpec, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        next_field(&mut self.bytes, &mut self.specs)
    }
}

#[inline]
fn next_field<'a>(
    bytes: &mut &'a [u8],
    specs: &mut core::slice::Iter<'_, FieldSpec>,
) -> Option<(FieldSpec, &'a [u8])> {
    let spec = *specs.next()?;
    let (skip, len) = if spec.is_variable() {
        var_len(bytes)?
    } else {
        (0, usize::from(spec.length))
    };
    let (value, rest) = bytes.get(skip..)?.split_at_checked(len)?;
    *bytes = rest;
    Some((spec, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::VARIABLE_LENGTH;
    use flowwire_record::registry::Registry;
    use std::net::Ipv4Addr;

    fn tpl(fields: &[(u16, u16)]) -> Template {
        let r = Registry::new();
        Template::new(
            256,
            fields
                .iter()
                .map(|&(t, l)| FieldSpec::field(t, l, &r))
                .collect(),
            false,
            0,
        )
        .unwrap()
    }

    #[test]
    fn fixed_records_and_padding() {
        let t = tpl(&[(8, 4), (2, 4)]);
        let body = [10, 0, 0, 1, 0, 0, 0, 5, 10, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0];
        let recs: Vec<_> = DataRecords::new(&body, 100, &t)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].offset(), 108);
        let f: Vec<_> = recs[0].fields().map(|(_, v)| v).collect();
        assert_eq!(
            f,
            vec![
                Value::Ipv4Address(Ipv4Addr::new(10, 0, 0, 1)),
                Value::Unsigned64(5)
            ]
        );
        assert_eq!(recs[1].get(2), Some(Value::Unsigned64(6)));
    }

    #[test]
    fn lengths_off_the_registry_decode_by_the_template() {
        // 8-byte FIRST_SWITCHED (NX-OS), 16-byte octet count, 0-length field.
        let t = tpl(&[(22, 8), (1, 16), (7, 0)]);
        let mut body = vec![0, 0, 0, 0, 0, 0, 1, 0];
        body.extend_from_slice(&[0xff; 16]);
        let recs: Vec<_> = DataRecords::new(&body, 0, &t).collect();
        let f: Vec<_> = recs[0].as_ref().unwrap().fields().map(|(_, v)| v).collect();
        assert_eq!(f[0], Value::Unsigned64(256));
        assert_eq!(f[1], Value::OctetArray(&[0xff; 16]));
        assert_eq!(f[2], Value::OctetArray(&[]));
    }

    #[test]
    fn variable_length_fields() {
        let t = tpl(&[(7, 2), (82, VARIABLE_LENGTH)]);
        let mut body = vec![0, 80, 3, b'e', b't', b'h', 0, 81, 255, 0, 1, b'x'];
        body.extend_from_slice(&[0, 0, 0, 0]);
        let recs: Vec<_> = DataRecords::new(&body, 0, &t).map(|r| r.unwrap()).collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].get(82), Some(Value::String(b"eth")));
        assert_eq!(recs[1].get(82), Some(Value::String(b"x")));
        assert_eq!(recs[1].get(7), Some(Value::Unsigned16(81)));
        // Truncated everywhere: never panics, errors carry offsets.
        for n in 0..12 {
            for r in DataRecords::new(&body[..n], 0, &t).flatten() {
                assert_eq!(r.fields().count(), 2);
            }
        }
        let bad = [0, 80, 9, b'e'];
        assert!(matches!(
            DataRecords::new(&bad, 50, &t).next(),
            Some(Err(Error::BadVariableLength { offset: 52, .. }))
        ));
    }
}
