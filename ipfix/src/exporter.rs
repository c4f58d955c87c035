//! [`Exporter`]: packs records into IPFIX messages that fit a size limit (the path MTU), with
//! sequence numbers and export times, sending templates before the data that uses them and
//! again at an interval (RFC 7011 §8.4: over UDP, templates are re-sent periodically).
//!
//! It implements the contract's [`codec::Exporter`]: `push(flow, now, out)` adds a
//! [`FlowRecord`], for which the exporter derives (and numbers) a template from the fields the
//! record has; each message that fills up is handed to `out`, and `flush(now, out)` hands out
//! the one being filled. A message's export time is the `now` of the call that hands it out.
//! Nothing is queued inside: `out` gets a borrowed buffer, reused for the next message.
//!
//! ```
//! use flowwire_ipfix::exporter::{Exporter, ExporterConfig};
//! use flowwire_ipfix::record::codec::Exporter as _;
//! use flowwire_ipfix::record::{FlowRecord, ProtocolKind, Timestamp};
//! use flowwire_ipfix::{Collect, Decoder, Session};
//!
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! let mut exporter = Exporter::new(ExporterConfig::default());
//! let mut flow = FlowRecord::new(ProtocolKind::Ipfix);
//! flow.set_src_addr(Some("192.0.2.1".parse()?));
//! flow.set_octets(Some(1500));
//! let mut messages: Vec<Vec<u8>> = Vec::new();
//! exporter.push(&flow, now, &mut |m: &[u8]| messages.push(m.to_vec()))?;
//! exporter.flush(now, &mut |m: &[u8]| messages.push(m.to_vec()))?;
//! assert_eq!(messages.len(), 1);
//! assert_eq!(exporter.stats().records, 1);
//!
//! let mut session = Session::default();
//! let mut got = Collect::default();
//! session.decode("192.0.2.9:4739".parse()?, now, &messages[0], &mut got);
//! assert_eq!(got.flows.len(), 1);
//! assert_eq!((got.flows[0].src_addr(), got.flows[0].octets()), (flow.src_addr(), Some(1500)));
//! // What a collector decodes is the record as `restrict` says, plus the message context.
//! let mut decoded = got.flows[0].clone();
//! decoded.clear_context();
//! assert_eq!(decoded, exporter.restrict(&flow, now));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it carries
//!
//! IPFIX carries every field of a [`FlowRecord`], as [`mapping::fields_into`] writes it:
//! one template per layout (which fields are present, and the address family of each
//! address), each value at its natural length.
//!
//! | `FlowRecord` field | IPFIX element |
//! |---|---|
//! | `src_addr`, `dst_addr` | sourceIPv4Address (8) / sourceIPv6Address (27), destinationIPv4Address (12) / destinationIPv6Address (28) |
//! | `src_port`, `dst_port` | sourceTransportPort (7), destinationTransportPort (11) |
//! | `protocol` | protocolIdentifier (4) |
//! | `tos` | ipClassOfService (5) |
//! | `tcp_flags` | tcpControlBits (6), 2 octets |
//! | `octets`, `packets` | octetDeltaCount (1), packetDeltaCount (2), 8 octets |
//! | `start`, `end` | by [`ExporterConfig::time_encoding`]: flowStart/EndMilliseconds (152/153, the default), flowStart/EndSeconds (150/151) or flowStart/EndNanoseconds (156/157); times the encoding cannot hold (before 1970, or 1900 for nanoseconds) are written as its zero |
//! | `in_if`, `out_if` | ingressInterface (10), egressInterface (14) |
//! | `src_as`, `dst_as` | bgpSourceAsNumber (16), bgpDestinationAsNumber (17) |
//! | `next_hop` | ipNextHopIPv4Address (15) / ipNextHopIPv6Address (62) |
//! | `bgp_next_hop` | bgpNextHopIPv4Address (18) / bgpNextHopIPv6Address (63) |
//! | `src_mask`, `dst_mask` | sourceIPv4PrefixLength (9) / sourceIPv6PrefixLength (29), destinationIPv4PrefixLength (13) / destinationIPv6PrefixLength (30), by the address's family |
//! | `vlan`, `inner_vlan` | vlanId (58), dot1qCustomerVlanId (245) |
//! | `src_mac`, `dst_mac` | sourceMacAddress (56), destinationMacAddress (80) |
//! | `icmp_type`, `icmp_code` | icmpTypeIPv4 / icmpCodeIPv4 (176/177), or icmpTypeIPv6 / icmpCodeIPv6 (178/179) for an IPv6 source or protocol 58 |
//! | `flow_label` | flowLabelIPv6 (31) |
//! | `direction` | flowDirection (61) |
//! | `end_reason` | flowEndReason (136) |
//! | `forwarding_status` | forwardingStatus (89) |
//! | `mpls_label` | not written itself: the whole label stack entry, mplsTopLabelStackSection (70), travels in `extra` (a decoded record keeps it there) and gives the label back |
//! | `post_nat_src_addr`, `post_nat_dst_addr` | postNATSourceIPv4Address (225) / postNATSourceIPv6Address (281), postNATDestinationIPv4Address (226) / postNATDestinationIPv6Address (282) |
//! | `post_nat_src_port`, `post_nat_dst_port` | postNAPTSourceTransportPort (227), postNAPTDestinationTransportPort (228) |
//! | `sampling_interval`, `sampling_algorithm` | samplingInterval (34), samplingAlgorithm (35) |
//! | `extra` | each field as its own element, in order, enterprise number included; element ids above 32767 (NetFlow v9 vendor fields) cannot be written and are left out (counted in [`ExportStats`]) or, with [`ExporterConfig::strict`], refuse the record ([`Error::NotCarried`]) |
//! | `kind`, `exporter`, `agent`, `domain`, `sequence`, `export_time` | not per record: the message header carries the configured observation domain, its own sequence number and export time |
//!
//! [`codec::Exporter::restrict`] is the record a collector decodes (less the message
//! context): the record encoded and decoded again, so times come back at the precision of
//! the time encoding, an extra element that fills a free typed field fills it, totals and
//! RFC 5477 sampling pairs in `extra` give octets, packets and the sampling interval, and
//! values decode as the registry types their element (an unknown enterprise element comes
//! back as octets, without a name). It decodes without the message's export time: extra
//! flowStart/EndDeltaMicroseconds (158/159) stay in `extra` there, while a collector turns
//! them into `start`/`end` when the record has none.
//!
//! # Templates of your own
//!
//! For records that are not flows (options data, vendor layouts), define templates with
//! [`Exporter::define`] and add records as raw values with [`Exporter::record`]; withdraw
//! them with [`Exporter::withdraw`] (for TCP, SCTP and files). Their messages come out the
//! same way, through the `out` of the call that finishes them, and they count in the same
//! [`ExportStats`].
//!
//! ```
//! use flowwire_ipfix::exporter::{Exporter, ExporterConfig};
//! use flowwire_ipfix::record::codec::Exporter as _;
//! use flowwire_ipfix::record::{Timestamp, Value};
//! use flowwire_ipfix::repr::TemplateRepr;
//! use flowwire_ipfix::wire::template::FieldSpec;
//!
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! let mut e = Exporter::new(ExporterConfig::default());
//! // Options template 300: scope exportingProcessId (144), then samplingInterval (34).
//! e.define(TemplateRepr::options(300, 1, vec![FieldSpec::iana(144, 4), FieldSpec::iana(34, 4)]))?;
//! let mut sent = Vec::new();
//! let mut out = |m: &[u8]| sent.push(m.to_vec());
//! e.record(300, &[Value::Unsigned32(1), Value::Unsigned32(100)], now, &mut out)?;
//! e.flush(now, &mut out)?;
//! assert_eq!(sent.len(), 1);
//! # Ok::<(), flowwire_ipfix::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use flowwire_record::codec::{self, ExportStats};
use flowwire_record::emit::{self, EmitTimes};
use flowwire_record::mapping::{self, TimeContext, TimeEncoding};
use flowwire_record::registry::{FieldId, Registry};
use flowwire_record::{FlowRecord, ProtocolKind, Timestamp, Value};

