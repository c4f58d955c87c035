//! [`Pipeline`]: a live UDP collector that keeps up with bursts. One thread per socket does
//! nothing but drain it into a bounded in-memory queue of datagram batches, so a burst is
//! absorbed by memory instead of overflowing the kernel's receive buffer; decoder threads
//! (one [`Collector`] each, exporters spread over them by address, so an exporter's template
//! state stays with one of them) take the batches and hand the records to a [`Sink`] of
//! yours, built once per decoder thread.
//!
//! Nothing is lost silently: datagrams the queue had no room for are counted in
//! [`PipelineStats::queue_dropped`], and [`kernel_drops`] reads what the kernel dropped.
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

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use flowwire_record::codec::{Decoder, Sink};
use flowwire_record::{ProtocolKind, Timestamp};

use crate::collector::{Collector, CollectorConfig, ExporterStats};

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
    /// Each decoder's collector configuration.
    pub collector: CollectorConfig,
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
    /// Datagrams decoded.
    pub decoded: u64,
    /// The most octets the queue held at once.
    pub queue_peak_bytes: u64,
}

/// Datagrams that travel together from a receiver to a decoder: their octets back to back.
struct Batch {
    bytes: Vec<u8>,
    /// (source, time received, end of the datagram in `bytes`).
    datagrams: Vec<(SocketAddr, Timestamp, usize)>,
}

impl Batch {
    fn with_capacity(datagrams: usize) -> Self {
        Batch {
            bytes: Vec::new(),
            datagrams: Vec::with_capacity(datagrams),
        }
    }
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
    /// The sockets, still bound.
    pub sockets: Vec<UdpSocket>,
}

/// A running receive → queue → decode pipeline; see the module docs.
pub struct Pipeline<S> {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    receivers: Vec<JoinHandle<io::Result<UdpSocket>>>,
    decoders: Vec<JoinHandle<(S, Collector)>>,
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
}

impl<S: Sink + Send + 'static> Pipeline<S> {
    /// Starts receiving on `sockets` (bound already; their read timeout is set to
    /// `config.linger`) and decoding into the sinks `make_sink(i)` builds, one per decoder
    /// thread `i`.
    pub fn start(
        sockets: Vec<UdpSocket>,
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
            let (tx, rx) = mpsc::sync_channel::<Batch>(slots);
            to_decoders.push(tx);
            from_receivers.push(rx);
        }
        // Emptied batches go back to the receivers, so a steady state allocates nothing.
        let (recycle_tx, recycle_rx) = mpsc::channel::<Batch>();
        let recycle_rx = Arc::new(Mutex::new(recycle_rx));
        let mut decoders = Vec::new();
        for (i, rx) in from_receivers.into_iter().enumerate() {
            let sink = make_sink(i);
            let counters = Arc::clone(&counters);
            let recycle = recycle_tx.clone();
            let collector = Collector::new(config.collector.clone());
            decoders.push(
                std::thread::Builder::new()
                    .name(format!("flowwire-decode-{i}"))
                    .spawn(move || decode(rx, sink, collector, &counters, &recycle))?,
            );
        }
        let mut receivers = Vec::new();
        for (i, socket) in sockets.into_iter().enumerate() {
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
            decoders,
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
        // The receivers held the only senders: the decoders drain their queues and end.
        let mut sinks = Vec::new();
        let mut merged: std::collections::BTreeMap<(SocketAddr, ProtocolKind), ExporterStats> =
            Default::default();
        for d in self.decoders {
            if let Ok((sink, collector)) = d.join() {
                for (a, k, s) in collector.exporter_stats() {
                    merged.entry((a, k)).or_default().add(s);
                }
                sinks.push(sink);
            } else {
                error.get_or_insert(io::Error::other("a decoding thread panicked"));
            }
        }
        let finished = Finished {
            stats: self.counters.snapshot(),
            sinks,
            exporters: merged.into_iter().map(|((a, k), s)| (a, k, s)).collect(),
            sockets,
        };
        (finished, error)
    }
}

/// One receiving thread's share of the pipeline.
struct Receive {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    to: Vec<SyncSender<Batch>>,
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
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
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
            && match self.to.get(i).map(|tx| tx.try_send(batch)) {
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

/// The decoder thread an exporter's datagrams go to.
fn shard(src: SocketAddr, n: usize) -> usize {
    let mut h = DefaultHasher::new();
    src.ip().hash(&mut h);
    (h.finish() % n as u64) as usize
}

fn decode<S: Sink>(
    rx: Receiver<Batch>,
    mut sink: S,
    mut collector: Collector,
    counters: &Counters,
    recycle: &mpsc::Sender<Batch>,
) -> (S, Collector) {
    while let Ok(batch) = rx.recv() {
        let mut start = 0;
        for &(src, time, end) in &batch.datagrams {
            let datagram = batch.bytes.get(start..end).unwrap_or_default();
            collector.decode(src, time, datagram, &mut sink);
            start = end;
        }
        counters
            .decoded
            .fetch_add(batch.datagrams.len() as u64, Ordering::Relaxed);
        counters
            .queued_bytes
            .fetch_sub(batch.bytes.len(), Ordering::Relaxed);
        // The receivers may have gone: then the batch is simply dropped.
        let _ = recycle.send(batch);
    }
    (sink, collector)
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
