//! The shipped DDL (`deploy/sql/`) names every column the objects have, in their order,
//! so that a table made from it reads every column of every object.

use sshtrail_lake::columns::COLUMNS;
use std::path::Path;

fn ddl(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/sql")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The column names of the first CREATE TABLE's column list, unquoted, in order.
fn declared(text: &str) -> Vec<String> {
    let start = text.find("CREATE ").expect("a CREATE statement");
    let open = start + text[start..].find('(').expect("a column list");
    let close = open
        + text[open..]
            .find("\n)")
            .expect("the end of the column list");
    text[open + 1..close]
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(|name| name.trim_matches(|c| c == '`' || c == '"').to_string())
        .collect()
}

#[test]
fn athena_and_trino_tables_have_every_column_in_order() {
    let columns: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(declared(&ddl("athena.sql")), columns, "athena.sql");
    let mut with_partitions = columns.clone();
    with_partitions.extend(["host", "date"]);
    assert_eq!(declared(&ddl("trino.sql")), with_partitions, "trino.sql");
    let athena = ddl("athena.sql");
    assert!(athena.contains("PARTITIONED BY (host string, `date` string)"));
}

#[test]
fn the_message_type_parses_and_has_one_leaf_per_column() {
    let schema =
        parquet::schema::parser::parse_message_type(&sshtrail_lake::columns::message_type())
            .expect("the message type parses");
    let descriptor = parquet::schema::types::SchemaDescriptor::new(std::sync::Arc::new(schema));
    assert_eq!(descriptor.num_columns(), COLUMNS.len());
    for (leaf, column) in descriptor.columns().iter().zip(COLUMNS) {
        assert_eq!(leaf.path().parts()[0], column.name);
    }
}
