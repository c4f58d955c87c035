//! `arbitrary::Arbitrary` for the owned IPFIX representations and templates (feature
//! `arbitrary`), so that fuzz targets — ours and those of code built on flowwire — can ask for
//! a valid message and get one that encodes, and decodes back equal.
//!
//! What the generated values look like:
//!
//! - [`FieldSpec`]: most often an IANA element from a table of common ones at their registry
//!   lengths and at reduced sizes (counters in 1, 2 or 4 octets...), variable-length strings
//!   and octet arrays, timestamps of every precision; else an element of enterprise 6876, 9,
//!   2636 or 29305 (RFC 5103 reverse elements) at a length its data type accepts; sometimes a
//!   variable-length basicList, subTemplateList or subTemplateMultiList (291-293).
//! - [`TemplateRepr`]: a data template (id 256 or more, 1-8 specifiers) or, one time in
//!   eight, a withdrawal. [`options_template`] gives an options template (1 to all of its
//!   fields scope).
//! - [`Template`]: a data or options template of such specifiers, checked against the
//!   built-in registry.
//! - [`FieldValue`], [`DataRecordRepr`]: values decoded from arbitrary octets of each
//!   field's length (0-300 octets for variable-length fields, in the 1-octet length prefix or,
//!   one time in four, the 3-octet one), kept as the decoder keeps them (the strict value,
//!   else the octets). basicLists hold 0-4 elements of one specifier; subTemplateLists and
//!   subTemplateMultiList groups hold 0-3 records of the templates at hand ([`record_of`]
//!   takes yours), two levels deep at most, each list within 4096 octets.
//! - [`BasicListRepr`], [`SubTemplateListRepr`], [`GroupRepr`],
//!   [`SubTemplateMultiListRepr`]: such lists, of an arbitrary template for the last three.
//! - [`SetContent`], [`SetRepr`]: a template set (data templates and withdrawals), an options
//!   template set, a data set of an arbitrary template (zero padding shorter than a record
//!   for fixed-length records) or a raw set (ids 4-255 or above 400, 0-64 octets).
//! - [`MessageRepr`]: any header and 0-6 sets within 65535 octets, in which data sets follow
//!   the template sets that define their templates, template ids (256-400) are not
//!   redefined, and raw sets have ids no template of the message has:
//!   `MessageRepr::parse_bytes(&repr.to_bytes()?)` gives it back.
//!
//! Data types come from the built-in registry. A fuzzer input that runs out of bytes gives
//! zeros, short lists and the smallest values rather than an error, so short inputs still give
//! valid messages.
//!
//! ```
//! use arbitrary::{Arbitrary, Unstructured};
//! use flowwire_ipfix::repr::MessageRepr;
//!
//! let bytes = [7u8; 512]; // what a fuzzer hands a target
//! let repr = MessageRepr::arbitrary(&mut Unstructured::new(&bytes))?;
//! let message = repr.to_bytes()?;
//! assert_eq!(MessageRepr::parse_bytes(&message)?, repr);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use arbitrary::{Arbitrary, Result, Unstructured};
use flowwire_record::registry::Registry;
use flowwire_record::{DataType, OwnedValue, Value};

use crate::repr::{
    BasicListRepr, DataRecordRepr, FieldValue, GroupRepr, MessageRepr, SetContent, SetRepr,
    SubTemplateListRepr, SubTemplateMultiListRepr, TemplateRepr,
};
use crate::template::{DEFAULT_MAX_FIELDS, Template, resolve_data_type};
use crate::wire::message::HEADER_LEN;
use crate::wire::set::SET_HEADER_LEN;
use crate::wire::template::{FieldSpec, VARIABLE_LENGTH};

const VAR: u16 = VARIABLE_LENGTH;

/// (element id, length).
const IANA: &[(u16, u16)] = &[
    (1, 8),
    (1, 4),
    (1, 2),
    (2, 8),
    (2, 1),
    (4, 1),
    (5, 1),
    (6, 2),
    (7, 2),
    (8, 4),
    (10, 4),
    (11, 2),
    (12, 4),
    (27, 16),
    (28, 16),
    (56, 6),
    (58, 2),
    (136, 1),
    (148, 8),
    (150, 4),
    (151, 4),
    (152, 8),
    (153, 8),
    (154, 8),
    (156, 8),
    (160, 8),
    (82, VAR),
    (83, VAR),
    (96, VAR),
    (94, VAR),
    (210, 3),
    (313, VAR),
    (351, 8),
    (32, 2),
    (176, 1),
    (405, 2),
    (0, 4),
    (400, 4),
    (23, 4),
    (12, VAR),
];

