//! The exporters, through the one `Exporter` trait: `FlowRecord`s from `arbitrary` values
//! (`flowwire_record::fuzzing`: every typed field, extra elements of any registry type and of
//! unknown enterprises; times anywhere in 2000-2100, or, for half the flows, between the
//! exporter's boot and the push) pushed through the NetFlow v5, NetFlow v9, IPFIX and sFlow
//! exporters with arbitrary settings (strict or not; v5: engine, 1-30 records per datagram;
//! v9: 100-1500-octet datagrams, source id, 1-6 template ids, templates refreshed every packet
//! or never; IPFIX: 100-1500-octet messages, domain, refresh, each time encoding; sFlow: agent,
//! sub-agent, 64-1500-octet datagrams, header bytes), at an arbitrary time in 2000-2100 with
//! the exporter booted up to 30 days before.
//!
//! Checked: nothing panics; the exporter's counters agree with what was accepted, refused and
//! sent (strict: nothing dropped); every datagram fits its limit and decodes in the facade
//! `Collector` as its protocol without an error; as many flows come back as pushes were
//! accepted, with the addresses, ports and protocol they were given (v5: absent ones as zero),
//! and each exactly as `exporter.restrict(&flow)` says (message context — kind, exporter,
//! agent, domain, sequence, export time — cleared on both sides); `restrict` is idempotent;
//! and what came back, exported and decoded again, comes back unchanged (a first pass may lose
//! what the protocol cannot say, a second loses nothing).
//!
//! `FLOWWIRE_FUZZ_DEBUG=1` prints the settings and each push.
#![no_main]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use arbitrary::{Result, Unstructured};
use flowwire::collector::detect;
use flowwire::record::mapping::TimeEncoding;
use flowwire::{
    Collector, DecodeError, Decoder, Exporter, FlowRecord, ProtocolKind, Sink, Timestamp,
};
use flowwire_fuzz::assert_same;
use libfuzzer_sys::fuzz_target;

const EXPORTER: &str = "192.0.2.9:2055";
const DAY_MS: i64 = 86_400_000;

/// `FLOWWIRE_FUZZ_DEBUG=1` prints the settings and each push's result (to read a crash).
fn debugging() -> bool {
    std::env::var_os("FLOWWIRE_FUZZ_DEBUG").is_some()
}

/// The settings of an exporter under test.
#[derive(Clone, Debug)]
enum Settings {
    V5(flowwire::netflow::V5ExporterConfig),
    V9(flowwire::netflow::V9ExporterConfig),
    Ipfix(flowwire::ipfix::ExporterConfig),
    Sflow(flowwire::sflow::ExporterConfig),
}

impl Settings {
    fn arbitrary(u: &mut Unstructured<'_>, kind: ProtocolKind, boot: Timestamp) -> Result<Self> {
        let strict = u.arbitrary()?;
        Ok(match kind {
            ProtocolKind::Netflow5 => Settings::V5(flowwire::netflow::V5ExporterConfig {
                engine_type: u.arbitrary()?,
                engine_id: u.arbitrary()?,
                max_records: u.int_in_range(1..=30)?,
                strict,
                boot: Some(boot),
            }),
            ProtocolKind::Netflow9 => Settings::V9(flowwire::netflow::V9ExporterConfig {
                max_datagram_len: u.int_in_range(100..=1500)?,
                source_id: u.arbitrary()?,
                template_refresh_packets: u.int_in_range(0..=4)?,
                template_refresh_interval: Duration::from_secs(u.int_in_range(0..=600)?),
                max_templates: u.int_in_range(1..=6)?,
                strict,
                boot: Some(boot),
            }),
            ProtocolKind::Ipfix => Settings::Ipfix(flowwire::ipfix::ExporterConfig {
                max_datagram_len: u.int_in_range(100..=1500)?,
                strict,
                observation_domain_id: u.arbitrary()?,
                template_refresh: Duration::from_secs(u.int_in_range(0..=600)?),
                time_encoding: *u.choose(&[
                    TimeEncoding::Milliseconds,
                    TimeEncoding::Nanoseconds,
                    TimeEncoding::Seconds,
                ])?,
            }),
            _ => Settings::Sflow(flowwire::sflow::ExporterConfig {
                max_datagram_len: u.int_in_range(64..=1500)?,
                agent: u.arbitrary()?,
                sub_agent_id: u.arbitrary()?,
                header_bytes: u.int_in_range(0..=160)?,
                strict,
                boot,
            }),
        })
    }

