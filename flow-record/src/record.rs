//! [`FlowRecord`]: the protocol-neutral flow record that every codec converts to and from.

use core::fmt;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

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

/// A typed field of [`FlowRecord`] that information elements fill: a bit of the record's
/// presence mask, and the unit of the repeated-element rule
/// ([`mapping::apply`](crate::mapping::apply)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[repr(u8)]
pub enum TypedField {
    /// [`FlowRecord::src_addr`].
    SrcAddr,
    /// [`FlowRecord::dst_addr`].
    DstAddr,
    /// [`FlowRecord::src_port`].
    SrcPort,
    /// [`FlowRecord::dst_port`].
    DstPort,
    /// [`FlowRecord::protocol`].
    Protocol,
    /// [`FlowRecord::tos`].
    Tos,
    /// [`FlowRecord::tcp_flags`].
    TcpFlags,
    /// [`FlowRecord::octets`].
    Octets,
    /// [`FlowRecord::packets`].
    Packets,
    /// [`FlowRecord::start`].
    Start,
    /// [`FlowRecord::end`].
    End,
    /// [`FlowRecord::in_if`].
    InIf,
    /// [`FlowRecord::out_if`].
    OutIf,
    /// [`FlowRecord::src_as`].
    SrcAs,
    /// [`FlowRecord::dst_as`].
    DstAs,
    /// [`FlowRecord::next_hop`].
    NextHop,
    /// [`FlowRecord::bgp_next_hop`].
    BgpNextHop,
    /// [`FlowRecord::src_mask`].
    SrcMask,
    /// [`FlowRecord::dst_mask`].
    DstMask,
    /// [`FlowRecord::vlan`].
    Vlan,
    /// [`FlowRecord::inner_vlan`].
    InnerVlan,
    /// [`FlowRecord::src_mac`].
    SrcMac,
    /// [`FlowRecord::dst_mac`].
    DstMac,
    /// [`FlowRecord::icmp_type`].
    IcmpType,
    /// [`FlowRecord::icmp_code`].
    IcmpCode,
    /// [`FlowRecord::flow_label`].
    FlowLabel,
    /// [`FlowRecord::direction`].
    Direction,
    /// [`FlowRecord::end_reason`].
    EndReason,
    /// [`FlowRecord::forwarding_status`].
    ForwardingStatus,
    /// [`FlowRecord::mpls_label`].
    MplsLabel,
    /// [`FlowRecord::post_nat_src_addr`].
    PostNatSrcAddr,
    /// [`FlowRecord::post_nat_dst_addr`].
    PostNatDstAddr,
    /// [`FlowRecord::post_nat_src_port`].
    PostNatSrcPort,
    /// [`FlowRecord::post_nat_dst_port`].
    PostNatDstPort,
    /// [`FlowRecord::sampling_interval`].
    SamplingInterval,
    /// [`FlowRecord::sampling_algorithm`].
    SamplingAlgorithm,
}

impl TypedField {
    /// Every typed field, in declaration order (a field's index is its presence bit).
    pub const ALL: [TypedField; 36] = {
        use TypedField as F;
        [
            F::SrcAddr,
            F::DstAddr,
            F::SrcPort,
            F::DstPort,
            F::Protocol,
            F::Tos,
            F::TcpFlags,
            F::Octets,
            F::Packets,
            F::Start,
            F::End,
            F::InIf,
            F::OutIf,
            F::SrcAs,
            F::DstAs,
            F::NextHop,
            F::BgpNextHop,
            F::SrcMask,
            F::DstMask,
            F::Vlan,
            F::InnerVlan,
            F::SrcMac,
            F::DstMac,
            F::IcmpType,
            F::IcmpCode,
            F::FlowLabel,
            F::Direction,
            F::EndReason,
            F::ForwardingStatus,
            F::MplsLabel,
            F::PostNatSrcAddr,
            F::PostNatDstAddr,
            F::PostNatSrcPort,
            F::PostNatDstPort,
            F::SamplingInterval,
            F::SamplingAlgorithm,
        ]
    };

    /// This field's bit in a record's presence mask.
    #[inline]
    pub const fn mask(self) -> u64 {
        1 << self as u8
    }

    /// Whether `record` has this field set.
    #[inline]
    pub fn is_set(self, record: &FlowRecord) -> bool {
        record.present & self.mask() != 0
    }
}

/// Presence bits of the message context, above the typed fields'.
pub(crate) mod ctx {
    pub(crate) const KIND: u64 = 1 << 40;
    pub(crate) const EXPORTER: u64 = 1 << 41;
    pub(crate) const AGENT: u64 = 1 << 42;
    pub(crate) const DOMAIN: u64 = 1 << 43;
    pub(crate) const SEQUENCE: u64 = 1 << 44;
    pub(crate) const EXPORT_TIME: u64 = 1 << 45;
    pub(crate) const ALL: u64 = KIND | EXPORTER | AGENT | DOMAIN | SEQUENCE | EXPORT_TIME;
}

/// What the presence bits say about a record beyond its fields.
pub(crate) mod flag {
    /// Octets and packets were multiplied by the sampling interval.
    pub(crate) const RENORMALIZED: u64 = 1 << 46;
}

/// Where each field lives in the record's storage arrays: the decode and emit plans address
/// fields by (array, index), so that one loop serves every field of a width.
pub(crate) mod slot {
    // u8s
    pub(crate) const PROTOCOL: usize = 0;
    pub(crate) const TOS: usize = 1;
    pub(crate) const SRC_MASK: usize = 2;
    pub(crate) const DST_MASK: usize = 3;
    pub(crate) const ICMP_TYPE: usize = 4;
    pub(crate) const ICMP_CODE: usize = 5;
    pub(crate) const DIRECTION: usize = 6;
    pub(crate) const END_REASON: usize = 7;
    pub(crate) const SAMPLING_ALGORITHM: usize = 8;
    // u16s
    pub(crate) const SRC_PORT: usize = 0;
    pub(crate) const DST_PORT: usize = 1;
    pub(crate) const TCP_FLAGS: usize = 2;
    pub(crate) const VLAN: usize = 3;
    pub(crate) const INNER_VLAN: usize = 4;
    pub(crate) const POST_NAT_SRC_PORT: usize = 5;
    pub(crate) const POST_NAT_DST_PORT: usize = 6;
    pub(crate) const EXPORTER_PORT: usize = 7;
    // u32s
    pub(crate) const IN_IF: usize = 0;
    pub(crate) const OUT_IF: usize = 1;
    pub(crate) const SRC_AS: usize = 2;
    pub(crate) const DST_AS: usize = 3;
    pub(crate) const FLOW_LABEL: usize = 4;
    pub(crate) const FORWARDING_STATUS: usize = 5;
    pub(crate) const MPLS_LABEL: usize = 6;
    pub(crate) const SAMPLING_INTERVAL: usize = 7;
    pub(crate) const DOMAIN: usize = 8;
    pub(crate) const SEQUENCE: usize = 9;
    // u64s
    pub(crate) const OCTETS: usize = 0;
    pub(crate) const PACKETS: usize = 1;
    // times (Unix nanoseconds)
    pub(crate) const START: usize = 0;
    pub(crate) const END: usize = 1;
    pub(crate) const EXPORT_TIME: usize = 2;
    // addrs (16 octets; an IPv4 address in the first 4, its `v6` bit clear)
    pub(crate) const SRC: usize = 0;
    pub(crate) const DST: usize = 1;
    pub(crate) const NEXT_HOP: usize = 2;
    pub(crate) const BGP_NEXT_HOP: usize = 3;
    pub(crate) const POST_NAT_SRC: usize = 4;
    pub(crate) const POST_NAT_DST: usize = 5;
    pub(crate) const AGENT: usize = 6;
    pub(crate) const EXPORTER: usize = 7;
    // macs
    pub(crate) const SRC_MAC: usize = 0;
    pub(crate) const DST_MAC: usize = 1;
}

