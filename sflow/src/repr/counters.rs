//! Counter records (the `counter_data` of counter samples), enterprise 0.
//!
//! Layouts follow the sFlow version 5 specification and its published extensions (host,
//! virtual host, application, LAG, optics, OpenFlow, Open vSwitch).

use flowwire_record::MacAddr;

use crate::repr::record_enum;
use crate::xdr::{Opaque, xdr_struct};

xdr_struct! {
    /// 0:1 `if_counters`: generic interface counters (RFC 2233).
    pub struct IfCounters {
        /// ifIndex.
        pub if_index: u32,
        /// ifType.
        pub if_type: u32,
        /// ifSpeed, bits per second.
        pub if_speed: u64,
        /// 0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out.
        pub if_direction: u32,
        /// bit 0 admin up, bit 1 oper up.
        pub if_status: u32,
        /// ifInOctets.
        pub if_in_octets: u64,
        /// ifInUcastPkts.
        pub if_in_ucast_pkts: u32,
        /// ifInMulticastPkts.
        pub if_in_multicast_pkts: u32,
        /// ifInBroadcastPkts.
        pub if_in_broadcast_pkts: u32,
        /// ifInDiscards.
        pub if_in_discards: u32,
        /// ifInErrors.
        pub if_in_errors: u32,
        /// ifInUnknownProtos.
        pub if_in_unknown_protos: u32,
        /// ifOutOctets.
        pub if_out_octets: u64,
        /// ifOutUcastPkts.
        pub if_out_ucast_pkts: u32,
        /// ifOutMulticastPkts.
        pub if_out_multicast_pkts: u32,
        /// ifOutBroadcastPkts.
        pub if_out_broadcast_pkts: u32,
        /// ifOutDiscards.
        pub if_out_discards: u32,
        /// ifOutErrors.
        pub if_out_errors: u32,
        /// ifPromiscuousMode.
        pub if_promiscuous_mode: u32,
    }
}

xdr_struct! {
    /// 0:2 `ethernet_counters` (RFC 2358).
    pub struct EthernetCounters {
        /// dot3StatsAlignmentErrors.
        pub alignment_errors: u32,
        /// dot3StatsFCSErrors.
        pub fcs_errors: u32,
        /// dot3StatsSingleCollisionFrames.
        pub single_collision_frames: u32,
        /// dot3StatsMultipleCollisionFrames.
        pub multiple_collision_frames: u32,
        /// dot3StatsSQETestErrors.
        pub sqe_test_errors: u32,
        /// dot3StatsDeferredTransmissions.
        pub deferred_transmissions: u32,
        /// dot3StatsLateCollisions.
        pub late_collisions: u32,
        /// dot3StatsExcessiveCollisions.
        pub excessive_collisions: u32,
        /// dot3StatsInternalMacTransmitErrors.
        pub internal_mac_transmit_errors: u32,
        /// dot3StatsCarrierSenseErrors.
        pub carrier_sense_errors: u32,
        /// dot3StatsFrameTooLongs.
        pub frame_too_longs: u32,
        /// dot3StatsInternalMacReceiveErrors.
        pub internal_mac_receive_errors: u32,
        /// dot3StatsSymbolErrors.
        pub symbol_errors: u32,
    }
}

