//! Per-agent session state: datagram and sample sequence tracking, bounded.
//!
//! sFlow numbers datagrams per (agent address, sub-agent id), and samples per data source
//! within it, separately for flow, counter and discarded-packet samples. [`Session`] keeps a
//! [`SequenceTracker`] for each, evicting the least recently seen agent (or source) when its
//! bounds are reached and counting what it evicted. An agent whose uptime goes backwards has
//! restarted: its trackers start over and the restart is counted.

use std::collections::HashMap;
use std::net::IpAddr;

use flowwire_record::sequence::{SequenceEvent, SequenceTracker};

use crate::wire::{Datagram, SampleView, SourceId};

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

/// Bounds of a [`Session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Agents tracked at most.
    pub max_agents: usize,
    /// Sample sources tracked at most per agent.
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

/// Sequence tracking for every agent seen, bounded.
#[derive(Debug, Clone, Default)]
pub struct Session {
    config: SessionConfig,
    agents: HashMap<AgentKey, AgentState>,
    tick: u64,
    /// Agents evicted because [`SessionConfig::max_agents`] was reached.
    pub evicted_agents: u64,
}

impl Session {
    /// An empty session.
    pub fn new(config: SessionConfig) -> Self {
        Session {
            config,
            ..Session::default()
        }
    }

    /// The state of an agent.
    pub fn agent(&self, key: &AgentKey) -> Option<&AgentState> {
        self.agents.get(key)
    }

    /// Every agent.
    pub fn agents(&self) -> impl Iterator<Item = (&AgentKey, &AgentState)> {
        self.agents.iter()
    }

    /// Datagrams lost over every agent.
    pub fn lost_datagrams(&self) -> u64 {
        self.agents.values().map(|a| a.datagrams.lost).sum()
    }

    /// Samples lost over every agent.
    pub fn lost_samples(&self) -> u64 {
        self.agents.values().map(AgentState::lost_samples).sum()
    }

    /// Records a datagram: its sequence and every sample's. Returns what the datagram
    /// sequence number meant. Samples that do not parse are not counted.
    pub fn observe<T: AsRef<[u8]>>(&mut self, d: &Datagram<T>) -> SequenceEvent {
        self.tick += 1;
        let tick = self.tick;
        let key = AgentKey {
            agent: d.agent().ip(),
            sub_agent_id: d.sub_agent_id(),
        };
        if !self.agents.contains_key(&key) && self.agents.len() >= self.config.max_agents.max(1) {
            let oldest = self
                .agents
                .iter()
                .min_by_key(|(_, a)| a.last_seen)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                self.agents.remove(&k);
                self.evicted_agents += 1;
            }
        }
        let max_sources = self.config.max_sources_per_agent;
        let state = self.agents.entry(key).or_default();
        let uptime = d.uptime();
        if state.datagrams.received > 0 && uptime < state.last_uptime {
            // Restarted: uptime went backwards (a 49.7-day wrap looks the same; both start over).
            let restarts = state.restarts + 1;
            let evicted = state.evicted_sources;
            *state = AgentState {
                restarts,
                evicted_sources: evicted,
                ..AgentState::default()
            };
        }
        state.last_uptime = uptime;
        state.last_seen = tick;
        let event = state.datagrams.observe(d.sequence(), 1);
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
