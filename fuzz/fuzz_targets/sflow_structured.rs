//! sFlow v5: valid datagrams built from `arbitrary` values encode and decode back equal.
//!
//! Mode 1 builds a [`DatagramRepr`] (IPv4 / IPv6 / unknown agent address) of compact and
//! expanded flow and counter samples, discarded-packet samples and unknown samples, whose
//! records are raw headers, sampled Ethernet / IPv4 / IPv6, extended switch / router /
//! gateway (AS path, communities) / user / URL / MPLS, generic interface and Ethernet
//! counters, and unknown records; it checks `parse(emit(x)) == x`.
//!
//! Mode 2 is the agent side: arbitrary flows (any fields, any extras) go through
//! `encode::Exporter` (`codec::Exporter::push` / `flush`, arbitrary agent, size limit, header
//! length, strictness, boot and times); every datagram fits the limit and decodes through a
//! `Session` without errors, a refused record leaves the datagram being filled as it was,
//! and every flow comes back exactly as `Exporter::restrict` says.
#![no_main]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arbitrary::{Result, Unstructured};
use flowwire_fuzz::assert_same;
use flowwire_sflow::encode::{Exporter, ExporterConfig};
use flowwire_sflow::record::codec::{DecodeError, Decoder, Exporter as _, Sink};
use flowwire_sflow::record::{
    ExtraField, FieldId, FlowRecord, MacAddr, OwnedValue, ProtocolKind, Timestamp,
};
use flowwire_sflow::repr::{
    AsPathSegment, CounterData, CounterSample, DatagramRepr, DiscardedPacket, EthernetCounters,
    ExtendedGateway, ExtendedMpls, ExtendedRouter, ExtendedSwitch, ExtendedUrl, ExtendedUser,
    FlowData, FlowSample, IfCounters, Sample, SampledEthernet, SampledHeader, SampledIpv4,
    SampledIpv6,
};
use flowwire_sflow::wire::{Interface, SourceId};
use flowwire_sflow::xdr::{Address, Opaque, Xdr};
use flowwire_sflow::{Error, Session};
use libfuzzer_sys::fuzz_target;

fn opaque(u: &mut Unstructured<'_>, max: usize) -> Result<Opaque> {
    let n = u.int_in_range(0..=max)?;
    Ok(Opaque(u.bytes(n)?.to_vec()))
}

fn address(u: &mut Unstructured<'_>) -> Result<Address> {
    Ok(match u.int_in_range(0..=2)? {
        0 => Address::Unknown,
        1 => Address::V4(Ipv4Addr::from(u.arbitrary::<u32>()?)),
        _ => Address::V6(Ipv6Addr::from(u.arbitrary::<u128>()?)),
    })
}

fn mac(u: &mut Unstructured<'_>) -> Result<MacAddr> {
    Ok(MacAddr(u.arbitrary()?))
}

