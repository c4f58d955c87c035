//! [`Collector`]: one [`Decoder`] for every protocol. Give it `(exporter, now, datagram)`;
//! it recognises NetFlow v5/v9, IPFIX and sFlow v5 by their version field, hands the datagram
//! to that protocol's session (template state per exporter inside) and counts per exporter.
//! Everything decoded reaches your [`Sink`]; there is nothing protocol-specific in here.
//!
//! ```
//! use flowwire::{Collector, Decoder, FlowRecord, Timestamp};
//!
//! // A NetFlow v5 datagram with one record (10.0.0.1:1024 -> 10.0.0.2:80, 3 packets).
//! let mut v5 = vec![0, 5, 0, 1, 0, 0, 0x27, 0x10, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0];
//! let mut rec = [0u8; 48];
//! rec[..4].copy_from_slice(&[10, 0, 0, 1]);
//! rec[4..8].copy_from_slice(&[10, 0, 0, 2]);
//! rec[16..20].copy_from_slice(&3u32.to_be_bytes());
//! rec[32..34].copy_from_slice(&1024u16.to_be_bytes());
//! rec[34..36].copy_from_slice(&80u16.to_be_bytes());
//! rec[38] = 6;
//! v5.extend_from_slice(&rec);
//!
//! let mut collector = Collector::default();
//! let mut flows = Vec::new();
//! let summary = collector.decode(
//!     "192.0.2.1:2055".parse().unwrap(),
//!     Timestamp::now(),
//!     &v5,
//!     &mut |f: &FlowRecord| flows.push(f.clone()),
//! );
//! assert_eq!(summary.flows, 1);
//! assert_eq!(flows[0].packets(), Some(3));
//! assert_eq!(flows[0].dst_port(), Some(80));
//! ```

// With some codecs left out, parts of the shared plumbing go unused.
#![cfg_attr(
    not(all(feature = "netflow", feature = "ipfix", feature = "sflow")),
    allow(unused_variables, unused_mut, dead_code, unreachable_code)
)]

use std::collections::HashMap;
use std::net::SocketAddr;

use flowwire_record::codec::{
    CodecError, CounterSample, DecodeError, Decoder, ErrorCounts, ErrorKind, Sink, Summary,
    TemplateEvent,
};
use flowwire_record::{FlowRecord, OptionsRecord, ProtocolKind, Timestamp};

/// A datagram that is none of the four protocols.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a NetFlow v5/v9, IPFIX or sFlow v5 datagram (starts {head:02x?})")]
pub struct Unrecognized {
    /// Its first octets (at most four).
    pub head: Vec<u8>,
}

impl CodecError for Unrecognized {
    fn offset(&self) -> Option<usize> {
        Some(0)
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Version
    }
}

/// Recognises a datagram's protocol from its first octets: a 16-bit version 5, 9 or 10
/// (NetFlow v5, v9, IPFIX) or a 32-bit version 5 (sFlow).
pub fn detect(datagram: &[u8]) -> Option<ProtocolKind> {
    match datagram {
        [0, 0, 0, 5, ..] => Some(ProtocolKind::Sflow5),
        [0, 5, ..] => Some(ProtocolKind::Netflow5),
        [0, 9, ..] => Some(ProtocolKind::Netflow9),
        [0, 10, ..] => Some(ProtocolKind::Ipfix),
        _ => None,
    }
}

/// Per exporter and protocol counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ExporterStats {
    /// Datagrams received.
    pub datagrams: u64,
    /// Flow records decoded.
    pub flows: u64,
    /// Counter samples decoded (sFlow).
    pub counters: u64,
    /// Options records decoded.
    pub options: u64,
    /// Templates learned, replaced or refreshed.
    pub templates: u64,
    /// Templates withdrawn.
    pub withdrawn: u64,
    /// Data sets whose template was unknown when they arrived.
    pub missing_templates: u64,
    /// Errors.
    pub errors: u64,
    /// The errors by kind.
    pub errors_by_kind: ErrorCounts,
    /// Flows whose counts were renormalized ([`CollectorConfig::renormalize`]).
    pub renormalized: u64,
}

