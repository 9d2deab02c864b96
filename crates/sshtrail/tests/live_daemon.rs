//! `sshtrail run` against the real programs: auditd (file source), a standalone journald,
//! sshd on 127.0.0.1 and ::1 (scripts/testbed), real `ssh` logins by key, password and
//! certificate, and failed logins with a hostile user name.
//!
//! Each session prints its own kernel session id (`/proc/self/sessionid`) and
//! `$SSH_CLIENT`, so what the events must say is known without sshtrail's help.
//! Needs root, auditd and the testbed (`scripts/testbed/up.sh`; `scripts/test` starts
//! it); skips without them unless `SSHTRAIL_REQUIRE_LIVE=1`.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::live::{
    background_ssh, repo, session_facts, sessions_cli, ssh, verified_log, with_marker, Daemon,
    LiveCase,
};
use support::{AuditRule, S3Server};

#[test]
fn logins_commands_and_logouts_are_attributed_to_their_own_session() {
    if let Some(case) = LiveCase::new("live_daemon", "daemon") {
        logins_commands_and_logouts(&case, &[]);
    }
}

/// The same, with records straight from the kernel (multicast, beside auditd) and a rules
/// file the daemon installs at start.
#[test]
fn the_netlink_source_attributes_the_same_way() {
    let Some(case) = LiveCase::new("live_daemon_netlink", "netlink") else {
        return;
    };
    // A rule of this test's own (32-bit execs, which nothing here runs) shows that the
    // file was loaded.
    let rule = format!(
        "-a always,exit -F arch=b32 -S execve -F auid>=1000 -F auid!=-1 -k {}-rules",
        case.key
    );
    let rules = case.dir.join("audit.rules");
    std::fs::write(&rules, format!("# sshtrail test\n{rule}\n")).expect("rules file");
    let rules = rules.display().to_string();
    let rule_args: Vec<&str> = rule.split(' ').collect();
    // Deleted when dropped, also if the test fails before the end.
    let installed_rule = AuditRule::delete_on_drop(&rule_args);
    let events = logins_commands_and_logouts(
        &case,
        &[
            "--audit-source",
            "netlink",
            "--netlink-mode",
            "multicast",
            "--audit-rules",
            &rules,
        ],
    );
    let listed = Command::new("auditctl")
        .arg("-l")
        .output()
        .expect("auditctl -l");
    let installed =
        String::from_utf8_lossy(&listed.stdout).contains(&format!("{}-rules", case.key));
    drop(installed_rule);
    assert!(installed, "the rules file's rule is in the kernel");
    let loaded: Vec<&Value> = events
        .iter()
        .filter(|e| e["data"]["action"] == "audit-rules-loaded")
        .collect();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0]["outcome"], "succeeded", "{}", loaded[0]);
    assert_eq!(loaded[0]["data"]["applied"], 1);
}

