//! Flow records (the `flow_data` of flow and discarded-packet samples), enterprise 0.
//!
//! Layouts follow the sFlow version 5 specification and its published extensions (tunnels,
//! host, application, drops); field names follow the specification.

use std::net::{Ipv4Addr, Ipv6Addr};

use flowwire_record::MacAddr;

use crate::repr::record_enum;
use crate::xdr::{Address, Opaque, xdr_struct};

/// Header protocol values of [`SampledHeader::protocol`].
pub mod header_protocol {
    /// Ethernet (ISO 8802-3).
    pub const ETHERNET: u32 = 1;
    /// Raw IPv4.
    pub const IPV4: u32 = 11;
    /// Raw IPv6.
    pub const IPV6: u32 = 12;
    /// MPLS.
    pub const MPLS: u32 = 13;
    /// IEEE 802.11 MAC.
    pub const IEEE80211: u32 = 15;
}

xdr_struct! {
    /// 0:1 `sampled_header`: the first bytes of the sampled packet.
    pub struct SampledHeader {
        /// Header protocol ([`header_protocol`]).
        pub protocol: u32,
        /// Original length of the frame.
        pub frame_length: u32,
        /// Bytes removed from the frame before the header (e.g. 4 for the FCS).
        pub stripped: u32,
        /// The header bytes.
        pub header: Opaque,
    }
}

xdr_struct! {
    /// 0:2 `sampled_ethernet` (also the body of 1021/1022, the L2 tunnel records).
    pub struct SampledEthernet {
        /// Length of the MAC packet.
        pub length: u32,
        /// Source MAC.
        pub src_mac: MacAddr,
        /// Destination MAC.
        pub dst_mac: MacAddr,
        /// Ethernet type.
        pub eth_type: u32,
    }
}

xdr_struct! {
    /// 0:3 `sampled_ipv4` (also the body of 1023/1024).
    pub struct SampledIpv4 {
        /// Length of the IP packet.
        pub length: u32,
        /// IP protocol.
        pub protocol: u32,
        /// Source address.
        pub src_ip: Ipv4Addr,
        /// Destination address.
        pub dst_ip: Ipv4Addr,
        /// Source port.
        pub src_port: u32,
        /// Destination port.
        pub dst_port: u32,
        /// TCP flags.
        pub tcp_flags: u32,
        /// IP type of service.
        pub tos: u32,
    }
}

xdr_struct! {
    /// 0:4 `sampled_ipv6` (also the body of 1025/1026).
    pub struct SampledIpv6 {
        /// Length of the IP packet.
        pub length: u32,
        /// IP next header.
        pub protocol: u32,
        /// Source address.
        pub src_ip: Ipv6Addr,
        /// Destination address.
        pub dst_ip: Ipv6Addr,
        /// Source port.
        pub src_port: u32,
        /// Destination port.
        pub dst_port: u32,
        /// TCP flags.
        pub tcp_flags: u32,
        /// IP priority (traffic class).
        pub priority: u32,
    }
}

xdr_struct! {
    /// 0:1001 `extended_switch`.
    pub struct ExtendedSwitch {
        /// 802.1Q VLAN of the incoming frame.
        pub src_vlan: u32,
        /// 802.1p priority of the incoming frame.
        pub src_priority: u32,
        /// 802.1Q VLAN of the outgoing frame.
        pub dst_vlan: u32,
        /// 802.1p priority of the outgoing frame.
        pub dst_priority: u32,
    }
}

xdr_struct! {
    /// 0:1002 `extended_router`.
    pub struct ExtendedRouter {
        /// Next hop.
        pub next_hop: Address,
        /// Source prefix length.
        pub src_mask_len: u32,
        /// Destination prefix length.
        pub dst_mask_len: u32,
    }
}

xdr_struct! {
    /// An AS path segment of [`ExtendedGateway`].
    pub struct AsPathSegment {
        /// 1 AS_SET, 2 AS_SEQUENCE.
        pub segment_type: u32,
        /// The AS numbers.
        pub path: Vec<u32>,
    }
}

xdr_struct! {
    /// 0:1003 `extended_gateway` (BGP).
    pub struct ExtendedGateway {
        /// BGP next hop.
        pub next_hop: Address,
        /// This router's AS.
        pub as_number: u32,
        /// Source AS.
        pub src_as: u32,
        /// Source peer AS.
        pub src_peer_as: u32,
        /// Destination AS path.
        pub dst_as_path: Vec<AsPathSegment>,
        /// Communities.
        pub communities: Vec<u32>,
        /// Local preference.
        pub local_pref: u32,
    }
}

