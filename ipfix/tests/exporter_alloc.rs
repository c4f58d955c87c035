//! Steady-state export allocates nothing per record: a counting global allocator around
//! `System` measures `Exporter::push` of 18-field records (two layouts). Messages are handed
//! out as borrowed bytes: the only allocations are the copies the caller makes of them (and,
//! when templates are due, their encoding at the start of a message).
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

/// Exports 19,000 records after a warm-up; `keep` copies each message handed out (one
/// allocation each). Returns (records, messages, allocations).
fn run(refresh: std::time::Duration, step_ms: i64, keep: bool) -> (usize, usize, usize) {
    use flowwire_ipfix::exporter::{Exporter, ExporterConfig};
    use flowwire_ipfix::record::codec::Exporter as _;
    let start = 1_700_000_001_000i64;
    let cfg = ExporterConfig {
        template_refresh: refresh,
        ..ExporterConfig::default()
    };
    let mut e = Exporter::new(cfg);
    let records: Vec<FlowRecord> = (0..20_000).map(typical_record).collect();
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(4_000);
    let mut sink = |m: &[u8]| {
        assert!(m.len() <= 1400);
        if keep {
            out.push(m.to_vec());
        }
    };
    // Warm up: templates, plans, the message buffer.
    for (i, r) in records[..1000].iter().enumerate() {
        let now = Timestamp::from_unix_millis(start + step_ms * i as i64);
        e.push(r, now, &mut sink).unwrap();
    }
    let (mut total, mut messages) = (0, 0);
    for (i, r) in records.iter().enumerate().skip(1000) {
        let now = Timestamp::from_unix_millis(start + step_ms * i as i64);
        let before = e.stats().datagrams as usize;
        let (res, allocs) = count(|| e.push(r, now, &mut sink));
        res.unwrap();
        let produced = e.stats().datagrams as usize - before;
        if produced == 0 {
            assert_eq!(allocs, 0, "record {i} allocated");
        }
        total += allocs;
        messages += produced;
    }
    (records.len() - 1000, messages, total)
}

#[test]
fn steady_state_flow_allocates_nothing_per_record() {
    // Templates not due, messages not kept: nothing at all.
    let (records, messages, allocs) = run(std::time::Duration::from_secs(600), 0, false);
    println!("ipfix: {records} records, {messages} messages, {allocs} allocations");
    assert!(messages > 100);
    assert_eq!(allocs, 0);
    // Messages kept: one allocation per message, the caller's copy.
    let (records, messages, allocs) = run(std::time::Duration::from_secs(600), 0, true);
    println!("ipfix, messages kept: {records} records, {messages} messages, {allocs} allocations");
    assert_eq!(allocs, messages);
    // Templates re-sent every 100 ms (a record every ms): still nothing per record.
    let (records, messages, allocs) = run(std::time::Duration::from_millis(100), 1, true);
    println!(
        "ipfix, templates refreshed: {records} records, {messages} messages, {allocs} allocations"
    );
    assert!(messages > 100);
}
