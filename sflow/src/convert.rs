//! Samples to flowwire's protocol-neutral types: flow and discarded-packet samples to
//! [`FlowRecord`] ([`flow_record_into`], [`discarded_record_into`]), counter samples to
//! [`Counters`] ([`counters_into`]).
//!
//! [`crate::Session`] walks whole datagrams with these and hands the results to a
//! [`flowwire_record::codec::Sink`]: use it unless you walk the [`crate::wire`] views
//! yourself. [`flow_record_into`] is the hot path: it reads the records straight from the
//! datagram, decodes the raw header with [`crate::header`], and writes into a caller-owned,
//! reused [`FlowRecord`], allocating nothing in steady state. [`decode`] converts a datagram
//! into owned values, allocating per sample: a convenience for tests and tools.

use std::net::IpAddr;

use std::borrow::Cow;

use flowwire_record::{ExtraField, FieldId, FlowRecord, OwnedValue, ProtocolKind, TypedField};

use crate::error::{Error, Result};
use crate::header::{self, HeaderInfo};
use crate::repr::{
    CounterData, ExtendedNat, ExtendedNatPort, ExtendedRouter, ExtendedSwitch, SampledEthernet,
    SampledIpv4, SampledIpv6,
};
use crate::session::SampleKind;
use crate::wire::{
    CounterSampleView, Datagram, FlowSampleView, Interface, RecordRef, SampleView, SourceId,
};
use crate::xdr::{Address, Reader, Xdr};

/// IPFIX samplingPopulation (310): where the sample pool goes in [`FlowRecord::extra`].
pub const SAMPLE_POOL_FIELD: FieldId = FieldId::iana(310);
/// IPFIX ignoredPacketTotalCount (164): where sFlow's `drops` (packets the agent could not
/// sample for lack of resources) goes in [`FlowRecord::extra`].
pub const DROPS_FIELD: FieldId = FieldId::iana(164);
/// Registry name of [`SAMPLE_POOL_FIELD`], as [`FlowRecord::push_extra`] would look it up.
const SAMPLE_POOL_NAME: &str = "samplingPopulation";
/// Registry name of [`DROPS_FIELD`].
const DROPS_NAME: &str = "ignoredPacketTotalCount";
/// forwardingStatus value for "dropped, unknown reason" (RFC 7270).
pub const FORWARDING_DROPPED: u32 = 0x80;

/// What a sample needs from its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DatagramInfo {
    /// Agent address.
    pub agent: Option<IpAddr>,
    /// Sub-agent id.
    pub sub_agent_id: u32,
    /// Datagram sequence number.
    pub sequence: u32,
    /// Agent uptime, ms.
    pub uptime: u32,
}

impl DatagramInfo {
    /// Taken from a datagram view.
    pub fn of<T: AsRef<[u8]>>(d: &Datagram<T>) -> Self {
        DatagramInfo {
            agent: d.agent().ip(),
            sub_agent_id: d.sub_agent_id(),
            sequence: d.sequence(),
            uptime: d.uptime(),
        }
    }
}

fn ip(a: Address) -> Option<IpAddr> {
    a.ip()
}

/// Sets a field the record does not have yet (the first record that says it wins).
#[inline]
fn set<T>(
    out: &mut FlowRecord,
    setter: fn(&mut FlowRecord, Option<T>),
    field: TypedField,
    v: Option<T>,
) {
    if !out.has(field) && v.is_some() {
        setter(out, v);
    }
}