xdr_struct! {
    /// 0:3 `tokenring_counters` (RFC 1748).
    pub struct TokenRingCounters {
        /// dot5StatsLineErrors.
        pub line_errors: u32,
        /// dot5StatsBurstErrors.
        pub burst_errors: u32,
        /// dot5StatsACErrors.
        pub ac_errors: u32,
        /// dot5StatsAbortTransErrors.
        pub abort_trans_errors: u32,
        /// dot5StatsInternalErrors.
        pub internal_errors: u32,
        /// dot5StatsLostFrameErrors.
        pub lost_frame_errors: u32,
        /// dot5StatsReceiveCongestions.
        pub receive_congestions: u32,
        /// dot5StatsFrameCopiedErrors.
        pub frame_copied_errors: u32,
        /// dot5StatsTokenErrors.
        pub token_errors: u32,
        /// dot5StatsSoftErrors.
        pub soft_errors: u32,
        /// dot5StatsHardErrors.
        pub hard_errors: u32,
        /// dot5StatsSignalLoss.
        pub signal_loss: u32,
        /// dot5StatsTransmitBeacons.
        pub transmit_beacons: u32,
        /// dot5StatsRecoverys.
        pub recoverys: u32,
        /// dot5StatsLobeWires.
        pub lobe_wires: u32,
        /// dot5StatsRemoves.
        pub removes: u32,
        /// dot5StatsSingles.
        pub singles: u32,
        /// dot5StatsFreqErrors.
        pub freq_errors: u32,
    }
}

xdr_struct! {
    /// 0:4 `vg_counters`: 100BaseVG (RFC 2020).
    pub struct VgCounters {
        /// dot12InHighPriorityFrames.
        pub in_high_priority_frames: u32,
        /// dot12InHighPriorityOctets.
        pub in_high_priority_octets: u64,
        /// dot12InNormPriorityFrames.
        pub in_norm_priority_frames: u32,
        /// dot12InNormPriorityOctets.
        pub in_norm_priority_octets: u64,
        /// dot12InIPMErrors.
        pub in_ipm_errors: u32,
        /// dot12InOversizeFrameErrors.
        pub in_oversize_frame_errors: u32,
        /// dot12InDataErrors.
        pub in_data_errors: u32,
        /// dot12InNullAddressedFrames.
        pub in_null_addressed_frames: u32,
        /// dot12OutHighPriorityFrames.
        pub out_high_priority_frames: u32,
        /// dot12OutHighPriorityOctets.
        pub out_high_priority_octets: u64,
        /// dot12TransitionIntoTrainings.
        pub transition_into_trainings: u32,
        /// dot12HCInHighPriorityOctets.
        pub hc_in_high_priority_octets: u64,
        /// dot12HCInNormPriorityOctets.
        pub hc_in_norm_priority_octets: u64,
        /// dot12HCOutHighPriorityOctets.
        pub hc_out_high_priority_octets: u64,
    }
}

xdr_struct! {
    /// 0:5 `vlan_counters`.
    pub struct VlanCounters {
        /// VLAN id.
        pub vlan_id: u32,
        /// Octets.
        pub octets: u64,
        /// Unicast packets.
        pub ucast_pkts: u32,
        /// Multicast packets.
        pub multicast_pkts: u32,
        /// Broadcast packets.
        pub broadcast_pkts: u32,
        /// Discards.
        pub discards: u32,
    }
}

xdr_struct! {
    /// 0:6 `ieee80211_counters`.
    pub struct Ieee80211Counters {
        /// dot11TransmittedFragmentCount.
        pub transmitted_fragment_count: u32,
        /// dot11MulticastTransmittedFrameCount.
        pub multicast_transmitted_frame_count: u32,
        /// dot11FailedCount.
        pub failed_count: u32,
        /// dot11RetryCount.
        pub retry_count: u32,
        /// dot11MultipleRetryCount.
        pub multiple_retry_count: u32,
        /// dot11FrameDuplicateCount.
        pub frame_duplicate_count: u32,
        /// dot11RTSSuccessCount.
        pub rts_success_count: u32,
        /// dot11RTSFailureCount.
        pub rts_failure_count: u32,
        /// dot11ACKFailureCount.
        pub ack_failure_count: u32,
        /// dot11ReceivedFragmentCount.
        pub received_fragment_count: u32,
        /// dot11MulticastReceivedFrameCount.
        pub multicast_received_frame_count: u32,
        /// dot11FCSErrorCount.
        pub fcs_error_count: u32,
        /// dot11TransmittedFrameCount.
        pub transmitted_frame_count: u32,
        /// dot11WEPUndecryptableCount.
        pub wep_undecryptable_count: u32,
        /// dot11QoSDiscardedFragmentCount.
        pub qos_discarded_fragment_count: u32,
        /// dot11AssociatedStationCount.
        pub associated_station_count: u32,
        /// dot11QoSCFPollsReceivedCount.
        pub qos_cf_polls_received_count: u32,
        /// dot11QoSCFPollsUnusedCount.
        pub qos_cf_polls_unused_count: u32,
        /// dot11QoSCFPollsUnusableCount.
        pub qos_cf_polls_unusable_count: u32,
        /// dot11QoSCFPollsLostCount.
        pub qos_cf_polls_lost_count: u32,
    }
}

