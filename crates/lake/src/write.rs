//! Rows → the bytes of one Parquet object (one row group, Snappy pages, statistics on).

use crate::columns::message_type;
use crate::row::Row;
use crate::LakeError;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::sync::Arc;

/// One column's values with their definition (and for `argv`, repetition) levels.
enum Values {
    Bytes(Vec<ByteArray>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
}

struct Leaf {
    values: Values,
    def: Option<Vec<i16>>,
    rep: Option<Vec<i16>>,
}

fn required(rows: &[Row], get: impl Fn(&Row) -> &str) -> Leaf {
    Leaf {
        values: Values::Bytes(rows.iter().map(|r| ByteArray::from(get(r))).collect()),
        def: None,
        rep: None,
    }
}

fn optional_text(rows: &[Row], get: impl Fn(&Row) -> Option<&str>) -> Leaf {
    let mut values = Vec::new();
    let def = rows
        .iter()
        .map(|r| match get(r) {
            Some(v) => {
                values.push(ByteArray::from(v));
                1
            }
            None => 0,
        })
        .collect();
    Leaf {
        values: Values::Bytes(values),
        def: Some(def),
        rep: None,
    }
}

/// An optional number column: its values, and 1 or 0 for present or null.
fn optional<T>(
    rows: &[Row],
    get: impl Fn(&Row) -> Option<T>,
    column: fn(Vec<T>) -> Values,
) -> Leaf {
    let mut values = Vec::new();
    let def = rows
        .iter()
        .map(|r| {
            get(r).map_or(0, |v| {
                values.push(v);
                1
            })
        })
        .collect();
    Leaf {
        values: column(values),
        def: Some(def),
        rep: None,
    }
}

/// The three-level LIST of Parquet's spec: no list (0), an empty list (1), an element (3).
fn list(rows: &[Row], get: impl Fn(&Row) -> Option<&[String]>) -> Leaf {
    let (mut values, mut def, mut rep) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        match get(row) {
            None => {
                def.push(0);
                rep.push(0);
            }
            Some([]) => {
                def.push(1);
                rep.push(0);
            }
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    values.push(ByteArray::from(item.as_str()));
                    def.push(3);
                    rep.push(i16::from(i > 0));
                }
            }
        }
    }
    Leaf {
        values: Values::Bytes(values),
        def: Some(def),
        rep: Some(rep),
    }
}

/// The leaves in [`crate::columns::COLUMNS`] order.
fn leaves(rows: &[Row]) -> Vec<Leaf> {
    vec![
        required(rows, |r| &r.event_id),
        optional(rows, |r| r.time, Values::Int64),
        required(rows, |r| &r.kind),
        required(rows, |r| &r.host),
        optional_text(rows, |r| r.machine_id.as_deref()),
        optional_text(rows, |r| r.component.as_deref()),
        optional_text(rows, |r| r.outcome.as_deref()),
        optional_text(rows, |r| r.session_id.as_deref()),
        optional_text(rows, |r| r.user.as_deref()),
        optional_text(rows, |r| r.user_id.as_deref()),
        optional_text(rows, |r| r.source_ip.as_deref()),
        optional(rows, |r| r.source_port, Values::Int32),
        optional_text(rows, |r| r.action.as_deref()),
        optional_text(rows, |r| r.object.as_deref()),
        optional_text(rows, |r| r.object_type.as_deref()),
        list(rows, |r| r.argv.as_deref()),
        optional_text(rows, |r| r.exe.as_deref()),
        optional(rows, |r| r.pid, Values::Int64),
        optional_text(rows, |r| r.auth_method.as_deref()),
        optional_text(rows, |r| r.fingerprint.as_deref()),
        optional_text(rows, |r| r.cert_id.as_deref()),
        optional_text(rows, |r| r.data.as_deref()),
        required(rows, |r| &r.raw),
    ]
}

/// The Parquet bytes of `rows`, in their order.
pub fn parquet_bytes(rows: &[Row]) -> Result<Vec<u8>, LakeError> {
    let schema = Arc::new(parse_message_type(&message_type())?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by("sshtrail".into())
            .build(),
    );
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema, props)?;
    let mut group = writer.next_row_group()?;
    let mut leaves = leaves(rows).into_iter();
    while let Some(mut column) = group.next_column()? {
        let leaf = leaves
            .next()
            .ok_or(LakeError::Schema("more columns than values"))?;
        let (def, rep) = (leaf.def.as_deref(), leaf.rep.as_deref());
        match &leaf.values {
            Values::Bytes(v) => column.typed::<ByteArrayType>().write_batch(v, def, rep)?,
            Values::Int32(v) => column.typed::<Int32Type>().write_batch(v, def, rep)?,
            Values::Int64(v) => column.typed::<Int64Type>().write_batch(v, def, rep)?,
        };
        column.close()?;
    }
    if leaves.next().is_some() {
        return Err(LakeError::Schema("more values than columns"));
    }
    group.close()?;
    writer.close()?;
    Ok(out)
}