impl ExporterStats {
    /// Adds another's counts (the same exporter seen by two collectors, say).
    pub fn add(&mut self, o: &ExporterStats) {
        self.datagrams += o.datagrams;
        self.flows += o.flows;
        self.counters += o.counters;
        self.options += o.options;
        self.templates += o.templates;
        self.withdrawn += o.withdrawn;
        self.missing_templates += o.missing_templates;
        self.errors += o.errors;
        self.errors_by_kind.add_all(&o.errors_by_kind);
        self.renormalized += o.renormalized;
    }
}

/// Renormalization: flows' octets and packets multiplied by the sampling interval they carry
/// or their exporter announced (options data per sampler or domain, the v5 header, the sFlow
/// sample's rate), so that counts estimate the traffic rather than the samples
/// ([`FlowRecord::renormalize`]; renormalized records say so).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renormalize {
    /// Sampling intervals by exporter that override whatever the flows carry, for exporters
    /// that never announce theirs or announce it wrongly. A port of 0 stands for every port
    /// of the address; an exact address and port wins over it.
    pub overrides: HashMap<SocketAddr, u32>,
}

impl Renormalize {
    /// The override for an exporter, if any.
    pub fn override_for(&self, exporter: SocketAddr) -> Option<u32> {
        if self.overrides.is_empty() {
            return None;
        }
        self.overrides
            .get(&exporter)
            .or_else(|| self.overrides.get(&SocketAddr::new(exporter.ip(), 0)))
            .copied()
    }
}

/// Configuration of a [`Collector`]: each protocol's session configuration (the defaults
/// keep data that arrives before its template, bounded, for NetFlow v9 and IPFIX alike).
#[derive(Debug, Clone, Default)]
pub struct CollectorConfig {
    /// The NetFlow session's configuration.
    #[cfg(feature = "netflow")]
    pub netflow: flowwire_netflow::session::SessionConfig,
    /// The IPFIX session's configuration.
    #[cfg(feature = "ipfix")]
    pub ipfix: flowwire_ipfix::session::SessionConfig,
    /// The sFlow session's configuration.
    #[cfg(feature = "sflow")]
    pub sflow: flowwire_sflow::session::SessionConfig,
    /// Exporters whose counters are kept (default 100,000; beyond it, new exporters are
    /// counted together).
    pub max_exporter_stats: Option<usize>,
    /// Multiply flows' octets and packets by their sampling interval (default: off).
    pub renormalize: Option<Renormalize>,
}

/// The multi-protocol collector; see the module docs.
#[derive(Debug)]
pub struct Collector {
    #[cfg(feature = "netflow")]
    netflow: flowwire_netflow::session::Session,
    #[cfg(feature = "ipfix")]
    ipfix: flowwire_ipfix::session::Session,
    #[cfg(feature = "sflow")]
    sflow: flowwire_sflow::session::Session,
    stats: HashMap<(SocketAddr, ProtocolKind), ExporterStats>,
    max_stats: usize,
    overflow: ExporterStats,
    renormalize: Option<Renormalize>,
    /// A flow being renormalized (sinks get records by shared reference).
    scratch: FlowRecord,
}

impl Default for Collector {
    fn default() -> Self {
        Collector::new(CollectorConfig::default())
    }
}

impl Collector {
    /// A collector with this configuration.
    pub fn new(config: CollectorConfig) -> Self {
        Collector {
            #[cfg(feature = "netflow")]
            netflow: flowwire_netflow::session::Session::new(config.netflow),
            #[cfg(feature = "ipfix")]
            ipfix: flowwire_ipfix::session::Session::new(config.ipfix),
            #[cfg(feature = "sflow")]
            sflow: flowwire_sflow::session::Session::new(config.sflow),
            stats: HashMap::new(),
            max_stats: config.max_exporter_stats.unwrap_or(100_000),
            overflow: ExporterStats::default(),
            renormalize: config.renormalize,
            scratch: FlowRecord::default(),
        }
    }

    /// The NetFlow session (templates, counters).
    #[cfg(feature = "netflow")]
    pub fn netflow(&self) -> &flowwire_netflow::session::Session {
        &self.netflow
    }

    /// The IPFIX session (templates, counters).
    #[cfg(feature = "ipfix")]
    pub fn ipfix(&self) -> &flowwire_ipfix::session::Session {
        &self.ipfix
    }

