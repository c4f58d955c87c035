//! Synthetic flows for testing collectors and benchmarks: deterministic for a seed, with a
//! realistic mix of IPv4 and IPv6, TCP, UDP and ICMP, well-known and ephemeral ports, and
//! heavy-tailed sizes. What `flowwire generate` sends.
//!
//! ```
//! use flowwire::synth::FlowGenerator;
//! use flowwire::{ProtocolKind, Timestamp};
//!
//! let start = Timestamp::from_unix_secs(1_700_000_000);
//! let a: Vec<_> = FlowGenerator::new(ProtocolKind::Ipfix, 7, start).take(3).collect();
//! let b: Vec<_> = FlowGenerator::new(ProtocolKind::Ipfix, 7, start).take(3).collect();
//! assert_eq!(a, b); // same seed, same flows
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};

/// An endless, deterministic stream of plausible flows for one protocol.
///
/// The fields are those the protocol carries, so that a flow decodes back equal:
/// NetFlow v5 gets IPv4 flows with 16-bit interfaces and AS numbers; sFlow gets one sampled
/// packet per flow (packets = 1, octets = the frame length, no times); NetFlow v9 and IPFIX get
/// both address families and millisecond times.
#[derive(Debug, Clone)]
pub struct FlowGenerator {
    kind: ProtocolKind,
    state: u64,
    clock: Timestamp,
    /// sFlow's sample pool: packets the sampler has seen so far.
    pool: u32,
}

impl FlowGenerator {
    /// A generator for `kind` with `seed`, whose flows end around `start` and later.
    pub fn new(kind: ProtocolKind, seed: u64, start: Timestamp) -> Self {
        FlowGenerator {
            kind,
            state: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d_4c95_7f2d | 1,
            clock: Timestamp::from_unix_millis(start.unix_millis()),
            pool: 0,
        }
    }

    /// The time the last flow ended (flows advance the clock by a few milliseconds each).
    pub fn clock(&self) -> Timestamp {
        self.clock
    }

    fn next_u64(&mut self) -> u64 {
        // xorshift64*: small, fast and good enough for test traffic.
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        let i = self.below(items.len() as u64) as usize;
        items.get(i).copied()
    }

    fn addresses(&mut self, v6: bool) -> (IpAddr, IpAddr) {
        if v6 {
            let a = Ipv6Addr::new(
                0x2001,
                0xdb8,
                0,
                self.below(256) as u16,
                0,
                0,
                0,
                self.below(65_535) as u16 + 1,
            );
            let b = Ipv6Addr::new(
                0x2001,
                0xdb8,
                0xffff,
                self.below(256) as u16,
                0,
                0,
                0,
                self.below(65_535) as u16 + 1,
            );
            (a.into(), b.into())
        } else {
            let a = Ipv4Addr::new(
                10,
                self.below(256) as u8,
                self.below(256) as u8,
                self.below(254) as u8 + 1,
            );
            let b = Ipv4Addr::new(198, 51, 100, self.below(254) as u8 + 1);
            (a.into(), b.into())
        }
    }
}

impl Iterator for FlowGenerator {
    type Item = FlowRecord;

    fn next(&mut self) -> Option<FlowRecord> {
        let v6 = self.kind != ProtocolKind::Netflow5 && self.below(4) == 0;
        let (src, dst) = self.addresses(v6);
        let proto = match self.below(10) {
            0 => {
                if v6 {
                    58
                } else {
                    1
                }
            }
            1..=3 => 17,
            _ => 6,
        };
        let mut r = FlowRecord {
            src_addr: Some(src),
            dst_addr: Some(dst),
            protocol: Some(proto),
            tos: Some(self.pick(&[0u8, 0, 0, 0x10, 0x28, 0xb8]).unwrap_or(0)),
            ..FlowRecord::default()
        };
        if proto == 6 || proto == 17 {
            r.src_port = Some(32_768 + self.below(28_000) as u16);
            r.dst_port = self.pick(&[53u16, 80, 123, 443, 443, 443, 2055, 6343, 8080]);
            if proto == 6 {
                r.tcp_flags = Some(
                    self.pick(&[0x1bu16, 0x02, 0x12, 0x19, 0x04])
                        .unwrap_or(0x1b),
                );
            }
        } else {
            // ICMP type and code, as every exporter family can carry them.
            let types: &[(u8, u8)] = if v6 {
                &[(128, 0), (129, 0), (1, 4), (3, 0)]
            } else {
                &[(8, 0), (0, 0), (3, 3), (11, 0)]
            };
            let (t, c) = self.pick(types).unwrap_or((8, 0));
            r.src_port = Some(0);
            r.dst_port = Some(u16::from(t) << 8 | u16::from(c));
        }
        // Heavy tail: most flows are small, a few carry most bytes.
        let packets = match self.below(100) {
            0..=59 => 1 + self.below(10),
            60..=94 => 10 + self.below(1_000),
            _ => 1_000 + self.below(100_000),
        };
        let mean_size = 64 + self.below(1_400);
        let step = 1 + self.below(20);
        self.clock = self.clock.add_millis(step as i64);
        match self.kind {
            ProtocolKind::Sflow5 => {
                r.packets = Some(1);
                r.octets = Some(mean_size.max(64));
                r.in_if = Some(1 + self.below(48) as u32);
                r.out_if = Some(1 + self.below(48) as u32);
                r.sampling_interval = Some(400);
                // One packet in 400 sampled: the pool grows by about that much per sample.
                self.pool = self.pool.wrapping_add(200 + self.below(400) as u32);
                r.push_extra(
                    flowwire_record::FieldId::iana(310),
                    flowwire_record::Value::Unsigned32(self.pool),
                );
                if proto != 6 && proto != 17 {
                    r.src_port = None;
                    r.dst_port = None;
                }
            }
            _ => {
                let duration = self.below(120_000) as i64;
                r.packets = Some(packets);
                r.octets = Some(packets * mean_size);
                r.end = Some(self.clock);
                r.start = Some(self.clock.add_millis(-duration));
                r.in_if = Some(1 + self.below(48) as u32);
                r.out_if = Some(1 + self.below(48) as u32);
                r.src_as = Some(self.below(65_000) as u32);
                r.dst_as = Some(self.pick(&[15_169u32, 13_335, 16_509, 64_512]).unwrap_or(0));
                r.src_mask = Some(if v6 { 48 } else { 24 });
                r.dst_mask = Some(if v6 { 64 } else { 24 });
                if !v6 {
                    r.next_hop = Some(IpAddr::V4(Ipv4Addr::new(
                        192,
                        0,
                        2,
                        1 + self.below(4) as u8,
                    )));
                }
            }
        }
        Some(r)
    }
}
