//! Where `flowwire decode FILE --format jsonl` spends its time, stage by stage, on a NetFlow v9
//! capture of 100,000 generated flows (the mix `flowwire generate` sends: both address
//! families, millisecond times): reading the pcap (UDP payloads out of the frames), decoding
//! into `FlowRecord`s (a sink that only counts), formatting them as JSON lines
//! (`flowwire::jsonl::FlowJson` into a reused buffer; and, for comparison, `serde_json`), and
//! writing the lines out (`io::sink`, a `BufWriter` over /dev/null). Each stage is timed on its
//! own over the same data, so the stages add up to the whole pipeline.
use std::hint::black_box;
use std::io::Write;
use std::net::SocketAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowwire::capture::{CaptureReader, CaptureWriter};
use flowwire::collector::Collector;
use flowwire::jsonl::FlowJson;
use flowwire::synth::FlowGenerator;
use flowwire_record::codec::{Decoder, Exporter};
use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};

const FLOWS: usize = 100_000;

/// The capture, as `flowwire generate --protocol netflow9 --pcap` writes it.
fn capture() -> Vec<u8> {
    let start = Timestamp::from_unix_secs(1_700_000_000);
    let flows: Vec<FlowRecord> = FlowGenerator::new(ProtocolKind::Netflow9, 7, start)
        .take(FLOWS)
        .collect();
    let mut exporter = flowwire_netflow::V9Exporter::new(Default::default());
    let src: SocketAddr = "127.0.0.1:40000".parse().expect("address");
    let dst: SocketAddr = "127.0.0.1:2055".parse().expect("address");
    let mut pcap = CaptureWriter::new(Vec::new()).expect("pcap");
    let mut datagrams = Vec::new();
    for f in &flows {
        exporter
            .push(f, start, &mut |d: &[u8]| datagrams.push(d.to_vec()))
            .expect("encodable");
    }
    exporter
        .flush(start, &mut |d: &[u8]| datagrams.push(d.to_vec()))
        .expect("encodable");
    for d in &datagrams {
        pcap.write(start, src, dst, d).expect("written");
    }
    pcap.finish().expect("finished")
}

fn payloads(bytes: &[u8]) -> Vec<(SocketAddr, Timestamp, Vec<u8>)> {
    let mut out = Vec::new();
    let mut r = CaptureReader::from_bytes(bytes).expect("pcap");
    while let Some(Ok(d)) = r.next_datagram() {
        out.push((d.src, d.time, d.payload.to_vec()));
    }
    out
}

fn split(c: &mut Criterion) {
    let bytes = capture();
    let datagrams = payloads(&bytes);
    let mut flows = Vec::new();
    let mut collector = Collector::default();
    for (src, time, d) in &datagrams {
        collector.decode(*src, *time, d, &mut |f: &FlowRecord| flows.push(f.clone()));
    }
    assert_eq!(flows.len(), FLOWS, "every flow decodes");
    let mut json = FlowJson::new();
    let mut lines = Vec::with_capacity(FLOWS * 400);
    for f in &flows {
        json.write_line(&mut lines, f);
    }
    println!(
        "collector split: {FLOWS} flows, {} datagrams, {} pcap bytes, {} jsonl bytes",
        datagrams.len(),
        bytes.len(),
        lines.len()
    );

    let mut g = c.benchmark_group("collector split (v9, 100k flows)");
    g.throughput(Throughput::Elements(FLOWS as u64));
    g.sample_size(10);
    g.bench_function("1 read: pcap to UDP payloads", |b| {
        b.iter(|| {
            let mut n = 0usize;
            let mut r = CaptureReader::from_bytes(black_box(&bytes)).expect("pcap");
            while let Some(Ok(d)) = r.next_datagram() {
                n += d.payload.len();
            }
            n
        })
    });
    g.bench_function("2 decode: payloads to FlowRecords", |b| {
        b.iter(|| {
            let mut collector = Collector::default();
            let mut n = 0u64;
            for (src, time, d) in &datagrams {
                collector.decode(*src, *time, black_box(d), &mut |f: &FlowRecord| {
                    n = n.wrapping_add(f.octets().unwrap_or(0))
                });
            }
            n
        })
    });
    let mut out = Vec::with_capacity(FLOWS * 400);
    g.bench_function("3 format: FlowJson (jsonl)", |b| {
        b.iter(|| {
            out.clear();
            for f in &flows {
                json.write_line(&mut out, black_box(f));
            }
            out.len()
        })
    });
    g.bench_function("3 format: serde_json (for comparison)", |b| {
        b.iter(|| {
            out.clear();
            for f in &flows {
                serde_json::to_writer(&mut out, black_box(f)).expect("serializes");
                out.push(b'\n');
            }
            out.len()
        })
    });
    g.bench_function("4 write: lines to /dev/null (BufWriter)", |b| {
        let null = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .expect("/dev/null");
        let mut w = std::io::BufWriter::with_capacity(1 << 16, null);
        b.iter(|| {
            w.write_all(black_box(&lines)).expect("written");
            w.flush().expect("flushed");
        })
    });
    g.finish();
}

criterion_group!(benches, split);
criterion_main!(benches);