fn logins_commands_and_logouts(case: &LiveCase, extra: &[&str]) -> Vec<Value> {
    let (key, dir) = (case.key.clone(), case.dir.clone());
    let daemon = Daemon::start_with(&dir, 1, extra);

    let report = "echo ses=$(cat /proc/self/sessionid); echo client=$SSH_CLIENT";
    let logins = [
        ("key", "sshtrail-alice", "sshtrail-alice", format!("tb_ssh_key 127.0.0.1 22830 sshtrail-alice alice '{report}; /bin/echo marker-key-{key} --password=hunter2-{key}'")),
        ("password-v6", "sshtrail-bob", "sshtrail-bob", format!("tb_ssh_pass password ::1 22830 sshtrail-bob \"$TESTBED_PASSWORD\" 1 '{report}; /bin/echo marker-password-v6-{key}'")),
        ("certificate", "sshtrail-carol", "carol@sshtrail-test", format!("tb_ssh_key 127.0.0.1 22830 sshtrail-carol carol '{report}; /bin/echo marker-certificate-{key}'")),
    ];
    let mut sessions = Vec::new();
    for (name, user, user_id, call) in &logins {
        let (ok, stdout) = ssh(call);
        assert!(ok, "{name} login failed: {stdout}");
        sessions.push((*name, *user, *user_id, session_facts(&stdout)));
    }
    let hostile = "eve from 6.6.6.6 port 4444 ssh2";
    let (ok, _) = ssh(&format!(
        "tb_ssh_pass password 127.0.0.1 22830 '{hostile}' wrong 1 true"
    ));
    assert!(!ok);

    let logouts_for = |events: &[Value], ses: &str| {
        events
            .iter()
            .filter(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses)
            .count()
    };
    daemon.wait_for(|events| {
        sessions
            .iter()
            .all(|(_, _, _, (ses, _, _))| logouts_for(events, ses) == 1)
            && events.iter().any(|e| e["subjects"]["loggedAs"] == hostile)
    });
    let events = daemon.stop();

    let schema: Value =
        serde_json::from_str(include_str!("../../event/schema/auditevent.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for event in &events {
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}: {event}");
    }

    for (name, user, user_id, (ses, ip, port)) in &sessions {
        let logins: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "UserLogin" && e["metadata"]["auditId"] == ses.as_str())
            .collect();
        assert_eq!(logins.len(), 1, "{name}: one UserLogin for session {ses}");
        let login = logins[0];
        assert_eq!(login["outcome"], "succeeded");
        assert_eq!(login["subjects"]["loggedAs"], *user, "{name}");
        assert_eq!(login["subjects"]["userID"], *user_id, "{name}");
        assert_eq!(login["source"]["value"], ip.as_str(), "{name}");
        assert_eq!(login["source"]["extra"]["port"], port.as_str(), "{name}");
        assert_eq!(
            login["metadata"]["extra"]["correlation"], "joined",
            "{name}"
        );

        let marker = format!("marker-{name}-{key}");
        let marked: Vec<&Value> = events
            .iter()
            .filter(|e| {
                e["type"] == "UserAction"
                    && e["metadata"]["extra"]["process_args"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == marker.as_str()))
            })
            .collect();
        assert_eq!(
            marked.len(),
            1,
            "{name}: the marked command is one UserAction"
        );
        let action = marked[0];
        assert_eq!(action["metadata"]["auditId"], ses.as_str(), "{name}");
        assert_eq!(action["subjects"], login["subjects"], "{name}");
        assert_eq!(action["source"], login["source"], "{name}");
        assert_eq!(
            action["metadata"]["extra"]["correlation"], "joined",
            "{name}"
        );
        assert_eq!(action["metadata"]["extra"]["action"], "executed", "{name}");
        assert_eq!(logouts_for(&events, ses), 1, "{name}: one UserLogout");
    }

    let secret = format!("hunter2-{key}");
    assert!(
        events.iter().all(|e| !e.to_string().contains(&secret)),
        "a password typed on a command line never reaches the trail"
    );
    let key_action = events
        .iter()
        .find(|e| {
            e["metadata"]["extra"]["process_args"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "--password=***"))
        })
        .expect("the masked argument");
    assert_eq!(key_action["metadata"]["extra"]["redacted"], true);

    let eve: Vec<&Value> = events
        .iter()
        .filter(|e| e["subjects"]["loggedAs"] == hostile)
        .collect();
    assert!(!eve.is_empty());
    for e in eve {
        assert_eq!(e["outcome"], "failed");
        assert_eq!(
            e["source"]["value"], "127.0.0.1",
            "the hostile name never moves the source"
        );
    }
    assert_eq!(
        events
            .iter()
            .filter(|e| e["data"]["action"] == "daemon-stopped")
            .count(),
        1
    );
    events
}

#[test]
fn kill_9_and_restart_lose_nothing_and_repeat_nothing() {
    if let Some(case) = LiveCase::new("kill_9_and_restart", "kill") {
        kill_9_and_restart(&case, &[]);
    }
}

