//! Typed values of information elements: [`Value`] borrows from the message it was decoded
//! from, [`OwnedValue`] keeps it for storage. Both decode and encode every abstract data type
//! of RFC 7011 §6.1, including reduced-size encoding (§6.2).

use core::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::data_type::DataType;
use crate::time::{MacAddr, NtpTimestamp, Timestamp};

/// A value that cannot be decoded from or encoded into the given octets.
///
/// These errors carry no byte offset: a codec knows where the field starts and adds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The field's length is not one this data type may be encoded with.
    #[error("a {data_type} value cannot be {len} octets long")]
    BadLength {
        /// The element's data type.
        data_type: DataType,
        /// The field length found.
        len: usize,
    },
    /// A boolean octet that is neither 1 (true) nor 2 (false).
    #[error("boolean octet must be 1 or 2, found {value}")]
    InvalidBoolean {
        /// The octet found.
        value: u8,
    },
    /// The value is too large for the reduced size it is being encoded into.
    #[error("{data_type} value does not fit in {len} octets")]
    DoesNotFit {
        /// The value's data type.
        data_type: DataType,
        /// The length it was to be encoded into.
        len: usize,
    },
}

/// A decoded information-element value that borrows variable-length content from the
/// message it came from. `Copy`, and never allocates.
///
/// Strings are kept as the octets sent ([`Value::as_str`] checks UTF-8), so that decoding and
/// encoding again gives back the same bytes even when an exporter sends invalid UTF-8.
/// Lists (RFC 6313) are kept as raw bytes; the IPFIX codec interprets them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// octetArray.
    OctetArray(&'a [u8]),
    /// unsigned8.
    Unsigned8(u8),
    /// unsigned16.
    Unsigned16(u16),
    /// unsigned32.
    Unsigned32(u32),
    /// unsigned64.
    Unsigned64(u64),
    /// unsigned256, big-endian, zero-extended to 32 octets.
    Unsigned256([u8; 32]),
    /// signed8.
    Signed8(i8),
    /// signed16.
    Signed16(i16),
    /// signed32.
    Signed32(i32),
    /// signed64.
    Signed64(i64),
    /// float32.
    Float32(f32),
    /// float64.
    Float64(f64),
    /// boolean.
    Boolean(bool),
    /// macAddress.
    MacAddress(MacAddr),
    /// string: the octets as sent.
    String(&'a [u8]),
    /// dateTimeSeconds: seconds since the Unix epoch.
    DateTimeSeconds(u32),
    /// dateTimeMilliseconds: milliseconds since the Unix epoch.
    DateTimeMilliseconds(u64),
    /// dateTimeMicroseconds, NTP format.
    DateTimeMicroseconds(NtpTimestamp),
    /// dateTimeNanoseconds, NTP format.
    DateTimeNanoseconds(NtpTimestamp),
    /// ipv4Address.
    Ipv4Address(Ipv4Addr),
    /// ipv6Address.
    Ipv6Address(Ipv6Addr),
    /// basicList, raw (RFC 6313 §4.5.1).
    BasicList(&'a [u8]),
    /// subTemplateList, raw (RFC 6313 §4.5.2).
    SubTemplateList(&'a [u8]),
    /// subTemplateMultiList, raw (RFC 6313 §4.5.3).
    SubTemplateMultiList(&'a [u8]),
}

#[inline]
fn be_uint(bytes: &[u8]) -> u64 {
    // The natural widths in one load each; reduced sizes byte by byte.
    match *bytes {
        [a] => u64::from(a),
        [a, b] => u64::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] => u64::from(u32::from_be_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => u64::from_be_bytes([a, b, c, d, e, f, g, h]),
        _ => bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    }
}

#[inline]
fn be_int(bytes: &[u8]) -> i64 {
    // Sign-extend from the first octet (RFC 7011 §6.2: reduced-size signed values keep the sign).
    let negative = bytes.first().is_some_and(|&b| b & 0x80 != 0);
    let init: i64 = if negative { -1 } else { 0 };
    bytes.iter().fold(init, |acc, &b| (acc << 8) | i64::from(b))
}

/// Widens a float32 to float64 bit-exactly, NaN payloads included (a hardware conversion
/// would set the quiet bit of a signalling NaN, and re-encoding would change the bytes).
fn widen(f: f32) -> f64 {
    if !f.is_nan() {
        return f64::from(f);
    }
    let b = f.to_bits();
    let sign = u64::from(b >> 31) << 63;
    let payload = u64::from(b & 0x007f_ffff) << 29;
    f64::from_bits(sign | (0x7ff << 52) | payload)
}

/// The float32 that [`widen`]s to exactly `v`, if there is one.
fn narrow(v: f64) -> Option<f32> {
    if v.is_nan() {
        let b = v.to_bits();
        if b & ((1 << 29) - 1) != 0 {
            return None;
        }
        let sign = ((b >> 63) as u32) << 31;
        let payload = ((b >> 29) & 0x007f_ffff) as u32;
        return Some(f32::from_bits(sign | (0xff << 23) | payload));
    }
    let n = v as f32;
    (f64::from(n).to_bits() == v.to_bits()).then_some(n)
}

fn array<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

impl<'a> Value<'a> {
    /// Decodes `bytes` as a value of `data_type`, strictly: the length must be the type's
    /// natural size or a valid reduced size (see [`DataType::accepts_len`]).
    ///
    /// ```
    /// use flowwire_record::{DataType, Value};
    /// assert_eq!(Value::decode(DataType::Unsigned64, &[1, 0]), Ok(Value::Unsigned64(256)));
    /// assert!(Value::decode(DataType::Ipv4Address, &[10, 0, 0]).is_err());
    /// ```
    #[inline]
    pub fn decode(data_type: DataType, bytes: &'a [u8]) -> Result<Value<'a>, ValueError> {
        let len = bytes.len();
        if !data_type.accepts_len(len) {
            return Err(ValueError::BadLength { data_type, len });
        }
        let bad = ValueError::BadLength { data_type, len };
        Ok(match data_type {
            DataType::OctetArray => Value::OctetArray(bytes),
            DataType::String => Value::String(bytes),
            DataType::BasicList => Value::BasicList(bytes),
            DataType::SubTemplateList => Value::SubTemplateList(bytes),
            DataType::SubTemplateMultiList => Value::SubTemplateMultiList(bytes),
            DataType::Unsigned8 => Value::Unsigned8(be_uint(bytes) as u8),
            DataType::Unsigned16 => Value::Unsigned16(be_uint(bytes) as u16),
            DataType::Unsigned32 => Value::Unsigned32(be_uint(bytes) as u32),
            DataType::Unsigned64 => Value::Unsigned64(be_uint(bytes)),
            DataType::Unsigned256 => {
                let mut out = [0u8; 32];
                let start = 32usize.checked_sub(len).ok_or(bad)?;
                out.get_mut(start..).ok_or(bad)?.copy_from_slice(bytes);
                Value::Unsigned256(out)
            }
            DataType::Signed8 => Value::Signed8(be_int(bytes) as i8),
            DataType::Signed16 => Value::Signed16(be_int(bytes) as i16),
            DataType::Signed32 => Value::Signed32(be_int(bytes) as i32),
            DataType::Signed64 => Value::Signed64(be_int(bytes)),
            DataType::Float32 => Value::Float32(f32::from_be_bytes(array(bytes).ok_or(bad)?)),
            DataType::Float64 => match len {
                4 => Value::Float64(widen(f32::from_be_bytes(array(bytes).ok_or(bad)?))),
                _ => Value::Float64(f64::from_be_bytes(array(bytes).ok_or(bad)?)),
            },
            DataType::Boolean => match bytes.first() {
                Some(1) => Value::Boolean(true),
                Some(2) => Value::Boolean(false),
                Some(&value) => return Err(ValueError::InvalidBoolean { value }),
                None => return Err(bad),
            },
            DataType::MacAddress => Value::MacAddress(MacAddr(array(bytes).ok_or(bad)?)),
            DataType::DateTimeSeconds => Value::DateTimeSeconds(be_uint(bytes) as u32),
            DataType::DateTimeMilliseconds => Value::DateTimeMilliseconds(be_uint(bytes)),
            DataType::DateTimeMicroseconds => {
                Value::DateTimeMicroseconds(NtpTimestamp::from_bits(be_uint(bytes)))
            }
            DataType::DateTimeNanoseconds => {
                Value::DateTimeNanoseconds(NtpTimestamp::from_bits(be_uint(bytes)))
            }
            DataType::Ipv4Address => {
                Value::Ipv4Address(Ipv4Addr::from(array::<4>(bytes).ok_or(bad)?))
            }
            DataType::Ipv6Address => {
                Value::Ipv6Address(Ipv6Addr::from(array::<16>(bytes).ok_or(bad)?))
            }
        })
    }

    /// Decodes `bytes` as `data_type`, falling back instead of failing when the length is off:
    /// integers and times up to 8 octets longer than their type (NX-OS sends 8-octet
    /// FIRST_SWITCHED, some exporters 8-octet 32-bit counters) decode as 64-bit values, and
    /// anything else that does not fit is kept as an octet array. Never fails, never panics.
    #[inline]
    pub fn decode_lenient(data_type: DataType, bytes: &'a [u8]) -> Value<'a> {
        match Value::decode(data_type, bytes) {
            Ok(v) => v,
            Err(_) if !bytes.is_empty() && bytes.len() <= 8 => match data_type {
                DataType::Unsigned8
                | DataType::Unsigned16
                | DataType::Unsigned32
                | DataType::Unsigned64
                | DataType::DateTimeSeconds
                // A dateTimeMilliseconds of the wrong length is not a time anyone can vouch
                // for; as an integer it at least re-encodes at its own length.
                | DataType::DateTimeMilliseconds => Value::Unsigned64(be_uint(bytes)),
                DataType::Signed8 | DataType::Signed16 | DataType::Signed32 => {
                    Value::Signed64(be_int(bytes))
                }
                _ => Value::OctetArray(bytes),
            },
            Err(_) => Value::OctetArray(bytes),
        }
    }

    /// The data type of this value.
    #[inline]
    pub const fn data_type(&self) -> DataType {
        match self {
            Value::OctetArray(_) => DataType::OctetArray,
            Value::Unsigned8(_) => DataType::Unsigned8,
            Value::Unsigned16(_) => DataType::Unsigned16,
            Value::Unsigned32(_) => DataType::Unsigned32,
            Value::Unsigned64(_) => DataType::Unsigned64,
            Value::Unsigned256(_) => DataType::Unsigned256,
            Value::Signed8(_) => DataType::Signed8,
            Value::Signed16(_) => DataType::Signed16,
            Value::Signed32(_) => DataType::Signed32,
            Value::Signed64(_) => DataType::Signed64,
            Value::Float32(_) => DataType::Float32,
            Value::Float64(_) => DataType::Float64,
            Value::Boolean(_) => DataType::Boolean,
            Value::MacAddress(_) => DataType::MacAddress,
            Value::String(_) => DataType::String,
            Value::DateTimeSeconds(_) => DataType::DateTimeSeconds,
            Value::DateTimeMilliseconds(_) => DataType::DateTimeMilliseconds,
            Value::DateTimeMicroseconds(_) => DataType::DateTimeMicroseconds,
            Value::DateTimeNanoseconds(_) => DataType::DateTimeNanoseconds,
            Value::Ipv4Address(_) => DataType::Ipv4Address,
            Value::Ipv6Address(_) => DataType::Ipv6Address,
            Value::BasicList(_) => DataType::BasicList,
            Value::SubTemplateList(_) => DataType::SubTemplateList,
            Value::SubTemplateMultiList(_) => DataType::SubTemplateMultiList,
        }
    }

    /// The number of octets [`Value::emit`] writes at full size: the type's natural size, or
    /// the content length for strings, octet arrays and lists.
    #[inline]
    pub fn natural_len(&self) -> usize {
        match self {
            Value::OctetArray(b)
            | Value::String(b)
            | Value::BasicList(b)
            | Value::SubTemplateList(b)
            | Value::SubTemplateMultiList(b) => b.len(),
            other => other.data_type().natural_len().unwrap_or(0),
        }
    }

    /// The fewest octets this value can be encoded in (reduced-size encoding for integers,
    /// 4 for a float64 that is exactly a float32, the natural size otherwise).
    pub fn min_len(&self) -> usize {
        fn unsigned_len(v: u64) -> usize {
            (8 - (v.leading_zeros() / 8) as usize).max(1)
        }
        fn signed_len(v: i64) -> usize {
            // Octets needed so that sign extension gives the value back.
            let redundant = if v < 0 {
                v.leading_ones()
            } else {
                v.leading_zeros()
            };
            (8 - ((redundant.saturating_sub(1)) / 8) as usize).max(1)
        }
        match *self {
            Value::Unsigned8(v) => unsigned_len(v.into()),
            Value::Unsigned16(v) => unsigned_len(v.into()),
            Value::Unsigned32(v) => unsigned_len(v.into()),
            Value::Unsigned64(v) => unsigned_len(v),
            Value::Unsigned256(v) => (32 - v.iter().take_while(|&&b| b == 0).count()).max(1),
            Value::Signed8(v) => signed_len(v.into()),
            Value::Signed16(v) => signed_len(v.into()),
            Value::Signed32(v) => signed_len(v.into()),
            Value::Signed64(v) => signed_len(v),
            Value::Float64(v) if narrow(v).is_some() => 4,
            _ => self.natural_len(),
        }
    }

    /// Encodes the value into exactly `out.len()` octets, which may be a reduced size for
    /// integers and float64 (RFC 7011 §6.2). Never panics: a length the type does not allow,
    /// or a value that does not fit, is an error and `out` is left unspecified.
    ///
    /// ```
    /// use flowwire_record::Value;
    /// let mut out = [0u8; 2];
    /// Value::Unsigned64(515).emit(&mut out).unwrap();
    /// assert_eq!(out, [2, 3]);
    /// assert!(Value::Unsigned64(70_000).emit(&mut out).is_err());
    /// ```
    pub fn emit(&self, out: &mut [u8]) -> Result<(), ValueError> {
        let len = out.len();
        let data_type = self.data_type();
        if !data_type.accepts_len(len) {
            return Err(ValueError::BadLength { data_type, len });
        }
        let does_not_fit = ValueError::DoesNotFit { data_type, len };
        fn put_unsigned(out: &mut [u8], v: u64) -> bool {
            let bytes = v.to_be_bytes();
            let Some(skip) = 8usize.checked_sub(out.len()) else {
                return false;
            };
            match bytes.split_at_checked(skip) {
                Some((dropped, kept)) if dropped.iter().all(|&b| b == 0) => {
                    out.copy_from_slice(kept);
                    true
                }
                _ => false,
            }
        }
        fn put_signed(out: &mut [u8], v: i64) -> bool {
            let bytes = v.to_be_bytes();
            let kept = 8usize
                .checked_sub(out.len())
                .and_then(|skip| bytes.get(skip..));
            match kept {
                Some(kept) if be_int(kept) == v => {
                    out.copy_from_slice(kept);
                    true
                }
                _ => false,
            }
        }
        fn put_slice(out: &mut [u8], b: &[u8], data_type: DataType) -> Result<(), ValueError> {
            if out.len() != b.len() {
                return Err(ValueError::DoesNotFit {
                    data_type,
                    len: out.len(),
                });
            }
            out.copy_from_slice(b);
            Ok(())
        }
        let fits = match *self {
            Value::OctetArray(b)
            | Value::String(b)
            | Value::BasicList(b)
            | Value::SubTemplateList(b)
            | Value::SubTemplateMultiList(b) => return put_slice(out, b, data_type),
            Value::Unsigned8(v) => put_unsigned(out, v.into()),
            Value::Unsigned16(v) => put_unsigned(out, v.into()),
            Value::Unsigned32(v) => put_unsigned(out, v.into()),
            Value::Unsigned64(v) | Value::DateTimeMilliseconds(v) => put_unsigned(out, v),
            Value::DateTimeSeconds(v) => put_unsigned(out, v.into()),
            Value::DateTimeMicroseconds(v) | Value::DateTimeNanoseconds(v) => {
                put_unsigned(out, v.to_bits())
            }
            Value::Unsigned256(v) => match v.split_at_checked(32usize.saturating_sub(len)) {
                Some((dropped, kept)) if dropped.iter().all(|&b| b == 0) => {
                    out.copy_from_slice(kept);
                    true
                }
                _ => false,
            },
            Value::Signed8(v) => put_signed(out, v.into()),
            Value::Signed16(v) => put_signed(out, v.into()),
            Value::Signed32(v) => put_signed(out, v.into()),
            Value::Signed64(v) => put_signed(out, v),
            Value::Float32(v) => {
                out.copy_from_slice(&v.to_be_bytes());
                true
            }
            Value::Float64(v) => {
                if len == 4 {
                    // Only exact narrowing is allowed, so decode gives the same value back.
                    match narrow(v) {
                        Some(n) => {
                            out.copy_from_slice(&n.to_be_bytes());
                            true
                        }
                        None => false,
                    }
                } else {
                    out.copy_from_slice(&v.to_be_bytes());
                    true
                }
            }
            Value::Boolean(v) => {
                out.copy_from_slice(&[if v { 1 } else { 2 }]);
                true
            }
            Value::MacAddress(m) => {
                out.copy_from_slice(&m.0);
                true
            }
            Value::Ipv4Address(a) => {
                out.copy_from_slice(&a.octets());
                true
            }
            Value::Ipv6Address(a) => {
                out.copy_from_slice(&a.octets());
                true
            }
        };
        if fits { Ok(()) } else { Err(does_not_fit) }
    }

    /// The value as an unsigned integer, for any unsigned, non-negative signed, boolean-free
    /// integer type and the integer time types; `None` otherwise.
    #[inline]
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Unsigned8(v) => Some(v.into()),
            Value::Unsigned16(v) => Some(v.into()),
            Value::Unsigned32(v) => Some(v.into()),
            Value::Unsigned64(v) => Some(v),
            Value::DateTimeSeconds(v) => Some(v.into()),
            Value::DateTimeMilliseconds(v) => Some(v),
            Value::Signed8(v) => u64::try_from(v).ok(),
            Value::Signed16(v) => u64::try_from(v).ok(),
            Value::Signed32(v) => u64::try_from(v).ok(),
            Value::Signed64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a signed integer, for any integer type that fits in `i64`.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Signed8(v) => Some(v.into()),
            Value::Signed16(v) => Some(v.into()),
            Value::Signed32(v) => Some(v.into()),
            Value::Signed64(v) => Some(v),
            _ => self.as_u64().and_then(|v| i64::try_from(v).ok()),
        }
    }

    /// A string value as UTF-8 with trailing NUL padding removed (exporters pad fixed-length
    /// string fields with zeros); `None` for other types or invalid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::String(b) => {
                let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
                core::str::from_utf8(b.get(..end)?).ok()
            }
            _ => None,
        }
    }

    /// The value as an IP address, for the two address types.
    #[inline]
    pub fn as_ip(&self) -> Option<std::net::IpAddr> {
        match *self {
            Value::Ipv4Address(a) => Some(a.into()),
            Value::Ipv6Address(a) => Some(a.into()),
            _ => None,
        }
    }

    /// The value as an absolute time, for the four dateTime types.
    #[inline]
    pub fn as_timestamp(&self) -> Option<Timestamp> {
        match *self {
            Value::DateTimeSeconds(s) => Some(Timestamp::from_unix_secs(i64::from(s))),
            Value::DateTimeMilliseconds(ms) => Some(Timestamp::from_unix_millis_u64(ms)),
            Value::DateTimeMicroseconds(n) => Some(n.to_timestamp_micros()),
            Value::DateTimeNanoseconds(n) => Some(n.to_timestamp()),
            _ => None,
        }
    }

    /// The borrowed octets of an octetArray, string or list value.
    #[inline]
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match *self {
            Value::OctetArray(b)
            | Value::String(b)
            | Value::BasicList(b)
            | Value::SubTemplateList(b)
            | Value::SubTemplateMultiList(b) => Some(b),
            _ => None,
        }
    }

    /// An owned copy, for storage beyond the message's lifetime.
    pub fn to_owned_value(&self) -> OwnedValue {
        match *self {
            Value::OctetArray(b) => OwnedValue::OctetArray(b.to_vec()),
            Value::Unsigned8(v) => OwnedValue::Unsigned8(v),
            Value::Unsigned16(v) => OwnedValue::Unsigned16(v),
            Value::Unsigned32(v) => OwnedValue::Unsigned32(v),
            Value::Unsigned64(v) => OwnedValue::Unsigned64(v),
            Value::Unsigned256(v) => OwnedValue::Unsigned256(v),
            Value::Signed8(v) => OwnedValue::Signed8(v),
            Value::Signed16(v) => OwnedValue::Signed16(v),
            Value::Signed32(v) => OwnedValue::Signed32(v),
            Value::Signed64(v) => OwnedValue::Signed64(v),
            Value::Float32(v) => OwnedValue::Float32(v),
            Value::Float64(v) => OwnedValue::Float64(v),
            Value::Boolean(v) => OwnedValue::Boolean(v),
            Value::MacAddress(v) => OwnedValue::MacAddress(v),
            Value::String(b) => OwnedValue::String(b.to_vec()),
            Value::DateTimeSeconds(v) => OwnedValue::DateTimeSeconds(v),
            Value::DateTimeMilliseconds(v) => OwnedValue::DateTimeMilliseconds(v),
            Value::DateTimeMicroseconds(v) => OwnedValue::DateTimeMicroseconds(v),
            Value::DateTimeNanoseconds(v) => OwnedValue::DateTimeNanoseconds(v),
            Value::Ipv4Address(v) => OwnedValue::Ipv4Address(v),
            Value::Ipv6Address(v) => OwnedValue::Ipv6Address(v),
            Value::BasicList(b) => OwnedValue::BasicList(b.to_vec()),
            Value::SubTemplateList(b) => OwnedValue::SubTemplateList(b.to_vec()),
            Value::SubTemplateMultiList(b) => OwnedValue::SubTemplateMultiList(b.to_vec()),
        }
    }
}

