//! [`Pipeline`]: a live collector that keeps up with bursts. One thread per UDP socket does
//! nothing but drain it into a bounded in-memory queue of datagram batches, so a burst is
//! absorbed by memory instead of overflowing the kernel's receive buffer; decoder threads
//! (one [`Collector`] each, exporters spread over them by address, so an exporter's template
//! state stays with one of them) take the batches and hand the records to a [`Sink`] of
//! yours, built once per decoder thread.
//!
//! Nothing is lost silently: datagrams the queue had no room for are counted in
//! [`PipelineStats::queue_dropped`], and [`kernel_drops`] reads what the kernel dropped.
//!
//! IPFIX over TCP (RFC 7011 §10.4, [`Inputs::tcp`]): each accepted connection gets a thread
//! that reassembles its messages in a fixed buffer ([`StreamBuffer`](flowwire_ipfix::StreamBuffer))
//! and queues them like datagrams; a connection is its own transport session, its templates
//! kept (without a lifetime, as RFC 7011 §8 has it for TCP) until it closes. Connections are
//! bounded in number ([`TcpConfig::max_connections`]; more are refused and counted) and closed
//! when idle or out of step; a full queue makes a connection wait (TCP's own flow control
//! slows that exporter) instead of dropping, and never holds up the others.
//!
//! While running, [`Pipeline::snapshot`] takes the decoders' learned state (to save, see
//! [`crate::state`]) and [`Pipeline::exporter_stats`] the per-exporter counters, published by
//! each decoder every [`PipelineConfig::publish_every`]; [`PipelineConfig::restore`] starts
//! from a saved state.
//!
//! ```no_run
//! use std::net::UdpSocket;
//! use flowwire::pipeline::{Pipeline, PipelineConfig};
//! use flowwire::FlowRecord;
//!
//! let socket = UdpSocket::bind("0.0.0.0:2055")?;
//! let pipeline = Pipeline::start(vec![socket], PipelineConfig::default(), |_worker| {
//!     |flow: &FlowRecord| println!("{:?} -> {:?}", flow.src_addr(), flow.dst_addr())
//! })?;
//! // ... later, e.g. on SIGTERM: stop receiving, decode what is queued, join the threads.
//! let finished = pipeline.stop();
//! eprintln!("{:?}", finished.stats);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// With a codec left out, parts of this module go unused.
#![cfg_attr(not(feature = "ipfix"), allow(unused_variables, unused_mut, dead_code))]

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flowwire_record::codec::{Decoder, Sink};
use flowwire_record::{ProtocolKind, Timestamp};

use crate::collector::{Collector, CollectorConfig, ExporterStats};
use crate::state::CollectorState;

/// What a [`Pipeline`] receives from.
#[derive(Debug, Default)]
pub struct Inputs {
    /// UDP sockets, bound already (any protocol).
    pub udp: Vec<UdpSocket>,
    /// TCP listeners, bound already: IPFIX over TCP.
    pub tcp: Vec<TcpListener>,
}

/// How IPFIX-over-TCP connections are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConfig {
    /// Connections open at once, over all listeners (default 256); more are closed at once
    /// and counted in [`PipelineStats::tcp_refused`].
    pub max_connections: usize,
    /// A connection that sends nothing for this long is closed (default 5 minutes; `None`:
    /// never).
    pub idle_timeout: Option<Duration>,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            max_connections: 256,
            idle_timeout: Some(Duration::from_secs(300)),
        }
    }
}

/// How a [`Pipeline`] queues and decodes.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Octets of datagrams the queue holds at most, over all decoder threads (default
    /// 256 MiB). A burst beyond it is dropped and counted, never blocks the receivers.
    pub queue_bytes: usize,
    /// Decoder threads (default 1; 0 is taken as 1). Each exporter address is decoded by one
    /// of them, always the same.
    pub decoders: usize,
    /// Datagrams per batch handed from a receiver to a decoder (default 64).
    pub batch: usize,
    /// How long a receiver waits for the next datagram before it hands over a batch that is
    /// not full (default 5 ms): the most a quiet exporter's records wait in the queue.
    pub linger: Duration,
    /// Stop receiving after this many datagrams in all (bounded runs and tests; default
    /// none). [`Pipeline::is_done`] tells when they have arrived.
    pub max_datagrams: Option<u64>,
    /// Each decoder's collector configuration (IPFIX-over-TCP connections use it too, with
    /// no template lifetime and exporters told apart by address and port).
    pub collector: CollectorConfig,
    /// IPFIX over TCP.
    pub tcp: TcpConfig,
    /// A saved state to start from: each decoder restores its exporters' share.
    pub restore: Option<Arc<CollectorState>>,
    /// How often each decoder publishes its per-exporter counters for
    /// [`Pipeline::exporter_stats`] (default 250 ms; also whenever it goes idle).
    pub publish_every: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            queue_bytes: 256 << 20,
            decoders: 1,
            batch: 64,
            linger: Duration::from_millis(5),
            max_datagrams: None,
            collector: CollectorConfig::default(),
            tcp: TcpConfig::default(),
            restore: None,
            publish_every: Duration::from_millis(250),
        }
    }
}

