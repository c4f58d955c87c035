//! Emit plans: the mirror of [`plan`](crate::plan) for encoders. A [`FlowRecord`]'s field
//! layout is summed up in a cheap 64-bit [`layout_key`] (which typed fields are present, their
//! address families), and each layout is compiled once into an [`EmitPlan`]: the elements
//! [`mapping::fields_into`](crate::mapping::fields_into) gives for such a record, in the same order, each with its natural
//! length and the typed slot it comes from. [`EmitPlan::write`] then writes a record's values
//! straight into a buffer at fixed offsets, allocating nothing.
//!
//! The bytes are exactly those of the general path, [`mapping::fields_into`](crate::mapping::fields_into) followed by
//! [`Value::emit`](crate::Value::emit) of each value at its natural length (a property test
//! checks this). Records with extra fields have no plan ([`EXTRA_BIT`] is set in their key):
//! encoders take the general path for them.
//!
//! ```
//! use flowwire_record::emit::{layout_key, EmitPlan, EmitTimes};
//! use flowwire_record::mapping::TimeEncoding;
//! use flowwire_record::FlowRecord;
//!
//! let mut record = FlowRecord::default();
//! record.set_src_addr(Some("192.0.2.1".parse().unwrap()));
//! record.set_octets(Some(1500));
//! let plan = EmitPlan::compile(layout_key(&record), EmitTimes::Absolute(TimeEncoding::Milliseconds))
//!     .expect("no extra fields");
//! // sourceIPv4Address (8), 4 octets; octetDeltaCount (1), 8 octets.
//! assert_eq!(plan.fields().collect::<Vec<_>>(), [(8, 4), (1, 8)]);
//! let mut out = [0u8; 12];
//! plan.write(&record, &mut out).unwrap();
//! assert_eq!(out, [192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 5, 220]);
//! ```

use crate::mapping::TimeEncoding;
use crate::record::{FlowRecord, TypedField};
use crate::time::Timestamp;

/// Set in a [`layout_key`] when the record has extra fields: no plan covers it.
pub const EXTRA_BIT: u64 = 1 << 63;

/// The typed fields a plan writes, in [`mapping::fields_into`](crate::mapping::fields_into)'s order (every one but
/// [`TypedField::MplsLabel`], which its stack entry in the extras carries).
const SLOTS: [TypedField; 35] = [
    TypedField::SrcAddr,
    TypedField::DstAddr,
    TypedField::SrcPort,
    TypedField::DstPort,
    TypedField::Protocol,
    TypedField::Tos,
    TypedField::TcpFlags,
    TypedField::Octets,
    TypedField::Packets,
    TypedField::Start,
    TypedField::End,
    TypedField::InIf,
    TypedField::OutIf,
    TypedField::SrcAs,
    TypedField::DstAs,
    TypedField::NextHop,
    TypedField::BgpNextHop,
    TypedField::SrcMask,
    TypedField::DstMask,
    TypedField::Vlan,
    TypedField::InnerVlan,
    TypedField::SrcMac,
    TypedField::DstMac,
    TypedField::IcmpType,
    TypedField::IcmpCode,
    TypedField::FlowLabel,
    TypedField::Direction,
    TypedField::EndReason,
    TypedField::ForwardingStatus,
    TypedField::PostNatSrcAddr,
    TypedField::PostNatDstAddr,
    TypedField::PostNatSrcPort,
    TypedField::PostNatDstPort,
    TypedField::SamplingInterval,
    TypedField::SamplingAlgorithm,
];

// Address-family bits of a layout key, above the presence bits of the typed fields.
const SRC_V6: u64 = 1 << 40;
const DST_V6: u64 = 1 << 41;
const NEXT_HOP_V6: u64 = 1 << 42;
const BGP_NEXT_HOP_V6: u64 = 1 << 43;
const POST_NAT_SRC_V6: u64 = 1 << 44;
const POST_NAT_DST_V6: u64 = 1 << 45;
/// ICMP type/code present and written as ICMPv6 (178/179): IPv6 source or protocol 58.
const ICMP_V6: u64 = 1 << 46;

