//! [`FlowRecord`]: the protocol-neutral flow record that every codec converts to and from.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use crate::registry::{self, FieldId};
use crate::time::{MacAddr, Timestamp};
use crate::value::{OwnedValue, Value};

/// The export protocol a record came from (or is going to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum ProtocolKind {
    /// NetFlow version 5.
    Netflow5,
    /// NetFlow version 9 (RFC 3954).
    Netflow9,
    /// IPFIX (RFC 7011), version 10.
    Ipfix,
    /// sFlow version 5.
    Sflow5,
}

impl ProtocolKind {
    /// The stable name used in JSON and on the command line: `netflow5`, `netflow9`,
    /// `ipfix`, `sflow5`.
    pub const fn name(self) -> &'static str {
        match self {
            ProtocolKind::Netflow5 => "netflow5",
            ProtocolKind::Netflow9 => "netflow9",
            ProtocolKind::Ipfix => "ipfix",
            ProtocolKind::Sflow5 => "sflow5",
        }
    }
}

impl core::fmt::Display for ProtocolKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded field that has no typed slot in [`FlowRecord`], kept so that nothing decoded is
/// ever dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraField {
    /// Which element this is.
    pub field: FieldId,
    /// The registry name, where the element is known.
    pub name: Option<Cow<'static, str>>,
    /// The value.
    pub value: OwnedValue,
}

impl ExtraField {
    /// A field with its name taken from the built-in registry.
    pub fn new(field: FieldId, value: OwnedValue) -> Self {
        ExtraField {
            field,
            name: registry::lookup(field).map(|e| Cow::Borrowed(e.name)),
            value,
        }
    }
}

/// A flow, whatever protocol it came from: the fields flow users query most as typed
/// optional values, the exporter context, and every other decoded field in [`FlowRecord::extra`].
///
/// With the `serde` feature it serializes as one JSON object per record; this is exactly what
/// `flowwire decode --format jsonl` prints. The schema:
///
/// | key | JSON type | meaning |
/// |---|---|---|
/// | `type` | `"flow"` | always present |
/// | `kind` | `"netflow5"` \| `"netflow9"` \| `"ipfix"` \| `"sflow5"` | source protocol |
/// | `exporter` | `"ip:port"` | the exporter's socket address |
/// | `agent` | string (IP) | sFlow agent address |
/// | `domain` | number | IPFIX observation domain, v9 source id, sFlow sub-agent id |
/// | `sequence` | number | message / datagram / sample sequence number |
/// | `export_time` | RFC 3339 | when the exporter sent the message |
/// | `src_addr`, `dst_addr` | string (IP) | IPv4 or IPv6 addresses |
/// | `src_port`, `dst_port` | number | transport ports |
/// | `protocol` | number | IP protocol (6 TCP, 17 UDP, ...) |
/// | `tos` | number | IPv4 ToS / IPv6 traffic class octet (DSCP is `tos >> 2`) |
/// | `tcp_flags` | number | TCP control bits |
/// | `octets`, `packets` | number | delta counts (sFlow: frame length and 1 per sample) |
/// | `start`, `end` | RFC 3339, nanoseconds | flow start and end, UTC |
/// | `in_if`, `out_if` | number | ingress / egress interface index |
/// | `src_as`, `dst_as` | number | BGP AS numbers |
/// | `next_hop`, `bgp_next_hop` | string (IP) | IP and BGP next hop |
/// | `src_mask`, `dst_mask` | number | prefix lengths |
/// | `vlan`, `inner_vlan` | number | VLAN id, inner (customer) VLAN id |
/// | `src_mac`, `dst_mac` | `"aa:bb:cc:dd:ee:ff"` | MAC addresses |
/// | `icmp_type`, `icmp_code` | number | ICMP / ICMPv6 type and code |
/// | `flow_label` | number | IPv6 flow label |
/// | `direction` | number | 0 ingress, 1 egress |
/// | `end_reason` | number | IPFIX flowEndReason |
/// | `forwarding_status` | number | forwardingStatus |
/// | `mpls_label` | number | top MPLS label (20 bits) |
/// | `post_nat_src_addr`, `post_nat_dst_addr` | string (IP) | addresses after NAT |
/// | `post_nat_src_port`, `post_nat_dst_port` | number | ports after NAT (NAPT) |
/// | `sampling_interval` | number | 1 in N packets sampled |
/// | `sampling_algorithm` | number | sampler mode (1 deterministic, 2 random) |
/// | `extra` | array | every other field: `{"pen", "id", "name"?, "type", "value"}` |
///
/// Absent fields are omitted. In `extra`, `type` is the data type's registry name and `value`
/// is a JSON number or boolean for numeric and boolean types, an RFC 3339 string for times, the
/// usual text for addresses, text for strings, and lower-case hex for octet arrays, lists and
/// unsigned256.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename = "flow"))]
pub struct FlowRecord {
    /// The protocol the record came from.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub kind: Option<ProtocolKind>,
    /// The exporter's socket address (the datagram's source).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub exporter: Option<SocketAddr>,
    /// sFlow agent address (from the datagram, not the socket).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub agent: Option<IpAddr>,
    /// IPFIX observation domain id, NetFlow v9 source id, sFlow sub-agent id; NetFlow v5
    /// engine type and id as `type << 8 | id`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub domain: Option<u32>,
    /// The message's sequence number (sFlow: the flow sample's).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub sequence: Option<u32>,
    /// When the exporter sent the message.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub export_time: Option<Timestamp>,

