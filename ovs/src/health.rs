//! Export health: what ovs-vswitchd reports about the exporters it runs, next to what is
//! configured.
//!
//! - Whether ovs-vswitchd has applied the database's configuration: `Open_vSwitch`
//!   `cur_cfg` against `next_cfg` ([`ConfigState`]).
//! - The IPFIX exporter's counters ([`IpfixStats`]). OVSDB has no column for them (as of
//!   schema 8.x), so they are asked the way `ovs-ofctl dump-ipfix-bridge BRIDGE` asks: a
//!   Nicira `NXST_IPFIX_BRIDGE` statistics request on the bridge's OpenFlow management
//!   socket (`BRIDGE.mgmt`, next to `db.sock` in ovs-vswitchd's run directory). NetFlow and
//!   sFlow have no such counters.
//! - Warnings about collector addresses that cannot work from this node
//!   ([`collector_warnings`]): loopback, unspecified, multicast or broadcast addresses, no
//!   route, and one `ip:port` used by two protocols.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::ovsdb::Endpoint;
use crate::rows::CurrentExport;
use crate::spec::Protocol;

/// `Open_vSwitch.next_cfg` (bumped by every configuration change) and `cur_cfg` (set by
/// ovs-vswitchd once it has applied the configuration up to that number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigState {
    /// The latest configuration number.
    pub next_cfg: i64,
    /// The configuration number ovs-vswitchd has applied.
    pub cur_cfg: i64,
}

impl ConfigState {
    /// `true` when ovs-vswitchd has applied everything written so far.
    pub fn applied(&self) -> bool {
        self.cur_cfg >= self.next_cfg
    }
}

impl fmt::Display for ConfigState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (cur, next) = (self.cur_cfg, self.next_cfg);
        if self.applied() {
            write!(f, "configuration applied (cur_cfg {cur}, next_cfg {next})")
        } else {
            write!(
                f,
                "configuration pending (cur_cfg {cur} < next_cfg {next}): ovs-vswitchd has not \
                 applied the latest change; is it running?"
            )
        }
    }
}

/// The counters ovs-vswitchd keeps for a bridge's IPFIX exporter (`NXST_IPFIX_BRIDGE`, as
/// `ovs-ofctl dump-ipfix-bridge` prints them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpfixStats {
    /// Flows created in the exporter's cache.
    pub total_flows: u64,
    /// Flows in the cache now.
    pub current_flows: u64,
    /// Packets sampled.
    pub sampled_packets: u64,
    /// Sampled IPv4 packets.
    pub ipv4_packets: u64,
    /// Sampled IPv6 packets.
    pub ipv6_packets: u64,
    /// Sampled packets that could not be handled.
    pub error_packets: u64,
    /// Sampled IPv4 packets that could not be handled.
    pub ipv4_error_packets: u64,
    /// Sampled IPv6 packets that could not be handled.
    pub ipv6_error_packets: u64,
    /// IPFIX messages sent.
    pub sent_packets: u64,
    /// IPFIX messages that could not be sent (collector unreachable, nothing listening).
    pub send_errors: u64,
}

impl fmt::Display for IpfixStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "flows {} (in cache {}), sampled packets {} (IPv4 {}, IPv6 {}), messages sent {}; \
             errors: packets {} (IPv4 {}, IPv6 {}), sends {}",
            self.total_flows,
            self.current_flows,
            self.sampled_packets,
            self.ipv4_packets,
            self.ipv6_packets,
            self.sent_packets,
            self.error_packets,
            self.ipv4_error_packets,
            self.ipv6_error_packets,
            self.send_errors
        )
    }
}

/// The bridge's OpenFlow management socket, when the database is reached over a unix
/// socket (ovs-vswitchd puts `BRIDGE.mgmt` in the same run directory as `db.sock`).
pub fn mgmt_socket(db: &str, bridge: &str) -> Option<PathBuf> {
    match Endpoint::parse(db).ok()? {
        Endpoint::Unix(path) => Some(Path::new(&path).parent()?.join(format!("{bridge}.mgmt"))),
        _ => None,
    }
}

const OFP10_VERSION: u8 = 1;
const OFPT_HELLO: u8 = 0;
const OFPT_ERROR: u8 = 1;
const OFPT_ECHO_REQUEST: u8 = 2;
const OFPT_ECHO_REPLY: u8 = 3;
const OFPT_STATS_REQUEST: u8 = 16;
const OFPT_STATS_REPLY: u8 = 17;
const OFPST_VENDOR: u16 = 0xffff;
const NX_VENDOR_ID: u32 = 0x0000_2320;
const NXST_IPFIX_BRIDGE: u32 = 3;
/// OpenFlow header (8) + stats type and flags (4) + vendor (4) + subtype (4) + pad (4).
const NX_STATS_HEADER: usize = 24;

/// One OpenFlow message: type, xid, body after the 8-byte header.
struct OfMessage {
    kind: u8,
    xid: u32,
    body: Vec<u8>,
}