/// The same with sshd's lines from a syslog file (rsyslog's, followed by inode and
/// offset, resumed from the checkpoint) and with every session also in a session log,
/// which must come out whole and verifiable across the crash.
#[test]
fn kill_9_with_syslog_and_session_logs_loses_nothing_and_repeats_nothing() {
    let Some(case) = LiveCase::new("kill_9_syslog_sessions", "kill-syslog") else {
        return;
    };
    let syslog = std::env::var("TESTBED_DIR").unwrap_or_else(|_| "/run/sshtrail-testbed".into())
        + "/syslog/auth-iso8601.log";
    assert!(
        Path::new(&syslog).exists(),
        "{syslog}: the testbed's rsyslog writes it"
    );
    let storage = format!("file://{}/sessions", case.dir.display());
    let events = kill_9_and_restart(
        &case,
        &[
            "--sshd-source",
            "syslog",
            "--sshd-log",
            &syslog,
            "--session-storage",
            &storage,
        ],
    );
    let key = &case.key;
    for (user, markers) in [
        ("sshtrail-alice", vec![format!("before-{key}")]),
        (
            "sshtrail-bob",
            vec![format!("during-{key}"), format!("after-{key}")],
        ),
        ("sshtrail-carol", vec![format!("down-{key}")]),
    ] {
        let logout = events
            .iter()
            .rev()
            .find(|e| e["type"] == "UserLogout" && e["subjects"]["loggedAs"] == user)
            .expect("a logout");
        let id = verified_log(&storage, logout);
        let id = id.as_str();
        let export = sessions_cli(&storage, &["export", id, "--format", "json"]);
        assert!(export.status.success());
        let records: Vec<Value> = String::from_utf8_lossy(&export.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        for marker in markers {
            let n = records
                .iter()
                .filter(|r| {
                    r["argv"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(marker.as_str())))
                })
                .count();
            assert_eq!(n, 1, "{user}'s log holds {marker} exactly once");
        }
        for kind in ["login", "logout"] {
            let n = records.iter().filter(|r| r["kind"] == kind).count();
            assert_eq!(n, 1, "{user}'s log: one {kind}");
        }
    }
}

fn kill_9_and_restart(case: &LiveCase, extra: &[&str]) -> Vec<Value> {
    let (key, dir) = (case.key.clone(), case.dir.clone());
    let report = "echo ses=$(cat /proc/self/sessionid); echo client=$SSH_CLIENT";

    let daemon = Daemon::start_with(&dir, 1, extra);
    // A: a whole session before the crash.
    let (ok, out_a) = ssh(&format!(
        "tb_ssh_key 127.0.0.1 22830 sshtrail-alice alice '{report}; /bin/echo before-{key}'"
    ));
    assert!(ok);
    let (ses_a, _, _) = session_facts(&out_a);
    daemon.wait_for(|events| {
        events
            .iter()
            .any(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses_a.as_str())
    });
    // B: begins before the crash, runs a command after the restart.
    let long = background_ssh(&format!(
        "tb_ssh_pass password ::1 22830 sshtrail-bob \"$TESTBED_PASSWORD\" 1 '{report}; /bin/echo during-{key}; sleep 8; /bin/echo after-{key}'"
    ));
    let during = format!("during-{key}");
    daemon.wait_for(|events| !with_marker(events, &during).is_empty());
    std::thread::sleep(Duration::from_millis(1500)); // past a checkpoint or two
    daemon.crash();

    // C: a whole session while the daemon is down.
    let (ok, out_c) = ssh(&format!(
        "tb_ssh_key 127.0.0.1 22830 sshtrail-carol carol '{report}; /bin/echo down-{key}'"
    ));
    assert!(ok);
    let (ses_c, _, _) = session_facts(&out_c);

    let daemon = Daemon::start_with(&dir, 2, extra);
    let long_out = long.wait_with_output().expect("long session ends");
    let (ses_b, ip_b, port_b) = session_facts(&String::from_utf8_lossy(&long_out.stdout));
    let after = format!("after-{key}");
    daemon.wait_for(|events| {
        [&ses_a, &ses_b, &ses_c].iter().all(|ses| {
            events
                .iter()
                .filter(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses.as_str())
                .count()
                == 1
        }) && !with_marker(events, &after).is_empty()
    });
    let events = daemon.stop();

    for (marker, ses) in [
        (format!("before-{key}"), &ses_a),
        (format!("during-{key}"), &ses_b),
        (format!("after-{key}"), &ses_b),
        (format!("down-{key}"), &ses_c),
    ] {
        let found = with_marker(&events, &marker);
        assert_eq!(found.len(), 1, "{marker}: exactly once across the crash");
        assert_eq!(found[0]["metadata"]["auditId"], ses.as_str(), "{marker}");
        assert_eq!(
            found[0]["metadata"]["extra"]["correlation"], "joined",
            "{marker}"
        );
    }
    let after_event = with_marker(&events, &after)[0];
    assert_eq!(after_event["source"]["value"], ip_b.as_str());
    assert_eq!(after_event["source"]["extra"]["port"], port_b.as_str());
    for ses in [&ses_a, &ses_b, &ses_c] {
        for kind in ["UserLogin", "UserLogout"] {
            let n = events
                .iter()
                .filter(|e| e["type"] == kind && e["metadata"]["auditId"] == ses.as_str())
                .count();
            assert_eq!(n, 1, "one {kind} for session {ses}");
        }
    }
    let restarted = events
        .iter()
        .filter(|e| e["data"]["action"] == "daemon-started" && e["data"]["resumed"] == true)
        .count();
    assert_eq!(
        restarted, 1,
        "the restart says it resumed (and for how long it was down)"
    );
    events
}