/// The typed fields an emit plan writes (all but the MPLS label, which its stack entry in the
/// extras carries).
const WRITTEN: u64 = ((1 << 36) - 1) & !TypedField::MplsLabel.mask();

/// A record's layout key: one bit per present typed field, the address families of its
/// addresses, whether ICMP type/code are ICMPv6 ones, and [`EXTRA_BIT`] when
/// [`FlowRecord::extra`] is not empty. Records with equal keys (and no extras) give the same
/// elements and lengths from [`mapping::fields_into`](crate::mapping::fields_into).
///
/// It reads the record's presence mask and address families: a few instructions, whatever
/// the number of fields.
#[inline]
pub fn layout_key(r: &FlowRecord) -> u64 {
    use crate::record::slot as x;
    let present = r.present;
    let mut k = present & WRITTEN;
    // The family bits of the addresses that are set, in the order of SRC_V6..POST_NAT_DST_V6
    // (address slots 0-5 in that order).
    let set = |f: TypedField, slot: usize| ((present & f.mask() != 0) as u8) << slot;
    let addrs = set(TypedField::SrcAddr, x::SRC)
        | set(TypedField::DstAddr, x::DST)
        | set(TypedField::NextHop, x::NEXT_HOP)
        | set(TypedField::BgpNextHop, x::BGP_NEXT_HOP)
        | set(TypedField::PostNatSrcAddr, x::POST_NAT_SRC)
        | set(TypedField::PostNatDstAddr, x::POST_NAT_DST);
    k |= u64::from(addrs & r.v6) << SRC_V6.trailing_zeros();
    if k & (TypedField::IcmpType.mask() | TypedField::IcmpCode.mask()) != 0
        && (k & SRC_V6 != 0 || r.protocol() == Some(58))
    {
        k |= ICMP_V6;
    }
    if !r.extra.is_empty() {
        k |= EXTRA_BIT;
    }
    k
}

/// How a plan writes [`FlowRecord::start`] and [`FlowRecord::end`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitTimes {
    /// Absolute times, as [`mapping::fields_into`](crate::mapping::fields_into) gives them for this encoding.
    Absolute(TimeEncoding),
    /// NetFlow v9 FIRST_SWITCHED / LAST_SWITCHED (22 / 21, 4 octets): milliseconds since
    /// `boot`, taken from the millisecond time [`TimeEncoding::Milliseconds`] gives (times
    /// before the Unix epoch count as the epoch), modulo 2^32 like the sysUptime counter (a
    /// collector reads the difference from the header's uptime as signed, so times before
    /// `boot` come back too).
    SysUptime {
        /// When the exporter's sysUptime was 0.
        boot: Timestamp,
    },
}

/// One field a plan writes: the element, its length and where its value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmitStep {
    /// The element id (IANA, enterprise 0).
    pub id: u16,
    /// Its length in octets (the value's natural length).
    pub len: u16,
    /// The typed field it is written from.
    pub slot: TypedField,
}

/// Why [`EmitPlan::write`] wrote nothing useful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The output is not [`EmitPlan::record_len`] octets long.
    #[error("emit plan writes {expected} octets, the output has {len}")]
    BadLength {
        /// The plan's record length.
        expected: usize,
        /// The output's length.
        len: usize,
    },
    /// The record does not have the plan's layout: this element's field is absent or of the
    /// other address family.
    #[error("record does not have the emit plan's layout (element {element})")]
    LayoutMismatch {
        /// The element whose value was missing or of the wrong form.
        element: u16,
    },
}

/// A layout compiled into the steps that write a record of it; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitPlan {
    key: u64,
    times: EmitTimes,
    steps: Vec<EmitStep>,
    len: usize,
    writes: Writes,
    /// Presence bits a record of the layout has.
    need: u64,
    /// The address slots the plan writes, and which of them hold IPv6 addresses.
    v6_mask: u8,
    v6_want: u8,
    /// [`EmitTimes::SysUptime`]'s boot, in Unix milliseconds.
    boot_ms: i64,
}