/// Counters of a running or finished [`Pipeline`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PipelineStats {
    /// Datagrams received from the sockets.
    pub received: u64,
    /// Octets received.
    pub received_bytes: u64,
    /// System calls that received datagrams (`recvmmsg` on Linux takes several at a time:
    /// `received / receive_calls` is the batch the kernel had ready).
    pub receive_calls: u64,
    /// Datagrams dropped because the queue was full.
    pub queue_dropped: u64,
    /// Datagrams and TCP messages decoded.
    pub decoded: u64,
    /// The most octets the queue held at once.
    pub queue_peak_bytes: u64,
    /// TCP connections accepted.
    pub tcp_accepted: u64,
    /// TCP connections refused because [`TcpConfig::max_connections`] were open.
    pub tcp_refused: u64,
    /// TCP connections open now.
    pub tcp_open: u64,
    /// IPFIX messages received over TCP.
    pub tcp_messages: u64,
    /// Octets received over TCP.
    pub tcp_bytes: u64,
    /// TCP connections closed because their stream was out of step (not IPFIX, a bad
    /// message length), reported to the sink as errors of that exporter.
    pub tcp_stream_errors: u64,
    /// TCP connections closed for being idle longer than [`TcpConfig::idle_timeout`].
    pub tcp_idle_closed: u64,
}

/// Datagrams that travel together from a receiver to a decoder: their octets back to back.
struct Batch {
    bytes: Vec<u8>,
    /// (source, time received, end of the datagram in `bytes`).
    datagrams: Vec<(SocketAddr, Timestamp, usize)>,
    /// Messages of a TCP connection (decoded by the decoder's TCP collector).
    tcp: bool,
}

impl Batch {
    fn with_capacity(datagrams: usize) -> Self {
        Batch {
            bytes: Vec::new(),
            datagrams: Vec::with_capacity(datagrams),
            tcp: false,
        }
    }
}

/// What a decoder thread is handed.
enum Work {
    Batch(Batch),
    /// A TCP connection ended: its templates go with it.
    Closed(SocketAddr),
    /// A TCP connection was out of step: reported as that exporter's error.
    #[cfg(feature = "ipfix")]
    StreamError(SocketAddr, flowwire_ipfix::Error),
    /// Send back the decoder's learned state.
    Snapshot(mpsc::Sender<CollectorState>),
}

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    received_bytes: AtomicU64,
    receive_calls: AtomicU64,
    queue_dropped: AtomicU64,
    decoded: AtomicU64,
    queued_bytes: AtomicUsize,
    queue_peak_bytes: AtomicUsize,
    tcp_accepted: AtomicU64,
    tcp_refused: AtomicU64,
    tcp_open: AtomicU64,
    tcp_messages: AtomicU64,
    tcp_bytes: AtomicU64,
    tcp_stream_errors: AtomicU64,
    tcp_idle_closed: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> PipelineStats {
        PipelineStats {
            received: self.received.load(Ordering::Relaxed),
            received_bytes: self.received_bytes.load(Ordering::Relaxed),
            receive_calls: self.receive_calls.load(Ordering::Relaxed),
            queue_dropped: self.queue_dropped.load(Ordering::Relaxed),
            decoded: self.decoded.load(Ordering::Relaxed),
            queue_peak_bytes: self.queue_peak_bytes.load(Ordering::Relaxed) as u64,
            tcp_accepted: self.tcp_accepted.load(Ordering::Relaxed),
            tcp_refused: self.tcp_refused.load(Ordering::Relaxed),
            tcp_open: self.tcp_open.load(Ordering::Relaxed),
            tcp_messages: self.tcp_messages.load(Ordering::Relaxed),
            tcp_bytes: self.tcp_bytes.load(Ordering::Relaxed),
            tcp_stream_errors: self.tcp_stream_errors.load(Ordering::Relaxed),
            tcp_idle_closed: self.tcp_idle_closed.load(Ordering::Relaxed),
        }
    }
}

