//! XDR (RFC 4506) primitives as sFlow uses them: big-endian, every item padded to 4 bytes,
//! variable-length items prefixed by a 32-bit length or count.
//!
//! [`Reader`] is a bounds-checked cursor that reports absolute offsets; [`Writer`] writes into a
//! slice and records, instead of panicking, when the slice is too short. [`Xdr`] is implemented
//! by every owned record type of this crate and gives each of them `parse`, `buffer_len`,
//! `emit` and a [`bytes::BufMut`] convenience.

use std::net::{Ipv4Addr, Ipv6Addr};

use flowwire_record::MacAddr;

use crate::error::{Error, Result};

/// A bounds-checked big-endian cursor over a byte slice, with absolute offsets.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `data`, whose first byte is at absolute offset `base`.
    pub fn new(data: &'a [u8], base: usize) -> Self {
        Reader { data, pos: 0, base }
    }

    /// The absolute offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// The bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// Takes `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.data.get(self.pos..end)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(Error::Truncated {
                offset: self.offset(),
                needed: n,
                available: self.remaining(),
                what,
            }),
        }
    }

    /// Reads a big-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes(b.try_into().unwrap_or([0; 4])))
    }

    /// Reads a big-endian u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        let b = self.take(8, what)?;
        Ok(u64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
    }

    /// Reads a variable-length opaque (`opaque x<>`): length, bytes, padding to 4.
    pub fn opaque(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let at = self.offset();
        let len = self.u32(what)?;
        let padded = (len as usize).checked_add(3).map(|n| n & !3);
        match padded {
            Some(p) if p <= self.remaining() => {
                let b = self.take(p, what)?;
                Ok(b.get(..len as usize).unwrap_or(&[]))
            }
            _ => Err(Error::BadLength {
                offset: at,
                length: len,
                available: self.remaining(),
                what,
            }),
        }
    }

    /// Reads an array count and checks that `count * min_size` bytes can remain.
    pub fn count(&mut self, min_size: usize, what: &'static str) -> Result<u32> {
        let at = self.offset();
        let count = self.u32(what)?;
        let need = (count as usize).checked_mul(min_size.max(1));
        match need {
            Some(n) if n <= self.remaining() => Ok(count),
            _ => Err(Error::BadCount {
                offset: at,
                count,
                available: self.remaining(),
                what,
            }),
        }
    }
}

/// A writer into a byte slice. Writes past the end are not performed and are reported by
/// [`Writer::finish`], so emitting never panics.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    overflow: bool,
    invalid: Option<(&'static str, u64)>,
}

impl<'a> Writer<'a> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer {
            buf,
            pos: 0,
            overflow: false,
            invalid: None,
        }
    }

    /// Records that a value cannot be encoded; [`Writer::finish`] then fails with
    /// [`Error::OutOfRange`].
    pub fn invalid(&mut self, what: &'static str, value: u64) {
        self.invalid.get_or_insert((what, value));
    }

    /// Bytes written (or that would have been written).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Writes raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        let end = self.pos.saturating_add(b.len());
        match self.buf.get_mut(self.pos..end) {
            Some(d) => d.copy_from_slice(b),
            None => self.overflow = true,
        }
        self.pos = end;
    }

    /// Writes zero bytes.
    pub fn zeros(&mut self, n: usize) {
        let end = self.pos.saturating_add(n);
        match self.buf.get_mut(self.pos..end) {
            Some(d) => d.fill(0),
            None => self.overflow = true,
        }
        self.pos = end;
    }

    /// Writes a big-endian u32.
    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    /// Writes a big-endian u64.
    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_be_bytes());
    }

    /// Writes a variable-length opaque: length, bytes, zero padding to 4. A length that does
    /// not fit in 32 bits marks the writer as failed.
    pub fn opaque(&mut self, b: &[u8]) {
        let Ok(len) = u32::try_from(b.len()) else {
            self.invalid("opaque length", b.len() as u64);
            return;
        };
        self.u32(len);
        self.bytes(b);
        self.zeros(pad(b.len()));
    }

    /// Ok when everything fitted and exactly `expected` bytes were written.
    pub fn finish(self, expected: usize) -> Result<()> {
        if let Some((what, value)) = self.invalid {
            return Err(Error::OutOfRange { what, value });
        }
        if self.overflow || self.pos != expected {
            Err(Error::BufferTooSmall {
                required: expected.max(self.pos),
                remaining: self.buf.len(),
            })
        } else {
            Ok(())
        }
    }
}

