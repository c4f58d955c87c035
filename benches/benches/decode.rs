//! Record decode: the hand-written fixed-width baseline against flowwire's compiled plans.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowwire_benches::{
    RECORDS_PER_PACKET, V9_FIELDS, V9_RECORD_LEN, handwritten_decode, netflow9, v9_records,
};
use flowwire_record::mapping::TimeContext;
use flowwire_record::plan::{PlanField, RecordPlan};
use flowwire_record::registry::Registry;
use flowwire_record::{FieldId, FlowRecord, Timestamp};
use std::hint::black_box;

fn decode(c: &mut Criterion) {
    let packets = netflow9(64, 1);
    let records = (packets.data.len() * RECORDS_PER_PACKET) as u64;
    let mut g = c.benchmark_group("v9 18-field records");
    g.throughput(Throughput::Elements(records));

    g.bench_function("hand-written fixed-width", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for p in &packets.data {
                for r in v9_records(p) {
                    let f = handwritten_decode(black_box(r));
                    sum = sum.wrapping_add(f.octets ^ u64::from(f.src_as));
                    black_box(&f);
                }
            }
            sum
        })
    });

    let fields: Vec<PlanField> = V9_FIELDS
        .iter()
        .map(|&(id, len)| PlanField::new(FieldId::iana(id), len))
        .collect();
    let plan = RecordPlan::compile(&fields, &Registry::new());
    let time = TimeContext {
        export_time: Some(Timestamp::from_unix_secs(1_700_000_100)),
        sys_uptime_ms: Some(3_700_000),
        system_init_time: None,
    };
    g.bench_function("flowwire RecordPlan into FlowRecord", |b| {
        let mut rec = FlowRecord::default();
        b.iter(|| {
            let mut sum = 0u64;
            for p in &packets.data {
                let mut body = &p[24..24 + RECORDS_PER_PACKET * V9_RECORD_LEN];
                while !body.is_empty() {
                    let used = plan
                        .decode(black_box(body), &time, &mut rec)
                        .unwrap_or(body.len());
                    body = &body[used..];
                    sum = sum.wrapping_add(rec.octets().unwrap_or(0));
                }
            }
            sum
        })
    });
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
