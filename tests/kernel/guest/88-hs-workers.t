#!/usr/bin/env bash
# Issue 13, item 3: the kernel front end's handshakes are ordinary jobs of
# ssad's handshake workers (src/ssad/engine/hs_pool.h), off the event loop,
# as libssa's are. ssad's debug log says where each step ran ("handshake
# step N (client|server, loop|worker)"); a step of a kind not yet measured
# always goes to a worker, so a first client and a first server handshake
# through ssa.ko each have a step on a worker, and both finish. Then, with
# a 100 ms handshake timeout (steps cost more than that under TCG), the
# deadline passes while steps are on a worker: each handshake still ends,
# in success or ETIMEDOUT, and ssad lives on and exits cleanly (run with
# SSA_BUILD=build-asan to have ASan watch the handshakes' memory).
. "$(dirname "$0")/lib.sh"
plan 10
pki
serve_bg port server
kstart_ssad "log-level = debug" || diag "ssad did not start"
wait_port 127.0.0.1 "$port" || diag "s_server did not start"

# client: ssa.ko -> ssad -> openssl s_server
out=$("$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
like "$out" $'^OK version=0x0304 .*\nREPLY HTTP/1.0 200 ok' "client handshake through ssa.ko, request and reply"
n=$(grep -c 'handshake step [0-9]* (client, worker)' "$WORK/ssad.log")
like "$n" '^[1-9][0-9]*$' "client handshake steps ran on a handshake worker ($n)"

# server: openssl s_client -> ssa.ko listener -> ssad
start_kserver 1
out=$( (echo hello-workers; sleep 6) | timeout 15 openssl s_client -quiet -no_ign_eof \
	-verify_return_error -CAfile "$PKI/ca.crt" -servername localhost -verify_hostname localhost \
	-connect "127.0.0.1:$kport" 2>"$WORK/s_client.err")
is "$out" "hello-workers" "server handshake through ssa.ko, data echoed"
wait_pid "$KS" 15
ok $? "the server accepted its connection and exited"
n=$(grep -c 'handshake step [0-9]* (server, worker)' "$WORK/ssad.log")
like "$n" '^[1-9][0-9]*$' "server handshake steps ran on a handshake worker ($n)"

# Nothing went wrong on the way, and ssad exits cleanly with no handshake left.
stop_ssad
ok $? "ssad exits cleanly"

# Deadlines that pass while a step is on a worker.
# A server of its own: the first one has served a client that hung up
# after the first line of the page.
serve_bg dport server
SP_DL=${PIDS[-1]}
wait_port 127.0.0.1 "$dport" || diag "s_server (deadlines) did not start: $(tail -n 5 "$WORK/s_server.log")"
kstart_ssad "log-level = debug" "handshake-timeout = 100ms" || diag "ssad did not start (100 ms)"
par=()
for i in 1 2 3 4 5 6 7 8; do
	timeout 30 "$KC" -n localhost -g / 127.0.0.1 "$dport" >"$WORK/dl.$i" 2>&1 &
	par+=($!)
done
for p in "${par[@]}"; do wait "$p"; done
n_ok=$(cat "$WORK"/dl.* | grep -c '^OK ')
n_to=$(cat "$WORK"/dl.* | grep -c '^ERR ETIMEDOUT ')
n_busy=$(grep -c 'deadline passed while a step is on a worker' "$WORK/ssad.log")
diag "8 clients with a 100 ms handshake timeout: $n_ok OK, $n_to ETIMEDOUT; deadlines met on a worker: $n_busy"
is "$((n_ok + n_to))" 8 "every handshake ends, in success or ETIMEDOUT"
for f in "$WORK"/dl.*; do grep -qE '^(OK|ERR ETIMEDOUT) ' "$f" || diag "${f##*/}: $(head -c 300 "$f")"; done
if [ "$((n_ok + n_to))" != 8 ]; then
	if kill -0 "$SP_DL" 2>/dev/null; then diag "s_server $SP_DL is alive"; else diag "s_server $SP_DL is gone"; fi
	diag "listening: $(ss -ltn 2>/dev/null | grep -c ":$dport ") socket(s) on port $dport; s_server.log: $(tail -n 8 "$WORK/s_server.log")"
fi
ssad_same_worker
ok $? "ssad is still running (the supervisor and the same worker)"
if [ "$n_busy" -gt 0 ]; then
	pass "a deadline that passed during a step on a worker was decided when the step came back ($n_busy)"
else
	pass "a deadline during a step on a worker # SKIP every step beat the 100 ms deadline"
fi
stop_ssad
ok $? "ssad exits cleanly after handshakes timed out on the workers"
[ "$_failed" -gt 0 ] && diag "ssad log: $(grep -E 'handshake|error|warning' "$WORK/ssad.log" | tail -n 15)"
done_testing
