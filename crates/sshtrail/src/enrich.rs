//! Additions to events on their way out that need more than the tracker knows.

use crate::geoip::GeoIp;
use sshtrail_event::{AuditEvent, EventType};

/// Where a login came from, when a GeoIP database is configured (`data.geo`).
pub fn add_geo(geo: &GeoIp, event: &mut AuditEvent) {
    if event.event_type != EventType::UserLogin {
        return;
    }
    let Some(found) = geo.lookup_str(&event.source.value) else {
        return;
    };
    let map: serde_json::Map<String, serde_json::Value> = found
        .to_map()
        .into_iter()
        .map(|(k, v)| (k, v.into()))
        .collect();
    match event.data.as_mut() {
        Some(serde_json::Value::Object(data)) => {
            data.insert("geo".into(), map.into());
        }
        _ => event.data = Some(serde_json::json!({ "geo": map })),
    }
}
