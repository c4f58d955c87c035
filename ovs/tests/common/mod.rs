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

/// Find every program in `names`; `Err` names the first one missing, for a skip message.
pub fn find_programs<const N: usize>(names: [&str; N]) -> Result<[PathBuf; N], String> {
    let mut found = Vec::with_capacity(N);
    for name in names {
        match find_program(name) {
            Some(p) => found.push(p),
            None => {
                return Err(format!(
                    "`{name}` not found on PATH ({}) or in the sbin directories",
                    std::env::var("PATH").unwrap_or_default()
                ));
            }
        }
    }
    found
        .try_into()
        .map_err(|_| "internal: program count".to_owned())
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
    server: PathBuf,
    db: PathBuf,
    child: Option<Child>,
}

impl OvsdbServer {
    /// Start a server, or print why not and return None (the test then skips).
    pub fn start(test: &str) -> Option<OvsdbServer> {
        Self::start_with(test, false)
    }

    /// Start with an extra TCP listener on 127.0.0.1.
    pub fn start_with(test: &str, tcp: bool) -> Option<OvsdbServer> {
        let [server, tool, vsctl] = match find_programs(["ovsdb-server", "ovsdb-tool", "ovs-vsctl"])
        {
            Ok(p) => p,
            Err(e) => {
                eprintln!("SKIPPED {test}: {e} (Debian package openvswitch-switch)");
                return None;
            }
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
        let mut srv = OvsdbServer {
            dir,
            sock,
            tcp_port,
            vsctl,
            server,
            db,
            child: None,
        };
        let child = srv.spawn_server();
        srv.child = Some(child);
        srv.wait_ready();
        srv.vsctl_ok(&["init"]);
        Some(srv)
    }

    fn spawn_server(&self) -> Child {
        let mut cmd = Command::new(&self.server);
        cmd.arg(&self.db)
            .arg(format!("--remote=punix:{}", self.sock.display()))
            .arg(format!(
                "--unixctl={}",
                self.dir.join("ovsdb-server.ctl").display()
            ))
            .arg(format!(
                "--log-file={}",
                self.dir.join("ovsdb-server.log").display()
            ))
            .arg("-vconsole:off")
            .arg("--no-chdir")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = self.tcp_port {
            cmd.arg(format!("--remote=ptcp:{p}:127.0.0.1"));
        }
        cmd.spawn().expect("spawn ovsdb-server")
    }

    /// Wait for the server's socket(s); fail at once, with its log, if it exited.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let ready = |s: &Self| {
            s.sock.exists()
                && s.tcp_port
                    .is_none_or(|p| std::net::TcpStream::connect(("127.0.0.1", p)).is_ok())
        };
        while !ready(self) {
            if let Some(c) = &mut self.child
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!(
                    "ovsdb-server exited ({status}) before listening; log:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "ovsdb-server not listening on {} after 10 s; log:\n{}",
                self.sock.display(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// ovsdb-server's log file.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ovsdb-server.log")).unwrap_or_default()
    }

    /// Kill the server (SIGKILL, like a crash) and wait until it is gone; the database file
    /// stays.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("kill ovsdb-server");
            c.wait().expect("reap ovsdb-server");
        }
        // SIGKILL leaves the socket file behind: without it gone, `wait_ready` would take
        // the stale file for the restarted server's socket.
        if let Err(e) = std::fs::remove_file(&self.sock) {
            assert!(
                e.kind() == std::io::ErrorKind::NotFound,
                "remove {}: {e}",
                self.sock.display()
            );
        }
    }

    /// Start the server again on the same database file (after [`OvsdbServer::kill`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart: the server is still running");
        let child = self.spawn_server();
        self.child = Some(child);
        self.wait_ready();
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
        // No panics here (a failing test is already unwinding): report and go on.
        if let Some(mut c) = self.child.take()
            && let Err(e) = c.kill().and_then(|()| c.wait().map(drop))
        {
            eprintln!("cleanup: stopping ovsdb-server {}: {e}", c.id());
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("cleanup: remove {}: {e}", self.dir.display());
        }
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
    appctl: PathBuf,
    child: Option<Child>,
}

impl Vswitchd {
    /// Start ovsdb-server and ovs-vswitchd, or print why not and return None. Returns once
    /// ovs-vswitchd answers on its control socket.
    pub fn start(test: &str) -> Option<Vswitchd> {
        let [prog, appctl] = match find_programs(["ovs-vswitchd", "ovs-appctl"]) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("SKIPPED {test}: {e} (Debian package openvswitch-switch)");
                return None;
            }
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
        let mut vs = Vswitchd {
            db,
            appctl,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(c) = &mut vs.child
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("ovs-vswitchd exited ({status}); log:\n{}", vs.log());
            }
            match vs.appctl(&["version"]) {
                Ok(_) => break,
                Err(e) => assert!(
                    Instant::now() < deadline,
                    "ovs-vswitchd not answering after 10 s: {e}\nlog:\n{}",
                    vs.log()
                ),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(vs)
    }

    /// `ovs-appctl -t VSWITCHD ARGS`; `Err` carries stderr or the exec error.
    pub fn appctl(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.appctl)
            .arg("-t")
            .arg(self.db.dir.join("ovs-vswitchd.ctl"))
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

    /// The last `n` lines of the log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Vswitchd {
    fn drop(&mut self) {
        // No panics here (a failing test is already unwinding): report and go on.
        // Deleting the bridges lets the netdev datapath close its tap/AF_PACKET ports.
        // Wait (no --no-wait) so vswitchd has removed the tap device before it exits.
        let out = self.db.vsctl(&["list-br"]);
        if !out.status.success() {
            eprintln!(
                "cleanup: ovs-vsctl list-br: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        for br in String::from_utf8_lossy(&out.stdout).lines() {
            let del = Command::new(&self.db.vsctl)
                .arg(format!("--db={}", self.db.db()))
                .arg("--timeout=10")
                .args(["--if-exists", "del-br", br])
                .output();
            match del {
                Ok(o) if o.status.success() => {}
                Ok(o) => eprintln!(
                    "cleanup: ovs-vsctl del-br {br}: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
                Err(e) => eprintln!("cleanup: ovs-vsctl del-br {br}: {e}"),
            }
        }
        if let Some(mut c) = self.child.take() {
            // Ask it to exit cleanly (releasing datapath ports), then make sure.
            if let Err(e) = self.appctl(&["exit", "--cleanup"]) {
                eprintln!("cleanup: {e}");
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut exited = false;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    exited = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !exited {
                eprintln!("cleanup: ovs-vswitchd did not exit within 5 s, killing it");
                if let Err(e) = c.kill().and_then(|()| c.wait().map(drop)) {
                    eprintln!("cleanup: killing ovs-vswitchd {}: {e}", c.id());
                }
            }
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

/// Run a program found with [`find_program`]; `Err` says why (not found, could not run,
/// or its exit status and stderr).
pub fn sh(prog: &str, args: &[&str]) -> Result<String, String> {
    let path = find_program(prog).ok_or_else(|| format!("`{prog}` not found"))?;
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

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        // No panics here (a failing test is already unwinding): report and go on.
        for l in &self.links {
            if let Err(e) = sh("ip", &["link", "del", l]) {
                eprintln!("cleanup: {e}");
            }
        }
        for n in &self.namespaces {
            if let Err(e) = sh("ip", &["netns", "del", n]) {
                eprintln!("cleanup: {e}");
            }
        }
    }
}
