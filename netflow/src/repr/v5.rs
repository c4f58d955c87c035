//! Owned NetFlow v5 datagram and record, with conversions to and from [`FlowRecord`].

use core::net::{IpAddr, Ipv4Addr};
use std::net::SocketAddr;

use bytes::BufMut;
use flowwire_record::mapping::TimeContext;
use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};

use super::{check_out, emit_to_buf};
use crate::error::{Error, Result};
use crate::wire::v5_packet::{HEADER_LEN, MAX_RECORDS, V5Packet, VERSION};
use crate::wire::v5_record::{RECORD_LEN, V5Record};

/// An owned NetFlow v5 flow record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the fields are those of [`V5Record`]'s accessors
pub struct V5RecordRepr {
    pub src_addr: Ipv4Addr,
    pub dst_addr: Ipv4Addr,
    pub next_hop: Ipv4Addr,
    pub input: u16,
    pub output: u16,
    pub packets: u32,
    pub octets: u32,
    pub first: u32,
    pub last: u32,
    pub src_port: u16,
    pub dst_port: u16,
    pub pad1: u8,
    pub tcp_flags: u8,
    pub protocol: u8,
    pub tos: u8,
    pub src_as: u16,
    pub dst_as: u16,
    pub src_mask: u8,
    pub dst_mask: u8,
    pub pad2: u16,
}

impl Default for V5RecordRepr {
    /// All zeros (addresses 0.0.0.0).
    fn default() -> Self {
        V5RecordRepr::parse(&V5Record::new_unchecked([0u8; RECORD_LEN]))
    }
}

impl V5RecordRepr {
    /// Reads a record view.
    pub fn parse<T: AsRef<[u8]>>(r: &V5Record<T>) -> Self {
        V5RecordRepr {
            src_addr: r.src_addr(),
            dst_addr: r.dst_addr(),
            next_hop: r.next_hop(),
            input: r.input(),
            output: r.output(),
            packets: r.packets(),
            octets: r.octets(),
            first: r.first(),
            last: r.last(),
            src_port: r.src_port(),
            dst_port: r.dst_port(),
            pad1: r.pad1(),
            tcp_flags: r.tcp_flags(),
            protocol: r.protocol(),
            tos: r.tos(),
            src_as: r.src_as(),
            dst_as: r.dst_as(),
            src_mask: r.src_mask(),
            dst_mask: r.dst_mask(),
            pad2: r.pad2(),
        }
    }

    /// Always [`RECORD_LEN`] (48).
    pub const fn buffer_len(&self) -> usize {
        RECORD_LEN
    }

    /// Writes the record into a view of at least 48 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, r: &mut V5Record<T>) {
        r.set_src_addr(self.src_addr);
        r.set_dst_addr(self.dst_addr);
        r.set_next_hop(self.next_hop);
        r.set_input(self.input);
        r.set_output(self.output);
        r.set_packets(self.packets);
        r.set_octets(self.octets);
        r.set_first(self.first);
        r.set_last(self.last);
        r.set_src_port(self.src_port);
        r.set_dst_port(self.dst_port);
        r.set_pad1(self.pad1);
        r.set_tcp_flags(self.tcp_flags);
        r.set_protocol(self.protocol);
        r.set_tos(self.tos);
        r.set_src_as(self.src_as);
        r.set_dst_as(self.dst_as);
        r.set_src_mask(self.src_mask);
        r.set_dst_mask(self.dst_mask);
        r.set_pad2(self.pad2);
    }

    /// A v5 record from a [`FlowRecord`]. Times become sysUptime-relative through `time`
    /// (the header's export time and sysUptime; a missing start or end is taken as the
    /// export time). Counters above 32 bits saturate; AS numbers above 16 bits become
    /// AS_TRANS (23456); interface indexes above 16 bits are an error, as are IPv6 addresses.
    pub fn from_flow_record(r: &FlowRecord, time: &TimeContext) -> Result<Self> {
        let v4 = |a: Option<IpAddr>, what| match a {
            None => Ok(Ipv4Addr::UNSPECIFIED),
            Some(IpAddr::V4(a)) => Ok(a),
            Some(IpAddr::V6(_)) => Err(Error::Unencodable { what }),
        };
        let if16 = |i: Option<u32>| {
            u16::try_from(i.unwrap_or(0)).map_err(|_| Error::Unencodable {
                what: "interface index above 65535 in NetFlow v5",
            })
        };
        let as16 = |a: Option<u32>| u16::try_from(a.unwrap_or(0)).unwrap_or(23456);
        let rel = |t: Option<Timestamp>| uptime_of(t, time);
        Ok(V5RecordRepr {
            src_addr: v4(r.src_addr(), "IPv6 source address in NetFlow v5")?,
            dst_addr: v4(r.dst_addr(), "IPv6 destination address in NetFlow v5")?,
            next_hop: v4(r.next_hop(), "IPv6 next hop in NetFlow v5")?,
            input: if16(r.in_if())?,
            output: if16(r.out_if())?,
            packets: sat32(r.packets()),
            octets: sat32(r.octets()),
            first: rel(r.start()),
            last: rel(r.end()),
            src_port: r.src_port().unwrap_or(0),
            dst_port: r.dst_port().unwrap_or(0),
            pad1: 0,
            tcp_flags: r.tcp_flags().unwrap_or(0) as u8,
            protocol: r.protocol().unwrap_or(0),
            tos: r.tos().unwrap_or(0),
            src_as: as16(r.src_as()),
            dst_as: as16(r.dst_as()),
            src_mask: r.src_mask().unwrap_or(0),
            dst_mask: r.dst_mask().unwrap_or(0),
            pad2: 0,
        })
    }
}

