#!/usr/bin/env bash
# Test accounts, keys and a user-certificate CA for the sshd testbed.
#
#   users.sh setup     create (or refresh) everything; safe to run again
#   users.sh cleanup   delete the accounts, groups and key material it created
#
# Accounts (prefix $TESTBED_USER_PREFIX, default "sshtrail-"), all with password
# $TESTBED_PASSWORD unless said otherwise:
#   alice     ed25519 key + password; member of the AllowGroups group
#   bob       password only (also used for keyboard-interactive)
#   carol     key signed by the test CA: ID "carol@sshtrail-test", serial 4242, principal
#             sshtrail-carol; plus an expired certificate (serial 4243) and one for the wrong
#             principal (serial 4244)
#   dave      key listed in RevokedKeys
#   denied    listed in DenyUsers
#   grpdenied member of a DenyGroups group
#   noshell   login shell that does not exist
#   sloppy    authorized_keys file with mode 0666 (StrictModes refuses it)
#   empty     empty password (PermitEmptyPasswords: method "none")
# and root gets a key in the testbed's authorized_keys dir (PermitRootLogin no refuses it).
# Keys live under $TESTBED_DIR/keys/<short name>[ -cert.pub]; authorized_keys files under
# $TESTBED_DIR/authorized_keys/<account>, which sshd_config names with AuthorizedKeysFile.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=$TESTBED_USER_PREFIX
USERS=(alice bob carol dave denied grpdenied noshell sloppy empty)
KEYS=$TESTBED_DIR/keys
AK=$TESTBED_DIR/authorized_keys
CA=$TESTBED_DIR/ca

ensure_group() { getent group "$1" >/dev/null || groupadd "$1"; }

ensure_user() { # name shell
    local name=$1 shell=${2:-/bin/bash}
    if ! id "$name" >/dev/null 2>&1; then
        useradd -m -s "$shell" "$name"
    else
        usermod -s "$shell" "$name"
    fi
}

keygen() { # short-name
    [[ -f $KEYS/$1 ]] || ssh-keygen -q -t ed25519 -N '' -C "$1@sshtrail-test" -f "$KEYS/$1"
}

setup() {
    tb_need_pkgs openssh-server openssh-client sshpass
    mkdir -p "$KEYS" "$AK" "$CA"
    chmod 755 "$TESTBED_DIR" "$AK"
    chmod 700 "$KEYS" "$CA"

    ensure_group "${P}allowgrp"
    ensure_group "${P}denygrp"
    local u
    for u in "${USERS[@]}"; do
        if [[ $u == noshell ]]; then ensure_user "$P$u" /nonexistent/shell; else ensure_user "$P$u"; fi
        echo "$P$u:$TESTBED_PASSWORD" | chpasswd
    done
    passwd -d "${P}empty" >/dev/null
    usermod -a -G "${P}allowgrp" "${P}alice"
    usermod -a -G "${P}denygrp" "${P}grpdenied"

    for u in alice carol carol-expired carol-wrongprincipal dave sloppy root spare1 spare2 spare3; do
        keygen "$u"
    done
    [[ -f $CA/user_ca ]] || ssh-keygen -q -t ed25519 -N '' -C sshtrail-test-ca -f "$CA/user_ca"
    # Certificates are re-signed on every setup so that validity windows stay current.
    ssh-keygen -q -s "$CA/user_ca" -I carol@sshtrail-test -n "${P}carol" -z 4242 -V -5m:+52w "$KEYS/carol.pub"
    ssh-keygen -q -s "$CA/user_ca" -I carol-expired@sshtrail-test -n "${P}carol" -z 4243 \
        -V 20200101:20200102 "$KEYS/carol-expired.pub"
    ssh-keygen -q -s "$CA/user_ca" -I carol-wrong@sshtrail-test -n someone-else -z 4244 \
        -V -5m:+52w "$KEYS/carol-wrongprincipal.pub"

    # One authorized_keys file per account; root-owned, 0644 (StrictModes wants that).
    for u in alice dave sloppy; do
        install -m 0644 "$KEYS/$u.pub" "$AK/$P$u"
    done
    install -m 0644 "$KEYS/root.pub" "$AK/root"
    chmod 0666 "$AK/${P}sloppy"
    # dave's key is authorized but revoked: sshd must refuse it before looking it up.
    install -m 0644 "$KEYS/dave.pub" "$TESTBED_DIR/revoked_keys"
    tb_log "users and keys ready under $TESTBED_DIR"
}

cleanup() {
    local u
    for u in "${USERS[@]}"; do
        if id "$P$u" >/dev/null 2>&1; then
            # -f: remove even if a test session of this account is still logged in.
            userdel -f -r "$P$u" 2>/dev/null || userdel -f "$P$u" || true
        fi
    done
    getent group "${P}allowgrp" >/dev/null && groupdel "${P}allowgrp" || true
    getent group "${P}denygrp" >/dev/null && groupdel "${P}denygrp" || true
    rm -rf "$KEYS" "$AK" "$CA" "$TESTBED_DIR/revoked_keys"
    tb_log "users and keys removed"
}

case ${1:-} in
setup) setup ;;
cleanup) cleanup ;;
*) echo "usage: $0 setup|cleanup" >&2; exit 2 ;;
esac
