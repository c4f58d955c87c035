//! The facade [`Collector`] as a `Decoder`: arbitrary datagrams from several exporters (see
//! `flowwire_fuzz::steps`) never panic, whatever protocol they look like; the summary of each
//! datagram agrees with what the sink was handed (flows, options records, counter samples,
//! errors); a datagram of no protocol is one error without a protocol; errors downcast to
//! their codec's type; and the per-exporter statistics stay within `max_exporter_stats`,
//! counting every datagram of a recognised protocol once.
#![no_main]

use std::hint::black_box;

use flowwire::collector::{Unrecognized, detect};
use flowwire::{
    Collector, CollectorConfig, CounterSample, Counters, DecodeError, Decoder, FlowRecord,
    OptionsRecord, Sink, TemplateEvent, Timestamp,
};
use flowwire_fuzz::{exporter, steps};
use libfuzzer_sys::fuzz_target;

const MAX_STATS: usize = 4;

#[derive(Default)]
struct Counting {
    flows: usize,
    options: usize,
    counters: usize,
    errors: usize,
    unrecognized: usize,
}

impl Sink for Counting {
    fn flow(&mut self, flow: &FlowRecord) {
        self.flows += 1;
        black_box(flow);
    }
    fn options(&mut self, options: &OptionsRecord) {
        self.options += 1;
        black_box(options);
    }
    fn counters(&mut self, counters: &CounterSample<'_>) {
        self.counters += 1;
        assert!(
            counters.detail::<Counters>().is_some(),
            "an sFlow counter sample's detail"
        );
        black_box(counters);
    }
    fn template(&mut self, event: &TemplateEvent) {
        black_box(event);
    }
    fn error(&mut self, error: &DecodeError<'_>) {
        self.errors += 1;
        let typed = error.downcast_ref::<flowwire::netflow::Error>().is_some()
            || error.downcast_ref::<flowwire::ipfix::Error>().is_some()
            || error.downcast_ref::<flowwire::sflow::Error>().is_some();
        if error.downcast_ref::<Unrecognized>().is_some() {
            assert_eq!(error.protocol, None, "{error}");
            self.unrecognized += 1;
        } else {
            assert!(
                typed && error.protocol.is_some(),
                "a codec's own error: {error}"
            );
        }
        black_box((error.offset(), error.kind(), error.to_string()));
    }
}

fn datagrams(c: &Collector) -> u64 {
    c.exporter_stats().map(|(_, _, s)| s.datagrams).sum::<u64>() + c.overflow_stats().datagrams
}

fuzz_target!(|data: &[u8]| {
    let mut collector = Collector::new(CollectorConfig {
        max_exporter_stats: Some(MAX_STATS),
        ..CollectorConfig::default()
    });
    let mut now = Timestamp::from_unix_secs(1_700_000_000);
    for step in steps(data) {
        now = now.add_millis(step.advance_secs as i64 * 1000);
        if step.expire {
            black_box(collector.expire(now));
        }
        let kind = detect(step.bytes);
        assert_eq!(kind.is_some(), Collector::accepts(step.bytes));
        let before = datagrams(&collector);
        let mut sink = Counting::default();
        let summary = collector.decode(exporter(step.exporter), now, step.bytes, &mut sink);
        assert_eq!(
            (
                summary.flows,
                summary.options,
                summary.counters,
                summary.errors
            ),
            (sink.flows, sink.options, sink.counters, sink.errors),
            "summary vs what the sink was handed"
        );
        match kind {
            None => assert_eq!(
                (sink.unrecognized, summary.errors, summary.messages),
                (1, 1, 0),
                "a datagram of no protocol"
            ),
            Some(_) => {
                assert_eq!(sink.unrecognized, 0);
                assert_eq!(datagrams(&collector), before + 1, "datagrams counted");
            }
        }
        assert!(
            collector.exporter_stats().count() <= MAX_STATS,
            "exporter stats over the bound"
        );
    }
    black_box(collector.netflow().stats());
    black_box(collector.ipfix().stats());
    black_box(collector.sflow().stats());
});
