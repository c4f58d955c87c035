//! Reading UDP datagrams out of pcap and pcapng captures and IPFIX files, for tests and
//! offline decoding.
//!
//! [`open_capture`] takes any of them — pcap, pcapng, or an IPFIX file (RFC 5655: IPFIX
//! messages back to back, as nProbe and `ipfixcol2` write them), told apart by their first
//! octets — and yields datagrams the same way: a [`Capture`]. For an IPFIX file each message
//! is one datagram, stamped with its export time and frame numbers counting messages.
//!
//! [`CaptureReader`] walks a capture (format auto-detected) in frame order and yields each UDP
//! datagram with its frame number, capture time and addresses. It understands the link types
//! flow captures come in — Ethernet (with 802.1Q/QinQ), Linux cooked SLL and SLL2 (what
//! `tcpdump -i any` writes), raw IP, IPv4, IPv6 and BSD loopback — and reassembles fragmented
//! IPv4 and IPv6 UDP datagrams, which large IPFIX and sFlow exports produce.
//!
//! ```no_run
//! use flowwire::capture::CaptureReader;
//!
//! let mut capture = CaptureReader::open("export.pcap")?;
//! while let Some(item) = capture.next_datagram() {
//!     match item {
//!         Ok(d) => println!("frame {} {} -> {}: {} bytes", d.frame, d.src, d.dst, d.payload.len()),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # Ok::<(), flowwire::capture::CaptureError>(())
//! ```

use std::fs::File;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use etherparse::defrag::IpDefragPool;
use etherparse::{NetSlice, SlicedPacket, TransportSlice, UdpSlice};
use flowwire_record::Timestamp;
use pcap_parser::data::{PacketData, get_packetdata};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError};

/// A capture of any kind flowwire reads; see [`open_capture`].
#[derive(Debug)]
pub enum Capture {
    /// A pcap or pcapng capture.
    Packets(CaptureReader),
    /// An IPFIX file (RFC 5655).
    #[cfg(feature = "ipfix")]
    IpfixFile(IpfixFile),
}

impl Capture {
    /// Reads a capture (pcap, pcapng or IPFIX file) from any reader: the whole input when it
    /// is an IPFIX file, block by block otherwise.
    pub fn new(mut reader: impl Read + Send + 'static) -> Result<Self, CaptureError> {
        let mut head = [0u8; 2];
        let mut n = 0;
        while let Some(rest) = head.get_mut(n..).filter(|r| !r.is_empty()) {
            match reader.read(rest) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(CaptureError::Io {
                        path: "input".into(),
                        source,
                    });
                }
            }
        }
        let head = head.get(..n).unwrap_or_default().to_vec();
        #[cfg(feature = "ipfix")]
        if head == [0, 10] {
            let mut bytes = head;
            reader
                .read_to_end(&mut bytes)
                .map_err(|source| CaptureError::Io {
                    path: "input".into(),
                    source,
                })?;
            return Ok(Capture::IpfixFile(IpfixFile::new(bytes)));
        }
        let chained = Filling(std::io::Cursor::new(head).chain(reader), false);
        CaptureReader::new(chained).map(Capture::Packets)
    }

    /// Reads a capture held in memory.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CaptureError> {
        Self::new(std::io::Cursor::new(bytes.to_vec()))
    }

    /// The next datagram (for an IPFIX file, the next message), a per-frame error (reading
    /// goes on), or a fatal error (the last item). `None` at the end.
    pub fn next_datagram(&mut self) -> Option<Result<Datagram<'_>, CaptureError>> {
        match self {
            Capture::Packets(r) => r.next_datagram(),
            #[cfg(feature = "ipfix")]
            Capture::IpfixFile(f) => f.next_datagram(),
        }
    }

    /// What has been read so far (for an IPFIX file: messages as frames and datagrams).
    pub fn stats(&self) -> CaptureStats {
        match self {
            Capture::Packets(r) => *r.stats(),
            #[cfg(feature = "ipfix")]
            Capture::IpfixFile(f) => f.stats,
        }
    }
}

/// A reader whose first read fills the buffer unless the input ends: the pcap parser detects
/// the format from its first read, which must not stop at the octets read ahead to tell an
/// IPFIX file from a capture. Later reads pass through (a live pipe is not held back).
struct Filling<R>(R, bool);

impl<R: Read> Read for Filling<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.1 {
            return self.0.read(buf);
        }
        self.1 = true;
        let mut n = 0;
        while n < buf.len() {
            let Some(rest) = buf.get_mut(n..) else { break };
            match self.0.read(rest) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if n == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(n)
    }
}

