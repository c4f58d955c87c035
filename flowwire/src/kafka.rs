//! Flows to Kafka (feature `kafka`): [`KafkaProducer`] publishes each flow as one Kafka
//! record whose value is its JSON line (byte for byte what `--format jsonl` prints, without
//! the newline) or goflow2's protobuf `FlowMessage` ([`KafkaFormat`]), and whose key is the
//! exporter's address, so that one exporter's flows stay in one partition, in order. Partitions are chosen by murmur2 of the key, as Kafka's Java
//! client does, so keyed records land where other producers would put them.
//!
//! Receiving never waits for the broker: [`KafkaSink`]s (one per decoder thread) append to a
//! bounded in-memory buffer ([`KafkaConfig::buffer_bytes`]); one thread of its own batches
//! (size and linger), compresses and produces. When the broker is slow or gone, the buffer
//! fills and what does not fit is dropped and counted ([`KafkaStats::dropped`]); the
//! producer reconnects with backoff and delivers what it kept. [`KafkaProducer::stop`]
//! flushes within a timeout and says what was delivered. Delivery is at least once: a batch
//! whose acknowledgement was lost is sent again.
//!
//! The client is [rskafka](https://docs.rs/rskafka) (pure Rust, on a single-threaded tokio
//! runtime inside the producer thread).
//!
//! ```no_run
//! use std::net::UdpSocket;
//! use std::time::Duration;
//! use flowwire::kafka::{KafkaConfig, KafkaFormat, KafkaProducer};
//! use flowwire::{Collector, Decoder, Timestamp};
//!
//! let producer = KafkaProducer::start(KafkaConfig {
//!     brokers: vec!["127.0.0.1:9092".into()],
//!     topic: "flows".into(),
//!     format: KafkaFormat::Protobuf,
//!     ..KafkaConfig::default()
//! })?;
//! let mut sink = producer.sink();
//! let socket = UdpSocket::bind("0.0.0.0:2055")?;
//! let mut collector = Collector::default();
//! let mut buf = [0u8; 65_535];
//! for _ in 0..10_000 {
//!     let (n, exporter) = socket.recv_from(&mut buf)?;
//!     collector.decode(exporter, Timestamp::now(), &buf[..n], &mut sink);
//! }
//! let stats = producer.stop(Duration::from_secs(10));
//! println!("{} delivered, {} dropped", stats.delivered, stats.dropped);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[cfg(feature = "sflow")]
use flowwire_record::CounterSample;
use flowwire_record::codec::Sink;
use flowwire_record::{FlowRecord, OptionsRecord, Timestamp};

use crate::jsonl::FlowJson;
use crate::protobuf::FlowMessage;

/// What a record's key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KafkaKey {
    /// The exporter's address (`ip:port`): an exporter's flows in one partition, in order.
    #[default]
    Exporter,
    /// The exporter and observation domain / source id (`ip:port/domain`).
    Domain,
    /// No key: records spread over the partitions in turn.
    None,
}

/// Compression of the produced batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KafkaCompression {
    /// None.
    None,
    /// LZ4.
    Lz4,
    /// Zstandard (Kafka 2.1 and later), the default: the smallest batches, and the fastest
    /// delivery measured here (against tansu, 1 MiB batches of JSON flows: zstd 241 k flows/s,
    /// none 146 k, lz4 29 k).
    #[default]
    Zstd,
}

/// The value of each flow record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KafkaFormat {
    /// The flow's JSON line, byte for byte what `--format jsonl` prints (without the newline).
    #[default]
    Json,
    /// goflow2's `FlowMessage` ([`crate::protobuf::FlowMessage`]), length-delimited as goflow2
    /// writes it, so goflow2's consumers read it unchanged.
    Protobuf,
}

