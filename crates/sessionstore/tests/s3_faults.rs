//! Faults during a 30 MB multipart upload (fabricated session bytes): the S3 server stopped
//! and restarted mid-upload, and the uploading process killed with SIGKILL and restarted.
//! Both must end with the complete, byte-identical object, continuing the same multipart
//! upload rather than starting over.

mod support;

use sshtrail_sessionstore::{connect, open, s3, Options};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{read_all, synthetic, wait_for, Server};

const SIZE: usize = 30_000_000;
const PARTS: u64 = 6; // 5 MiB parts

fn record(spool: &Path, id: &str) -> Option<s3::UploadRecord> {
    let bytes = std::fs::read(spool.join(format!("{id}{}", s3::RECORD_SUFFIX))).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[test]
fn server_restart_mid_upload_completes_the_same_upload() {
    let Some(server) = Server::start_or_skip("server_restart_mid_upload") else {
        return;
    };
    server.bucket("logs");
    let spool = tempfile::tempdir().unwrap();
    // 6 MB/s: the upload takes ~5 s, long enough to pull the server from under it.
    let url = server.url(
        "logs",
        "audit",
        "part_size=5242880&concurrency=4&max_bandwidth=6000000",
    );
    let mut options = Options {
        spool_dir: Some(spool.path().to_path_buf()),
        ..Default::default()
    };
    options.retry.initial = Duration::from_millis(100);
    options.retry.max = Duration::from_millis(800);
    let store = open(&url, &options).unwrap();
    let data = synthetic(10, SIZE);
    let m = support::meta("m1-b1-20", SIZE as u64);
    let mut log = store.open_local(&m.id).unwrap().unwrap();
    log.write_all(&data).unwrap();
    log.sync_all().unwrap();
    store.finish(&m).unwrap();

    wait_for(60, "a first finished part", || {
        record(spool.path(), &m.id).is_some_and(|r| !r.parts.is_empty())
    });
    let before = record(spool.path(), &m.id).unwrap();
    assert!(
        (before.parts.len() as u64) < PARTS,
        "upload finished before the fault"
    );
    server.stop();
    // Parts in flight break; new connections are refused: each failure is a counted retry.
    let retries_at_stop = store.stats().upload_retries;
    wait_for(30, "retries while the server is down", || {
        store.stats().upload_retries >= retries_at_stop + 3
    });
    let down_error = store.stats().last_error.unwrap();
    assert!(down_error.contains("UploadPart"), "{down_error}");
    server.restart();

    let report = store.shutdown(Duration::from_secs(120));
    assert!(report.is_clean(), "{report:?}");
    let stats = store.stats();
    // The server kept the upload across its restart: every part was sent exactly once
    // successfully, under the upload id from before the fault.
    assert_eq!(stats.parts_uploaded, PARTS, "{stats:?}");
    assert_eq!(stats.uploads_done, 1);
    assert!(stats.upload_retries > retries_at_stop);

    let reader = open(&server.url("logs", "audit", ""), &Options::default()).unwrap();
    assert!(
        read_all(reader.open(&m.id).unwrap()) == data,
        "stored object differs"
    );
    assert_eq!(reader.list().unwrap(), vec![m]);
    assert!(before.upload_id.is_some());
}

fn example_binary() -> PathBuf {
    // target/<profile>/deps/<this test> → target/<profile>/examples/upload
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join("examples/upload");
    if !path.exists() {
        // `cargo test --test s3_faults` alone does not build examples; build it now.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--example",
            "upload",
            "-p",
            "sshtrail-sessionstore",
        ]);
        if dir.ends_with("release") {
            cmd.arg("--release");
        }
        let status = cmd.status().unwrap();
        assert!(status.success(), "building examples/upload failed");
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}

