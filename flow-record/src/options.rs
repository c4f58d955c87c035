//! What options data tells a collector about an exporter, learned the same way for NetFlow v9
//! and IPFIX: sampling (per sampler / selector and for the whole domain), interface names and
//! descriptions, and the system init time that IPFIX sysUpTime times count from.
//!
//! A session keeps one [`ExporterOptions`] per (exporter, domain); for each options data
//! record it gathers the values with [`OptionsValues::observe`] and learns them with
//! [`ExporterOptions::learn`], bounded by [`OptionsLimits`]. Flows then get the announced
//! sampling with [`ExporterOptions::apply`].
//!
//! ```
//! use flowwire_record::options::{ExporterOptions, OptionsLimits, OptionsValues};
//! use flowwire_record::registry::{ie, FieldId};
//! use flowwire_record::{FlowRecord, Value};
//!
//! let mut values = OptionsValues::default();
//! values.observe(FieldId::iana(ie::SAMPLER_ID), &Value::Unsigned8(1));
//! values.observe(FieldId::iana(ie::SAMPLING_INTERVAL), &Value::Unsigned32(100));
//! let mut exporter = ExporterOptions::default();
//! exporter.learn(&values, &OptionsLimits::default());
//!
//! let mut flow = FlowRecord::default();
//! exporter.apply(&mut flow);
//! assert_eq!(flow.sampling_interval(), Some(100));
//! ```

use std::collections::HashMap;

use crate::record::FlowRecord;
use crate::registry::{FieldId, ie};
use crate::sampling::SamplingElements;
use crate::time::Timestamp;
use crate::value::Value;

/// Bounds of what one (exporter, domain) may announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OptionsLimits {
    /// Samplers / selectors remembered; announcements of more are ignored (and counted).
    pub max_samplers: usize,
    /// Interfaces whose names are remembered; more are ignored (and counted).
    pub max_interfaces: usize,
}

impl Default for OptionsLimits {
    /// 256 samplers, 4,096 interfaces.
    fn default() -> Self {
        OptionsLimits {
            max_samplers: 256,
            max_interfaces: 4096,
        }
    }
}

/// A sampling rate an exporter announced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Sampling {
    /// One packet in this many.
    pub interval: u32,
    /// Sampling algorithm / sampler mode (1 deterministic, 2 random), when given.
    pub algorithm: Option<u8>,
}

/// An interface's name and description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct InterfaceInfo {
    /// interfaceName (82).
    pub name: Option<String>,
    /// interfaceDescription (83).
    pub description: Option<String>,
}

/// The values of one options data record that a session learns from.
#[derive(Debug, Clone, Default)]
pub struct OptionsValues<'a> {
    /// The sampling elements.
    pub sampling: SamplingElements,
    /// The interface the record describes: ingressInterface (10) or egressInterface (14)
    /// (NetFlow v9's interface scope counts as 10).
    pub if_index: Option<u32>,
    /// interfaceName (82).
    pub if_name: Option<&'a [u8]>,
    /// interfaceDescription (83).
    pub if_description: Option<&'a [u8]>,
    /// systemInitTimeMilliseconds (160).
    pub system_init_time: Option<Timestamp>,
}

impl<'a> OptionsValues<'a> {
    /// Takes one field of the record (scope fields included); returns whether it was one the
    /// session learns from. The first value of each kind is kept.
    pub fn observe(&mut self, field: FieldId, value: &Value<'a>) -> bool {
        if self.sampling.observe(field, value) {
            return true;
        }
        if field.pen != 0 {
            return false;
        }
        match field.id {
            ie::INGRESS_INTERFACE | ie::EGRESS_INTERFACE => {
                if self.if_index.is_none() {
                    self.if_index = value.as_u64().and_then(|x| u32::try_from(x).ok());
                }
            }
            ie::INTERFACE_NAME => self.if_name = self.if_name.or(value.as_bytes()),
            ie::INTERFACE_DESCRIPTION => {
                self.if_description = self.if_description.or(value.as_bytes())
            }
            ie::SYSTEM_INIT_TIME_MILLISECONDS => {
                self.system_init_time = self.system_init_time.or(value.as_timestamp())
            }
            _ => return false,
        }
        true
    }
}

/// What learning one options record did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Learned {
    /// A sampling rate was learned.
    pub sampling: bool,
    /// An interface's name or description was learned.
    pub interface: bool,
    /// The system init time was learned.
    pub system_init_time: bool,
    /// Something was left out because a limit was reached.
    pub over_limit: bool,
}

