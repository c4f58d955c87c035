//! `arbitrary::Arbitrary` for the owned NetFlow representations and templates (feature
//! `arbitrary`), so that fuzz targets — ours and those of code built on flowwire — can ask for
//! a valid v5 datagram or v9 packet and get one that encodes, and decodes back equal.
//!
//! What the generated values look like:
//!
//! - [`V5Repr`]: any header (sampling mode 0-3, interval up to 0x3fff) and 0-30
//!   [`V5RecordRepr`]s with any field values, padding included.
//! - [`TemplateRepr`]: an id of 256 or more and 1-10 fields, most from a table of common
//!   elements at their registry lengths and at lengths real exporters use (8-octet
//!   FIRST_SWITCHED and counters, 16-octet counters, H3C/Huawei variable-length fields,
//!   vendor types), otherwise any field type at 1-32 octets where its registry data type
//!   accepts that length.
//! - [`OptionsTemplateRepr`]: 1-2 scope fields (scope types 1-5, 1-8 octets) and 0-10 fields
//!   as above.
//! - [`Template`]: either of those, validated against the built-in registry.
//! - [`DataSetRepr`]: 0-6 records of an arbitrary template ([`data_set_of`] takes yours),
//!   each value decoded from arbitrary octets of its field's length (0-300 octets for
//!   variable-length fields) as the decoder would keep it, and zero padding shorter than a
//!   record (at most 3 octets).
//! - [`FlowSetRepr`]: a template, options template, data or raw FlowSet, as above (raw
//!   FlowSets: ids above 300 and 0-64 octets).
//! - [`V9Repr`]: any header and 0-6 FlowSets in which data FlowSets follow the (options)
//!   template FlowSets that define their templates, template ids (256-300) are not
//!   redefined, and raw FlowSets have ids (301 and above) that no template of the packet has:
//!   `V9Repr::parse(&V9Packet::new_checked(&repr.to_vec()?)?, &Registry::new(), &[])` gives
//!   it back.
//!
//! Data types come from the built-in [`Registry`]. A fuzzer input that runs out of bytes
//! gives zeros, short lists and the smallest values rather than an error, so short inputs
//! still give valid packets.
//!
//! ```
//! use arbitrary::{Arbitrary, Unstructured};
//! use flowwire_netflow::record::registry::Registry;
//! use flowwire_netflow::{V9Packet, V9Repr};
//!
//! let bytes = [7u8; 512]; // what a fuzzer hands a target
//! let repr = V9Repr::arbitrary(&mut Unstructured::new(&bytes))?;
//! let packet = repr.to_vec()?;
//! let back = V9Repr::parse(&V9Packet::new_checked(&packet[..])?, &Registry::new(), &[])?;
//! assert_eq!(back, repr);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use arbitrary::{Arbitrary, Result, Unstructured};
use flowwire_record::OwnedValue;
use flowwire_record::registry::Registry;

use crate::repr::v5::{V5RecordRepr, V5Repr};
use crate::repr::v9::{DataSetRepr, FlowSetRepr, OptionsTemplateRepr, TemplateRepr, V9Repr};
use crate::template::{FieldSpec, Template, VARIABLE_LENGTH};
use crate::wire::v5_packet::MAX_RECORDS;

/// (field type, length): common elements at their registry lengths, then lengths real
/// exporters use, variable-length and vendor fields.
const FIELDS: &[(u16, u16)] = &[
    (1, 4),
    (2, 4),
    (4, 1),
    (5, 1),
    (6, 1),
    (7, 2),
    (8, 4),
    (10, 2),
    (11, 2),
    (12, 4),
    (14, 2),
    (15, 4),
    (16, 2),
    (17, 2),
    (21, 4),
    (22, 4),
    (27, 16),
    (28, 16),
    (56, 6),
    (80, 6),
    (58, 2),
    (61, 1),
    (89, 4),
    (152, 8),
    (153, 8),
    (1, 8),
    (2, 8),
    (21, 8),
    (1, 16),
    (82, 16),
    (82, VARIABLE_LENGTH),
    (96, VARIABLE_LENGTH),
    (33002, 2),
    (40005, 1),
    (12345, 3),
    (8, VARIABLE_LENGTH),
];

/// Fields per template, at most.
const MAX_FIELDS: usize = 10;
/// Records per data FlowSet, at most.
const MAX_RECORDS_PER_SET: usize = 6;
/// Octets of a variable-length value, at most.
const MAX_VARIABLE_LEN: usize = 300;
/// FlowSets per packet, at most.
const MAX_FLOWSETS: usize = 6;
/// Template ids a packet defines (raw FlowSets take the ids above).
const PACKET_TEMPLATE_IDS: core::ops::RangeInclusive<u16> = 256..=300;