/// The fields of a sampled IPv4 (3) or IPv6 (4) record: addresses, then length, protocol,
/// ports, TCP flags and ToS / priority as the record carries them.
fn set_sampled_ip(out: &mut FlowRecord, src: IpAddr, dst: IpAddr, v: [u32; 6]) {
    let [length, protocol, src_port, dst_port, tcp_flags, tos] = v;
    set(
        out,
        FlowRecord::set_src_addr,
        TypedField::SrcAddr,
        Some(src),
    );
    set(
        out,
        FlowRecord::set_dst_addr,
        TypedField::DstAddr,
        Some(dst),
    );
    set(
        out,
        FlowRecord::set_protocol,
        TypedField::Protocol,
        u8::try_from(protocol).ok(),
    );
    set(
        out,
        FlowRecord::set_src_port,
        TypedField::SrcPort,
        port(src_port),
    );
    set(
        out,
        FlowRecord::set_dst_port,
        TypedField::DstPort,
        port(dst_port),
    );
    set(
        out,
        FlowRecord::set_tcp_flags,
        TypedField::TcpFlags,
        port(tcp_flags),
    );
    set(
        out,
        FlowRecord::set_tos,
        TypedField::Tos,
        u8::try_from(tos).ok(),
    );
    set(
        out,
        FlowRecord::set_octets,
        TypedField::Octets,
        Some(u64::from(length)),
    );
}

fn port(v: u32) -> Option<u16> {
    u16::try_from(v).ok()
}

/// Fills `out` (cleared first) from a flow sample: sFlow kind, agent, domain = sub-agent id,
/// sequence = the sample's sequence number, `sampling_interval` = sampling rate, the sample
/// pool (extra 310) and drops (extra 164), interfaces (format 0 only; a discarded packet sets
/// `forwarding_status` to dropped), `packets` = 1, `octets` = frame length, and what the
/// records say: the raw header (decoded), sampled Ethernet / IPv4 / IPv6 (where the header did
/// not say), extended switch, router, gateway, NAT and MPLS.
///
/// A record that does not decode is skipped by its declared length and its error pushed to
/// `errors`; an error in the record list ends it. Returns the decoded header, if there was
/// one.
pub fn flow_record_into(
    dg: &DatagramInfo,
    f: &FlowSampleView<'_>,
    out: &mut FlowRecord,
    errors: &mut impl Extend<Error>,
) -> Option<HeaderInfo> {
    let discarded =
        f.input.format == Interface::DISCARDED || f.output.format == Interface::DISCARDED;
    // Clearing is one store; the sample's two extras are rewritten in place when the record
    // was last used for a flow sample (no drop and push per sample).
    out.clear_keeping_extra();
    out.set_kind(Some(ProtocolKind::Sflow5));
    out.set_agent(dg.agent);
    out.set_domain(Some(dg.sub_agent_id));
    out.set_sequence(Some(f.sequence));
    out.set_sampling_interval(Some(f.sampling_rate));
    out.set_packets(Some(1));
    out.set_in_if(f.input.index());
    out.set_out_if(f.output.index());
    if discarded {
        out.set_forwarding_status(Some(FORWARDING_DROPPED));
    }
    let pool = OwnedValue::Unsigned32(f.sample_pool);
    let drops = OwnedValue::Unsigned64(u64::from(f.drops));
    match out.extra.as_mut_slice() {
        [p, d, ..]
            if p.field == SAMPLE_POOL_FIELD
                && d.field == DROPS_FIELD
                && p.name.as_deref() == Some(SAMPLE_POOL_NAME)
                && d.name.as_deref() == Some(DROPS_NAME) =>
        {
            out.extra.truncate(2);
            if let [p, d] = out.extra.as_mut_slice() {
                p.value = pool;
                d.value = drops;
            }
        }
        _ => {
            out.extra.clear();
            // What `push_extra` makes, without its registry look-ups (names checked by a
            // test).
            out.extra.push(ExtraField {
                field: SAMPLE_POOL_FIELD,
                name: Some(Cow::Borrowed(SAMPLE_POOL_NAME)),
                value: pool,
            });
            out.extra.push(ExtraField {
                field: DROPS_FIELD,
                name: Some(Cow::Borrowed(DROPS_NAME)),
                value: drops,
            });
        }
    }
    let mut info = None;
    records_into(f.records, out, errors, &mut info);
    info
}

