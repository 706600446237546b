#!/bin/sh
# test-nginx-sso.sh SRCDIR SIGNALD: proves the single sign-on sample
# (deploy/nginx/lienthong-sso.conf) with Debian's real nginx on loopback and a stand-in
# for oauth2-proxy (a few lines of Python that answer /oauth2/auth: 202 with
# X-Auth-Request-Preferred-Username for the cookie "_oauth2_proxy=USER", else 401),
# and the installed daemon with [auth] trusted-header=X-Forwarded-User. Through it:
#   - a browser that has not signed in at the identity provider is sent there (302);
#   - one that has gets a session for its account from POST /api/v1/session {} with no
#     password, and an X-Forwarded-User it sends itself is replaced by the proxy's;
#   - an unknown person gets the generic 401;
#   - a token client (Authorization: Bearer) passes without the identity provider,
#     and a header it sends vouches for nobody (400: no password, no session).
# Skips (exit 77) when nginx, openssl or curl is absent.
set -eu
src=$1 signald=$(readlink -f "$2")
. "$src/tests/deploy/nginx-run.sh"
for tool in nginx openssl curl; do
  command -v $tool >/dev/null 2>&1 || [ -x /usr/sbin/$tool ] \
    || { echo "SKIP: $tool not installed (apt-get install nginx-light openssl curl)"; exit 77; }
done
nginx=$(command -v nginx || echo /usr/sbin/nginx)
python=/usr/bin/python3
[ -x $python ] || python=python3

tmp=$(mktemp -d)
sd_pid= ng_pid= op_pid=
cleanup() {
  [ -n "$ng_pid" ] && kill "$ng_pid" 2>/dev/null && wait "$ng_pid" 2>/dev/null
  [ -n "$op_pid" ] && kill "$op_pid" 2>/dev/null && wait "$op_pid" 2>/dev/null
  [ -n "$sd_pid" ] && kill -INT "$sd_pid" 2>/dev/null && wait "$sd_pid" 2>/dev/null
  rm -rf "$tmp"
  return 0
}
trap 'rc=$?; cleanup; exit $rc' EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

ports=$($python -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
set -- $ports
https_port=$1 http_port=$2 op_port=$3

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/openssl.log" || fail "openssl req"

# the stand-in for oauth2-proxy
cat > "$tmp/oauth2.py" <<'PY'
import http.server, signal, sys
# the test's shell may have been started with SIGTERM ignored, which Python would keep
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        user = None
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == "_oauth2_proxy":
                user = v
        if self.path.startswith("/oauth2/auth") and user:
            self.send_response(202)
            self.send_header("X-Auth-Request-Preferred-Username", user)
        elif self.path.startswith("/oauth2/auth"):
            self.send_response(401)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        sys.stderr.write("oauth2: %s\n" % (a[0] % a[1:]))
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
$python "$tmp/oauth2.py" "$op_port" 2>"$tmp/oauth2.log" &
op_pid=$!

mkdir -p "$tmp/state"
printf '[server]\ntrusted-proxies=127.0.0.1\n[auth]\ntrusted-header=X-Forwarded-User\n' \
  > "$tmp/signald.conf"
"$signald" --config "$tmp/signald.conf" --listen 127.0.0.1:0 --state-dir "$tmp/state" \
  2>"$tmp/signald.log" &
sd_pid=$!
for _ in $(seq 200); do [ -s "$tmp/state/signald.addr" ] && break; sleep 0.05; done
[ -s "$tmp/state/signald.addr" ] || fail "signald did not start"
sd_addr=$(cat "$tmp/state/signald.addr")
admin=$(cat "$tmp/state/admin.token")
code=$(curl -sS -o "$tmp/user.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" \
  -H 'content-type: application/json' \
  -d '{"user":"lan","full_name":"Nguyễn Thị Lan","role":"it","password":"một mật khẩu đầu tiên"}' \
  "http://$sd_addr/api/v1/users")
[ "$code" = 201 ] || fail "creating lan: HTTP $code $(cat "$tmp/user.json")"

sed -e "s|server 127.0.0.1:8480;|server $sd_addr;|" \
    -e "s|server 127.0.0.1:4180;|server 127.0.0.1:$op_port;|" \
    -e "/listen \[::\]/d" \
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https_port ssl http2;|" \
    -e "s|listen 80;|listen 127.0.0.1:$http_port;|" \
    -e "s|server_name hop.example.gov.vn;|server_name localhost;|" \
    -e "s|/etc/ssl/certs/hop.example.gov.vn.pem|$tmp/cert.pem|" \
    -e "s|/etc/ssl/private/hop.example.gov.vn.key|$tmp/key.pem|" \
    -e "s|/var/log/nginx/lienthong.access.log|$tmp/site-access.log|" \
    "$src/deploy/nginx/lienthong-sso.conf" > "$tmp/site.conf"
grep -q "server 127.0.0.1:$op_port;" "$tmp/site.conf" || fail "the sample's oauth2-proxy upstream changed; update this test"
start_nginx

base="https://localhost:$https_port"
c() { curl -sS --cacert "$tmp/cert.pem" --resolve "localhost:$https_port:127.0.0.1" "$@"; }
for _ in $(seq 200); do c -o /dev/null "$base/oauth2/ping" 2>/dev/null && break; sleep 0.05; done

loc=$(c -o /dev/null -w '%{http_code} %{redirect_url}' "$base/it")
case $loc in "302 https://localhost:$https_port/oauth2/start?rd="*) ;; *) fail "not signed in at the provider: '$loc', not a redirect to /oauth2/start" ;; esac
echo "ok: a browser not signed in at the identity provider is sent there"

code=$(c -o "$tmp/s1.json" -D "$tmp/s1.h" -w '%{http_code}' -X POST -H 'Cookie: _oauth2_proxy=lan' \
  -H 'X-Forwarded-User: admin' -H 'content-type: application/json' -d '{}' "$base/api/v1/session")
[ "$code" = 201 ] || fail "single sign-on through nginx: HTTP $code $(cat "$tmp/s1.json")"
grep -q '"user":"lan"' "$tmp/s1.json" || fail "the client's X-Forwarded-User got through: $(cat "$tmp/s1.json")"
grep -qi '^set-cookie: lt_session=.*; Secure' "$tmp/s1.h" || fail "no Secure session cookie: $(cat "$tmp/s1.h")"
echo "ok: the provider's user gets a session without a password; the client's own header is replaced"

code=$(c -o "$tmp/s2.json" -w '%{http_code}' -X POST -H 'Cookie: _oauth2_proxy=khong.co.ai' \
  -H 'content-type: application/json' -d '{}' "$base/api/v1/session")
[ "$code" = 401 ] && grep -q 'user name or password is wrong' "$tmp/s2.json" \
  || fail "an unknown person: HTTP $code $(cat "$tmp/s2.json")"
echo "ok: an unknown person gets the generic 401"

code=$(c -o "$tmp/u.json" -w '%{http_code}' -H "Authorization: Bearer $admin" "$base/api/v1/users")
[ "$code" = 200 ] && grep -q '"lan"' "$tmp/u.json" || fail "a token client through the SSO site: HTTP $code"
code=$(c -o "$tmp/s3.json" -w '%{http_code}' -X POST -H 'Authorization: Bearer 0000' \
  -H 'X-Forwarded-User: lan' -H 'content-type: application/json' -d '{}' "$base/api/v1/session")
[ "$code" = 400 ] || fail "a token client's own X-Forwarded-User: HTTP $code $(cat "$tmp/s3.json")"
echo "ok: token clients pass without the provider, and their X-Forwarded-User vouches for nobody"
exit 0