impl ExtendedGateway {
    /// The destination AS: the last AS of the path, where there is one.
    pub fn dst_as(&self) -> Option<u32> {
        self.dst_as_path
            .iter()
            .rev()
            .find_map(|s| s.path.last().copied())
    }
}

xdr_struct! {
    /// 0:1004 `extended_user`.
    pub struct ExtendedUser {
        /// MIBEnum character set of the source user.
        pub src_charset: u32,
        /// Source user.
        pub src_user: Opaque,
        /// MIBEnum character set of the destination user.
        pub dst_charset: u32,
        /// Destination user.
        pub dst_user: Opaque,
    }
}

xdr_struct! {
    /// 0:1005 `extended_url`.
    pub struct ExtendedUrl {
        /// 1 source, 2 destination.
        pub direction: u32,
        /// URL.
        pub url: Opaque,
        /// Host header.
        pub host: Opaque,
    }
}

xdr_struct! {
    /// 0:1006 `extended_mpls`.
    pub struct ExtendedMpls {
        /// Next hop.
        pub next_hop: Address,
        /// Label stack on input (top first).
        pub in_stack: Vec<u32>,
        /// Label stack on output (top first).
        pub out_stack: Vec<u32>,
    }
}

xdr_struct! {
    /// 0:1007 `extended_nat`.
    pub struct ExtendedNat {
        /// Source address after translation.
        pub src: Address,
        /// Destination address after translation.
        pub dst: Address,
    }
}

xdr_struct! {
    /// 0:1008 `extended_mpls_tunnel`.
    pub struct ExtendedMplsTunnel {
        /// Tunnel name.
        pub tunnel_lsp_name: Opaque,
        /// Tunnel id.
        pub tunnel_id: u32,
        /// Tunnel COS.
        pub tunnel_cos: u32,
    }
}

xdr_struct! {
    /// 0:1009 `extended_mpls_vc`.
    pub struct ExtendedMplsVc {
        /// VC instance name.
        pub vc_instance_name: Opaque,
        /// VLL/VC instance id.
        pub vll_vc_id: u32,
        /// VC label COS.
        pub vc_label_cos: u32,
    }
}

xdr_struct! {
    /// 0:1010 `extended_mpls_FTN`.
    pub struct ExtendedMplsFtn {
        /// mplsFTNDescr.
        pub mpls_ftn_descr: Opaque,
        /// mplsFTNMask.
        pub mpls_ftn_mask: u32,
    }
}

xdr_struct! {
    /// 0:1011 `extended_mpls_LDP_FEC`.
    pub struct ExtendedMplsLdpFec {
        /// mplsFecAddrPrefixLength.
        pub mpls_fec_addr_prefix_length: u32,
    }
}

xdr_struct! {
    /// 0:1012 `extended_vlantunnel`: stripped 802.1Q TPID/TCI layers, outermost first.
    pub struct ExtendedVlanTunnel {
        /// TPID << 16 | TCI per layer.
        pub stack: Vec<u32>,
    }
}

xdr_struct! {
    /// 0:1013 `extended_80211_payload`.
    pub struct Extended80211Payload {
        /// Cipher suite (OUI << 8 | suite type).
        pub cipher_suite: u32,
        /// The unencrypted payload as a sampled header.
        pub header: SampledHeader,
    }
}

xdr_struct! {
    /// 0:1014 `extended_80211_rx`.
    pub struct Extended80211Rx {
        /// SSID.
        pub ssid: Opaque,
        /// BSSID.
        pub bssid: MacAddr,
        /// 802.11 version (1 a, 2 b, 3 g, 4 n).
        pub version: u32,
        /// Channel.
        pub channel: u32,
        /// Speed, bits per second.
        pub speed: u64,
        /// Received signal to noise ratio.
        pub rsni: u32,
        /// Received channel power.
        pub rcpi: u32,
        /// Time the packet occupied the medium, microseconds.
        pub packet_duration_us: u32,
    }
}

xdr_struct! {
    /// 0:1015 `extended_80211_tx`.
    pub struct Extended80211Tx {
        /// SSID.
        pub ssid: Opaque,
        /// BSSID.
        pub bssid: MacAddr,
        /// 802.11 version.
        pub version: u32,
        /// Number of transmissions (0 unknown).
        pub transmissions: u32,
        /// Time the packet occupied the medium, microseconds.
        pub packet_duration_us: u32,
        /// Time failed attempts occupied the medium, microseconds.
        pub retrans_duration_us: u32,
        /// Channel.
        pub channel: u32,
        /// Speed, bits per second.
        pub speed: u64,
        /// Transmit power, mW.
        pub power_mw: u32,
    }
}

