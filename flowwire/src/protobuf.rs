//! Flows as protobuf (feature `protobuf`): [`FlowMessage`] has goflow2's `flowpb.FlowMessage`
//! field names and numbers (its `pb/flow.proto`), so consumers written for goflow2 (its Kafka
//! topics, ClickHouse's `Protobuf` input with goflow2's schema, akvorado-style pipelines) read
//! flowwire's records unchanged.
//!
//! [`FlowMessage::from_record`] fills the fields whose meaning is the same in both; what goflow2
//! has no field for stays in flowwire's JSON form only. [`FlowMessage::encode_delimited`] writes
//! the message with its varint length first, the framing goflow2 puts in each Kafka record
//! and file line (`protodelim`).
//!
//! ```
//! use flowwire::protobuf::{FlowMessage, FlowType};
//! use flowwire::{FlowRecord, ProtocolKind, Timestamp};
//! use prost::Message as _;
//!
//! let record = FlowRecord::default()
//!     .with_kind(ProtocolKind::Ipfix)
//!     .with_src_addr("192.0.2.1".parse().unwrap())
//!     .with_dst_port(443)
//!     .with_octets(1500);
//! let message = FlowMessage::from_record(&record, Timestamp::from_unix_secs(1_700_000_000));
//! assert_eq!(message.r#type(), FlowType::Ipfix);
//! assert_eq!(message.src_addr, [192, 0, 2, 1]);
//! assert_eq!(message.etype, 0x0800);
//!
//! let mut framed = Vec::new();
//! message.encode_delimited(&mut framed).unwrap();
//! assert_eq!(FlowMessage::decode_length_delimited(&framed[..]).unwrap(), message);
//! ```

use std::net::IpAddr;

/// The protobuf runtime [`FlowMessage`] is built on, for `prost::Message`'s `decode` and
/// `encode` without a direct dependency of your own.
pub use prost;

use flowwire_record::registry::{FieldId, ie};
use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};

/// goflow2's `FlowMessage.FlowType`: the protocol a flow came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum FlowType {
    /// Not known.
    Flowunknown = 0,
    /// sFlow version 5.
    Sflow5 = 1,
    /// NetFlow version 5.
    NetflowV5 = 2,
    /// NetFlow version 9.
    NetflowV9 = 3,
    /// IPFIX.
    Ipfix = 4,
}

impl From<ProtocolKind> for FlowType {
    fn from(kind: ProtocolKind) -> Self {
        match kind {
            ProtocolKind::Netflow5 => FlowType::NetflowV5,
            ProtocolKind::Netflow9 => FlowType::NetflowV9,
            ProtocolKind::Ipfix => FlowType::Ipfix,
            ProtocolKind::Sflow5 => FlowType::Sflow5,
        }
    }
}

