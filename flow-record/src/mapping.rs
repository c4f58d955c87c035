//! How information elements map onto [`FlowRecord`]'s typed fields, both ways. NetFlow v9 and
//! IPFIX share the element numbers, so both codecs use this one table.

use std::net::IpAddr;

use crate::record::FlowRecord;
use crate::registry::{FieldId, ie, nsel};
use crate::sampling::SamplingElements;
use crate::time::Timestamp;
use crate::value::Value;

/// What a record's relative times are relative to.
///
/// NetFlow v9's FIRST/LAST_SWITCHED (22/21) count milliseconds of the exporter's uptime; the
/// header gives the uptime and the wall clock at export. IPFIX's flowStart/EndSysUpTime (22/21)
/// are relative to systemInitTimeMilliseconds (160), and flowStart/EndDeltaMicroseconds
/// (158/159) to the message's export time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeContext {
    /// The message's export time (wall clock).
    pub export_time: Option<Timestamp>,
    /// The exporter's uptime in milliseconds at export (NetFlow v9 header's sysUptime).
    pub sys_uptime_ms: Option<u32>,
    /// When the exporter's uptime was 0 (IPFIX systemInitTimeMilliseconds from options data).
    pub system_init_time: Option<Timestamp>,
}

impl TimeContext {
    /// Converts a sysUptime-relative millisecond value to absolute time.
    ///
    /// The uptime is a 32-bit counter that wraps every 49.7 days. The difference
    /// `sys_uptime - value` is taken modulo 2^32 and read as signed, so a flow that started
    /// before the wrap (value just below 2^32, uptime just past 0) is 1 ms-ish in the past,
    /// not 49.7 days in the future, and a value slightly after the header's uptime (exporter
    /// clock skew) stays slightly in the future rather than 49.7 days in the past.
    #[inline]
    pub fn from_uptime_ms(&self, value: u32) -> Option<Timestamp> {
        if let (Some(export), Some(uptime)) = (self.export_time, self.sys_uptime_ms) {
            let ago = uptime.wrapping_sub(value) as i32;
            return Some(export.add_millis(-i64::from(ago)));
        }
        self.system_init_time
            .map(|init| init.add_millis(i64::from(value)))
    }

    /// Whether [`TimeContext::from_uptime_ms`] makes uptimes absolute (it does for every
    /// value, or for none).
    #[inline]
    pub fn can_convert_uptime(&self) -> bool {
        (self.export_time.is_some() && self.sys_uptime_ms.is_some())
            || self.system_init_time.is_some()
    }
}

pub use crate::record::TypedField;

impl TypedField {
    /// The set of this field alone.
    pub const fn bit(self) -> Targets {
        Targets(self.mask())
    }
}

const fn one(f: TypedField) -> Targets {
    f.bit()
}

/// A set of [`TypedField`]s, as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Targets(pub u64);

impl Targets {
    /// No field.
    pub const NONE: Targets = Targets(0);

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the two sets share a field.
    pub const fn intersects(self, other: Targets) -> bool {
        self.0 & other.0 != 0
    }

    /// Both sets.
    pub const fn union(self, other: Targets) -> Targets {
        Targets(self.0 | other.0)
    }

    /// Whether `record` has any of these fields set.
    #[inline]
    pub fn any_set(self, r: &FlowRecord) -> bool {
        r.typed_fields() & self.0 != 0
    }
}