fn sat32(v: Option<u64>) -> u32 {
    u32::try_from(v.unwrap_or(0)).unwrap_or(u32::MAX)
}

/// The sysUptime (ms, wrapping) at absolute time `t`, given the header's export time and
/// uptime; the export-time uptime when either is unknown.
pub(crate) fn uptime_of(t: Option<Timestamp>, time: &TimeContext) -> u32 {
    let uptime = time.sys_uptime_ms.unwrap_or(0);
    match (t, time.export_time) {
        (Some(t), Some(export)) => {
            let ago_ms = export.unix_millis().saturating_sub(t.unix_millis());
            uptime.wrapping_sub(ago_ms as u32)
        }
        _ => uptime,
    }
}

/// An owned NetFlow v5 datagram.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct V5Repr {
    /// sysUptime at export (ms).
    pub sys_uptime: u32,
    /// Export time, seconds.
    pub unix_secs: u32,
    /// Export time, residual nanoseconds.
    pub unix_nsecs: u32,
    /// Flows sent before this datagram's first.
    pub flow_sequence: u32,
    /// Engine type.
    pub engine_type: u8,
    /// Engine id.
    pub engine_id: u8,
    /// Sampling mode (2 bits).
    pub sampling_mode: u8,
    /// Sampling interval (14 bits).
    pub sampling_interval: u16,
    /// The records (at most 30); `count` is their number.
    pub records: Vec<V5RecordRepr>,
}

impl V5Repr {
    /// Reads a datagram, strictly: `count` must match the records present and be at most 30.
    pub fn parse<T: AsRef<[u8]>>(p: &V5Packet<T>) -> Result<Self> {
        p.check_len()?;
        if p.version() != VERSION {
            return Err(Error::BadVersion {
                offset: 0,
                version: p.version(),
            });
        }
        p.check_count()?;
        let records = p
            .records()
            .map(|r| r.map(|r| V5RecordRepr::parse(&r)))
            .collect::<Result<Vec<_>>>()?;
        Ok(V5Repr {
            sys_uptime: p.sys_uptime(),
            unix_secs: p.unix_secs(),
            unix_nsecs: p.unix_nsecs(),
            flow_sequence: p.flow_sequence(),
            engine_type: p.engine_type(),
            engine_id: p.engine_id(),
            sampling_mode: p.sampling_mode(),
            sampling_interval: p.sampling_interval(),
            records,
        })
    }

