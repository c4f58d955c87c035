//! [`TemplateRepr`]: an owned template, options template or withdrawal record.

use crate::error::Error;
use crate::wire::template::{FieldSpec, TemplateRecord};

/// An owned template record (set 2) or options template record (set 3). A record with no
/// fields is a withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateRepr {
    /// Template id (≥ 256; 2 or 3 in an all-templates withdrawal).
    pub template_id: u16,
    /// Scope field count: 0 for data templates, ≥ 1 for options templates.
    pub scope_field_count: u16,
    /// Field specifiers, scope fields first.
    pub fields: Vec<FieldSpec>,
}

impl TemplateRepr {
    /// A data template.
    pub fn new(template_id: u16, fields: Vec<FieldSpec>) -> Self {
        TemplateRepr {
            template_id,
            scope_field_count: 0,
            fields,
        }
    }

    /// An options template whose first `scope_field_count` fields are its scope.
    pub fn options(template_id: u16, scope_field_count: u16, fields: Vec<FieldSpec>) -> Self {
        TemplateRepr {
            template_id,
            scope_field_count,
            fields,
        }
    }

    /// A withdrawal of one template (or, with id 2 / 3, of all data / options templates).
    pub fn withdrawal(template_id: u16) -> Self {
        TemplateRepr::new(template_id, Vec::new())
    }

    /// Whether this is a withdrawal.
    pub fn is_withdrawal(&self) -> bool {
        self.fields.is_empty()
    }

    /// An owned copy of a template record view.
    pub fn parse(record: &TemplateRecord<'_>) -> Self {
        TemplateRepr {
            template_id: record.template_id(),
            scope_field_count: record.scope_field_count(),
            fields: record.fields().collect(),
        }
    }

    /// The encoded length in a set of the given kind (`options`: in an options template
    /// set, where a non-withdrawal record has the scope field count).
    pub fn buffer_len(&self, options: bool) -> usize {
        let header = if options && !self.is_withdrawal() {
            6
        } else {
            4
        };
        header + self.fields.iter().map(FieldSpec::wire_len).sum::<usize>()
    }

    /// Writes the record into exactly [`TemplateRepr::buffer_len`] bytes.
    pub fn emit(&self, options: bool, out: &mut [u8]) -> Result<(), Error> {
        let need = self.buffer_len(options);
        if out.len() != need {
            return Err(Error::BufferTooSmall {
                required: need,
                remaining: out.len(),
            });
        }
        let count = u16::try_from(self.fields.len()).map_err(|_| Error::Unencodable {
            what: "more than 65535 fields",
        })?;
        crate::wire::put16(out, 0, self.template_id);
        crate::wire::put16(out, 2, count);
        let mut pos = 4;
        if options && !self.is_withdrawal() {
            crate::wire::put16(out, 4, self.scope_field_count);
            pos = 6;
        }
        for f in &self.fields {
            let end = pos + f.wire_len();
            f.emit(out.get_mut(pos..end).unwrap_or_default())?;
            pos = end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::template::TemplateRecordIter;

    #[test]
    fn emit_then_parse() {
        let t = TemplateRepr::options(
            300,
            1,
            vec![
                FieldSpec::iana(10, 4),
                FieldSpec::enterprise(6876, 898, 65535),
            ],
        );
        let mut buf = vec![0xa5; t.buffer_len(true)];
        t.emit(true, &mut buf).unwrap();
        assert_eq!(
            buf,
            [
                1, 44, 0, 2, 0, 1, 0, 10, 0, 4, 0x83, 0x82, 0xff, 0xff, 0, 0, 0x1a, 0xdc
            ]
        );
        let rec = TemplateRecordIter::new(&buf, 0, true)
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(TemplateRepr::parse(&rec), t);
        let w = TemplateRepr::withdrawal(3);
        let mut buf = [0xa5; 4];
        w.emit(true, &mut buf).unwrap();
        assert_eq!(buf, [0, 3, 0, 0]);
        assert!(w.emit(true, &mut [0; 5]).is_err());
    }
}
