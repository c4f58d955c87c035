//! [`DataRecordRepr`]: an owned data record, self-describing (each value with its field
//! specifier), so that it encodes without a template at hand.

use flowwire_record::OwnedValue;

use crate::error::Error;
use crate::wire::data::DataRecord;
use crate::wire::template::{FieldSpec, VARIABLE_LENGTH};

/// One field of a [`DataRecordRepr`].
#[derive(Debug, Clone, PartialEq)]
pub struct FieldValue {
    /// The specifier (its length is the encoded length, or 65535 for variable length).
    pub spec: FieldSpec,
    /// The value.
    pub value: OwnedValue,
    /// For a variable-length value shorter than 255 octets: whether its length is written in
    /// the 3-octet form (RFC 7011 §7 allows it; the 1-octet form is the default).
    pub long_length: bool,
}

impl FieldValue {
    /// A field (short length form for variable-length values).
    pub fn new(spec: FieldSpec, value: OwnedValue) -> Self {
        FieldValue {
            spec,
            value,
            long_length: false,
        }
    }
}

/// An owned data record: values in template order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataRecordRepr {
    /// The fields.
    pub fields: Vec<FieldValue>,
}

/// The encoded size of a variable-length field of `len` content octets (RFC 7011 §7: a
/// 1-octet length below 255, else 255 and a 2-octet length).
pub fn varlen_size(len: usize) -> usize {
    if len < 255 { 1 + len } else { 3 + len }
}

/// Writes one value as `spec` says into exactly `out` (prefix included for variable-length
/// fields), for the encoders of records, lists and the exporter.
pub(crate) fn emit_field(
    spec: &FieldSpec,
    value: &flowwire_record::Value<'_>,
    out: &mut [u8],
) -> Result<(), Error> {
    emit_field_with(spec, value, false, out)
}

fn emit_field_with(
    spec: &FieldSpec,
    value: &flowwire_record::Value<'_>,
    long: bool,
    out: &mut [u8],
) -> Result<(), Error> {
    let field = spec.field_id();
    if spec.length == VARIABLE_LENGTH {
        let n = value.natural_len();
        let len = u16::try_from(n).map_err(|_| Error::Unencodable {
            what: "variable-length value longer than 65535 octets",
        })?;
        let remaining = out.len();
        let short = n < 255 && !long;
        let (p, rest) =
            out.split_at_mut_checked(if short { 1 } else { 3 })
                .ok_or(Error::BufferTooSmall {
                    required: varlen_size(n),
                    remaining,
                })?;
        if short {
            p.copy_from_slice(&[n as u8]);
        } else {
            p.copy_from_slice(&[255, (len >> 8) as u8, len as u8]);
        }
        value
            .emit(rest)
            .map_err(|source| Error::Encode { field, source })
    } else {
        value
            .emit(out)
            .map_err(|source| Error::Encode { field, source })
    }
}

impl FieldValue {
    /// The encoded size of this field.
    pub fn buffer_len(&self) -> usize {
        if self.spec.is_variable_length() {
            let n = self.value.natural_len();
            if self.long_length {
                3 + n
            } else {
                varlen_size(n)
            }
        } else {
            usize::from(self.spec.length)
        }
    }
}

impl DataRecordRepr {
    /// An owned copy of a record view: values decoded strictly as their data type; a value
    /// that does not decode strictly (or, in a variable-length field, whose natural size is
    /// not its octet count) is kept as an octet array, so that the copy encodes back to the
    /// same bytes.
    pub fn parse(record: &DataRecord<'_, '_>) -> Self {
        DataRecordRepr {
            fields: record
                .raw_fields()
                .map(|f| {
                    // Lossless: a value that does not decode strictly as its type, or (for a
                    // variable-length field) whose natural size is not its octet count, is
                    // kept as its octets, so that it encodes to the same bytes.
                    let value = match f.strict_value() {
                        Ok(v)
                            if !f.spec.is_variable_length() || v.natural_len() == f.bytes.len() =>
                        {
                            v.to_owned_value()
                        }
                        _ => OwnedValue::OctetArray(f.bytes.to_vec()),
                    };
                    FieldValue {
                        spec: f.spec,
                        value,
                        long_length: f.prefix_len() == 3 && f.bytes.len() < 255,
                    }
                })
                .collect(),
        }
    }

    /// The field specifiers: the template this record encodes with.
    pub fn specs(&self) -> impl Iterator<Item = FieldSpec> + '_ {
        self.fields.iter().map(|f| f.spec)
    }

    /// The encoded length.
    pub fn buffer_len(&self) -> usize {
        self.fields.iter().map(FieldValue::buffer_len).sum()
    }

    /// Writes the record into exactly [`DataRecordRepr::buffer_len`] bytes.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        let need = self.buffer_len();
        if out.len() != need {
            return Err(Error::BufferTooSmall {
                required: need,
                remaining: out.len(),
            });
        }
        let mut pos = 0;
        for f in &self.fields {
            let end = pos + f.buffer_len();
            emit_field_with(
                &f.spec,
                &f.value.as_value(),
                f.long_length,
                out.get_mut(pos..end).unwrap_or_default(),
            )?;
            pos = end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Template;
    use crate::wire::data::RecordIter;
    use flowwire_record::registry::Registry;
    use std::net::Ipv4Addr;

    #[test]
    fn emit_then_parse() {
        let rec = DataRecordRepr {
            fields: vec![
                FieldValue::new(
                    FieldSpec::iana(8, 4),
                    OwnedValue::Ipv4Address(Ipv4Addr::new(10, 0, 0, 1)),
                ),
                FieldValue::new(FieldSpec::iana(1, 4), OwnedValue::Unsigned64(1500)),
                FieldValue::new(FieldSpec::iana(82, 65535), OwnedValue::String(Vec::new())),
                FieldValue::new(
                    FieldSpec::enterprise(6876, 898, 65535),
                    OwnedValue::OctetArray(vec![7; 300]),
                ),
            ],
        };
        let mut buf = vec![0xa5; rec.buffer_len()];
        rec.emit(&mut buf).unwrap();
        assert_eq!(&buf[..13], &[10, 0, 0, 1, 0, 0, 5, 220, 0, 255, 1, 44, 7]);
        let mut reg = Registry::new();
        reg.register(flowwire_record::registry::CustomElement {
            field: flowwire_record::FieldId::enterprise(6876, 898),
            name: "x".into(),
            data_type: flowwire_record::DataType::OctetArray,
            semantics: None,
            units: None,
        });
        let t = Template::new(256, false, 0, rec.specs(), &reg, 10).unwrap();
        let got = RecordIter::new(&buf, 0, &t).next().unwrap().unwrap();
        assert_eq!(DataRecordRepr::parse(&got), rec);
        assert!(rec.emit(&mut vec![0; buf.len() + 1]).is_err());
    }
}
