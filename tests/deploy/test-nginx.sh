#!/bin/sh
# test-nginx.sh SRCDIR SIGNALD WSPROBE: proves the sample nginx site
# (deploy/nginx/lienthong-signald.conf) puts TLS in front of signald for both the
# HTTP API and the WebSockets. Debian's real nginx runs in the foreground on loopback
# with its own prefix and config in a temporary folder (never the system service),
# with a throw-away certificate from `openssl req`; the site is the sample itself
# with only addresses, port and certificate paths substituted. Through it:
#   - the API answers (openapi.json, 401 without a token, an import and a search as
#     admin, with Vietnamese names intact), and plain HTTP is redirected to HTTPS;
#   - /metrics is not public through the proxy (401 without a token, 200 with one);
#   - a WebSocket opens with a certificate checked against the throw-away CA,
#     signald's hello arrives and a ping gets its pong;
#   - a browser-style Origin equal to the proxy's own https origin is accepted (so
#     the site passes Host with its port) and a foreign Origin is refused (403).
# Skips (exit 77) when nginx, openssl or curl is absent.
set -eu
src=$1 signald=$(readlink -f "$2") probe=$(readlink -f "$3")
. "$src/tests/deploy/nginx-run.sh"
for tool in nginx openssl curl; do
  command -v $tool >/dev/null 2>&1 || [ -x /usr/sbin/$tool ] \
    || { echo "SKIP: $tool not installed (apt-get install nginx-light openssl curl)"; exit 77; }
done
nginx=$(command -v nginx || echo /usr/sbin/nginx)

tmp=$(mktemp -d)
sd_pid= ng_pid=
cleanup() {
  [ -n "$ng_pid" ] && kill "$ng_pid" 2>/dev/null && wait "$ng_pid" 2>/dev/null
  [ -n "$sd_pid" ] && kill -INT "$sd_pid" 2>/dev/null && wait "$sd_pid" 2>/dev/null
  rm -rf "$tmp"
  return 0
}
trap 'rc=$?; cleanup; exit $rc' EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

# Free loopback ports for HTTPS and HTTP (bound then released: a tiny race only).
ports=$(/usr/bin/python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
https_port=${ports% *} http_port=${ports#* }

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/openssl.log" || fail "openssl req"

mkdir -p "$tmp/state"
: > "$tmp/signald.conf"
"$signald" --config "$tmp/signald.conf" --listen 127.0.0.1:0 --state-dir "$tmp/state" \
  2>"$tmp/signald.log" &
sd_pid=$!
for _ in $(seq 200); do [ -s "$tmp/state/signald.addr" ] && break; sleep 0.05; done
[ -s "$tmp/state/signald.addr" ] || fail "signald did not start"
sd_addr=$(cat "$tmp/state/signald.addr")
admin=$(cat "$tmp/state/admin.token")

# The sample site with this test's addresses, port and certificate.
sed -e "s|server 127.0.0.1:8480;|server $sd_addr;|" \
    -e "/listen \[::\]/d" \
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https_port ssl http2;|" \
    -e "s|listen 80;|listen 127.0.0.1:$http_port;|" \
    -e "s|server_name hop.example.gov.vn;|server_name localhost;|" \
    -e "s|/etc/ssl/certs/hop.example.gov.vn.pem|$tmp/cert.pem|" \
    -e "s|/etc/ssl/private/hop.example.gov.vn.key|$tmp/key.pem|" \
    "$src/deploy/nginx/lienthong-signald.conf" > "$tmp/site.conf"
grep -q "listen 127.0.0.1:$https_port ssl" "$tmp/site.conf" || fail "the sample's listen line changed; update this test"
start_nginx

base="https://localhost:$https_port"
c() { curl -sS --cacert "$tmp/cert.pem" --resolve "localhost:$https_port:127.0.0.1" "$@"; }
for _ in $(seq 200); do c -o /dev/null "$base/api/v1/openapi.json" 2>/dev/null && break; sleep 0.05; done

code=$(c -o "$tmp/openapi.json" -w '%{http_code}' "$base/api/v1/openapi.json") || fail "no HTTPS answer"
[ "$code" = 200 ] && grep -q '"openapi"' "$tmp/openapi.json" || fail "openapi.json through nginx: HTTP $code"
echo "ok: GET /api/v1/openapi.json over TLS (certificate verified)"

code=$(c -o /dev/null -w '%{http_code}' "$base/api/v1/units")
[ "$code" = 401 ] || fail "no token through nginx gave HTTP $code, not 401"
echo "ok: 401 without a token"

# /metrics names each province's worst loss and MOS: not public through the proxy
code=$(c -o /dev/null -w '%{http_code}' "$base/metrics")
[ "$code" = 401 ] || fail "/metrics without a token through nginx gave HTTP $code, not 401"
code=$(c -o "$tmp/metrics.txt" -w '%{http_code}' -H "Authorization: Bearer $admin" "$base/metrics")
[ "$code" = 200 ] && grep -q '^lienthong_build_info' "$tmp/metrics.txt" \
  || fail "/metrics with a token through nginx: HTTP $code"
echo "ok: /metrics through nginx needs a token (401 without, 200 with)"

code=$(c -o "$tmp/import.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" \
  -H 'content-type: text/csv' --data-binary @"$src/deploy/demo-units.csv" "$base/api/v1/units/import")
case $code in 2??) ;; *) fail "import through nginx: HTTP $code $(cat "$tmp/import.json")" ;; esac
echo "ok: POST /api/v1/units/import (CSV body) through nginx: HTTP $code"

