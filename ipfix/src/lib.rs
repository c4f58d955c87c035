//! IPFIX (RFC 7011) codec.
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

pub mod error;
pub mod exporter;
pub mod repr;
pub mod session;
pub mod template;
pub mod wire;

pub use error::{Error, TemplateProblem};
pub use flowwire_record as record;