/// Where a written value goes in the output and where it comes from in the record. A record
/// of every typed field takes 198 octets, so every offset fits in a `u8`.
type Place = (u8, u8);

/// The buffer a record is written into before it is copied out: its size lets the compiler
/// prove every write at a `u8` offset in bounds.
const WINDOW: usize = 256 + 16;

/// The steps grouped by width: each group is a loop of one load and one store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Writes {
    u8s: Vec<Place>,
    u16s: Vec<Place>,
    u32s: Vec<Place>,
    u64s: Vec<Place>,
    addr4: Vec<Place>,
    addr6: Vec<Place>,
    macs: Vec<Place>,
    times: Vec<Place>,
}

/// The record storage a typed field's value is kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    U8,
    U16,
    U32,
    U64,
    Addr,
    Mac,
    Time,
}

/// The array and index of a typed field's value in a [`FlowRecord`].
fn store_of(slot: TypedField) -> (Store, usize) {
    use crate::record::slot as x;
    match slot {
        TypedField::SrcAddr => (Store::Addr, x::SRC),
        TypedField::DstAddr => (Store::Addr, x::DST),
        TypedField::NextHop => (Store::Addr, x::NEXT_HOP),
        TypedField::BgpNextHop => (Store::Addr, x::BGP_NEXT_HOP),
        TypedField::PostNatSrcAddr => (Store::Addr, x::POST_NAT_SRC),
        TypedField::PostNatDstAddr => (Store::Addr, x::POST_NAT_DST),
        TypedField::SrcPort => (Store::U16, x::SRC_PORT),
        TypedField::DstPort => (Store::U16, x::DST_PORT),
        TypedField::TcpFlags => (Store::U16, x::TCP_FLAGS),
        TypedField::Vlan => (Store::U16, x::VLAN),
        TypedField::InnerVlan => (Store::U16, x::INNER_VLAN),
        TypedField::PostNatSrcPort => (Store::U16, x::POST_NAT_SRC_PORT),
        TypedField::PostNatDstPort => (Store::U16, x::POST_NAT_DST_PORT),
        TypedField::Protocol => (Store::U8, x::PROTOCOL),
        TypedField::Tos => (Store::U8, x::TOS),
        TypedField::SrcMask => (Store::U8, x::SRC_MASK),
        TypedField::DstMask => (Store::U8, x::DST_MASK),
        TypedField::IcmpType => (Store::U8, x::ICMP_TYPE),
        TypedField::IcmpCode => (Store::U8, x::ICMP_CODE),
        TypedField::Direction => (Store::U8, x::DIRECTION),
        TypedField::EndReason => (Store::U8, x::END_REASON),
        TypedField::SamplingAlgorithm => (Store::U8, x::SAMPLING_ALGORITHM),
        TypedField::Octets => (Store::U64, x::OCTETS),
        TypedField::Packets => (Store::U64, x::PACKETS),
        TypedField::Start => (Store::Time, x::START),
        TypedField::End => (Store::Time, x::END),
        TypedField::InIf => (Store::U32, x::IN_IF),
        TypedField::OutIf => (Store::U32, x::OUT_IF),
        TypedField::SrcAs => (Store::U32, x::SRC_AS),
        TypedField::DstAs => (Store::U32, x::DST_AS),
        TypedField::FlowLabel => (Store::U32, x::FLOW_LABEL),
        TypedField::ForwardingStatus => (Store::U32, x::FORWARDING_STATUS),
        TypedField::SamplingInterval => (Store::U32, x::SAMPLING_INTERVAL),
        TypedField::SrcMac => (Store::Mac, x::SRC_MAC),
        TypedField::DstMac => (Store::Mac, x::DST_MAC),
        TypedField::MplsLabel => (Store::U32, x::MPLS_LABEL),
    }
}

/// A scratch buffer for [`EmitPlan::append_with`]: an encoder keeps one and writes every
/// record through it.
#[derive(Clone)]
pub struct EmitScratch([u8; WINDOW]);