    /// The NetFlow session, to change (register vendor elements, restore state).
    #[cfg(feature = "netflow")]
    pub fn netflow_mut(&mut self) -> &mut flowwire_netflow::session::Session {
        &mut self.netflow
    }

    /// The IPFIX session, to change (register vendor elements, restore state).
    #[cfg(feature = "ipfix")]
    pub fn ipfix_mut(&mut self) -> &mut flowwire_ipfix::session::Session {
        &mut self.ipfix
    }

    /// The sFlow session (sequence tracking per agent and source).
    #[cfg(feature = "sflow")]
    pub fn sflow(&self) -> &flowwire_sflow::session::Session {
        &self.sflow
    }

    /// Counters per (exporter, protocol).
    pub fn exporter_stats(
        &self,
    ) -> impl Iterator<Item = (SocketAddr, ProtocolKind, &ExporterStats)> {
        self.stats.iter().map(|(k, s)| (k.0, k.1, s))
    }

    /// Counters of the exporters beyond [`CollectorConfig::max_exporter_stats`], together.
    pub fn overflow_stats(&self) -> &ExporterStats {
        &self.overflow
    }

    /// Forgets an exporter's templates and per-domain state in every session (its counters
    /// stay): what an IPFIX-over-TCP collector does when the connection closes, since
    /// templates live as long as their transport session (RFC 7011 §8).
    pub fn forget_exporter(&mut self, exporter: SocketAddr) -> bool {
        let mut known = false;
        #[cfg(feature = "netflow")]
        {
            known |= self.netflow.remove_exporter(exporter);
        }
        #[cfg(feature = "ipfix")]
        {
            known |= self.ipfix.remove_exporter(exporter);
        }
        known
    }

    /// Reports an error found outside a datagram (a TCP stream out of step, say) as one of
    /// `exporter`'s: handed to the sink and counted in its statistics.
    pub fn report_error<S: Sink + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        protocol: ProtocolKind,
        error: &dyn CodecError,
        sink: &mut S,
    ) {
        sink.error(&DecodeError {
            protocol: Some(protocol),
            exporter,
            error,
        });
        let mut tally = Tally::default();
        tally.errors.add(error.kind(), 1);
        let summary = Summary {
            errors: 1,
            ..Summary::default()
        };
        // An error is not a datagram.
        self.tally(exporter, protocol, 0, &summary, &tally);
    }

    /// Adds another collector's per-exporter counters to this one's (a pipeline's decoder
    /// folds in what its TCP connections counted).
    pub fn absorb_stats(&mut self, other: &Collector) {
        for (key, s) in &other.stats {
            let full = !self.stats.contains_key(key) && self.stats.len() >= self.max_stats;
            if full {
                self.overflow.add(s);
            } else {
                self.stats.entry(*key).or_default().add(s);
            }
        }
        self.overflow.add(&other.overflow);
    }

    fn tally(
        &mut self,
        exporter: SocketAddr,
        kind: ProtocolKind,
        datagrams: u64,
        s: &Summary,
        t: &Tally,
    ) {
        let full =
            !self.stats.contains_key(&(exporter, kind)) && self.stats.len() >= self.max_stats;
        let e = if full {
            &mut self.overflow
        } else {
            self.stats.entry((exporter, kind)).or_default()
        };
        e.datagrams += datagrams;
        e.flows += s.flows as u64;
        e.counters += s.counters as u64;
        e.options += s.options as u64;
        e.templates += s.templates as u64;
        e.withdrawn += s.withdrawn as u64;
        e.missing_templates += s.missing_templates as u64;
        e.errors += s.errors as u64;
        e.errors_by_kind.add_all(&t.errors);
        e.renormalized += t.renormalized;
    }
}

/// What the collector counts on the way to the caller's sink: errors by kind and flows
/// renormalized.
#[derive(Default)]
struct Tally {
    errors: ErrorCounts,
    renormalized: u64,
}

/// The caller's sink as the sessions see it: errors counted by kind, flows renormalized
/// when asked for.
struct Counting<'a, S: ?Sized> {
    sink: &'a mut S,
    tally: Tally,
    /// (override of the exporter, the record being renormalized), with renormalization on.
    renormalize: Option<(Option<u32>, &'a mut FlowRecord)>,
}

