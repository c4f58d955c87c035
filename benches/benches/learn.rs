//! The full session path with template learning: a fresh session per run receives the
//! template packet and then data packets (NetFlow v9 and IPFIX), every record converted to a
//! `FlowRecord`: v9 through `Decoder::decode` with a closure sink, IPFIX through
//! `decode_records` and `RecordContext::flow_record_into` into a reused `FlowRecord` (the
//! paths these benches took before the contract).
use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use flowwire_benches::{ipfix, netflow9};
use flowwire_ipfix::session::RecordContext;
use flowwire_ipfix::wire::data::DataRecord;
use flowwire_record::codec::Decoder;
use flowwire_record::{FlowRecord, Timestamp};

fn learn(c: &mut Criterion) {
    let exporter: SocketAddr = "192.0.2.1:2055".parse().expect("address");
    let now = Timestamp::from_unix_secs(1_700_000_100);
    for data_packets in [1usize, 64] {
        let v9 = netflow9(data_packets, 3);
        let records = v9.flows.len() as u64;
        let mut g = c.benchmark_group("learn v9");
        g.throughput(Throughput::Elements(records));
        g.bench_function(
            format!("fresh session, template + {data_packets} data packets"),
            |b| {
                b.iter_batched(
                    flowwire_netflow::Session::default,
                    |mut s| {
                        let mut sum = 0u64;
                        let mut f =
                            |r: &FlowRecord| sum = sum.wrapping_add(r.octets().unwrap_or(0));
                        s.decode(exporter, now, black_box(&v9.template), &mut f);
                        for p in &v9.data {
                            s.decode(exporter, now, black_box(p), &mut f);
                        }
                        assert_eq!(s.stats().datagrams as usize, data_packets + 1);
                        sum
                    },
                    BatchSize::SmallInput,
                )
            },
        );
        g.finish();

        let ix = ipfix(data_packets, 3);
        let mut g = c.benchmark_group("learn ipfix");
        g.throughput(Throughput::Elements(records));
        g.bench_function(
            format!("fresh session, template + {data_packets} data messages"),
            |b| {
                b.iter_batched(
                    flowwire_ipfix::session::Session::default,
                    |mut s| {
                        let mut rec = FlowRecord::default();
                        let mut sum = 0u64;
                        let mut visit = |ctx: &RecordContext<'_>, r: &DataRecord<'_, '_>| {
                            ctx.flow_record_into(r, &mut rec);
                            sum = sum.wrapping_add(rec.octets().unwrap_or(0));
                        };
                        s.decode_records(exporter, now, black_box(&ix.template), &mut visit);
                        for p in &ix.data {
                            s.decode_records(exporter, now, black_box(p), &mut visit);
                        }
                        sum
                    },
                    BatchSize::SmallInput,
                )
            },
        );
        g.finish();
    }
}

criterion_group!(benches, learn);
criterion_main!(benches);
