//! JSON Lines output of flow records, written straight into a byte buffer: the bytes of
//! `serde_json::to_writer(&mut out, &flow)` (the [`FlowRecord`] serde form), at a fraction of
//! its cost. The typed fields are formatted here without a serializer in between (integers
//! and IPv4 addresses by hand into fixed-size copies, times through [`Timestamp::rfc3339`]); the `extra`
//! list, rare and free-form, still goes through `serde_json`.
//!
//! ```
//! use flowwire::FlowRecord;
//!
//! let mut flow = FlowRecord::default();
//! flow.set_src_addr(Some("192.0.2.1".parse()?));
//! flow.set_dst_port(Some(443));
//! flow.set_octets(Some(1500));
//!
//! let mut line = Vec::new();
//! flowwire::jsonl::write_flow(&mut line, &flow);
//! assert_eq!(line, serde_json::to_vec(&flow)?);
//! assert_eq!(
//!     String::from_utf8(line)?,
//!     r#"{"type":"flow","src_addr":"192.0.2.1","dst_port":443,"octets":1500}"#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use flowwire_record::{FlowRecord, MacAddr, ProtocolKind, Timestamp, two_digits};

/// A JSON writer for flow records that keeps its scratch line between records (a collector
/// keeps one per thread): see the module docs.
#[derive(Clone)]
pub struct FlowJson {
    line: Box<Line>,
}

impl Default for FlowJson {
    fn default() -> Self {
        FlowJson {
            line: Line::boxed(),
        }
    }
}

impl std::fmt::Debug for FlowJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowJson").finish_non_exhaustive()
    }
}

impl FlowJson {
    /// A writer.
    pub fn new() -> Self {
        FlowJson::default()
    }

    /// Appends `flow` as one JSON object (no newline): byte for byte what `serde_json` writes
    /// for it.
    pub fn write(&mut self, out: &mut Vec<u8>, flow: &FlowRecord) {
        self.line.pos = 0;
        self.line.typed(flow);
        out.extend_from_slice(self.line.buf.get(..self.line.pos).unwrap_or_default());
        if !flow.extra.is_empty() {
            out.extend_from_slice(b",\"extra\":");
            // Serializing into a Vec cannot fail: every extra value has a JSON form.
            let _ = serde_json::to_writer(&mut *out, &flow.extra);
        }
        out.push(b'}');
    }

    /// Appends `flow` as one JSON line (the object and `\n`).
    pub fn write_line(&mut self, out: &mut Vec<u8>, flow: &FlowRecord) {
        self.write(out, flow);
        out.push(b'\n');
    }
}

/// Appends `flow` as one JSON object (no newline), as [`FlowJson::write`] does; a writer of
/// many records keeps a [`FlowJson`] instead of paying for a new one per call.
pub fn write_flow(out: &mut Vec<u8>, flow: &FlowRecord) {
    FlowJson::new().write(out, flow);
}

/// Appends `flow` as one JSON line (the object and `\n`); see [`write_flow`].
pub fn write_flow_line(out: &mut Vec<u8>, flow: &FlowRecord) {
    FlowJson::new().write_line(out, flow);
}

