//! NetFlow v5 flow record: 48 bytes, fixed layout.
//!
//! ```text
//! 0 srcaddr  4 dstaddr  8 nexthop  12 input  14 output  16 dPkts  20 dOctets
//! 24 First  28 Last  32 srcport  34 dstport  36 pad1  37 tcp_flags  38 prot  39 tos
//! 40 src_as  42 dst_as  44 src_mask  45 dst_mask  46 pad2
//! ```
//!
//! `First` and `Last` are the exporter's sysUptime (ms) at the flow's first and last packet.

use core::net::Ipv4Addr;

use super::{read_u8, read_u16, read_u32, write_u8, write_u16, write_u32};
use crate::error::{Result, truncated};

mod field {
    pub(super) const SRC_ADDR: usize = 0;
    pub(super) const DST_ADDR: usize = 4;
    pub(super) const NEXT_HOP: usize = 8;
    pub(super) const INPUT: usize = 12;
    pub(super) const OUTPUT: usize = 14;
    pub(super) const PACKETS: usize = 16;
    pub(super) const OCTETS: usize = 20;
    pub(super) const FIRST: usize = 24;
    pub(super) const LAST: usize = 28;
    pub(super) const SRC_PORT: usize = 32;
    pub(super) const DST_PORT: usize = 34;
    pub(super) const PAD1: usize = 36;
    pub(super) const TCP_FLAGS: usize = 37;
    pub(super) const PROTOCOL: usize = 38;
    pub(super) const TOS: usize = 39;
    pub(super) const SRC_AS: usize = 40;
    pub(super) const DST_AS: usize = 42;
    pub(super) const SRC_MASK: usize = 44;
    pub(super) const DST_MASK: usize = 45;
    pub(super) const PAD2: usize = 46;
    pub(super) const END: usize = 48;
}

/// Length of a v5 flow record.
pub const RECORD_LEN: usize = field::END;

