//! The JSON Schema in `schema/` accepts what the model writes and rejects what breaks the
//! auditevent contract (non-string subject values, unknown types, missing targets).

use serde_json::{json, Value};
use sshtrail_event::{
    Action, ActionDetail, Actor, Correlation, Event, Host, Login, LoginFailed, Logout, Lost,
    Outcome, Peer, SystemAction, SystemKind,
};
use std::sync::Arc;

/// A change that breaks the contract, named.
type Breach = (&'static str, Box<dyn Fn(&mut Value)>);

fn validator() -> jsonschema::Validator {
    let text = include_str!("../schema/auditevent.schema.json");
    let schema: Value = serde_json::from_str(text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn host() -> Host {
    Host {
        name: "web-1".into(),
        machine_id: "4f1c0e0d2b6a4c7e9f3a1b2c3d4e5f60".into(),
    }
}

fn actor() -> Arc<Actor> {
    Arc::new(Actor {
        logged_as: "alice".into(),
        user_id: "alice@example".into(),
        pid: Some(25007),
        source: Peer::new("2001:db8::1", Some(22)),
    })
}

fn login() -> Event {
    Event::Login(Box::new(Login {
        time_ms: 1_795_431_100_841,
        audit_id: "499".into(),
        actor: actor(),
        correlation: Correlation::Joined,
        method: "publickey".into(),
        key_type: None,
        fingerprint: None,
        cert: None,
        geo: None,
    }))
}

fn json_of(event: &Event) -> Value {
    serde_json::from_slice(&event.to_line(&host())).expect("JSON")
}

#[test]
fn model_output_is_valid() {
    let v = validator();
    let events = [
        login(),
        Event::LoginFailed(Box::new(LoginFailed {
            time_ms: 1,
            audit_id: "a-b".into(),
            user: "eve".into(),
            pid: 9,
            source: Peer::new("unknown", None),
            method: Some("password".into()),
            reason: "failed password".into(),
            geo: None,
        })),
        Event::Action(Box::new(Action {
            time_ms: 2,
            ses: 499,
            actor: actor(),
            correlation: Correlation::Joined,
            outcome: Outcome::Succeeded,
            detail: ActionDetail {
                action: "executed".into(),
                args: vec!["ls".into()],
                ..ActionDetail::default()
            },
        })),
        Event::Logout(Box::new(Logout {
            time_ms: 3,
            audit_id: "499".into(),
            actor: actor(),
            start_ms: 1,
            actions: 1,
            reason: "session closed".into(),
            session_log: None,
        })),
        Event::System(Box::new(SystemAction {
            time_ms: 4,
            audit_id: "s-y-s".into(),
            outcome: Outcome::Failed,
            kind: SystemKind::AuditRecordsLost(Lost::SocketOverflows(2)),
        })),
    ];
    for event in &events {
        let value = json_of(event);
        let errors: Vec<String> = v.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}: {value}");
    }
}

#[test]
fn contract_breaches_are_rejected() {
    let v = validator();
    let good = json_of(&login());
    let breaches: Vec<Breach> = vec![
        (
            "numeric pid",
            Box::new(|e| e["subjects"]["pid"] = json!(25007)),
        ),
        (
            "numeric port",
            Box::new(|e| e["source"]["extra"]["port"] = json!(22)),
        ),
        ("unknown type", Box::new(|e| e["type"] = json!("UserDance"))),
        (
            "no machine id",
            Box::new(|e| {
                e["target"].as_object_mut().unwrap().remove("machine-id");
            }),
        ),
        (
            "local time",
            Box::new(|e| e["loggedAt"] = json!("2026-11-23 10:51:40")),
        ),
        (
            "failed login without reason",
            Box::new(|e| e["outcome"] = json!("failed")),
        ),
        (
            "unknown top-level key",
            Box::new(|e| e["extra"] = json!({})),
        ),
    ];
    for (name, breach) in breaches {
        let mut event = good.clone();
        breach(&mut event);
        assert!(!v.is_valid(&event), "schema accepted: {name}");
    }
}