    /// Bytes [`V5Repr::emit`] writes: 24 + 48 per record.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + RECORD_LEN * self.records.len()
    }

    /// Writes the datagram into exactly [`V5Repr::buffer_len`] bytes. Errors (and writes
    /// nothing) for more than 30 records, a sampling mode above 3 or an interval above 0x3fff.
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        check_out(out, self.buffer_len())?;
        if self.records.len() > MAX_RECORDS {
            return Err(Error::Unencodable {
                what: "more than 30 records in a NetFlow v5 datagram",
            });
        }
        if self.sampling_mode > 3 || self.sampling_interval > 0x3fff {
            return Err(Error::Unencodable {
                what: "NetFlow v5 sampling mode above 3 or interval above 16383",
            });
        }
        let mut p = V5Packet::new_unchecked(out);
        p.set_version(VERSION);
        p.set_count(self.records.len() as u16);
        p.set_sys_uptime(self.sys_uptime);
        p.set_unix_secs(self.unix_secs);
        p.set_unix_nsecs(self.unix_nsecs);
        p.set_flow_sequence(self.flow_sequence);
        p.set_engine_type(self.engine_type);
        p.set_engine_id(self.engine_id);
        p.set_sampling((u16::from(self.sampling_mode) << 14) | self.sampling_interval);
        for (i, r) in self.records.iter().enumerate() {
            if let Some(mut view) = p.record_mut(i) {
                r.emit(&mut view);
            }
        }
        Ok(())
    }

    /// Appends the datagram to a [`BufMut`]; [`Error::BufferTooSmall`] if it has no room.
    pub fn emit_to<B: BufMut>(&self, buf: &mut B) -> Result<()> {
        emit_to_buf(buf, self.buffer_len(), |out| self.emit(out))
    }

    /// The datagram as a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v)?;
        Ok(v)
    }

    /// Datagrams carrying `records` (30 per datagram), exported at `export_time` by an
    /// exporter with uptime `sys_uptime` ms then; the flow sequence starts at
    /// `flow_sequence` and advances by each datagram's record count.
    pub fn from_flow_records(
        records: &[FlowRecord],
        export_time: Timestamp,
        sys_uptime: u32,
        flow_sequence: u32,
    ) -> Result<Vec<V5Repr>> {
        let time = TimeContext {
            export_time: Some(export_time),
            sys_uptime_ms: Some(sys_uptime),
            system_init_time: None,
        };
        let mut seq = flow_sequence;
        records
            .chunks(MAX_RECORDS)
            .map(|chunk| {
                let recs = chunk
                    .iter()
                    .map(|r| V5RecordRepr::from_flow_record(r, &time))
                    .collect::<Result<Vec<_>>>()?;
                let repr = V5Repr {
                    sys_uptime,
                    unix_secs: u32::try_from(export_time.unix_secs()).unwrap_or(0),
                    unix_nsecs: export_time.subsec_nanos(),
                    flow_sequence: seq,
                    records: recs,
                    ..V5Repr::default()
                };
                seq = seq.wrapping_add(chunk.len() as u32);
                Ok(repr)
            })
            .collect()
    }

    /// The header's times, to convert records' relative times.
    pub fn time_context(&self) -> TimeContext {
        TimeContext {
            export_time: Some(Timestamp::from_unix_secs_nanos(
                self.unix_secs,
                self.unix_nsecs,
            )),
            sys_uptime_ms: Some(self.sys_uptime),
            system_init_time: None,
        }
    }
}

/// The header context a v5 record is converted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V5Context {
    /// The exporter's socket address, if known.
    pub exporter: Option<SocketAddr>,
    /// `engine_type << 8 | engine_id`.
    pub domain: u32,
    /// The header's flow sequence.
    pub sequence: u32,
    /// Export time and sysUptime.
    pub time: TimeContext,
    /// Sampling interval (0: not sampled).
    pub sampling_interval: u16,
    /// Sampling mode.
    pub sampling_mode: u8,
}

impl V5Context {
    /// The context of a datagram.
    pub fn new<T: AsRef<[u8]>>(p: &V5Packet<T>, exporter: Option<SocketAddr>) -> Self {
        V5Context {
            exporter,
            domain: (u32::from(p.engine_type()) << 8) | u32::from(p.engine_id()),
            sequence: p.flow_sequence(),
            time: TimeContext {
                export_time: Some(Timestamp::from_unix_secs_nanos(
                    p.unix_secs(),
                    p.unix_nsecs(),
                )),
                sys_uptime_ms: Some(p.sys_uptime()),
                system_init_time: None,
            },
            sampling_interval: p.sampling_interval(),
            sampling_mode: p.sampling_mode(),
        }
    }

    /// Fills `out` (cleared first, its allocations kept) from a v5 record: kind, exporter,
    /// domain, sequence, export time, the record's fields, absolute start/end (from the
    /// uptime-relative First/Last, wrap-aware) and the header's sampling interval and mode.
    /// Allocates nothing.
    pub fn flow_record_into<T: AsRef<[u8]>>(&self, r: &V5Record<T>, out: &mut FlowRecord) {
        out.clear();
        out.set_kind(Some(ProtocolKind::Netflow5));
        out.set_exporter(self.exporter);
        out.set_domain(Some(self.domain));
        out.set_sequence(Some(self.sequence));
        out.set_export_time(self.time.export_time);
        out.set_src_addr(Some(r.src_addr().into()));
        out.set_dst_addr(Some(r.dst_addr().into()));
        out.set_next_hop(Some(r.next_hop().into()));
        out.set_in_if(Some(r.input().into()));
        out.set_out_if(Some(r.output().into()));
        out.set_packets(Some(r.packets().into()));
        out.set_octets(Some(r.octets().into()));
        out.set_start(self.time.from_uptime_ms(r.first()));
        out.set_end(self.time.from_uptime_ms(r.last()));
        out.set_src_port(Some(r.src_port()));
        out.set_dst_port(Some(r.dst_port()));
        out.set_tcp_flags(Some(r.tcp_flags().into()));
        out.set_protocol(Some(r.protocol()));
        out.set_tos(Some(r.tos()));
        out.set_src_as(Some(r.src_as().into()));
        out.set_dst_as(Some(r.dst_as().into()));
        out.set_src_mask(Some(r.src_mask()));
        out.set_dst_mask(Some(r.dst_mask()));
        if self.sampling_interval != 0 {
            out.set_sampling_interval(Some(self.sampling_interval.into()));
            if self.sampling_mode != 0 {
                out.set_sampling_algorithm(Some(self.sampling_mode));
            }
        }
    }
}