fn u32s(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<u32>> {
    (0..u.int_in_range(0..=max)?)
        .map(|_| u.arbitrary())
        .collect()
}

fn flow_record(u: &mut Unstructured<'_>) -> Result<FlowData> {
    Ok(match u.int_in_range(0..=10)? {
        0 => FlowData::SampledHeader(SampledHeader {
            protocol: u.arbitrary()?,
            frame_length: u.arbitrary()?,
            stripped: u.arbitrary()?,
            header: opaque(u, 160)?,
        }),
        1 => FlowData::SampledEthernet(SampledEthernet {
            length: u.arbitrary()?,
            src_mac: mac(u)?,
            dst_mac: mac(u)?,
            eth_type: u.arbitrary()?,
        }),
        2 => FlowData::SampledIpv4(SampledIpv4 {
            length: u.arbitrary()?,
            protocol: u.arbitrary()?,
            src_ip: Ipv4Addr::from(u.arbitrary::<u32>()?),
            dst_ip: Ipv4Addr::from(u.arbitrary::<u32>()?),
            src_port: u.arbitrary()?,
            dst_port: u.arbitrary()?,
            tcp_flags: u.arbitrary()?,
            tos: u.arbitrary()?,
        }),
        3 => FlowData::SampledIpv6(SampledIpv6 {
            length: u.arbitrary()?,
            protocol: u.arbitrary()?,
            src_ip: Ipv6Addr::from(u.arbitrary::<u128>()?),
            dst_ip: Ipv6Addr::from(u.arbitrary::<u128>()?),
            src_port: u.arbitrary()?,
            dst_port: u.arbitrary()?,
            tcp_flags: u.arbitrary()?,
            priority: u.arbitrary()?,
        }),
        4 => FlowData::ExtendedSwitch(ExtendedSwitch {
            src_vlan: u.arbitrary()?,
            src_priority: u.arbitrary()?,
            dst_vlan: u.arbitrary()?,
            dst_priority: u.arbitrary()?,
        }),
        5 => FlowData::ExtendedRouter(ExtendedRouter {
            next_hop: address(u)?,
            src_mask_len: u.arbitrary()?,
            dst_mask_len: u.arbitrary()?,
        }),
        6 => FlowData::ExtendedGateway(ExtendedGateway {
            next_hop: address(u)?,
            as_number: u.arbitrary()?,
            src_as: u.arbitrary()?,
            src_peer_as: u.arbitrary()?,
            dst_as_path: (0..u.int_in_range(0..=3)?)
                .map(|_| {
                    Ok(AsPathSegment {
                        segment_type: u.int_in_range(1..=2)?,
                        path: u32s(u, 6)?,
                    })
                })
                .collect::<Result<_>>()?,
            communities: u32s(u, 6)?,
            local_pref: u.arbitrary()?,
        }),
        7 => FlowData::ExtendedUser(ExtendedUser {
            src_charset: u.arbitrary()?,
            src_user: opaque(u, 40)?,
            dst_charset: u.arbitrary()?,
            dst_user: opaque(u, 40)?,
        }),
        8 => FlowData::ExtendedUrl(ExtendedUrl {
            direction: u.arbitrary()?,
            url: opaque(u, 80)?,
            host: opaque(u, 40)?,
        }),
        9 => FlowData::ExtendedMpls(ExtendedMpls {
            next_hop: address(u)?,
            in_stack: u32s(u, 4)?,
            out_stack: u32s(u, 4)?,
        }),
        _ => unknown_record(u)?,
    })
}

/// An unknown record: enterprise != 0 (enterprise 0 formats may be known).
fn unknown_record(u: &mut Unstructured<'_>) -> Result<FlowData> {
    let n = u.int_in_range(0..=16)? * 4;
    Ok(FlowData::Unknown {
        enterprise: u.int_in_range(1..=0xf_ffff)?,
        format: u.int_in_range(0..=0xfff)?,
        data: Opaque(u.bytes(n)?.to_vec()),
    })
}

fn counter_record(u: &mut Unstructured<'_>) -> Result<CounterData> {
    Ok(match u.int_in_range(0..=2)? {
        0 => CounterData::Interface(IfCounters {
            if_index: u.arbitrary()?,
            if_type: u.arbitrary()?,
            if_speed: u.arbitrary()?,
            if_direction: u.arbitrary()?,
            if_status: u.arbitrary()?,
            if_in_octets: u.arbitrary()?,
            if_in_ucast_pkts: u.arbitrary()?,
            if_in_multicast_pkts: u.arbitrary()?,
            if_in_broadcast_pkts: u.arbitrary()?,
            if_in_discards: u.arbitrary()?,
            if_in_errors: u.arbitrary()?,
            if_in_unknown_protos: u.arbitrary()?,
            if_out_octets: u.arbitrary()?,
            if_out_ucast_pkts: u.arbitrary()?,
            if_out_multicast_pkts: u.arbitrary()?,
            if_out_broadcast_pkts: u.arbitrary()?,
            if_out_discards: u.arbitrary()?,
            if_out_errors: u.arbitrary()?,
            if_promiscuous_mode: u.arbitrary()?,
        }),
        1 => CounterData::Ethernet(EthernetCounters {
            alignment_errors: u.arbitrary()?,
            fcs_errors: u.arbitrary()?,
            single_collision_frames: u.arbitrary()?,
            multiple_collision_frames: u.arbitrary()?,
            sqe_test_errors: u.arbitrary()?,
            deferred_transmissions: u.arbitrary()?,
            late_collisions: u.arbitrary()?,
            excessive_collisions: u.arbitrary()?,
            internal_mac_transmit_errors: u.arbitrary()?,
            carrier_sense_errors: u.arbitrary()?,
            frame_too_longs: u.arbitrary()?,
            internal_mac_receive_errors: u.arbitrary()?,
            symbol_errors: u.arbitrary()?,
        }),
        _ => {
            let n = u.int_in_range(0..=16)? * 4;
            CounterData::Unknown {
                enterprise: u.int_in_range(1..=0xf_ffff)?,
                format: u.int_in_range(0..=0xfff)?,
                data: Opaque(u.bytes(n)?.to_vec()),
            }
        }
    })
}

fn source(u: &mut Unstructured<'_>, compact: bool) -> Result<SourceId> {
    Ok(if compact {
        SourceId {
            class: u.int_in_range(0..=0xff)?,
            index: u.int_in_range(0..=0xff_ffff)?,
        }
    } else {
        SourceId {
            class: u.arbitrary()?,
            index: u.arbitrary()?,
        }
    })
}

fn interface(u: &mut Unstructured<'_>, compact: bool) -> Result<Interface> {
    Ok(if compact {
        Interface {
            format: u.int_in_range(0..=3)?,
            value: u.int_in_range(0..=0x3fff_ffff)?,
        }
    } else {
        Interface {
            format: u.arbitrary()?,
            value: u.arbitrary()?,
        }
    })
}

fn flow_sample(u: &mut Unstructured<'_>, compact: bool) -> Result<FlowSample> {
    Ok(FlowSample {
        sequence: u.arbitrary()?,
        source: source(u, compact)?,
        sampling_rate: u.arbitrary()?,
        sample_pool: u.arbitrary()?,
        drops: u.arbitrary()?,
        input: interface(u, compact)?,
        output: interface(u, compact)?,
        records: (0..u.int_in_range(0..=4)?)
            .map(|_| flow_record(u))
            .collect::<Result<_>>()?,
    })
}

fn counter_sample(u: &mut Unstructured<'_>, compact: bool) -> Result<CounterSample> {
    Ok(CounterSample {
        sequence: u.arbitrary()?,
        source: source(u, compact)?,
        records: (0..u.int_in_range(0..=3)?)
            .map(|_| counter_record(u))
            .collect::<Result<_>>()?,
    })
}

fn sample(u: &mut Unstructured<'_>) -> Result<Sample> {
    Ok(match u.int_in_range(0..=5)? {
        0 => Sample::Flow(flow_sample(u, true)?),
        1 => Sample::ExpandedFlow(flow_sample(u, false)?),
        2 => Sample::Counters(counter_sample(u, true)?),
        3 => Sample::ExpandedCounters(counter_sample(u, false)?),
        4 => Sample::Discarded(DiscardedPacket {
            sequence: u.arbitrary()?,
            source: source(u, false)?,
            drops: u.arbitrary()?,
            input: u.arbitrary()?,
            output: u.arbitrary()?,
            reason: u.arbitrary()?,
            records: (0..u.int_in_range(0..=3)?)
                .map(|_| flow_record(u))
                .collect::<Result<_>>()?,
        }),
        _ => {
            let n = u.int_in_range(0..=16)? * 4;
            Sample::Unknown {
                enterprise: u.int_in_range(1..=0xf_ffff)?,
                format: u.int_in_range(0..=0xfff)?,
                data: Opaque(u.bytes(n)?.to_vec()),
            }
        }
    })
}

fn datagram(u: &mut Unstructured<'_>) -> Result<DatagramRepr> {
    Ok(DatagramRepr {
        agent: address(u)?,
        sub_agent_id: u.arbitrary()?,
        sequence: u.arbitrary()?,
        uptime: u.arbitrary()?,
        samples: (0..u.int_in_range(0..=6)?)
            .map(|_| sample(u))
            .collect::<Result<_>>()?,
    })
}

fn flow(u: &mut Unstructured<'_>) -> Result<FlowRecord> {
    let v6 = u.arbitrary::<bool>()?;
    let ip = |u: &mut Unstructured<'_>| -> Result<IpAddr> {
        Ok(if v6 {
            IpAddr::V6(Ipv6Addr::from(u.arbitrary::<u128>()?))
        } else {
            IpAddr::V4(Ipv4Addr::from(u.arbitrary::<u32>()?))
        })
    };
    let opt_ip = |u: &mut Unstructured<'_>| -> Result<Option<IpAddr>> {
        Ok(if u.arbitrary()? { Some(ip(u)?) } else { None })
    };
    let protocol = *u.choose(&[6u8, 17, 1, 58, 47, 132, 0, 59])?;
    let mut extra = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        let id = *u.choose(&[310u16, 164, 82, 1])?;
        extra.push(ExtraField::new(
            FieldId::iana(id),
            OwnedValue::Unsigned64(u.arbitrary()?),
        ));
    }
    let time = |u: &mut Unstructured<'_>| -> Result<Option<Timestamp>> {
        Ok(u.arbitrary::<Option<i64>>()?
            .map(Timestamp::from_unix_nanos))
    };
    Ok(FlowRecord {
        src_addr: opt_ip(u)?,
        dst_addr: opt_ip(u)?,
        protocol: u.arbitrary::<bool>()?.then_some(protocol),
        src_port: u.arbitrary()?,
        dst_port: u.arbitrary()?,
        tcp_flags: u.arbitrary()?,
        tos: u.arbitrary()?,
        flow_label: u.arbitrary::<Option<u32>>()?.map(|l| l & 0xf_ffff),
        icmp_type: u.arbitrary()?,
        icmp_code: u.arbitrary()?,
        src_mac: u.arbitrary::<Option<[u8; 6]>>()?.map(MacAddr),
        dst_mac: u.arbitrary::<Option<[u8; 6]>>()?.map(MacAddr),
        vlan: u.arbitrary::<Option<u16>>()?.map(|v| v & 0xfff),
        inner_vlan: u.arbitrary::<Option<u16>>()?.map(|v| v & 0xfff),
        octets: u.arbitrary::<Option<u32>>()?.map(u64::from),
        packets: u.arbitrary()?,
        start: time(u)?,
        end: time(u)?,
        sampling_interval: u.arbitrary()?,
        in_if: u.arbitrary()?,
        out_if: u.arbitrary()?,
        src_as: u.arbitrary()?,
        dst_as: u.arbitrary()?,
        next_hop: opt_ip(u)?,
        bgp_next_hop: opt_ip(u)?,
        src_mask: u.arbitrary()?,
        dst_mask: u.arbitrary()?,
        mpls_label: u.arbitrary::<Option<u32>>()?.map(|l| l & 0xf_ffff),
        post_nat_src_addr: opt_ip(u)?,
        post_nat_dst_port: u.arbitrary()?,
        direction: u.arbitrary()?,
        extra,
        ..FlowRecord::new(ProtocolKind::Ipfix)
    })
}

