//! The comparison bench: flowwire against netflow_parser 1.0.6 (NetFlow v9 and IPFIX decode
//! and re-export) and flowparser-sflow 0.3.0 (sFlow decode), and against the hand-written
//! fixed-width decoder, the "step over records reading two counters" baseline and `memcpy`,
//! all fed the same bytes in one run.
//!
//! Before anything is timed, every decoder's output is checked against the generator's
//! values (5-tuple, octets, packets and more) record by record; a disagreement aborts the
//! run. After the run the ratios against the targets are printed (and
//! `src/bin/bench-report.rs` writes them to `RESULTS.md`).
//!
//! flowwire's hot paths (the same work as before the codecs moved onto one contract):
//! - v9 decode: `Decoder::decode` with a closure sink, each record converted into the
//!   session's own reused `FlowRecord`;
//! - IPFIX decode: `Session::decode_records` with a closure `Visitor` and
//!   `RecordContext::flow_record_into` into the bench's reused `FlowRecord` (the zero-copy
//!   path; `Decoder::decode` is this plus a check for options records);
//! - encode: `codec::Exporter::push` and `flush`, the messages handed to a closure that
//!   reads them as a socket send would (the exporters lend each message, nothing is
//!   allocated per message);
//! - sFlow decode: the datagram view and `convert::flow_record_into` per flow sample into a
//!   reused `FlowRecord` (no session, as the peer keeps none), and, for reference, the
//!   session's `Decoder::decode` with a closure sink.
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use criterion::{Criterion, Throughput};
use flowwire_benches::report;
use flowwire_benches::{
    Flow, Packets, SflowFlow, flow_into_record, handwritten_decode, handwritten_decode_ipfix,
    ipfix, ipfix_records, ipfix_step_two_counters, netflow9, runtime_width_decode, sflow,
    v9_records, v9_step_two_counters,
};
use flowwire_record::codec::{Decoder as _, Exporter as _};
use flowwire_record::emit::{EmitPlan, EmitScratch, EmitTimes, layout_key};
use flowwire_record::{FlowRecord, Timestamp};

/// Data packets per protocol: 64 × 22 = 1408 records (≈ 90 kB, fits in L2).
const PACKETS: usize = 64;
/// sFlow samples (7 per datagram).
const SAMPLES: usize = 1400;

fn exporter() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 2055)
}

fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_100)
}

fn v4(a: Option<IpAddr>) -> [u8; 4] {
    match a {
        Some(IpAddr::V4(a)) => a.octets(),
        _ => [0; 4],
    }
}

/// What every decoder must agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    proto: u8,
    octets: u64,
    packets: u64,
    in_if: u32,
    out_if: u32,
    src_as: u32,
    dst_as: u32,
}

impl Key {
    fn of_flow(f: &Flow) -> Key {
        Key {
            src: f.src,
            dst: f.dst,
            sport: f.sport,
            dport: f.dport,
            proto: f.proto,
            octets: f.octets,
            packets: f.packets,
            in_if: f.in_if,
            out_if: f.out_if,
            src_as: f.src_as,
            dst_as: f.dst_as,
        }
    }
    fn of_record(r: &FlowRecord) -> Key {
        Key {
            src: v4(r.src_addr()),
            dst: v4(r.dst_addr()),
            sport: r.src_port().unwrap_or(0),
            dport: r.dst_port().unwrap_or(0),
            proto: r.protocol().unwrap_or(0),
            octets: r.octets().unwrap_or(0),
            packets: r.packets().unwrap_or(0),
            in_if: r.in_if().unwrap_or(0),
            out_if: r.out_if().unwrap_or(0),
            src_as: r.src_as().unwrap_or(0),
            dst_as: r.dst_as().unwrap_or(0),
        }
    }
}

fn check(what: &str, got: &[Key], want: &[Key]) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} records decoded, {} expected",
        got.len(),
        want.len()
    );
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "{what}: record {i} differs");
    }
    println!("check: {what}: all {} records agree", got.len());
}

// ---- netflow_parser ----------------------------------------------------------------------

mod np {
    use super::Key;
    use netflow_parser::variable_versions::ipfix::{
        FlowSetBody as IpfixBody, IPFix, IPFixFlowRecord,
    };
    use netflow_parser::variable_versions::v9::{FlowSetBody as V9Body, V9, V9FlowRecord};
    use netflow_parser::{FieldValue, NetflowPacket, NetflowParser};
    use std::net::Ipv4Addr;

    fn ip(v: &FieldValue) -> [u8; 4] {
        match v {
            FieldValue::Ip4Addr(a) => a.octets(),
            _ => Ipv4Addr::UNSPECIFIED.octets(),
        }
    }
    fn n(v: &FieldValue) -> u64 {
        v.as_u64()
            .or_else(|| v.as_u8().map(u64::from))
            .unwrap_or(u64::MAX)
    }