const KINDS: [ProtocolKind; 4] = [
    ProtocolKind::Netflow5,
    ProtocolKind::Netflow9,
    ProtocolKind::Ipfix,
    ProtocolKind::Sflow5,
];

fn kind_from(k: u8) -> ProtocolKind {
    KINDS
        .get(usize::from(k))
        .copied()
        .unwrap_or(ProtocolKind::Ipfix)
}

/// A flow, whatever protocol it came from: the fields flow users query most as typed
/// optional values (one method each, `None` when absent: `src_addr()`, `octets()`...), the
/// exporter context, and every other decoded field in [`FlowRecord::extra`].
///
/// The record is laid out for decoders: plain values and a presence bit per field, so
/// clearing it is one store and a decoder fills a field with one; set fields with
/// `set_*` (`None` removes) or build records with `with_*`:
///
/// ```
/// use flowwire_record::{FlowRecord, ProtocolKind};
/// let mut r = FlowRecord::new(ProtocolKind::Ipfix)
///     .with_src_addr("192.0.2.1".parse().unwrap())
///     .with_octets(1500);
/// assert_eq!(r.octets(), Some(1500));
/// assert_eq!(r.packets(), None);
/// r.set_octets(None);
/// assert_eq!(r.octets(), None);
/// ```
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
/// | `renormalized` | `true` | `octets` and `packets` were multiplied by the sampling interval ([`FlowRecord::renormalize`]); absent otherwise |
/// | `extra` | array | every other field: `{"pen", "id", "name"?, "type", "value"}` |
///
/// Absent fields are omitted. In `extra`, `type` is the data type's registry name and `value`
/// is a JSON number or boolean for numeric and boolean types, an RFC 3339 string for times, the
/// usual text for addresses, text for strings, and lower-case hex for octet arrays, lists and
/// unsigned256.
#[derive(Clone, Default)]
pub struct FlowRecord {
    /// One bit per set field: [`TypedField`]s in bits 0-35, the message context above.
    pub(crate) present: u64,
    /// Which address slots hold IPv6 addresses.
    pub(crate) v6: u8,
    pub(crate) kind: u8,
    pub(crate) u8s: [u8; 16],
    pub(crate) u16s: [u16; 8],
    pub(crate) u32s: [u32; 16],
    pub(crate) u64s: [u64; 2],
    pub(crate) times: [i64; 4],
    pub(crate) addrs: [[u8; 16]; 8],
    pub(crate) macs: [[u8; 6]; 2],
    /// Every other decoded field, in the order decoded.
    pub extra: Vec<ExtraField>,
}

impl FlowRecord {
    /// An empty record of the given protocol.
    pub fn new(kind: ProtocolKind) -> Self {
        FlowRecord::default().with_kind(kind)
    }

    /// Empties the record for reuse: one store, and [`FlowRecord::extra`] cleared with its
    /// capacity kept, so decoding into a reused record allocates nothing in steady state.
    #[inline]
    pub fn clear(&mut self) {
        self.present = 0;
        if !self.extra.is_empty() {
            self.extra.clear();
        }
    }

    /// Removes the context a decoder takes from the message around a record (kind,
    /// exporter, agent, domain, sequence, export time) and keeps the fields: the part of a
    /// flow an exporter carries.
    #[inline]
    pub fn clear_context(&mut self) {
        self.present &= !ctx::ALL;
    }

    /// Empties the typed fields and the context and leaves [`FlowRecord::extra`] as it is:
    /// for a decoder that rewrites the extras of a reused record in place (each sFlow flow
    /// sample starts with the same two).
    #[inline]
    pub fn clear_keeping_extra(&mut self) {
        self.present = 0;
    }

    /// Empties the record and sets the context a decoder gives every record of a message:
    /// what [`FlowRecord::clear`] then `set_kind`, `set_exporter`, `set_domain`,
    /// `set_sequence` and `set_export_time` do, with one store of the presence bits rather
    /// than a chain of read-modify-writes (the per-record path of the sessions).
    #[inline]
    pub fn clear_with_context(
        &mut self,
        kind: ProtocolKind,
        exporter: Option<SocketAddr>,
        domain: Option<u32>,
        sequence: Option<u32>,
        export_time: Option<Timestamp>,
    ) {
        let mut present = ctx::KIND;
        self.kind = kind as u8;
        if let Some(e) = exporter {
            present |= ctx::EXPORTER;
            self.set_addr(slot::EXPORTER, e.ip());
            self.u16s[slot::EXPORTER_PORT] = e.port();
        }
        if let Some(d) = domain {
            present |= ctx::DOMAIN;
            self.u32s[slot::DOMAIN] = d;
        }
        if let Some(q) = sequence {
            present |= ctx::SEQUENCE;
            self.u32s[slot::SEQUENCE] = q;
        }
        if let Some(t) = export_time {
            present |= ctx::EXPORT_TIME;
            self.times[slot::EXPORT_TIME] = t.unix_nanos();
        }
        self.present = present;
        if !self.extra.is_empty() {
            self.extra.clear();
        }
    }

    /// Whether the typed field is set.
    #[inline]
    pub fn has(&self, field: TypedField) -> bool {
        self.present & field.mask() != 0
    }

    /// The typed fields that are set, as a mask of [`TypedField::mask`] bits.
    #[inline]
    pub fn typed_fields(&self) -> u64 {
        self.present & ((1 << 36) - 1)
    }

    /// Whether no field is set (typed, context or extra).
    pub fn is_empty(&self) -> bool {
        self.present == 0 && self.extra.is_empty()
    }

    #[inline]
    pub(crate) fn has_bits(&self, bits: u64) -> bool {
        self.present & bits != 0
    }

    #[inline]
    pub(crate) fn addr(&self, slot: usize) -> IpAddr {
        let a = self.addrs.get(slot).copied().unwrap_or_default();
        if self.v6 & (1 << slot) != 0 {
            IpAddr::V6(Ipv6Addr::from(a))
        } else {
            let [a, b, c, d, ..] = a;
            IpAddr::V4(Ipv4Addr::new(a, b, c, d))
        }
    }