/// One flow in goflow2's `flowpb.FlowMessage` layout (field names and numbers as in its
/// `pb/flow.proto`). Addresses are 4 octets for IPv4 and 16 for IPv6; MAC addresses are the
/// six octets in the low 48 bits; times are nanoseconds since the Unix epoch; a field the flow
/// does not carry is 0 or empty, as proto3 has it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FlowMessage {
    /// The protocol ([`FlowType`]).
    #[prost(enumeration = "FlowType", tag = "1")]
    pub r#type: i32,
    /// When the collector received the datagram.
    #[prost(uint64, tag = "110")]
    pub time_received_ns: u64,
    /// The export header's sequence number.
    #[prost(uint32, tag = "4")]
    pub sequence_num: u32,
    /// The sampling interval (1 in N) the flow carries or its exporter announced.
    #[prost(uint64, tag = "3")]
    pub sampling_rate: u64,
    /// The exporter: the sFlow agent address, else the datagram's source address.
    #[prost(bytes = "vec", tag = "11")]
    pub sampler_address: Vec<u8>,
    /// Flow start.
    #[prost(uint64, tag = "111")]
    pub time_flow_start_ns: u64,
    /// Flow end.
    #[prost(uint64, tag = "112")]
    pub time_flow_end_ns: u64,
    /// Octets (for sFlow, of the sampled packet).
    #[prost(uint64, tag = "9")]
    pub bytes: u64,
    /// Packets.
    #[prost(uint64, tag = "10")]
    pub packets: u64,
    /// Source address.
    #[prost(bytes = "vec", tag = "6")]
    pub src_addr: Vec<u8>,
    /// Destination address.
    #[prost(bytes = "vec", tag = "7")]
    pub dst_addr: Vec<u8>,
    /// Ethertype (0x0800 IPv4, 0x86dd IPv6, ...).
    #[prost(uint32, tag = "30")]
    pub etype: u32,
    /// IP protocol.
    #[prost(uint32, tag = "20")]
    pub proto: u32,
    /// Source port.
    #[prost(uint32, tag = "21")]
    pub src_port: u32,
    /// Destination port.
    #[prost(uint32, tag = "22")]
    pub dst_port: u32,
    /// Input interface index.
    #[prost(uint32, tag = "18")]
    pub in_if: u32,
    /// Output interface index.
    #[prost(uint32, tag = "19")]
    pub out_if: u32,
    /// Source MAC address.
    #[prost(uint64, tag = "27")]
    pub src_mac: u64,
    /// Destination MAC address.
    #[prost(uint64, tag = "28")]
    pub dst_mac: u64,
    /// Source VLAN.
    #[prost(uint32, tag = "33")]
    pub src_vlan: u32,
    /// Destination VLAN (`postVlanId`).
    #[prost(uint32, tag = "34")]
    pub dst_vlan: u32,
    /// The 802.1Q VLAN of an sFlow sampled packet.
    #[prost(uint32, tag = "29")]
    pub vlan_id: u32,
    /// IP type of service / traffic class.
    #[prost(uint32, tag = "23")]
    pub ip_tos: u32,
    /// Forwarding status.
    #[prost(uint32, tag = "24")]
    pub forwarding_status: u32,
    /// IP TTL / hop limit.
    #[prost(uint32, tag = "25")]
    pub ip_ttl: u32,
    /// IP fragment flags.
    #[prost(uint32, tag = "38")]
    pub ip_flags: u32,
    /// TCP flags.
    #[prost(uint32, tag = "26")]
    pub tcp_flags: u32,
    /// ICMP type.
    #[prost(uint32, tag = "31")]
    pub icmp_type: u32,
    /// ICMP code.
    #[prost(uint32, tag = "32")]
    pub icmp_code: u32,
    /// IPv6 flow label.
    #[prost(uint32, tag = "37")]
    pub ipv6_flow_label: u32,
    /// IP fragment identification.
    #[prost(uint32, tag = "35")]
    pub fragment_id: u32,
    /// IP fragment offset.
    #[prost(uint32, tag = "36")]
    pub fragment_offset: u32,
    /// Source AS.
    #[prost(uint32, tag = "14")]
    pub src_as: u32,
    /// Destination AS.
    #[prost(uint32, tag = "15")]
    pub dst_as: u32,
    /// Next hop.
    #[prost(bytes = "vec", tag = "12")]
    pub next_hop: Vec<u8>,
    /// The next hop's AS (`bgpNextAdjacentAsNumber`).
    #[prost(uint32, tag = "13")]
    pub next_hop_as: u32,
    /// Source prefix length.
    #[prost(uint32, tag = "16")]
    pub src_net: u32,
    /// Destination prefix length.
    #[prost(uint32, tag = "17")]
    pub dst_net: u32,
    /// BGP next hop.
    #[prost(bytes = "vec", tag = "100")]
    pub bgp_next_hop: Vec<u8>,
    /// MPLS labels (20 bits each), top first.
    #[prost(uint32, repeated, tag = "81")]
    pub mpls_label: Vec<u32>,
    /// Observation domain (IPFIX) / source id (NetFlow v9) / sub-agent (sFlow).
    #[prost(uint32, tag = "70")]
    pub observation_domain_id: u32,
    /// Observation point id.
    #[prost(uint32, tag = "71")]
    pub observation_point_id: u32,
}

fn address(ip: Option<IpAddr>) -> Vec<u8> {
    match ip {
        Some(IpAddr::V4(a)) => a.octets().to_vec(),
        Some(IpAddr::V6(a)) => a.octets().to_vec(),
        None => Vec::new(),
    }
}

fn nanos(t: Option<Timestamp>) -> u64 {
    t.map_or(0, |t| u64::try_from(t.unix_nanos()).unwrap_or(0))
}

