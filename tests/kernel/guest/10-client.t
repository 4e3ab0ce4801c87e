#!/usr/bin/env bash
# The client path through ssa.ko: socket(AF_INET[6], SOCK_STREAM, 205) with no
# preload, against openssl s_server and a Python (userspace OpenSSL) echo server.
. "$(dirname "$0")/lib.sh"
plan 13
pki
serve_bg port server          # starts while ssad does
start_echo 2 || diag "echo server did not start"
kstart_ssad || diag "ssad did not start"
wait_port 127.0.0.1 "$port" || diag "s_server did not start"

out=$("$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
like "$out" '^OK version=0x0304 cipher=TLS_' "connect: TLS 1.3 handshake and verification"
like "$out" "peer=127.0.0.1:$port " "getpeername gives the real peer address"
like "$out" $'\nREPLY HTTP/1.0 200 ok' "request and reply through the socket"
like "$out" $'\nCLOSED' "close"

out=$("$KC" -n localhost -g / ::1 "$port" 2>&1)
like "$out" $'^OK .*\nREPLY HTTP/1.0 200 ok' "IPv6 (AF_INET6)"
out=$("$KC" -g / 127.0.0.1 "$port" 2>&1)
like "$out" $'^OK .*\nREPLY HTTP/1.0 200 ok' "no hostname: verified against the IP address"
out=$("$KC" -n server.test -g / 127.0.0.1 "$port" 2>&1)
like "$out" $'^OK .*\nREPLY HTTP/1.0 200 ok' "another SAN name"

# Concurrent connections (two vCPUs: the module's locking under contention).
par=()
for i in 1 2 3 4 5 6; do "$KC" -n localhost -g / 127.0.0.1 "$port" >"$WORK/par.$i" 2>&1 & par+=($!); done
end=$((SECONDS + 40))
for p in "${par[@]}"; do
	while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
	if kill -0 "$p" 2>/dev/null; then   # stuck: show where, for the module's authors
		diag "client $p still running after 40 s; wchan $(cat /proc/$p/wchan 2>/dev/null); kernel stack:"
		diag "$(cat /proc/$p/stack 2>/dev/null | head -n 12)"
		kill -KILL "$p"
	fi
	wait "$p" 2>/dev/null
done
is "$(cat "$WORK"/par.* | grep -c '^REPLY HTTP/1.0 200 ok')" 6 "6 concurrent clients all get their reply"
for f in "$WORK"/par.*; do grep -q '^REPLY HTTP/1.0 200 ok' "$f" || diag "${f##*/}: $(tr '\n' ' ' <"$f")"; done

# Data both ways, checked byte by byte (small: TCG moves ~10 MB/s).
out=$("$KC" -n localhost -e 300000 127.0.0.1 "$eport" 2>&1)
like "$out" $'\nECHO 300000 bytes ok' "300 kB echoed intact"
out=$("$KC" -n localhost -e 1 127.0.0.1 "$eport" 2>&1)
like "$out" $'\nECHO 1 bytes ok' "a 1-byte exchange"
wait_pid "$EPID" 10
ok $? "the echo server saw both connections end"
# Python's ssl reports a FIN without close_notify as "EOF occurred in violation of protocol".
grep -q . "$WORK/echo.log"; ok $((!$?)) "close() sent close_notify (the server saw clean TLS ends) $(head -c 120 "$WORK/echo.log")"

grep -q 'handshake' "$WORK/ssad.log" 2>/dev/null && grep -i 'fail' "$WORK/ssad.log" | head -n 3 | sed 's/^/# ssad: /'
stop_ssad; ok $? "ssad exits cleanly"
done_testing
