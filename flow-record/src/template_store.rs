//! A bounded, expiring, counted store of templates and per-domain state, keyed by exporter,
//! domain and template id: written once here, keyed and filled by the NetFlow v9 and IPFIX
//! sessions.
//!
//! A collector listens on a port anyone can write to, so nothing here grows without bound:
//! the number of exporters, domains per exporter, templates per domain and the total bytes
//! are capped ([`StoreLimits`]); what does not fit is rejected or evicts the least recently
//! used exporter, and every such event is counted ([`StoreStats`]).
//!
//! Time is passed in (`now`), never read from the clock, so a capture decodes with the
//! template lifetimes it had when it was recorded and tests are deterministic.
//!
//! ```
//! use flowwire_record::template_store::{Insert, StoreLimits, TemplateCost, TemplateStore};
//! use flowwire_record::Timestamp;
//!
//! #[derive(PartialEq, Debug)]
//! struct Tpl(Vec<u16>);
//! impl TemplateCost for Tpl {
//!     fn heap_bytes(&self) -> usize { self.0.capacity() * 2 }
//! }
//!
//! let mut store: TemplateStore<&str, Tpl> = TemplateStore::new(StoreLimits::default());
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! assert_eq!(store.insert("10.0.0.1:2055", 0, 256, Tpl(vec![8, 12]), now), Insert::Learned);
//! assert!(store.get(&"10.0.0.1:2055", 0, 256, now).is_some());
//! assert_eq!(store.stats().learned, 1);
//! ```

use core::hash::Hash;
use core::mem::size_of;
use std::collections::{BTreeMap, HashMap};

/// The store's maps: foldhash with a per-process random seed. Keys come from the network
/// (addresses, domain and template ids), so the seed matters; every map is also bounded by
/// the limits, and foldhash costs a fraction of SipHash per look-up on the decode path.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
use std::time::Duration;

use crate::time::Timestamp;

/// Limits of a [`TemplateStore`]. Every limit is enforced and every refusal counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Distinct exporters kept; a new one beyond this evicts the least recently used.
    pub max_exporters: usize,
    /// Domains (observation domains / source ids) per exporter; more are rejected.
    pub max_domains_per_exporter: usize,
    /// Templates per domain; new ids beyond this are rejected (redefinitions still apply).
    pub max_templates_per_domain: usize,
    /// Bytes of template state in all (as accounted by [`TemplateStore::memory_bytes`]);
    /// beyond it the least recently used exporters are evicted.
    pub max_total_bytes: usize,
    /// How long a template lives without being refreshed (RFC 7011 §8.4's UDP template
    /// lifetime); `None` keeps templates until withdrawn or evicted.
    pub template_lifetime: Option<Duration>,
}

impl Default for StoreLimits {
    /// 10,000 exporters, 64 domains each, 4,096 templates per domain, 64 MiB, 30 minutes.
    fn default() -> Self {
        StoreLimits {
            max_exporters: 10_000,
            max_domains_per_exporter: 64,
            max_templates_per_domain: 4_096,
            max_total_bytes: 64 << 20,
            template_lifetime: Some(Duration::from_secs(30 * 60)),
        }
    }
}

/// What a template costs in memory beyond its own `size_of`: its heap allocations.
pub trait TemplateCost {
    /// Heap bytes owned by the template (field lists, decode plans).
    fn heap_bytes(&self) -> usize;
}

/// Counters of everything a [`TemplateStore`] did and refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StoreStats {
    /// Templates stored under an id that had none.
    pub learned: u64,
    /// Templates that replaced a different definition under the same id.
    pub replaced: u64,
    /// Templates re-sent unchanged (their lifetime restarts).
    pub refreshed: u64,
    /// Templates removed by a withdrawal.
    pub withdrawn: u64,
    /// Templates dropped because their lifetime passed.
    pub expired: u64,
    /// Templates dropped because their exporter was evicted.
    pub evicted_templates: u64,
    /// Exporters evicted to respect `max_exporters` or `max_total_bytes`.
    pub evicted_exporters: u64,
    /// Templates refused by a limit (templates per domain, domains per exporter, bytes).
    pub rejected_limit: u64,
    /// Templates refused as invalid by the codec (zero-length records, too many fields...).
    pub rejected_invalid: u64,
}

