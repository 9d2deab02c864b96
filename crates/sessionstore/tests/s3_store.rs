//! The `s3` backend against a real S3-compatible server (s3s-fs on loopback, started by
//! `scripts/s3-server`; skipped when it is not installed unless SSHTRAIL_REQUIRE_LIVE=1).

mod support;

use sshtrail_sessionstore::{connect, open, s3, Error, Options, Store};
use std::io::Write;
use std::time::Duration;
use support::{meta, read_all, synthetic, wait_for, Server};

fn options(spool: &std::path::Path) -> Options {
    support::spooled_options(spool)
}

fn write_session(store: &dyn Store, id: &str, data: &[u8]) {
    let mut log = store.open_local(id).unwrap().expect("s3 spools logs");
    log.write_all(data).unwrap();
    log.sync_all().unwrap();
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn spool_files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".lock") // the uploader's lock, not session data
        .collect();
    v.sort();
    v
}

#[test]
fn small_session_is_one_put_with_metadata() {
    let Some(server) = Server::start_or_skip("small_session_is_one_put_with_metadata") else {
        return;
    };
    server.bucket("logs");
    let spool = tempfile::tempdir().unwrap();
    let url = server.url("logs", "host1", "");
    let store = open(&url, &options(spool.path())).unwrap();
    assert_eq!(store.kind(), "s3");

    let data = synthetic(1, 100_000);
    let m = meta("m1-b1-11", data.len() as u64);
    write_session(store.as_ref(), &m.id, &data);
    store.write_meta(&m).unwrap();
    // Before the upload, the CLI on this host still finds the live session in the spool.
    assert_eq!(store.meta(&m.id).unwrap(), m);
    store.finish(&m).unwrap();

    let report = store.shutdown(Duration::from_secs(30));
    assert!(report.is_clean(), "{report:?}");
    let stats = store.stats();
    assert_eq!(stats.uploads_done, 1);
    assert_eq!(stats.parts_uploaded, 0, "below 5 MiB: a single PUT");
    assert!(stats.bytes_uploaded >= data.len() as u64);
    assert!(
        spool_files(spool.path()).is_empty(),
        "spool emptied: {:?}",
        spool_files(spool.path())
    );

    // Read back through a fresh, read-only store (what `sshtrail sessions` does).
    let reader = open(&url, &Options::default()).unwrap();
    assert_eq!(reader.list().unwrap(), vec![m.clone()]);
    assert_eq!(reader.meta(&m.id).unwrap(), m);
    assert_eq!(read_all(reader.open(&m.id).unwrap()), data);
    assert!(matches!(reader.meta("absent"), Err(Error::NotFound(_))));
    assert!(matches!(reader.open("absent"), Err(Error::NotFound(_))));

    let client = connect(&url, &Options::default()).unwrap();
    let h = client
        .head("host1/m1-b1-11.sshlog")
        .unwrap()
        .expect("log object");
    assert_eq!(header(&h, "x-amz-meta-user"), Some("alice"));
    assert_eq!(header(&h, "x-amz-meta-source-ip"), Some("192.0.2.7"));
    assert_eq!(header(&h, "x-amz-meta-host"), Some("web-1"));
    assert_eq!(header(&h, "x-amz-meta-start"), Some("2026-11-23T10:00:00Z"));
    assert_eq!(header(&h, "x-amz-meta-session-id"), Some("m1-b1-11"));
    assert_eq!(header(&h, "x-amz-meta-digest"), m.digest.as_deref());
    assert!(client.head("host1/m1-b1-11.meta.json").unwrap().is_some());
}

