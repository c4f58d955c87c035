//! sFlow version 5 codec: samples, records, raw packet headers, encode.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod convert;
pub mod encode;
pub mod error;
pub mod header;
pub mod repr;
pub mod session;
pub mod wire;
pub mod xdr;

pub use error::{Error, Result};
pub use flowwire_record as record;

#[cfg(test)]
mod tests;
