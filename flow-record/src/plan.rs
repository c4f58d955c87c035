//! Decode plans: a template compiled once into the steps that fill a [`FlowRecord`], so the
//! per-record loop does no registry lookups, no element matching and no allocation.
//!
//! A plan gives the same record as decoding each field with [`Value::decode`] and applying it
//! with [`mapping::apply`] (a property test checks this); it is only faster. Fields with a
//! typed slot and the expected width are read straight into it; everything else goes through
//! the general path and ends in [`FlowRecord::extra`].
//!
//! ```
//! use flowwire_record::plan::{PlanField, RecordPlan};
//! use flowwire_record::{FieldId, FlowRecord, registry::Registry};
//!
//! // sourceIPv4Address (8, 4 octets), octetDeltaCount (1, reduced to 4 octets)
//! let plan = RecordPlan::compile(
//!     &[PlanField::new(FieldId::iana(8), 4), PlanField::new(FieldId::iana(1), 4)],
//!     &Registry::new(),
//! );
//! let mut record = FlowRecord::default();
//! let used = plan.decode(&[10, 0, 0, 1, 0, 0, 5, 220], &Default::default(), &mut record).unwrap();
//! assert_eq!(used, 8);
//! assert_eq!(record.octets(), Some(1500));
//! ```

use crate::data_type::DataType;
use crate::mapping::{self, Targets, TimeContext, TypedField};
use crate::record::FlowRecord;
use crate::record::slot;
use crate::registry::ie;
use crate::registry::{FieldId, Registry};
use crate::value::{OwnedValue, Value, ValueError};

/// The length IPFIX and NetFlow v9 (H3C) templates use to say "variable length".
pub const VARIABLE_LENGTH: u16 = 65535;

/// One field of a template, as a plan needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanField {
    /// The element.
    pub field: FieldId,
    /// Its length in the template ([`VARIABLE_LENGTH`] for a length-prefixed field).
    pub length: u16,
}

impl PlanField {
    /// A field of `length` octets.
    pub const fn new(field: FieldId, length: u16) -> Self {
        PlanField { field, length }
    }
}

/// Where a field's octets go: an array of the record's storage and an index in it, with
/// the conversion. Decided once per template field, so the per-record loop does one store
/// per field and no width dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// 1 octet into `u8s`.
    U8(u8),
    /// 2 octets into `u16s`.
    U16(u8),
    /// 1 octet into `u16s`.
    U16From1(u8),
    /// 4 octets into `u32s`.
    U32(u8),
    /// 2 octets into `u32s`.
    U32From2(u8),
    /// 1 octet into `u32s`.
    U32From1(u8),
    /// 8 octets into `u64s`.
    U64(u8),
    /// 4 octets into `u64s` (reduced-size encoding).
    U64From4(u8),
    /// Any other width up to the destination's, big-endian, into the array `dest`.
    Int(Dest, u8),
    /// 4 octets into `addrs`, an IPv4 address.
    Addr4(u8),
    /// 16 octets into `addrs`, an IPv6 address.
    Addr6(u8),
    /// 6 octets into `macs`.
    Mac(u8),
    /// dateTimeMilliseconds (8 octets) into `times`.
    Millis(u8),
    /// dateTimeSeconds (4 octets) into `times`.
    Secs(u8),
    /// Milliseconds of sysUpTime (1-4 octets) into `times`, through the time context; the
    /// general path when the context cannot convert.
    Uptime(u8),
    /// icmpTypeCodeIPv4/IPv6 (2 octets): type and code.
    IcmpTypeCode,
    /// Decoded as a [`Value`] and applied with [`mapping::apply`].
    General,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    U32,
    U64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Step {
    op: Op,
    /// The presence bit the op sets (0 for the general path, which sets its own).
    bit: u64,
    field: FieldId,
    data_type: DataType,
    length: u16,
    /// Where the field starts in the record, when every field before it has a fixed length.
    offset: u32,
    /// The template also carries the other address family for this slot: an all-zero
    /// address here is the unused one, kept in the extras rather than in the slot.
    zero_to_extra: bool,
}

/// The element of the other address family that fills the same typed slot.
pub(crate) fn other_family(field: FieldId) -> Option<FieldId> {
    if field.pen != 0 {
        return None;
    }
    let other = match field.id {
        8 => 27,
        27 => 8,
        12 => 28,
        28 => 12,
        15 => 62,
        62 => 15,
        18 => 63,
        63 => 18,
        225 => 281,
        281 => 225,
        226 => 282,
        282 => 226,
        _ => return None,
    };
    Some(FieldId::iana(other))
}

/// A template compiled for decoding records into [`FlowRecord`]s.
///
/// Repeated elements follow [`mapping::apply`]'s rule: the first element that fills a typed
/// field takes it, every other occurrence goes to the extras in wire order. One rule goes
/// beyond `apply`: a template that carries both address families for a field
/// (sourceIPv4Address and sourceIPv6Address, say) fills the unused one with zeros, so an
/// all-zero address of such a pair goes to the extras and leaves the field to the real
/// address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPlan {
    /// Every field, in template order.
    steps: Box<[Step]>,
    /// Fixed-length templates: the typed fields' ops with their offsets, sorted by op so that
    /// the per-record loop's dispatch repeats (the branch predictor learns the run).
    fast: Box<[(Fast, u16, u16)]>,
    /// Fixed-length templates: the steps the general path takes, in template order.
    general: Box<[u16]>,
    /// Presence bits every record of a fixed-length template gets from `fast`.
    mask: u64,
    /// Address slots `fast` fills with IPv6 (set) and IPv4 (cleared) addresses.
    v6_set: u8,
    v6_clear: u8,
    /// The record length when no field is variable-length.
    fixed_len: Option<usize>,
    min_len: usize,
    needs_finish: bool,
}

/// A record that does not fit its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The record is shorter than its fields; `offset` is where the field that did not fit
    /// starts, relative to the record.
    #[error("field {field} at record offset {offset} needs {needed} octets, {available} remain")]
    Truncated {
        /// The element that did not fit.
        field: FieldId,
        /// Where it starts in the record.
        offset: usize,
        /// Octets it needs.
        needed: usize,
        /// Octets left.
        available: usize,
    },
}

