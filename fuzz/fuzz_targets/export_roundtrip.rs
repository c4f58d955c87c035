//! The exporters: `FlowRecord`s built from `arbitrary` values (every typed field, extra
//! elements of any registry type and of unknown enterprises) pushed through the NetFlow v9 and
//! IPFIX exporters with arbitrary settings (small MTUs, few template ids, templates refreshed
//! often or never, every time encoding), and through the facade's v5 and sFlow exporters.
//!
//! Checked: nothing panics; every datagram fits its MTU and decodes in the facade `Collector`
//! without an error; as many flows come back as pushes were accepted, with the addresses,
//! ports and protocol they were given; and what came back, exported and decoded again, comes
//! back unchanged (a first pass may lose what the protocol cannot say, a second loses nothing).
#![no_main]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use arbitrary::{Result, Unstructured};
use flowwire::collector::{Collector, CollectorConfig, Event};
use flowwire::export::Exporter as FacadeExporter;
use flowwire::record::mapping::{self, TimeContext, TimeEncoding};
use flowwire::record::registry::{self, FieldId};
use flowwire::record::{DataType, MacAddr, Value};
use flowwire::{FlowRecord, ProtocolKind, Timestamp};
use flowwire_fuzz::assert_same;
use libfuzzer_sys::fuzz_target;

const EXPORTER: &str = "192.0.2.9:2055";
/// Export times start here; the exporter booted 30 days before (v9 uptime stays far from its
/// 49.7-day wrap, and flow times within ±24 days of an export time read back unambiguously).
const BASE_MS: u64 = 1_700_000_000_000;
const BOOT_MS: u64 = BASE_MS - 30 * 86_400_000;

fn opt<'a, T: arbitrary::Arbitrary<'a>>(u: &mut Unstructured<'a>) -> Result<Option<T>> {
    Ok(if u.arbitrary()? {
        Some(u.arbitrary()?)
    } else {
        None
    })
}

fn addr(u: &mut Unstructured<'_>) -> Result<IpAddr> {
    Ok(if u.arbitrary()? {
        IpAddr::from(u.arbitrary::<[u8; 4]>()?)
    } else {
        IpAddr::from(u.arbitrary::<[u8; 16]>()?)
    })
}

fn opt_addr(u: &mut Unstructured<'_>) -> Result<Option<IpAddr>> {
    Ok(if u.arbitrary()? { Some(addr(u)?) } else { None })
}

fn opt_time(u: &mut Unstructured<'_>) -> Result<Option<Timestamp>> {
    Ok(if u.arbitrary()? {
        let ms = BASE_MS - 20 * 86_400_000 + u.int_in_range(0..=21 * 86_400_000u64)?;
        Some(Timestamp::from_unix_millis(ms))
    } else {
        None
    })
}

/// An extra field that stays an extra when decoded: a registry element that maps to no typed
/// field, with a value of its type, or an unknown enterprise element with an octet array.
fn extra(u: &mut Unstructured<'_>, record: &mut FlowRecord) -> Result<()> {
    let (field, data_type) = if u.ratio(1, 4)? {
        let pen = u.int_in_range(1..=u32::MAX)?;
        let id = u.int_in_range(1..=0x7fff)?;
        (FieldId::enterprise(pen, id), DataType::OctetArray)
    } else {
        let all: Vec<_> = registry::builtin().collect();
        let ie = u.choose(&all)?;
        (ie.field_id(), ie.data_type)
    };
    // Counters whose absence of typed octets/packets `mapping::finish` fills from.
    if field.pen == 0 && matches!(field.id, 85 | 86 | 231 | 232 | 298 | 299) {
        return Ok(());
    }
    let len = match data_type.natural_len() {
        Some(n) => n,
        None => u.int_in_range(0..=40)?,
    };
    let bytes = u.bytes(len)?;
    let value = Value::decode_lenient(data_type, bytes);
    // Relative times (flowEndDeltaMicroseconds...) become typed fields in a message.
    let in_a_message = TimeContext {
        export_time: Some(Timestamp::from_unix_millis(BASE_MS)),
        sys_uptime_ms: Some(1000),
        system_init_time: Some(Timestamp::from_unix_millis(BOOT_MS)),
    };
    let stays_extra = [TimeContext::default(), in_a_message].iter().all(|time| {
        let mut probe = FlowRecord::default();
        mapping::apply(&mut probe, field, value, time);
        probe.extra.len() == 1 && probe.extra_field(field).is_some()
    });
    if stays_extra {
        record.push_extra(field, value);
    }
    Ok(())
}

