//! IPFIX over TCP through `flowwire::pipeline` on loopback: each connection is its own
//! transport session (clashing template ids decode apart), a hostile or stalled peer does not
//! hold up the others, connections beyond the limit are refused and counted.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowwire::pipeline::{Inputs, Pipeline, PipelineConfig, TcpConfig};
use flowwire::{DecodeError, Exporter as _, FlowRecord, Sink, Timestamp};

/// Flows and error texts, by exporter.
#[derive(Debug, Default, Clone)]
struct Seen {
    flows: Vec<(SocketAddr, FlowRecord)>,
    errors: Vec<(SocketAddr, String)>,
}

#[derive(Clone)]
struct Shared(Arc<Mutex<Seen>>);

impl Sink for Shared {
    fn flow(&mut self, flow: &FlowRecord) {
        let exporter = flow.exporter().expect("exporter");
        self.0.lock().unwrap().flows.push((exporter, flow.clone()));
    }
    fn error(&mut self, error: &DecodeError<'_>) {
        self.0
            .lock()
            .unwrap()
            .errors
            .push((error.exporter, error.to_string()));
    }
}

/// IPFIX messages of `flows` records built by `record`, from a fresh exporter (so template
/// ids start at 256 for every caller).
fn messages(flows: u32, record: impl Fn(u32) -> FlowRecord) -> Vec<u8> {
    let mut exporter = flowwire::ipfix::Exporter::new(Default::default());
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let mut out = Vec::new();
    for i in 0..flows {
        exporter
            .push(&record(i), now, &mut |d: &[u8]| out.extend_from_slice(d))
            .expect("encodable");
    }
    exporter
        .flush(now, &mut |d: &[u8]| out.extend_from_slice(d))
        .expect("encodable");
    out
}

fn v4(i: u32) -> FlowRecord {
    FlowRecord::default()
        .with_src_addr(std::net::Ipv4Addr::from(0x0a00_0000 + i).into())
        .with_dst_addr("192.0.2.1".parse().unwrap())
        .with_octets(u64::from(i))
}

fn v6(i: u32) -> FlowRecord {
    FlowRecord::default()
        .with_src_addr(std::net::Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(i)).into())
        .with_dst_port(443)
        .with_packets(u64::from(i) + 1)
}

fn start(tcp: TcpConfig) -> (Pipeline<Shared>, SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let config = PipelineConfig {
        decoders: 2,
        tcp,
        ..PipelineConfig::default()
    };
    let shared = Shared(Arc::clone(&seen));
    let pipeline = Pipeline::start_with(
        Inputs {
            udp: vec![],
            tcp: vec![listener],
        },
        config,
        move |_| shared.clone(),
    )
    .unwrap();
    (pipeline, addr, seen)
}

/// Waits until `done` holds of what was seen (at most 10 s).
fn wait_for(seen: &Arc<Mutex<Seen>>, done: impl Fn(&Seen) -> bool) -> Seen {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = seen.lock().unwrap().clone();
        if done(&s) || Instant::now() > deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn connections_with_clashing_template_ids_decode_apart() {
    let (pipeline, addr, seen) = start(TcpConfig::default());
    let (a, b) = (messages(3000, v4), messages(3000, v6));
    // Both define template 256, with different fields.
    assert_eq!(&a[20..22], &[1, 0]);
    assert_eq!(&b[20..22], &[1, 0]);
    let mut ca = TcpStream::connect(addr).unwrap();
    let mut cb = TcpStream::connect(addr).unwrap();
    let (pa, pb) = (ca.local_addr().unwrap(), cb.local_addr().unwrap());
    // Interleaved, in odd-sized pieces that cut messages anywhere.
    for (x, y) in a.chunks(977).zip(b.chunks(1231)) {
        ca.write_all(x).unwrap();
        cb.write_all(y).unwrap();
    }
    for x in a.chunks(977).skip(b.chunks(1231).count()) {
        ca.write_all(x).unwrap();
    }
    for y in b.chunks(1231).skip(a.chunks(977).count()) {
        cb.write_all(y).unwrap();
    }
    drop((ca, cb));
    let s = wait_for(&seen, |s| s.flows.len() >= 6000);
    let finished = pipeline.stop();
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let from = |p| s.flows.iter().filter(move |(e, _)| *e == p).map(|(_, f)| f);
    let got_a: Vec<_> = from(pa).collect();
    let got_b: Vec<_> = from(pb).collect();
    assert_eq!((got_a.len(), got_b.len()), (3000, 3000));
    for (i, f) in got_a.iter().enumerate() {
        assert_eq!(f.src_addr(), v4(i as u32).src_addr());
        assert_eq!(f.octets(), Some(i as u64));
    }
    for (i, f) in got_b.iter().enumerate() {
        assert_eq!(f.src_addr(), v6(i as u32).src_addr());
        assert_eq!(f.packets(), Some(i as u64 + 1));
    }
    assert_eq!(finished.stats.tcp_accepted, 2);
    assert_eq!(finished.stats.tcp_open, 0);
    assert!(finished.stats.tcp_messages > 2);
    // TCP connections' templates are not part of the saved state: they died with them.
    assert_eq!(finished.state.template_count(), 0);
}

#[test]
fn a_hostile_or_stalled_peer_does_not_hold_up_the_others() {
    let (pipeline, addr, seen) = start(TcpConfig::default());
    // One sends half a message and goes quiet; one sends garbage.
    let good = messages(500, v4);
    let mut stalled = TcpStream::connect(addr).unwrap();
    let first = usize::from(u16::from_be_bytes([good[2], good[3]]));
    stalled.write_all(&good[..first / 2]).unwrap();
    let mut hostile = TcpStream::connect(addr).unwrap();
    let hostile_addr = hostile.local_addr().unwrap();
    hostile.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(&good).unwrap();
    drop(c);
    let s = wait_for(&seen, |s| s.flows.len() >= 500 && !s.errors.is_empty());
    assert_eq!(s.flows.len(), 500);
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    assert_eq!(s.errors[0].0, hostile_addr);
    assert!(s.errors[0].1.contains("version"), "{}", s.errors[0].1);
    let stats = pipeline.stats();
    assert_eq!(stats.tcp_stream_errors, 1);
    let finished = pipeline.stop();
    drop(stalled);
    let errors: u64 = finished
        .exporters
        .iter()
        .filter(|(a, _, _)| *a == hostile_addr)
        .map(|(_, _, s)| s.errors)
        .sum();
    assert_eq!(errors, 1, "counted as the hostile exporter's error");
}

#[test]
fn connections_beyond_the_limit_are_refused_and_idle_ones_closed() {
    let (pipeline, addr, _) = start(TcpConfig {
        max_connections: 2,
        idle_timeout: Some(Duration::from_millis(300)),
    });
    let first = TcpStream::connect(addr).unwrap();
    let second = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let third = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let stats = pipeline.stats();
    assert_eq!(
        (stats.tcp_accepted, stats.tcp_refused, stats.tcp_open),
        (2, 1, 2)
    );
    // Quiet for longer than the idle timeout: both closed.
    let deadline = Instant::now() + Duration::from_secs(5);
    while pipeline.stats().tcp_open > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let stats = pipeline.stop().stats;
    assert_eq!((stats.tcp_open, stats.tcp_idle_closed), (0, 2));
    drop((first, second, third));
}