    /// Key of a record in the generator's field order (netflow_parser keeps template order).
    fn key<F>(r: &[(F, FieldValue)]) -> Key {
        Key {
            src: ip(&r[0].1),
            dst: ip(&r[1].1),
            sport: n(&r[2].1) as u16,
            dport: n(&r[3].1) as u16,
            proto: n(&r[4].1) as u8,
            octets: n(&r[9].1),
            packets: n(&r[10].1),
            in_if: n(&r[7].1) as u32,
            out_if: n(&r[8].1) as u32,
            src_as: n(&r[13].1) as u32,
            dst_as: n(&r[14].1) as u32,
        }
    }

    pub(super) fn v9_records(p: &V9) -> impl Iterator<Item = &V9FlowRecord> {
        p.flowsets.iter().flat_map(|s| match &s.body {
            V9Body::Data(d) => d.fields.as_slice(),
            _ => &[],
        })
    }

    pub(super) fn ipfix_records(p: &IPFix) -> impl Iterator<Item = &IPFixFlowRecord> {
        p.flowsets.iter().flat_map(|s| match &s.body {
            IpfixBody::Data(d) => d.fields.as_slice(),
            _ => &[],
        })
    }

    /// Parses one datagram; the keys of its data records.
    pub(super) fn keys(parser: &mut NetflowParser, bytes: &[u8], out: &mut Vec<Key>) {
        let res = parser.parse_bytes(bytes);
        assert!(res.error.is_none(), "netflow_parser: {:?}", res.error);
        for p in &res.packets {
            match p {
                NetflowPacket::V9(v) => out.extend(v9_records(v).map(|r| key(r))),
                NetflowPacket::IPFix(x) => out.extend(ipfix_records(x).map(|r| key(r))),
                _ => {}
            }
        }
    }

    /// The timed loop: parse, and read the octets of every record (as a collector would).
    #[inline]
    pub(super) fn decode_sum(parser: &mut NetflowParser, bytes: &[u8]) -> u64 {
        let mut sum = 0u64;
        for p in parser.parse_bytes(bytes).packets {
            match &p {
                NetflowPacket::V9(v) => {
                    for r in v9_records(v) {
                        sum = sum.wrapping_add(r.len() as u64 ^ n(&r[9].1));
                    }
                }
                NetflowPacket::IPFix(x) => {
                    for r in ipfix_records(x) {
                        sum = sum.wrapping_add(r.len() as u64 ^ n(&r[9].1));
                    }
                }
                _ => {}
            }
        }
        sum
    }

    pub(super) fn parse_v9(parser: &mut NetflowParser, bytes: &[u8]) -> V9 {
        match parser.parse_bytes(bytes).packets.into_iter().next() {
            Some(NetflowPacket::V9(v)) => v,
            other => panic!("not a v9 packet: {other:?}"),
        }
    }

    pub(super) fn parse_ipfix(parser: &mut NetflowParser, bytes: &[u8]) -> IPFix {
        match parser.parse_bytes(bytes).packets.into_iter().next() {
            Some(NetflowPacket::IPFix(v)) => v,
            other => panic!("not an IPFIX packet: {other:?}"),
        }
    }
}

// ---- flowwire decode paths ---------------------------------------------------------------

mod fw {
    use super::{exporter, now};
    use flowwire_ipfix::session::RecordContext;
    use flowwire_ipfix::wire::data::{DataRecord, RecordIter};
    use flowwire_ipfix::wire::message::Message;
    use flowwire_ipfix::wire::set::SetKind;
    use flowwire_netflow::wire::v9_flowset::FlowSetKind;
    use flowwire_netflow::wire::v9_packet::V9Packet;
    use flowwire_record::FlowRecord;
    use flowwire_record::codec::{Collect, Decoder, Summary};

    pub(super) type V9Session = flowwire_netflow::session::Session;
    pub(super) type IpfixSession = flowwire_ipfix::session::Session;

    pub(super) fn v9_session(template: &[u8]) -> V9Session {
        let mut s = V9Session::default();
        let mut got = Collect::<flowwire_netflow::Error>::default();
        s.decode(exporter(), now(), template, &mut got);
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        assert_eq!(got.templates.len(), 1, "v9 template packet");
        s
    }

    pub(super) fn ipfix_session(template: &[u8]) -> IpfixSession {
        let mut s = IpfixSession::default();
        let mut got = Collect::<flowwire_ipfix::Error>::default();
        s.decode(exporter(), now(), template, &mut got);
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        assert_eq!(got.templates.len(), 1, "IPFIX template message");
        s
    }

    /// Full session decode of a v9 datagram into a reused FlowRecord (the session's).
    #[inline]
    pub(super) fn v9_decode(
        s: &mut V9Session,
        bytes: &[u8],
        f: &mut impl FnMut(&FlowRecord),
    ) -> Summary {
        s.decode(exporter(), now(), bytes, f)
    }