    #[inline]
    pub(crate) fn set_addr(&mut self, slot: usize, a: IpAddr) {
        let Some(s) = self.addrs.get_mut(slot) else {
            return;
        };
        match a {
            IpAddr::V4(a) => {
                if let Some(first) = s.first_chunk_mut::<4>() {
                    *first = a.octets();
                }
                self.v6 &= !(1 << slot);
            }
            IpAddr::V6(a) => {
                *s = a.octets();
                self.v6 |= 1 << slot;
            }
        }
    }

    /// Whether the address of a set address field is IPv6.
    #[inline]
    pub(crate) fn is_v6(&self, slot: usize) -> bool {
        self.v6 & (1 << slot) != 0
    }

    /// The protocol the record came from.
    #[inline]
    pub fn kind(&self) -> Option<ProtocolKind> {
        self.has_bits(ctx::KIND).then(|| kind_from(self.kind))
    }

    /// Sets or (with `None`) removes [`FlowRecord::kind`].
    #[inline]
    pub fn set_kind(&mut self, value: Option<ProtocolKind>) {
        match value {
            Some(v) => {
                self.kind = v as u8;
                self.present |= ctx::KIND;
            }
            None => self.present &= !ctx::KIND,
        }
    }

    /// The record with [`FlowRecord::kind`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_kind(mut self, value: ProtocolKind) -> Self {
        self.set_kind(Some(value));
        self
    }

    /// The exporter's socket address (the datagram's source).
    #[inline]
    pub fn exporter(&self) -> Option<SocketAddr> {
        self.has_bits(ctx::EXPORTER)
            .then(|| SocketAddr::new(self.addr(slot::EXPORTER), self.u16s[slot::EXPORTER_PORT]))
    }

    /// Sets or (with `None`) removes [`FlowRecord::exporter`].
    #[inline]
    pub fn set_exporter(&mut self, value: Option<SocketAddr>) {
        match value {
            Some(v) => {
                {
                    self.set_addr(slot::EXPORTER, v.ip());
                    self.u16s[slot::EXPORTER_PORT] = v.port();
                };
                self.present |= ctx::EXPORTER;
            }
            None => self.present &= !ctx::EXPORTER,
        }
    }

    /// The record with [`FlowRecord::exporter`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_exporter(mut self, value: SocketAddr) -> Self {
        self.set_exporter(Some(value));
        self
    }

    /// sFlow agent address (from the datagram, not the socket).
    #[inline]
    pub fn agent(&self) -> Option<IpAddr> {
        self.has_bits(ctx::AGENT).then(|| self.addr(slot::AGENT))
    }

    /// Sets or (with `None`) removes [`FlowRecord::agent`].
    #[inline]
    pub fn set_agent(&mut self, value: Option<IpAddr>) {
        match value {
            Some(v) => {
                self.set_addr(slot::AGENT, v);
                self.present |= ctx::AGENT;
            }
            None => self.present &= !ctx::AGENT,
        }
    }

    /// The record with [`FlowRecord::agent`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_agent(mut self, value: IpAddr) -> Self {
        self.set_agent(Some(value));
        self
    }

    /// IPFIX observation domain id, NetFlow v9 source id, sFlow sub-agent id; NetFlow v5
    /// engine type and id as `type << 8 | id`.
    #[inline]
    pub fn domain(&self) -> Option<u32> {
        self.has_bits(ctx::DOMAIN).then(|| self.u32s[slot::DOMAIN])
    }

    /// Sets or (with `None`) removes [`FlowRecord::domain`].
    #[inline]
    pub fn set_domain(&mut self, value: Option<u32>) {
        match value {
            Some(v) => {
                self.u32s[slot::DOMAIN] = v;
                self.present |= ctx::DOMAIN;
            }
            None => self.present &= !ctx::DOMAIN,
        }
    }

    /// The record with [`FlowRecord::domain`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_domain(mut self, value: u32) -> Self {
        self.set_domain(Some(value));
        self
    }

    /// The message's sequence number (sFlow: the flow sample's).
    #[inline]
    pub fn sequence(&self) -> Option<u32> {
        self.has_bits(ctx::SEQUENCE)
            .then(|| self.u32s[slot::SEQUENCE])
    }

    /// Sets or (with `None`) removes [`FlowRecord::sequence`].
    #[inline]
    pub fn set_sequence(&mut self, value: Option<u32>) {
        match value {
            Some(v) => {
                self.u32s[slot::SEQUENCE] = v;
                self.present |= ctx::SEQUENCE;
            }
            None => self.present &= !ctx::SEQUENCE,
        }
    }

    /// The record with [`FlowRecord::sequence`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_sequence(mut self, value: u32) -> Self {
        self.set_sequence(Some(value));
        self
    }

    /// When the exporter sent the message.
    #[inline]
    pub fn export_time(&self) -> Option<Timestamp> {
        self.has_bits(ctx::EXPORT_TIME)
            .then(|| Timestamp::from_unix_nanos(self.times[slot::EXPORT_TIME]))
    }

    /// Sets or (with `None`) removes [`FlowRecord::export_time`].
    #[inline]
    pub fn set_export_time(&mut self, value: Option<Timestamp>) {
        match value {
            Some(v) => {
                self.times[slot::EXPORT_TIME] = v.unix_nanos();
                self.present |= ctx::EXPORT_TIME;
            }
            None => self.present &= !ctx::EXPORT_TIME,
        }
    }

    /// The record with [`FlowRecord::export_time`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_export_time(mut self, value: Timestamp) -> Self {
        self.set_export_time(Some(value));
        self
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> Option<IpAddr> {
        self.has_bits(TypedField::SrcAddr.mask())
            .then(|| self.addr(slot::SRC))
    }

    /// Sets or (with `None`) removes [`FlowRecord::src_addr`].
    #[inline]
    pub fn set_src_addr(&mut self, value: Option<IpAddr>) {
        match value {
            Some(v) => {
                self.set_addr(slot::SRC, v);
                self.present |= TypedField::SrcAddr.mask();
            }
            None => self.present &= !TypedField::SrcAddr.mask(),
        }
    }

    /// The record with [`FlowRecord::src_addr`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_src_addr(mut self, value: IpAddr) -> Self {
        self.set_src_addr(Some(value));
        self
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> Option<IpAddr> {
        self.has_bits(TypedField::DstAddr.mask())
            .then(|| self.addr(slot::DST))
    }

    /// Sets or (with `None`) removes [`FlowRecord::dst_addr`].
    #[inline]
    pub fn set_dst_addr(&mut self, value: Option<IpAddr>) {
        match value {
            Some(v) => {
                self.set_addr(slot::DST, v);
                self.present |= TypedField::DstAddr.mask();
            }
            None => self.present &= !TypedField::DstAddr.mask(),
        }
    }

    /// The record with [`FlowRecord::dst_addr`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_dst_addr(mut self, value: IpAddr) -> Self {
        self.set_dst_addr(Some(value));
        self
    }

    /// Source transport port.
    #[inline]
    pub fn src_port(&self) -> Option<u16> {
        self.has_bits(TypedField::SrcPort.mask())
            .then(|| self.u16s[slot::SRC_PORT])
    }

    /// Sets or (with `None`) removes [`FlowRecord::src_port`].
    #[inline]
    pub fn set_src_port(&mut self, value: Option<u16>) {
        match value {
            Some(v) => {
                self.u16s[slot::SRC_PORT] = v;
                self.present |= TypedField::SrcPort.mask();
            }
            None => self.present &= !TypedField::SrcPort.mask(),
        }
    }

    /// The record with [`FlowRecord::src_port`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_src_port(mut self, value: u16) -> Self {
        self.set_src_port(Some(value));
        self
    }

    /// Destination transport port.
    #[inline]
    pub fn dst_port(&self) -> Option<u16> {
        self.has_bits(TypedField::DstPort.mask())
            .then(|| self.u16s[slot::DST_PORT])
    }

    /// Sets or (with `None`) removes [`FlowRecord::dst_port`].
    #[inline]
    pub fn set_dst_port(&mut self, value: Option<u16>) {
        match value {
            Some(v) => {
                self.u16s[slot::DST_PORT] = v;
                self.present |= TypedField::DstPort.mask();
            }
            None => self.present &= !TypedField::DstPort.mask(),
        }
    }

    /// The record with [`FlowRecord::dst_port`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_dst_port(mut self, value: u16) -> Self {
        self.set_dst_port(Some(value));
        self
    }

    /// IP protocol number.
    #[inline]
    pub fn protocol(&self) -> Option<u8> {
        self.has_bits(TypedField::Protocol.mask())
            .then(|| self.u8s[slot::PROTOCOL])
    }

    /// Sets or (with `None`) removes [`FlowRecord::protocol`].
    #[inline]
    pub fn set_protocol(&mut self, value: Option<u8>) {
        match value {
            Some(v) => {
                self.u8s[slot::PROTOCOL] = v;
                self.present |= TypedField::Protocol.mask();
            }
            None => self.present &= !TypedField::Protocol.mask(),
        }
    }

    /// The record with [`FlowRecord::protocol`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_protocol(mut self, value: u8) -> Self {
        self.set_protocol(Some(value));
        self
    }

    /// IPv4 ToS or IPv6 traffic class.
    #[inline]
    pub fn tos(&self) -> Option<u8> {
        self.has_bits(TypedField::Tos.mask())
            .then(|| self.u8s[slot::TOS])
    }

    /// Sets or (with `None`) removes [`FlowRecord::tos`].
    #[inline]
    pub fn set_tos(&mut self, value: Option<u8>) {
        match value {
            Some(v) => {
                self.u8s[slot::TOS] = v;
                self.present |= TypedField::Tos.mask();
            }
            None => self.present &= !TypedField::Tos.mask(),
        }
    }

    /// The record with [`FlowRecord::tos`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_tos(mut self, value: u8) -> Self {
        self.set_tos(Some(value));
        self
    }

    /// TCP control bits (cumulative OR over the flow).
    #[inline]
    pub fn tcp_flags(&self) -> Option<u16> {
        self.has_bits(TypedField::TcpFlags.mask())
            .then(|| self.u16s[slot::TCP_FLAGS])
    }

    /// Sets or (with `None`) removes [`FlowRecord::tcp_flags`].
    #[inline]
    pub fn set_tcp_flags(&mut self, value: Option<u16>) {
        match value {
            Some(v) => {
                self.u16s[slot::TCP_FLAGS] = v;
                self.present |= TypedField::TcpFlags.mask();
            }
            None => self.present &= !TypedField::TcpFlags.mask(),
        }
    }

    /// The record with [`FlowRecord::tcp_flags`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_tcp_flags(mut self, value: u16) -> Self {
        self.set_tcp_flags(Some(value));
        self
    }

    /// Octets (delta; IP octets for NetFlow/IPFIX, frame length for sFlow).
    #[inline]
    pub fn octets(&self) -> Option<u64> {
        self.has_bits(TypedField::Octets.mask())
            .then(|| self.u64s[slot::OCTETS])
    }

    /// Sets or (with `None`) removes [`FlowRecord::octets`].
    #[inline]
    pub fn set_octets(&mut self, value: Option<u64>) {
        match value {
            Some(v) => {
                self.u64s[slot::OCTETS] = v;
                self.present |= TypedField::Octets.mask();
            }
            None => self.present &= !TypedField::Octets.mask(),
        }
    }

    /// The record with [`FlowRecord::octets`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_octets(mut self, value: u64) -> Self {
        self.set_octets(Some(value));
        self
    }

    /// Packets (delta).
    #[inline]
    pub fn packets(&self) -> Option<u64> {
        self.has_bits(TypedField::Packets.mask())
            .then(|| self.u64s[slot::PACKETS])
    }

    /// Sets or (with `None`) removes [`FlowRecord::packets`].
    #[inline]
    pub fn set_packets(&mut self, value: Option<u64>) {
        match value {
            Some(v) => {
                self.u64s[slot::PACKETS] = v;
                self.present |= TypedField::Packets.mask();
            }
            None => self.present &= !TypedField::Packets.mask(),
        }
    }

    /// The record with [`FlowRecord::packets`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_packets(mut self, value: u64) -> Self {
        self.set_packets(Some(value));
        self
    }

    /// Flow start, absolute.
    #[inline]
    pub fn start(&self) -> Option<Timestamp> {
        self.has_bits(TypedField::Start.mask())
            .then(|| Timestamp::from_unix_nanos(self.times[slot::START]))
    }

    /// Sets or (with `None`) removes [`FlowRecord::start`].
    #[inline]
    pub fn set_start(&mut self, value: Option<Timestamp>) {
        match value {
            Some(v) => {
                self.times[slot::START] = v.unix_nanos();
                self.present |= TypedField::Start.mask();
            }
            None => self.present &= !TypedField::Start.mask(),
        }
    }

    /// The record with [`FlowRecord::start`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_start(mut self, value: Timestamp) -> Self {
        self.set_start(Some(value));
        self
    }

    /// Flow end, absolute.
    #[inline]
    pub fn end(&self) -> Option<Timestamp> {
        self.has_bits(TypedField::End.mask())
            .then(|| Timestamp::from_unix_nanos(self.times[slot::END]))
    }

    /// Sets or (with `None`) removes [`FlowRecord::end`].
    #[inline]
    pub fn set_end(&mut self, value: Option<Timestamp>) {
        match value {
            Some(v) => {
                self.times[slot::END] = v.unix_nanos();
                self.present |= TypedField::End.mask();
            }
            None => self.present &= !TypedField::End.mask(),
        }
    }

    /// The record with [`FlowRecord::end`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_end(mut self, value: Timestamp) -> Self {
        self.set_end(Some(value));
        self
    }

    /// Ingress interface index.
    #[inline]
    pub fn in_if(&self) -> Option<u32> {
        self.has_bits(TypedField::InIf.mask())
            .then(|| self.u32s[slot::IN_IF])
    }

    /// Sets or (with `None`) removes [`FlowRecord::in_if`].
    #[inline]
    pub fn set_in_if(&mut self, value: Option<u32>) {
        match value {
            Some(v) => {
                self.u32s[slot::IN_IF] = v;
                self.present |= TypedField::InIf.mask();
            }
            None => self.present &= !TypedField::InIf.mask(),
        }
    }

    /// The record with [`FlowRecord::in_if`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_in_if(mut self, value: u32) -> Self {
        self.set_in_if(Some(value));
        self
    }

    /// Egress interface index.
    #[inline]
    pub fn out_if(&self) -> Option<u32> {
        self.has_bits(TypedField::OutIf.mask())
            .then(|| self.u32s[slot::OUT_IF])
    }

    /// Sets or (with `None`) removes [`FlowRecord::out_if`].
    #[inline]
    pub fn set_out_if(&mut self, value: Option<u32>) {
        match value {
            Some(v) => {
                self.u32s[slot::OUT_IF] = v;
                self.present |= TypedField::OutIf.mask();
            }
            None => self.present &= !TypedField::OutIf.mask(),
        }
    }

    /// The record with [`FlowRecord::out_if`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_out_if(mut self, value: u32) -> Self {
        self.set_out_if(Some(value));
        self
    }

    /// Source BGP AS.
    #[inline]
    pub fn src_as(&self) -> Option<u32> {
        self.has_bits(TypedField::SrcAs.mask())
            .then(|| self.u32s[slot::SRC_AS])
    }

    /// Sets or (with `None`) removes [`FlowRecord::src_as`].
    #[inline]
    pub fn set_src_as(&mut self, value: Option<u32>) {
        match value {
            Some(v) => {
                self.u32s[slot::SRC_AS] = v;
                self.present |= TypedField::SrcAs.mask();
            }
            None => self.present &= !TypedField::SrcAs.mask(),
        }
    }

    /// The record with [`FlowRecord::src_as`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_src_as(mut self, value: u32) -> Self {
        self.set_src_as(Some(value));
        self
    }

    /// Destination BGP AS.
    #[inline]
    pub fn dst_as(&self) -> Option<u32> {
        self.has_bits(TypedField::DstAs.mask())
            .then(|| self.u32s[slot::DST_AS])
    }

    /// Sets or (with `None`) removes [`FlowRecord::dst_as`].
    #[inline]
    pub fn set_dst_as(&mut self, value: Option<u32>) {
        match value {
            Some(v) => {
                self.u32s[slot::DST_AS] = v;
                self.present |= TypedField::DstAs.mask();
            }
            None => self.present &= !TypedField::DstAs.mask(),
        }
    }

    /// The record with [`FlowRecord::dst_as`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_dst_as(mut self, value: u32) -> Self {
        self.set_dst_as(Some(value));
        self
    }

    /// IP next hop.
    #[inline]
    pub fn next_hop(&self) -> Option<IpAddr> {
        self.has_bits(TypedField::NextHop.mask())
            .then(|| self.addr(slot::NEXT_HOP))
    }

    /// Sets or (with `None`) removes [`FlowRecord::next_hop`].
    #[inline]
    pub fn set_next_hop(&mut self, value: Option<IpAddr>) {
        match value {
            Some(v) => {
                self.set_addr(slot::NEXT_HOP, v);
                self.present |= TypedField::NextHop.mask();
            }
            None => self.present &= !TypedField::NextHop.mask(),
        }
    }

    /// The record with [`FlowRecord::next_hop`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_next_hop(mut self, value: IpAddr) -> Self {
        self.set_next_hop(Some(value));
        self
    }

    /// BGP next hop.
    #[inline]
    pub fn bgp_next_hop(&self) -> Option<IpAddr> {
        self.has_bits(TypedField::BgpNextHop.mask())
            .then(|| self.addr(slot::BGP_NEXT_HOP))
    }

    /// Sets or (with `None`) removes [`FlowRecord::bgp_next_hop`].
    #[inline]
    pub fn set_bgp_next_hop(&mut self, value: Option<IpAddr>) {
        match value {
            Some(v) => {
                self.set_addr(slot::BGP_NEXT_HOP, v);
                self.present |= TypedField::BgpNextHop.mask();
            }
            None => self.present &= !TypedField::BgpNextHop.mask(),
        }
    }

    /// The record with [`FlowRecord::bgp_next_hop`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_bgp_next_hop(mut self, value: IpAddr) -> Self {
        self.set_bgp_next_hop(Some(value));
        self
    }

    /// Source prefix length.
    #[inline]
    pub fn src_mask(&self) -> Option<u8> {
        self.has_bits(TypedField::SrcMask.mask())
            .then(|| self.u8s[slot::SRC_MASK])
    }

    /// Sets or (with `None`) removes [`FlowRecord::src_mask`].
    #[inline]
    pub fn set_src_mask(&mut self, value: Option<u8>) {
        match value {
            Some(v) => {
                self.u8s[slot::SRC_MASK] = v;
                self.present |= TypedField::SrcMask.mask();
            }
            None => self.present &= !TypedField::SrcMask.mask(),
        }
    }

    /// The record with [`FlowRecord::src_mask`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_src_mask(mut self, value: u8) -> Self {
        self.set_src_mask(Some(value));
        self
    }

    /// Destination prefix length.
    #[inline]
    pub fn dst_mask(&self) -> Option<u8> {
        self.has_bits(TypedField::DstMask.mask())
            .then(|| self.u8s[slot::DST_MASK])
    }

    /// Sets or (with `None`) removes [`FlowRecord::dst_mask`].
    #[inline]
    pub fn set_dst_mask(&mut self, value: Option<u8>) {
        match value {
            Some(v) => {
                self.u8s[slot::DST_MASK] = v;
                self.present |= TypedField::DstMask.mask();
            }
            None => self.present &= !TypedField::DstMask.mask(),
        }
    }

    /// The record with [`FlowRecord::dst_mask`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_dst_mask(mut self, value: u8) -> Self {
        self.set_dst_mask(Some(value));
        self
    }

    /// VLAN id (outer, or the only one).
    #[inline]
    pub fn vlan(&self) -> Option<u16> {
        self.has_bits(TypedField::Vlan.mask())
            .then(|| self.u16s[slot::VLAN])
    }

    /// Sets or (with `None`) removes [`FlowRecord::vlan`].
    #[inline]
    pub fn set_vlan(&mut self, value: Option<u16>) {
        match value {
            Some(v) => {
                self.u16s[slot::VLAN] = v;
                self.present |= TypedField::Vlan.mask();
            }
            None => self.present &= !TypedField::Vlan.mask(),
        }
    }

    /// The record with [`FlowRecord::vlan`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_vlan(mut self, value: u16) -> Self {
        self.set_vlan(Some(value));
        self
    }

    /// Inner (customer) VLAN id, for QinQ.
    #[inline]
    pub fn inner_vlan(&self) -> Option<u16> {
        self.has_bits(TypedField::InnerVlan.mask())
            .then(|| self.u16s[slot::INNER_VLAN])
    }

    /// Sets or (with `None`) removes [`FlowRecord::inner_vlan`].
    #[inline]
    pub fn set_inner_vlan(&mut self, value: Option<u16>) {
        match value {
            Some(v) => {
                self.u16s[slot::INNER_VLAN] = v;
                self.present |= TypedField::InnerVlan.mask();
            }
            None => self.present &= !TypedField::InnerVlan.mask(),
        }
    }

    /// The record with [`FlowRecord::inner_vlan`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_inner_vlan(mut self, value: u16) -> Self {
        self.set_inner_vlan(Some(value));
        self
    }

    /// Source MAC.
    #[inline]
    pub fn src_mac(&self) -> Option<MacAddr> {
        self.has_bits(TypedField::SrcMac.mask())
            .then(|| MacAddr(self.macs[slot::SRC_MAC]))
    }

    /// Sets or (with `None`) removes [`FlowRecord::src_mac`].
    #[inline]
    pub fn set_src_mac(&mut self, value: Option<MacAddr>) {
        match value {
            Some(v) => {
                self.macs[slot::SRC_MAC] = v.0;
                self.present |= TypedField::SrcMac.mask();
            }
            None => self.present &= !TypedField::SrcMac.mask(),
        }
    }

    /// The record with [`FlowRecord::src_mac`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_src_mac(mut self, value: MacAddr) -> Self {
        self.set_src_mac(Some(value));
        self
    }

    /// Destination MAC.
    #[inline]
    pub fn dst_mac(&self) -> Option<MacAddr> {
        self.has_bits(TypedField::DstMac.mask())
            .then(|| MacAddr(self.macs[slot::DST_MAC]))
    }

    /// Sets or (with `None`) removes [`FlowRecord::dst_mac`].
    #[inline]
    pub fn set_dst_mac(&mut self, value: Option<MacAddr>) {
        match value {
            Some(v) => {
                self.macs[slot::DST_MAC] = v.0;
                self.present |= TypedField::DstMac.mask();
            }
            None => self.present &= !TypedField::DstMac.mask(),
        }
    }

    /// The record with [`FlowRecord::dst_mac`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_dst_mac(mut self, value: MacAddr) -> Self {
        self.set_dst_mac(Some(value));
        self
    }

    /// ICMP / ICMPv6 type.
    #[inline]
    pub fn icmp_type(&self) -> Option<u8> {
        self.has_bits(TypedField::IcmpType.mask())
            .then(|| self.u8s[slot::ICMP_TYPE])
    }

    /// Sets or (with `None`) removes [`FlowRecord::icmp_type`].
    #[inline]
    pub fn set_icmp_type(&mut self, value: Option<u8>) {
        match value {
            Some(v) => {
                self.u8s[slot::ICMP_TYPE] = v;
                self.present |= TypedField::IcmpType.mask();
            }
            None => self.present &= !TypedField::IcmpType.mask(),
        }
    }

    /// The record with [`FlowRecord::icmp_type`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_icmp_type(mut self, value: u8) -> Self {
        self.set_icmp_type(Some(value));
        self
    }

    /// ICMP / ICMPv6 code.
    #[inline]
    pub fn icmp_code(&self) -> Option<u8> {
        self.has_bits(TypedField::IcmpCode.mask())
            .then(|| self.u8s[slot::ICMP_CODE])
    }

    /// Sets or (with `None`) removes [`FlowRecord::icmp_code`].
    #[inline]
    pub fn set_icmp_code(&mut self, value: Option<u8>) {
        match value {
            Some(v) => {
                self.u8s[slot::ICMP_CODE] = v;
                self.present |= TypedField::IcmpCode.mask();
            }
            None => self.present &= !TypedField::IcmpCode.mask(),
        }
    }

    /// The record with [`FlowRecord::icmp_code`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_icmp_code(mut self, value: u8) -> Self {
        self.set_icmp_code(Some(value));
        self
    }

    /// IPv6 flow label (20 bits).
    #[inline]
    pub fn flow_label(&self) -> Option<u32> {
        self.has_bits(TypedField::FlowLabel.mask())
            .then(|| self.u32s[slot::FLOW_LABEL])
    }

    /// Sets or (with `None`) removes [`FlowRecord::flow_label`].
    #[inline]
    pub fn set_flow_label(&mut self, value: Option<u32>) {
        match value {
            Some(v) => {
                self.u32s[slot::FLOW_LABEL] = v;
                self.present |= TypedField::FlowLabel.mask();
            }
            None => self.present &= !TypedField::FlowLabel.mask(),
        }
    }

    /// The record with [`FlowRecord::flow_label`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_flow_label(mut self, value: u32) -> Self {
        self.set_flow_label(Some(value));
        self
    }

    /// Flow direction: 0 ingress, 1 egress.
    #[inline]
    pub fn direction(&self) -> Option<u8> {
        self.has_bits(TypedField::Direction.mask())
            .then(|| self.u8s[slot::DIRECTION])
    }

    /// Sets or (with `None`) removes [`FlowRecord::direction`].
    #[inline]
    pub fn set_direction(&mut self, value: Option<u8>) {
        match value {
            Some(v) => {
                self.u8s[slot::DIRECTION] = v;
                self.present |= TypedField::Direction.mask();
            }
            None => self.present &= !TypedField::Direction.mask(),
        }
    }

    /// The record with [`FlowRecord::direction`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_direction(mut self, value: u8) -> Self {
        self.set_direction(Some(value));
        self
    }

    /// IPFIX flowEndReason (1 idle timeout, 2 active timeout, 3 end of flow, ...).
    #[inline]
    pub fn end_reason(&self) -> Option<u8> {
        self.has_bits(TypedField::EndReason.mask())
            .then(|| self.u8s[slot::END_REASON])
    }

    /// Sets or (with `None`) removes [`FlowRecord::end_reason`].
    #[inline]
    pub fn set_end_reason(&mut self, value: Option<u8>) {
        match value {
            Some(v) => {
                self.u8s[slot::END_REASON] = v;
                self.present |= TypedField::EndReason.mask();
            }
            None => self.present &= !TypedField::EndReason.mask(),
        }
    }

    /// The record with [`FlowRecord::end_reason`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_end_reason(mut self, value: u8) -> Self {
        self.set_end_reason(Some(value));
        self
    }

    /// forwardingStatus.
    #[inline]
    pub fn forwarding_status(&self) -> Option<u32> {
        self.has_bits(TypedField::ForwardingStatus.mask())
            .then(|| self.u32s[slot::FORWARDING_STATUS])
    }

    /// Sets or (with `None`) removes [`FlowRecord::forwarding_status`].
    #[inline]
    pub fn set_forwarding_status(&mut self, value: Option<u32>) {
        match value {
            Some(v) => {
                self.u32s[slot::FORWARDING_STATUS] = v;
                self.present |= TypedField::ForwardingStatus.mask();
            }
            None => self.present &= !TypedField::ForwardingStatus.mask(),
        }
    }

    /// The record with [`FlowRecord::forwarding_status`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_forwarding_status(mut self, value: u32) -> Self {
        self.set_forwarding_status(Some(value));
        self
    }

    /// Top MPLS label (20 bits).
    #[inline]
    pub fn mpls_label(&self) -> Option<u32> {
        self.has_bits(TypedField::MplsLabel.mask())
            .then(|| self.u32s[slot::MPLS_LABEL])
    }

    /// Sets or (with `None`) removes [`FlowRecord::mpls_label`].
    #[inline]
    pub fn set_mpls_label(&mut self, value: Option<u32>) {
        match value {
            Some(v) => {
                self.u32s[slot::MPLS_LABEL] = v;
                self.present |= TypedField::MplsLabel.mask();
            }
            None => self.present &= !TypedField::MplsLabel.mask(),
        }
    }

    /// The record with [`FlowRecord::mpls_label`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_mpls_label(mut self, value: u32) -> Self {
        self.set_mpls_label(Some(value));
        self
    }

    /// Source address after NAT.
    #[inline]
    pub fn post_nat_src_addr(&self) -> Option<IpAddr> {
        self.has_bits(TypedField::PostNatSrcAddr.mask())
            .then(|| self.addr(slot::POST_NAT_SRC))
    }

    /// Sets or (with `None`) removes [`FlowRecord::post_nat_src_addr`].
    #[inline]
    pub fn set_post_nat_src_addr(&mut self, value: Option<IpAddr>) {
        match value {
            Some(v) => {
                self.set_addr(slot::POST_NAT_SRC, v);
                self.present |= TypedField::PostNatSrcAddr.mask();
            }
            None => self.present &= !TypedField::PostNatSrcAddr.mask(),
        }
    }

    /// The record with [`FlowRecord::post_nat_src_addr`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_post_nat_src_addr(mut self, value: IpAddr) -> Self {
        self.set_post_nat_src_addr(Some(value));
        self
    }

    /// Destination address after NAT.
    #[inline]
    pub fn post_nat_dst_addr(&self) -> Option<IpAddr> {
        self.has_bits(TypedField::PostNatDstAddr.mask())
            .then(|| self.addr(slot::POST_NAT_DST))
    }

    /// Sets or (with `None`) removes [`FlowRecord::post_nat_dst_addr`].
    #[inline]
    pub fn set_post_nat_dst_addr(&mut self, value: Option<IpAddr>) {
        match value {
            Some(v) => {
                self.set_addr(slot::POST_NAT_DST, v);
                self.present |= TypedField::PostNatDstAddr.mask();
            }
            None => self.present &= !TypedField::PostNatDstAddr.mask(),
        }
    }

    /// The record with [`FlowRecord::post_nat_dst_addr`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_post_nat_dst_addr(mut self, value: IpAddr) -> Self {
        self.set_post_nat_dst_addr(Some(value));
        self
    }

    /// Source port after NAPT.
    #[inline]
    pub fn post_nat_src_port(&self) -> Option<u16> {
        self.has_bits(TypedField::PostNatSrcPort.mask())
            .then(|| self.u16s[slot::POST_NAT_SRC_PORT])
    }

    /// Sets or (with `None`) removes [`FlowRecord::post_nat_src_port`].
    #[inline]
    pub fn set_post_nat_src_port(&mut self, value: Option<u16>) {
        match value {
            Some(v) => {
                self.u16s[slot::POST_NAT_SRC_PORT] = v;
                self.present |= TypedField::PostNatSrcPort.mask();
            }
            None => self.present &= !TypedField::PostNatSrcPort.mask(),
        }
    }

    /// The record with [`FlowRecord::post_nat_src_port`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_post_nat_src_port(mut self, value: u16) -> Self {
        self.set_post_nat_src_port(Some(value));
        self
    }

    /// Destination port after NAPT.
    #[inline]
    pub fn post_nat_dst_port(&self) -> Option<u16> {
        self.has_bits(TypedField::PostNatDstPort.mask())
            .then(|| self.u16s[slot::POST_NAT_DST_PORT])
    }

    /// Sets or (with `None`) removes [`FlowRecord::post_nat_dst_port`].
    #[inline]
    pub fn set_post_nat_dst_port(&mut self, value: Option<u16>) {
        match value {
            Some(v) => {
                self.u16s[slot::POST_NAT_DST_PORT] = v;
                self.present |= TypedField::PostNatDstPort.mask();
            }
            None => self.present &= !TypedField::PostNatDstPort.mask(),
        }
    }

    /// The record with [`FlowRecord::post_nat_dst_port`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_post_nat_dst_port(mut self, value: u16) -> Self {
        self.set_post_nat_dst_port(Some(value));
        self
    }

    /// Sampling interval: one packet in this many was sampled (1 or absent: unsampled).
    #[inline]
    pub fn sampling_interval(&self) -> Option<u32> {
        self.has_bits(TypedField::SamplingInterval.mask())
            .then(|| self.u32s[slot::SAMPLING_INTERVAL])
    }

    /// Sets or (with `None`) removes [`FlowRecord::sampling_interval`].
    #[inline]
    pub fn set_sampling_interval(&mut self, value: Option<u32>) {
        match value {
            Some(v) => {
                self.u32s[slot::SAMPLING_INTERVAL] = v;
                self.present |= TypedField::SamplingInterval.mask();
            }
            None => self.present &= !TypedField::SamplingInterval.mask(),
        }
    }

    /// The record with [`FlowRecord::sampling_interval`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_sampling_interval(mut self, value: u32) -> Self {
        self.set_sampling_interval(Some(value));
        self
    }

    /// Sampling algorithm / sampler mode (1 deterministic, 2 random).
    #[inline]
    pub fn sampling_algorithm(&self) -> Option<u8> {
        self.has_bits(TypedField::SamplingAlgorithm.mask())
            .then(|| self.u8s[slot::SAMPLING_ALGORITHM])
    }

    /// Sets or (with `None`) removes [`FlowRecord::sampling_algorithm`].
    #[inline]
    pub fn set_sampling_algorithm(&mut self, value: Option<u8>) {
        match value {
            Some(v) => {
                self.u8s[slot::SAMPLING_ALGORITHM] = v;
                self.present |= TypedField::SamplingAlgorithm.mask();
            }
            None => self.present &= !TypedField::SamplingAlgorithm.mask(),
        }
    }

    /// Whether [`octets`](Self::octets) and [`packets`](Self::packets) were multiplied by
    /// the sampling interval ([`FlowRecord::renormalize`]): estimates of the traffic rather
    /// than the sampled counts.
    #[inline]
    pub fn is_renormalized(&self) -> bool {
        self.present & flag::RENORMALIZED != 0
    }

    /// Marks the record as renormalized or not, without changing its counts (for building
    /// records, and for reading them back).
    #[inline]
    pub fn set_renormalized(&mut self, renormalized: bool) {
        if renormalized {
            self.present |= flag::RENORMALIZED;
        } else {
            self.present &= !flag::RENORMALIZED;
        }
    }

    /// Scales sampled counts to the traffic they stand for: multiplies octets and packets
    /// (those present; saturating) by `interval` (1 in `interval` packets was sampled) and
    /// marks the record [renormalized](Self::is_renormalized). A record already renormalized,
    /// or an interval of 0, is left as it is. Returns whether the record was renormalized now.
    ///
    /// ```
    /// use flowwire_record::FlowRecord;
    ///
    /// let mut r = FlowRecord::default().with_octets(1500).with_packets(1);
    /// assert!(r.renormalize(100));
    /// assert_eq!((r.octets(), r.packets(), r.is_renormalized()), (Some(150_000), Some(100), true));
    /// assert!(!r.renormalize(100)); // once only
    /// ```
    pub fn renormalize(&mut self, interval: u32) -> bool {
        if interval == 0 || self.is_renormalized() {
            return false;
        }
        let factor = u64::from(interval);
        if let Some(o) = self.octets() {
            self.set_octets(Some(o.saturating_mul(factor)));
        }
        if let Some(p) = self.packets() {
            self.set_packets(Some(p.saturating_mul(factor)));
        }
        self.present |= flag::RENORMALIZED;
        true
    }

    /// The record with [`FlowRecord::sampling_algorithm`] set: for building records.
    #[inline]
    #[must_use]
    pub fn with_sampling_algorithm(mut self, value: u8) -> Self {
        self.set_sampling_algorithm(Some(value));
        self
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
    /// r.set_src_addr(Some("192.0.2.1".parse().unwrap()));
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
        let n = self.packets()?;
        Some(n.saturating_mul(u64::from(self.sampling_interval().unwrap_or(1).max(1))))
    }

    /// The octet count scaled by the sampling interval.
    pub fn scaled_octets(&self) -> Option<u64> {
        let n = self.octets()?;
        Some(n.saturating_mul(u64::from(self.sampling_interval().unwrap_or(1).max(1))))
    }
}