/// Fills `out` (cleared first) from a discarded-packet sample: like [`flow_record_into`],
/// with `forwarding_status` set to dropped ([`FORWARDING_DROPPED`]), the interfaces the
/// sample names (0, unknown, leaves them unset), and neither sampling rate nor pool and drops
/// (a discarded-packet sample has none). Returns the decoded header, if there was one.
pub fn discarded_record_into(
    dg: &DatagramInfo,
    x: &crate::wire::DiscardedSampleView<'_>,
    out: &mut FlowRecord,
    errors: &mut impl Extend<Error>,
) -> Option<HeaderInfo> {
    out.clear();
    out.set_kind(Some(ProtocolKind::Sflow5));
    out.set_agent(dg.agent);
    out.set_domain(Some(dg.sub_agent_id));
    out.set_sequence(Some(x.sequence));
    out.set_packets(Some(1));
    out.set_in_if(Some(x.input).filter(|&i| i != 0));
    out.set_out_if(Some(x.output).filter(|&i| i != 0));
    out.set_forwarding_status(Some(FORWARDING_DROPPED));
    let mut info = None;
    records_into(x.records, out, errors, &mut info);
    info
}

/// Applies the records of a flow or discarded-packet sample to `out`.
pub(crate) fn records_into(
    records: crate::wire::RecordIter<'_>,
    out: &mut FlowRecord,
    errors: &mut impl Extend<Error>,
    info: &mut Option<HeaderInfo>,
) {
    // Until a record has been applied, the header's fields in `out` are all unset (the
    // callers reset `out` and set none of them), so the header can be copied in without
    // the set-if-unset checks.
    let mut first = true;
    for rec in records {
        let fresh = core::mem::replace(&mut first, false);
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.extend(Some(e));
                break;
            }
        };
        if rec.enterprise != 0 {
            continue;
        }
        let res = match rec.format {
            1 => sampled_header_in_place(rec.data)
                .map_or_else(
                    || {
                        rec.with_body("flow record", |r| {
                            let protocol = r.u32("sampled header")?;
                            let frame_length = r.u32("sampled header")?;
                            let _stripped = r.u32("sampled header")?;
                            let bytes = r.opaque("sampled header")?;
                            Ok((protocol, frame_length, bytes))
                        })
                    },
                    Ok,
                )
                .map(|(protocol, frame_length, bytes)| {
                    out.set_octets(Some(u64::from(frame_length)));
                    // A second raw header record (unusual) replaces the first.
                    if let Some(h) = info.as_mut() {
                        *h = HeaderInfo::default();
                    }
                    let h = info.get_or_insert_with(HeaderInfo::default);
                    header::decode_into_default(protocol, bytes, h);
                    if fresh {
                        copy_header(out, &h.outer);
                    } else {
                        apply_header(out, &h.outer);
                    }
                }),
            // The fixed-size records, read in place (as `FlowData::decode` reads them, with
            // the same errors) rather than through the owned `FlowData`.
            2 => body::<SampledEthernet>(&rec).map(|e| {
                set(
                    out,
                    FlowRecord::set_src_mac,
                    TypedField::SrcMac,
                    Some(e.src_mac),
                );
                set(
                    out,
                    FlowRecord::set_dst_mac,
                    TypedField::DstMac,
                    Some(e.dst_mac),
                );
                set(
                    out,
                    FlowRecord::set_octets,
                    TypedField::Octets,
                    Some(u64::from(e.length)),
                );
            }),
            3 => body::<SampledIpv4>(&rec).map(|v| {
                let ip = [
                    v.length,
                    v.protocol,
                    v.src_port,
                    v.dst_port,
                    v.tcp_flags,
                    v.tos,
                ];
                set_sampled_ip(out, v.src_ip.into(), v.dst_ip.into(), ip);
            }),
            4 => body::<SampledIpv6>(&rec).map(|v| {
                let ip = [
                    v.length,
                    v.protocol,
                    v.src_port,
                    v.dst_port,
                    v.tcp_flags,
                    v.priority,
                ];
                set_sampled_ip(out, v.src_ip.into(), v.dst_ip.into(), ip);
            }),
            1001 => match rec.data.get(..4) {
                // The body is exactly four integers; src_vlan is the first.
                Some(v) if rec.data.len() == 16 => {
                    let src_vlan = u32::from_be_bytes(v.try_into().unwrap_or_default());
                    if src_vlan != 0 {
                        set(out, FlowRecord::set_vlan, TypedField::Vlan, port(src_vlan));
                    }
                    Ok(())
                }
                _ => body::<ExtendedSwitch>(&rec).map(|s| {
                    if s.src_vlan != 0 {
                        set(
                            out,
                            FlowRecord::set_vlan,
                            TypedField::Vlan,
                            port(s.src_vlan),
                        );
                    }
                }),
            },
            1002 => body::<ExtendedRouter>(&rec).map(|r| {
                set(
                    out,
                    FlowRecord::set_next_hop,
                    TypedField::NextHop,
                    ip(r.next_hop),
                );
                set(
                    out,
                    FlowRecord::set_src_mask,
                    TypedField::SrcMask,
                    u8::try_from(r.src_mask_len).ok(),
                );
                set(
                    out,
                    FlowRecord::set_dst_mask,
                    TypedField::DstMask,
                    u8::try_from(r.dst_mask_len).ok(),
                );
            }),
            1007 => body::<ExtendedNat>(&rec).map(|n| {
                set(
                    out,
                    FlowRecord::set_post_nat_src_addr,
                    TypedField::PostNatSrcAddr,
                    ip(n.src),
                );
                set(
                    out,
                    FlowRecord::set_post_nat_dst_addr,
                    TypedField::PostNatDstAddr,
                    ip(n.dst),
                );
            }),
            1020 => body::<ExtendedNatPort>(&rec).map(|n| {
                set(
                    out,
                    FlowRecord::set_post_nat_src_port,
                    TypedField::PostNatSrcPort,
                    port(n.src_port),
                );
                set(
                    out,
                    FlowRecord::set_post_nat_dst_port,
                    TypedField::PostNatDstPort,
                    port(n.dst_port),
                );
            }),
            1003 => rec.with_body("flow record", |r| gateway(r, out)),
            1006 => rec.with_body("flow record", |r| mpls(r, out)),
            _ => Ok(()),
        };
        if let Err(e) = res {
            errors.extend(Some(e));
        }
    }
}