fn flow(u: &mut Unstructured<'_>) -> Result<FlowRecord> {
    let mut f = FlowRecord {
        src_addr: opt_addr(u)?,
        dst_addr: opt_addr(u)?,
        src_port: opt(u)?,
        dst_port: opt(u)?,
        protocol: opt(u)?,
        tos: opt(u)?,
        tcp_flags: opt(u)?,
        octets: opt(u)?,
        packets: opt(u)?,
        start: opt_time(u)?,
        end: opt_time(u)?,
        in_if: opt(u)?,
        out_if: opt(u)?,
        src_as: opt(u)?,
        dst_as: opt(u)?,
        next_hop: opt_addr(u)?,
        bgp_next_hop: opt_addr(u)?,
        src_mask: opt(u)?,
        dst_mask: opt(u)?,
        vlan: opt(u)?,
        inner_vlan: opt(u)?,
        src_mac: opt::<[u8; 6]>(u)?.map(MacAddr),
        dst_mac: opt::<[u8; 6]>(u)?.map(MacAddr),
        icmp_type: opt(u)?,
        icmp_code: opt(u)?,
        flow_label: opt(u)?,
        direction: opt(u)?,
        end_reason: opt(u)?,
        forwarding_status: opt(u)?,
        mpls_label: opt(u)?,
        post_nat_src_addr: opt_addr(u)?,
        post_nat_dst_addr: opt_addr(u)?,
        post_nat_src_port: opt(u)?,
        post_nat_dst_port: opt(u)?,
        sampling_interval: opt(u)?,
        sampling_algorithm: opt(u)?,
        ..FlowRecord::default()
    };
    for _ in 0..u.int_in_range(0..=3)? {
        extra(u, &mut f)?;
    }
    Ok(f)
}

/// `FLOWWIRE_FUZZ_DEBUG=1` prints the settings and each push's result (to read a crash).
fn debugging() -> bool {
    std::env::var_os("FLOWWIRE_FUZZ_DEBUG").is_some()
}

/// The settings of an exporter under test.
#[derive(Clone, Debug)]
enum Settings {
    V9(flowwire::netflow::ExporterConfig),
    Ipfix(flowwire::ipfix::exporter::ExporterConfig),
    /// v5 and sFlow through the facade, at its defaults.
    Facade(ProtocolKind),
}

impl Settings {
    fn arbitrary(u: &mut Unstructured<'_>, kind: ProtocolKind) -> Result<Settings> {
        Ok(match kind {
            ProtocolKind::Netflow9 => Settings::V9(flowwire::netflow::ExporterConfig {
                mtu: u.int_in_range(100..=1500)?,
                source_id: u.arbitrary()?,
                template_refresh_packets: u.int_in_range(0..=4)?,
                template_refresh_interval: Duration::from_secs(u.int_in_range(0..=600)?),
                max_templates: u.int_in_range(1..=6)?,
            }),
            ProtocolKind::Ipfix => Settings::Ipfix(flowwire::ipfix::exporter::ExporterConfig {
                observation_domain_id: u.arbitrary()?,
                max_message_len: u.int_in_range(100..=1500)?,
                template_refresh: Duration::from_secs(u.int_in_range(0..=600)?),
                time_encoding: *u.choose(&[
                    TimeEncoding::Milliseconds,
                    TimeEncoding::Nanoseconds,
                    TimeEncoding::Seconds,
                ])?,
            }),
            kind => Settings::Facade(kind),
        })
    }
}

/// One exporter under test.
enum Under {
    V9(Box<flowwire::netflow::V9Exporter>),
    Ipfix(Box<flowwire::ipfix::exporter::Exporter>),
    Facade(Box<FacadeExporter>),
}

struct Run {
    exporter: Under,
    /// The largest datagram it may send.
    mtu: usize,
}

impl Run {
    fn new(settings: &Settings) -> Run {
        let boot = Timestamp::from_unix_millis(BOOT_MS);
        match settings.clone() {
            Settings::V9(config) => Run {
                mtu: config.mtu,
                exporter: Under::V9(Box::new(flowwire::netflow::V9Exporter::new(config, boot))),
            },
            Settings::Ipfix(config) => Run {
                mtu: config.max_message_len,
                exporter: Under::Ipfix(Box::new(flowwire::ipfix::exporter::Exporter::new(config))),
            },
            Settings::Facade(kind) => Run {
                // v5 datagrams hold 30 records: 24 + 30 × 48 octets.
                mtu: if kind == ProtocolKind::Netflow5 {
                    1464
                } else {
                    1400
                },
                exporter: Under::Facade(Box::new(FacadeExporter::new(kind, boot))),
            },
        }
    }

    /// Pushes `flows`, one every `steps[i]` seconds; returns the datagrams and which flows
    /// were accepted.
    fn export(&mut self, flows: &[(FlowRecord, u8)]) -> (Vec<Vec<u8>>, Vec<bool>) {
        let mut out = Vec::new();
        let mut accepted = Vec::with_capacity(flows.len());
        let mut now = Timestamp::from_unix_millis(BASE_MS);
        for (f, step) in flows {
            now = now.add_millis(i64::from(*step) * 1000);
            let result = match &mut self.exporter {
                Under::V9(e) => e.push(f, now, &mut out).map_err(|e| e.to_string()),
                Under::Ipfix(e) => {
                    let r = e.flow(f, now).map_err(|e| e.to_string());
                    out.extend(e.drain());
                    r
                }
                Under::Facade(e) => e.push(f, now, &mut out).map_err(|e| e.to_string()),
            };
            if debugging() {
                eprintln!("{f:?} -> {result:?}");
            }
            let ok = result.is_ok();
            accepted.push(ok);
        }
        match &mut self.exporter {
            Under::V9(e) => e.flush(now, &mut out),
            Under::Ipfix(e) => {
                e.flush();
                out.extend(e.drain());
            }
            Under::Facade(e) => {
                if e.flush(now, &mut out).is_err() {
                    // v5 encodes its records at flush: a refused batch is reported here.
                    accepted.iter_mut().for_each(|a| *a = false);
                    out.clear();
                }
            }
        }
        (out, accepted)
    }
}

