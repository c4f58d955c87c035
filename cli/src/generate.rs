//! `flowwire generate` and `flowwire convert`: export traffic from synthetic flows or from
//! the flows of a capture, to a UDP collector or into a pcap.

use std::fs::File;
use std::io::BufWriter;
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use flowwire::capture::{CaptureWriter, open_capture};
use flowwire::collector::Collector;
use flowwire::export::AnyExporter;
use flowwire::synth::FlowGenerator;
use flowwire::{Decoder, Exporter};
use flowwire::{FlowRecord, ProtocolKind, Timestamp};

use crate::UserError;

/// The protocols, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Protocol {
    /// NetFlow version 5.
    Netflow5,
    /// NetFlow version 9.
    Netflow9,
    /// IPFIX.
    Ipfix,
    /// sFlow version 5.
    Sflow5,
}

impl From<Protocol> for ProtocolKind {
    fn from(p: Protocol) -> Self {
        match p {
            Protocol::Netflow5 => ProtocolKind::Netflow5,
            Protocol::Netflow9 => ProtocolKind::Netflow9,
            Protocol::Ipfix => ProtocolKind::Ipfix,
            Protocol::Sflow5 => ProtocolKind::Sflow5,
        }
    }
}

fn default_port(kind: ProtocolKind) -> u16 {
    match kind {
        ProtocolKind::Sflow5 => 6343,
        ProtocolKind::Ipfix => 4739,
        _ => 2055,
    }
}

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// The protocol to export.
    #[arg(long, value_enum)]
    protocol: Protocol,
    /// Send to this collector (loopback or a namespace you made; HOST:PORT).
    #[arg(long, conflicts_with = "pcap", required_unless_present = "pcap")]
    to: Option<String>,
    /// Write the datagrams into this pcap instead of sending them.
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Flows to export.
    #[arg(long, default_value_t = 1000)]
    flows: u64,
    /// Datagrams per second when sending (0: as fast as possible).
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Seed of the flow generator: the same seed gives the same flows.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How to reach the collector: udp, or tcp (IPFIX only, RFC 7011 §10.4: one connection,
    /// messages back to back).
    #[arg(long, value_enum, default_value = "udp")]
    transport: Transport,
    /// Leave the template sets out (NetFlow v9, IPFIX): data only, as an exporter sends it to
    /// a collector that learned its templates before (to test a restored --state).
    #[arg(long)]
    withhold_templates: bool,
    /// Send from this UDP source port (default: any free one). A collector tells exporters
    /// apart by address and port: a fixed port makes two runs the same exporter.
    #[arg(long)]
    source_port: Option<u16>,
}

/// How datagrams reach the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Transport {
    /// One UDP datagram per message.
    Udp,
    /// One TCP connection (IPFIX).
    Tcp,
}

#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Captures to read (pcap, pcapng), in order with one template state.
    #[arg(required = true)]
    input: Vec<PathBuf>,
    /// The protocol to re-encode every flow into.
    #[arg(long, value_enum)]
    to: Protocol,
    /// Write the result into this pcap.
    #[arg(long, conflicts_with = "send", required_unless_present = "send")]
    pcap: Option<PathBuf>,
    /// Send the result to this collector (HOST:PORT).
    #[arg(long)]
    send: Option<String>,
    /// Datagrams per second when sending (0: as fast as possible).
    #[arg(long, default_value_t = 1000)]
    rate: u64,
}

enum Output {
    Pcap {
        writer: CaptureWriter<BufWriter<File>>,
        src: SocketAddr,
        dst: SocketAddr,
        path: String,
    },
    Udp {
        socket: UdpSocket,
        pace: Option<Duration>,
        next: Instant,
    },
    Tcp {
        stream: BufWriter<TcpStream>,
        pace: Option<Duration>,
        next: Instant,
    },
}

/// Waits for the next send of a paced output.
fn wait(pace: Option<Duration>, next: &mut Instant) {
    if let Some(pace) = pace {
        let now = Instant::now();
        if *next > now {
            std::thread::sleep(*next - now);
        }
        *next = (*next).max(now) + pace;
    }
}

