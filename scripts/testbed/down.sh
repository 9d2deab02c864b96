#!/usr/bin/env bash
# Stops what up.sh started and removes the test accounts and keys.
# KEEP_USERS=1 keeps accounts and keys; KEEP_JOURNALD=1 leaves journald running (other
# tests on the machine may be reading it).
set -euo pipefail
HERE=$(dirname "${BASH_SOURCE[0]}")
. "$HERE/lib.sh"
"$HERE/sshd.sh" stop
"$HERE/rsyslog.sh" stop
[[ ${KEEP_USERS:-0} == 1 ]] || "$HERE/users.sh" cleanup
[[ ${KEEP_JOURNALD:-0} == 1 ]] || "$HERE/journald.sh" stop
