//! DuckDB (the Python package, as users run it) reads the objects this crate writes, through
//! the shipped view and queries (`deploy/sql/duckdb/`, run by `scripts/lake-query`), and
//! gets back the events of the real fixture with their types intact. Skips when the duckdb
//! package is missing, unless `SSHTRAIL_REQUIRE_LIVE=1`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURE: &str = include_str!("data/replay.jsonl");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn duckdb_installed() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
        panic!("the duckdb Python package is missing and SSHTRAIL_REQUIRE_LIVE=1 (scripts/install-deps)");
    }
    ok
}

fn query(lake: &Path, sql: &str, params: &[&str]) -> Vec<Value> {
    let out = Command::new(repo().join("scripts/lake-query"))
        .arg(lake)
        .arg(repo().join("deploy/sql/duckdb").join(sql))
        .args(params)
        .output()
        .expect("run scripts/lake-query");
    assert!(
        out.status.success(),
        "lake-query {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect()
}

fn write_lake(dir: &Path, lines: &[&[u8]]) {
    // Two batches, as the forwarder would hand them over.
    let (a, b) = lines.split_at(lines.len() / 2);
    for (start, batch) in [
        ("00000001-0000000000000000", a),
        ("00000001-0000000000001000", b),
    ] {
        for object in sshtrail_lake::objects("", start, batch).unwrap() {
            let path = dir.join(&object.key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &object.bytes).unwrap();
        }
    }
}

#[test]
fn the_shipped_queries_find_the_fixture_events() {
    if !duckdb_installed() {
        eprintln!("SKIP: the duckdb Python package is not installed");
        return;
    }
    let lines: Vec<&[u8]> = FIXTURE.split_inclusive('\n').map(str::as_bytes).collect();
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    write_lake(dir.path(), &lines);
    let week = ["since=2026-11-20T00:00:00Z", "until=2026-11-27T00:00:00Z"];

    let account = events[0]["subjects"]["loggedAs"].as_str().unwrap();
    let mut params = vec![format!("user={account}")];
    params.extend(week.iter().map(|s| s.to_string()));
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    let rows = query(dir.path(), "by-account.sql", &params);
    let want: Vec<&str> = events
        .iter()
        .filter(|e| e["subjects"]["loggedAs"] == account)
        .map(|e| e["metadata"]["eventId"].as_str().unwrap())
        .collect();
    let mut got: Vec<&str> = rows
        .iter()
        .map(|r| r["event_id"].as_str().unwrap())
        .collect();
    let mut sorted_want = want.clone();
    got.sort();
    sorted_want.sort();
    assert_eq!(
        got, sorted_want,
        "by-account: every event of the account, once"
    );
    assert!(
        rows.iter().all(|r| r["host"] == "vm"),
        "host from the partition"
    );
    let exec = rows
        .iter()
        .find(|r| r["action"] == "executed")
        .expect("an exec");
    assert!(exec["argv"].is_array(), "argv is a list: {exec}");
    assert!(
        exec["time"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-23T11:32:55.722"),
        "time is a UTC timestamp: {exec}"
    );

    // by-key: the fixture's sessions all logged in with keys; each key's sessions.
    let login = events.iter().find(|e| e["type"] == "UserLogin").unwrap();
    let fingerprint = login["data"]["fingerprint"].as_str().unwrap();
    let key = format!("fingerprint={fingerprint}");
    let rows = query(dir.path(), "by-key.sql", &[&key, week[0], week[1]]);
    let sessions: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "UserLogin" && e["data"]["fingerprint"] == fingerprint)
        .map(|e| &e["metadata"]["auditId"])
        .collect();
    let mut want: Vec<&str> = events
        .iter()
        .filter(|e| sessions.contains(&&e["metadata"]["auditId"]))
        .map(|e| e["metadata"]["eventId"].as_str().unwrap())
        .collect();
    let mut got: Vec<&str> = rows
        .iter()
        .map(|r| r["event_id"].as_str().unwrap())
        .collect();
    want.sort();
    got.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want, "by-key: every event of the key's sessions, once");

    // Outside the window: nothing.
    let rows = query(
        dir.path(),
        "by-source.sql",
        &[
            "source_ip=127.0.0.1",
            "since=2026-11-24T00:00:00Z",
            "until=2026-11-25T00:00:00Z",
        ],
    );
    assert!(rows.is_empty(), "{rows:?}");
    let rows = query(
        dir.path(),
        "by-source.sql",
        &["source_ip=127.0.0.1", week[0], week[1]],
    );
    assert_eq!(
        rows.len(),
        events
            .iter()
            .filter(|e| e["source"]["value"] == "127.0.0.1")
            .count()
    );
}
