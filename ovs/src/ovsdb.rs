//! A small, blocking OVSDB JSON-RPC client (RFC 7047) over a unix socket or TCP.
//!
//! What a configurator needs: [`Client::transact`] (with [`op`] builders for `insert`,
//! `update`, `mutate`, `select`, `delete` and `wait`, and `named-uuid` references),
//! [`Client::get_schema`], [`Client::monitor`] with [`Client::next_notification`] to follow
//! changes, answering the server's `echo` requests while waiting, a time limit on every
//! call, and errors that carry OVSDB's `error` and `details` ([`Error::Ovsdb`]).
//!
//! Messages are framed by scanning for the end of each JSON object, so replies may arrive
//! in any number of pieces, several messages may share one read, and a wait that times out
//! between messages leaves the connection usable (a watcher polls with short waits).
//!
//! ```no_run
//! use flowwire_ovs::ovsdb::{op, Client, Endpoint};
//! use std::time::Duration;
//!
//! let mut c = Client::connect(&Endpoint::parse("unix:/var/run/openvswitch/db.sock")?,
//!                             Duration::from_secs(5))?;
//! let rows = c.transact("Open_vSwitch", vec![
//!     op::select("Bridge", vec![], &["name"]),
//! ])?;
//! println!("{rows:?}");
//! # Ok::<(), flowwire_ovs::Error>(())
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io::{Read, Write};
use std::net::TcpStream;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error::{Error, OvsdbError};

/// The standard Open vSwitch database socket.
pub const DEFAULT_DB: &str = "unix:/var/run/openvswitch/db.sock";
/// The database name of Open vSwitch's configuration database.
pub const OPEN_VSWITCH_DB: &str = "Open_vSwitch";

/// Where the server listens: `unix:PATH` or `tcp:HOST:PORT` (IPv6 as `tcp:[addr]:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// A unix domain socket path.
    Unix(String),
    /// A TCP host and port.
    Tcp(String, u16),
}

impl Endpoint {
    /// Parse `unix:PATH` or `tcp:HOST:PORT`.
    pub fn parse(s: &str) -> Result<Endpoint, Error> {
        let bad = || Error::BadEndpoint(s.to_owned());
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(bad());
            }
            return Ok(Endpoint::Unix(path.to_owned()));
        }
        if let Some(rest) = s.strip_prefix("tcp:") {
            let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let port: u16 = port.parse().map_err(|_| bad())?;
            if host.is_empty() || port == 0 {
                return Err(bad());
            }
            return Ok(Endpoint::Tcp(host.to_owned(), port));
        }
        Err(bad())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix:{p}"),
            Endpoint::Tcp(h, p) if h.contains(':') => write!(f, "tcp:[{h}]:{p}"),
            Endpoint::Tcp(h, p) => write!(f, "tcp:{h}:{p}"),
        }
    }
}

/// The socket, either kind.
#[derive(Debug)]
enum Stream {
    #[cfg(unix)]
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.set_read_timeout(t),
            Stream::Tcp(s) => s.set_read_timeout(t),
        }
    }

    fn set_write_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.set_write_timeout(t),
            Stream::Tcp(s) => s.set_write_timeout(t),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

/// Largest single message accepted from the server; a bigger one (or a server that never
/// ends a message) is a protocol error rather than unbounded memory use.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Notifications kept for [`Client::next_notification`]; older ones are dropped first (a
/// watcher re-reads the state on any notification, so losing old ones loses nothing).
const MAX_QUEUED_NOTIFICATIONS: usize = 1024;