/// `n` octets of the input, zeros where it runs out.
fn octets(u: &mut Unstructured<'_>, n: usize) -> Result<Vec<u8>> {
    let mut v = u.bytes(n.min(u.len()))?.to_vec();
    v.resize(n, 0);
    Ok(v)
}

/// A (field type, length) pair whose length the type's registry data type accepts.
fn field(u: &mut Unstructured<'_>, registry: &Registry) -> Result<(u16, u16)> {
    if u.ratio(1, 8)? {
        let (t, l) = (u.arbitrary()?, u.int_in_range(1..=32)?);
        if FieldSpec::field(t, l, registry)
            .data_type
            .accepts_len(usize::from(l))
        {
            return Ok((t, l));
        }
    }
    Ok(*u.choose(FIELDS)?)
}

fn fields(u: &mut Unstructured<'_>, min: usize, registry: &Registry) -> Result<Vec<(u16, u16)>> {
    let n = u.int_in_range(min..=MAX_FIELDS)?;
    (0..n).map(|_| field(u, registry)).collect()
}

fn template_repr(u: &mut Unstructured<'_>, id: u16, registry: &Registry) -> Result<TemplateRepr> {
    Ok(TemplateRepr {
        id,
        fields: fields(u, 1, registry)?,
    })
}

fn options_template_repr(
    u: &mut Unstructured<'_>,
    id: u16,
    registry: &Registry,
) -> Result<OptionsTemplateRepr> {
    let scopes = u.int_in_range(1..=2)?;
    let mut scope_fields = Vec::with_capacity(scopes);
    for _ in 0..scopes {
        scope_fields.push((u.int_in_range(1..=5)?, u.int_in_range(1..=8)?));
    }
    Ok(OptionsTemplateRepr {
        id,
        scope_fields,
        option_fields: fields(u, 0, registry)?,
    })
}

/// A validated template, or `IncorrectFormat` (which the generators above never give).
fn validated(t: core::result::Result<Template, crate::Error>) -> Result<Template> {
    t.map_err(|_| arbitrary::Error::IncorrectFormat)
}

/// A value of `spec` from the input, as the owned copy keeps it: decoded as the template
/// says, except a variable-length value whose natural size is not its octet count, kept as
/// octets.
fn value(u: &mut Unstructured<'_>, spec: &FieldSpec) -> Result<(OwnedValue, bool)> {
    let len = if spec.is_variable() {
        u.int_in_range(0..=MAX_VARIABLE_LEN)?
    } else {
        usize::from(spec.length)
    };
    let bytes = octets(u, len)?;
    let zero = bytes.iter().all(|&b| b == 0);
    let v = spec.decode(&bytes);
    let owned = if spec.is_variable() && v.natural_len() != bytes.len() {
        OwnedValue::OctetArray(bytes)
    } else {
        v.to_owned_value()
    };
    Ok((owned, zero))
}

/// A data FlowSet of `template`: 0-6 records whose values are decoded from arbitrary octets
/// of each field's length (0-300 octets for variable-length fields), then zero padding
/// shorter than a record. Encoded after its template, it decodes back equal.
pub fn data_set_of(u: &mut Unstructured<'_>, template: &Template) -> Result<DataSetRepr> {
    let n = u.int_in_range(0..=MAX_RECORDS_PER_SET)?;
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        let mut record = Vec::with_capacity(template.fields().len());
        let mut all_zero = true;
        for spec in template.fields() {
            let (v, zero) = value(u, spec)?;
            all_zero &= zero;
            record.push(v);
        }
        // A variable-length record of zero octets only would be taken for the zero-filled
        // tail real exporters send: left out.
        if template.is_variable() && all_zero {
            continue;
        }
        records.push(record);
    }
    let max_pad = if template.is_variable() {
        3
    } else {
        template.min_record_len().clamp(1, 4) - 1
    };
    Ok(DataSetRepr {
        template: template.clone(),
        records,
        padding: u.int_in_range(0..=max_pad as u16)?,
    })
}

fn raw_flowset(u: &mut Unstructured<'_>) -> Result<FlowSetRepr> {
    let set_id = u.int_in_range(*PACKET_TEMPLATE_IDS.end() + 1..=u16::MAX)?;
    let len = u.int_in_range(0..=64)?;
    Ok(FlowSetRepr::Raw {
        set_id,
        body: octets(u, len)?,
    })
}