/// Padding bytes that follow `len` bytes of opaque data.
pub const fn pad(len: usize) -> usize {
    (4 - (len & 3)) & 3
}

/// Length of a variable opaque on the wire: 4-byte length, data, padding.
pub const fn opaque_len(len: usize) -> usize {
    4 + len + pad(len)
}

/// A deterministic generator for property tests (xorshift).
#[cfg(test)]
#[derive(Debug, Clone)]
pub struct Gen(pub u64);

#[cfg(test)]
impl Gen {
    /// Next pseudo-random number.
    pub fn u64(&mut self) -> u64 {
        let mut x = self.0 | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.u64() % n.max(1)
    }
    /// A small length, 0..=n.
    pub fn len(&mut self, n: usize) -> usize {
        self.below(n as u64 + 1) as usize
    }
}

/// An XDR-encoded value of this crate: every owned record and sample type implements it.
///
/// `parse` decodes exactly the given bytes (anything left over is an error), `buffer_len` is
/// the encoded size and `emit` writes exactly `buffer_len` bytes.
pub trait Xdr: Sized {
    /// Reads the value from the cursor.
    fn read(r: &mut Reader<'_>) -> Result<Self>;
    /// Encoded length in bytes.
    fn xdr_len(&self) -> usize;
    /// Writes the value.
    fn write(&self, w: &mut Writer<'_>);
    /// A pseudo-random value, for property tests.
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self;

    /// Decodes a value that fills `bytes` exactly; `offset` is the absolute offset of
    /// `bytes[0]`, used in errors.
    fn parse(bytes: &[u8], offset: usize) -> Result<Self> {
        let mut r = Reader::new(bytes, offset);
        let v = Self::read(&mut r)?;
        if r.remaining() != 0 {
            return Err(Error::Trailing {
                offset: r.offset(),
                remaining: r.remaining(),
            });
        }
        Ok(v)
    }

    /// Encoded length in bytes (same as [`Xdr::xdr_len`]).
    fn buffer_len(&self) -> usize {
        self.xdr_len()
    }

    /// Writes exactly [`Xdr::buffer_len`] bytes at the start of `buf`.
    fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let len = self.xdr_len();
        let Some(out) = buf.get_mut(..len) else {
            return Err(Error::BufferTooSmall {
                required: len,
                remaining: buf.len(),
            });
        };
        let mut w = Writer::new(out);
        self.write(&mut w);
        w.finish(len)
    }

    /// Appends the encoding to a [`bytes::BufMut`], failing with
    /// [`Error::BufferTooSmall`] when it has too little room.
    fn emit_buf<B: bytes::BufMut>(&self, buf: &mut B) -> Result<()> {
        let len = self.xdr_len();
        if buf.remaining_mut() < len {
            return Err(Error::BufferTooSmall {
                required: len,
                remaining: buf.remaining_mut(),
            });
        }
        let mut tmp = vec![0u8; len];
        self.emit(&mut tmp)?;
        buf.put_slice(&tmp);
        Ok(())
    }

    /// The encoding as a new vector.
    fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut v = vec![0u8; self.xdr_len()];
        self.emit(&mut v)?;
        Ok(v)
    }
}

impl Xdr for u32 {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        r.u32("u32")
    }
    fn xdr_len(&self) -> usize {
        4
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.u32(*self)
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        g.u64() as u32
    }
}

impl Xdr for i32 {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(r.u32("i32")? as i32)
    }
    fn xdr_len(&self) -> usize {
        4
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.u32(*self as u32)
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        g.u64() as i32
    }
}

impl Xdr for u64 {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        r.u64("u64")
    }
    fn xdr_len(&self) -> usize {
        8
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.u64(*self)
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        g.u64()
    }
}

impl Xdr for f32 {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(f32::from_bits(r.u32("float")?))
    }
    fn xdr_len(&self) -> usize {
        4
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.u32(self.to_bits())
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        g.below(100_000) as f32 / 100.0
    }
}

impl Xdr for Ipv4Addr {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Ipv4Addr::from(r.u32("IPv4 address")?))
    }
    fn xdr_len(&self) -> usize {
        4
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.bytes(&self.octets())
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        Ipv4Addr::from(g.u64() as u32)
    }
}