/// The list elements (basicList, subTemplateList, subTemplateMultiList), variable-length.
const LISTS: [FieldSpec; 3] = [
    FieldSpec::iana(291, VAR),
    FieldSpec::iana(292, VAR),
    FieldSpec::iana(293, VAR),
];

/// Specifiers per template, at most.
const MAX_SPECS: usize = 8;
/// Records per data set, at most.
const MAX_RECORDS_PER_SET: usize = 5;
/// Octets of a variable-length value, at most.
const MAX_VARIABLE_LEN: usize = 300;
/// Octets of a list value, at most.
const MAX_LIST_LEN: usize = 4096;
/// Sets per message, at most.
const MAX_SETS: usize = 6;
/// The largest message.
const MAX_MESSAGE_LEN: usize = 65535;
/// Template ids a message defines (raw sets take other ids).
const MESSAGE_TEMPLATE_IDS: core::ops::RangeInclusive<u16> = 256..=400;

/// `n` octets of the input, zeros where it runs out.
fn octets(u: &mut Unstructured<'_>, n: usize) -> Result<Vec<u8>> {
    let mut v = u.bytes(n.min(u.len()))?.to_vec();
    v.resize(n, 0);
    Ok(v)
}

fn leaf_spec(u: &mut Unstructured<'_>) -> Result<FieldSpec> {
    Ok(if u.ratio(1, 10)? {
        FieldSpec::enterprise(
            *u.choose(&[6876, 9, 29305, 2636])?,
            u.int_in_range(1..=0x7fff)?,
            *u.choose(&[1, 2, 4, 8, 16, VAR])?,
        )
    } else {
        let (id, len) = *u.choose(IANA)?;
        FieldSpec::iana(id, len)
    })
}

/// A specifier whose length its data type accepts (or variable length), not a list.
fn valid_leaf_spec(u: &mut Unstructured<'_>, registry: &Registry) -> Result<FieldSpec> {
    let s = leaf_spec(u)?;
    let dt = resolve_data_type(registry, s.field_id());
    Ok(
        if s.is_variable_length() || dt.accepts_len(usize::from(s.length)) {
            s
        } else {
            FieldSpec::iana(1, 8)
        },
    )
}

/// A specifier of a template: a leaf, or one time in eight a list.
fn template_spec(u: &mut Unstructured<'_>, registry: &Registry) -> Result<FieldSpec> {
    if u.ratio(1, 8)? {
        Ok(*u.choose(&LISTS)?)
    } else {
        valid_leaf_spec(u, registry)
    }
}

fn specs(u: &mut Unstructured<'_>, registry: &Registry) -> Result<Vec<FieldSpec>> {
    let n = u.int_in_range(1..=MAX_SPECS)?;
    (0..n).map(|_| template_spec(u, registry)).collect()
}

/// A value of `data_type` encoded in `len` octets (`None`: variable length) from arbitrary
/// octets, kept as the decoder keeps it: the strict value, else (or when a variable-length
/// value's natural size is not its octet count) the octets.
fn leaf_value(
    u: &mut Unstructured<'_>,
    data_type: DataType,
    len: Option<usize>,
) -> Result<OwnedValue> {
    let n = match len {
        Some(n) => n,
        None => u.int_in_range(0..=MAX_VARIABLE_LEN)?,
    };
    let bytes = octets(u, n)?;
    Ok(match Value::decode(data_type, &bytes) {
        Ok(v) if len.is_some() || v.natural_len() == bytes.len() => v.to_owned_value(),
        _ => OwnedValue::OctetArray(bytes),
    })
}

/// A list's value, or `IncorrectFormat` (which the bounded lists built here never give).
fn list_value(v: core::result::Result<OwnedValue, crate::Error>) -> Result<OwnedValue> {
    v.map_err(|_| arbitrary::Error::IncorrectFormat)
}

fn basic_list(u: &mut Unstructured<'_>, registry: &Registry) -> Result<BasicListRepr> {
    let field = valid_leaf_spec(u, registry)?;
    let dt = resolve_data_type(registry, field.field_id());
    let len = (!field.is_variable_length()).then_some(usize::from(field.length));
    let mut list = BasicListRepr {
        semantic: u.int_in_range(0..=4)?,
        field,
        elements: Vec::new(),
    };
    for _ in 0..u.int_in_range(0..=4)? {
        list.elements.push(leaf_value(u, dt, len)?);
        if list.buffer_len() > MAX_LIST_LEN {
            list.elements.pop();
            break;
        }
    }
    Ok(list)
}

