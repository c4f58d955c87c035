//! The NetFlow v5 exporter: [`FlowRecord`]s in, datagrams of up to 30 fixed 48-octet records
//! out, numbered by flow sequence, the way Open vSwitch and every v5 router send them.
//!
//! # What NetFlow v5 carries
//!
//! | `FlowRecord` | on the wire | decoded back |
//! |---|---|---|
//! | `src_addr`, `dst_addr`, `next_hop` | IPv4 only (IPv6: the record is refused) | the address; 0.0.0.0 when absent |
//! | `in_if`, `out_if` | 16 bits (above 65535: refused) | the index; 0 when absent |
//! | `packets`, `octets` | 32 bits | the count (above 2^32 - 1: saturated, counted as dropped); 0 when absent |
//! | `start`, `end` | First / Last, ms of sysUptime (wrapping like the counter, so times before the boot time are carried too) | to the millisecond (floor), within 24 days of the push (a time further away is moved to that limit and counted as dropped); absent: the time of the push |
//! | `src_port`, `dst_port`, `protocol`, `tos`, `src_mask`, `dst_mask` | as they are | the value; 0 when absent |
//! | `tcp_flags` | 8 bits | the low 8 bits (higher ones dropped and counted); 0 when absent |
//! | `src_as`, `dst_as` | 16 bits | the AS; above 65535 AS_TRANS (23456), counted as dropped; 0 when absent |
//! | `sampling_interval`, `sampling_algorithm` | the header's 14-bit interval and 2-bit mode (a datagram holds records of one sampling) | the interval when not 0; the mode when not 0 and an interval is set |
//! | anything else (`bgp_next_hop`, VLANs, MACs, ICMP type and code, flow label, direction, NAT, end reason, forwarding status, MPLS label, extras) | **not carried** | — |
//!
//! What is not carried is left out and counted in [`ExportStats`]; with
//! [`V5ExporterConfig::strict`] the record is refused with [`Error::NotCarried`] instead.
//! [`Exporter::restrict`] gives exactly what a collector decodes.

use std::net::{IpAddr, Ipv4Addr};

use flowwire_record::codec::{ExportStats, Exporter};
use flowwire_record::mapping::TimeContext;
use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};

use crate::error::{Error, Result};
use crate::repr::v5::V5RecordRepr;
use crate::wire::v5_packet::{HEADER_LEN, MAX_RECORDS, V5Packet, VERSION};
use crate::wire::v5_record::{RECORD_LEN, V5Record};

/// AS_TRANS (RFC 6793): the 16-bit stand-in for a 32-bit AS number.
const AS_TRANS: u16 = 23456;

/// Settings of a [`V5Exporter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V5ExporterConfig {
    /// The header's engine type.
    pub engine_type: u8,
    /// The header's engine id.
    pub engine_id: u8,
    /// Records per datagram, 1 to 30.
    pub max_records: usize,
    /// Refuse records with fields v5 cannot carry ([`Error::NotCarried`]) instead of sending
    /// them without those fields.
    pub strict: bool,
    /// When the exporter's sysUptime was 0; `None`: the time of the first push.
    pub boot: Option<Timestamp>,
}

impl Default for V5ExporterConfig {
    /// Engine 0/0, 30 records per datagram, not strict, booted at the first push.
    fn default() -> Self {
        V5ExporterConfig {
            engine_type: 0,
            engine_id: 0,
            max_records: MAX_RECORDS,
            strict: false,
            boot: None,
        }
    }
}

/// The NetFlow v5 exporter; see the module docs.
#[derive(Debug)]
pub struct V5Exporter {
    config: V5ExporterConfig,
    boot: Option<Timestamp>,
    /// The datagram being filled: a header's room, then its records.
    buf: Vec<u8>,
    count: usize,
    /// The sampling (mode, interval) of the datagram being filled.
    sampling: (u8, u16),
    flow_sequence: u32,
    stats: ExportStats,
}

/// How a record fits NetFlow v5.
struct Fit {
    record: V5RecordRepr,
    sampling: (u8, u16),
    /// Fields left out or cut.
    dropped: u64,
    what: Option<&'static str>,
}