impl Xdr for Ipv6Addr {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let b = r.take(16, "IPv6 address")?;
        let a: [u8; 16] = b.try_into().unwrap_or([0; 16]);
        Ok(Ipv6Addr::from(a))
    }
    fn xdr_len(&self) -> usize {
        16
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.bytes(&self.octets())
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        Ipv6Addr::from((u128::from(g.u64()) << 64) | u128::from(g.u64()))
    }
}

/// A MAC address is 6 bytes padded to 8 on the wire.
impl Xdr for MacAddr {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let b = r.take(8, "MAC address")?;
        let mut m = [0u8; 6];
        m.copy_from_slice(b.get(..6).unwrap_or(&[0; 6]));
        Ok(MacAddr(m))
    }
    fn xdr_len(&self) -> usize {
        8
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.bytes(&self.0);
        w.zeros(2);
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        let b = g.u64().to_be_bytes();
        MacAddr([b[0], b[1], b[2], b[3], b[4], b[5]])
    }
}

/// Fixed-length opaque (`opaque x[N]`), N a multiple of 4.
impl<const N: usize> Xdr for [u8; N] {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let b = r.take(N + pad(N), "fixed opaque")?;
        let mut a = [0u8; N];
        a.copy_from_slice(b.get(..N).unwrap_or(&[]));
        Ok(a)
    }
    fn xdr_len(&self) -> usize {
        N + pad(N)
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.bytes(self);
        w.zeros(pad(N));
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        let mut a = [0u8; N];
        for b in a.iter_mut() {
            *b = g.u64() as u8;
        }
        a
    }
}

/// Variable-length opaque data or string (`opaque x<>` / `string x<>`): the bytes exactly as
/// sent (strings are not required to be UTF-8 on the wire). With serde, valid UTF-8 is shown
/// as a JSON string, anything else as an array of byte values.
#[derive(Clone, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Opaque(pub Vec<u8>);

impl core::fmt::Debug for Opaque {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.as_str() {
            Some(s) => write!(f, "Opaque({s:?})"),
            None => {
                f.write_str("Opaque(0x")?;
                for b in &self.0 {
                    write!(f, "{b:02x}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl Opaque {
    /// The bytes as text, where they are UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl From<&str> for Opaque {
    fn from(s: &str) -> Self {
        Opaque(s.as_bytes().to_vec())
    }
}

impl Xdr for Opaque {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Opaque(r.opaque("opaque")?.to_vec()))
    }
    fn xdr_len(&self) -> usize {
        opaque_len(self.0.len())
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.opaque(&self.0)
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        let n = g.len(12);
        Opaque((0..n).map(|_| b'a' + g.below(26) as u8).collect())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Opaque {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(t) => s.serialize_str(t),
            None => s.collect_seq(self.0.iter()),
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Opaque {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Bytes(Vec<u8>),
        }
        Ok(match Either::deserialize(d)? {
            Either::Text(t) => Opaque(t.into_bytes()),
            Either::Bytes(b) => Opaque(b),
        })
    }
}

/// Variable-length array (`T x<>`): a count then the elements. The count is checked against
/// the bytes that remain before anything is read; nothing is allocated from it.
impl<T: Xdr> Xdr for Vec<T> {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let n = r.count(4, "array")?;
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(T::read(r)?);
        }
        Ok(v)
    }
    fn xdr_len(&self) -> usize {
        4 + self.iter().map(Xdr::xdr_len).sum::<usize>()
    }
    fn write(&self, w: &mut Writer<'_>) {
        match u32::try_from(self.len()) {
            Ok(n) => w.u32(n),
            Err(_) => w.invalid("array length", self.len() as u64),
        }
        for x in self {
            x.write(w);
        }
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        let n = g.len(3);
        (0..n).map(|_| T::generate(g)).collect()
    }
}

/// An optional tail: read only when bytes remain (used for fields later versions of a
/// structure appended, such as host_cpu's steal/guest times).
impl<T: Xdr> Xdr for Option<T> {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        if r.remaining() == 0 {
            Ok(None)
        } else {
            T::read(r).map(Some)
        }
    }
    fn xdr_len(&self) -> usize {
        self.as_ref().map_or(0, Xdr::xdr_len)
    }
    fn write(&self, w: &mut Writer<'_>) {
        if let Some(x) = self {
            x.write(w)
        }
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        if g.below(2) == 0 {
            None
        } else {
            Some(T::generate(g))
        }
    }
}

