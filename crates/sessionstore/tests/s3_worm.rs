//! Session logs kept as write-once evidence: with `object_lock_mode` and `sse` in the URL,
//! objects are stored encrypted and under retention, and the server refuses to delete them.
//!
//! The server is moto (it enforces object lock); what it stored is read back with the AWS
//! SDK for Python (boto3, installed with moto), a client that shares no code with ours.
//! moto 5 keeps the encryption of a multipart upload but drops the retention headers of
//! CreateMultipartUpload (boto3's own multipart upload loses them too), so for the large
//! log only the encryption is checked here; that the headers are sent is a unit test of
//! `s3::upload`.

mod support;

use sshtrail_sessionstore::{create_bucket, open, Options};
use std::io::Write;
use std::process::Command;
use std::time::Duration;
use support::{meta, synthetic, Server, ACCESS_KEY, SECRET_KEY};

/// Asks boto3 about `keys` in `bucket`: for each, its lock mode, days of retention left,
/// encryption, and whether deleting its version was refused. One line of JSON per key.
const CHECK: &str = r#"
import boto3, datetime, json, sys
endpoint, bucket, *keys = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="%KEY%", aws_secret_access_key="%SECRET%")
for key in keys:
    head = s3.head_object(Bucket=bucket, Key=key)
    until = head.get("ObjectLockRetainUntilDate")
    left = (until - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400 if until else None
    refused = None
    if head.get("ObjectLockMode"):
        try:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=head["VersionId"])
        except Exception as e:
            refused = e.response["Error"]["Code"]
    still = s3.get_object(Bucket=bucket, Key=key)["ContentLength"]
    print(json.dumps({"key": key, "mode": head.get("ObjectLockMode"), "days_left": left,
                      "sse": head.get("ServerSideEncryption"), "delete": refused, "size": still}))
"#;

#[test]
fn logs_are_stored_encrypted_and_retained_and_cannot_be_deleted() {
    let Some(server) = Server::start_kind_or_skip("worm", "moto") else {
        return;
    };
    let url = server.url(
        "evidence",
        "host1",
        "sse=AES256&object_lock_mode=GOVERNANCE&object_lock_retain_days=7&part_size=5242880",
    );
    create_bucket(&url, &Options::default()).expect("create a bucket with object lock");
    let spool = tempfile::tempdir().unwrap();
    let options = Options {
        spool_dir: Some(spool.path().to_path_buf()),
        ..Options::default()
    };
    let store = open(&url, &options).unwrap();
    // One below the multipart size (a single PUT), one above (CreateMultipartUpload).
    let sessions = [("m1-b1-31", 100_000usize), ("m1-b1-32", 6_000_000usize)];
    for (id, size) in sessions {
        let data = synthetic(size as u64, size);
        store
            .open_local(id)
            .unwrap()
            .unwrap()
            .write_all(&data)
            .unwrap();
        let m = meta(id, data.len() as u64);
        store.write_meta(&m).unwrap();
        store.finish(&m).unwrap();
    }
    let report = store.shutdown(Duration::from_secs(60));
    assert!(report.is_clean(), "{report:?}");

    let script = CHECK
        .replace("%KEY%", ACCESS_KEY)
        .replace("%SECRET%", SECRET_KEY);
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    let keys: Vec<String> = sessions
        .iter()
        .flat_map(|(id, _)| {
            [
                format!("host1/{id}.sshlog"),
                format!("host1/{id}.meta.json"),
            ]
        })
        .collect();
    let out = Command::new("python3")
        .args(["-c", &script, &endpoint, "evidence"])
        .args(&keys)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(found.len(), keys.len());
    for object in &found {
        assert_eq!(object["sse"], "AES256", "{object}");
        if object["key"] == "host1/m1-b1-32.sshlog" {
            continue; // multipart: see the note at the top
        }
        assert_eq!(object["mode"], "GOVERNANCE", "{object}");
        assert_eq!(object["delete"], "AccessDenied", "{object}");
        let days = object["days_left"].as_f64().expect("a retain-until date");
        assert!((6.9..=7.0).contains(&days), "{object}");
        assert!(object["size"].as_u64() > Some(0), "{object}");
    }
}