fn of_message(kind: u8, xid: u32, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + body.len()).unwrap_or(u16::MAX);
    let mut m = vec![OFP10_VERSION, kind];
    m.extend_from_slice(&len.to_be_bytes());
    m.extend_from_slice(&xid.to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Ask ovs-vswitchd for the IPFIX exporter counters of the bridge whose management socket
/// is `mgmt` (see [`mgmt_socket`]).
#[cfg(unix)]
pub fn ipfix_bridge_stats(mgmt: &Path, timeout: Duration) -> Result<IpfixStats, Error> {
    let socket = format!("unix:{}", mgmt.display());
    let io = |context: &'static str| {
        let socket = socket.clone();
        move |e: std::io::Error| Error::OpenFlow {
            socket,
            message: format!("{context}: {e}"),
        }
    };
    let protocol = |message: String| Error::OpenFlow {
        socket: socket.clone(),
        message,
    };
    let mut s = UnixStream::connect(mgmt).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                " (is ovs-vswitchd running this bridge?)"
            }
            _ => "",
        };
        Error::OpenFlow {
            socket: socket.clone(),
            message: format!("connect: {e}{hint}"),
        }
    })?;
    s.set_read_timeout(Some(timeout)).map_err(io("configure"))?;
    s.set_write_timeout(Some(timeout))
        .map_err(io("configure"))?;
    // Offering OpenFlow 1.0 only makes ovs-vswitchd settle on it, whatever else it speaks.
    s.write_all(&of_message(OFPT_HELLO, 1, &[]))
        .map_err(io("send"))?;
    let mut request = Vec::with_capacity(16);
    request.extend_from_slice(&OFPST_VENDOR.to_be_bytes());
    request.extend_from_slice(&0u16.to_be_bytes());
    request.extend_from_slice(&NX_VENDOR_ID.to_be_bytes());
    request.extend_from_slice(&NXST_IPFIX_BRIDGE.to_be_bytes());
    request.extend_from_slice(&[0; 4]);
    s.write_all(&of_message(OFPT_STATS_REQUEST, 2, &request))
        .map_err(io("send"))?;
    loop {
        let mut header = [0u8; 8];
        s.read_exact(&mut header).map_err(io("receive"))?;
        let [_, kind, l0, l1, x0, x1, x2, x3] = header;
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let mut body = vec![0u8; len.saturating_sub(8)];
        s.read_exact(&mut body).map_err(io("receive"))?;
        let m = OfMessage {
            kind,
            xid: u32::from_be_bytes([x0, x1, x2, x3]),
            body,
        };
        match m.kind {
            OFPT_ECHO_REQUEST => s
                .write_all(&of_message(OFPT_ECHO_REPLY, m.xid, &m.body))
                .map_err(io("send"))?,
            OFPT_ERROR if m.xid == 2 => {
                // ovs-vswitchd answers with an error when the bridge has no IPFIX exporter.
                return Err(protocol(
                    "ovs-vswitchd runs no IPFIX exporter on this bridge (NXST_IPFIX_BRIDGE \
                     refused)"
                        .to_owned(),
                ));
            }
            OFPT_STATS_REPLY if m.xid == 2 => {
                let at = NX_STATS_HEADER - 8;
                let c = |i: usize| be_u64(&m.body, at + 8 * i);
                let all: Option<Vec<u64>> = (0..10).map(c).collect();
                let Some(
                    [
                        total_flows,
                        current_flows,
                        sampled_packets,
                        ipv4_packets,
                        ipv6_packets,
                        error_packets,
                        ipv4_error_packets,
                        ipv6_error_packets,
                        sent_packets,
                        send_errors,
                    ],
                ) = all.and_then(|v| <[u64; 10]>::try_from(v).ok())
                else {
                    return Err(protocol(format!(
                        "NXST_IPFIX_BRIDGE reply too short ({} bytes)",
                        m.body.len() + 8
                    )));
                };
                return Ok(IpfixStats {
                    total_flows,
                    current_flows,
                    sampled_packets,
                    ipv4_packets,
                    ipv6_packets,
                    error_packets,
                    ipv4_error_packets,
                    ipv6_error_packets,
                    sent_packets,
                    send_errors,
                });
            }
            // Hello, and anything not about our request.
            _ => {}
        }
    }
}

/// Ask ovs-vswitchd for the IPFIX exporter counters (unix sockets only).
#[cfg(not(unix))]
pub fn ipfix_bridge_stats(mgmt: &Path, _timeout: Duration) -> Result<IpfixStats, Error> {
    Err(Error::OpenFlow {
        socket: format!("unix:{}", mgmt.display()),
        message: "unix sockets are not supported on this platform".to_owned(),
    })
}