/// An sFlow `address`: a type (0 unknown, 1 IPv4, 2 IPv6) then the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Address {
    /// Type 0: no address.
    #[default]
    Unknown,
    /// Type 1.
    V4(Ipv4Addr),
    /// Type 2.
    V6(Ipv6Addr),
}

impl Address {
    /// The address as an [`std::net::IpAddr`], unless unknown.
    pub fn ip(self) -> Option<std::net::IpAddr> {
        match self {
            Address::Unknown => None,
            Address::V4(a) => Some(a.into()),
            Address::V6(a) => Some(a.into()),
        }
    }
}

impl From<std::net::IpAddr> for Address {
    fn from(a: std::net::IpAddr) -> Self {
        match a {
            std::net::IpAddr::V4(a) => Address::V4(a),
            std::net::IpAddr::V6(a) => Address::V6(a),
        }
    }
}

impl Xdr for Address {
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let at = r.offset();
        match r.u32("address type")? {
            0 => Ok(Address::Unknown),
            1 => Ok(Address::V4(Ipv4Addr::read(r)?)),
            2 => Ok(Address::V6(Ipv6Addr::read(r)?)),
            value => Err(Error::BadAddressType { offset: at, value }),
        }
    }
    fn xdr_len(&self) -> usize {
        match self {
            Address::Unknown => 4,
            Address::V4(_) => 8,
            Address::V6(_) => 20,
        }
    }
    fn write(&self, w: &mut Writer<'_>) {
        match self {
            Address::Unknown => w.u32(0),
            Address::V4(a) => {
                w.u32(1);
                a.write(w)
            }
            Address::V6(a) => {
                w.u32(2);
                a.write(w)
            }
        }
    }
    #[cfg(test)]
    fn generate(g: &mut Gen) -> Self {
        match g.below(3) {
            0 => Address::Unknown,
            1 => Address::V4(Ipv4Addr::generate(g)),
            _ => Address::V6(Ipv6Addr::generate(g)),
        }
    }
}

/// Defines an owned XDR structure: the struct (Debug, Clone, PartialEq, serde) and its
/// [`Xdr`] implementation reading and writing the fields in order.
macro_rules! xdr_struct {
    (
        $(#[$m:meta])*
        pub struct $name:ident {
            $( $(#[$fm:meta])* pub $f:ident : $t:ty ),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct $name {
            $( $(#[$fm])* pub $f: $t, )*
        }

        impl $crate::xdr::Xdr for $name {
            fn read(_r: &mut $crate::xdr::Reader<'_>) -> $crate::error::Result<Self> {
                Ok($name { $( $f: <$t as $crate::xdr::Xdr>::read(_r)?, )* })
            }
            fn xdr_len(&self) -> usize {
                0 $( + $crate::xdr::Xdr::xdr_len(&self.$f) )*
            }
            fn write(&self, _w: &mut $crate::xdr::Writer<'_>) {
                $( $crate::xdr::Xdr::write(&self.$f, _w); )*
            }
            #[cfg(test)]
            fn generate(_g: &mut $crate::xdr::Gen) -> Self {
                $name { $( $f: <$t as $crate::xdr::Xdr>::generate(_g), )* }
            }
        }
    };
}
pub(crate) use xdr_struct;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_padding_and_truncation() {
        let o = Opaque(b"abcde".to_vec());
        let v = o.to_bytes().unwrap();
        assert_eq!(v, [0, 0, 0, 5, b'a', b'b', b'c', b'd', b'e', 0, 0, 0]);
        assert_eq!(Opaque::parse(&v, 0).unwrap(), o);
        for n in 0..v.len() {
            assert!(Opaque::parse(&v[..n], 100).is_err());
        }
        let e = Opaque::parse(&[0xff, 0xff, 0xff, 0xff], 7).unwrap_err();
        assert!(matches!(e, Error::BadLength { offset: 7, .. }), "{e}");
    }

    #[test]
    fn array_count_is_checked_before_allocating() {
        let e = Vec::<u32>::parse(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1], 0).unwrap_err();
        assert!(matches!(
            e,
            Error::BadCount {
                count: 0x7fff_ffff,
                ..
            }
        ));
    }

    #[test]
    fn address_types() {
        let a = Address::V6("2001:db8::1".parse().unwrap());
        assert_eq!(Address::parse(&a.to_bytes().unwrap(), 0).unwrap(), a);
        assert!(matches!(
            Address::parse(&[0, 0, 0, 3], 4),
            Err(Error::BadAddressType {
                offset: 4,
                value: 3
            })
        ));
    }
}
