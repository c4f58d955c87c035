//! IPFIX over TCP (RFC 7011 §10.4): reassembles the messages of a byte stream, in a fixed
//! buffer.
//!
//! Over TCP, messages follow each other with nothing between them, and a read may end
//! anywhere, in the middle of a header included. Keep one [`StreamBuffer`] per connection:
//! read into it ([`read_from`](StreamBuffer::read_from) for a `std::io::Read`,
//! [`spare`](StreamBuffer::spare) and [`filled`](StreamBuffer::filled) to read into it
//! yourself, [`extend`](StreamBuffer::extend) for bytes you already have), then take every
//! complete message with [`next_message`](StreamBuffer::next_message), a slice of the
//! buffer, and hand it to [`Decoder::decode`](crate::Decoder::decode). The buffer is
//! 2 × 65,535 octets (the largest message twice), allocated once by
//! [`StreamBuffer::new`]; nothing allocates after that.
//!
//! A header that is not IPFIX (version not 10, or a length shorter than the 16-octet header)
//! means the stream is out of step: there is no way to find the next message, so the
//! connection should be closed.
//!
//! ```
//! use std::io::Read;
//! use flowwire_ipfix::record::{FlowRecord, Timestamp};
//! use flowwire_ipfix::{Decoder, Session, StreamBuffer};
//!
//! // Two messages: a template and two flows (62 octets), then a header alone (16 octets).
//! let first: &[u8] = &[
//!     0, 10, 0, 62, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 1, // header: length 62
//!     0, 2, 0, 20, 1, 0, 0, 3, 0, 8, 0, 4, 0, 1, 0, 4, 0, 82, 0xff, 0xff, // template 256
//!     1, 0, 0, 26, 192, 0, 2, 1, 0, 0, 5, 220, 4, b'e', b't', b'h', b'0', // data set 256
//!     192, 0, 2, 2, 0, 0, 0, 40, 0,
//! ];
//! let second: &[u8] = &[0, 10, 0, 16, 0x65, 0x53, 0xf1, 1, 0, 0, 0, 2, 0, 0, 0, 1];
//! let stream = [first, second].concat();
//! // A connection whose reads return 3 octets, then 60 (the rest of the first message and
//! // the first octet of the second), then the last 15.
//! let mut conn = (&stream[..3]).chain(&stream[3..63]).chain(&stream[63..]);
//!
//! let mut buf = StreamBuffer::new();
//! let mut session = Session::default();
//! let exporter = "192.0.2.9:4739".parse()?;
//! let (mut lengths, mut flows) = (Vec::new(), 0);
//! while buf.read_from(&mut conn)? > 0 {
//!     while let Some(msg) = buf.next_message() {
//!         let msg = msg?; // out of step for good: close the connection
//!         let now = Timestamp::from_unix_secs(1_700_000_000);
//!         session.decode(exporter, now, msg, &mut |_: &FlowRecord| flows += 1);
//!         lengths.push(msg.len());
//!     }
//! }
//! // End of stream: a message cut short would still be buffered.
//! assert_eq!((lengths, flows), (vec![62, 16], 2));
//! assert_eq!((buf.buffered(), buf.stream_offset()), (0, 78));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io;

use crate::error::Error;
use crate::wire::message::{HEADER_LEN, VERSION};

/// The largest message: its length field has 16 bits.
const MAX_MESSAGE_LEN: usize = u16::MAX as usize;
/// The buffer: room for the largest message twice.
const CAPACITY: usize = 2 * MAX_MESSAGE_LEN;

/// The bytes of one IPFIX-over-TCP connection between reads, handed out as whole messages.
///
/// A fixed buffer of 2 × 65,535 octets, allocated once by [`new`](StreamBuffer::new); it
/// never grows and nothing allocates after `new`. Once every waiting message is taken,
/// [`spare`](StreamBuffer::spare) has room for at least 65,535 more octets, so a loop that
/// reads, then takes messages until [`next_message`](StreamBuffer::next_message) returns
/// `None`, never stalls. See the [module documentation](self) for such a loop.
pub struct StreamBuffer {
    /// `CAPACITY` octets.
    buf: Box<[u8]>,
    /// The first octet not handed out; `start <= end <= buf.len()`.
    start: usize,
    /// One past the last octet written.
    end: usize,
    /// The position in the stream of `buf[start]`: octets handed out as messages.
    consumed: u64,
    /// The bad header once there is one: every later `next_message` returns it.
    error: Option<Error>,
}