/// 0-3 records of `t` within `room` octets.
fn records_within(
    u: &mut Unstructured<'_>,
    t: &Template,
    defined: &[Template],
    registry: &Registry,
    depth: usize,
    mut room: usize,
) -> Result<Vec<DataRecordRepr>> {
    let mut records = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        let r = record(u, t, defined, registry, depth)?;
        let n = r.buffer_len();
        if n > room {
            break;
        }
        room -= n;
        records.push(r);
    }
    Ok(records)
}

fn sub_template_list(
    u: &mut Unstructured<'_>,
    t: &Template,
    defined: &[Template],
    registry: &Registry,
    depth: usize,
) -> Result<SubTemplateListRepr> {
    Ok(SubTemplateListRepr {
        semantic: u.int_in_range(0..=4)?,
        template_id: t.id(),
        records: records_within(u, t, defined, registry, depth, MAX_LIST_LEN - 3)?,
    })
}

fn sub_template_multi_list(
    u: &mut Unstructured<'_>,
    defined: &[Template],
    registry: &Registry,
    depth: usize,
) -> Result<SubTemplateMultiListRepr> {
    let mut list = SubTemplateMultiListRepr {
        semantic: u.int_in_range(0..=4)?,
        groups: Vec::new(),
    };
    let mut room = MAX_LIST_LEN - 1;
    for _ in 0..u.int_in_range(0..=2)? {
        let Some(r) = room.checked_sub(4) else {
            break;
        };
        if defined.is_empty() {
            break;
        }
        let t = u.choose(defined)?;
        let g = GroupRepr {
            template_id: t.id(),
            records: records_within(u, t, defined, registry, depth, r)?,
        };
        room = r - g
            .records
            .iter()
            .map(DataRecordRepr::buffer_len)
            .sum::<usize>();
        list.groups.push(g);
    }
    Ok(list)
}

fn record(
    u: &mut Unstructured<'_>,
    t: &Template,
    defined: &[Template],
    registry: &Registry,
    depth: usize,
) -> Result<DataRecordRepr> {
    let mut fields = Vec::with_capacity(t.fields().len());
    for f in t.fields() {
        let var = f.spec.is_variable_length();
        let len = (!var).then_some(usize::from(f.spec.length));
        let nested = var && depth < 2 && !defined.is_empty();
        let value = match f.data_type {
            DataType::BasicList if var => list_value(basic_list(u, registry)?.to_value())?,
            DataType::SubTemplateList if nested => {
                let inner = u.choose(defined)?;
                list_value(sub_template_list(u, inner, defined, registry, depth + 1)?.to_value())?
            }
            DataType::SubTemplateMultiList if nested => {
                list_value(sub_template_multi_list(u, defined, registry, depth + 1)?.to_value())?
            }
            DataType::SubTemplateList if var => {
                // An empty list: semantic and template id.
                leaf_value(u, f.data_type, Some(3))?
            }
            DataType::SubTemplateMultiList if var => leaf_value(u, f.data_type, Some(1))?,
            dt => leaf_value(u, dt, len)?,
        };
        let long_length = var && value.natural_len() < 255 && u.ratio(1, 4)?;
        fields.push(FieldValue {
            spec: f.spec,
            value,
            long_length,
        });
    }
    Ok(DataRecordRepr { fields })
}

/// A record of `template`, as described in the module docs; its subTemplateList and
/// subTemplateMultiList values take their records from the `defined` templates (none: empty
/// lists).
pub fn record_of(
    u: &mut Unstructured<'_>,
    template: &Template,
    defined: &[Template],
) -> Result<DataRecordRepr> {
    record(u, template, defined, &Registry::new(), 0)
}

/// A data set of `template`: 0-5 records as [`record_of`] makes them, within a message of
/// 65535 octets, and zero padding shorter than a record for fixed-length records.
pub fn data_set_of(
    u: &mut Unstructured<'_>,
    template: &Template,
    defined: &[Template],
) -> Result<SetRepr> {
    let registry = Registry::new();
    let mut room = MAX_MESSAGE_LEN - HEADER_LEN - SET_HEADER_LEN - 3;
    let mut records = Vec::new();
    for _ in 0..u.int_in_range(0..=MAX_RECORDS_PER_SET)? {
        let r = record(u, template, defined, &registry, 0)?;
        let n = r.buffer_len();
        if n > room {
            break;
        }
        room -= n;
        records.push(r);
    }
    let padding = match template.fixed_record_len() {
        Some(n) => u.int_in_range(0..=(n.clamp(1, 4) - 1) as u16)?,
        None => 0,
    };
    Ok(SetRepr {
        content: SetContent::Data {
            template_id: template.id(),
            records,
        },
        padding,
    })
}