impl<'a> Arbitrary<'a> for V5RecordRepr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(V5RecordRepr {
            src_addr: u.arbitrary::<u32>()?.into(),
            dst_addr: u.arbitrary::<u32>()?.into(),
            next_hop: u.arbitrary::<u32>()?.into(),
            input: u.arbitrary()?,
            output: u.arbitrary()?,
            packets: u.arbitrary()?,
            octets: u.arbitrary()?,
            first: u.arbitrary()?,
            last: u.arbitrary()?,
            src_port: u.arbitrary()?,
            dst_port: u.arbitrary()?,
            pad1: u.arbitrary()?,
            tcp_flags: u.arbitrary()?,
            protocol: u.arbitrary()?,
            tos: u.arbitrary()?,
            src_as: u.arbitrary()?,
            dst_as: u.arbitrary()?,
            src_mask: u.arbitrary()?,
            dst_mask: u.arbitrary()?,
            pad2: u.arbitrary()?,
        })
    }
}

impl<'a> Arbitrary<'a> for V5Repr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n = u.int_in_range(0..=MAX_RECORDS)?;
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            records.push(u.arbitrary()?);
        }
        Ok(V5Repr {
            sys_uptime: u.arbitrary()?,
            unix_secs: u.arbitrary()?,
            unix_nsecs: u.arbitrary()?,
            flow_sequence: u.arbitrary()?,
            engine_type: u.arbitrary()?,
            engine_id: u.arbitrary()?,
            sampling_mode: u.int_in_range(0..=3)?,
            sampling_interval: u.int_in_range(0..=0x3fff)?,
            records,
        })
    }
}

impl<'a> Arbitrary<'a> for FieldSpec {
    /// A regular field as [`TemplateRepr`]'s are chosen, typed by the built-in registry.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let registry = Registry::new();
        let (t, l) = field(u, &registry)?;
        Ok(FieldSpec::field(t, l, &registry))
    }
}

impl<'a> Arbitrary<'a> for TemplateRepr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let id = u.int_in_range(256..=u16::MAX)?;
        template_repr(u, id, &Registry::new())
    }
}

impl<'a> Arbitrary<'a> for OptionsTemplateRepr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let id = u.int_in_range(256..=u16::MAX)?;
        options_template_repr(u, id, &Registry::new())
    }
}

impl<'a> Arbitrary<'a> for Template {
    /// A data template (three times in four) or an options template.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let registry = Registry::new();
        if u.ratio(1, 4)? {
            validated(u.arbitrary::<OptionsTemplateRepr>()?.to_template(&registry))
        } else {
            validated(u.arbitrary::<TemplateRepr>()?.to_template(&registry))
        }
    }
}

impl<'a> Arbitrary<'a> for DataSetRepr {
    /// Records of an arbitrary [`Template`] (see [`data_set_of`]).
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let template = u.arbitrary::<Template>()?;
        data_set_of(u, &template)
    }
}

impl<'a> Arbitrary<'a> for FlowSetRepr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=3)? {
            0 => {
                let n = u.int_in_range(1..=3)?;
                let mut templates = Vec::with_capacity(n);
                for _ in 0..n {
                    templates.push(u.arbitrary()?);
                }
                FlowSetRepr::Templates {
                    templates,
                    padding: 0,
                }
            }
            1 => FlowSetRepr::OptionsTemplates {
                templates: vec![u.arbitrary()?],
                padding: 0,
            },
            2 => FlowSetRepr::Data(u.arbitrary()?),
            _ => raw_flowset(u)?,
        })
    }
}

impl<'a> Arbitrary<'a> for V9Repr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let registry = Registry::new();
        let mut flowsets = Vec::new();
        let mut defined: Vec<Template> = Vec::new();
        let new_id = |u: &mut Unstructured<'a>, defined: &[Template]| -> Result<Option<u16>> {
            let id = u.int_in_range(PACKET_TEMPLATE_IDS)?;
            Ok((!defined.iter().any(|t| t.id() == id)).then_some(id))
        };
        for _ in 0..u.int_in_range(0..=MAX_FLOWSETS)? {
            match u.int_in_range(0..=3)? {
                0 => {
                    let mut templates = Vec::new();
                    for _ in 0..u.int_in_range(1..=3)? {
                        let Some(id) = new_id(u, &defined)? else {
                            continue;
                        };
                        let t = template_repr(u, id, &registry)?;
                        defined.push(validated(t.to_template(&registry))?);
                        templates.push(t);
                    }
                    if !templates.is_empty() {
                        flowsets.push(FlowSetRepr::Templates {
                            templates,
                            padding: 0,
                        });
                    }
                }
                1 => {
                    let Some(id) = new_id(u, &defined)? else {
                        continue;
                    };
                    let t = options_template_repr(u, id, &registry)?;
                    defined.push(validated(t.to_template(&registry))?);
                    flowsets.push(FlowSetRepr::OptionsTemplates {
                        templates: vec![t],
                        padding: 0,
                    });
                }
                2 if !defined.is_empty() => {
                    let t = u.choose(&defined)?.clone();
                    flowsets.push(FlowSetRepr::Data(data_set_of(u, &t)?));
                }
                _ => flowsets.push(raw_flowset(u)?),
            }
        }
        Ok(V9Repr {
            sys_uptime: u.arbitrary()?,
            unix_secs: u.arbitrary()?,
            sequence: u.arbitrary()?,
            source_id: u.arbitrary()?,
            flowsets,
        })
    }
}