impl StreamBuffer {
    /// An empty buffer for a new connection: allocates its 131,070 octets, once.
    pub fn new() -> Self {
        StreamBuffer {
            buf: vec![0; CAPACITY].into_boxed_slice(),
            start: 0,
            end: 0,
            consumed: 0,
            error: None,
        }
    }

    /// Where the next read goes: write into it, then call [`filled`](StreamBuffer::filled)
    /// with the number of octets written.
    ///
    /// Moves the octets not handed out yet to the front of the buffer first when fewer than
    /// 65,535 octets are free after them. It is empty only when the buffer is full of
    /// complete messages not taken yet (take them with
    /// [`next_message`](StreamBuffer::next_message)), or after a stream error (the
    /// connection is out of step and takes no more bytes).
    pub fn spare(&mut self) -> &mut [u8] {
        self.spare_for(MAX_MESSAGE_LEN)
    }

    /// Records that `n` octets were written at the start of [`spare`](StreamBuffer::spare)
    /// (call it right after writing, with nothing in between). `n` is clamped to the length
    /// of `spare()`.
    pub fn filled(&mut self, n: usize) {
        let room = if self.error.is_some() {
            0
        } else {
            self.buf.len().saturating_sub(self.end)
        };
        self.end += n.min(room);
    }

    /// Copies as much of `bytes` as fits and returns how many octets it took, for bytes
    /// that come from elsewhere (an async runtime's read, say).
    ///
    /// Takes fewer than `bytes.len()` only when the buffer is full: take the waiting
    /// messages with [`next_message`](StreamBuffer::next_message), then pass the rest again
    /// (once they are taken, at least 65,535 octets fit). Takes nothing after a stream error.
    ///
    /// ```
    /// # use flowwire_ipfix::StreamBuffer;
    /// # let mut chunk: &[u8] = &[0, 10, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    /// let mut buf = StreamBuffer::new();
    /// while !chunk.is_empty() {
    ///     let taken = buf.extend(chunk);
    ///     chunk = &chunk[taken..];
    ///     while let Some(msg) = buf.next_message() {
    ///         let msg = msg?; // out of step: close the connection
    ///         assert_eq!(msg.len(), 16); // decode it
    ///     }
    /// }
    /// # Ok::<(), flowwire_ipfix::Error>(())
    /// ```
    pub fn extend(&mut self, bytes: &[u8]) -> usize {
        let spare = self.spare_for(bytes.len());
        let n = spare.len().min(bytes.len());
        if let (Some(dst), Some(src)) = (spare.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.filled(n);
        n
    }

    /// Reads once from `r` into [`spare`](StreamBuffer::spare) and returns the number of
    /// octets read: `Ok(0)` means the end of the stream (a message cut short by it is left
    /// in [`buffered`](StreamBuffer::buffered)). A read interrupted by a signal is retried;
    /// other errors of `r` are returned as they are.
    ///
    /// Reads nothing and returns an error of kind [`io::ErrorKind::StorageFull`] when the
    /// buffer is full of messages not taken yet (take them with
    /// [`next_message`](StreamBuffer::next_message) after every read), and of kind
    /// [`io::ErrorKind::InvalidData`] after a stream error (`next_message` says which).
    pub fn read_from<R: io::Read + ?Sized>(&mut self, r: &mut R) -> io::Result<usize> {
        if self.error.is_some() {
            return Err(io::ErrorKind::InvalidData.into());
        }
        let spare = self.spare();
        if spare.is_empty() {
            return Err(io::ErrorKind::StorageFull.into());
        }
        let n = loop {
            match r.read(spare) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        self.filled(n);
        Ok(n)
    }

    /// The next complete message, header included, as a slice of the buffer (valid until
    /// the next call that changes the buffer); `None` when more octets are needed.
    ///
    /// The header is checked as soon as its first 4 octets are there. A version other than
    /// 10 ([`Error::BadVersion`]) or a length shorter than the 16-octet header
    /// ([`Error::BadMessageLength`], with the octets buffered from the header on as
    /// `available`) means the stream is out of step for good: the error, with `offset` the
    /// position of the bad header in the stream (counted from the connection's first octet),
    /// is returned by this and every later call, and the connection should be closed. Only
    /// the header is checked: hand the message to a decoder for the rest.
    pub fn next_message(&mut self) -> Option<Result<&[u8], Error>> {
        if let Some(e) = self.error {
            return Some(Err(e));
        }
        let unread = self.buf.get(self.start..self.end)?;
        let &[v0, v1, l0, l1] = unread.first_chunk::<4>()?;
        let version = u16::from_be_bytes([v0, v1]);
        let length = u16::from_be_bytes([l0, l1]);
        // The offset saturates where usize has 32 bits and the stream passed 4 GiB.
        let offset = usize::try_from(self.consumed).unwrap_or(usize::MAX);
        let error = if version != VERSION {
            Error::BadVersion { offset, version }
        } else if usize::from(length) < HEADER_LEN {
            Error::BadMessageLength {
                offset,
                length,
                available: unread.len(),
            }
        } else {
            let (message, _) = unread.split_at_checked(usize::from(length))?;
            self.start += message.len();
            self.consumed += u64::from(length);
            return Some(Ok(message));
        };
        self.error = Some(error);
        Some(Err(error))
    }

    /// Octets held and not handed out yet as messages: a message not complete yet, or, at
    /// the end of a stream, one cut short (and after a stream error, the octets from the
    /// bad header on).
    pub fn buffered(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Octets of the stream handed out as messages so far: the position in the stream of
    /// the next message (or of the bad header after a stream error).
    pub fn stream_offset(&self) -> u64 {
        self.consumed
    }

    /// `spare()`, moving the unread octets to the front first when fewer than `want` octets
    /// are free after them and some are free before them.
    fn spare_for(&mut self, want: usize) -> &mut [u8] {
        if self.error.is_some() {
            return &mut [];
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0
            && self.buf.len().saturating_sub(self.end) < want
            && self.start <= self.end
            && self.end <= self.buf.len()
        {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        self.buf.get_mut(self.end..).unwrap_or_default()
    }
}

impl Default for StreamBuffer {
    /// [`StreamBuffer::new`].
    fn default() -> Self {
        StreamBuffer::new()
    }
}

impl fmt::Debug for StreamBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBuffer")
            .field("buffered", &self.buffered())
            .field("stream_offset", &self.consumed)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    /// A message: version 10, its length, export time, sequence number, domain, then `body`.
    fn message(export_time: u32, sequence: u32, domain: u32, body: &[u8]) -> Vec<u8> {
        let length = u16::try_from(HEADER_LEN + body.len()).unwrap();
        let mut m = Vec::with_capacity(usize::from(length));
        for field in [
            VERSION.to_be_bytes().as_slice(),
            &length.to_be_bytes(),
            &export_time.to_be_bytes(),
            &sequence.to_be_bytes(),
            &domain.to_be_bytes(),
            body,
        ] {
            m.extend_from_slice(field);
        }
        m
    }

    /// A body of `n` octets, all different from their neighbours.
    fn body(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    }

    /// Takes every waiting message; true when the stream is out of step.
    fn drain(s: &mut StreamBuffer, got: &mut Vec<Vec<u8>>) -> bool {
        while let Some(m) = s.next_message() {
            match m {
                Ok(m) => got.push(m.to_vec()),
                Err(_) => return true,
            }
        }
        false
    }

    /// Feeds `chunks` through `extend`, taking the messages after each, until the end or a
    /// stream error; checks that it never stalls and that what was handed out plus what is
    /// buffered is what was fed.
    fn via_extend<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> (Vec<Vec<u8>>, StreamBuffer) {
        let mut s = StreamBuffer::new();
        let (mut got, mut fed) = (Vec::new(), 0);
        for mut chunk in chunks {
            while !chunk.is_empty() {
                let n = s.extend(chunk);
                assert!(n > 0, "extend took nothing with the messages taken");
                fed += n;
                chunk = &chunk[n..];
                let stuck = drain(&mut s, &mut got);
                let out: usize = got.iter().map(Vec::len).sum();
                assert_eq!(out + s.buffered(), fed);
                assert_eq!(s.stream_offset(), out as u64);
                if stuck {
                    return (got, s);
                }
            }
        }
        (got, s)
    }

    /// Reads `r` through `read_from`, taking the messages after each read, until its end or
    /// a stream error.
    fn via_read(mut r: impl Read) -> (Vec<Vec<u8>>, StreamBuffer) {
        let mut s = StreamBuffer::new();
        let mut got = Vec::new();
        loop {
            assert!(s.spare().len() >= MAX_MESSAGE_LEN);
            if s.read_from(&mut r).unwrap() == 0 || drain(&mut s, &mut got) {
                break;
            }
        }
        (got, s)
    }

    /// A reader handing out its bytes in reads of the given sizes, in turn.
    struct Chunked<'a> {
        data: &'a [u8],
        sizes: &'a [usize],
        next: usize,
    }

    impl Read for Chunked<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes[self.next % self.sizes.len()].max(1);
            self.next += 1;
            let n = size.min(out.len()).min(self.data.len());
            let (head, rest) = self.data.split_at(n);
            out[..n].copy_from_slice(head);
            self.data = rest;
            Ok(n)
        }
    }

    fn cut<'a>(data: &'a [u8], sizes: &'a [usize]) -> impl Iterator<Item = &'a [u8]> {
        let mut rest = data;
        sizes.iter().cycle().map_while(move |&size| {
            let (chunk, tail) = rest.split_at(size.max(1).min(rest.len()));
            rest = tail;
            (!chunk.is_empty()).then_some(chunk)
        })
    }

    #[test]
    fn every_split_into_two_and_three_reads() {
        let msgs = [
            message(1, 0, 7, &[]),
            message(2, 0, 7, &body(5, 1)),
            message(3, 9, 8, &body(24, 2)),
        ];
        let stream = msgs.concat();
        for i in 0..=stream.len() {
            for j in i..=stream.len() {
                let (a, b, c) = (&stream[..i], &stream[i..j], &stream[j..]);
                let (got, s) = via_extend([a, b, c]);
                assert_eq!(got, msgs, "extend, cut at {i} and {j}");
                assert_eq!((s.buffered(), s.stream_offset()), (0, stream.len() as u64));
                let (got, s) = via_read(a.chain(b).chain(c));
                assert_eq!(got, msgs, "read_from, cut at {i} and {j}");
                assert_eq!(s.buffered(), 0);
            }
        }
    }

    #[test]
    fn message_cut_by_the_end_of_the_stream_stays_buffered() {
        let m = message(1, 2, 3, &body(10, 0));
        let (got, mut s) = via_read(&m[..20]);
        assert!(got.is_empty());
        assert_eq!((s.buffered(), s.stream_offset()), (20, 0));
        assert!(s.next_message().is_none());
    }

    #[test]
    fn bad_version_is_reported_at_its_offset_and_stays() {
        let good = message(1, 0, 1, &body(4, 0));
        let mut s = StreamBuffer::new();
        assert_eq!(s.extend(&good), 20);
        assert_eq!(s.extend(&[0, 9, 0]), 3);
        assert_eq!(s.next_message().unwrap().unwrap(), &good[..]);
        assert!(
            s.next_message().is_none(),
            "3 octets of a header: not checked yet"
        );
        assert_eq!(s.extend(&[20]), 1);
        let e = Error::BadVersion {
            offset: 20,
            version: 9,
        };
        for _ in 0..3 {
            assert_eq!(s.next_message(), Some(Err(e)));
        }
        // Out of step for good: no more bytes taken, reads refused.
        assert!(s.spare().is_empty());
        assert_eq!(s.extend(&good), 0);
        s.filled(10);
        let err = s.read_from(&mut &good[..]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(s.next_message(), Some(Err(e)));
        assert_eq!((s.buffered(), s.stream_offset()), (4, 20));
        assert_eq!(e.offset(), Some(20));
    }

    #[test]
    fn length_shorter_than_the_header_is_reported_at_its_offset_and_stays() {
        for length in [0u16, 1, 15] {
            let mut stream = [message(1, 0, 1, &[]), message(1, 0, 1, &body(3, 0))].concat();
            stream.extend_from_slice(&[0, 10]);
            stream.extend_from_slice(&length.to_be_bytes());
            stream.extend_from_slice(&body(30, 0)); // the rest of a would-be message
            let (got, mut s) = via_read(&stream[..]);
            assert_eq!(got.len(), 2);
            let e = Error::BadMessageLength {
                offset: 35,
                length,
                available: 34,
            };
            assert_eq!(s.next_message(), Some(Err(e)));
            assert_eq!(s.next_message(), Some(Err(e)));
            assert_eq!((s.buffered(), s.stream_offset()), (34, 35));
        }
    }

    #[test]
    fn maximal_messages_pass_through() {
        let max = message(7, 1, 2, &body(MAX_MESSAGE_LEN - HEADER_LEN, 5));
        assert_eq!(max.len(), 65_535);
        let two = [max.clone(), max.clone()].concat();
        let mut s = StreamBuffer::new();
        assert_eq!(s.spare().len(), CAPACITY);
        // Two fill the buffer exactly; nothing more fits until one is taken.
        assert_eq!(s.extend(&two), CAPACITY);
        assert!(s.spare().is_empty());
        assert_eq!(s.extend(&[0]), 0);
        let err = s.read_from(&mut &[0u8][..]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(s.next_message().unwrap().unwrap(), &max[..]);
        assert_eq!(s.spare().len(), MAX_MESSAGE_LEN);
        assert_eq!(s.next_message().unwrap().unwrap(), &max[..]);
        assert!(s.next_message().is_none());
        assert_eq!((s.buffered(), s.stream_offset()), (0, 2 * 65_535));
        assert_eq!(s.spare().len(), CAPACITY);
        // And one octet at a time, and in reads of 1,000.
        let (got, _) = via_extend(max.chunks(1));
        assert_eq!(got, std::slice::from_ref(&max));
        let (got, _) = via_read(Chunked {
            data: &two,
            sizes: &[1_000],
            next: 0,
        });
        assert_eq!(got, [max.clone(), max]);
    }

    #[test]
    fn long_streams_wrap_around_the_buffer() {
        let sizes = [65_535, 16, 40_000, 17, 65_535, 65_534, 20, 30_000];
        let msgs: Vec<_> = (0..40)
            .map(|i| {
                message(
                    i,
                    i,
                    1,
                    &body(sizes[i as usize % sizes.len()] - HEADER_LEN, i as u8),
                )
            })
            .collect();
        let mut stream = msgs.concat();
        let total = stream.len();
        stream.extend_from_slice(&[0, 10, 0, 3]);
        for chunk in [1_000, 9_999, 65_535, 65_536, 131_070, 200_000] {
            let (got, mut s) = via_extend(stream.chunks(chunk));
            assert_eq!(got, msgs, "extend, chunks of {chunk}");
            let e = Error::BadMessageLength {
                offset: total,
                length: 3,
                available: 4,
            };
            assert_eq!(s.next_message(), Some(Err(e)));
            let (got, mut s) = via_read(Chunked {
                data: &stream,
                sizes: &[chunk],
                next: 0,
            });
            assert_eq!(got, msgs, "read_from, reads of {chunk}");
            assert_eq!(s.next_message(), Some(Err(e)));
            assert_eq!(s.stream_offset(), total as u64);
        }
    }

    #[test]
    fn filled_is_clamped_to_spare() {
        let mut s = StreamBuffer::new();
        let room = s.spare().len();
        s.filled(usize::MAX);
        assert_eq!(s.buffered(), room);
        assert!(s.spare().is_empty());
        s.filled(1);
        assert_eq!(s.buffered(), room);
    }

    #[test]
    fn interrupted_reads_are_retried() {
        struct Interrupting<'a>(&'a [u8], bool);
        impl Read for Interrupting<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                self.1 = !self.1;
                if self.1 {
                    return Err(io::ErrorKind::Interrupted.into());
                }
                self.0.read(out)
            }
        }
        let m = message(1, 2, 3, &[]);
        let (got, _) = via_read(Interrupting(&m, false));
        assert_eq!(got, [m]);
        let mut s = StreamBuffer::new();
        let err = s.read_from(&mut Chunked {
            data: &[],
            sizes: &[1],
            next: 0,
        });
        assert_eq!(err.unwrap(), 0);
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<StreamBuffer>();
        assert!(format!("{:?}", StreamBuffer::default()).starts_with("StreamBuffer"));
    }

