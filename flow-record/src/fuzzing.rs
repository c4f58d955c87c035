//! `arbitrary::Arbitrary` for the core types (feature `arbitrary`), so that fuzz targets —
//! ours and those of code built on flowwire — can ask for a `FlowRecord` and get one that
//! exporters accept and collectors decode.
//!
//! A [`FlowRecord`] gets any subset of its typed fields, addresses of either family, times in
//! the years 2000-2100, and up to three extras that stay extras when decoded (a registry
//! element with no typed field, with a value of its registered type, or an element of an
//! unknown enterprise as octets). The message context (kind, exporter, domain, sequence,
//! export time, agent) is left empty: a decoder sets it. An input that runs out of bytes gives
//! absent fields and zero octets rather than an error.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arbitrary::{Arbitrary, Result, Unstructured};

use crate::data_type::DataType;
use crate::mapping;
use crate::record::{ExtraField, FlowRecord, ProtocolKind};
use crate::registry::{self, FieldId, ie};
use crate::time::{MacAddr, Timestamp};
use crate::value::{OwnedValue, Value};

/// 2000-01-01 and 2100-01-01, in milliseconds since the Unix epoch.
const TIME_RANGE_MS: core::ops::RangeInclusive<i64> = 946_684_800_000..=4_102_444_800_000;

impl<'a> Arbitrary<'a> for Timestamp {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let ms = u.int_in_range(TIME_RANGE_MS)?;
        let sub_ms = u.int_in_range(0..=999_999i64)?;
        Ok(Timestamp::from_unix_millis(ms).add_nanos(sub_ms))
    }
}

impl<'a> Arbitrary<'a> for MacAddr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(MacAddr(u.arbitrary()?))
    }
}

impl<'a> Arbitrary<'a> for ProtocolKind {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(*u.choose(&[
            ProtocolKind::Netflow5,
            ProtocolKind::Netflow9,
            ProtocolKind::Ipfix,
            ProtocolKind::Sflow5,
        ])?)
    }
}

impl<'a> Arbitrary<'a> for FieldId {
    /// A built-in element most of the time, else any IANA id or an enterprise element.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=3u8)? {
            0 => FieldId::iana(u.int_in_range(1..=0x7fff)?),
            1 => FieldId::enterprise(u.int_in_range(1..=u32::MAX)?, u.int_in_range(1..=0x7fff)?),
            _ => {
                let all: Vec<_> = registry::builtin().collect();
                u.choose(&all)?.field_id()
            }
        })
    }
}

/// A value of `data_type`, from the fuzzer's bytes (natural length; 0-40 octets for
/// variable-length types; zeros where the input runs out).
pub fn value_of(u: &mut Unstructured<'_>, data_type: DataType) -> Result<OwnedValue> {
    let len = match data_type.natural_len() {
        Some(n) => n,
        None => u.int_in_range(0..=40)?,
    };
    let mut bytes = u.bytes(len.min(u.len()))?.to_vec();
    bytes.resize(len, 0);
    Ok(Value::decode_lenient(data_type, &bytes).to_owned_value())
}

impl<'a> Arbitrary<'a> for OwnedValue {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let data_type = *u.choose(&[
            DataType::OctetArray,
            DataType::Unsigned8,
            DataType::Unsigned16,
            DataType::Unsigned32,
            DataType::Unsigned64,
            DataType::Signed32,
            DataType::Float64,
            DataType::Boolean,
            DataType::MacAddress,
            DataType::String,
            DataType::DateTimeSeconds,
            DataType::DateTimeMilliseconds,
            DataType::DateTimeNanoseconds,
            DataType::Ipv4Address,
            DataType::Ipv6Address,
        ])?;
        value_of(u, data_type)
    }
}