/// [`apply_header`] into a record where none of these fields is set yet.
fn copy_header(out: &mut FlowRecord, o: &header::Layers) {
    out.set_src_mac(o.src_mac);
    out.set_dst_mac(o.dst_mac);
    out.set_vlan(o.vlan);
    out.set_inner_vlan(o.inner_vlan);
    out.set_mpls_label(o.mpls_label);
    out.set_src_addr(o.src_addr);
    out.set_dst_addr(o.dst_addr);
    out.set_protocol(o.protocol);
    out.set_tos(o.tos);
    out.set_flow_label(o.flow_label);
    out.set_src_port(o.src_port);
    out.set_dst_port(o.dst_port);
    out.set_tcp_flags(o.tcp_flags);
    out.set_icmp_type(o.icmp_type);
    out.set_icmp_code(o.icmp_code);
}

pub(crate) fn apply_header(out: &mut FlowRecord, o: &header::Layers) {
    set(out, FlowRecord::set_src_mac, TypedField::SrcMac, o.src_mac);
    set(out, FlowRecord::set_dst_mac, TypedField::DstMac, o.dst_mac);
    set(out, FlowRecord::set_vlan, TypedField::Vlan, o.vlan);
    set(
        out,
        FlowRecord::set_inner_vlan,
        TypedField::InnerVlan,
        o.inner_vlan,
    );
    set(
        out,
        FlowRecord::set_mpls_label,
        TypedField::MplsLabel,
        o.mpls_label,
    );
    set(
        out,
        FlowRecord::set_src_addr,
        TypedField::SrcAddr,
        o.src_addr,
    );
    set(
        out,
        FlowRecord::set_dst_addr,
        TypedField::DstAddr,
        o.dst_addr,
    );
    set(
        out,
        FlowRecord::set_protocol,
        TypedField::Protocol,
        o.protocol,
    );
    set(out, FlowRecord::set_tos, TypedField::Tos, o.tos);
    set(
        out,
        FlowRecord::set_flow_label,
        TypedField::FlowLabel,
        o.flow_label,
    );
    set(
        out,
        FlowRecord::set_src_port,
        TypedField::SrcPort,
        o.src_port,
    );
    set(
        out,
        FlowRecord::set_dst_port,
        TypedField::DstPort,
        o.dst_port,
    );
    set(
        out,
        FlowRecord::set_tcp_flags,
        TypedField::TcpFlags,
        o.tcp_flags,
    );
    set(
        out,
        FlowRecord::set_icmp_type,
        TypedField::IcmpType,
        o.icmp_type,
    );
    set(
        out,
        FlowRecord::set_icmp_code,
        TypedField::IcmpCode,
        o.icmp_code,
    );
}