xdr_struct! {
    /// 0:7 `lag_port_stats` (IEEE8023-LAG-MIB).
    pub struct LagPortStats {
        /// dot3adAggPortActorSystemID.
        pub actor_system_id: MacAddr,
        /// dot3adAggPortPartnerOperSystemID.
        pub partner_system_id: MacAddr,
        /// dot3adAggPortAttachedAggID.
        pub attached_agg_id: u32,
        /// Port state: actor admin, actor oper, partner admin, partner oper.
        pub port_state: [u8; 4],
        /// LACPDUs received.
        pub lacpdus_rx: u32,
        /// Marker PDUs received.
        pub marker_pdus_rx: u32,
        /// Marker response PDUs received.
        pub marker_response_pdus_rx: u32,
        /// Unknown frames received.
        pub unknown_rx: u32,
        /// Illegal frames received.
        pub illegal_rx: u32,
        /// LACPDUs sent.
        pub lacpdus_tx: u32,
        /// Marker PDUs sent.
        pub marker_pdus_tx: u32,
        /// Marker response PDUs sent.
        pub marker_response_pdus_tx: u32,
    }
}

xdr_struct! {
    /// One lane of [`SfpCounters`].
    pub struct SfpLane {
        /// Lane index, from 1.
        pub lane_index: u32,
        /// Transmit bias current, µA.
        pub tx_bias_current: u32,
        /// Transmit power, µW.
        pub tx_power: u32,
        /// Minimum transmit power, µW.
        pub tx_power_min: u32,
        /// Maximum transmit power, µW.
        pub tx_power_max: u32,
        /// Transmit wavelength, nm.
        pub tx_wavelength: u32,
        /// Receive power, µW.
        pub rx_power: u32,
        /// Minimum receive power, µW.
        pub rx_power_min: u32,
        /// Maximum receive power, µW.
        pub rx_power_max: u32,
        /// Receive wavelength, nm.
        pub rx_wavelength: u32,
    }
}

xdr_struct! {
    /// 0:10 `sfp`: optical module metrics.
    pub struct SfpCounters {
        /// Module id.
        pub module_id: u32,
        /// Total lanes in the module.
        pub module_total_lanes: u32,
        /// Supply voltage, mV.
        pub module_supply_voltage: u32,
        /// Temperature, m°C.
        pub module_temperature: i32,
        /// Active lanes.
        pub lanes: Vec<SfpLane>,
    }
}

xdr_struct! {
    /// 0:1001 `processor`.
    pub struct ProcessorCounters {
        /// 5 s CPU, percent × 100.
        pub five_sec_cpu: u32,
        /// 1 min CPU, percent × 100.
        pub one_min_cpu: u32,
        /// 5 min CPU, percent × 100.
        pub five_min_cpu: u32,
        /// Total memory, bytes.
        pub total_memory: u64,
        /// Free memory, bytes.
        pub free_memory: u64,
    }
}

xdr_struct! {
    /// 0:1002 `radio_utilization`.
    pub struct RadioUtilization {
        /// Elapsed time, ms.
        pub elapsed_time: u32,
        /// Time on channel, ms.
        pub on_channel_time: u32,
        /// Time on channel and busy, ms.
        pub on_channel_busy_time: u32,
    }
}