/// Finds where the first JSON object in a byte buffer ends, resuming where the last call
/// stopped so a large message arriving in pieces is scanned once.
#[derive(Debug, Default)]
struct Framer {
    /// Bytes of the buffer already scanned.
    pos: usize,
    /// Nesting depth of objects and arrays; 0 before the message starts.
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Framer {
    /// `Ok(Some(end))` when `buf[..end]` is a complete message (leading whitespace
    /// included), `Ok(None)` when more bytes are needed.
    fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>, String> {
        while let Some(&b) = buf.get(self.pos) {
            self.pos += 1;
            if self.depth == 0 {
                match b {
                    b' ' | b'\t' | b'\r' | b'\n' => continue,
                    b'{' => self.depth = 1,
                    other => {
                        return Err(format!(
                            "message does not start with '{{' (byte {other:#04x})"
                        ));
                    }
                }
            } else if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
            } else {
                match b {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            let end = self.pos;
                            *self = Framer::default();
                            return Ok(Some(end));
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(None)
    }
}

/// A request or notification the server sent without being asked, such as a monitor's
/// `update` (RFC 7047 §4.1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The method, e.g. `update`.
    pub method: String,
    /// Its `params`: for `update`, the monitor id and the table updates.
    pub params: Value,
}

/// A connection to an OVSDB server.
pub struct Client {
    endpoint: String,
    stream: Stream,
    /// Received bytes not yet returned as messages.
    buf: Vec<u8>,
    framer: Framer,
    notifications: VecDeque<Notification>,
    next_id: u64,
    timeout: Duration,
    broken: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("next_id", &self.next_id)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A request's id and method, for matching the reply.
struct Pending<'a> {
    id: u64,
    method: &'a str,
}

impl Client {
    /// Connect; `timeout` bounds the connection attempt and each later call.
    pub fn connect(endpoint: &Endpoint, timeout: Duration) -> Result<Client, Error> {
        let name = endpoint.to_string();
        let io = |context: &'static str| {
            let name = name.clone();
            move |source| Error::Io {
                endpoint: name,
                context,
                source,
            }
        };
        let stream = match endpoint {
            #[cfg(unix)]
            Endpoint::Unix(path) => Stream::Unix(UnixStream::connect(path).map_err(io("connect"))?),
            #[cfg(not(unix))]
            Endpoint::Unix(_) => {
                return Err(Error::BadEndpoint(name));
            }
            Endpoint::Tcp(host, port) => {
                use std::net::ToSocketAddrs;
                let addrs: Vec<_> = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(io("resolve"))?
                    .collect();
                let mut last = None;
                let mut found = None;
                for a in addrs {
                    match TcpStream::connect_timeout(&a, timeout) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                match found {
                    Some(s) => {
                        let _ = s.set_nodelay(true);
                        Stream::Tcp(s)
                    }
                    None => {
                        return Err(io("connect")(last.unwrap_or_else(|| {
                            std::io::Error::new(
                                std::io::ErrorKind::NotFound,
                                "host name resolved to no address",
                            )
                        })));
                    }
                }
            }
        };
        stream
            .set_write_timeout(Some(timeout))
            .map_err(io("configure"))?;
        Ok(Client {
            endpoint: name,
            stream,
            buf: Vec::new(),
            framer: Framer::default(),
            notifications: VecDeque::new(),
            next_id: 1,
            timeout,
            broken: false,
        })
    }

    /// The server address, as given.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The time limit of each call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Change the time limit of each call.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn protocol(&self, message: impl Into<String>) -> Error {
        Error::Protocol {
            endpoint: self.endpoint.clone(),
            message: message.into(),
        }
    }

    fn send(&mut self, msg: &Value) -> Result<(), Error> {
        let mut bytes = serde_json::to_vec(msg).map_err(|e| self.protocol(e.to_string()))?;
        bytes.push(b'\n');
        let r = self
            .stream
            .write_all(&bytes)
            .and_then(|()| self.stream.flush());
        r.map_err(|source| {
            self.broken = true;
            Error::Io {
                endpoint: self.endpoint.clone(),
                context: "send",
                source,
            }
        })
    }

    /// `false` once a call failed in a way that leaves the connection unusable (closed,
    /// timed out waiting for a reply, garbled); a new client must be connected then.
    pub fn is_usable(&self) -> bool {
        !self.broken
    }

    fn usable(&self) -> Result<(), Error> {
        if self.broken {
            Err(self.protocol("connection unusable after an earlier failure"))
        } else {
            Ok(())
        }
    }

    /// Send a request and wait for its reply's `result`, answering `echo` requests and
    /// queueing notifications meanwhile.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, Error> {
        self.usable()?;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.send(&json!({"method": method, "params": params, "id": id}))?;
        self.wait_reply(&Pending { id, method })
    }

