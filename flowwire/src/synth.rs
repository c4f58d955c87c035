//! Synthetic traffic for testing collectors.
//!
//! - [`FlowGenerator`]: flows for benchmarks and tests, deterministic for a seed, with a
//!   realistic mix of IPv4 and IPv6, TCP, UDP and ICMP, well-known and ephemeral ports, and
//!   heavy-tailed sizes. What `flowwire generate` sends.
//! - `ExportDatagrams` (feature `arbitrary`): fuzzer bytes turned into valid export
//!   datagrams of any protocol, with the flows a collector must decode from them, to fuzz
//!   your own collector with.
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
        let mut r = {
            let mut built = FlowRecord::default();
            built.set_src_addr(Some(src));
            built.set_dst_addr(Some(dst));
            built.set_protocol(Some(proto));
            built.set_tos(Some(self.pick(&[0u8, 0, 0, 0x10, 0x28, 0xb8]).unwrap_or(0)));
            built
        };
        if proto == 6 || proto == 17 {
            r.set_src_port(Some(32_768 + self.below(28_000) as u16));
            r.set_dst_port(self.pick(&[53u16, 80, 123, 443, 443, 443, 2055, 6343, 8080]));
            if proto == 6 {
                r.set_tcp_flags(Some(
                    self.pick(&[0x1bu16, 0x02, 0x12, 0x19, 0x04])
                        .unwrap_or(0x1b),
                ));
            }
        } else {
            // ICMP type and code, as every exporter family can carry them.
            let types: &[(u8, u8)] = if v6 {
                &[(128, 0), (129, 0), (1, 4), (3, 0)]
            } else {
                &[(8, 0), (0, 0), (3, 3), (11, 0)]
            };
            let (t, c) = self.pick(types).unwrap_or((8, 0));
            r.set_src_port(Some(0));
            r.set_dst_port(Some(u16::from(t) << 8 | u16::from(c)));
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
                r.set_packets(Some(1));
                r.set_octets(Some(mean_size.max(64)));
                r.set_in_if(Some(1 + self.below(48) as u32));
                r.set_out_if(Some(1 + self.below(48) as u32));
                r.set_sampling_interval(Some(400));
                // One packet in 400 sampled: the pool grows by about that much per sample.
                self.pool = self.pool.wrapping_add(200 + self.below(400) as u32);
                r.push_extra(
                    flowwire_record::FieldId::iana(310),
                    flowwire_record::Value::Unsigned32(self.pool),
                );
                if proto != 6 && proto != 17 {
                    r.set_src_port(None);
                    r.set_dst_port(None);
                }
            }
            _ => {
                let duration = self.below(120_000) as i64;
                r.set_packets(Some(packets));
                r.set_octets(Some(packets * mean_size));
                r.set_end(Some(self.clock));
                r.set_start(Some(self.clock.add_millis(-duration)));
                r.set_in_if(Some(1 + self.below(48) as u32));
                r.set_out_if(Some(1 + self.below(48) as u32));
                r.set_src_as(Some(self.below(65_000) as u32));
                r.set_dst_as(Some(
                    self.pick(&[15_169u32, 13_335, 16_509, 64_512]).unwrap_or(0),
                ));
                r.set_src_mask(Some(if v6 { 48 } else { 24 }));
                r.set_dst_mask(Some(if v6 { 64 } else { 24 }));
                if !v6 {
                    r.set_next_hop(Some(IpAddr::V4(Ipv4Addr::new(
                        192,
                        0,
                        2,
                        1 + self.below(4) as u8,
                    ))));
                }
            }
        }
        Some(r)
    }
}

#[cfg(feature = "arbitrary")]
pub use fuzzing::ExportDatagrams;

#[cfg(feature = "arbitrary")]
mod fuzzing {
    use arbitrary::{Arbitrary, Unstructured};
    use flowwire_record::codec::Exporter;
    use flowwire_record::{FlowRecord, ProtocolKind, Timestamp};

    use crate::export::AnyExporter;

    /// The protocols compiled in.
    const PROTOCOLS: &[ProtocolKind] = &[
        #[cfg(feature = "netflow")]
        ProtocolKind::Netflow5,
        #[cfg(feature = "netflow")]
        ProtocolKind::Netflow9,
        #[cfg(feature = "ipfix")]
        ProtocolKind::Ipfix,
        #[cfg(feature = "sflow")]
        ProtocolKind::Sflow5,
    ];
    /// Flows pushed, at most.
    const MAX_FLOWS: usize = 32;
    /// How long the exporter has been up at the first push, at most: 60 days, past the
    /// 49.7-day wrap of NetFlow's 32-bit sysUptime.
    const MAX_UPTIME_MS: i64 = 60 * 86_400_000;
    /// Time between two pushes, at most.
    const MAX_STEP_MS: i64 = 5_000;
    /// The first push's time, in milliseconds since the Unix epoch: from 2000-01-01 to
    /// before 2036-02-07T06:28:16Z, when the first NTP era ends (the last push stays before
    /// it too).
    const TIME_RANGE_MS: core::ops::RangeInclusive<i64> =
        946_684_800_000..=2_085_978_496_000 - 1 - MAX_FLOWS as i64 * MAX_STEP_MS;