xdr_struct! {
    /// 0:1004 `of_port`: OpenFlow port.
    pub struct OpenFlowPort {
        /// Datapath id.
        pub datapath_id: u64,
        /// Port number.
        pub port_no: u32,
    }
}

xdr_struct! {
    /// 0:1005 `port_name`.
    pub struct PortName {
        /// Port name.
        pub name: Opaque,
    }
}

xdr_struct! {
    /// 0:2000 `host_descr`.
    pub struct HostDescr {
        /// Host name.
        pub hostname: Opaque,
        /// UUID.
        pub uuid: [u8; 16],
        /// Machine type (2 x86, 3 x86_64, ...).
        pub machine_type: u32,
        /// OS (2 Linux, 3 Windows, ...).
        pub os_name: u32,
        /// OS release.
        pub os_release: Opaque,
    }
}

xdr_struct! {
    /// An adapter of [`HostAdapters`].
    pub struct HostAdapter {
        /// ifIndex.
        pub if_index: u32,
        /// MAC addresses.
        pub mac_addresses: Vec<MacAddr>,
    }
}

xdr_struct! {
    /// 0:2001 `host_adapters`.
    pub struct HostAdapters {
        /// Adapters.
        pub adapters: Vec<HostAdapter>,
    }
}

xdr_struct! {
    /// 0:2002 `host_parent`.
    pub struct HostParent {
        /// Container data source class.
        pub container_type: u32,
        /// Container data source index.
        pub container_index: u32,
    }
}

xdr_struct! {
    /// Fields later hsflowd versions append to [`HostCpu`].
    pub struct HostCpuExtra {
        /// Steal time, ms.
        pub cpu_steal: u32,
        /// Guest time, ms.
        pub cpu_guest: u32,
        /// Niced guest time, ms.
        pub cpu_guest_nice: u32,
    }
}

xdr_struct! {
    /// 0:2003 `host_cpu`.
    pub struct HostCpu {
        /// 1 min load average.
        pub load_one: f32,
        /// 5 min load average.
        pub load_five: f32,
        /// 15 min load average.
        pub load_fifteen: f32,
        /// Running processes.
        pub proc_run: u32,
        /// Total processes.
        pub proc_total: u32,
        /// CPUs.
        pub cpu_num: u32,
        /// CPU speed, MHz.
        pub cpu_speed: u32,
        /// Uptime, s.
        pub uptime: u32,
        /// User time, ms.
        pub cpu_user: u32,
        /// Nice time, ms.
        pub cpu_nice: u32,
        /// System time, ms.
        pub cpu_system: u32,
        /// Idle time, ms.
        pub cpu_idle: u32,
        /// I/O wait time, ms.
        pub cpu_wio: u32,
        /// Interrupt time, ms.
        pub cpu_intr: u32,
        /// Soft interrupt time, ms.
        pub cpu_sintr: u32,
        /// Interrupts.
        pub interrupts: u32,
        /// Context switches.
        pub contexts: u32,
        /// Steal and guest times, when sent.
        pub extra: Option<HostCpuExtra>,
    }
}

xdr_struct! {
    /// 0:2004 `host_memory`.
    pub struct HostMemory {
        /// Total, bytes.
        pub mem_total: u64,
        /// Free, bytes.
        pub mem_free: u64,
        /// Shared, bytes.
        pub mem_shared: u64,
        /// Buffers, bytes.
        pub mem_buffers: u64,
        /// Cached, bytes.
        pub mem_cached: u64,
        /// Swap total, bytes.
        pub swap_total: u64,
        /// Swap free, bytes.
        pub swap_free: u64,
        /// Pages in.
        pub page_in: u32,
        /// Pages out.
        pub page_out: u32,
        /// Swaps in.
        pub swap_in: u32,
        /// Swaps out.
        pub swap_out: u32,
    }
}