/// The op of a template field, by element and length; `General` for everything without a
/// typed field of that width. Each op gives what [`mapping::apply`] gives for such a field.
fn op_for(field: FieldId, len: u16) -> (Op, u64) {
    use crate::record::slot as x;
    use TypedField as F;
    if field.pen != 0 {
        return (Op::General, 0);
    }
    let u = |i: usize| i as u8;
    let op = match (field.id, len) {
        (ie::SOURCE_IPV4_ADDRESS, 4) => (Op::Addr4(u(x::SRC)), F::SrcAddr),
        (ie::DESTINATION_IPV4_ADDRESS, 4) => (Op::Addr4(u(x::DST)), F::DstAddr),
        (ie::SOURCE_IPV6_ADDRESS, 16) => (Op::Addr6(u(x::SRC)), F::SrcAddr),
        (ie::DESTINATION_IPV6_ADDRESS, 16) => (Op::Addr6(u(x::DST)), F::DstAddr),
        (ie::IP_NEXT_HOP_IPV4_ADDRESS, 4) => (Op::Addr4(u(x::NEXT_HOP)), F::NextHop),
        (ie::IP_NEXT_HOP_IPV6_ADDRESS, 16) => (Op::Addr6(u(x::NEXT_HOP)), F::NextHop),
        (ie::BGP_NEXT_HOP_IPV4_ADDRESS, 4) => (Op::Addr4(u(x::BGP_NEXT_HOP)), F::BgpNextHop),
        (ie::BGP_NEXT_HOP_IPV6_ADDRESS, 16) => (Op::Addr6(u(x::BGP_NEXT_HOP)), F::BgpNextHop),
        (ie::POST_NAT_SOURCE_IPV4_ADDRESS, 4) => (Op::Addr4(u(x::POST_NAT_SRC)), F::PostNatSrcAddr),
        (ie::POST_NAT_SOURCE_IPV6_ADDRESS, 16) => {
            (Op::Addr6(u(x::POST_NAT_SRC)), F::PostNatSrcAddr)
        }
        (ie::POST_NAT_DESTINATION_IPV4_ADDRESS, 4) => {
            (Op::Addr4(u(x::POST_NAT_DST)), F::PostNatDstAddr)
        }
        (ie::POST_NAT_DESTINATION_IPV6_ADDRESS, 16) => {
            (Op::Addr6(u(x::POST_NAT_DST)), F::PostNatDstAddr)
        }
        (ie::SOURCE_TRANSPORT_PORT, 2) => (Op::U16(u(x::SRC_PORT)), F::SrcPort),
        (ie::SOURCE_TRANSPORT_PORT, 1) => (Op::U16From1(u(x::SRC_PORT)), F::SrcPort),
        (ie::DESTINATION_TRANSPORT_PORT, 2) => (Op::U16(u(x::DST_PORT)), F::DstPort),
        (ie::DESTINATION_TRANSPORT_PORT, 1) => (Op::U16From1(u(x::DST_PORT)), F::DstPort),
        (ie::POST_NAPT_SOURCE_TRANSPORT_PORT, 2) => {
            (Op::U16(u(x::POST_NAT_SRC_PORT)), F::PostNatSrcPort)
        }
        (ie::POST_NAPT_DESTINATION_TRANSPORT_PORT, 2) => {
            (Op::U16(u(x::POST_NAT_DST_PORT)), F::PostNatDstPort)
        }
        (ie::PROTOCOL_IDENTIFIER, 1) => (Op::U8(u(x::PROTOCOL)), F::Protocol),
        (ie::IP_CLASS_OF_SERVICE, 1) => (Op::U8(u(x::TOS)), F::Tos),
        (ie::TCP_CONTROL_BITS, 2) => (Op::U16(u(x::TCP_FLAGS)), F::TcpFlags),
        (ie::TCP_CONTROL_BITS, 1) => (Op::U16From1(u(x::TCP_FLAGS)), F::TcpFlags),
        (ie::OCTET_DELTA_COUNT, 8) => (Op::U64(u(x::OCTETS)), F::Octets),
        (ie::OCTET_DELTA_COUNT, 4) => (Op::U64From4(u(x::OCTETS)), F::Octets),
        (ie::OCTET_DELTA_COUNT, 1..=7) => (Op::Int(Dest::U64, u(x::OCTETS)), F::Octets),
        (ie::PACKET_DELTA_COUNT, 8) => (Op::U64(u(x::PACKETS)), F::Packets),
        (ie::PACKET_DELTA_COUNT, 4) => (Op::U64From4(u(x::PACKETS)), F::Packets),
        (ie::PACKET_DELTA_COUNT, 1..=7) => (Op::Int(Dest::U64, u(x::PACKETS)), F::Packets),
        (ie::INGRESS_INTERFACE, w) => (u32_op(w, x::IN_IF), F::InIf),
        (ie::EGRESS_INTERFACE, w) => (u32_op(w, x::OUT_IF), F::OutIf),
        (ie::BGP_SOURCE_AS_NUMBER, w) => (u32_op(w, x::SRC_AS), F::SrcAs),
        (ie::BGP_DESTINATION_AS_NUMBER, w) => (u32_op(w, x::DST_AS), F::DstAs),
        (ie::FLOW_LABEL_IPV6, w) => (u32_op(w, x::FLOW_LABEL), F::FlowLabel),
        (ie::FORWARDING_STATUS, w) => (u32_op(w, x::FORWARDING_STATUS), F::ForwardingStatus),
        (ie::SAMPLING_INTERVAL | ie::SAMPLER_RANDOM_INTERVAL, w) => {
            (u32_op(w, x::SAMPLING_INTERVAL), F::SamplingInterval)
        }
        (ie::SOURCE_IPV4_PREFIX_LENGTH | ie::SOURCE_IPV6_PREFIX_LENGTH, 1) => {
            (Op::U8(u(x::SRC_MASK)), F::SrcMask)
        }
        (ie::DESTINATION_IPV4_PREFIX_LENGTH | ie::DESTINATION_IPV6_PREFIX_LENGTH, 1) => {
            (Op::U8(u(x::DST_MASK)), F::DstMask)
        }
        (ie::FLOW_DIRECTION, 1) => (Op::U8(u(x::DIRECTION)), F::Direction),
        (ie::FLOW_END_REASON, 1) => (Op::U8(u(x::END_REASON)), F::EndReason),
        (ie::SAMPLING_ALGORITHM | ie::SAMPLER_MODE, 1) => {
            (Op::U8(u(x::SAMPLING_ALGORITHM)), F::SamplingAlgorithm)
        }
        (ie::ICMP_TYPE_IPV4 | ie::ICMP_TYPE_IPV6, 1) => (Op::U8(u(x::ICMP_TYPE)), F::IcmpType),
        (ie::ICMP_CODE_IPV4 | ie::ICMP_CODE_IPV6, 1) => (Op::U8(u(x::ICMP_CODE)), F::IcmpCode),
        (ie::ICMP_TYPE_CODE_IPV4 | ie::ICMP_TYPE_CODE_IPV6, 2) => {
            return (Op::IcmpTypeCode, F::IcmpType.mask() | F::IcmpCode.mask());
        }
        (ie::VLAN_ID | ie::DOT1Q_VLAN_ID, 2) => (Op::U16(u(x::VLAN)), F::Vlan),
        (ie::DOT1Q_CUSTOMER_VLAN_ID, 2) => (Op::U16(u(x::INNER_VLAN)), F::InnerVlan),
        (ie::SOURCE_MAC_ADDRESS, 6) => (Op::Mac(u(x::SRC_MAC)), F::SrcMac),
        (ie::DESTINATION_MAC_ADDRESS, 6) => (Op::Mac(u(x::DST_MAC)), F::DstMac),
        (ie::FLOW_START_SYS_UP_TIME, 1..=4) => (Op::Uptime(u(x::START)), F::Start),
        (ie::FLOW_END_SYS_UP_TIME, 1..=4) => (Op::Uptime(u(x::END)), F::End),
        (ie::FLOW_START_MILLISECONDS, 8) => (Op::Millis(u(x::START)), F::Start),
        (ie::FLOW_END_MILLISECONDS, 8) => (Op::Millis(u(x::END)), F::End),
        (ie::FLOW_START_SECONDS, 4) => (Op::Secs(u(x::START)), F::Start),
        (ie::FLOW_END_SECONDS, 4) => (Op::Secs(u(x::END)), F::End),
        _ => return (Op::General, 0),
    };
    match op {
        (Op::General, _) => (Op::General, 0),
        (op, f) => (op, f.mask()),
    }
}