use crate::error::Error;
use crate::repr::{TemplateRepr, emit_field, varlen_size};
use crate::template::Template;
use crate::wire::message::{HEADER_LEN, Message, VERSION};
use crate::wire::set::{MIN_DATA_SET_ID, OPTIONS_TEMPLATE_SET_ID, SET_HEADER_LEN, TEMPLATE_SET_ID};
use crate::wire::template::{ENTERPRISE_BIT, FieldSpec, VARIABLE_LENGTH};

/// Configuration of an [`Exporter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExporterConfig {
    /// Largest message, in octets: the UDP payload (default 1400: fits a 1500-octet MTU under
    /// IPv6 and UDP). Messages never exceed 65,535 octets, IPFIX's own limit.
    pub max_datagram_len: usize,
    /// Refuse records with fields IPFIX cannot carry ([`Error::NotCarried`]) instead of
    /// sending them without (default false).
    pub strict: bool,
    /// Observation domain id of every message.
    pub observation_domain_id: u32,
    /// How often templates are sent again (default 10 minutes; collectors commonly expire
    /// them after 30).
    pub template_refresh: Duration,
    /// How start and end times of [`FlowRecord`]s are written.
    pub time_encoding: TimeEncoding,
}

impl Default for ExporterConfig {
    fn default() -> Self {
        ExporterConfig {
            max_datagram_len: 1400,
            strict: false,
            observation_domain_id: 0,
            template_refresh: Duration::from_secs(600),
            time_encoding: TimeEncoding::Milliseconds,
        }
    }
}

#[derive(Debug)]
struct Entry {
    repr: TemplateRepr,
    options: bool,
    last_sent: Option<Timestamp>,
}