xdr_struct! {
    /// 0:2005 `host_disk_io`.
    pub struct HostDiskIo {
        /// Total disk, bytes.
        pub disk_total: u64,
        /// Free disk, bytes.
        pub disk_free: u64,
        /// Fullest partition use, percent × 100.
        pub part_max_used: u32,
        /// Reads.
        pub reads: u32,
        /// Bytes read.
        pub bytes_read: u64,
        /// Read time, ms.
        pub read_time: u32,
        /// Writes.
        pub writes: u32,
        /// Bytes written.
        pub bytes_written: u64,
        /// Write time, ms.
        pub write_time: u32,
    }
}

xdr_struct! {
    /// 0:2006 `host_net_io` (also 2104, `virt_net_io`).
    pub struct HostNetIo {
        /// Bytes in.
        pub bytes_in: u64,
        /// Packets in.
        pub pkts_in: u32,
        /// Errors in.
        pub errs_in: u32,
        /// Drops in.
        pub drops_in: u32,
        /// Bytes out.
        pub bytes_out: u64,
        /// Packets out.
        pub pkts_out: u32,
        /// Errors out.
        pub errs_out: u32,
        /// Drops out.
        pub drops_out: u32,
    }
}

xdr_struct! {
    /// 0:2007 `mib2_ip_group`.
    pub struct Mib2IpGroup {
        /// ipForwarding.
        pub ip_forwarding: u32,
        /// ipDefaultTTL.
        pub ip_default_ttl: u32,
        /// ipInReceives.
        pub ip_in_receives: u32,
        /// ipInHdrErrors.
        pub ip_in_hdr_errors: u32,
        /// ipInAddrErrors.
        pub ip_in_addr_errors: u32,
        /// ipForwDatagrams.
        pub ip_forw_datagrams: u32,
        /// ipInUnknownProtos.
        pub ip_in_unknown_protos: u32,
        /// ipInDiscards.
        pub ip_in_discards: u32,
        /// ipInDelivers.
        pub ip_in_delivers: u32,
        /// ipOutRequests.
        pub ip_out_requests: u32,
        /// ipOutDiscards.
        pub ip_out_discards: u32,
        /// ipOutNoRoutes.
        pub ip_out_no_routes: u32,
        /// ipReasmTimeout.
        pub ip_reasm_timeout: u32,
        /// ipReasmReqds.
        pub ip_reasm_reqds: u32,
        /// ipReasmOKs.
        pub ip_reasm_oks: u32,
        /// ipReasmFails.
        pub ip_reasm_fails: u32,
        /// ipFragOKs.
        pub ip_frag_oks: u32,
        /// ipFragFails.
        pub ip_frag_fails: u32,
        /// ipFragCreates.
        pub ip_frag_creates: u32,
    }
}

xdr_struct! {
    /// 0:2008 `mib2_icmp_group` (as the specification lists it: no icmpInTimestampReps).
    pub struct Mib2IcmpGroup {
        /// icmpInMsgs.
        pub in_msgs: u32,
        /// icmpInErrors.
        pub in_errors: u32,
        /// icmpInDestUnreachs.
        pub in_dest_unreachs: u32,
        /// icmpInTimeExcds.
        pub in_time_excds: u32,
        /// icmpInParamProbs.
        pub in_param_probs: u32,
        /// icmpInSrcQuenchs.
        pub in_src_quenchs: u32,
        /// icmpInRedirects.
        pub in_redirects: u32,
        /// icmpInEchos.
        pub in_echos: u32,
        /// icmpInEchoReps.
        pub in_echo_reps: u32,
        /// icmpInTimestamps.
        pub in_timestamps: u32,
        /// icmpInAddrMasks.
        pub in_addr_masks: u32,
        /// icmpInAddrMaskReps.
        pub in_addr_mask_reps: u32,
        /// icmpOutMsgs.
        pub out_msgs: u32,
        /// icmpOutErrors.
        pub out_errors: u32,
        /// icmpOutDestUnreachs.
        pub out_dest_unreachs: u32,
        /// icmpOutTimeExcds.
        pub out_time_excds: u32,
        /// icmpOutParamProbs.
        pub out_param_probs: u32,
        /// icmpOutSrcQuenchs.
        pub out_src_quenchs: u32,
        /// icmpOutRedirects.
        pub out_redirects: u32,
        /// icmpOutEchos.
        pub out_echos: u32,
        /// icmpOutEchoReps.
        pub out_echo_reps: u32,
        /// icmpOutTimestamps.
        pub out_timestamps: u32,
        /// icmpOutTimestampReps.
        pub out_timestamp_reps: u32,
        /// icmpOutAddrMasks.
        pub out_addr_masks: u32,
        /// icmpOutAddrMaskReps.
        pub out_addr_mask_reps: u32,
    }
}