/// The sampled header record (protocol, frame length, stripped, header bytes) when its body
/// is well formed (the opaque fills the rest exactly, as `with_body` wants); `None` sends it
/// through the `Reader` path, which reports what is wrong.
fn sampled_header_in_place(data: &[u8]) -> Option<(u32, u32, &[u8])> {
    let (fixed, rest) = data.split_at_checked(16)?;
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(fixed.get(at..at + 4)?.try_into().ok()?))
    };
    let len = usize::try_from(word(12)?).ok()?;
    if len.checked_add(3)? & !3 != rest.len() {
        return None;
    }
    Some((word(0)?, word(4)?, rest.get(..len)?))
}

/// A fixed-size flow record body read in place, exactly as [`crate::repr::FlowData::decode`]
/// reads it (same content-length checks and errors).
fn body<T: Xdr>(rec: &RecordRef<'_>) -> Result<T> {
    rec.with_body("flow record", T::read)
}

/// extended_gateway without allocating: next hop, source AS, last AS of the path.
pub(crate) fn gateway(r: &mut Reader<'_>, out: &mut FlowRecord) -> Result<()> {
    let next_hop = Address::read(r)?;
    let _as = r.u32("extended gateway")?;
    let src_as = r.u32("extended gateway")?;
    let _peer = r.u32("extended gateway")?;
    let segments = r.count(8, "AS path segments")?;
    let mut dst_as = None;
    for _ in 0..segments {
        let _type = r.u32("AS path segment")?;
        let n = r.count(4, "AS path")?;
        for _ in 0..n {
            dst_as = Some(r.u32("AS path")?);
        }
    }
    let communities = r.count(4, "communities")?;
    r.take(communities as usize * 4, "communities")?;
    let _local_pref = r.u32("extended gateway")?;
    set(
        out,
        FlowRecord::set_bgp_next_hop,
        TypedField::BgpNextHop,
        next_hop.ip(),
    );
    set(out, FlowRecord::set_src_as, TypedField::SrcAs, Some(src_as));
    set(out, FlowRecord::set_dst_as, TypedField::DstAs, dst_as);
    Ok(())
}

/// extended_mpls without allocating: next hop and the top input label.
pub(crate) fn mpls(r: &mut Reader<'_>, out: &mut FlowRecord) -> Result<()> {
    let next_hop = Address::read(r)?;
    let mut top = None;
    for _ in 0..2 {
        let n = r.count(4, "MPLS label stack")?;
        for i in 0..n {
            let l = r.u32("MPLS label stack")?;
            if i == 0 && top.is_none() {
                top = Some(l >> 12);
            }
        }
    }
    set(
        out,
        FlowRecord::set_next_hop,
        TypedField::NextHop,
        next_hop.ip(),
    );
    set(out, FlowRecord::set_mpls_label, TypedField::MplsLabel, top);
    Ok(())
}