c -o "$tmp/search.json" -H "Authorization: Bearer $admin" "$base/api/v1/units/search?q=son%20duong" \
  || fail "search"
grep -q 'Sơn Dương' "$tmp/search.json" || fail "search through nginx did not find Sơn Dương: $(cat "$tmp/search.json")"
echo "ok: units search through nginx finds Sơn Dương"

loc=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: localhost:$http_port" \
  "http://127.0.0.1:$http_port/api/v1/units")
case $loc in "301 https://localhost/api/v1/units"*) ;; *) fail "plain HTTP gave '$loc', not a redirect to https" ;; esac
echo "ok: plain HTTP redirects to HTTPS"

out=$("$probe" --ca "$tmp/cert.pem" --token "$admin" "wss://localhost:$https_port/api/v1/ws" 2>&1) \
  || fail "WebSocket through nginx: $out"
echo "$out" | grep -q '"type":"hello"' && echo "$out" | grep -q '"type":"pong"' \
  || fail "WebSocket through nginx: $out"
echo "ok: wss:// upgrade through nginx, hello and ping/pong"

out=$("$probe" --ca "$tmp/cert.pem" --token "$admin" --origin "https://localhost:$https_port" \
  "wss://localhost:$https_port/api/v1/ws" 2>&1) || fail "same-origin browser WebSocket refused: $out"
echo "ok: a browser Origin https://localhost:$https_port is the daemon's own through the proxy"

out=$("$probe" --ca "$tmp/cert.pem" --token "$admin" --origin "https://evil.example" \
  "wss://localhost:$https_port/api/v1/ws" 2>&1) && fail "foreign Origin accepted: $out"
echo "$out" | grep -q 'refused HTTP 403' || fail "foreign Origin: $out"
echo "ok: a foreign Origin is refused with 403"

# A certificate that does not chain to the CA given is refused by the client.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other \
  -keyout "$tmp/other-key.pem" -out "$tmp/other.pem" 2>>"$tmp/openssl.log"
out=$("$probe" --ca "$tmp/other.pem" --token "$admin" "wss://localhost:$https_port/api/v1/ws" 2>&1) \
  && fail "the probe accepted an unknown certificate"
echo "ok: the probe checks the certificate ($out)"
exit 0
