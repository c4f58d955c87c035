//! `arbitrary::Arbitrary` for the owned sFlow representations (feature `arbitrary`), so that
//! fuzz targets — ours and those of code built on flowwire — can ask for a valid datagram and
//! get one that encodes, and decodes back equal.
//!
//! What the generated values look like:
//!
//! - Every record structure ([`SampledHeader`](crate::repr::SampledHeader),
//!   [`IfCounters`](crate::repr::IfCounters), ... all the types of [`crate::repr::flow`] and
//!   [`crate::repr::counters`]), [`Opaque`] and
//!   [`Address`](crate::xdr::Address) derive it: any field values (floats of any bits, NaN
//!   included), opaque data and arrays of any length the input allows, optional tails
//!   present or not.
//! - [`FlowData`], [`CounterData`]: one of every known enterprise-0 format (each equally
//!   likely), or an unknown record of enterprise 1 to 2^20 - 1 (never a known format), any
//!   12-bit format and 0-64 octets of data in whole 4-octet words.
//! - [`SourceId`], [`Interface`], [`FlowSample`], [`CounterSample`]: values that fit the
//!   compact sample forms (source class 0-255 and index below 2^24; interface format 0-3 and
//!   value below 2^30), so that they encode in [`Sample::Flow`] and [`Sample::Counters`] as
//!   in the expanded ones. Flow samples hold 0-4 flow records, counter samples 0-3 counter
//!   records.
//! - [`DiscardedPacket`]: any source, interfaces and reason, 0-3 flow records.
//! - [`Sample`]: compact and expanded flow and counter samples (the expanded ones with any
//!   32-bit source and interface values), discarded-packet samples, and unknown samples
//!   (enterprise 1 or more, 0-64 octets in whole words).
//! - [`DatagramRepr`]: an unknown, IPv4 or IPv6 agent address, any sub-agent id, sequence
//!   number and uptime, and 0-6 samples: `DatagramRepr::parse(&repr.to_bytes()?, 0)` gives
//!   it back, and [`DatagramRepr::parse_with_errors`] finds no error.
//!
//! A fuzzer input that runs out of bytes gives zeros and empty lists rather than an error, so
//! short inputs still give valid datagrams.
//!
//! ```
//! use arbitrary::{Arbitrary, Unstructured};
//! use flowwire_sflow::{DatagramRepr, Xdr};
//!
//! let bytes = [7u8; 512]; // what a fuzzer hands a target
//! let repr = DatagramRepr::arbitrary(&mut Unstructured::new(&bytes))?;
//! let datagram = repr.to_bytes()?;
//! assert_eq!(DatagramRepr::parse(&datagram, 0)?, repr);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use arbitrary::{Arbitrary, Result, Unstructured};

use crate::repr::{
    CounterData, CounterSample, DatagramRepr, DiscardedPacket, FlowData, FlowSample,
    MAX_ENTERPRISE, MAX_FORMAT, Sample,
};
use crate::wire::{Interface, SourceId};
use crate::xdr::Opaque;

/// Flow records per sample, at most.
const MAX_FLOW_RECORDS: usize = 4;
/// Counter records per sample, at most.
const MAX_COUNTER_RECORDS: usize = 3;
/// Flow records per discarded-packet sample, at most.
const MAX_DISCARDED_RECORDS: usize = 3;
/// Samples per datagram, at most.
const MAX_SAMPLES: usize = 6;

/// The known variants of a record enum, the `i`th built from the input (`None` past the
/// last), and their number.
macro_rules! known_variants {
    ($ty:ident, $count:ident, $pick:ident: $($var:ident),* $(,)?) => {
        /// How many known formats the enum has.
        const $count: usize = [$(stringify!($var)),*].len();

        /// The `i`th known variant, from the input; `None` past the last.
        fn $pick<'a>(u: &mut Unstructured<'a>, i: usize) -> Result<Option<$ty>> {
            let mut k = 0usize;
            $(
                if i == k {
                    return Ok(Some($ty::$var(u.arbitrary()?)));
                }
                k += 1;
            )*
            let _ = k;
            Ok(None)
        }
    };
}

known_variants!(FlowData, FLOW_FORMATS, flow_variant:
    SampledHeader, SampledEthernet, SampledIpv4, SampledIpv6, ExtendedSwitch, ExtendedRouter,
    ExtendedGateway, ExtendedUser, ExtendedUrl, ExtendedMpls, ExtendedNat, ExtendedMplsTunnel,
    ExtendedMplsVc, ExtendedMplsFtn, ExtendedMplsLdpFec, ExtendedVlanTunnel,
    Extended80211Payload, Extended80211Rx, Extended80211Tx, ExtendedNatPort,
    ExtendedL2TunnelEgress, ExtendedL2TunnelIngress, ExtendedIpv4TunnelEgress,
    ExtendedIpv4TunnelIngress, ExtendedIpv6TunnelEgress, ExtendedIpv6TunnelIngress,
    ExtendedDecapEgress, ExtendedDecapIngress, ExtendedVniEgress, ExtendedVniIngress,
    ExtendedEgressQueue, ExtendedAcl, ExtendedFunction, ExtendedTransit, ExtendedQueue,
    ExtendedHwTrap, ExtendedLinuxDropReason, Transaction, ExtendedNfsTransaction,
    ExtendedScsiTransaction, ExtendedHttpTransaction, ExtendedSocketIpv4, ExtendedSocketIpv6,
    ExtendedProxySocketIpv4, ExtendedProxySocketIpv6, SampledMemcache, SampledHttp, SampledApp,
    SampledAppContext, SampledAppActorInit, SampledAppActorTarget, ExtendedTcpInfo,
    ExtendedEntities,
);

