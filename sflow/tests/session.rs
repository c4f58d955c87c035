//! `Session` as a `codec::Decoder`: what a sink gets for each kind of sample, the summary,
//! errors with absolute offsets, and sequence tracking through `decode`.

use std::net::SocketAddr;

use flowwire_sflow::convert::{Counters, FORWARDING_DROPPED};
use flowwire_sflow::record::codec::{CounterSample, DecodeError, Decoder, ErrorKind, Sink};
use flowwire_sflow::record::{FlowRecord, ProtocolKind, Timestamp};
use flowwire_sflow::repr::{
    self, CounterData, DatagramRepr, DiscardedPacket, ExtendedSwitch, FlowData, FlowSample,
    IfCounters, Sample, SampledIpv4,
};
use flowwire_sflow::session::{AgentKey, SampleKind};
use flowwire_sflow::wire::{Interface, SourceId};
use flowwire_sflow::xdr::{Address, Opaque, Xdr};
use flowwire_sflow::{Error, Session, SessionConfig};

/// Keeps everything, counter samples as (neutral fields, detail).
#[derive(Default)]
struct Keep {
    flows: Vec<FlowRecord>,
    counters: Vec<(CounterSample<'static>, Counters)>,
    errors: Vec<(ProtocolKind, SocketAddr, Option<usize>, ErrorKind, Error)>,
}

static NO_DETAIL: () = ();

impl Sink for Keep {
    fn flow(&mut self, flow: &FlowRecord) {
        self.flows.push(flow.clone());
    }
    fn counters(&mut self, c: &CounterSample<'_>) {
        let detail = c.detail::<Counters>().expect("sFlow counters").clone();
        self.counters.push((
            CounterSample {
                detail: &NO_DETAIL,
                ..*c
            },
            detail,
        ));
    }
    fn error(&mut self, e: &DecodeError<'_>) {
        let own = e.downcast_ref::<Error>().expect("sFlow error").clone();
        self.errors
            .push((e.protocol.unwrap(), e.exporter, e.offset(), e.kind(), own));
    }
}

fn exporter() -> SocketAddr {
    "198.51.100.1:6343".parse().unwrap()
}

fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000)
}

fn ipv4_record(dst_port: u32) -> FlowData {
    FlowData::SampledIpv4(SampledIpv4 {
        length: 60,
        protocol: 6,
        src_ip: [10, 0, 0, 1].into(),
        dst_ip: [10, 0, 0, 2].into(),
        src_port: 1,
        dst_port,
        tcp_flags: 0x18,
        tos: 0,
    })
}

fn if_counters(if_index: u32) -> CounterData {
    CounterData::Interface(IfCounters {
        if_index,
        if_type: 6,
        if_speed: 1_000_000_000,
        if_direction: 1,
        if_status: 3,
        if_in_octets: 1,
        if_in_ucast_pkts: 2,
        if_in_multicast_pkts: 3,
        if_in_broadcast_pkts: 4,
        if_in_discards: 5,
        if_in_errors: 6,
        if_in_unknown_protos: 7,
        if_out_octets: 8,
        if_out_ucast_pkts: 9,
        if_out_multicast_pkts: 10,
        if_out_broadcast_pkts: 11,
        if_out_discards: 12,
        if_out_errors: 13,
        if_promiscuous_mode: 0,
    })
}

/// A flow sample, a discarded-packet sample, a counter sample and an unknown sample.
fn mixed(sequence: u32, uptime: u32) -> DatagramRepr {
    DatagramRepr {
        agent: Address::V4([192, 0, 2, 9].into()),
        sub_agent_id: 4,
        sequence,
        uptime,
        samples: vec![
            Sample::Flow(FlowSample {
                sequence: 10 * sequence,
                source: SourceId { class: 0, index: 3 },
                sampling_rate: 512,
                sample_pool: 5120,
                drops: 1,
                input: Interface::if_index(3),
                output: Interface::if_index(4),
                records: vec![ipv4_record(443)],
            }),
            Sample::Discarded(DiscardedPacket {
                sequence: 20 * sequence,
                source: SourceId { class: 0, index: 3 },
                drops: 0,
                input: 3,
                output: 0,
                reason: 1,
                records: vec![ipv4_record(80)],
            }),
            Sample::ExpandedCounters(repr::CounterSample {
                sequence: 30 * sequence,
                source: SourceId { class: 0, index: 7 },
                records: vec![if_counters(7)],
            }),
            Sample::Unknown {
                enterprise: 9,
                format: 9,
                data: Opaque(vec![0; 8]),
            },
        ],
    }
}

