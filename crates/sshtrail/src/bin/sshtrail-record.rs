//! The terminal recorder, installed setgid `sshtrail-record` (see `sshtrail_record`): a
//! binary of its own, small and without the daemon's code, because it runs with a group
//! the user does not have.

fn main() {
    sshtrail_record::cli::main()
}