impl Learned {
    /// Whether anything was learned.
    pub fn any(&self) -> bool {
        self.sampling || self.interface || self.system_init_time
    }
}

/// What one (exporter, domain) announced in options data.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ExporterOptions {
    /// The domain's sampling: from options data without a sampler / selector, or the last
    /// one announced.
    pub sampling: Option<Sampling>,
    /// When the exporter's sysUpTime was 0 (IPFIX systemInitTimeMilliseconds, 160).
    pub system_init_time: Option<Timestamp>,
    samplers: HashMap<u64, Sampling>,
    interfaces: HashMap<u32, InterfaceInfo>,
}

/// The longest text an options record carries (a variable-length field).
const MAX_TEXT: usize = 65_535;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim_end_matches('\0').to_owned()
}

impl ExporterOptions {
    /// Learns what an options record says.
    pub fn learn(&mut self, v: &OptionsValues<'_>, limits: &OptionsLimits) -> Learned {
        let mut learned = Learned::default();
        if let Some(t) = v.system_init_time {
            self.system_init_time = Some(t);
            learned.system_init_time = true;
        }
        if let Some(interval) = v.sampling.interval() {
            let sampling = Sampling {
                interval,
                algorithm: v.sampling.algorithm,
            };
            // The most recent announcement is also the default for flows without a sampler.
            self.sampling = Some(sampling);
            learned.sampling = true;
            if let Some(id) = v.sampling.sampler_id {
                if self.samplers.len() < limits.max_samplers || self.samplers.contains_key(&id) {
                    self.samplers.insert(id, sampling);
                } else {
                    learned.over_limit = true;
                }
            }
        }
        if let (Some(ix), true) = (
            v.if_index,
            v.if_name.is_some() || v.if_description.is_some(),
        ) {
            if self.interfaces.len() < limits.max_interfaces || self.interfaces.contains_key(&ix) {
                let e = self.interfaces.entry(ix).or_default();
                if let Some(n) = v.if_name {
                    e.name = Some(text(n));
                }
                if let Some(d) = v.if_description {
                    e.description = Some(text(d));
                }
                learned.interface = true;
            } else {
                learned.over_limit = true;
            }
        }
        learned
    }

    /// The sampling of a sampler (samplerId 48) or selector (selectorId 302).
    pub fn sampler(&self, id: u64) -> Option<Sampling> {
        self.samplers.get(&id).copied()
    }

