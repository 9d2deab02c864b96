//! Elastic Common Schema categorization of a coalesced event.
//!
//! `event.category`/`event.type` come from the vocabulary row that gave the action.
//! The user block says who is logged in (`id`/`name`), who the process acts as when that
//! differs (`effective`), whose account a user-space message is about (`target`), and
//! the identity a LOGIN gave the session (`changes`).

use crate::coalesce::event::{CoalescedEvent, EcsIdentity, List, Text};
use crate::coalesce::fields::id_name;
use crate::coalesce::normalize::Parts;
use crate::interpret::NameResolver;
use crate::record_type::RecordType;
use std::borrow::Cow;

pub(crate) fn categorize<'a>(
    ev: &mut CoalescedEvent<'a>,
    parts: &Parts<'a>,
    resolver: &dyn NameResolver,
) {
    let (category, kind_type) = match (
        parts.record_vocab.filter(|v| !v.action.is_empty()),
        parts.syscall_vocab,
    ) {
        (Some(row), _) => (row.ecs_category, row.ecs_type),
        (None, Some(row)) => (row.ecs_category, row.ecs_type),
        (None, None) => ("", ""),
    };
    ev.ecs.event.category = List(category);
    ev.ecs.event.kind_type = List(kind_type);
    if ev.category == "anomaly" {
        ev.ecs.event.kind = Some("alert");
    }

    let ids = &ev.user.ids;
    let names = &ev.user.names;
    let id = |key: &str| ids.value(key);
    let name = |key: &str| names.value(key);
    let mut user = std::mem::take(&mut ev.ecs.user);
    let mut group = std::mem::take(&mut ev.ecs.group);

    if parts.primary.record_type() == RecordType::LOGIN {
        user.id = id("old-auid");
        user.name = name("old-auid");
        user.changes = EcsIdentity {
            id: id("auid"),
            name: name("auid"),
        };
    } else if parts.user_space() {
        user.id = id("auid");
        user.name = name("auid");
        // The account the message is about: `acct=` names it, `id=` numbers it.
        let acct: Option<Text<'a>> = crate::coalesce::fields::value_text(parts.primary, "acct");
        let numbered = parts.primary.value("id").filter(|v| *v != "?");
        let about = EcsIdentity {
            id: numbered.map(Cow::Borrowed),
            name: acct.or_else(|| id_name(parts.primary, "id", false, resolver)),
        };
        let about = if about.id.is_none() && about.name.is_none() {
            EcsIdentity {
                id: id("uid"),
                name: name("uid"),
            }
        } else {
            about
        };
        // A password change or account edit acts *on* the account; a login acts *as* it.
        match parts.primary.record_type().0 {
            1102 | 1108 | 1114 | 1115 | 1119 | 1125 | 1132 | 1133 | 1135 | 1136 => {
                user.effective = EcsIdentity {
                    id: id("uid"),
                    name: name("uid"),
                };
                user.target = about;
            }
            _ => user.effective = about,
        }
    } else {
        user.id = id("uid");
        user.name = name("uid");
        if ids.get("euid").is_some() && ids.get("euid") != ids.get("uid") {
            user.effective = EcsIdentity {
                id: id("euid"),
                name: name("euid"),
            };
        }
        if ids.get("gid").is_some() {
            group.id = id("gid");
            group.name = name("gid");
        }
    }
    ev.ecs.user = user;
    ev.ecs.group = group;
}