xdr_struct! {
    /// 0:2009 `mib2_tcp_group`.
    pub struct Mib2TcpGroup {
        /// tcpRtoAlgorithm.
        pub rto_algorithm: u32,
        /// tcpRtoMin.
        pub rto_min: u32,
        /// tcpRtoMax.
        pub rto_max: u32,
        /// tcpMaxConn.
        pub max_conn: u32,
        /// tcpActiveOpens.
        pub active_opens: u32,
        /// tcpPassiveOpens.
        pub passive_opens: u32,
        /// tcpAttemptFails.
        pub attempt_fails: u32,
        /// tcpEstabResets.
        pub estab_resets: u32,
        /// tcpCurrEstab.
        pub curr_estab: u32,
        /// tcpInSegs.
        pub in_segs: u32,
        /// tcpOutSegs.
        pub out_segs: u32,
        /// tcpRetransSegs.
        pub retrans_segs: u32,
        /// tcpInErrs.
        pub in_errs: u32,
        /// tcpOutRsts.
        pub out_rsts: u32,
        /// tcpInCsumErrors.
        pub in_csum_errors: u32,
    }
}

xdr_struct! {
    /// 0:2010 `mib2_udp_group`.
    pub struct Mib2UdpGroup {
        /// udpInDatagrams.
        pub in_datagrams: u32,
        /// udpNoPorts.
        pub no_ports: u32,
        /// udpInErrors.
        pub in_errors: u32,
        /// udpOutDatagrams.
        pub out_datagrams: u32,
        /// udpRcvbufErrors.
        pub rcvbuf_errors: u32,
        /// udpSndbufErrors.
        pub sndbuf_errors: u32,
        /// udpInCsumErrors.
        pub in_csum_errors: u32,
    }
}

xdr_struct! {
    /// 0:2100 `virt_node`.
    pub struct VirtNode {
        /// CPU frequency, MHz.
        pub mhz: u32,
        /// Active CPUs.
        pub cpus: u32,
        /// Memory, bytes.
        pub memory: u64,
        /// Unassigned memory, bytes.
        pub memory_free: u64,
        /// Active domains.
        pub num_domains: u32,
    }
}

xdr_struct! {
    /// 0:2101 `virt_cpu`.
    pub struct VirtCpu {
        /// Domain state (libvirt).
        pub state: u32,
        /// CPU time, ms.
        pub cpu_time: u32,
        /// Virtual CPUs.
        pub nr_virt_cpu: u32,
    }
}

xdr_struct! {
    /// 0:2102 `virt_memory`.
    pub struct VirtMemory {
        /// Memory used, bytes.
        pub memory: u64,
        /// Memory allowed, bytes.
        pub max_memory: u64,
    }
}

xdr_struct! {
    /// 0:2103 `virt_disk_io`.
    pub struct VirtDiskIo {
        /// Logical size, bytes.
        pub capacity: u64,
        /// Allocation, bytes.
        pub allocation: u64,
        /// Free, bytes.
        pub available: u64,
        /// Read requests.
        pub rd_req: u32,
        /// Bytes read.
        pub rd_bytes: u64,
        /// Write requests.
        pub wr_req: u32,
        /// Bytes written.
        pub wr_bytes: u64,
        /// Errors.
        pub errs: u32,
    }
}

