//! Passwords cannot be written: the password method has no field for one, and an auth
//! record's encoding holds exactly the user name and the method number.

mod common;

use sshtrail_sessionlog::codec::FRAME_HEAD_LEN;
use sshtrail_sessionlog::{AuthMethod, Message};

use common::{frame_offsets, log_of};

#[test]
fn a_password_auth_record_holds_the_user_and_nothing_else() {
    for (kind, m) in [
        (
            6u8,
            Message::AuthAttempt {
                user: "alice".into(),
                method: AuthMethod::Password,
            },
        ),
        (
            7u8,
            Message::AuthSuccess {
                user: "alice".into(),
                method: AuthMethod::Password,
            },
        ),
    ] {
        let (bytes, _) = log_of(std::slice::from_ref(&m));
        let offsets = frame_offsets(&bytes);
        let frame = &bytes[offsets[1] as usize..offsets[2] as usize];
        let payload = &frame[FRAME_HEAD_LEN..frame.len() - 4];
        // Payload: time varint, then kind, user, method.
        let time_len = payload.iter().position(|b| b & 0x80 == 0).unwrap() + 1;
        assert_eq!(
            &payload[time_len..],
            &[&[kind, 5][..], b"alice", &[1]].concat()[..],
            "kind, len 5, \"alice\", method 1 (password): no room for anything else"
        );
    }
}

#[test]
fn the_json_form_of_a_password_attempt_has_no_secret_field() {
    let m = Message::AuthFailure {
        user: "alice".into(),
        method: AuthMethod::Password,
        reason: "denied".into(),
    };
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["method"], serde_json::json!({"type": "password"}));
    // Deserialising ignores a stray password from a hostile or older producer: it has
    // nowhere to go, and re-encoding does not bring it back.
    let hostile = serde_json::json!({
        "kind": "auth_failure", "user": "alice", "reason": "denied",
        "method": {"type": "password", "password": "hunter2"}, "password": "hunter2"
    });
    let parsed: Message = serde_json::from_value(hostile).unwrap();
    assert_eq!(parsed, m);
    let (bytes, _) = log_of(&[parsed]);
    assert!(!bytes.windows(7).any(|w| w == b"hunter2"));
}