/// The op of an unsigned32 field `w` octets wide.
fn u32_op(w: u16, slot: usize) -> Op {
    let i = slot as u8;
    match w {
        4 => Op::U32(i),
        2 => Op::U32From2(i),
        1 => Op::U32From1(i),
        3 => Op::Int(Dest::U32, i),
        _ => Op::General,
    }
}

/// A big-endian unsigned integer of up to 8 octets.
#[inline(always)]
fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

impl RecordPlan {
    /// Compiles a template's fields. Unknown elements decode as octet arrays (their bytes are
    /// kept); element types come from `registry`, so run-time registrations (RFC 5610,
    /// vendor tables) take effect.
    pub fn compile(fields: &[PlanField], registry: &Registry) -> Self {
        Self::compile_typed(fields.iter().map(|f| (*f, registry.data_type(f.field))))
    }

    /// Compiles fields whose data types the codec already resolved (a NetFlow v9 template
    /// keeps them in its field specs).
    pub fn compile_typed(fields: impl IntoIterator<Item = (PlanField, DataType)>) -> Self {
        let fields: Vec<(PlanField, DataType)> = fields.into_iter().collect();
        let has = |id: FieldId| fields.iter().any(|(f, _)| f.field == id);
        let dual: Vec<bool> = fields
            .iter()
            .map(|(f, _)| other_family(f.field).is_some_and(has))
            .collect();
        let fields = fields.iter().copied().zip(dual);
        let mut steps = Vec::with_capacity(fields.size_hint().0);
        let mut fixed = Some(0usize);
        let mut min_len = 0usize;
        let mut needs_finish = false;
        // The typed fields some earlier step may fill: a later step for one of them is a
        // repeated element, which the general path sends to the extras when the field is
        // taken (mapping::apply's rule), and so cannot be a plain store.
        let mut claimed = Targets::NONE;
        for ((f, data_type), zero_to_extra) in fields {
            let offset = fixed.map_or(u32::MAX, |o| u32::try_from(o).unwrap_or(u32::MAX));
            let targets = mapping::targets(f.field);
            let repeated = targets.intersects(claimed);
            claimed = claimed.union(targets);
            let (op, bit) = if f.length == VARIABLE_LENGTH || repeated || zero_to_extra {
                // Repeated elements, and address fields whose zeros may be the unused family,
                // take the general path, which knows where such values go.
                (Op::General, 0)
            } else {
                op_for(f.field, f.length)
            };
            if op == Op::General {
                needs_finish = true;
            }
            if f.length == VARIABLE_LENGTH {
                fixed = None;
                min_len += 1;
            } else {
                fixed = fixed.map(|n| n + usize::from(f.length));
                min_len += usize::from(f.length);
            }
            steps.push(Step {
                op,
                bit,
                field: f.field,
                data_type,
                length: f.length,
                offset,
                zero_to_extra,
            });
        }
        let mut fast = Vec::new();
        let mut general = Vec::new();
        let (mut mask, mut v6_set, mut v6_clear) = (0u64, 0u8, 0u8);
        if fixed.is_some() {
            for (i, s) in steps.iter().enumerate() {
                let i = u16::try_from(i).unwrap_or(u16::MAX);
                let offset = u16::try_from(s.offset).unwrap_or(u16::MAX);
                match s.op {
                    // sysUpTime times go to the extras, in template order, when the context
                    // cannot convert them: they run with the general steps.
                    Op::General | Op::Uptime(_) => general.push(i),
                    op => {
                        fast.push((op, offset, i));
                        mask |= s.bit;
                        match op {
                            Op::Addr4(slot) => v6_clear |= 1 << slot,
                            Op::Addr6(slot) => v6_set |= 1 << slot,
                            _ => {}
                        }
                    }
                }
            }
            fast.sort_by_key(|(op, ..)| op_order(*op));
        }
        RecordPlan {
            steps: steps.into_boxed_slice(),
            fast: fast
                .into_iter()
                .map(|(op, off, i)| (fast_of(op), off, i))
                .collect(),
            general: general.into_boxed_slice(),
            mask,
            v6_set,
            v6_clear,
            fixed_len: fixed,
            min_len,
            needs_finish,
        }
    }

