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