#[test]
fn accepts_version_5_only() {
    let d = mixed(1, 1).to_bytes().unwrap();
    assert!(Session::accepts(&d));
    assert!(!Session::accepts(&d[..3]));
    assert!(!Session::accepts(&[0, 0, 0, 4, 0, 0, 0, 1]));
    assert!(!Session::accepts(&[0, 10, 0, 1]), "IPFIX");
    assert!(!Session::accepts(&[0, 5, 0, 1]), "NetFlow v5");
}

#[test]
fn every_kind_of_sample_reaches_the_sink() {
    let bytes = mixed(1, 1000).to_bytes().unwrap();
    let mut session = Session::default();
    let mut sink = Keep::default();
    let s = session.decode(exporter(), now(), &bytes, &mut sink);
    assert_eq!(
        (s.messages, s.flows, s.counters, s.errors),
        (1, 2, 1, 0),
        "{s:?}"
    );
    assert_eq!(
        (s.options, s.templates, s.withdrawn, s.missing_templates),
        (0, 0, 0, 0)
    );

    let flow = &sink.flows[0];
    assert_eq!(flow.kind(), Some(ProtocolKind::Sflow5));
    assert_eq!(flow.exporter(), Some(exporter()));
    assert_eq!(flow.agent(), Some("192.0.2.9".parse().unwrap()));
    assert_eq!((flow.domain(), flow.sequence()), (Some(4), Some(10)));
    assert_eq!((flow.in_if(), flow.out_if()), (Some(3), Some(4)));
    assert_eq!(
        (flow.sampling_interval(), flow.packets(), flow.dst_port()),
        (Some(512), Some(1), Some(443))
    );
    assert_eq!(flow.forwarding_status(), None);

    let dropped = &sink.flows[1];
    assert_eq!(dropped.exporter(), Some(exporter()));
    assert_eq!(dropped.sequence(), Some(20));
    assert_eq!(dropped.forwarding_status(), Some(FORWARDING_DROPPED));
    assert_eq!((dropped.in_if(), dropped.out_if()), (Some(3), None));
    assert_eq!(dropped.dst_port(), Some(80));

    let (c, detail) = &sink.counters[0];
    assert_eq!(c.protocol, ProtocolKind::Sflow5);
    assert_eq!(c.exporter, exporter());
    assert_eq!(c.agent, Some("192.0.2.9".parse().unwrap()));
    assert_eq!((c.domain, c.sequence, c.source), (4, 30, 7));
    assert_eq!(c.if_index, Some(7));
    assert_eq!(detail.records, vec![if_counters(7)]);
    assert!(detail.expanded);
    assert_eq!((detail.datagram_sequence, detail.uptime_ms), (1, 1000));

    // The same as the session-less conversion, but for the exporter.
    let d = flowwire_sflow::decode(&bytes).unwrap();
    let mut flows = d.flows;
    for f in &mut flows {
        f.set_exporter(Some(exporter()));
    }
    assert_eq!(flows, sink.flows);
    assert_eq!(d.counters, vec![detail.clone()]);
}

#[test]
fn a_bad_header_is_one_error_at_offset_0_and_no_message() {
    let mut bytes = mixed(1, 1).to_bytes().unwrap();
    bytes[3] = 4;
    let mut sink = Keep::default();
    let s = Session::default().decode(exporter(), now(), &bytes, &mut sink);
    assert_eq!((s.messages, s.flows, s.errors), (0, 0, 1));
    let (protocol, from, offset, kind, e) = &sink.errors[0];
    assert_eq!((*protocol, *from), (ProtocolKind::Sflow5, exporter()));
    assert_eq!((*offset, *kind), (Some(0), ErrorKind::Version));
    assert_eq!(
        *e,
        Error::BadVersion {
            offset: 0,
            version: 4
        }
    );
    bytes[3] = 5;
    let s = Session::default().decode(exporter(), now(), &bytes[..10], &mut sink);
    assert_eq!((s.messages, s.errors), (0, 1));
    assert_eq!(sink.errors[1].3, ErrorKind::Truncated);
}