impl<S: Sink + ?Sized> Sink for Counting<'_, S> {
    #[inline]
    fn flow(&mut self, flow: &FlowRecord) {
        match &mut self.renormalize {
            None => self.sink.flow(flow),
            Some((over, scratch)) => match over.or(flow.sampling_interval()) {
                Some(interval) if !flow.is_renormalized() => {
                    scratch.clone_from(flow);
                    if over.is_some() {
                        scratch.set_sampling_interval(Some(interval));
                    }
                    if scratch.renormalize(interval) {
                        self.tally.renormalized += 1;
                    }
                    self.sink.flow(scratch);
                }
                _ => self.sink.flow(flow),
            },
        }
    }
    fn options(&mut self, options: &OptionsRecord) {
        self.sink.options(options);
    }
    fn counters(&mut self, counters: &CounterSample<'_>) {
        self.sink.counters(counters);
    }
    fn template(&mut self, event: &TemplateEvent) {
        self.sink.template(event);
    }
    fn error(&mut self, error: &DecodeError<'_>) {
        self.tally.errors.add(error.kind(), 1);
        self.sink.error(error);
    }
}

impl Decoder for Collector {
    /// Any of NetFlow v5/v9, IPFIX and sFlow v5 ([`detect`]).
    fn accepts(datagram: &[u8]) -> bool {
        detect(datagram).is_some()
    }

    /// Hands the datagram to its protocol's session. A datagram of no known protocol is one
    /// [`Unrecognized`] error, of no protocol.
    fn decode<S: Sink + ?Sized>(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        sink: &mut S,
    ) -> Summary {
        let Some(kind) = detect(datagram) else {
            let e = Unrecognized {
                head: datagram.iter().take(4).copied().collect(),
            };
            sink.error(&DecodeError {
                protocol: None,
                exporter,
                error: &e,
            });
            return Summary {
                errors: 1,
                ..Summary::default()
            };
        };
        let mut counting = Counting {
            sink,
            tally: Tally::default(),
            renormalize: self
                .renormalize
                .as_ref()
                .map(|r| (r.override_for(exporter), &mut self.scratch)),
        };
        let summary = match kind {
            #[cfg(feature = "netflow")]
            ProtocolKind::Netflow5 | ProtocolKind::Netflow9 => {
                self.netflow.decode(exporter, now, datagram, &mut counting)
            }
            #[cfg(feature = "ipfix")]
            ProtocolKind::Ipfix => self.ipfix.decode(exporter, now, datagram, &mut counting),
            #[cfg(feature = "sflow")]
            ProtocolKind::Sflow5 => self.sflow.decode(exporter, now, datagram, &mut counting),
            #[allow(unreachable_patterns)]
            _ => Summary::default(),
        };
        let tally = counting.tally;
        self.tally(exporter, kind, 1, &summary, &tally);
        summary
    }

    fn expire(&mut self, now: Timestamp) -> usize {
        let mut n = 0;
        #[cfg(feature = "netflow")]
        {
            n += self.netflow.expire(now);
        }
        #[cfg(feature = "ipfix")]
        {
            n += self.ipfix.expire(now);
        }
        #[cfg(feature = "sflow")]
        {
            n += self.sflow.expire(now);
        }
        n
    }
}

#[cfg(all(test, feature = "netflow", feature = "ipfix", feature = "sflow"))]
mod tests {
    use super::*;

    #[test]
    fn detects_the_four_protocols() {
        assert_eq!(
            detect(&[0, 0, 0, 5, 0, 0, 0, 1]),
            Some(ProtocolKind::Sflow5)
        );
        assert_eq!(detect(&[0, 5, 0, 0]), Some(ProtocolKind::Netflow5));
        assert_eq!(detect(&[0, 9, 0, 0]), Some(ProtocolKind::Netflow9));
        assert_eq!(detect(&[0, 10, 0, 0]), Some(ProtocolKind::Ipfix));
        assert_eq!(detect(&[0, 7, 0, 0]), None);
        assert_eq!(detect(&[]), None);
    }

