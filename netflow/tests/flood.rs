//! A flood of 1,000,000 distinct templates from 10,000 exporters: the session's memory stays
//! under its configured bound, measured with a peak-tracking global allocator, and what was
//! dropped is counted.
#![allow(unsafe_code)] // the counting allocator's `unsafe impl GlobalAlloc`, nothing else

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use flowwire_netflow::record::template_store::StoreLimits;
use flowwire_netflow::record::{Decoder, FlowRecord, Timestamp};
use flowwire_netflow::session::{Session, SessionConfig};

struct Peak;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to `System`, only keeping byte counts.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                - layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

const EXPORTERS: u32 = 10_000;
const TEMPLATES_PER_EXPORTER: u16 = 100;
const BOUND: usize = 16 << 20;

/// One datagram with `TEMPLATES_PER_EXPORTER` distinct 5-field templates.
fn templates_datagram(exporter: u32) -> Vec<u8> {
    let mut d = vec![0, 9, 0, 100, 0, 0, 0x03, 0xe8, 0x65, 0x53, 0xf1, 0x00];
    d.extend_from_slice(&exporter.to_be_bytes());
    d.extend_from_slice(&[0, 0, 0, 1]);
    let body_len = 4 + usize::from(TEMPLATES_PER_EXPORTER) * (4 + 5 * 4);
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(&(body_len as u16).to_be_bytes());
    for t in 0..TEMPLATES_PER_EXPORTER {
        d.extend_from_slice(&(256 + t).to_be_bytes());
        d.extend_from_slice(&5u16.to_be_bytes());
        for (ty, len) in [
            (8u16, 4u16),
            (12, 4),
            (7, 2),
            (11, 2),
            (1, 4 + (exporter % 5) as u16),
        ] {
            d.extend_from_slice(&ty.to_be_bytes());
            d.extend_from_slice(&len.to_be_bytes());
        }
    }
    d
}

#[test]
fn a_million_templates_from_ten_thousand_exporters_stay_under_the_bound() {
    let config = SessionConfig {
        limits: StoreLimits {
            max_total_bytes: BOUND,
            ..StoreLimits::default()
        },
        ..SessionConfig::default()
    };
    let datagrams: Vec<(SocketAddr, Vec<u8>)> = (0..EXPORTERS)
        .map(|i| {
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 2055);
            (addr, templates_datagram(i))
        })
        .collect();
    let mut session = Session::new(config);
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let mut offered = 0u64;
    let mut most_live = 0;
    for (addr, d) in &datagrams {
        // A sink that keeps nothing: the live heap is the session's alone.
        let report = session.decode(*addr, now, d, &mut |_: &FlowRecord| {});
        offered += TEMPLATES_PER_EXPORTER as u64;
        assert_eq!(report.errors, 0);
        let accounted = session.store().memory_bytes();
        assert!(accounted <= BOUND, "accounted {accounted} over the bound");
        // The accounting is what the bound is enforced on: it must not be below the heap
        // the session really holds (beyond the few bytes of its own scratch state, which
        // the first decode allocates).
        let live = LIVE.load(Ordering::SeqCst) - base;
        assert!(
            live <= accounted + 4096,
            "live heap {live} above the accounted {accounted}"
        );
        most_live = most_live.max(live);
    }
    let peak = PEAK.load(Ordering::SeqCst) - base;
    let stats = *session.store_stats();
    eprintln!(
        "offered {offered} templates from {EXPORTERS} exporters: held {} templates of {} exporters, \
         accounted {} bytes, live heap at most {most_live} bytes between datagrams and {peak} at \
         the peak inside one (bound {BOUND}); learned {} evicted {} templates / {} exporters",
        session.store().template_count(),
        session.store().exporter_count(),
        session.store().memory_bytes(),
        stats.learned,
        stats.evicted_templates,
        stats.evicted_exporters,
    );
    assert_eq!(offered, 1_000_000);
    assert_eq!(stats.learned, 1_000_000, "every template was learned once");
    assert_eq!(
        stats.learned,
        session.store().template_count() as u64 + stats.evicted_templates,
        "every template is held or counted as evicted"
    );
    assert!(stats.evicted_exporters > 0);
    // The real heap, not just the accounting, stays within the bound. Inside a decode a
    // table being resized holds its old and new allocations for a moment: the peak may pass
    // the bound by that much (the exporter table is the largest), not more.
    assert!(
        most_live <= BOUND,
        "live heap {most_live} over the bound {BOUND}"
    );
    assert!(
        peak <= BOUND + BOUND / 100,
        "peak heap {peak} over the bound {BOUND} by more than 1%"
    );
}