impl V5Exporter {
    /// An exporter with these settings.
    pub fn new(config: V5ExporterConfig) -> Self {
        V5Exporter {
            boot: config.boot,
            config,
            buf: Vec::new(),
            count: 0,
            sampling: (0, 0),
            flow_sequence: 0,
            stats: ExportStats::default(),
        }
    }

    /// The flow sequence the next datagram will carry (flows sent so far).
    pub fn flow_sequence(&self) -> u32 {
        self.flow_sequence
    }

    fn boot(&self) -> Timestamp {
        self.boot.unwrap_or_default()
    }

    /// Milliseconds of sysUptime at `t`, modulo 2^32 like the counter (collectors read the
    /// difference from the header's uptime as signed, so times before the boot time work).
    fn uptime(&self, t: Timestamp) -> u32 {
        t.unix_millis().wrapping_sub(self.boot().unix_millis()) as u32
    }

    fn max_records(&self) -> usize {
        self.config.max_records.clamp(1, MAX_RECORDS)
    }

    /// The v5 record of a flow, what it had to leave out, or why it cannot be sent.
    fn fit(&self, r: &FlowRecord, now: Timestamp) -> Result<Fit> {
        let mut dropped = 0u64;
        let mut what = None;
        let mut drop = |n: u64, w: &'static str| {
            if n > 0 {
                dropped += n;
                what.get_or_insert(w);
            }
        };
        let cut = |v: Option<u64>| u64::from(v.is_some_and(|v| v > u64::from(u32::MAX)));
        drop(
            cut(r.packets()) + cut(r.octets()),
            "a counter above 2^32 - 1",
        );
        drop(
            u64::from(r.tcp_flags().is_some_and(|f| f > 0xff)),
            "TCP flags above 8 bits",
        );
        drop(
            [r.src_as(), r.dst_as()]
                .iter()
                .filter(|a| a.is_some_and(|a| a > u32::from(u16::MAX)))
                .count() as u64,
            "an AS number above 65535",
        );
        let interval = r.sampling_interval().unwrap_or(0);
        let sampling = match u16::try_from(interval) {
            Ok(i) if i <= 0x3fff => (
                if i == 0 {
                    0
                } else {
                    r.sampling_algorithm().filter(|&m| m <= 3).unwrap_or(0)
                },
                i,
            ),
            _ => {
                drop(1, "a sampling interval above 16383");
                (0, 0)
            }
        };
        drop(
            u64::from(
                r.sampling_algorithm().is_some()
                    && (sampling.1 == 0 || r.sampling_algorithm() != Some(sampling.0)),
            ),
            "a sampling algorithm v5 cannot carry",
        );
        let uncarried = [
            r.bgp_next_hop().is_some(),
            r.vlan().is_some(),
            r.inner_vlan().is_some(),
            r.src_mac().is_some(),
            r.dst_mac().is_some(),
            r.icmp_type().is_some(),
            r.icmp_code().is_some(),
            r.flow_label().is_some(),
            r.direction().is_some(),
            r.end_reason().is_some(),
            r.forwarding_status().is_some(),
            r.mpls_label().is_some(),
            r.post_nat_src_addr().is_some(),
            r.post_nat_dst_addr().is_some(),
            r.post_nat_src_port().is_some(),
            r.post_nat_dst_port().is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count()
            + r.extra.len();
        drop(uncarried as u64, "a field NetFlow v5 has no place for");
        drop(
            [r.start(), r.end()]
                .iter()
                .filter(|t| super::out_of_window(**t, now))
                .count() as u64,
            "a time more than 24 days from the export time",
        );
        // A time beyond the window sysUptime carries goes to its edge (counted above).
        let carried = super::times_carried(r, now);
        // The header's export time and uptime: an absent time is the push time.
        let time = TimeContext {
            export_time: Some(now),
            sys_uptime_ms: Some(self.uptime(now)),
            system_init_time: None,
        };
        let record = V5RecordRepr::from_flow_record(&carried, &time)?;
        Ok(Fit {
            record,
            sampling,
            dropped,
            what,
        })
    }

