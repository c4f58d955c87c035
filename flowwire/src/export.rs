//! [`Exporter`]: one encoder for the four protocols, turning [`FlowRecord`]s into export
//! datagrams the way a real exporter sends them (templates first and re-sent, sequence
//! numbers, MTU-sized datagrams). What `flowwire generate` and `flowwire convert` use.
//!
//! ```
//! use flowwire::export::Exporter;
//! use flowwire::{FlowRecord, ProtocolKind, Timestamp};
//!
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! let mut exporter = Exporter::new(ProtocolKind::Ipfix, now);
//! let flow = FlowRecord {
//!     src_addr: Some("192.0.2.1".parse().unwrap()),
//!     dst_addr: Some("198.51.100.7".parse().unwrap()),
//!     octets: Some(1500),
//!     packets: Some(1),
//!     ..FlowRecord::default()
//! };
//! let mut datagrams = Vec::new();
//! exporter.push(&flow, now, &mut datagrams).unwrap();
//! exporter.flush(now, &mut datagrams).unwrap();
//! assert_eq!(datagrams.len(), 1);
//! assert_eq!(&datagrams[0][..2], &[0, 10]); // an IPFIX message, template included
//! ```

// With some codecs left out, parts of the shared plumbing go unused.
#![cfg_attr(
    not(all(feature = "netflow", feature = "ipfix", feature = "sflow")),
    allow(unused_variables, unused_mut, dead_code, unreachable_code)
)]

#[cfg(feature = "netflow")]
use std::net::IpAddr;

use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};

/// A record that cannot be encoded in the chosen protocol.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The protocol's codec was left out at build time.
    #[error("{0} support is not compiled in")]
    NotCompiledIn(ProtocolKind),
    /// NetFlow v5 carries only IPv4 flows.
    #[error("NetFlow v5 cannot carry this flow: {0}")]
    NotV5(&'static str),
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

enum Inner {
    #[cfg(feature = "netflow")]
    V5 {
        pending: Vec<FlowRecord>,
        flow_sequence: u32,
    },
    #[cfg(feature = "netflow")]
    V9(Box<flowwire_netflow::V9Exporter>),
    #[cfg(feature = "ipfix")]
    Ipfix(Box<flowwire_ipfix::exporter::Exporter>),
    #[cfg(feature = "sflow")]
    Sflow(Box<flowwire_sflow::encode::Exporter>),
}

/// A multi-protocol exporter; see the module docs.
pub struct Exporter {
    kind: ProtocolKind,
    boot: Timestamp,
    /// `None` when the protocol's codec is not compiled in.
    inner: Option<Inner>,
}

impl core::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Exporter")
            .field("kind", &self.kind)
            .field("boot", &self.boot)
            .finish_non_exhaustive()
    }
}

impl Exporter {
    /// An exporter of `kind` whose uptime counts from `boot`, with the codec's defaults
    /// (1400-octet datagrams, except NetFlow v5's 30 records of at most 1464 octets as every v5
    /// exporter sends them; domain / source id 0; agent 127.0.0.1 for sFlow). A protocol
    /// whose codec is not compiled in makes every `push` fail.
    pub fn new(kind: ProtocolKind, boot: Timestamp) -> Self {
        let inner = match kind {
            #[cfg(feature = "netflow")]
            ProtocolKind::Netflow5 => Inner::V5 {
                pending: Vec::new(),
                flow_sequence: 0,
            },
            #[cfg(feature = "netflow")]
            ProtocolKind::Netflow9 => Inner::V9(Box::new(flowwire_netflow::V9Exporter::new(
                flowwire_netflow::ExporterConfig::default(),
                boot,
            ))),
            #[cfg(feature = "ipfix")]
            ProtocolKind::Ipfix => Inner::Ipfix(Box::new(flowwire_ipfix::exporter::Exporter::new(
                flowwire_ipfix::exporter::ExporterConfig::default(),
            ))),
            #[cfg(feature = "sflow")]
            ProtocolKind::Sflow5 => Inner::Sflow(Box::new(flowwire_sflow::encode::Exporter::new(
                flowwire_sflow::xdr::Address::V4(std::net::Ipv4Addr::LOCALHOST),
                0,
                flowwire_sflow::encode::Exporter::DEFAULT_MTU,
            ))),
            #[allow(unreachable_patterns)]
            _ => {
                return Exporter {
                    kind,
                    boot,
                    inner: None,
                };
            }
        };
        Exporter {
            kind,
            boot,
            inner: Some(inner),
        }
    }

    /// The protocol this exporter writes.
    pub fn kind(&self) -> ProtocolKind {
        self.kind
    }

    fn uptime_ms(&self, now: Timestamp) -> u32 {
        uptime_ms(self.boot, now)
    }