/// How a [`KafkaProducer`] publishes.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    /// The topic of flow records.
    pub topic: String,
    /// The topic of sFlow counter samples (their JSON lines); `None`: not published.
    pub counters_topic: Option<String>,
    /// The topic of options data records; `None`: not published.
    pub options_topic: Option<String>,
    /// The key of each record.
    pub key: KafkaKey,
    /// The value of each flow record (counter samples and options records are always JSON).
    pub format: KafkaFormat,
    /// Batch compression.
    pub compression: KafkaCompression,
    /// Octets of records held for the broker at most (default 64 MiB); beyond, new records
    /// are dropped and counted.
    pub buffer_bytes: usize,
    /// Octets per produce request and partition at most (default 1 MiB).
    pub batch_bytes: usize,
    /// How long the producer waits for more records before it sends a batch that is not full
    /// (default 20 ms).
    pub linger: Duration,
    /// Create missing topics with this many partitions and a replication factor of 1
    /// (default: expect them to exist, as production clusters usually want).
    pub create_partitions: Option<i32>,
    /// How long one attempt (connect, metadata, produce) may take before it counts as failed
    /// (default 10 s).
    pub request_timeout: Duration,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: vec!["127.0.0.1:9092".into()],
            topic: "flows".into(),
            counters_topic: None,
            options_topic: None,
            key: KafkaKey::Exporter,
            format: KafkaFormat::Json,
            compression: KafkaCompression::Zstd,
            buffer_bytes: 64 << 20,
            batch_bytes: 1 << 20,
            linger: Duration::from_millis(20),
            create_partitions: None,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Counters of a [`KafkaProducer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct KafkaStats {
    /// Records handed to the producer.
    pub queued: u64,
    /// Records the broker acknowledged.
    pub delivered: u64,
    /// Records dropped because the buffer was full (the broker slow or down).
    pub dropped: u64,
    /// Records still buffered when [`KafkaProducer::stop`] gave up waiting.
    pub undelivered_at_stop: u64,
    /// Produce requests that failed (each retried after a reconnection).
    pub produce_errors: u64,
    /// Connections made to the cluster (the first one included).
    pub connections: u64,
    /// Octets buffered now.
    pub buffered_bytes: u64,
}

/// One record waiting for the broker.
struct Pending {
    topic: u8,
    key: Option<Vec<u8>>,
    value: Vec<u8>,
}

impl Pending {
    fn size(&self) -> usize {
        self.value.len() + self.key.as_ref().map_or(0, Vec::len) + 64
    }
}

#[derive(Default)]
struct Queue {
    records: VecDeque<Pending>,
    bytes: usize,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    stop: AtomicBool,
    buffer_bytes: usize,
    queued: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    undelivered_at_stop: AtomicU64,
    produce_errors: AtomicU64,
    connections: AtomicU64,
    /// Why the last connection or produce request failed; `None` once a request succeeds.
    problem: Mutex<Option<String>>,
}

impl Shared {
    fn set_problem(&self, problem: Option<String>) {
        let mut p = match self.problem.lock() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        if *p != problem {
            *p = problem;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        match self.queue.lock() {
            Ok(q) => q,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn push(&self, record: Pending) {
        let size = record.size();
        let mut q = self.lock();
        if q.bytes + size > self.buffer_bytes {
            drop(q);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        q.bytes += size;
        q.records.push_back(record);
        drop(q);
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.ready.notify_one();
    }
}

/// Publishes flows to Kafka from its own thread; see the module docs.
pub struct KafkaProducer {
    shared: Arc<Shared>,
    config: KafkaConfig,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for KafkaProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProducer")
            .field("brokers", &self.config.brokers)
            .field("topic", &self.config.topic)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Why a producer could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KafkaError {
    /// The configuration names no broker or an empty topic.
    #[error("kafka: {0}")]
    Config(&'static str),
    /// The producer thread could not be started.
    #[error("kafka: starting the producer thread: {0}")]
    Thread(#[from] std::io::Error),
}

impl KafkaProducer {
    /// Starts the producer thread. It connects in the background (and again whenever the
    /// connection fails), so a broker that is not up yet is not an error.
    pub fn start(config: KafkaConfig) -> Result<Self, KafkaError> {
        if config.brokers.is_empty() {
            return Err(KafkaError::Config("no broker given"));
        }
        if config.topic.is_empty() {
            return Err(KafkaError::Config("an empty topic name"));
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            stop: AtomicBool::new(false),
            buffer_bytes: config.buffer_bytes.max(1),
            queued: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            undelivered_at_stop: AtomicU64::new(0),
            produce_errors: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            problem: Mutex::new(None),
        });
        let thread = {
            let (shared, config) = (Arc::clone(&shared), config.clone());
            std::thread::Builder::new()
                .name("flowwire-kafka".into())
                .spawn(move || producer::run(&shared, &config))?
        };
        Ok(KafkaProducer {
            shared,
            config,
            thread: Some(thread),
        })
    }

    /// A sink that hands records to this producer (one per decoder thread; cheap to make).
    pub fn sink(&self) -> KafkaSink {
        KafkaSink {
            shared: Arc::clone(&self.shared),
            key: self.config.key,
            format: self.config.format,
            counters: self.config.counters_topic.is_some(),
            options: self.config.options_topic.is_some(),
            json: FlowJson::new(),
            last_len: 512,
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> KafkaStats {
        let s = &self.shared;
        KafkaStats {
            queued: s.queued.load(Ordering::Relaxed),
            delivered: s.delivered.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            undelivered_at_stop: s.undelivered_at_stop.load(Ordering::Relaxed),
            produce_errors: s.produce_errors.load(Ordering::Relaxed),
            connections: s.connections.load(Ordering::Relaxed),
            buffered_bytes: s.lock().bytes as u64,
        }
    }

    /// Why the producer is not delivering, while it is not: the last connection or produce
    /// failure (the broker unreachable, a topic missing, a request refused), cleared by the
    /// next request that succeeds. Records keep being buffered meanwhile.
    pub fn problem(&self) -> Option<String> {
        match self.shared.problem.lock() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Delivers what is buffered (waiting at most `timeout` for the broker), stops the thread
    /// and returns the final counters; what could not be delivered in time is counted in
    /// [`KafkaStats::undelivered_at_stop`].
    pub fn stop(mut self, timeout: Duration) -> KafkaStats {
        self.halt(timeout);
        self.stats()
    }

    fn halt(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        // Let the producer drain what it can, then tell it to stop.
        while Instant::now() < deadline && self.shared.lock().bytes > 0 {
            if self.thread.as_ref().is_none_or(JoinHandle::is_finished) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.ready.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let mut q = self.shared.lock();
        let left = q.records.len() as u64;
        q.records.clear();
        q.bytes = 0;
        drop(q);
        self.shared
            .undelivered_at_stop
            .fetch_add(left, Ordering::Relaxed);
    }
}

impl Drop for KafkaProducer {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.halt(Duration::ZERO);
        }
    }
}

/// A [`Sink`] that hands flows (and, when their topics are set, counter samples and options
/// records) to a [`KafkaProducer`]; made by [`KafkaProducer::sink`].
pub struct KafkaSink {
    shared: Arc<Shared>,
    key: KafkaKey,
    format: KafkaFormat,
    counters: bool,
    options: bool,
    json: FlowJson,
    /// The length of the last value, to size the next one's buffer: each value is written
    /// straight into the buffer the producer keeps.
    last_len: usize,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink").field("key", &self.key).finish()
    }
}

/// Topic indexes of [`Pending::topic`].
const FLOWS: u8 = 0;
const COUNTERS: u8 = 1;
const OPTIONS: u8 = 2;

impl KafkaSink {
    /// The record key; `None` (no key: the producer spreads such records over the
    /// partitions in turn) with [`KafkaKey::None`] or when the exporter is unknown.
    fn key(&self, exporter: Option<SocketAddr>, domain: Option<u32>) -> Option<Vec<u8>> {
        use std::io::Write as _;
        let exporter = exporter.filter(|_| self.key != KafkaKey::None)?;
        let mut key = Vec::with_capacity(48);
        let _ = match self.key {
            KafkaKey::Domain => write!(key, "{exporter}/{}", domain.unwrap_or(0)),
            _ => write!(key, "{exporter}"),
        };
        Some(key)
    }

    /// A buffer for the next value, as large as the last one was.
    fn value_buffer(&self) -> Vec<u8> {
        Vec::with_capacity(self.last_len + 64)
    }

    fn json_line(&mut self, value: &impl serde::Serialize) -> Vec<u8> {
        let mut line = self.value_buffer();
        // The JSON of records always serializes.
        let _ = serde_json::to_writer(&mut line, value);
        self.last_len = line.len();
        line
    }
}

impl Sink for KafkaSink {
    fn flow(&mut self, flow: &FlowRecord) {
        let mut value = self.value_buffer();
        match self.format {
            KafkaFormat::Json => {
                self.json.write_line(&mut value, flow);
                if value.last() == Some(&b'\n') {
                    value.pop();
                }
            }
            KafkaFormat::Protobuf => {
                let message = FlowMessage::from_record(flow, Timestamp::now());
                // Encoding into a Vec only fails for want of space, which a Vec grows.
                let _ = message.encode_delimited(&mut value);
            }
        }
        self.last_len = value.len();
        let key = self.key(flow.exporter(), flow.domain());
        self.shared.push(Pending {
            topic: FLOWS,
            key,
            value,
        });
    }

    #[cfg(feature = "sflow")]
    fn counters(&mut self, counters: &CounterSample<'_>) {
        if !self.counters {
            return;
        }
        let Some(c) = counters.detail::<crate::Counters>() else {
            return;
        };
        let value = self.json_line(c);
        let key = self.key(Some(counters.exporter), Some(counters.domain));
        self.shared.push(Pending {
            topic: COUNTERS,
            key,
            value,
        });
    }

    fn options(&mut self, options: &OptionsRecord) {
        if !self.options {
            return;
        }
        let value = self.json_line(options);
        let key = self.key(options.exporter, options.domain);
        self.shared.push(Pending {
            topic: OPTIONS,
            key,
            value,
        });
    }
}

/// Kafka's default partitioner: murmur2 of the key (seed 0x9747b28c), sign bit cleared.
pub fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    let mut h = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let Some(&word) = c.first_chunk::<4>() else {
            break;
        };
        let mut k = u32::from_le_bytes(word);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if let Some(&b) = rest.get(2) {
        h ^= u32::from(b) << 16;
    }
    if let Some(&b) = rest.get(1) {
        h ^= u32::from(b) << 8;
    }
    if let Some(&b) = rest.first() {
        h ^= u32::from(b);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// The partition Kafka's Java client gives a key among `partitions`.
pub fn partition_for(key: &[u8], partitions: i32) -> i32 {
    let positive = murmur2(key) & 0x7fff_ffff;
    (positive % partitions.max(1) as u32) as i32
}

mod producer {
    //! The producer thread: a single-threaded tokio runtime around rskafka.

    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
    use rskafka::client::{Client, ClientBuilder};
    use rskafka::record::Record;

    use super::{KafkaCompression, KafkaConfig, Pending, Shared};

    /// A connection to the cluster: a partition client per (topic, partition), the topics in
    /// the order of [`slot`]: flows, then counters and options where they are published.
    struct Connected {
        topics: Vec<Vec<Arc<PartitionClient>>>,
    }

    async fn connect(config: &KafkaConfig, shared: &Shared) -> Result<Connected, String> {
        let client: Client = ClientBuilder::new(config.brokers.clone())
            // rskafka's own retries stay shorter than one attempt of ours, so that a failure
            // comes back as its error (said in `problem`), not as our timeout.
            .backoff_config(rskafka::BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
                deadline: Some(config.request_timeout / 2),
            })
            .build()
            .await
            .map_err(|e| e.to_string())?;
        shared.connections.fetch_add(1, Ordering::Relaxed);
        let names: Vec<&String> = std::iter::once(&config.topic)
            .chain(config.counters_topic.iter())
            .chain(config.options_topic.iter())
            .collect();
        let mut listed = client.list_topics().await.map_err(|e| e.to_string())?;
        if let Some(n) = config.create_partitions {
            let controller = client.controller_client().map_err(|e| e.to_string())?;
            for name in &names {
                if !listed.iter().any(|t| &&t.name == name) {
                    controller
                        .create_topic(name.as_str(), n, 1, 5_000)
                        .await
                        .map_err(|e| format!("creating topic {name}: {e}"))?;
                }
            }
            listed = client.list_topics().await.map_err(|e| e.to_string())?;
        }
        let mut topics = Vec::new();
        for name in names {
            let Some(t) = listed.iter().find(|t| &t.name == name) else {
                return Err(format!("topic {name} does not exist"));
            };
            let mut partitions: Vec<i32> = t.partitions.iter().copied().collect();
            partitions.sort_unstable();
            let mut clients = Vec::new();
            for p in partitions {
                clients.push(Arc::new(
                    client
                        .partition_client(name.as_str(), p, UnknownTopicHandling::Error)
                        .await
                        .map_err(|e| e.to_string())?,
                ));
            }
            if clients.is_empty() {
                return Err(format!("topic {name} has no partitions"));
            }
            topics.push(clients);
        }
        Ok(Connected { topics })
    }

    fn compression(c: KafkaCompression) -> Compression {
        match c {
            KafkaCompression::None => Compression::NoCompression,
            KafkaCompression::Lz4 => Compression::Lz4,
            KafkaCompression::Zstd => Compression::Zstd,
        }
    }

    /// The slot of a pending record's topic in `Connected::topics`.
    fn slot(config: &KafkaConfig, topic: u8) -> usize {
        match topic {
            0 => 0,
            1 => 1,
            _ => 1 + usize::from(config.counters_topic.is_some()),
        }
    }

    pub(super) fn run(shared: &Shared, config: &KafkaConfig) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                // Nothing is delivered: records are dropped once the buffer is full, and
                // `problem` says why.
                shared.set_problem(Some(format!("starting the producer's runtime: {e}")));
                return;
            }
        };
        runtime.block_on(run_async(shared, config));
    }

    /// Waits up to the linger time for records; the octets buffered, or `None` when stopping
    /// with nothing left.
    fn wait_for_records(shared: &Shared, config: &KafkaConfig, stopping: bool) -> Option<usize> {
        let mut q = shared.lock();
        if q.records.is_empty() {
            if stopping {
                return None;
            }
            q = match shared.ready.wait_timeout(q, config.linger) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        Some(q.bytes)
    }

    /// Moves records from the queue into `batch`, up to eight batch sizes (one per partition
    /// of a few partitions) at a time.
    fn take_batch(
        shared: &Shared,
        config: &KafkaConfig,
        batch: &mut Vec<Pending>,
        batch_bytes: &mut usize,
    ) {
        let mut q = shared.lock();
        while let Some(r) = q.records.pop_front() {
            *batch_bytes += r.size();
            batch.push(r);
            if *batch_bytes >= config.batch_bytes.max(1) * 8 {
                break;
            }
        }
    }

    /// One connection attempt; a failure is recorded as the producer's problem.
    async fn try_connect(config: &KafkaConfig, shared: &Shared) -> Option<Connected> {
        let attempt = tokio::time::timeout(config.request_timeout, connect(config, shared));
        let result = tokio::select! {
            r = attempt => r,
            () = stopped(shared) => return None,
        };
        match result {
            Ok(Ok(c)) => {
                shared.set_problem(None);
                Some(c)
            }
            Ok(Err(e)) => {
                let brokers = config.brokers.join(",");
                shared.set_problem(Some(format!("connecting to {brokers}: {e}")));
                None
            }
            Err(_) => {
                let brokers = config.brokers.join(",");
                let waited = config.request_timeout;
                shared.set_problem(Some(format!(
                    "connecting to {brokers}: no answer within {waited:?}"
                )));
                None
            }
        }
    }

    /// Returns once `stop` says the producer must stop (its deadline passed): what is in
    /// flight then is abandoned and counted as undelivered.
    async fn stopped(shared: &Shared) {
        while !shared.stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn run_async(shared: &Shared, config: &KafkaConfig) {
        // Connecting before the first record says early when the brokers or topics are wrong.
        let mut connected: Option<Connected> = try_connect(config, shared).await;
        let mut backoff = Duration::from_millis(100);
        let mut round_robin = 0usize;
        // Records taken from the queue but not acknowledged yet: sent again after a failure.
        let mut batch: Vec<Pending> = Vec::new();
        let mut batch_bytes = 0usize;
        loop {
            let stopping = shared.stop.load(Ordering::Relaxed);
            if batch.is_empty() {
                let Some(buffered) = wait_for_records(shared, config, stopping) else {
                    return;
                };
                // Linger: a batch that is not full waits a moment for more.
                if buffered < config.batch_bytes && !stopping {
                    tokio::time::sleep(config.linger).await;
                }
                take_batch(shared, config, &mut batch, &mut batch_bytes);
                if batch.is_empty() {
                    continue;
                }
            }
            if stopping && connected.is_none() {
                // No broker to flush to: what is left stays for `stop` to count.
                put_back(shared, &mut batch, &mut batch_bytes);
                return;
            }
            if connected.is_none() {
                match try_connect(config, shared).await {
                    Some(c) => {
                        connected = Some(c);
                        backoff = Duration::from_millis(100);
                    }
                    None => {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
            }
            let Some(c) = &connected else { continue };
            let sent = {
                let request = send(c, config, &batch, &mut round_robin);
                tokio::pin!(request);
                // A broker that went away is often only seen as silence: say so while waiting.
                let patience = config.request_timeout / 5;
                let slow = tokio::time::sleep(patience);
                tokio::pin!(slow);
                let mut said_slow = false;
                loop {
                    tokio::select! {
                        r = &mut request => break r,
                        () = stopped(shared) => break Err("stopped before the broker answered".to_owned()),
                        () = &mut slow, if !said_slow => {
                            said_slow = true;
                            let brokers = config.brokers.join(",");
                            shared.set_problem(Some(format!(
                                "no answer from {brokers} for {patience:?}"
                            )));
                        }
                    }
                }
            };
            if let Err(e) = &sent {
                shared.set_problem(Some(e.clone()));
            }
            if sent.is_ok() {
                shared.set_problem(None);
                let n = batch.len() as u64;
                batch.clear();
                let mut q = shared.lock();
                q.bytes = q.bytes.saturating_sub(batch_bytes);
                drop(q);
                batch_bytes = 0;
                shared.delivered.fetch_add(n, Ordering::Relaxed);
            } else {
                shared.produce_errors.fetch_add(1, Ordering::Relaxed);
                connected = None;
                if shared.stop.load(Ordering::Relaxed) {
                    put_back(shared, &mut batch, &mut batch_bytes);
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }

    /// Returns unsent records to the front of the queue (their bytes are still counted there).
    fn put_back(shared: &Shared, batch: &mut Vec<Pending>, bytes: &mut usize) {
        let mut q = shared.lock();
        for r in batch.drain(..).rev() {
            q.records.push_front(r);
        }
        *bytes = 0;
    }

    /// Produces a batch, grouped by topic and partition: the partitions' requests run
    /// concurrently, each partition's in order.
    async fn send(
        c: &Connected,
        config: &KafkaConfig,
        batch: &[Pending],
        round_robin: &mut usize,
    ) -> Result<(), String> {
        let mut by_partition: BTreeMap<(usize, usize), Vec<Record>> = BTreeMap::new();
        let now = chrono::Utc::now();
        for r in batch {
            let topic = slot(config, r.topic);
            let Some(partitions) = c.topics.get(topic) else {
                continue;
            };
            let n = partitions.len().max(1);
            let p = match &r.key {
                Some(k) => super::partition_for(k, n as i32) as usize,
                None => {
                    *round_robin = round_robin.wrapping_add(1);
                    *round_robin % n
                }
            };
            by_partition.entry((topic, p)).or_default().push(Record {
                key: r.key.clone(),
                value: Some(r.value.clone()),
                headers: BTreeMap::new(),
                timestamp: now,
            });
        }
        let compression = compression(config.compression);
        let (limit, timeout) = (config.batch_bytes.max(1), config.request_timeout);
        let mut requests = tokio::task::JoinSet::new();
        for ((topic, p), records) in by_partition {
            let Some(client) = c.topics.get(topic).and_then(|t| t.get(p)).cloned() else {
                return Err(format!("no client for partition {p}"));
            };
            requests.spawn(async move {
                // Requests of at most `limit` octets, one after the other: order kept.
                let mut chunk = Vec::new();
                let mut size = 0;
                for r in records {
                    size += r.approximate_size();
                    chunk.push(r);
                    if size >= limit {
                        let part = std::mem::take(&mut chunk);
                        size = 0;
                        produce(&client, part, compression, timeout).await?;
                    }
                }
                if chunk.is_empty() {
                    return Ok(());
                }
                produce(&client, chunk, compression, timeout).await
            });
        }
        let mut result = Ok(());
        while let Some(done) = requests.join_next().await {
            let done = done.unwrap_or_else(|e| Err(format!("producing: {e}")));
            if result.is_ok() {
                result = done;
            }
        }
        result
    }

    async fn produce(
        client: &PartitionClient,
        records: Vec<Record>,
        compression: Compression,
        timeout: Duration,
    ) -> Result<(), String> {
        match tokio::time::timeout(timeout, client.produce(records, compression)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!(
                "producing to {} partition {}: {e}",
                client.topic(),
                client.partition()
            )),
            Err(_) => Err(format!(
                "producing to {} partition {}: no answer within {timeout:?}",
                client.topic(),
                client.partition()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafka() {
        // Values of org.apache.kafka.common.utils.Utils.murmur2 (Kafka's own tests).
        assert_eq!(murmur2(b"21") as i32, -973932308);
        assert_eq!(murmur2(b"foobar") as i32, -790332482);
        assert_eq!(murmur2(b"a-little-bit-long-string") as i32, -985981536);
        assert_eq!(murmur2(b"a-little-bit-longer-string") as i32, -1486304829);
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") as i32,
            -58897971
        );
        assert_eq!(murmur2(b"abc") as i32, 479470107);
    }

    #[test]
    fn a_full_buffer_drops_and_counts() {
        let producer = KafkaProducer::start(KafkaConfig {
            brokers: vec!["127.0.0.1:1".into()],
            buffer_bytes: 4096,
            request_timeout: Duration::from_millis(200),
            ..KafkaConfig::default()
        })
        .expect("start");
        let mut sink = producer.sink();
        let flow = FlowRecord::default()
            .with_exporter("192.0.2.1:2055".parse().unwrap())
            .with_octets(1);
        for _ in 0..1000 {
            sink.flow(&flow);
        }
        let stats = producer.stop(Duration::from_millis(100));
        assert_eq!(stats.queued + stats.dropped, 1000);
        assert!(stats.dropped > 900, "{stats:?}");
        assert_eq!(stats.delivered, 0);
        assert_eq!(stats.undelivered_at_stop, stats.queued);
    }
}
