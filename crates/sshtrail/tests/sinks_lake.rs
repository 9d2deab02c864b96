//! `--sink s3-lake://…`: the daemon's events as Parquet objects in a real S3-compatible
//! server (s3s-fs on loopback), each event in exactly one row, while the server is stopped
//! and started again and while the daemon is killed with `-9` in the middle of its batches;
//! then DuckDB runs the shipped queries (`deploy/sql/duckdb/`) over the objects and gets
//! exactly the events the file output has.
//!
//! Needs no root and no kernel: the audit log is a temporary directory the test writes
//! like auditd would, with copies of the real capture `examples/sshd-session.audit.log`
//! renumbered so that every event is distinct (`support::renumbered_capture`), and the
//! real sshd lines of the same sessions (`examples/sshd-session.auth.log`, copy `n` moved
//! `n`·100 s) so that logins and logouts join. Skips when s3s-fs or DuckDB is missing,
//! unless `SSHTRAIL_REQUIRE_LIVE=1`.

mod support;

use support::wait_until;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;
use sshtrail_sessionstore::s3::Client;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{
    action_serials, complete_events, event_id, renumbered_capture, renumbered_sshd, system_actions,
    S3Server, S3_ACCESS_KEY, S3_SECRET_KEY,
};

const PREFIX: &str = "lake/events";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Setup {
    dir: PathBuf,
    output: PathBuf,
    config: PathBuf,
    env: [(&'static str, &'static str); 2],
}

impl Setup {
    fn new(s3: &S3Server) -> Setup {
        let dir = std::env::temp_dir().join(format!("sshtrail-sinks-lake-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("audit")).expect("dirs");
        std::fs::write(dir.join("audit/audit.log"), b"").expect("audit.log");
        std::fs::write(dir.join("auth.log"), b"").expect("auth.log");
        let url = format!(
            "s3-lake://{}/{PREFIX}?endpoint=http://127.0.0.1:{}&region=us-east-1",
            s3.bucket, s3.port
        );
        // Small batches that wait at most a second: many objects, and a kill lands between them.
        let config = dir.join("sshtrail.toml");
        std::fs::write(
            &config,
            format!("[[sink]]\nurl = \"{url}\"\nbatch_events = 40\nbatch_seconds = 1\n"),
        )
        .expect("config");
        Setup {
            output: dir.join("events.json"),
            config,
            dir,
            env: s3.env(),
        }
    }

    fn start(&self, run: usize) -> Child {
        let stderr = std::fs::File::create(self.dir.join(format!("stderr.{run}"))).expect("log");
        Command::new(env!("CARGO_BIN_EXE_sshtrail"))
            .args(["run", "--config"])
            .arg(&self.config)
            .args(["--audit-source", "file", "--audit-log-dir"])
            .arg(self.dir.join("audit"))
            .args(["--sshd-source", "syslog", "--sshd-log"])
            .arg(self.dir.join("auth.log"))
            .arg("--output")
            .arg(&self.output)
            .arg("--state-dir")
            .arg(self.dir.join("state"))
            .args(["--metrics-listen", "off", "--join-deadline-ms", "200"])
            .envs(self.env)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start the daemon")
    }

    /// Appends copies `copies` of the capture; the serials of their UserActions.
    fn append(&self, copies: std::ops::RangeInclusive<u64>) -> BTreeSet<u64> {
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("audit/audit.log"))
            .expect("audit.log");
        let mut auth = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("auth.log"))
            .expect("auth.log");
        let mut serials = BTreeSet::new();
        for n in copies {
            let (text, with_session) = renumbered_capture(n);
            auth.write_all(renumbered_sshd(n).as_bytes())
                .expect("append");
            log.write_all(text.as_bytes()).expect("append");
            serials.extend(with_session);
        }
        serials
    }

    fn events(&self) -> Vec<Value> {
        complete_events(&self.output)
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn client(s3: &S3Server) -> Client {
    let url = format!(
        "s3://{}/{PREFIX}?endpoint=http://127.0.0.1:{}&region=us-east-1&access_key_id={S3_ACCESS_KEY}&secret_access_key={S3_SECRET_KEY}",
        s3.bucket, s3.port
    );
    sshtrail_sessionstore::s3::connect(&url, &Default::default()).expect("an S3 client")
}

/// One row of the lake: its object and the columns the test checks.
struct LakeRow {
    key: String,
    event_id: String,
    raw: String,
}

/// Every row of every object under the prefix; `None` while the server does not answer.
fn lake(client: &Client) -> Option<Vec<LakeRow>> {
    let mut rows = Vec::new();
    for key in client.list_keys(&format!("{PREFIX}/")).ok()? {
        let bytes = client.get_bytes(&key).ok()?;
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes))
            .unwrap_or_else(|e| panic!("{key} is not a Parquet object: {e}"));
        for record in reader.get_row_iter(None).expect("rows") {
            let record = record.expect("a row");
            let text = |name: &str| match record.get_column_iter().find(|(n, _)| n.as_str() == name)
            {
                Some((_, Field::Str(s))) => s.clone(),
                other => panic!("{key}: column {name}: {other:?}"),
            };
            rows.push(LakeRow {
                key: key.clone(),
                event_id: text("event_id"),
                raw: text("raw"),
            });
        }
    }
    Some(rows)
}

