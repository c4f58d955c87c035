//! Decode cost against the number of records per run (1 to 10^6): a session with a learned
//! template decodes NetFlow v9 / IPFIX packets of 20 records (1 and 10 records: one packet)
//! into a reused `FlowRecord`. Linear means the same ns per record at every size.
//!
//! Hot paths, as before the contract: v9 through `Decoder::decode` with a closure sink (the
//! session's own scratch `FlowRecord`), IPFIX through `decode_records` with a closure
//! `Visitor` and `RecordContext::flow_record_into` into the bench's `FlowRecord`.
use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flowwire_benches::{Packets, ipfix_with, netflow9_with};
use flowwire_ipfix::session::RecordContext;
use flowwire_ipfix::wire::data::DataRecord;
use flowwire_record::codec::Decoder;
use flowwire_record::{FlowRecord, Timestamp};

const SIZES: [usize; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
const PER_PACKET: usize = 20;

fn packets_for(n: usize, ipfix: bool) -> Packets {
    let (packets, per) = if n < PER_PACKET {
        (1, n)
    } else {
        (n / PER_PACKET, PER_PACKET)
    };
    if ipfix {
        ipfix_with(packets, per, 9)
    } else {
        netflow9_with(packets, per, 9)
    }
}

fn scale(c: &mut Criterion) {
    let exporter: SocketAddr = "192.0.2.1:2055".parse().expect("address");
    let now = Timestamp::from_unix_secs(1_700_000_100);
    let mut g = c.benchmark_group("scale v9 session to FlowRecord");
    g.sample_size(10);
    for n in SIZES {
        let p = packets_for(n, false);
        assert_eq!(p.flows.len(), n);
        let mut s = flowwire_netflow::Session::default();
        s.decode(exporter, now, &p.template, &mut |_: &FlowRecord| {});
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &p, |b, p| {
            b.iter(|| {
                let mut count = 0usize;
                for d in &p.data {
                    s.decode(exporter, now, black_box(d), &mut |r: &FlowRecord| {
                        count += usize::from(r.octets().is_some())
                    });
                }
                assert_eq!(count, n);
                count
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("scale ipfix session to FlowRecord");
    g.sample_size(10);
    for n in SIZES {
        let p = packets_for(n, true);
        assert_eq!(p.flows.len(), n);
        let mut s = flowwire_ipfix::session::Session::new(Default::default());
        s.decode_records(
            exporter,
            now,
            &p.template,
            &mut |_: &RecordContext<'_>, _: &DataRecord<'_, '_>| {},
        );
        let mut rec = FlowRecord::default();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &p, |b, p| {
            b.iter(|| {
                let mut count = 0usize;
                let mut visit = |ctx: &RecordContext<'_>, r: &DataRecord<'_, '_>| {
                    ctx.flow_record_into(r, &mut rec);
                    count += usize::from(rec.octets().is_some());
                };
                for d in &p.data {
                    s.decode_records(exporter, now, black_box(d), &mut visit);
                }
                assert_eq!(count, n);
                count
            })
        });
    }
    g.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);