fn mac(m: Option<flowwire_record::MacAddr>) -> u64 {
    m.map_or(0, |m| {
        m.0.iter()
            .fold(0u64, |acc, &octet| (acc << 8) | u64::from(octet))
    })
}

/// An element's value in `record` (typed field or extra) as an integer that fits in `u32`.
fn element_u32(record: &FlowRecord, id: u16) -> u32 {
    record
        .get(FieldId::iana(id))
        .and_then(|v| v.as_u64())
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(0)
}

/// The MPLS label stack: the typed top label, then sections 2 to 10 from `extra` (each a
/// 3-octet label stack entry whose top 20 bits are the label).
fn mpls_labels(record: &FlowRecord) -> Vec<u32> {
    let Some(top) = record.mpls_label() else {
        return Vec::new();
    };
    let mut labels = vec![top];
    for id in ie::MPLS_LABEL_STACK_SECTION2..=ie::MPLS_LABEL_STACK_SECTION10 {
        let Some(entry) = record
            .get(FieldId::iana(id))
            .and_then(|v| v.as_bytes())
            .and_then(|b| b.first_chunk::<3>())
        else {
            break;
        };
        let [a, b, c] = *entry;
        labels.push((u32::from(a) << 12) | (u32::from(b) << 4) | (u32::from(c) >> 4));
    }
    labels
}

impl FlowMessage {
    /// The message for `record`, received at `received`.
    pub fn from_record(record: &FlowRecord, received: Timestamp) -> Self {
        let kind = record.kind();
        let src = record.src_addr();
        let etype = match element_u32(record, ie::ETHERNET_TYPE) {
            0 => match src.or(record.dst_addr()) {
                Some(IpAddr::V4(_)) => 0x0800,
                Some(IpAddr::V6(_)) => 0x86dd,
                None => 0,
            },
            e => e,
        };
        let vlan = record.vlan().map_or(0, u32::from);
        FlowMessage {
            r#type: kind.map_or(FlowType::Flowunknown, FlowType::from) as i32,
            time_received_ns: nanos(Some(received)),
            sequence_num: record.sequence().unwrap_or(0),
            sampling_rate: record.sampling_interval().map_or(0, u64::from),
            sampler_address: address(record.agent().or(record.exporter().map(|e| e.ip()))),
            time_flow_start_ns: nanos(record.start()),
            time_flow_end_ns: nanos(record.end()),
            bytes: record.octets().unwrap_or(0),
            packets: record.packets().unwrap_or(0),
            src_addr: address(src),
            dst_addr: address(record.dst_addr()),
            etype,
            proto: record.protocol().map_or(0, u32::from),
            src_port: record.src_port().map_or(0, u32::from),
            dst_port: record.dst_port().map_or(0, u32::from),
            in_if: record.in_if().unwrap_or(0),
            out_if: record.out_if().unwrap_or(0),
            src_mac: mac(record.src_mac()),
            dst_mac: mac(record.dst_mac()),
            src_vlan: vlan,
            dst_vlan: element_u32(record, ie::POST_VLAN_ID),
            vlan_id: if kind == Some(ProtocolKind::Sflow5) {
                vlan
            } else {
                0
            },
            ip_tos: record.tos().map_or(0, u32::from),
            forwarding_status: record.forwarding_status().unwrap_or(0),
            ip_ttl: element_u32(record, ie::IP_TTL),
            ip_flags: element_u32(record, ie::FRAGMENT_FLAGS),
            tcp_flags: record.tcp_flags().map_or(0, u32::from),
            icmp_type: record.icmp_type().map_or(0, u32::from),
            icmp_code: record.icmp_code().map_or(0, u32::from),
            ipv6_flow_label: record.flow_label().unwrap_or(0),
            fragment_id: element_u32(record, ie::FRAGMENT_IDENTIFICATION),
            fragment_offset: element_u32(record, ie::FRAGMENT_OFFSET),
            src_as: record.src_as().unwrap_or(0),
            dst_as: record.dst_as().unwrap_or(0),
            next_hop: address(record.next_hop()),
            next_hop_as: element_u32(record, ie::BGP_NEXT_ADJACENT_AS_NUMBER),
            src_net: record.src_mask().map_or(0, u32::from),
            dst_net: record.dst_mask().map_or(0, u32::from),
            bgp_next_hop: address(record.bgp_next_hop()),
            mpls_label: mpls_labels(record),
            observation_domain_id: record.domain().unwrap_or(0),
            observation_point_id: element_u32(record, ie::OBSERVATION_POINT_ID),
        }
    }