    /// Heap bytes held (for template-state accounting).
    pub fn heap_bytes(&self) -> usize {
        self.steps.len() * core::mem::size_of::<Step>()
            + self.fast.len() * core::mem::size_of::<(Fast, u16, u16)>()
            + self.general.len() * 2
    }

    /// The record length when every field has a fixed length.
    pub fn fixed_len(&self) -> Option<usize> {
        self.fixed_len
    }

    /// The shortest a record can be (variable-length fields count one prefix octet).
    pub fn min_len(&self) -> usize {
        self.min_len
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the plan has no fields.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Decodes one record from the start of `bytes` into `out` (fields are set, existing ones
    /// overwritten; call [`FlowRecord::clear`] first to reuse a record) and returns how many
    /// octets it used. Allocates nothing unless a field ends up in `extra`.
    pub fn decode(
        &self,
        bytes: &[u8],
        time: &TimeContext,
        out: &mut FlowRecord,
    ) -> Result<usize, PlanError> {
        if let Some(n) = self.fixed_len
            && let Some(record) = bytes.get(..n)
        {
            // Every field's place is known: the record's length was checked once, the
            // presence bits of all typed fields go in with one store, then one store each.
            out.present |= self.mask;
            out.v6 = (out.v6 & !self.v6_clear) | self.v6_set;
            for &(f, offset, step) in self.fast.iter() {
                if f == Fast::Other {
                    let start = usize::from(offset);
                    if let Some(s) = self.steps.get(usize::from(step))
                        && let Some(d) = record.get(start..start + usize::from(s.length))
                    {
                        exec(s.op, s, d, time, out);
                    }
                } else {
                    run_fast(f, record, usize::from(offset), out);
                }
            }
            for &i in self.general.iter() {
                if let Some(step) = self.steps.get(usize::from(i)) {
                    let start = step.offset as usize;
                    let d = record
                        .get(start..start + usize::from(step.length))
                        .unwrap_or_default();
                    exec(step.op, step, d, time, out);
                }
            }
            if self.needs_finish {
                mapping::finish(out);
            }
            return Ok(n);
        }
        let mut pos = 0usize;
        for step in self.steps.iter() {
            let rest = bytes.get(pos..).unwrap_or_default();
            let (len, start) = if step.length == VARIABLE_LENGTH {
                varlen(rest, step.field, pos)?
            } else {
                (usize::from(step.length), 0)
            };
            let Some(data) = rest.get(start..start + len) else {
                return Err(PlanError::Truncated {
                    field: step.field,
                    offset: pos,
                    needed: start + len,
                    available: rest.len(),
                });
            };
            pos += start + len;
            match step.op {
                Op::General => general(step, data, time, out),
                op => {
                    if !matches!(op, Op::Uptime(_)) {
                        out.present |= step.bit;
                    }
                    match op {
                        Op::Addr4(slot) => out.v6 &= !(1 << slot),
                        Op::Addr6(slot) => out.v6 |= 1 << slot,
                        _ => {}
                    }
                    exec(op, step, data, time, out);
                }
            }
        }
        if self.needs_finish {
            mapping::finish(out);
        }
        Ok(pos)
    }
}

/// A fast op with its destination named, for fixed-length templates: the per-record loop is
/// a jump per field to a store of a constant width at a constant place (no index or width
/// checks; one bounds check of the record slice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fast {
    Protocol8,
    Tos8,
    SrcMask8,
    DstMask8,
    IcmpType8,
    IcmpCode8,
    Direction8,
    EndReason8,
    SamplingAlgorithm8,
    SrcPort16,
    SrcPort16From1,
    DstPort16,
    DstPort16From1,
    TcpFlags16,
    TcpFlags16From1,
    Vlan16,
    Vlan16From1,
    InnerVlan16,
    InnerVlan16From1,
    PostNatSrcPort16,
    PostNatSrcPort16From1,
    PostNatDstPort16,
    PostNatDstPort16From1,
    InIf32,
    InIf32From2,
    InIf32From1,
    OutIf32,
    OutIf32From2,
    OutIf32From1,
    SrcAs32,
    SrcAs32From2,
    SrcAs32From1,
    DstAs32,
    DstAs32From2,
    DstAs32From1,
    FlowLabel32,
    FlowLabel32From2,
    FlowLabel32From1,
    ForwardingStatus32,
    ForwardingStatus32From2,
    ForwardingStatus32From1,
    SamplingInterval32,
    SamplingInterval32From2,
    SamplingInterval32From1,
    Octets64,
    Octets64From4,
    Packets64,
    Packets64From4,
    SrcV4,
    SrcV6,
    DstV4,
    DstV6,
    NextHopV4,
    NextHopV6,
    BgpNextHopV4,
    BgpNextHopV6,
    PostNatSrcV4,
    PostNatSrcV6,
    PostNatDstV4,
    PostNatDstV6,
    SrcMac,
    DstMac,
    StartMillis,
    StartSecs,
    EndMillis,
    EndSecs,
    IcmpTypeCode,
    /// Anything else a fast op does (other widths): through [`exec`].
    Other,
}

/// The named fast op of an indexed one.
fn fast_of(op: Op) -> Fast {
    match op {
        Op::U8(i) if i == slot::PROTOCOL as u8 => Fast::Protocol8,
        Op::U8(i) if i == slot::TOS as u8 => Fast::Tos8,
        Op::U8(i) if i == slot::SRC_MASK as u8 => Fast::SrcMask8,
        Op::U8(i) if i == slot::DST_MASK as u8 => Fast::DstMask8,
        Op::U8(i) if i == slot::ICMP_TYPE as u8 => Fast::IcmpType8,
        Op::U8(i) if i == slot::ICMP_CODE as u8 => Fast::IcmpCode8,
        Op::U8(i) if i == slot::DIRECTION as u8 => Fast::Direction8,
        Op::U8(i) if i == slot::END_REASON as u8 => Fast::EndReason8,
        Op::U8(i) if i == slot::SAMPLING_ALGORITHM as u8 => Fast::SamplingAlgorithm8,
        Op::U16(i) if i == slot::SRC_PORT as u8 => Fast::SrcPort16,
        Op::U16From1(i) if i == slot::SRC_PORT as u8 => Fast::SrcPort16From1,
        Op::U16(i) if i == slot::DST_PORT as u8 => Fast::DstPort16,
        Op::U16From1(i) if i == slot::DST_PORT as u8 => Fast::DstPort16From1,
        Op::U16(i) if i == slot::TCP_FLAGS as u8 => Fast::TcpFlags16,
        Op::U16From1(i) if i == slot::TCP_FLAGS as u8 => Fast::TcpFlags16From1,
        Op::U16(i) if i == slot::VLAN as u8 => Fast::Vlan16,
        Op::U16From1(i) if i == slot::VLAN as u8 => Fast::Vlan16From1,
        Op::U16(i) if i == slot::INNER_VLAN as u8 => Fast::InnerVlan16,
        Op::U16From1(i) if i == slot::INNER_VLAN as u8 => Fast::InnerVlan16From1,
        Op::U16(i) if i == slot::POST_NAT_SRC_PORT as u8 => Fast::PostNatSrcPort16,
        Op::U16From1(i) if i == slot::POST_NAT_SRC_PORT as u8 => Fast::PostNatSrcPort16From1,
        Op::U16(i) if i == slot::POST_NAT_DST_PORT as u8 => Fast::PostNatDstPort16,
        Op::U16From1(i) if i == slot::POST_NAT_DST_PORT as u8 => Fast::PostNatDstPort16From1,
        Op::U32(i) if i == slot::IN_IF as u8 => Fast::InIf32,
        Op::U32From2(i) if i == slot::IN_IF as u8 => Fast::InIf32From2,
        Op::U32From1(i) if i == slot::IN_IF as u8 => Fast::InIf32From1,
        Op::U32(i) if i == slot::OUT_IF as u8 => Fast::OutIf32,
        Op::U32From2(i) if i == slot::OUT_IF as u8 => Fast::OutIf32From2,
        Op::U32From1(i) if i == slot::OUT_IF as u8 => Fast::OutIf32From1,
        Op::U32(i) if i == slot::SRC_AS as u8 => Fast::SrcAs32,
        Op::U32From2(i) if i == slot::SRC_AS as u8 => Fast::SrcAs32From2,
        Op::U32From1(i) if i == slot::SRC_AS as u8 => Fast::SrcAs32From1,
        Op::U32(i) if i == slot::DST_AS as u8 => Fast::DstAs32,
        Op::U32From2(i) if i == slot::DST_AS as u8 => Fast::DstAs32From2,
        Op::U32From1(i) if i == slot::DST_AS as u8 => Fast::DstAs32From1,
        Op::U32(i) if i == slot::FLOW_LABEL as u8 => Fast::FlowLabel32,
        Op::U32From2(i) if i == slot::FLOW_LABEL as u8 => Fast::FlowLabel32From2,
        Op::U32From1(i) if i == slot::FLOW_LABEL as u8 => Fast::FlowLabel32From1,
        Op::U32(i) if i == slot::FORWARDING_STATUS as u8 => Fast::ForwardingStatus32,
        Op::U32From2(i) if i == slot::FORWARDING_STATUS as u8 => Fast::ForwardingStatus32From2,
        Op::U32From1(i) if i == slot::FORWARDING_STATUS as u8 => Fast::ForwardingStatus32From1,
        Op::U32(i) if i == slot::SAMPLING_INTERVAL as u8 => Fast::SamplingInterval32,
        Op::U32From2(i) if i == slot::SAMPLING_INTERVAL as u8 => Fast::SamplingInterval32From2,
        Op::U32From1(i) if i == slot::SAMPLING_INTERVAL as u8 => Fast::SamplingInterval32From1,
        Op::U64(i) if i == slot::OCTETS as u8 => Fast::Octets64,
        Op::U64From4(i) if i == slot::OCTETS as u8 => Fast::Octets64From4,
        Op::U64(i) if i == slot::PACKETS as u8 => Fast::Packets64,
        Op::U64From4(i) if i == slot::PACKETS as u8 => Fast::Packets64From4,
        Op::Addr4(i) if i == slot::SRC as u8 => Fast::SrcV4,
        Op::Addr6(i) if i == slot::SRC as u8 => Fast::SrcV6,
        Op::Addr4(i) if i == slot::DST as u8 => Fast::DstV4,
        Op::Addr6(i) if i == slot::DST as u8 => Fast::DstV6,
        Op::Addr4(i) if i == slot::NEXT_HOP as u8 => Fast::NextHopV4,
        Op::Addr6(i) if i == slot::NEXT_HOP as u8 => Fast::NextHopV6,
        Op::Addr4(i) if i == slot::BGP_NEXT_HOP as u8 => Fast::BgpNextHopV4,
        Op::Addr6(i) if i == slot::BGP_NEXT_HOP as u8 => Fast::BgpNextHopV6,
        Op::Addr4(i) if i == slot::POST_NAT_SRC as u8 => Fast::PostNatSrcV4,
        Op::Addr6(i) if i == slot::POST_NAT_SRC as u8 => Fast::PostNatSrcV6,
        Op::Addr4(i) if i == slot::POST_NAT_DST as u8 => Fast::PostNatDstV4,
        Op::Addr6(i) if i == slot::POST_NAT_DST as u8 => Fast::PostNatDstV6,
        Op::Mac(i) if i == slot::SRC_MAC as u8 => Fast::SrcMac,
        Op::Mac(i) if i == slot::DST_MAC as u8 => Fast::DstMac,
        Op::Millis(i) if i == slot::START as u8 => Fast::StartMillis,
        Op::Secs(i) if i == slot::START as u8 => Fast::StartSecs,
        Op::Millis(i) if i == slot::END as u8 => Fast::EndMillis,
        Op::Secs(i) if i == slot::END as u8 => Fast::EndSecs,
        Op::IcmpTypeCode => Fast::IcmpTypeCode,
        _ => Fast::Other,
    }
}

/// `N` octets at `off` of `rec`.
#[inline(always)]
fn read<const N: usize>(rec: &[u8], off: usize) -> Option<[u8; N]> {
    rec.get(off..)?.first_chunk::<N>().copied()
}

/// dateTimeMilliseconds to Unix nanoseconds, saturating past year 2262.
#[inline(always)]
fn millis_to_nanos(ms: u64) -> i64 {
    crate::Timestamp::from_unix_millis_u64(ms).unix_nanos()
}

/// Runs a named fast op on the record bytes `rec` at `off`.
#[inline(always)]
fn run_fast(f: Fast, rec: &[u8], off: usize, r: &mut FlowRecord) {
    match f {
        Fast::Protocol8 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u8s[slot::PROTOCOL] = b[0];
            }
        }
        Fast::Tos8 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u8s[slot::TOS] = b[0];
            }
        }
        Fast::SrcMask8 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u8s[slot::SRC_MASK] = b[0];
            }
        }
        Fast::DstMask8 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u8s[slot::DST_MASK] = b[0];
            }
        }
        Fast::IcmpType8 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u8s[slot::ICMP_TYPE] = b[0];
            }
        }
        Fast::IcmpCode8 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u8s[slot::ICMP_CODE] = b[0];
            }
        }
        Fast::Direction8 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u8s[slot::DIRECTION] = b[0];
            }
        }
        Fast::EndReason8 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u8s[slot::END_REASON] = b[0];
            }
        }
        Fast::SamplingAlgorithm8 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u8s[slot::SAMPLING_ALGORITHM] = b[0];
            }
        }
        Fast::SrcPort16 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u16s[slot::SRC_PORT] = u16::from_be_bytes(b);
            }
        }
        Fast::SrcPort16From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u16s[slot::SRC_PORT] = u16::from(b[0]);
            }
        }
        Fast::DstPort16 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u16s[slot::DST_PORT] = u16::from_be_bytes(b);
            }
        }
        Fast::DstPort16From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u16s[slot::DST_PORT] = u16::from(b[0]);
            }
        }
        Fast::TcpFlags16 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u16s[slot::TCP_FLAGS] = u16::from_be_bytes(b);
            }
        }
        Fast::TcpFlags16From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u16s[slot::TCP_FLAGS] = u16::from(b[0]);
            }
        }
        Fast::Vlan16 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u16s[slot::VLAN] = u16::from_be_bytes(b);
            }
        }
        Fast::Vlan16From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u16s[slot::VLAN] = u16::from(b[0]);
            }
        }
        Fast::InnerVlan16 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u16s[slot::INNER_VLAN] = u16::from_be_bytes(b);
            }
        }
        Fast::InnerVlan16From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u16s[slot::INNER_VLAN] = u16::from(b[0]);
            }
        }
        Fast::PostNatSrcPort16 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u16s[slot::POST_NAT_SRC_PORT] = u16::from_be_bytes(b);
            }
        }
        Fast::PostNatSrcPort16From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u16s[slot::POST_NAT_SRC_PORT] = u16::from(b[0]);
            }
        }
        Fast::PostNatDstPort16 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u16s[slot::POST_NAT_DST_PORT] = u16::from_be_bytes(b);
            }
        }
        Fast::PostNatDstPort16From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u16s[slot::POST_NAT_DST_PORT] = u16::from(b[0]);
            }
        }
        Fast::InIf32 => {
            if let Some(b) = read::<4>(rec, off) {
                r.u32s[slot::IN_IF] = u32::from_be_bytes(b);
            }
        }
        Fast::InIf32From2 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u32s[slot::IN_IF] = u32::from(u16::from_be_bytes(b));
            }
        }
        Fast::InIf32From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u32s[slot::IN_IF] = u32::from(b[0]);
            }
        }
        Fast::OutIf32 => {
            if let Some(b) = read::<4>(rec, off) {
                r.u32s[slot::OUT_IF] = u32::from_be_bytes(b);
            }
        }
        Fast::OutIf32From2 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u32s[slot::OUT_IF] = u32::from(u16::from_be_bytes(b));
            }
        }
        Fast::OutIf32From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u32s[slot::OUT_IF] = u32::from(b[0]);
            }
        }
        Fast::SrcAs32 => {
            if let Some(b) = read::<4>(rec, off) {
                r.u32s[slot::SRC_AS] = u32::from_be_bytes(b);
            }
        }
        Fast::SrcAs32From2 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u32s[slot::SRC_AS] = u32::from(u16::from_be_bytes(b));
            }
        }
        Fast::SrcAs32From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u32s[slot::SRC_AS] = u32::from(b[0]);
            }
        }
        Fast::DstAs32 => {
            if let Some(b) = read::<4>(rec, off) {
                r.u32s[slot::DST_AS] = u32::from_be_bytes(b);
            }
        }
        Fast::DstAs32From2 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u32s[slot::DST_AS] = u32::from(u16::from_be_bytes(b));
            }
        }
        Fast::DstAs32From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u32s[slot::DST_AS] = u32::from(b[0]);
            }
        }
        Fast::FlowLabel32 => {
            if let Some(b) = read::<4>(rec, off) {
                r.u32s[slot::FLOW_LABEL] = u32::from_be_bytes(b);
            }
        }
        Fast::FlowLabel32From2 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u32s[slot::FLOW_LABEL] = u32::from(u16::from_be_bytes(b));
            }
        }
        Fast::FlowLabel32From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u32s[slot::FLOW_LABEL] = u32::from(b[0]);
            }
        }
        Fast::ForwardingStatus32 => {
            if let Some(b) = read::<4>(rec, off) {
                r.u32s[slot::FORWARDING_STATUS] = u32::from_be_bytes(b);
            }
        }
        Fast::ForwardingStatus32From2 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u32s[slot::FORWARDING_STATUS] = u32::from(u16::from_be_bytes(b));
            }
        }
        Fast::ForwardingStatus32From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u32s[slot::FORWARDING_STATUS] = u32::from(b[0]);
            }
        }
        Fast::SamplingInterval32 => {
            if let Some(b) = read::<4>(rec, off) {
                r.u32s[slot::SAMPLING_INTERVAL] = u32::from_be_bytes(b);
            }
        }
        Fast::SamplingInterval32From2 => {
            if let Some(b) = read::<2>(rec, off) {
                r.u32s[slot::SAMPLING_INTERVAL] = u32::from(u16::from_be_bytes(b));
            }
        }
        Fast::SamplingInterval32From1 => {
            if let Some(b) = read::<1>(rec, off) {
                r.u32s[slot::SAMPLING_INTERVAL] = u32::from(b[0]);
            }
        }
        Fast::Octets64 => {
            if let Some(b) = read::<8>(rec, off) {
                r.u64s[slot::OCTETS] = u64::from_be_bytes(b);
            }
        }
        Fast::Octets64From4 => {
            if let Some(b) = read::<4>(rec, off) {
                r.u64s[slot::OCTETS] = u64::from(u32::from_be_bytes(b));
            }
        }
        Fast::Packets64 => {
            if let Some(b) = read::<8>(rec, off) {
                r.u64s[slot::PACKETS] = u64::from_be_bytes(b);
            }
        }
        Fast::Packets64From4 => {
            if let Some(b) = read::<4>(rec, off) {
                r.u64s[slot::PACKETS] = u64::from(u32::from_be_bytes(b));
            }
        }
        Fast::SrcV4 => {
            if let Some(b) = read::<4>(rec, off)
                && let Some(a) = r.addrs[slot::SRC].first_chunk_mut::<4>()
            {
                *a = b;
            }
        }
        Fast::SrcV6 => {
            if let Some(b) = read::<16>(rec, off) {
                r.addrs[slot::SRC] = b;
            }
        }
        Fast::DstV4 => {
            if let Some(b) = read::<4>(rec, off)
                && let Some(a) = r.addrs[slot::DST].first_chunk_mut::<4>()
            {
                *a = b;
            }
        }
        Fast::DstV6 => {
            if let Some(b) = read::<16>(rec, off) {
                r.addrs[slot::DST] = b;
            }
        }
        Fast::NextHopV4 => {
            if let Some(b) = read::<4>(rec, off)
                && let Some(a) = r.addrs[slot::NEXT_HOP].first_chunk_mut::<4>()
            {
                *a = b;
            }
        }
        Fast::NextHopV6 => {
            if let Some(b) = read::<16>(rec, off) {
                r.addrs[slot::NEXT_HOP] = b;
            }
        }
        Fast::BgpNextHopV4 => {
            if let Some(b) = read::<4>(rec, off)
                && let Some(a) = r.addrs[slot::BGP_NEXT_HOP].first_chunk_mut::<4>()
            {
                *a = b;
            }
        }
        Fast::BgpNextHopV6 => {
            if let Some(b) = read::<16>(rec, off) {
                r.addrs[slot::BGP_NEXT_HOP] = b;
            }
        }
        Fast::PostNatSrcV4 => {
            if let Some(b) = read::<4>(rec, off)
                && let Some(a) = r.addrs[slot::POST_NAT_SRC].first_chunk_mut::<4>()
            {
                *a = b;
            }
        }
        Fast::PostNatSrcV6 => {
            if let Some(b) = read::<16>(rec, off) {
                r.addrs[slot::POST_NAT_SRC] = b;
            }
        }
        Fast::PostNatDstV4 => {
            if let Some(b) = read::<4>(rec, off)
                && let Some(a) = r.addrs[slot::POST_NAT_DST].first_chunk_mut::<4>()
            {
                *a = b;
            }
        }
        Fast::PostNatDstV6 => {
            if let Some(b) = read::<16>(rec, off) {
                r.addrs[slot::POST_NAT_DST] = b;
            }
        }
        Fast::SrcMac => {
            if let Some(b) = read::<6>(rec, off) {
                r.macs[slot::SRC_MAC] = b;
            }
        }
        Fast::DstMac => {
            if let Some(b) = read::<6>(rec, off) {
                r.macs[slot::DST_MAC] = b;
            }
        }
        Fast::StartMillis => {
            if let Some(b) = read::<8>(rec, off) {
                r.times[slot::START] = millis_to_nanos(u64::from_be_bytes(b));
            }
        }
        Fast::StartSecs => {
            if let Some(b) = read::<4>(rec, off) {
                r.times[slot::START] = i64::from(u32::from_be_bytes(b)) * 1_000_000_000;
            }
        }
        Fast::EndMillis => {
            if let Some(b) = read::<8>(rec, off) {
                r.times[slot::END] = millis_to_nanos(u64::from_be_bytes(b));
            }
        }
        Fast::EndSecs => {
            if let Some(b) = read::<4>(rec, off) {
                r.times[slot::END] = i64::from(u32::from_be_bytes(b)) * 1_000_000_000;
            }
        }
        Fast::IcmpTypeCode => {
            if let Some(b) = read::<2>(rec, off) {
                r.u8s[slot::ICMP_TYPE] = b[0];
                r.u8s[slot::ICMP_CODE] = b[1];
            }
        }
        Fast::Other => {}
    }
}