/// What a stopped [`Pipeline`] leaves: its counters, each decoder's sink and per-exporter
/// counters, and the sockets (still open, so [`kernel_drops`] can still read their counters).
#[derive(Debug)]
pub struct Finished<S> {
    /// The pipeline's counters.
    pub stats: PipelineStats,
    /// Each decoder thread's sink, in thread order.
    pub sinks: Vec<S>,
    /// Per exporter and protocol, summed over the decoders.
    pub exporters: Vec<(SocketAddr, ProtocolKind, ExporterStats)>,
    /// The learned state of every decoder (UDP exporters; TCP connections have ended), to
    /// save with [`CollectorState::save`].
    pub state: CollectorState,
    /// The sockets, still bound.
    pub sockets: Vec<UdpSocket>,
}

/// One exporter's counters, for one protocol.
type PublishedStats = (SocketAddr, ProtocolKind, ExporterStats);

/// Per-exporter counters as each decoder last published them.
type Published = Arc<Mutex<Vec<Vec<PublishedStats>>>>;

/// A running receive → queue → decode pipeline; see the module docs.
pub struct Pipeline<S> {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    receivers: Vec<JoinHandle<io::Result<UdpSocket>>>,
    acceptors: Vec<JoinHandle<()>>,
    /// For snapshot requests; dropped before the decoders are joined.
    to_decoders: Vec<SyncSender<Work>>,
    decoders: Vec<JoinHandle<(S, Collector)>>,
    published: Published,
}

impl<S> std::fmt::Debug for Pipeline<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("stats", &self.stats())
            .field("receivers", &self.receivers.len())
            .field("decoders", &self.decoders.len())
            .finish()
    }
}

impl<S> Pipeline<S> {
    /// Whether receiving has stopped on its own: [`PipelineConfig::max_datagrams`] reached.
    pub fn is_done(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The counters so far.
    pub fn stats(&self) -> PipelineStats {
        self.counters.snapshot()
    }

    /// Per exporter and protocol, summed over the decoders, as last published (at most
    /// [`PipelineConfig::publish_every`] old while datagrams flow).
    pub fn exporter_stats(&self) -> Vec<(SocketAddr, ProtocolKind, ExporterStats)> {
        self.monitor().exporter_stats()
    }

    /// A handle that reads the counters from another thread (a metrics server, say), for as
    /// long as it likes: it outlives the pipeline.
    pub fn monitor(&self) -> Monitor {
        Monitor {
            counters: Arc::clone(&self.counters),
            published: Arc::clone(&self.published),
        }
    }

    /// The learned state of every decoder (UDP exporters), taken between two batches: what
    /// a collector saves now and then so that a crash loses little. `None` when a decoder
    /// did not answer within `timeout` (a long backlog ahead of the request).
    pub fn snapshot(&self, timeout: Duration) -> Option<CollectorState> {
        let deadline = Instant::now() + timeout;
        let (tx, rx) = mpsc::channel();
        for to in &self.to_decoders {
            let mut work = Work::Snapshot(tx.clone());
            loop {
                match to.try_send(work) {
                    Ok(()) => break,
                    Err(TrySendError::Full(w)) if Instant::now() < deadline => {
                        work = w;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(_) => return None,
                }
            }
        }
        drop(tx);
        let mut state = CollectorState::new(Timestamp::now());
        for _ in 0..self.to_decoders.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            state.merge(rx.recv_timeout(left).ok()?);
        }
        Some(state)
    }
}

/// Reads a [`Pipeline`]'s counters from any thread; see [`Pipeline::monitor`].
#[derive(Clone)]
pub struct Monitor {
    counters: Arc<Counters>,
    published: Published,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Monitor {
    /// The pipeline's counters so far.
    pub fn stats(&self) -> PipelineStats {
        self.counters.snapshot()
    }

    /// Per exporter and protocol, summed over the decoders, as last published.
    pub fn exporter_stats(&self) -> Vec<(SocketAddr, ProtocolKind, ExporterStats)> {
        let published = lock(&self.published);
        merge(published.iter().flatten().map(|(a, k, s)| (*a, *k, s)))
    }
}

fn merge<'a>(
    stats: impl Iterator<Item = (SocketAddr, ProtocolKind, &'a ExporterStats)>,
) -> Vec<(SocketAddr, ProtocolKind, ExporterStats)> {
    let mut merged: BTreeMap<(SocketAddr, ProtocolKind), ExporterStats> = BTreeMap::new();
    for (a, k, s) in stats {
        merged.entry((a, k)).or_default().add(s);
    }
    merged.into_iter().map(|((a, k), s)| (a, k, s)).collect()
}

impl<S: Sink + Send + 'static> Pipeline<S> {
    /// Starts receiving on UDP `sockets` (bound already; their read timeout is set to
    /// `config.linger`) and decoding into the sinks `make_sink(i)` builds, one per decoder
    /// thread `i`.
    pub fn start(
        sockets: Vec<UdpSocket>,
        config: PipelineConfig,
        make_sink: impl FnMut(usize) -> S,
    ) -> io::Result<Self> {
        Self::start_with(
            Inputs {
                udp: sockets,
                tcp: Vec::new(),
            },
            config,
            make_sink,
        )
    }