/// The outcome of [`TemplateStore::insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// A new template id.
    Learned,
    /// A different definition replaced the old one.
    Replaced,
    /// The same definition again; its lifetime restarted.
    Refreshed,
    /// Refused: the domain already holds `max_templates_per_domain` templates.
    TooManyTemplates,
    /// Refused: the exporter already has `max_domains_per_exporter` domains.
    TooManyDomains,
    /// Refused: this template alone does not fit in `max_total_bytes` with its exporter.
    TooLarge,
}

impl Insert {
    /// Whether the template is now stored.
    pub const fn is_stored(self) -> bool {
        matches!(self, Insert::Learned | Insert::Replaced | Insert::Refreshed)
    }
}

#[derive(Debug)]
struct Stored<T> {
    template: T,
    refreshed_at: Timestamp,
    bytes: usize,
}

/// The templates and the codec's own state (`S`: sequence tracking, sampling, interface
/// names) of one (exporter, domain).
#[derive(Debug)]
pub struct Domain<T, S> {
    templates: Map<u16, Stored<T>>,
    /// The sum of the templates' `bytes`, kept up to date so accounting is O(domains).
    template_bytes: usize,
    /// The codec's per-domain state.
    pub state: S,
}

impl<T, S> Domain<T, S> {
    fn take(&mut self, id: u16) -> Option<Stored<T>> {
        let s = self.templates.remove(&id)?;
        self.template_bytes -= s.bytes;
        Some(s)
    }

    fn retain_templates(&mut self, mut keep: impl FnMut(&Stored<T>) -> bool) -> usize {
        let before = self.templates.len();
        let mut freed = 0;
        self.templates.retain(|_, s| {
            let k = keep(s);
            if !k {
                freed += s.bytes;
            }
            k
        });
        self.template_bytes -= freed;
        before - self.templates.len()
    }

    /// The number of templates held.
    pub fn template_count(&self) -> usize {
        self.templates.len()
    }

    /// The template ids held, in no particular order.
    pub fn template_ids(&self) -> impl Iterator<Item = u16> + '_ {
        self.templates.keys().copied()
    }

    /// Every template with the time it was last received (learned, replaced or refreshed),
    /// in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (u16, &T, Timestamp)> + '_ {
        self.templates
            .iter()
            .map(|(id, s)| (*id, &s.template, s.refreshed_at))
    }

    /// A template without checking its lifetime (for inspection; decoding should use
    /// [`TemplateStore::get`]).
    pub fn peek(&self, id: u16) -> Option<&T> {
        self.templates.get(&id).map(|s| &s.template)
    }
}

#[derive(Debug)]
struct Exporter<T, S> {
    domains: Map<u32, Domain<T, S>>,
    bytes: usize,
    last_used: u64,
}

/// The bounded template store. `E` is the exporter key (a socket address, or just the IP
/// address when the UDP source port is not to be part of the key), `T` the template type and
/// `S` per-domain state of the codec's own.
#[derive(Debug)]
pub struct TemplateStore<E, T, S = ()> {
    limits: StoreLimits,
    exporters: Map<E, Exporter<T, S>>,
    lru: BTreeMap<u64, E>,
    tick: u64,
    total_bytes: usize,
    stats: StoreStats,
}

/// The LRU index is a B-tree: a node holds up to 11 entries and, once entries come and go,
/// as few as 5, plus its links; counting each entry 3 times over bounds what it holds.
const LRU_ENTRY_BYTES_FACTOR: usize = 3;

/// Touches within this many of the last one do not reorder the LRU (see `touch`).
const LRU_SLACK: u64 = 64;

/// The heap a hash table holds: what its allocation is, not how much of it is in use. The
/// table (hashbrown's swiss table, under std's `HashMap`) has a power-of-two number of
/// buckets, of which 7/8 are usable (all but one below 8), one `(K, V)` entry (padding
/// included) and one control byte each, and a group of 16 more control bytes.
fn map_bytes<K, V>(m: &Map<K, V>) -> usize {
    let capacity = m.capacity();
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 7 {
        capacity + 1
    } else {
        capacity / 7 * 8
    };
    buckets * (size_of::<(K, V)>() + 1) + 16
}