    fn strict(&self) -> bool {
        match self {
            Settings::V5(c) => c.strict,
            Settings::V9(c) => c.strict,
            Settings::Ipfix(c) => c.strict,
            Settings::Sflow(c) => c.strict,
        }
    }
}

/// One input: the flows (each with the seconds to wait before its push) and the start time.
struct Input {
    kind: ProtocolKind,
    flows: Vec<(FlowRecord, u8)>,
    start: Timestamp,
    strict: bool,
}

/// What one pass gave: the datagrams, which pushes were accepted, and `restrict` of each
/// accepted flow.
struct Pass {
    datagrams: Vec<Vec<u8>>,
    accepted: Vec<bool>,
    restricted: Vec<FlowRecord>,
    /// The time of the last push.
    end: Timestamp,
}

/// Pushes `flows` through `exporter`, checking its counters.
fn export<E: Exporter>(exporter: &mut E, input: &Input, flows: &[(FlowRecord, u32)]) -> Pass {
    let mut datagrams = Vec::new();
    let mut accepted = Vec::with_capacity(flows.len());
    let mut restricted = Vec::new();
    let mut now = input.start;
    for (f, step) in flows {
        now = now.add_millis(i64::from(*step) * 1000);
        let result = exporter.push(f, now, &mut |d| datagrams.push(d.to_vec()));
        if debugging() {
            eprintln!("{f:?} -> {result:?}");
        }
        if result.is_ok() {
            restricted.push(exporter.restrict(f, now));
        }
        accepted.push(result.is_ok());
    }
    if let Err(e) = exporter.flush(now, &mut |d| datagrams.push(d.to_vec())) {
        panic!("{:?}: flush failed: {e}", input.kind);
    }
    let stats = *exporter.stats();
    let n = accepted.iter().filter(|a| **a).count() as u64;
    assert_eq!(stats.records, n, "records accepted: {stats:?}");
    assert_eq!(stats.refused, flows.len() as u64 - n, "refused: {stats:?}");
    assert_eq!(
        stats.datagrams,
        datagrams.len() as u64,
        "datagrams: {stats:?}"
    );
    let octets: usize = datagrams.iter().map(Vec::len).sum();
    assert_eq!(stats.octets, octets as u64, "octets: {stats:?}");
    if input.strict {
        assert_eq!(
            (stats.fields_dropped, stats.records_with_dropped_fields),
            (0, 0),
            "strict: nothing dropped"
        );
    }
    Pass {
        datagrams,
        accepted,
        restricted,
        end: now,
    }
}

/// Fails on any decode error.
struct Flows(Vec<FlowRecord>);

impl Sink for Flows {
    fn flow(&mut self, flow: &FlowRecord) {
        self.0.push(content(flow));
    }
    fn error(&mut self, e: &DecodeError<'_>) {
        panic!("an exported datagram does not decode: {e}");
    }
}

/// Decodes `datagrams` in a fresh collector, checking each datagram's size and protocol.
fn collect(
    datagrams: &[Vec<u8>],
    limit: usize,
    kind: ProtocolKind,
    now: Timestamp,
) -> Vec<FlowRecord> {
    let mut collector = Collector::default();
    let exporter: SocketAddr = EXPORTER.parse().expect("a socket address");
    let mut flows = Flows(Vec::new());
    for d in datagrams {
        assert!(
            d.len() <= limit,
            "{kind:?} datagram of {} > {limit}",
            d.len()
        );
        assert_eq!(detect(d), Some(kind), "detected protocol");
        let s = collector.decode(exporter, now, d, &mut flows);
        assert!(s.messages >= 1, "{kind:?}: {s:?}");
    }
    flows.0
}

/// A flow without what the collector adds from the datagram and its sender.
fn content(f: &FlowRecord) -> FlowRecord {
    let mut content = f.clone();
    content.clear_context();
    content
}