impl Line {
    /// The typed fields, up to but not including the `extra` list and the closing brace.
    fn typed(&mut self, flow: &FlowRecord) {
        let w = self;
        w.put(br#"{"type":"flow""#);
        if let Some(k) = flow.kind() {
            w.put(b",\"kind\":\"");
            w.kind(k);
            w.put(b"\"");
        }
        if let Some(a) = flow.exporter() {
            w.put(b",\"exporter\":\"");
            w.socket_addr(a);
            w.put(b"\"");
        }
        w.addr(b",\"agent\":", flow.agent());
        w.field(b",\"domain\":", flow.domain());
        w.field(b",\"sequence\":", flow.sequence());
        w.time(b",\"export_time\":", flow.export_time());
        w.addr(b",\"src_addr\":", flow.src_addr());
        w.addr(b",\"dst_addr\":", flow.dst_addr());
        w.field(b",\"src_port\":", flow.src_port());
        w.field(b",\"dst_port\":", flow.dst_port());
        w.field(b",\"protocol\":", flow.protocol());
        w.field(b",\"tos\":", flow.tos());
        w.field(b",\"tcp_flags\":", flow.tcp_flags());
        w.field(b",\"octets\":", flow.octets());
        w.field(b",\"packets\":", flow.packets());
        w.time(b",\"start\":", flow.start());
        w.time(b",\"end\":", flow.end());
        w.field(b",\"in_if\":", flow.in_if());
        w.field(b",\"out_if\":", flow.out_if());
        w.field(b",\"src_as\":", flow.src_as());
        w.field(b",\"dst_as\":", flow.dst_as());
        w.addr(b",\"next_hop\":", flow.next_hop());
        w.addr(b",\"bgp_next_hop\":", flow.bgp_next_hop());
        w.field(b",\"src_mask\":", flow.src_mask());
        w.field(b",\"dst_mask\":", flow.dst_mask());
        w.field(b",\"vlan\":", flow.vlan());
        w.field(b",\"inner_vlan\":", flow.inner_vlan());
        w.mac(b",\"src_mac\":", flow.src_mac());
        w.mac(b",\"dst_mac\":", flow.dst_mac());
        w.field(b",\"icmp_type\":", flow.icmp_type());
        w.field(b",\"icmp_code\":", flow.icmp_code());
        w.field(b",\"flow_label\":", flow.flow_label());
        w.field(b",\"direction\":", flow.direction());
        w.field(b",\"end_reason\":", flow.end_reason());
        w.field(b",\"forwarding_status\":", flow.forwarding_status());
        w.field(b",\"mpls_label\":", flow.mpls_label());
        w.addr(b",\"post_nat_src_addr\":", flow.post_nat_src_addr());
        w.addr(b",\"post_nat_dst_addr\":", flow.post_nat_dst_addr());
        w.field(b",\"post_nat_src_port\":", flow.post_nat_src_port());
        w.field(b",\"post_nat_dst_port\":", flow.post_nat_dst_port());
        w.field(b",\"sampling_interval\":", flow.sampling_interval());
        w.field(b",\"sampling_algorithm\":", flow.sampling_algorithm());
        if flow.is_renormalized() {
            w.put(b",\"renormalized\":true");
        }
    }
}

/// Room for the typed fields of any record: 45 keys of at most 23 octets, 9 addresses of at
/// most 49 (an IPv6 socket address with scope, quoted), 3 times of 32 and 33 integers of 20
/// are under 2,000; the rest is slack for the fixed-size copies.
const LINE: usize = 2560;

/// The typed part of a line, written into a stack buffer. Keys are literals of known length
/// and values are copied in fixed-size pieces then cut to their length: copies the compiler
/// turns into a few moves instead of `memcpy` calls.
#[derive(Clone)]
pub(crate) struct Line {
    pub(crate) buf: [u8; LINE],
    pub(crate) pos: usize,
}

impl Line {
    /// An empty line on the heap (it is a few kilobytes).
    pub(crate) fn boxed() -> Box<Line> {
        Box::new(Line {
            buf: [0; LINE],
            pos: 0,
        })
    }

    /// What was written.
    pub(crate) fn text(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or_default()
    }
}

impl Line {
    /// Appends `bytes`. The buffer is sized for every typed field, so this always fits; were it
    /// not to, the piece is left out rather than written past the end.
    #[inline(always)]
    pub(crate) fn put<const N: usize>(&mut self, bytes: &[u8; N]) {
        if let Some(to) = self.buf.get_mut(self.pos..self.pos + N) {
            to.copy_from_slice(bytes);
            self.pos += N;
        }
    }

    /// Appends the first `len` octets of `bytes`.
    #[inline(always)]
    pub(crate) fn put_cut<const N: usize>(&mut self, bytes: &[u8; N], len: usize) {
        if let Some(to) = self.buf.get_mut(self.pos..self.pos + N) {
            to.copy_from_slice(bytes);
            self.pos += len.min(N);
        }
    }

    #[inline(always)]
    pub(crate) fn int(&mut self, mut v: u64) {
        let n = v.checked_ilog10().map_or(1, |l| l as usize + 1);
        if let Some(to) = self.buf.get_mut(self.pos..self.pos + 20) {
            // Two digits at a time from the end.
            let mut end = n;
            while v >= 10 {
                let pair = two_digits((v % 100) as usize);
                if let Some(d) = to.get_mut(end.saturating_sub(2)..end) {
                    d.copy_from_slice(&pair);
                }
                end = end.saturating_sub(2);
                v /= 100;
            }
            if end == 1
                && let Some(d) = to.first_mut()
            {
                *d = b'0' + v as u8;
            }
            self.pos += n;
        }
    }

    #[inline(always)]
    fn field<const K: usize, I: Into<u64>>(&mut self, key: &[u8; K], value: Option<I>) {
        if let Some(v) = value {
            self.put(key);
            self.int(v.into());
        }
    }

    #[inline(always)]
    fn time<const K: usize>(&mut self, key: &[u8; K], value: Option<Timestamp>) {
        if let Some(t) = value {
            self.put(key);
            self.put(b"\"");
            self.timestamp(t);
            self.put(b"\"");
        }
    }