    /// [`start`](Self::start) with UDP sockets and TCP listeners (IPFIX over TCP; without
    /// the `ipfix` feature, connections are closed at once).
    pub fn start_with(
        inputs: Inputs,
        config: PipelineConfig,
        mut make_sink: impl FnMut(usize) -> S,
    ) -> io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let n = config.decoders.max(1);
        let batch = config.batch.max(1);
        // Room for every batch the byte bound allows, small datagrams included, so the
        // channel never fills before the byte bound does.
        let slots = (config.queue_bytes / 64 / batch).clamp(16, 1 << 16);
        let (mut to_decoders, mut from_receivers) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let (tx, rx) = mpsc::sync_channel::<Work>(slots);
            to_decoders.push(tx);
            from_receivers.push(rx);
        }
        // Emptied batches go back to the receivers, so a steady state allocates nothing.
        let (recycle_tx, recycle_rx) = mpsc::channel::<Batch>();
        let recycle_rx = Arc::new(Mutex::new(recycle_rx));
        let published: Published = Arc::new(Mutex::new(vec![Vec::new(); n]));
        let mut decoders = Vec::new();
        for (i, rx) in from_receivers.into_iter().enumerate() {
            let mut collector = Collector::new(config.collector.clone());
            if let Some(state) = &config.restore {
                let mut mine = CollectorState::clone(state);
                mine.retain(|exporter| shard(exporter, n) == i);
                // A state that does not restore leaves the decoder empty; the caller checked
                // it with `Collector::restore` if it cares to report why.
                let _ = collector.restore(&mine, Timestamp::now());
            }
            let d = Decode {
                sink: make_sink(i),
                udp: collector,
                tcp: Collector::new(tcp_collector(&config.collector)),
                counters: Arc::clone(&counters),
                recycle: recycle_tx.clone(),
                published: Arc::clone(&published),
                index: i,
                publish_every: config.publish_every.max(Duration::from_millis(1)),
            };
            decoders.push(
                std::thread::Builder::new()
                    .name(format!("flowwire-decode-{i}"))
                    .spawn(move || d.run(rx))?,
            );
        }
        let mut acceptors = Vec::new();
        for (i, listener) in inputs.tcp.into_iter().enumerate() {
            listener.set_nonblocking(true)?;
            let accept = Accept {
                stop: Arc::clone(&stop),
                counters: Arc::clone(&counters),
                to: to_decoders.clone(),
                tcp: config.tcp,
                queue_bytes: config.queue_bytes,
                batch,
                linger: config.linger,
            };
            acceptors.push(
                std::thread::Builder::new()
                    .name(format!("flowwire-accept-{i}"))
                    .spawn(move || accept.run(listener))?,
            );
        }
        let mut receivers = Vec::new();
        for (i, socket) in inputs.udp.into_iter().enumerate() {
            socket.set_read_timeout(Some(config.linger.max(Duration::from_micros(100))))?;
            let ctx = Receive {
                stop: Arc::clone(&stop),
                counters: Arc::clone(&counters),
                to: to_decoders.clone(),
                recycle: Arc::clone(&recycle_rx),
                batch,
                queue_bytes: config.queue_bytes,
                limit: config.max_datagrams,
            };
            receivers.push(
                std::thread::Builder::new()
                    .name(format!("flowwire-recv-{i}"))
                    .spawn(move || ctx.run(socket))?,
            );
        }
        Ok(Pipeline {
            stop,
            counters,
            receivers,
            acceptors,
            to_decoders,
            decoders,
            published,
        })
    }

    /// Stops receiving, decodes everything still queued, and returns the sinks and counters
    /// (a receiving thread's socket error is dropped: see [`finish`](Self::finish)).
    pub fn stop(self) -> Finished<S> {
        self.finish().0
    }

    /// [`stop`](Self::stop), also returning the first socket error a receiver ended with.
    pub fn finish(self) -> (Finished<S>, Option<io::Error>) {
        self.stop.store(true, Ordering::Relaxed);
        let mut sockets = Vec::new();
        let mut error = None;
        for r in self.receivers {
            match r.join() {
                Ok(Ok(s)) => sockets.push(s),
                Ok(Err(e)) => {
                    error.get_or_insert(e);
                }
                Err(_) => {
                    error.get_or_insert(io::Error::other("a receiving thread panicked"));
                }
            }
        }
        for a in self.acceptors {
            if a.join().is_err() {
                error.get_or_insert(io::Error::other("a TCP accepting thread panicked"));
            }
        }
        // The receivers and connections held the other senders: the decoders drain their
        // queues and end.
        drop(self.to_decoders);
        let mut sinks = Vec::new();
        let mut collectors = Vec::new();
        let mut state = CollectorState::new(Timestamp::now());
        for d in self.decoders {
            if let Ok((sink, collector)) = d.join() {
                state.merge(collector.snapshot(Timestamp::now()));
                collectors.push(collector);
                sinks.push(sink);
            } else {
                error.get_or_insert(io::Error::other("a decoding thread panicked"));
            }
        }
        let exporters = merge(collectors.iter().flat_map(Collector::exporter_stats));
        let finished = Finished {
            stats: self.counters.snapshot(),
            sinks,
            exporters,
            state,
            sockets,
        };
        (finished, error)
    }
}