    fn finish(&mut self, now: Timestamp, out: &mut dyn FnMut(&[u8])) {
        if self.count == 0 {
            return;
        }
        // The header carries nanoseconds, sysUptime milliseconds: stamp both at the same
        // whole millisecond, or every record's times decode shifted by the rest.
        let now = Timestamp::from_unix_millis(now.unix_millis());
        let uptime = self.uptime(now);
        let mut p = V5Packet::new_unchecked(&mut self.buf[..]);
        p.set_version(VERSION);
        p.set_count(self.count as u16);
        p.set_sys_uptime(uptime);
        p.set_unix_secs(u32::try_from(now.unix_secs()).unwrap_or(0));
        p.set_unix_nsecs(now.subsec_nanos());
        p.set_flow_sequence(self.flow_sequence);
        p.set_engine_type(self.config.engine_type);
        p.set_engine_id(self.config.engine_id);
        p.set_sampling((u16::from(self.sampling.0) << 14) | self.sampling.1);
        out(&self.buf);
        self.stats.datagrams += 1;
        self.stats.octets += self.buf.len() as u64;
        self.flow_sequence = self.flow_sequence.wrapping_add(self.count as u32);
        self.buf.clear();
        self.count = 0;
    }
}

impl Exporter for V5Exporter {
    type Error = Error;

    fn protocol(&self) -> ProtocolKind {
        ProtocolKind::Netflow5
    }