    /// Full session decode of an IPFIX message into `rec`, calling `f` per record. The data
    /// has no options records, so every record is a flow.
    #[inline]
    pub(super) fn ipfix_decode(
        s: &mut IpfixSession,
        bytes: &[u8],
        rec: &mut FlowRecord,
        f: &mut impl FnMut(&FlowRecord),
    ) -> Summary {
        let mut visit = |ctx: &RecordContext<'_>, r: &DataRecord<'_, '_>| {
            ctx.flow_record_into(r, rec);
            f(rec);
        };
        s.decode_records(exporter(), now(), bytes, &mut visit)
    }

    /// Asserts a decode went cleanly (outside the timed loops).
    pub(super) fn clean(what: &str, s: Summary) {
        assert!(s.errors == 0 && s.missing_templates == 0, "{what}: {s:?}");
    }

    /// Zero-copy views: every (field, value) of every data record; returns (fields, xor).
    #[inline]
    pub(super) fn v9_views(t: &flowwire_netflow::Template, bytes: &[u8]) -> (u64, u64) {
        let mut n = 0u64;
        let mut acc = 0u64;
        let Ok(p) = V9Packet::new_checked(bytes) else {
            return (0, 0);
        };
        for fs in p.flowsets().flatten() {
            if let FlowSetKind::Data(_) = fs.kind() {
                for r in fs.data_records(t).flatten() {
                    for (_, v) in r.fields() {
                        n += 1;
                        acc ^= v.as_u64().unwrap_or(1);
                    }
                }
            }
        }
        (n, acc)
    }

    /// The same for IPFIX.
    #[inline]
    pub(super) fn ipfix_views(t: &flowwire_ipfix::template::Template, bytes: &[u8]) -> (u64, u64) {
        let mut n = 0u64;
        let mut acc = 0u64;
        let Ok(m) = Message::new_checked(bytes) else {
            return (0, 0);
        };
        for set in m.sets().flatten() {
            if let SetKind::Data(_) = set.kind() {
                for r in RecordIter::new(set.body(), set.body_offset(), t).flatten() {
                    for (_, v) in r.fields() {
                        n += 1;
                        acc ^= v.as_u64().unwrap_or(1);
                    }
                }
            }
        }
        (n, acc)
    }
}

// ---- NetFlow v9 and IPFIX decode ---------------------------------------------------------