impl Output {
    fn open(
        pcap: Option<&PathBuf>,
        to: Option<&str>,
        kind: ProtocolKind,
        rate: u64,
        transport: Transport,
        source_port: Option<u16>,
    ) -> Result<Output, UserError> {
        if let Some(path) = pcap {
            let name = path.display().to_string();
            let file = File::create(path).map_err(|e| UserError(format!("{name}: {e}")))?;
            let writer = CaptureWriter::new(BufWriter::new(file))
                .map_err(|e| UserError(format!("{name}: {e}")))?;
            return Ok(Output::Pcap {
                writer,
                src: SocketAddr::from(([127, 0, 0, 1], 40_000)),
                dst: SocketAddr::from(([127, 0, 0, 1], default_port(kind))),
                path: name,
            });
        }
        let to = to.unwrap_or_default();
        let dst = to
            .to_socket_addrs()
            .map_err(|e| UserError(format!("bad collector address {to:?}: {e}")))?
            .next()
            .ok_or_else(|| UserError(format!("bad collector address {to:?}")))?;
        let pace = (rate > 0).then(|| Duration::from_secs_f64(1.0 / rate as f64));
        if transport == Transport::Tcp {
            if kind != ProtocolKind::Ipfix {
                return Err(UserError(format!(
                    "--transport tcp is for IPFIX; {kind} goes over UDP"
                )));
            }
            let stream = TcpStream::connect(dst)
                .map_err(|e| UserError(format!("cannot connect to {dst}: {e}")))?;
            return Ok(Output::Tcp {
                stream: BufWriter::with_capacity(1 << 16, stream),
                pace,
                next: Instant::now(),
            });
        }
        let port = source_port.unwrap_or(0);
        let bind = if dst.is_ipv6() {
            SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port))
        } else {
            SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, port))
        };
        let socket = UdpSocket::bind(bind)
            .map_err(|e| UserError(format!("cannot open a UDP socket: {e}")))?;
        socket
            .connect(dst)
            .map_err(|e| UserError(format!("cannot reach {dst}: {e}")))?;
        Ok(Output::Udp {
            socket,
            pace,
            next: Instant::now(),
        })
    }

    fn send(&mut self, time: Timestamp, datagram: &[u8]) -> Result<(), UserError> {
        match self {
            Output::Pcap {
                writer,
                src,
                dst,
                path,
            } => writer
                .write(time, *src, *dst, datagram)
                .map_err(|e| UserError(format!("{path}: {e}"))),
            Output::Tcp { stream, pace, next } => {
                wait(*pace, next);
                let sent = stream.write_all(datagram);
                let sent = if pace.is_some() {
                    sent.and_then(|()| stream.flush())
                } else {
                    sent
                };
                sent.map_err(|e| UserError(format!("sending: {e}")))
            }
            Output::Udp { socket, pace, next } => {
                wait(*pace, next);
                match socket.send(datagram) {
                    Ok(_) => Ok(()),
                    // No collector listening (ICMP port unreachable) is not fatal for a generator.
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Ok(()),
                    Err(e) => Err(UserError(format!("sending: {e}"))),
                }
            }
        }
    }

    fn finish(self) -> Result<(), UserError> {
        match self {
            Output::Pcap { writer, path, .. } => {
                writer
                    .finish()
                    .map_err(|e| UserError(format!("{path}: {e}")))?;
            }
            Output::Tcp { mut stream, .. } => {
                stream
                    .flush()
                    .map_err(|e| UserError(format!("sending: {e}")))?;
                if let Ok(s) = stream.into_inner() {
                    let _ = s.shutdown(std::net::Shutdown::Write);
                }
            }
            Output::Udp { .. } => {}
        }
        Ok(())
    }
}

/// The datagram without its template sets (NetFlow v9 FlowSets 0 and 1, IPFIX sets 2 and 3),
/// the header's length (IPFIX) or record count (v9) made to agree; `None` when nothing else
/// is left. Other protocols pass as they are.
fn without_templates(kind: ProtocolKind, datagram: &[u8]) -> Option<Vec<u8>> {
    let (header, template_ids) = match kind {
        ProtocolKind::Netflow9 => (20, [0u16, 1]),
        ProtocolKind::Ipfix => (16, [2, 3]),
        _ => return Some(datagram.to_vec()),
    };
    let mut out = datagram.get(..header)?.to_vec();
    let mut removed_records = 0u16;
    let mut at = header;
    while let Some(&[a, b, c, d]) = datagram.get(at..at + 4).and_then(|h| h.first_chunk::<4>()) {
        let (id, len) = (
            u16::from_be_bytes([a, b]),
            usize::from(u16::from_be_bytes([c, d])),
        );
        let set = datagram.get(at..at + len.max(4))?;
        if template_ids.contains(&id) {
            removed_records += template_records(id, set.get(4..).unwrap_or_default());
        } else {
            out.extend_from_slice(set);
        }
        at += len.max(4);
    }
    if out.len() == header {
        return None;
    }
    if kind == ProtocolKind::Ipfix {
        let len = u16::try_from(out.len()).ok()?.to_be_bytes();
        out.get_mut(2..4)?.copy_from_slice(&len);
    } else {
        let count = u16::from_be_bytes([*out.get(2)?, *out.get(3)?]);
        let count = count.saturating_sub(removed_records).to_be_bytes();
        out.get_mut(2..4)?.copy_from_slice(&count);
    }
    Some(out)
}

