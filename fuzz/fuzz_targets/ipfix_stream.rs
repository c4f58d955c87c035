//! IPFIX over TCP: `flowwire_ipfix::StreamBuffer` reassembles any byte stream, cut anywhere.
//!
//! The first input byte says how the stream is fed (bit 7: `extend`, or `read_from` a reader
//! over the chunk) and how many of the next bytes are chunk sizes (low 3 bits + 1); each of
//! those bytes `b` is a chunk of 1 + b² octets (1 to 65,026), used in turn; the rest of the
//! input is the stream. After every feed every complete message is taken with
//! `next_message` and decoded by a `Session` (pending data on); the first stream error ends
//! the run. Checks:
//!
//! - every feed takes at least one octet (the waiting messages were taken: no stall);
//! - each message is the next octets of the stream, and the session decodes it as exactly
//!   one message;
//! - the octets handed out as messages plus `buffered()` are the octets fed, and
//!   `stream_offset()` is the octets handed out;
//! - a stream error is at the offset of the first octet not handed out, is the next header's
//!   fault (version not 10 or length under 16), and comes back on the next call.
#![no_main]

use std::hint::black_box;

use flowwire_ipfix::record::codec::{DecodeError, OptionsRecord, Sink, TemplateEvent};
use flowwire_ipfix::record::pending::PendingLimits;
use flowwire_ipfix::record::{FlowRecord, Timestamp};
use flowwire_ipfix::session::{Session, SessionConfig};
use flowwire_ipfix::{Decoder, Error, StreamBuffer};
use libfuzzer_sys::fuzz_target;

struct Blackhole;

impl Sink for Blackhole {
    fn flow(&mut self, flow: &FlowRecord) {
        black_box(flow);
    }
    fn options(&mut self, options: &OptionsRecord) {
        black_box(options);
    }
    fn error(&mut self, error: &DecodeError<'_>) {
        black_box(error.offset());
    }
    fn template(&mut self, event: &TemplateEvent) {
        black_box(event);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (sizes, stream) = rest.split_at(usize::from((mode & 7) + 1).min(rest.len()));
    let use_read = mode & 0x80 != 0;
    if sizes.is_empty() {
        return;
    }

    let exporter = "192.0.2.1:4739".parse().unwrap();
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let mut session = Session::new(SessionConfig {
        pending: Some(PendingLimits::default()),
        ..SessionConfig::default()
    });
    let mut buf = StreamBuffer::new();
    let (mut fed, mut out) = (0usize, 0usize);
    let mut rest = stream;
    for &b in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let size = 1 + usize::from(b) * usize::from(b);
        let (mut chunk, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        while !chunk.is_empty() {
            let n = if use_read {
                let before = chunk.len();
                let n = buf.read_from(&mut chunk).expect("read from a slice");
                assert_eq!(n, before - chunk.len());
                n
            } else {
                let n = buf.extend(chunk);
                chunk = &chunk[n..];
                n
            };
            assert!(n > 0, "no room with every message taken");
            fed += n;
            loop {
                match buf.next_message() {
                    None => break,
                    Some(Ok(m)) => {
                        assert_eq!(m, &stream[out..out + m.len()], "message at {out}");
                        out += m.len();
                        let summary = session.decode(exporter, now, m, &mut Blackhole);
                        assert_eq!(summary.messages, 1, "message at {}", out - m.len());
                    }
                    Some(Err(e)) => {
                        assert_eq!(e.offset(), Some(out), "{e}");
                        let header = &stream[out..out + 4];
                        match e {
                            Error::BadVersion { version, .. } => {
                                assert_ne!(version, 10);
                                assert_eq!(version.to_be_bytes(), header[..2]);
                            }
                            Error::BadMessageLength { length, .. } => {
                                assert!(length < 16);
                                assert_eq!(length.to_be_bytes(), header[2..]);
                            }
                            other => panic!("unexpected stream error {other}"),
                        }
                        assert_eq!(buf.next_message(), Some(Err(e)), "the error stays");
                        assert_eq!(out + buf.buffered(), fed);
                        assert_eq!(buf.extend(b"more"), 0);
                        return;
                    }
                }
            }
            assert_eq!(out + buf.buffered(), fed, "handed out + buffered = fed");
            assert_eq!(buf.stream_offset(), out as u64);
        }
    }
    assert_eq!(fed, stream.len());
});
