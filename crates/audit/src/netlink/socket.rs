//! A raw `NETLINK_AUDIT` socket: open, bind, send one message, receive one datagram.
//!
//! Everything unsafe in the client lives here, in small calls whose arguments are
//! checked sizes of owned buffers.

use super::NetlinkError;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// `NETLINK_AUDIT`, the audit protocol number.
const NETLINK_AUDIT: libc::c_int = 9;
/// `SOL_NETLINK` and its `NETLINK_ADD_MEMBERSHIP` option.
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_ADD_MEMBERSHIP: libc::c_int = 1;

/// The first message type that is an audit record rather than a control message
/// (`AUDIT_FIRST_USER_MSG`).
pub const FIRST_RECORD_TYPE: u16 = 1100;

/// Length of `struct nlmsghdr`.
pub const HEADER_LEN: usize = 16;

/// An open audit netlink socket. Closing is dropping it.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
}

/// Who sent a datagram: the kernel is port 0; anything else is another process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sender {
    pub pid: u32,
    pub groups: u32,
}

impl Socket {
    /// Opens and binds a socket (the kernel picks our port id).
    pub fn open() -> Result<Socket, NetlinkError> {
        // SAFETY: plain socket(2) call; the returned fd is checked and owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_AUDIT,
            )
        };
        if fd < 0 {
            return Err(NetlinkError::Io("socket", io::Error::last_os_error()));
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        let sock = Socket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        };
        let addr = sockaddr(0, 0);
        // SAFETY: addr is a valid sockaddr_nl and the length is its size.
        let rc = unsafe {
            libc::bind(
                sock.fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(NetlinkError::Io("bind", io::Error::last_os_error()));
        }
        Ok(sock)
    }

    /// Joins a multicast group (1 = `AUDIT_NLGRP_READLOG`; needs CAP_AUDIT_READ).
    pub fn join_group(&self, group: u32) -> Result<(), NetlinkError> {
        self.set_int(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group as libc::c_int)
            .map_err(|e| NetlinkError::Io("join multicast group", e))
    }

    /// Asks for a receive buffer of `bytes`: SO_RCVBUFFORCE goes past the system's
    /// rmem_max (needs CAP_NET_ADMIN), SO_RCVBUF otherwise. Returns what the kernel
    /// granted (it doubles the request for bookkeeping).
    pub fn set_receive_buffer(&self, bytes: usize) -> Result<usize, NetlinkError> {
        let want = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        if self
            .set_int(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, want)
            .is_err()
        {
            self.set_int(libc::SOL_SOCKET, libc::SO_RCVBUF, want)
                .map_err(|e| NetlinkError::Io("SO_RCVBUF", e))?;
        }
        self.get_int(libc::SOL_SOCKET, libc::SO_RCVBUF)
            .map(|v| v.max(0) as usize)
            .map_err(|e| NetlinkError::Io("SO_RCVBUF", e))
    }

    /// Waits until a datagram can be read or `timeout` passes; true if readable.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // Round up so a sub-millisecond wait does not spin.
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        // SAFETY: pfd is one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                return Ok(false);
            }
            return Err(err);
        }
        Ok(rc > 0)
    }

    /// Sends one message to the kernel.
    pub fn send(&self, message: &[u8]) -> Result<(), NetlinkError> {
        self.send_to(message, 0)
    }

    /// Sends one message to a port (0: the kernel; another port: a process, which
    /// needs CAP_NET_ADMIN and is only used by tests of the sender check).
    pub fn send_to(&self, message: &[u8], port: u32) -> Result<(), NetlinkError> {
        let addr = sockaddr(port, 0);
        loop {
            // SAFETY: message and addr are valid for the lengths given.
            let rc = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    message.as_ptr().cast(),
                    message.len(),
                    0,
                    (&addr as *const libc::sockaddr_nl).cast(),
                    std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            if rc >= 0 {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(NetlinkError::Io("send", err));
            }
        }
    }

    /// Receives one datagram into `buf` without blocking (WouldBlock when none is
    /// queued: under load one syscall per datagram, no timer setup); returns its length
    /// (truncated datagrams are reported with their full length, `MSG_TRUNC`) and the
    /// sender.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, Sender)> {
        loop {
            let mut addr = sockaddr(0, 0);
            let mut addr_len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
            // SAFETY: buf and addr are valid writable buffers of the lengths given.
            let rc = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                    (&mut addr as *mut libc::sockaddr_nl).cast(),
                    &mut addr_len,
                )
            };
            if rc >= 0 {
                let sender = Sender {
                    pid: addr.nl_pid,
                    groups: addr.nl_groups,
                };
                return Ok((rc as usize, sender));
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// Receives up to `lens.len()` queued datagrams without blocking, datagram `i` into
    /// `buf[i * slot..][..slot]`, in one `recvmmsg` (a busy source makes one syscall per
    /// many records, not one each). Returns how many arrived (WouldBlock when none was
    /// queued); `lens[i]` is each one's full length (more than `slot`: truncated) and
    /// `senders[i]` who sent it.
    pub fn recv_many(
        &self,
        buf: &mut [u8],
        slot: usize,
        lens: &mut [usize],
        senders: &mut [Sender],
    ) -> io::Result<usize> {
        const MAX: usize = 64;
        let count = lens
            .len()
            .min(senders.len())
            .min(MAX)
            .min(buf.len() / slot.max(1));
        if count == 0 {
            return Ok(0);
        }
        let mut addrs = [sockaddr(0, 0); MAX];
        // SAFETY: iovec and mmsghdr are plain data; all-zero is a valid value.
        let mut iovecs: [libc::iovec; MAX] = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut headers: [libc::mmsghdr; MAX] = unsafe { std::mem::zeroed() };
        for (i, chunk) in buf.chunks_exact_mut(slot).take(count).enumerate() {
            iovecs[i] = libc::iovec {
                iov_base: chunk.as_mut_ptr().cast(),
                iov_len: slot,
            };
            headers[i].msg_hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_nl).cast();
            headers[i].msg_hdr.msg_namelen =
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
            headers[i].msg_hdr.msg_iov = &mut iovecs[i];
            headers[i].msg_hdr.msg_iovlen = 1;
        }
        loop {
            // SAFETY: `count` headers, each pointing at its own address and iovec, each
            // iovec at its own `slot` bytes of `buf`; all live for the call.
            let rc = unsafe {
                libc::recvmmsg(
                    self.fd.as_raw_fd(),
                    headers.as_mut_ptr(),
                    count as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if rc >= 0 {
                let got = rc as usize;
                for i in 0..got {
                    let header = &headers[i];
                    let len = header.msg_len as usize;
                    // A truncated datagram: report it as longer than its slot.
                    let truncated = header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
                    lens[i] = if truncated { len.max(slot + 1) } else { len };
                    senders[i] = Sender {
                        pid: addrs[i].nl_pid,
                        groups: addrs[i].nl_groups,
                    };
                }
                return Ok(got);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// The port id the kernel gave this socket.
    pub fn port_id(&self) -> Result<u32, NetlinkError> {
        let mut addr = sockaddr(0, 0);
        let mut len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: addr and len are valid writable locations of the sizes given.
        let rc = unsafe {
            libc::getsockname(
                self.fd.as_raw_fd(),
                (&mut addr as *mut libc::sockaddr_nl).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(NetlinkError::Io("getsockname", io::Error::last_os_error()));
        }
        Ok(addr.nl_pid)
    }

    fn set_int(&self, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
        // SAFETY: value is a valid c_int and the length is its size.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn get_int(&self, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: value and len are valid writable locations of the sizes given.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(value)
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

fn sockaddr(pid: u32, groups: u32) -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain data; all-zero is a valid value.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    addr.nl_pid = pid;
    addr.nl_groups = groups;
    addr
}

/// One netlink message: header fields and payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub msg_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
    pub payload: &'a [u8],
}

/// Builds a request message.
pub fn build(msg_type: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = HEADER_LEN + payload.len();
    let mut out = Vec::with_capacity(align(len));
    out.extend_from_slice(&(len as u32).to_ne_bytes());
    out.extend_from_slice(&msg_type.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(align(len), 0);
    out
}

fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// Splits a datagram into messages.
///
/// Kernel quirk: the `nlmsg_len` of an audit *record* cannot be trusted. Records sent
/// to the registered daemon (unicast) carry the payload length without the 16-byte
/// header (seen on this machine's 6.1 kernel: every unicast record came 16 bytes
/// short), while multicast copies are right. The kernel puts exactly one record in a
/// datagram, so a record (type 1100 and up: not a reply to a request) takes the whole
/// rest of the datagram as its payload, whatever its header says. Replies to requests
/// (several per datagram for rule listings) follow `nlmsg_len`; a length that does not
/// fit the datagram ends the split there instead of reading past it.
pub fn split(datagram: &[u8]) -> Vec<Message<'_>> {
    messages(datagram).collect()
}

/// [`split`] without collecting: what the receiving loop uses, allocating nothing.
pub fn messages(datagram: &[u8]) -> impl Iterator<Item = Message<'_>> {
    let mut rest = datagram;
    std::iter::from_fn(move || {
        if rest.len() < HEADER_LEN {
            return None;
        }
        let word =
            |at: usize| u32::from_ne_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]]);
        let len = word(0) as usize;
        let msg_type = u16::from_ne_bytes([rest[4], rest[5]]);
        let flags = u16::from_ne_bytes([rest[6], rest[7]]);
        let (seq, pid) = (word(8), word(12));
        let fits = len >= HEADER_LEN && len <= rest.len() && msg_type < FIRST_RECORD_TYPE;
        let end = if fits { len } else { rest.len() };
        let message = Message {
            msg_type,
            flags,
            seq,
            pid,
            payload: &rest[HEADER_LEN..end],
        };
        rest = if fits {
            &rest[align(end).min(rest.len())..]
        } else {
            &[]
        };
        Some(message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(len: u32, msg_type: u16, seq: u32) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&len.to_ne_bytes());
        h.extend_from_slice(&msg_type.to_ne_bytes());
        h.extend_from_slice(&0u16.to_ne_bytes());
        h.extend_from_slice(&seq.to_ne_bytes());
        h.extend_from_slice(&0u32.to_ne_bytes());
        h
    }

    #[test]
    fn unicast_record_with_short_length_keeps_its_whole_payload() {
        // As this kernel sends them to the daemon: nlmsg_len = payload length only.
        let payload =
            b"audit(1795435291.450:59943): argc=2 a0=\"/bin/true\" a1=\"sshtrail-unicast-1\"";
        let mut d = header(payload.len() as u32, 1309, 0);
        d.extend_from_slice(payload);
        let msgs = split(&d);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].msg_type, 1309);
        assert_eq!(msgs[0].payload, payload);
    }

    #[test]
    fn replies_split_on_their_lengths() {
        let mut d = header(16 + 5, 1013, 7);
        d.extend_from_slice(b"abcde\0\0\0");
        d.extend(header(16 + 4, 1013, 7));
        d.extend_from_slice(b"wxyz");
        d.extend(header(16 + 4, NLMSG_DONE_TYPE, 7));
        d.extend_from_slice(&0u32.to_ne_bytes());
        let msgs = split(&d);
        let got: Vec<_> = msgs.iter().map(|m| (m.msg_type, m.payload)).collect();
        assert_eq!(
            got,
            vec![
                (1013, &b"abcde"[..]),
                (1013, &b"wxyz"[..]),
                (NLMSG_DONE_TYPE, &0u32.to_ne_bytes()[..])
            ]
        );
        // A lying length stops the split without reading past the datagram.
        let mut bad = header(9999, 1000, 1);
        bad.extend_from_slice(b"xy");
        assert_eq!(split(&bad)[0].payload, b"xy");
    }

    const NLMSG_DONE_TYPE: u16 = 3;

    proptest! {
        #[test]
        fn hostile_datagrams_never_panic(d in proptest::collection::vec(any::<u8>(), 0..200)) {
            // Every message's header and payload lie inside the datagram.
            let total: usize = split(&d).iter().map(|m| m.payload.len() + HEADER_LEN).sum();
            prop_assert!(total <= d.len());
        }
    }
}