/// A counter sample with its datagram context and every record decoded: what counter
/// samples convert to. With serde it serializes as
/// `{"type":"counters","agent":..,"sub_agent_id":..,"datagram_sequence":..,"uptime_ms":..,
/// "sequence":..,"source":{"class":..,"index":..},"expanded":..,"records":[{"interface":{..}},..]}`,
/// each record an object keyed by its snake_case kind (`interface`, `ethernet`, `host_cpu`,
/// `ovs_dp`, ... or `unknown` with `enterprise`, `format` and `data`).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename = "counters"))]
pub struct Counters {
    /// Agent address.
    pub agent: Option<IpAddr>,
    /// Sub-agent id.
    pub sub_agent_id: u32,
    /// Sequence number of the datagram that carried the sample.
    pub datagram_sequence: u32,
    /// Agent uptime when the datagram was sent, ms.
    pub uptime_ms: u32,
    /// Sample sequence number (per source).
    pub sequence: u32,
    /// Data source.
    pub source: SourceId,
    /// Whether the sample was the expanded form.
    pub expanded: bool,
    /// The counter records; those that did not decode are kept as `Unknown` and reported.
    pub records: Vec<CounterData>,
}

impl Counters {
    /// The counters of a counter sample, in a new value: [`counters_into`] without a reused
    /// one.
    pub fn from_view(
        dg: &DatagramInfo,
        c: &CounterSampleView<'_>,
        errors: &mut impl Extend<Error>,
    ) -> Self {
        let mut out = Counters::default();
        counters_into(dg, c, &mut out, errors);
        out
    }

    /// The interface index of the generic interface record, if there is one.
    pub fn if_index(&self) -> Option<u32> {
        self.records.iter().find_map(|r| match r {
            CounterData::Interface(i) => Some(i.if_index),
            _ => None,
        })
    }
}

/// Fills `out` (overwritten, its record list reused) from a counter sample. Records that do
/// not decode are kept as `Unknown` and their errors pushed to `errors`; an error in the
/// record list ends it. Records with fixed-size bodies (interface, Ethernet, processor, most
/// others) decode without allocating once the list has grown; those holding variable-length
/// data (names, opaque and unknown records) allocate it.
pub fn counters_into(
    dg: &DatagramInfo,
    c: &CounterSampleView<'_>,
    out: &mut Counters,
    errors: &mut impl Extend<Error>,
) {
    out.agent = dg.agent;
    out.sub_agent_id = dg.sub_agent_id;
    out.datagram_sequence = dg.sequence;
    out.uptime_ms = dg.uptime;
    out.sequence = c.sequence;
    out.source = c.source;
    out.expanded = c.expanded;
    out.records.clear();
    for rec in c.records {
        match rec {
            Ok(rec) => {
                let (d, e) =
                    CounterData::decode_lenient(rec.enterprise, rec.format, rec.data, rec.offset);
                errors.extend(e);
                out.records.push(d);
            }
            Err(e) => {
                errors.extend(Some(e));
                break;
            }
        }
    }
}

/// What [`walk`] finds in a datagram, sample by sample.
pub(crate) trait Visit {
    /// A flow (`SampleKind::Flow`) or discarded-packet (`SampleKind::Discarded`) sample of
    /// `source`, converted; the visitor may complete the record before handing it on.
    fn flow(&mut self, kind: SampleKind, source: SourceId, flow: &mut FlowRecord);
    /// A counter sample, converted.
    fn counters(&mut self, counters: &Counters);
    /// A sample or record that was skipped.
    fn error(&mut self, error: Error);
}

