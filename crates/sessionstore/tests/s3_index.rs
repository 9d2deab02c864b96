//! The fleet session index against a real S3-compatible server (s3s-fs on loopback): a
//! filtered listing reads key listings only and gives what the sidecars say; a store from
//! before the index is listed from its sidecars until `reindex`, and then from the index.

mod support;

use sshtrail_sessionstore::{connect, open, Filter, Options, SessionMeta, Store};
use std::io::Write;
use std::time::Duration;
use support::{meta, Server};

fn options(spool: &std::path::Path) -> Options {
    support::spooled_options(spool)
}

/// Sessions of several users on several hosts and days; one user name is hostile (key
/// separators, escapes, non-ASCII) and one too long for a key, so its entries hold only the
/// id and its listing reads that sidecar.
fn sessions(count: usize, id_base: usize) -> Vec<SessionMeta> {
    let users = ["alice", "bob", "a/b~c%d é\n../x", &"ü".repeat(300), "root"];
    (0..count)
        .map(|i| {
            let mut m = meta(
                &format!("m{}-b1-{}", id_base + i, id_base + i),
                100 + i as u64,
            );
            m.user = users[i % users.len()].to_string();
            m.host = format!("web-{}", i % 3);
            // Three days; the last session of each day starts a second before midnight.
            let day = 1 + (i / 7) % 3;
            m.start = if i % 7 == 6 {
                format!("2026-11-{day:02}T23:59:59.999Z")
            } else {
                format!("2026-11-{day:02}T{:02}:00:00.000Z", i % 24)
            };
            m.end = (i % 4 != 0).then(|| format!("2026-11-{day:02}T23:59:59.999Z"));
            if i % 5 == 0 {
                m.digest = None;
                m.source_port = None;
            }
            m
        })
        .collect()
}

fn upload(store: &dyn Store, metas: &[SessionMeta]) {
    for m in metas {
        let mut log = store.open_local(&m.id).unwrap().expect("s3 spools logs");
        log.write_all(format!("log of {}", m.id).as_bytes())
            .unwrap();
        log.sync_all().unwrap();
        store.finish(m).unwrap();
    }
}

fn filters() -> Vec<Filter> {
    let f =
        |user: Option<&str>, host: Option<&str>, since: Option<&str>, until: Option<&str>| Filter {
            user: user.map(Into::into),
            host: host.map(Into::into),
            since: since.map(Into::into),
            until: until.map(Into::into),
        };
    vec![
        Filter::default(),
        f(Some("alice"), None, None, None),
        f(Some("a/b~c%d é\n../x"), None, None, None),
        f(Some(&"ü".repeat(300)), None, None, None),
        f(Some("nobody"), None, None, None),
        f(None, Some("web-1"), None, None),
        f(Some("bob"), Some("web-2"), None, None),
        f(None, None, Some("2026-11-02"), Some("2026-11-02")),
        f(None, None, Some("2026-11-02"), None),
        f(None, None, None, Some("2026-11-01")),
        f(Some("root"), None, Some("2026-11-01"), Some("2026-11-03")),
    ]
}

/// Requests a listing cost: (GetObject, ListObjectsV2 pages).
fn cost(store: &dyn Store, f: impl FnOnce()) -> (u64, u64) {
    let before = store.stats();
    f();
    let after = store.stats();
    (
        after.get_requests - before.get_requests,
        after.list_requests - before.list_requests,
    )
}

#[test]
fn filtered_listings_read_the_index_not_the_sidecars() {
    // moto keeps keys of up to 1,024 bytes, as S3 does.
    let test = "filtered_listings_read_the_index_not_the_sidecars";
    if let Some(server) = Server::start_kind_or_skip(test, "moto") {
        filtered_listings(&server, false);
    }
}

