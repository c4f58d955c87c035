//! `flowwire::pipeline` on loopback: a burst arrives whole, two exporters go to their own
//! decoders, and a queue too small for the burst drops and counts instead of blocking.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use flowwire::pipeline::{Pipeline, PipelineConfig};
use flowwire::{Exporter as _, FlowRecord, Sink, Timestamp};
use flowwire_record::testing::typical_record;

/// NetFlow v9 datagrams of `flows` records.
fn datagrams(flows: u32) -> Vec<Vec<u8>> {
    let mut exporter = flowwire::netflow::V9Exporter::new(Default::default());
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let mut out = Vec::new();
    for i in 0..flows {
        exporter
            .push(&typical_record(i), now, &mut |d: &[u8]| {
                out.push(d.to_vec())
            })
            .expect("encodable");
    }
    exporter
        .flush(now, &mut |d: &[u8]| out.push(d.to_vec()))
        .expect("encodable");
    out
}

/// Counts the flows it is given.
#[derive(Debug, Default)]
struct Count(u64);

impl Sink for Count {
    fn flow(&mut self, _: &FlowRecord) {
        self.0 += 1;
    }
}

fn bound() -> (UdpSocket, std::net::SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("address");
    (socket, addr)
}

/// Waits until `done` or a few seconds.
fn wait_for(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn every_flow_of_a_paced_stream_reaches_the_sinks() {
    let (socket, addr) = bound();
    let config = PipelineConfig {
        decoders: 2,
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::start(vec![socket], config, |_| Count::default()).expect("start");
    let packets = datagrams(3_000);
    // Two exporters: each keeps its template state in the decoder it is assigned to.
    let senders = [bound().0, bound().0];
    for sender in &senders {
        for (i, p) in packets.iter().enumerate() {
            sender.send_to(p, addr).expect("send");
            if i % 16 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
    let sent = 2 * packets.len() as u64;
    wait_for(|| pipeline.stats().decoded >= sent);
    let finished = pipeline.stop();
    let flows: u64 = finished.exporters.iter().map(|(_, _, s)| s.flows).sum();
    assert_eq!(finished.stats.received, sent);
    assert_eq!(finished.stats.queue_dropped, 0);
    assert_eq!(flows, 6_000, "{:?}", finished.exporters);
    assert_eq!(finished.sinks.iter().map(|c| c.0).sum::<u64>(), 6_000);
    assert_eq!(finished.exporters.len(), 2);
}

#[test]
fn a_queue_too_small_drops_and_counts_instead_of_blocking() {
    let (socket, addr) = bound();
    let config = PipelineConfig {
        queue_bytes: 4_096,
        batch: 1,
        ..PipelineConfig::default()
    };
    // A sink slow enough that the queue fills.
    let pipeline = Pipeline::start(vec![socket], config, |_| {
        |_: &FlowRecord| std::thread::sleep(Duration::from_micros(200))
    })
    .expect("start");
    let packets = datagrams(2_000);
    let sender = bound().0;
    for p in &packets {
        sender.send_to(p, addr).expect("send");
    }
    let sent = packets.len() as u64;
    wait_for(|| {
        let s = pipeline.stats();
        s.received + flowwire::pipeline::kernel_drops(addr.port()).unwrap_or(0) >= sent
            && s.decoded + s.queue_dropped >= s.received
    });
    let finished = pipeline.stop();
    let s = finished.stats;
    assert!(s.queue_dropped > 0, "{s:?}");
    assert_eq!(s.decoded + s.queue_dropped, s.received, "{s:?}");
    assert!(s.queue_peak_bytes <= 4_096, "{s:?}");
}

#[test]
fn max_datagrams_stops_receiving_and_keeps_exactly_that_many() {
    let (socket, addr) = bound();
    let config = PipelineConfig {
        max_datagrams: Some(5),
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::start(vec![socket], config, |_| Count::default()).expect("start");
    let sender = bound().0;
    for p in datagrams(400).iter().take(8) {
        sender.send_to(p, addr).expect("send");
    }
    wait_for(|| pipeline.is_done());
    assert!(pipeline.is_done());
    let finished = pipeline.stop();
    assert_eq!(finished.stats.received, 5);
    assert_eq!(finished.stats.decoded, 5);
}

/// Whether a NetFlow v9 datagram holds a template FlowSet (id 0 or 1).
fn has_templates(d: &[u8]) -> bool {
    let mut at = 20;
    while let Some(h) = d.get(at..at + 4) {
        if u16::from_be_bytes([h[0], h[1]]) < 2 {
            return true;
        }
        at += usize::from(u16::from_be_bytes([h[2], h[3]])).max(4);
    }
    false
}

#[test]
fn a_snapshot_taken_while_running_lets_a_new_pipeline_decode_data_only_datagrams() {
    let packets = datagrams(2_000);
    let (with, without): (Vec<_>, Vec<_>) = packets.iter().partition(|p| has_templates(p));
    assert!(!with.is_empty() && without.len() > 10);
    let exporter = bound().0;
    let config = || PipelineConfig {
        decoders: 3,
        ..PipelineConfig::default()
    };

    let (socket, addr) = bound();
    let first = Pipeline::start(vec![socket], config(), |_| Count::default()).expect("start");
    for p in &with {
        exporter.send_to(p, addr).expect("send");
    }
    wait_for(|| first.stats().decoded >= with.len() as u64);
    let state = first
        .snapshot(Duration::from_secs(5))
        .expect("the decoders answer");
    assert!(state.template_count() > 0);
    // The per-exporter counters are published while running, too.
    wait_for(|| !first.exporter_stats().is_empty());
    assert_eq!(first.exporter_stats()[0].2.datagrams, with.len() as u64);
    let finished = first.stop();
    assert_eq!(finished.state.template_count(), state.template_count());

    let (socket, addr) = bound();
    let restored = PipelineConfig {
        restore: Some(std::sync::Arc::new(state)),
        ..config()
    };
    let second = Pipeline::start(vec![socket], restored, |_| Count::default()).expect("start");
    for p in &without {
        exporter.send_to(p, addr).expect("send");
        std::thread::sleep(Duration::from_micros(200));
    }
    wait_for(|| second.stats().decoded >= without.len() as u64);
    let finished = second.stop();
    let want: u64 = {
        let mut c = flowwire::Collector::default();
        let from = exporter.local_addr().unwrap();
        let now = Timestamp::from_unix_secs(1_700_000_000);
        for p in &with {
            flowwire::Decoder::decode(&mut c, from, now, p, &mut |_: &FlowRecord| {});
        }
        without
            .iter()
            .map(|p| {
                flowwire::Decoder::decode(&mut c, from, now, p, &mut |_: &FlowRecord| {}).flows
                    as u64
            })
            .sum()
    };
    assert_eq!(finished.sinks.iter().map(|c| c.0).sum::<u64>(), want);
}
