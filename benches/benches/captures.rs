//! The committed real captures (`testdata/captures/*.pcap`: softflowd, pmacct, Open vSwitch,
//! fprobe; NetFlow v5/v9, IPFIX, sFlow), each decoded whole by a fresh `flowwire::Collector`
//! per run (templates learned from the capture itself), through `Decoder::decode` into a sink
//! that counts flows and errors (as a collector would, nothing kept). The UDP payloads are
//! read once, in the setup, with `flowwire::capture::open_capture`.
use std::hint::black_box;
use std::net::SocketAddr;
use std::path::Path;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use flowwire::capture::open_capture;
use flowwire::collector::Collector;
use flowwire_record::codec::{DecodeError, Decoder, Sink};
use flowwire_record::{FlowRecord, Timestamp};

struct Datagram {
    src: SocketAddr,
    time: Timestamp,
    payload: Vec<u8>,
}

fn load(path: &Path) -> Vec<Datagram> {
    let mut out = Vec::new();
    let Ok(mut r) = open_capture(path) else {
        return out;
    };
    while let Some(d) = r.next_datagram() {
        if let Ok(d) = d {
            out.push(Datagram {
                src: d.src,
                time: d.time,
                payload: d.payload.to_vec(),
            });
        }
    }
    out
}

/// Flows and errors seen; options records and counter samples are decoded but ignored, as
/// before.
#[derive(Default)]
struct Count {
    flows: usize,
    errors: usize,
}

impl Sink for Count {
    fn flow(&mut self, flow: &FlowRecord) {
        // Reads the record, so the conversion cannot be optimised away.
        self.flows += usize::from(flow.kind().is_some());
    }
    fn error(&mut self, _: &DecodeError<'_>) {
        self.errors += 1;
    }
}

fn feed(c: &mut Collector, datagrams: &[Datagram]) -> (usize, usize) {
    let mut count = Count::default();
    for d in datagrams {
        c.decode(d.src, d.time, black_box(&d.payload), &mut count);
    }
    (count.flows, count.errors)
}

fn captures(c: &mut Criterion) {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/captures"));
    let Ok(rd) = std::fs::read_dir(dir) else {
        println!("captures: {} not found, skipped", dir.display());
        return;
    };
    let mut files: Vec<_> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    let mut g = c.benchmark_group("captures");
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let datagrams = load(&f);
        if datagrams.is_empty() {
            println!("captures: {name}: no UDP datagrams, skipped");
            continue;
        }
        let bytes: usize = datagrams.iter().map(|d| d.payload.len()).sum();
        let (flows, errors) = feed(&mut Collector::default(), &datagrams);
        if flows == 0 {
            println!("captures: {name}: no flow records (not flow export), skipped");
            continue;
        }
        println!(
            "captures: {name}: {} datagrams, {bytes} bytes, {flows} flow records, {errors} errors",
            datagrams.len()
        );
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(format!("{name} ({flows} flows)"), |b| {
            b.iter_batched(
                Collector::default,
                |mut col| feed(&mut col, &datagrams),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, captures);
criterion_main!(benches);