impl PartialEq for FlowRecord {
    /// Records are equal when the same fields are set to the same values (what an absent
    /// field's storage holds does not count).
    fn eq(&self, o: &Self) -> bool {
        self.present == o.present
            && self.kind() == o.kind()
            && self.exporter() == o.exporter()
            && self.agent() == o.agent()
            && self.domain() == o.domain()
            && self.sequence() == o.sequence()
            && self.export_time() == o.export_time()
            && self.src_addr() == o.src_addr()
            && self.dst_addr() == o.dst_addr()
            && self.src_port() == o.src_port()
            && self.dst_port() == o.dst_port()
            && self.protocol() == o.protocol()
            && self.tos() == o.tos()
            && self.tcp_flags() == o.tcp_flags()
            && self.octets() == o.octets()
            && self.packets() == o.packets()
            && self.start() == o.start()
            && self.end() == o.end()
            && self.in_if() == o.in_if()
            && self.out_if() == o.out_if()
            && self.src_as() == o.src_as()
            && self.dst_as() == o.dst_as()
            && self.next_hop() == o.next_hop()
            && self.bgp_next_hop() == o.bgp_next_hop()
            && self.src_mask() == o.src_mask()
            && self.dst_mask() == o.dst_mask()
            && self.vlan() == o.vlan()
            && self.inner_vlan() == o.inner_vlan()
            && self.src_mac() == o.src_mac()
            && self.dst_mac() == o.dst_mac()
            && self.icmp_type() == o.icmp_type()
            && self.icmp_code() == o.icmp_code()
            && self.flow_label() == o.flow_label()
            && self.direction() == o.direction()
            && self.end_reason() == o.end_reason()
            && self.forwarding_status() == o.forwarding_status()
            && self.mpls_label() == o.mpls_label()
            && self.post_nat_src_addr() == o.post_nat_src_addr()
            && self.post_nat_dst_addr() == o.post_nat_dst_addr()
            && self.post_nat_src_port() == o.post_nat_src_port()
            && self.post_nat_dst_port() == o.post_nat_dst_port()
            && self.sampling_interval() == o.sampling_interval()
            && self.sampling_algorithm() == o.sampling_algorithm()
            && self.extra == o.extra
    }
}

