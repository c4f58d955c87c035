//! Owned RFC 6313 lists. Their encoded bytes are what a data record carries as the value of
//! a basicList, subTemplateList or subTemplateMultiList field
//! (`OwnedValue::BasicList(bytes)` and so on).

use flowwire_record::OwnedValue;

use super::data::{DataRecordRepr, emit_field, varlen_size};
use crate::error::Error;
use crate::template::Template;
use crate::wire::list::{BasicList, SubTemplateList, SubTemplateMultiList};
use crate::wire::template::FieldSpec;

fn split(b: &mut [u8], n: usize) -> Result<(&mut [u8], &mut [u8]), Error> {
    let remaining = b.len();
    b.split_at_mut_checked(n).ok_or(Error::BufferTooSmall {
        required: n,
        remaining,
    })
}

fn exact(out: &[u8], need: usize) -> Result<(), Error> {
    if out.len() == need {
        Ok(())
    } else {
        Err(Error::BufferTooSmall {
            required: need,
            remaining: out.len(),
        })
    }
}

/// An owned basicList: one element, many values.
#[derive(Debug, Clone, PartialEq)]
pub struct BasicListRepr {
    /// List semantic.
    pub semantic: u8,
    /// The element (its length is each value's, or 65535).
    pub field: FieldSpec,
    /// The values.
    pub elements: Vec<OwnedValue>,
}

impl BasicListRepr {
    /// An owned copy of a basicList view, values decoded with `data_type`.
    pub fn parse(
        list: &BasicList<'_>,
        data_type: flowwire_record::DataType,
    ) -> Result<Self, Error> {
        Ok(BasicListRepr {
            semantic: list.semantic(),
            field: list.field(),
            elements: list
                .elements_as(data_type)
                .map(|v| v.map(|v| v.to_owned_value()))
                .collect::<Result<_, _>>()?,
        })
    }

    fn element_len(&self, v: &OwnedValue) -> usize {
        if self.field.is_variable_length() {
            varlen_size(v.natural_len())
        } else {
            usize::from(self.field.length)
        }
    }

    /// The encoded length.
    pub fn buffer_len(&self) -> usize {
        1 + self.field.wire_len()
            + self
                .elements
                .iter()
                .map(|v| self.element_len(v))
                .sum::<usize>()
    }

    /// Writes the list into exactly [`BasicListRepr::buffer_len`] bytes.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        exact(out, self.buffer_len())?;
        let (head, mut rest) = split(out, 1 + self.field.wire_len())?;
        if let Some(s) = head.first_mut() {
            *s = self.semantic;
        }
        self.field.emit(head.get_mut(1..).unwrap_or_default())?;
        for v in &self.elements {
            let (this, tail) = split(rest, self.element_len(v))?;
            emit_field(&self.field, &v.as_value(), this)?;
            rest = tail;
        }
        Ok(())
    }

    /// The encoded bytes, as a field value.
    pub fn to_value(&self) -> Result<OwnedValue, Error> {
        let mut b = vec![0; self.buffer_len()];
        self.emit(&mut b)?;
        Ok(OwnedValue::BasicList(b))
    }
}

/// An owned subTemplateList.
#[derive(Debug, Clone, PartialEq)]
pub struct SubTemplateListRepr {
    /// List semantic.
    pub semantic: u8,
    /// The records' template id.
    pub template_id: u16,
    /// The records.
    pub records: Vec<DataRecordRepr>,
}

impl SubTemplateListRepr {
    /// An owned copy of a view, its records decoded with `template`.
    pub fn parse(list: &SubTemplateList<'_>, template: &Template) -> Result<Self, Error> {
        Ok(SubTemplateListRepr {
            semantic: list.semantic(),
            template_id: list.template_id(),
            records: list
                .records(template)
                .map(|r| r.map(|r| DataRecordRepr::parse(&r)))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The encoded length.
    pub fn buffer_len(&self) -> usize {
        3 + self
            .records
            .iter()
            .map(DataRecordRepr::buffer_len)
            .sum::<usize>()
    }

    /// Writes the list into exactly [`SubTemplateListRepr::buffer_len`] bytes.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        exact(out, self.buffer_len())?;
        let (head, mut rest) = split(out, 3)?;
        head.copy_from_slice(&[
            self.semantic,
            (self.template_id >> 8) as u8,
            self.template_id as u8,
        ]);
        for r in &self.records {
            let (this, tail) = split(rest, r.buffer_len())?;
            r.emit(this)?;
            rest = tail;
        }
        Ok(())
    }

    /// The encoded bytes, as a field value.
    pub fn to_value(&self) -> Result<OwnedValue, Error> {
        let mut b = vec![0; self.buffer_len()];
        self.emit(&mut b)?;
        Ok(OwnedValue::SubTemplateList(b))
    }
}

/// One group of a [`SubTemplateMultiListRepr`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRepr {
    /// The records' template id.
    pub template_id: u16,
    /// The records.
    pub records: Vec<DataRecordRepr>,
}

impl GroupRepr {
    fn buffer_len(&self) -> usize {
        4 + self
            .records
            .iter()
            .map(DataRecordRepr::buffer_len)
            .sum::<usize>()
    }
}

/// An owned subTemplateMultiList.
#[derive(Debug, Clone, PartialEq)]
pub struct SubTemplateMultiListRepr {
    /// List semantic.
    pub semantic: u8,
    /// The groups.
    pub groups: Vec<GroupRepr>,
}

impl SubTemplateMultiListRepr {
    /// An owned copy of a view; `template` finds each group's template.
    pub fn parse<'t>(
        list: &SubTemplateMultiList<'_>,
        template: impl Fn(u16) -> Option<&'t Template>,
    ) -> Result<Self, Error> {
        let mut groups = Vec::new();
        for g in list.groups() {
            let g = g?;
            let t = template(g.template_id()).ok_or(Error::BadList {
                offset: 0,
                what: "subTemplateMultiList group of an unknown template",
            })?;
            groups.push(GroupRepr {
                template_id: g.template_id(),
                records: g
                    .records(t)
                    .map(|r| r.map(|r| DataRecordRepr::parse(&r)))
                    .collect::<Result<_, _>>()?,
            });
        }
        Ok(SubTemplateMultiListRepr {
            semantic: list.semantic(),
            groups,
        })
    }

    /// The encoded length.
    pub fn buffer_len(&self) -> usize {
        1 + self.groups.iter().map(GroupRepr::buffer_len).sum::<usize>()
    }

    /// Writes the list into exactly [`SubTemplateMultiListRepr::buffer_len`] bytes.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        exact(out, self.buffer_len())?;
        let (head, mut rest) = split(out, 1)?;
        head.copy_from_slice(&[self.semantic]);
        for g in &self.groups {
            let len = u16::try_from(g.buffer_len()).map_err(|_| Error::Unencodable {
                what: "subTemplateMultiList group longer than 65535 octets",
            })?;
            let (this, tail) = split(rest, usize::from(len))?;
            let (gh, mut recs) = split(this, 4)?;
            crate::wire::put16(gh, 0, g.template_id);
            crate::wire::put16(gh, 2, len);
            for r in &g.records {
                let (rb, rt) = split(recs, r.buffer_len())?;
                r.emit(rb)?;
                recs = rt;
            }
            rest = tail;
        }
        Ok(())
    }

    /// The encoded bytes, as a field value.
    pub fn to_value(&self) -> Result<OwnedValue, Error> {
        let mut b = vec![0; self.buffer_len()];
        self.emit(&mut b)?;
        Ok(OwnedValue::SubTemplateMultiList(b))
    }
}