/// The order fast ops run in: grouped by kind, so the dispatch repeats.
fn op_order(op: Op) -> u8 {
    match op {
        Op::U8(_) => 0,
        Op::U16(_) => 1,
        Op::U16From1(_) => 2,
        Op::U32(_) => 3,
        Op::U32From2(_) => 4,
        Op::U32From1(_) => 5,
        Op::U64(_) => 6,
        Op::U64From4(_) => 7,
        Op::Int(..) => 8,
        Op::Addr4(_) => 9,
        Op::Addr6(_) => 10,
        Op::Mac(_) => 11,
        Op::Millis(_) => 12,
        Op::Secs(_) => 13,
        Op::Uptime(_) => 14,
        Op::IcmpTypeCode => 15,
        Op::General => 16,
    }
}

/// Reads an RFC 7011 §7 variable-length prefix: one octet, or 255 and two more.
fn varlen(rest: &[u8], field: FieldId, pos: usize) -> Result<(usize, usize), PlanError> {
    match rest {
        [255, hi, lo, ..] => Ok((usize::from(u16::from_be_bytes([*hi, *lo])), 3)),
        [255, ..] => Err(PlanError::Truncated {
            field,
            offset: pos,
            needed: 3,
            available: rest.len(),
        }),
        [n, ..] => Ok((usize::from(*n), 1)),
        [] => Err(PlanError::Truncated {
            field,
            offset: pos,
            needed: 1,
            available: 0,
        }),
    }
}