/// The typed fields an element fills ([`Targets::NONE`] for elements that only ever go to
/// [`FlowRecord::extra`]).
pub const fn targets(field: FieldId) -> Targets {
    use TypedField as F;
    if field.pen != 0 {
        return Targets::NONE;
    }
    match field.id {
        ie::OCTET_DELTA_COUNT => one(F::Octets),
        ie::PACKET_DELTA_COUNT => one(F::Packets),
        ie::PROTOCOL_IDENTIFIER => one(F::Protocol),
        ie::IP_CLASS_OF_SERVICE => one(F::Tos),
        ie::TCP_CONTROL_BITS => one(F::TcpFlags),
        ie::SOURCE_TRANSPORT_PORT => one(F::SrcPort),
        ie::DESTINATION_TRANSPORT_PORT => one(F::DstPort),
        ie::SOURCE_IPV4_ADDRESS | ie::SOURCE_IPV6_ADDRESS => one(F::SrcAddr),
        ie::DESTINATION_IPV4_ADDRESS | ie::DESTINATION_IPV6_ADDRESS => one(F::DstAddr),
        ie::SOURCE_IPV4_PREFIX_LENGTH | ie::SOURCE_IPV6_PREFIX_LENGTH => one(F::SrcMask),
        ie::DESTINATION_IPV4_PREFIX_LENGTH | ie::DESTINATION_IPV6_PREFIX_LENGTH => one(F::DstMask),
        ie::INGRESS_INTERFACE => one(F::InIf),
        ie::EGRESS_INTERFACE => one(F::OutIf),
        ie::IP_NEXT_HOP_IPV4_ADDRESS | ie::IP_NEXT_HOP_IPV6_ADDRESS => one(F::NextHop),
        ie::BGP_SOURCE_AS_NUMBER => one(F::SrcAs),
        ie::BGP_DESTINATION_AS_NUMBER => one(F::DstAs),
        ie::BGP_NEXT_HOP_IPV4_ADDRESS | ie::BGP_NEXT_HOP_IPV6_ADDRESS => one(F::BgpNextHop),
        ie::FLOW_END_SYS_UP_TIME
        | ie::FLOW_END_SECONDS
        | ie::FLOW_END_MILLISECONDS
        | ie::FLOW_END_MICROSECONDS
        | ie::FLOW_END_NANOSECONDS
        | ie::FLOW_END_DELTA_MICROSECONDS => one(F::End),
        ie::FLOW_START_SYS_UP_TIME
        | ie::FLOW_START_SECONDS
        | ie::FLOW_START_MILLISECONDS
        | ie::FLOW_START_MICROSECONDS
        | ie::FLOW_START_NANOSECONDS
        | ie::FLOW_START_DELTA_MICROSECONDS => one(F::Start),
        ie::FLOW_LABEL_IPV6 => one(F::FlowLabel),
        ie::ICMP_TYPE_CODE_IPV4 | ie::ICMP_TYPE_CODE_IPV6 => {
            one(F::IcmpType).union(one(F::IcmpCode))
        }
        ie::ICMP_TYPE_IPV4 | ie::ICMP_TYPE_IPV6 => one(F::IcmpType),
        ie::ICMP_CODE_IPV4 | ie::ICMP_CODE_IPV6 => one(F::IcmpCode),
        ie::SAMPLING_INTERVAL | ie::SAMPLER_RANDOM_INTERVAL => one(F::SamplingInterval),
        ie::SAMPLING_ALGORITHM | ie::SAMPLER_MODE => one(F::SamplingAlgorithm),
        ie::SOURCE_MAC_ADDRESS => one(F::SrcMac),
        ie::DESTINATION_MAC_ADDRESS => one(F::DstMac),
        ie::VLAN_ID | ie::DOT1Q_VLAN_ID => one(F::Vlan),
        ie::DOT1Q_CUSTOMER_VLAN_ID => one(F::InnerVlan),
        ie::FLOW_DIRECTION => one(F::Direction),
        ie::MPLS_TOP_LABEL_STACK_SECTION => one(F::MplsLabel),
        ie::FORWARDING_STATUS => one(F::ForwardingStatus),
        ie::FLOW_END_REASON => one(F::EndReason),
        ie::POST_NAT_SOURCE_IPV4_ADDRESS
        | ie::POST_NAT_SOURCE_IPV6_ADDRESS
        | nsel::XLATE_SRC_ADDR_IPV4 => one(F::PostNatSrcAddr),
        ie::POST_NAT_DESTINATION_IPV4_ADDRESS
        | ie::POST_NAT_DESTINATION_IPV6_ADDRESS
        | nsel::XLATE_DST_ADDR_IPV4 => one(F::PostNatDstAddr),
        ie::POST_NAPT_SOURCE_TRANSPORT_PORT | nsel::XLATE_SRC_PORT => one(F::PostNatSrcPort),
        ie::POST_NAPT_DESTINATION_TRANSPORT_PORT | nsel::XLATE_DST_PORT => one(F::PostNatDstPort),
        _ => Targets::NONE,
    }
}

/// Sets the typed field this element maps to, or appends it to [`FlowRecord::extra`].
///
/// # Repeated elements
///
/// A template may carry an element more than once, or several elements that fill the same
/// typed field: routers doing SRv6 or MPLS send the outer (encapsulating) header's addresses,
/// protocol and ports first, then the inner ones again, in the order the metering process met
/// them (RFC 7011 §8); `sourceIPv4Address` and `sourceIPv6Address` both fill
/// [`FlowRecord::src_addr`]. The rule:
///
/// 1. The **first** element in template order that fills a typed field takes it (the outer
///    header's, for encapsulated traffic). Elements that fill two fields
///    (`icmpTypeCodeIPv4`, 32) take them only when both are free.
/// 2. **Every other occurrence** goes to [`FlowRecord::extra`], in wire order, with its
///    enterprise number, id, name, data type and value, so that JSON, CSV and re-export keep
///    it. Re-exporting writes the typed fields, then the extras in order.
/// 3. A value that does not suit its typed field (a port sent as a string, say) is not
///    guessed at: it goes to the extras, and leaves the field to a later occurrence.
/// 4. Compiled plans add one rule for templates that carry both address families for one
///    field ([`crate::plan`]): an all-zero address there is the unused family, goes to the
///    extras and leaves the field to the other family.
///
/// `mplsTopLabelStackSection` (70) fills [`FlowRecord::mpls_label`] with its label and is
/// kept whole in the extras too (the label is 20 of its 24 bits). Call [`finish`] once the
/// record's fields are all applied: it derives octets, packets and sampling from elements
/// kept in the extras.
pub fn apply(record: &mut FlowRecord, field: FieldId, value: Value<'_>, time: &TimeContext) {
    let targets = targets(field);
    if targets.is_empty() || targets.any_set(record) {
        record.push_extra(field, value);
        return;
    }
    match apply_iana(record, field.id, value, time) {
        Applied::Typed => {}
        Applied::TypedAndExtra | Applied::No => record.push_extra(field, value),
    }
}