/// Hands errors pushed during a conversion straight to the visitor, so that no list of
/// errors is kept (nor allocated) between samples.
struct Errors<'a, V>(&'a mut V);

impl<V: Visit> Extend<Error> for Errors<'_, V> {
    fn extend<I: IntoIterator<Item = Error>>(&mut self, iter: I) {
        for e in iter {
            self.0.error(e);
        }
    }
}

/// Converts every sample of a datagram, in order, into the reused `flow` and `counters`,
/// and hands each to `v`. Returns the bytes found after the declared samples.
pub(crate) fn walk<T: AsRef<[u8]>, V: Visit>(
    d: &Datagram<T>,
    flow: &mut FlowRecord,
    counters: &mut Counters,
    v: &mut V,
) -> usize {
    let dg = DatagramInfo::of(d);
    let mut samples = d.samples();
    for s in samples.by_ref() {
        match s.and_then(|s| s.view()) {
            Ok(SampleView::Flow(f)) => {
                flow_record_into(&dg, &f, flow, &mut Errors(v));
                v.flow(SampleKind::Flow, f.source, flow);
            }
            Ok(SampleView::Discarded(x)) => {
                discarded_record_into(&dg, &x, flow, &mut Errors(v));
                v.flow(SampleKind::Discarded, x.source, flow);
            }
            Ok(SampleView::Counters(c)) => {
                counters_into(&dg, &c, counters, &mut Errors(v));
                v.counters(counters);
            }
            Ok(SampleView::Unknown(_)) => {}
            Err(e) => v.error(e),
        }
    }
    samples.trailing_bytes()
}

/// Everything one datagram holds, converted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoded {
    /// One record per flow sample (and per discarded-packet sample, with
    /// `forwarding_status` dropped).
    pub flows: Vec<FlowRecord>,
    /// One per counter sample.
    pub counters: Vec<Counters>,
    /// Errors of samples and records that were skipped.
    pub errors: Vec<Error>,
    /// Bytes after the declared samples (ignored).
    pub trailing_bytes: usize,
}

impl Visit for Decoded {
    fn flow(&mut self, _: SampleKind, _: SourceId, flow: &mut FlowRecord) {
        self.flows.push(flow.clone());
    }
    fn counters(&mut self, counters: &Counters) {
        self.counters.push(counters.clone());
    }
    fn error(&mut self, error: Error) {
        self.errors.push(error);
    }
}

/// Decodes a whole datagram into owned flow records and counters, without a session (no
/// sequence tracking, no exporter address in the records). Only a bad datagram header is an
/// error; bad samples and records are skipped and listed in [`Decoded::errors`].
///
/// A convenience for tests and tools: it allocates for every sample. Collectors use
/// [`crate::Session`], which converts into reused values and hands them to a
/// [`flowwire_record::codec::Sink`].
pub fn decode(bytes: &[u8]) -> Result<Decoded> {
    let d = Datagram::new_checked(bytes)?;
    let mut out = Decoded::default();
    let mut flow = FlowRecord::new(ProtocolKind::Sflow5);
    let mut counters = Counters::default();
    out.trailing_bytes = walk(&d, &mut flow, &mut counters, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precomputed_extra_names_are_the_registry_names() {
        let mut a = FlowRecord::default();
        a.push_extra(SAMPLE_POOL_FIELD, flowwire_record::Value::Unsigned32(7));
        a.push_extra(DROPS_FIELD, flowwire_record::Value::Unsigned64(3));
        let b = [
            ExtraField {
                field: SAMPLE_POOL_FIELD,
                name: Some(Cow::Borrowed(SAMPLE_POOL_NAME)),
                value: OwnedValue::Unsigned32(7),
            },
            ExtraField {
                field: DROPS_FIELD,
                name: Some(Cow::Borrowed(DROPS_NAME)),
                value: OwnedValue::Unsigned64(3),
            },
        ];
        assert_eq!(a.extra, b);
    }
}