/// Stores `v` at `i` of `arr` (an index the plan chose among the array's own).
#[inline(always)]
fn put<T, const N: usize>(arr: &mut [T; N], i: u8, v: T) {
    if let Some(slot) = arr.get_mut(usize::from(i)) {
        *slot = v;
    }
}

/// Runs a fast op on its field's octets `d` (exactly the template's length, which the op was
/// chosen for). The presence bit is set by the caller, except for sysUpTime times.
#[inline(always)]
fn exec(op: Op, step: &Step, d: &[u8], time: &TimeContext, r: &mut FlowRecord) {
    match op {
        Op::U8(i) => {
            if let Some(&[a]) = d.first_chunk::<1>() {
                put(&mut r.u8s, i, a);
            }
        }
        Op::U16(i) => {
            if let Some(b) = d.first_chunk::<2>() {
                put(&mut r.u16s, i, u16::from_be_bytes(*b));
            }
        }
        Op::U16From1(i) => {
            if let Some(&[a]) = d.first_chunk::<1>() {
                put(&mut r.u16s, i, u16::from(a));
            }
        }
        Op::U32(i) => {
            if let Some(b) = d.first_chunk::<4>() {
                put(&mut r.u32s, i, u32::from_be_bytes(*b));
            }
        }
        Op::U32From2(i) => {
            if let Some(b) = d.first_chunk::<2>() {
                put(&mut r.u32s, i, u32::from(u16::from_be_bytes(*b)));
            }
        }
        Op::U32From1(i) => {
            if let Some(&[a]) = d.first_chunk::<1>() {
                put(&mut r.u32s, i, u32::from(a));
            }
        }
        Op::U64(i) => {
            if let Some(b) = d.first_chunk::<8>() {
                put(&mut r.u64s, i, u64::from_be_bytes(*b));
            }
        }
        Op::U64From4(i) => {
            if let Some(b) = d.first_chunk::<4>() {
                put(&mut r.u64s, i, u64::from(u32::from_be_bytes(*b)));
            }
        }
        Op::Int(dest, i) => {
            let v = be(d);
            match dest {
                Dest::U32 => put(&mut r.u32s, i, v as u32),
                Dest::U64 => put(&mut r.u64s, i, v),
            }
        }
        Op::Addr4(i) => {
            if let (Some(a), Some(slot)) = (d.first_chunk::<4>(), r.addrs.get_mut(usize::from(i)))
                && let Some(first) = slot.first_chunk_mut::<4>()
            {
                *first = *a;
            }
        }
        Op::Addr6(i) => {
            if let Some(a) = d.first_chunk::<16>() {
                put(&mut r.addrs, i, *a);
            }
        }
        Op::Mac(i) => {
            if let Some(a) = d.first_chunk::<6>() {
                put(&mut r.macs, i, *a);
            }
        }
        Op::Millis(i) => {
            if let Some(b) = d.first_chunk::<8>() {
                let t = crate::Timestamp::from_unix_millis_u64(u64::from_be_bytes(*b));
                put(&mut r.times, i, t.unix_nanos());
            }
        }
        Op::Secs(i) => {
            if let Some(b) = d.first_chunk::<4>() {
                let secs = i64::from(u32::from_be_bytes(*b));
                put(&mut r.times, i, secs * 1_000_000_000);
            }
        }
        Op::Uptime(i) => match time.from_uptime_ms(be(d) as u32) {
            Some(t) => {
                put(&mut r.times, i, t.unix_nanos());
                r.present |= step.bit;
            }
            None => general(step, d, time, r),
        },
        Op::IcmpTypeCode => {
            if let Some(&[t, c]) = d.first_chunk::<2>() {
                put(&mut r.u8s, crate::record::slot::ICMP_TYPE as u8, t);
                put(&mut r.u8s, crate::record::slot::ICMP_CODE as u8, c);
            }
        }
        Op::General => general(step, d, time, r),
    }
}

