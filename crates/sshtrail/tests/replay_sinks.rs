//! `sshtrail replay --sink …`: a backfill of captured logs into the daemon's sinks. Every
//! sink gets exactly the lines replay prints, and a backfill run twice adds nothing: the
//! stream drops the repeats by event id, and the lake's objects are named by spool
//! position, so the second run overwrites the first run's objects.
//! Needs nats-server and s3s-fs (skips without them, unless `SSHTRAIL_REQUIRE_LIVE=1`).

mod support;

use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;
use sshtrail_nats::testing::{installed, Server};
use sshtrail_nats::{JetStream, NatsTarget};
use std::collections::BTreeSet;
use std::process::Command;
use support::{S3Server, S3_ACCESS_KEY, S3_SECRET_KEY};

fn replay(sinks: &[String], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sshtrail"));
    cmd.arg("replay");
    for sink in sinks {
        cmd.args(["--sink", sink]);
    }
    let out = cmd
        .envs(env.iter().copied())
        .output()
        .expect("run sshtrail replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn ids(lines: &str) -> Vec<String> {
    lines
        .lines()
        .map(|l| {
            let e: Value = serde_json::from_str(l).expect("an event");
            e["metadata"]["eventId"]
                .as_str()
                .expect("eventId")
                .to_string()
        })
        .collect()
}

#[test]
fn a_backfill_run_twice_is_in_every_sink_once() {
    if !installed("replay_sinks") {
        return;
    }
    let Some(s3) = S3Server::start("replay_sinks") else {
        return;
    };
    let nats = Server::start("replay-sinks", &[]);
    let nats_url = nats.url("stream=BACKFILL&create=true");
    let lake_url = format!(
        "s3-lake://{}/backfill?endpoint=http://127.0.0.1:{}&region=us-east-1",
        s3.bucket, s3.port
    );
    let dir = std::env::temp_dir().join(format!("sshtrail-replay-sinks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let copy = dir.join("copy.json");
    let sinks = [
        format!("file://{}", copy.display()),
        nats_url.clone(),
        lake_url,
    ];
    let env = s3.env();

    let printed = replay(&sinks, &env);
    assert!(printed.lines().count() > 20);
    assert_eq!(
        std::fs::read_to_string(&copy).expect("the file sink"),
        printed
    );
    let again = replay(&sinks[1..], &env);
    assert_eq!(again, printed, "replay is deterministic");

    let want: BTreeSet<String> = ids(&printed).into_iter().collect();
    assert_eq!(want.len(), printed.lines().count(), "ids are distinct");
    let target = NatsTarget::parse(&nats_url).expect("URL");
    let stored = JetStream::connect(&target)
        .and_then(|js| js.stored_messages())
        .expect("the stream");
    let in_stream: Vec<String> = stored.iter().filter_map(|m| m.id.clone()).collect();
    assert_eq!(
        in_stream.len(),
        want.len(),
        "the stream holds each event once after two runs"
    );
    assert_eq!(in_stream.iter().cloned().collect::<BTreeSet<_>>(), want);
    for (message, line) in stored.iter().zip(printed.lines()) {
        assert_eq!(
            &message.payload[..],
            line.as_bytes(),
            "in order, byte for byte"
        );
    }

    let client = sshtrail_sessionstore::s3::connect(
        &format!(
            "s3://{}/backfill?endpoint=http://127.0.0.1:{}&region=us-east-1&access_key_id={S3_ACCESS_KEY}&secret_access_key={S3_SECRET_KEY}",
            s3.bucket, s3.port
        ),
        &Default::default(),
    )
    .expect("client");
    let keys = client.list_keys("backfill/").expect("list");
    let mut rows = Vec::new();
    for key in &keys {
        let bytes = client.get_bytes(key).expect("get");
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).expect("Parquet");
        for record in reader.get_row_iter(None).expect("rows") {
            let record = record.expect("row");
            let (_, id) = record
                .get_column_iter()
                .find(|(n, _)| n.as_str() == "event_id")
                .expect("event_id");
            rows.push(id.to_string().trim_matches('"').to_string());
        }
    }
    assert_eq!(
        rows.len(),
        want.len(),
        "the lake holds each event once after two runs: {keys:?}"
    );
    assert_eq!(rows.into_iter().collect::<BTreeSet<_>>(), want);
    let _ = std::fs::remove_dir_all(&dir);
}