#[cfg(all(test, feature = "arbitrary"))]
mod tests {
    use super::*;
    use crate::wire::v5_packet::V5Packet;
    use crate::wire::v9_packet::V9Packet;

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

    fn v9_round_trip(r: &V9Repr) {
        let bytes = r.to_vec().unwrap();
        let p = V9Packet::new_checked(&bytes[..]).unwrap();
        let back = V9Repr::parse(&p, &Registry::new(), &[])
            .unwrap_or_else(|e| panic!("{e}\n{r:?}\n{bytes:02x?}"));
        same(r, &back);
        assert_eq!(back.to_vec().unwrap(), bytes);
    }

    fn header(flowsets: Vec<FlowSetRepr>) -> V9Repr {
        V9Repr {
            sys_uptime: 1,
            unix_secs: 2,
            sequence: 3,
            source_id: 4,
            flowsets,
        }
    }

    /// The FlowSet defining `t`.
    fn definition(t: &Template) -> FlowSetRepr {
        let pairs = |f: &[FieldSpec]| f.iter().map(|f| (f.field_type, f.length)).collect();
        if t.is_options() {
            FlowSetRepr::OptionsTemplates {
                templates: vec![OptionsTemplateRepr {
                    id: t.id(),
                    scope_fields: pairs(t.scope_fields()),
                    option_fields: pairs(t.option_fields()),
                }],
                padding: 0,
            }
        } else {
            FlowSetRepr::Templates {
                templates: vec![TemplateRepr {
                    id: t.id(),
                    fields: pairs(t.fields()),
                }],
                padding: 0,
            }
        }
    }

    #[test]
    fn arbitrary_values_encode_and_decode_back() {
        let registry = Registry::new();
        let mut data_records = 0;
        for buf in buffers() {
            let mut u = Unstructured::new(&buf);
            let v5 = V5Repr::arbitrary(&mut u).unwrap();
            let bytes = v5.to_vec().unwrap();
            let back = V5Repr::parse(&V5Packet::new_checked(&bytes[..]).unwrap()).unwrap();
            assert_eq!(back, v5);

            let v9 = V9Repr::arbitrary(&mut u).unwrap();
            v9_round_trip(&v9);
            data_records += v9
                .flowsets
                .iter()
                .filter(|s| matches!(s, FlowSetRepr::Data(_)))
                .map(FlowSetRepr::count)
                .sum::<usize>();

            let t = TemplateRepr::arbitrary(&mut u).unwrap();
            let o = OptionsTemplateRepr::arbitrary(&mut u).unwrap();
            assert!(t.to_template(&registry).is_ok());
            assert!(o.to_template(&registry).is_ok());
            v9_round_trip(&header(vec![
                FlowSetRepr::Templates {
                    templates: vec![t],
                    padding: 0,
                },
                FlowSetRepr::OptionsTemplates {
                    templates: vec![o],
                    padding: 0,
                },
            ]));

            let d = DataSetRepr::arbitrary(&mut u).unwrap();
            v9_round_trip(&header(vec![definition(&d.template), FlowSetRepr::Data(d)]));

            match FlowSetRepr::arbitrary(&mut u).unwrap() {
                FlowSetRepr::Data(d) => {
                    v9_round_trip(&header(vec![definition(&d.template), FlowSetRepr::Data(d)]))
                }
                s => v9_round_trip(&header(vec![s])),
            }

            let spec = FieldSpec::arbitrary(&mut u).unwrap();
            assert!(spec.length > 0 && !spec.scope);
        }
        assert!(data_records > 100, "{data_records} data records");
    }
}
