//! Steady-state decode of flow samples with a raw header allocates nothing: `Session::decode`
//! into a sink, and `convert::flow_record_into` into a reused FlowRecord. Counted with a
//! `#[global_allocator]` counting wrapper (stats_alloc).
//!
//! This test runs without libtest's harness (`harness = false`): the harness's own threads
//! allocate while a test runs, and the counter is process-wide.

mod common;

use std::alloc::System;

use flowwire_sflow::Session;
use flowwire_sflow::convert::{Counters, DatagramInfo, flow_record_into};
use flowwire_sflow::record::codec::CounterSample;
use flowwire_sflow::record::codec::{DecodeError, Decoder, Sink};
use flowwire_sflow::record::{FlowRecord, ProtocolKind, Timestamp};
use flowwire_sflow::repr::{self, CounterData, DatagramRepr, Sample, VlanCounters};
use flowwire_sflow::wire::SourceId;
use flowwire_sflow::wire::{Datagram, SampleView};
use flowwire_sflow::xdr::{Address, Xdr};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A datagram with one flow sample: raw header (Ethernet/IPv4/TCP) + extended switch.
fn datagram() -> Vec<u8> {
    let header: [u8; 54] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, 0x45, 0x10, 0, 40, 0, 0, 0x40, 0, 64, 6,
        0, 0, 192, 0, 2, 1, 198, 51, 100, 2, 0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12,
        0xff, 0xff, 0, 0, 0, 0,
    ];
    let mut v = Vec::new();
    let mut u = |x: u32| v.extend_from_slice(&x.to_be_bytes());
    for x in [5, 1, 0xc000_0201, 7, 42, 1000, 1] {
        u(x);
    }
    u(1); // flow sample
    u(28 + 4 + 8 + 16 + 8 + 16 + 56);
    for x in [9, 3, 256, 10_000, 0, 1, 2] {
        u(x);
    }
    u(2); // records
    u(1001);
    u(16);
    for x in [10, 0, 10, 0] {
        u(x);
    }
    u(1);
    u(16 + 56);
    for x in [1, 64, 4, 54] {
        u(x);
    }
    v.extend_from_slice(&header);
    v.extend_from_slice(&[0, 0]);
    v
}

fn decode_all(
    bytes: &[u8],
    rec: &mut FlowRecord,
    errors: &mut Vec<flowwire_sflow::Error>,
) -> usize {
    let d = Datagram::new_checked(bytes).unwrap();
    let dg = DatagramInfo::of(&d);
    let mut n = 0;
    for s in d.samples() {
        if let Ok(SampleView::Flow(f)) = s.unwrap().view() {
            flow_record_into(&dg, &f, rec, errors);
            n += 1;
        }
    }
    n
}

/// Counts what a session hands out, keeping the last flow's source address.
#[derive(Default)]
struct Count {
    flows: usize,
    counters: usize,
    errors: usize,
    last_src: Option<std::net::IpAddr>,
}

impl Sink for Count {
    fn flow(&mut self, flow: &FlowRecord) {
        self.flows += 1;
        self.last_src = flow.src_addr();
    }
    fn counters(&mut self, c: &CounterSample<'_>) {
        assert!(c.detail::<Counters>().is_some());
        self.counters += 1;
    }
    fn error(&mut self, _: &DecodeError<'_>) {
        self.errors += 1;
    }
}

/// A datagram with a counter sample of fixed-size records (VLAN counters): decoded into the
/// session's reused `Counters` without allocating.
fn counters_datagram() -> Vec<u8> {
    let vlan = |vlan_id| {
        CounterData::Vlan(VlanCounters {
            vlan_id,
            octets: 1,
            ucast_pkts: 2,
            multicast_pkts: 3,
            broadcast_pkts: 4,
            discards: 5,
        })
    };
    let d = DatagramRepr {
        agent: Address::V4([192, 0, 2, 7].into()),
        sequence: 1,
        uptime: 1,
        samples: vec![Sample::Counters(repr::CounterSample {
            sequence: 1,
            source: SourceId { class: 0, index: 2 },
            records: vec![vlan(10), vlan(20)],
        })],
        ..DatagramRepr::default()
    };
    d.to_bytes().unwrap()
}

fn main() {
    steady_state_flow_sample_decode_allocates_nothing();
    println!("test steady_state_flow_sample_decode_allocates_nothing ... ok");
    steady_state_session_decode_allocates_nothing();
    println!("test steady_state_session_decode_allocates_nothing ... ok");
}

/// The generated datagram and the corpus's datagrams that hold flow samples only (counter
/// records with variable-length data allocate it).
fn flow_only_inputs() -> Vec<Vec<u8>> {
    let mut inputs = vec![datagram()];
    for (path, malformed) in common::sflow_files() {
        if !malformed {
            let bytes = std::fs::read(path).unwrap();
            inputs.extend(common::udp_payloads(&bytes).into_iter().map(|u| u.payload));
        }
    }
    inputs.retain(|p| {
        Datagram::new_checked(&p[..]).is_ok_and(|d| {
            d.samples()
                .all(|s| matches!(s.and_then(|s| s.view()), Ok(SampleView::Flow(_))))
        })
    });
    inputs
}

fn steady_state_session_decode_allocates_nothing() {
    let mut inputs = flow_only_inputs();
    inputs.push(counters_datagram());
    let exporter = "192.0.2.1:6343".parse().unwrap();
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let mut session = Session::default();
    let mut sink = Count::default();
    // Warm up: agents and sources are known, the scratch record's `extra` has its capacity.
    for p in &inputs {
        session.decode(exporter, now, p, &mut sink);
    }
    assert_eq!(sink.errors, 0);
    let region = Region::new(GLOBAL);
    sink.flows = 0;
    for _ in 0..100 {
        for p in &inputs {
            session.decode(exporter, now, p, &mut sink);
        }
    }
    let stats = region.change();
    println!(
        "{} flow samples decoded by the session, {} allocations",
        sink.flows, stats.allocations
    );
    assert!(sink.flows >= 100);
    assert!(sink.counters >= 100);
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert!(sink.last_src.is_some());
}

fn steady_state_flow_sample_decode_allocates_nothing() {
    let mut inputs = vec![datagram()];
    // The corpus flow samples too, where present.
    for (path, malformed) in common::sflow_files() {
        if !malformed {
            let bytes = std::fs::read(path).unwrap();
            inputs.extend(common::udp_payloads(&bytes).into_iter().map(|u| u.payload));
        }
    }
    inputs.retain(|p| Datagram::new_checked(&p[..]).is_ok());
    let mut rec = FlowRecord::new(ProtocolKind::Sflow5);
    let mut errors = Vec::new();
    // Warm up: the record's `extra` vector reaches its steady capacity.
    for p in &inputs {
        decode_all(p, &mut rec, &mut errors);
    }
    assert!(errors.is_empty(), "{errors:?}");
    let region = Region::new(GLOBAL);
    let mut samples = 0;
    for _ in 0..100 {
        for p in &inputs {
            samples += decode_all(p, &mut rec, &mut errors);
        }
    }
    let stats = region.change();
    println!(
        "{samples} flow samples decoded, {} allocations",
        stats.allocations
    );
    assert!(samples >= 100);
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert!(rec.src_addr().is_some());
}
