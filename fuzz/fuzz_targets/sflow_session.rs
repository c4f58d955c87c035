//! sFlow v5 session state (datagram and sample sequence tracking) under a stream of datagrams.
//!
//! The input is split into datagrams (see `flowwire_fuzz::steps`; sFlow names its agent
//! inside the datagram, so the exporter only shows in the records), each decoded by ONE
//! [`Session`] (`codec::Decoder::decode`) bounded to 3 agents and 4 sample sources per
//! agent. After every datagram:
//!
//! - the summary counts one message exactly when the datagram header decodes, and the flows,
//!   counter samples and errors the sink got; every flow has the step's exporter;
//! - agents and sources per agent stay within their bounds;
//! - `evicted_agents` only grows; an agent still tracked keeps its `restarts` and
//!   `evicted_sources` growing, and its `received` grew by exactly one unless it restarted
//!   (then it is 1);
//! - the agent just seen is tracked, with the datagram's uptime as its last uptime.
#![no_main]

use std::collections::HashMap;
use std::hint::black_box;

use flowwire_fuzz::{exporter, steps};
use flowwire_sflow::record::codec::{CounterSample, DecodeError, Decoder, Sink};
use flowwire_sflow::record::{FlowRecord, Timestamp};
use flowwire_sflow::session::{AgentKey, Session, SessionConfig};
use flowwire_sflow::wire::Datagram;
use libfuzzer_sys::fuzz_target;

const MAX_AGENTS: usize = 3;
const MAX_SOURCES: usize = 4;

/// Counts what the session hands out, checking each flow's exporter.
struct Count {
    exporter: std::net::SocketAddr,
    flows: usize,
    counters: usize,
    errors: usize,
}

impl Sink for Count {
    fn flow(&mut self, flow: &FlowRecord) {
        assert_eq!(flow.exporter(), Some(self.exporter));
        self.flows += 1;
    }
    fn counters(&mut self, c: &CounterSample<'_>) {
        assert_eq!(c.exporter, self.exporter);
        self.counters += 1;
    }
    fn error(&mut self, _: &DecodeError<'_>) {
        self.errors += 1;
    }
}

fuzz_target!(|data: &[u8]| {
    let mut session = Session::new(SessionConfig {
        max_agents: MAX_AGENTS,
        max_sources_per_agent: MAX_SOURCES,
    });
    let mut now = Timestamp::from_unix_secs(1_700_000_000);
    for step in steps(data) {
        now = now.add_millis(step.advance_secs as i64 * 1000);
        let before: HashMap<AgentKey, (u64, u64, u64)> = session
            .agents()
            .map(|(k, a)| (*k, (a.restarts, a.evicted_sources, a.datagrams.received)))
            .collect();
        let evicted = session.stats().evicted_agents;
        let mut count = Count {
            exporter: exporter(step.exporter),
            flows: 0,
            counters: 0,
            errors: 0,
        };
        let summary = session.decode(count.exporter, now, step.bytes, &mut count);
        assert_eq!(
            (summary.flows, summary.counters, summary.errors),
            (count.flows, count.counters, count.errors)
        );
        let Ok(d) = Datagram::new_checked(step.bytes) else {
            assert_eq!((summary.messages, summary.errors), (0, 1));
            continue;
        };
        assert_eq!(summary.messages, 1);

        assert!(
            session.stats().evicted_agents >= evicted,
            "evicted_agents went backwards"
        );
        assert!(
            session.agents().count() <= MAX_AGENTS,
            "agents over the bound"
        );
        for (k, a) in session.agents() {
            assert!(
                a.sources.len() <= MAX_SOURCES,
                "sources over the bound for {k:?}"
            );
            if let Some(&(restarts, evicted_sources, received)) = before.get(k) {
                assert!(a.restarts >= restarts, "restarts went backwards for {k:?}");
                assert!(
                    a.evicted_sources >= evicted_sources,
                    "evicted_sources went backwards"
                );
                let seen = AgentKey {
                    agent: d.agent().ip(),
                    sub_agent_id: d.sub_agent_id(),
                };
                if *k == seen {
                    if a.restarts == restarts {
                        assert_eq!(a.datagrams.received, received + 1, "received for {k:?}");
                    } else {
                        assert_eq!(a.datagrams.received, 1, "received after a restart");
                    }
                } else {
                    assert_eq!(a.datagrams.received, received, "another agent's received");
                }
            }
        }
        let key = AgentKey {
            agent: d.agent().ip(),
            sub_agent_id: d.sub_agent_id(),
        };
        let a = session.agent(&key).expect("the agent just seen is tracked");
        assert_eq!(a.last_uptime, d.uptime());
        black_box((session.lost_datagrams(), session.lost_samples()));
    }
});
