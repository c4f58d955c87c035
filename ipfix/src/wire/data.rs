//! Data records (RFC 7011 §3.4.3) resolved against a [`Template`]: cut by the template's
//! field lengths and variable-length prefixes (§7), iterated as typed values that borrow from
//! the message.
//!
//! ```text
//! variable-length field:  Length (1, < 255) | value
//!                         255 | Length (2) | value
//! ```
//!
//! Nothing here allocates. Records are cut before their fields are read, so a record that
//! runs past its set is an error (with the offset of the field that overran) and the
//! records before it are still yielded. Bytes at the end of a set shorter than the
//! template's smallest record are padding.

use flowwire_record::registry::FieldId;
use flowwire_record::{DataType, Value};

use super::list::{BasicList, SubTemplateList, SubTemplateMultiList};
use crate::error::Error;
use crate::template::{Template, TemplateField};
use crate::wire::template::FieldSpec;

/// How deep RFC 6313 lists may nest (a record in a list in a record ... ).
pub const MAX_LIST_DEPTH: usize = 8;

/// Reads a variable-length prefix at the start of `bytes`: (prefix length, value length).
fn varlen_prefix(bytes: &[u8]) -> Option<(usize, usize)> {
    match *bytes.first()? {
        255 => {
            let hi = *bytes.get(1)?;
            let lo = *bytes.get(2)?;
            Some((3, usize::from(u16::from_be_bytes([hi, lo]))))
        }
        n => Some((1, usize::from(n))),
    }
}

/// Cuts one field at the start of `bytes`: (octets consumed, value range start, value length).
/// `None` when the field (or its prefix) runs past `bytes`.
#[inline]
fn cut_field(field: &TemplateField, bytes: &[u8]) -> Option<(usize, usize, usize)> {
    if field.spec.is_variable_length() {
        let (prefix, len) = varlen_prefix(bytes)?;
        let total = prefix.checked_add(len)?;
        (total <= bytes.len()).then_some((total, prefix, len))
    } else {
        let len = usize::from(field.spec.length);
        (len <= bytes.len()).then_some((len, 0, len))
    }
}

/// The length of the record at the start of `bytes`, or (offset within `bytes` of the field
/// that overran, octets it needed from the record start).
fn record_len(template: &Template, bytes: &[u8]) -> Result<usize, (usize, usize)> {
    if let Some(n) = template.fixed_record_len() {
        return if n <= bytes.len() { Ok(n) } else { Err((0, n)) };
    }
    let mut pos = 0usize;
    for f in template.fields() {
        let rest = bytes.get(pos..).unwrap_or_default();
        match cut_field(f, rest) {
            Some((n, _, _)) => pos += n,
            None => {
                let need = match (f.spec.is_variable_length(), varlen_prefix(rest)) {
                    (true, Some((p, l))) => pos + p + l,
                    (true, None) => pos + 3,
                    (false, _) => pos + usize::from(f.spec.length),
                };
                return Err((pos, need));
            }
        }
    }
    Ok(pos)
}

/// The data records of a set body (or of a subTemplateList), against one template.
#[derive(Debug, Clone)]
pub struct RecordIter<'a, 't> {
    rest: &'a [u8],
    offset: usize,
    template: &'t Template,
    depth: usize,
    done: bool,
}

impl<'a, 't> RecordIter<'a, 't> {
    /// The records of `body`, whose first byte is at absolute `offset`.
    pub fn new(body: &'a [u8], offset: usize, template: &'t Template) -> Self {
        Self::with_depth(body, offset, template, 0)
    }

    pub(crate) fn with_depth(
        body: &'a [u8],
        offset: usize,
        template: &'t Template,
        depth: usize,
    ) -> Self {
        RecordIter {
            rest: body,
            offset,
            template,
            depth,
            done: false,
        }
    }

    /// The bytes not consumed yet (after iteration: the padding, or what followed an error).
    pub fn remainder(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a, 't> Iterator for RecordIter<'a, 't> {
    type Item = Result<DataRecord<'a, 't>, Error>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.len() < self.template.min_record_len() {
            // What is left is padding (RFC 7011 §3.3.1).
            return None;
        }
        match record_len(self.template, self.rest) {
            Ok(len) => {
                let tail = self.rest;
                let (bytes, rest) = self.rest.split_at_checked(len)?;
                let rec = DataRecord {
                    bytes,
                    tail,
                    offset: self.offset,
                    template: self.template,
                    depth: self.depth,
                };
                self.rest = rest;
                self.offset += len;
                Some(Ok(rec))
            }
            Err((at, needed)) => {
                self.done = true;
                Some(Err(Error::RecordTruncated {
                    offset: self.offset + at,
                    template_id: self.template.id(),
                    needed,
                    available: self.rest.len(),
                }))
            }
        }
    }
}

impl core::iter::FusedIterator for RecordIter<'_, '_> {}

/// One data record: its bytes and the template that describes them.
#[derive(Debug, Clone, Copy)]
pub struct DataRecord<'a, 't> {
    bytes: &'a [u8],
    tail: &'a [u8],
    offset: usize,
    template: &'t Template,
    depth: usize,
}

