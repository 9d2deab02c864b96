//! A batch of the daemon's real event lines (`tests/data/replay.jsonl`, written by
//! `sshtrail replay` of the bundled capture) becomes Parquet objects that read back, through
//! the `parquet` crate's own reader, as exactly those events.

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row as Record};
use serde_json::Value;
use sshtrail_lake::{objects, row, Row};

const FIXTURE: &str = include_str!("data/replay.jsonl");

fn lines() -> Vec<&'static [u8]> {
    FIXTURE.split_inclusive('\n').map(str::as_bytes).collect()
}

fn records(bytes: &[u8]) -> Vec<Record> {
    let reader =
        SerializedFileReader::new(bytes::Bytes::copy_from_slice(bytes)).expect("a Parquet file");
    reader
        .get_row_iter(None)
        .expect("rows")
        .map(|r| r.expect("a row"))
        .collect()
}

fn field<'a>(record: &'a Record, name: &str) -> &'a Field {
    record
        .get_column_iter()
        .find(|(n, _)| n.as_str() == name)
        .map(|(_, f)| f)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn text(record: &Record, name: &str) -> Option<String> {
    match field(record, name) {
        Field::Null => None,
        Field::Str(s) => Some(s.clone()),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn a_batch_of_real_events_reads_back_as_those_events() {
    let lines = lines();
    let objects = objects("lake/events", "00000001-0000000000000000", &lines).unwrap();
    assert_eq!(objects.len(), 1, "one host, one day");
    assert_eq!(
        objects[0].key,
        "lake/events/host=vm/date=2026-11-23/00000001-0000000000000000.parquet"
    );
    assert_eq!(&objects[0].bytes[..4], b"PAR1");
    let records = records(&objects[0].bytes);
    assert_eq!(records.len(), lines.len());
    assert_eq!(objects[0].rows, lines.len());
    for (record, line) in records.iter().zip(&lines) {
        let event: Value = serde_json::from_slice(line).unwrap();
        let s = |v: &Value| v.as_str().map(str::to_string);
        assert_eq!(
            text(record, "raw").as_deref(),
            Some(std::str::from_utf8(line).unwrap().trim_end())
        );
        assert_eq!(text(record, "event_id"), s(&event["metadata"]["eventId"]));
        assert_eq!(text(record, "type"), s(&event["type"]));
        assert_eq!(text(record, "event_host").as_deref(), Some("vm"));
        assert_eq!(text(record, "session_id"), s(&event["metadata"]["auditId"]));
        assert_eq!(text(record, "user"), s(&event["subjects"]["loggedAs"]));
        assert_eq!(text(record, "user_id"), s(&event["subjects"]["userID"]));
        assert_eq!(text(record, "source_ip"), s(&event["source"]["value"]));
        assert_eq!(
            text(record, "action"),
            s(&event["metadata"]["extra"]["action"])
        );
        assert_eq!(
            text(record, "object"),
            s(&event["metadata"]["extra"]["object"]["primary"])
        );
        let port: i32 = event["source"]["extra"]["port"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(field(record, "source_port"), &Field::Int(port));
        let micros = row::micros(event["loggedAt"].as_str().unwrap()).unwrap();
        assert_eq!(field(record, "time"), &Field::TimestampMicros(micros));
        match (
            field(record, "argv"),
            event["metadata"]["extra"].get("process_args"),
        ) {
            (Field::ListInternal(list), Some(Value::Array(args))) => {
                let got: Vec<&Field> = list.elements().iter().collect();
                assert_eq!(got.len(), args.len(), "{line:?}");
                for (g, a) in got.iter().zip(args) {
                    assert_eq!(**g, Field::Str(a.as_str().unwrap().to_string()));
                }
            }
            (Field::Null, None) => {}
            (got, want) => panic!("argv {got:?} for {want:?}"),
        }
        if event["type"] == "UserLogin" {
            assert_eq!(
                text(record, "fingerprint"),
                s(&event["data"]["fingerprint"])
            );
            assert_eq!(text(record, "auth_method"), s(&event["data"]["method"]));
        }
    }
}

#[test]
fn one_object_per_host_and_utc_day_in_batch_order() {
    // Fabricated from the real lines: the same events moved to other hosts and days.
    let lines = lines();
    let mut moved: Vec<Vec<u8>> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let mut event: Value = serde_json::from_slice(line).unwrap();
        event["target"]["host"] = Value::from(if i % 2 == 0 { "web-1" } else { "db/1=x" });
        if i >= 10 {
            event["loggedAt"] = Value::from("2026-11-24T00:00:00.000Z");
        }
        moved.push(format!("{event}\n").into_bytes());
    }
    let refs: Vec<&[u8]> = moved.iter().map(Vec::as_slice).collect();
    let objects = objects("", "00000002-00000000000000ff", &refs).unwrap();
    let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "host=db%2F1%3Dx/date=2026-11-23/00000002-00000000000000ff.parquet",
            "host=db%2F1%3Dx/date=2026-11-24/00000002-00000000000000ff.parquet",
            "host=web-1/date=2026-11-23/00000002-00000000000000ff.parquet",
            "host=web-1/date=2026-11-24/00000002-00000000000000ff.parquet",
        ]
    );
    let ids: Vec<String> = objects
        .iter()
        .flat_map(|o| records(&o.bytes))
        .map(|r| text(&r, "event_id").unwrap())
        .collect();
    assert_eq!(ids.len(), lines.len(), "every event in exactly one object");
    let first: Vec<String> = records(&objects[0].bytes)
        .iter()
        .map(|r| text(r, "raw").unwrap())
        .collect();
    let want: Vec<String> = moved
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1 && *i < 10)
        .map(|(_, l)| String::from_utf8(l.clone()).unwrap().trim_end().to_string())
        .collect();
    assert_eq!(first, want, "rows keep the batch's order");
}

