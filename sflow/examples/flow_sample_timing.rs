//! Times [`flowwire_sflow::convert::flow_record_into`] (best of N runs, ns per flow sample) on
//! generated samples (a 128-byte Ethernet/IPv4/TCP-or-UDP raw header and an extended switch
//! record, like the `benches` crate's) and on the pcap files given as arguments.
//!
//! `cargo run --release -p flowwire-sflow --example flow_sample_timing -- testdata/captures/*sflow*.pcap`
#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use flowwire_record::codec::Exporter as _;
use flowwire_record::{FlowRecord, Timestamp};
use flowwire_sflow::convert::{DatagramInfo, flow_record_into};
use flowwire_sflow::encode::{Exporter, ExporterConfig};
use flowwire_sflow::repr::{ExtendedSwitch, FlowData, FlowSample, Sample, SampledHeader};
use flowwire_sflow::wire::{Datagram, Interface, SampleView, SourceId};
use flowwire_sflow::xdr::{Address, Opaque};

fn generated(samples: u32) -> Vec<Vec<u8>> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut ex = Exporter::new(ExporterConfig {
        agent: Address::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)),
        ..ExporterConfig::default()
    });
    let payload = vec![0x5au8; 1514];
    let mut out = Vec::new();
    for i in 0..samples {
        let r = rnd();
        let src = (r as u32).to_be_bytes();
        let dst = ((r >> 32) as u32).to_be_bytes();
        let frame_length = 200 + (rnd() % 1315) as usize;
        let b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, dst, 64);
        let mut frame = Vec::with_capacity(frame_length);
        if r & 1 == 0 {
            let b = b.tcp((r >> 8) as u16, 443, 1, 65535);
            let body = frame_length - b.size(0);
            b.write(&mut frame, &payload[..body]).unwrap();
        } else {
            let b = b.udp((r >> 8) as u16, 53);
            let body = frame_length - b.size(0);
            b.write(&mut frame, &payload[..body]).unwrap();
        }
        frame.truncate(128);
        let s = FlowSample {
            sequence: i + 1,
            source: SourceId { class: 0, index: 3 },
            sampling_rate: 1024,
            sample_pool: (i + 1).wrapping_mul(1024),
            drops: 0,
            input: Interface::if_index(1 + (r % 7) as u32),
            output: Interface::if_index(2),
            records: vec![
                FlowData::SampledHeader(SampledHeader {
                    protocol: 1,
                    frame_length: frame_length as u32,
                    stripped: 4,
                    header: Opaque(frame),
                }),
                FlowData::ExtendedSwitch(ExtendedSwitch {
                    src_vlan: 10,
                    src_priority: 0,
                    dst_vlan: 10,
                    dst_priority: 0,
                }),
            ],
        };
        let now = Timestamp::from_unix_millis(60_000 + i64::from(i));
        ex.push_sample(&Sample::Flow(s), now, &mut |d: &[u8]| out.push(d.to_vec()))
            .unwrap();
    }
    let now = Timestamp::from_unix_millis(60_000 + i64::from(samples));
    ex.flush(now, &mut |d: &[u8]| out.push(d.to_vec())).unwrap();
    out
}

/// Best-of-`runs` ns per flow sample over `datagrams`, and the sample count.
fn time(datagrams: &[Vec<u8>], runs: usize) -> (f64, usize) {
    let mut rec = FlowRecord::default();
    let mut errors = Vec::new();
    let mut best = f64::MAX;
    let mut n = 0;
    // Enough repetitions for ~20 ms per run.
    let reps = (200_000 / datagrams.len().max(1)).max(1);
    for _ in 0..runs {
        let t = Instant::now();
        n = 0;
        for _ in 0..reps {
            for d in datagrams {
                let Ok(d) = Datagram::new_checked(black_box(&d[..])) else {
                    continue;
                };
                let info = DatagramInfo::of(&d);
                for s in d.samples() {
                    if let Ok(SampleView::Flow(fs)) = s.and_then(|s| s.view()) {
                        errors.clear();
                        black_box(flow_record_into(&info, &fs, &mut rec, &mut errors));
                        n += 1;
                    }
                }
            }
        }
        let ns = t.elapsed().as_nanos() as f64 / n.max(1) as f64;
        best = best.min(ns);
    }
    (best, n / reps)
}

fn main() {
    let runs = std::env::var("RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(25);
    let g = generated(1400);
    let (ns, n) = time(&g, runs);
    println!("generated 128-byte headers: {n} samples, best of {runs}: {ns:.1} ns/sample");
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("read the capture");
        let d: Vec<Vec<u8>> = common::udp_payloads(&bytes)
            .into_iter()
            .map(|u| u.payload)
            .collect();
        let (ns, n) = time(&d, runs);
        println!("{path}: {n} samples, best of {runs}: {ns:.1} ns/sample");
    }
}