#[test]
fn large_session_is_a_multipart_upload_numbered_from_one() {
    let Some(server) = Server::start_or_skip("large_session_is_a_multipart_upload") else {
        return;
    };
    server.bucket("logs");
    let spool = tempfile::tempdir().unwrap();
    // 5 MiB parts, 4 in flight, slowed to 15 MB/s so that the upload can be watched.
    let url = server.url(
        "logs",
        "",
        "part_size=5242880&concurrency=4&max_bandwidth=15000000",
    );
    let store = open(&url, &options(spool.path())).unwrap();
    let data = synthetic(2, 30_000_000);
    let m = meta("m1-b1-12", data.len() as u64);
    write_session(store.as_ref(), &m.id, &data);
    store.finish(&m).unwrap();

    // While it runs, the server lists the parts it holds: numbered from 1, within 1..=6.
    let record_path = spool.path().join(format!("{}{}", m.id, s3::RECORD_SUFFIX));
    let mut record = None;
    wait_for(60, "a first finished part", || {
        record = std::fs::read(&record_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<s3::UploadRecord>(&b).ok())
            .filter(|r| !r.parts.is_empty() && !r.log_uploaded);
        record.is_some()
    });
    let record = record.unwrap();
    let client = connect(&url, &Options::default()).unwrap();
    let listed = client
        .list_parts("m1-b1-12.sshlog", record.upload_id.as_deref().unwrap())
        .unwrap();
    assert!(!listed.is_empty());
    for p in &listed {
        assert!((1..=6).contains(&p.number), "part number {}", p.number);
        assert!(p.size == 5_242_880 || p.number == 6, "{p:?}");
    }

    let report = store.shutdown(Duration::from_secs(120));
    assert!(report.is_clean(), "{report:?}");
    let stats = store.stats();
    assert_eq!(stats.parts_uploaded, 6, "{stats:?}");
    assert_eq!(stats.uploads_done, 1);

    let h = client.head("m1-b1-12.sshlog").unwrap().expect("object");
    assert_eq!(header(&h, "content-length"), Some("30000000"));
    assert_eq!(header(&h, "x-amz-meta-user"), Some("alice"));
    assert_eq!(header(&h, "x-amz-meta-source-ip"), Some("192.0.2.7"));
    let reader = open(&url, &Options::default()).unwrap();
    assert!(
        read_all(reader.open(&m.id).unwrap()) == data,
        "content differs"
    );
    assert_eq!(reader.list().unwrap(), vec![m]);
}

#[test]
fn shutdown_deadline_leaves_the_upload_in_the_spool() {
    let Some(server) = Server::start_or_skip("shutdown_deadline_leaves_the_upload_in_the_spool")
    else {
        return;
    };
    server.bucket("logs");
    let spool = tempfile::tempdir().unwrap();
    let slow = server.url("logs", "", "part_size=5242880&max_bandwidth=2000000");
    let store = open(&slow, &options(spool.path())).unwrap();
    let data = synthetic(3, 12_000_000);
    let m = meta("m1-b1-13", data.len() as u64);
    write_session(store.as_ref(), &m.id, &data);
    store.finish(&m).unwrap();

    let started = std::time::Instant::now();
    let report = store.shutdown(Duration::from_millis(300));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown overran: {:?}",
        started.elapsed()
    );
    assert!(report.deadline_reached);
    assert_eq!(report.pending, vec![m.id.clone()]);
    assert!(spool.path().join("m1-b1-13.sshlog").exists());
    drop(store);

    // The next start picks it up (and the object is not visible before that).
    let reader = open(&server.url("logs", "", ""), &Options::default()).unwrap();
    assert!(reader.list().unwrap().is_empty());
    let store = open(
        &server.url("logs", "", "part_size=5242880"),
        &options(spool.path()),
    )
    .unwrap();
    let report = store.shutdown(Duration::from_secs(60));
    assert!(report.is_clean(), "{report:?}");
    assert!(
        read_all(reader.open(&m.id).unwrap()) == data,
        "content differs"
    );
}

#[test]
fn unreachable_endpoint_is_retried_and_reported() {
    // No server at all on this port.
    let port = support::free_port();
    let url =
        format!("s3://logs?endpoint=http://127.0.0.1:{port}&access_key_id=a&secret_access_key=b");
    let spool = tempfile::tempdir().unwrap();
    let store = open(&url, &options(spool.path())).unwrap();
    write_session(store.as_ref(), "m1-b1-14", b"abc");
    store.finish(&meta("m1-b1-14", 3)).unwrap();
    wait_for(20, "two retries", || store.stats().upload_retries >= 2);
    let stats = store.stats();
    let last = stats.last_error.clone().unwrap();
    assert!(
        last.contains("PutObject") && last.contains(&format!("127.0.0.1:{port}")),
        "{last}"
    );
    assert_eq!(stats.uploads_pending, 1);

    let err = store.list().unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(err.to_string().contains("ListObjectsV2"), "{err}");
    assert_eq!(store.stats().read_retries, 2, "3 attempts at the read");

    let report = store.shutdown(Duration::from_millis(100));
    assert_eq!(report.pending, vec!["m1-b1-14".to_string()]);
}

#[test]
fn bad_credentials_fail_clearly_and_keep_the_session() {
    let Some(server) = Server::start_or_skip("bad_credentials_fail_clearly") else {
        return;
    };
    server.bucket("logs");
    let url = format!(
        "s3://logs?endpoint=http://127.0.0.1:{}&access_key_id={}&secret_access_key=wrong",
        server.port,
        support::ACCESS_KEY
    );
    let spool = tempfile::tempdir().unwrap();
    let store = open(&url, &options(spool.path())).unwrap();
    let err = store.list().unwrap_err();
    match &err {
        Error::S3 { status, code, .. } => {
            assert_eq!(*status, 403, "{err}");
            assert!(!code.is_empty() && code != "-", "{err}");
        }
        other => panic!("expected an S3 error, got {other}"),
    }
    assert!(err.to_string().contains("HTTP 403"), "{err}");

    write_session(store.as_ref(), "m1-b1-15", b"abc");
    store.finish(&meta("m1-b1-15", 3)).unwrap();
    wait_for(20, "the upload to be given up", || {
        store.stats().upload_failures == 1
    });
    let stats = store.stats();
    assert_eq!(
        stats.upload_retries, 2,
        "3 attempts at a permanent error: {stats:?}"
    );
    assert!(stats.last_error.unwrap().contains("403"));
    let report = store.shutdown(Duration::from_secs(1));
    assert_eq!(report.pending, vec!["m1-b1-15".to_string()]);
    assert!(spool.path().join("m1-b1-15.sshlog").exists());
}

