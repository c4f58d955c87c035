//! The facade [`Collector`]: arbitrary datagrams from several exporters (see
//! `flowwire_fuzz::steps`) never panic, whatever protocol they look like, and the
//! per-exporter statistics stay within `max_exporter_stats`.
#![no_main]

use std::hint::black_box;

use flowwire::Timestamp;
use flowwire::collector::{Collector, CollectorConfig, Event, detect};
use flowwire_fuzz::{exporter, steps};
use libfuzzer_sys::fuzz_target;

const MAX_STATS: usize = 4;

fuzz_target!(|data: &[u8]| {
    let mut collector = Collector::new(CollectorConfig {
        max_exporter_stats: Some(MAX_STATS),
        ..CollectorConfig::default()
    });
    let mut now = Timestamp::from_unix_secs(1_700_000_000);
    for step in steps(data) {
        now = now.add_millis(step.advance_secs as i64 * 1000);
        black_box(detect(step.bytes));
        let mut events = 0usize;
        let kind = collector.feed(exporter(step.exporter), now, step.bytes, |e| {
            events += 1;
            match e {
                Event::Flow(f) => {
                    black_box(f);
                }
                Event::Error(err) => {
                    black_box(err.to_string());
                }
                other => {
                    black_box(other);
                }
            }
        });
        black_box((kind, events));
        assert!(
            collector.exporter_stats().count() <= MAX_STATS,
            "exporter stats over the bound"
        );
    }
    black_box(collector.netflow().stats());
    black_box(collector.ipfix().stats());
});
