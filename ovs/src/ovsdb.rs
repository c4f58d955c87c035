//! A small, blocking OVSDB JSON-RPC client (RFC 7047) over a unix socket or TCP.
//!
//! Only what a configurator needs: [`Client::transact`] (with [`op`] builders for `insert`,
//! `update`, `mutate`, `select`, `delete` and `wait`, and `named-uuid` references),
//! [`Client::get_schema`], answering the server's `echo` requests while waiting, a time limit
//! on every call, and errors that carry OVSDB's `error` and `details`
//! ([`Error::Ovsdb`]).
//!
//! Messages are read with an incremental JSON stream parser, so replies may arrive in any
//! number of pieces and several messages may share one read.
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

use std::fmt;
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    fn try_clone(&self) -> std::io::Result<Stream> {
        Ok(match self {
            #[cfg(unix)]
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
        })
    }

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

/// Counts the bytes read since the client last reset the counter, and fails the read once
/// the count passes [`MAX_MESSAGE_BYTES`].
#[derive(Debug)]
struct Limited {
    inner: Stream,
    received: Arc<AtomicUsize>,
}

impl Read for Limited {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.received.load(Ordering::Relaxed) > MAX_MESSAGE_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("message larger than {MAX_MESSAGE_BYTES} bytes"),
            ));
        }
        let n = self.inner.read(buf)?;
        self.received.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }
}

type Messages =
    serde_json::StreamDeserializer<'static, serde_json::de::IoRead<BufReader<Limited>>, Value>;

/// A connection to an OVSDB server.
pub struct Client {
    endpoint: String,
    writer: Stream,
    reader: Stream,
    messages: Messages,
    received: Arc<AtomicUsize>,
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
        let reader = stream.try_clone().map_err(io("configure"))?;
        let reader2 = stream.try_clone().map_err(io("configure"))?;
        let received = Arc::new(AtomicUsize::new(0));
        let limited = Limited {
            inner: reader2,
            received: Arc::clone(&received),
        };
        let messages = serde_json::Deserializer::from_reader(BufReader::new(limited)).into_iter();
        Ok(Client {
            endpoint: name,
            writer: stream,
            reader,
            messages,
            received,
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
            .writer
            .write_all(&bytes)
            .and_then(|()| self.writer.flush());
        r.map_err(|source| {
            self.broken = true;
            Error::Io {
                endpoint: self.endpoint.clone(),
                context: "send",
                source,
            }
        })
    }

    /// Send a request and wait for its reply's `result`, answering `echo` requests and
    /// skipping notifications meanwhile.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, Error> {
        if self.broken {
            return Err(self.protocol("connection unusable after an earlier failure"));
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.send(&json!({"method": method, "params": params, "id": id}))?;
        self.wait_reply(&Pending { id, method })
    }

    fn wait_reply(&mut self, pending: &Pending<'_>) -> Result<Value, Error> {
        // A timeout too large to represent means "no limit".
        let deadline = Instant::now().checked_add(self.timeout);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                self.broken = true;
                return Err(Error::Timeout {
                    endpoint: self.endpoint.clone(),
                    what: format!("waiting for the reply to {}", pending.method),
                    after: self.timeout,
                });
            }
            self.received.store(0, Ordering::Relaxed);
            self.reader
                .set_read_timeout(left)
                .map_err(|source| Error::Io {
                    endpoint: self.endpoint.clone(),
                    context: "configure",
                    source,
                })?;
            let msg = match self.messages.next() {
                Some(Ok(v)) => v,
                Some(Err(e)) => {
                    self.broken = true;
                    if let Some(kind) = e.io_error_kind() {
                        if matches!(
                            kind,
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) {
                            return Err(Error::Timeout {
                                endpoint: self.endpoint.clone(),
                                what: format!("waiting for the reply to {}", pending.method),
                                after: self.timeout,
                            });
                        }
                        return Err(Error::Io {
                            endpoint: self.endpoint.clone(),
                            context: "receive",
                            source: std::io::Error::new(kind, e.to_string()),
                        });
                    }
                    return Err(self.protocol(format!("invalid JSON from server: {e}")));
                }
                None => {
                    self.broken = true;
                    return Err(Error::Io {
                        endpoint: self.endpoint.clone(),
                        context: "receive",
                        source: std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "connection closed by the server",
                        ),
                    });
                }
            };
            if let Some(reply) = self.handle_message(msg, pending)? {
                return Ok(reply);
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
            if method == "echo" {
                let id = m.get("id").cloned().unwrap_or(Value::Null);
                if !id.is_null() {
                    let params = m.remove("params").unwrap_or_else(|| json!([]));
                    self.send(&json!({"result": params, "error": null, "id": id}))?;
                }
            }
            // Other requests/notifications (update, locked, ...) are not ours to handle.
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
