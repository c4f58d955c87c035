//! Flow records as Apache Parquet files (feature `parquet`), for DuckDB, ClickHouse, Spark or
//! Trino to read without a custom reader. One row per flow; a column per typed
//! [`FlowRecord`] field with its own type (integers unsigned as on the wire, times as
//! nanosecond UTC timestamps, addresses, MACs and the protocol as text, the same text the
//! JSON form has), and `extra` as that flow's extras in their JSON form (null when none).
//! Rows are written in row groups of [`ParquetConfig::row_group`] flows, Snappy-compressed.
//!
//! ```
//! use flowwire::parquet::FlowParquetWriter;
//! use flowwire::FlowRecord;
//!
//! let mut flow = FlowRecord::default();
//! flow.set_src_addr(Some("192.0.2.1".parse()?));
//! flow.set_octets(Some(1500));
//!
//! let mut writer = FlowParquetWriter::new(Vec::new(), Default::default())?;
//! writer.write(&flow)?;
//! let bytes = writer.finish()?;
//! assert_eq!(&bytes[..4], b"PAR1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, StringBuilder, TimestampNanosecondBuilder, UInt8Builder, UInt16Builder,
    UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use flowwire_record::FlowRecord;

/// A Parquet file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    /// The Parquet or Arrow library refused (an I/O error writing the file included).
    #[error("writing parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Building the Arrow batch failed.
    #[error("building the arrow batch: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// How a [`FlowParquetWriter`] writes.
#[derive(Debug, Clone, Copy)]
pub struct ParquetConfig {
    /// Flows per row group (default 65,536): what is held in memory before it is written.
    pub row_group: usize,
}

impl Default for ParquetConfig {
    fn default() -> Self {
        ParquetConfig { row_group: 65_536 }
    }
}

macro_rules! columns {
    ($( $name:ident : $builder:ident = $dtype:expr , $value:expr ;)*) => {
        /// One builder per column.
        struct Columns {
            $( $name: $builder, )*
        }

        impl Columns {
            fn new() -> Self {
                Columns { $( $name: $builder::new(), )* }
            }

            fn schema() -> Schema {
                Schema::new(vec![ $( Field::new(stringify!($name), $dtype, true), )* ])
            }

            fn push(&mut self, f: &FlowRecord, scratch: &mut Vec<u8>) {
                $( {
                    #[allow(clippy::redundant_closure_call)]
                    ($value)(f, &mut self.$name, &mut *scratch);
                } )*
            }

            fn finish(&mut self) -> Vec<ArrayRef> {
                vec![ $( self.$name.finish_array(), )* ]
            }
        }
    };
}

/// A builder's column, typed as the schema says.
trait FinishArray {
    fn finish_array(&mut self) -> ArrayRef;
}

macro_rules! finish_as_built {
    ($($builder:ty),*) => {$(
        impl FinishArray for $builder {
            fn finish_array(&mut self) -> ArrayRef {
                Arc::new(self.finish())
            }
        }
    )*};
}

finish_as_built!(
    BooleanBuilder,
    StringBuilder,
    UInt8Builder,
    UInt16Builder,
    UInt32Builder,
    UInt64Builder
);

impl FinishArray for TimestampNanosecondBuilder {
    fn finish_array(&mut self) -> ArrayRef {
        Arc::new(self.finish().with_timezone("UTC"))
    }
}

fn utc_ns() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// A value as `Display` writes it, formatted straight into the column (no `String` per row).
fn text<T: std::fmt::Display>(column: &mut StringBuilder, value: Option<T>) {
    use std::fmt::Write as _;
    match value {
        Some(v) => {
            let _ = write!(column, "{v}");
            column.append_value("");
        }
        None => column.append_null(),
    }
}