xdr_struct! {
    /// 0:1020 `extended_nat_port`.
    pub struct ExtendedNatPort {
        /// Source port after translation.
        pub src_port: u32,
        /// Destination port after translation.
        pub dst_port: u32,
    }
}

xdr_struct! {
    /// 0:1027/1028 `extended_decapsulate_egress/ingress`.
    pub struct ExtendedDecap {
        /// Offset of the inner header in the sampled header.
        pub inner_header_offset: u32,
    }
}

xdr_struct! {
    /// 0:1029/1030 `extended_vni_egress/ingress`.
    pub struct ExtendedVni {
        /// Virtual network identifier.
        pub vni: u32,
    }
}

xdr_struct! {
    /// 0:1036 `extended_egress_queue`.
    pub struct ExtendedEgressQueue {
        /// Egress queue number.
        pub queue: u32,
    }
}

xdr_struct! {
    /// 0:1037 `extended_acl`.
    pub struct ExtendedAcl {
        /// ACL number.
        pub number: u32,
        /// ACL name.
        pub name: Opaque,
        /// 0 unknown, 1 ingress, 2 egress.
        pub direction: u32,
    }
}

xdr_struct! {
    /// 0:1038 `extended_function`.
    pub struct ExtendedFunction {
        /// Name of the software function.
        pub symbol: Opaque,
    }
}

xdr_struct! {
    /// 0:1039 `extended_transit`.
    pub struct ExtendedTransit {
        /// Transit delay, nanoseconds.
        pub delay: u32,
    }
}

xdr_struct! {
    /// 0:1040 `extended_queue`.
    pub struct ExtendedQueue {
        /// Queue depth, bytes.
        pub depth: u32,
    }
}

xdr_struct! {
    /// 0:1041 `extended_hw_trap`.
    pub struct ExtendedHwTrap {
        /// Trap group.
        pub group: Opaque,
        /// Trap.
        pub trap: Opaque,
    }
}

xdr_struct! {
    /// 0:1042 `extended_linux_drop_reason`.
    pub struct ExtendedLinuxDropReason {
        /// The kernel's drop reason name.
        pub reason: Opaque,
    }
}

xdr_struct! {
    /// 0:2100 `extended_socket_ipv4` (and 2102, the proxy socket).
    pub struct ExtendedSocketIpv4 {
        /// IP protocol.
        pub protocol: u32,
        /// Local address.
        pub local_ip: Ipv4Addr,
        /// Remote address.
        pub remote_ip: Ipv4Addr,
        /// Local port.
        pub local_port: u32,
        /// Remote port.
        pub remote_port: u32,
    }
}

xdr_struct! {
    /// 0:2101 `extended_socket_ipv6` (and 2103, the proxy socket).
    pub struct ExtendedSocketIpv6 {
        /// IP protocol.
        pub protocol: u32,
        /// Local address.
        pub local_ip: Ipv6Addr,
        /// Remote address.
        pub remote_ip: Ipv6Addr,
        /// Local port.
        pub local_port: u32,
        /// Remote port.
        pub remote_port: u32,
    }
}

xdr_struct! {
    /// 0:2200 `sampled_memcache`.
    pub struct SampledMemcache {
        /// 0 other, 1 ASCII, 2 binary.
        pub protocol: u32,
        /// Command.
        pub command: u32,
        /// Key.
        pub key: Opaque,
        /// Number of keys.
        pub nkeys: u32,
        /// Value bytes.
        pub value_bytes: u32,
        /// Duration, microseconds.
        pub duration_us: u32,
        /// Status.
        pub status: u32,
    }
}

xdr_struct! {
    /// 0:2201 `sampled_http`.
    pub struct SampledHttp {
        /// Method.
        pub method: u32,
        /// Protocol (1.1 = 1001).
        pub protocol: u32,
        /// URI.
        pub uri: Opaque,
        /// Host.
        pub host: Opaque,
        /// Referer.
        pub referrer: Opaque,
        /// User-Agent.
        pub useragent: Opaque,
        /// X-Forwarded-For.
        pub xff: Opaque,
        /// Authenticated user.
        pub authuser: Opaque,
        /// MIME type.
        pub mime_type: Opaque,
        /// Request bytes.
        pub req_bytes: u64,
        /// Response bytes.
        pub resp_bytes: u64,
        /// Duration, microseconds.
        pub duration_us: u32,
        /// HTTP status.
        pub status: u32,
    }
}