impl<E, T, S> TemplateStore<E, T, S>
where
    E: Hash + Eq + Clone,
    T: TemplateCost + PartialEq,
    S: Default,
{
    /// An empty store with these limits.
    pub fn new(limits: StoreLimits) -> Self {
        TemplateStore {
            limits,
            exporters: Map::default(),
            lru: BTreeMap::new(),
            tick: 0,
            total_bytes: 0,
            stats: StoreStats::default(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &StoreLimits {
        &self.limits
    }

    /// The counters.
    pub fn stats(&self) -> &StoreStats {
        &self.stats
    }

    /// Counts a template the codec refused as invalid.
    pub fn note_invalid(&mut self) {
        self.stats.rejected_invalid += 1;
    }

    /// Bytes accounted for all exporters, domains and templates: hash tables by capacity
    /// (entries are stored inline), templates' own allocations by
    /// [`TemplateCost::heap_bytes`].
    pub fn memory_bytes(&self) -> usize {
        self.total_bytes
            + map_bytes(&self.exporters)
            + self.lru.len() * LRU_ENTRY_BYTES_FACTOR * (size_of::<u64>() + size_of::<E>())
    }

    /// The number of exporters held.
    pub fn exporter_count(&self) -> usize {
        self.exporters.len()
    }

    /// The number of templates held in all.
    pub fn template_count(&self) -> usize {
        self.exporters
            .values()
            .flat_map(|e| e.domains.values())
            .map(|d| d.templates.len())
            .sum()
    }

    /// Every (exporter, domain id, domain), for reporting.
    pub fn domains(&self) -> impl Iterator<Item = (&E, u32, &Domain<T, S>)> {
        self.exporters
            .iter()
            .flat_map(|(e, x)| x.domains.iter().map(move |(id, d)| (e, *id, d)))
    }

    fn touch(&mut self, exporter: &E) {
        self.tick += 1;
        let tick = self.tick;
        let window = (self.exporters.len() as u64 / 4).clamp(1, LRU_SLACK);
        if let Some(x) = self.exporters.get_mut(exporter) {
            // Moving an exporter in the LRU order costs two tree operations. One touched
            // within the last `window` touches has at most `window` exporters ahead of it,
            // all in the most recent quarter: close enough to the front, so leave it.
            if x.last_used != 0 && tick - x.last_used <= window {
                return;
            }
            self.lru.remove(&x.last_used);
            x.last_used = tick;
            self.lru.insert(tick, exporter.clone());
        }
    }

    fn domain_overhead(d: &Domain<T, S>) -> usize {
        size_of::<Domain<T, S>>() + size_of::<u32>() + 1 + map_bytes(&d.templates)
    }

    fn exporter_bytes(x: &Exporter<T, S>) -> usize {
        map_bytes(&x.domains)
            + x.domains
                .values()
                .map(|d| Self::domain_overhead(d) + d.template_bytes)
                .sum::<usize>()
    }

    fn recount(&mut self, exporter: &E) {
        if let Some(x) = self.exporters.get_mut(exporter) {
            let new = Self::exporter_bytes(x);
            self.total_bytes = self.total_bytes - x.bytes + new;
            x.bytes = new;
        }
    }

    fn evict_lru_except(&mut self, keep: Option<&E>) -> bool {
        let victim = self
            .lru
            .iter()
            .find(|(_, e)| Some(*e) != keep)
            .map(|(t, e)| (*t, e.clone()));
        let Some((tick, victim)) = victim else {
            return false;
        };
        self.lru.remove(&tick);
        if let Some(x) = self.exporters.remove(&victim) {
            self.total_bytes -= x.bytes;
            self.stats.evicted_exporters += 1;
            self.stats.evicted_templates += x
                .domains
                .values()
                .map(|d| d.templates.len() as u64)
                .sum::<u64>();
        }
        true
    }

    /// The state of (exporter, domain), created if new. `None` when the exporter already has
    /// `max_domains_per_exporter` other domains. A new exporter beyond `max_exporters` evicts
    /// the least recently used one.
    pub fn domain_mut(&mut self, exporter: &E, domain: u32) -> Option<&mut Domain<T, S>> {
        if !self.exporters.contains_key(exporter) {
            while self.exporters.len() >= self.limits.max_exporters.max(1) {
                if !self.evict_lru_except(None) {
                    break;
                }
            }
            self.exporters.insert(
                exporter.clone(),
                Exporter {
                    domains: Map::default(),
                    bytes: 0,
                    last_used: 0,
                },
            );
        }
        self.touch(exporter);
        let x = self.exporters.get_mut(exporter)?;
        if !x.domains.contains_key(&domain) {
            if x.domains.len() >= self.limits.max_domains_per_exporter {
                self.stats.rejected_limit += 1;
                return None;
            }
            x.domains.insert(
                domain,
                Domain {
                    templates: Map::default(),
                    template_bytes: 0,
                    state: S::default(),
                },
            );
            self.recount(exporter);
            self.enforce_bytes(exporter);
        }
        self.exporters
            .get_mut(exporter)
            .and_then(|x| x.domains.get_mut(&domain))
    }

    /// The state of (exporter, domain) if it exists, without touching it.
    pub fn domain(&self, exporter: &E, domain: u32) -> Option<&Domain<T, S>> {
        self.exporters.get(exporter)?.domains.get(&domain)
    }

    fn enforce_bytes(&mut self, keep: &E) {
        while self.memory_bytes() > self.limits.max_total_bytes {
            if !self.evict_lru_except(Some(keep)) {
                break;
            }
        }
    }

    /// Stores a template (learned, replaced or refreshed), or refuses it by a limit.
    pub fn insert(
        &mut self,
        exporter: E,
        domain: u32,
        id: u16,
        template: T,
        now: Timestamp,
    ) -> Insert {
        // The entry itself sits in its domain's table, which is counted by capacity.
        let bytes = template.heap_bytes();
        if bytes > self.limits.max_total_bytes {
            self.stats.rejected_limit += 1;
            return Insert::TooLarge;
        }
        let max_templates = self.limits.max_templates_per_domain;
        let Some(d) = self.domain_mut(&exporter, domain) else {
            return Insert::TooManyDomains;
        };
        let held = d.templates.len();
        let outcome = match d.templates.get_mut(&id) {
            Some(s) if s.template == template => {
                s.refreshed_at = now;
                return self.count(Insert::Refreshed);
            }
            Some(s) => {
                d.template_bytes = d.template_bytes - s.bytes + bytes;
                *s = Stored {
                    template,
                    refreshed_at: now,
                    bytes,
                };
                Insert::Replaced
            }
            None if held >= max_templates => {
                self.stats.rejected_limit += 1;
                return Insert::TooManyTemplates;
            }
            None => {
                d.template_bytes += bytes;
                d.templates.insert(
                    id,
                    Stored {
                        template,
                        refreshed_at: now,
                        bytes,
                    },
                );
                Insert::Learned
            }
        };
        self.recount(&exporter);
        // Bytes are enforced across other exporters first; if this exporter alone is over,
        // the new template is taken back out.
        self.enforce_bytes(&exporter);
        if self.memory_bytes() > self.limits.max_total_bytes {
            if let Some(d) = self
                .exporters
                .get_mut(&exporter)
                .and_then(|x| x.domains.get_mut(&domain))
            {
                d.take(id);
            }
            self.recount(&exporter);
            self.stats.rejected_limit += 1;
            return Insert::TooLarge;
        }
        self.count(outcome)
    }

    fn count(&mut self, outcome: Insert) -> Insert {
        match outcome {
            Insert::Learned => self.stats.learned += 1,
            Insert::Replaced => self.stats.replaced += 1,
            Insert::Refreshed => self.stats.refreshed += 1,
            _ => {}
        }
        outcome
    }

    fn is_expired(&self, s: &Stored<T>, now: Timestamp) -> bool {
        match self.limits.template_lifetime {
            Some(life) => {
                let age = now.unix_nanos().saturating_sub(s.refreshed_at.unix_nanos());
                age > i64::try_from(life.as_nanos()).unwrap_or(i64::MAX)
            }
            None => false,
        }
    }

    /// The template, if held and not past its lifetime at `now` (an expired one is removed
    /// and counted).
    pub fn get(&mut self, exporter: &E, domain: u32, id: u16, now: Timestamp) -> Option<&T> {
        let expired = {
            let s = self
                .exporters
                .get(exporter)?
                .domains
                .get(&domain)?
                .templates
                .get(&id)?;
            self.is_expired(s, now)
        };
        if expired {
            if let Some(d) = self
                .exporters
                .get_mut(exporter)
                .and_then(|x| x.domains.get_mut(&domain))
            {
                d.take(id);
            }
            self.stats.expired += 1;
            self.recount(exporter);
            return None;
        }
        self.exporters
            .get(exporter)?
            .domains
            .get(&domain)?
            .templates
            .get(&id)
            .map(|s| &s.template)
    }

    /// Removes one template (a withdrawal); returns whether it was held.
    pub fn withdraw(&mut self, exporter: &E, domain: u32, id: u16) -> bool {
        let removed = self
            .exporters
            .get_mut(exporter)
            .and_then(|x| x.domains.get_mut(&domain))
            .and_then(|d| d.take(id))
            .is_some();
        if removed {
            self.stats.withdrawn += 1;
            self.recount(exporter);
        }
        removed
    }

    /// Removes every template of the domain for which `which` is true (an all-templates
    /// withdrawal; IPFIX distinguishes data from options templates); returns how many.
    pub fn withdraw_all(&mut self, exporter: &E, domain: u32, which: impl Fn(&T) -> bool) -> usize {
        let Some(d) = self
            .exporters
            .get_mut(exporter)
            .and_then(|x| x.domains.get_mut(&domain))
        else {
            return 0;
        };
        let n = d.retain_templates(|s| !which(&s.template));
        self.stats.withdrawn += n as u64;
        self.recount(exporter);
        n
    }

    /// Drops every template past its lifetime; returns how many. Sessions call this now and
    /// then (it walks the whole store); [`TemplateStore::get`] checks lifetimes on its own.
    pub fn expire(&mut self, now: Timestamp) -> usize {
        let Some(life) = self.limits.template_lifetime else {
            return 0;
        };
        let life = i64::try_from(life.as_nanos()).unwrap_or(i64::MAX);
        let mut n = 0;
        let keys: Vec<E> = self.exporters.keys().cloned().collect();
        for key in keys {
            if let Some(x) = self.exporters.get_mut(&key) {
                for d in x.domains.values_mut() {
                    n += d.retain_templates(|s| {
                        now.unix_nanos().saturating_sub(s.refreshed_at.unix_nanos()) <= life
                    });
                }
            }
            self.recount(&key);
        }
        self.stats.expired += n as u64;
        n
    }

    /// Forgets every exporter (the counters stay).
    pub fn clear(&mut self) {
        self.exporters.clear();
        self.lru.clear();
        self.total_bytes = 0;
    }

    /// Forgets an exporter entirely (all its domains, templates and state).
    pub fn remove_exporter(&mut self, exporter: &E) -> bool {
        match self.exporters.remove(exporter) {
            Some(x) => {
                self.lru.remove(&x.last_used);
                self.total_bytes -= x.bytes;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl<E: Hash + Eq + Clone, T: TemplateCost + PartialEq, S: Default> TemplateStore<E, T, S> {
        /// The incremental byte counts agree with a full recount.
        fn accounting_is_exact(&self) -> bool {
            let total: usize = self
                .exporters
                .values()
                .map(|x| {
                    let domains_ok = x.domains.values().all(|d| {
                        d.template_bytes == d.templates.values().map(|s| s.bytes).sum::<usize>()
                    });
                    assert!(domains_ok);
                    assert_eq!(x.bytes, Self::exporter_bytes(x));
                    x.bytes
                })
                .sum();
            total == self.total_bytes
        }
    }

    #[derive(Debug, PartialEq)]
    struct Tpl(Vec<u32>);
    impl TemplateCost for Tpl {
        fn heap_bytes(&self) -> usize {
            self.0.capacity() * 4
        }
    }

    fn t(s: u32) -> Timestamp {
        Timestamp::from_unix_secs(i64::from(s))
    }

    #[test]
    fn learn_refresh_replace_withdraw() {
        let mut s: TemplateStore<u8, Tpl> = TemplateStore::new(StoreLimits::default());
        assert_eq!(s.insert(1, 0, 256, Tpl(vec![1]), t(0)), Insert::Learned);
        assert_eq!(s.insert(1, 0, 256, Tpl(vec![1]), t(1)), Insert::Refreshed);
        assert_eq!(s.insert(1, 0, 256, Tpl(vec![2]), t(2)), Insert::Replaced);
        assert_eq!(s.get(&1, 0, 256, t(3)), Some(&Tpl(vec![2])));
        assert_eq!(s.get(&1, 1, 256, t(3)), None, "domains are separate");
        assert_eq!(s.get(&2, 0, 256, t(3)), None, "exporters are separate");
        assert!(s.withdraw(&1, 0, 256));
        assert!(!s.withdraw(&1, 0, 256));
        let st = s.stats();
        assert_eq!(
            (st.learned, st.refreshed, st.replaced, st.withdrawn),
            (1, 1, 1, 1)
        );
    }

    #[test]
    fn lifetime_expires_unrefreshed_templates() {
        let limits = StoreLimits {
            template_lifetime: Some(Duration::from_secs(60)),
            ..StoreLimits::default()
        };
        let mut s: TemplateStore<u8, Tpl> = TemplateStore::new(limits);
        s.insert(1, 0, 256, Tpl(vec![1]), t(0));
        s.insert(1, 0, 257, Tpl(vec![1]), t(0));
        assert!(s.get(&1, 0, 256, t(60)).is_some());
        assert!(s.get(&1, 0, 256, t(61)).is_none());
        assert_eq!(s.expire(t(61)), 1);
        assert_eq!(s.stats().expired, 2);
        assert_eq!(s.template_count(), 0);
    }

    #[test]
    fn per_domain_and_per_exporter_limits() {
        let limits = StoreLimits {
            max_templates_per_domain: 2,
            max_domains_per_exporter: 1,
            ..StoreLimits::default()
        };
        let mut s: TemplateStore<u8, Tpl> = TemplateStore::new(limits);
        assert!(s.insert(1, 0, 256, Tpl(vec![]), t(0)).is_stored());
        assert!(s.insert(1, 0, 257, Tpl(vec![]), t(0)).is_stored());
        assert_eq!(
            s.insert(1, 0, 258, Tpl(vec![]), t(0)),
            Insert::TooManyTemplates
        );
        assert_eq!(s.insert(1, 0, 257, Tpl(vec![9]), t(0)), Insert::Replaced);
        assert_eq!(
            s.insert(1, 7, 256, Tpl(vec![]), t(0)),
            Insert::TooManyDomains
        );
        assert_eq!(s.stats().rejected_limit, 2);
    }

    #[test]
    fn exporters_beyond_the_limit_evict_the_least_recently_used() {
        let limits = StoreLimits {
            max_exporters: 2,
            ..StoreLimits::default()
        };
        let mut s: TemplateStore<u8, Tpl> = TemplateStore::new(limits);
        s.insert(1, 0, 256, Tpl(vec![]), t(0));
        s.insert(2, 0, 256, Tpl(vec![]), t(0));
        s.get(&1, 0, 256, t(0));
        s.domain_mut(&1, 0); // 1 is now the most recently used
        s.insert(3, 0, 256, Tpl(vec![]), t(0));
        assert_eq!(s.exporter_count(), 2);
        assert!(s.get(&2, 0, 256, t(0)).is_none(), "2 was evicted");
        assert!(s.get(&1, 0, 256, t(0)).is_some());
        assert_eq!(s.stats().evicted_exporters, 1);
        assert_eq!(s.stats().evicted_templates, 1);
    }

    #[test]
    fn bytes_are_bounded() {
        let limits = StoreLimits {
            max_total_bytes: 64 << 10,
            ..StoreLimits::default()
        };
        let mut s: TemplateStore<u32, Tpl> = TemplateStore::new(limits);
        for exporter in 0..1_000u32 {
            for id in 256..266u16 {
                s.insert(exporter, 0, id, Tpl(vec![0; 50]), t(0));
            }
            assert!(s.memory_bytes() <= (64 << 10) + 4096 + s.exporter_count() * 64);
        }
        assert!(s.stats().evicted_exporters > 0);
        assert!(s.accounting_is_exact());
        assert_eq!(
            s.insert(5000, 0, 256, Tpl(vec![0; 100_000]), t(0)),
            Insert::TooLarge
        );
        s.withdraw_all(&999, 0, |_| true);
        s.withdraw(&998, 0, 256);
        s.insert(997, 0, 256, Tpl(vec![0; 7]), t(1));
        s.expire(t(100_000));
        assert!(s.accounting_is_exact());
        assert_eq!(s.template_count(), 0);
    }

    #[test]
    fn withdraw_all_by_kind() {
        let mut s: TemplateStore<u8, Tpl> = TemplateStore::new(StoreLimits::default());
        s.insert(1, 0, 256, Tpl(vec![1]), t(0));
        s.insert(1, 0, 257, Tpl(vec![2]), t(0));
        assert_eq!(s.withdraw_all(&1, 0, |tpl| tpl.0 == vec![1]), 1);
        assert!(s.get(&1, 0, 257, t(0)).is_some());
    }
}