/// An options template record: id 256 or more, 1-8 specifiers of which 1 to all are scope.
pub fn options_template(u: &mut Unstructured<'_>) -> Result<TemplateRepr> {
    let id = u.int_in_range(256..=u16::MAX)?;
    let specs = specs(u, &Registry::new())?;
    let scope = u.int_in_range(1..=specs.len() as u16)?;
    Ok(TemplateRepr::options(id, scope, specs))
}

fn checked(r: &TemplateRepr, options: bool, registry: &Registry) -> Result<Template> {
    Template::new(
        r.template_id,
        options,
        r.scope_field_count,
        r.fields.iter().copied(),
        registry,
        DEFAULT_MAX_FIELDS,
    )
    .map_err(|_| arbitrary::Error::IncorrectFormat)
}

fn raw_set(u: &mut Unstructured<'_>) -> Result<SetContent> {
    let set_id = if u.ratio(1, 8)? {
        u.int_in_range(4..=255)?
    } else {
        u.int_in_range(*MESSAGE_TEMPLATE_IDS.end() + 1..=u16::MAX)?
    };
    let n = u.int_in_range(0..=64)?;
    Ok(SetContent::Raw {
        set_id,
        body: octets(u, n)?,
    })
}

impl<'a> Arbitrary<'a> for FieldSpec {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        template_spec(u, &Registry::new())
    }
}

impl<'a> Arbitrary<'a> for TemplateRepr {
    /// A data template, or one time in eight a withdrawal; see [`options_template`].
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let id = u.int_in_range(256..=u16::MAX)?;
        if u.ratio(1, 8)? {
            return Ok(TemplateRepr::withdrawal(id));
        }
        Ok(TemplateRepr::new(id, specs(u, &Registry::new())?))
    }
}

impl<'a> Arbitrary<'a> for Template {
    /// A data template (three times in four) or an options template.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let registry = Registry::new();
        if u.ratio(1, 4)? {
            checked(&options_template(u)?, true, &registry)
        } else {
            let id = u.int_in_range(256..=u16::MAX)?;
            checked(
                &TemplateRepr::new(id, specs(u, &registry)?),
                false,
                &registry,
            )
        }
    }
}

impl<'a> Arbitrary<'a> for FieldValue {
    /// A leaf field (no list) and its value.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let registry = Registry::new();
        let spec = valid_leaf_spec(u, &registry)?;
        let var = spec.is_variable_length();
        let value = leaf_value(
            u,
            resolve_data_type(&registry, spec.field_id()),
            (!var).then_some(usize::from(spec.length)),
        )?;
        let long_length = var && value.natural_len() < 255 && u.ratio(1, 4)?;
        Ok(FieldValue {
            spec,
            value,
            long_length,
        })
    }
}

impl<'a> Arbitrary<'a> for DataRecordRepr {
    /// A record of an arbitrary [`Template`] (its lists of records empty).
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let t = u.arbitrary::<Template>()?;
        record_of(u, &t, &[])
    }
}

impl<'a> Arbitrary<'a> for BasicListRepr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        basic_list(u, &Registry::new())
    }
}

impl<'a> Arbitrary<'a> for SubTemplateListRepr {
    /// Records of an arbitrary [`Template`].
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let t = u.arbitrary::<Template>()?;
        sub_template_list(u, &t, core::slice::from_ref(&t), &Registry::new(), 1)
    }
}

impl<'a> Arbitrary<'a> for GroupRepr {
    /// Records of an arbitrary [`Template`].
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let t = u.arbitrary::<Template>()?;
        Ok(GroupRepr {
            template_id: t.id(),
            records: records_within(
                u,
                &t,
                core::slice::from_ref(&t),
                &Registry::new(),
                1,
                MAX_LIST_LEN - 5,
            )?,
        })
    }
}

impl<'a> Arbitrary<'a> for SubTemplateMultiListRepr {
    /// Groups of 1-2 arbitrary [`Template`]s.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut defined = vec![u.arbitrary::<Template>()?];
        if u.arbitrary()? {
            defined.push(u.arbitrary::<Template>()?);
        }
        sub_template_multi_list(u, &defined, &Registry::new(), 1)
    }
}