/// Builds IPFIX messages from records; see the module docs.
#[derive(Debug)]
pub struct Exporter {
    config: ExporterConfig,
    stats: ExportStats,
    templates: BTreeMap<u16, Entry>,
    shapes: HashMap<Vec<FieldSpec>, u16>,
    next_id: u16,
    sequence: u32,
    /// The message being filled (allocated once at the message size, then reused).
    buf: Vec<u8>,
    /// Where planned records are written before they are appended to `buf`.
    emit_scratch: emit::EmitScratch,
    open_set: Option<(u16, usize)>,
    /// When the open data set's template falls due for a refresh (Unix nanoseconds): until
    /// then a record of it needs no template look-up.
    open_due_at: i64,
    records_in_message: u32,
    specs: Vec<FieldSpec>,
    scratch: Vec<u8>,
    registry: Registry,
    /// The template of the previous record and its field count.
    last_shape: Option<(u16, usize)>,
    /// Emit plans of the layouts seen, with their template id; emptied whenever a template
    /// is defined or withdrawn.
    plans: Vec<Planned>,
    /// Layout key to index in `plans`.
    plan_index: HashMap<u64, usize>,
    /// The plan of the previous record.
    last_plan: Option<usize>,
    /// Tests: every record through the general path.
    #[cfg(test)]
    general_only: bool,
}

/// Whether a template's fields are those a plan writes.
fn same_fields(fields: &[FieldSpec], plan: &emit::EmitPlan) -> bool {
    fields.len() == plan.steps().len()
        && fields
            .iter()
            .zip(plan.fields())
            .all(|(f, (id, len))| f.id == id && f.pen.is_none() && f.length == len)
}

/// Whether IPFIX can write an element: its id must leave the enterprise bit free.
fn carried(field: FieldId) -> bool {
    field.id & ENTERPRISE_BIT == 0
}

/// The specifier a value is written with: its natural length, or variable length.
fn spec_of(field: FieldId, v: &Value<'_>) -> FieldSpec {
    let length = if v.data_type().is_variable_length() {
        VARIABLE_LENGTH
    } else {
        u16::try_from(v.natural_len()).unwrap_or(VARIABLE_LENGTH)
    };
    FieldSpec {
        id: field.id,
        pen: (field.pen != 0).then_some(field.pen),
        length,
    }
}

/// The encoded size of a value in a field of `spec`.
fn field_size(spec: &FieldSpec, v: &Value<'_>) -> usize {
    if spec.is_variable_length() {
        varlen_size(v.natural_len())
    } else {
        usize::from(spec.length)
    }
}

/// Encodes one record's values, as `specs` say, into `buf` (cleared first). A value that does
/// not encode is the error.
fn encode_values<'v>(
    specs: &[FieldSpec],
    values: impl Iterator<Item = Value<'v>> + Clone,
    buf: &mut Vec<u8>,
) -> Result<(), Error> {
    let len: usize = specs
        .iter()
        .zip(values.clone())
        .map(|(s, v)| field_size(s, &v))
        .sum();
    buf.clear();
    buf.resize(len, 0);
    let mut pos = 0;
    for (s, v) in specs.iter().zip(values) {
        let n = field_size(s, &v);
        let Some(dst) = buf.get_mut(pos..pos + n) else {
            return Err(Error::BufferTooSmall {
                required: pos + n,
                remaining: len,
            });
        };
        emit_field(s, &v, dst)?;
        pos += n;
    }
    Ok(())
}

#[derive(Debug)]
struct Planned {
    id: u16,
    plan: emit::EmitPlan,
}