/// Opens a capture file of any kind flowwire reads: pcap, pcapng or an IPFIX file (RFC 5655),
/// told apart by their first octets; `-` reads standard input.
///
/// ```no_run
/// let mut capture = flowwire::capture::open_capture("export.ipfix")?;
/// while let Some(item) = capture.next_datagram() {
///     let d = item?;
///     println!("message {} exported {}: {} bytes", d.frame, d.time, d.payload.len());
/// }
/// # Ok::<(), flowwire::capture::CaptureError>(())
/// ```
pub fn open_capture(path: impl AsRef<Path>) -> Result<Capture, CaptureError> {
    let path = path.as_ref();
    if path.as_os_str() == "-" {
        return Capture::new(std::io::stdin());
    }
    let file = File::open(path).map_err(|source| CaptureError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Capture::new(file)
}

/// The messages of an IPFIX file (RFC 5655), split by the IPFIX crate's message framing.
#[cfg(feature = "ipfix")]
#[derive(Debug)]
pub struct IpfixFile {
    bytes: Vec<u8>,
    offset: usize,
    stats: CaptureStats,
    done: bool,
}

#[cfg(feature = "ipfix")]
impl IpfixFile {
    /// The file's bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        IpfixFile {
            bytes,
            offset: 0,
            stats: CaptureStats::default(),
            done: false,
        }
    }

    /// The next message as a datagram from 0.0.0.0:0, stamped with its export time; a
    /// message that does not frame (a bad length, a cut file) is a fatal error that says
    /// where and what was available.
    pub fn next_datagram(&mut self) -> Option<Result<Datagram<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        let rest = self.bytes.get(self.offset..).unwrap_or_default();
        let Some(item) = flowwire_ipfix::wire::message::MessageIter::new(rest, self.offset).next()
        else {
            self.done = true;
            return None;
        };
        match item {
            Ok(m) => {
                let len = m.as_bytes().len();
                let start = self.offset;
                self.offset += len;
                self.stats.frames += 1;
                self.stats.datagrams += 1;
                let any = SocketAddr::from(([0, 0, 0, 0], 0));
                let payload = self.bytes.get(start..start + len).unwrap_or_default();
                Some(Ok(Datagram {
                    frame: self.stats.frames,
                    time: Timestamp::from_unix_secs(i64::from(m.export_time())),
                    src: any,
                    dst: any,
                    payload,
                }))
            }
            Err(e) => {
                self.done = true;
                Some(Err(CaptureError::Malformed {
                    frame: self.stats.frames,
                    reason: format!("IPFIX file: {e}"),
                }))
            }
        }
    }
}

/// The largest capture block the reader accepts (a frame of up to 1 MiB).
const READ_BUFFER: usize = 1 << 20;
/// Fragments not completed within this many frames are dropped, bounding reassembly memory.
const DEFRAG_WINDOW_FRAMES: u64 = 256;

/// One UDP datagram found in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// The 1-based number of the frame that completed it (as Wireshark numbers frames).
    pub frame: u64,
    /// When it was captured.
    pub time: Timestamp,
    /// The sender (the exporter).
    pub src: SocketAddr,
    /// The receiver (the collector).
    pub dst: SocketAddr,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// What went wrong reading a capture. [`CaptureError::is_fatal`] tells whether reading can go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The file could not be opened or read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The input is neither pcap nor pcapng.
    #[error("not a pcap or pcapng capture")]
    NotACapture,
    /// The capture is empty.
    #[error("the capture is empty")]
    Empty,
    /// The capture ends in the middle of a block; everything before was read.
    #[error("the capture is truncated after frame {frame}")]
    Truncated {
        /// The last complete frame.
        frame: u64,
    },
    /// A block is malformed or too large; reading stops.
    #[error("malformed capture block after frame {frame}: {reason}")]
    Malformed {
        /// The last complete frame.
        frame: u64,
        /// What the pcap parser said.
        reason: String,
    },
    /// One frame's IP/UDP headers are malformed; the frame is skipped and reading goes on.
    #[error("frame {frame}: {reason}")]
    Frame {
        /// The frame number.
        frame: u64,
        /// What is wrong with it.
        reason: String,
    },
}

impl CaptureError {
    /// Whether reading stops after this error (`Frame` errors only skip one frame).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, CaptureError::Frame { .. })
    }
}

