//! Owned samples.

use crate::error::{Error, Result};
use crate::repr::{CounterData, FlowData, join_tag};
use crate::wire::{Interface, RecordIter, SampleRef, SampleView, SourceId, sample_format};
use crate::xdr::{Opaque, Reader, Writer, Xdr};

/// A flow sample (compact 0:1 or expanded 0:3: which one is the [`Sample`] variant).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FlowSample {
    /// Sequence number, incremented per sample of this source.
    pub sequence: u32,
    /// Data source.
    pub source: SourceId,
    /// One packet in this many is sampled.
    pub sampling_rate: u32,
    /// Packets that could have been sampled.
    pub sample_pool: u32,
    /// Samples dropped for lack of resources.
    pub drops: u32,
    /// Input interface.
    pub input: Interface,
    /// Output interface.
    pub output: Interface,
    /// Flow records.
    pub records: Vec<FlowData>,
}

/// A counter sample (compact 0:2 or expanded 0:4).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CounterSample {
    /// Sequence number, incremented per sample of this source.
    pub sequence: u32,
    /// Data source.
    pub source: SourceId,
    /// Counter records.
    pub records: Vec<CounterData>,
}

/// A discarded-packet sample (0:5).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiscardedPacket {
    /// Sequence number.
    pub sequence: u32,
    /// Data source.
    pub source: SourceId,
    /// Discards not reported.
    pub drops: u32,
    /// Input ifIndex.
    pub input: u32,
    /// Output ifIndex.
    pub output: u32,
    /// Drop reason.
    pub reason: u32,
    /// Flow records of the discarded packet.
    pub records: Vec<FlowData>,
}

/// Any sample.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Sample {
    /// 0:1.
    Flow(FlowSample),
    /// 0:2.
    Counters(CounterSample),
    /// 0:3.
    ExpandedFlow(FlowSample),
    /// 0:4.
    ExpandedCounters(CounterSample),
    /// 0:5.
    Discarded(DiscardedPacket),
    /// Any other sample (or one whose fixed part did not decode), kept as it came.
    Unknown {
        /// Enterprise number.
        enterprise: u32,
        /// Format number.
        format: u32,
        /// The body.
        data: Opaque,
    },
}

fn flow_records(it: RecordIter<'_>, errors: &mut Vec<Error>) -> Result<Vec<FlowData>> {
    let mut v = Vec::new();
    for rec in it {
        let rec = rec?;
        let (d, e) = FlowData::decode_lenient(rec.enterprise, rec.format, rec.data, rec.offset);
        errors.extend(e);
        v.push(d);
    }
    Ok(v)
}

fn counter_records(it: RecordIter<'_>, errors: &mut Vec<Error>) -> Result<Vec<CounterData>> {
    let mut v = Vec::new();
    for rec in it {
        let rec = rec?;
        let (d, e) = CounterData::decode_lenient(rec.enterprise, rec.format, rec.data, rec.offset);
        errors.extend(e);
        v.push(d);
    }
    Ok(v)
}

impl Sample {
    /// `(enterprise, format)` of the sample.
    pub fn tag(&self) -> (u32, u32) {
        match self {
            Sample::Flow(_) => (0, sample_format::FLOW),
            Sample::Counters(_) => (0, sample_format::COUNTERS),
            Sample::ExpandedFlow(_) => (0, sample_format::EXPANDED_FLOW),
            Sample::ExpandedCounters(_) => (0, sample_format::EXPANDED_COUNTERS),
            Sample::Discarded(_) => (0, sample_format::DISCARDED),
            Sample::Unknown {
                enterprise, format, ..
            } => (*enterprise, *format),
        }
    }

