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
//! assert_eq!(record.octets, Some(1500));
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::data_type::DataType;
use crate::mapping::{self, Targets, TimeContext};
use crate::record::FlowRecord;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    SrcV4,
    DstV4,
    SrcV6,
    DstV6,
    NextHopV4,
    NextHopV6,
    BgpNextHopV4,
    BgpNextHopV6,
    SrcPort,
    DstPort,
    Protocol,
    Tos,
    TcpFlags,
    Octets,
    Packets,
    InIf,
    OutIf,
    SrcAs,
    DstAs,
    SrcMask,
    DstMask,
    Direction,
    EndReason,
    StartUptime,
    EndUptime,
    StartMillis,
    EndMillis,
    StartSecs,
    EndSecs,
    /// Any other field: decoded as a [`Value`] and applied with [`mapping::apply`].
    General,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Step {
    slot: Slot,
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
    steps: Box<[Step]>,
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

fn slot_for(field: FieldId, len: u16) -> Slot {
    if field.pen != 0 {
        return Slot::General;
    }
    let int = (1..=8).contains(&len);
    match (field.id, len) {
        (8, 4) => Slot::SrcV4,
        (12, 4) => Slot::DstV4,
        (27, 16) => Slot::SrcV6,
        (28, 16) => Slot::DstV6,
        (15, 4) => Slot::NextHopV4,
        (62, 16) => Slot::NextHopV6,
        (18, 4) => Slot::BgpNextHopV4,
        (63, 16) => Slot::BgpNextHopV6,
        (7, 1..=2) => Slot::SrcPort,
        (11, 1..=2) => Slot::DstPort,
        (4, 1) => Slot::Protocol,
        (5, 1) => Slot::Tos,
        (6, 1..=2) => Slot::TcpFlags,
        (1, _) if int => Slot::Octets,
        (2, _) if int => Slot::Packets,
        (10, 1..=4) => Slot::InIf,
        (14, 1..=4) => Slot::OutIf,
        (16, 1..=4) => Slot::SrcAs,
        (17, 1..=4) => Slot::DstAs,
        (9 | 29, 1) => Slot::SrcMask,
        (13 | 30, 1) => Slot::DstMask,
        (61, 1) => Slot::Direction,
        (136, 1) => Slot::EndReason,
        (22, 1..=4) => Slot::StartUptime,
        (21, 1..=4) => Slot::EndUptime,
        (152, 8) => Slot::StartMillis,
        (153, 8) => Slot::EndMillis,
        (150, 4) => Slot::StartSecs,
        (151, 4) => Slot::EndSecs,
        _ => Slot::General,
    }
}

#[inline(always)]
fn be(bytes: &[u8]) -> u64 {
    match *bytes {
        [a] => u64::from(a),
        [a, b] => u64::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] => u64::from(u32::from_be_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => u64::from_be_bytes([a, b, c, d, e, f, g, h]),
        _ => bytes.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)),
    }
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
            let slot = if f.length == VARIABLE_LENGTH || repeated {
                Slot::General
            } else {
                slot_for(f.field, f.length)
            };
            // Address slots whose zeros may be the unused family take the general path,
            // which knows to keep those zeros out of the slot.
            let slot = if zero_to_extra { Slot::General } else { slot };
            if slot == Slot::General {
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
                slot,
                field: f.field,
                data_type,
                length: f.length,
                offset,
                zero_to_extra,
            });
        }
        RecordPlan {
            steps: steps.into_boxed_slice(),
            fixed_len: fixed,
            min_len,
            needs_finish,
        }
    }

    /// Heap bytes held (for template-state accounting).
    pub fn heap_bytes(&self) -> usize {
        self.steps.len() * core::mem::size_of::<Step>()
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
            // Every field's place is known: one length check for the whole record.
            for step in self.steps.iter() {
                let start = step.offset as usize;
                let data = record
                    .get(start..start + usize::from(step.length))
                    .unwrap_or_default();
                fill(step, data, time, out);
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
            fill(step, data, time, out);
        }
        if self.needs_finish {
            mapping::finish(out);
        }
        Ok(pos)
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

#[inline(always)]
fn v4(d: &[u8]) -> IpAddr {
    let a: [u8; 4] = d.try_into().unwrap_or_default();
    IpAddr::V4(Ipv4Addr::from(a))
}

#[inline(always)]
fn v6(d: &[u8]) -> IpAddr {
    let a: [u8; 16] = d.try_into().unwrap_or_default();
    IpAddr::V6(Ipv6Addr::from(a))
}

#[inline(always)]
fn fill(step: &Step, d: &[u8], time: &TimeContext, r: &mut FlowRecord) {
    // Each arm's width was checked when the plan was compiled.
    match step.slot {
        Slot::SrcV4 => r.src_addr = Some(v4(d)),
        Slot::DstV4 => r.dst_addr = Some(v4(d)),
        Slot::SrcV6 => r.src_addr = Some(v6(d)),
        Slot::DstV6 => r.dst_addr = Some(v6(d)),
        Slot::NextHopV4 => r.next_hop = Some(v4(d)),
        Slot::NextHopV6 => r.next_hop = Some(v6(d)),
        Slot::BgpNextHopV4 => r.bgp_next_hop = Some(v4(d)),
        Slot::BgpNextHopV6 => r.bgp_next_hop = Some(v6(d)),
        Slot::SrcPort => r.src_port = Some(be(d) as u16),
        Slot::DstPort => r.dst_port = Some(be(d) as u16),
        Slot::Protocol => r.protocol = Some(be(d) as u8),
        Slot::Tos => r.tos = Some(be(d) as u8),
        Slot::TcpFlags => r.tcp_flags = Some(be(d) as u16),
        Slot::Octets => r.octets = Some(be(d)),
        Slot::Packets => r.packets = Some(be(d)),
        Slot::InIf => r.in_if = Some(be(d) as u32),
        Slot::OutIf => r.out_if = Some(be(d) as u32),
        Slot::SrcAs => r.src_as = Some(be(d) as u32),
        Slot::DstAs => r.dst_as = Some(be(d) as u32),
        Slot::SrcMask => r.src_mask = Some(be(d) as u8),
        Slot::DstMask => r.dst_mask = Some(be(d) as u8),
        Slot::Direction => r.direction = Some(be(d) as u8),
        Slot::EndReason => r.end_reason = Some(be(d) as u8),
        Slot::StartUptime => match time.from_uptime_ms(be(d) as u32) {
            Some(t) => r.start = Some(t),
            None => general(step, d, time, r),
        },
        Slot::EndUptime => match time.from_uptime_ms(be(d) as u32) {
            Some(t) => r.end = Some(t),
            None => general(step, d, time, r),
        },
        Slot::StartMillis => r.start = Some(crate::Timestamp::from_unix_millis_u64(be(d))),
        Slot::EndMillis => r.end = Some(crate::Timestamp::from_unix_millis_u64(be(d))),
        Slot::StartSecs => r.start = Some(crate::Timestamp::from_unix_secs(be(d) as i64)),
        Slot::EndSecs => r.end = Some(crate::Timestamp::from_unix_secs(be(d) as i64)),
        Slot::General => general(step, d, time, r),
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
