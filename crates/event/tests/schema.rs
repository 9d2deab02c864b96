//! The JSON Schema in `schema/` accepts what the model writes and rejects what breaks the
//! auditevent contract (non-string subject values, unknown types, missing targets).

use serde_json::{json, Value};
use sshtrail_event::{AuditEvent, EventType, Host, Outcome, Source};

/// A change that breaks the contract, named.
type Breach = (&'static str, Box<dyn Fn(&mut Value)>);

fn validator() -> jsonschema::Validator {
    let text = include_str!("../schema/auditevent.schema.json");
    let schema: Value = serde_json::from_str(text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn login() -> AuditEvent {
    let host = Host {
        name: "web-1".into(),
        machine_id: "4f1c0e0d2b6a4c7e9f3a1b2c3d4e5f60".into(),
    };
    let mut event = AuditEvent::new(
        EventType::UserLogin,
        "sshd",
        "2026-11-23T10:51:40.841Z".into(),
        "499".into(),
        Outcome::Succeeded,
        &host,
    )
    .subject("loggedAs", "alice")
    .subject("userID", "alice@example")
    .subject("pid", 25007);
    event.source = Source::ip("2001:db8::1", Some(22));
    event.data = Some(json!({"method": "publickey"}));
    event
}

#[test]
fn model_output_is_valid() {
    let v = validator();
    let value: Value = serde_json::from_slice(&login().to_line()).unwrap();
    let errors: Vec<String> = v.iter_errors(&value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn contract_breaches_are_rejected() {
    let v = validator();
    let good: Value = serde_json::from_slice(&login().to_line()).unwrap();
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
