//! Value decode/encode micro-benchmarks.
use criterion::{Criterion, criterion_group, criterion_main};
use flowwire_record::{DataType, Value};
use std::hint::black_box;

fn values(c: &mut Criterion) {
    let bytes = 0x0102_0304_0506_0708u64.to_be_bytes();
    c.bench_function("decode unsigned64", |b| {
        b.iter(|| Value::decode(black_box(DataType::Unsigned64), black_box(&bytes)))
    });
    c.bench_function("decode reduced unsigned64 (4 octets)", |b| {
        b.iter(|| Value::decode(black_box(DataType::Unsigned64), black_box(&bytes[..4])))
    });
    let mut out = [0u8; 8];
    c.bench_function("emit unsigned64", |b| {
        b.iter(|| Value::Unsigned64(black_box(42)).emit(black_box(&mut out)))
    });
}

criterion_group!(benches, values);
criterion_main!(benches);
