//! Flows per second into a Kafka broker through `flowwire::kafka`: decodes a capture once,
//! then hands its flows to a `KafkaSink` again and again (as decoder threads would) and times
//! until the broker has acknowledged them all.
//!
//! ```console
//! cargo run --release -p flowwire --features kafka --example kafka_throughput -- \
//!     127.0.0.1:9092 topic capture.pcap 1000000 [json|protobuf]
//! ```
//!
//! `COMP=none|lz4|zstd` (default zstd) and `BATCH_KB` (default 1024) set the compression and
//! the batch size.

use std::time::{Duration, Instant};

use flowwire::kafka::{KafkaConfig, KafkaFormat, KafkaProducer};
use flowwire::{FlowRecord, Sink};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (broker, topic, capture, count, format) = match &args[..] {
        [_, b, t, c, n] => (b, t, c, n, KafkaFormat::Json),
        [_, b, t, c, n, f] if f == "json" => (b, t, c, n, KafkaFormat::Json),
        [_, b, t, c, n, f] if f == "protobuf" => (b, t, c, n, KafkaFormat::Protobuf),
        _ => {
            return Err(
                "usage: kafka_throughput BROKER TOPIC CAPTURE FLOWS [json|protobuf]".into(),
            );
        }
    };
    let flows: Vec<FlowRecord> = flowwire::collector::read_capture(capture)?.flows;
    if flows.is_empty() {
        return Err("no flows in the capture".into());
    }
    let count: u64 = count.parse()?;
    let producer = KafkaProducer::start(KafkaConfig {
        brokers: vec![broker.clone()],
        topic: topic.clone(),
        create_partitions: Some(3),
        format,
        compression: match std::env::var("COMP").as_deref() {
            Ok("none") => flowwire::kafka::KafkaCompression::None,
            Ok("zstd") => flowwire::kafka::KafkaCompression::Zstd,
            Ok("lz4") => flowwire::kafka::KafkaCompression::Lz4,
            _ => flowwire::kafka::KafkaCompression::Zstd,
        },
        batch_bytes: std::env::var("BATCH_KB")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .map_or(1 << 20, |kb| kb << 10),
        buffer_bytes: 1 << 30,
        ..KafkaConfig::default()
    })?;
    let mut sink = producer.sink();
    let started = Instant::now();
    for flow in flows.iter().cycle().take(count as usize) {
        sink.flow(flow);
    }
    let handed = started.elapsed();
    while producer.stats().delivered + producer.stats().dropped < count
        && started.elapsed() < Duration::from_secs(300)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = started.elapsed();
    let stats = producer.stop(Duration::from_secs(10));
    println!(
        "{} flows handed over in {:.2} s, delivered {} in {:.2} s: {:.0} flows/s into the broker; dropped {}",
        count,
        handed.as_secs_f64(),
        stats.delivered,
        took.as_secs_f64(),
        stats.delivered as f64 / took.as_secs_f64(),
        stats.dropped
    );
    Ok(())
}