columns! {
    kind: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| b.append_option(f.kind().map(|k| k.name()));
    exporter: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| text(b, f.exporter());
    agent: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| text(b, f.agent());
    domain: UInt32Builder = DataType::UInt32, |f: &FlowRecord, b: &mut UInt32Builder, _: &mut Vec<u8>| b.append_option(f.domain());
    sequence: UInt32Builder = DataType::UInt32, |f: &FlowRecord, b: &mut UInt32Builder, _: &mut Vec<u8>| b.append_option(f.sequence());
    export_time: TimestampNanosecondBuilder = utc_ns(), |f: &FlowRecord, b: &mut TimestampNanosecondBuilder, _: &mut Vec<u8>| b.append_option(f.export_time().map(|t| t.unix_nanos()));
    src_addr: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| text(b, f.src_addr());
    dst_addr: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| text(b, f.dst_addr());
    src_port: UInt16Builder = DataType::UInt16, |f: &FlowRecord, b: &mut UInt16Builder, _: &mut Vec<u8>| b.append_option(f.src_port());
    dst_port: UInt16Builder = DataType::UInt16, |f: &FlowRecord, b: &mut UInt16Builder, _: &mut Vec<u8>| b.append_option(f.dst_port());
    protocol: UInt8Builder = DataType::UInt8, |f: &FlowRecord, b: &mut UInt8Builder, _: &mut Vec<u8>| b.append_option(f.protocol());
    tos: UInt8Builder = DataType::UInt8, |f: &FlowRecord, b: &mut UInt8Builder, _: &mut Vec<u8>| b.append_option(f.tos());
    tcp_flags: UInt16Builder = DataType::UInt16, |f: &FlowRecord, b: &mut UInt16Builder, _: &mut Vec<u8>| b.append_option(f.tcp_flags());
    octets: UInt64Builder = DataType::UInt64, |f: &FlowRecord, b: &mut UInt64Builder, _: &mut Vec<u8>| b.append_option(f.octets());
    packets: UInt64Builder = DataType::UInt64, |f: &FlowRecord, b: &mut UInt64Builder, _: &mut Vec<u8>| b.append_option(f.packets());
    start: TimestampNanosecondBuilder = utc_ns(), |f: &FlowRecord, b: &mut TimestampNanosecondBuilder, _: &mut Vec<u8>| b.append_option(f.start().map(|t| t.unix_nanos()));
    end: TimestampNanosecondBuilder = utc_ns(), |f: &FlowRecord, b: &mut TimestampNanosecondBuilder, _: &mut Vec<u8>| b.append_option(f.end().map(|t| t.unix_nanos()));
    in_if: UInt32Builder = DataType::UInt32, |f: &FlowRecord, b: &mut UInt32Builder, _: &mut Vec<u8>| b.append_option(f.in_if());
    out_if: UInt32Builder = DataType::UInt32, |f: &FlowRecord, b: &mut UInt32Builder, _: &mut Vec<u8>| b.append_option(f.out_if());
    src_as: UInt32Builder = DataType::UInt32, |f: &FlowRecord, b: &mut UInt32Builder, _: &mut Vec<u8>| b.append_option(f.src_as());
    dst_as: UInt32Builder = DataType::UInt32, |f: &FlowRecord, b: &mut UInt32Builder, _: &mut Vec<u8>| b.append_option(f.dst_as());
    next_hop: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| text(b, f.next_hop());
    bgp_next_hop: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| text(b, f.bgp_next_hop());
    src_mask: UInt8Builder = DataType::UInt8, |f: &FlowRecord, b: &mut UInt8Builder, _: &mut Vec<u8>| b.append_option(f.src_mask());
    dst_mask: UInt8Builder = DataType::UInt8, |f: &FlowRecord, b: &mut UInt8Builder, _: &mut Vec<u8>| b.append_option(f.dst_mask());
    vlan: UInt16Builder = DataType::UInt16, |f: &FlowRecord, b: &mut UInt16Builder, _: &mut Vec<u8>| b.append_option(f.vlan());
    inner_vlan: UInt16Builder = DataType::UInt16, |f: &FlowRecord, b: &mut UInt16Builder, _: &mut Vec<u8>| b.append_option(f.inner_vlan());
    src_mac: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| text(b, f.src_mac());
    dst_mac: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| text(b, f.dst_mac());
    icmp_type: UInt8Builder = DataType::UInt8, |f: &FlowRecord, b: &mut UInt8Builder, _: &mut Vec<u8>| b.append_option(f.icmp_type());
    icmp_code: UInt8Builder = DataType::UInt8, |f: &FlowRecord, b: &mut UInt8Builder, _: &mut Vec<u8>| b.append_option(f.icmp_code());
    flow_label: UInt32Builder = DataType::UInt32, |f: &FlowRecord, b: &mut UInt32Builder, _: &mut Vec<u8>| b.append_option(f.flow_label());
    direction: UInt8Builder = DataType::UInt8, |f: &FlowRecord, b: &mut UInt8Builder, _: &mut Vec<u8>| b.append_option(f.direction());
    end_reason: UInt8Builder = DataType::UInt8, |f: &FlowRecord, b: &mut UInt8Builder, _: &mut Vec<u8>| b.append_option(f.end_reason());
    forwarding_status: UInt32Builder = DataType::UInt32, |f: &FlowRecord, b: &mut UInt32Builder, _: &mut Vec<u8>| b.append_option(f.forwarding_status());
    mpls_label: UInt32Builder = DataType::UInt32, |f: &FlowRecord, b: &mut UInt32Builder, _: &mut Vec<u8>| b.append_option(f.mpls_label());
    post_nat_src_addr: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| text(b, f.post_nat_src_addr());
    post_nat_dst_addr: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, _: &mut Vec<u8>| text(b, f.post_nat_dst_addr());
    post_nat_src_port: UInt16Builder = DataType::UInt16, |f: &FlowRecord, b: &mut UInt16Builder, _: &mut Vec<u8>| b.append_option(f.post_nat_src_port());
    post_nat_dst_port: UInt16Builder = DataType::UInt16, |f: &FlowRecord, b: &mut UInt16Builder, _: &mut Vec<u8>| b.append_option(f.post_nat_dst_port());
    sampling_interval: UInt32Builder = DataType::UInt32, |f: &FlowRecord, b: &mut UInt32Builder, _: &mut Vec<u8>| b.append_option(f.sampling_interval());
    sampling_algorithm: UInt8Builder = DataType::UInt8, |f: &FlowRecord, b: &mut UInt8Builder, _: &mut Vec<u8>| b.append_option(f.sampling_algorithm());
    renormalized: BooleanBuilder = DataType::Boolean, |f: &FlowRecord, b: &mut BooleanBuilder, _: &mut Vec<u8>| b.append_value(f.is_renormalized());
    extra: StringBuilder = DataType::Utf8, |f: &FlowRecord, b: &mut StringBuilder, scratch: &mut Vec<u8>| {
        if f.extra.is_empty() {
            b.append_null();
        } else {
            scratch.clear();
            // Serializing into a Vec cannot fail: every extra value has a JSON form.
            let _ = serde_json::to_writer(&mut *scratch, &f.extra);
            b.append_value(std::str::from_utf8(scratch).unwrap_or_default());
        }
    };
}