fn wait_delivered(setup: &Setup, client: &Client, what: &str) -> usize {
    wait_until(what, 90, || {
        let events = setup.events();
        let rows = lake(client)?;
        (!events.is_empty() && rows.len() >= events.len()).then_some(rows.len())
    })
}

fn duckdb_installed() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
        panic!("sinks_lake: the duckdb Python package is missing and SSHTRAIL_REQUIRE_LIVE=1");
    }
    ok
}

/// Copies every object into `dir` under its key (as `aws s3 sync` would).
fn mirror(client: &Client, dir: &Path) {
    for key in client
        .list_keys(&format!("{PREFIX}/"))
        .expect("list the lake")
    {
        let path = dir.join(&key);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, client.get_bytes(&key).expect("get")).expect("write");
    }
}

fn query(lake: &Path, sql: &Path, params: &[String]) -> Vec<Value> {
    let out = Command::new(repo().join("scripts/lake-query"))
        .arg(lake)
        .arg(sql)
        .args(params)
        .output()
        .expect("run scripts/lake-query");
    assert!(
        out.status.success(),
        "lake-query {}: {}",
        sql.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect()
}

/// Asserts two id lists are equal, naming only the ids that differ.
fn same_ids(what: &str, got: &[String], want: &[String], events: &[Value]) {
    let got_set: BTreeSet<&String> = got.iter().collect();
    let want_set: BTreeSet<&String> = want.iter().collect();
    let show = |ids: Vec<&&String>| -> Vec<String> {
        ids.iter()
            .map(|id| {
                events
                    .iter()
                    .find(|e| event_id(e) == ***id)
                    .map_or_else(|| id.to_string(), |e| e.to_string())
            })
            .collect()
    };
    let extra = show(got_set.difference(&want_set).collect());
    let missing = show(want_set.difference(&got_set).collect());
    assert!(
        extra.is_empty() && missing.is_empty() && got.len() == want.len(),
        "{what}: {} rows, {} events; not expected: {extra:#?}; missing: {missing:#?}",
        got.len(),
        want.len()
    );
}

fn ids(rows: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| r["event_id"].as_str().expect("event_id").to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn every_event_is_one_row_of_the_lake_across_a_server_outage_and_kill_9() {
    let Some(s3) = S3Server::start("sinks_lake") else {
        return;
    };
    if !duckdb_installed() {
        return;
    }
    let setup = Setup::new(&s3);
    let client = client(&s3);
    let mut daemon = setup.start(1);
    wait_until("daemon-started", 30, || {
        (system_actions(&setup.events(), "daemon-started") == 1).then_some(())
    });

    // 1. The server is up: a first batch of events becomes objects.
    let mut expected = setup.append(0..=1);
    wait_until("the first copies in the output", 30, || {
        action_serials(&setup.events())
            .is_superset(&expected)
            .then_some(())
    });
    wait_delivered(&setup, &client, "the first copies in the lake");

    // 2. The server is down: the output goes on, the sink reports failing.
    s3.stop();
    expected.extend(setup.append(2..=2));
    wait_until("the next copy in the output while S3 is down", 60, || {
        let events = setup.events();
        (action_serials(&events).is_superset(&expected)
            && system_actions(&events, "sink-failed") > 0)
            .then_some(())
    });

    // 3. The server is back: the spooled events are stored, and the sink says so.
    s3.restart();
    wait_until("sink-recovered", 90, || {
        (system_actions(&setup.events(), "sink-recovered") > 0).then_some(())
    });
    let before = wait_delivered(&setup, &client, "the spooled events in the lake");

    // 4. kill -9 as soon as the lake has taken part of what came next: most likely between
    //    an object's PUT and the spool's note of its batch, or between a batch's objects.
    expected.extend(setup.append(3..=9));
    wait_until("the lake to grow", 60, || {
        (lake(&client)?.len() > before).then_some(())
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    let mut daemon = setup.start(2);
    wait_until("every copy in the output after the restart", 60, || {
        action_serials(&setup.events())
            .is_superset(&expected)
            .then_some(())
    });
    // Judged once output and lake agree in size and stay so for 3 s.
    let mut agreed_since: Option<(Instant, usize)> = None;
    let (events, rows) = wait_until("output and lake to settle", 120, || {
        let events = setup.events();
        let rows = lake(&client)?;
        if rows.len() != events.len() {
            agreed_since = None;
            return None;
        }
        match agreed_since {
            Some((since, n)) if n == events.len() => {
                (since.elapsed() >= Duration::from_secs(3)).then_some((events, rows))
            }
            _ => {
                agreed_since = Some((Instant::now(), events.len()));
                None
            }
        }
    });
    let _ = daemon.kill();
    let _ = daemon.wait();

    // The output holds each event once, every UserAction of every copy…
    let by_id: BTreeMap<String, &Value> = events.iter().map(|e| (event_id(e), e)).collect();
    assert_eq!(by_id.len(), events.len(), "an event twice in the output");
    assert_eq!(
        action_serials(&events),
        expected,
        "every UserAction in the output"
    );
    assert!(system_actions(&events, "daemon-started") >= 2);
    // …and the lake exactly the output's events, one row each, byte for byte, each in the
    // partition of its host and UTC day.
    let mut seen = BTreeSet::new();
    for row in &rows {
        assert!(
            seen.insert(row.event_id.clone()),
            "{} twice in the lake",
            row.event_id
        );
        let event = by_id
            .get(&row.event_id)
            .unwrap_or_else(|| panic!("{} is in the lake but not in the output", row.event_id));
        let raw: Value = serde_json::from_str(&row.raw).expect("raw is the JSON line");
        assert_eq!(&&raw, event, "the row is the output's line");
        let host = event["target"]["host"].as_str().expect("target.host");
        let day = &event["loggedAt"].as_str().expect("loggedAt")[..10];
        assert!(
            row.key
                .starts_with(&format!("{PREFIX}/host={host}/date={day}/")),
            "{} in {}",
            row.event_id,
            row.key
        );
    }
    assert_eq!(
        seen.len(),
        by_id.len(),
        "every event of the output is in the lake"
    );
    let objects: BTreeSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    assert!(
        objects.len() >= 3,
        "several batches, several objects: {objects:?}"
    );

    // DuckDB over a copy of the bucket: the shipped queries give what the output gives.
    let copy = setup.dir.join("lake-copy");
    mirror(&client, &copy);
    let lake_dir = copy.join(PREFIX);
    let sql = repo().join("deploy/sql/duckdb");
    let window = |e: &&Value| {
        let t = e["loggedAt"].as_str().unwrap_or("");
        ("2026-11-01".."2026-12-31").contains(&t)
    };
    let week = [
        "since=2026-11-01T00:00:00Z".to_string(),
        "until=2026-12-31T00:00:00Z".to_string(),
    ];
    let login = events
        .iter()
        .find(|e| e["type"] == "UserLogin" && e["outcome"] == "succeeded")
        .expect("a login joined");
    let account = login["subjects"]["loggedAs"].as_str().expect("an account");
    let source = login["source"]["value"].as_str().expect("a source");
    let fingerprint = login["data"]["fingerprint"].as_str().expect("a key login");

    let mut want: Vec<String> = events
        .iter()
        .filter(window)
        .filter(|e| e["subjects"]["loggedAs"] == account)
        .map(event_id)
        .collect();
    want.sort();
    let mut params = vec![format!("user={account}")];
    params.extend(week.iter().cloned());
    assert_eq!(
        ids(&query(&lake_dir, &sql.join("by-account.sql"), &params)),
        want,
        "by-account"
    );

    let mut want: Vec<String> = events
        .iter()
        .filter(window)
        .filter(|e| e["source"]["value"] == source)
        .map(event_id)
        .collect();
    want.sort();
    let mut params = vec![format!("source_ip={source}")];
    params.extend(week.iter().cloned());
    assert_eq!(
        ids(&query(&lake_dir, &sql.join("by-source.sql"), &params)),
        want,
        "by-source"
    );

    // by-key: the sessions (audit session ids) that logged in with the key; every copy's
    // session has the same id, 100 s apart, so this also checks that the query keeps them
    // apart by their logins and yet finds every event of each.
    let sessions: BTreeSet<String> = events
        .iter()
        .filter(|e| e["type"] == "UserLogin" && e["data"]["fingerprint"] == fingerprint)
        .filter_map(|e| e["metadata"]["auditId"].as_str().map(str::to_string))
        .collect();
    let mut want: Vec<String> = events
        .iter()
        .filter(|e| {
            e["metadata"]["auditId"]
                .as_str()
                .is_some_and(|a| sessions.contains(a))
        })
        .filter(|e| e["type"] != "SystemAction")
        .map(event_id)
        .collect();
    want.sort();
    let mut params = vec![format!("fingerprint={fingerprint}")];
    params.extend(week.iter().cloned());
    let got = ids(&query(&lake_dir, &sql.join("by-key.sql"), &params));
    assert!(!want.is_empty());
    same_ids("by-key", &got, &want, &events);
}