    /// Source address.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub src_addr: Option<IpAddr>,
    /// Destination address.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub dst_addr: Option<IpAddr>,
    /// Source transport port.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub src_port: Option<u16>,
    /// Destination transport port.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub dst_port: Option<u16>,
    /// IP protocol number.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub protocol: Option<u8>,
    /// IPv4 ToS or IPv6 traffic class.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub tos: Option<u8>,
    /// TCP control bits (cumulative OR over the flow).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub tcp_flags: Option<u16>,
    /// Octets (delta; IP octets for NetFlow/IPFIX, frame length for sFlow).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub octets: Option<u64>,
    /// Packets (delta).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub packets: Option<u64>,
    /// Flow start, absolute.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub start: Option<Timestamp>,
    /// Flow end, absolute.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub end: Option<Timestamp>,
    /// Ingress interface index.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub in_if: Option<u32>,
    /// Egress interface index.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub out_if: Option<u32>,
    /// Source BGP AS.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub src_as: Option<u32>,
    /// Destination BGP AS.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub dst_as: Option<u32>,
    /// IP next hop.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub next_hop: Option<IpAddr>,
    /// BGP next hop.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub bgp_next_hop: Option<IpAddr>,
    /// Source prefix length.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub src_mask: Option<u8>,
    /// Destination prefix length.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub dst_mask: Option<u8>,
    /// VLAN id (outer, or the only one).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub vlan: Option<u16>,
    /// Inner (customer) VLAN id, for QinQ.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub inner_vlan: Option<u16>,
    /// Source MAC.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub src_mac: Option<MacAddr>,
    /// Destination MAC.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub dst_mac: Option<MacAddr>,
    /// ICMP / ICMPv6 type.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub icmp_type: Option<u8>,
    /// ICMP / ICMPv6 code.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub icmp_code: Option<u8>,
    /// IPv6 flow label (20 bits).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub flow_label: Option<u32>,
    /// Flow direction: 0 ingress, 1 egress.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub direction: Option<u8>,
    /// IPFIX flowEndReason (1 idle timeout, 2 active timeout, 3 end of flow, ...).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub end_reason: Option<u8>,
    /// forwardingStatus.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub forwarding_status: Option<u32>,
    /// Top MPLS label (20 bits).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub mpls_label: Option<u32>,
    /// Source address after NAT.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub post_nat_src_addr: Option<IpAddr>,
    /// Destination address after NAT.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub post_nat_dst_addr: Option<IpAddr>,
    /// Source port after NAPT.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub post_nat_src_port: Option<u16>,
    /// Destination port after NAPT.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub post_nat_dst_port: Option<u16>,
    /// Sampling interval: one packet in this many was sampled (1 or absent: unsampled).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub sampling_interval: Option<u32>,
    /// Sampling algorithm / sampler mode (1 deterministic, 2 random).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub sampling_algorithm: Option<u8>,

    /// Every other decoded field, in the order decoded.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Vec::is_empty",
            with = "crate::serde_impl::extras"
        )
    )]
    pub extra: Vec<ExtraField>,
}

impl FlowRecord {
    /// An empty record of the given protocol.
    pub fn new(kind: ProtocolKind) -> Self {
        FlowRecord {
            kind: Some(kind),
            ..FlowRecord::default()
        }
    }

    /// Empties the record for reuse, keeping the capacity of [`FlowRecord::extra`] so that
    /// decoding into a reused record allocates nothing in steady state.
    pub fn clear(&mut self) {
        let mut extra = core::mem::take(&mut self.extra);
        extra.clear();
        *self = FlowRecord {
            extra,
            ..FlowRecord::default()
        };
    }

    /// The first extra field with this id.
    pub fn extra_field(&self, field: FieldId) -> Option<&OwnedValue> {
        self.extra
            .iter()
            .find(|e| e.field == field)
            .map(|e| &e.value)
    }

    /// What element `field` says in this record: its typed field in the element's own form
    /// ([`mapping::typed_value`](crate::mapping::typed_value)), else its first occurrence in
    /// [`FlowRecord::extra`].
    ///
    /// ```
    /// use flowwire_record::registry::{ie, FieldId};
    /// use flowwire_record::{FlowRecord, Value};
    /// let mut r = FlowRecord::default();
    /// r.src_addr = Some("192.0.2.1".parse().unwrap());
    /// r.push_extra(FieldId::iana(ie::INTERFACE_NAME), Value::String(b"eth0"));
    /// assert_eq!(r.get(FieldId::iana(ie::SOURCE_IPV4_ADDRESS)), Some(Value::Ipv4Address([192, 0, 2, 1].into())));
    /// assert_eq!(r.get(FieldId::iana(ie::SOURCE_IPV6_ADDRESS)), None);
    /// assert_eq!(r.get(FieldId::iana(ie::INTERFACE_NAME)), Some(Value::String(b"eth0")));
    /// ```
    pub fn get(&self, field: FieldId) -> Option<Value<'_>> {
        crate::mapping::typed_value(self, field)
            .or_else(|| self.extra_field(field).map(OwnedValue::as_value))
    }

    /// Appends an extra field (name from the built-in registry).
    pub fn push_extra(&mut self, field: FieldId, value: Value<'_>) {
        self.extra
            .push(ExtraField::new(field, value.to_owned_value()));
    }

    /// The packet count scaled by the sampling interval (`packets × interval`), the usual
    /// estimate of the real traffic.
    pub fn scaled_packets(&self) -> Option<u64> {
        let n = self.packets?;
        Some(n.saturating_mul(u64::from(self.sampling_interval.unwrap_or(1).max(1))))
    }

    /// The octet count scaled by the sampling interval.
    pub fn scaled_octets(&self) -> Option<u64> {
        let n = self.octets?;
        Some(n.saturating_mul(u64::from(self.sampling_interval.unwrap_or(1).max(1))))
    }
}