/// The records of a NetFlow v9 template (0) or options template (1) FlowSet body; IPFIX
/// template sets are not counted in its header.
fn template_records(set_id: u16, mut body: &[u8]) -> u16 {
    let mut n = 0;
    loop {
        let len = match (set_id, body) {
            (0, [_, _, c0, c1, ..]) => 4 + 4 * usize::from(u16::from_be_bytes([*c0, *c1])),
            (1, [_, _, s0, s1, o0, o1, ..]) => {
                6 + usize::from(u16::from_be_bytes([*s0, *s1]))
                    + usize::from(u16::from_be_bytes([*o0, *o1]))
            }
            _ => return n,
        };
        match body.get(len..) {
            Some(rest) => {
                n += 1;
                body = rest;
            }
            None => return n,
        }
    }
}

fn export_all(
    kind: ProtocolKind,
    flows: impl Iterator<Item = (FlowRecord, Timestamp)>,
    boot: Timestamp,
    sink: &mut Output,
    withhold_templates: bool,
) -> Result<(u64, u64, u64), UserError> {
    let mut exporter = AnyExporter::new(kind, boot);
    let (mut n_flows, mut skipped) = (0u64, 0u64);
    let mut last = boot;
    let mut sent: Result<u64, UserError> = Ok(0);
    let mut send = |now: Timestamp, d: &[u8]| {
        let stripped;
        let d = if withhold_templates {
            match without_templates(kind, d) {
                Some(s) => {
                    stripped = s;
                    &stripped[..]
                }
                None => return,
            }
        } else {
            d
        };
        if let Ok(n) = &mut sent {
            match sink.send(now, d) {
                Ok(()) => *n += 1,
                Err(e) => sent = Err(e),
            }
        }
    };
    for (flow, now) in flows {
        last = now;
        // A refused record (one the protocol cannot carry) leaves the others as they were.
        match exporter.push(&flow, now, &mut |d| send(now, d)) {
            Ok(()) => n_flows += 1,
            Err(_) => skipped += 1,
        }
    }
    exporter
        .flush(last, &mut |d| send(last, d))
        .map_err(|e| UserError(format!("encoding: {e}")))?;
    Ok((n_flows, sent?, skipped))
}

pub(crate) fn generate(args: GenerateArgs) -> Result<std::process::ExitCode, UserError> {
    let kind = ProtocolKind::from(args.protocol);
    let mut sink = Output::open(
        args.pcap.as_ref(),
        args.to.as_deref(),
        kind,
        args.rate,
        args.transport,
        args.source_port,
    )?;
    // A capture is reproducible: its clock starts at a fixed time. Live traffic uses now.
    let start = if args.pcap.is_some() {
        Timestamp::from_unix_secs(1_700_000_000)
    } else {
        Timestamp::now()
    };
    let boot = start.add_millis(-3_600_000);
    let mut generator = FlowGenerator::new(kind, args.seed, start);
    let flows = std::iter::from_fn(|| {
        let f = generator.next()?;
        Some((f, generator.clock()))
    })
    .take(usize::try_from(args.flows).unwrap_or(usize::MAX));
    let (flows, datagrams, _) = export_all(kind, flows, boot, &mut sink, args.withhold_templates)?;
    sink.finish()?;
    eprintln!("flowwire: {flows} {kind} flows in {datagrams} datagrams");
    Ok(std::process::ExitCode::SUCCESS)
}

pub(crate) fn convert(args: ConvertArgs) -> Result<std::process::ExitCode, UserError> {
    let kind = ProtocolKind::from(args.to);
    let mut readers = Vec::new();
    for path in &args.input {
        let name = path.display().to_string();
        readers.push((
            name.clone(),
            open_capture(path).map_err(|e| UserError(format!("{name}: {e}")))?,
        ));
    }
    let mut sink = Output::open(
        args.pcap.as_ref(),
        args.send.as_deref(),
        kind,
        args.rate,
        Transport::Udp,
        None,
    )?;
    // Decode everything first (in order), then re-encode: flows keep their capture times.
    let mut collector = Collector::default();
    let mut flows: Vec<(FlowRecord, Timestamp)> = Vec::new();
    let mut errors = 0u64;
    for (name, mut reader) in readers {
        while let Some(item) = reader.next_datagram() {
            match item {
                Ok(d) => {
                    let time = d.time;
                    let s = collector.decode(d.src, d.time, d.payload, &mut |f: &FlowRecord| {
                        flows.push((f.clone(), time))
                    });
                    errors += s.errors as u64;
                }
                Err(e) if e.is_fatal() => eprintln!("flowwire: {name}: {e}"),
                Err(_) => errors += 1,
            }
        }
    }
    let boot = flows
        .first()
        .map(|(_, t)| t.add_millis(-3_600_000))
        .unwrap_or_else(Timestamp::now);
    let total = flows.len();
    let (n, datagrams, skipped) = export_all(kind, flows.into_iter(), boot, &mut sink, false)?;
    sink.finish()?;
    eprintln!(
        "flowwire: {n} of {total} flows re-encoded as {kind} in {datagrams} datagrams ({skipped} not representable, {errors} decode errors)"
    );
    Ok(std::process::ExitCode::SUCCESS)
}
