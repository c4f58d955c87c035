//! Steady-state decode of flow samples with a raw header into a reused FlowRecord allocates
//! nothing: counted with a `#[global_allocator]` counting wrapper (stats_alloc).
//!
//! This test runs without libtest's harness (`harness = false`): the harness's own threads
//! allocate while a test runs, and the counter is process-wide.

mod common;

use std::alloc::System;

use flowwire_sflow::convert::{DatagramInfo, flow_sample_into};
use flowwire_sflow::record::{FlowRecord, ProtocolKind};
use flowwire_sflow::wire::{Datagram, SampleView};
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
            flow_sample_into(&dg, &f, rec, errors);
            n += 1;
        }
    }
    n
}

fn main() {
    steady_state_flow_sample_decode_allocates_nothing();
    println!("test steady_state_flow_sample_decode_allocates_nothing ... ok");
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
    assert!(rec.src_addr.is_some());
}
