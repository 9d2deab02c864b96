//! The `saddr=` of a SOCKADDR record: the `struct sockaddr` a process passed to
//! connect/bind/sendto/accept, hex-encoded byte for byte.
//!
//! Layouts (Linux): every address starts with a 2-byte family in host byte order;
//! `sockaddr_in` has the port (network order) then the IPv4 address; `sockaddr_in6` has
//! the port, 4 bytes of flow info, the 16-byte address and a scope id; `sockaddr_un` has
//! a path (NUL-terminated, or starting with NUL for the abstract namespace);
//! `sockaddr_nl` has 2 bytes of padding, the port id and the multicast groups.

use super::hex::decode_hex;
use crate::tables;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

const AF_UNIX: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const AF_NETLINK: u16 = 16;

/// A decoded `saddr=` socket address.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SockAddr {
    /// `AF_UNIX`: a filesystem path, `@name` for the abstract namespace (its leading NUL
    /// shown as `@`, as `ss` and `netstat` do), or empty for an unnamed socket.
    Unix {
        path: String,
    },
    Inet {
        addr: Ipv4Addr,
        port: u16,
    },
    Inet6 {
        addr: Ipv6Addr,
        port: u16,
    },
    /// `AF_NETLINK`: the peer's port id (0 = the kernel) and multicast group mask.
    Netlink {
        pid: u32,
        groups: u32,
    },
    /// A family not decoded here; `raw` is the whole `saddr` hex as the record had it.
    Other {
        family: u16,
        raw: String,
    },
    /// Not hex, or too short for its family; `raw` is the value as the record had it.
    Malformed {
        raw: String,
    },
}

/// Decodes the hex `saddr=` of a SOCKADDR record. Never panics: short or garbled input
/// gives [`SockAddr::Malformed`].
///
/// The family is read little-endian (the byte order of x86, arm and ppc64le hosts). A
/// record from a big-endian host (s390x, ppc64) has the family's bytes swapped; when the
/// little-endian reading names no family this decoder knows and the big-endian one does,
/// the big-endian reading is used.
pub fn sockaddr(hex: &str) -> SockAddr {
    let malformed = || SockAddr::Malformed {
        raw: hex.to_string(),
    };
    let Some(bytes) = decode_hex(hex) else {
        return malformed();
    };
    let Some(head) = bytes.get(..2) else {
        return malformed();
    };
    let le = u16::from_le_bytes([head[0], head[1]]);
    let be = u16::from_be_bytes([head[0], head[1]]);
    let decoded = |f| matches!(f, AF_UNIX | AF_INET | AF_INET6 | AF_NETLINK);
    let (family, big_endian) = if !decoded(le) && decoded(be) {
        (be, true)
    } else {
        (le, false)
    };
    let rest = &bytes[2..];
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = rest.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let port = || rest.get(..2).map(|p| u16::from_be_bytes([p[0], p[1]]));
    let decoded = match family {
        AF_UNIX => Some(SockAddr::Unix {
            path: unix_path(rest),
        }),
        AF_INET => (|| {
            let a: [u8; 4] = rest.get(2..6)?.try_into().ok()?;
            Some(SockAddr::Inet {
                addr: Ipv4Addr::from(a),
                port: port()?,
            })
        })(),
        AF_INET6 => (|| {
            let a: [u8; 16] = rest.get(6..22)?.try_into().ok()?;
            Some(SockAddr::Inet6 {
                addr: Ipv6Addr::from(a),
                port: port()?,
            })
        })(),
        AF_NETLINK => (|| {
            Some(SockAddr::Netlink {
                pid: u32_at(2)?,
                groups: u32_at(6)?,
            })
        })(),
        _ => Some(SockAddr::Other {
            family,
            raw: hex.to_string(),
        }),
    };
    decoded.unwrap_or_else(malformed)
}

fn unix_path(path: &[u8]) -> String {
    match path.split_first() {
        None => String::new(),
        // Abstract namespace: every byte after the NUL is part of the name.
        Some((0, name)) => {
            let mut out = String::with_capacity(name.len() + 1);
            out.push('@');
            out.push_str(&String::from_utf8_lossy(name));
            out
        }
        Some(_) => {
            let end = path.iter().position(|b| *b == 0).unwrap_or(path.len());
            String::from_utf8_lossy(&path[..end]).into_owned()
        }
    }
}

