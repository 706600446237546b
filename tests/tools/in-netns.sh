#!/bin/sh
# in-netns.sh COMMAND [ARGS...]: runs COMMAND in a new network namespace that has only
# the loopback interface, up. ICE agents gather every local address; inside, the only
# ones are 127.0.0.1 and ::1, so no test packet can reach any other host.
# It gets a PID namespace of its own too: when the test ends, however it ends (a failed
# assertion, a timeout's kill), every process it started (nodes, sites, browsers) dies
# with it instead of loading the suites that run after it for minutes.
# Needs root and unshare(1) (CI and the quickstart run as root). When the namespace
# cannot be made the test FAILS with a message: running it on the host instead
# would let its ICE agents (and webrtcbin's, which gather on every interface) send
# to whatever networks the machine is on.
set -eu
# fail WHY COMMAND
fail() {
  echo "in-netns.sh: $1; refusing to run $2 outside a network namespace of its own" >&2
  exit 1
}
[ "$#" -ge 1 ] || { echo "usage: in-netns.sh COMMAND [ARGS...]" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || fail "needs root to make a network namespace (uid $(id -u))" "$1"
command -v unshare >/dev/null 2>&1 || fail "unshare(1) not found (util-linux)" "$1"
command -v ip >/dev/null 2>&1 || fail "ip(8) not found (iproute2)" "$1"
unshare --net --pid --fork --kill-child --mount-proc true 2>/dev/null \
  || fail "unshare --net --pid is refused here" "$1"
exec unshare --net --pid --fork --kill-child --mount-proc sh -c 'ip link set lo up && exec "$@"' in-netns "$@"