#[test]
fn a_server_that_refuses_long_keys_gets_short_entries() {
    // s3s-fs keeps each key's base64 in one file name and fails (HTTP 500) above ~160 bytes:
    // the uploader falls back to the short entries, and listings read those sidecars.
    let test = "a_server_that_refuses_long_keys_gets_short_entries";
    if let Some(server) = Server::start_or_skip(test) {
        filtered_listings(&server, true);
    }
}

fn filtered_listings(server: &Server, short_entries: bool) {
    server.bucket("logs");
    let url = server.url("logs", "fleet", "");
    let spool = tempfile::tempdir().unwrap();
    let metas = sessions(if short_entries { 14 } else { 42 }, 0);
    {
        let writer = open(&url, &options(spool.path())).unwrap();
        upload(writer.as_ref(), &metas);
        let report = writer.shutdown(Duration::from_secs(60));
        assert!(report.is_clean(), "{report:?} {:?}", writer.stats());
    }

    let reader = open(&url, &Options::default()).unwrap();
    let sidecars = reader.list().unwrap();
    assert_eq!(sidecars.len(), metas.len());
    let long_user = "ü".repeat(300);
    for filter in filters() {
        let mut expected = sidecars.clone();
        expected.retain(|m| filter.matches(m));
        let mut listed = Vec::new();
        let (gets, lists) = cost(reader.as_ref(), || {
            listed = reader.list_matching(&filter).unwrap();
        });
        assert_eq!(listed, expected, "{filter:?}");
        // Only sessions whose entry holds just the id cost a GET: on S3 those of the long
        // user name; on s3s-fs every session whose whole entries it refused.
        let long = expected.iter().filter(|m| m.user == long_user).count() as u64;
        if short_entries {
            // At most one per session of the partition listed (a user's, for user and host).
            let partition = Filter {
                host: filter.host.clone().filter(|_| filter.user.is_none()),
                ..filter.clone()
            };
            let most = sidecars.iter().filter(|m| partition.matches(m)).count() as u64;
            assert!(gets >= long && gets <= most, "{gets} GETs for {filter:?}");
            if filter == Filter::default() {
                let with_digest = expected.iter().filter(|m| m.digest.is_some()).count();
                assert!(
                    gets >= with_digest as u64,
                    "a digest makes the key too long for s3s-fs"
                );
            }
        } else {
            assert_eq!(gets, long, "GETs for {filter:?}");
        }
        let days_listed = match (&filter.since, &filter.until) {
            (Some(s), Some(u)) if filter.user.is_none() && filter.host.is_none() => {
                (u[8..].parse::<u64>().unwrap() - s[8..].parse::<u64>().unwrap()) + 1
            }
            (Some(_), Some(_)) => 3, // one listing per day of the user's or host's partition
            _ => 1,
        };
        assert_eq!(lists, days_listed, "listings for {filter:?}");
    }
    assert!(reader
        .list_matching(&Filter {
            since: Some("2026-11-31".into()),
            ..Default::default()
        })
        .is_err());
}