xdr_struct! {
    /// 0:2105 `jvm_runtime`.
    pub struct JvmRuntime {
        /// VM name.
        pub vm_name: Opaque,
        /// VM vendor.
        pub vm_vendor: Opaque,
        /// VM version.
        pub vm_version: Opaque,
    }
}

xdr_struct! {
    /// 0:2106 `jvm_statistics`.
    pub struct JvmStatistics {
        /// Initial heap, bytes.
        pub heap_initial: u64,
        /// Used heap, bytes.
        pub heap_used: u64,
        /// Committed heap, bytes.
        pub heap_committed: u64,
        /// Maximum heap, bytes.
        pub heap_max: u64,
        /// Initial non-heap, bytes.
        pub non_heap_initial: u64,
        /// Used non-heap, bytes.
        pub non_heap_used: u64,
        /// Committed non-heap, bytes.
        pub non_heap_committed: u64,
        /// Maximum non-heap, bytes.
        pub non_heap_max: u64,
        /// GC count.
        pub gc_count: u32,
        /// GC time, ms.
        pub gc_time: u32,
        /// Classes loaded.
        pub classes_loaded: u32,
        /// Classes total.
        pub classes_total: u32,
        /// Classes unloaded.
        pub classes_unloaded: u32,
        /// Compilation time, ms.
        pub compilation_time: u32,
        /// Live threads.
        pub thread_num_live: u32,
        /// Daemon threads.
        pub thread_num_daemon: u32,
        /// Threads started.
        pub thread_num_started: u32,
        /// Open file descriptors.
        pub fd_open_count: u32,
        /// Maximum file descriptors.
        pub fd_max_count: u32,
    }
}

xdr_struct! {
    /// 0:2201 `http_counters`.
    pub struct HttpCounters {
        /// OPTIONS.
        pub method_option_count: u32,
        /// GET.
        pub method_get_count: u32,
        /// HEAD.
        pub method_head_count: u32,
        /// POST.
        pub method_post_count: u32,
        /// PUT.
        pub method_put_count: u32,
        /// DELETE.
        pub method_delete_count: u32,
        /// TRACE.
        pub method_trace_count: u32,
        /// CONNECT.
        pub method_connect_count: u32,
        /// Other methods.
        pub method_other_count: u32,
        /// 1XX.
        pub status_1xx_count: u32,
        /// 2XX.
        pub status_2xx_count: u32,
        /// 3XX.
        pub status_3xx_count: u32,
        /// 4XX.
        pub status_4xx_count: u32,
        /// 5XX.
        pub status_5xx_count: u32,
        /// Other statuses.
        pub status_other_count: u32,
    }
}

xdr_struct! {
    /// 0:2202 `app_operations`.
    pub struct AppOperations {
        /// Application.
        pub application: Opaque,
        /// Successes.
        pub success: u32,
        /// Other errors.
        pub other: u32,
        /// Timeouts.
        pub timeout: u32,
        /// Internal errors.
        pub internal_error: u32,
        /// Bad requests.
        pub bad_request: u32,
        /// Forbidden.
        pub forbidden: u32,
        /// Too large.
        pub too_large: u32,
        /// Not implemented.
        pub not_implemented: u32,
        /// Not found.
        pub not_found: u32,
        /// Unavailable.
        pub unavailable: u32,
        /// Unauthorized.
        pub unauthorized: u32,
    }
}

