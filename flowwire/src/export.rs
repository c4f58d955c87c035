//! [`AnyExporter`]: one of the four exporters (NetFlow v5, NetFlow v9, IPFIX, sFlow), chosen
//! at run time, behind the same [`Exporter`] contract they all keep. What `flowwire generate`
//! and `flowwire convert` use.
//!
//! ```
//! use flowwire::export::AnyExporter;
//! use flowwire::{Exporter, FlowRecord, ProtocolKind, Timestamp};
//!
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! let mut exporter = AnyExporter::new(ProtocolKind::Ipfix, now);
//! let flow = FlowRecord::default()
//!     .with_src_addr("192.0.2.1".parse().unwrap())
//!     .with_dst_addr("198.51.100.7".parse().unwrap())
//!     .with_octets(1500)
//!     .with_packets(1);
//! let mut datagrams: Vec<Vec<u8>> = Vec::new();
//! exporter.push(&flow, now, &mut |d| datagrams.push(d.to_vec())).unwrap();
//! exporter.flush(now, &mut |d| datagrams.push(d.to_vec())).unwrap();
//! assert_eq!(datagrams.len(), 1);
//! assert_eq!(&datagrams[0][..2], &[0, 10]); // an IPFIX message, template included
//! ```

use flowwire_record::codec::{ExportStats, Exporter};
use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};

/// An error of the exporter in use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The protocol's codec was left out at build time.
    #[error("{0} support is not compiled in")]
    NotCompiledIn(ProtocolKind),
    /// A NetFlow error.
    #[cfg(feature = "netflow")]
    #[error("netflow: {0}")]
    Netflow(#[from] flowwire_netflow::Error),
    /// An IPFIX error.
    #[cfg(feature = "ipfix")]
    #[error("ipfix: {0}")]
    Ipfix(#[from] flowwire_ipfix::Error),
    /// An sFlow error.
    #[cfg(feature = "sflow")]
    #[error("sflow: {0}")]
    Sflow(#[from] flowwire_sflow::Error),
}

/// One of the four exporters; see the module docs.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyExporter {
    /// NetFlow v5.
    #[cfg(feature = "netflow")]
    Netflow5(flowwire_netflow::V5Exporter),
    /// NetFlow v9.
    #[cfg(feature = "netflow")]
    Netflow9(Box<flowwire_netflow::V9Exporter>),
    /// IPFIX.
    #[cfg(feature = "ipfix")]
    Ipfix(Box<flowwire_ipfix::exporter::Exporter>),
    /// sFlow v5.
    #[cfg(feature = "sflow")]
    Sflow5(Box<flowwire_sflow::encode::Exporter>),
    /// A protocol whose codec is not compiled in: every push fails.
    Unavailable(ProtocolKind, ExportStats),
}

impl AnyExporter {
    /// An exporter of `kind` whose uptime counts from `boot`, with the codec's defaults
    /// (1400-octet datagrams, except NetFlow v5's 30 records of at most 1464 octets as every
    /// v5 exporter sends them; domain / source id 0; agent 127.0.0.1 for sFlow).
    pub fn new(kind: ProtocolKind, boot: Timestamp) -> Self {
        match kind {
            #[cfg(feature = "netflow")]
            ProtocolKind::Netflow5 => AnyExporter::Netflow5(flowwire_netflow::V5Exporter::new(
                flowwire_netflow::V5ExporterConfig {
                    boot: Some(boot),
                    ..Default::default()
                },
            )),
            #[cfg(feature = "netflow")]
            ProtocolKind::Netflow9 => AnyExporter::Netflow9(Box::new(
                flowwire_netflow::V9Exporter::new(flowwire_netflow::V9ExporterConfig {
                    boot: Some(boot),
                    ..Default::default()
                }),
            )),
            #[cfg(feature = "ipfix")]
            ProtocolKind::Ipfix => AnyExporter::Ipfix(Box::new(
                flowwire_ipfix::exporter::Exporter::new(Default::default()),
            )),
            #[cfg(feature = "sflow")]
            ProtocolKind::Sflow5 => AnyExporter::Sflow5(Box::new(
                flowwire_sflow::encode::Exporter::new(flowwire_sflow::encode::ExporterConfig {
                    boot,
                    ..Default::default()
                }),
            )),
            #[allow(unreachable_patterns)]
            other => AnyExporter::Unavailable(other, ExportStats::default()),
        }
    }
}

/// Calls `$body` with the exporter inside, mapping its error.
macro_rules! each {
    ($self:expr, $e:ident => $body:expr, $unavailable:expr) => {
        match $self {
            #[cfg(feature = "netflow")]
            AnyExporter::Netflow5($e) => $body.map_err(ExportError::from),
            #[cfg(feature = "netflow")]
            AnyExporter::Netflow9($e) => $body.map_err(ExportError::from),
            #[cfg(feature = "ipfix")]
            AnyExporter::Ipfix($e) => $body.map_err(ExportError::from),
            #[cfg(feature = "sflow")]
            AnyExporter::Sflow5($e) => $body.map_err(ExportError::from),
            AnyExporter::Unavailable(kind, _) => $unavailable(*kind),
        }
    };
}

impl Exporter for AnyExporter {
    type Error = ExportError;

    fn protocol(&self) -> ProtocolKind {
        match self {
            #[cfg(feature = "netflow")]
            AnyExporter::Netflow5(_) => ProtocolKind::Netflow5,
            #[cfg(feature = "netflow")]
            AnyExporter::Netflow9(_) => ProtocolKind::Netflow9,
            #[cfg(feature = "ipfix")]
            AnyExporter::Ipfix(_) => ProtocolKind::Ipfix,
            #[cfg(feature = "sflow")]
            AnyExporter::Sflow5(_) => ProtocolKind::Sflow5,
            AnyExporter::Unavailable(kind, _) => *kind,
        }
    }

    fn push(
        &mut self,
        flow: &FlowRecord,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), ExportError> {
        each!(self, e => e.push(flow, now, out), |k| Err(ExportError::NotCompiledIn(k)))
    }

    fn flush(&mut self, now: Timestamp, out: &mut dyn FnMut(&[u8])) -> Result<(), ExportError> {
        each!(self, e => e.flush(now, out), |k| Err(ExportError::NotCompiledIn(k)))
    }

    fn stats(&self) -> &ExportStats {
        match self {
            #[cfg(feature = "netflow")]
            AnyExporter::Netflow5(e) => e.stats(),
            #[cfg(feature = "netflow")]
            AnyExporter::Netflow9(e) => e.stats(),
            #[cfg(feature = "ipfix")]
            AnyExporter::Ipfix(e) => e.stats(),
            #[cfg(feature = "sflow")]
            AnyExporter::Sflow5(e) => e.stats(),
            AnyExporter::Unavailable(_, s) => s,
        }
    }

    fn restrict(&self, flow: &FlowRecord, now: Timestamp) -> FlowRecord {
        match self {
            #[cfg(feature = "netflow")]
            AnyExporter::Netflow5(e) => e.restrict(flow, now),
            #[cfg(feature = "netflow")]
            AnyExporter::Netflow9(e) => e.restrict(flow, now),
            #[cfg(feature = "ipfix")]
            AnyExporter::Ipfix(e) => e.restrict(flow, now),
            #[cfg(feature = "sflow")]
            AnyExporter::Sflow5(e) => e.restrict(flow, now),
            AnyExporter::Unavailable(..) => FlowRecord::default(),
        }
    }
}