/// Writes flows into one Parquet file; see the module docs. Call [`finish`](Self::finish) to
/// write the last row group and the footer: a file without it is not readable.
pub struct FlowParquetWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    columns: Columns,
    rows: usize,
    row_group: usize,
    scratch: Vec<u8>,
    written: u64,
}

impl<W: Write + Send> std::fmt::Debug for FlowParquetWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowParquetWriter")
            .field("written", &self.written)
            .field("buffered", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> FlowParquetWriter<W> {
    /// Starts a file on `out`.
    pub fn new(out: W, config: ParquetConfig) -> Result<Self, ParquetError> {
        let schema: SchemaRef = Arc::new(Columns::schema());
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("flowwire {}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(FlowParquetWriter {
            writer: ArrowWriter::try_new(out, Arc::clone(&schema), Some(props))?,
            schema,
            columns: Columns::new(),
            rows: 0,
            row_group: config.row_group.max(1),
            scratch: Vec::new(),
            written: 0,
        })
    }

    /// Adds a flow (written when its row group is full).
    pub fn write(&mut self, flow: &FlowRecord) -> Result<(), ParquetError> {
        self.columns.push(flow, &mut self.scratch);
        self.rows += 1;
        if self.rows >= self.row_group {
            self.flush_rows()?;
        }
        Ok(())
    }

    /// Octets of the file so far: written, plus an estimate of what the writer buffers (the
    /// open row group), not counting the flows not yet handed to it.
    pub fn approximate_size(&self) -> usize {
        self.writer.bytes_written() + self.writer.in_progress_size()
    }

    /// Flows written so far (buffered ones included).
    pub fn flows(&self) -> u64 {
        self.written + self.rows as u64
    }

    fn flush_rows(&mut self) -> Result<(), ParquetError> {
        if self.rows == 0 {
            return Ok(());
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), self.columns.finish())?;
        self.writer.write(&batch)?;
        self.written += self.rows as u64;
        self.rows = 0;
        Ok(())
    }

    /// Writes what is buffered and the footer, and returns the output.
    pub fn finish(mut self) -> Result<W, ParquetError> {
        self.flush_rows()?;
        Ok(self.writer.into_inner()?)
    }
}