impl fmt::Debug for FlowRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowRecord")
            .field("kind", &self.kind())
            .field("exporter", &self.exporter())
            .field("agent", &self.agent())
            .field("domain", &self.domain())
            .field("sequence", &self.sequence())
            .field("export_time", &self.export_time())
            .field("src_addr", &self.src_addr())
            .field("dst_addr", &self.dst_addr())
            .field("src_port", &self.src_port())
            .field("dst_port", &self.dst_port())
            .field("protocol", &self.protocol())
            .field("tos", &self.tos())
            .field("tcp_flags", &self.tcp_flags())
            .field("octets", &self.octets())
            .field("packets", &self.packets())
            .field("start", &self.start())
            .field("end", &self.end())
            .field("in_if", &self.in_if())
            .field("out_if", &self.out_if())
            .field("src_as", &self.src_as())
            .field("dst_as", &self.dst_as())
            .field("next_hop", &self.next_hop())
            .field("bgp_next_hop", &self.bgp_next_hop())
            .field("src_mask", &self.src_mask())
            .field("dst_mask", &self.dst_mask())
            .field("vlan", &self.vlan())
            .field("inner_vlan", &self.inner_vlan())
            .field("src_mac", &self.src_mac())
            .field("dst_mac", &self.dst_mac())
            .field("icmp_type", &self.icmp_type())
            .field("icmp_code", &self.icmp_code())
            .field("flow_label", &self.flow_label())
            .field("direction", &self.direction())
            .field("end_reason", &self.end_reason())
            .field("forwarding_status", &self.forwarding_status())
            .field("mpls_label", &self.mpls_label())
            .field("post_nat_src_addr", &self.post_nat_src_addr())
            .field("post_nat_dst_addr", &self.post_nat_dst_addr())
            .field("post_nat_src_port", &self.post_nat_src_port())
            .field("post_nat_dst_port", &self.post_nat_dst_port())
            .field("sampling_interval", &self.sampling_interval())
            .field("sampling_algorithm", &self.sampling_algorithm())
            .field("extra", &self.extra)
            .finish()
    }
}
