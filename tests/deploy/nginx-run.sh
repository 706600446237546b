# Sourced by the nginx tests: start_nginx runs nginx from the temporary folder $tmp
# with $tmp/site.conf (a deploy/nginx sample, its paths and ports rewritten) as its
# only site, after `nginx -t` accepts it; sets ng_pid. Needs $nginx and fail().
start_nginx() {
  mkdir -p "$tmp/logs" "$tmp/tmp"
  cat > "$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log info;
events { worker_connections 64; }
http {
    access_log $tmp/nginx-access.log;
    client_body_temp_path $tmp/tmp/body;
    proxy_temp_path $tmp/tmp/proxy;
    fastcgi_temp_path $tmp/tmp/fastcgi;
    uwsgi_temp_path $tmp/tmp/uwsgi;
    scgi_temp_path $tmp/tmp/scgi;
    include $tmp/site.conf;
}
CONF
  "$nginx" -p "$tmp" -c "$tmp/nginx.conf" -t >"$tmp/nginx-t.log" 2>&1 || fail "nginx -t refused the sample site"
  "$nginx" -p "$tmp" -c "$tmp/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx-stderr.log" &
  ng_pid=$!
}