fn decode_group(c: &mut Criterion, proto: &str) {
    let is_ipfix = proto == "ipfix";
    let packets: Packets = if is_ipfix {
        ipfix(PACKETS, 7)
    } else {
        netflow9(PACKETS, 7)
    };
    let records = packets.flows.len() as u64;
    let want: Vec<Key> = packets.flows.iter().map(Key::of_flow).collect();

    // --- check every decoder first ---
    let mut got = Vec::new();
    for p in &packets.data {
        if is_ipfix {
            got.extend(ipfix_records(p).map(|r| Key::of_flow(&handwritten_decode_ipfix(r))));
        } else {
            got.extend(v9_records(p).map(|r| Key::of_flow(&handwritten_decode(r))));
        }
    }
    check(&format!("{proto} hand-written"), &got, &want);
    got.clear();
    let mut r0 = FlowRecord::default();
    for p in &packets.data {
        let flows: Vec<Flow> = if is_ipfix {
            ipfix_records(p).map(handwritten_decode_ipfix).collect()
        } else {
            v9_records(p).map(handwritten_decode).collect()
        };
        for f in &flows {
            flow_into_record(f, &mut r0);
            got.push(Key::of_record(&r0));
        }
    }
    check(
        &format!("{proto} hand-written into FlowRecord"),
        &got,
        &want,
    );
    let layout: &[(u16, u16)] = if is_ipfix {
        &flowwire_benches::IPFIX_FIELDS
    } else {
        &flowwire_benches::V9_FIELDS
    };
    got.clear();
    for p in &packets.data {
        if is_ipfix {
            got.extend(ipfix_records(p).map(|r| Key::of_flow(&runtime_width_decode(r, layout))));
        } else {
            got.extend(v9_records(p).map(|r| Key::of_flow(&runtime_width_decode(r, layout))));
        }
    }
    check(
        &format!("{proto} hand-written, widths at run time"),
        &got,
        &want,
    );
    let (oct, pkt) = packets.data.iter().fold((0u64, 0u64), |(o, k), p| {
        let (a, b) = if is_ipfix {
            ipfix_step_two_counters(p)
        } else {
            v9_step_two_counters(p)
        };
        (o.wrapping_add(a), k.wrapping_add(b))
    });
    assert_eq!(
        (oct, pkt),
        packets.flows.iter().fold((0u64, 0u64), |(o, k), f| (
            o.wrapping_add(f.octets),
            k.wrapping_add(f.packets)
        )),
        "{proto} two counters"
    );
    println!("check: {proto} two counters: sums agree");

    let mut v9s = fw::v9_session(&netflow9(0, 7).template);
    let mut ipfixs = fw::ipfix_session(&ipfix(0, 7).template);
    let mut rec = FlowRecord::default();
    got.clear();
    for p in &packets.data {
        let summary = if is_ipfix {
            fw::ipfix_decode(&mut ipfixs, p, &mut rec, &mut |r: &FlowRecord| {
                got.push(Key::of_record(r))
            })
        } else {
            fw::v9_decode(&mut v9s, p, &mut |r: &FlowRecord| {
                got.push(Key::of_record(r))
            })
        };
        fw::clean(proto, summary);
    }
    check(&format!("{proto} flowwire session"), &got, &want);

    // The compiled plan of flow-record (what the sessions do not use yet), on the data set
    // bodies: what a session would cost per record if it did.
    let plan = {
        use flowwire_record::plan::{PlanField, RecordPlan};
        let f = if is_ipfix {
            flowwire_benches::IPFIX_FIELDS
        } else {
            flowwire_benches::V9_FIELDS
        };
        let fields: Vec<PlanField> = f
            .iter()
            .map(|&(id, len)| PlanField::new(flowwire_record::FieldId::iana(id), len))
            .collect();
        RecordPlan::compile(&fields, &flowwire_record::registry::Registry::new())
    };
    let time = flowwire_record::mapping::TimeContext {
        export_time: Some(now()),
        sys_uptime_ms: (!is_ipfix).then_some(3_700_000),
        system_init_time: None,
    };
    let (hdr, rlen) = if is_ipfix {
        (16, flowwire_benches::IPFIX_RECORD_LEN)
    } else {
        (20, flowwire_benches::V9_RECORD_LEN)
    };
    let bodies: Vec<&[u8]> = packets
        .data
        .iter()
        .map(|p| {
            let set_len = usize::from(u16::from_be_bytes([p[hdr + 2], p[hdr + 3]]));
            let n = (set_len - 4) / rlen;
            &p[hdr + 4..hdr + 4 + n * rlen]
        })
        .collect();
    let plan_decode = |body: &[u8], rec: &mut FlowRecord, f: &mut dyn FnMut(&FlowRecord)| {
        let mut body = body;
        while !body.is_empty() {
            let used = plan.decode(body, &time, rec).unwrap_or(body.len());
            body = &body[used..];
            f(rec);
        }
    };
    got.clear();
    for b in &bodies {
        plan_decode(b, &mut rec, &mut |r: &FlowRecord| {
            got.push(Key::of_record(r))
        });
    }
    check(&format!("{proto} flowwire RecordPlan"), &got, &want);

    let v9t = v9s
        .template(exporter(), 1, flowwire_benches::TEMPLATE_ID)
        .cloned()
        .expect("v9 template learned");
    let ipfixt = ipfixs
        .template(exporter(), 1, flowwire_benches::TEMPLATE_ID)
        .cloned()
        .expect("IPFIX template learned");
    let views = |p: &[u8]| {
        if is_ipfix {
            fw::ipfix_views(&ipfixt, p)
        } else {
            fw::v9_views(&v9t, p)
        }
    };
    let fields: u64 = packets.data.iter().map(|p| views(p).0).sum();
    assert_eq!(fields, records * 18, "{proto} views: field count");
    println!("check: {proto} flowwire views: {fields} fields");

    let mut npp = netflow_parser::NetflowParser::default();
    let mut sink = Vec::new();
    np::keys(&mut npp, &packets.template, &mut sink);
    got.clear();
    for p in &packets.data {
        np::keys(&mut npp, p, &mut got);
    }
    check(&format!("{proto} netflow_parser"), &got, &want);

    // --- time them ---
    let mut g = c.benchmark_group(format!("decode {proto}"));
    g.throughput(Throughput::Elements(records));
    let mut run_hw = || {
        let mut sum = 0u64;
        for p in &packets.data {
            if is_ipfix {
                for r in ipfix_records(black_box(p)) {
                    let f = handwritten_decode_ipfix(r);
                    sum = sum.wrapping_add(f.octets ^ u64::from(f.src_as));
                    black_box(&f);
                }
            } else {
                for r in v9_records(black_box(p)) {
                    let f = handwritten_decode(r);
                    sum = sum.wrapping_add(f.octets ^ u64::from(f.src_as));
                    black_box(&f);
                }
            }
        }
        sum
    };
    let mut session_rec = FlowRecord::default();
    let mut run_fw = || {
        let mut sum = 0u64;
        let mut f = |r: &FlowRecord| sum = sum.wrapping_add(r.octets().unwrap_or(0));
        for p in &packets.data {
            if is_ipfix {
                fw::ipfix_decode(&mut ipfixs, black_box(p), &mut session_rec, &mut f);
            } else {
                fw::v9_decode(&mut v9s, black_box(p), &mut f);
            }
        }
        sum
    };
    let mut run_np = || {
        let mut sum = 0u64;
        for p in &packets.data {
            sum = sum.wrapping_add(np::decode_sum(&mut npp, black_box(p)));
        }
        sum
    };
    g.bench_function("hand-written fixed-width", |b| b.iter(&mut run_hw));
    let mut hw_rec = FlowRecord::default();
    g.bench_function("hand-written fixed-width into FlowRecord", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for p in &packets.data {
                if is_ipfix {
                    for r in ipfix_records(black_box(p)) {
                        flow_into_record(&handwritten_decode_ipfix(r), &mut hw_rec);
                        sum = sum.wrapping_add(hw_rec.octets().unwrap_or(0));
                        black_box(&hw_rec);
                    }
                } else {
                    for r in v9_records(black_box(p)) {
                        flow_into_record(&handwritten_decode(r), &mut hw_rec);
                        sum = sum.wrapping_add(hw_rec.octets().unwrap_or(0));
                        black_box(&hw_rec);
                    }
                }
            }
            sum
        })
    });
    g.bench_function("hand-written, widths at run time", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for p in &packets.data {
                if is_ipfix {
                    for r in ipfix_records(black_box(p)) {
                        let f = runtime_width_decode(r, black_box(layout));
                        sum = sum.wrapping_add(f.octets ^ u64::from(f.src_as));
                        black_box(&f);
                    }
                } else {
                    for r in v9_records(black_box(p)) {
                        let f = runtime_width_decode(r, black_box(layout));
                        sum = sum.wrapping_add(f.octets ^ u64::from(f.src_as));
                        black_box(&f);
                    }
                }
            }
            sum
        })
    });
    g.bench_function("step over records, two counters", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for p in &packets.data {
                let (o, k) = if is_ipfix {
                    ipfix_step_two_counters(black_box(p))
                } else {
                    v9_step_two_counters(black_box(p))
                };
                sum = sum.wrapping_add(o ^ k);
            }
            sum
        })
    });
    g.bench_function("flowwire session to FlowRecord", |b| b.iter(&mut run_fw));
    g.bench_function("flowwire RecordPlan to FlowRecord (set bodies)", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for body in &bodies {
                plan_decode(black_box(body), &mut rec, &mut |r: &FlowRecord| {
                    sum = sum.wrapping_add(r.octets().unwrap_or(0))
                });
            }
            sum
        })
    });
    g.bench_function("netflow_parser", |b| b.iter(&mut run_np));
    g.throughput(Throughput::Elements(records * 18));
    g.bench_function("flowwire views (fields)", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for p in &packets.data {
                let (n, acc) = views(black_box(p));
                sum = sum.wrapping_add(n ^ acc);
            }
            sum
        })
    });
    g.finish();
    interleave(
        &format!("decode {proto}: session / netflow_parser"),
        &mut run_fw,
        &mut run_np,
    );
    interleave(
        &format!("decode {proto}: session / hand-written"),
        &mut run_fw,
        &mut run_hw,
    );
}