/// Applies a record's elements in wire order as a compiled [`RecordPlan`](crate::plan::RecordPlan)
/// does: [`apply`] per element, except that where the elements carry both address families of
/// a field, an all-zero address is the unused family and goes to the extras; then
/// [`finish`]. The general form of decoding, for elements that are not in a template.
pub fn apply_all(record: &mut FlowRecord, fields: &[(FieldId, Value<'_>)], time: &TimeContext) {
    for (field, value) in fields {
        let dual = crate::plan::other_family(*field)
            .is_some_and(|other| fields.iter().any(|(f, _)| *f == other));
        if dual && value.as_ip().is_some_and(|a| a.is_unspecified()) {
            record.push_extra(*field, *value);
        } else {
            apply(record, *field, *value, time);
        }
    }
    finish(record);
}

fn ip(v: &Value<'_>) -> Option<IpAddr> {
    v.as_ip()
}
fn u8v(v: &Value<'_>) -> Option<u8> {
    v.as_u64().and_then(|x| u8::try_from(x).ok())
}
fn u16v(v: &Value<'_>) -> Option<u16> {
    v.as_u64().and_then(|x| u16::try_from(x).ok())
}
fn u32v(v: &Value<'_>) -> Option<u32> {
    v.as_u64().and_then(|x| u32::try_from(x).ok())
}

enum Applied {
    /// The typed field holds the value.
    Typed,
    /// The typed field holds part of the value; the element is kept in the extras too.
    TypedAndExtra,
    /// The value does not suit the field.
    No,
}

/// Fills the (free) typed field of IANA element `id`.
fn apply_iana(r: &mut FlowRecord, id: u16, v: Value<'_>, t: &TimeContext) -> Applied {
    macro_rules! set {
        ($r:ident . $setter:ident, $conv:expr) => {
            match $conv {
                Some(x) => {
                    $r.$setter(Some(x));
                    Applied::Typed
                }
                None => Applied::No,
            }
        };
    }
    match id {
        ie::OCTET_DELTA_COUNT => set!(r.set_octets, v.as_u64()),
        ie::PACKET_DELTA_COUNT => set!(r.set_packets, v.as_u64()),
        ie::PROTOCOL_IDENTIFIER => set!(r.set_protocol, u8v(&v)),
        ie::IP_CLASS_OF_SERVICE => set!(r.set_tos, u8v(&v)),
        ie::TCP_CONTROL_BITS => set!(r.set_tcp_flags, u16v(&v)),
        ie::SOURCE_TRANSPORT_PORT => set!(r.set_src_port, u16v(&v)),
        ie::SOURCE_IPV4_ADDRESS | ie::SOURCE_IPV6_ADDRESS => set!(r.set_src_addr, ip(&v)),
        ie::SOURCE_IPV4_PREFIX_LENGTH | ie::SOURCE_IPV6_PREFIX_LENGTH => {
            set!(r.set_src_mask, u8v(&v))
        }
        ie::INGRESS_INTERFACE => set!(r.set_in_if, u32v(&v)),
        ie::DESTINATION_TRANSPORT_PORT => set!(r.set_dst_port, u16v(&v)),
        ie::DESTINATION_IPV4_ADDRESS | ie::DESTINATION_IPV6_ADDRESS => set!(r.set_dst_addr, ip(&v)),
        ie::DESTINATION_IPV4_PREFIX_LENGTH | ie::DESTINATION_IPV6_PREFIX_LENGTH => {
            set!(r.set_dst_mask, u8v(&v))
        }
        ie::EGRESS_INTERFACE => set!(r.set_out_if, u32v(&v)),
        ie::IP_NEXT_HOP_IPV4_ADDRESS | ie::IP_NEXT_HOP_IPV6_ADDRESS => set!(r.set_next_hop, ip(&v)),
        ie::BGP_SOURCE_AS_NUMBER => set!(r.set_src_as, u32v(&v)),
        ie::BGP_DESTINATION_AS_NUMBER => set!(r.set_dst_as, u32v(&v)),
        ie::BGP_NEXT_HOP_IPV4_ADDRESS | ie::BGP_NEXT_HOP_IPV6_ADDRESS => {
            set!(r.set_bgp_next_hop, ip(&v))
        }
        ie::FLOW_END_SYS_UP_TIME => set!(r.set_end, u32v(&v).and_then(|ms| t.from_uptime_ms(ms))),
        ie::FLOW_START_SYS_UP_TIME => {
            set!(r.set_start, u32v(&v).and_then(|ms| t.from_uptime_ms(ms)))
        }
        ie::FLOW_LABEL_IPV6 => set!(r.set_flow_label, u32v(&v)),
        ie::ICMP_TYPE_CODE_IPV4 | ie::ICMP_TYPE_CODE_IPV6 => match u16v(&v) {
            Some(tc) => {
                let [icmp_type, icmp_code] = tc.to_be_bytes();
                r.set_icmp_type(Some(icmp_type));
                r.set_icmp_code(Some(icmp_code));
                Applied::Typed
            }
            None => Applied::No,
        },
        ie::SAMPLING_INTERVAL | ie::SAMPLER_RANDOM_INTERVAL => {
            set!(r.set_sampling_interval, u32v(&v))
        }
        ie::SAMPLING_ALGORITHM | ie::SAMPLER_MODE => set!(r.set_sampling_algorithm, u8v(&v)),
        ie::SOURCE_MAC_ADDRESS => set!(r.set_src_mac, mac(&v)),
        ie::DESTINATION_MAC_ADDRESS => set!(r.set_dst_mac, mac(&v)),
        ie::VLAN_ID | ie::DOT1Q_VLAN_ID => set!(r.set_vlan, u16v(&v)),
        ie::DOT1Q_CUSTOMER_VLAN_ID => set!(r.set_inner_vlan, u16v(&v)),
        ie::FLOW_DIRECTION => set!(r.set_direction, u8v(&v)),
        ie::MPLS_TOP_LABEL_STACK_SECTION => match v.as_bytes() {
            // The label is typed; the whole stack entry (EXP, bottom-of-stack) stays in the
            // extras too, so re-encoding loses nothing.
            Some([a, b, c]) => {
                r.set_mpls_label(Some(
                    (u32::from(*a) << 12) | (u32::from(*b) << 4) | (u32::from(*c) >> 4),
                ));
                Applied::TypedAndExtra
            }
            _ => Applied::No,
        },
        ie::FORWARDING_STATUS => set!(r.set_forwarding_status, u32v(&v)),
        ie::FLOW_END_REASON => set!(r.set_end_reason, u8v(&v)),
        ie::FLOW_START_SECONDS
        | ie::FLOW_START_MILLISECONDS
        | ie::FLOW_START_MICROSECONDS
        | ie::FLOW_START_NANOSECONDS => set!(r.set_start, v.as_timestamp()),
        ie::FLOW_END_SECONDS
        | ie::FLOW_END_MILLISECONDS
        | ie::FLOW_END_MICROSECONDS
        | ie::FLOW_END_NANOSECONDS => set!(r.set_end, v.as_timestamp()),
        ie::FLOW_START_DELTA_MICROSECONDS => set!(r.set_start, delta_us(&v, t)),
        ie::FLOW_END_DELTA_MICROSECONDS => set!(r.set_end, delta_us(&v, t)),
        ie::ICMP_TYPE_IPV4 | ie::ICMP_TYPE_IPV6 => set!(r.set_icmp_type, u8v(&v)),
        ie::ICMP_CODE_IPV4 | ie::ICMP_CODE_IPV6 => set!(r.set_icmp_code, u8v(&v)),
        ie::POST_NAT_SOURCE_IPV4_ADDRESS
        | ie::POST_NAT_SOURCE_IPV6_ADDRESS
        | nsel::XLATE_SRC_ADDR_IPV4 => set!(r.set_post_nat_src_addr, ip(&v)),
        ie::POST_NAT_DESTINATION_IPV4_ADDRESS
        | ie::POST_NAT_DESTINATION_IPV6_ADDRESS
        | nsel::XLATE_DST_ADDR_IPV4 => set!(r.set_post_nat_dst_addr, ip(&v)),
        ie::POST_NAPT_SOURCE_TRANSPORT_PORT | nsel::XLATE_SRC_PORT => {
            set!(r.set_post_nat_src_port, u16v(&v))
        }
        ie::POST_NAPT_DESTINATION_TRANSPORT_PORT | nsel::XLATE_DST_PORT => {
            set!(r.set_post_nat_dst_port, u16v(&v))
        }
        _ => Applied::No,
    }
}

/// The value of `field` as the record's typed field holds it, in the element's own form:
/// `sourceIPv4Address` (8) gives [`FlowRecord::src_addr`] when it is an IPv4 address,
/// `flowStartMilliseconds` (152) gives [`FlowRecord::start`] in milliseconds,
/// `icmpTypeCodeIPv4` (32) gives type and code as one number. `None` when the field is not
/// set, holds the other address family, or the element is not one the field is written as
/// (times relative to sysUpTime (21/22) or to the export time (158/159), whose typed fields
/// are absolute; `mplsTopLabelStackSection` (70), which the extras keep whole).
///
/// With [`FlowRecord::extra`], this answers "what did element X say" for any element:
/// [`FlowRecord::get`] does both.
pub fn typed_value(r: &FlowRecord, field: FieldId) -> Option<Value<'_>> {
    use Value as V;
    if field.pen != 0 {
        return None;
    }
    let v4 = |a: Option<IpAddr>| match a {
        Some(IpAddr::V4(a)) => Some(V::Ipv4Address(a)),
        _ => None,
    };
    let v6 = |a: Option<IpAddr>| match a {
        Some(IpAddr::V6(a)) => Some(V::Ipv6Address(a)),
        _ => None,
    };
    let secs = |t: Option<Timestamp>| {
        t.and_then(|t| u32::try_from(t.unix_secs()).ok())
            .map(V::DateTimeSeconds)
    };
    let millis = |t: Option<Timestamp>| {
        t.and_then(|t| u64::try_from(t.unix_millis()).ok())
            .map(V::DateTimeMilliseconds)
    };
    let micros = |t: Option<Timestamp>| t.and_then(|t| t.to_ntp()).map(V::DateTimeMicroseconds);
    let nanos = |t: Option<Timestamp>| t.and_then(|t| t.to_ntp()).map(V::DateTimeNanoseconds);
    match field.id {
        ie::OCTET_DELTA_COUNT => r.octets().map(V::Unsigned64),
        ie::PACKET_DELTA_COUNT => r.packets().map(V::Unsigned64),
        ie::PROTOCOL_IDENTIFIER => r.protocol().map(V::Unsigned8),
        ie::IP_CLASS_OF_SERVICE => r.tos().map(V::Unsigned8),
        ie::TCP_CONTROL_BITS => r.tcp_flags().map(V::Unsigned16),
        ie::SOURCE_TRANSPORT_PORT => r.src_port().map(V::Unsigned16),
        ie::DESTINATION_TRANSPORT_PORT => r.dst_port().map(V::Unsigned16),
        ie::SOURCE_IPV4_ADDRESS => v4(r.src_addr()),
        ie::SOURCE_IPV6_ADDRESS => v6(r.src_addr()),
        ie::DESTINATION_IPV4_ADDRESS => v4(r.dst_addr()),
        ie::DESTINATION_IPV6_ADDRESS => v6(r.dst_addr()),
        ie::SOURCE_IPV4_PREFIX_LENGTH | ie::SOURCE_IPV6_PREFIX_LENGTH => {
            r.src_mask().map(V::Unsigned8)
        }
        ie::DESTINATION_IPV4_PREFIX_LENGTH | ie::DESTINATION_IPV6_PREFIX_LENGTH => {
            r.dst_mask().map(V::Unsigned8)
        }
        ie::INGRESS_INTERFACE => r.in_if().map(V::Unsigned32),
        ie::EGRESS_INTERFACE => r.out_if().map(V::Unsigned32),
        ie::IP_NEXT_HOP_IPV4_ADDRESS => v4(r.next_hop()),
        ie::IP_NEXT_HOP_IPV6_ADDRESS => v6(r.next_hop()),
        ie::BGP_NEXT_HOP_IPV4_ADDRESS => v4(r.bgp_next_hop()),
        ie::BGP_NEXT_HOP_IPV6_ADDRESS => v6(r.bgp_next_hop()),
        ie::BGP_SOURCE_AS_NUMBER => r.src_as().map(V::Unsigned32),
        ie::BGP_DESTINATION_AS_NUMBER => r.dst_as().map(V::Unsigned32),
        ie::FLOW_START_SECONDS => secs(r.start()),
        ie::FLOW_END_SECONDS => secs(r.end()),
        ie::FLOW_START_MILLISECONDS => millis(r.start()),
        ie::FLOW_END_MILLISECONDS => millis(r.end()),
        ie::FLOW_START_MICROSECONDS => micros(r.start()),
        ie::FLOW_END_MICROSECONDS => micros(r.end()),
        ie::FLOW_START_NANOSECONDS => nanos(r.start()),
        ie::FLOW_END_NANOSECONDS => nanos(r.end()),
        ie::FLOW_LABEL_IPV6 => r.flow_label().map(V::Unsigned32),
        ie::ICMP_TYPE_CODE_IPV4 | ie::ICMP_TYPE_CODE_IPV6 => r
            .icmp_type()
            .zip(r.icmp_code())
            .map(|(t, c)| V::Unsigned16(u16::from_be_bytes([t, c]))),
        ie::ICMP_TYPE_IPV4 | ie::ICMP_TYPE_IPV6 => r.icmp_type().map(V::Unsigned8),
        ie::ICMP_CODE_IPV4 | ie::ICMP_CODE_IPV6 => r.icmp_code().map(V::Unsigned8),
        ie::SAMPLING_INTERVAL | ie::SAMPLER_RANDOM_INTERVAL => {
            r.sampling_interval().map(V::Unsigned32)
        }
        ie::SAMPLING_ALGORITHM | ie::SAMPLER_MODE => r.sampling_algorithm().map(V::Unsigned8),
        ie::SOURCE_MAC_ADDRESS => r.src_mac().map(V::MacAddress),
        ie::DESTINATION_MAC_ADDRESS => r.dst_mac().map(V::MacAddress),
        ie::VLAN_ID | ie::DOT1Q_VLAN_ID => r.vlan().map(V::Unsigned16),
        ie::DOT1Q_CUSTOMER_VLAN_ID => r.inner_vlan().map(V::Unsigned16),
        ie::FLOW_DIRECTION => r.direction().map(V::Unsigned8),
        ie::FORWARDING_STATUS => r.forwarding_status().map(V::Unsigned32),
        ie::FLOW_END_REASON => r.end_reason().map(V::Unsigned8),
        ie::POST_NAT_SOURCE_IPV4_ADDRESS | nsel::XLATE_SRC_ADDR_IPV4 => v4(r.post_nat_src_addr()),
        ie::POST_NAT_SOURCE_IPV6_ADDRESS => v6(r.post_nat_src_addr()),
        ie::POST_NAT_DESTINATION_IPV4_ADDRESS | nsel::XLATE_DST_ADDR_IPV4 => {
            v4(r.post_nat_dst_addr())
        }
        ie::POST_NAT_DESTINATION_IPV6_ADDRESS => v6(r.post_nat_dst_addr()),
        ie::POST_NAPT_SOURCE_TRANSPORT_PORT | nsel::XLATE_SRC_PORT => {
            r.post_nat_src_port().map(V::Unsigned16)
        }
        ie::POST_NAPT_DESTINATION_TRANSPORT_PORT | nsel::XLATE_DST_PORT => {
            r.post_nat_dst_port().map(V::Unsigned16)
        }
        _ => None,
    }
}

fn mac(v: &Value<'_>) -> Option<crate::time::MacAddr> {
    match *v {
        Value::MacAddress(m) => Some(m),
        _ => None,
    }
}

fn delta_us(v: &Value<'_>, t: &TimeContext) -> Option<Timestamp> {
    let micros = i64::from(u32v(v)?);
    Some(t.export_time?.add_nanos(-micros * 1_000))
}

/// Completes a record after all its fields were applied, deriving typed fields from
/// elements that stay in the extras:
///
/// - octets and packets, where an exporter sends no delta counters (Cisco ASA NSEL; Open
///   vSwitch's totals-only templates): from the total counters (`octetTotalCount` 85,
///   `packetTotalCount` 86) or the sum of initiator and responder counts (231/232, 298/299);
/// - the sampling interval, from RFC 5477's `samplingPacketInterval` / `samplingPacketSpace`
///   (305/306) or `samplingSize` / `samplingPopulation` (309/310), read as
///   [`crate::sampling`] says.
pub fn finish(record: &mut FlowRecord) {
    fn extra_u64(r: &FlowRecord, id: u16) -> Option<u64> {
        r.extra_field(FieldId::iana(id))
            .and_then(|v| v.as_value().as_u64())
    }
    fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
        match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        }
    }
    if record.extra.is_empty() {
        return;
    }
    if record.octets().is_none() {
        record.set_octets(extra_u64(record, ie::OCTET_TOTAL_COUNT).or_else(|| {
            sum(
                extra_u64(record, ie::INITIATOR_OCTETS),
                extra_u64(record, ie::RESPONDER_OCTETS),
            )
        }));
    }
    if record.packets().is_none() {
        record.set_packets(extra_u64(record, ie::PACKET_TOTAL_COUNT).or_else(|| {
            sum(
                extra_u64(record, ie::INITIATOR_PACKETS),
                extra_u64(record, ie::RESPONDER_PACKETS),
            )
        }));
    }
    if record.sampling_interval().is_none() {
        let mut sampling = SamplingElements::default();
        for e in &record.extra {
            sampling.observe(e.field, &e.value.as_value());
        }
        record.set_sampling_interval(sampling.interval());
    }
}

