//! [`Collector`]: one entry point for every protocol. Give it `(exporter, datagram)` pairs;
//! it recognises NetFlow v5, v9, IPFIX and sFlow v5 from the content, keeps one session per
//! protocol (template state per exporter inside), and hands out flow records, sFlow counter
//! samples, options data and typed errors.
//!
//! ```
//! use flowwire::collector::{Collector, Event};
//! use flowwire::Timestamp;
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
//! collector.feed("192.0.2.1:2055".parse().unwrap(), Timestamp::now(), &v5, |event| {
//!     if let Event::Flow(f) = event {
//!         flows.push(f.clone());
//!     }
//! });
//! assert_eq!(flows.len(), 1);
//! assert_eq!(flows[0].packets, Some(3));
//! assert_eq!(flows[0].dst_port, Some(80));
//! ```

// With some codecs left out, parts of the shared plumbing go unused.
#![cfg_attr(
    not(all(feature = "netflow", feature = "ipfix", feature = "sflow")),
    allow(unused_variables, unused_mut, dead_code, unreachable_code)
)]

use std::collections::HashMap;
use std::net::SocketAddr;

use flowwire_record::{ExtraField, FlowRecord, ProtocolKind, Timestamp};

/// What the collector hands out, one at a time, borrowed for the duration of the callback.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A flow record.
    Flow(&'a FlowRecord),
    /// An sFlow counter sample, converted.
    #[cfg(feature = "sflow")]
    Counters(&'a flowwire_sflow::convert::Counters),
    /// An options data record (sampling, interface names, exporter statistics...).
    Options(&'a OptionsRecord),
    /// A problem; decoding went on around it.
    Error(&'a CollectorError),
}

/// An options data record: what an exporter says about itself rather than a flow.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename = "options"))]
pub struct OptionsRecord {
    /// The protocol.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub kind: Option<ProtocolKind>,
    /// The exporter's socket address.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub exporter: Option<SocketAddr>,
    /// Observation domain / source id.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub domain: Option<u32>,
    /// The options template id.
    pub template_id: u16,
    /// The scope fields.
    pub scope: Vec<ExtraField>,
    /// The other fields.
    pub fields: Vec<ExtraField>,
}

/// A problem the collector met, with the exporter it came from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectorError {
    /// The datagram is none of the four protocols.
    #[error("{exporter}: not a NetFlow v5/v9, IPFIX or sFlow v5 datagram (starts {head:02x?})")]
    Unrecognized {
        /// Where it came from.
        exporter: SocketAddr,
        /// Its first octets.
        head: Vec<u8>,
    },
    /// A NetFlow v5/v9 problem.
    #[cfg(feature = "netflow")]
    #[error("{exporter}: netflow: {source}")]
    Netflow {
        /// Where it came from.
        exporter: SocketAddr,
        /// The codec's error, with its byte offset.
        source: flowwire_netflow::Error,
    },
    /// An IPFIX problem.
    #[cfg(feature = "ipfix")]
    #[error("{exporter}: ipfix: {source}")]
    Ipfix {
        /// Where it came from.
        exporter: SocketAddr,
        /// The codec's error, with its byte offset.
        source: flowwire_ipfix::Error,
    },
    /// An sFlow problem.
    #[cfg(feature = "sflow")]
    #[error("{exporter}: sflow: {source}")]
    Sflow {
        /// Where it came from.
        exporter: SocketAddr,
        /// The codec's error, with its byte offset.
        source: flowwire_sflow::Error,
    },
}

impl CollectorError {
    /// The exporter the problem came from.
    pub fn exporter(&self) -> SocketAddr {
        match self {
            CollectorError::Unrecognized { exporter, .. } => *exporter,
            #[cfg(feature = "netflow")]
            CollectorError::Netflow { exporter, .. } => *exporter,
            #[cfg(feature = "ipfix")]
            CollectorError::Ipfix { exporter, .. } => *exporter,
            #[cfg(feature = "sflow")]
            CollectorError::Sflow { exporter, .. } => *exporter,
        }
    }
}

/// The name of a NetFlow v9 options scope type (RFC 3954 §6.1).
#[cfg(feature = "netflow")]
fn scope_name(scope: u16) -> &'static str {
    match scope {
        1 => "System",
        2 => "Interface",
        3 => "Line Card",
        4 => "Cache",
        5 => "Template",
        _ => "scope",
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
    /// Errors.
    pub errors: u64,
}

/// Configuration of a [`Collector`]. The default keeps data that arrives before its template
/// (bounded; see [`flowwire_record::pending`]) for NetFlow v9 and IPFIX alike, and decodes it
/// when the template comes.
#[derive(Debug, Clone)]
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
    /// Exporters whose counters are kept (beyond it, new exporters are counted together).
    pub max_exporter_stats: Option<usize>,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            #[cfg(feature = "netflow")]
            netflow: flowwire_netflow::session::SessionConfig::default(),
            #[cfg(feature = "ipfix")]
            ipfix: flowwire_ipfix::session::SessionConfig {
                pending: Some(flowwire_record::pending::PendingLimits::default()),
                ..flowwire_ipfix::session::SessionConfig::default()
            },
            #[cfg(feature = "sflow")]
            sflow: flowwire_sflow::session::SessionConfig::default(),
            max_exporter_stats: None,
        }
    }
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
    #[cfg(feature = "sflow")]
    sflow_errors: Vec<flowwire_sflow::Error>,
    record: FlowRecord,
    stats: HashMap<(SocketAddr, ProtocolKind), ExporterStats>,
    max_stats: usize,
    overflow: ExporterStats,
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
            #[cfg(feature = "sflow")]
            sflow_errors: Vec::new(),
            record: FlowRecord::default(),
            stats: HashMap::new(),
            max_stats: config.max_exporter_stats.unwrap_or(100_000),
            overflow: ExporterStats::default(),
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

    /// Counters per (exporter, protocol).
    pub fn exporter_stats(
        &self,
    ) -> impl Iterator<Item = (SocketAddr, ProtocolKind, &ExporterStats)> {
        self.stats.iter().map(|((a, k), s)| (*a, *k, s))
    }

    fn stats_for(&mut self, exporter: SocketAddr, kind: ProtocolKind) -> &mut ExporterStats {
        if !self.stats.contains_key(&(exporter, kind)) && self.stats.len() >= self.max_stats {
            return &mut self.overflow;
        }
        self.stats.entry((exporter, kind)).or_default()
    }

    /// Decodes one datagram from `exporter`, received at `now` (the capture time when
    /// replaying a capture: template lifetimes follow it), calling `on_event` for everything
    /// in it. Returns the protocol recognised.
    pub fn feed(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        mut on_event: impl FnMut(Event<'_>),
    ) -> Option<ProtocolKind> {
        let Some(kind) = detect(datagram) else {
            let err = CollectorError::Unrecognized {
                exporter,
                head: datagram.iter().take(4).copied().collect(),
            };
            on_event(Event::Error(&err));
            return None;
        };
        let mut tally = ExporterStats {
            datagrams: 1,
            ..ExporterStats::default()
        };
        match kind {
            #[cfg(feature = "netflow")]
            ProtocolKind::Netflow5 | ProtocolKind::Netflow9 => {
                self.feed_netflow(exporter, now, datagram, &mut tally, &mut on_event)
            }
            #[cfg(feature = "ipfix")]
            ProtocolKind::Ipfix => {
                self.feed_ipfix(exporter, now, datagram, &mut tally, &mut on_event)
            }
            #[cfg(feature = "sflow")]
            ProtocolKind::Sflow5 => self.feed_sflow(exporter, datagram, &mut tally, &mut on_event),
            #[allow(unreachable_patterns)]
            _ => {}
        }
        let s = self.stats_for(exporter, kind);
        s.datagrams += tally.datagrams;
        s.flows += tally.flows;
        s.counters += tally.counters;
        s.options += tally.options;
        s.errors += tally.errors;
        Some(kind)
    }

    #[cfg(feature = "netflow")]
    fn feed_netflow(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        tally: &mut ExporterStats,
        on_event: &mut impl FnMut(Event<'_>),
    ) {
        use flowwire_netflow::session::{OptionsContext, Visitor};
        use flowwire_netflow::wire::v9_data::DataRecord;

        struct V<'c, F> {
            tally: &'c mut ExporterStats,
            on_event: &'c mut F,
        }
        impl<F: FnMut(Event<'_>)> Visitor for V<'_, F> {
            fn flow(&mut self, record: &FlowRecord) {
                self.tally.flows += 1;
                (self.on_event)(Event::Flow(record));
            }
            fn options(&mut self, ctx: &OptionsContext, record: &DataRecord<'_, '_>) {
                let mut o = OptionsRecord {
                    kind: Some(ProtocolKind::Netflow9),
                    exporter: Some(ctx.exporter),
                    domain: Some(ctx.source_id),
                    template_id: record.template().id(),
                    ..OptionsRecord::default()
                };
                for (spec, value) in record.fields() {
                    // v9 scope types (system, interface, ...) are not element ids: they are
                    // keyed as enterprise 0 with the scope type, and named by it.
                    let e = ExtraField::new(
                        flowwire_record::FieldId::iana(spec.field_type),
                        value.to_owned_value(),
                    );
                    if spec.scope {
                        o.scope.push(ExtraField {
                            name: Some(scope_name(spec.field_type).into()),
                            ..e
                        });
                    } else {
                        o.fields.push(e);
                    }
                }
                self.tally.options += 1;
                (self.on_event)(Event::Options(&o));
            }
        }
        let report = self.netflow.decode_with(
            exporter,
            now,
            datagram,
            &mut V {
                tally: &mut *tally,
                on_event: &mut *on_event,
            },
        );
        for source in report.errors {
            tally.errors += 1;
            on_event(Event::Error(&CollectorError::Netflow { exporter, source }));
        }
    }

    #[cfg(feature = "ipfix")]
    fn feed_ipfix(
        &mut self,
        exporter: SocketAddr,
        now: Timestamp,
        datagram: &[u8],
        tally: &mut ExporterStats,
        on_event: &mut impl FnMut(Event<'_>),
    ) {
        use flowwire_ipfix::session::{RecordContext, Visitor};
        use flowwire_ipfix::wire::data::DataRecord;

        struct V<'c, F> {
            record: &'c mut FlowRecord,
            tally: &'c mut ExporterStats,
            on_event: &'c mut F,
            exporter: SocketAddr,
        }
        impl<F: FnMut(Event<'_>)> Visitor for V<'_, F> {
            fn record(&mut self, ctx: &RecordContext<'_>, record: &DataRecord<'_, '_>) {
                let template = record.template();
                if template.is_options() {
                    let scope_count = usize::from(template.scope_field_count());
                    let mut o = OptionsRecord {
                        kind: Some(ProtocolKind::Ipfix),
                        exporter: Some(ctx.exporter),
                        domain: Some(ctx.domain),
                        template_id: template.id(),
                        ..OptionsRecord::default()
                    };
                    for (i, f) in record.raw_fields().enumerate() {
                        let e = ExtraField::new(f.spec.field_id(), f.value().to_owned_value());
                        if i < scope_count {
                            o.scope.push(e);
                        } else {
                            o.fields.push(e);
                        }
                    }
                    self.tally.options += 1;
                    (self.on_event)(Event::Options(&o));
                    return;
                }
                ctx.to_flow_record(record, self.record);
                self.tally.flows += 1;
                (self.on_event)(Event::Flow(self.record));
            }
            fn error(&mut self, source: flowwire_ipfix::Error) {
                self.tally.errors += 1;
                (self.on_event)(Event::Error(&CollectorError::Ipfix {
                    exporter: self.exporter,
                    source,
                }));
            }
        }
        let mut v = V {
            record: &mut self.record,
            tally,
            on_event,
            exporter,
        };
        if let Err(source) = self.ipfix.decode(exporter, datagram, now, &mut v) {
            v.error(source);
        }
    }

    #[cfg(feature = "sflow")]
    fn feed_sflow(
        &mut self,
        exporter: SocketAddr,
        datagram: &[u8],
        tally: &mut ExporterStats,
        on_event: &mut impl FnMut(Event<'_>),
    ) {
        use flowwire_sflow::convert::{self, Counters, DatagramInfo};
        use flowwire_sflow::wire::{Datagram, SampleView};

        let d = match Datagram::new_checked(datagram) {
            Ok(d) => d,
            Err(source) => {
                tally.errors += 1;
                on_event(Event::Error(&CollectorError::Sflow { exporter, source }));
                return;
            }
        };
        self.sflow.observe(&d);
        let info = DatagramInfo::of(&d);
        // Errors of records inside a sample land here; the Vec keeps its capacity, so a clean
        // datagram allocates nothing.
        self.sflow_errors.clear();
        for sample in d.samples() {
            match sample.and_then(|s| s.view()) {
                Ok(SampleView::Flow(f)) => {
                    convert::flow_sample_into(&info, &f, &mut self.record, &mut self.sflow_errors);
                    self.record.exporter = Some(exporter);
                    tally.flows += 1;
                    on_event(Event::Flow(&self.record));
                }
                Ok(SampleView::Discarded(x)) => {
                    convert::discarded_sample_into(
                        &info,
                        &x,
                        &mut self.record,
                        &mut self.sflow_errors,
                    );
                    self.record.exporter = Some(exporter);
                    tally.flows += 1;
                    on_event(Event::Flow(&self.record));
                }
                Ok(SampleView::Counters(c)) => {
                    let counters = Counters::from_view(&info, &c, &mut self.sflow_errors);
                    tally.counters += 1;
                    on_event(Event::Counters(&counters));
                }
                Ok(_) => {}
                Err(e) => self.sflow_errors.push(e),
            }
            for source in self.sflow_errors.drain(..) {
                tally.errors += 1;
                on_event(Event::Error(&CollectorError::Sflow { exporter, source }));
            }
        }
    }

    /// The sFlow session (sequence tracking per agent and source).
    #[cfg(feature = "sflow")]
    pub fn sflow(&self) -> &flowwire_sflow::session::Session {
        &self.sflow
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
    fn garbage_is_one_error_event() {
        let mut c = Collector::default();
        let mut errors = 0;
        let kind = c.feed(
            "192.0.2.1:9".parse().unwrap(),
            Timestamp::now(),
            b"hello",
            |e| {
                if let Event::Error(e) = e {
                    errors += 1;
                    assert!(e.to_string().contains("not a NetFlow"));
                }
            },
        );
        assert_eq!((kind, errors), (None, 1));
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
    /// Feeds every UDP datagram of a capture, in frame order, with the capture's times (so
    /// template lifetimes follow the capture). `on_event` gets the frame number with each
    /// event. A problem that stops the walk (a truncated or corrupt file) is the `Err`; frames
    /// that are not UDP or are malformed are skipped.
    pub fn feed_capture(
        &mut self,
        reader: &mut crate::capture::CaptureReader,
        mut on_event: impl FnMut(u64, Event<'_>),
    ) -> Result<(), crate::capture::CaptureError> {
        while let Some(item) = reader.next_datagram() {
            match item {
                Ok(d) => {
                    let frame = d.frame;
                    self.feed(d.src, d.time, d.payload, |e| on_event(frame, e));
                }
                Err(e) if e.is_fatal() => return Err(e),
                Err(_) => {}
            }
        }
        Ok(())
    }
}

/// Decodes a whole capture file (pcap or pcapng) with a fresh [`Collector`]: the three-line
/// way to check an exporter in a test.
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
    let mut reader = crate::capture::CaptureReader::open(path)?;
    let mut collector = Collector::default();
    let mut out = Decoded::default();
    let res = collector.feed_capture(&mut reader, |frame, e| match e {
        Event::Flow(f) => out.flows.push(f.clone()),
        #[cfg(feature = "sflow")]
        Event::Counters(c) => out.counters.push(c.clone()),
        Event::Options(o) => out.options.push(o.clone()),
        Event::Error(err) => out.errors.push(format!("frame {frame}: {err}")),
    });
    match res {
        Ok(()) => Ok(out),
        Err(e @ crate::capture::CaptureError::Truncated { .. }) => {
            out.errors.push(e.to_string());
            Ok(out)
        }
        Err(e) => Err(e),
    }
}
