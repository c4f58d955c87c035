//! Owned representations: every sample and record type as a plain Rust value, with
//! [`Xdr`]'s `parse` / `buffer_len` / `emit` / `emit_buf`.
//!
//! Unknown samples and records are kept as `(enterprise, format, bytes)`, so decoding and
//! re-encoding a datagram reproduces it (padding bytes are written as zeros).

pub mod counters;
pub mod datagram;
pub mod flow;
pub mod sample;

use crate::error::{Error, Result};
use crate::xdr::{Reader, Xdr};

pub use counters::*;
pub use datagram::*;
pub use flow::*;
pub use sample::*;

/// The largest enterprise number a data-format tag can hold (20 bits).
pub const MAX_ENTERPRISE: u32 = (1 << 20) - 1;
/// The largest format number a data-format tag can hold (12 bits).
pub const MAX_FORMAT: u32 = (1 << 12) - 1;

/// Splits a data-format tag into `(enterprise, format)`.
pub const fn split_tag(tag: u32) -> (u32, u32) {
    (tag >> 12, tag & 0xfff)
}

/// Joins `(enterprise, format)` into a data-format tag (values are masked to 20 and 12 bits).
pub const fn join_tag(enterprise: u32, format: u32) -> u32 {
    ((enterprise & MAX_ENTERPRISE) << 12) | (format & MAX_FORMAT)
}

/// Decodes the body of a known record or sample, which must fill exactly its declared length.
pub(crate) fn parse_body<T: Xdr>(
    body: &[u8],
    body_offset: usize,
    tag_offset: usize,
    what: &'static str,
    enterprise: u32,
    format: u32,
) -> Result<T> {
    with_body(
        body,
        body_offset,
        tag_offset,
        what,
        enterprise,
        format,
        T::read,
    )
}

/// Runs `f` over a record body that it must consume exactly; content shorter or longer than
/// the body is an [`Error::BadContentLength`].
pub(crate) fn with_body<'a, T>(
    body: &'a [u8],
    body_offset: usize,
    tag_offset: usize,
    what: &'static str,
    enterprise: u32,
    format: u32,
    f: impl FnOnce(&mut Reader<'a>) -> Result<T>,
) -> Result<T> {
    let mut r = Reader::new(body, body_offset);
    let declared = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mismatch = |content: usize| Error::BadContentLength {
        offset: tag_offset,
        what,
        enterprise,
        format,
        declared,
        content,
    };
    match f(&mut r) {
        Ok(v) if r.remaining() == 0 => Ok(v),
        Ok(_) => Err(mismatch(body.len() - r.remaining())),
        Err(Error::Truncated { offset, needed, .. }) => Err(mismatch(
            offset.saturating_sub(body_offset).saturating_add(needed),
        )),
        Err(e) => Err(e),
    }
}

/// Defines a record enum: one variant per known enterprise-0 format, plus `Unknown`.
macro_rules! record_enum {
    (
        $(#[$m:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vm:meta])* $fmt:literal => $var:ident($t:ty), )*
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
        pub enum $name {
            $( $(#[$vm])* $var($t), )*
            /// A record this crate does not decode, or one whose content did not match its
            /// declared length, kept as it came.
            Unknown {
                /// Enterprise number (20 bits).
                enterprise: u32,
                /// Format number (12 bits).
                format: u32,
                /// The record body.
                data: $crate::xdr::Opaque,
            },
        }

        impl $name {
            /// `(enterprise, format)` of this record.
            pub fn tag(&self) -> (u32, u32) {
                match self {
                    $( $name::$var(_) => (0, $fmt), )*
                    $name::Unknown { enterprise, format, .. } => (*enterprise, *format),
                }
            }

            /// Whether this crate decodes records of `(enterprise, format)`.
            pub fn is_known(enterprise: u32, format: u32) -> bool {
                enterprise == 0 && matches!(format, $( $fmt )|*)
            }

            /// Decodes a record body. `tag_offset` is the absolute offset of the record's tag,
            /// `body` starts 8 bytes after it. A known record whose content does not fill its
            /// declared length exactly is an [`Error::BadContentLength`](crate::Error::BadContentLength).
            pub fn decode(enterprise: u32, format: u32, body: &[u8], tag_offset: usize) -> $crate::error::Result<Self> {
                let body_offset = tag_offset.saturating_add(8);
                if enterprise == 0 {
                    match format {
                        $( $fmt => return $crate::repr::parse_body::<$t>(body, body_offset, tag_offset, $what, enterprise, format).map($name::$var), )*
                        _ => {}
                    }
                }
                Ok($name::Unknown { enterprise, format, data: $crate::xdr::Opaque(body.to_vec()) })
            }

            /// Decodes a body, keeping it as [`Self::Unknown`] when it does not decode; the
            /// error is returned beside it.
            pub fn decode_lenient(enterprise: u32, format: u32, body: &[u8], tag_offset: usize) -> (Self, Option<$crate::error::Error>) {
                match Self::decode(enterprise, format, body, tag_offset) {
                    Ok(v) => (v, None),
                    Err(e) => ($name::Unknown { enterprise, format, data: $crate::xdr::Opaque(body.to_vec()) }, Some(e)),
                }
            }

            /// Length of the body (without the 8-byte tag and length).
            pub fn body_len(&self) -> usize {
                match self {
                    $( $name::$var(v) => $crate::xdr::Xdr::xdr_len(v), )*
                    $name::Unknown { data, .. } => data.0.len(),
                }
            }

            fn write_body(&self, w: &mut $crate::xdr::Writer<'_>) {
                match self {
                    $( $name::$var(v) => $crate::xdr::Xdr::write(v, w), )*
                    $name::Unknown { data, .. } => w.bytes(&data.0),
                }
            }
        }

        impl $crate::xdr::Xdr for $name {
            fn read(r: &mut $crate::xdr::Reader<'_>) -> $crate::error::Result<Self> {
                let at = r.offset();
                let (enterprise, format) = $crate::repr::split_tag(r.u32(concat!($what, " tag"))?);
                let len_at = r.offset();
                let len = r.u32(concat!($what, " length"))?;
                let available = r.remaining();
                let body = r.take(len as usize, $what).map_err(|_| $crate::error::Error::BadLength {
                    offset: len_at, length: len, available, what: $what,
                })?;
                Self::decode(enterprise, format, body, at)
            }
            fn xdr_len(&self) -> usize {
                8 + self.body_len()
            }
            fn write(&self, w: &mut $crate::xdr::Writer<'_>) {
                let (e, f) = self.tag();
                w.u32($crate::repr::join_tag(e, f));
                w.u32(u32::try_from(self.body_len()).unwrap_or(u32::MAX));
                self.write_body(w);
            }
            #[cfg(test)]
            fn generate(g: &mut $crate::xdr::Gen) -> Self {
                const FORMATS: &[u32] = &[$($fmt),*];
                let i = g.below(FORMATS.len() as u64 + 1) as usize;
                match FORMATS.get(i) {
                    $( Some(&$fmt) => $name::$var(<$t as $crate::xdr::Xdr>::generate(g)), )*
                    _ => {
                        let n = g.len(4) * 4;
                        $name::Unknown {
                            enterprise: 1 + g.below(1000) as u32,
                            format: g.below(4096) as u32,
                            data: $crate::xdr::Opaque((0..n).map(|_| g.u64() as u8).collect()),
                        }
                    }
                }
            }
        }
    };
}
pub(crate) use record_enum;