/// Writes octets as lower-case hex without separators.
pub(crate) fn write_hex(f: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

impl fmt::Display for Value<'_> {
    /// Human-readable form: numbers in decimal, addresses in their usual notation, times in
    /// RFC 3339, strings as text (lossy UTF-8), octet arrays and lists as `0x` hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::OctetArray(b)
            | Value::BasicList(b)
            | Value::SubTemplateList(b)
            | Value::SubTemplateMultiList(b) => {
                f.write_str("0x")?;
                write_hex(f, b)
            }
            Value::Unsigned256(b) => {
                let start = b.iter().position(|&x| x != 0).unwrap_or(31);
                f.write_str("0x")?;
                write_hex(f, b.get(start..).unwrap_or_default())
            }
            Value::Unsigned8(v) => write!(f, "{v}"),
            Value::Unsigned16(v) => write!(f, "{v}"),
            Value::Unsigned32(v) => write!(f, "{v}"),
            Value::Unsigned64(v) => write!(f, "{v}"),
            Value::Signed8(v) => write!(f, "{v}"),
            Value::Signed16(v) => write!(f, "{v}"),
            Value::Signed32(v) => write!(f, "{v}"),
            Value::Signed64(v) => write!(f, "{v}"),
            Value::Float32(v) => write!(f, "{v}"),
            Value::Float64(v) => write!(f, "{v}"),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::MacAddress(m) => write!(f, "{m}"),
            Value::String(b) => {
                let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
                f.write_str(&String::from_utf8_lossy(b.get(..end).unwrap_or_default()))
            }
            Value::Ipv4Address(a) => write!(f, "{a}"),
            Value::Ipv6Address(a) => write!(f, "{a}"),
            Value::DateTimeSeconds(_)
            | Value::DateTimeMilliseconds(_)
            | Value::DateTimeMicroseconds(_)
            | Value::DateTimeNanoseconds(_) => match self.as_timestamp() {
                Some(t) => write!(f, "{t}"),
                None => Ok(()),
            },
        }
    }
}

