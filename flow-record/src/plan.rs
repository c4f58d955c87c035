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
    /// Fixed-length templates: the typed fields by destination, with their offsets.
    fixed: Fixed,
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
        let fixed_path = if fixed.is_some() {
            Fixed::compile(&steps)
        } else {
            Fixed::default()
        };
        RecordPlan {
            steps: steps.into_boxed_slice(),
            fixed: fixed_path,
            fixed_len: fixed,
            min_len,
            needs_finish,
        }
    }

    /// Heap bytes held (for template-state accounting).
    pub fn heap_bytes(&self) -> usize {
        self.steps.len() * core::mem::size_of::<Step>() + self.fixed.heap_bytes()
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
    #[inline]
    pub fn decode(
        &self,
        bytes: &[u8],
        time: &TimeContext,
        out: &mut FlowRecord,
    ) -> Result<usize, PlanError> {
        if let Some(n) = self.fixed_len
            && let Some(record) = bytes.get(..n)
        {
            // Every field's place is known and the record's length was checked once.
            self.fixed.run(&self.steps, bytes, record, time, out);
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

/// A typed field of a fixed-length template: where it starts in the record and the index of
/// its slot in the destination array.
type Place = (u8, u8);

/// How many octets of a record the fast path reads through a fixed-size window: a field
/// that starts in the first 256 octets is read without a bounds check (the window's size
/// proves the access), one that starts further goes through [`exec`].
const WINDOW: usize = 256 + 16;

/// The fast path of a fixed-length template: the typed fields grouped by destination width,
/// so that each group is a tight loop of one load and one store, read from a window whose
/// size the compiler knows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Fixed {
    /// The places of the groups, one after the other: 1 and 2-octet integers, 1 octet into
    /// 2, 4-octet integers, 2 octets into 4, 8-octet integers, 4 octets into 8, IPv4 and IPv6
    /// addresses, sysUpTime times (4 octets, made absolute when the time context can). A
    /// typed field has one place at most, so there are fewer than 64.
    places: Box<[Place]>,
    /// Where each group of `places` ends.
    ends: [u8; GROUPS],
    /// Step indices: every other typed field (narrower integers, MACs, wall-clock times,
    /// ICMP type and code, fields past the window; run through [`exec`]), then the general
    /// path's steps in template order without the sysUpTime times, then with them (they go
    /// there, to the extras in template order, when the context cannot convert).
    indices: Box<[u16]>,
    /// Where the other fields and the general steps without uptimes end in `indices`.
    other_end: u16,
    general_end: u16,
    /// Presence bits of the uptime group.
    uptime_mask: u64,
    /// Presence bits of every typed field but the sysUpTime times.
    mask: u64,
    /// Address slots filled with IPv6 (set) and IPv4 (cleared) addresses.
    v6_set: u8,
    v6_clear: u8,
}

const GROUPS: usize = 10;
const G_U8: usize = 0;
const G_U16: usize = 1;
const G_U16_FROM1: usize = 2;
const G_U32: usize = 3;
const G_U32_FROM2: usize = 4;
const G_U64: usize = 5;
const G_U64_FROM4: usize = 6;
const G_ADDR4: usize = 7;
const G_ADDR6: usize = 8;
const G_UPTIME: usize = 9;

impl Fixed {
    fn compile(steps: &[Step]) -> Self {
        let mut f = Fixed::default();
        let mut groups: [Vec<Place>; GROUPS] = Default::default();
        let (mut other, mut general, mut general_with_uptime) = (vec![], vec![], vec![]);
        for (i, s) in steps.iter().enumerate() {
            let i = u16::try_from(i).unwrap_or(u16::MAX);
            let place = |slot: u8| u8::try_from(s.offset).ok().map(|off| (off, slot));
            let group = match s.op {
                Op::General => {
                    general.push(i);
                    general_with_uptime.push(i);
                    continue;
                }
                Op::Uptime(slot) => {
                    general_with_uptime.push(i);
                    match place(slot) {
                        Some(p) if s.length == 4 => {
                            f.uptime_mask |= s.bit;
                            if let Some(g) = groups.get_mut(G_UPTIME) {
                                g.push(p);
                            }
                        }
                        // Narrower uptimes are rare: through exec, which makes them
                        // absolute or hands them to the general path itself.
                        _ => other.push(i),
                    }
                    continue;
                }
                Op::U8(slot) => place(slot).map(|p| (G_U8, p)),
                Op::U16(slot) => place(slot).map(|p| (G_U16, p)),
                Op::U16From1(slot) => place(slot).map(|p| (G_U16_FROM1, p)),
                Op::U32(slot) => place(slot).map(|p| (G_U32, p)),
                Op::U32From2(slot) => place(slot).map(|p| (G_U32_FROM2, p)),
                Op::U64(slot) => place(slot).map(|p| (G_U64, p)),
                Op::U64From4(slot) => place(slot).map(|p| (G_U64_FROM4, p)),
                Op::Addr4(slot) => {
                    f.v6_clear |= 1 << slot;
                    place(slot).map(|p| (G_ADDR4, p))
                }
                Op::Addr6(slot) => {
                    f.v6_set |= 1 << slot;
                    place(slot).map(|p| (G_ADDR6, p))
                }
                _ => None,
            };
            f.mask |= s.bit;
            match group.and_then(|(g, p)| Some((groups.get_mut(g)?, p))) {
                Some((g, p)) => g.push(p),
                None => other.push(i),
            }
        }
        let mut places = Vec::new();
        for (g, end) in groups.iter().zip(f.ends.iter_mut()) {
            places.extend_from_slice(g);
            *end = u8::try_from(places.len()).unwrap_or(u8::MAX);
        }
        f.places = places.into();
        f.other_end = u16::try_from(other.len()).unwrap_or(u16::MAX);
        other.extend_from_slice(&general);
        f.general_end = u16::try_from(other.len()).unwrap_or(u16::MAX);
        other.extend_from_slice(&general_with_uptime);
        f.indices = other.into();
        f
    }

    fn heap_bytes(&self) -> usize {
        self.places.len() * core::mem::size_of::<Place>() + self.indices.len() * 2
    }

    /// Decodes `record` (exactly the template's length) into `out`; `bytes` starts with the
    /// record and may go on past it.
    #[inline]
    fn run(
        &self,
        steps: &[Step],
        bytes: &[u8],
        record: &[u8],
        time: &TimeContext,
        out: &mut FlowRecord,
    ) {
        match bytes.first_chunk::<WINDOW>() {
            Some(window) => self.run_window(window, time, out),
            None => {
                // The last records of a set: their octets, zero-padded to the window.
                let mut window = [0u8; WINDOW];
                let n = record.len().min(WINDOW);
                if let (Some(to), Some(from)) = (window.get_mut(..n), record.get(..n)) {
                    to.copy_from_slice(from);
                }
                self.run_window(&window, time, out);
            }
        }
        let other = usize::from(self.other_end);
        if other > 0 {
            for &i in self.indices.get(..other).unwrap_or_default() {
                if let Some(step) = steps.get(usize::from(i)) {
                    let start = step.offset as usize;
                    if let Some(d) = record.get(start..start + usize::from(step.length)) {
                        exec(step.op, step, d, time, out);
                    }
                }
            }
        }
        if self.indices.len() > other {
            let general = usize::from(self.general_end);
            let general = if self.uptime_mask == 0 || time.can_convert_uptime() {
                self.indices.get(other..general)
            } else {
                self.indices.get(general..)
            };
            for &i in general.unwrap_or_default() {
                if let Some(step) = steps.get(usize::from(i)) {
                    let start = step.offset as usize;
                    let d = record
                        .get(start..start + usize::from(step.length))
                        .unwrap_or_default();
                    exec(step.op, step, d, time, out);
                }
            }
        }
    }

    /// The typed fields read from the window: every offset is below 256, so no read can
    /// fail, and the masks keep slot indices within their arrays. The groups are walked by
    /// index over one list (one compare per field, no slicing per group).
    #[inline(always)]
    fn run_window(&self, w: &[u8; WINDOW], time: &TimeContext, out: &mut FlowRecord) {
        let convert_uptime = self.uptime_mask != 0 && time.can_convert_uptime();
        // One read-modify-write of the presence bits per record.
        out.present |= if convert_uptime {
            self.mask | self.uptime_mask
        } else {
            self.mask
        };
        out.v6 = (out.v6 & !self.v6_clear) | self.v6_set;
        let p = &*self.places;
        let e = self.ends;
        let mut k = 0usize;
        let mut next = |g: usize| -> Option<Place> {
            let end = usize::from(*e.get(g)?);
            if k < end {
                let place = p.get(k).copied();
                k += 1;
                place
            } else {
                None
            }
        };
        while let Some((off, i)) = next(G_U8) {
            if let (Some(&b), Some(d)) = (
                w.get(usize::from(off)),
                out.u8s.get_mut(usize::from(i) & 15),
            ) {
                *d = b;
            }
        }
        while let Some((off, i)) = next(G_U16) {
            if let (Some(b), Some(d)) = (at::<2>(w, off), out.u16s.get_mut(usize::from(i) & 7)) {
                *d = u16::from_be_bytes(*b);
            }
        }
        while let Some((off, i)) = next(G_U16_FROM1) {
            if let (Some(&b), Some(d)) = (
                w.get(usize::from(off)),
                out.u16s.get_mut(usize::from(i) & 7),
            ) {
                *d = u16::from(b);
            }
        }
        while let Some((off, i)) = next(G_U32) {
            if let (Some(b), Some(d)) = (at::<4>(w, off), out.u32s.get_mut(usize::from(i) & 15)) {
                *d = u32::from_be_bytes(*b);
            }
        }
        while let Some((off, i)) = next(G_U32_FROM2) {
            if let (Some(b), Some(d)) = (at::<2>(w, off), out.u32s.get_mut(usize::from(i) & 15)) {
                *d = u32::from(u16::from_be_bytes(*b));
            }
        }
        while let Some((off, i)) = next(G_U64) {
            if let (Some(b), Some(d)) = (at::<8>(w, off), out.u64s.get_mut(usize::from(i) & 1)) {
                *d = u64::from_be_bytes(*b);
            }
        }
        while let Some((off, i)) = next(G_U64_FROM4) {
            if let (Some(b), Some(d)) = (at::<4>(w, off), out.u64s.get_mut(usize::from(i) & 1)) {
                *d = u64::from(u32::from_be_bytes(*b));
            }
        }
        while let Some((off, i)) = next(G_ADDR4) {
            if let (Some(b), Some(d)) = (at::<4>(w, off), out.addrs.get_mut(usize::from(i) & 7))
                && let Some(first) = d.first_chunk_mut::<4>()
            {
                *first = *b;
            }
        }
        while let Some((off, i)) = next(G_ADDR6) {
            if let (Some(b), Some(d)) = (at::<16>(w, off), out.addrs.get_mut(usize::from(i) & 7)) {
                *d = *b;
            }
        }
        if convert_uptime {
            while let Some((off, i)) = next(G_UPTIME) {
                if let (Some(b), Some(d)) = (at::<4>(w, off), out.times.get_mut(usize::from(i) & 3))
                    && let Some(t) = time.from_uptime_ms(u32::from_be_bytes(*b))
                {
                    *d = t.unix_nanos();
                }
            }
        }
    }
}

/// `N` octets at `off` of the window.
#[inline(always)]
fn at<const N: usize>(w: &[u8; WINDOW], off: u8) -> Option<&[u8; N]> {
    w.get(usize::from(off)..)?.first_chunk::<N>()
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