    /// Adds a flow; a full datagram (or one of another sampling) goes to `out` first. IPv6
    /// addresses and interface indexes above 65535 are refused ([`Error::Unencodable`]), as
    /// is any field v5 cannot carry when strict; the datagram being filled stays as it was.
    fn push(
        &mut self,
        flow: &FlowRecord,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<()> {
        if self.boot.is_none() {
            self.boot = Some(now);
        }
        let fit = match self.fit(flow, now) {
            Ok(f) => f,
            Err(e) => {
                self.stats.refused += 1;
                return Err(e);
            }
        };
        if let (true, Some(what)) = (self.config.strict, fit.what) {
            self.stats.refused += 1;
            return Err(Error::NotCarried { what });
        }
        if self.count > 0 && (self.sampling != fit.sampling || self.count >= self.max_records()) {
            self.finish(now, out);
        }
        if self.count == 0 {
            self.buf.clear();
            self.buf.resize(HEADER_LEN, 0);
            self.sampling = fit.sampling;
        }
        let at = self.buf.len();
        self.buf.resize(at + RECORD_LEN, 0);
        if let Some(bytes) = self.buf.get_mut(at..) {
            fit.record.emit(&mut V5Record::new_unchecked(bytes));
        }
        self.count += 1;
        self.stats.records += 1;
        if fit.dropped > 0 {
            self.stats.records_with_dropped_fields += 1;
            self.stats.fields_dropped += fit.dropped;
        }
        if self.count >= self.max_records() {
            self.finish(now, out);
        }
        Ok(())
    }

    fn flush(&mut self, now: Timestamp, out: &mut dyn FnMut(&[u8])) -> Result<()> {
        self.finish(now, out);
        Ok(())
    }

    fn stats(&self) -> &ExportStats {
        &self.stats
    }

    fn restrict(&self, r: &FlowRecord, now: Timestamp) -> FlowRecord {
        let time = |t: Option<Timestamp>| Some(super::carried_time(t.unwrap_or(now), now));
        let v4 = |a: Option<IpAddr>| Some(a.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        let (mode, interval) = match r.sampling_interval().map(u16::try_from) {
            Some(Ok(i)) if i <= 0x3fff => (
                if i == 0 {
                    0
                } else {
                    r.sampling_algorithm().filter(|&m| m <= 3).unwrap_or(0)
                },
                i,
            ),
            _ => (0, 0),
        };
        let sat32 = |v: Option<u64>| Some(v.unwrap_or(0).min(u64::from(u32::MAX)));
        let as16 =
            |a: Option<u32>| Some(u32::from(u16::try_from(a.unwrap_or(0)).unwrap_or(AS_TRANS)));
        {
            let mut built = FlowRecord::default();
            built.set_src_addr(v4(r.src_addr()));
            built.set_dst_addr(v4(r.dst_addr()));
            built.set_next_hop(v4(r.next_hop()));
            built.set_in_if(Some(r.in_if().unwrap_or(0)));
            built.set_out_if(Some(r.out_if().unwrap_or(0)));
            built.set_packets(sat32(r.packets()));
            built.set_octets(sat32(r.octets()));
            built.set_start(time(r.start()));
            built.set_end(time(r.end()));
            built.set_src_port(Some(r.src_port().unwrap_or(0)));
            built.set_dst_port(Some(r.dst_port().unwrap_or(0)));
            built.set_tcp_flags(Some(r.tcp_flags().unwrap_or(0) & 0xff));
            built.set_protocol(Some(r.protocol().unwrap_or(0)));
            built.set_tos(Some(r.tos().unwrap_or(0)));
            built.set_src_as(as16(r.src_as()));
            built.set_dst_as(as16(r.dst_as()));
            built.set_src_mask(Some(r.src_mask().unwrap_or(0)));
            built.set_dst_mask(Some(r.dst_mask().unwrap_or(0)));
            built.set_sampling_interval((interval != 0).then_some(u32::from(interval)));
            built.set_sampling_algorithm((interval != 0 && mode != 0).then_some(mode));
            built
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;
    use flowwire_record::codec::Decoder;

    /// A record v5 cannot carry is refused when pushed; the records around it still go out.
    #[test]
    fn a_bad_record_is_refused_at_push_and_the_others_kept() {
        let now = Timestamp::from_unix_secs(1_700_000_000);
        let mut e = V5Exporter::new(V5ExporterConfig::default());
        let mut out: Vec<Vec<u8>> = Vec::new();
        let good = {
            let mut built = FlowRecord::default();
            built.set_src_addr(Some("192.0.2.1".parse().unwrap()));
            built
        };
        let bad = [
            {
                let mut built = good.clone();
                built.set_in_if(Some(70_000));
                built
            },
            {
                let mut built = good.clone();
                built.set_next_hop(Some("2001:db8::1".parse().unwrap()));
                built
            },
            {
                let mut built = good.clone();
                built.set_dst_addr(Some("2001:db8::1".parse().unwrap()));
                built
            },
        ];
        for i in 0..30 {
            e.push(&good, now, &mut |d| out.push(d.to_vec())).unwrap();
            if let Some(b) = bad.get(i) {
                assert!(e.push(b, now, &mut |d| out.push(d.to_vec())).is_err());
            }
        }
        e.flush(now, &mut |d| out.push(d.to_vec())).unwrap();
        assert_eq!(out.len(), 1);
        let v5 = V5Packet::new_checked(&out[0][..]).unwrap();
        assert_eq!(v5.count(), 30);
        assert_eq!((e.stats().records, e.stats().refused), (30, 3));
    }

    #[test]
    fn sampling_changes_start_a_new_datagram_and_dropped_fields_are_counted() {
        let now = Timestamp::from_unix_secs(1_700_000_000).add_nanos(123_456_789);
        let mut e = V5Exporter::new(V5ExporterConfig::default());
        let mut out: Vec<Vec<u8>> = Vec::new();
        let a = {
            let mut built = FlowRecord::default();
            built.set_src_addr(Some("192.0.2.1".parse().unwrap()));
            built.set_sampling_interval(Some(100));
            built.set_sampling_algorithm(Some(1));
            built.set_vlan(Some(7));
            built.set_start(Some(now.add_millis(-5)));
            built
        };
        let b = {
            let mut built = a.clone();
            built.set_sampling_interval(Some(10));
            built
        };
        for r in [&a, &b] {
            e.push(r, now, &mut |d| out.push(d.to_vec())).unwrap();
        }
        e.flush(now, &mut |d| out.push(d.to_vec())).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(e.stats().fields_dropped, 2, "the VLAN of each");
        let mut s = Session::default();
        let mut got = Vec::new();
        for d in &out {
            s.decode(
                "192.0.2.9:2055".parse().unwrap(),
                now,
                d,
                &mut |f: &FlowRecord| got.push(super::super::content(f)),
            );
        }
        assert_eq!(got, [e.restrict(&a, now), e.restrict(&b, now)]);
        let mut strict = V5Exporter::new(V5ExporterConfig {
            strict: true,
            ..V5ExporterConfig::default()
        });
        assert!(matches!(
            strict.push(&a, now, &mut |_| {}),
            Err(Error::NotCarried { .. })
        ));
    }
}
