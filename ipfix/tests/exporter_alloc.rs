//! Steady-state export allocates nothing per record: a counting global allocator around
//! `System` measures `Exporter::flow` of 18-field records (two layouts). The only allocations
//! are those of the finished messages handed out (and, when templates are due, of their
//! encoding at the start of a message).
#![allow(unsafe_code)] // the counting allocator's `unsafe impl GlobalAlloc`, nothing else

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use flowwire_ipfix::record::testing::typical_record;
use flowwire_ipfix::record::{FlowRecord, Timestamp};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Counting is on for this thread only (the test harness's threads are not counted).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: forwards every call unchanged to `System`, only counting allocations.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f`, returning its result and the allocations (and reallocations) it made.
fn count<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCS.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCS.load(Ordering::SeqCst) - before)
}

fn run(refresh: std::time::Duration, step_ms: u64) -> (usize, usize, usize) {
    use flowwire_ipfix::exporter::{Exporter, ExporterConfig};
    let start = 1_700_000_001_000u64;
    let cfg = ExporterConfig {
        template_refresh: refresh,
        ..ExporterConfig::default()
    };
    let mut e = Exporter::new(cfg);
    let records: Vec<FlowRecord> = (0..20_000).map(typical_record).collect();
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(4_000);
    // Warm up: templates, plans, the message buffer, the queue.
    for (i, r) in records[..1000].iter().enumerate() {
        let now = Timestamp::from_unix_millis(start + step_ms * i as u64);
        e.flow(r, now).unwrap();
        out.extend(e.drain());
    }
    out.clear();
    let (mut total, mut messages) = (0, 0);
    for (i, r) in records.iter().enumerate().skip(1000) {
        let now = Timestamp::from_unix_millis(start + step_ms * i as u64);
        let before = out.len();
        let (res, allocs) = count(|| {
            let res = e.flow(r, now);
            out.extend(e.drain());
            res
        });
        res.unwrap();
        let produced = out.len() - before;
        if produced == 0 {
            assert_eq!(allocs, 0, "record {i} allocated");
        }
        total += allocs;
        messages += produced;
    }
    assert!(
        out.iter()
            .all(|m| m.capacity() == m.len() && m.len() <= 1400)
    );
    (records.len() - 1000, messages, total)
}

#[test]
fn steady_state_flow_allocates_nothing_per_record() {
    // Templates not due: one allocation per message (the message handed out).
    let (records, messages, allocs) = run(std::time::Duration::from_secs(600), 0);
    println!("ipfix: {records} records, {messages} messages, {allocs} allocations");
    assert!(messages > 100);
    assert_eq!(allocs, messages);
    // Templates re-sent every 100 ms (a record every ms): still nothing per record.
    let (records, messages, allocs) = run(std::time::Duration::from_millis(100), 1);
    println!(
        "ipfix, templates refreshed: {records} records, {messages} messages, {allocs} allocations"
    );
    assert!(messages > 100);
}