/// Decodes `datagrams` in a fresh collector; any error fails the target.
fn collect(datagrams: &[Vec<u8>], mtu: usize, kind: ProtocolKind) -> Vec<FlowRecord> {
    let mut collector = Collector::new(CollectorConfig::default());
    let exporter: SocketAddr = EXPORTER.parse().expect("a socket address");
    let mut flows = Vec::new();
    for d in datagrams {
        assert!(d.len() <= mtu, "{kind:?} datagram of {} > {mtu}", d.len());
        let now = Timestamp::from_unix_millis(BASE_MS);
        let got = collector.feed(exporter, now, d, |e| match e {
            Event::Flow(f) => flows.push(content(f.clone())),
            Event::Error(e) => panic!("{kind:?}: an exported datagram does not decode: {e}"),
            _ => {}
        });
        assert_eq!(got, Some(kind), "detected protocol");
    }
    flows
}

/// A flow without what the collector adds from the datagram and its sender.
fn content(mut f: FlowRecord) -> FlowRecord {
    f.exporter = None;
    f.agent = None;
    f.domain = None;
    f.sequence = None;
    f.export_time = None;
    for x in &mut f.extra {
        x.name = None;
    }
    f
}

fn same_key(kind: ProtocolKind, sent: &FlowRecord, got: &FlowRecord) {
    // sFlow carries a sampled packet header built from the record: fields it cannot say
    // (no ports without a protocol that has them) are left out.
    if kind == ProtocolKind::Sflow5 {
        return;
    }
    let want = (
        sent.src_addr,
        sent.dst_addr,
        sent.src_port,
        sent.dst_port,
        sent.protocol,
    );
    let have = (
        got.src_addr,
        got.dst_addr,
        got.src_port,
        got.dst_port,
        got.protocol,
    );
    if kind == ProtocolKind::Netflow5 {
        // v5 has no "absent": a missing field is sent as zero.
        let z = |a: Option<IpAddr>| a.or(Some(IpAddr::from([0, 0, 0, 0])));
        let n = |x: Option<u16>| x.or(Some(0));
        let want = (
            z(want.0),
            z(want.1),
            n(want.2),
            n(want.3),
            want.4.or(Some(0)),
        );
        assert_eq!(want, have, "v5 flow key");
        return;
    }
    assert_eq!(want, have, "{kind:?} flow key");
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(kind) = u.choose(&[
        ProtocolKind::Netflow9,
        ProtocolKind::Ipfix,
        ProtocolKind::Netflow5,
        ProtocolKind::Sflow5,
    ]) else {
        return;
    };
    let kind = *kind;
    let mut flows = Vec::new();
    let Ok(n) = u.int_in_range(1..=40usize) else {
        return;
    };
    for _ in 0..n {
        let (Ok(f), Ok(step)) = (flow(&mut u), u.arbitrary::<u8>()) else {
            break;
        };
        flows.push((f, step % 4));
    }
    if flows.is_empty() {
        return;
    }
    let Ok(settings) = Settings::arbitrary(&mut u, kind) else {
        return;
    };
    let mut first = Run::new(&settings);
    if debugging() {
        eprintln!("{settings:?}");
    }

    let (datagrams, accepted) = first.export(&flows);
    let got = collect(&datagrams, first.mtu, kind);
    let sent: Vec<&FlowRecord> = flows
        .iter()
        .zip(&accepted)
        .filter(|(_, a)| **a)
        .map(|((f, _), _)| f)
        .collect();
    assert_eq!(got.len(), sent.len(), "{kind:?}: flows decoded vs accepted");
    for (s, g) in sent.iter().zip(&got) {
        same_key(kind, s, g);
    }

    // The second pass: what came back, exported the same way (same times), decodes the same.
    let steps: Vec<u8> = flows
        .iter()
        .zip(&accepted)
        .filter(|(_, a)| **a)
        .map(|((_, s), _)| *s)
        .collect();
    let replay: Vec<(FlowRecord, u8)> = got.iter().cloned().zip(steps).collect();
    let mut second = Run::new(&settings);
    let (datagrams2, accepted2) = second.export(&replay);
    assert!(
        accepted2.iter().all(|a| *a),
        "{kind:?}: a decoded flow is refused on re-export"
    );
    let got2 = collect(&datagrams2, second.mtu, kind);
    assert_eq!(got2.len(), got.len(), "{kind:?}: second pass count");
    for (a, b) in got.iter().zip(&got2) {
        assert_same(a, b, "export -> decode is stable after one pass");
    }
});