fn decode_v9(c: &mut Criterion) {
    decode_group(c, "v9");
}

fn decode_ipfix(c: &mut Criterion) {
    decode_group(c, "ipfix");
}

// ---- encode ------------------------------------------------------------------------------

fn encode_group(c: &mut Criterion, proto: &str) {
    let is_ipfix = proto == "ipfix";
    let packets = if is_ipfix {
        ipfix(PACKETS, 11)
    } else {
        netflow9(PACKETS, 11)
    };
    let want: Vec<Key> = packets.flows.iter().map(Key::of_flow).collect();
    // The records to encode: what flowwire decodes from the packets.
    let mut records = Vec::new();
    let mut rec = FlowRecord::default();
    if is_ipfix {
        let mut s = fw::ipfix_session(&packets.template);
        for p in &packets.data {
            fw::ipfix_decode(&mut s, p, &mut rec, &mut |r: &FlowRecord| {
                records.push(r.clone())
            });
        }
    } else {
        let mut s = fw::v9_session(&packets.template);
        for p in &packets.data {
            fw::v9_decode(&mut s, p, &mut |r: &FlowRecord| records.push(r.clone()));
        }
    }
    let n = records.len() as u64;
    let t0 = now();

    // The template goes out with the first packet and never again, as before.
    let v9_config = flowwire_netflow::V9ExporterConfig {
        template_refresh_packets: u32::MAX,
        template_refresh_interval: std::time::Duration::from_secs(1 << 30),
        boot: Some(Timestamp::from_unix_millis(1_700_000_100_000 - 3_700_000)),
        ..Default::default()
    };
    let mut v9x = flowwire_netflow::V9Exporter::new(v9_config);
    let mut ipfixx = flowwire_ipfix::Exporter::new(Default::default());
    let mut encode_all = |out: &mut dyn FnMut(&[u8])| {
        if is_ipfix {
            for r in &records {
                ipfixx.push(black_box(r), t0, out).expect("encodable");
            }
            ipfixx.flush(t0, out).expect("encodable");
        } else {
            for r in &records {
                v9x.push(black_box(r), t0, out).expect("encodable");
            }
            v9x.flush(t0, out).expect("encodable");
        }
    };
    // Warm up: the template is defined and sent once, then known; the second run's messages
    // are what the timed loop produces.
    encode_all(&mut |_| {});
    let mut out: Vec<Vec<u8>> = Vec::new();
    encode_all(&mut |m| out.push(m.to_vec()));
    let total: usize = out.iter().map(Vec::len).sum();
    println!(
        "{proto} encode: {n} records -> {} messages, {total} bytes",
        out.len()
    );
    // Check: flowwire decodes its own output back to the same values (the first message
    // carries no template now: give the session the one from the warm-up).
    {
        let mut warm: Vec<Vec<u8>> = Vec::new();
        let mut keep = |m: &[u8]| warm.push(m.to_vec());
        if is_ipfix {
            let mut x = flowwire_ipfix::Exporter::new(Default::default());
            x.push(&records[0], t0, &mut keep).expect("encodable");
            x.flush(t0, &mut keep).expect("encodable");
        } else {
            let mut x = flowwire_netflow::V9Exporter::new(v9_config);
            x.push(&records[0], t0, &mut keep).expect("encodable");
            x.flush(t0, &mut keep).expect("encodable");
        }
        let mut got = Vec::new();
        if is_ipfix {
            let mut s = fw::ipfix_session(&warm[0]);
            for m in &out {
                let summary = fw::ipfix_decode(&mut s, m, &mut rec, &mut |r: &FlowRecord| {
                    got.push(Key::of_record(r))
                });
                fw::clean("ipfix round trip", summary);
            }
        } else {
            let mut s = fw::v9_session(&warm[0]);
            for m in &out {
                let summary =
                    fw::v9_decode(&mut s, m, &mut |r: &FlowRecord| got.push(Key::of_record(r)));
                fw::clean("v9 round trip", summary);
            }
        }
        check(&format!("{proto} flowwire encode round trip"), &got, &want);
    }
    // netflow_parser: its parsed packets, re-exported.
    let mut npp = netflow_parser::NetflowParser::default();
    let _ = npp.parse_bytes(&packets.template);
    let np_v9: Vec<_> = if is_ipfix {
        Vec::new()
    } else {
        packets
            .data
            .iter()
            .map(|p| np::parse_v9(&mut npp, p))
            .collect()
    };
    let np_ipfix: Vec<_> = if is_ipfix {
        packets
            .data
            .iter()
            .map(|p| np::parse_ipfix(&mut npp, p))
            .collect()
    } else {
        Vec::new()
    };
    let np_bytes: Vec<Vec<u8>> = if is_ipfix {
        np_ipfix
            .iter()
            .map(|p| p.to_be_bytes().expect("re-export"))
            .collect()
    } else {
        np_v9
            .iter()
            .map(|p| p.to_be_bytes().expect("re-export"))
            .collect()
    };
    // Check: netflow_parser's re-export decodes (by flowwire) to the same values.
    {
        let mut got = Vec::new();
        if is_ipfix {
            let mut s = fw::ipfix_session(&packets.template);
            for m in &np_bytes {
                let summary = fw::ipfix_decode(&mut s, m, &mut rec, &mut |r: &FlowRecord| {
                    got.push(Key::of_record(r))
                });
                fw::clean("netflow_parser's IPFIX", summary);
            }
        } else {
            let mut s = fw::v9_session(&packets.template);
            for m in &np_bytes {
                let summary =
                    fw::v9_decode(&mut s, m, &mut |r: &FlowRecord| got.push(Key::of_record(r)));
                fw::clean("netflow_parser's v9", summary);
            }
        }
        check(&format!("{proto} netflow_parser to_be_bytes"), &got, &want);
        let same = np_bytes
            .iter()
            .zip(&packets.data)
            .filter(|(a, b)| a == b)
            .count();
        println!(
            "{proto} netflow_parser re-export: {same}/{} packets byte-identical",
            packets.data.len()
        );
    }

    let mut g = c.benchmark_group(format!("encode {proto}"));
    g.throughput(Throughput::Elements(n));
    let src = out.clone();
    let mut dst: Vec<Vec<u8>> = src.iter().map(|m| vec![0u8; m.len()]).collect();
    // Each message is read where it lies, as a socket send would; copying it out is what
    // the memcpy line costs on its own.
    let mut run_fw = || {
        let mut bytes = 0usize;
        encode_all(&mut |m| bytes += black_box(m).len());
        bytes as u64
    };
    let mut run_memcpy = || {
        for (d, s) in dst.iter_mut().zip(&src) {
            d.copy_from_slice(black_box(s));
        }
        black_box(&mut dst).len() as u64
    };
    let mut run_np = || {
        let mut len = 0usize;
        if is_ipfix {
            for p in &np_ipfix {
                len += black_box(p).to_be_bytes().map_or(0, |v| v.len());
            }
        } else {
            for p in &np_v9 {
                len += black_box(p).to_be_bytes().map_or(0, |v| v.len());
            }
        }
        len as u64
    };
    // The floor under the exporter: the compiled emit plan alone writing the same records
    // one after the other (no template, set or packet bookkeeping, no per-record checks).
    let times = if is_ipfix {
        EmitTimes::Absolute(flowwire_ipfix::ExporterConfig::default().time_encoding)
    } else {
        EmitTimes::SysUptime {
            boot: v9_config.boot.expect("boot"),
        }
    };
    let plan = EmitPlan::compile(layout_key(&records[0]), times).expect("plan");
    let mut scratch = EmitScratch::default();
    let mut body = Vec::with_capacity(1500);
    let mut run_plan = || {
        let mut bytes = 0usize;
        for chunk in records.chunks(20) {
            body.clear();
            for r in chunk {
                plan.append_with(black_box(r), &mut body, &mut scratch)
                    .expect("layout");
            }
            bytes += black_box(&body).len();
        }
        bytes as u64
    };
    g.bench_function("flowwire exporter", |b| b.iter(&mut run_fw));
    g.bench_function("flowwire EmitPlan alone (set bodies)", |b| {
        b.iter(&mut run_plan)
    });
    g.bench_function("memcpy of the output", |b| b.iter(&mut run_memcpy));
    g.bench_function("netflow_parser to_be_bytes", |b| b.iter(&mut run_np));
    g.finish();
    interleave(
        &format!("encode {proto}: exporter / netflow_parser to_be_bytes"),
        &mut run_fw,
        &mut run_np,
    );
    interleave(
        &format!("encode {proto}: exporter / memcpy"),
        &mut run_fw,
        &mut run_memcpy,
    );
}

