#!/bin/bash
# test-quickstart-admin.sh SRCDIR SIGNALD: proves the piece of `deploy/quickstart run`
# that makes the first admin account (first_admin), against the installed daemon in a
# temporary state folder, without building or starting anything else:
#   - the first start makes "admin" with a random one-time password, which signs in
#     and must be changed (must_change), and is not the same on another first start;
#   - a later start finds the account and hands out no password again.
# Skips (exit 77) when curl is absent.
set -eu
src=$1 signald=$(readlink -f "$2")
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl not installed"; exit 77; }

tmp=$(mktemp -d)
sd_pid=
cleanup() {
  [ -n "$sd_pid" ] && kill -INT "$sd_pid" 2>/dev/null && wait "$sd_pid" 2>/dev/null
  rm -rf "$tmp"
  return 0
}
trap 'rc=$?; cleanup; exit $rc' EXIT
fail() { echo "FAIL: $*"; tail -20 "$tmp/signald.log"; exit 1; }

start() { # start DIR: a daemon on a free port with its state in DIR
  mkdir -p "$1"
  : > "$tmp/signald.conf"
  "$signald" --config "$tmp/signald.conf" --listen 127.0.0.1:0 --state-dir "$1" \
    2>>"$tmp/signald.log" &
  sd_pid=$!
  for _ in $(seq 200); do [ -s "$1/signald.addr" ] && break; sleep 0.05; done
  [ -s "$1/signald.addr" ] || fail "signald did not start"
}
stop() { kill -INT "$sd_pid"; wait "$sd_pid" || true; sd_pid=; rm -f "$state/signald.addr"; }

# shellcheck source=/dev/null
source "$src/deploy/quickstart"
set +e +o pipefail
state=$tmp/state
start "$state"
first_admin || fail "first_admin failed on the first start"
[ -n "$admin_password" ] || fail "no one-time password on the first start"
first=$admin_password
code=$(curl -sS -o "$tmp/s.json" -w '%{http_code}' -H 'content-type: application/json' \
  -d "{\"user\":\"admin\",\"password\":\"$first\"}" "http://$(cat "$state/signald.addr")/api/v1/session")
[ "$code" = 201 ] || fail "the one-time password does not sign in: HTTP $code $(cat "$tmp/s.json")"
grep -q '"must_change":true' "$tmp/s.json" || fail "the one-time password need not be changed: $(cat "$tmp/s.json")"
grep -q '"role":"admin"' "$tmp/s.json" || fail "not an admin: $(cat "$tmp/s.json")"
echo "ok: the first start makes admin with a one-time password that must be changed"

stop
start "$state"
first_admin || fail "first_admin failed on a later start"
[ -z "$admin_password" ] || fail "a later start printed a password again"
echo "ok: a later start finds the account and prints no password"
stop

state=$tmp/state2
start "$state"
first_admin || fail "first_admin failed on another first start"
[ -n "$admin_password" ] && [ "$admin_password" != "$first" ] \
  || fail "another first start gave the same password"
echo "ok: each first start draws its own password"
exit 0
