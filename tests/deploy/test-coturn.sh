#!/bin/sh
# test-coturn.sh SRCDIR MCU CLIENT: proves a site whose ICE policy is "relay only"
# joins through Debian's real coturn, configured from the sample
# deploy/coturn/turnserver.conf, and that media flows both ways through the relay.
# coturn runs in the foreground on loopback (`turnserver -c`), never as the system
# service. The site is lt-webrtc-client (webrtcbin) with --turn and --relay-only
# against lienthong-mcu's echo endpoint: it must decode the node's video and audio,
# its offer must carry relay candidates only, and coturn must log an allocation for
# the sample's user and relayed traffic. Runs under tests/tools/in-netns.sh, so
# loopback is the only network. Skips (exit 77) without turnserver.
# The sample denies loopback peers (right for production); the test allows them,
# since here the node is on loopback.
set -eu
src=$1 mcu=$(readlink -f "$2") client=$(readlink -f "$3")
turnserver=$(command -v turnserver || true)
[ -n "$turnserver" ] || { echo "SKIP: turnserver not installed (apt-get install coturn)"; exit 77; }

tmp=$(mktemp -d)
turn_pid= node_pid=
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
  if [ -n "$turn_pid" ]; then
    if [ -s "$tmp/turnserver.pid" ]; then kill "$(cat "$tmp/turnserver.pid")" 2>/dev/null
    else pkill -P "$turn_pid" 2>/dev/null; fi
    wait "$turn_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
  return 0
}
trap 'rc=$?; cleanup; exit $rc' EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "--- $f"; tail -30 "$f"; done; exit 1; }

port=$(/usr/bin/python3 -c 'import socket
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=$(sed -n 's/^user=//p' "$src/deploy/coturn/turnserver.conf")
[ -n "$user" ] || fail "the sample has no user= line"

sed -e "s|^listening-port=.*|listening-port=$port|" \
    -e "s|^listening-ip=.*|listening-ip=127.0.0.1|" \
    -e "s|^relay-ip=.*|relay-ip=127.0.0.1|" \
    -e "/^denied-peer-ip=127\./d" \
    -e "s|^log-file=.*|log-file=$tmp/turn.log|" \
    "$src/deploy/coturn/turnserver.conf" > "$tmp/turnserver.conf"
cat >> "$tmp/turnserver.conf" <<CONF
# test only: the node is on loopback
allow-loopback-peers
allowed-peer-ip=127.0.0.1
pidfile=$tmp/turnserver.pid
userdb=$tmp/turndb
no-tls
no-dtls
verbose
CONF
# Under a shell of its own: when coturn stops it signals its parent too, which
# must not be this script. It is stopped by the pid it writes (pidfile=).
sh -c '"$0" -c "$1" || true' "$turnserver" "$tmp/turnserver.conf" >"$tmp/turn-stdout.log" 2>&1 &
turn_pid=$!

mkdir -p "$tmp/node"
"$mcu" --http 127.0.0.1:0 --address 127.0.0.1 --state-dir "$tmp/node" 2>"$tmp/mcu.log" &
node_pid=$!
for _ in $(seq 200); do
  [ -s "$tmp/node/mcu-http.addr" ] && grep -q 'listener opened\|Total General servers' "$tmp/turn.log" 2>/dev/null && break
  sleep 0.05
done
[ -s "$tmp/node/mcu-http.addr" ] || fail "lienthong-mcu did not start"
kill -0 "$turn_pid" 2>/dev/null || fail "turnserver exited"
addr=$(cat "$tmp/node/mcu-http.addr")

set +e
LT_WEBRTC_DEBUG=1 "$client" --whip "http://$addr/api/v1/echo" \
  --turn "turn://$user@127.0.0.1:$port" --relay-only \
  --expect-video --expect-audio --hold 1 --timeout 25 >"$tmp/client.json" 2>"$tmp/client.log"
rc=$?
set -e
cat "$tmp/client.json"
[ $rc -eq 0 ] || fail "the relay-only site saw no media (exit $rc)"
echo "ok: relay-only site decoded the node's video and audio"

# the offer only (the debug output holds the offer, then the answer)
sed -n '/^--- offer/,/^--- /p' "$tmp/client.log" | grep '^a=candidate:' > "$tmp/offer-cands" || true
cands=$(wc -l < "$tmp/offer-cands")
hosts=$(grep -vc ' typ relay' "$tmp/offer-cands" || true)
[ "$cands" -gt 0 ] && [ "$hosts" -eq 0 ] \
  || fail "the site offered $cands candidates, $hosts of them not relayed"
echo "ok: the site offered $cands candidates, all 'typ relay'"

# coturn's own account: an allocation for the sample's user and a permission (or
# channel) for the node's address. libnice keeps the UDP allocation until it expires,
# so coturn's per-session usage line does not come within the test.
name=${user%%:*}
grep -q "user <$name>: incoming packet ALLOCATE processed, success" "$tmp/turn.log" \
  || fail "coturn logged no successful allocation for $name"
echo "ok: coturn allocated a relay for user $name"
grep -q "user <$name>: incoming packet \(CREATE_PERMISSION\|CHANNEL_BIND\) processed, success" "$tmp/turn.log" \
  || fail "coturn logged no permission towards the node"
echo "ok: coturn opened the relay towards the node (permission/channel for 127.0.0.1)"
exit 0