/// An information-element value that owns its content: the storage form of [`Value`], used
/// in [`FlowRecord`](crate::FlowRecord)'s extra fields and in owned (`Repr`) messages.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedValue {
    /// octetArray.
    OctetArray(Vec<u8>),
    /// unsigned8.
    Unsigned8(u8),
    /// unsigned16.
    Unsigned16(u16),
    /// unsigned32.
    Unsigned32(u32),
    /// unsigned64.
    Unsigned64(u64),
    /// unsigned256, big-endian.
    Unsigned256([u8; 32]),
    /// signed8.
    Signed8(i8),
    /// signed16.
    Signed16(i16),
    /// signed32.
    Signed32(i32),
    /// signed64.
    Signed64(i64),
    /// float32.
    Float32(f32),
    /// float64.
    Float64(f64),
    /// boolean.
    Boolean(bool),
    /// macAddress.
    MacAddress(MacAddr),
    /// string: the octets as sent (see [`Value::String`]).
    String(Vec<u8>),
    /// dateTimeSeconds.
    DateTimeSeconds(u32),
    /// dateTimeMilliseconds.
    DateTimeMilliseconds(u64),
    /// dateTimeMicroseconds, NTP format.
    DateTimeMicroseconds(NtpTimestamp),
    /// dateTimeNanoseconds, NTP format.
    DateTimeNanoseconds(NtpTimestamp),
    /// ipv4Address.
    Ipv4Address(Ipv4Addr),
    /// ipv6Address.
    Ipv6Address(Ipv6Addr),
    /// basicList, raw.
    BasicList(Vec<u8>),
    /// subTemplateList, raw.
    SubTemplateList(Vec<u8>),
    /// subTemplateMultiList, raw.
    SubTemplateMultiList(Vec<u8>),
}

