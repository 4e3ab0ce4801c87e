#!/usr/bin/env bash
# ssad and the module: no daemon -> socket() fails at once with
# EPROTONOSUPPORT; a daemon killed mid-handshake fails the connect, no hang;
# a restarted daemon registers again.
. "$(dirname "$0")/lib.sh"
plan 9
kill_all_ssad
pki

out=$("$KC" -n localhost 127.0.0.1 1 2>&1)
like "$out" '^ERR EPROTONOSUPPORT ' "no ssad: socket(AF_INET, SOCK_STREAM, 205) fails with EPROTONOSUPPORT"
ms=$(sed -n 's/.* ms=\([0-9.]*\).*/\1/p' <<<"$out")
ok $(awk -v m="$ms" 'BEGIN{exit !(m != "" && m < 100)}'; echo $?) "at once (${ms} ms)"
out=$(python3 -c "
import socket
try: socket.socket(socket.AF_INET6, socket.SOCK_STREAM, 205); print('created')
except OSError as e: print(e.errno)" 2>&1)
is "$out" 93 "no ssad: python AF_INET6 socket(205) raises EPROTONOSUPPORT"

kstart_ssad || diag "ssad did not start"
is "$(tls_socket_errno)" ok "ssad started: socket(205) works"

# A peer that accepts TCP and never answers: the handshake hangs in ssad.
port=$(free_port)
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(4)
c = s.accept(); time.sleep(60)" &
PIDS+=("$!")
wait_port 127.0.0.1 "$port" || true
"$KC" -n localhost 127.0.0.1 "$port" >"$WORK/kc.out" 2>&1 &
kc=$!
sleep 0.5
kill -KILL "$SSAD_PID"
t0=$(date +%s%N)
for i in $(seq 100); do kill -0 "$kc" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$kc" 2>/dev/null; then
	fail "ssad killed mid-handshake: connect() returns (still blocked after 10 s)"
	kill -KILL "$kc"
else
	pass "ssad killed mid-handshake: connect() returns ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
fi
wait "$kc" 2>/dev/null
like "$(cat "$WORK/kc.out")" '^ERR [A-Z]+ ' "with an error: $(head -c 80 "$WORK/kc.out")"
forget_pid "$SSAD_PID"

out=$("$KC" -n localhost 127.0.0.1 "$port" 2>&1)
like "$out" '^ERR EPROTONOSUPPORT ' "ssad gone: new sockets fail with EPROTONOSUPPORT"

# Restart: registers again, connections work.
kstart_ssad || diag "ssad did not restart"
serve server
out=$("$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
like "$out" $'^OK .*\nREPLY HTTP/1.0 200 ok' "restarted ssad: connections work again"
stop_ssad; ok $? "ssad exits cleanly"
done_testing