#[test]
fn a_bad_record_is_reported_at_its_absolute_offset_and_the_rest_decodes() {
    let mut d = mixed(1, 1);
    // An extended switch record with 4 bytes too many, before the sampled IPv4 record.
    if let Sample::Flow(f) = &mut d.samples[0] {
        f.records.insert(
            0,
            FlowData::Unknown {
                enterprise: 0,
                format: 1001,
                data: Opaque(vec![0; 20]),
            },
        );
    }
    let bytes = d.to_bytes().unwrap();
    // Datagram header (IPv4 agent) 28, sample tag and length 8, flow sample fixed part 32.
    let record_at = 28 + 8 + 32;
    assert_eq!(
        bytes[record_at..record_at + 8],
        [0, 0, 3, 0xe9, 0, 0, 0, 20]
    );
    let mut sink = Keep::default();
    let s = Session::default().decode(exporter(), now(), &bytes, &mut sink);
    assert_eq!((s.messages, s.flows, s.counters, s.errors), (1, 2, 1, 1));
    let (_, _, offset, kind, e) = &sink.errors[0];
    assert_eq!((*offset, *kind), (Some(record_at), ErrorKind::Length));
    assert!(
        matches!(
            e,
            Error::BadContentLength {
                format: 1001,
                declared: 20,
                content: 16,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        sink.flows[0].dst_port(),
        Some(443),
        "the next record decodes"
    );
    // Switch records after it still count: the VLAN of a second, good one.
    let mut d = mixed(1, 1);
    if let Sample::Flow(f) = &mut d.samples[0] {
        f.records.push(FlowData::ExtendedSwitch(ExtendedSwitch {
            src_vlan: 30,
            src_priority: 0,
            dst_vlan: 30,
            dst_priority: 0,
        }));
    }
    let mut sink = Keep::default();
    Session::default().decode(exporter(), now(), &d.to_bytes().unwrap(), &mut sink);
    assert_eq!(sink.flows[0].vlan(), Some(30));
}

#[test]
fn sequences_are_tracked_through_decode() {
    let mut session = Session::new(SessionConfig {
        max_agents: 8,
        max_sources_per_agent: 8,
    });
    let mut sink = Keep::default();
    for seq in [1, 2, 4, 5] {
        let bytes = mixed(seq, seq * 1000).to_bytes().unwrap();
        session.decode(exporter(), now(), &bytes, &mut sink);
    }
    assert_eq!(session.stats().datagrams, 4);
    assert_eq!(session.lost_datagrams(), 1);
    let key = AgentKey {
        agent: Some("192.0.2.9".parse().unwrap()),
        sub_agent_id: 4,
    };
    let a = session.agent(&key).unwrap();
    assert_eq!(a.datagrams.received, 4);
    let flows = a
        .source(SampleKind::Flow, SourceId { class: 0, index: 3 })
        .unwrap();
    // Sample sequence numbers 10, 20, 40, 50: 9 lost before 20, 19 before 40, 9 before 50.
    assert_eq!((flows.received, flows.lost), (4, 9 + 19 + 9));
    let counters = a
        .source(SampleKind::Counters, SourceId { class: 0, index: 7 })
        .unwrap();
    assert_eq!(counters.received, 4);
    assert!(
        a.source(SampleKind::Discarded, SourceId { class: 0, index: 3 })
            .is_some()
    );
    // Trailing bytes are counted, not an error.
    let mut bytes = mixed(6, 6000).to_bytes().unwrap();
    bytes.extend([1, 2, 3]);
    let s = session.decode(exporter(), now(), &bytes, &mut sink);
    assert_eq!(s.errors, 0);
    assert_eq!(session.stats().trailing_bytes, 3);
}
