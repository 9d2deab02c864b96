//! Additions to events on their way out that need more than the tracker knows.

use crate::geoip::GeoIp;
use sshtrail_event::Event;

/// Where a login (or a failed one) came from, when a GeoIP database is configured
/// (`data.geo`).
pub fn add_geo(geo: &GeoIp, event: &mut Event) {
    let (address, slot) = match event {
        Event::Login(login) => (&login.actor.source.address, &mut login.geo),
        Event::LoginFailed(failed) => (&failed.source.address, &mut failed.geo),
        _ => return,
    };
    if let Some(found) = geo.lookup_str(address) {
        *slot = Some(found);
    }
}