/// Counters of what a [`CaptureReader`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Frames read.
    pub frames: u64,
    /// UDP datagrams yielded (reassembled ones count once).
    pub datagrams: u64,
    /// Frames that were not UDP, or of a link type not understood.
    pub skipped: u64,
    /// IP fragments taken in.
    pub fragments: u64,
    /// Frames whose headers were malformed.
    pub malformed: u64,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: Linktype,
    /// Timestamp units per second.
    resolution: u64,
    offset_secs: i64,
}

/// Reads UDP datagrams from a pcap or pcapng capture, in frame order.
pub struct CaptureReader {
    inner: Box<dyn PcapReaderIterator + Send>,
    state: FrameState,
    done: bool,
}

/// Everything but the pcap reader itself, so that a block borrowed from the reader can be
/// handled while the state is mutated.
struct FrameState {
    interfaces: Vec<Interface>,
    legacy: Option<(Linktype, bool)>,
    defrag: IpDefragPool<u64, ()>,
    scratch: Vec<u8>,
    stats: CaptureStats,
}

impl core::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("stats", &self.state.stats)
            .finish_non_exhaustive()
    }
}

enum Step {
    Datagram(Timestamp, SocketAddr, SocketAddr),
    Skip,
    Error(String),
}

impl CaptureReader {
    /// Opens a capture file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| CaptureError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::new(file)
    }

    /// Reads a capture from bytes in memory.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CaptureError> {
        Self::new(std::io::Cursor::new(bytes.to_vec()))
    }

    /// Reads a capture from any reader (a file, stdin, a socket).
    pub fn new(reader: impl Read + Send + 'static) -> Result<Self, CaptureError> {
        let inner = pcap_parser::create_reader(READ_BUFFER, reader).map_err(|e| match e {
            PcapError::Eof => CaptureError::Empty,
            PcapError::ReadError => CaptureError::Io {
                path: "input".into(),
                source: std::io::Error::other("read failed"),
            },
            _ => CaptureError::NotACapture,
        })?;
        Ok(CaptureReader {
            inner,
            state: FrameState {
                interfaces: Vec::new(),
                legacy: None,
                defrag: IpDefragPool::new(),
                scratch: Vec::with_capacity(65_536),
                stats: CaptureStats::default(),
            },
            done: false,
        })
    }

    /// What has been read so far.
    pub fn stats(&self) -> &CaptureStats {
        &self.state.stats
    }

    /// The next UDP datagram, a per-frame error (reading goes on), or a fatal error (the last
    /// item). `None` at the end of the capture.
    pub fn next_datagram(&mut self) -> Option<Result<Datagram<'_>, CaptureError>> {
        loop {
            if self.done {
                return None;
            }
            // pcap-parser 0.17 subtracts a block's declared length without checking it (an
            // overflow panic in builds with overflow checks, found by the capture_reader fuzz
            // target); a panic inside the parser ends the walk as a malformed capture instead.
            let inner = &mut self.inner;
            let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                let inner = inner;
                inner.next()
            }));
            let Ok(next) = next else {
                self.done = true;
                return Some(Err(CaptureError::Malformed {
                    frame: self.state.stats.frames,
                    reason: "the capture parser failed on a malformed block".into(),
                }));
            };
            let (offset, step) = match next {
                Ok((offset, block)) => {
                    let step = self.state.handle_block(block);
                    (offset, step)
                }
                Err(PcapError::Eof) => {
                    self.done = true;
                    return None;
                }
                Err(PcapError::Incomplete(_)) => {
                    if let Err(e) = self.inner.refill() {
                        self.done = true;
                        return Some(Err(fatal(e, self.state.stats.frames)));
                    }
                    continue;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(fatal(e, self.state.stats.frames)));
                }
            };
            self.inner.consume(offset);
            match step {
                Step::Skip => continue,
                Step::Error(reason) => {
                    return Some(Err(CaptureError::Frame {
                        frame: self.state.stats.frames,
                        reason,
                    }));
                }
                Step::Datagram(time, src, dst) => {
                    self.state.stats.datagrams += 1;
                    return Some(Ok(Datagram {
                        frame: self.state.stats.frames,
                        time,
                        src,
                        dst,
                        payload: &self.state.scratch,
                    }));
                }
            }
        }
    }
}

fn fatal(e: PcapError<&[u8]>, frame: u64) -> CaptureError {
    match e {
        PcapError::UnexpectedEof | PcapError::Incomplete(_) | PcapError::Eof => {
            CaptureError::Truncated { frame }
        }
        other => CaptureError::Malformed {
            frame,
            reason: other.to_string(),
        },
    }
}

