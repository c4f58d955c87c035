//! Live end to end with Open vSwitch: `flowwire ovs apply` configures a real ovs-vswitchd
//! (userspace datapath, `--disable-system`, on a throwaway ovsdb-server) to export NetFlow v5,
//! sFlow v5 and IPFIX to `flowwire listen` on three loopback ports; ICMP and UDP traffic
//! between two network namespaces made here (10.231.0.1 and 10.231.0.2, which exist only
//! inside them) crosses the bridge; the flows of that traffic must arrive in all three
//! protocols, decoded by `flowwire listen --format jsonl`.
//!
//! Needs root (namespaces, veth pairs, AF_PACKET) and openvswitch-switch, iproute2, ping;
//! skips with a printed reason otherwise. Namespaces, veths, processes and the temporary
//! directory are removed by Drop guards, also when an assertion fails.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const NS_A_ADDR: &str = "10.231.0.1";
const NS_B_ADDR: &str = "10.231.0.2";
const UDP_PORT: u16 = 5999;

fn find(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/lib/openvswitch-switch"].map(PathBuf::from))
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Run a program found with [`find`]; `Err` says why (not found, could not run, or its exit
/// status and output).
fn sh(prog: &str, args: &[&str]) -> Result<String, String> {
    let path = find(prog).ok_or_else(|| format!("`{prog}` not found"))?;
    let out = Command::new(&path)
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{prog} {args:?}: {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Kills (SIGTERM, then SIGKILL after 5 s) and reaps a child on drop.
struct Reaper(Option<Child>, &'static str);

impl Reaper {
    fn wait_exit(&mut self, timeout: Duration) -> bool {
        let Some(c) = &mut self.0 else { return true };
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = c.try_wait() {
                self.0 = None;
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        // No panics here (a failing test may be unwinding): report and go on.
        if let Some(c) = &self.0
            && let Err(e) = sh("kill", &["-TERM", &c.id().to_string()])
        {
            eprintln!("cleanup: SIGTERM to {}: {e}", self.1);
        }
        if self.wait_exit(Duration::from_secs(5)) {
            return;
        }
        if let Some(c) = &mut self.0 {
            eprintln!("{}: did not exit on SIGTERM, killing it", self.1);
            if let Err(e) = c.kill().and_then(|()| c.wait().map(drop)) {
                eprintln!("cleanup: killing {}: {e}", self.1);
            }
        }
    }
}

/// A throwaway ovsdb-server + ovs-vswitchd in `dir`; stopped and removed on drop (after its
/// bridges are deleted, so the netdev datapath releases its ports).
struct Ovs {
    dir: PathBuf,
    vsctl: PathBuf,
    appctl: PathBuf,
    vswitchd: Option<Reaper>,
    server: Option<Reaper>,
}

impl Ovs {
    fn sock(&self) -> PathBuf {
        self.dir.join("db.sock")
    }
    fn db(&self) -> String {
        format!("unix:{}", self.sock().display())
    }
    fn vsctl(&self, wait: bool, args: &[&str]) -> Output {
        let mut c = Command::new(&self.vsctl);
        c.arg(format!("--db={}", self.db())).arg("--timeout=20");
        if !wait {
            c.arg("--no-wait");
        }
        c.args(args).output().unwrap()
    }
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ovs-vswitchd.log")).unwrap_or_default()
    }

    fn start() -> Result<Ovs, String> {
        let need = |p: &str| find(p).ok_or_else(|| format!("{p} not installed"));
        let (server, tool, vsctl, vswitchd, appctl) = (
            need("ovsdb-server")?,
            need("ovsdb-tool")?,
            need("ovs-vsctl")?,
            need("ovs-vswitchd")?,
            need("ovs-appctl")?,
        );
        let schema = PathBuf::from("/usr/share/openvswitch/vswitch.ovsschema");
        if !schema.is_file() {
            return Err(format!("{} not found", schema.display()));
        }
        // Short path: unix socket paths are limited to ~107 bytes.
        let dir = PathBuf::from(format!("/tmp/fwio-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut ovs = Ovs {
            dir: dir.clone(),
            vsctl,
            appctl,
            vswitchd: None,
            server: None,
        };
        let db = dir.join("conf.db");
        sh(
            tool.to_str().unwrap(),
            &["create", db.to_str().unwrap(), schema.to_str().unwrap()],
        )?;
        let quiet = |c: &mut Command| {
            c.arg("-vconsole:off")
                .arg("--no-chdir")
                .env("OVS_RUNDIR", &dir)
                .env("OVS_LOGDIR", &dir)
                .env("OVS_DBDIR", &dir)
                .env("OVS_SYSCONFDIR", &dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
        };
        let mut c = Command::new(server);
        c.arg(&db)
            .arg(format!("--remote=punix:{}", ovs.sock().display()))
            .arg(format!(
                "--unixctl={}",
                dir.join("ovsdb-server.ctl").display()
            ))
            .arg(format!(
                "--log-file={}",
                dir.join("ovsdb-server.log").display()
            ));
        quiet(&mut c);
        ovs.server = Some(Reaper(Some(c.spawn().unwrap()), "ovsdb-server"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ovs.sock().exists() {
            if Instant::now() > deadline {
                return Err("ovsdb-server did not create its socket".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = ovs.vsctl(false, &["init"]);
        if !out.status.success() {
            return Err(format!(
                "ovs-vsctl init: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let mut c = Command::new(vswitchd);
        c.arg(ovs.db())
            .arg("--disable-system")
            .arg(format!(
                "--unixctl={}",
                dir.join("ovs-vswitchd.ctl").display()
            ))
            .arg(format!(
                "--log-file={}",
                dir.join("ovs-vswitchd.log").display()
            ));
        quiet(&mut c);
        ovs.vswitchd = Some(Reaper(Some(c.spawn().unwrap()), "ovs-vswitchd"));
        // Ready when it answers on its control socket; an early exit is reported at once.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(Reaper(Some(c), _)) = &mut ovs.vswitchd
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(format!(
                    "ovs-vswitchd exited ({status}):\n{}",
                    tail(&ovs.log(), 20)
                ));
            }
            match ovs.appctl(&["version"]) {
                Ok(_) => break,
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("ovs-vswitchd not answering after 10 s: {e}"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        Ok(ovs)
    }

    fn appctl(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.appctl)
            .arg("-t")
            .arg(self.dir.join("ovs-vswitchd.ctl"))
            .arg("--timeout=5")
            .args(args)
            .output()
            .map_err(|e| format!("{}: {e}", self.appctl.display()))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "ovs-appctl {args:?}: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Drop for Ovs {
    fn drop(&mut self) {
        // No panics here (a failing test may be unwinding): report and go on.
        let list = self.vsctl(false, &["list-br"]);
        if !list.status.success() {
            eprintln!(
                "cleanup: ovs-vsctl list-br: {}",
                String::from_utf8_lossy(&list.stderr).trim()
            );
        }
        for br in String::from_utf8_lossy(&list.stdout).lines() {
            let out = self.vsctl(true, &["--if-exists", "del-br", br]);
            if !out.status.success() {
                eprintln!(
                    "cleanup: ovs-vsctl del-br {br}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }
        if self.vswitchd.is_some() {
            if let Err(e) = self.appctl(&["exit", "--cleanup"]) {
                eprintln!("cleanup: {e}");
            }
            if let Some(v) = &mut self.vswitchd {
                v.wait_exit(Duration::from_secs(5));
            }
        }
        self.vswitchd = None; // SIGTERM/SIGKILL if still running
        self.server = None;
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("cleanup: remove {}: {e}", self.dir.display());
        }
    }
}

/// Network namespaces and host-side veths made by this test; deleted on drop.
#[derive(Default)]
struct Net {
    namespaces: Vec<String>,
    links: Vec<String>,
}

impl Drop for Net {
    fn drop(&mut self) {
        // No panics here (a failing test may be unwinding): report and go on.
        for l in &self.links {
            if let Err(e) = sh("ip", &["link", "del", l]) {
                eprintln!("cleanup: {e}");
            }
        }
        for ns in &self.namespaces {
            if let Err(e) = sh("ip", &["netns", "del", ns]) {
                eprintln!("cleanup: {e}");
            }
        }
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Run a program found with [`find`] inside a namespace (by absolute path, so `ip netns
/// exec` does not look it up again).
fn in_ns(ns: &str, prog: &str, args: &[&str]) -> Result<String, String> {
    let path = find(prog).ok_or_else(|| format!("`{prog}` not found"))?;
    let path = path.to_str().ok_or("program path is not UTF-8")?;
    let mut all = vec!["netns", "exec", ns, path];
    all.extend_from_slice(args);
    sh("ip", &all)
}

#[test]
fn ovs_exports_netflow_sflow_ipfix_to_flowwire_listen() {
    const TEST: &str = "interop_ovs";
    if !is_root() {
        println!("skipped {TEST}: needs root (network namespaces, veth pairs, AF_PACKET)");
        return;
    }
    for p in ["ip", "ping", "bash", "kill"] {
        if find(p).is_none() {
            println!(
                "skipped {TEST}: `{p}` not found on PATH ({}) or in the sbin directories",
                std::env::var("PATH").unwrap_or_default()
            );
            return;
        }
    }
    let ovs = match Ovs::start() {
        Ok(o) => o,
        Err(e) => {
            println!("skipped {TEST}: cannot start Open vSwitch: {e}");
            return;
        }
    };
    let id = std::process::id() % 100_000;
    let br = format!("fwi{id}");
    let (nsa, nsb) = (format!("fwi{id}a"), format!("fwi{id}b"));
    let (ha, hb) = (format!("fwi{id}ha"), format!("fwi{id}hb"));
    let mut net = Net::default();
    for ns in [&nsa, &nsb] {
        if let Err(e) = sh("ip", &["netns", "add", ns]) {
            println!("skipped {TEST}: cannot create network namespaces: {e}");
            return;
        }
        net.namespaces.push(ns.clone());
    }
    let out = ovs.vsctl(
        true,
        &[
            "add-br",
            &br,
            "--",
            "set",
            "Bridge",
            &br,
            "datapath_type=netdev",
            "other_config:max-idle=1000",
        ],
    );
    assert!(
        out.status.success(),
        "add-br: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        ovs.log()
    );
    for (ns, host, addr) in [
        (&nsa, &ha, format!("{NS_A_ADDR}/24")),
        (&nsb, &hb, format!("{NS_B_ADDR}/24")),
    ] {
        let setup = sh(
            "ip",
            &[
                "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns,
            ],
        )
        .map(|_| net.links.push(host.clone()));
        if let Err(e) = setup {
            println!("skipped {TEST}: cannot create veth pairs: {e}");
            return;
        }
        // `ip -n NS`: no second lookup of `ip` on PATH.
        for args in [
            &["link", "set", host, "up"][..],
            &["-n", ns, "addr", "add", &addr, "dev", "eth0"],
            &["-n", ns, "link", "set", "eth0", "up"],
            &["-n", ns, "link", "set", "lo", "up"],
        ] {
            if let Err(e) = sh("ip", args) {
                panic!("setting up {ns}: {e}");
            }
        }
        // The userspace datapath does not complete partial checksums: without this TCP
        // stalls (ICMP and our UDP would pass anyway, so ethtool is optional).
        if find("ethtool").is_some()
            && let Err(e) = in_ns(ns, "ethtool", &["-K", "eth0", "tx", "off"])
        {
            panic!("turning off tx checksum offload in {ns}: {e}");
        }
        let out = ovs.vsctl(true, &["add-port", &br, host]);
        assert!(
            out.status.success(),
            "add-port: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // flowwire listen on three loopback ports.
    let ports = [free_udp_port(), free_udp_port(), free_udp_port()];
    let out_path = ovs.dir.join("listen.jsonl");
    let err_path = ovs.dir.join("listen.err");
    let mut listen = Reaper(
        Some(
            Command::new(env!("CARGO_BIN_EXE_flowwire"))
                .arg("listen")
                .args(
                    ports
                        .iter()
                        .flat_map(|p| ["--udp".to_string(), format!("127.0.0.1:{p}")]),
                )
                .args(["--format", "jsonl", "--duration", "15", "--stats"])
                .stdout(std::fs::File::create(&out_path).unwrap())
                .stderr(std::fs::File::create(&err_path).unwrap())
                .spawn()
                .unwrap(),
        ),
        "flowwire listen",
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while ports
        .iter()
        .any(|p| UdpSocket::bind(("127.0.0.1", *p)).is_ok())
    {
        assert!(Instant::now() < deadline, "flowwire listen did not bind");
        std::thread::sleep(Duration::from_millis(50));
    }

    // flowwire ovs apply: the operator's spec plus per-protocol options.
    let spec = ovs.dir.join("spec.yaml");
    std::fs::write(
        &spec,
        format!(
            "spec:\n  exportNetworkFlows:\n    netFlow:\n      collectors: [\"127.0.0.1:{}\"]\n    \
             sFlow:\n      collectors: [\"127.0.0.1:{}\"]\n    ipfix:\n      collectors: [\"127.0.0.1:{}\"]\n",
            ports[0], ports[1], ports[2]
        ),
    )
    .unwrap();
    let options = ovs.dir.join("options.yaml");
    std::fs::write(
        &options,
        format!(
            "bridge: {br}\nnetFlow:\n  active_timeout: 1\nsFlow:\n  agent: 127.0.0.1\n  \
             sampling: 1\n  polling: 1\nipfix:\n  sampling: 1\n  obs_domain_id: 42\n  \
             cache_active_timeout: 1\n"
        ),
    )
    .unwrap();
    let apply = Command::new(env!("CARGO_BIN_EXE_flowwire"))
        .args(["ovs", "apply", "-f"])
        .arg(&spec)
        .arg("--options")
        .arg(&options)
        .args([
            "--db",
            &ovs.db(),
            "--bridge",
            &br,
            "--wait",
            "--timeout",
            "20",
            // sampling 1 (every packet): a few pings are enough on a test bridge.
            "--force-sample-all",
        ])
        .output()
        .unwrap();
    assert!(
        apply.status.success(),
        "flowwire ovs apply: {}{}\n{}",
        String::from_utf8_lossy(&apply.stdout),
        String::from_utf8_lossy(&apply.stderr),
        ovs.log()
    );

    // Traffic between the namespaces: pings and UDP datagrams to port 5999, a few rounds.
    // The first ping must get through (retried while the bridge learns), else nothing
    // below can work and the failure says so.
    let ping = |count: &str| {
        in_ns(
            &nsa,
            "ping",
            &["-n", "-c", count, "-i", "0.2", "-W", "1", NS_B_ADDR],
        )
    };
    let mut first = ping("1");
    let deadline = Instant::now() + Duration::from_secs(5);
    while first.is_err() && Instant::now() < deadline {
        first = ping("1");
    }
    if let Err(e) = first {
        panic!(
            "no IPv4 traffic crosses bridge {br}: ping {NS_A_ADDR} -> {NS_B_ADDR} failed: {e}\n\
             vswitchd log (tail):\n{}",
            tail(&ovs.log(), 30)
        );
    }
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) {
        if let Err(e) = ping("3") {
            panic!("ping through {br} stopped working: {e}");
        }
        let udp =
            format!("for i in 1 2 3; do echo flowwire > /dev/udp/{NS_B_ADDR}/{UDP_PORT}; done");
        if let Err(e) = in_ns(&nsa, "bash", &["-c", &udp]) {
            panic!("sending UDP to {NS_B_ADDR}:{UDP_PORT}: {e}");
        }
    }
    assert!(
        listen.wait_exit(Duration::from_secs(15)),
        "flowwire listen did not stop after --duration 15"
    );
    let text = std::fs::read_to_string(&out_path).unwrap();
    let stats = std::fs::read_to_string(&err_path).unwrap_or_default();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let between = |r: &serde_json::Value, kind: &str| {
        r["type"] == "flow"
            && r["kind"] == kind
            && ((r["src_addr"] == NS_A_ADDR && r["dst_addr"] == NS_B_ADDR)
                || (r["src_addr"] == NS_B_ADDR && r["dst_addr"] == NS_A_ADDR))
    };
    let count = |kind: &str, proto: u64| {
        rows.iter()
            .filter(|r| between(r, kind) && r["protocol"].as_u64() == Some(proto))
            .count()
    };
    let udp_to = |kind: &str| {
        rows.iter().any(|r| {
            between(r, kind)
                && r["protocol"] == 17
                && r["dst_port"].as_u64() == Some(u64::from(UDP_PORT))
        })
    };
    let ipfix_domain = rows
        .iter()
        .filter(|r| between(r, "ipfix"))
        .all(|r| r["domain"] == 42);
    let sflow_agent = rows
        .iter()
        .filter(|r| between(r, "sflow5"))
        .all(|r| r["agent"] == "127.0.0.1");
    let counters = rows.iter().filter(|r| r["type"] == "counters").count();
    println!(
        "OVS -> flowwire listen: {} records; ICMP flows netflow5 {} sflow5 {} ipfix {}; \
         UDP :{UDP_PORT} netflow5 {} sflow5 {} ipfix {}; sFlow counter samples {counters}",
        rows.len(),
        count("netflow5", 1),
        count("sflow5", 1),
        count("ipfix", 1),
        udp_to("netflow5"),
        udp_to("sflow5"),
        udp_to("ipfix"),
    );
    let ok = count("netflow5", 1) > 0
        && count("sflow5", 1) > 0
        && count("ipfix", 1) > 0
        && udp_to("netflow5")
        && udp_to("sflow5")
        && udp_to("ipfix")
        && ipfix_domain
        && sflow_agent;
    assert!(
        ok,
        "missing flows (ipfix domain 42: {ipfix_domain}, sflow agent: {sflow_agent})\n\
         listen stats:\n{stats}\nvswitchd log (tail):\n{}",
        tail(&ovs.log(), 30)
    );
    drop(listen);
    drop(net);
    drop(ovs);
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