    /// Valid export datagrams of one protocol, made from fuzzer bytes, and the flows a
    /// collector must decode from them: to fuzz your own collector (or anything that reads
    /// NetFlow v5/v9, IPFIX or sFlow) with inputs that are valid, rather than with bytes most
    /// of which a parser rejects at once.
    ///
    /// How a value is made ([`Arbitrary`]): an arbitrary protocol among those compiled in; an
    /// exporter of it ([`AnyExporter`], the codec's defaults: source id / observation domain 0,
    /// sFlow agent 127.0.0.1) booted up to 60 days before an arbitrary time from 2000 to
    /// 2036-02-07 (where the first NTP era ends); 0-32 arbitrary [`FlowRecord`]s (see
    /// `flowwire_record::fuzzing`: any subset of the typed fields, extras, times anywhere in
    /// 2000-2100) pushed through it a few seconds apart, then a flush. What the exporter accepted is kept in [`flows`](Self::flows) as
    /// [`Exporter::restrict`] says a collector decodes it; records it refused (an IPv6 address
    /// in NetFlow v5, a value out of its field's range...) are left out.
    ///
    /// For NetFlow v9 and IPFIX, so that templates vary beyond those the exporter derives
    /// from the flows, datagrams of arbitrary template and options template records (the
    /// codecs' `fuzzing` modules: common and vendor elements at odd lengths, variable-length
    /// fields, RFC 6313 lists, withdrawals) are slipped in between the exporter's, with
    /// another source id / observation domain (1 or more) and no data: they change no flow.
    ///
    /// Decoded in order at [`now`](Self::now) by one collector from one exporter address,
    /// the datagrams give exactly [`flows`](Self::flows) (in order, message context aside:
    /// [`ExportDatagrams::check`]) and no error.
    ///
    /// A fuzz target for your collector: the body below goes in
    /// `fuzz_target!(|bytes: &[u8]| { ... })` (cargo-fuzz); here it runs on a few fixed
    /// inputs instead.
    ///
    /// ```
    /// use arbitrary::{Arbitrary, Unstructured};
    /// use flowwire::synth::ExportDatagrams;
    /// use flowwire::{Collector, Decoder, FlowRecord};
    ///
    /// fn fuzz_my_collector(bytes: &[u8]) {
    ///     let Ok(input) = ExportDatagrams::arbitrary(&mut Unstructured::new(bytes)) else {
    ///         return;
    ///     };
    ///     // Your collector goes here; flowwire's stands in for it.
    ///     let mut collector = Collector::default();
    ///     let mut decoded = Vec::new();
    ///     for datagram in &input.datagrams {
    ///         let summary = collector.decode(
    ///             "192.0.2.1:2055".parse().unwrap(),
    ///             input.now,
    ///             datagram,
    ///             &mut |flow: &FlowRecord| decoded.push(flow.clone()),
    ///         );
    ///         assert_eq!(summary.errors, 0, "{:?}: a valid datagram refused", input.protocol);
    ///     }
    ///     if let Err(difference) = input.check(&decoded) {
    ///         panic!("{difference}");
    ///     }
    /// }
    ///
    /// // Without libFuzzer: a few pseudo-random inputs.
    /// let mut x = 0x2545_f491_4f6c_dd1du64;
    /// for _ in 0..64 {
    ///     let bytes: Vec<u8> = (0..2048)
    ///         .map(|_| {
    ///             x ^= x << 13;
    ///             x ^= x >> 7;
    ///             x ^= x << 17;
    ///             x as u8
    ///         })
    ///         .collect();
    ///     fuzz_my_collector(&bytes);
    /// }
    /// ```
    #[derive(Debug, Clone, PartialEq)]
    pub struct ExportDatagrams {
        /// The protocol of every datagram.
        pub protocol: ProtocolKind,
        /// The flows a collector decodes from [`datagrams`](Self::datagrams), in order,
        /// without their message context ([`ExportDatagrams::content`]).
        pub flows: Vec<FlowRecord>,
        /// The datagrams (UDP payloads), in the order they were sent.
        pub datagrams: Vec<Vec<u8>>,
        /// When the last one was sent: the time to decode them at.
        pub now: Timestamp,
    }

    impl ExportDatagrams {
        /// `flow` without what a decoder takes from the message around it (kind, exporter,
        /// agent, domain, sequence, export time): the form of
        /// [`flows`](Self::flows).
        pub fn content(flow: &FlowRecord) -> FlowRecord {
            let mut content = flow.clone();
            content.clear_context();
            content
        }