impl<'a> Arbitrary<'a> for SetContent {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(u.arbitrary::<SetRepr>()?.content)
    }
}

impl<'a> Arbitrary<'a> for SetRepr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=3)? {
            0 => {
                let mut recs = Vec::new();
                for _ in 0..u.int_in_range(1..=3)? {
                    recs.push(u.arbitrary()?);
                }
                SetRepr::new(SetContent::Templates(recs))
            }
            1 => SetRepr::new(SetContent::OptionsTemplates(vec![options_template(u)?])),
            2 => {
                let t = u.arbitrary::<Template>()?;
                data_set_of(u, &t, core::slice::from_ref(&t))?
            }
            _ => SetRepr::new(raw_set(u)?),
        })
    }
}

impl<'a> Arbitrary<'a> for MessageRepr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let registry = Registry::new();
        let mut sets = Vec::new();
        let mut len = HEADER_LEN;
        let mut defined: Vec<Template> = Vec::new();
        for _ in 0..u.int_in_range(0..=MAX_SETS)? {
            let mut new = Vec::new();
            let set = match u.int_in_range(0..=4)? {
                0 | 1 => {
                    let options = u.ratio(1, 3)?;
                    let mut recs = Vec::new();
                    for _ in 0..u.int_in_range(1..=3)? {
                        let id = u.int_in_range(MESSAGE_TEMPLATE_IDS)?;
                        if u.ratio(1, 8)? {
                            recs.push(TemplateRepr::withdrawal(id));
                            continue;
                        }
                        if defined.iter().chain(&new).any(|t| t.id() == id) {
                            continue;
                        }
                        let specs = specs(u, &registry)?;
                        let r = if options {
                            let scope = u.int_in_range(1..=specs.len() as u16)?;
                            TemplateRepr::options(id, scope, specs)
                        } else {
                            TemplateRepr::new(id, specs)
                        };
                        new.push(checked(&r, options, &registry)?);
                        recs.push(r);
                    }
                    if recs.is_empty() {
                        continue;
                    }
                    SetRepr::new(if options {
                        SetContent::OptionsTemplates(recs)
                    } else {
                        SetContent::Templates(recs)
                    })
                }
                2 | 3 if !defined.is_empty() => {
                    let t = u.choose(&defined)?.clone();
                    data_set_of(u, &t, &defined)?
                }
                _ => SetRepr::new(raw_set(u)?),
            };
            if len + set.buffer_len() > MAX_MESSAGE_LEN {
                continue;
            }
            len += set.buffer_len();
            defined.extend(new);
            sets.push(set);
        }
        Ok(MessageRepr {
            export_time: u.arbitrary()?,
            sequence_number: u.arbitrary()?,
            observation_domain_id: u.arbitrary()?,
            sets,
        })
    }
}

#[cfg(all(test, feature = "arbitrary"))]
mod tests {
    use super::*;