fn encode_v9(c: &mut Criterion) {
    encode_group(c, "v9");
}

fn encode_ipfix(c: &mut Criterion) {
    encode_group(c, "ipfix");
}

// ---- sFlow -------------------------------------------------------------------------------

fn sflow_key(f: &SflowFlow) -> Key {
    Key {
        src: f.src,
        dst: f.dst,
        sport: f.sport,
        dport: f.dport,
        proto: f.proto,
        octets: u64::from(f.frame_length),
        packets: 1,
        in_if: f.in_if,
        out_if: f.out_if,
        src_as: 0,
        dst_as: 0,
    }
}

#[inline]
fn fw_sflow(
    bytes: &[u8],
    rec: &mut FlowRecord,
    errors: &mut Vec<flowwire_sflow::Error>,
    f: &mut impl FnMut(&FlowRecord),
) {
    use flowwire_sflow::convert::{DatagramInfo, flow_record_into};
    use flowwire_sflow::wire::{Datagram, SampleView};
    let Ok(d) = Datagram::new_checked(bytes) else {
        return;
    };
    let info = DatagramInfo::of(&d);
    for s in d.samples() {
        if let Ok(SampleView::Flow(fs)) = s.and_then(|s| s.view()) {
            flow_record_into(&info, &fs, rec, errors);
            f(rec);
        }
    }
}

