//! Helpers shared by the fuzz targets: the framing of the stateful targets' input into a
//! sequence of datagrams from several fake exporters, and counter-monotonicity checks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One datagram of a stateful target's input.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// Which fake exporter sent it (index into [`exporter`]).
    pub exporter: usize,
    /// Seconds since the previous datagram.
    pub advance_secs: u64,
    /// Whether to run the session's `expire` before decoding it.
    pub expire: bool,
    /// The UDP payload.
    pub bytes: &'a [u8],
}

/// Number of distinct fake exporters the framing can name (more than the sessions' limits,
/// so that eviction happens).
pub const EXPORTERS: usize = 8;

/// The `i`th fake exporter: a mix of IPv4/IPv6, and two exporters on one address with
/// different ports (so that the address-only key policy merges them).
pub fn exporter(i: usize) -> SocketAddr {
    let i = i % EXPORTERS;
    let ip = match i {
        0 | 1 => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        2 => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        3 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        n => IpAddr::V4(Ipv4Addr::new(198, 51, 100, n as u8)),
    };
    SocketAddr::new(ip, 2055 + i as u16)
}

/// Splits a stateful target's input into datagrams. Each is framed by 4 bytes:
/// `flags_exporter` (bit 7: expire first; low bits: exporter index), `advance` (seconds since
/// the previous datagram), and a big-endian u16 length; the datagram follows (cut short at the
/// end of the input).
pub fn steps(mut data: &[u8]) -> impl Iterator<Item = Step<'_>> {
    std::iter::from_fn(move || {
        let (head, rest) = data.split_at_checked(4)?;
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let (bytes, rest) = rest.split_at(len.min(rest.len()));
        data = rest;
        Some(Step {
            exporter: usize::from(head[0] & 0x7f) % EXPORTERS,
            advance_secs: u64::from(head[1]),
            expire: head[0] & 0x80 != 0,
            bytes,
        })
    })
}

/// Frames datagrams the way [`steps`] reads them (for building seeds).
pub fn frame(exporter: u8, advance: u8, bytes: &[u8], out: &mut Vec<u8>) {
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.push(exporter);
    out.push(advance);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes[..usize::from(len)]);
}

/// Asserts that every counter in `now` is at least its value in `before`; `what` names the
/// counter set in the panic message.
#[track_caller]
pub fn assert_monotonic(what: &str, before: &[(&str, u64)], now: &[(&str, u64)]) {
    for ((name, b), (_, n)) in before.iter().zip(now) {
        assert!(n >= b, "{what}.{name} went backwards: {b} -> {n}");
    }
}

/// The counters of a template store, by name.
pub fn store_counters(s: &flowwire_record::template_store::StoreStats) -> Vec<(&'static str, u64)> {
    vec![
        ("learned", s.learned),
        ("replaced", s.replaced),
        ("refreshed", s.refreshed),
        ("withdrawn", s.withdrawn),
        ("expired", s.expired),
        ("evicted_templates", s.evicted_templates),
        ("evicted_exporters", s.evicted_exporters),
        ("rejected_limit", s.rejected_limit),
        ("rejected_invalid", s.rejected_invalid),
    ]
}

/// The counters of a pending buffer, by name.
pub fn pending_counters(
    s: Option<&flowwire_record::pending::PendingStats>,
) -> Vec<(&'static str, u64)> {
    let d = flowwire_record::pending::PendingStats::default();
    let s = s.unwrap_or(&d);
    vec![
        ("buffered", s.buffered),
        ("replayed", s.replayed),
        ("dropped", s.dropped),
        ("expired", s.expired),
    ]
}

/// Bytes a store may account beyond `max_total_bytes`: the exporter hash table and LRU index
/// (bounded by `max_exporters`), and one new domain's overhead before it is weighed.
pub const STORE_SLACK: usize = 8 << 10;

/// Asserts `a == b`, where NaN floats (not equal to themselves) count as equal when their
/// `Debug` forms are (the targets compare encoded bytes besides).
#[track_caller]
pub fn assert_same<T: PartialEq + std::fmt::Debug>(a: &T, b: &T, what: &str) {
    if a != b {
        let (da, db) = (format!("{a:?}"), format!("{b:?}"));
        assert!(da == db, "{what}\n  left: {da}\n right: {db}");
    }
}