/// A view of one v5 flow record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V5Record<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> V5Record<T> {
    /// Wraps bytes without checking their length.
    pub const fn new_unchecked(buffer: T) -> Self {
        V5Record { buffer }
    }

    /// Wraps bytes after [`V5Record::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self> {
        let r = V5Record::new_unchecked(buffer);
        r.check_len()?;
        Ok(r)
    }

    /// Checks that all 48 bytes are there.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < RECORD_LEN {
            return Err(truncated(0, RECORD_LEN, len, "NetFlow v5 record"));
        }
        Ok(())
    }

    /// The wrapped bytes.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_u32(self.b(), field::SRC_ADDR))
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_u32(self.b(), field::DST_ADDR))
    }
    /// Next-hop router address.
    pub fn next_hop(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_u32(self.b(), field::NEXT_HOP))
    }
    /// SNMP index of the input interface.
    pub fn input(&self) -> u16 {
        read_u16(self.b(), field::INPUT)
    }
    /// SNMP index of the output interface.
    pub fn output(&self) -> u16 {
        read_u16(self.b(), field::OUTPUT)
    }
    /// Packets in the flow.
    pub fn packets(&self) -> u32 {
        read_u32(self.b(), field::PACKETS)
    }
    /// Layer-3 octets in the flow.
    pub fn octets(&self) -> u32 {
        read_u32(self.b(), field::OCTETS)
    }
    /// sysUptime (ms) at the flow's first packet.
    pub fn first(&self) -> u32 {
        read_u32(self.b(), field::FIRST)
    }
    /// sysUptime (ms) at the flow's last packet.
    pub fn last(&self) -> u32 {
        read_u32(self.b(), field::LAST)
    }
    /// Source port (or ICMP type and code for ICMP in some exporters).
    pub fn src_port(&self) -> u16 {
        read_u16(self.b(), field::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        read_u16(self.b(), field::DST_PORT)
    }
    /// The unused byte after the ports.
    pub fn pad1(&self) -> u8 {
        read_u8(self.b(), field::PAD1)
    }
    /// Cumulative OR of TCP flags.
    pub fn tcp_flags(&self) -> u8 {
        read_u8(self.b(), field::TCP_FLAGS)
    }
    /// IP protocol.
    pub fn protocol(&self) -> u8 {
        read_u8(self.b(), field::PROTOCOL)
    }
    /// IP type of service.
    pub fn tos(&self) -> u8 {
        read_u8(self.b(), field::TOS)
    }
    /// Source AS number.
    pub fn src_as(&self) -> u16 {
        read_u16(self.b(), field::SRC_AS)
    }
    /// Destination AS number.
    pub fn dst_as(&self) -> u16 {
        read_u16(self.b(), field::DST_AS)
    }
    /// Source prefix length.
    pub fn src_mask(&self) -> u8 {
        read_u8(self.b(), field::SRC_MASK)
    }
    /// Destination prefix length.
    pub fn dst_mask(&self) -> u8 {
        read_u8(self.b(), field::DST_MASK)
    }
    /// The two unused bytes at the end.
    pub fn pad2(&self) -> u16 {
        read_u16(self.b(), field::PAD2)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> V5Record<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    /// Sets the source address.
    pub fn set_src_addr(&mut self, v: Ipv4Addr) {
        write_u32(self.bm(), field::SRC_ADDR, v.into())
    }
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, v: Ipv4Addr) {
        write_u32(self.bm(), field::DST_ADDR, v.into())
    }
    /// Sets the next hop.
    pub fn set_next_hop(&mut self, v: Ipv4Addr) {
        write_u32(self.bm(), field::NEXT_HOP, v.into())
    }
    /// Sets the input interface.
    pub fn set_input(&mut self, v: u16) {
        write_u16(self.bm(), field::INPUT, v)
    }
    /// Sets the output interface.
    pub fn set_output(&mut self, v: u16) {
        write_u16(self.bm(), field::OUTPUT, v)
    }
    /// Sets the packet count.
    pub fn set_packets(&mut self, v: u32) {
        write_u32(self.bm(), field::PACKETS, v)
    }
    /// Sets the octet count.
    pub fn set_octets(&mut self, v: u32) {
        write_u32(self.bm(), field::OCTETS, v)
    }
    /// Sets First.
    pub fn set_first(&mut self, v: u32) {
        write_u32(self.bm(), field::FIRST, v)
    }
    /// Sets Last.
    pub fn set_last(&mut self, v: u32) {
        write_u32(self.bm(), field::LAST, v)
    }
    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        write_u16(self.bm(), field::SRC_PORT, v)
    }
    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        write_u16(self.bm(), field::DST_PORT, v)
    }
    /// Sets pad1.
    pub fn set_pad1(&mut self, v: u8) {
        write_u8(self.bm(), field::PAD1, v)
    }
    /// Sets the TCP flags.
    pub fn set_tcp_flags(&mut self, v: u8) {
        write_u8(self.bm(), field::TCP_FLAGS, v)
    }
    /// Sets the protocol.
    pub fn set_protocol(&mut self, v: u8) {
        write_u8(self.bm(), field::PROTOCOL, v)
    }
    /// Sets the ToS.
    pub fn set_tos(&mut self, v: u8) {
        write_u8(self.bm(), field::TOS, v)
    }
    /// Sets the source AS.
    pub fn set_src_as(&mut self, v: u16) {
        write_u16(self.bm(), field::SRC_AS, v)
    }
    /// Sets the destination AS.
    pub fn set_dst_as(&mut self, v: u16) {
        write_u16(self.bm(), field::DST_AS, v)
    }
    /// Sets the source mask.
    pub fn set_src_mask(&mut self, v: u8) {
        write_u8(self.bm(), field::SRC_MASK, v)
    }
    /// Sets the destination mask.
    pub fn set_dst_mask(&mut self, v: u8) {
        write_u8(self.bm(), field::DST_MASK, v)
    }
    /// Sets pad2.
    pub fn set_pad2(&mut self, v: u16) {
        write_u16(self.bm(), field::PAD2, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static FIXTURE: [u8; 48] = [
        10, 0, 0, 1, 10, 0, 0, 2, 10, 0, 0, 254, 0, 3, 0, 4, 0, 0, 0, 5, 0, 0, 1, 0, 0, 0, 0x10, 0,
        0, 0, 0x20, 0, 0x01, 0xbb, 0x30, 0x39, 0, 0x1b, 6, 0x10, 0xfd, 0xe8, 0xfd, 0xe9, 24, 16, 0,
        0,
    ];

    #[test]
    fn deconstruct() {
        let r = V5Record::new_checked(&FIXTURE[..]).unwrap();
        assert_eq!(r.src_addr(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(r.dst_addr(), Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(r.next_hop(), Ipv4Addr::new(10, 0, 0, 254));
        assert_eq!((r.input(), r.output()), (3, 4));
        assert_eq!((r.packets(), r.octets()), (5, 256));
        assert_eq!((r.first(), r.last()), (0x1000, 0x2000));
        assert_eq!((r.src_port(), r.dst_port()), (443, 12345));
        assert_eq!((r.tcp_flags(), r.protocol(), r.tos()), (0x1b, 6, 0x10));
        assert_eq!((r.src_as(), r.dst_as()), (65000, 65001));
        assert_eq!((r.src_mask(), r.dst_mask()), (24, 16));
        assert_eq!((r.pad1(), r.pad2()), (0, 0));
    }

    #[test]
    fn construct() {
        let mut buf = [0xa5u8; 48];
        let mut r = V5Record::new_unchecked(&mut buf[..]);
        r.set_src_addr(Ipv4Addr::new(10, 0, 0, 1));
        r.set_dst_addr(Ipv4Addr::new(10, 0, 0, 2));
        r.set_next_hop(Ipv4Addr::new(10, 0, 0, 254));
        r.set_input(3);
        r.set_output(4);
        r.set_packets(5);
        r.set_octets(256);
        r.set_first(0x1000);
        r.set_last(0x2000);
        r.set_src_port(443);
        r.set_dst_port(12345);
        r.set_pad1(0);
        r.set_tcp_flags(0x1b);
        r.set_protocol(6);
        r.set_tos(0x10);
        r.set_src_as(65000);
        r.set_dst_as(65001);
        r.set_src_mask(24);
        r.set_dst_mask(16);
        r.set_pad2(0);
        assert_eq!(buf, FIXTURE);
    }

    #[test]
    fn truncated() {
        for n in 0..48 {
            assert!(V5Record::new_checked(&FIXTURE[..n]).is_err());
        }
    }
}