fn flowparser_keys(bytes: &[u8], out: &mut Vec<Key>) {
    use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
    use flowparser_sflow::{FlowRecord as FpRecord, SflowSample};
    let res = flowparser_sflow::SflowParser::default().parse_bytes(bytes);
    assert!(res.error.is_none(), "flowparser-sflow: {:?}", res.error);
    for d in &res.datagrams {
        for s in &d.samples {
            let SflowSample::Flow(fs) = s else { continue };
            for r in &fs.records {
                let FpRecord::RawPacketHeader(h) = r else {
                    continue;
                };
                let p = LaxSlicedPacket::from_ethernet(&h.header).expect("header parses");
                let (src, dst, proto) = match &p.net {
                    Some(LaxNetSlice::Ipv4(ip)) => (
                        ip.header().source(),
                        ip.header().destination(),
                        ip.header().protocol().0,
                    ),
                    _ => panic!("not IPv4"),
                };
                let (sport, dport) = match &p.transport {
                    Some(TransportSlice::Tcp(t)) => (t.source_port(), t.destination_port()),
                    Some(TransportSlice::Udp(u)) => (u.source_port(), u.destination_port()),
                    _ => (0, 0),
                };
                out.push(Key {
                    src,
                    dst,
                    sport,
                    dport,
                    proto,
                    octets: u64::from(h.frame_length),
                    packets: 1,
                    in_if: fs.input & 0x3fff_ffff,
                    out_if: fs.output & 0x3fff_ffff,
                    src_as: 0,
                    dst_as: 0,
                });
            }
        }
    }
}