#[test]
fn a_store_from_before_the_index_is_listed_from_sidecars_until_reindexed() {
    let Some(server) = Server::start_or_skip(
        "a_store_from_before_the_index_is_listed_from_sidecars_until_reindexed",
    ) else {
        return;
    };
    server.bucket("logs");
    let url = server.url("logs", "old", "");
    // What a version before the index left in the bucket: the log and the sidecar of each
    // session, nothing else (written here with the store's own client).
    let old = sessions(12, 0);
    let client = connect(&url, &Options::default()).unwrap();
    for m in &old {
        client
            .put_object(&format!("old/{}.sshlog", m.id), b"old log", &[])
            .unwrap();
        let sidecar = serde_json::to_vec(m).unwrap();
        client
            .put_object(&format!("old/{}.meta.json", m.id), &sidecar, &[])
            .unwrap();
    }
    // A daemon of this version starts on it and uploads one more session: the prefix is not
    // empty, so it must not claim the index is complete.
    let spool = tempfile::tempdir().unwrap();
    let new = sessions(1, 100);
    {
        let writer = open(&url, &options(spool.path())).unwrap();
        upload(writer.as_ref(), &new);
        assert!(writer.shutdown(Duration::from_secs(30)).is_clean());
    }
    let reader = open(&url, &Options::default()).unwrap();
    let all = reader.list().unwrap();
    assert_eq!(all.len(), old.len() + new.len());
    let alice = Filter {
        user: Some("alice".into()),
        ..Default::default()
    };
    let mut expected = all.clone();
    expected.retain(|m| alice.matches(m));
    let mut listed = Vec::new();
    let (gets, _) = cost(reader.as_ref(), || {
        listed = reader.list_matching(&alice).unwrap();
    });
    assert_eq!(listed, expected);
    assert_eq!(gets, all.len() as u64, "no marker: every sidecar is read");

    let report = reader.reindex().unwrap().expect("s3 keeps an index");
    assert_eq!(report.sessions, all.len() as u64);
    assert_eq!(
        report.indexed,
        old.len() as u64,
        "the new session had its entries"
    );
    assert_eq!(report.unreadable, 0);
    let (gets, _) = cost(reader.as_ref(), || {
        listed = reader.list_matching(&alice).unwrap();
    });
    assert_eq!(listed, expected);
    assert_eq!(gets, 0, "the index answers now");
    assert_eq!(
        reader.list_matching(&Filter::default()).unwrap().len(),
        all.len()
    );

    // Again: nothing to add, and no sidecar needs reading to know it (the long user's
    // entries hold only the id, so those sidecars are read).
    let long_user = old.iter().filter(|m| m.user.len() > 300).count() as u64;
    let mut again = None;
    let (gets, _) = cost(reader.as_ref(), || again = Some(reader.reindex().unwrap()));
    assert_eq!(again.flatten().map(|r| r.indexed), Some(0));
    assert_eq!(gets, long_user, "only the sidecars of id-only entries");
}

#[test]
fn an_upload_left_by_the_previous_version_gets_its_entries_when_it_resumes() {
    let Some(server) = Server::start_or_skip(
        "an_upload_left_by_the_previous_version_gets_its_entries_when_it_resumes",
    ) else {
        return;
    };
    server.bucket("logs");
    let url = server.url("logs", "upgrade", "");
    let spool = tempfile::tempdir().unwrap();
    let m = sessions(1, 7).remove(0);
    // The previous version stopped after storing log and sidecar, before removing its spool
    // files: its upload record has no `index_uploaded` field.
    let client = connect(&url, &Options::default()).unwrap();
    client
        .put_object(&format!("upgrade/{}.sshlog", m.id), b"log", &[])
        .unwrap();
    let sidecar = serde_json::to_vec(&m).unwrap();
    client
        .put_object(&format!("upgrade/{}.meta.json", m.id), &sidecar, &[])
        .unwrap();
    std::fs::write(spool.path().join(format!("{}.sshlog", m.id)), b"log").unwrap();
    std::fs::write(spool.path().join(format!("{}.meta.json", m.id)), &sidecar).unwrap();
    let record = serde_json::json!({
        "id": m.id, "size": 3, "part_size": 8388608,
        "log_uploaded": true, "meta_uploaded": true,
    });
    std::fs::write(
        spool.path().join(format!("{}.upload.json", m.id)),
        record.to_string(),
    )
    .unwrap();
    {
        let writer = open(&url, &options(spool.path())).unwrap();
        assert!(writer.shutdown(Duration::from_secs(30)).is_clean());
    }
    let reader = open(&url, &Options::default()).unwrap();
    let host = Filter {
        host: Some(m.host.clone()),
        ..Default::default()
    };
    // The marker is not there (the prefix held this session before the new version ran),
    // but the entries are: reindex finds nothing to add.
    let report = reader.reindex().unwrap().expect("s3 keeps an index");
    assert_eq!((report.sessions, report.indexed), (1, 0));
    assert_eq!(reader.list_matching(&host).unwrap(), vec![m]);
}