    fn mac<const K: usize>(&mut self, key: &[u8; K], value: Option<MacAddr>) {
        if let Some(m) = value {
            self.put(key);
            self.put(b"\"");
            self.display(m);
            self.put(b"\"");
        }
    }

    #[inline(always)]
    fn addr<const K: usize>(&mut self, key: &[u8; K], value: Option<IpAddr>) {
        if let Some(a) = value {
            self.put(key);
            self.put(b"\"");
            self.ip(a);
            self.put(b"\"");
        }
    }

    /// The protocol's name (`netflow9`, ...).
    pub(crate) fn kind(&mut self, k: ProtocolKind) {
        let (name, len) = match k {
            ProtocolKind::Netflow5 => (b"netflow5", 8),
            ProtocolKind::Netflow9 => (b"netflow9", 8),
            ProtocolKind::Ipfix => (b"ipfix\0\0\0", 5),
            ProtocolKind::Sflow5 => (b"sflow5\0\0", 6),
        };
        self.put_cut(name, len);
    }

    /// RFC 3339, as `Display` writes a [`Timestamp`].
    #[inline(always)]
    pub(crate) fn timestamp(&mut self, t: Timestamp) {
        let text = t.rfc3339();
        self.put_cut(text.padded(), text.len());
    }

    /// An address as `Display` writes it.
    #[inline(always)]
    pub(crate) fn ip(&mut self, a: IpAddr) {
        match a {
            IpAddr::V4(a) => self.ipv4(a),
            IpAddr::V6(a) => self.ipv6(a),
        }
    }

    /// A socket address as `Display` writes it.
    pub(crate) fn socket_addr(&mut self, a: SocketAddr) {
        match a {
            SocketAddr::V4(a) => {
                self.ipv4(*a.ip());
                self.put(b":");
                self.int(a.port().into());
            }
            SocketAddr::V6(a) => self.display(a),
        }
    }

    /// The text `Display` gives (RFC 5952: lower-case hexadecimal, the longest run of two or
    /// more zero groups, the first of equals, written `::`; IPv4-mapped as `::ffff:a.b.c.d`).
    fn ipv6(&mut self, a: Ipv6Addr) {
        if let Some(v4) = a.to_ipv4_mapped() {
            self.put(b"::ffff:");
            self.ipv4(v4);
            return;
        }
        let groups = a.segments();
        // The longest run of zero groups (first of equals), if two or more long.
        let (mut best, mut best_len, mut run, mut run_len) = (0, 0, 0, 0);
        for (i, &g) in groups.iter().enumerate() {
            if g == 0 {
                if run_len == 0 {
                    run = i;
                }
                run_len += 1;
                if run_len > best_len {
                    (best, best_len) = (run, run_len);
                }
            } else {
                run_len = 0;
            }
        }
        let skip = if best_len >= 2 {
            best..best + best_len
        } else {
            0..0
        };
        let mut i = 0;
        while i < 8 {
            if i == skip.start && !skip.is_empty() {
                self.put(b"::");
                i = skip.end;
                continue;
            }
            if i > 0 && i != skip.end {
                self.put(b":");
            }
            self.hex(groups.get(i).copied().unwrap_or(0));
            i += 1;
        }
    }

    /// A group in lower-case hexadecimal without leading zeros.
    fn hex(&mut self, g: u16) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let n = if g == 0 {
            1
        } else {
            (19 - g.leading_zeros() as usize) / 4
        };
        let mut text = [0u8; 4];
        for (k, d) in text.iter_mut().take(n).enumerate() {
            let shift = 4 * (n - 1 - k);
            *d = HEX
                .get(usize::from((g >> shift) & 0xf))
                .copied()
                .unwrap_or(b'0');
        }
        self.put_cut(&text, n);
    }

    fn ipv4(&mut self, a: Ipv4Addr) {
        for (i, o) in a.octets().into_iter().enumerate() {
            if i > 0 {
                self.put(b".");
            }
            let [tens, ones] = two_digits(usize::from(o % 100));
            if o >= 100 {
                self.put(&[b'0' + o / 100, tens, ones]);
            } else if o >= 10 {
                self.put(&[tens, ones]);
            } else {
                self.put(&[ones]);
            }
        }
    }

    /// Appends what `Display` writes (addresses of at most 56 octets).
    pub(crate) fn display(&mut self, v: impl std::fmt::Display) {
        let mut text = [0u8; 64];
        let mut cursor = std::io::Cursor::new(&mut text[..]);
        let _ = write!(cursor, "{v}");
        let len = cursor.position() as usize;
        self.put_cut(&text, len);
    }
}