    fn wait_reply(&mut self, pending: &Pending<'_>) -> Result<Value, Error> {
        // A timeout too large to represent means "no limit".
        let deadline = Instant::now().checked_add(self.timeout);
        loop {
            let Some(msg) = self.read_message(deadline)? else {
                // The reply may still come; the connection is given up rather than risk
                // reading it as the answer to something else.
                self.broken = true;
                return Err(Error::Timeout {
                    endpoint: self.endpoint.clone(),
                    what: format!("waiting for the reply to {}", pending.method),
                    after: self.timeout,
                });
            };
            if let Some(reply) = self.handle_message(msg, pending)? {
                return Ok(reply);
            }
        }
    }

    /// The next message, or `None` once `deadline` passes. A connection closed, a read
    /// error, or bytes that are not a JSON object make the client unusable.
    fn read_message(&mut self, deadline: Option<Instant>) -> Result<Option<Value>, Error> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.framer.scan(&self.buf) {
                Ok(Some(end)) => {
                    let message = self.buf.get(..end).unwrap_or_default();
                    let parsed = serde_json::from_slice(message);
                    self.buf.drain(..end.min(self.buf.len()));
                    return match parsed {
                        Ok(v) => Ok(Some(v)),
                        Err(e) => {
                            self.broken = true;
                            Err(self.protocol(format!("invalid JSON from server: {e}")))
                        }
                    };
                }
                Ok(None) if self.buf.len() > MAX_MESSAGE_BYTES => {
                    self.broken = true;
                    return Err(
                        self.protocol(format!("message larger than {MAX_MESSAGE_BYTES} bytes"))
                    );
                }
                Ok(None) => {}
                Err(m) => {
                    self.broken = true;
                    return Err(self.protocol(m));
                }
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                return Ok(None);
            }
            let io = |context, source| Error::Io {
                endpoint: self.endpoint.clone(),
                context,
                source,
            };
            self.stream
                .set_read_timeout(left)
                .map_err(|e| io("configure", e))?;
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.broken = true;
                    return Err(io(
                        "receive",
                        std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "connection closed by the server",
                        ),
                    ));
                }
                Ok(n) => self
                    .buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.broken = true;
                    return Err(io("receive", e));
                }
            }
        }
    }

    /// Returns `Some(result)` for our reply, `None` for anything else (handled).
    fn handle_message(
        &mut self,
        msg: Value,
        pending: &Pending<'_>,
    ) -> Result<Option<Value>, Error> {
        let Value::Object(mut m) = msg else {
            return Err(self.protocol("message is not a JSON object"));
        };
        if let Some(method) = m.get("method").and_then(Value::as_str) {
            let method = method.to_owned();
            let id = m.get("id").cloned().unwrap_or(Value::Null);
            let params = m.remove("params").unwrap_or_else(|| json!([]));
            if method == "echo" {
                if !id.is_null() {
                    self.send(&json!({"result": params, "error": null, "id": id}))?;
                }
            } else if id.is_null() {
                if self.notifications.len() >= MAX_QUEUED_NOTIFICATIONS {
                    self.notifications.pop_front();
                }
                self.notifications
                    .push_back(Notification { method, params });
            }
            // Other requests (lock replies, ...) are not ours to answer.
            return Ok(None);
        }
        let id_matches = m.get("id").and_then(Value::as_u64) == Some(pending.id);
        if !id_matches {
            return Ok(None);
        }
        match m.get("error") {
            None | Some(Value::Null) => {}
            Some(err) => {
                return Err(Error::Rpc {
                    endpoint: self.endpoint.clone(),
                    method: pending.method.to_owned(),
                    error: err.to_string(),
                });
            }
        }
        Ok(Some(m.remove("result").unwrap_or(Value::Null)))
    }

    /// The next notification (such as a monitor's `update`), waiting up to `wait` for one;
    /// `Ok(None)` when none came. Echo requests are answered meanwhile. A wait that ends
    /// without a notification leaves the connection usable.
    pub fn next_notification(&mut self, wait: Duration) -> Result<Option<Notification>, Error> {
        self.usable()?;
        let deadline = Instant::now().checked_add(wait);
        // Replies to nothing pending (ids never match) are skipped.
        let none = Pending {
            id: u64::MAX,
            method: "",
        };
        loop {
            if let Some(n) = self.notifications.pop_front() {
                return Ok(Some(n));
            }
            let Some(msg) = self.read_message(deadline)? else {
                return Ok(None);
            };
            self.handle_message(msg, &none)?;
        }
    }

    /// `monitor` (RFC 7047 §4.1.5): follow changes to `requests` (`{table: {"columns":
    /// [...]}}`) under the monitor id `id`. Returns the initial contents as table updates;
    /// later changes arrive as `update` notifications ([`Client::next_notification`]),
    /// whose params are `[id, table-updates]`.
    pub fn monitor(&mut self, db: &str, id: Value, requests: Value) -> Result<Value, Error> {
        self.call("monitor", json!([db, id, requests]))
    }

    /// `echo` (RFC 7047 §4.1.11): a liveness check.
    pub fn echo(&mut self) -> Result<(), Error> {
        let r = self.call("echo", json!(["flowwire"]))?;
        if r == json!(["flowwire"]) {
            Ok(())
        } else {
            Err(self.protocol(format!("echo returned {r}")))
        }
    }

    /// `get_schema` (RFC 7047 §4.1.2).
    pub fn get_schema(&mut self, db: &str) -> Result<Value, Error> {
        self.call("get_schema", json!([db]))
    }

    /// `transact` (RFC 7047 §4.1.3): run `ops` atomically. On success, one result per
    /// operation. If an operation fails, or the commit fails after all succeeded, the whole
    /// transaction is rolled back and [`Error::Ovsdb`] names the failing operation with
    /// OVSDB's `error` and `details`.
    pub fn transact(&mut self, db: &str, ops: Vec<Value>) -> Result<Vec<Value>, Error> {
        let names: Vec<String> = ops
            .iter()
            .map(|o| {
                o.get("op")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect();
        let mut params = Vec::with_capacity(ops.len().saturating_add(1));
        params.push(Value::String(db.to_owned()));
        params.extend(ops);
        let result = self.call("transact", Value::Array(params))?;
        check_transact_result(result, &names).map_err(|e| match e {
            CheckError::Ovsdb(o) => Error::Ovsdb(o),
            CheckError::Shape(m) => self.protocol(m),
        })
    }
}

enum CheckError {
    Ovsdb(OvsdbError),
    Shape(String),
}

fn check_transact_result(result: Value, names: &[String]) -> Result<Vec<Value>, CheckError> {
    let Value::Array(results) = result else {
        return Err(CheckError::Shape(format!(
            "transact result is not an array: {result}"
        )));
    };
    for (i, r) in results.iter().enumerate() {
        if let Some(err) = r.get("error") {
            let error = match err {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let details = r.get("details").map(|d| match d {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let op = names.get(i).cloned().unwrap_or_else(|| "commit".to_owned());
            return Err(CheckError::Ovsdb(OvsdbError {
                index: i,
                op,
                error,
                details,
            }));
        }
    }
    if results.len() < names.len() {
        return Err(CheckError::Shape(format!(
            "transact returned {} results for {} operations",
            results.len(),
            names.len()
        )));
    }
    Ok(results)
}

/// Builders for RFC 7047 §5.2 operations and §5.1 values.
pub mod op {
    use serde_json::{Map, Value, json};

    /// A condition `[column, function, value]`.
    pub fn cond(column: &str, function: &str, value: Value) -> Value {
        json!([column, function, value])
    }

    /// `["uuid", u]`.
    pub fn uuid(u: &str) -> Value {
        json!(["uuid", u])
    }

    /// `["named-uuid", name]`: a row inserted earlier in the same transaction.
    pub fn named_uuid(name: &str) -> Value {
        json!(["named-uuid", name])
    }

    /// `["set", [...]]`.
    pub fn set(items: Vec<Value>) -> Value {
        json!(["set", items])
    }

    /// The empty set `["set", []]`, which clears an optional column.
    pub fn empty_set() -> Value {
        json!(["set", []])
    }

    /// `insert` a row; `uuid_name` lets later operations refer to it with [`named_uuid`].
    pub fn insert(table: &str, row: Map<String, Value>, uuid_name: Option<&str>) -> Value {
        let mut o = json!({"op": "insert", "table": table, "row": row});
        if let (Some(n), Some(obj)) = (uuid_name, o.as_object_mut()) {
            obj.insert("uuid-name".into(), Value::String(n.to_owned()));
        }
        o
    }

    /// `update` the rows matching `where_`.
    pub fn update(table: &str, where_: Vec<Value>, row: Map<String, Value>) -> Value {
        json!({"op": "update", "table": table, "where": where_, "row": row})
    }

    /// `mutate` the rows matching `where_`; each mutation is `[column, mutator, value]`.
    pub fn mutate(table: &str, where_: Vec<Value>, mutations: Vec<Value>) -> Value {
        json!({"op": "mutate", "table": table, "where": where_, "mutations": mutations})
    }

    /// `select` `columns` (all when empty) of the rows matching `where_`.
    pub fn select(table: &str, where_: Vec<Value>, columns: &[&str]) -> Value {
        let mut o = json!({"op": "select", "table": table, "where": where_});
        if let (false, Some(obj)) = (columns.is_empty(), o.as_object_mut()) {
            obj.insert("columns".into(), json!(columns));
        }
        o
    }

    /// `delete` the rows matching `where_`.
    pub fn delete(table: &str, where_: Vec<Value>) -> Value {
        json!({"op": "delete", "table": table, "where": where_})
    }

    /// `wait` until the rows matching `where_`, projected on `columns`, are (`until` `==`)
    /// or are not (`!=`) exactly `rows`; `timeout_ms` 0 fails at once with `timed out`.
    pub fn wait(
        table: &str,
        where_: Vec<Value>,
        columns: &[&str],
        until: &str,
        rows: Vec<Value>,
        timeout_ms: u64,
    ) -> Value {
        json!({"op": "wait", "table": table, "where": where_, "columns": columns,
               "until": until, "rows": rows, "timeout": timeout_ms})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader as StdBufReader};
    use std::os::unix::net::UnixListener;

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("unix:/var/run/openvswitch/db.sock").unwrap(),
            Endpoint::Unix("/var/run/openvswitch/db.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp:127.0.0.1:6640").unwrap(),
            Endpoint::Tcp("127.0.0.1".into(), 6640)
        );
        assert_eq!(
            Endpoint::parse("tcp:[::1]:6640").unwrap().to_string(),
            "tcp:[::1]:6640"
        );
        for bad in [
            "",
            "unix:",
            "tcp:1.2.3.4",
            "tcp::1",
            "ssl:1.2.3.4:6640",
            "tcp:h:0",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn result_errors_carry_index_and_details() {
        let names = vec!["wait".to_owned(), "insert".to_owned()];
        let r = json!([{}, {"error": "constraint violation", "details": "bad"}]);
        let Err(CheckError::Ovsdb(e)) = check_transact_result(r, &names) else {
            panic!()
        };
        assert_eq!((e.index, e.op.as_str()), (1, "insert"));
        assert_eq!(e.details.as_deref(), Some("bad"));
        let r = json!([{}, {"uuid": ["uuid", "x"]}, {"error": "referential integrity violation"}]);
        let Err(CheckError::Ovsdb(e)) = check_transact_result(r, &names) else {
            panic!()
        };
        assert_eq!((e.index, e.op.as_str()), (2, "commit"));
        assert!(e.to_string().contains("referential integrity violation"));
        assert!(matches!(
            check_transact_result(json!([{}]), &names),
            Err(CheckError::Shape(_))
        ));
    }

    /// A fake server: answers with an echo request first, split into two writes, then the
    /// reply; checks that the client answers the echo.
    #[test]
    fn answers_echo_and_reads_fragmented_replies() {
        let dir = std::env::temp_dir().join(format!("fw-ovsdb-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let sock = dir.join("s.sock");
        let _ = std::fs::remove_file(&sock);
        let listener = UnixListener::bind(&sock).unwrap();
        let server = std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            let mut w = conn.try_clone().unwrap();
            let mut r = StdBufReader::new(conn);
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let req: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(req["method"], "transact");
            let id = req["id"].clone();
            w.write_all(br#"{"method":"echo","params":["x"],"id":"e1"}{"id":99,"res"#)
                .unwrap();
            w.flush().unwrap();
            std::thread::sleep(Duration::from_millis(50));
            w.write_all(br#"ult":[],"error":null}"#).unwrap();
            line.clear();
            r.read_line(&mut line).unwrap();
            let echo: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(echo, json!({"result":["x"],"error":null,"id":"e1"}));
            let reply = json!({"id": id, "result": [{"rows": []}], "error": null});
            w.write_all(reply.to_string().as_bytes()).unwrap();
            // Then hang: the next call must time out.
            line.clear();
            let _ = r.read_line(&mut line);
            std::thread::sleep(Duration::from_millis(400));
        });
        let mut c = Client::connect(
            &Endpoint::Unix(sock.to_string_lossy().into_owned()),
            Duration::from_secs(5),
        )
        .unwrap();
        let r = c
            .transact("Open_vSwitch", vec![op::select("Bridge", vec![], &[])])
            .unwrap();
        assert_eq!(r, vec![json!({"rows": []})]);
        c.set_timeout(Duration::from_millis(200));
        let e = c.echo().unwrap_err();
        assert!(matches!(e, Error::Timeout { .. }), "{e}");
        server.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn framer_finds_message_ends() {
        let mut f = Framer::default();
        let text = br#" {"a":"}{\"]","b":[1,{"c":[]}]}
{"x":1}"#;
        let end = f.scan(text).unwrap().unwrap();
        let first: Value = serde_json::from_slice(&text[..end]).unwrap();
        assert_eq!(first, json!({"a": "}{\"]", "b": [1, {"c": []}]}));
        let rest = &text[end..];
        assert_eq!(f.scan(rest).unwrap(), Some(rest.len()));
        // In pieces: nothing until the last byte, and the scan resumes.
        let mut f = Framer::default();
        let msg = br#"{"s":"a\\"}"#;
        let mut buf = Vec::new();
        for (i, b) in msg.iter().enumerate() {
            buf.push(*b);
            let r = f.scan(&buf).unwrap();
            assert_eq!(r.is_some(), i + 1 == msg.len(), "at {i}");
        }
        assert!(Framer::default().scan(b"  [1]").is_err());
        assert!(Framer::default().scan(b"null").is_err());
    }

    /// A fake server on a fresh socket; `serve` gets the accepted connection.
    fn fake_server(
        name: &str,
        serve: impl FnOnce(std::os::unix::net::UnixStream) + Send + 'static,
    ) -> (Client, std::thread::JoinHandle<()>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("fw-ovsdb-{name}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let sock = dir.join("s.sock");
        let _ = std::fs::remove_file(&sock);
        let listener = UnixListener::bind(&sock).unwrap();
        let server = std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            serve(conn);
        });
        let c = Client::connect(
            &Endpoint::Unix(sock.to_string_lossy().into_owned()),
            Duration::from_secs(5),
        )
        .unwrap();
        (c, server, dir)
    }

    /// Notifications are queued while waiting for a reply and returned in order; a wait
    /// that times out between messages leaves the connection usable.
    #[test]
    fn monitor_notifications_and_idle_waits() {
        let (mut c, server, dir) = fake_server("notify", |conn| {
            let mut w = conn.try_clone().unwrap();
            let mut r = StdBufReader::new(conn);
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let req: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(req["method"], "monitor");
            assert_eq!(req["params"][1], "m");
            let n = |k: u32| {
                json!({"method": "update", "params": ["m", {"T": {"k": k}}], "id": null})
                    .to_string()
            };
            let reply = json!({"id": req["id"], "result": {"T": {}}, "error": null});
            w.write_all(format!("{}{reply}", n(1)).as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            // Half a message, a pause longer than the client's wait, then the rest.
            let two = n(2);
            let (a, b) = two.split_at(10);
            w.write_all(a.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            w.write_all(b.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
        });
        let initial = c
            .monitor("Open_vSwitch", json!("m"), json!({"T": {"columns": ["k"]}}))
            .unwrap();
        assert_eq!(initial, json!({"T": {}}));
        let first = c.next_notification(Duration::ZERO).unwrap().unwrap();
        assert_eq!(first.method, "update");
        assert_eq!(first.params, json!(["m", {"T": {"k": 1}}]));
        let mut waits = 0;
        let second = loop {
            if let Some(n) = c.next_notification(Duration::from_millis(100)).unwrap() {
                break n;
            }
            waits += 1;
            assert!(waits < 20, "no second notification");
        };
        assert!(
            waits >= 2,
            "the pauses should have been seen as empty waits"
        );
        assert_eq!(second.params[1], json!({"T": {"k": 2}}));
        server.join().unwrap();
        // The server closed the connection: an error, and the client is unusable after.
        let e = c.next_notification(Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
        assert!(c.next_notification(Duration::ZERO).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn op_builders() {
        let mut row = serde_json::Map::new();
        row.insert("targets".into(), op::set(vec![json!("1.2.3.4:5")]));
        let o = op::insert("NetFlow", row, Some("nf"));
        assert_eq!(o["uuid-name"], "nf");
        assert_eq!(o["row"]["targets"], json!(["set", ["1.2.3.4:5"]]));
        let s = op::select(
            "Bridge",
            vec![op::cond("name", "==", json!("br-int"))],
            &["_uuid"],
        );
        assert_eq!(s["where"], json!([["name", "==", "br-int"]]));
        assert_eq!(s["columns"], json!(["_uuid"]));
        assert!(op::select("Bridge", vec![], &[]).get("columns").is_none());
        let d = op::delete("NetFlow", vec![op::cond("_uuid", "==", op::uuid("u"))]);
        assert_eq!(d["where"], json!([["_uuid", "==", ["uuid", "u"]]]));
        let w = op::wait(
            "Bridge",
            vec![],
            &["name"],
            "==",
            vec![json!({"name": "b"})],
            0,
        );
        assert_eq!(w["timeout"], 0);
        let m = op::mutate("Open_vSwitch", vec![], vec![json!(["next_cfg", "+=", 1])]);
        assert_eq!(m["mutations"], json!([["next_cfg", "+=", 1]]));
        assert_eq!(op::named_uuid("nf"), json!(["named-uuid", "nf"]));
        assert_eq!(op::empty_set(), json!(["set", []]));
    }
}