fn decode_sflow(c: &mut Criterion) {
    let sf = sflow(SAMPLES, 5);
    let want: Vec<Key> = sf.flows.iter().map(sflow_key).collect();
    let mut rec = FlowRecord::default();
    let mut errors = Vec::new();
    let mut got = Vec::new();
    for d in &sf.datagrams {
        fw_sflow(d, &mut rec, &mut errors, &mut |r: &FlowRecord| {
            got.push(Key::of_record(r))
        });
    }
    assert!(errors.is_empty(), "{errors:?}");
    // flowwire reports octets as the frame length less the stripped bytes, or the frame
    // length: accept either, as long as it is the same for every sample.
    let stripped = got
        .first()
        .zip(want.first())
        .map_or(0, |(g, w)| w.octets - g.octets);
    let want_fw: Vec<Key> = want
        .iter()
        .map(|k| Key {
            octets: k.octets - stripped,
            ..*k
        })
        .collect();
    check("sflow flowwire flow_record_into", &got, &want_fw);
    got.clear();
    // The session hands out the same records, with sequence tracking on top.
    let mut sfs = flowwire_sflow::Session::default();
    for d in &sf.datagrams {
        let summary = sfs.decode(exporter(), now(), d, &mut |r: &FlowRecord| {
            got.push(Key::of_record(r))
        });
        assert!(summary.errors == 0 && summary.counters == 0, "{summary:?}");
    }
    check("sflow flowwire Session::decode", &got, &want_fw);
    got.clear();
    for d in &sf.datagrams {
        let dec = flowwire_sflow::convert::decode(d).expect("datagram");
        got.extend(dec.flows.iter().map(Key::of_record));
    }
    check("sflow flowwire convert::decode", &got, &want_fw);
    got.clear();
    for d in &sf.datagrams {
        flowparser_keys(d, &mut got);
    }
    check(
        "sflow flowparser-sflow (+ etherparse on its header bytes)",
        &got,
        &want,
    );
    let bytes: usize = sf.datagrams.iter().map(Vec::len).sum();
    println!(
        "sflow: {} samples in {} datagrams, {bytes} bytes",
        sf.flows.len(),
        sf.datagrams.len()
    );

    let mut g = c.benchmark_group("decode sflow");
    g.throughput(Throughput::Elements(sf.flows.len() as u64));
    let mut run_fw = || {
        let mut sum = 0u64;
        for d in &sf.datagrams {
            errors.clear();
            fw_sflow(
                black_box(d),
                &mut rec,
                &mut errors,
                &mut |r: &FlowRecord| {
                    sum = sum.wrapping_add(
                        r.octets().unwrap_or(0) ^ u64::from(r.src_port().unwrap_or(0)),
                    )
                },
            );
        }
        sum
    };
    g.bench_function("flowwire flow_record_into FlowRecord", |b| {
        b.iter(&mut run_fw)
    });
    g.bench_function("flowwire Session::decode (sink)", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for d in &sf.datagrams {
                sfs.decode(exporter(), now(), black_box(d), &mut |r: &FlowRecord| {
                    sum = sum.wrapping_add(
                        r.octets().unwrap_or(0) ^ u64::from(r.src_port().unwrap_or(0)),
                    )
                });
            }
            sum
        })
    });
    g.bench_function("flowwire convert::decode (Vec<FlowRecord>)", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for d in &sf.datagrams {
                if let Ok(dec) = flowwire_sflow::convert::decode(black_box(d)) {
                    sum = sum.wrapping_add(dec.flows.len() as u64);
                }
            }
            sum
        })
    });
    let parser = flowparser_sflow::SflowParser::default();
    let mut run_fp = || {
        let mut sum = 0u64;
        for d in &sf.datagrams {
            let r = parser.parse_bytes(black_box(d));
            for dg in &r.datagrams {
                sum = sum.wrapping_add(dg.samples.len() as u64);
            }
        }
        sum
    };
    g.bench_function("flowparser-sflow", |b| b.iter(&mut run_fp));
    g.finish();
    interleave(
        "decode sflow: flow_record_into / flowparser-sflow",
        &mut run_fw,
        &mut run_fp,
    );
}

/// Speed ratios measured by alternating the two sides, for a second opinion on a busy
/// machine: criterion runs one benchmark after the other, so load that comes and goes skews
/// its ratios; here each round times `a` then `b` back to back (≥ 2 ms each) and the ratio is
/// the median over the rounds. Written to `interleaved.tsv` in the criterion directory.
static INTERLEAVED: std::sync::Mutex<Vec<(String, f64)>> = std::sync::Mutex::new(Vec::new());

fn interleave(name: &str, a: &mut dyn FnMut() -> u64, b: &mut dyn FnMut() -> u64) {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    use std::time::{Duration, Instant};
    let reps = |f: &mut dyn FnMut() -> u64| {
        let t = Instant::now();
        black_box(f());
        let one = t.elapsed().max(Duration::from_nanos(100));
        (Duration::from_millis(2).as_nanos() / one.as_nanos()).clamp(1, 10_000) as u32
    };
    let (ra, rb) = (reps(a), reps(b));
    let time = |f: &mut dyn FnMut() -> u64, n: u32| {
        let t = Instant::now();
        for _ in 0..n {
            black_box(f());
        }
        t.elapsed().as_secs_f64() / f64::from(n)
    };
    let mut ratios: Vec<f64> = (0..21)
        .map(|_| {
            let ta = time(a, ra);
            let tb = time(b, rb);
            tb / ta
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!(
        "interleaved: {name}: {median:.3}× (speed of the first relative to the second; rounds {:.3}-{:.3})",
        ratios[0],
        ratios[ratios.len() - 1]
    );
    if let Ok(mut v) = INTERLEAVED.lock() {
        v.push((name.to_string(), median));
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    decode_v9(&mut c);
    decode_ipfix(&mut c);
    encode_v9(&mut c);
    encode_ipfix(&mut c);
    decode_sflow(&mut c);
    c.final_summary();
    if let (Some(dir), Ok(v)) = (report::criterion_dir(), INTERLEAVED.lock())
        && !v.is_empty()
    {
        let tsv: String = v.iter().map(|(n, r)| format!("{n}\t{r}\n")).collect();
        if let Err(e) = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join("interleaved.tsv"), tsv))
        {
            eprintln!("interleaved.tsv: {e}");
        }
    }
    if let Some(dir) = report::criterion_dir() {
        match report::Results::load(&dir) {
            Ok(r) => println!("\n{}", r.targets_markdown()),
            Err(e) => eprintln!("no ratios: {e}"),
        }
    }
}