#[test]
fn killed_uploader_resumes_after_restart() {
    let Some(server) = Server::start_or_skip("killed_uploader_resumes_after_restart") else {
        return;
    };
    server.bucket("logs");
    let spool = tempfile::tempdir().unwrap();
    let id = "m1-b1-21";
    let slow = server.url(
        "logs",
        "",
        "part_size=5242880&concurrency=4&max_bandwidth=6000000",
    );

    // First process: writes the session, starts uploading, and is killed with SIGKILL once
    // the spool records finished parts.
    let mut child = Command::new(example_binary())
        .args([
            slow.as_str(),
            spool.path().to_str().unwrap(),
            id,
            &SIZE.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut exited_early = None;
    wait_for(60, "two finished parts", || {
        if let Ok(Some(status)) = child.try_wait() {
            exited_early = Some(status);
            return true;
        }
        record(spool.path(), id).is_some_and(|r| r.parts.len() >= 2)
    });
    assert!(
        exited_early.is_none(),
        "uploader exited before the kill: {exited_early:?}"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = record(spool.path(), id).unwrap();
    let upload_id = before.upload_id.clone().unwrap();
    assert!(
        (before.parts.len() as u64) < PARTS,
        "upload finished before the kill"
    );
    assert!(before.parts.keys().all(|n| (1..=6).contains(n)));

    // The server still holds those parts under that upload id.
    let client = connect(&slow, &Options::default()).unwrap();
    let held = client.list_parts("m1-b1-21.sshlog", &upload_id).unwrap();
    for n in before.parts.keys() {
        assert!(
            held.iter().any(|p| p.number == *n),
            "part {n} not on the server"
        );
    }

    // Second process: only opens the store; the spool makes it resume.
    let fast = server.url("logs", "", "part_size=5242880&concurrency=4");
    let out = Command::new(example_binary())
        .args([
            fast.as_str(),
            spool.path().to_str().unwrap(),
            id,
            &SIZE.to_string(),
            "--resume",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stats = &result["stats"];
    assert_eq!(
        result["report"]["pending"],
        serde_json::json!([]),
        "{result}"
    );
    // It continued the same upload (ListParts under the recorded id) and sent only the
    // parts the server did not have.
    assert_eq!(stats["uploads_resumed"], 1, "{result}");
    let reused = stats["parts_reused"].as_u64().unwrap();
    assert!(reused >= before.parts.len() as u64, "{result}");
    assert_eq!(
        stats["parts_uploaded"].as_u64().unwrap() + reused,
        PARTS,
        "{result}"
    );
    assert_eq!(stats["uploads_done"], 1, "{result}");

    let reader = open(&fast, &Options::default()).unwrap();
    assert!(
        read_all(reader.open(id).unwrap()) == synthetic(SIZE as u64, SIZE),
        "stored object differs"
    );
    let h = client.head("m1-b1-21.sshlog").unwrap().unwrap();
    assert!(h
        .iter()
        .any(|(k, v)| k == "x-amz-meta-user" && v == "alice"));
    let left: Vec<_> = std::fs::read_dir(spool.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != ".lock") // the uploader's lock, not session data
        .collect();
    assert!(left.is_empty(), "spool emptied: {left:?}");
}

#[test]
fn server_that_forgot_the_upload_gets_a_new_one() {
    // moto keeps everything in memory: restarted between two runs of the uploader, it is a
    // server that lost the multipart upload the spool records. The bucket is made again (a
    // real bucket does not vanish; only the upload is meant to be lost here). The next run
    // asks ListParts under the recorded id, hears NoSuchUpload, and starts a new upload.
    let Some(server) = Server::start_kind_or_skip("server_that_forgot_the_upload", "moto") else {
        return;
    };
    server.bucket("logs");
    let spool = tempfile::tempdir().unwrap();
    let mut options = Options {
        spool_dir: Some(spool.path().to_path_buf()),
        ..Default::default()
    };
    options.retry.initial = Duration::from_millis(100);
    options.retry.max = Duration::from_millis(500);
    let slow = server.url(
        "logs",
        "",
        "part_size=5242880&concurrency=2&max_bandwidth=4000000",
    );
    let store = open(&slow, &options).unwrap();
    let data = synthetic(12, 12_000_000);
    let m = support::meta("m1-b1-22", data.len() as u64);
    let mut log = store.open_local(&m.id).unwrap().unwrap();
    log.write_all(&data).unwrap();
    log.sync_all().unwrap();
    store.finish(&m).unwrap();
    wait_for(60, "a first finished part", || {
        record(spool.path(), &m.id).is_some_and(|r| !r.parts.is_empty())
    });
    let report = store.shutdown(Duration::ZERO);
    assert_eq!(report.pending, vec![m.id.clone()]);
    drop(store);
    let old_upload = record(spool.path(), &m.id).unwrap().upload_id.unwrap();

    server.stop();
    server.restart();
    server.bucket("logs");

    let url = server.url("logs", "", "part_size=5242880");
    let store = open(&url, &options).unwrap();
    let report = store.shutdown(Duration::from_secs(60));
    let stats = store.stats();
    assert!(report.is_clean(), "{report:?} {stats:?}");
    assert_eq!(stats.uploads_restarted, 1, "{stats:?}");
    assert_eq!(stats.uploads_resumed, 0, "{stats:?}");
    assert_eq!(stats.parts_uploaded, 3, "all parts again: {stats:?}");
    assert_eq!(stats.uploads_done, 1);
    let reader = open(&url, &Options::default()).unwrap();
    assert!(
        read_all(reader.open(&m.id).unwrap()) == data,
        "stored object differs"
    );
    assert!(!old_upload.is_empty());
}

#[test]
fn killed_after_completing_is_not_sent_again() {
    // The window between CompleteMultipartUpload and recording it: the spool still says "log
    // not uploaded" under an upload id the server no longer knows (to S3, a completed upload
    // id is NoSuchUpload, as is the made-up one below). The object is there, with this
    // session's id and size, so nothing is sent again.
    let Some(server) = Server::start_kind_or_skip("killed_after_completing", "moto") else {
        return;
    };
    server.bucket("logs");
    let url = server.url("logs", "", "part_size=5242880");
    let spool = tempfile::tempdir().unwrap();
    let options = Options {
        spool_dir: Some(spool.path().to_path_buf()),
        ..Default::default()
    };
    let data = synthetic(13, 6_000_000);
    let m = support::meta("m1-b1-23", data.len() as u64);
    let store = open(&url, &options).unwrap();
    store
        .open_local(&m.id)
        .unwrap()
        .unwrap()
        .write_all(&data)
        .unwrap();
    store.finish(&m).unwrap();
    assert!(store.shutdown(Duration::from_secs(60)).is_clean());
    drop(store);

    // Put the spool back as a crash right after CompleteMultipartUpload would leave it.
    std::fs::write(spool.path().join(format!("{}.sshlog", m.id)), &data).unwrap();
    std::fs::write(
        spool.path().join(format!("{}.meta.json", m.id)),
        serde_json::to_vec(&m).unwrap(),
    )
    .unwrap();
    let rec = s3::UploadRecord {
        id: m.id.clone(),
        size: data.len() as u64,
        part_size: 5_242_880,
        upload_id: Some("completed-earlier".into()),
        parts: [(1, "\"e1\"".to_string()), (2, "\"e2\"".to_string())].into(),
        log_uploaded: false,
        meta_uploaded: false,
        index_uploaded: false,
    };
    std::fs::write(
        spool.path().join(format!("{}{}", m.id, s3::RECORD_SUFFIX)),
        serde_json::to_vec(&rec).unwrap(),
    )
    .unwrap();

    let store = open(&url, &options).unwrap();
    assert!(store.shutdown(Duration::from_secs(60)).is_clean());
    let stats = store.stats();
    assert_eq!(stats.parts_uploaded, 0, "{stats:?}");
    assert_eq!(stats.uploads_restarted, 0, "{stats:?}");
    assert_eq!(stats.uploads_done, 1, "{stats:?}");
    assert!(read_all(store.open(&m.id).unwrap()) == data);
}