/// How an encoder should write a record's absolute start and end times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeEncoding {
    /// flowStart/EndMilliseconds (152/153): what most collectors read.
    #[default]
    Milliseconds,
    /// flowStart/EndNanoseconds (156/157): lossless.
    Nanoseconds,
    /// flowStart/EndSeconds (150/151).
    Seconds,
}

/// The elements that carry a record's typed fields, in a canonical order, with their values,
/// followed by its extra fields: what an encoder writes for a record. IPv4 and IPv6 addresses
/// map to their own elements (8/27, 12/28, ...), so records of different address families need
/// different templates.
///
/// `mpls_label` is not written from the typed field: its element (70) is a whole label stack
/// entry, which decoded records keep in `extra` beside the typed label.
pub fn to_fields(record: &FlowRecord, times: TimeEncoding) -> Vec<(FieldId, Value<'_>)> {
    let mut out = Vec::with_capacity(24 + record.extra.len());
    fields_into(record, times, &mut out);
    out
}

/// Like [`to_fields`], into a reused vector (cleared first), so an encoder allocates nothing
/// per record in steady state.
pub fn fields_into<'r>(
    r: &'r FlowRecord,
    times: TimeEncoding,
    out: &mut Vec<(FieldId, Value<'r>)>,
) {
    out.clear();
    let mut push = |id: u16, v: Value<'r>| out.push((FieldId::iana(id), v));
    let addr = |a: IpAddr, v4: u16, v6: u16| match a {
        IpAddr::V4(a) => (v4, Value::Ipv4Address(a)),
        IpAddr::V6(a) => (v6, Value::Ipv6Address(a)),
    };
    if let Some(a) = r.src_addr() {
        let (id, v) = addr(a, 8, 27);
        push(id, v);
    }
    if let Some(a) = r.dst_addr() {
        let (id, v) = addr(a, 12, 28);
        push(id, v);
    }
    if let Some(p) = r.src_port() {
        push(7, Value::Unsigned16(p));
    }
    if let Some(p) = r.dst_port() {
        push(11, Value::Unsigned16(p));
    }
    if let Some(p) = r.protocol() {
        push(4, Value::Unsigned8(p));
    }
    if let Some(x) = r.tos() {
        push(5, Value::Unsigned8(x));
    }
    if let Some(x) = r.tcp_flags() {
        push(6, Value::Unsigned16(x));
    }
    if let Some(x) = r.octets() {
        push(1, Value::Unsigned64(x));
    }
    if let Some(x) = r.packets() {
        push(2, Value::Unsigned64(x));
    }
    let time = |t: Timestamp, start: bool| -> (u16, Value<'r>) {
        let base = match times {
            TimeEncoding::Seconds => 150,
            TimeEncoding::Milliseconds => 152,
            TimeEncoding::Nanoseconds => 156,
        };
        let id = if start { base } else { base + 1 };
        let v = match times {
            TimeEncoding::Seconds => {
                Value::DateTimeSeconds(u32::try_from(t.unix_secs()).unwrap_or(0))
            }
            TimeEncoding::Milliseconds => {
                Value::DateTimeMilliseconds(u64::try_from(t.unix_millis()).unwrap_or(0))
            }
            TimeEncoding::Nanoseconds => Value::DateTimeNanoseconds(t.to_ntp().unwrap_or_default()),
        };
        (id, v)
    };
    if let Some(t) = r.start() {
        let (id, v) = time(t, true);
        push(id, v);
    }
    if let Some(t) = r.end() {
        let (id, v) = time(t, false);
        push(id, v);
    }
    if let Some(x) = r.in_if() {
        push(10, Value::Unsigned32(x));
    }
    if let Some(x) = r.out_if() {
        push(14, Value::Unsigned32(x));
    }
    if let Some(x) = r.src_as() {
        push(16, Value::Unsigned32(x));
    }
    if let Some(x) = r.dst_as() {
        push(17, Value::Unsigned32(x));
    }
    if let Some(a) = r.next_hop() {
        let (id, v) = addr(a, 15, 62);
        push(id, v);
    }
    if let Some(a) = r.bgp_next_hop() {
        let (id, v) = addr(a, 18, 63);
        push(id, v);
    }
    if let Some(x) = r.src_mask() {
        push(
            if matches!(r.src_addr(), Some(IpAddr::V6(_))) {
                29
            } else {
                9
            },
            Value::Unsigned8(x),
        );
    }
    if let Some(x) = r.dst_mask() {
        push(
            if matches!(r.dst_addr(), Some(IpAddr::V6(_))) {
                30
            } else {
                13
            },
            Value::Unsigned8(x),
        );
    }
    if let Some(x) = r.vlan() {
        push(58, Value::Unsigned16(x));
    }
    if let Some(x) = r.inner_vlan() {
        push(245, Value::Unsigned16(x));
    }
    if let Some(m) = r.src_mac() {
        push(56, Value::MacAddress(m));
    }
    if let Some(m) = r.dst_mac() {
        push(80, Value::MacAddress(m));
    }
    let v6 = matches!(r.src_addr(), Some(IpAddr::V6(_))) || r.protocol() == Some(58);
    if let Some(x) = r.icmp_type() {
        push(if v6 { 178 } else { 176 }, Value::Unsigned8(x));
    }
    if let Some(x) = r.icmp_code() {
        push(if v6 { 179 } else { 177 }, Value::Unsigned8(x));
    }
    if let Some(x) = r.flow_label() {
        push(31, Value::Unsigned32(x));
    }
    if let Some(x) = r.direction() {
        push(61, Value::Unsigned8(x));
    }
    if let Some(x) = r.end_reason() {
        push(136, Value::Unsigned8(x));
    }
    if let Some(x) = r.forwarding_status() {
        push(89, Value::Unsigned32(x));
    }
    if let Some(a) = r.post_nat_src_addr() {
        let (id, v) = addr(a, 225, 281);
        push(id, v);
    }
    if let Some(a) = r.post_nat_dst_addr() {
        let (id, v) = addr(a, 226, 282);
        push(id, v);
    }
    if let Some(x) = r.post_nat_src_port() {
        push(227, Value::Unsigned16(x));
    }
    if let Some(x) = r.post_nat_dst_port() {
        push(228, Value::Unsigned16(x));
    }
    if let Some(x) = r.sampling_interval() {
        push(ie::SAMPLING_INTERVAL, Value::Unsigned32(x));
    }
    if let Some(x) = r.sampling_algorithm() {
        push(35, Value::Unsigned8(x));
    }
    for e in &r.extra {
        out.push((e.field, e.value.as_value()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OwnedValue;
    use std::net::Ipv4Addr;

    #[test]
    fn uptime_wrap_keeps_start_before_end() {
        // Exporter up 49.7 days: uptime wrapped to 1000 ms; the flow started at 2^32 - 500 ms.
        let export = Timestamp::from_unix_secs(1_700_000_000);
        let t = TimeContext {
            export_time: Some(export),
            sys_uptime_ms: Some(1_000),
            system_init_time: None,
        };
        let start = t.from_uptime_ms(u32::MAX - 499).unwrap();
        let end = t.from_uptime_ms(900).unwrap();
        assert_eq!(start, export.add_millis(-1_500));
        assert_eq!(end, export.add_millis(-100));
        assert!(start < end);
    }

    #[test]
    fn applies_typed_fields_and_keeps_the_rest() {
        let mut r = FlowRecord::default();
        let t = TimeContext::default();
        apply(
            &mut r,
            FieldId::iana(8),
            Value::Ipv4Address(Ipv4Addr::new(10, 0, 0, 1)),
            &t,
        );
        apply(&mut r, FieldId::iana(7), Value::Unsigned16(443), &t);
        apply(&mut r, FieldId::iana(32), Value::Unsigned16(0x0301), &t);
        apply(&mut r, FieldId::iana(82), Value::String(b"eth0"), &t);
        // A port sent as a string is not guessed at.
        apply(&mut r, FieldId::iana(11), Value::String(b"80"), &t);
        assert_eq!(r.src_addr(), Some(Ipv4Addr::new(10, 0, 0, 1).into()));
        assert_eq!(r.src_port(), Some(443));
        assert_eq!((r.icmp_type(), r.icmp_code()), (Some(3), Some(1)));
        assert_eq!(r.dst_port(), None);
        assert_eq!(r.extra.len(), 2);
        assert_eq!(r.extra[0].name.as_deref(), Some("interfaceName"));
    }

    #[test]
    fn the_first_occurrence_fills_the_field_and_the_others_go_to_extra_in_order() {
        let t = TimeContext::default();
        let mut r = FlowRecord::default();
        let outer: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
        let inner = Ipv4Addr::new(10, 0, 0, 1);
        apply(&mut r, FieldId::iana(27), Value::Ipv6Address(outer), &t);
        apply(&mut r, FieldId::iana(4), Value::Unsigned8(4), &t);
        apply(&mut r, FieldId::iana(8), Value::Ipv4Address(inner), &t);
        apply(&mut r, FieldId::iana(4), Value::Unsigned8(6), &t);
        apply(&mut r, FieldId::iana(58), Value::Unsigned16(10), &t);
        apply(&mut r, FieldId::iana(243), Value::Unsigned16(20), &t);
        assert_eq!(r.src_addr(), Some(outer.into()));
        assert_eq!(r.protocol(), Some(4));
        assert_eq!(r.vlan(), Some(10));
        let extra: Vec<_> = r
            .extra
            .iter()
            .map(|e| (e.field.id, e.value.clone()))
            .collect();
        assert_eq!(
            extra,
            [
                (8, OwnedValue::Ipv4Address(inner)),
                (4, OwnedValue::Unsigned8(6)),
                (243, OwnedValue::Unsigned16(20)),
            ]
        );
    }

    #[test]
    fn a_value_that_does_not_suit_the_field_leaves_it_to_a_later_occurrence() {
        let t = TimeContext::default();
        let mut r = FlowRecord::default();
        apply(&mut r, FieldId::iana(7), Value::String(b"80"), &t);
        apply(&mut r, FieldId::iana(7), Value::Unsigned16(80), &t);
        assert_eq!(r.src_port(), Some(80));
        assert_eq!(r.extra.len(), 1);
    }

    #[test]
    fn icmp_type_code_takes_both_fields_or_neither() {
        let t = TimeContext::default();
        let mut r = FlowRecord::default();
        apply(&mut r, FieldId::iana(176), Value::Unsigned8(8), &t);
        apply(&mut r, FieldId::iana(32), Value::Unsigned16(0x0301), &t);
        assert_eq!((r.icmp_type(), r.icmp_code()), (Some(8), None));
        assert_eq!(r.extra[0].field, FieldId::iana(32));
    }

    #[test]
    fn sampling_pairs_stay_in_extra_and_give_the_interval() {
        let t = TimeContext::default();
        let mut r = FlowRecord::default();
        apply(&mut r, FieldId::iana(305), Value::Unsigned32(1), &t);
        apply(&mut r, FieldId::iana(306), Value::Unsigned32(99), &t);
        finish(&mut r);
        assert_eq!(r.sampling_interval(), Some(100));
        assert_eq!(r.extra.len(), 2);
        // samplingInterval (34) is the typed field's own element.
        let mut r = FlowRecord::default();
        apply(&mut r, FieldId::iana(34), Value::Unsigned32(64), &t);
        finish(&mut r);
        assert_eq!((r.sampling_interval(), r.extra.len()), (Some(64), 0));
    }

    #[test]
    fn typed_value_gives_each_element_its_own_form() {
        let r = {
            let mut built = FlowRecord::default();
            built.set_src_addr(Some("2001:db8::1".parse().unwrap()));
            built.set_start(Some(Timestamp::from_unix_millis(1_700_000_000_123)));
            built.set_icmp_type(Some(3));
            built.set_icmp_code(Some(1));
            built
        };
        assert_eq!(typed_value(&r, FieldId::iana(8)), None);
        assert!(matches!(
            typed_value(&r, FieldId::iana(27)),
            Some(Value::Ipv6Address(_))
        ));
        assert_eq!(
            typed_value(&r, FieldId::iana(152)),
            Some(Value::DateTimeMilliseconds(1_700_000_000_123))
        );
        assert_eq!(
            typed_value(&r, FieldId::iana(150)),
            Some(Value::DateTimeSeconds(1_700_000_000))
        );
        assert_eq!(
            typed_value(&r, FieldId::iana(32)),
            Some(Value::Unsigned16(0x0301))
        );
        assert_eq!(typed_value(&r, FieldId::iana(22)), None);
        // Every element with a typed field round-trips through apply and typed_value.
        for id in 1..=u16::MAX {
            let f = FieldId::iana(id);
            if targets(f).is_empty() {
                assert_eq!(typed_value(&r, f), None, "{id}");
            }
        }
    }

    #[test]
    fn nsel_counters_fill_octets_and_packets() {
        let mut r = FlowRecord::default();
        let t = TimeContext::default();
        apply(&mut r, FieldId::iana(231), Value::Unsigned64(100), &t);
        apply(&mut r, FieldId::iana(232), Value::Unsigned64(50), &t);
        apply(&mut r, FieldId::iana(298), Value::Unsigned64(3), &t);
        finish(&mut r);
        assert_eq!((r.octets(), r.packets()), (Some(150), Some(3)));
    }

    #[test]
    fn to_fields_then_apply_gives_the_record_back() {
        let r = {
            let mut built = FlowRecord::default();
            built.set_src_addr(Some("2001:db8::1".parse().unwrap()));
            built.set_dst_addr(Some("2001:db8::2".parse().unwrap()));
            built.set_src_port(Some(1));
            built.set_dst_port(Some(2));
            built.set_protocol(Some(17));
            built.set_octets(Some(1000));
            built.set_packets(Some(2));
            built.set_start(Some(Timestamp::from_unix_millis(1_700_000_000_000)));
            built.set_end(Some(Timestamp::from_unix_millis(1_700_000_001_000)));
            built.set_src_mask(Some(64));
            built.set_vlan(Some(10));
            built
        };
        let mut back = FlowRecord::default();
        for (f, v) in to_fields(&r, TimeEncoding::Milliseconds) {
            apply(&mut back, f, v, &TimeContext::default());
        }
        assert_eq!(back, r);
    }
}