fn same_key(kind: ProtocolKind, sent: &FlowRecord, got: &FlowRecord) {
    // sFlow carries a sampled packet header built from the record: fields it cannot say
    // (no ports without a protocol that has them) are left out.
    if kind == ProtocolKind::Sflow5 {
        return;
    }
    let want = (
        sent.src_addr(),
        sent.dst_addr(),
        sent.src_port(),
        sent.dst_port(),
        sent.protocol(),
    );
    let have = (
        got.src_addr(),
        got.dst_addr(),
        got.src_port(),
        got.dst_port(),
        got.protocol(),
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

/// Both passes through exporters `make` builds.
fn check<E: Exporter>(input: &Input, limit: usize, make: impl Fn() -> E) {
    let kind = input.kind;
    let mut first = make();
    let flows: Vec<(FlowRecord, u32)> = input
        .flows
        .iter()
        .map(|(f, s)| (f.clone(), u32::from(*s)))
        .collect();
    let pass = export(&mut first, input, &flows);
    let got = collect(&pass.datagrams, limit, kind, pass.end);
    let mut pushed = input.start;
    let sent: Vec<(&FlowRecord, Timestamp)> = input
        .flows
        .iter()
        .zip(&pass.accepted)
        .filter_map(|((f, step), a)| {
            pushed = pushed.add_millis(i64::from(*step) * 1000);
            a.then_some((f, pushed))
        })
        .collect();
    assert_eq!(got.len(), sent.len(), "{kind:?}: flows decoded vs accepted");
    for (i, ((s, at), g)) in sent.iter().zip(&got).enumerate() {
        same_key(kind, s, g);
        let want = &pass.restricted[i];
        let again = first.restrict(want, *at);
        assert_same(
            g,
            want,
            &format!("{kind:?}: decoded vs restrict\nsent {s:?}"),
        );
        assert_same(&again, want, "restrict is idempotent");
    }

    // The second pass: what came back, exported the same way (each at the time it was first
    // pushed: the steps of refused records are added to the next one's), decodes the same.
    let mut steps = Vec::new();
    let mut step = 0u32;
    for ((_, s), a) in input.flows.iter().zip(&pass.accepted) {
        step += u32::from(*s);
        if *a {
            steps.push(step);
            step = 0;
        }
    }
    let replay: Vec<(FlowRecord, u32)> = got.iter().cloned().zip(steps).collect();
    let mut second = make();
    let pass2 = export(&mut second, input, &replay);
    assert!(
        pass2.accepted.iter().all(|a| *a),
        "{kind:?}: a decoded flow is refused on re-export"
    );
    let got2 = collect(&pass2.datagrams, limit, kind, pass2.end);
    assert_eq!(got2.len(), got.len(), "{kind:?}: second pass count");
    for (a, b) in got.iter().zip(&got2) {
        assert_same(a, b, "export -> decode is stable after one pass");
    }
}

fn input(u: &mut Unstructured<'_>) -> Result<(Input, Settings)> {
    let kind = *u.choose(&[
        ProtocolKind::Netflow9,
        ProtocolKind::Ipfix,
        ProtocolKind::Netflow5,
        ProtocolKind::Sflow5,
    ])?;
    let start = u.arbitrary::<Timestamp>()?;
    let boot = start.add_millis(-u.int_in_range(0..=30 * DAY_MS)?);
    let settings = Settings::arbitrary(u, kind, boot)?;
    let mut flows = Vec::new();
    let mut now = start;
    for _ in 0..u.int_in_range(1..=40)? {
        let mut f = u.arbitrary::<FlowRecord>()?;
        let step = u.int_in_range(0..=3u8)?;
        now = now.add_millis(i64::from(step) * 1000);
        if u.arbitrary()? {
            f.set_start(f.start().map(|t| t.clamp(boot, now)));
            f.set_end(f.end().map(|t| t.clamp(boot, now)));
        }
        flows.push((f, step));
    }
    let strict = settings.strict();
    Ok((
        Input {
            kind,
            flows,
            start,
            strict,
        },
        settings,
    ))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((input, settings)) = self::input(&mut u) else {
        return;
    };
    if debugging() {
        eprintln!("{settings:?}");
    }
    match settings {
        Settings::V5(c) => check(&input, 24 + 48 * c.max_records, || {
            flowwire::netflow::V5Exporter::new(c)
        }),
        Settings::V9(c) => check(&input, c.max_datagram_len, || {
            flowwire::netflow::V9Exporter::new(c)
        }),
        Settings::Ipfix(c) => check(&input, c.max_datagram_len, || {
            flowwire::ipfix::Exporter::new(c.clone())
        }),
        Settings::Sflow(c) => check(&input, c.max_datagram_len, || {
            flowwire::sflow::Exporter::new(c)
        }),
    }
});