/// One receiving thread's share of the pipeline.
struct Receive {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    to: Vec<SyncSender<Work>>,
    recycle: Arc<Mutex<Receiver<Batch>>>,
    batch: usize,
    queue_bytes: usize,
    limit: Option<u64>,
}

/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

/// Receives datagrams several at a time: on Linux with one `recvmmsg` call (blocking, up to
/// the socket's read timeout, for the first; taking whatever else is already queued),
/// elsewhere one `recv_from` per call.
struct Many {
    buffers: Vec<Vec<u8>>,
    /// (length, source) of what the last call received, in `buffers` order.
    got: Vec<(usize, Option<SocketAddr>)>,
    #[cfg(target_os = "linux")]
    headers: nix::sys::socket::MultiHeaders<nix::sys::socket::SockaddrStorage>,
}

impl Many {
    fn new(n: usize) -> Self {
        #[cfg(not(target_os = "linux"))]
        let n = n.min(1);
        Many {
            buffers: (0..n).map(|_| vec![0u8; MAX_DATAGRAM]).collect(),
            got: Vec::with_capacity(n),
            #[cfg(target_os = "linux")]
            headers: nix::sys::socket::MultiHeaders::preallocate(n, None),
        }
    }

    #[cfg(target_os = "linux")]
    fn recv(&mut self, socket: &UdpSocket) -> io::Result<()> {
        use nix::sys::socket::{MsgFlags, recvmmsg};
        use std::os::fd::AsRawFd as _;
        self.got.clear();
        let mut slices: Vec<[io::IoSliceMut<'_>; 1]> = self
            .buffers
            .iter_mut()
            .map(|b| [io::IoSliceMut::new(b)])
            .collect();
        let received = recvmmsg(
            socket.as_raw_fd(),
            &mut self.headers,
            slices.iter_mut(),
            MsgFlags::MSG_WAITFORONE,
            None,
        )
        .map_err(io::Error::from)?;
        for r in received {
            let source = r.address.and_then(|a| {
                if let Some(v4) = a.as_sockaddr_in() {
                    Some(SocketAddr::V4((*v4).into()))
                } else {
                    a.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
                }
            });
            self.got.push((r.bytes, source));
        }
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    fn recv(&mut self, socket: &UdpSocket) -> io::Result<()> {
        self.got.clear();
        if let Some(buf) = self.buffers.first_mut() {
            let (n, src) = socket.recv_from(buf)?;
            self.got.push((n, Some(src)));
        }
        Ok(())
    }

    /// What the last [`recv`](Self::recv) received: (source, payload).
    fn received(&self) -> impl Iterator<Item = (SocketAddr, &[u8])> + '_ {
        self.got
            .iter()
            .zip(&self.buffers)
            .filter_map(|(&(n, src), buf)| Some((src?, buf.get(..n)?)))
    }
}

impl Receive {
    fn run(self, socket: UdpSocket) -> io::Result<UdpSocket> {
        let n = self.to.len();
        let mut open: Vec<Batch> = (0..n).map(|_| self.fresh()).collect();
        let mut many = Many::new(self.batch.clamp(1, 64));
        while !self.stop.load(Ordering::Relaxed) {
            match many.recv(&socket) {
                Ok(()) => {
                    let now = Timestamp::now();
                    self.counters.receive_calls.fetch_add(1, Ordering::Relaxed);
                    for (src, payload) in many.received() {
                        if !self.count_one() {
                            break;
                        }
                        self.counters
                            .received_bytes
                            .fetch_add(payload.len() as u64, Ordering::Relaxed);
                        let i = if n == 1 { 0 } else { shard(src, n) };
                        if let Some(b) = open.get_mut(i) {
                            b.bytes.extend_from_slice(payload);
                            b.datagrams.push((src, now, b.bytes.len()));
                            if b.datagrams.len() >= self.batch {
                                let full = core::mem::replace(b, self.fresh());
                                self.hand_over(i, full);
                            }
                        }
                    }
                }
                Err(e) if is_quiet(&e) => {
                    // Quiet for a moment: what waits goes out now.
                    self.flush(&mut open);
                }
                Err(e) => {
                    self.flush(&mut open);
                    return Err(e);
                }
            }
        }
        self.flush(&mut open);
        Ok(socket)
    }

