//! sFlow raw packet header decoder (`flowwire_sflow::header::decode`): never panics on any
//! header bytes under any header protocol (Ethernet, IPv4, IPv6, MPLS, 802.11 and unknown
//! values), whatever the link, VLAN, MPLS, IP extension header, transport and tunnel
//! (VXLAN, Geneve, GRE, IP-in-IP) layers say, including cut headers.
#![no_main]

use std::hint::black_box;

use flowwire_sflow::header;
use flowwire_sflow::repr::header_protocol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let protocol = match selector % 6 {
        0 => header_protocol::ETHERNET,
        1 => header_protocol::IPV4,
        2 => header_protocol::IPV6,
        3 => header_protocol::MPLS,
        4 => header_protocol::IEEE80211,
        _ => u32::from(selector),
    };
    let info = header::decode(protocol, bytes);
    black_box(&info);
    // Every cut of the header decodes too (a sampled header may end anywhere).
    if bytes.len() <= 256 {
        for n in 0..bytes.len() {
            black_box(header::decode(protocol, &bytes[..n]));
        }
    }
});
