//! Samples: the tag/length envelope and the fixed parts of flow (0:1, 0:3), counter (0:2,
//! 0:4) and discarded-packet (0:5) samples.

use crate::error::{Error, Result};
use crate::repr::split_tag;
use crate::wire::record::RecordIter;
use crate::xdr::Reader;

/// Sample formats (enterprise 0).
pub mod sample_format {
    /// flow_sample.
    pub const FLOW: u32 = 1;
    /// counters_sample.
    pub const COUNTERS: u32 = 2;
    /// flow_sample_expanded.
    pub const EXPANDED_FLOW: u32 = 3;
    /// counters_sample_expanded.
    pub const EXPANDED_COUNTERS: u32 = 4;
    /// discarded_packet (sFlow drops extension).
    pub const DISCARDED: u32 = 5;
}

/// A data source (`sflow_data_source`): class (0 ifIndex, 1 smonVlanDataSource, 2
/// entPhysicalEntry, ...) and index. Compact samples carry it as `class << 24 | index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SourceId {
    /// Source class.
    pub class: u32,
    /// Source index.
    pub index: u32,
}

impl SourceId {
    /// From the compact 32-bit form.
    pub const fn from_compact(raw: u32) -> Self {
        SourceId {
            class: raw >> 24,
            index: raw & 0x00ff_ffff,
        }
    }

    /// The compact 32-bit form, if class and index fit (8 and 24 bits).
    pub const fn to_compact(self) -> Option<u32> {
        if self.class > 0xff || self.index > 0x00ff_ffff {
            None
        } else {
            Some((self.class << 24) | self.index)
        }
    }
}

/// An input or output interface of a flow sample: a format and a value.
///
/// Format 0: the value is an ifIndex (0 unknown). Format 1: the packet was discarded, the value
/// is the reason. Format 2: the packet went to several interfaces, the value is their number
/// (0 unknown). Compact samples carry it as `format << 30 | value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Interface {
    /// 0 ifIndex, 1 discarded, 2 multiple.
    pub format: u32,
    /// ifIndex, discard reason or interface count.
    pub value: u32,
}

impl Interface {
    /// Format value: a single interface.
    pub const SINGLE: u32 = 0;
    /// Format value: discarded.
    pub const DISCARDED: u32 = 1;
    /// Format value: multiple interfaces.
    pub const MULTIPLE: u32 = 2;

    /// An interface by ifIndex.
    pub const fn if_index(index: u32) -> Self {
        Interface {
            format: 0,
            value: index,
        }
    }

    /// From the compact 32-bit form.
    pub const fn from_compact(raw: u32) -> Self {
        Interface {
            format: raw >> 30,
            value: raw & 0x3fff_ffff,
        }
    }

    /// The compact 32-bit form, if format and value fit (2 and 30 bits).
    pub const fn to_compact(self) -> Option<u32> {
        if self.format > 3 || self.value > 0x3fff_ffff {
            None
        } else {
            Some((self.format << 30) | self.value)
        }
    }

    /// The ifIndex, for format 0 (0 meaning unknown is returned as is).
    pub const fn index(self) -> Option<u32> {
        if self.format == Self::SINGLE {
            Some(self.value)
        } else {
            None
        }
    }
}

/// A sample's envelope: tag, and the body borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleRef<'a> {
    /// Absolute offset of the sample's tag.
    pub offset: usize,
    /// Enterprise number.
    pub enterprise: u32,
    /// Format number ([`sample_format`]).
    pub format: u32,
    /// The body.
    pub data: &'a [u8],
}