    /// Counts a datagram received; false when it is one past the limit (not kept). The
    /// datagram that reaches the limit stops every receiver.
    fn count_one(&self) -> bool {
        let received = &self.counters.received;
        let Some(limit) = self.limit else {
            received.fetch_add(1, Ordering::Relaxed);
            return true;
        };
        match received.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < limit).then_some(n + 1)
        }) {
            Ok(before) => {
                if before + 1 >= limit {
                    self.stop.store(true, Ordering::Relaxed);
                }
                true
            }
            Err(_) => {
                self.stop.store(true, Ordering::Relaxed);
                false
            }
        }
    }

    fn flush(&self, open: &mut [Batch]) {
        for (i, b) in open.iter_mut().enumerate() {
            if !b.datagrams.is_empty() {
                let full = core::mem::replace(b, self.fresh());
                self.hand_over(i, full);
            }
        }
    }

    /// An empty batch: one the decoders gave back, or a new one.
    fn fresh(&self) -> Batch {
        let reused = self.recycle.lock().ok().and_then(|r| r.try_recv().ok());
        match reused {
            Some(mut b) => {
                b.bytes.clear();
                b.datagrams.clear();
                b
            }
            None => Batch::with_capacity(self.batch),
        }
    }

    /// Queues a batch for decoder `i`, or drops and counts it when the queue is full.
    fn hand_over(&self, i: usize, batch: Batch) {
        let bytes = batch.bytes.len();
        let count = batch.datagrams.len() as u64;
        let queued = self
            .counters
            .queued_bytes
            .fetch_add(bytes, Ordering::Relaxed)
            + bytes;
        let sent = queued <= self.queue_bytes
            && match self.to.get(i).map(|tx| tx.try_send(Work::Batch(batch))) {
                Some(Ok(())) => true,
                Some(Err(TrySendError::Full(_) | TrySendError::Disconnected(_))) | None => false,
            };
        if sent {
            self.counters
                .queue_peak_bytes
                .fetch_max(queued, Ordering::Relaxed);
        } else {
            self.counters
                .queued_bytes
                .fetch_sub(bytes, Ordering::Relaxed);
            self.counters
                .queue_dropped
                .fetch_add(count, Ordering::Relaxed);
        }
    }
}