#[cold]
fn general(step: &Step, d: &[u8], time: &TimeContext, r: &mut FlowRecord) {
    let value = decode_field(step.data_type, d);
    if step.zero_to_extra && value.as_ip().is_some_and(|a| a.is_unspecified()) {
        r.push_extra(step.field, value);
        return;
    }
    mapping::apply(r, step.field, value, time);
}

/// Decodes a field by its registered type, falling back to [`Value::decode_lenient`] for
/// lengths the type does not allow, so that no field is lost.
pub fn decode_field(data_type: DataType, bytes: &[u8]) -> Value<'_> {
    match Value::decode(data_type, bytes) {
        Ok(v) => v,
        Err(ValueError::InvalidBoolean { .. }) => Value::OctetArray(bytes),
        Err(_) => Value::decode_lenient(data_type, bytes),
    }
}

/// A value as a collector reads it back after it was written at its natural length: decoded
/// by the element's registered type (a value of another type becomes what those octets mean
/// for the element, an over-long one is kept as octets). For models of what an exporter's
/// datagrams decode to.
pub fn reread(field: FieldId, value: &Value<'_>, registry: &Registry) -> Option<OwnedValue> {
    let mut bytes = vec![0u8; value.natural_len()];
    match value.as_bytes() {
        Some(b) => bytes.copy_from_slice(b),
        None => value.emit(&mut bytes).ok()?,
    }
    Some(decode_field(registry.data_type(field), &bytes).to_owned_value())
}