    /// Decodes a sample from its envelope. Records that fail to decode are kept as
    /// `Unknown` and their errors pushed to `errors`; a sample whose fixed part or record list
    /// does not decode is kept whole as [`Sample::Unknown`] and its error pushed.
    pub fn from_ref(s: &SampleRef<'_>, errors: &mut Vec<Error>) -> Sample {
        let unknown = || Sample::Unknown {
            enterprise: s.enterprise,
            format: s.format,
            data: Opaque(s.data.to_vec()),
        };
        let res = (|| -> Result<Sample> {
            Ok(match s.view()? {
                SampleView::Flow(f) => {
                    let fs = FlowSample {
                        sequence: f.sequence,
                        source: f.source,
                        sampling_rate: f.sampling_rate,
                        sample_pool: f.sample_pool,
                        drops: f.drops,
                        input: f.input,
                        output: f.output,
                        records: flow_records(f.records, errors)?,
                    };
                    if f.expanded {
                        Sample::ExpandedFlow(fs)
                    } else {
                        Sample::Flow(fs)
                    }
                }
                SampleView::Counters(c) => {
                    let cs = CounterSample {
                        sequence: c.sequence,
                        source: c.source,
                        records: counter_records(c.records, errors)?,
                    };
                    if c.expanded {
                        Sample::ExpandedCounters(cs)
                    } else {
                        Sample::Counters(cs)
                    }
                }
                SampleView::Discarded(d) => Sample::Discarded(DiscardedPacket {
                    sequence: d.sequence,
                    source: d.source,
                    drops: d.drops,
                    input: d.input,
                    output: d.output,
                    reason: d.reason,
                    records: flow_records(d.records, errors)?,
                }),
                SampleView::Unknown(_) => unknown(),
            })
        })();
        match res {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                unknown()
            }
        }
    }

    fn body_len(&self) -> usize {
        match self {
            Sample::Flow(f) => 28 + f.records.xdr_len(),
            Sample::ExpandedFlow(f) => 40 + f.records.xdr_len(),
            Sample::Counters(c) => 8 + c.records.xdr_len(),
            Sample::ExpandedCounters(c) => 12 + c.records.xdr_len(),
            Sample::Discarded(d) => 28 + d.records.xdr_len(),
            Sample::Unknown { data, .. } => data.0.len(),
        }
    }

    fn write_body(&self, w: &mut Writer<'_>) {
        let compact_source = |w: &mut Writer<'_>, s: SourceId| match s.to_compact() {
            Some(v) => w.u32(v),
            None => w.invalid(
                "compact source id",
                u64::from(s.class) << 32 | u64::from(s.index),
            ),
        };
        let compact_if = |w: &mut Writer<'_>, i: Interface| match i.to_compact() {
            Some(v) => w.u32(v),
            None => w.invalid(
                "compact interface",
                u64::from(i.format) << 32 | u64::from(i.value),
            ),
        };
        match self {
            Sample::Flow(f) => {
                w.u32(f.sequence);
                compact_source(w, f.source);
                w.u32(f.sampling_rate);
                w.u32(f.sample_pool);
                w.u32(f.drops);
                compact_if(w, f.input);
                compact_if(w, f.output);
                f.records.write(w);
            }
            Sample::ExpandedFlow(f) => {
                w.u32(f.sequence);
                w.u32(f.source.class);
                w.u32(f.source.index);
                w.u32(f.sampling_rate);
                w.u32(f.sample_pool);
                w.u32(f.drops);
                w.u32(f.input.format);
                w.u32(f.input.value);
                w.u32(f.output.format);
                w.u32(f.output.value);
                f.records.write(w);
            }
            Sample::Counters(c) => {
                w.u32(c.sequence);
                compact_source(w, c.source);
                c.records.write(w);
            }
            Sample::ExpandedCounters(c) => {
                w.u32(c.sequence);
                w.u32(c.source.class);
                w.u32(c.source.index);
                c.records.write(w);
            }
            Sample::Discarded(d) => {
                w.u32(d.sequence);
                w.u32(d.source.class);
                w.u32(d.source.index);
                w.u32(d.drops);
                w.u32(d.input);
                w.u32(d.output);
                w.u32(d.reason);
                d.records.write(w);
            }
            Sample::Unknown { data, .. } => w.bytes(&data.0),
        }
    }
}

impl Xdr for Sample {
    /// Reads a sample; records that fail to decode are kept as `Unknown` (see
    /// [`Sample::from_ref`] to get their errors).
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let s = SampleRef::read(r)?;
        Ok(Sample::from_ref(&s, &mut Vec::new()))
    }
    fn xdr_len(&self) -> usize {
        8 + self.body_len()
    }
    fn write(&self, w: &mut Writer<'_>) {
        let (e, f) = self.tag();
        w.u32(join_tag(e, f));
        w.u32(u32::try_from(self.body_len()).unwrap_or(u32::MAX));
        self.write_body(w);
    }
    #[cfg(test)]
    fn generate(g: &mut crate::xdr::Gen) -> Self {
        let flow = |g: &mut crate::xdr::Gen, compact: bool| FlowSample {
            sequence: g.u64() as u32,
            source: if compact {
                SourceId::from_compact(g.u64() as u32)
            } else {
                SourceId {
                    class: g.u64() as u32,
                    index: g.u64() as u32,
                }
            },
            sampling_rate: g.u64() as u32,
            sample_pool: g.u64() as u32,
            drops: g.u64() as u32,
            input: if compact {
                Interface::from_compact(g.u64() as u32)
            } else {
                Interface {
                    format: g.below(3) as u32,
                    value: g.u64() as u32,
                }
            },
            output: if compact {
                Interface::from_compact(g.u64() as u32)
            } else {
                Interface {
                    format: g.below(3) as u32,
                    value: g.u64() as u32,
                }
            },
            records: Xdr::generate(g),
        };
        let counters = |g: &mut crate::xdr::Gen, compact: bool| CounterSample {
            sequence: g.u64() as u32,
            source: if compact {
                SourceId::from_compact(g.u64() as u32)
            } else {
                SourceId {
                    class: g.u64() as u32,
                    index: g.u64() as u32,
                }
            },
            records: Xdr::generate(g),
        };
        match g.below(6) {
            0 => Sample::Flow(flow(g, true)),
            1 => Sample::ExpandedFlow(flow(g, false)),
            2 => Sample::Counters(counters(g, true)),
            3 => Sample::ExpandedCounters(counters(g, false)),
            4 => Sample::Discarded(DiscardedPacket {
                sequence: g.u64() as u32,
                source: SourceId {
                    class: g.u64() as u32,
                    index: g.u64() as u32,
                },
                drops: g.u64() as u32,
                input: g.u64() as u32,
                output: g.u64() as u32,
                reason: g.u64() as u32,
                records: Xdr::generate(g),
            }),
            _ => {
                let (enterprise, format) = crate::repr::split_tag(g.u64() as u32 | (1 << 12));
                let n = g.len(3) * 4;
                Sample::Unknown {
                    enterprise,
                    format,
                    data: Opaque((0..n).map(|_| g.u64() as u8).collect()),
                }
            }
        }
    }
}