#[test]
fn auditd_rotating_its_log_under_load_loses_and_repeats_nothing() {
    let Some(case) = LiveCase::new("auditd_rotation", "rotate") else {
        return;
    };
    let (key, dir) = (case.key.clone(), case.dir.clone());
    let daemon = Daemon::start(&dir);

    const RUNS: usize = 300;
    let script = repo().join("scripts/testbed/client.sh");
    let session = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". {} && tb_ssh_key 127.0.0.1 22830 sshtrail-alice alice \
             'echo ses=$(cat /proc/self/sessionid); echo client=$SSH_CLIENT; \
              for i in $(seq {RUNS}); do /bin/true rot-{key}-$i; done'",
            script.display()
        ))
        .current_dir(repo())
        .stdout(Stdio::piped())
        .spawn()
        .expect("session");
    // Rotate three times while the commands run.
    let first = format!("rot-{key}-1");
    daemon.wait_for(|events| !with_marker(events, &first).is_empty());
    for _ in 0..3 {
        let status = Command::new("sh")
            .args(["-c", "kill -USR1 $(pidof auditd)"])
            .status()
            .expect("signal auditd");
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(300));
    }
    let out = session.wait_with_output().expect("session ends");
    let (ses, _, _) = session_facts(&String::from_utf8_lossy(&out.stdout));
    let events = daemon.wait_for(|events| {
        events
            .iter()
            .any(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses.as_str())
    });
    let events_after_stop = daemon.stop();
    assert!(events_after_stop.len() >= events.len());
    for i in 1..=RUNS {
        let marker = format!("rot-{key}-{i}");
        let found = with_marker(&events_after_stop, &marker);
        assert_eq!(found.len(), 1, "{marker} exactly once across rotations");
        assert_eq!(found[0]["metadata"]["auditId"], ses.as_str());
    }
    let lost = events_after_stop
        .iter()
        .filter(|e| e["data"]["action"] == "audit-log-gap")
        .count();
    assert_eq!(lost, 0, "rotation is followed, not a gap");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn twenty_concurrent_sessions_each_get_their_own_commands() {
    let Some(case) = LiveCase::new("twenty_concurrent", "twenty") else {
        return;
    };
    let (key, dir) = (case.key.clone(), case.dir.clone());
    let daemon = Daemon::start(&dir);

    let report = "echo ses=$(cat /proc/self/sessionid); echo client=$SSH_CLIENT";
    let handles: Vec<_> = (0..20)
        .map(|n| {
            let key = key.clone();
            std::thread::spawn(move || {
                let (user, call) = if n % 2 == 0 {
                    ("sshtrail-alice", format!("tb_ssh_key 127.0.0.1 22830 sshtrail-alice alice '{report}; sleep 1; /bin/echo conc-{n}-{key}'"))
                } else {
                    ("sshtrail-bob", format!("tb_ssh_pass password ::1 22830 sshtrail-bob \"$TESTBED_PASSWORD\" 1 '{report}; sleep 1; /bin/echo conc-{n}-{key}'"))
                };
                // sshd's MaxStartups may refuse a connection when many arrive at once.
                for _ in 0..5 {
                    let (ok, out) = ssh(&call);
                    if ok {
                        return (n, user, session_facts(&out));
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
                panic!("session {n} never got in");
            })
        })
        .collect();
    let sessions: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("session thread"))
        .collect();
    daemon.wait_for(|events| {
        sessions.iter().all(|(_, _, (ses, _, _))| {
            events
                .iter()
                .any(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses.as_str())
        })
    });
    let events = daemon.stop();
    for (n, user, (ses, ip, port)) in &sessions {
        let marker = format!("conc-{n}-{key}");
        let found = with_marker(&events, &marker);
        assert_eq!(found.len(), 1, "{marker}");
        let action = found[0];
        assert_eq!(action["metadata"]["auditId"], ses.as_str(), "{marker}");
        assert_eq!(action["subjects"]["loggedAs"], *user, "{marker}");
        assert_eq!(action["source"]["value"], ip.as_str(), "{marker}");
        assert_eq!(action["source"]["extra"]["port"], port.as_str(), "{marker}");
        assert_eq!(
            action["metadata"]["extra"]["correlation"], "joined",
            "{marker}"
        );
        let logins = events
            .iter()
            .filter(|e| e["type"] == "UserLogin" && e["metadata"]["auditId"] == ses.as_str())
            .count();
        assert_eq!(logins, 1, "{marker}: one login");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sessions stored in S3: uploaded when they end (the daemon's stop waits for the
/// uploads), then listed, exported and verified from the bucket by the CLI, the way an
/// auditor on another machine would.
#[test]
fn sessions_end_up_in_s3_whole_and_verifiable() {
    let Some(case) = LiveCase::new("sessions_s3", "s3") else {
        return;
    };
    let Some(s3) = S3Server::start("sessions_s3") else {
        return;
    };
    let (key, dir) = (case.key.clone(), case.dir.clone());
    let storage = s3.url("hosts/test");
    let daemon = Daemon::start_env(&dir, 1, &["--session-storage", &storage], &s3.env());
    let report = "echo ses=$(cat /proc/self/sessionid); echo client=$SSH_CLIENT";
    let mut sessions = Vec::new();
    for (user, call) in [
        ("sshtrail-alice", format!("tb_ssh_key 127.0.0.1 22830 sshtrail-alice alice '{report}; /bin/echo s3-alice-{key}'")),
        ("sshtrail-carol", format!("tb_ssh_key 127.0.0.1 22830 sshtrail-carol carol '{report}; /bin/echo s3-carol-{key}'")),
    ] {
        let (ok, stdout) = ssh(&call);
        assert!(ok, "{user}: {stdout}");
        sessions.push((user, session_facts(&stdout).0));
    }
    daemon.wait_for(|events| {
        sessions.iter().all(|(_, ses)| {
            events
                .iter()
                .any(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses.as_str())
        })
    });
    let events = daemon.stop();

    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sshtrail"))
            .args(["sessions", "--storage", &storage])
            .args(args)
            .envs(s3.env())
            .output()
            .expect("sshtrail sessions")
    };
    let list = cli(&["list"]);
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let listed: Vec<Value> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    for (user, ses) in &sessions {
        let logout = events
            .iter()
            .find(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses.as_str())
            .expect("logout");
        let id = logout["data"]["session_log_id"]
            .as_str()
            .expect("session_log_id");
        let digest = logout["data"]["session_log_digest"]
            .as_str()
            .expect("digest");
        let entry = listed
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed in the bucket: {listed:#?}"));
        assert_eq!(entry["user"], *user);
        assert_eq!(entry["source"], "127.0.0.1");
        assert_eq!(entry["end"], logout["loggedAt"]);

        let export = cli(&["export", id, "--format", "text"]);
        assert!(export.status.success());
        let marker = format!("s3-{}-{key}", user.trim_start_matches("sshtrail-"));
        assert!(
            String::from_utf8_lossy(&export.stdout).contains(&marker),
            "{user}'s log holds {marker}"
        );
        let verify = cli(&["verify", id, "--digest", digest]);
        assert!(
            verify.status.success(),
            "{}",
            String::from_utf8_lossy(&verify.stdout)
        );
    }
    let spool = dir.join("state/spool");
    let left: Vec<_> = std::fs::read_dir(&spool)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !left
            .iter()
            .any(|n| n.to_string_lossy().ends_with(".sshlog")),
        "uploaded logs leave the spool: {left:?}"
    );
}

/// A reboot cannot be made in a test, so its trace is: the daemon dies (`kill -9`, as a
/// power cut) with a session open, the session ends while it is down, and the checkpoint
/// it left is the one a previous boot would have left (its `boot_id` is another boot's).
/// On restart every session of that boot is over: one `UserLogout` each, its session log
/// sealed, and a `SystemAction` `host-rebooted` that says how many.
#[test]
fn a_restart_in_another_boot_ends_the_old_boots_sessions() {
    let Some(case) = LiveCase::new("reboot", "reboot") else {
        return;
    };
    let (key, dir) = (case.key.clone(), case.dir.clone());
    let storage = format!("file://{}/sessions", dir.display());
    let extra = ["--session-storage", storage.as_str()];
    let report = "echo ses=$(cat /proc/self/sessionid)";
    let daemon = Daemon::start_with(&dir, 1, &extra);
    let long = background_ssh(&format!(
        "tb_ssh_key 127.0.0.1 22830 sshtrail-alice alice '{report}; /bin/echo during-{key}; sleep 4'"
    ));
    let during = format!("during-{key}");
    daemon.wait_for(|events| !with_marker(events, &during).is_empty());
    std::thread::sleep(Duration::from_millis(1500)); // past a checkpoint or two
    daemon.crash();
    let out = long.wait_with_output().expect("the session ends");
    let ses = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("ses=").map(str::to_string))
        .expect("ses line");

    let checkpoint_path = dir.join("state/checkpoint.json");
    let mut checkpoint: Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint_path).expect("checkpoint"))
            .expect("checkpoint JSON");
    let this_boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .expect("boot id")
        .trim()
        .to_string();
    assert_eq!(
        checkpoint["boot_id"], this_boot,
        "the checkpoint names its boot"
    );
    let old_boot = "00000000-0000-4000-8000-00000000b007";
    checkpoint["boot_id"] = Value::from(old_boot);
    std::fs::write(&checkpoint_path, checkpoint.to_string()).expect("write checkpoint");

    let daemon = Daemon::start_with(&dir, 2, &extra);
    daemon.wait_for(|events| {
        events
            .iter()
            .any(|e| e["data"]["action"] == "host-rebooted")
    });
    std::thread::sleep(Duration::from_secs(2)); // anything more would come now
    let events = daemon.stop();
    let logouts: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses.as_str())
        .collect();
    assert_eq!(
        logouts.len(),
        1,
        "one logout for session {ses}: {logouts:#?}"
    );
    let logout = logouts[0];
    assert_eq!(logout["data"]["reason"], "host rebooted");
    assert_eq!(logout["subjects"]["loggedAs"], "sshtrail-alice");
    let rebooted: Vec<&Value> = events
        .iter()
        .filter(|e| e["data"]["action"] == "host-rebooted")
        .collect();
    assert_eq!(rebooted.len(), 1);
    assert_eq!(rebooted[0]["data"]["previous_boot_id"], old_boot);
    assert_eq!(rebooted[0]["data"]["boot_id"], this_boot.as_str());
    assert_eq!(rebooted[0]["data"]["sessions_ended"], 1);
    // The marker is written once, before the "reboot", and not again after it.
    assert_eq!(with_marker(&events, &during).len(), 1);
    verified_log(&storage, logout);
    // The new boot's checkpoint names the new boot.
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint_path).expect("checkpoint"))
            .expect("checkpoint JSON");
    assert_eq!(saved["boot_id"], this_boot.as_str());
}