#[test]
fn hostile_lines_keep_their_bytes_and_name_no_one() {
    // Fabricated: the daemon never writes these; a damaged spool could hold them.
    let hostile: [&[u8]; 6] = [
        b"not json\n",
        b"\xff\xfe{\"type\":\"UserLogin\"}\n",
        b"{\"type\":5,\"target\":{\"host\":7},\"loggedAt\":\"2026-02-30T99:00:00Z\"}\n",
        b"{\"metadata\":{\"extra\":{\"process_args\":[1,null,\"x\"]}},\"source\":{\"extra\":{\"port\":\"99999999999\"}}}\n",
        b"",
        b"[]\n",
    ];
    let objects = objects("p", "00000001-0000000000000000", &hostile).unwrap();
    assert_eq!(objects.len(), 1);
    assert_eq!(
        objects[0].key,
        "p/host=_/date=1970-01-01/00000001-0000000000000000.parquet"
    );
    let records = records(&objects[0].bytes);
    assert_eq!(records.len(), hostile.len());
    for record in &records {
        assert_eq!(text(record, "user"), None);
        assert_eq!(text(record, "session_id"), None);
        assert_eq!(field(record, "time"), &Field::Null);
    }
    assert_eq!(text(&records[0], "raw").as_deref(), Some("not json"));
    assert_eq!(field(&records[3], "source_port"), &Field::Null);
    let a = Row::from_line(hostile[0]);
    assert_eq!(
        a.event_id,
        Row::from_line(hostile[0]).event_id,
        "a derived id is stable"
    );
    assert_ne!(a.event_id, Row::from_line(hostile[5]).event_id);
}

#[test]
fn times_are_read_only_in_the_form_the_daemon_writes() {
    assert_eq!(row::micros("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        row::micros("2026-11-23T11:32:55.723Z"),
        Some(1_795_433_575_723_000)
    );
    assert_eq!(
        row::micros("2026-11-23T11:32:55.7234569Z"),
        Some(1_795_433_575_723_456)
    );
    for bad in [
        "",
        "2026-11-23",
        "2026-11-23T11:32:55",
        "2026-11-23T11:32:55+01:00",
        "2026-13-01T00:00:00Z",
        "2026-11-23T11:32:55.Z",
        "２０２６-11-23T11:32:55Z",
    ] {
        assert_eq!(row::micros(bad), None, "{bad:?}");
    }
}