/// Why a collector address cannot work, or works only in a special way, from this node;
/// `None` when nothing is wrong with it. With `check_route`, an address the node has no
/// route to is reported too (a UDP socket is connected to it, nothing is sent).
fn address_problem(addr: &SocketAddr, check_route: bool) -> Option<String> {
    let ip = addr.ip();
    let v4 = match ip {
        IpAddr::V4(v) => Some(v),
        IpAddr::V6(v) => v.to_ipv4_mapped(),
    };
    if ip.is_unspecified() || addr.port() == 0 {
        return Some("an unspecified address or port cannot be sent to".to_owned());
    }
    if ip.is_loopback() {
        return Some(
            "a loopback address: only a collector on this node (in ovs-vswitchd's network \
             namespace) receives it, never a collector elsewhere"
                .to_owned(),
        );
    }
    if ip.is_multicast() || v4.is_some_and(|v| v.is_broadcast()) {
        return Some("a multicast or broadcast address, not a collector".to_owned());
    }
    if v4.is_some_and(|v| v.is_link_local())
        || matches!(ip, IpAddr::V6(v) if v.is_unicast_link_local())
    {
        return Some("a link-local address: reachable only on one link".to_owned());
    }
    if check_route {
        let local: SocketAddr = if ip.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        if let Err(e) = UdpSocket::bind(local).and_then(|s| s.connect(addr)) {
            return Some(format!("not routable from this node ({e})"));
        }
    }
    None
}

/// Warnings about the collectors a bridge exports to: addresses that cannot work from the
/// node (see the [module documentation](self)), targets OVS cannot parse as `ip:port`, and
/// one `ip:port` receiving two protocols (a collector port usually decodes one). The route
/// check is made only with `on_this_node` (the database is on this node, so OVS routes as
/// this process would).
pub fn collector_warnings(current: &CurrentExport, on_this_node: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut users: BTreeMap<SocketAddr, Vec<Protocol>> = BTreeMap::new();
    for p in Protocol::ALL {
        for target in current.targets(p).unwrap_or_default() {
            match target.parse::<SocketAddr>() {
                Ok(addr) => {
                    if let Some(problem) = address_problem(&addr, on_this_node) {
                        out.push(format!("{} collector {target}: {problem}", p.spec_field()));
                    }
                    users.entry(addr).or_default().push(p);
                }
                Err(_) => out.push(format!(
                    "{} collector {target:?}: not a numeric ip:port, which OVS needs",
                    p.spec_field()
                )),
            }
        }
    }
    for (addr, protocols) in users {
        if protocols.len() > 1 {
            let names: Vec<&str> = protocols.iter().map(|p| p.spec_field()).collect();
            out.push(format!(
                "collector {addr} receives {}: one port gets several formats, which most \
                 collectors do not decode (OVS sends each protocol from its own socket)",
                names.join(" and ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{ColumnValue, ExistingRow, ExporterRow};
    use serde_json::json;

    fn current(targets: [&[&str]; 3]) -> CurrentExport {
        let rows = Protocol::ALL.map(|p| {
            let t = targets[Protocol::ALL.iter().position(|x| *x == p).unwrap()];
            (!t.is_empty()).then(|| ExistingRow {
                uuid: "u".into(),
                row: ExporterRow {
                    protocol: p,
                    columns: [(
                        "targets",
                        ColumnValue::Strings(t.iter().map(|s| (*s).to_owned()).collect()),
                    )]
                    .into(),
                },
                shared: false,
            })
        });
        CurrentExport {
            bridge: "br-int".into(),
            bridge_uuid: "b".into(),
            rows,
            raw_refs: [json!(null), json!(null), json!(null)],
            flow_samples: Vec::new(),
        }
    }

    #[test]
    fn warnings() {
        let c = current([
            &["127.0.0.1:2055", "10.0.0.1:2055"],
            &["[fe80::1]:6343", "224.0.0.1:6343"],
            &["10.0.0.1:2055", "collector:4739"],
        ]);
        let w = collector_warnings(&c, false);
        assert_eq!(w.len(), 5, "{w:#?}");
        assert!(w[0].starts_with("netFlow collector 127.0.0.1:2055: a loopback address"));
        assert!(
            w.iter()
                .any(|x| x.starts_with("sFlow collector [fe80::1]:6343: a link-local"))
        );
        assert!(
            w.iter()
                .any(|x| x.starts_with("sFlow collector 224.0.0.1:6343: a multicast"))
        );
        assert!(
            w.iter()
                .any(|x| x.contains("\"collector:4739\": not a numeric ip:port"))
        );
        assert!(
            w.iter()
                .any(|x| x.starts_with("collector 10.0.0.1:2055 receives netFlow and ipfix"))
        );
        assert!(collector_warnings(&current([&["192.0.2.1:2055"], &[], &[]]), false).is_empty());
    }

    #[test]
    fn mgmt_socket_next_to_the_database() {
        assert_eq!(
            mgmt_socket("unix:/var/run/openvswitch/db.sock", "br-int"),
            Some(PathBuf::from("/var/run/openvswitch/br-int.mgmt"))
        );
        assert_eq!(mgmt_socket("tcp:127.0.0.1:6640", "br-int"), None);
    }

    #[test]
    fn config_state_text() {
        let s = ConfigState {
            next_cfg: 3,
            cur_cfg: 3,
        };
        assert!(s.applied());
        assert_eq!(
            s.to_string(),
            "configuration applied (cur_cfg 3, next_cfg 3)"
        );
        let p = ConfigState {
            next_cfg: 4,
            cur_cfg: 3,
        };
        assert!(!p.applied());
        assert!(
            p.to_string()
                .starts_with("configuration pending (cur_cfg 3 < next_cfg 4)")
        );
    }
}
