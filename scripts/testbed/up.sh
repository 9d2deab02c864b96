#!/usr/bin/env bash
# Starts the whole sshd testbed: journald, rsyslog (syslog files), test users, sshd.
# Idempotent: running it again leaves running parts alone (sshd is reloaded).
set -euo pipefail
HERE=$(dirname "${BASH_SOURCE[0]}")
"$HERE/journald.sh" start
"$HERE/rsyslog.sh" start
"$HERE/users.sh" setup
"$HERE/sshd.sh" start