xdr_struct! {
    /// 0:2203 `app_resources`.
    pub struct AppResources {
        /// User time, ms.
        pub user_time: u32,
        /// System time, ms.
        pub system_time: u32,
        /// Memory used, bytes.
        pub mem_used: u64,
        /// Memory maximum, bytes.
        pub mem_max: u64,
        /// Open file descriptors.
        pub fd_open: u32,
        /// Maximum file descriptors.
        pub fd_max: u32,
        /// Open connections.
        pub conn_open: u32,
        /// Maximum connections.
        pub conn_max: u32,
    }
}

xdr_struct! {
    /// 0:2206 `app_workers`.
    pub struct AppWorkers {
        /// Active workers.
        pub workers_active: u32,
        /// Idle workers.
        pub workers_idle: u32,
        /// Maximum workers.
        pub workers_max: u32,
        /// Delayed requests.
        pub req_delayed: u32,
        /// Dropped requests.
        pub req_dropped: u32,
    }
}

xdr_struct! {
    /// 0:2207 `ovs_dp_stats`: Open vSwitch datapath.
    pub struct OvsDpStats {
        /// Flow table hits.
        pub hits: u32,
        /// Misses.
        pub misses: u32,
        /// Lost upcalls.
        pub lost: u32,
        /// Mask hits.
        pub mask_hits: u32,
        /// Flows.
        pub flows: u32,
        /// Masks.
        pub masks: u32,
    }
}

record_enum! {
    /// A counter record of a counter sample.
    pub enum CounterData ("counter record") {
        /// 0:1.
        1 => Interface(IfCounters),
        /// 0:2.
        2 => Ethernet(EthernetCounters),
        /// 0:3.
        3 => TokenRing(TokenRingCounters),
        /// 0:4.
        4 => Vg(VgCounters),
        /// 0:5.
        5 => Vlan(VlanCounters),
        /// 0:6.
        6 => Ieee80211(Ieee80211Counters),
        /// 0:7.
        7 => Lag(LagPortStats),
        /// 0:10.
        10 => Sfp(SfpCounters),
        /// 0:1001.
        1001 => Processor(ProcessorCounters),
        /// 0:1002.
        1002 => Radio(RadioUtilization),
        /// 0:1004.
        1004 => OpenFlowPort(OpenFlowPort),
        /// 0:1005.
        1005 => PortName(PortName),
        /// 0:2000.
        2000 => HostDescr(HostDescr),
        /// 0:2001.
        2001 => HostAdapters(HostAdapters),
        /// 0:2002.
        2002 => HostParent(HostParent),
        /// 0:2003.
        2003 => HostCpu(HostCpu),
        /// 0:2004.
        2004 => HostMemory(HostMemory),
        /// 0:2005.
        2005 => HostDiskIo(HostDiskIo),
        /// 0:2006.
        2006 => HostNetIo(HostNetIo),
        /// 0:2007.
        2007 => Mib2Ip(Mib2IpGroup),
        /// 0:2008.
        2008 => Mib2Icmp(Mib2IcmpGroup),
        /// 0:2009.
        2009 => Mib2Tcp(Mib2TcpGroup),
        /// 0:2010.
        2010 => Mib2Udp(Mib2UdpGroup),
        /// 0:2100.
        2100 => VirtNode(VirtNode),
        /// 0:2101.
        2101 => VirtCpu(VirtCpu),
        /// 0:2102.
        2102 => VirtMemory(VirtMemory),
        /// 0:2103.
        2103 => VirtDiskIo(VirtDiskIo),
        /// 0:2104 `virt_net_io`.
        2104 => VirtNetIo(HostNetIo),
        /// 0:2105.
        2105 => JvmRuntime(JvmRuntime),
        /// 0:2106.
        2106 => JvmStatistics(JvmStatistics),
        /// 0:2201.
        2201 => Http(HttpCounters),
        /// 0:2202.
        2202 => AppOperations(AppOperations),
        /// 0:2203.
        2203 => AppResources(AppResources),
        /// 0:2206.
        2206 => AppWorkers(AppWorkers),
        /// 0:2207.
        2207 => OvsDp(OvsDpStats),
    }
}