xdr_struct! {
    /// 0:2202 `sampled_app` (application transaction).
    pub struct SampledApp {
        /// Application.
        pub application: Opaque,
        /// Operation.
        pub operation: Opaque,
        /// Attributes.
        pub attributes: Opaque,
        /// Status description.
        pub status_descr: Opaque,
        /// Request bytes.
        pub req_bytes: u64,
        /// Response bytes.
        pub resp_bytes: u64,
        /// Duration, microseconds.
        pub duration_us: u32,
        /// Status.
        pub status: u32,
    }
}

xdr_struct! {
    /// 0:2203 `sampled_app_ctxt` (enclosing server context).
    pub struct SampledAppContext {
        /// Application.
        pub application: Opaque,
        /// Operation.
        pub operation: Opaque,
        /// Attributes.
        pub attributes: Opaque,
    }
}

xdr_struct! {
    /// 0:2204/2205 `sampled_app_actor` (initiator / target).
    pub struct SampledAppActor {
        /// Actor.
        pub actor: Opaque,
    }
}

xdr_struct! {
    /// 0:2209 `extended_tcp_info`.
    pub struct ExtendedTcpInfo {
        /// 0 unknown, 1 received, 2 sent.
        pub dirn: u32,
        /// Send MSS.
        pub snd_mss: u32,
        /// Receive MSS.
        pub rcv_mss: u32,
        /// Packets in flight.
        pub unacked: u32,
        /// Lost packets.
        pub lost: u32,
        /// Retransmitted packets.
        pub retrans: u32,
        /// Path MTU.
        pub pmtu: u32,
        /// Smoothed RTT, microseconds.
        pub rtt: u32,
        /// RTT variance, microseconds.
        pub rttvar: u32,
        /// Send congestion window.
        pub snd_cwnd: u32,
        /// Reordering.
        pub reordering: u32,
        /// Minimum RTT, microseconds.
        pub min_rtt: u32,
    }
}

xdr_struct! {
    /// 0:2210 `extended_entities`.
    pub struct ExtendedEntities {
        /// Data source class of the packet source.
        pub src_ds_class: u32,
        /// Data source index of the packet source.
        pub src_ds_index: u32,
        /// Data source class of the destination.
        pub dst_ds_class: u32,
        /// Data source index of the destination.
        pub dst_ds_index: u32,
    }
}

xdr_struct! {
    /// 0:2000 `transaction`: a generic application transaction.
    pub struct Transaction {
        /// 1 client, 2 server.
        pub direction: u32,
        /// Time queued before processing, microseconds.
        pub wait: u32,
        /// Processing time, microseconds.
        pub duration: u32,
        /// 0 succeeded, 1 generic failure, 2 out of memory, 3 timeout, 4 not permitted.
        pub status: u32,
        /// Bytes received.
        pub bytes_received: u64,
        /// Bytes sent.
        pub bytes_sent: u64,
    }
}

xdr_struct! {
    /// 0:2001 `extended_nfs_storage_transaction`.
    pub struct ExtendedNfsTransaction {
        /// Path of the file or directory.
        pub path: Opaque,
        /// NFS operation.
        pub operation: u32,
        /// NFS status.
        pub status: u32,
    }
}

xdr_struct! {
    /// 0:2002 `extended_scsi_storage_transaction`.
    pub struct ExtendedScsiTransaction {
        /// Logical unit number.
        pub lun: u32,
        /// Operation.
        pub operation: u32,
        /// SCSI status.
        pub status: u32,
    }
}

xdr_struct! {
    /// 0:2003 `extended_http_transaction`.
    pub struct ExtendedHttpTransaction {
        /// Request line.
        pub url: Opaque,
        /// Host header.
        pub host: Opaque,
        /// Referer header.
        pub referer: Opaque,
        /// User-Agent header.
        pub useragent: Opaque,
        /// Authenticated user.
        pub user: Opaque,
        /// Response status.
        pub status: u32,
    }
}

