//! The exporters: [`FlowRecord`]s in, NetFlow datagrams out, through the one
//! [`Exporter`](flowwire_record::codec::Exporter) contract of the flowwire codecs.
//!
//! - [`V9Exporter`]: NetFlow v9 with templates derived from the records, re-sent at an
//!   interval; carries every typed field and every IANA extra.
//! - [`V5Exporter`]: NetFlow v5, fixed 48-octet IPv4 records, 30 per datagram; what Open
//!   vSwitch sends.
//!
//! Each module's docs have the table of what its protocol carries; what it cannot carry is
//! left out and counted in [`ExportStats`](flowwire_record::codec::ExportStats), or refused
//! when the exporter is strict, and [`Exporter::restrict`](flowwire_record::codec::Exporter::restrict)
//! is what a collector decodes.
//!
//! ```
//! use flowwire_netflow::{V9Exporter, V9ExporterConfig};
//! use flowwire_netflow::record::{Exporter, FlowRecord, Timestamp};
//!
//! let mut exporter = V9Exporter::new(V9ExporterConfig::default());
//! let flow = FlowRecord::default()
//!     .with_src_addr("10.0.0.1".parse()?)
//!     .with_dst_addr("10.0.0.2".parse()?)
//!     .with_octets(1500);
//! let now = Timestamp::from_unix_secs(1_700_000_000);
//! let mut packets: Vec<Vec<u8>> = Vec::new();
//! exporter.push(&flow, now, &mut |p| packets.push(p.to_vec()))?;
//! exporter.flush(now, &mut |p| packets.push(p.to_vec()))?;
//! assert_eq!(packets.len(), 1); // a template FlowSet and a data FlowSet
//! assert_eq!(exporter.stats().records, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod v5;
mod v9;

pub use v5::{V5Exporter, V5ExporterConfig};
pub use v9::{V9Exporter, V9ExporterConfig};

use std::borrow::Cow;

use flowwire_record::mapping::{self, TimeContext, TimeEncoding};
use flowwire_record::plan::reread;
use flowwire_record::registry::Registry;
use flowwire_record::{FlowRecord, Timestamp, Value};

/// How far from the export time a sysUptime-relative time may be and still decode to itself:
/// collectors read the 32-bit difference from the header's sysUptime as signed (±24.8 days,
/// which is what makes the 49.7-day wrap harmless); 24 days leaves most of a day for
/// datagrams flushed after their records were pushed.
pub(crate) const TIME_WINDOW_MS: i64 = 24 * 86_400_000;

/// `t` as a sysUptime-relative time carries it when pushed at `now`: to the millisecond
/// (floor), within [`TIME_WINDOW_MS`] of `now`.
pub(crate) fn carried_time(t: Timestamp, now: Timestamp) -> Timestamp {
    let now_ms = now.unix_millis();
    Timestamp::from_unix_millis(
        t.unix_millis()
            .clamp(now_ms - TIME_WINDOW_MS, now_ms + TIME_WINDOW_MS),
    )
}

/// `record` with its times moved within the window sysUptime carries around `now`; a copy
/// only when a time is outside it (the rare path).
pub(crate) fn times_carried(record: &FlowRecord, now: Timestamp) -> Cow<'_, FlowRecord> {
    if [record.start(), record.end()]
        .iter()
        .any(|t| out_of_window(*t, now))
    {
        let mut moved = record.clone();
        moved.set_start(record.start().map(|t| carried_time(t, now)));
        moved.set_end(record.end().map(|t| carried_time(t, now)));
        Cow::Owned(moved)
    } else {
        Cow::Borrowed(record)
    }
}

/// Whether `t` is outside the window a sysUptime-relative time can carry around `now`.
#[inline]
pub(crate) fn out_of_window(t: Option<Timestamp>, now: Timestamp) -> bool {
    t.is_some_and(|t| {
        // Milliseconds are floors, which move a difference by less than 1 ms: a time clearly
        // inside the window needs no divisions.
        let clearly_inside = (TIME_WINDOW_MS as u64 - 1) * 1_000_000;
        t.unix_nanos().abs_diff(now.unix_nanos()) >= clearly_inside
            && (t.unix_millis() - now.unix_millis()).abs() > TIME_WINDOW_MS
    })
}

/// The flow without what the message around it says (kind, exporter, agent, domain,
/// sequence, export time): the part an exporter carries.
pub(crate) fn content(flow: &FlowRecord) -> FlowRecord {
    let mut content = flow.clone();
    content.clear_context();
    content
}

/// `record` as a collector decodes it once written as elements: its elements in the order an
/// exporter writes them, read back by their registered types, applied with the
/// repeated-element rule ([`mapping::apply_all`]).
pub(crate) fn as_decoded(record: &FlowRecord, registry: &Registry) -> FlowRecord {
    let mut fields = Vec::new();
    // Milliseconds: the times were cut to them already, and NTP nanoseconds would wrap in
    // 2036.
    mapping::fields_into(record, TimeEncoding::Milliseconds, &mut fields);
    let owned: Vec<_> = fields
        .iter()
        .filter_map(|(f, v)| Some((*f, reread(*f, v, registry)?)))
        .collect();
    let values: Vec<(flowwire_record::FieldId, Value<'_>)> =
        owned.iter().map(|(f, v)| (*f, v.as_value())).collect();
    let mut out = FlowRecord::default();
    mapping::apply_all(&mut out, &values, &TimeContext::default());
    out
}