/// A sample parsed as far as its records.
#[derive(Debug, Clone, Copy)]
pub enum SampleView<'a> {
    /// 0:1 or 0:3.
    Flow(FlowSampleView<'a>),
    /// 0:2 or 0:4.
    Counters(CounterSampleView<'a>),
    /// 0:5.
    Discarded(DiscardedSampleView<'a>),
    /// Any other sample.
    Unknown(SampleRef<'a>),
}

/// The fixed part of a flow sample, compact or expanded, and its records.
#[derive(Debug, Clone, Copy)]
pub struct FlowSampleView<'a> {
    /// Absolute offset of the sample's tag.
    pub offset: usize,
    /// Whether the sample is the expanded form (0:3).
    pub expanded: bool,
    /// Sample sequence number (per source).
    pub sequence: u32,
    /// Data source.
    pub source: SourceId,
    /// One packet in `sampling_rate` is sampled.
    pub sampling_rate: u32,
    /// Packets that could have been sampled.
    pub sample_pool: u32,
    /// Packets dropped for lack of resources.
    pub drops: u32,
    /// Input interface.
    pub input: Interface,
    /// Output interface.
    pub output: Interface,
    /// The flow records.
    pub records: RecordIter<'a>,
}

/// The fixed part of a counter sample, compact or expanded, and its records.
#[derive(Debug, Clone, Copy)]
pub struct CounterSampleView<'a> {
    /// Absolute offset of the sample's tag.
    pub offset: usize,
    /// Whether the sample is the expanded form (0:4).
    pub expanded: bool,
    /// Sample sequence number (per source).
    pub sequence: u32,
    /// Data source.
    pub source: SourceId,
    /// The counter records.
    pub records: RecordIter<'a>,
}

/// The fixed part of a discarded-packet sample (0:5) and its flow records.
#[derive(Debug, Clone, Copy)]
pub struct DiscardedSampleView<'a> {
    /// Absolute offset of the sample's tag.
    pub offset: usize,
    /// Sequence number (per source).
    pub sequence: u32,
    /// Data source (expanded form).
    pub source: SourceId,
    /// Discards not reported for lack of resources.
    pub drops: u32,
    /// Input ifIndex (0 unknown).
    pub input: u32,
    /// Output ifIndex (0 unknown).
    pub output: u32,
    /// Drop reason code.
    pub reason: u32,
    /// The flow records describing the discarded packet.
    pub records: RecordIter<'a>,
}

impl<'a> SampleRef<'a> {
    /// Reads a sample envelope from a cursor.
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Self> {
        let offset = r.offset();
        let (enterprise, format) = split_tag(r.u32("sample tag")?);
        let len_at = r.offset();
        let len = r.u32("sample length")?;
        let available = r.remaining();
        let data = r
            .take(len as usize, "sample")
            .map_err(|_| Error::BadLength {
                offset: len_at,
                length: len,
                available,
                what: "sample",
            })?;
        Ok(SampleRef {
            offset,
            enterprise,
            format,
            data,
        })
    }

    /// Absolute offset of the body.
    pub fn body_offset(&self) -> usize {
        self.offset.saturating_add(8)
    }