impl Default for EmitScratch {
    fn default() -> Self {
        EmitScratch([0; WINDOW])
    }
}

impl core::fmt::Debug for EmitScratch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EmitScratch")
    }
}

/// `N` octets of the window at `o`.
#[inline(always)]
fn chunk<const N: usize>(out: &mut [u8; WINDOW], o: u8) -> Option<&mut [u8; N]> {
    out.get_mut(usize::from(o)..)?.first_chunk_mut::<N>()
}

impl EmitPlan {
    /// The plan for records whose [`layout_key`] is `key`; `None` when the key has
    /// [`EXTRA_BIT`] set (extra fields need the general path).
    pub fn compile(key: u64, times: EmitTimes) -> Option<Self> {
        if key & EXTRA_BIT != 0 {
            return None;
        }
        let v6 = |b: u64| key & b != 0;
        let addr = |b: u64, v4: u16, v6id: u16| if v6(b) { (v6id, 16) } else { (v4, 4) };
        let (start_id, end_id, time_len) = match times {
            EmitTimes::Absolute(TimeEncoding::Seconds) => (150, 151, 4),
            EmitTimes::Absolute(TimeEncoding::Milliseconds) => (152, 153, 8),
            EmitTimes::Absolute(TimeEncoding::Nanoseconds) => (156, 157, 8),
            EmitTimes::SysUptime { .. } => (22, 21, 4),
        };
        let mut steps = Vec::new();
        for slot in SLOTS {
            if key & slot.mask() == 0 {
                continue;
            }
            let (id, len) = match slot {
                TypedField::SrcAddr => addr(SRC_V6, 8, 27),
                TypedField::DstAddr => addr(DST_V6, 12, 28),
                TypedField::SrcPort => (7, 2),
                TypedField::DstPort => (11, 2),
                TypedField::Protocol => (4, 1),
                TypedField::Tos => (5, 1),
                TypedField::TcpFlags => (6, 2),
                TypedField::Octets => (1, 8),
                TypedField::Packets => (2, 8),
                TypedField::Start => (start_id, time_len),
                TypedField::End => (end_id, time_len),
                TypedField::InIf => (10, 4),
                TypedField::OutIf => (14, 4),
                TypedField::SrcAs => (16, 4),
                TypedField::DstAs => (17, 4),
                TypedField::NextHop => addr(NEXT_HOP_V6, 15, 62),
                TypedField::BgpNextHop => addr(BGP_NEXT_HOP_V6, 18, 63),
                TypedField::SrcMask => (if v6(SRC_V6) { 29 } else { 9 }, 1),
                TypedField::DstMask => (if v6(DST_V6) { 30 } else { 13 }, 1),
                TypedField::Vlan => (58, 2),
                TypedField::InnerVlan => (245, 2),
                TypedField::SrcMac => (56, 6),
                TypedField::DstMac => (80, 6),
                TypedField::IcmpType => (if v6(ICMP_V6) { 178 } else { 176 }, 1),
                TypedField::IcmpCode => (if v6(ICMP_V6) { 179 } else { 177 }, 1),
                TypedField::FlowLabel => (31, 4),
                TypedField::Direction => (61, 1),
                TypedField::EndReason => (136, 1),
                TypedField::ForwardingStatus => (89, 4),
                TypedField::PostNatSrcAddr => addr(POST_NAT_SRC_V6, 225, 281),
                TypedField::PostNatDstAddr => addr(POST_NAT_DST_V6, 226, 282),
                TypedField::PostNatSrcPort => (227, 2),
                TypedField::PostNatDstPort => (228, 2),
                TypedField::SamplingInterval => (crate::registry::ie::SAMPLING_INTERVAL, 4),
                TypedField::SamplingAlgorithm => (35, 1),
                // Not in SLOTS: its stack entry (70) in the extras carries it.
                TypedField::MplsLabel => continue,
            };
            steps.push(EmitStep { id, len, slot });
        }
        let mut writes = Writes::default();
        let (mut v6_mask, mut v6_want) = (0u8, 0u8);
        let mut offset = 0usize;
        for step in &steps {
            let o = u8::try_from(offset).unwrap_or(u8::MAX);
            let (store, index) = store_of(step.slot);
            let place = (o, index as u8);
            match store {
                Store::U8 => writes.u8s.push(place),
                Store::U16 => writes.u16s.push(place),
                Store::U32 => writes.u32s.push(place),
                Store::U64 => writes.u64s.push(place),
                Store::Mac => writes.macs.push(place),
                Store::Time => writes.times.push(place),
                Store::Addr => {
                    v6_mask |= 1 << index;
                    if step.len == 16 {
                        v6_want |= 1 << index;
                        writes.addr6.push(place);
                    } else {
                        writes.addr4.push(place);
                    }
                }
            }
            offset += usize::from(step.len);
        }
        Some(EmitPlan {
            key,
            times,
            steps,
            len: offset,
            writes,
            need: key & WRITTEN,
            v6_mask,
            v6_want,
            boot_ms: match times {
                EmitTimes::SysUptime { boot } => boot.unix_millis(),
                EmitTimes::Absolute(_) => 0,
            },
        })
    }

