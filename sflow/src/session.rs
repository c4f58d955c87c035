//! The decoding session: [`Session`] implements [`Decoder`] for sFlow v5, and tracks datagram
//! and sample sequence numbers per agent, bounded.
//!
//! [`Decoder::decode`] walks a datagram and hands every flow sample and discarded-packet
//! sample to [`Sink::flow`] as a [`FlowRecord`] (one reused record: nothing is allocated per
//! sample in steady state), every counter sample to [`Sink::counters`] as a [`CounterSample`]
//! whose [`CounterSample::detail`] is a [`Counters`], and every problem to [`Sink::error`]
//! as a [`DecodeError`] whose error is this crate's [`Error`], with its absolute offset in the
//! datagram. A bad sample or record is skipped by its declared length and the rest still
//! decodes.
//!
//! sFlow numbers datagrams per (agent address, sub-agent id), and samples per data source
//! within it, separately for flow, counter and discarded-packet samples. [`Session`] keeps a
//! [`SequenceTracker`] for each, evicting the least recently seen agent (or source) when its
//! bounds are reached and counting what it evicted. An agent whose uptime goes backwards has
//! restarted: its trackers start over and the restart is counted. Agents are told apart by
//! the address the datagram names, not by the socket it came from: relays and NAT do not
//! change them.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use flowwire_record::codec::{CounterSample, DecodeError, Decoder, Sink, Summary};
use flowwire_record::sequence::{SequenceEvent, SequenceTracker};
use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};

use crate::convert::{Counters, Visit, walk};
use crate::error::Error;
use crate::wire::{Datagram, SampleView, SourceId, VERSION_5};

/// Which sample sequence a tracker follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum SampleKind {
    /// Flow samples (compact and expanded).
    Flow,
    /// Counter samples (compact and expanded).
    Counters,
    /// Discarded-packet samples.
    Discarded,
}

/// An agent: its address and sub-agent id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AgentKey {
    /// Agent address (None: address type 0).
    pub agent: Option<IpAddr>,
    /// Sub-agent id.
    pub sub_agent_id: u32,
}

/// Bounds of a [`Session`]: what it remembers is bounded whatever agents send, spoofed
/// agent addresses and source ids included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Agents (agent address and sub-agent id) whose sequences are tracked at most (default
    /// 4096; 0 is taken as 1). A new agent beyond it evicts the least recently seen one,
    /// counted in [`SessionStats::evicted_agents`]; an evicted agent that comes back starts
    /// its sequences over.
    pub max_agents: usize,
    /// Sample sources (kind and data source) tracked at most per agent (default 1024; 0 is
    /// taken as 1). A new source beyond it evicts the agent's least recently seen one,
    /// counted in [`AgentState::evicted_sources`].
    pub max_sources_per_agent: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_agents: 4096,
            max_sources_per_agent: 1024,
        }
    }
}

/// The state of one agent.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AgentState {
    /// Datagram sequence.
    pub datagrams: SequenceTracker,
    /// Sample sequences per (kind, source), least recently seen first when full.
    pub sources: Vec<((SampleKind, SourceId), SequenceTracker, u64)>,
    /// Sources evicted because [`SessionConfig::max_sources_per_agent`] was reached.
    pub evicted_sources: u64,
    /// Restarts seen (uptime went backwards).
    pub restarts: u64,
    /// Last uptime seen, ms.
    pub last_uptime: u32,
    last_seen: u64,
}

impl AgentState {
    /// The tracker of one sample source.
    pub fn source(&self, kind: SampleKind, source: SourceId) -> Option<&SequenceTracker> {
        self.sources
            .iter()
            .find(|(k, _, _)| *k == (kind, source))
            .map(|(_, t, _)| t)
    }

    /// Samples lost, over every source.
    pub fn lost_samples(&self) -> u64 {
        self.sources.iter().map(|(_, t, _)| t.lost).sum()
    }

    fn observe_sample(&mut self, key: (SampleKind, SourceId), seq: u32, tick: u64, max: usize) {
        if let Some(e) = self.sources.iter_mut().find(|(k, _, _)| *k == key) {
            e.1.observe(seq, 1);
            e.2 = tick;
            return;
        }
        let oldest = if self.sources.len() >= max.max(1) {
            (0..self.sources.len()).min_by_key(|&i| self.sources.get(i).map(|e| e.2))
        } else {
            None
        };
        if let Some(i) = oldest {
            self.sources.swap_remove(i);
            self.evicted_sources += 1;
        }
        let mut t = SequenceTracker::new();
        t.observe(seq, 1);
        self.sources.push((key, t, tick));
    }
}