    /// Appends the message to `out` with its length first (a varint), as goflow2 frames it.
    pub fn encode_delimited(&self, out: &mut Vec<u8>) -> Result<(), prost::EncodeError> {
        prost::Message::encode_length_delimited(self, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowwire_record::Value;
    use prost::Message as _;

    #[test]
    fn field_numbers_are_goflow2s() {
        // One field set at a time: its key on the wire says the number goflow2 gave it.
        let key = |m: &FlowMessage| m.encode_to_vec().first().copied();
        let tag = |n: u8, wire: u8| Some((n << 3) | wire);
        let r = FlowRecord::default().with_src_port(1);
        assert_eq!(
            key(&FlowMessage::from_record(&r, Timestamp::UNIX_EPOCH)),
            tag(21, 0)
        );
        let r = FlowRecord::default().with_octets(1);
        assert_eq!(
            key(&FlowMessage::from_record(&r, Timestamp::UNIX_EPOCH)),
            tag(9, 0)
        );
        let r = FlowRecord::default().with_in_if(1);
        assert_eq!(
            key(&FlowMessage::from_record(&r, Timestamp::UNIX_EPOCH)),
            tag(18, 0)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_record_round_trips_through_the_wire(layout in 0u64.., seed in 0u64..) {
            let r = flowwire_record::testing::varied_record(layout, seed);
            let m = FlowMessage::from_record(&r, Timestamp::from_unix_secs(1_700_000_000));
            let mut framed = Vec::new();
            m.encode_delimited(&mut framed).unwrap();
            let back = FlowMessage::decode_length_delimited(&framed[..]).unwrap();
            proptest::prop_assert_eq!(&back, &m);
            proptest::prop_assert_eq!(back.bytes, r.octets().unwrap_or(0));
            proptest::prop_assert_eq!(back.packets, r.packets().unwrap_or(0));
            proptest::prop_assert_eq!(back.src_port, r.src_port().map_or(0, u32::from));
            proptest::prop_assert_eq!(back.src_addr, address(r.src_addr()));
            proptest::prop_assert_eq!(back.time_flow_end_ns, nanos(r.end()));
        }
    }

    #[test]
    fn carries_the_record() {
        let mut r = FlowRecord::default()
            .with_kind(ProtocolKind::Sflow5)
            .with_src_addr("2001:db8::1".parse().unwrap())
            .with_dst_addr("2001:db8::2".parse().unwrap())
            .with_src_mac(flowwire_record::MacAddr([0, 1, 2, 3, 4, 5]))
            .with_vlan(42)
            .with_mpls_label(16)
            .with_start(Timestamp::from_unix_millis(1_500))
            .with_sampling_interval(512);
        r.push_extra(FieldId::iana(ie::IP_TTL), Value::Unsigned8(64));
        r.push_extra(
            FieldId::iana(ie::MPLS_LABEL_STACK_SECTION2),
            Value::OctetArray(&[0x00, 0x01, 0x11]),
        );
        let m = FlowMessage::from_record(&r, Timestamp::from_unix_secs(2));
        assert_eq!(m.r#type(), FlowType::Sflow5);
        assert_eq!(m.src_addr.len(), 16);
        assert_eq!(m.etype, 0x86dd);
        assert_eq!(m.src_mac, 0x0001_0203_0405);
        assert_eq!((m.src_vlan, m.vlan_id), (42, 42));
        assert_eq!(m.mpls_label, [16, 17]);
        assert_eq!(m.ip_ttl, 64);
        assert_eq!(m.time_flow_start_ns, 1_500_000_000);
        assert_eq!(m.time_received_ns, 2_000_000_000);
        assert_eq!(m.sampling_rate, 512);
        let bytes = m.encode_to_vec();
        assert_eq!(FlowMessage::decode(&bytes[..]).unwrap(), m);
    }
}