impl FrameState {
    fn handle_block(&mut self, block: PcapBlockOwned<'_>) -> Step {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.legacy = Some((h.network, h.is_nanosecond_precision()));
                Step::Skip
            }
            PcapBlockOwned::Legacy(b) => {
                self.stats.frames += 1;
                let (linktype, nanos) = self.legacy.unwrap_or((Linktype::ETHERNET, false));
                let sub = if nanos {
                    b.ts_usec
                } else {
                    b.ts_usec.saturating_mul(1000)
                };
                let time = Timestamp::from_unix_secs_nanos(b.ts_sec, sub);
                self.handle_frame(b.data, b.caplen as usize, linktype, time)
            }
            PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                // Interface ids restart with each section.
                self.interfaces.clear();
                Step::Skip
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.interfaces.push(Interface {
                    linktype: idb.linktype,
                    resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                    offset_secs: idb.ts_offset(),
                });
                Step::Skip
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                self.stats.frames += 1;
                let Some(iface) = self.interfaces.get(epb.if_id as usize).copied() else {
                    self.stats.malformed += 1;
                    return Step::Error(format!("packet on undeclared interface {}", epb.if_id));
                };
                let ticks = (u128::from(epb.ts_high) << 32) | u128::from(epb.ts_low);
                let nanos = ticks * 1_000_000_000 / u128::from(iface.resolution);
                let nanos = i64::try_from(nanos)
                    .unwrap_or(i64::MAX)
                    .saturating_add(iface.offset_secs.saturating_mul(1_000_000_000));
                let data = epb.data.get(..epb.caplen as usize).unwrap_or(epb.data);
                self.handle_frame(
                    data,
                    data.len(),
                    iface.linktype,
                    Timestamp::from_unix_nanos(nanos),
                )
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                self.stats.frames += 1;
                let Some(iface) = self.interfaces.first().copied() else {
                    self.stats.malformed += 1;
                    return Step::Error("simple packet before any interface".into());
                };
                self.handle_frame(
                    spb.data,
                    spb.data.len(),
                    iface.linktype,
                    Timestamp::UNIX_EPOCH,
                )
            }
            PcapBlockOwned::NG(_) => Step::Skip,
        }
    }

    fn handle_frame(
        &mut self,
        data: &[u8],
        caplen: usize,
        linktype: Linktype,
        time: Timestamp,
    ) -> Step {
        let sliced = if linktype == Linktype(108) {
            // OpenBSD loopback: a 4-octet address family in network byte order, then IP.
            data.get(4..).map(SlicedPacket::from_ip)
        } else {
            match get_packetdata(data, linktype, caplen) {
                Some(PacketData::L2(frame)) => Some(SlicedPacket::from_ethernet(frame)),
                Some(PacketData::L3(_, packet)) => Some(SlicedPacket::from_ip(packet)),
                _ => None,
            }
        };
        let sliced = match sliced {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                self.stats.malformed += 1;
                return Step::Error(format!("malformed headers: {e}"));
            }
            None => {
                self.stats.skipped += 1;
                return Step::Skip;
            }
        };
        let frame = self.stats.frames;
        let addrs = match &sliced.net {
            Some(NetSlice::Ipv4(ip)) => {
                let h = ip.header();
                Some((
                    IpAddr::from(h.source_addr()),
                    IpAddr::from(h.destination_addr()),
                ))
            }
            Some(NetSlice::Ipv6(ip)) => {
                let h = ip.header();
                Some((
                    IpAddr::from(h.source_addr()),
                    IpAddr::from(h.destination_addr()),
                ))
            }
            _ => None,
        };
        let Some((src_ip, dst_ip)) = addrs else {
            self.stats.skipped += 1;
            return Step::Skip;
        };
        if let Some(TransportSlice::Udp(udp)) = &sliced.transport {
            self.scratch.clear();
            self.scratch.extend_from_slice(udp.payload());
            return Step::Datagram(
                time,
                SocketAddr::new(src_ip, udp.source_port()),
                SocketAddr::new(dst_ip, udp.destination_port()),
            );
        }
        let fragmented = match &sliced.net {
            Some(NetSlice::Ipv4(ip)) => ip.header().is_fragmenting_payload(),
            Some(NetSlice::Ipv6(ip)) => ip.is_payload_fragmented(),
            _ => false,
        };
        if !fragmented {
            self.stats.skipped += 1;
            return Step::Skip;
        }
        self.stats.fragments += 1;
        if frame.is_multiple_of(64) {
            self.defrag
                .retain(|started| frame.saturating_sub(*started) <= DEFRAG_WINDOW_FRAMES);
        }
        match self.defrag.process_sliced_packet(&sliced, frame, ()) {
            Ok(Some(whole)) => {
                let step = if whole.ip_number == etherparse::IpNumber::UDP {
                    match UdpSlice::from_slice(&whole.payload) {
                        Ok(udp) => {
                            self.scratch.clear();
                            self.scratch.extend_from_slice(udp.payload());
                            Step::Datagram(
                                time,
                                SocketAddr::new(src_ip, udp.source_port()),
                                SocketAddr::new(dst_ip, udp.destination_port()),
                            )
                        }
                        Err(e) => {
                            self.stats.malformed += 1;
                            Step::Error(format!("reassembled UDP datagram is malformed: {e}"))
                        }
                    }
                } else {
                    self.stats.skipped += 1;
                    Step::Skip
                };
                self.defrag.return_buf(whole);
                step
            }
            Ok(None) => Step::Skip,
            Err(e) => {
                self.stats.malformed += 1;
                Step::Error(format!("IP reassembly failed: {e}"))
            }
        }
    }
}

