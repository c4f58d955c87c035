//! Structured data (RFC 6313): basicList, subTemplateList and subTemplateMultiList, as
//! zero-copy views with iterators over their elements and nested records.
//!
//! ```text
//! basicList:            Semantic (1) | E | Field ID (15) | Element Length (2) [| PEN (4)] | elements
//! subTemplateList:      Semantic (1) | Template ID (2) | records
//! subTemplateMultiList: Semantic (1) | { Template ID (2) | Length (2) | records }*
//! ```
//!
//! Lists nest (a record of a subTemplateList may hold lists); each view knows its depth and
//! refuses to open lists deeper than [`MAX_LIST_DEPTH`](super::data::MAX_LIST_DEPTH).

use flowwire_record::registry::Registry;
use flowwire_record::{DataType, Value};

use super::be16;
use super::data::RecordIter;
use super::template::FieldSpec;
use crate::error::Error;
use crate::template::{Template, resolve_data_type};

/// The list semantics of RFC 6313 §4.4.
pub mod semantic {
    /// None of the elements is true of the flow.
    pub const NONE_OF: u8 = 0;
    /// Exactly one element is.
    pub const EXACTLY_ONE_OF: u8 = 1;
    /// One or more are.
    pub const ONE_OR_MORE_OF: u8 = 2;
    /// All are.
    pub const ALL_OF: u8 = 3;
    /// All are, in this order.
    pub const ORDERED: u8 = 4;
    /// Not specified.
    pub const UNDEFINED: u8 = 255;
}

fn short(offset: usize, needed: usize, available: usize, what: &'static str) -> Error {
    Error::Truncated {
        offset,
        needed,
        available,
        what,
    }
}

/// A basicList: one element repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicList<'a> {
    semantic: u8,
    spec: FieldSpec,
    elements: &'a [u8],
    offset: usize,
    depth: usize,
}

impl<'a> BasicList<'a> {
    /// Parses a basicList value at absolute `offset`, at nesting `depth` (1 for a list in a
    /// record of a data set).
    pub fn parse(bytes: &'a [u8], offset: usize, depth: usize) -> Result<Self, Error> {
        let semantic = *bytes
            .first()
            .ok_or_else(|| short(offset, 5, bytes.len(), "basicList header"))?;
        let rest = bytes.get(1..).unwrap_or_default();
        let spec = FieldSpec::parse(rest, offset + 1)
            .map_err(|_| short(offset, 9, bytes.len(), "basicList header"))?;
        let elements = rest.get(spec.wire_len()..).unwrap_or_default();
        if spec.length == 0 && !elements.is_empty() {
            return Err(Error::BadList {
                offset,
                what: "basicList with element length 0 and content",
            });
        }
        Ok(BasicList {
            semantic,
            spec,
            elements,
            offset,
            depth,
        })
    }

    /// The list semantic ([`semantic`]).
    pub fn semantic(&self) -> u8 {
        self.semantic
    }

    /// The element's specifier (its length is each element's length, or 65535).
    pub fn field(&self) -> FieldSpec {
        self.spec
    }

    /// The nesting depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The raw element bytes.
    pub fn content(&self) -> &'a [u8] {
        self.elements
    }

    /// The elements decoded as `data_type` (leniently: a bad length falls back to
    /// [`Value::decode_lenient`]); an element that runs past the list is an error and ends
    /// the iteration.
    pub fn elements_as(&self, data_type: DataType) -> BasicListIter<'a> {
        BasicListIter {
            rest: self.elements,
            offset: self.offset + 1 + self.spec.wire_len(),
            spec: self.spec,
            data_type,
            done: false,
        }
    }

    /// The elements, with the data type from `registry`.
    pub fn elements(&self, registry: &Registry) -> BasicListIter<'a> {
        self.elements_as(resolve_data_type(registry, self.spec.field_id()))
    }
}

/// The elements of a [`BasicList`].
#[derive(Debug, Clone)]
pub struct BasicListIter<'a> {
    rest: &'a [u8],
    offset: usize,
    spec: FieldSpec,
    data_type: DataType,
    done: bool,
}