known_variants!(CounterData, COUNTER_FORMATS, counter_variant:
    Interface, Ethernet, TokenRing, Vg, Vlan, Ieee80211, Lag, Sfp, Processor, Radio,
    OpenFlowPort, PortName, HostDescr, HostAdapters, HostParent, HostCpu, HostMemory, HostDiskIo,
    HostNetIo, Mib2Ip, Mib2Icmp, Mib2Tcp, Mib2Udp, VirtNode, VirtCpu, VirtMemory, VirtDiskIo,
    VirtNetIo, JvmRuntime, JvmStatistics, Http, AppOperations, AppResources, AppWorkers, OvsDp,
);

/// `n` octets of the input, zeros where it runs out.
fn octets(u: &mut Unstructured<'_>, n: usize) -> Result<Vec<u8>> {
    let mut v = u.bytes(n.min(u.len()))?.to_vec();
    v.resize(n, 0);
    Ok(v)
}

/// `(enterprise, format, data)` of an unknown record or sample: enterprise 1 or more (no
/// enterprise-0 format is unknown for long), 0-64 octets in whole words.
fn unknown(u: &mut Unstructured<'_>) -> Result<(u32, u32, Opaque)> {
    let enterprise = u.int_in_range(1..=MAX_ENTERPRISE)?;
    let format = u.int_in_range(0..=MAX_FORMAT)?;
    let words = u.int_in_range(0..=16usize)?;
    Ok((enterprise, format, Opaque(octets(u, words * 4)?)))
}

fn list<'a, T: Arbitrary<'a>>(u: &mut Unstructured<'a>, max: usize) -> Result<Vec<T>> {
    let n = u.int_in_range(0..=max)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(u.arbitrary()?);
    }
    Ok(v)
}

fn expanded_source(u: &mut Unstructured<'_>) -> Result<SourceId> {
    Ok(SourceId {
        class: u.arbitrary()?,
        index: u.arbitrary()?,
    })
}

fn expanded_interface(u: &mut Unstructured<'_>) -> Result<Interface> {
    Ok(Interface {
        format: u.arbitrary()?,
        value: u.arbitrary()?,
    })
}

impl<'a> Arbitrary<'a> for FlowData {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let i = u.choose_index(FLOW_FORMATS + 1)?;
        if let Some(v) = flow_variant(u, i)? {
            return Ok(v);
        }
        let (enterprise, format, data) = unknown(u)?;
        Ok(FlowData::Unknown {
            enterprise,
            format,
            data,
        })
    }
}

impl<'a> Arbitrary<'a> for CounterData {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let i = u.choose_index(COUNTER_FORMATS + 1)?;
        if let Some(v) = counter_variant(u, i)? {
            return Ok(v);
        }
        let (enterprise, format, data) = unknown(u)?;
        Ok(CounterData::Unknown {
            enterprise,
            format,
            data,
        })
    }
}

impl<'a> Arbitrary<'a> for SourceId {
    /// A source that fits the compact form: class 0-255, index below 2^24.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(SourceId {
            class: u.int_in_range(0..=0xff)?,
            index: u.int_in_range(0..=0xff_ffff)?,
        })
    }
}

impl<'a> Arbitrary<'a> for Interface {
    /// An interface that fits the compact form: format 0-3, value below 2^30.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Interface {
            format: u.int_in_range(0..=3)?,
            value: u.int_in_range(0..=0x3fff_ffff)?,
        })
    }
}

impl<'a> Arbitrary<'a> for FlowSample {
    /// A sample that fits the compact form (see the module docs).
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(FlowSample {
            sequence: u.arbitrary()?,
            source: u.arbitrary()?,
            sampling_rate: u.arbitrary()?,
            sample_pool: u.arbitrary()?,
            drops: u.arbitrary()?,
            input: u.arbitrary()?,
            output: u.arbitrary()?,
            records: list(u, MAX_FLOW_RECORDS)?,
        })
    }
}

impl<'a> Arbitrary<'a> for CounterSample {
    /// A sample that fits the compact form (see the module docs).
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(CounterSample {
            sequence: u.arbitrary()?,
            source: u.arbitrary()?,
            records: list(u, MAX_COUNTER_RECORDS)?,
        })
    }
}