impl<'a> Arbitrary<'a> for ExtraField {
    /// An extra that stays an extra when decoded: see the module docs.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        for _ in 0..8 {
            let (field, data_type) = if u.ratio(1, 4)? {
                let pen = u.int_in_range(1..=u32::MAX)?;
                (
                    FieldId::enterprise(pen, u.int_in_range(1..=0x7fff)?),
                    DataType::OctetArray,
                )
            } else {
                let all: Vec<_> = registry::builtin().filter(|e| e.id < 0x8000).collect();
                let e = u.choose(&all)?;
                (e.field_id(), e.data_type)
            };
            // Elements with a typed field, and the ones `mapping::finish` derives typed fields
            // from, would not stay extras.
            let derives = field.pen == 0
                && matches!(
                    field.id,
                    ie::OCTET_TOTAL_COUNT
                        | ie::PACKET_TOTAL_COUNT
                        | ie::INITIATOR_OCTETS
                        | ie::RESPONDER_OCTETS
                        | ie::INITIATOR_PACKETS
                        | ie::RESPONDER_PACKETS
                        | ie::SAMPLING_PACKET_INTERVAL
                        | ie::SAMPLING_PACKET_SPACE
                        | ie::SAMPLING_SIZE
                        | ie::SAMPLING_POPULATION
                );
            if mapping::targets(field).is_empty() && !derives {
                return Ok(ExtraField::new(field, value_of(u, data_type)?));
            }
        }
        Ok(ExtraField::new(
            FieldId::iana(ie::INTERFACE_NAME),
            OwnedValue::String(b"eth0".to_vec()),
        ))
    }
}

fn addr(u: &mut Unstructured<'_>) -> Result<IpAddr> {
    Ok(if u.arbitrary()? {
        Ipv4Addr::from(u.arbitrary::<[u8; 4]>()?).into()
    } else {
        Ipv6Addr::from(u.arbitrary::<[u8; 16]>()?).into()
    })
}

fn any<'a, T: Arbitrary<'a>>(u: &mut Unstructured<'a>) -> Result<T> {
    u.arbitrary()
}

fn opt<'a, T>(
    u: &mut Unstructured<'a>,
    f: impl FnOnce(&mut Unstructured<'a>) -> Result<T>,
) -> Result<Option<T>> {
    Ok(if u.arbitrary()? { Some(f(u)?) } else { None })
}

impl<'a> Arbitrary<'a> for FlowRecord {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut r = {
            let mut built = FlowRecord::default();
            built.set_src_addr(opt(u, addr)?);
            built.set_dst_addr(opt(u, addr)?);
            built.set_src_port(opt(u, any)?);
            built.set_dst_port(opt(u, any)?);
            built.set_protocol(opt(u, any)?);
            built.set_tos(opt(u, any)?);
            built.set_tcp_flags(opt(u, any)?);
            built.set_octets(opt(u, any)?);
            built.set_packets(opt(u, any)?);
            built.set_start(opt(u, any)?);
            built.set_end(opt(u, any)?);
            built.set_in_if(opt(u, any)?);
            built.set_out_if(opt(u, any)?);
            built.set_src_as(opt(u, any)?);
            built.set_dst_as(opt(u, any)?);
            built.set_next_hop(opt(u, addr)?);
            built.set_bgp_next_hop(opt(u, addr)?);
            built.set_src_mask(opt(u, any)?);
            built.set_dst_mask(opt(u, any)?);
            built.set_vlan(opt(u, any)?);
            built.set_inner_vlan(opt(u, any)?);
            built.set_src_mac(opt(u, any)?);
            built.set_dst_mac(opt(u, any)?);
            built.set_icmp_type(opt(u, any)?);
            built.set_icmp_code(opt(u, any)?);
            built.set_flow_label(opt(u, any)?);
            built.set_direction(opt(u, any)?);
            built.set_end_reason(opt(u, any)?);
            built.set_forwarding_status(opt(u, any)?);
            built.set_mpls_label(opt(u, any)?);
            built.set_post_nat_src_addr(opt(u, addr)?);
            built.set_post_nat_dst_addr(opt(u, addr)?);
            built.set_post_nat_src_port(opt(u, any)?);
            built.set_post_nat_dst_port(opt(u, any)?);
            built.set_sampling_interval(opt(u, any)?);
            built.set_sampling_algorithm(opt(u, any)?);
            built
        };
        for _ in 0..u.int_in_range(0..=3u8)? {
            r.extra.push(u.arbitrary()?);
        }
        Ok(r)
    }
}