    fn arb_message() -> impl Strategy<Value = Vec<u8>> {
        let body = prop_oneof![
            6 => vec(any::<u8>(), 0..64),
            3 => vec(any::<u8>(), 0..4_096),
            1 => (0..=MAX_MESSAGE_LEN - HEADER_LEN, any::<u8>()).prop_map(|(n, seed)| body(n, seed)),
            1 => any::<u8>().prop_map(|seed| body(MAX_MESSAGE_LEN - HEADER_LEN, seed)),
        ];
        (any::<u32>(), any::<u32>(), any::<u32>(), body)
            .prop_map(|(time, seq, domain, body)| message(time, seq, domain, &body))
    }

    fn arb_sizes() -> impl Strategy<Value = Vec<usize>> {
        let size = prop_oneof![1usize..20, 1usize..2_000, 1usize..140_000];
        vec(size, 1..12)
    }

    proptest! {
        #[test]
        fn random_messages_in_random_chunks_come_back(
            msgs in vec(arb_message(), 0..8),
            sizes in arb_sizes(),
        ) {
            let stream = msgs.concat();
            let (got, s) = via_extend(cut(&stream, &sizes));
            prop_assert_eq!(&got, &msgs);
            prop_assert_eq!((s.buffered(), s.stream_offset()), (0, stream.len() as u64));
            let (got, s) = via_read(Chunked { data: &stream, sizes: &sizes, next: 0 });
            prop_assert_eq!(&got, &msgs);
            prop_assert_eq!((s.buffered(), s.stream_offset()), (0, stream.len() as u64));
        }
    }
}