record_enum! {
    /// A flow record of a flow sample or discarded-packet sample.
    pub enum FlowData ("flow record") {
        /// 0:1.
        1 => SampledHeader(SampledHeader),
        /// 0:2.
        2 => SampledEthernet(SampledEthernet),
        /// 0:3.
        3 => SampledIpv4(SampledIpv4),
        /// 0:4.
        4 => SampledIpv6(SampledIpv6),
        /// 0:1001.
        1001 => ExtendedSwitch(ExtendedSwitch),
        /// 0:1002.
        1002 => ExtendedRouter(ExtendedRouter),
        /// 0:1003.
        1003 => ExtendedGateway(ExtendedGateway),
        /// 0:1004.
        1004 => ExtendedUser(ExtendedUser),
        /// 0:1005.
        1005 => ExtendedUrl(ExtendedUrl),
        /// 0:1006.
        1006 => ExtendedMpls(ExtendedMpls),
        /// 0:1007.
        1007 => ExtendedNat(ExtendedNat),
        /// 0:1008.
        1008 => ExtendedMplsTunnel(ExtendedMplsTunnel),
        /// 0:1009.
        1009 => ExtendedMplsVc(ExtendedMplsVc),
        /// 0:1010.
        1010 => ExtendedMplsFtn(ExtendedMplsFtn),
        /// 0:1011.
        1011 => ExtendedMplsLdpFec(ExtendedMplsLdpFec),
        /// 0:1012.
        1012 => ExtendedVlanTunnel(ExtendedVlanTunnel),
        /// 0:1013.
        1013 => Extended80211Payload(Extended80211Payload),
        /// 0:1014.
        1014 => Extended80211Rx(Extended80211Rx),
        /// 0:1015.
        1015 => Extended80211Tx(Extended80211Tx),
        /// 0:1020.
        1020 => ExtendedNatPort(ExtendedNatPort),
        /// 0:1021 `extended_L2_tunnel_egress`.
        1021 => ExtendedL2TunnelEgress(SampledEthernet),
        /// 0:1022 `extended_L2_tunnel_ingress`.
        1022 => ExtendedL2TunnelIngress(SampledEthernet),
        /// 0:1023 `extended_ipv4_tunnel_egress`.
        1023 => ExtendedIpv4TunnelEgress(SampledIpv4),
        /// 0:1024 `extended_ipv4_tunnel_ingress`.
        1024 => ExtendedIpv4TunnelIngress(SampledIpv4),
        /// 0:1025 `extended_ipv6_tunnel_egress`.
        1025 => ExtendedIpv6TunnelEgress(SampledIpv6),
        /// 0:1026 `extended_ipv6_tunnel_ingress`.
        1026 => ExtendedIpv6TunnelIngress(SampledIpv6),
        /// 0:1027 `extended_decapsulate_egress`.
        1027 => ExtendedDecapEgress(ExtendedDecap),
        /// 0:1028 `extended_decapsulate_ingress`.
        1028 => ExtendedDecapIngress(ExtendedDecap),
        /// 0:1029 `extended_vni_egress`.
        1029 => ExtendedVniEgress(ExtendedVni),
        /// 0:1030 `extended_vni_ingress`.
        1030 => ExtendedVniIngress(ExtendedVni),
        /// 0:1036.
        1036 => ExtendedEgressQueue(ExtendedEgressQueue),
        /// 0:1037.
        1037 => ExtendedAcl(ExtendedAcl),
        /// 0:1038.
        1038 => ExtendedFunction(ExtendedFunction),
        /// 0:1039.
        1039 => ExtendedTransit(ExtendedTransit),
        /// 0:1040.
        1040 => ExtendedQueue(ExtendedQueue),
        /// 0:1041.
        1041 => ExtendedHwTrap(ExtendedHwTrap),
        /// 0:1042.
        1042 => ExtendedLinuxDropReason(ExtendedLinuxDropReason),
        /// 0:2000.
        2000 => Transaction(Transaction),
        /// 0:2001.
        2001 => ExtendedNfsTransaction(ExtendedNfsTransaction),
        /// 0:2002.
        2002 => ExtendedScsiTransaction(ExtendedScsiTransaction),
        /// 0:2003.
        2003 => ExtendedHttpTransaction(ExtendedHttpTransaction),
        /// 0:2100.
        2100 => ExtendedSocketIpv4(ExtendedSocketIpv4),
        /// 0:2101.
        2101 => ExtendedSocketIpv6(ExtendedSocketIpv6),
        /// 0:2102 `extended_proxy_socket_ipv4`.
        2102 => ExtendedProxySocketIpv4(ExtendedSocketIpv4),
        /// 0:2103 `extended_proxy_socket_ipv6`.
        2103 => ExtendedProxySocketIpv6(ExtendedSocketIpv6),
        /// 0:2200.
        2200 => SampledMemcache(SampledMemcache),
        /// 0:2201.
        2201 => SampledHttp(SampledHttp),
        /// 0:2202.
        2202 => SampledApp(SampledApp),
        /// 0:2203.
        2203 => SampledAppContext(SampledAppContext),
        /// 0:2204 `sampled_app_actor_init`.
        2204 => SampledAppActorInit(SampledAppActor),
        /// 0:2205 `sampled_app_actor_tgt`.
        2205 => SampledAppActorTarget(SampledAppActor),
        /// 0:2209.
        2209 => ExtendedTcpInfo(ExtendedTcpInfo),
        /// 0:2210.
        2210 => ExtendedEntities(ExtendedEntities),
    }
}