    /// Every sampler known, with its sampling.
    pub fn samplers(&self) -> impl Iterator<Item = (u64, Sampling)> + '_ {
        self.samplers.iter().map(|(k, v)| (*k, *v))
    }

    /// The name and description of an interface.
    pub fn interface(&self, if_index: u32) -> Option<&InterfaceInfo> {
        self.interfaces.get(&if_index)
    }

    /// Every interface known.
    pub fn interfaces(&self) -> impl Iterator<Item = (u32, &InterfaceInfo)> {
        self.interfaces.iter().map(|(k, v)| (*k, v))
    }

    /// Checks what a restored state (not learned from the wire, so not bounded by
    /// [`learn`](Self::learn)) holds: samplers and interfaces within `limits`, sampling
    /// intervals above 0, names and descriptions no longer than an options record can carry.
    pub fn check(&self, limits: &OptionsLimits) -> Result<(), String> {
        if self.samplers.len() > limits.max_samplers {
            return Err(format!(
                "{} samplers, more than the {} allowed",
                self.samplers.len(),
                limits.max_samplers
            ));
        }
        if self.interfaces.len() > limits.max_interfaces {
            return Err(format!(
                "{} interfaces, more than the {} allowed",
                self.interfaces.len(),
                limits.max_interfaces
            ));
        }
        let intervals = self.sampling.iter().chain(self.samplers.values());
        if intervals.into_iter().any(|s| s.interval == 0) {
            return Err("a sampling interval of 0".into());
        }
        let too_long = |t: &Option<String>| t.as_ref().is_some_and(|t| t.len() > MAX_TEXT);
        if let Some((ix, _)) = self
            .interfaces
            .iter()
            .find(|(_, i)| too_long(&i.name) || too_long(&i.description))
        {
            return Err(format!(
                "interface {ix}: a name or description over {MAX_TEXT} octets"
            ));
        }
        Ok(())
    }

    /// Forgets everything but keeps the allocations.
    pub fn clear(&mut self) {
        self.sampling = None;
        self.system_init_time = None;
        self.samplers.clear();
        self.interfaces.clear();
    }

    /// Heap bytes held, roughly (for state accounting).
    pub fn heap_bytes(&self) -> usize {
        self.samplers.capacity() * (size_of::<(u64, Sampling)>() + 1)
            + self.interfaces.capacity() * (size_of::<(u32, InterfaceInfo)>() + 1)
            + self
                .interfaces
                .values()
                .map(|i| {
                    i.name.as_ref().map_or(0, String::capacity)
                        + i.description.as_ref().map_or(0, String::capacity)
                })
                .sum::<usize>()
    }

    /// The sampling that applies to a flow: its own sampler's or selector's (samplerId 48 or
    /// selectorId 302, kept in the flow's extras), else the domain's.
    pub fn sampling_for(&self, flow: &FlowRecord) -> Option<Sampling> {
        if !self.samplers.is_empty() {
            let id = flow.extra.iter().find_map(|e| {
                (e.field == FieldId::iana(ie::SAMPLER_ID)
                    || e.field == FieldId::iana(ie::SELECTOR_ID))
                .then(|| e.value.as_value().as_u64())
                .flatten()
            });
            if let Some(s) = id.and_then(|id| self.sampler(id)) {
                return Some(s);
            }
        }
        self.sampling
    }

    /// Gives a flow that carries no sampling interval of its own the one its exporter
    /// announced (and its algorithm, where the flow has none).
    #[inline]
    pub fn apply(&self, flow: &mut FlowRecord) {
        if (self.sampling.is_none() && self.samplers.is_empty())
            || flow.sampling_interval().is_some()
        {
            return;
        }
        if let Some(s) = self.sampling_for(flow) {
            flow.set_sampling_interval(Some(s.interval));
            if flow.sampling_algorithm().is_none() {
                flow.set_sampling_algorithm(s.algorithm);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learn(e: &mut ExporterOptions, fields: &[(u16, Value<'_>)]) -> Learned {
        let mut v = OptionsValues::default();
        for (id, value) in fields {
            v.observe(FieldId::iana(*id), value);
        }
        e.learn(&v, &OptionsLimits::default())
    }

    #[test]
    fn samplers_and_the_domain_default() {
        let mut e = ExporterOptions::default();
        learn(
            &mut e,
            &[
                (ie::SAMPLER_ID, Value::Unsigned8(1)),
                (ie::SAMPLING_INTERVAL, Value::Unsigned32(10)),
            ],
        );
        learn(
            &mut e,
            &[
                (ie::SELECTOR_ID, Value::Unsigned64(2)),
                (ie::SAMPLING_PACKET_INTERVAL, Value::Unsigned32(1)),
                (ie::SAMPLING_PACKET_SPACE, Value::Unsigned32(99)),
            ],
        );
        assert_eq!(e.sampler(1).map(|s| s.interval), Some(10));
        assert_eq!(e.sampler(2).map(|s| s.interval), Some(100));
        assert_eq!(e.sampling.map(|s| s.interval), Some(100));
        let mut flow = FlowRecord::default();
        flow.push_extra(FieldId::iana(ie::SAMPLER_ID), Value::Unsigned8(1));
        e.apply(&mut flow);
        assert_eq!(flow.sampling_interval(), Some(10));
        // A flow's own interval wins.
        let mut flow = {
            let mut built = FlowRecord::default();
            built.set_sampling_interval(Some(7));
            built
        };
        e.apply(&mut flow);
        assert_eq!(flow.sampling_interval(), Some(7));
    }

    #[test]
    fn interface_names_are_bounded() {
        let mut e = ExporterOptions::default();
        let limits = OptionsLimits {
            max_samplers: 1,
            max_interfaces: 1,
        };
        for ix in 1..=2u32 {
            let mut v = OptionsValues::default();
            v.observe(FieldId::iana(ie::INGRESS_INTERFACE), &Value::Unsigned32(ix));
            v.observe(
                FieldId::iana(ie::INTERFACE_NAME),
                &Value::String(b"eth0\0\0"),
            );
            let l = e.learn(&v, &limits);
            assert_eq!(l.over_limit, ix == 2);
        }
        assert_eq!(e.interface(1).and_then(|i| i.name.as_deref()), Some("eth0"));
        assert!(e.interface(2).is_none());
    }
}
