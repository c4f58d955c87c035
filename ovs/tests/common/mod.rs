//! A throwaway ovsdb-server on a fresh Open_vSwitch database in a temp dir, for tests.
//! Everything it starts is killed and its directory removed on drop.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Find a program on PATH or in the sbin directories (ovsdb-server lives in /usr/sbin).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from));
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

pub fn schema_path() -> PathBuf {
    std::env::var_os("OVS_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/openvswitch/vswitch.ovsschema"))
}

/// A running ovsdb-server.
pub struct OvsdbServer {
    pub dir: PathBuf,
    pub sock: PathBuf,
    pub tcp_port: Option<u16>,
    vsctl: PathBuf,
    child: Option<Child>,
}

impl OvsdbServer {
    /// Start a server, or print why not and return None (the test then skips).
    pub fn start(test: &str) -> Option<OvsdbServer> {
        Self::start_with(test, false)
    }

    /// Start with an extra TCP listener on 127.0.0.1.
    pub fn start_with(test: &str, tcp: bool) -> Option<OvsdbServer> {
        let (Some(server), Some(tool), Some(vsctl)) = (
            find_program("ovsdb-server"),
            find_program("ovsdb-tool"),
            find_program("ovs-vsctl"),
        ) else {
            eprintln!(
                "SKIPPED {test}: ovsdb-server/ovsdb-tool/ovs-vsctl not installed (Debian package openvswitch-switch)"
            );
            return None;
        };
        let schema = schema_path();
        if !schema.is_file() {
            eprintln!("SKIPPED {test}: OVS schema {} not found", schema.display());
            return None;
        }
        // Short path: unix socket paths are limited to ~107 bytes.
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = PathBuf::from(format!("/tmp/fwovs-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let db = dir.join("conf.db");
        let sock = dir.join("db.sock");
        let out = Command::new(&tool)
            .arg("create")
            .arg(&db)
            .arg(&schema)
            .output()
            .expect("run ovsdb-tool");
        assert!(
            out.status.success(),
            "ovsdb-tool create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tcp_port = tcp.then(|| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        });
        let mut cmd = Command::new(&server);
        cmd.arg(&db)
            .arg(format!("--remote=punix:{}", sock.display()))
            .arg(format!(
                "--unixctl={}",
                dir.join("ovsdb-server.ctl").display()
            ))
            .arg(format!(
                "--log-file={}",
                dir.join("ovsdb-server.log").display()
            ))
            .arg("-vconsole:off")
            .arg("--no-chdir")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = tcp_port {
            cmd.arg(format!("--remote=ptcp:{p}:127.0.0.1"));
        }
        let child = cmd.spawn().expect("spawn ovsdb-server");
        let srv = OvsdbServer {
            dir,
            sock,
            tcp_port,
            vsctl,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !srv.sock.exists() {
            assert!(
                Instant::now() < deadline,
                "ovsdb-server did not create {}",
                srv.sock.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(p) = tcp_port {
            while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "ovsdb-server not listening on tcp {p}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        srv.vsctl_ok(&["init"]);
        Some(srv)
    }

    /// `unix:SOCK`.
    pub fn db(&self) -> String {
        format!("unix:{}", self.sock.display())
    }

    /// Run ovs-vsctl --no-wait with these arguments.
    pub fn vsctl(&self, args: &[&str]) -> Output {
        Command::new(&self.vsctl)
            .arg(format!("--db={}", self.db()))
            .arg("--no-wait")
            .arg("--timeout=10")
            .args(args)
            .output()
            .expect("run ovs-vsctl")
    }

    /// Run ovs-vsctl --no-wait and require success; returns stdout.
    pub fn vsctl_ok(&self, args: &[&str]) -> String {
        let out = self.vsctl(args);
        assert!(
            out.status.success(),
            "ovs-vsctl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ovs-vsctl --format=json list TABLE` as a list of rows (column name -> OVSDB JSON).
    pub fn list(&self, table: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let out = self.vsctl_ok(&["--format=json", "list", table]);
        let v: serde_json::Value = serde_json::from_str(&out).expect("ovs-vsctl json");
        let headings: Vec<String> = v["headings"]
            .as_array()
            .expect("headings")
            .iter()
            .map(|h| h.as_str().expect("heading").to_owned())
            .collect();
        v["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|row| {
                headings
                    .iter()
                    .cloned()
                    .zip(row.as_array().expect("row").iter().cloned())
                    .collect()
            })
            .collect()
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for OvsdbServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Is this process root (needed for network namespaces and veth pairs)?
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// ovs-vswitchd (userspace datapath, `--disable-system`) on an [`OvsdbServer`]'s database.
/// Dropping it deletes its bridges, stops it and then the server.
pub struct Vswitchd {
    pub db: OvsdbServer,
    child: Option<Child>,
}

impl Vswitchd {
    /// Start ovsdb-server and ovs-vswitchd, or print why not and return None.
    pub fn start(test: &str) -> Option<Vswitchd> {
        let Some(prog) = find_program("ovs-vswitchd") else {
            eprintln!("SKIPPED {test}: ovs-vswitchd not installed");
            return None;
        };
        let db = OvsdbServer::start(test)?;
        let dir = db.dir.clone();
        let child = Command::new(prog)
            .arg(db.db())
            .arg("--disable-system")
            .arg(format!(
                "--unixctl={}",
                dir.join("ovs-vswitchd.ctl").display()
            ))
            .arg(format!(
                "--log-file={}",
                dir.join("ovs-vswitchd.log").display()
            ))
            .arg("-vconsole:off")
            .arg("--no-chdir")
            .env("OVS_RUNDIR", &dir)
            .env("OVS_LOGDIR", &dir)
            .env("OVS_DBDIR", &dir)
            .env("OVS_SYSCONFDIR", &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ovs-vswitchd");
        Some(Vswitchd {
            db,
            child: Some(child),
        })
    }

    /// Run ovs-vsctl (waiting for vswitchd) and require success.
    pub fn vsctl_wait(&self, args: &[&str]) -> String {
        let out = Command::new(&self.db.vsctl)
            .arg(format!("--db={}", self.db.db()))
            .arg("--timeout=20")
            .args(args)
            .output()
            .expect("run ovs-vsctl");
        assert!(
            out.status.success(),
            "ovs-vsctl {args:?} failed: {}\nvswitchd log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.db.dir.join("ovs-vswitchd.log")).unwrap_or_default()
    }
}

impl Drop for Vswitchd {
    fn drop(&mut self) {
        // Deleting the bridges lets the netdev datapath close its tap/AF_PACKET ports.
        // Wait (no --no-wait) so vswitchd has removed the tap device before it exits.
        let out = self.db.vsctl(&["list-br"]);
        for br in String::from_utf8_lossy(&out.stdout).lines() {
            let _ = Command::new(&self.db.vsctl)
                .arg(format!("--db={}", self.db.db()))
                .arg("--timeout=10")
                .args(["--if-exists", "del-br", br])
                .output();
        }
        if let Some(mut c) = self.child.take() {
            // Ask it to exit cleanly (releasing datapath ports), then make sure.
            if let Some(appctl) = find_program("ovs-appctl") {
                let _ = Command::new(appctl)
                    .arg("-t")
                    .arg(self.db.dir.join("ovs-vswitchd.ctl"))
                    .args(["--timeout=5", "exit", "--cleanup"])
                    .output();
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        // self.db drops next: stops ovsdb-server, removes the directory.
    }
}

/// Network namespaces and host veth ends created for a test; removed on drop.
#[derive(Default)]
pub struct NetnsGuard {
    pub namespaces: Vec<String>,
    pub links: Vec<String>,
}

/// Run a command; Err(stderr) on failure.
pub fn sh(prog: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(prog)
        .args(args)
        .output()
        .map_err(|e| format!("{prog}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{prog} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        for l in &self.links {
            let _ = sh("ip", &["link", "del", l]);
        }
        for n in &self.namespaces {
            let _ = sh("ip", &["netns", "del", n]);
        }
    }
}
