//! How information elements map onto [`FlowRecord`]'s typed fields, both ways. NetFlow v9 and
//! IPFIX share the element numbers, so both codecs use this one table.

use std::net::IpAddr;

use crate::record::FlowRecord;
use crate::registry::FieldId;
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
    pub fn from_uptime_ms(&self, value: u32) -> Option<Timestamp> {
        if let (Some(export), Some(uptime)) = (self.export_time, self.sys_uptime_ms) {
            let ago = uptime.wrapping_sub(value) as i32;
            return Some(export.add_millis(-i64::from(ago)));
        }
        self.system_init_time
            .map(|init| init.add_millis(i64::from(value)))
    }
}

/// Sets the typed field this element maps to, or appends it to [`FlowRecord::extra`].
///
/// Values of an unexpected type (a vendor sending a 4-octet string as a port, say) are kept
/// as extras rather than guessed at. Call [`finish`] once the record's fields are all applied.
pub fn apply(record: &mut FlowRecord, field: FieldId, value: Value<'_>, time: &TimeContext) {
    if field.pen != 0 || !apply_iana(record, field.id, value, time) {
        record.push_extra(field, value);
    }
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

/// Returns false when the element has no typed slot or its value does not fit the slot.
fn apply_iana(r: &mut FlowRecord, id: u16, v: Value<'_>, t: &TimeContext) -> bool {
    macro_rules! set {
        ($slot:expr, $conv:expr) => {
            match $conv {
                Some(x) => {
                    $slot = Some(x);
                    true
                }
                None => false,
            }
        };
    }
    macro_rules! set_if_none {
        ($slot:expr, $conv:expr) => {
            match ($slot, $conv) {
                (None, Some(x)) => {
                    $slot = Some(x);
                    true
                }
                _ => false,
            }
        };
    }
    match id {
        1 => set!(r.octets, v.as_u64()),
        2 => set!(r.packets, v.as_u64()),
        4 => set!(r.protocol, u8v(&v)),
        5 => set!(r.tos, u8v(&v)),
        6 => set!(r.tcp_flags, u16v(&v)),
        7 => set!(r.src_port, u16v(&v)),
        8 | 27 => set!(r.src_addr, ip(&v)),
        9 | 29 => set!(r.src_mask, u8v(&v)),
        10 => set!(r.in_if, u32v(&v)),
        11 => set!(r.dst_port, u16v(&v)),
        12 | 28 => set!(r.dst_addr, ip(&v)),
        13 | 30 => set!(r.dst_mask, u8v(&v)),
        14 => set!(r.out_if, u32v(&v)),
        15 | 62 => set!(r.next_hop, ip(&v)),
        16 => set!(r.src_as, u32v(&v)),
        17 => set!(r.dst_as, u32v(&v)),
        18 | 63 => set!(r.bgp_next_hop, ip(&v)),
        21 => set!(r.end, u32v(&v).and_then(|ms| t.from_uptime_ms(ms))),
        22 => set!(r.start, u32v(&v).and_then(|ms| t.from_uptime_ms(ms))),
        31 => set!(r.flow_label, u32v(&v)),
        32 | 139 => match u16v(&v) {
            Some(tc) => {
                r.icmp_type = Some((tc >> 8) as u8);
                r.icmp_code = Some(tc as u8);
                true
            }
            None => false,
        },
        34 | 50 | 305 => set_if_none!(r.sampling_interval, u32v(&v)),
        35 | 49 => set_if_none!(r.sampling_algorithm, u8v(&v)),
        56 => set!(r.src_mac, mac(&v)),
        80 => set!(r.dst_mac, mac(&v)),
        58 => set_if_none!(r.vlan, u16v(&v)),
        243 => set!(r.vlan, u16v(&v)),
        245 => set!(r.inner_vlan, u16v(&v)),
        61 => set!(r.direction, u8v(&v)),
        70 => {
            // The label is typed; the whole stack entry (EXP, bottom-of-stack) stays in the
            // extras too, so re-encoding loses nothing.
            if let Some([a, b, c]) = v.as_bytes() {
                r.mpls_label =
                    Some((u32::from(*a) << 12) | (u32::from(*b) << 4) | (u32::from(*c) >> 4));
            }
            false
        }
        89 => set!(r.forwarding_status, u32v(&v)),
        136 => set!(r.end_reason, u8v(&v)),
        150 | 152 | 154 | 156 => set!(r.start, v.as_timestamp()),
        151 | 153 | 155 | 157 => set!(r.end, v.as_timestamp()),
        158 => set!(r.start, delta_us(&v, t)),
        159 => set!(r.end, delta_us(&v, t)),
        176 | 178 => set!(r.icmp_type, u8v(&v)),
        177 | 179 => set!(r.icmp_code, u8v(&v)),
        225 | 281 => set!(r.post_nat_src_addr, ip(&v)),
        226 | 282 => set!(r.post_nat_dst_addr, ip(&v)),
        227 => set!(r.post_nat_src_port, u16v(&v)),
        228 => set!(r.post_nat_dst_port, u16v(&v)),
        // Cisco ASA NSEL translated addresses and ports (NetFlow v9 vendor types).
        40001 => set!(r.post_nat_src_addr, ip(&v)),
        40002 => set!(r.post_nat_dst_addr, ip(&v)),
        40003 => set!(r.post_nat_src_port, u16v(&v)),
        40004 => set!(r.post_nat_dst_port, u16v(&v)),
        _ => false,
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

/// Completes a record after all its fields were applied: where an exporter sends no delta
/// counters (Cisco ASA NSEL; Open vSwitch's totals-only templates), octets and packets come
/// from the total counters (85/86) or the sum of initiator and responder counts (231/232,
/// 298/299).
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
    if record.octets.is_none() {
        record.octets =
            extra_u64(record, 85).or_else(|| sum(extra_u64(record, 231), extra_u64(record, 232)));
    }
    if record.packets.is_none() {
        record.packets =
            extra_u64(record, 86).or_else(|| sum(extra_u64(record, 298), extra_u64(record, 299)));
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
    if let Some(a) = r.src_addr {
        let (id, v) = addr(a, 8, 27);
        push(id, v);
    }
    if let Some(a) = r.dst_addr {
        let (id, v) = addr(a, 12, 28);
        push(id, v);
    }
    if let Some(p) = r.src_port {
        push(7, Value::Unsigned16(p));
    }
    if let Some(p) = r.dst_port {
        push(11, Value::Unsigned16(p));
    }
    if let Some(p) = r.protocol {
        push(4, Value::Unsigned8(p));
    }
    if let Some(x) = r.tos {
        push(5, Value::Unsigned8(x));
    }
    if let Some(x) = r.tcp_flags {
        push(6, Value::Unsigned16(x));
    }
    if let Some(x) = r.octets {
        push(1, Value::Unsigned64(x));
    }
    if let Some(x) = r.packets {
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
    if let Some(t) = r.start {
        let (id, v) = time(t, true);
        push(id, v);
    }
    if let Some(t) = r.end {
        let (id, v) = time(t, false);
        push(id, v);
    }
    if let Some(x) = r.in_if {
        push(10, Value::Unsigned32(x));
    }
    if let Some(x) = r.out_if {
        push(14, Value::Unsigned32(x));
    }
    if let Some(x) = r.src_as {
        push(16, Value::Unsigned32(x));
    }
    if let Some(x) = r.dst_as {
        push(17, Value::Unsigned32(x));
    }
    if let Some(a) = r.next_hop {
        let (id, v) = addr(a, 15, 62);
        push(id, v);
    }
    if let Some(a) = r.bgp_next_hop {
        let (id, v) = addr(a, 18, 63);
        push(id, v);
    }
    if let Some(x) = r.src_mask {
        push(
            if matches!(r.src_addr, Some(IpAddr::V6(_))) {
                29
            } else {
                9
            },
            Value::Unsigned8(x),
        );
    }
    if let Some(x) = r.dst_mask {
        push(
            if matches!(r.dst_addr, Some(IpAddr::V6(_))) {
                30
            } else {
                13
            },
            Value::Unsigned8(x),
        );
    }
    if let Some(x) = r.vlan {
        push(58, Value::Unsigned16(x));
    }
    if let Some(x) = r.inner_vlan {
        push(245, Value::Unsigned16(x));
    }
    if let Some(m) = r.src_mac {
        push(56, Value::MacAddress(m));
    }
    if let Some(m) = r.dst_mac {
        push(80, Value::MacAddress(m));
    }
    let v6 = matches!(r.src_addr, Some(IpAddr::V6(_))) || r.protocol == Some(58);
    if let Some(x) = r.icmp_type {
        push(if v6 { 178 } else { 176 }, Value::Unsigned8(x));
    }
    if let Some(x) = r.icmp_code {
        push(if v6 { 179 } else { 177 }, Value::Unsigned8(x));
    }
    if let Some(x) = r.flow_label {
        push(31, Value::Unsigned32(x));
    }
    if let Some(x) = r.direction {
        push(61, Value::Unsigned8(x));
    }
    if let Some(x) = r.end_reason {
        push(136, Value::Unsigned8(x));
    }
    if let Some(x) = r.forwarding_status {
        push(89, Value::Unsigned32(x));
    }
    if let Some(a) = r.post_nat_src_addr {
        let (id, v) = addr(a, 225, 281);
        push(id, v);
    }
    if let Some(a) = r.post_nat_dst_addr {
        let (id, v) = addr(a, 226, 282);
        push(id, v);
    }
    if let Some(x) = r.post_nat_src_port {
        push(227, Value::Unsigned16(x));
    }
    if let Some(x) = r.post_nat_dst_port {
        push(228, Value::Unsigned16(x));
    }
    if let Some(x) = r.sampling_interval {
        push(305, Value::Unsigned32(x));
    }
    if let Some(x) = r.sampling_algorithm {
        push(35, Value::Unsigned8(x));
    }
    for e in &r.extra {
        out.push((e.field, e.value.as_value()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(r.src_addr, Some(Ipv4Addr::new(10, 0, 0, 1).into()));
        assert_eq!(r.src_port, Some(443));
        assert_eq!((r.icmp_type, r.icmp_code), (Some(3), Some(1)));
        assert_eq!(r.dst_port, None);
        assert_eq!(r.extra.len(), 2);
        assert_eq!(r.extra[0].name.as_deref(), Some("interfaceName"));
    }

    #[test]
    fn nsel_counters_fill_octets_and_packets() {
        let mut r = FlowRecord::default();
        let t = TimeContext::default();
        apply(&mut r, FieldId::iana(231), Value::Unsigned64(100), &t);
        apply(&mut r, FieldId::iana(232), Value::Unsigned64(50), &t);
        apply(&mut r, FieldId::iana(298), Value::Unsigned64(3), &t);
        finish(&mut r);
        assert_eq!((r.octets, r.packets), (Some(150), Some(3)));
    }

    #[test]
    fn to_fields_then_apply_gives_the_record_back() {
        let r = FlowRecord {
            src_addr: Some("2001:db8::1".parse().unwrap()),
            dst_addr: Some("2001:db8::2".parse().unwrap()),
            src_port: Some(1),
            dst_port: Some(2),
            protocol: Some(17),
            octets: Some(1000),
            packets: Some(2),
            start: Some(Timestamp::from_unix_millis(1_700_000_000_000)),
            end: Some(Timestamp::from_unix_millis(1_700_000_001_000)),
            src_mask: Some(64),
            vlan: Some(10),
            ..FlowRecord::default()
        };
        let mut back = FlowRecord::default();
        for (f, v) in to_fields(&r, TimeEncoding::Milliseconds) {
            apply(&mut back, f, v, &TimeContext::default());
        }
        assert_eq!(back, r);
    }
}