impl<'a> Arbitrary<'a> for DiscardedPacket {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(DiscardedPacket {
            sequence: u.arbitrary()?,
            source: expanded_source(u)?,
            drops: u.arbitrary()?,
            input: u.arbitrary()?,
            output: u.arbitrary()?,
            reason: u.arbitrary()?,
            records: list(u, MAX_DISCARDED_RECORDS)?,
        })
    }
}

impl<'a> Arbitrary<'a> for Sample {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=5)? {
            0 => Sample::Flow(u.arbitrary()?),
            1 => Sample::ExpandedFlow(FlowSample {
                source: expanded_source(u)?,
                input: expanded_interface(u)?,
                output: expanded_interface(u)?,
                ..u.arbitrary()?
            }),
            2 => Sample::Counters(u.arbitrary()?),
            3 => Sample::ExpandedCounters(CounterSample {
                source: expanded_source(u)?,
                ..u.arbitrary()?
            }),
            4 => Sample::Discarded(u.arbitrary()?),
            _ => {
                let (enterprise, format, data) = unknown(u)?;
                Sample::Unknown {
                    enterprise,
                    format,
                    data,
                }
            }
        })
    }
}

impl<'a> Arbitrary<'a> for DatagramRepr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(DatagramRepr {
            agent: u.arbitrary()?,
            sub_agent_id: u.arbitrary()?,
            sequence: u.arbitrary()?,
            uptime: u.arbitrary()?,
            samples: list(u, MAX_SAMPLES)?,
        })
    }
}

#[cfg(all(test, feature = "arbitrary"))]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::xdr::Xdr;

    /// Fixed pseudo-random buffers (xorshift), of varied lengths.
    fn buffers() -> impl Iterator<Item = Vec<u8>> {
        (1..=300u64).map(|seed| {
            let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let len = 16 + (seed as usize * 37) % 4096;
            (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect()
        })
    }

    /// Encodes, decodes and re-encodes `v`: the same value (NaN floats compared by their
    /// Debug forms) and the same bytes.
    #[track_caller]
    fn round_trip<T: Xdr + PartialEq + core::fmt::Debug>(v: &T) {
        let bytes = v.to_bytes().unwrap();
        let back = T::parse(&bytes, 0).unwrap_or_else(|e| panic!("{e}\n{v:?}\n{bytes:02x?}"));
        if &back != v {
            assert_eq!(format!("{back:?}"), format!("{v:?}"));
        }
        assert_eq!(back.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn arbitrary_values_encode_and_decode_back() {
        let mut samples = 0;
        for buf in buffers() {
            let mut u = Unstructured::new(&buf);
            let d = DatagramRepr::arbitrary(&mut u).unwrap();
            round_trip(&d);
            let (again, errors) = DatagramRepr::parse_with_errors(&d.to_bytes().unwrap()).unwrap();
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(format!("{again:?}"), format!("{d:?}"));
            samples += d.samples.len();

            round_trip(&Sample::arbitrary(&mut u).unwrap());
            round_trip(&FlowData::arbitrary(&mut u).unwrap());
            round_trip(&CounterData::arbitrary(&mut u).unwrap());
            round_trip(&Sample::Discarded(
                DiscardedPacket::arbitrary(&mut u).unwrap(),
            ));
            let f = FlowSample::arbitrary(&mut u).unwrap();
            round_trip(&Sample::Flow(f.clone()));
            round_trip(&Sample::ExpandedFlow(f));
            let c = CounterSample::arbitrary(&mut u).unwrap();
            round_trip(&Sample::Counters(c.clone()));
            round_trip(&Sample::ExpandedCounters(c));
        }
        assert!(samples > 300, "{samples} samples");
    }

    /// Every known format is generated, once each: a format added to the enums and not to
    /// the lists above fails here.
    #[test]
    fn every_known_format_is_generated() {
        type Pick<'p> = &'p dyn Fn(&mut Unstructured<'_>, usize) -> Option<(u32, u32)>;
        let zeros = [0u8; 64];
        let tags = |pick: Pick<'_>, n: usize| {
            let mut tags = BTreeSet::new();
            for i in 0..n {
                let tag = pick(&mut Unstructured::new(&zeros), i).unwrap();
                assert_eq!(tag.0, 0);
                assert!(tags.insert(tag.1), "format {} twice", tag.1);
            }
            assert!(pick(&mut Unstructured::new(&zeros), n).is_none());
            tags
        };
        let known = |is_known: fn(u32, u32) -> bool| -> BTreeSet<u32> {
            (0..=MAX_FORMAT).filter(|&f| is_known(0, f)).collect()
        };
        let flows = tags(
            &|u, i| flow_variant(u, i).unwrap().map(|v| v.tag()),
            FLOW_FORMATS,
        );
        assert_eq!(flows, known(FlowData::is_known));
        let counters = tags(
            &|u, i| counter_variant(u, i).unwrap().map(|v| v.tag()),
            COUNTER_FORMATS,
        );
        assert_eq!(counters, known(CounterData::is_known));
    }
}
