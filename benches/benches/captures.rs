//! The committed real captures (`testdata/captures/*.pcap`: softflowd, pmacct, Open vSwitch,
//! fprobe; NetFlow v5/v9, IPFIX, sFlow), each decoded whole by a fresh `flowwire::Collector`
//! per run (templates learned from the capture itself). The UDP payloads are read once, in
//! the setup, with `flowwire::capture::CaptureReader`.
use std::hint::black_box;
use std::net::SocketAddr;
use std::path::Path;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use flowwire::capture::CaptureReader;
use flowwire::collector::{Collector, Event};
use flowwire_record::Timestamp;

struct Datagram {
    src: SocketAddr,
    time: Timestamp,
    payload: Vec<u8>,
}

fn load(path: &Path) -> Vec<Datagram> {
    let mut out = Vec::new();
    let Ok(mut r) = CaptureReader::open(path) else {
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

fn feed(c: &mut Collector, datagrams: &[Datagram]) -> (usize, usize) {
    let mut flows = 0usize;
    let mut errors = 0usize;
    for d in datagrams {
        c.feed(d.src, d.time, black_box(&d.payload), |e| match e {
            Event::Flow(f) => flows += usize::from(f.kind.is_some()),
            Event::Error(_) => errors += 1,
            _ => {}
        });
    }
    (flows, errors)
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