impl<'a> Iterator for BasicListIter<'a> {
    type Item = Result<Value<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() || self.spec.length == 0 {
            return None;
        }
        let (skip, len) = if self.spec.is_variable_length() {
            match self.rest.first() {
                Some(255) => match (self.rest.get(1), self.rest.get(2)) {
                    (Some(&a), Some(&b)) => (3, usize::from(u16::from_be_bytes([a, b]))),
                    _ => (3, 0),
                },
                Some(&n) => (1, usize::from(n)),
                None => (1, 0),
            }
        } else {
            (0, usize::from(self.spec.length))
        };
        match self.rest.get(skip..skip + len) {
            Some(bytes) if skip <= self.rest.len() => {
                let v = Value::decode_lenient(self.data_type, bytes);
                self.rest = self.rest.get(skip + len..).unwrap_or_default();
                self.offset += skip + len;
                Some(Ok(v))
            }
            _ => {
                self.done = true;
                Some(Err(short(
                    self.offset,
                    skip + len,
                    self.rest.len(),
                    "basicList element",
                )))
            }
        }
    }
}

/// A subTemplateList: records of one template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubTemplateList<'a> {
    semantic: u8,
    template_id: u16,
    records: &'a [u8],
    offset: usize,
    depth: usize,
}

impl<'a> SubTemplateList<'a> {
    /// Parses a subTemplateList value at absolute `offset`, at nesting `depth`.
    pub fn parse(bytes: &'a [u8], offset: usize, depth: usize) -> Result<Self, Error> {
        if bytes.len() < 3 {
            return Err(short(offset, 3, bytes.len(), "subTemplateList header"));
        }
        let semantic = bytes.first().copied().unwrap_or_default();
        let template_id = be16(bytes, 1);
        if template_id < 256 {
            return Err(Error::BadList {
                offset,
                what: "subTemplateList template id below 256",
            });
        }
        Ok(SubTemplateList {
            semantic,
            template_id,
            records: bytes.get(3..).unwrap_or_default(),
            offset,
            depth,
        })
    }

    /// The list semantic.
    pub fn semantic(&self) -> u8 {
        self.semantic
    }

    /// The template of the records.
    pub fn template_id(&self) -> u16 {
        self.template_id
    }

    /// The nesting depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The raw record bytes.
    pub fn content(&self) -> &'a [u8] {
        self.records
    }

    /// The records, decoded with `template` (which should have id [`Self::template_id`]).
    pub fn records<'t>(&self, template: &'t Template) -> RecordIter<'a, 't> {
        RecordIter::with_depth(self.records, self.offset + 3, template, self.depth)
    }
}

/// A subTemplateMultiList: groups of records, each of its own template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubTemplateMultiList<'a> {
    semantic: u8,
    content: &'a [u8],
    offset: usize,
    depth: usize,
}

impl<'a> SubTemplateMultiList<'a> {
    /// Parses a subTemplateMultiList value at absolute `offset`, at nesting `depth`.
    pub fn parse(bytes: &'a [u8], offset: usize, depth: usize) -> Result<Self, Error> {
        let semantic = *bytes
            .first()
            .ok_or_else(|| short(offset, 1, 0, "subTemplateMultiList header"))?;
        Ok(SubTemplateMultiList {
            semantic,
            content: bytes.get(1..).unwrap_or_default(),
            offset,
            depth,
        })
    }

    /// The list semantic.
    pub fn semantic(&self) -> u8 {
        self.semantic
    }

    /// The nesting depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The groups of records, in order; a group header that is short or whose length runs
    /// past the list is an error and ends the iteration.
    pub fn groups(&self) -> GroupIter<'a> {
        GroupIter {
            rest: self.content,
            offset: self.offset + 1,
            depth: self.depth,
            done: false,
        }
    }
}

/// One group of a [`SubTemplateMultiList`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group<'a> {
    template_id: u16,
    records: &'a [u8],
    offset: usize,
    depth: usize,
}

impl<'a> Group<'a> {
    /// The group's template id.
    pub fn template_id(&self) -> u16 {
        self.template_id
    }

    /// The raw record bytes.
    pub fn content(&self) -> &'a [u8] {
        self.records
    }

    /// The records, decoded with `template`.
    pub fn records<'t>(&self, template: &'t Template) -> RecordIter<'a, 't> {
        RecordIter::with_depth(self.records, self.offset + 4, template, self.depth)
    }
}