    /// The layout key the plan was compiled for.
    pub fn key(&self) -> u64 {
        self.key
    }

    /// How the plan writes times.
    pub fn times(&self) -> EmitTimes {
        self.times
    }

    /// The steps, in write order.
    pub fn steps(&self) -> &[EmitStep] {
        &self.steps
    }

    /// The template fields: (element id, length) per step.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (u16, u16)> + '_ {
        self.steps.iter().map(|s| (s.id, s.len))
    }

    /// Octets one record takes.
    pub fn record_len(&self) -> usize {
        self.len
    }

    /// Appends `record` (which must have the plan's [`layout_key`]) to `buf`; on error `buf` is
    /// left as it was.
    pub fn append(&self, r: &FlowRecord, buf: &mut Vec<u8>) -> Result<(), EmitError> {
        self.append_with(r, buf, &mut EmitScratch::default())
    }

    /// [`append`](Self::append) through a scratch buffer the caller keeps between records
    /// (an encoder's per-record path: nothing is zeroed per record).
    #[inline]
    pub fn append_with(
        &self,
        r: &FlowRecord,
        buf: &mut Vec<u8>,
        scratch: &mut EmitScratch,
    ) -> Result<(), EmitError> {
        // Every octet up to `len` is written by the plan, so what an earlier record left in
        // the scratch past it is never copied out.
        self.write_window(r, &mut scratch.0)?;
        buf.extend_from_slice(scratch.0.get(..self.len).unwrap_or_default());
        Ok(())
    }

    /// Writes `record` (which must have the plan's [`layout_key`]) into `out`, which must be
    /// exactly [`record_len`](Self::record_len) octets. On error `out` may be partly written.
    pub fn write(&self, r: &FlowRecord, out: &mut [u8]) -> Result<(), EmitError> {
        if out.len() != self.len {
            return Err(EmitError::BadLength {
                expected: self.len,
                len: out.len(),
            });
        }
        let mut window = [0u8; WINDOW];
        self.write_window(r, &mut window)?;
        if let Some(from) = window.get(..self.len) {
            out.copy_from_slice(from);
        }
        Ok(())
    }

    /// Writes the record at the start of `out`.
    #[inline]
    fn write_window(&self, r: &FlowRecord, out: &mut [u8; WINDOW]) -> Result<(), EmitError> {
        if r.present & self.need != self.need || r.v6 & self.v6_mask != self.v6_want {
            return Err(EmitError::LayoutMismatch {
                element: self.first_mismatch(r),
            });
        }
        let w = &self.writes;
        for &(o, i) in &w.u8s {
            if let (Some(d), Some(&v)) = (chunk::<1>(out, o), r.u8s.get(usize::from(i) & 15)) {
                *d = [v];
            }
        }
        for &(o, i) in &w.u16s {
            if let (Some(d), Some(v)) = (chunk(out, o), r.u16s.get(usize::from(i) & 7)) {
                *d = v.to_be_bytes();
            }
        }
        for &(o, i) in &w.u32s {
            if let (Some(d), Some(v)) = (chunk(out, o), r.u32s.get(usize::from(i) & 15)) {
                *d = v.to_be_bytes();
            }
        }
        for &(o, i) in &w.u64s {
            if let (Some(d), Some(v)) = (chunk(out, o), r.u64s.get(usize::from(i) & 1)) {
                *d = v.to_be_bytes();
            }
        }
        for &(o, i) in &w.addr4 {
            if let (Some(d), Some(a)) = (chunk::<4>(out, o), r.addrs.get(usize::from(i) & 7))
                && let Some(v4) = a.first_chunk::<4>()
            {
                *d = *v4;
            }
        }
        for &(o, i) in &w.addr6 {
            if let (Some(d), Some(a)) = (chunk(out, o), r.addrs.get(usize::from(i) & 7)) {
                *d = *a;
            }
        }
        for &(o, i) in &w.macs {
            if let (Some(d), Some(m)) = (chunk(out, o), r.macs.get(usize::from(i) & 1)) {
                *d = *m;
            }
        }
        for &(o, i) in &w.times {
            if let Some(&nanos) = r.times.get(usize::from(i) & 3) {
                self.write_time(Timestamp::from_unix_nanos(nanos), out, o);
            }
        }
        Ok(())
    }

    /// The element of the first step whose value the record lacks or has in the other
    /// address family.
    #[cold]
    fn first_mismatch(&self, r: &FlowRecord) -> u16 {
        self.steps
            .iter()
            .find(|s| {
                let (store, index) = store_of(s.slot);
                r.present & s.slot.mask() == 0
                    || (store == Store::Addr && r.is_v6(index) != (s.len == 16))
            })
            .map_or(0, |s| s.id)
    }

    #[inline]
    fn write_time(&self, t: Timestamp, out: &mut [u8; WINDOW], o: u8) {
        match self.times {
            EmitTimes::Absolute(TimeEncoding::Seconds) => {
                if let Some(d) = chunk(out, o) {
                    *d = u32::try_from(t.unix_secs()).unwrap_or(0).to_be_bytes();
                }
            }
            EmitTimes::Absolute(TimeEncoding::Milliseconds) => {
                if let Some(d) = chunk(out, o) {
                    *d = u64::try_from(t.unix_millis()).unwrap_or(0).to_be_bytes();
                }
            }
            EmitTimes::Absolute(TimeEncoding::Nanoseconds) => {
                if let Some(d) = chunk(out, o) {
                    *d = t.to_ntp().unwrap_or_default().to_bits().to_be_bytes();
                }
            }
            EmitTimes::SysUptime { .. } => {
                if let Some(d) = chunk(out, o) {
                    let ms = t.unix_millis().max(0);
                    *d = (ms.saturating_sub(self.boot_ms) as u32).to_be_bytes();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping;
    use crate::registry::FieldId;
    use crate::time::MacAddr;
    use crate::value::{OwnedValue, Value};
    use proptest::prelude::*;
    use std::net::IpAddr;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// The general path: fields_into, (v9: the 152/153 → 22/21 uptime rewrite), then
    /// Value::emit of each value at its natural length.
    fn general(r: &FlowRecord, times: EmitTimes) -> (Vec<(u16, u16)>, Vec<u8>) {
        let enc = match times {
            EmitTimes::Absolute(e) => e,
            EmitTimes::SysUptime { .. } => TimeEncoding::Milliseconds,
        };
        let mut fields = Vec::new();
        mapping::fields_into(r, enc, &mut fields);
        let mut layout = Vec::new();
        let mut bytes = Vec::new();
        for (id, v) in fields {
            let (id, v) = match (times, id.id, v.as_timestamp()) {
                (EmitTimes::SysUptime { boot }, 152, Some(ts)) => (
                    22,
                    Value::Unsigned32(ts.unix_millis().saturating_sub(boot.unix_millis()) as u32),
                ),
                (EmitTimes::SysUptime { boot }, 153, Some(ts)) => (
                    21,
                    Value::Unsigned32(ts.unix_millis().saturating_sub(boot.unix_millis()) as u32),
                ),
                _ => (id.id, v),
            };
            let n = v.natural_len();
            layout.push((id, n as u16));
            let at = bytes.len();
            bytes.resize(at + n, 0);
            v.emit(&mut bytes[at..]).unwrap();
        }
        (layout, bytes)
    }

    fn opt<T: std::fmt::Debug + Clone + 'static>(
        s: impl Strategy<Value = T> + 'static,
    ) -> BoxedStrategy<Option<T>> {
        proptest::option::weighted(0.6, s).boxed()
    }

    fn addr() -> BoxedStrategy<IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        ]
        .boxed()
    }

    fn time() -> BoxedStrategy<Timestamp> {
        prop_oneof![
            (0i64..4_000_000_000_000).prop_map(Timestamp::from_unix_millis),
            any::<i64>().prop_map(Timestamp::from_unix_nanos),
        ]
        .boxed()
    }

    prop_compose! {
        fn record()(
            a in (opt(addr()), opt(addr()), opt(any::<u16>()), opt(any::<u16>()),
                  opt(prop_oneof![Just(58u8), Just(6u8), any::<u8>()]), opt(any::<u8>()),
                  opt(any::<u16>()), opt(any::<u64>()), opt(any::<u64>())),
            b in (opt(time()), opt(time()), opt(any::<u32>()), opt(any::<u32>()),
                  opt(any::<u32>()), opt(any::<u32>()), opt(addr()), opt(addr()),
                  opt(any::<u8>()), opt(any::<u8>())),
            c in (opt(any::<u16>()), opt(any::<u16>()), opt(any::<[u8; 6]>()),
                  opt(any::<[u8; 6]>()), opt(any::<u8>()), opt(any::<u8>()),
                  opt(any::<u32>()), opt(any::<u8>()), opt(any::<u8>()), opt(any::<u32>())),
            d in (opt(addr()), opt(addr()), opt(any::<u16>()), opt(any::<u16>()),
                  opt(any::<u32>()), opt(any::<u8>()), opt(any::<u32>())),
            extra in any::<bool>(),
        ) -> FlowRecord {
            let mut r = FlowRecord::default();
            let (src_addr, dst_addr, src_port, dst_port, protocol, tos, tcp_flags, octets, packets) = a;
            r.set_src_addr(src_addr);
            r.set_dst_addr(dst_addr);
            r.set_src_port(src_port);
            r.set_dst_port(dst_port);
            r.set_protocol(protocol);
            r.set_tos(tos);
            r.set_tcp_flags(tcp_flags);
            r.set_octets(octets);
            r.set_packets(packets);
            let (start, end, in_if, out_if, src_as, dst_as, next_hop, bgp_next_hop, src_mask, dst_mask) = b;
            r.set_start(start);
            r.set_end(end);
            r.set_in_if(in_if);
            r.set_out_if(out_if);
            r.set_src_as(src_as);
            r.set_dst_as(dst_as);
            r.set_next_hop(next_hop);
            r.set_bgp_next_hop(bgp_next_hop);
            r.set_src_mask(src_mask);
            r.set_dst_mask(dst_mask);
            let (vlan, inner_vlan, src_mac, dst_mac, icmp_type, icmp_code, flow_label, direction, end_reason, forwarding_status) = c;
            r.set_vlan(vlan);
            r.set_inner_vlan(inner_vlan);
            r.set_src_mac(src_mac.map(MacAddr));
            r.set_dst_mac(dst_mac.map(MacAddr));
            r.set_icmp_type(icmp_type);
            r.set_icmp_code(icmp_code);
            r.set_flow_label(flow_label);
            r.set_direction(direction);
            r.set_end_reason(end_reason);
            r.set_forwarding_status(forwarding_status);
            let (post_nat_src_addr, post_nat_dst_addr, post_nat_src_port, post_nat_dst_port, sampling_interval, sampling_algorithm, mpls) = d;
            r.set_post_nat_src_addr(post_nat_src_addr);
            r.set_post_nat_dst_addr(post_nat_dst_addr);
            r.set_post_nat_src_port(post_nat_src_port);
            r.set_post_nat_dst_port(post_nat_dst_port);
            r.set_sampling_interval(sampling_interval);
            r.set_sampling_algorithm(sampling_algorithm);
            // Not written from the typed field: must not change the layout.
            r.set_mpls_label(mpls);
            if extra {
                r.extra.push(crate::record::ExtraField::new(
                    FieldId::iana(82),
                    OwnedValue::String(b"eth0".to_vec()),
                ));
            }
            r
        }
    }

    fn times() -> impl Strategy<Value = EmitTimes> {
        prop_oneof![
            Just(EmitTimes::Absolute(TimeEncoding::Seconds)),
            Just(EmitTimes::Absolute(TimeEncoding::Milliseconds)),
            Just(EmitTimes::Absolute(TimeEncoding::Nanoseconds)),
            time().prop_map(|boot| EmitTimes::SysUptime { boot }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn plan_writes_what_the_general_path_writes(r in record(), times in times()) {
            let key = layout_key(&r);
            let plan = EmitPlan::compile(key, times);
            if !r.extra.is_empty() {
                prop_assert!(plan.is_none());
                return Ok(());
            }
            let plan = plan.unwrap();
            let (layout, bytes) = general(&r, times);
            prop_assert_eq!(plan.fields().collect::<Vec<_>>(), layout);
            prop_assert_eq!(plan.record_len(), bytes.len());
            let mut out = vec![0xa5; plan.record_len()];
            plan.write(&r, &mut out).unwrap();
            prop_assert_eq!(out, bytes);
        }

        #[test]
        fn equal_keys_mean_equal_layouts(a in record(), b in record()) {
            let t = EmitTimes::Absolute(TimeEncoding::Milliseconds);
            if layout_key(&a) == layout_key(&b) && a.extra.is_empty() {
                prop_assert_eq!(general(&a, t).0, general(&b, t).0);
            }
        }
    }

    #[test]
    fn a_record_of_another_layout_is_refused() {
        let mut r = {
            let mut built = FlowRecord::default();
            built.set_src_addr(Some(Ipv4Addr::new(10, 0, 0, 1).into()));
            built.set_octets(Some(1));
            built
        };
        let plan =
            EmitPlan::compile(layout_key(&r), EmitTimes::Absolute(TimeEncoding::Seconds)).unwrap();
        let mut out = vec![0; plan.record_len()];
        r.set_src_addr(Some(Ipv6Addr::LOCALHOST.into()));
        assert_eq!(
            plan.write(&r, &mut out),
            Err(EmitError::LayoutMismatch { element: 8 })
        );
        r.set_src_addr(None);
        assert_eq!(
            plan.write(&r, &mut out),
            Err(EmitError::LayoutMismatch { element: 8 })
        );
        assert_eq!(
            plan.write(&r, &mut [0; 3]),
            Err(EmitError::BadLength {
                expected: 12,
                len: 3
            })
        );
    }

    #[test]
    fn slot_bits_follow_the_order() {
        // Each written field has its own presence bit, in fields_into's order, below the
        // family bits.
        for w in SLOTS.windows(2) {
            assert!(w[0].mask() < w[1].mask(), "{w:?}");
        }
        assert!(TypedField::SamplingAlgorithm.mask() < SRC_V6);
    }

    #[test]
    fn icmp_v6_bit_follows_fields_into() {
        let r = {
            let mut built = FlowRecord::default();
            built.set_protocol(Some(58));
            built.set_icmp_type(Some(128));
            built
        };
        let plan = EmitPlan::compile(
            layout_key(&r),
            EmitTimes::Absolute(TimeEncoding::Milliseconds),
        )
        .unwrap();
        assert_eq!(plan.fields().collect::<Vec<_>>(), [(4, 1), (178, 1)]);
    }
}
