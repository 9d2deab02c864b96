//! Session ids: one name for one SSH session across hosts and boots.
//!
//! `<machine id, 12 hex>-<boot id, 8 hex>-<audit session>`: the kernel's `ses` numbers
//! restart at every boot and repeat across hosts, the pair in front does not. A session
//! that never got a kernel `ses` carries its generated audit id instead.

/// Builds the id; every part is reduced to characters a file or object name can hold.
pub fn session_id(machine_id: &str, boot_id: &str, audit_id: &str) -> String {
    let machine = hex_prefix(machine_id, 12);
    let boot = hex_prefix(boot_id, 8);
    let session: String = audit_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    let session = if session.is_empty() {
        "0".into()
    } else {
        session
    };
    format!("{machine}-{boot}-{session}")
}

/// The first `len` hex digits (dashes of a UUID skipped), zero-padded when unknown.
fn hex_prefix(value: &str, len: usize) -> String {
    let mut out: String = value
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .take(len)
        .collect();
    while out.len() < len {
        out.push('0');
    }
    out
}

/// This boot's id, as the kernel gives it.
pub fn this_boot() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// When this boot began, in ms since the epoch (`btime` of `/proc/stat`), if readable.
pub fn boot_started_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let secs = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(secs.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_boot_began_in_the_past() {
        let started = boot_started_ms().expect("/proc/stat has btime");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(started > 1_000_000_000_000 && started <= now);
    }

    #[test]
    fn names_machine_boot_and_session() {
        assert_eq!(
            session_id(
                "3d1219c7c4c5404aaa1f6d2a48adfda4",
                "5c6e2a7e-1f55-4d0e-9d8a-3b0b1f2c4d5e",
                "62"
            ),
            "3d1219c7c4c5-5c6e2a7e-62"
        );
    }

    #[test]
    fn hostile_parts_cannot_leave_the_name() {
        let id = session_id("../../etc", "", "1/../../x");
        assert_eq!(id, "ec0000000000-00000000-1x");
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn a_generated_audit_id_is_kept_whole() {
        let id = session_id("ab", "cd", "0b6a2c1e-7d3f-4a5b-9c8d-1e2f3a4b5c6d");
        assert_eq!(
            id,
            "ab0000000000-cd000000-0b6a2c1e-7d3f-4a5b-9c8d-1e2f3a4b5c6d"
        );
    }
}