/// Writes UDP datagrams into a classic pcap (Ethernet link type, microsecond times), framed
/// with Ethernet, IPv4 or IPv6 and UDP headers: how `flowwire generate --pcap` and
/// `flowwire convert --pcap` record what they would send.
pub struct CaptureWriter<W: std::io::Write> {
    out: W,
    frame: Vec<u8>,
}

impl<W: std::io::Write> core::fmt::Debug for CaptureWriter<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CaptureWriter").finish_non_exhaustive()
    }
}

/// A datagram that cannot be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Writing failed.
    #[error("writing the capture: {0}")]
    Io(#[from] std::io::Error),
    /// Source and destination are of different address families.
    #[error("source {src} and destination {dst} are of different address families")]
    MixedFamilies {
        /// Source.
        src: SocketAddr,
        /// Destination.
        dst: SocketAddr,
    },
    /// The payload does not fit in one UDP datagram.
    #[error("a UDP payload of {0} octets is too large")]
    TooLarge(usize),
}

impl<W: std::io::Write> CaptureWriter<W> {
    /// Starts a capture (writes the pcap file header).
    pub fn new(mut out: W) -> Result<Self, WriteError> {
        use pcap_parser::ToVec;
        let mut header = pcap_parser::PcapHeader::new();
        header.network = Linktype::ETHERNET;
        header.snaplen = 65_535;
        let bytes = header
            .to_vec_raw()
            .map_err(|e| WriteError::Io(std::io::Error::other(format!("{e:?}"))))?;
        out.write_all(&bytes)?;
        Ok(CaptureWriter {
            out,
            frame: Vec::with_capacity(1600),
        })
    }

    /// Appends one UDP datagram captured at `time`.
    pub fn write(
        &mut self,
        time: Timestamp,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) -> Result<(), WriteError> {
        use etherparse::PacketBuilder;
        if payload.len() > 65_000 {
            return Err(WriteError::TooLarge(payload.len()));
        }
        let eth = PacketBuilder::ethernet2([0x02, 0, 0, 0, 0, 1], [0x02, 0, 0, 0, 0, 2]);
        let builder = match (src.ip(), dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), 64),
            (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), 64),
            _ => return Err(WriteError::MixedFamilies { src, dst }),
        }
        .udp(src.port(), dst.port());
        self.frame.clear();
        builder
            .write(&mut self.frame, payload)
            .map_err(|e| WriteError::Io(std::io::Error::other(e.to_string())))?;
        use pcap_parser::ToVec;
        let len = self.frame.len() as u32;
        let block = pcap_parser::LegacyPcapBlock {
            ts_sec: u32::try_from(time.unix_secs()).unwrap_or(0),
            ts_usec: time.subsec_nanos() / 1_000,
            caplen: len,
            origlen: len,
            data: &self.frame,
        };
        let bytes = block
            .to_vec_raw()
            .map_err(|e| WriteError::Io(std::io::Error::other(format!("{e:?}"))))?;
        self.out.write_all(&bytes)?;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> Result<W, WriteError> {
        self.out.flush()?;
        Ok(self.out)
    }
}