/// Counters of a [`Session`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SessionStats {
    /// Datagrams whose header decoded.
    pub datagrams: u64,
    /// Bytes found after the declared samples of a datagram, in all: ignored, not an error,
    /// but a sign of an agent that miscounts its samples.
    pub trailing_bytes: u64,
    /// Agents evicted because [`SessionConfig::max_agents`] was reached.
    pub evicted_agents: u64,
}

/// The agents' states. Keys come from the wire, so the hasher is randomly seeded (foldhash,
/// like the template store's): a sender cannot predict it, and it costs a fraction of
/// SipHash per datagram.
type Agents = HashMap<AgentKey, AgentState, foldhash::fast::RandomState>;

/// The sFlow v5 decoder: see the [module docs](self). `Session::default()` has the default
/// [`SessionConfig`].
///
/// ```
/// use flowwire_sflow::Session;
/// use flowwire_sflow::record::{FlowRecord, Timestamp};
/// use flowwire_sflow::record::codec::Decoder;
/// # let datagram = flowwire_sflow::xdr::Xdr::to_bytes(&flowwire_sflow::repr::DatagramRepr::default())?;
///
/// let mut session = Session::default();
/// let exporter = "192.0.2.1:6343".parse()?;
/// assert!(Session::accepts(&datagram));
/// let summary = session.decode(exporter, Timestamp::now(), &datagram, &mut |flow: &FlowRecord| {
///     println!("{:?} -> {:?}", flow.src_addr(), flow.dst_addr());
/// });
/// assert_eq!((summary.messages, summary.errors), (1, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Session {
    config: SessionConfig,
    agents: Agents,
    tick: u64,
    stats: SessionStats,
    /// Reused for every flow and discarded-packet sample.
    flow: FlowRecord,
    /// Reused for every counter sample.
    counters: Counters,
}

impl Session {
    /// An empty session.
    pub fn new(config: SessionConfig) -> Self {
        Session {
            config,
            ..Session::default()
        }
    }

    /// The bounds it was made with.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// The state of an agent.
    pub fn agent(&self, key: &AgentKey) -> Option<&AgentState> {
        self.agents.get(key)
    }

    /// Every agent tracked.
    pub fn agents(&self) -> impl Iterator<Item = (&AgentKey, &AgentState)> {
        self.agents.iter()
    }

    /// Datagrams lost over every agent tracked.
    pub fn lost_datagrams(&self) -> u64 {
        self.agents.values().map(|a| a.datagrams.lost).sum()
    }

    /// Samples lost over every agent tracked.
    pub fn lost_samples(&self) -> u64 {
        self.agents.values().map(AgentState::lost_samples).sum()
    }

    /// Records a datagram's sequence and every sample's, without converting anything, for
    /// callers that walk the [`crate::wire`] views themselves: [`Decoder::decode`] already
    /// does this, so do not call both for one datagram. Returns what the datagram sequence
    /// number meant. Samples that do not parse are not counted.
    pub fn observe<T: AsRef<[u8]>>(&mut self, d: &Datagram<T>) -> SequenceEvent {
        let max_sources = self.config.max_sources_per_agent;
        let (state, event, tick) = observe_datagram(
            &mut self.agents,
            &self.config,
            &mut self.tick,
            &mut self.stats,
            d,
        );
        for s in d.samples() {
            let Ok(view) = s.and_then(|s| s.view()) else {
                continue;
            };
            let (kind, source, seq) = match view {
                SampleView::Flow(f) => (SampleKind::Flow, f.source, f.sequence),
                SampleView::Counters(c) => (SampleKind::Counters, c.source, c.sequence),
                SampleView::Discarded(x) => (SampleKind::Discarded, x.source, x.sequence),
                SampleView::Unknown(_) => continue,
            };
            state.observe_sample((kind, source), seq, tick, max_sources);
        }
        event
    }
}

