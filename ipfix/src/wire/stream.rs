//! Byte-stream framing: IPFIX over TCP (RFC 7011 §10.3) and IPFIX files (RFC 5655), where
//! messages follow each other with nothing between them and a read may end anywhere,
//! including in the middle of a message.
//!
//! For a whole file in memory, [`MessageIter`](super::message::MessageIter) is enough. For a
//! stream read in chunks, [`StreamBuffer`] keeps the bytes of the message not complete yet.
//!
//! ```
//! use flowwire_ipfix::wire::stream::StreamBuffer;
//! let msg = [0, 10, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7];
//! let mut s = StreamBuffer::new();
//! s.push(&msg[..5]);
//! assert!(s.next_message().is_none()); // incomplete
//! s.push(&msg[5..]);
//! assert_eq!(s.next_message().unwrap().unwrap(), &msg[..]);
//! ```

use super::be16;
use super::message::{HEADER_LEN, VERSION};
use crate::error::Error;

/// Buffers a byte stream and hands out whole messages.
///
/// Memory is bounded by one message (at most 65,535 bytes) plus the last chunk pushed.
#[derive(Debug, Default, Clone)]
pub struct StreamBuffer {
    buf: Vec<u8>,
    start: usize,
    consumed: usize,
}

impl StreamBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        StreamBuffer::default()
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes buffered and not yet handed out.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The absolute stream offset of the next message.
    pub fn offset(&self) -> usize {
        self.consumed
    }

    /// The next complete message, if there is one. A header that is not IPFIX (version not
    /// 10, length below 16) means the stream is out of step: the error is returned and the
    /// buffered bytes are dropped.
    pub fn next_message(&mut self) -> Option<Result<&[u8], Error>> {
        let rest = self.buf.get(self.start..).unwrap_or_default();
        if rest.len() < 4 {
            return None;
        }
        let version = be16(rest, 0);
        let length = be16(rest, 2);
        let offset = self.consumed;
        if version != VERSION {
            self.drop_all();
            return Some(Err(Error::BadVersion { offset, version }));
        }
        let len = usize::from(length);
        if len < HEADER_LEN {
            let available = rest.len();
            self.drop_all();
            return Some(Err(Error::BadMessageLength {
                offset,
                length,
                available,
            }));
        }
        if rest.len() < len {
            return None;
        }
        let at = self.start;
        self.start += len;
        self.consumed += len;
        self.buf.get(at..at + len).map(Ok)
    }

    fn drop_all(&mut self) {
        self.consumed += self.buf.len() - self.start;
        self.buf.clear();
        self.start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_anywhere() {
        let one = [
            0u8, 10, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 1, 2, 3, 4,
        ];
        let mut stream = one.to_vec();
        stream.extend_from_slice(&one);
        stream.extend_from_slice(&one);
        for cut in 1..stream.len() {
            let mut s = StreamBuffer::new();
            let mut got = 0;
            for chunk in stream.chunks(cut) {
                s.push(chunk);
                while let Some(m) = s.next_message() {
                    assert_eq!(m.unwrap(), &one[..]);
                    got += 1;
                }
            }
            assert_eq!(got, 3, "chunk {cut}");
            assert_eq!(s.buffered(), 0);
        }
    }

    #[test]
    fn out_of_step() {
        let mut s = StreamBuffer::new();
        s.push(&[0, 9, 0, 20, 0]);
        assert!(matches!(
            s.next_message(),
            Some(Err(Error::BadVersion { .. }))
        ));
        assert_eq!(s.buffered(), 0);
        s.push(&[0, 10, 0, 3]);
        assert!(matches!(
            s.next_message(),
            Some(Err(Error::BadMessageLength { offset: 5, .. }))
        ));
    }
}