/// Decodes a whole v5 datagram into flow records (one allocation per record; sessions and
/// hot paths use [`V5Context::flow_record_into`] with a reused record). Returns the records and
/// the count mismatch, if any: the records present are decoded regardless.
pub fn decode_v5(
    datagram: &[u8],
    exporter: Option<SocketAddr>,
) -> Result<(Vec<FlowRecord>, Option<Error>)> {
    let p = V5Packet::new_checked(datagram)?;
    let ctx = V5Context::new(&p, exporter);
    let mut out = Vec::new();
    let mut warning = None;
    for r in p.records() {
        match r {
            Ok(r) => {
                let mut rec = FlowRecord::default();
                ctx.flow_record_into(&r, &mut rec);
                out.push(rec);
            }
            Err(e) => warning = Some(e),
        }
    }
    Ok((out, warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> V5Repr {
        V5Repr {
            sys_uptime: 1_000,
            unix_secs: 1_700_000_000,
            unix_nsecs: 0,
            flow_sequence: 10,
            engine_type: 1,
            engine_id: 2,
            sampling_mode: 1,
            sampling_interval: 100,
            records: vec![V5RecordRepr {
                src_addr: Ipv4Addr::new(10, 0, 0, 1),
                dst_addr: Ipv4Addr::new(10, 0, 0, 2),
                packets: 3,
                octets: 300,
                first: u32::MAX - 499,
                last: 900,
                src_port: 1234,
                dst_port: 80,
                protocol: 6,
                ..Default::default()
            }],
        }
    }

    #[test]
    fn parse_emit() {
        let r = sample();
        let mut buf = vec![0xa5; r.buffer_len()];
        r.emit(&mut buf).unwrap();
        let p = V5Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(V5Repr::parse(&p).unwrap(), r);
        let mut b = bytes::BytesMut::new();
        r.emit_to(&mut b).unwrap();
        assert_eq!(&b[..], &buf[..]);
        let mut small = [0u8; 10];
        assert_eq!(
            r.emit_to(&mut &mut small[..]),
            Err(Error::BufferTooSmall {
                required: 72,
                remaining: 10
            })
        );
    }

    #[test]
    fn to_flow_record_handles_the_uptime_wrap() {
        let bytes = sample().to_vec().unwrap();
        let (recs, warn) = decode_v5(&bytes, None).unwrap();
        assert!(warn.is_none());
        let r = &recs[0];
        let export = Timestamp::from_unix_secs(1_700_000_000);
        assert_eq!(r.start(), Some(export.add_millis(-1_500)));
        assert_eq!(r.end(), Some(export.add_millis(-100)));
        assert!(r.start() < r.end());
        assert_eq!(r.domain(), Some(0x0102));
        assert_eq!(r.sampling_interval(), Some(100));
        assert_eq!(r.sampling_algorithm(), Some(1));
        assert_eq!((r.packets(), r.octets()), (Some(3), Some(300)));
        // And back.
        let back = V5RecordRepr::from_flow_record(r, &sample().time_context()).unwrap();
        assert_eq!(back, sample().records[0]);
    }

    #[test]
    fn from_flow_records_chunks_by_30() {
        let rec = {
            let mut built = FlowRecord::default();
            built.set_src_addr(Some("10.0.0.1".parse().unwrap()));
            built.set_octets(Some(1));
            built
        };
        let recs = vec![rec; 65];
        let export = Timestamp::from_unix_secs(1_700_000_000);
        let out = V5Repr::from_flow_records(&recs, export, 5_000, 100).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].records.len(), 5);
        assert_eq!(out[1].flow_sequence, 130);
        let (back, warn) = decode_v5(&out[0].to_vec().unwrap(), None).unwrap();
        assert!(warn.is_none());
        assert_eq!(back.len(), 30);
        assert_eq!(back[0].start(), Some(export));
    }

    #[test]
    fn ipv6_is_not_representable() {
        let r = {
            let mut built = FlowRecord::default();
            built.set_src_addr(Some("2001:db8::1".parse().unwrap()));
            built
        };
        assert!(V5RecordRepr::from_flow_record(&r, &TimeContext::default()).is_err());
    }
}