/// Keeps the flows a session decodes; fails on any error.
#[derive(Default)]
struct Flows(Vec<FlowRecord>);

impl Sink for Flows {
    fn flow(&mut self, flow: &FlowRecord) {
        self.0.push(flow.clone());
    }
    fn error(&mut self, e: &DecodeError<'_>) {
        panic!("error decoding what the exporter wrote: {e}");
    }
}

fn check_exporter(u: &mut Unstructured<'_>) -> Result<()> {
    let config = ExporterConfig {
        agent: address(u)?,
        sub_agent_id: u.arbitrary()?,
        max_datagram_len: u.int_in_range(64..=1500)?,
        header_bytes: u.int_in_range(0..=160)?,
        strict: u.arbitrary()?,
        boot: Timestamp::from_unix_nanos(u.arbitrary()?),
    };
    let mut exporter = Exporter::new(config);
    let mut sent = Vec::new();
    let mut datagrams = Vec::new();
    let mut now = Timestamp::from_unix_nanos(u.arbitrary()?);
    for _ in 0..u.int_in_range(1..=12)? {
        let f = flow(u)?;
        now = now.add_nanos(u.int_in_range(0..=5_000_000_000)?);
        let before = exporter.pending();
        match exporter.push(&f, now, &mut |d: &[u8]| datagrams.push(d.to_vec())) {
            Ok(()) => sent.push(f),
            Err(Error::NotCarried { .. }) if config.strict => {
                assert_eq!(exporter.pending(), before, "left as it was")
            }
            Err(Error::BufferTooSmall { .. }) => {
                assert_eq!(exporter.pending(), before, "left as it was")
            }
            Err(e) => panic!("a valid flow refused: {e}\n{f:?}"),
        }
    }
    exporter
        .flush(now, &mut |d: &[u8]| datagrams.push(d.to_vec()))
        .expect("flush");
    let stats = *exporter.stats();
    assert_eq!(stats.records, sent.len() as u64);
    assert_eq!(stats.datagrams, datagrams.len() as u64);
    if config.strict {
        assert_eq!(stats.fields_dropped, 0);
    }
    let mut session = Session::default();
    let mut got = Flows::default();
    let from = "192.0.2.1:6343".parse().unwrap();
    for d in &datagrams {
        assert!(
            d.len() <= config.max_datagram_len,
            "datagram of {} bytes over the limit {}",
            d.len(),
            config.max_datagram_len
        );
        assert_eq!(session.decode(from, now, d, &mut got).messages, 1);
    }
    assert_eq!(got.0.len(), sent.len(), "flows back");
    for (s, g) in sent.iter().zip(got.0) {
        assert_eq!(g.agent, config.agent.ip());
        assert_eq!(g.domain, Some(config.sub_agent_id));
        let bare = FlowRecord {
            kind: None,
            exporter: None,
            agent: None,
            domain: None,
            sequence: None,
            export_time: None,
            ..g
        };
        assert_same(
            &bare,
            &exporter.restrict(s),
            &format!("decoded vs restrict\nsent {s:?}"),
        );
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(mode) = u.arbitrary::<bool>() else {
        return;
    };
    if mode {
        let Ok(d) = datagram(&mut u) else { return };
        let bytes = match d.to_bytes() {
            Ok(b) => b,
            Err(e) => panic!("a valid datagram does not encode: {e}\n{d:?}"),
        };
        let back = match DatagramRepr::parse(&bytes, 0) {
            Ok(b) => b,
            Err(e) => panic!("an encoded datagram does not parse: {e}\n{d:?}\n{bytes:02x?}"),
        };
        assert_same(&d, &back, &format!("emit -> parse\n{bytes:02x?}"));
        let (again, errors) = DatagramRepr::parse_with_errors(&bytes).unwrap();
        assert_same(&again, &back, "parse_with_errors vs parse");
        assert!(
            errors.is_empty(),
            "errors decoding a valid datagram: {errors:?}"
        );
        black_box(back);
    } else {
        let _ = check_exporter(&mut u);
    }
});