#[test]
fn encryption_and_retention_headers_are_signed_and_accepted() {
    // s3s-fs does not implement SSE or object lock; what this shows is that requests carrying
    // those headers are signed correctly (the server verifies every signed header) for both
    // the single PUT and CreateMultipartUpload paths. The header values are unit-tested.
    let Some(server) = Server::start_or_skip("encryption_and_retention_headers") else {
        return;
    };
    server.bucket("logs");
    let spool = tempfile::tempdir().unwrap();
    let url = server.url(
        "logs",
        "locked",
        "sse=AES256&object_lock_mode=GOVERNANCE&object_lock_retain_days=7&part_size=5242880",
    );
    let store = open(&url, &options(spool.path())).unwrap();
    let small = synthetic(4, 1000);
    let large = synthetic(5, 6_000_000);
    for (id, data) in [("m1-b1-16", &small), ("m1-b1-17", &large)] {
        write_session(store.as_ref(), id, data);
        store.finish(&meta(id, data.len() as u64)).unwrap();
    }
    let report = store.shutdown(Duration::from_secs(60));
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(store.stats().parts_uploaded, 2);
    assert!(read_all(store.open("m1-b1-17").unwrap()) == large);
    assert_eq!(store.list().unwrap().len(), 2);
}

#[test]
fn one_uploader_per_spool_and_a_read_only_view_of_it() {
    let Some(server) = Server::start_or_skip("one_uploader_per_spool") else {
        return;
    };
    server.bucket("logs");
    let spool = tempfile::tempdir().unwrap();
    let url = server.url("logs", "", "");
    let daemon = open(&url, &options(spool.path())).unwrap();
    let m = meta("m1-b1-18", 4);
    write_session(daemon.as_ref(), &m.id, b"live");
    daemon.write_meta(&m).unwrap();

    // A second uploader on the same spool is refused.
    let err = match open(&url, &options(spool.path())) {
        Ok(_) => panic!("second writable open accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("spool_dir") && err.contains("in use"), "{err}");

    // The CLI's view: finds the live session in the spool, uploads nothing, writes nothing.
    let cli = open(
        &url,
        &Options {
            spool_dir: Some(spool.path().to_path_buf()),
            spool_read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(cli.meta(&m.id).unwrap(), m);
    assert_eq!(read_all(cli.open(&m.id).unwrap()), b"live");
    assert!(
        cli.list().unwrap().is_empty(),
        "list shows what is uploaded"
    );
    assert!(cli.open_local("m1-b1-19").is_err());
    assert!(cli.shutdown(Duration::from_secs(1)).is_clean());

    daemon.finish(&m).unwrap();
    assert!(daemon.shutdown(Duration::from_secs(30)).is_clean());
    assert_eq!(cli.list().unwrap(), vec![m]);
    drop(daemon);
    // The lock went with the store.
    assert!(open(&url, &options(spool.path())).is_ok());
}

#[test]
fn prefixes_with_spaces_and_non_ascii_are_signed_as_encoded() {
    // The server recomputes the signature over the path it received: a mismatch in URI
    // encoding between the canonical request and the wire would be a 403 here.
    let Some(server) = Server::start_or_skip("prefixes_with_spaces_and_non_ascii") else {
        return;
    };
    server.bucket("logs");
    let spool = tempfile::tempdir().unwrap();
    let url = server.url("logs", "site%201/h%C3%B6st+x", "");
    let store = open(&url, &options(spool.path())).unwrap();
    let m = meta("m1-b1-40", 3);
    write_session(store.as_ref(), &m.id, b"abc");
    store.finish(&m).unwrap();
    assert!(store.shutdown(Duration::from_secs(30)).is_clean());
    assert_eq!(store.list().unwrap(), vec![m.clone()]);
    assert_eq!(read_all(store.open(&m.id).unwrap()), b"abc");
    let client = connect(&url, &Options::default()).unwrap();
    assert!(client
        .head("site 1/höst+x/m1-b1-40.sshlog")
        .unwrap()
        .is_some());
}