    #[test]
    fn garbage_is_one_error() {
        struct Errors(Vec<String>);
        impl Sink for Errors {
            fn flow(&mut self, _: &FlowRecord) {}
            fn error(&mut self, e: &DecodeError<'_>) {
                assert!(e.downcast_ref::<Unrecognized>().is_some());
                self.0.push(e.to_string());
            }
        }
        let mut c = Collector::default();
        let mut errors = Errors(Vec::new());
        let s = c.decode(
            "192.0.2.1:9".parse().unwrap(),
            Timestamp::now(),
            b"hello",
            &mut errors,
        );
        assert_eq!(s.errors, 1);
        assert!(errors.0[0].contains("not a NetFlow"), "{:?}", errors.0);
    }
}

/// Everything decoded from a capture by [`read_capture`].
#[cfg(feature = "pcap")]
#[derive(Debug, Default)]
pub struct Decoded {
    /// Flow records, in capture order.
    pub flows: Vec<FlowRecord>,
    /// sFlow counter samples.
    #[cfg(feature = "sflow")]
    pub counters: Vec<flowwire_sflow::convert::Counters>,
    /// Options data records.
    pub options: Vec<OptionsRecord>,
    /// Every problem met, as text with the frame number (decoding went on around each).
    pub errors: Vec<String>,
}

#[cfg(feature = "pcap")]
impl Collector {
    /// Feeds every datagram of a capture, in frame order, with the capture's times (so
    /// template lifetimes follow the capture). A problem that stops the walk (a truncated or
    /// corrupt file) is the `Err`; frames that are not UDP or are malformed are skipped.
    pub fn decode_capture<S: Sink + ?Sized>(
        &mut self,
        capture: &mut crate::capture::Capture,
        sink: &mut S,
    ) -> Result<Summary, crate::capture::CaptureError> {
        let mut total = Summary::default();
        while let Some(item) = capture.next_datagram() {
            match item {
                Ok(d) => total += self.decode(d.src, d.time, d.payload, sink),
                Err(e) if e.is_fatal() => return Err(e),
                Err(_) => {}
            }
        }
        Ok(total)
    }
}

/// Decodes a whole capture file (pcap, pcapng or an IPFIX file) with a fresh [`Collector`]:
/// the three-line way to check an exporter in a test.
///
/// ```no_run
/// let decoded = flowwire::collector::read_capture("export.pcap")?;
/// assert!(decoded.errors.is_empty());
/// assert_eq!(decoded.flows.len(), 42);
/// # Ok::<(), flowwire::capture::CaptureError>(())
/// ```
#[cfg(feature = "pcap")]
pub fn read_capture(
    path: impl AsRef<std::path::Path>,
) -> Result<Decoded, crate::capture::CaptureError> {
    struct Keep<'d> {
        out: &'d mut Decoded,
        frame: u64,
    }
    impl Sink for Keep<'_> {
        fn flow(&mut self, flow: &FlowRecord) {
            self.out.flows.push(flow.clone());
        }
        fn options(&mut self, options: &OptionsRecord) {
            self.out.options.push(options.clone());
        }
        #[cfg(feature = "sflow")]
        fn counters(&mut self, counters: &flowwire_record::CounterSample<'_>) {
            if let Some(c) = counters.detail::<flowwire_sflow::convert::Counters>() {
                self.out.counters.push(c.clone());
            }
        }
        fn error(&mut self, error: &DecodeError<'_>) {
            self.out
                .errors
                .push(format!("frame {}: {error}", self.frame));
        }
    }
    let mut capture = crate::capture::open_capture(path)?;
    let mut collector = Collector::default();
    let mut out = Decoded::default();
    while let Some(item) = capture.next_datagram() {
        match item {
            Ok(d) => {
                let mut keep = Keep {
                    out: &mut out,
                    frame: d.frame,
                };
                collector.decode(d.src, d.time, d.payload, &mut keep);
            }
            Err(e @ crate::capture::CaptureError::Truncated { .. }) => {
                out.errors.push(e.to_string());
                break;
            }
            Err(e) if e.is_fatal() => return Err(e),
            Err(_) => {}
        }
    }
    Ok(out)
}
