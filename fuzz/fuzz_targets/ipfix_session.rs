//! IPFIX session state under a stream of datagrams from several exporters.
//!
//! The input is split into datagrams (see `flowwire_fuzz::steps`: exporter index, seconds
//! elapsed, an optional `expire` call, the bytes), all fed to ONE session with small limits:
//! 4 exporters, 2 observation domains each, 4 templates per domain, 16 KiB of template state,
//! 32 fields per template, a 60-second template lifetime, a small pending buffer, few
//! interfaces, samplers and learned (RFC 5610) elements. After every datagram:
//!
//! - the store's accounted memory stays within its byte limit (plus a fixed slack for the
//!   exporter table); exporters, domains per exporter, templates per domain, interfaces and
//!   samplers per domain and learned elements stay within their limits;
//! - every counter (session, store, pending) only grows; the summary agrees with what the
//!   sink was handed (flows, options records, errors), and the session's `errors` grew by
//!   the errors handed out;
//! - the templates held equal learned - withdrawn - expired - evicted.
#![no_main]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use flowwire_fuzz::{
    STORE_SLACK, assert_monotonic, exporter, pending_counters, steps, store_counters,
};
use flowwire_ipfix::Decoder;
use flowwire_ipfix::record::codec::{DecodeError, OptionsRecord, Sink, TemplateEvent};
use flowwire_ipfix::record::options::OptionsLimits;
use flowwire_ipfix::record::pending::PendingLimits;
use flowwire_ipfix::record::template_store::StoreLimits;
use flowwire_ipfix::record::{FlowRecord, Timestamp};
use flowwire_ipfix::session::{KeyPolicy, Session, SessionConfig, SessionStats};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Counting {
    flows: usize,
    options: usize,
    errors: usize,
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
    fn error(&mut self, error: &DecodeError<'_>) {
        self.errors += 1;
        black_box(error.offset());
    }
    fn template(&mut self, event: &TemplateEvent) {
        black_box(event);
    }
}

fn session_counters(s: &SessionStats) -> Vec<(&'static str, u64)> {
    vec![
        ("messages", s.messages),
        ("sets", s.sets),
        ("data_records", s.data_records),
        ("options_records", s.options_records),
        ("templates_rejected", s.templates_rejected),
        ("sets_without_template", s.sets_without_template),
        ("errors", s.errors),
        ("lenient_values", s.lenient_values),
        ("elements_learned", s.elements_learned),
        ("templates_retyped", s.templates_retyped),
        ("options_over_limit", s.options_over_limit),
        ("sequence_gaps", s.sequence_gaps),
    ]
}

const MAX_INTERFACES: usize = 4;
const MAX_SAMPLERS: usize = 4;
const MAX_LEARNED: usize = 8;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let limits = StoreLimits {
        max_exporters: 4,
        max_domains_per_exporter: 2,
        max_templates_per_domain: 4,
        max_total_bytes: 16 << 10,
        template_lifetime: Some(Duration::from_secs(60)),
    };
    let config = SessionConfig {
        key_policy: if mode & 1 == 0 {
            KeyPolicy::AddressAndPort
        } else {
            KeyPolicy::AddressOnly
        },
        limits,
        max_fields_per_template: 32,
        pending: Some(PendingLimits {
            max_entries: 4,
            max_bytes: 4096,
            max_age_nanos: 30_000_000_000,
        }),
        options: OptionsLimits {
            max_samplers: MAX_SAMPLERS,
            max_interfaces: MAX_INTERFACES,
        },
        max_learned_elements: MAX_LEARNED,
    };
    let mut session = Session::new(config);
    let mut now = Timestamp::from_unix_secs(1_700_000_000);
    for step in steps(data) {
        now = now.add_millis(step.advance_secs as i64 * 1000);
        let before_session = *session.stats();
        let before_store = store_counters(session.store_stats());
        let before_pending = pending_counters(session.pending_stats());
        if step.expire {
            black_box(session.expire(now));
        }
        let mut v = Counting::default();
        let summary = session.decode(exporter(step.exporter), now, step.bytes, &mut v);
        let stats = *session.stats();
        assert_eq!(summary.flows, v.flows, "flows handed out vs summary");
        assert_eq!(summary.options, v.options, "options handed out vs summary");
        assert_eq!(summary.errors, v.errors, "errors handed out vs summary");
        assert_eq!(
            stats.errors,
            before_session.errors + v.errors as u64,
            "errors counted vs handed out"
        );
        assert_monotonic(
            "session",
            &session_counters(&before_session),
            &session_counters(&stats),
        );
        assert_monotonic(
            "store",
            &before_store,
            &store_counters(session.store_stats()),
        );
        assert_monotonic(
            "pending",
            &before_pending,
            &pending_counters(session.pending_stats()),
        );

        assert!(
            session.registry().custom_len() <= MAX_LEARNED,
            "learned elements"
        );
        let store = session.store();
        assert!(
            store.memory_bytes() <= limits.max_total_bytes + STORE_SLACK,
            "store holds {} bytes, limit {} (+{} slack)",
            store.memory_bytes(),
            limits.max_total_bytes,
            STORE_SLACK
        );
        assert!(store.exporter_count() <= limits.max_exporters);
        let mut domains: HashMap<_, usize> = HashMap::new();
        let mut held = 0usize;
        for (e, _, d) in store.domains() {
            *domains.entry(*e).or_default() += 1;
            assert!(d.template_count() <= limits.max_templates_per_domain);
            assert!(
                d.state.options.interfaces().count() <= MAX_INTERFACES,
                "interfaces per domain"
            );
            assert!(
                d.state.options.samplers().count() <= MAX_SAMPLERS,
                "samplers per domain"
            );
            held += d.template_count();
        }
        assert!(
            domains
                .values()
                .all(|&n| n <= limits.max_domains_per_exporter)
        );
        assert_eq!(held, store.template_count());
        let s = session.store_stats();
        assert_eq!(
            held as i128,
            i128::from(s.learned)
                - i128::from(s.withdrawn)
                - i128::from(s.expired)
                - i128::from(s.evicted_templates),
            "templates held vs counters {s:?}"
        );
    }
});
