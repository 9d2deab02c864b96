//! The `file` and `none` backends and URL handling, as the daemon and the CLI use them.

mod support;

use sshtrail_sessionstore::{open, Error, Options};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use support::meta;

#[test]
fn file_store_keeps_logs_and_sidecars() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let store = open(&format!("file://{}", dir.display()), &Options::default()).unwrap();
    assert_eq!(store.kind(), "file");
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o750
    );

    // A live session: appended to, sidecar updated, then finished.
    let mut m = meta("host1-boot1-7", 0);
    m.end = None;
    let mut log = store.open_local(&m.id).unwrap().expect("file keeps logs");
    log.write_all(b"first records;").unwrap();
    store.write_meta(&m).unwrap();
    // Reopening (daemon restart) never truncates; writes append.
    drop(log);
    let mut log = store.open_local(&m.id).unwrap().unwrap();
    log.write_all(b"more records").unwrap();
    log.sync_all().unwrap();
    m.end = Some("2026-11-23T10:05:00Z".into());
    m.bytes = 26;
    store.finish(&m).unwrap();

    let log_path = dir.join("host1-boot1-7.sshlog");
    let meta_path = dir.join("host1-boot1-7.meta.json");
    assert_eq!(
        std::fs::read(&log_path).unwrap(),
        b"first records;more records"
    );
    for p in [&log_path, &meta_path] {
        assert_eq!(
            std::fs::metadata(p).unwrap().permissions().mode() & 0o777,
            0o640,
            "{p:?}"
        );
    }

    let mut other = meta("host1-boot1-3", 3);
    other.start = "2026-11-23T09:00:00Z".into();
    store
        .open_local(&other.id)
        .unwrap()
        .unwrap()
        .write_all(b"abc")
        .unwrap();
    store.finish(&other).unwrap();

    let list = store.list().unwrap();
    assert_eq!(list, vec![other.clone(), m.clone()], "oldest first");
    assert_eq!(store.meta(&m.id).unwrap(), m);
    let mut bytes = Vec::new();
    store.open(&m.id).unwrap().read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, b"first records;more records");

    // No temporary files left behind by the atomic sidecar writes.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");

    assert!(matches!(store.meta("nope"), Err(Error::NotFound(_))));
    assert!(matches!(store.open("nope"), Err(Error::NotFound(_))));
    assert!(store.shutdown(std::time::Duration::from_secs(1)).is_clean());
}

use std::io::Read;

#[test]
fn ids_that_could_escape_are_rejected_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(
        &format!("file://{}", tmp.path().display()),
        &Options::default(),
    )
    .unwrap();
    let long = "x".repeat(129);
    for id in [
        "../x",
        "/etc/passwd",
        "",
        long.as_str(),
        ".hidden",
        "a/b",
        "..",
        "a\nb",
    ] {
        let err = store.open_local(id).unwrap_err();
        assert!(matches!(err, Error::InvalidId { .. }), "{id:?}: {err}");
        assert!(err.to_string().contains("invalid session id"), "{err}");
        assert!(
            matches!(store.meta(id), Err(Error::InvalidId { .. })),
            "{id:?}"
        );
        assert!(
            matches!(store.open(id), Err(Error::InvalidId { .. })),
            "{id:?}"
        );
        assert!(matches!(
            store.write_meta(&meta(id, 0)),
            Err(Error::InvalidId { .. })
        ));
        assert!(matches!(
            store.finish(&meta(id, 0)),
            Err(Error::InvalidId { .. })
        ));
    }
    // Nothing was created outside (or inside) the directory.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    assert!(!tmp.path().parent().unwrap().join("x.sshlog").exists());
}

#[test]
fn a_damaged_sidecar_does_not_hide_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(
        &format!("file://{}", tmp.path().display()),
        &Options::default(),
    )
    .unwrap();
    store.finish(&meta("good", 1)).unwrap();
    std::fs::write(tmp.path().join("bad.meta.json"), b"{not json").unwrap();
    let ids: Vec<String> = store.list().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, ["good"]);
    let err = store.meta("bad").unwrap_err().to_string();
    assert!(err.contains("bad.meta.json"), "{err}");
}

#[test]
fn none_keeps_nothing() {
    let store = open("none", &Options::default()).unwrap();
    assert_eq!(store.kind(), "none");
    assert!(store.open_local("s1").unwrap().is_none());
    store.finish(&meta("s1", 0)).unwrap();
    assert!(store.list().unwrap().is_empty());
    assert!(matches!(store.meta("s1"), Err(Error::NotFound(_))));
    assert!(store.open_local("../x").is_err());
}

#[test]
fn bad_urls_say_what_is_wrong() {
    let err = |u: &str| match open(u, &Options::default()) {
        Ok(_) => panic!("{u} was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err("ftp://x").contains("expected none, file:///dir or s3://"));
    assert!(err("file://relative/dir").contains("absolute path"));
    assert!(err("file:///tmp/x?mode=0700").contains("\"mode\""));
    let e = err("s3://bucket/p?endpoint=http://127.0.0.1:9&colour=red");
    assert!(e.contains("unknown query key \"colour\""), "{e}");
    let e = err("s3://bucket/p?endpoint=http://127.0.0.1:9&access_key_id=a&secret_access_key=b&object_lock_mode=FOREVER&object_lock_retain_days=1");
    assert!(
        e.contains("object_lock_mode") && e.contains("FOREVER"),
        "{e}"
    );
}

#[test]
fn s3_without_credentials_names_the_sources() {
    // An explicit, missing credentials file is an error naming the file.
    let e = match open(
        "s3://b?endpoint=http://127.0.0.1:9&credentials_file=/nonexistent/creds",
        &Options::default(),
    ) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("/nonexistent/creds"), "{e}");
    // A profile that is not in the file.
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("credentials");
    std::fs::write(
        &f,
        "[default]\naws_access_key_id=A\naws_secret_access_key=B\n",
    )
    .unwrap();
    let e = match open(
        &format!(
            "s3://b?endpoint=http://127.0.0.1:9&credentials_file={}&profile=audit",
            f.display()
        ),
        &Options::default(),
    ) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("[audit]"), "{e}");
    // The default profile of the same file works (read-only store: no spool).
    let store = open(
        &format!(
            "s3://b?endpoint=http://127.0.0.1:9&credentials_file={}",
            f.display()
        ),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(store.kind(), "s3");
    let e = store.open_local("s1").unwrap_err().to_string();
    assert!(e.contains("spool_dir"), "{e}");
}