/// What a user types is recorded too where the host asks the kernel for it
/// (pam_tty_audit): the testbed's second sshd (`sshd-ttyaudit`, port 22841) turns it on
/// for its sessions. The kernel's TTY record becomes a UserAction of the session and the
/// keystrokes land in the session's log.
#[test]
fn keystrokes_of_a_tty_audited_session_are_in_its_session_log() {
    use std::io::Write;
    let Some(case) = LiveCase::new("tty_audit", "tty") else {
        return;
    };
    let (key, dir) = (case.key.clone(), case.dir.clone());
    let storage = format!("file://{}/sessions", dir.display());
    // That sshd logs as `sshd-ttyaudit`: named, its lines are followed too.
    let daemon = Daemon::start_with(
        &dir,
        1,
        &[
            "--session-storage",
            storage.as_str(),
            "--sshd-programs",
            "sshd,sshd-session,sshd-auth,sshd-ttyaudit",
        ],
    );
    let marker = format!("typed-{key}");
    let script = repo().join("scripts/testbed/client.sh");
    let mut shell = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". {} && tb_ssh_typed 22841 sshtrail-alice alice",
            script.display()
        ))
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("a terminal session");
    shell
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            format!("echo ses=$(cat /proc/self/sessionid)\necho {marker}\nexit\n").as_bytes(),
        )
        .expect("type");
    let out = shell.wait_with_output().expect("the session ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The terminal echoes the typed line too; the answer is the line with digits only.
    let ses = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.trim_end_matches('\r')
                .rsplit("ses=")
                .next()
                .map(str::to_string)
        })
        .find(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .expect("the session id");
    daemon.wait_for(|events| {
        events
            .iter()
            .any(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses.as_str())
    });
    let events = daemon.stop();
    let typed: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["type"] == "UserAction"
                && e["metadata"]["auditId"] == ses.as_str()
                && e["metadata"]["extra"]["record_type"] == "TTY"
        })
        .collect();
    assert!(!typed.is_empty(), "a TTY record of session {ses}");
    for event in &typed {
        // Joined with sshd's own account of the login, found under the extra name.
        assert_eq!(
            event["metadata"]["extra"]["correlation"], "joined",
            "{event}"
        );
        assert_eq!(event["subjects"]["loggedAs"], "sshtrail-alice");
        assert!(event["source"]["extra"]["port"].is_string(), "{event}");
    }
    let logout = events
        .iter()
        .find(|e| e["type"] == "UserLogout" && e["metadata"]["auditId"] == ses.as_str())
        .expect("logout");
    let id = logout["data"]["session_log_id"]
        .as_str()
        .expect("session_log_id");
    let export = sessions_cli(&storage, &["export", id, "--format", "text"]);
    assert!(export.status.success());
    let text = String::from_utf8_lossy(&export.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("tty_input") && l.contains(&marker))
        .unwrap_or_else(|| panic!("the typed marker in the session log:\n{text}"));
    assert!(line.contains("exit"), "{line}");
}
