//! `https` endpoints and `ca_file`: a private CA (made here with the real `openssl` tool), a
//! TLS-terminating relay (Python's `ssl`) in front of the S3 server, and the store trusting
//! exactly that CA.

mod support;

use sshtrail_sessionstore::{open, Error, Options};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use support::{meta, read_all, Server};

/// Makes ca.pem, and server.pem/server.key for IP 127.0.0.1 signed by it.
fn make_pki(dir: &Path) -> bool {
    let script = r#"set -e
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj "/CN=sshtrail test CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null
"#;
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// TLS on `listen`, plain TCP to `upstream`, bytes relayed unchanged (so the SigV4 signature,
/// which covers the Host header, reaches the S3 server intact).
const RELAY: &str = r#"
import socket, ssl, sys, threading
listen, upstream, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen)); srv.listen(16)
print("ready", flush=True)
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except Exception: pass
    finally:
        for s in (a, b):
            try: s.close()
            except Exception: pass
def serve(c):
    try: t = ctx.wrap_socket(c, server_side=True)
    except Exception: c.close(); return
    u = socket.create_connection(("127.0.0.1", upstream))
    threading.Thread(target=pump, args=(t, u), daemon=True).start()
    pump(u, t)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

struct Relay(Child);
impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn https_endpoint_trusts_exactly_the_ca_file() {
    let Some(server) = Server::start_or_skip("https_endpoint_trusts_exactly_the_ca_file") else {
        return;
    };
    let pki = tempfile::tempdir().unwrap();
    if !make_pki(pki.path()) {
        assert!(
            std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() != Ok("1"),
            "openssl could not make the test PKI"
        );
        eprintln!("SKIP https_endpoint_trusts_exactly_the_ca_file: openssl unavailable");
        return;
    }
    let port = support::free_port();
    let mut child = Command::new("python3")
        .args(["-c", RELAY, &port.to_string(), &server.port.to_string()])
        .arg(pki.path().join("server.pem"))
        .arg(pki.path().join("server.key"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready");
    let _relay = Relay(child);

    let base = format!(
        "s3://logs/tls?endpoint=https://127.0.0.1:{port}&access_key_id={}&secret_access_key={}",
        support::ACCESS_KEY,
        support::SECRET_KEY
    );
    let with_ca = format!("{base}&ca_file={}", pki.path().join("ca.pem").display());

    // Mozilla's roots do not know this CA: a clear TLS error.
    let plain = open(&base, &Options::default()).unwrap();
    let err = plain.list().unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    let text = err.to_string().to_lowercase();
    assert!(
        text.contains("certificate") || text.contains("issuer"),
        "{err}"
    );

    sshtrail_sessionstore::create_bucket(&with_ca, &Options::default()).unwrap();
    let spool = tempfile::tempdir().unwrap();
    let store = open(
        &with_ca,
        &Options {
            spool_dir: Some(spool.path().to_path_buf()),
            ..Default::default()
        },
    )
    .unwrap();
    let m = meta("m1-b1-30", 5);
    let mut log = store.open_local(&m.id).unwrap().unwrap();
    log.write_all(b"hello").unwrap();
    log.sync_all().unwrap();
    store.finish(&m).unwrap();
    let report = store.shutdown(std::time::Duration::from_secs(30));
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(store.list().unwrap(), vec![m.clone()]);
    assert_eq!(read_all(store.open(&m.id).unwrap()), b"hello");

    // A ca_file without certificates is refused when the store is opened.
    std::fs::write(pki.path().join("empty.pem"), "not a certificate\n").unwrap();
    let bad = format!("{base}&ca_file={}", pki.path().join("empty.pem").display());
    let e = match open(&bad, &Options::default()) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("ca_file") && e.contains("empty.pem"), "{e}");
}
