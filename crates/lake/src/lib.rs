//! # sshtrail-lake: the trail as Parquet objects, for DuckDB, Trino and Athena
//!
//! "What did this key, this account, this address do, on every host, last week?" is a
//! query over every host's events. This crate turns a batch of event lines (the daemon's
//! auditevent JSON) into Parquet objects an engine reads in place, laid out as Hive
//! partitions:
//!
//! ```text
//! <prefix>/host=web-1/date=2026-11-23/00000001-0000000000000000.parquet
//! ```
//!
//! - [`Row::from_line`] flattens one line into the columns of [`columns::COLUMNS`] (the
//!   who, what and where of an event, and the whole line in `raw`);
//! - [`write::parquet_bytes`] writes rows as one Parquet object (Snappy, one row group);
//! - [`layout::object_key`] names it, by partition and by the spool position its batch
//!   began at, so that a batch sent again after a crash overwrites its own objects;
//! - [`objects`] does all three for a batch, one object per (host, UTC day) it holds.
//!
//! Uploading is the daemon's (`s3-lake://` in `crates/sshtrail/src/sinks/lake.rs`, over
//! the S3 client of `sshtrail-sessionstore`); `deploy/sql/` has the DDL and the queries.
//! The Parquet writer is the `parquet` crate without Arrow: rows are written column by
//! column with the low-level writer, which keeps the daemon's build small.

pub mod columns;
pub mod layout;
pub mod row;
pub mod write;

pub use row::Row;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("lake schema: {0}")]
    Schema(&'static str),
}

/// One object to put.
#[derive(Debug)]
pub struct Object {
    pub key: String,
    pub bytes: Vec<u8>,
    pub rows: usize,
}

/// The objects of one batch of lines beginning at spool position `start`: one per
/// (host, UTC day), rows in the batch's order, keys in (host, day) order.
pub fn objects(prefix: &str, start: &str, lines: &[&[u8]]) -> Result<Vec<Object>, LakeError> {
    let mut groups: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
    for line in lines {
        let row = Row::from_line(line);
        groups
            .entry((row.host.clone(), row.date()))
            .or_default()
            .push(row);
    }
    groups
        .into_iter()
        .map(|((host, date), rows)| {
            Ok(Object {
                key: layout::object_key(prefix, &host, &date, start),
                bytes: write::parquet_bytes(&rows)?,
                rows: rows.len(),
            })
        })
        .collect()
}