impl<'a, 't> DataRecord<'a, 't> {
    /// A record that is exactly `bytes` (cut by a [`RecordIter`]; fields past the end are
    /// simply not yielded).
    pub fn new(bytes: &'a [u8], offset: usize, template: &'t Template) -> Self {
        DataRecord {
            bytes,
            tail: bytes,
            offset,
            template,
            depth: 0,
        }
    }

    /// The template.
    pub fn template(&self) -> &'t Template {
        self.template
    }

    /// The record's bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The record's bytes and those that follow it in its set (a decoder that reads through
    /// a fixed-size window can borrow it instead of copying the record).
    pub fn tail(&self) -> &'a [u8] {
        self.tail
    }

    /// The absolute offset of the record.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// How deep in RFC 6313 lists this record is (0 for a record of a data set).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The fields with their raw bytes and offsets.
    #[inline]
    pub fn raw_fields(&self) -> RawFieldIter<'a, 't> {
        RawFieldIter {
            rest: self.bytes,
            offset: self.offset,
            fields: self.template.fields().iter(),
            depth: self.depth,
        }
    }

    /// The scope fields of an options template record (none for data templates).
    pub fn scope_fields(&self) -> core::iter::Take<RawFieldIter<'a, 't>> {
        self.raw_fields()
            .take(usize::from(self.template.scope_field_count()))
    }

    /// The fields as `(specifier, value)`, values decoded as their data type; a value whose
    /// length does not suit its type falls back to [`Value::decode_lenient`] (use
    /// [`DataRecord::check`] to find such fields).
    #[inline]
    pub fn fields(&self) -> FieldIter<'a, 't> {
        FieldIter {
            raw: self.raw_fields(),
        }
    }

    /// The first value of an element.
    pub fn get(&self, field: FieldId) -> Option<Value<'a>> {
        self.raw_fields()
            .find(|f| f.spec.field_id() == field)
            .map(|f| f.value())
    }

    /// Checks that every value decodes strictly as its data type; the first that does not is
    /// an error with its offset.
    pub fn check(&self) -> Result<(), Error> {
        self.raw_fields()
            .try_for_each(|f| f.strict_value().map(|_| ()))
    }

    /// The number of fields whose value does not decode strictly (kept leniently).
    pub fn lenient_fields(&self) -> usize {
        self.raw_fields()
            .filter(|f| f.strict_value().is_err())
            .count()
    }
}

/// One field of a record: specifier, data type, raw value bytes (without a variable-length
/// prefix) and absolute offset (of the prefix, for variable-length fields).
#[derive(Debug, Clone, Copy)]
pub struct RawField<'a> {
    /// The specifier.
    pub spec: FieldSpec,
    /// The data type it decodes as.
    pub data_type: DataType,
    /// The value's bytes.
    pub bytes: &'a [u8],
    /// The absolute offset of the field.
    pub offset: usize,
    value_offset: usize,
    depth: usize,
}

impl<'a> RawField<'a> {
    /// The value, strictly decoded.
    #[inline]
    pub fn strict_value(&self) -> Result<Value<'a>, Error> {
        Value::decode(self.data_type, self.bytes).map_err(|source| Error::BadValue {
            offset: self.offset,
            field: self.spec.field_id(),
            source,
        })
    }

    /// The value, leniently decoded (never fails).
    #[inline]
    pub fn value(&self) -> Value<'a> {
        Value::decode_lenient(self.data_type, self.bytes)
    }

    fn list_depth(&self) -> Result<usize, Error> {
        let depth = self.depth + 1;
        if depth > MAX_LIST_DEPTH {
            return Err(Error::ListTooDeep {
                offset: self.offset,
                depth,
            });
        }
        Ok(depth)
    }

    fn value_offset(&self) -> usize {
        self.value_offset
    }

    /// The length of the variable-length prefix: 0 for fixed-length fields, 1, or 3 (the
    /// long form, which RFC 7011 §7 allows for short values too).
    pub fn prefix_len(&self) -> usize {
        self.value_offset - self.offset
    }

    /// The value as an RFC 6313 basicList.
    pub fn basic_list(&self) -> Result<BasicList<'a>, Error> {
        BasicList::parse(self.bytes, self.value_offset(), self.list_depth()?)
    }

    /// The value as an RFC 6313 subTemplateList.
    pub fn sub_template_list(&self) -> Result<SubTemplateList<'a>, Error> {
        SubTemplateList::parse(self.bytes, self.value_offset(), self.list_depth()?)
    }

    /// The value as an RFC 6313 subTemplateMultiList.
    pub fn sub_template_multi_list(&self) -> Result<SubTemplateMultiList<'a>, Error> {
        SubTemplateMultiList::parse(self.bytes, self.value_offset(), self.list_depth()?)
    }
}

/// The raw fields of a [`DataRecord`].
#[derive(Debug, Clone)]
pub struct RawFieldIter<'a, 't> {
    rest: &'a [u8],
    offset: usize,
    fields: core::slice::Iter<'t, TemplateField>,
    depth: usize,
}

