//! One reading of the sampling elements, for NetFlow v9 and IPFIX alike.
//!
//! Exporters announce sampling in several ways, in options data or in the flow records
//! themselves:
//!
//! | elements | meaning | interval ("1 in N") |
//! |---|---|---|
//! | `samplingInterval` (34), `samplerRandomInterval` (50) | one packet in N | N |
//! | `samplingPacketInterval` (305) + `samplingPacketSpace` (306) | RFC 5477 systematic count-based: take `i` packets, skip `s` | (i + s) / i |
//! | `samplingPacketInterval` (305) alone | read as one packet in N, as NetFlow v9 exporters mean it | i |
//! | `samplingSize` (309) + `samplingPopulation` (310) | RFC 5477 random n-out-of-N | N / n |
//!
//! Where several are sent, 34/50 win, then 305/306, then 309/310. The algorithm comes from
//! `samplingAlgorithm` (35) or `samplerMode` (49), and the sampler from `samplerId` (48) or
//! `selectorId` (302). [`SamplingElements`] gathers a record's values and gives the reading;
//! both template codecs use it for options data, and [`mapping::finish`](crate::mapping::finish)
//! for flow records that carry 305/306 or 309/310 themselves.
//!
//! ```
//! use flowwire_record::registry::{ie, FieldId};
//! use flowwire_record::sampling::SamplingElements;
//! use flowwire_record::Value;
//!
//! let mut s = SamplingElements::default();
//! s.observe(FieldId::iana(ie::SAMPLING_PACKET_INTERVAL), &Value::Unsigned32(1));
//! s.observe(FieldId::iana(ie::SAMPLING_PACKET_SPACE), &Value::Unsigned32(99));
//! assert_eq!(s.interval(), Some(100));
//! ```

use crate::registry::{FieldId, ie};
use crate::value::Value;

/// The elements that say how a flow or an exporter samples; see the module docs.
pub const SAMPLING_ELEMENTS: [u16; 10] = [
    ie::SAMPLING_INTERVAL,
    ie::SAMPLER_RANDOM_INTERVAL,
    ie::SAMPLING_PACKET_INTERVAL,
    ie::SAMPLING_PACKET_SPACE,
    ie::SAMPLING_SIZE,
    ie::SAMPLING_POPULATION,
    ie::SAMPLING_ALGORITHM,
    ie::SAMPLER_MODE,
    ie::SAMPLER_ID,
    ie::SELECTOR_ID,
];

/// The sampling values of one record, gathered with [`SamplingElements::observe`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SamplingElements {
    /// samplingInterval (34) or samplerRandomInterval (50).
    pub interval: Option<u64>,
    /// samplingPacketInterval (305).
    pub packet_interval: Option<u64>,
    /// samplingPacketSpace (306).
    pub packet_space: Option<u64>,
    /// samplingSize (309).
    pub size: Option<u64>,
    /// samplingPopulation (310).
    pub population: Option<u64>,
    /// samplingAlgorithm (35) or samplerMode (49).
    pub algorithm: Option<u8>,
    /// samplerId (48) or selectorId (302).
    pub sampler_id: Option<u64>,
}

impl SamplingElements {
    /// Takes the value of one element if it is a sampling element (IANA, numeric); returns
    /// whether it was. The first value of each kind is kept.
    pub fn observe(&mut self, field: FieldId, value: &Value<'_>) -> bool {
        if field.pen != 0 {
            return false;
        }
        let Some(v) = value.as_u64() else {
            return false;
        };
        let slot = match field.id {
            ie::SAMPLING_INTERVAL | ie::SAMPLER_RANDOM_INTERVAL => &mut self.interval,
            ie::SAMPLING_PACKET_INTERVAL => &mut self.packet_interval,
            ie::SAMPLING_PACKET_SPACE => &mut self.packet_space,
            ie::SAMPLING_SIZE => &mut self.size,
            ie::SAMPLING_POPULATION => &mut self.population,
            ie::SAMPLER_ID | ie::SELECTOR_ID => &mut self.sampler_id,
            ie::SAMPLING_ALGORITHM | ie::SAMPLER_MODE => {
                if self.algorithm.is_none() {
                    self.algorithm = u8::try_from(v).ok();
                }
                return true;
            }
            _ => return false,
        };
        if slot.is_none() {
            *slot = Some(v);
        }
        true
    }

    /// One packet in this many was sampled, by the rules of the module docs; `None` when no
    /// element gives a rate (or it is 0 or above `u32::MAX`).
    pub fn interval(&self) -> Option<u32> {
        let rate = match *self {
            SamplingElements {
                interval: Some(n), ..
            } => n,
            SamplingElements {
                packet_interval: Some(i),
                packet_space,
                ..
            } if i > 0 => match packet_space {
                Some(space) => i.saturating_add(space) / i,
                None => i,
            },
            SamplingElements {
                size: Some(n),
                population: Some(total),
                ..
            } if n > 0 => total / n,
            _ => return None,
        };
        u32::try_from(rate).ok().filter(|&r| r > 0)
    }

    /// Whether a rate can be read only by combining elements (305 with 306, or 309 with 310):
    /// no single element is the interval itself.
    pub fn is_combined(&self) -> bool {
        self.interval.is_none()
            && (self.packet_space.is_some() || (self.size.is_some() && self.population.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(fields: &[(u16, u64)]) -> Option<u32> {
        let mut s = SamplingElements::default();
        for &(id, v) in fields {
            assert!(s.observe(FieldId::iana(id), &Value::Unsigned64(v)));
        }
        s.interval()
    }

    #[test]
    fn every_combination_reads_one_way() {
        assert_eq!(read(&[(34, 100)]), Some(100));
        assert_eq!(read(&[(50, 64)]), Some(64));
        assert_eq!(read(&[(305, 1), (306, 99)]), Some(100));
        assert_eq!(read(&[(305, 2), (306, 198)]), Some(100));
        assert_eq!(read(&[(305, 512)]), Some(512));
        assert_eq!(read(&[(309, 1), (310, 1000)]), Some(1000));
        assert_eq!(read(&[(309, 10), (310, 1000)]), Some(100));
        // samplingSize without the population says nothing about the rate.
        assert_eq!(read(&[(309, 10)]), None);
        assert_eq!(read(&[(310, 1000)]), None);
        // 34 wins over the RFC 5477 pairs; 305/306 over 309/310.
        assert_eq!(read(&[(305, 1), (306, 9), (34, 100)]), Some(100));
        assert_eq!(read(&[(309, 1), (310, 50), (305, 1), (306, 9)]), Some(10));
        // Zero intervals and sizes give no rate rather than a division by zero.
        assert_eq!(read(&[(305, 0), (306, 9)]), None);
        assert_eq!(read(&[(309, 0), (310, 9)]), None);
        assert_eq!(read(&[(34, 0)]), None);
        assert_eq!(read(&[(34, u64::from(u32::MAX) + 1)]), None);
    }

    #[test]
    fn algorithm_and_sampler_are_kept() {
        let mut s = SamplingElements::default();
        s.observe(FieldId::iana(ie::SAMPLER_MODE), &Value::Unsigned8(2));
        s.observe(FieldId::iana(ie::SELECTOR_ID), &Value::Unsigned64(7));
        assert_eq!((s.algorithm, s.sampler_id), (Some(2), Some(7)));
        assert!(!s.observe(FieldId::iana(ie::OCTET_DELTA_COUNT), &Value::Unsigned64(1)));
        assert!(!s.observe(FieldId::enterprise(9, 34), &Value::Unsigned64(1)));
    }
}
