//! sshtrail's terminal recorder: what runs as sshd's `ForceCommand` (or as the login
//! shell), runs the session's program, and sends what the user saw to the sshtrail
//! daemon's recording socket, which files it into the session's log.
//!
//! The session is unchanged for the user: with a pty from sshd the program runs in a pty
//! of the recorder's ([`relay::run_in_pty`]); without one, over plain pipes copied byte for
//! byte ([`relay::run_with_pipes`]), so `ssh host cmd`, scp, sftp and rsync work as before.
//! The recorder exits as the program did. If the daemon is away, the session goes on
//! unrecorded (or, by the administrator's choice, is refused); if the daemon goes away
//! midway, the recorder reconnects and the bytes in between show as a gap.
//!
//! ## Why the recorded user cannot forge a recording
//!
//! The recorder runs as the user, so the user could otherwise trace it, or talk to the
//! socket themselves. Instead:
//! - the binary is installed setgid to a group of its own (`sshtrail-record`), and the
//!   socket accepts only peers whose effective group is that group (the daemon reads it
//!   with `SO_PEERCRED`). A process of the user's own has the user's groups only.
//! - a setgid program is not dumpable: a process of the same user cannot `ptrace` it or
//!   read or write its memory through `/proc`, and the dynamic loader ignores
//!   `LD_PRELOAD` and its kin for it. So what it sends is what it relayed.
//! - the program the recorder runs gets the user's own group back before `exec`
//!   ([`relay`]), and the socket is close-on-exec: nothing the user runs holds either.
//! - the daemon takes the session from the kernel, never from what the recorder says: the
//!   peer's `/proc/<pid>/sessionid` and `loginuid`, matched to the login it tracks.
//!
//! What the user can still do is stop or kill their own recorder (it runs with their
//! uid): that ends their session's terminal, and the daemon sees the recording end
//! without the program's exit.
//!
//! The wire format is [`protocol`]'s.

pub mod cli;
pub mod link;
pub mod protocol;
pub mod pty;
pub mod relay;