impl OwnedValue {
    /// Borrows this value as a [`Value`].
    #[inline]
    pub fn as_value(&self) -> Value<'_> {
        match self {
            OwnedValue::OctetArray(b) => Value::OctetArray(b),
            OwnedValue::Unsigned8(v) => Value::Unsigned8(*v),
            OwnedValue::Unsigned16(v) => Value::Unsigned16(*v),
            OwnedValue::Unsigned32(v) => Value::Unsigned32(*v),
            OwnedValue::Unsigned64(v) => Value::Unsigned64(*v),
            OwnedValue::Unsigned256(v) => Value::Unsigned256(*v),
            OwnedValue::Signed8(v) => Value::Signed8(*v),
            OwnedValue::Signed16(v) => Value::Signed16(*v),
            OwnedValue::Signed32(v) => Value::Signed32(*v),
            OwnedValue::Signed64(v) => Value::Signed64(*v),
            OwnedValue::Float32(v) => Value::Float32(*v),
            OwnedValue::Float64(v) => Value::Float64(*v),
            OwnedValue::Boolean(v) => Value::Boolean(*v),
            OwnedValue::MacAddress(v) => Value::MacAddress(*v),
            OwnedValue::String(b) => Value::String(b),
            OwnedValue::DateTimeSeconds(v) => Value::DateTimeSeconds(*v),
            OwnedValue::DateTimeMilliseconds(v) => Value::DateTimeMilliseconds(*v),
            OwnedValue::DateTimeMicroseconds(v) => Value::DateTimeMicroseconds(*v),
            OwnedValue::DateTimeNanoseconds(v) => Value::DateTimeNanoseconds(*v),
            OwnedValue::Ipv4Address(v) => Value::Ipv4Address(*v),
            OwnedValue::Ipv6Address(v) => Value::Ipv6Address(*v),
            OwnedValue::BasicList(b) => Value::BasicList(b),
            OwnedValue::SubTemplateList(b) => Value::SubTemplateList(b),
            OwnedValue::SubTemplateMultiList(b) => Value::SubTemplateMultiList(b),
        }
    }

    /// Decodes and copies (see [`Value::decode`]).
    pub fn decode(data_type: DataType, bytes: &[u8]) -> Result<OwnedValue, ValueError> {
        Value::decode(data_type, bytes).map(|v| v.to_owned_value())
    }

    /// The data type of this value.
    pub fn data_type(&self) -> DataType {
        self.as_value().data_type()
    }

    /// See [`Value::emit`].
    pub fn emit(&self, out: &mut [u8]) -> Result<(), ValueError> {
        self.as_value().emit(out)
    }

    /// See [`Value::natural_len`].
    pub fn natural_len(&self) -> usize {
        self.as_value().natural_len()
    }
}

