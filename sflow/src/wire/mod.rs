//! Zero-copy views over sFlow v5 datagrams.
//!
//! [`Datagram`] checks the fixed header once ([`Datagram::new_checked`]); after that no
//! accessor panics. [`Datagram::samples`] yields each sample as a [`SampleRef`] (tag, length,
//! borrowed body) and [`SampleRef::view`] parses a flow, counter or discarded-packet sample's
//! fixed part into a small `Copy` struct whose [`RecordIter`] yields the records, each as a
//! [`RecordRef`] borrowing its body. Iterators yield `Result` items and stop after an error
//! that leaves them unable to find the next item; an item whose declared length fits is
//! always skipped by that length, whatever its content.

mod datagram;
mod record;
mod sample;

pub use datagram::{Datagram, SampleIter, VERSION_5};
pub use record::{RecordIter, RecordRef};
pub use sample::{
    CounterSampleView, DiscardedSampleView, FlowSampleView, Interface, SampleRef, SampleView,
    SourceId, sample_format,
};

/// Reads a big-endian u32 at `at`, 0 when out of bounds (callers check lengths first).
pub(crate) fn be32(data: &[u8], at: usize) -> u32 {
    at.checked_add(4)
        .and_then(|end| data.get(at..end))
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}