/// A read that timed out or was interrupted: nothing arrived for a moment.
fn is_quiet(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// The published counters, also after a thread panicked while holding them.
fn lock(published: &Published) -> std::sync::MutexGuard<'_, Vec<Vec<PublishedStats>>> {
    match published.lock() {
        Ok(p) => p,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The decoder thread an exporter's datagrams go to.
fn shard(src: SocketAddr, n: usize) -> usize {
    let mut h = DefaultHasher::new();
    src.ip().hash(&mut h);
    (h.finish() % n as u64) as usize
}

/// The collector configuration of TCP connections: no template lifetime (RFC 7011 §8: over
/// TCP, templates live until withdrawn or the connection closes) and connections told apart
/// by address and port.
fn tcp_collector(config: &CollectorConfig) -> CollectorConfig {
    #[allow(unused_mut)]
    let mut c = config.clone();
    #[cfg(feature = "ipfix")]
    {
        c.ipfix.limits.template_lifetime = None;
        c.ipfix.key_policy = flowwire_record::codec::KeyPolicy::AddressAndPort;
    }
    c
}

/// A decoder thread: its sink, its collectors (UDP exporters; TCP connections), and where it
/// publishes its counters.
struct Decode<S> {
    sink: S,
    udp: Collector,
    tcp: Collector,
    counters: Arc<Counters>,
    recycle: mpsc::Sender<Batch>,
    published: Published,
    index: usize,
    publish_every: Duration,
}

impl<S: Sink> Decode<S> {
    fn run(mut self, rx: Receiver<Work>) -> (S, Collector) {
        let mut published_at = Instant::now();
        let mut dirty = false;
        loop {
            match rx.recv_timeout(self.publish_every) {
                Ok(work) => {
                    self.work(work);
                    dirty = true;
                    if published_at.elapsed() >= self.publish_every {
                        self.publish();
                        (published_at, dirty) = (Instant::now(), false);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if dirty {
                        self.publish();
                        (published_at, dirty) = (Instant::now(), false);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.publish();
        // What TCP connections counted stays in the totals.
        let Decode {
            sink, mut udp, tcp, ..
        } = self;
        udp.absorb_stats(&tcp);
        (sink, udp)
    }

    fn work(&mut self, work: Work) {
        match work {
            Work::Batch(batch) => {
                let collector = if batch.tcp {
                    &mut self.tcp
                } else {
                    &mut self.udp
                };
                let mut start = 0;
                for &(src, time, end) in &batch.datagrams {
                    let datagram = batch.bytes.get(start..end).unwrap_or_default();
                    collector.decode(src, time, datagram, &mut self.sink);
                    start = end;
                }
                self.counters
                    .decoded
                    .fetch_add(batch.datagrams.len() as u64, Ordering::Relaxed);
                self.counters
                    .queued_bytes
                    .fetch_sub(batch.bytes.len(), Ordering::Relaxed);
                // The receivers may have gone: then the batch is simply dropped.
                if !batch.tcp {
                    let _ = self.recycle.send(batch);
                }
            }
            Work::Closed(peer) => {
                self.tcp.forget_exporter(peer);
            }
            #[cfg(feature = "ipfix")]
            Work::StreamError(peer, error) => {
                self.tcp
                    .report_error(peer, ProtocolKind::Ipfix, &error, &mut self.sink);
            }
            Work::Snapshot(reply) => {
                let _ = reply.send(self.udp.snapshot(Timestamp::now()));
            }
        }
    }

    fn publish(&self) {
        let stats: Vec<_> = self
            .udp
            .exporter_stats()
            .chain(self.tcp.exporter_stats())
            .map(|(a, k, s)| (a, k, *s))
            .collect();
        let mut published = lock(&self.published);
        if let Some(slot) = published.get_mut(self.index) {
            *slot = stats;
        }
    }
}

/// A TCP listener's thread: accepts connections and runs each in a thread of its own.
struct Accept {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    to: Vec<SyncSender<Work>>,
    tcp: TcpConfig,
    queue_bytes: usize,
    batch: usize,
    linger: Duration,
}

impl Accept {
    fn run(self, listener: TcpListener) {
        let mut connections: Vec<JoinHandle<()>> = Vec::new();
        while !self.stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((stream, peer)) => {
                    connections.retain(|c| !c.is_finished());
                    let open = self.counters.tcp_open.load(Ordering::Relaxed);
                    if open >= self.tcp.max_connections as u64 || !cfg!(feature = "ipfix") {
                        self.counters.tcp_refused.fetch_add(1, Ordering::Relaxed);
                        drop(stream);
                        continue;
                    }
                    self.counters.tcp_accepted.fetch_add(1, Ordering::Relaxed);
                    self.counters.tcp_open.fetch_add(1, Ordering::Relaxed);
                    #[cfg(feature = "ipfix")]
                    {
                        let conn = Connection {
                            stop: Arc::clone(&self.stop),
                            counters: Arc::clone(&self.counters),
                            to: self.to.get(shard(peer, self.to.len())).cloned(),
                            peer,
                            idle_timeout: self.tcp.idle_timeout,
                            queue_bytes: self.queue_bytes,
                            batch: self.batch,
                            linger: self.linger,
                        };
                        let spawned = std::thread::Builder::new()
                            .name(format!("flowwire-tcp-{peer}"))
                            .spawn(move || conn.run(stream));
                        match spawned {
                            Ok(handle) => connections.push(handle),
                            Err(_) => {
                                self.counters.tcp_open.fetch_sub(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                // A connection that failed while being accepted (reset, out of descriptors):
                // wait a moment rather than spin.
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        for c in connections {
            let _ = c.join();
        }
    }
}

/// One IPFIX-over-TCP connection: reassembles messages, queues them for its decoder.
#[cfg(feature = "ipfix")]
struct Connection {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    to: Option<SyncSender<Work>>,
    peer: SocketAddr,
    idle_timeout: Option<Duration>,
    queue_bytes: usize,
    batch: usize,
    linger: Duration,
}

#[cfg(feature = "ipfix")]
impl Connection {
    fn run(self, mut stream: std::net::TcpStream) {
        let _ = stream.set_nonblocking(false);
        // Short reads, so that stop and the idle time are looked at.
        let _ = stream.set_read_timeout(Some(
            self.linger
                .clamp(Duration::from_millis(1), Duration::from_millis(100)),
        ));
        let mut buffer = flowwire_ipfix::StreamBuffer::new();
        let mut batch = Batch::with_capacity(self.batch);
        batch.tcp = true;
        let mut heard = Instant::now();
        'connection: while !self.stop.load(Ordering::Relaxed) {
            match buffer.read_from(&mut stream) {
                Ok(0) => break,
                Ok(n) => {
                    heard = Instant::now();
                    self.counters
                        .tcp_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                    let now = Timestamp::now();
                    while let Some(message) = buffer.next_message() {
                        match message {
                            Ok(m) => {
                                batch.bytes.extend_from_slice(m);
                                batch.datagrams.push((self.peer, now, batch.bytes.len()));
                                self.counters.tcp_messages.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => {
                                self.hand_over(&mut batch);
                                self.counters
                                    .tcp_stream_errors
                                    .fetch_add(1, Ordering::Relaxed);
                                self.send(Work::StreamError(self.peer, e));
                                break 'connection;
                            }
                        }
                        if batch.datagrams.len() >= self.batch {
                            self.hand_over(&mut batch);
                        }
                    }
                    self.hand_over(&mut batch);
                }
                Err(e) if is_quiet(&e) => {
                    if self.idle_timeout.is_some_and(|t| heard.elapsed() >= t) {
                        self.counters
                            .tcp_idle_closed
                            .fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        self.hand_over(&mut batch);
        self.send(Work::Closed(self.peer));
        self.counters.tcp_open.fetch_sub(1, Ordering::Relaxed);
    }

    /// Queues the messages read so far, waiting while the queue is full: TCP's flow control
    /// then slows this exporter down, and only this one.
    fn hand_over(&self, batch: &mut Batch) {
        if batch.datagrams.is_empty() {
            return;
        }
        let bytes = batch.bytes.len();
        while self.counters.queued_bytes.load(Ordering::Relaxed) + bytes > self.queue_bytes
            && !self.stop.load(Ordering::Relaxed)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        let queued = self
            .counters
            .queued_bytes
            .fetch_add(bytes, Ordering::Relaxed)
            + bytes;
        self.counters
            .queue_peak_bytes
            .fetch_max(queued, Ordering::Relaxed);
        let mut full = Batch::with_capacity(self.batch);
        full.tcp = true;
        core::mem::swap(batch, &mut full);
        if !self.send(Work::Batch(full)) {
            self.counters
                .queued_bytes
                .fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    /// Sends to the decoder, waiting for room; false when the decoder has gone.
    fn send(&self, work: Work) -> bool {
        self.to.as_ref().is_some_and(|to| to.send(work).is_ok())
    }
}

/// What the kernel dropped on the UDP sockets bound to `port` for want of receive buffer
/// (Linux: the `drops` column of /proc/net/udp and /proc/net/udp6; `None` elsewhere or when no
/// such socket is open).
pub fn kernel_drops(port: u16) -> Option<u64> {
    let mut total = None;
    for file in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let mut cols = line.split_whitespace();
            let local_port = cols
                .nth(1)
                .and_then(|l| l.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                let drops = line
                    .split_whitespace()
                    .last()
                    .and_then(|d| d.parse::<u64>().ok())
                    .unwrap_or(0);
                total = Some(total.unwrap_or(0) + drops);
            }
        }
    }
    total
}