        /// Checks what a collector decoded from [`datagrams`](Self::datagrams), in order,
        /// against [`flows`](Self::flows), message context aside (NaN floats equal); the
        /// first difference, as text, when there is one.
        pub fn check(&self, decoded: &[FlowRecord]) -> Result<(), String> {
            if decoded.len() != self.flows.len() {
                return Err(format!(
                    "{}: {} flows decoded, {} sent",
                    self.protocol,
                    decoded.len(),
                    self.flows.len()
                ));
            }
            for (i, (want, got)) in self.flows.iter().zip(decoded).enumerate() {
                let got = Self::content(got);
                // NaN is not equal to itself; the Debug forms are.
                if *want != got && format!("{want:?}") != format!("{got:?}") {
                    return Err(format!(
                        "{}: flow {i} differs\n  sent:    {want:?}\n  decoded: {got:?}",
                        self.protocol
                    ));
                }
            }
            Ok(())
        }
    }

    /// A datagram of arbitrary template and options template records, in a source id /
    /// observation domain other than 0, without data.
    fn templates(u: &mut Unstructured<'_>, protocol: ProtocolKind) -> arbitrary::Result<Vec<u8>> {
        // The codecs' arbitrary reprs encode (their unit tests check it).
        fn bad<E>(_: E) -> arbitrary::Error {
            arbitrary::Error::IncorrectFormat
        }
        match protocol {
            #[cfg(feature = "netflow")]
            ProtocolKind::Netflow9 => {
                use flowwire_netflow::{FlowSetRepr, V9Repr};
                let mut r = V9Repr::arbitrary(u)?;
                r.source_id = u.int_in_range(1..=u32::MAX)?;
                r.flowsets.retain(|s| {
                    matches!(
                        s,
                        FlowSetRepr::Templates { .. } | FlowSetRepr::OptionsTemplates { .. }
                    )
                });
                r.to_vec().map_err(bad)
            }
            #[cfg(feature = "ipfix")]
            ProtocolKind::Ipfix => {
                use flowwire_ipfix::repr::{MessageRepr, SetContent};
                let mut m = MessageRepr::arbitrary(u)?;
                m.observation_domain_id = u.int_in_range(1..=u32::MAX)?;
                m.sets.retain(|s| {
                    matches!(
                        s.content,
                        SetContent::Templates(_) | SetContent::OptionsTemplates(_)
                    )
                });
                m.to_bytes().map_err(bad)
            }
            _ => Err(arbitrary::Error::IncorrectFormat),
        }
    }

    impl<'a> Arbitrary<'a> for ExportDatagrams {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            let protocol = *u.choose(PROTOCOLS)?;
            let mut now = Timestamp::from_unix_millis(u.int_in_range(TIME_RANGE_MS)?)
                .add_nanos(u.int_in_range(0..=999_999)?);
            let boot = now.add_millis(-u.int_in_range(0..=MAX_UPTIME_MS)?);
            let mut exporter = AnyExporter::new(protocol, boot);
            let with_templates = matches!(protocol, ProtocolKind::Netflow9 | ProtocolKind::Ipfix);
            let mut flows = Vec::new();
            let mut datagrams: Vec<Vec<u8>> = Vec::new();
            for _ in 0..u.int_in_range(0..=MAX_FLOWS)? {
                if with_templates && u.ratio(1, 8)? {
                    datagrams.push(templates(u, protocol)?);
                }
                let flow = FlowRecord::arbitrary(u)?;
                now = now.add_millis(u.int_in_range(0..=MAX_STEP_MS)?);
                if exporter
                    .push(&flow, now, &mut |d| datagrams.push(d.to_vec()))
                    .is_ok()
                {
                    flows.push(exporter.restrict(&flow, now));
                }
            }
            // No exporter fails to flush what it accepted; were one to, the input is refused.
            exporter
                .flush(now, &mut |d| datagrams.push(d.to_vec()))
                .map_err(|_| arbitrary::Error::IncorrectFormat)?;
            if with_templates && u.ratio(1, 4)? {
                datagrams.push(templates(u, protocol)?);
            }
            Ok(ExportDatagrams {
                protocol,
                flows,
                datagrams,
                now,
            })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::{Collector, Decoder};

        #[test]
        fn every_protocol_decodes_back_to_its_flows() {
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            let mut seen = std::collections::HashMap::new();
            for _ in 0..400 {
                let bytes: Vec<u8> = (0..4096)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        (x >> 32) as u8
                    })
                    .collect();
                let input = ExportDatagrams::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
                let mut collector = Collector::default();
                let mut decoded = Vec::new();
                for d in &input.datagrams {
                    let s = collector.decode(
                        "192.0.2.1:2055".parse().unwrap(),
                        input.now,
                        d,
                        &mut |f: &FlowRecord| decoded.push(f.clone()),
                    );
                    assert_eq!(s.errors, 0, "{input:?}");
                }
                input.check(&decoded).unwrap();
                *seen.entry(input.protocol).or_insert(0) += input.flows.len();
            }
            assert_eq!(seen.len(), PROTOCOLS.len(), "{seen:?}");
            assert!(seen.values().all(|&n| n > 0), "{seen:?}");
        }
    }
}