    /// Parses the fixed part of the sample. A body too short for it is an
    /// [`Error::BadContentLength`].
    #[inline]
    pub fn view(&self) -> Result<SampleView<'a>> {
        if self.enterprise != 0 {
            return Ok(SampleView::Unknown(*self));
        }
        if matches!(
            self.format,
            sample_format::FLOW | sample_format::EXPANDED_FLOW
        ) && let Some(v) = self.flow_view_fast()
        {
            return Ok(SampleView::Flow(v));
        }
        let mut r = Reader::new(self.data, self.body_offset());
        let res = match self.format {
            sample_format::FLOW | sample_format::EXPANDED_FLOW => {
                self.flow_view(&mut r).map(SampleView::Flow)
            }
            sample_format::COUNTERS | sample_format::EXPANDED_COUNTERS => {
                self.counter_view(&mut r).map(SampleView::Counters)
            }
            sample_format::DISCARDED => self.discarded_view(&mut r).map(SampleView::Discarded),
            _ => return Ok(SampleView::Unknown(*self)),
        };
        res.map_err(|e| match e {
            Error::Truncated { offset, needed, .. } => Error::BadContentLength {
                offset: self.offset,
                what: "sample",
                enterprise: self.enterprise,
                format: self.format,
                declared: u32::try_from(self.data.len()).unwrap_or(u32::MAX),
                content: offset
                    .saturating_sub(self.body_offset())
                    .saturating_add(needed),
            },
            e => e,
        })
    }

    /// The record list. The count is not checked against the bytes here: the iterator yields
    /// the records that are present and then an error, so an overstated count still lets the
    /// records before it decode (each record takes at least 8 bytes, so it cannot spin).
    fn records(r: &mut Reader<'a>, what: &'static str) -> Result<RecordIter<'a>> {
        let count = r.u32(what)?;
        let base = r.offset();
        Ok(RecordIter::new(r.rest(), base, count, what))
    }

    /// The flow sample view read at fixed offsets, when the whole fixed part is there;
    /// `None` leaves it to the `Reader` path, which reports what is missing.
    pub(crate) fn flow_view_fast(&self) -> Option<FlowSampleView<'a>> {
        let expanded = self.format == sample_format::EXPANDED_FLOW;
        // Compact: sequence, source, rate, pool, drops, input, output, record count;
        // expanded: source and interfaces take two words each.
        let fixed_len = if expanded { 44 } else { 32 };
        let (fixed, rest) = self.data.split_at_checked(fixed_len)?;
        let w = |i: usize| {
            fixed
                .get(i * 4..i * 4 + 4)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u32::from_be_bytes)
        };
        let (source, input, output, count) = if expanded {
            (
                SourceId {
                    class: w(1),
                    index: w(2),
                },
                Interface {
                    format: w(6),
                    value: w(7),
                },
                Interface {
                    format: w(8),
                    value: w(9),
                },
                w(10),
            )
        } else {
            (
                SourceId::from_compact(w(1)),
                Interface::from_compact(w(5)),
                Interface::from_compact(w(6)),
                w(7),
            )
        };
        let k = if expanded { 3 } else { 2 };
        Some(FlowSampleView {
            offset: self.offset,
            expanded,
            sequence: w(0),
            source,
            sampling_rate: w(k),
            sample_pool: w(k + 1),
            drops: w(k + 2),
            input,
            output,
            records: RecordIter::new(
                rest,
                self.body_offset().saturating_add(fixed_len),
                count,
                "flow record",
            ),
        })
    }

    pub(crate) fn flow_view(&self, r: &mut Reader<'a>) -> Result<FlowSampleView<'a>> {
        let expanded = self.format == sample_format::EXPANDED_FLOW;
        let sequence = r.u32("flow sample")?;
        let source = if expanded {
            SourceId {
                class: r.u32("flow sample")?,
                index: r.u32("flow sample")?,
            }
        } else {
            SourceId::from_compact(r.u32("flow sample")?)
        };
        let sampling_rate = r.u32("flow sample")?;
        let sample_pool = r.u32("flow sample")?;
        let drops = r.u32("flow sample")?;
        let (input, output) = if expanded {
            let inf = r.u32("flow sample")?;
            let inv = r.u32("flow sample")?;
            let of = r.u32("flow sample")?;
            let ov = r.u32("flow sample")?;
            (
                Interface {
                    format: inf,
                    value: inv,
                },
                Interface {
                    format: of,
                    value: ov,
                },
            )
        } else {
            (
                Interface::from_compact(r.u32("flow sample")?),
                Interface::from_compact(r.u32("flow sample")?),
            )
        };
        Ok(FlowSampleView {
            offset: self.offset,
            expanded,
            sequence,
            source,
            sampling_rate,
            sample_pool,
            drops,
            input,
            output,
            records: Self::records(r, "flow record")?,
        })
    }

    fn counter_view(&self, r: &mut Reader<'a>) -> Result<CounterSampleView<'a>> {
        let expanded = self.format == sample_format::EXPANDED_COUNTERS;
        let sequence = r.u32("counter sample")?;
        let source = if expanded {
            SourceId {
                class: r.u32("counter sample")?,
                index: r.u32("counter sample")?,
            }
        } else {
            SourceId::from_compact(r.u32("counter sample")?)
        };
        Ok(CounterSampleView {
            offset: self.offset,
            expanded,
            sequence,
            source,
            records: Self::records(r, "counter record")?,
        })
    }

    fn discarded_view(&self, r: &mut Reader<'a>) -> Result<DiscardedSampleView<'a>> {
        let sequence = r.u32("discarded sample")?;
        let source = SourceId {
            class: r.u32("discarded sample")?,
            index: r.u32("discarded sample")?,
        };
        Ok(DiscardedSampleView {
            offset: self.offset,
            sequence,
            source,
            drops: r.u32("discarded sample")?,
            input: r.u32("discarded sample")?,
            output: r.u32("discarded sample")?,
            reason: r.u32("discarded sample")?,
            records: Self::records(r, "flow record")?,
        })
    }
}
