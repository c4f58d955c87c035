//! NetFlow v5 and v9 (RFC 3954) codec: zero-copy decode, templates, encode.
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

pub use flowwire_record as record;

pub mod error;
pub mod exporter;
pub mod template;
pub mod wire;

pub use error::{Error, Result};
pub mod repr;
pub mod session;