/// Finds (or makes room for) the datagram's agent, and records the datagram's sequence
/// number and uptime. Returns the agent's state, what the sequence number meant and the tick
/// that stamps what was seen.
fn observe_datagram<'a, T: AsRef<[u8]>>(
    agents: &'a mut Agents,
    config: &SessionConfig,
    tick: &mut u64,
    stats: &mut SessionStats,
    d: &Datagram<T>,
) -> (&'a mut AgentState, SequenceEvent, u64) {
    *tick += 1;
    let now = *tick;
    let key = AgentKey {
        agent: d.agent().ip(),
        sub_agent_id: d.sub_agent_id(),
    };
    // Only a full table needs the membership test: below the cap, one look-up does.
    if agents.len() >= config.max_agents.max(1) && !agents.contains_key(&key) {
        let oldest = agents
            .iter()
            .min_by_key(|(_, a)| a.last_seen)
            .map(|(k, _)| *k);
        if let Some(k) = oldest {
            agents.remove(&k);
            stats.evicted_agents += 1;
        }
    }
    let state = agents.entry(key).or_default();
    let uptime = d.uptime();
    if state.datagrams.received > 0 && uptime < state.last_uptime {
        // Restarted: uptime went backwards (a 49.7-day wrap looks the same; both start over).
        // The source list keeps its capacity: a restart allocates nothing.
        let mut sources = core::mem::take(&mut state.sources);
        sources.clear();
        *state = AgentState {
            restarts: state.restarts + 1,
            evicted_sources: state.evicted_sources,
            sources,
            ..AgentState::default()
        };
    }
    state.last_uptime = uptime;
    state.last_seen = now;
    let event = state.datagrams.observe(d.sequence(), 1);
    (state, event, now)
}

impl Decoder for Session {
    /// Whether the datagram starts with sFlow version 5 (a 32-bit 5).
    fn accepts(datagram: &[u8]) -> bool {
        datagram.get(..4) == Some(&VERSION_5.to_be_bytes()[..])
    }

    /// Decodes one datagram (see the [module docs](self)). sFlow carries no wall-clock time,
    /// so `now` is not used: records have no `export_time`, `start` or `end`. Records get
    /// `exporter`; `agent`, `domain` (the sub-agent id) and `sequence` (the sample's) come
    /// from the datagram.
    fn decode<S: Sink + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        _now: Timestamp,
        datagram: &[u8],
        sink: &mut S,
    ) -> Summary {
        let mut summary = Summary::default();
        let d = match Datagram::new_checked(datagram) {
            Ok(d) => d,
            Err(error) => {
                sink.error(&DecodeError {
                    protocol: Some(ProtocolKind::Sflow5),
                    exporter,
                    error: &error,
                });
                summary.errors = 1;
                return summary;
            }
        };
        summary.messages = 1;
        self.stats.datagrams += 1;
        let Session {
            config,
            agents,
            tick,
            stats,
            flow,
            counters,
        } = self;
        let (agent, _, tick) = observe_datagram(agents, config, tick, stats, &d);
        let mut to_sink = ToSink {
            sink,
            exporter,
            agent,
            max_sources: config.max_sources_per_agent,
            tick,
            summary: &mut summary,
        };
        let trailing = walk(&d, flow, counters, &mut to_sink);
        stats.trailing_bytes = stats.trailing_bytes.saturating_add(trailing as u64);
        summary
    }
}

/// The [`Visit`]or of [`Session::decode`]: tracks sample sequences and hands everything to
/// the sink.
struct ToSink<'a, S: ?Sized> {
    sink: &'a mut S,
    exporter: SocketAddr,
    agent: &'a mut AgentState,
    max_sources: usize,
    tick: u64,
    summary: &'a mut Summary,
}

impl<S: Sink + ?Sized> Visit for ToSink<'_, S> {
    fn flow(&mut self, kind: SampleKind, source: SourceId, flow: &mut FlowRecord) {
        if let Some(seq) = flow.sequence() {
            self.agent
                .observe_sample((kind, source), seq, self.tick, self.max_sources);
        }
        flow.set_exporter(Some(self.exporter));
        self.sink.flow(flow);
        self.summary.flows += 1;
    }

    fn counters(&mut self, counters: &Counters) {
        self.agent.observe_sample(
            (SampleKind::Counters, counters.source),
            counters.sequence,
            self.tick,
            self.max_sources,
        );
        let source = counters.source;
        self.sink.counters(&CounterSample {
            protocol: ProtocolKind::Sflow5,
            exporter: self.exporter,
            agent: counters.agent,
            domain: counters.sub_agent_id,
            sequence: counters.sequence,
            // The compact form; an expanded source too wide for it is exact in `detail`.
            source: (source.class << 24) | (source.index & 0x00ff_ffff),
            if_index: counters.if_index(),
            detail: counters,
        });
        self.summary.counters += 1;
    }

    fn error(&mut self, error: Error) {
        self.sink.error(&DecodeError {
            protocol: Some(ProtocolKind::Sflow5),
            exporter: self.exporter,
            error: &error,
        });
        self.summary.errors += 1;
    }
}
