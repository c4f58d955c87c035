//! Steady-state decode allocates nothing: a counting global allocator around `System`
//! measures a session decoding v9 data (template with only typed fields) and v5 datagrams
//! into its reused `FlowRecord`.
#![allow(unsafe_code)] // the counting allocator's `unsafe impl GlobalAlloc`, nothing else

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use flowwire_netflow::record::{Decoder, FlowRecord, Timestamp};
use flowwire_netflow::session::Session;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    /// Counting is on for this thread only: the test harness's other threads allocate too.
    static COUNTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn counting() -> bool {
    COUNTING.try_with(|c| c.get()).unwrap_or(false)
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

fn count<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCS.store(0, Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCS.load(Ordering::SeqCst))
}

fn v9_header(seq: u32) -> Vec<u8> {
    let mut v = vec![0, 9, 0, 1, 0, 0, 0x03, 0xe8, 0x65, 0x53, 0xf1, 0x00];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 7]);
    v
}

/// Template 256: src/dst addr, ports, protocol, octets, packets, first/last switched, in/out if.
fn template_packet() -> Vec<u8> {
    let fields: [(u16, u16); 11] = [
        (8, 4),
        (12, 4),
        (7, 2),
        (11, 2),
        (4, 1),
        (1, 4),
        (2, 4),
        (22, 4),
        (21, 4),
        (10, 2),
        (14, 2),
    ];
    let mut v = v9_header(0);
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&(8 + 4 * fields.len() as u16).to_be_bytes());
    v.extend_from_slice(&[1, 0]);
    v.extend_from_slice(&(fields.len() as u16).to_be_bytes());
    for (t, l) in fields {
        v.extend_from_slice(&t.to_be_bytes());
        v.extend_from_slice(&l.to_be_bytes());
    }
    v
}

fn data_packet(seq: u32, records: usize) -> Vec<u8> {
    let rec: [u8; 33] = [
        10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0, 80, 6, 0, 0, 5, 220, 0, 0, 0, 3, 0, 0, 1, 0, 0, 0,
        2, 0, 0, 1, 0, 2,
    ];
    let mut v = v9_header(seq);
    let len = 4 + rec.len() * records;
    v.extend_from_slice(&[1, 0]);
    v.extend_from_slice(&(len as u16).to_be_bytes());
    for _ in 0..records {
        v.extend_from_slice(&rec);
    }
    v
}

#[test]
fn steady_state_decode_does_not_allocate() {
    let exporter: SocketAddr = "192.0.2.1:2055".parse().unwrap();
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let mut session = Session::default();
    let t = session.decode(exporter, now, &template_packet(), &mut |_: &FlowRecord| {});
    assert_eq!(t.errors, 0);
    let packets: Vec<Vec<u8>> = (1..=100).map(|s| data_packet(s, 20)).collect();
    // Warm up (hash tables, the reused record).
    session.decode(
        exporter,
        now,
        &data_packet(1000, 20),
        &mut |_: &FlowRecord| {},
    );

    let mut octets = 0u64;
    let (records, allocs) = count(|| {
        let mut n = 0;
        for p in &packets {
            let r = session.decode(exporter, now, p, &mut |r: &FlowRecord| {
                octets += r.octets().unwrap_or(0)
            });
            n += r.flows;
        }
        n
    });
    println!("v9: {records} records decoded with {allocs} allocations");
    assert_eq!(records, 2_000);
    assert_eq!(octets, 2_000 * 1500);
    assert_eq!(allocs, 0);

    // v5: 30 records per datagram.
    let mut v5 = vec![0u8; 24 + 30 * 48];
    v5[1] = 5;
    v5[3] = 30;
    session.decode(exporter, now, &v5, &mut |_: &FlowRecord| {});
    let (records, allocs) = count(|| {
        let mut n = 0;
        for _ in 0..100 {
            n += session
                .decode(exporter, now, &v5, &mut |_: &FlowRecord| {})
                .flows;
        }
        n
    });
    println!("v5: {records} records decoded with {allocs} allocations");
    assert_eq!(records, 3_000);
    assert_eq!(allocs, 0);
}
