//! sFlow version 5 codec: samples, records, raw packet headers, encode.
//!
//! This crate is being filled in; see the project's issues for its scope.
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