    /// Fixed pseudo-random buffers (xorshift), of varied lengths.
    fn buffers() -> impl Iterator<Item = Vec<u8>> {
        (1..=300u64).map(|seed| {
            let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let len = 16 + (seed as usize * 37) % 4096;
            (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect()
        })
    }

    /// `a == b`, NaN floats compared by their Debug forms.
    #[track_caller]
    fn same<T: PartialEq + core::fmt::Debug>(a: &T, b: &T) {
        if a != b {
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
    }

    fn message(sets: Vec<SetRepr>) -> MessageRepr {
        MessageRepr {
            export_time: 1,
            sequence_number: 2,
            observation_domain_id: 3,
            sets,
        }
    }

    #[track_caller]
    fn round_trip(m: &MessageRepr) {
        let bytes = m.to_bytes().unwrap();
        let back =
            MessageRepr::parse_bytes(&bytes).unwrap_or_else(|e| panic!("{e}\n{m:?}\n{bytes:02x?}"));
        same(m, &back);
        assert_eq!(back.to_bytes().unwrap(), bytes);
    }

    /// The set defining `t`.
    fn definition(t: &Template) -> SetRepr {
        let specs = t.fields().iter().map(|f| f.spec).collect();
        SetRepr::new(if t.is_options() {
            SetContent::OptionsTemplates(vec![TemplateRepr::options(
                t.id(),
                t.scope_field_count(),
                specs,
            )])
        } else {
            SetContent::Templates(vec![TemplateRepr::new(t.id(), specs)])
        })
    }

    trait Emit {
        fn to_bytes_for_test(&self) -> Result<Vec<u8>, crate::Error>;
    }
    impl Emit for SetRepr {
        fn to_bytes_for_test(&self) -> Result<Vec<u8>, crate::Error> {
            let mut b = vec![0; self.buffer_len()];
            self.emit(&mut b).map(|()| b)
        }
    }

    fn data(template_id: u16, records: Vec<DataRecordRepr>) -> SetRepr {
        SetRepr::new(SetContent::Data {
            template_id,
            records,
        })
    }

    #[test]
    fn arbitrary_values_encode_and_decode_back() {
        let registry = Registry::new();
        let (mut data_records, mut lists) = (0, 0);
        for buf in buffers() {
            let mut u = Unstructured::new(&buf);
            let m = MessageRepr::arbitrary(&mut u).unwrap();
            round_trip(&m);
            for s in &m.sets {
                if let SetContent::Data { records, .. } = &s.content {
                    data_records += records.len();
                    lists += records
                        .iter()
                        .flat_map(|r| &r.fields)
                        .filter(|f| {
                            matches!(
                                f.value,
                                OwnedValue::BasicList(_)
                                    | OwnedValue::SubTemplateList(_)
                                    | OwnedValue::SubTemplateMultiList(_)
                            )
                        })
                        .count();
                }
            }

            // Each type alone, in a message with the templates it needs.
            let s = SetRepr::arbitrary(&mut u).unwrap();
            match &s.content {
                // A data set decodes with a data template of its records' specifiers.
                SetContent::Data { records, .. } => match records.first() {
                    Some(r) => {
                        let t = Template::new(s.set_id(), false, 0, r.specs(), &registry, 1024)
                            .unwrap();
                        round_trip(&message(vec![definition(&t), s]));
                    }
                    None => assert!(s.to_bytes_for_test().is_ok()),
                },
                _ => round_trip(&message(vec![s])),
            }
            let c = SetContent::arbitrary(&mut u).unwrap();
            assert!(SetRepr::new(c).buffer_len() <= MAX_MESSAGE_LEN - HEADER_LEN);

            let t = Template::arbitrary(&mut u).unwrap();
            let r = record_of(&mut u, &t, core::slice::from_ref(&t)).unwrap();
            round_trip(&message(vec![definition(&t), data(t.id(), vec![r])]));

            let r = DataRecordRepr::arbitrary(&mut u).unwrap();
            let t = Template::new(300, false, 0, r.specs(), &registry, 1024).unwrap();
            round_trip(&message(vec![definition(&t), data(300, vec![r])]));

            let f = FieldValue::arbitrary(&mut u).unwrap();
            let t = Template::new(300, false, 0, [f.spec], &registry, 1024).unwrap();
            let r = DataRecordRepr { fields: vec![f] };
            round_trip(&message(vec![definition(&t), data(300, vec![r])]));

            let tr = TemplateRepr::arbitrary(&mut u).unwrap();
            let o = options_template(&mut u).unwrap();
            assert!(tr.is_withdrawal() || checked(&tr, false, &registry).is_ok());
            assert!(checked(&o, true, &registry).is_ok());
            round_trip(&message(vec![
                SetRepr::new(SetContent::Templates(vec![tr])),
                SetRepr::new(SetContent::OptionsTemplates(vec![o])),
            ]));

            // Lists: encode, and read back through a one-field record.
            let l = BasicListRepr::arbitrary(&mut u).unwrap();
            let t = Template::new(300, false, 0, [LISTS[0]], &registry, 1024).unwrap();
            let r = DataRecordRepr {
                fields: vec![FieldValue::new(LISTS[0], l.to_value().unwrap())],
            };
            round_trip(&message(vec![definition(&t), data(300, vec![r])]));
            for v in [
                SubTemplateListRepr::arbitrary(&mut u)
                    .unwrap()
                    .to_value()
                    .unwrap(),
                SubTemplateMultiListRepr::arbitrary(&mut u)
                    .unwrap()
                    .to_value()
                    .unwrap(),
                SubTemplateMultiListRepr {
                    semantic: 1,
                    groups: vec![GroupRepr::arbitrary(&mut u).unwrap()],
                }
                .to_value()
                .unwrap(),
            ] {
                assert!(v.natural_len() <= MAX_LIST_LEN);
            }
            let _ = FieldSpec::arbitrary(&mut u).unwrap();
        }
        assert!(data_records > 100, "{data_records} data records");
        assert!(lists > 10, "{lists} lists");
    }
}