impl From<Value<'_>> for OwnedValue {
    fn from(v: Value<'_>) -> Self {
        v.to_owned_value()
    }
}

impl fmt::Display for OwnedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.as_value(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_reduced_sizes() {
        for (len, bytes) in [(1, &[7u8][..]), (2, &[0, 7]), (4, &[0, 0, 0, 7])] {
            assert_eq!(
                Value::decode(DataType::Unsigned64, bytes),
                Ok(Value::Unsigned64(7)),
                "len {len}"
            );
        }
        assert_eq!(
            Value::decode(DataType::Unsigned16, &[0xff, 0xfe]),
            Ok(Value::Unsigned16(0xfffe))
        );
        assert_eq!(
            Value::decode(DataType::Unsigned32, &[1, 2, 3, 4, 5]),
            Err(ValueError::BadLength {
                data_type: DataType::Unsigned32,
                len: 5
            })
        );
        assert!(Value::decode(DataType::Unsigned8, &[]).is_err());
    }

    #[test]
    fn signed_reduced_sizes_sign_extend() {
        assert_eq!(
            Value::decode(DataType::Signed32, &[0xff, 0xfe]),
            Ok(Value::Signed32(-2))
        );
        assert_eq!(
            Value::decode(DataType::Signed64, &[0x7f]),
            Ok(Value::Signed64(127))
        );
        assert_eq!(
            Value::decode(DataType::Signed8, &[0x80]),
            Ok(Value::Signed8(i8::MIN))
        );
        let mut out = [0u8; 1];
        assert!(Value::Signed64(128).emit(&mut out).is_err());
        assert!(Value::Signed64(-129).emit(&mut out).is_err());
        Value::Signed64(-128).emit(&mut out).unwrap();
        assert_eq!(out, [0x80]);
        assert_eq!(Value::Signed64(-128).min_len(), 1);
        assert_eq!(Value::Signed64(128).min_len(), 2);
        assert_eq!(Value::Signed64(0).min_len(), 1);
        assert_eq!(Value::Signed64(i64::MIN).min_len(), 8);
    }

    #[test]
    fn boundaries() {
        let mut out = [0u8; 8];
        Value::Unsigned64(u64::MAX).emit(&mut out).unwrap();
        assert_eq!(out, [0xff; 8]);
        assert_eq!(
            Value::decode(DataType::Unsigned64, &out),
            Ok(Value::Unsigned64(u64::MAX))
        );
        assert_eq!(Value::Unsigned64(u64::MAX).min_len(), 8);
        assert_eq!(Value::Unsigned64(0).min_len(), 1);
        assert_eq!(Value::Unsigned32(256).min_len(), 2);
        let mut u256 = [0u8; 32];
        u256[31] = 9;
        assert_eq!(
            Value::decode(DataType::Unsigned256, &[9]),
            Ok(Value::Unsigned256(u256))
        );
        assert!(Value::decode(DataType::Unsigned256, &[0; 33]).is_err());
    }

    #[test]
    fn floats() {
        assert_eq!(
            Value::decode(DataType::Float64, &1.5f32.to_be_bytes()),
            Ok(Value::Float64(1.5))
        );
        assert_eq!(
            Value::decode(DataType::Float32, &2.25f32.to_be_bytes()),
            Ok(Value::Float32(2.25))
        );
        assert!(Value::decode(DataType::Float32, &[0; 8]).is_err());
        assert!(Value::decode(DataType::Float64, &[0; 6]).is_err());
        let mut four = [0u8; 4];
        assert!(
            Value::Float64(0.1).emit(&mut four).is_err(),
            "0.1 is not exact in f32"
        );
        Value::Float64(0.5).emit(&mut four).unwrap();
        assert_eq!(four, 0.5f32.to_be_bytes());
    }

    #[test]
    fn reduced_float64_keeps_nan_payloads() {
        // A signalling NaN must come back with the same bits (fuzz regression).
        let bytes = [0xff, 0xb3, 0x42, 0xea];
        let v = Value::decode(DataType::Float64, &bytes).unwrap();
        let mut out = [0u8; 4];
        v.emit(&mut out).unwrap();
        assert_eq!(out, bytes);
        assert_eq!(v.min_len(), 4);
    }

    #[test]
    fn booleans() {
        assert_eq!(
            Value::decode(DataType::Boolean, &[1]),
            Ok(Value::Boolean(true))
        );
        assert_eq!(
            Value::decode(DataType::Boolean, &[2]),
            Ok(Value::Boolean(false))
        );
        assert_eq!(
            Value::decode(DataType::Boolean, &[0]),
            Err(ValueError::InvalidBoolean { value: 0 })
        );
        assert!(Value::decode(DataType::Boolean, &[1, 1]).is_err());
    }

    #[test]
    fn addresses_and_macs() {
        assert_eq!(
            Value::decode(DataType::Ipv4Address, &[10, 0, 0, 1]),
            Ok(Value::Ipv4Address(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert!(Value::decode(DataType::Ipv4Address, &[10, 0, 0, 1, 0]).is_err());
        assert!(Value::decode(DataType::Ipv6Address, &[0; 15]).is_err());
        assert!(Value::decode(DataType::Ipv6Address, &[0; 16]).is_ok());
        assert!(Value::decode(DataType::MacAddress, &[0; 5]).is_err());
        let mut out = [0u8; 3];
        assert!(
            Value::Ipv4Address(Ipv4Addr::LOCALHOST)
                .emit(&mut out)
                .is_err()
        );
    }

    #[test]
    fn times() {
        let ms = 1_700_000_000_123u64.to_be_bytes();
        let v = Value::decode(DataType::DateTimeMilliseconds, &ms).unwrap();
        assert_eq!(
            v.as_timestamp(),
            Some(Timestamp::from_unix_nanos(1_700_000_000_123_000_000))
        );
        assert!(Value::decode(DataType::DateTimeSeconds, &[0; 8]).is_err());
        assert!(Value::decode(DataType::DateTimeNanoseconds, &[0; 4]).is_err());
    }

    #[test]
    fn strings_keep_their_bytes() {
        let v = Value::decode(DataType::String, b"eth0\0\0").unwrap();
        assert_eq!(v.as_str(), Some("eth0"));
        assert_eq!(v.to_string(), "eth0");
        let bad = Value::decode(DataType::String, &[0xff, 0xfe]).unwrap();
        assert_eq!(bad.as_str(), None);
        let mut out = [0u8; 2];
        bad.emit(&mut out).unwrap();
        assert_eq!(out, [0xff, 0xfe]);
        assert!(bad.emit(&mut [0u8; 3]).is_err());
        assert_eq!(Value::decode(DataType::String, b""), Ok(Value::String(b"")));
    }

    #[test]
    fn lenient_values_re_encode_at_their_own_length() {
        // Fuzz regression (netflow_roundtrip): a 4-octet dateTimeMilliseconds.
        for t in DataType::ALL {
            for len in 0..=16 {
                let bytes = vec![0x5a; len];
                let v = Value::decode_lenient(t, &bytes);
                let mut out = vec![0u8; len];
                assert!(v.emit(&mut out).is_ok(), "{t} len {len}: {v:?}");
            }
        }
    }

    #[test]
    fn lenient_decode_widens_or_keeps_octets() {
        assert_eq!(
            Value::decode_lenient(DataType::Unsigned32, &[0, 0, 0, 0, 0, 0, 1, 0]),
            Value::Unsigned64(256)
        );
        assert_eq!(
            Value::decode_lenient(DataType::Ipv4Address, &[1, 2, 3]),
            Value::OctetArray(&[1, 2, 3])
        );
        assert_eq!(
            Value::decode_lenient(DataType::Unsigned32, &[0; 12]),
            Value::OctetArray(&[0; 12])
        );
    }
}