impl Exporter {
    /// An exporter with no templates.
    pub fn new(config: ExporterConfig) -> Self {
        Exporter {
            config,
            stats: ExportStats::default(),
            templates: BTreeMap::new(),
            shapes: HashMap::new(),
            next_id: MIN_DATA_SET_ID,
            sequence: 0,
            buf: Vec::new(),
            emit_scratch: emit::EmitScratch::default(),
            open_set: None,
            open_due_at: i64::MIN,
            records_in_message: 0,
            specs: Vec::new(),
            scratch: Vec::new(),
            registry: Registry::new(),
            last_shape: None,
            plans: Vec::new(),
            plan_index: HashMap::new(),
            last_plan: None,
            #[cfg(test)]
            general_only: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ExporterConfig {
        &self.config
    }

    /// The sequence number the next message will carry (data records sent so far).
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The message size limit in effect: [`ExporterConfig::max_datagram_len`], at most
    /// 65,535.
    fn limit(&self) -> usize {
        self.config.max_datagram_len.min(usize::from(u16::MAX))
    }

    /// Defines (or redefines) a template or options template (scope field count above 0);
    /// it is sent before the next record that uses it. Refused: a template the session would
    /// refuse (see [`Template::new`]), one larger than a message, element ids above 32767.
    pub fn define(&mut self, template: TemplateRepr) -> Result<(), Error> {
        let options = template.scope_field_count > 0;
        Template::new(
            template.template_id,
            options,
            template.scope_field_count,
            template.fields.iter().copied(),
            &self.registry,
            usize::from(u16::MAX),
        )
        .map_err(|problem| Error::BadTemplate {
            offset: 0,
            template_id: template.template_id,
            problem,
        })?;
        if template.buffer_len(options) + HEADER_LEN + SET_HEADER_LEN > self.limit() {
            return Err(Error::Unencodable {
                what: "template larger than a message",
            });
        }
        if template.fields.iter().any(|f| f.id & ENTERPRISE_BIT != 0) {
            return Err(Error::Unencodable {
                what: "element id above 32767",
            });
        }
        self.forget_plans();
        self.templates.insert(
            template.template_id,
            Entry {
                repr: template,
                options,
                last_sent: None,
            },
        );
        // A template redefined under the open set's id is due again: the fast path in
        // `prepare` must not append to that set.
        self.open_due_at = i64::MIN;
        Ok(())
    }

    /// Adds a record of a template defined with [`Exporter::define`]: one value per field,
    /// in order. Messages that fill up go to `out`. A refused record (an undefined template,
    /// a value count or value that does not suit it, a record larger than a message) leaves
    /// the message being filled as it was, and counts in [`ExportStats::refused`].
    pub fn record(
        &mut self,
        template_id: u16,
        values: &[Value<'_>],
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Error> {
        let r = self.encode(template_id, values.iter().copied(), now, out);
        self.count(&r, 0);
        r
    }

    fn count(&mut self, r: &Result<(), Error>, dropped: usize) {
        match r {
            Ok(()) => {
                self.stats.records += 1;
                if dropped > 0 {
                    self.stats.records_with_dropped_fields += 1;
                    self.stats.fields_dropped += dropped as u64;
                }
            }
            Err(_) => self.stats.refused += 1,
        }
    }

    fn encode<'v, I>(
        &mut self,
        template_id: u16,
        values: I,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Error>
    where
        I: ExactSizeIterator<Item = Value<'v>> + Clone,
    {
        let entry = self.templates.get(&template_id).ok_or(Error::Unencodable {
            what: "record of an undefined template",
        })?;
        if entry.repr.fields.len() != values.len() {
            return Err(Error::Unencodable {
                what: "record with a different number of values than its template",
            });
        }
        // Encoded into the scratch buffer first, so that a value that does not fit leaves the
        // message as it was; the buffer is reused, so this allocates nothing once warm.
        encode_values(&entry.repr.fields, values, &mut self.scratch)?;
        let len = self.scratch.len();
        if HEADER_LEN + SET_HEADER_LEN + len > self.limit() {
            return Err(Error::Unencodable {
                what: "record larger than a message",
            });
        }
        self.prepare(template_id, len, now, out);
        self.buf.extend_from_slice(&self.scratch);
        self.records_in_message = self.records_in_message.wrapping_add(1);
        Ok(())
    }

    /// Adds a [`FlowRecord`]: its fields (from [`mapping::fields_into`]) choose a template,
    /// defined on first use, and its values become one data record.
    ///
    /// A record without extra fields takes the fast path: its [`emit::layout_key`] finds the
    /// template and its compiled [`emit::EmitPlan`], which writes the values straight into the
    /// message buffer; nothing is allocated per record. The bytes are those of the general
    /// path. Returns how many fields were left out.
    fn push_flow(
        &mut self,
        record: &FlowRecord,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<usize, Error> {
        let key = emit::layout_key(record);
        if key == 0 {
            return Err(Error::Unencodable {
                what: "record without fields",
            });
        }
        if key & emit::EXTRA_BIT == 0 && !self.general_only() {
            return self.flow_planned(key, record, now, out).map(|()| 0);
        }
        let dropped = record.extra.iter().filter(|e| !carried(e.field)).count();
        if dropped > 0 && self.config.strict {
            return Err(Error::NotCarried {
                what: "element ids above 32767 (NetFlow v9 vendor fields)",
            });
        }
        self.flow_general(record, now, out).map(|()| dropped)
    }

    #[cfg(test)]
    fn general_only(&self) -> bool {
        self.general_only
    }

    #[cfg(not(test))]
    fn general_only(&self) -> bool {
        false
    }

    fn flow_planned(
        &mut self,
        key: u64,
        record: &FlowRecord,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Error> {
        let slot = match self
            .last_plan
            .filter(|&i| self.plans.get(i).is_some_and(|p| p.plan.key() == key))
        {
            Some(i) => i,
            None => match self.plan_index.get(&key) {
                Some(&i) => i,
                None => match self.add_plan(key)? {
                    Some(i) => i,
                    // The shape's template was redefined by hand: the general path decides.
                    None => return self.flow_general(record, now, out),
                },
            },
        };
        self.last_plan = Some(slot);
        let Some(p) = self.plans.get(slot) else {
            return Err(Error::Unencodable {
                what: "emit plan cache out of step",
            });
        };
        let (mut id, len, n_fields) = (p.id, p.plan.record_len(), p.plan.steps().len());
        // As the general path: the previous record's template wins when its fields are the
        // same (only differs from the plan's when templates were defined by hand).
        if let Some((last, n)) = self.last_shape
            && last != id
            && n == n_fields
            && self
                .templates
                .get(&last)
                .is_some_and(|e| same_fields(&e.repr.fields, &p.plan))
        {
            id = last;
        }
        self.last_shape = Some((id, n_fields));
        if HEADER_LEN + SET_HEADER_LEN + len > self.limit() {
            return Err(Error::Unencodable {
                what: "record larger than a message",
            });
        }
        self.prepare(id, len, now, out);
        let written = self.plans.get(slot).is_some_and(|p| {
            p.plan
                .append_with(record, &mut self.buf, &mut self.emit_scratch)
                .is_ok()
        });
        if !written {
            return Err(Error::Unencodable {
                what: "record does not match its emit plan",
            });
        }
        self.records_in_message = self.records_in_message.wrapping_add(1);
        Ok(())
    }

    /// Compiles the plan of a layout key and finds (or defines) its template, as the general
    /// path would. `None` when that template's fields are not the plan's.
    fn add_plan(&mut self, key: u64) -> Result<Option<usize>, Error> {
        let plan = emit::EmitPlan::compile(key, EmitTimes::Absolute(self.config.time_encoding))
            .ok_or(Error::Unencodable {
                what: "record with extra fields has no emit plan",
            })?;
        self.specs.clear();
        self.specs
            .extend(plan.fields().map(|(id, length)| FieldSpec {
                id,
                pen: None,
                length,
            }));
        // Defining a template empties the plan cache: push after it.
        let id = self.template_for_specs()?;
        // Cached only where the general path would find this template again by its shape.
        if !self
            .templates
            .get(&id)
            .is_some_and(|e| e.repr.fields == self.specs)
            || self.shapes.get(self.specs.as_slice()) != Some(&id)
        {
            self.last_shape = Some((id, self.specs.len()));
            return Ok(None);
        }
        let slot = self.plans.len();
        self.plans.push(Planned { id, plan });
        self.plan_index.insert(key, slot);
        Ok(Some(slot))
    }

    fn forget_plans(&mut self) {
        self.plans.clear();
        self.plan_index.clear();
        self.last_plan = None;
    }

    /// The template of the fields in `self.specs`: the previous record's, a known shape's or
    /// a newly defined one.
    fn template_for_specs(&mut self) -> Result<u16, Error> {
        // Records of one layout come in runs: check the last layout before hashing.
        let last = self
            .last_shape
            .filter(|(_, len)| *len == self.specs.len())
            .filter(|(id, _)| {
                self.templates
                    .get(id)
                    .is_some_and(|e| e.repr.fields == self.specs)
            })
            .map(|(id, _)| id);
        let id = match last.or_else(|| self.shapes.get(self.specs.as_slice()).copied()) {
            Some(id) => id,
            None => {
                let id = self.next_id;
                if id == u16::MAX {
                    return Err(Error::Unencodable {
                        what: "template ids exhausted",
                    });
                }
                self.define(TemplateRepr::new(id, self.specs.clone()))?;
                self.next_id += 1;
                self.shapes.insert(self.specs.clone(), id);
                id
            }
        };
        Ok(id)
    }

    /// Any record: its fields from [`mapping::fields_into`] (less those IPFIX cannot write),
    /// encoded value by value.
    fn flow_general(
        &mut self,
        record: &FlowRecord,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Error> {
        let mut fields = Vec::new();
        mapping::fields_into(record, self.config.time_encoding, &mut fields);
        fields.retain(|(id, _)| carried(*id));
        if fields.is_empty() {
            return Err(Error::Unencodable {
                what: "record without fields IPFIX carries",
            });
        }
        self.specs.clear();
        self.specs
            .extend(fields.iter().map(|(id, v)| spec_of(*id, v)));
        let id = self.template_for_specs()?;
        self.last_shape = Some((id, self.specs.len()));
        self.encode(id, fields.iter().map(|(_, v)| *v), now, out)
    }

    /// Withdraws a template (RFC 7011 §8.1): the message being filled goes to `out`, then a
    /// message with the withdrawal; records of the template are refused until it is defined
    /// again. Withdrawals are for TCP, SCTP and files; over UDP, RFC 7011 says not to send
    /// them (collectors let templates expire instead).
    pub fn withdraw(
        &mut self,
        template_id: u16,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Error> {
        let entry = self
            .templates
            .remove(&template_id)
            .ok_or(Error::Unencodable {
                what: "withdrawal of an undefined template",
            })?;
        self.shapes.retain(|_, id| *id != template_id);
        self.forget_plans();
        self.finish(now, out);
        let w = TemplateRepr::withdrawal(template_id);
        let set_id = if entry.options {
            OPTIONS_TEMPLATE_SET_ID
        } else {
            TEMPLATE_SET_ID
        };
        let mut body = vec![0; w.buffer_len(entry.options)];
        w.emit(entry.options, &mut body)?;
        self.start_message(now, out);
        if self.buf.len() + SET_HEADER_LEN + body.len() > self.limit() {
            self.finish(now, out);
            self.start_message(now, out);
        }
        self.close_set();
        self.buf.extend_from_slice(&set_id.to_be_bytes());
        self.buf.extend_from_slice(
            &u16::try_from(SET_HEADER_LEN + body.len())
                .unwrap_or(0)
                .to_be_bytes(),
        );
        self.buf.extend_from_slice(&body);
        self.finish(now, out);
        Ok(())
    }

    /// Whether a template must be sent (again) before records at `now`: never sent, or sent
    /// at least the refresh interval ago, and not at this very instant (so that with a zero
    /// interval a message that had to be cut still does not repeat the template forever).
    fn due(&self, e: &Entry, now: Timestamp) -> bool {
        match e.last_sent {
            None => true,
            Some(t) => {
                let age = now.unix_nanos().saturating_sub(t.unix_nanos());
                age > 0
                    && age
                        >= i64::try_from(self.config.template_refresh.as_nanos())
                            .unwrap_or(i64::MAX)
            }
        }
    }

    /// Makes room for a record of `len` octets of `template_id` in the current message.
    fn prepare(
        &mut self,
        template_id: u16,
        len: usize,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) {
        // The common case: one more record in the open set of its template, which is not due.
        if let Some((id, _)) = self.open_set
            && id == template_id
            && now.unix_nanos() < self.open_due_at
            && self.buf.len() + len <= self.limit()
        {
            return;
        }
        let template_due = self
            .templates
            .get(&template_id)
            .is_some_and(|e| self.due(e, now));
        // Octets the record needs in the current message: its own, and a set header unless
        // the open set is its template's.
        let need = |s: &Self| {
            len + match s.open_set {
                Some((id, _)) if id == template_id => 0,
                _ => SET_HEADER_LEN,
            }
        };
        if !self.buf.is_empty() && (template_due || self.buf.len() + need(self) > self.limit()) {
            self.finish(now, out);
        }
        if self.buf.is_empty() {
            self.start_message(now, out);
        }
        if self.buf.len() + need(self) > self.limit() {
            // Due templates filled the message: send it and start one for the data.
            self.finish(now, out);
            self.start_message(now, out);
        }
        if !matches!(self.open_set, Some((id, _)) if id == template_id) {
            self.close_set();
            let at = self.buf.len();
            self.buf.extend_from_slice(&template_id.to_be_bytes());
            self.buf.extend_from_slice(&[0, 0]);
            self.open_set = Some((template_id, at));
        }
        // `due` is false while `now - last_sent` is below the refresh interval (at least 1 ns).
        let refresh = i64::try_from(self.config.template_refresh.as_nanos())
            .unwrap_or(i64::MAX)
            .max(1);
        self.open_due_at = self
            .templates
            .get(&template_id)
            .and_then(|e| e.last_sent)
            .map_or(i64::MIN, |t| t.unix_nanos().saturating_add(refresh));
    }

    fn start_message(&mut self, now: Timestamp, out: &mut dyn FnMut(&[u8])) {
        let limit = self.limit();
        loop {
            self.buf.clear();
            // Allocated once at the message size, then reused.
            self.buf.reserve(limit);
            self.buf.extend_from_slice(&VERSION.to_be_bytes());
            self.buf.extend_from_slice(&[0, 0]);
            self.buf.extend_from_slice(&export_secs(now).to_be_bytes());
            self.buf.extend_from_slice(&self.sequence.to_be_bytes());
            self.buf
                .extend_from_slice(&self.config.observation_domain_id.to_be_bytes());
            self.records_in_message = 0;
            let mut more = false;
            for options in [false, true] {
                let ids: Vec<u16> = self
                    .templates
                    .iter()
                    .filter(|(_, e)| e.options == options && self.due(e, now))
                    .map(|(id, _)| *id)
                    .collect();
                for id in ids {
                    let Some(e) = self.templates.get(&id) else {
                        continue;
                    };
                    let mut encoded = vec![0; e.repr.buffer_len(options)];
                    if e.repr.emit(options, &mut encoded).is_err() {
                        continue;
                    }
                    let set_id = if options {
                        OPTIONS_TEMPLATE_SET_ID
                    } else {
                        TEMPLATE_SET_ID
                    };
                    let header = match self.open_set {
                        Some((s, _)) if s == set_id => 0,
                        _ => SET_HEADER_LEN,
                    };
                    if self.buf.len() + header + encoded.len() > limit {
                        more = true;
                        continue;
                    }
                    if header > 0 {
                        self.close_set();
                        let at = self.buf.len();
                        self.buf.extend_from_slice(&set_id.to_be_bytes());
                        self.buf.extend_from_slice(&[0, 0]);
                        self.open_set = Some((set_id, at));
                    }
                    self.buf.extend_from_slice(&encoded);
                    if let Some(e) = self.templates.get_mut(&id) {
                        e.last_sent = Some(now);
                    }
                }
            }
            if !more {
                return;
            }
            self.finish(now, out);
        }
    }

    fn close_set(&mut self) {
        if let Some((_, at)) = self.open_set.take() {
            let len = u16::try_from(self.buf.len() - at).unwrap_or(u16::MAX);
            crate::wire::put16(&mut self.buf, at + 2, len);
        }
    }

    /// Finishes the message being filled (if any), stamps it with `now` and hands it to
    /// `out`.
    fn finish(&mut self, now: Timestamp, out: &mut dyn FnMut(&[u8])) {
        if self.buf.is_empty() {
            return;
        }
        self.close_set();
        let len = u16::try_from(self.buf.len()).unwrap_or(u16::MAX);
        let mut m = Message::new_unchecked(self.buf.as_mut_slice());
        m.set_length(len);
        // The export time is when the message leaves (RFC 7011 §3.1).
        m.set_export_time(export_secs(now));
        self.sequence = self.sequence.wrapping_add(self.records_in_message);
        self.records_in_message = 0;
        self.stats.datagrams += 1;
        self.stats.octets += self.buf.len() as u64;
        out(&self.buf);
        self.buf.clear();
    }
}

/// The header's export time: Unix seconds, 0 outside what 32 bits hold.
fn export_secs(now: Timestamp) -> u32 {
    u32::try_from(now.unix_secs()).unwrap_or(0)
}

impl codec::Exporter for Exporter {
    type Error = Error;

    fn protocol(&self) -> ProtocolKind {
        ProtocolKind::Ipfix
    }

    /// Adds a flow (see the module docs for what is carried). Refused, leaving the message
    /// being filled as it was: a record with no field IPFIX carries, a value that does not
    /// encode, a record larger than a message, and (strict) one with fields IPFIX cannot
    /// carry.
    fn push(
        &mut self,
        flow: &FlowRecord,
        now: Timestamp,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Error> {
        let r = self.push_flow(flow, now, out);
        let dropped = *r.as_ref().unwrap_or(&0);
        let r = r.map(|_| ());
        self.count(&r, dropped);
        r
    }

    fn flush(&mut self, now: Timestamp, out: &mut dyn FnMut(&[u8])) -> Result<(), Error> {
        self.finish(now, out);
        Ok(())
    }

    fn stats(&self) -> &ExportStats {
        &self.stats
    }

    fn restrict(&self, flow: &FlowRecord, _now: Timestamp) -> FlowRecord {
        let mut decoded = FlowRecord::default();
        let mut fields = Vec::new();
        mapping::fields_into(flow, self.config.time_encoding, &mut fields);
        fields.retain(|(id, _)| carried(*id));
        let specs: Vec<FieldSpec> = fields.iter().map(|(id, v)| spec_of(*id, v)).collect();
        let mut bytes = Vec::new();
        let encoded = encode_values(&specs, fields.iter().map(|(_, v)| *v), &mut bytes);
        let template = Template::new(
            MIN_DATA_SET_ID,
            false,
            0,
            specs.iter().copied(),
            &self.registry,
            usize::MAX,
        );
        // A record `push` refuses decodes as nothing.
        match (encoded, template) {
            (Ok(()), Ok(t)) if HEADER_LEN + SET_HEADER_LEN + bytes.len() <= self.limit() => {
                let _ = t
                    .plan()
                    .decode(&bytes, &TimeContext::default(), &mut decoded);
            }
            _ => {}
        }
        decoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowwire_record::codec::Exporter as _;
    use flowwire_record::testing::varied_record as varied;

    /// Found by the `export_roundtrip` fuzz target: with a zero refresh interval, a record
    /// that did not fit after its template started a new message, which repeated the template
    /// and went over the limit (101 of 100 octets). A template sent at this instant is not due
    /// again; the next instant's message carries it again.
    #[test]
    fn zero_refresh_keeps_messages_within_the_limit() {
        let mut e = Exporter::new(ExporterConfig {
            max_datagram_len: 100,
            template_refresh: Duration::ZERO,
            ..ExporterConfig::default()
        });
        let r = {
            let mut built = FlowRecord::default();
            built.set_src_port(Some(50569));
            built.set_tos(Some(255));
            built.set_tcp_flags(Some(65535));
            built.set_octets(Some(u64::MAX));
            built.set_packets(Some(u64::MAX));
            built.set_start(Some(Timestamp::from_unix_millis(1_698_921_587_454)));
            built.set_next_hop(Some("::".parse().unwrap()));
            built
        };
        let t0 = Timestamp::from_unix_secs(1_700_000_000);
        let mut messages: Vec<Vec<u8>> = Vec::new();
        let mut out = |m: &[u8]| messages.push(m.to_vec());
        for now in [t0, t0, t0.add_millis(1000)] {
            e.push(&r, now, &mut out).unwrap();
        }
        e.flush(t0.add_millis(1000), &mut out).unwrap();
        assert!(messages.iter().all(|m| m.len() <= 100), "{messages:?}");
        let with_template = messages
            .iter()
            .filter(|m| {
                Message::new_checked(&m[..])
                    .unwrap()
                    .sets()
                    .any(|s| s.unwrap().kind() == crate::wire::set::SetKind::Template)
            })
            .count();
        // Sent at t0, and again at t0 + 1 s.
        assert_eq!(with_template, 2);
        assert_eq!(e.stats().datagrams, messages.len() as u64);
        assert_eq!(
            e.stats().octets,
            messages.iter().map(|m| m.len() as u64).sum::<u64>()
        );
        assert_eq!((e.stats().records, e.stats().refused), (3, 0));
    }

    #[test]
    fn a_record_without_fields_is_refused() {
        let mut e = Exporter::new(ExporterConfig::default());
        let now = Timestamp::from_unix_secs(1_700_000_000);
        let mut n = 0;
        assert!(matches!(
            e.push(&FlowRecord::default(), now, &mut |_: &[u8]| n += 1),
            Err(Error::Unencodable { .. })
        ));
        e.flush(now, &mut |_: &[u8]| n += 1).unwrap();
        assert_eq!(n, 0);
        assert_eq!(e.stats().refused, 1);
        assert_eq!(
            e.restrict(&FlowRecord::default(), now),
            FlowRecord::default()
        );
    }

    /// Vendor fields of NetFlow v9 (ids above 32767) have no IPFIX form: left out and counted,
    /// or refused when strict.
    #[test]
    fn fields_ipfix_cannot_carry() {
        let now = Timestamp::from_unix_secs(1_700_000_000);
        let mut r = {
            let mut built = FlowRecord::default();
            built.set_src_port(Some(80));
            built
        };
        r.push_extra(FieldId::iana(40_000), Value::Unsigned32(1));
        r.push_extra(FieldId::iana(82), Value::String(b"eth0"));
        let mut sent = Vec::new();
        let mut e = Exporter::new(ExporterConfig::default());
        e.push(&r, now, &mut |m: &[u8]| sent.push(m.to_vec()))
            .unwrap();
        e.flush(now, &mut |m: &[u8]| sent.push(m.to_vec())).unwrap();
        let s = *e.stats();
        assert_eq!(
            (s.records, s.records_with_dropped_fields, s.fields_dropped),
            (1, 1, 1)
        );
        let restricted = e.restrict(&r, now);
        assert_eq!(restricted.src_port(), Some(80));
        assert_eq!(restricted.extra.len(), 1);
        assert_eq!(restricted.extra[0].field, FieldId::iana(82));

        let mut strict = Exporter::new(ExporterConfig {
            strict: true,
            ..ExporterConfig::default()
        });
        let mut n = 0;
        assert!(matches!(
            strict.push(&r, now, &mut |_: &[u8]| n += 1),
            Err(Error::NotCarried { .. })
        ));
        strict.flush(now, &mut |_: &[u8]| n += 1).unwrap();
        assert_eq!(
            (n, strict.stats().refused, strict.stats().records),
            (0, 1, 0)
        );
        // Nothing else to carry: refused even when not strict.
        let only = {
            let mut built = FlowRecord::default();
            built.extra = vec![flowwire_record::ExtraField::new(
                FieldId::iana(40_000),
                flowwire_record::OwnedValue::Unsigned8(1),
            )];
            built
        };
        assert!(e.push(&only, now, &mut |_: &[u8]| ()).is_err());
        assert_eq!(e.restrict(&only, now), FlowRecord::default());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Flow(usize, u64),
        /// Redefine template 256 + n by hand with the fields of layout m.
        Define(u16, usize),
        Withdraw(u16),
        Flush,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            30 => (0usize..6, any::<u64>()).prop_map(|(a, b)| Op::Flow(a, b)),
            1 => (0u16..4, 0usize..6).prop_map(|(a, b)| Op::Define(a, b)),
            1 => (0u16..4).prop_map(Op::Withdraw),
            1 => Just(Op::Flush),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// The planned path gives byte for byte the messages (and errors) of the general
        /// path, across template definition, hand-made templates, withdrawals, refresh and
        /// message packing.
        #[test]
        fn planned_and_general_paths_give_the_same_messages(
            layouts in proptest::collection::vec(proptest::prelude::any::<u64>(), 1..6),
            ops in proptest::collection::vec(op(), 1..300),
            max_datagram_len in 200usize..1500,
            refresh_ms in 1u64..2000,
            times in 0u8..3,
        ) {
            let cfg = ExporterConfig {
                max_datagram_len,
                template_refresh: Duration::from_millis(refresh_ms),
                time_encoding: match times {
                    0 => TimeEncoding::Seconds,
                    1 => TimeEncoding::Milliseconds,
                    _ => TimeEncoding::Nanoseconds,
                },
                ..ExporterConfig::default()
            };
            let mut fast = Exporter::new(cfg.clone());
            let mut general = Exporter::new(cfg);
            general.general_only = true;
            let (mut a, mut b): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (Vec::new(), Vec::new());
            for (i, op) in ops.iter().enumerate() {
                let now = Timestamp::from_unix_millis(1_700_000_000_000 + 100 * i as i64);
                let mut out_a = |m: &[u8]| a.push(m.to_vec());
                let mut out_b = |m: &[u8]| b.push(m.to_vec());
                let (ra, rb) = match *op {
                    Op::Flow(pick, seed) => {
                        let r = varied(layouts[pick % layouts.len()], seed);
                        (fast.push(&r, now, &mut out_a), general.push(&r, now, &mut out_b))
                    }
                    Op::Define(n, m) => {
                        let r = varied(layouts[m % layouts.len()], 0);
                        let mut fields = Vec::new();
                        mapping::fields_into(&r, general.config.time_encoding, &mut fields);
                        let specs: Vec<FieldSpec> =
                            fields.iter().map(|(f, v)| spec_of(*f, v)).collect();
                        let t = TemplateRepr::new(256 + n, specs);
                        (fast.define(t.clone()), general.define(t))
                    }
                    Op::Withdraw(n) => (
                        fast.withdraw(256 + n, now, &mut out_a),
                        general.withdraw(256 + n, now, &mut out_b),
                    ),
                    Op::Flush => (fast.flush(now, &mut out_a), general.flush(now, &mut out_b)),
                };
                proptest::prop_assert_eq!(format!("{ra:?}"), format!("{rb:?}"));
                proptest::prop_assert_eq!(&a, &b);
            }
            let end = Timestamp::from_unix_secs(1_700_001_000);
            fast.flush(end, &mut |m: &[u8]| a.push(m.to_vec())).unwrap();
            general.flush(end, &mut |m: &[u8]| b.push(m.to_vec())).unwrap();
            proptest::prop_assert_eq!(&a, &b);
            proptest::prop_assert_eq!(fast.stats(), general.stats());
            proptest::prop_assert!(a.iter().all(|m| m.len() <= max_datagram_len));
        }
    }
}
