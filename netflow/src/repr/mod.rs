//! Owned representations with `parse` / `buffer_len` / `emit` (into exactly `buffer_len`
//! bytes) and a [`bytes::BufMut`] convenience, after smoltcp's `Repr`s.

pub mod v5;

use bytes::BufMut;

use crate::error::{Error, Result};

/// Writes `len` bytes produced by `emit` into `buf`, or reports how much room was missing.
pub(crate) fn emit_to_buf<B: BufMut>(
    buf: &mut B,
    len: usize,
    emit: impl FnOnce(&mut [u8]) -> Result<()>,
) -> Result<()> {
    if buf.remaining_mut() < len {
        return Err(Error::BufferTooSmall {
            required: len,
            remaining: buf.remaining_mut(),
        });
    }
    let mut tmp = vec![0u8; len];
    emit(&mut tmp)?;
    buf.put_slice(&tmp);
    Ok(())
}

/// Checks that an output slice is exactly `len` bytes.
pub(crate) fn check_out(out: &[u8], len: usize) -> Result<()> {
    if out.len() != len {
        return Err(Error::BufferTooSmall {
            required: len,
            remaining: out.len(),
        });
    }
    Ok(())
}
pub mod v9;
