//! Steady-state export allocates nothing per record: a counting global allocator around
//! `System` measures `V9Exporter::push` of 18-field records (two layouts, templates
//! refreshed every 20 packets). The only allocation is the finished packet handed out.
#![allow(unsafe_code)] // the counting allocator's `unsafe impl GlobalAlloc`, nothing else

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use flowwire_netflow::record::testing::typical_record;
use flowwire_netflow::record::{FlowRecord, Timestamp};

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

#[test]
fn steady_state_push_allocates_nothing_per_record() {
    use flowwire_netflow::record::Exporter;
    use flowwire_netflow::{V9Exporter, V9ExporterConfig};
    let boot = Timestamp::from_unix_secs(1_699_000_000);
    let now = Timestamp::from_unix_secs(1_700_000_001);
    let mut e = V9Exporter::new(V9ExporterConfig {
        boot: Some(boot),
        ..V9ExporterConfig::default()
    });
    let records: Vec<FlowRecord> = (0..20_000).map(typical_record).collect();
    let mut packets = 0usize;
    // Warm up: templates, plans, the packet buffer.
    for r in &records[..1000] {
        e.push(r, now, &mut |_| packets += 1).unwrap();
    }
    let mut total = 0;
    let (mut long, mut with_template, mut steady) = (0, 0, 0usize);
    for r in &records[1000..] {
        let (res, allocs) = count(|| {
            e.push(r, now, &mut |p| {
                packets += 1;
                steady += 1;
                long += usize::from(p.len() > 1400);
                with_template += usize::from(p[20..22] == [0, 0]);
            })
        });
        res.unwrap();
        assert_eq!(allocs, 0, "allocations for one record");
        total += allocs;
    }
    println!(
        "v9: {} records, {packets} packets, {total} allocations (packets are handed out as slices of one buffer)",
        records.len() - 1000
    );
    assert!(packets > 100);
    // The packets stay within the limit, and templates were refreshed on the way.
    assert_eq!(long, 0);
    assert!(with_template >= steady / 20, "{with_template} of {steady}");
}