impl<'a> Iterator for RawFieldIter<'a, '_> {
    type Item = RawField<'a>;

    #[inline]
    fn next(&mut self) -> Option<RawField<'a>> {
        let f = self.fields.next()?;
        let (n, start, len) = cut_field(f, self.rest)?;
        let bytes = self.rest.get(start..start + len)?;
        let field = RawField {
            spec: f.spec,
            data_type: f.data_type,
            bytes,
            offset: self.offset,
            value_offset: self.offset + start,
            depth: self.depth,
        };
        self.rest = self.rest.get(n..).unwrap_or_default();
        self.offset += n;
        Some(field)
    }
}

/// The fields of a [`DataRecord`] as `(specifier, value)`.
#[derive(Debug, Clone)]
pub struct FieldIter<'a, 't> {
    raw: RawFieldIter<'a, 't>,
}

impl<'a> Iterator for FieldIter<'a, '_> {
    type Item = (FieldSpec, Value<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.raw.next().map(|f| (f.spec, f.value()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowwire_record::registry::Registry;
    use std::net::Ipv4Addr;

    fn template(specs: &[FieldSpec]) -> Template {
        Template::new(256, false, 0, specs.iter().copied(), &Registry::new(), 100).unwrap()
    }

    #[test]
    fn fixed_records_and_padding() {
        let t = template(&[FieldSpec::iana(8, 4), FieldSpec::iana(2, 2)]);
        let body = [10, 0, 0, 1, 0, 5, 10, 0, 0, 2, 1, 0, 0, 0, 0];
        let recs: Vec<_> = RecordIter::new(&body, 20, &t).map(Result::unwrap).collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].offset(), 26);
        let f: Vec<_> = recs[1].fields().collect();
        assert_eq!(
            f,
            vec![
                (
                    FieldSpec::iana(8, 4),
                    Value::Ipv4Address(Ipv4Addr::new(10, 0, 0, 2))
                ),
                (FieldSpec::iana(2, 2), Value::Unsigned64(256)),
            ]
        );
    }

    #[test]
    fn variable_length_including_empty_and_long() {
        let t = template(&[FieldSpec::iana(82, 65535), FieldSpec::iana(83, 65535)]);
        let mut body = vec![0u8]; // empty interfaceName
        body.extend_from_slice(&[255, 1, 0]); // 256-byte interfaceDescription
        body.extend_from_slice(&[b'x'; 256]);
        body.extend_from_slice(&[3, b'a', b'b', b'c', 0]);
        let recs: Vec<_> = RecordIter::new(&body, 0, &t).collect();
        assert_eq!(recs.len(), 2);
        let r0 = recs[0].unwrap();
        let f: Vec<_> = r0.raw_fields().collect();
        assert_eq!(f[0].bytes, b"");
        assert_eq!(f[1].bytes.len(), 256);
        assert_eq!(f[1].offset, 1);
        let r1 = recs[1].unwrap();
        assert_eq!(r1.get(FieldId::iana(82)), Some(Value::String(b"abc")));
        assert_eq!(r1.get(FieldId::iana(83)), Some(Value::String(b"")));
    }

    #[test]
    fn overrun_is_an_error_after_good_records() {
        let t = template(&[FieldSpec::iana(8, 4), FieldSpec::iana(82, 65535)]);
        let body = [10, 0, 0, 1, 0, 10, 0, 0, 2, 9, b'a'];
        let recs: Vec<_> = RecordIter::new(&body, 100, &t).collect();
        assert_eq!(recs.len(), 2);
        assert!(recs[0].is_ok());
        assert_eq!(
            recs[1].unwrap_err(),
            Error::RecordTruncated {
                offset: 109,
                template_id: 256,
                needed: 14,
                available: 6
            }
        );
    }

    #[test]
    fn reduced_size_and_lenient() {
        let t = template(&[FieldSpec::iana(1, 4), FieldSpec::iana(8, 3)]);
        let body = [0, 0, 1, 0, 1, 2, 3];
        let r = RecordIter::new(&body, 0, &t).next().unwrap().unwrap();
        assert_eq!(r.get(FieldId::iana(1)), Some(Value::Unsigned64(256)));
        assert_eq!(r.get(FieldId::iana(8)), Some(Value::OctetArray(&[1, 2, 3])));
        assert_eq!(r.lenient_fields(), 1);
        assert!(matches!(r.check(), Err(Error::BadValue { offset: 4, .. })));
    }

    #[test]
    fn truncation_at_every_length() {
        let t = template(&[FieldSpec::iana(8, 4), FieldSpec::iana(82, 65535)]);
        let body = [10, 0, 0, 1, 255, 0, 3, b'a', b'b', b'c'];
        for len in 0..body.len() {
            let recs: Vec<_> = RecordIter::new(&body[..len], 0, &t).collect();
            if len < 5 {
                assert!(recs.is_empty(), "len {len}: padding");
            } else {
                assert_eq!(recs.len(), 1);
                assert!(recs[0].is_err(), "len {len}");
            }
        }
    }
}