/// The groups of a [`SubTemplateMultiList`].
#[derive(Debug, Clone)]
pub struct GroupIter<'a> {
    rest: &'a [u8],
    offset: usize,
    depth: usize,
    done: bool,
}

impl<'a> Iterator for GroupIter<'a> {
    type Item = Result<Group<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        if self.rest.len() < 4 {
            self.done = true;
            return Some(Err(short(
                self.offset,
                4,
                self.rest.len(),
                "subTemplateMultiList group header",
            )));
        }
        let template_id = be16(self.rest, 0);
        let len = usize::from(be16(self.rest, 2));
        match self.rest.get(4..len) {
            Some(records) if len >= 4 && template_id >= 256 => {
                let g = Group {
                    template_id,
                    records,
                    offset: self.offset,
                    depth: self.depth,
                };
                self.rest = self.rest.get(len..).unwrap_or_default();
                self.offset += len;
                Some(Ok(g))
            }
            _ => {
                self.done = true;
                Some(Err(Error::BadList {
                    offset: self.offset,
                    what: "subTemplateMultiList group length or template id",
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::data::RecordIter;
    use std::net::Ipv4Addr;

    #[test]
    fn basic_list_fixed_and_varlen() {
        // ordered list of 3 ingressInterface values, 4 bytes each.
        let b = [4, 0, 10, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        let l = BasicList::parse(&b, 50, 1).unwrap();
        assert_eq!(l.semantic(), semantic::ORDERED);
        let v: Vec<_> = l.elements(&Registry::new()).map(Result::unwrap).collect();
        assert_eq!(
            v,
            vec![
                Value::Unsigned32(1),
                Value::Unsigned32(2),
                Value::Unsigned32(3)
            ]
        );
        // enterprise varlen string elements, one empty.
        let b = [3, 0x80, 82, 0xff, 0xff, 0, 0, 0, 9, 2, b'a', b'b', 0];
        let l = BasicList::parse(&b, 0, 1).unwrap();
        assert_eq!(l.field(), FieldSpec::enterprise(9, 82, 65535));
        let v: Vec<_> = l
            .elements_as(DataType::String)
            .map(Result::unwrap)
            .collect();
        assert_eq!(v, vec![Value::String(b"ab"), Value::String(b"")]);
        // element overruns
        let b = [3, 0, 10, 0, 4, 0, 0];
        let l = BasicList::parse(&b, 0, 1).unwrap();
        let v: Vec<_> = l.elements(&Registry::new()).collect();
        assert_eq!(v.len(), 1);
        assert!(v[0].is_err());
    }

    #[test]
    fn sub_template_lists() {
        let t =
            Template::new(300, false, 0, [FieldSpec::iana(8, 4)], &Registry::new(), 10).unwrap();
        let b = [3, 1, 44, 10, 0, 0, 1, 10, 0, 0, 2];
        let l = SubTemplateList::parse(&b, 0, 1).unwrap();
        assert_eq!(l.template_id(), 300);
        let recs: Vec<_> = l.records(&t).map(Result::unwrap).collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].offset(), 7);
        assert_eq!(recs[1].depth(), 1);
        assert_eq!(
            recs[1].fields().next().unwrap().1,
            Value::Ipv4Address(Ipv4Addr::new(10, 0, 0, 2))
        );

        let m = [255, 1, 44, 0, 8, 10, 0, 0, 1, 1, 45, 0, 4, 1, 46, 0, 9];
        let l = SubTemplateMultiList::parse(&m, 0, 1).unwrap();
        let g: Vec<_> = l.groups().collect();
        assert_eq!(g.len(), 3);
        let g0 = g[0].unwrap();
        assert_eq!(g0.template_id(), 300);
        assert_eq!(RecordIter::new(g0.content(), 0, &t).count(), 1);
        assert_eq!(g[1].unwrap().content(), &[] as &[u8]);
        assert!(g[2].is_err());
    }

    #[test]
    fn truncation_at_every_length() {
        let b = [3, 0x80, 82, 0xff, 0xff, 0, 0, 0, 9];
        for len in 0..b.len() {
            assert!(BasicList::parse(&b[..len], 0, 1).is_err(), "len {len}");
        }
        let s = [3, 1, 44];
        for len in 0..s.len() {
            assert!(SubTemplateList::parse(&s[..len], 0, 1).is_err());
        }
    }
}
