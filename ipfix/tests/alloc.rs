//! Steady-state decoding allocates nothing: once the template is known, decoding a data set
//! (wire views, the session, and conversion into a reused `FlowRecord`, through
//! `Decoder::decode` and through `decode_records`) makes no heap allocation. Counted with a global allocator wrapper; the file runs without the libtest
//! harness (`harness = false`), whose threads would allocate during the count.

use std::alloc::System;

use flowwire_ipfix::Decoder;
use flowwire_ipfix::record::{FlowRecord, Timestamp};
use flowwire_ipfix::session::{RecordContext, Session, SessionConfig};
use flowwire_ipfix::wire::data::{DataRecord, RecordIter};
use flowwire_ipfix::wire::message::Message;
use flowwire_ipfix::wire::set::SetKind;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn be16(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}

/// Template 256: src/dst IPv4, ports, protocol, octets, packets, start/end milliseconds.
fn template_message() -> Vec<u8> {
    let fields: [(u16, u16); 9] = [
        (8, 4),
        (12, 4),
        (7, 2),
        (11, 2),
        (4, 1),
        (1, 8),
        (2, 8),
        (152, 8),
        (153, 8),
    ];
    let mut set = Vec::new();
    set.extend_from_slice(&be16(2));
    set.extend_from_slice(&be16((4 + 4 + fields.len() * 4) as u16));
    set.extend_from_slice(&be16(256));
    set.extend_from_slice(&be16(fields.len() as u16));
    for (id, len) in fields {
        set.extend_from_slice(&be16(id));
        set.extend_from_slice(&be16(len));
    }
    message(&set, 0)
}

fn data_message(records: usize, seq: u32) -> Vec<u8> {
    let mut set = Vec::new();
    set.extend_from_slice(&be16(256));
    set.extend_from_slice(&be16((4 + records * 45) as u16));
    for i in 0..records {
        set.extend_from_slice(&[10, 0, 0, i as u8, 192, 0, 2, 1]);
        set.extend_from_slice(&be16(40000 + i as u16));
        set.extend_from_slice(&be16(443));
        set.push(6);
        set.extend_from_slice(&(1500u64 * i as u64).to_be_bytes());
        set.extend_from_slice(&(3u64).to_be_bytes());
        set.extend_from_slice(&1_700_000_000_000u64.to_be_bytes());
        set.extend_from_slice(&1_700_000_001_000u64.to_be_bytes());
    }
    message(&set, seq)
}

fn message(sets: &[u8], seq: u32) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&be16(10));
    m.extend_from_slice(&be16((16 + sets.len()) as u16));
    m.extend_from_slice(&1_700_000_002u32.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&7u32.to_be_bytes());
    m.extend_from_slice(sets);
    m
}

fn main() {
    steady_state_decode_allocates_nothing();
    steady_state_sink_decode_allocates_nothing();
    println!("alloc: ok");
}

/// `Decoder::decode` into a sink: the session's scratch record is reused.
fn steady_state_sink_decode_allocates_nothing() {
    let exporter = "192.0.2.1:4739".parse().unwrap();
    let now = Timestamp::from_unix_secs(1_700_000_002);
    let template = template_message();
    let data = data_message(20, 0);
    let mut session = Session::default();
    let mut octets = 0u64;
    let mut flows = 0usize;
    let mut sink = |f: &FlowRecord| {
        octets += f.octets().unwrap_or(0);
        flows += 1;
    };
    session.decode(exporter, now, &template, &mut sink);
    for _ in 0..3 {
        session.decode(exporter, now, &data, &mut sink);
    }
    let region = Region::new(GLOBAL);
    let mut summary = flowwire_ipfix::Summary::default();
    for _ in 0..100 {
        summary += session.decode(exporter, now, &data, &mut sink);
    }
    let stats = region.change();
    println!(
        "sink decode of 100 messages x 20 records: {} allocations, {} bytes",
        stats.allocations, stats.bytes_allocated
    );
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");
    assert_eq!((summary.flows, summary.errors), (2000, 0));
    assert_eq!(flows, 103 * 20);
    assert!(octets > 0);
}

fn steady_state_decode_allocates_nothing() {
    let exporter = "192.0.2.1:4739".parse().unwrap();
    let now = Timestamp::from_unix_secs(1_700_000_002);
    let template = template_message();
    let data = data_message(20, 0);
    let mut session = Session::new(SessionConfig {
        pending: None,
        ..SessionConfig::default()
    });
    let mut flow = FlowRecord::default();
    let mut octets = 0u64;
    let mut records = 0usize;
    let mut visit = |ctx: &RecordContext<'_>, rec: &DataRecord<'_, '_>| {
        ctx.flow_record_into(rec, &mut flow);
        octets += flow.octets().unwrap_or(0);
        records += 1;
    };
    session.decode_records(exporter, now, &template, &mut visit);
    // Warm-up: the domain's state, hash tables and the record's buffers settle.
    for _ in 0..3 {
        session.decode_records(exporter, now, &data, &mut visit);
    }

    let region = Region::new(GLOBAL);
    for _ in 0..100 {
        session.decode_records(exporter, now, &data, &mut visit);
    }
    let stats = region.change();
    println!(
        "session decode of 100 messages x 20 records: {} allocations, {} bytes",
        stats.allocations, stats.bytes_allocated
    );
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");
    assert_eq!(records, 103 * 20);
    assert!(octets > 0);

    // The wire views alone, with a template held by the caller.
    let t = session.template(exporter, 7, 256).unwrap().clone();
    let region = Region::new(GLOBAL);
    let mut sum = 0u64;
    for _ in 0..100 {
        let m = Message::new_checked(&data[..]).unwrap();
        for set in m.sets() {
            let set = set.unwrap();
            if let SetKind::Data(256) = set.kind() {
                for rec in RecordIter::new(set.body(), set.body_offset(), &t) {
                    for (_, v) in rec.unwrap().fields() {
                        sum = sum.wrapping_add(v.as_u64().unwrap_or(1));
                    }
                }
            }
        }
    }
    let stats = region.change();
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert!(sum > 0);
}