impl SockAddr {
    /// The family name (`local`, `inet`, `inet6`, `netlink`, …), if known.
    pub fn family_name(&self) -> Option<&'static str> {
        let family = match self {
            SockAddr::Unix { .. } => AF_UNIX,
            SockAddr::Inet { .. } => AF_INET,
            SockAddr::Inet6 { .. } => AF_INET6,
            SockAddr::Netlink { .. } => AF_NETLINK,
            SockAddr::Other { family, .. } => *family,
            SockAddr::Malformed { .. } => return None,
        };
        tables::family(u64::from(family))
    }
}

/// `inet 127.0.0.1:9`, `inet6 [::1]:22`, `local /dev/log`, `local @name`,
/// `netlink pid=0 groups=0`, `<family> <hex>` for other families, `malformed <hex>`.
impl fmt::Display for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SockAddr::Unix { path } => write!(f, "local {path}"),
            SockAddr::Inet { addr, port } => write!(f, "inet {addr}:{port}"),
            SockAddr::Inet6 { addr, port } => write!(f, "inet6 [{addr}]:{port}"),
            SockAddr::Netlink { pid, groups } => write!(f, "netlink pid={pid} groups={groups}"),
            SockAddr::Other { family, raw } => match self.family_name() {
                Some(name) => write!(f, "{name} {raw}"),
                None => write!(f, "family={family} {raw}"),
            },
            SockAddr::Malformed { raw } => write!(f, "malformed {raw}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every saddr below is from a SOCKADDR record this machine's auditd wrote for a
    // connect() (see interpret/testdata/capture.sh).
    #[test]
    fn inet() {
        let addr = sockaddr("020000097F0000010000000000000000");
        assert_eq!(
            addr,
            SockAddr::Inet {
                addr: Ipv4Addr::LOCALHOST,
                port: 9
            }
        );
        assert_eq!(addr.to_string(), "inet 127.0.0.1:9");
    }

    #[test]
    fn inet6() {
        let addr = sockaddr("0A000016000000000000000000000000000000000000000100000000");
        assert_eq!(
            addr,
            SockAddr::Inet6 {
                addr: Ipv6Addr::LOCALHOST,
                port: 22
            }
        );
        assert_eq!(addr.to_string(), "inet6 [::1]:22");
    }

    #[test]
    fn unix_path_and_abstract() {
        assert_eq!(
            sockaddr("01002F6465762F6C6F6700"),
            SockAddr::Unix {
                path: "/dev/log".into()
            }
        );
        assert_eq!(
            sockaddr("01000061627374726163742D6862"),
            SockAddr::Unix {
                path: "@abstract-hb".into()
            }
        );
        assert_eq!(
            sockaddr("0100"),
            SockAddr::Unix {
                path: String::new()
            }
        );
    }

    #[test]
    fn netlink() {
        assert_eq!(
            sockaddr("100000000000000000000000"),
            SockAddr::Netlink { pid: 0, groups: 0 }
        );
    }

    #[test]
    fn big_endian_family() {
        // Fabricated: the inet address above as a big-endian host would write it.
        assert_eq!(
            sockaddr("000200097F000001"),
            SockAddr::Inet {
                addr: Ipv4Addr::LOCALHOST,
                port: 9
            }
        );
    }

    #[test]
    fn other_and_malformed() {
        assert_eq!(
            sockaddr("1100AABB"),
            SockAddr::Other {
                family: 17,
                raw: "1100AABB".into()
            }
        );
        assert_eq!(sockaddr("1100AABB").to_string(), "packet 1100AABB");
        for bad in [
            "",
            "0",
            "02",
            "0200",
            "020000097F00",
            "0A00001600",
            "10000000",
            "zz00",
        ] {
            assert!(
                matches!(sockaddr(bad), SockAddr::Malformed { .. }),
                "{bad:?}: {:?}",
                sockaddr(bad)
            );
        }
    }
}
