//! A small bounded buffer for data that arrives before its template, so it can be decoded
//! when the template comes (tshark's two-pass decode, done in one pass).

use core::hash::Hash;
use std::collections::VecDeque;

use crate::time::Timestamp;

/// Limits of a [`PendingBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingLimits {
    /// Buffered entries in all.
    pub max_entries: usize,
    /// Buffered bytes in all.
    pub max_bytes: usize,
    /// How long an entry waits for its template, in nanoseconds of `now`.
    pub max_age_nanos: i64,
}

impl Default for PendingLimits {
    /// 1,024 entries, 4 MiB, 60 seconds.
    fn default() -> Self {
        PendingLimits {
            max_entries: 1_024,
            max_bytes: 4 << 20,
            max_age_nanos: 60_000_000_000,
        }
    }
}

/// Counters of a [`PendingBuffer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PendingStats {
    /// Entries buffered.
    pub buffered: u64,
    /// Entries handed back when their template arrived.
    pub replayed: u64,
    /// Entries dropped to stay within the limits (oldest first).
    pub dropped: u64,
    /// Entries dropped because no template came in time.
    pub expired: u64,
}

#[derive(Debug)]
struct Entry<K, M> {
    key: K,
    at: Timestamp,
    meta: M,
    bytes: Vec<u8>,
}

/// A FIFO of `(key, metadata, bytes)` waiting for a template, bounded in entries, bytes and
/// age. `K` is typically (exporter, domain, template id); `M` what the codec needs to decode
/// the bytes later (the message header's times, say).
#[derive(Debug)]
pub struct PendingBuffer<K, M> {
    limits: PendingLimits,
    entries: VecDeque<Entry<K, M>>,
    bytes: usize,
    stats: PendingStats,
}

impl<K: Eq + Hash + Clone, M> PendingBuffer<K, M> {
    /// An empty buffer.
    pub fn new(limits: PendingLimits) -> Self {
        PendingBuffer {
            limits,
            entries: VecDeque::new(),
            bytes: 0,
            stats: PendingStats::default(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> &PendingStats {
        &self.stats
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn pop_oldest(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            self.bytes -= e.bytes.len();
        }
    }

    /// Buffers a copy of `data`, dropping the oldest entries to make room; data larger than
    /// the whole byte limit is dropped at once. Returns whether it was kept.
    pub fn push(&mut self, key: K, meta: M, data: &[u8], now: Timestamp) -> bool {
        self.expire(now);
        if data.len() > self.limits.max_bytes || self.limits.max_entries == 0 {
            self.stats.dropped += 1;
            return false;
        }
        while self.entries.len() >= self.limits.max_entries
            || self.bytes + data.len() > self.limits.max_bytes
        {
            self.pop_oldest();
            self.stats.dropped += 1;
        }
        self.bytes += data.len();
        self.entries.push_back(Entry {
            key,
            at: now,
            meta,
            bytes: data.to_vec(),
        });
        self.stats.buffered += 1;
        true
    }

    /// Drops entries older than the age limit.
    pub fn expire(&mut self, now: Timestamp) {
        while let Some(e) = self.entries.front() {
            if now.unix_nanos().saturating_sub(e.at.unix_nanos()) > self.limits.max_age_nanos {
                self.pop_oldest();
                self.stats.expired += 1;
            } else {
                break;
            }
        }
    }

    /// Takes every entry for `key`, oldest first.
    pub fn take(&mut self, key: &K) -> Vec<(M, Vec<u8>)> {
        if !self.entries.iter().any(|e| &e.key == key) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut rest = VecDeque::with_capacity(self.entries.len());
        for e in self.entries.drain(..) {
            if &e.key == key {
                self.bytes -= e.bytes.len();
                out.push((e.meta, e.bytes));
            } else {
                rest.push_back(e);
            }
        }
        self.entries = rest;
        self.stats.replayed += out.len() as u64;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_fifo_with_replay() {
        let limits = PendingLimits {
            max_entries: 2,
            max_bytes: 10,
            max_age_nanos: 1_000,
        };
        let mut p: PendingBuffer<u16, ()> = PendingBuffer::new(limits);
        let t = Timestamp::from_unix_nanos;
        assert!(p.push(256, (), &[1; 4], t(0)));
        assert!(p.push(257, (), &[2; 4], t(0)));
        assert!(p.push(256, (), &[3; 4], t(0)), "drops the oldest");
        assert_eq!(p.stats().dropped, 1);
        assert!(!p.push(258, (), &[0; 11], t(0)), "larger than the limit");
        let got = p.take(&256);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, vec![3; 4]);
        assert_eq!(p.len(), 1);
        p.expire(t(2_000));
        assert!(p.is_empty());
        assert_eq!(p.stats().expired, 1);
        assert_eq!(p.bytes(), 0);
    }
}