    /// Adds a flow exported at `now`; finished datagrams are appended to `out`.
    pub fn push(
        &mut self,
        record: &FlowRecord,
        now: Timestamp,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), ExportError> {
        // `boot` is only read by some protocols' arms.
        #[allow(unused_variables)]
        let (kind, boot) = (self.kind, self.boot);
        match self
            .inner
            .as_mut()
            .ok_or(ExportError::NotCompiledIn(kind))?
        {
            #[cfg(feature = "netflow")]
            Inner::V5 { pending, .. } => {
                if !matches!(record.src_addr, Some(IpAddr::V4(_)) | None)
                    || !matches!(record.dst_addr, Some(IpAddr::V4(_)) | None)
                {
                    return Err(ExportError::NotV5("IPv6 addresses"));
                }
                // Refused now (an IPv6 next hop, an interface index above 65535), not at
                // flush, where it would take the datagram's other records with it.
                flowwire_netflow::V5RecordRepr::from_flow_record(
                    record,
                    &flowwire_record::mapping::TimeContext::default(),
                )?;
                pending.push(record.clone());
                if pending.len() >= 30 {
                    self.flush_v5(now, out)?;
                }
            }
            #[cfg(feature = "netflow")]
            // The v9 header carries whole seconds only: stamp packets on a whole second so that
            // FIRST/LAST_SWITCHED, relative to the header's sysUptime, decode back exactly.
            Inner::V9(e) => e.push(
                record,
                Timestamp::from_unix_secs(now.unix_secs() as u32),
                out,
            )?,
            #[cfg(feature = "ipfix")]
            Inner::Ipfix(e) => {
                e.flow(record, now)?;
                out.extend(e.drain());
            }
            #[cfg(feature = "sflow")]
            Inner::Sflow(e) => {
                use flowwire_sflow::session::SampleKind;
                use flowwire_sflow::wire::SourceId;
                let source = SourceId::from_compact(record.in_if.unwrap_or(0) & 0x00ff_ffff);
                let seq = e.next_sample_sequence(SampleKind::Flow, source);
                let sample = flowwire_sflow::encode::flow_sample(record, seq, source, 128)?;
                if let Some(d) =
                    e.push(flowwire_sflow::Sample::Flow(sample), uptime_ms(boot, now))?
                {
                    out.push(d);
                }
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
        Ok(())
    }

    #[cfg(feature = "netflow")]
    fn flush_v5(&mut self, now: Timestamp, out: &mut Vec<Vec<u8>>) -> Result<(), ExportError> {
        let uptime = self.uptime_ms(now);
        if let Some(Inner::V5 {
            pending,
            flow_sequence,
        }) = &mut self.inner
        {
            if pending.is_empty() {
                return Ok(());
            }
            let reprs =
                flowwire_netflow::V5Repr::from_flow_records(pending, now, uptime, *flow_sequence)?;
            for r in reprs {
                *flow_sequence = flow_sequence.wrapping_add(r.records.len() as u32);
                out.push(r.to_vec()?);
            }
            pending.clear();
        }
        Ok(())
    }

    /// Finishes the datagram in progress, if any.
    pub fn flush(&mut self, now: Timestamp, out: &mut Vec<Vec<u8>>) -> Result<(), ExportError> {
        #[allow(unused_variables)]
        let (kind, boot) = (self.kind, self.boot);
        match self
            .inner
            .as_mut()
            .ok_or(ExportError::NotCompiledIn(kind))?
        {
            #[cfg(feature = "netflow")]
            Inner::V5 { .. } => self.flush_v5(now, out)?,
            #[cfg(feature = "netflow")]
            Inner::V9(e) => e.flush(Timestamp::from_unix_secs(now.unix_secs() as u32), out),
            #[cfg(feature = "ipfix")]
            Inner::Ipfix(e) => {
                e.flush();
                out.extend(e.drain());
            }
            #[cfg(feature = "sflow")]
            Inner::Sflow(e) => {
                if let Some(d) = e.flush(uptime_ms(boot, now))? {
                    out.push(d);
                }
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
        Ok(())
    }
}

/// Milliseconds since `boot`, as a 32-bit uptime counter (wrapping like an exporter's).
fn uptime_ms(boot: Timestamp, now: Timestamp) -> u32 {
    now.unix_millis().saturating_sub(boot.unix_millis()) as u32
}

#[cfg(all(test, feature = "netflow"))]
mod tests {
    use super::*;

    /// A record v5 cannot carry is refused when pushed; the records around it still go out.
    #[test]
    fn v5_refuses_a_bad_record_at_push_and_keeps_the_others() {
        let now = Timestamp::from_unix_secs(1_700_000_000);
        let mut e = Exporter::new(ProtocolKind::Netflow5, now);
        let mut out = Vec::new();
        let good = FlowRecord {
            src_addr: Some("192.0.2.1".parse().unwrap()),
            ..FlowRecord::default()
        };
        let bad = [
            FlowRecord {
                in_if: Some(70_000),
                ..good.clone()
            },
            FlowRecord {
                next_hop: Some("2001:db8::1".parse().unwrap()),
                ..good.clone()
            },
            FlowRecord {
                dst_addr: Some("2001:db8::1".parse().unwrap()),
                ..good.clone()
            },
        ];
        for i in 0..30 {
            e.push(&good, now, &mut out).unwrap();
            if let Some(b) = bad.get(i) {
                assert!(e.push(b, now, &mut out).is_err());
            }
        }
        e.flush(now, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        let v5 = flowwire_netflow::V5Packet::new_checked(&out[0][..]).unwrap();
        assert_eq!(v5.count(), 30);
    }
}
