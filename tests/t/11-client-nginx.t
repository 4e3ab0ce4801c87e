#!/usr/bin/env bash
# The SSA example client fetching a page from nginx (test PKI) over IPv4 and IPv6.
. "$(dirname "$0")/../lib.sh"
command -v nginx >/dev/null || skip_all "nginx not installed"
plan 7
start_ssad || exit 1
port=$(free_port)
mkdir -p "$WORK/www" "$WORK/nginx"
marker="ssa-nginx-test-$RANDOM$RANDOM"
echo "$marker" >"$WORK/www/index.html"
cat >"$WORK/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http {
    access_log $WORK/nginx-access.log;
    client_body_temp_path $WORK/nginx;
    proxy_temp_path $WORK/nginx;
    fastcgi_temp_path $WORK/nginx;
    uwsgi_temp_path $WORK/nginx;
    scgi_temp_path $WORK/nginx;
    server {
        listen 127.0.0.1:$port ssl;
        listen [::1]:$port ssl;
        server_name localhost;
        ssl_certificate $PKI/server-chain.crt;
        ssl_certificate_key $PKI/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $WORK/www;
    }
}
CONF
nginx -c "$WORK/nginx.conf" -p "$WORK" 2>>"$WORK/nginx-error.log" &
PIDS+=("$!")
wait_port 127.0.0.1 "$port" || diag "nginx did not start"

out=$(ssa "$B/examples/https-get" localhost "$port" /index.html 2>&1)
like "$out" "$marker" "page fetched from nginx by hostname"
like "$out" '^HTTP/1.1 200 OK' "HTTP status 200"
out=$(ssa "$B/examples/https-get" 127.0.0.1 "$port" /index.html 2>&1)
like "$out" "$marker" "page fetched from nginx over IPv4 by address"
out=$(ssa "$B/examples/https-get" ::1 "$port" /index.html 2>&1)
like "$out" "$marker" "page fetched from nginx over IPv6 by address"
out=$(ssa "$B/tests/tls_probe" -n localhost -s "GET /index.html HTTP/1.0" ::1 "$port" 2>&1)
like "$out" "$marker" "tls_probe over IPv6 by name"
# nginx saw the clients: its access log has the requests.
n=$(grep -c 'GET /index.html' "$WORK/nginx-access.log" 2>/dev/null)
is "$n" 4 "nginx logged 4 requests"
stop_ssad
ok $? "ssad exits cleanly"
done_testing
