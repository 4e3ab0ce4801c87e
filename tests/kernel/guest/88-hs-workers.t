#!/usr/bin/env bash
# Issue 13, item 3: the kernel front end's handshakes are ordinary jobs of
# ssad's handshake workers (src/ssad/engine/hs_pool.h), off the event loop,
# as libssa's are. ssad's debug log says where each step ran ("handshake
# step N (client|server, loop|worker)"); a step of a kind not yet measured
# always goes to a worker, so a first client and a first server handshake
# through ssa.ko each have a step on a worker, and both finish.
. "$(dirname "$0")/lib.sh"
plan 6
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
"$KP/kserver" -c "$PKI/server-chain.crt" -k "$PKI/server.key" -n 1 >"$WORK/kserver.log" 2>&1 &
KS=$!
PIDS+=("$KS")
for _ in $(seq 50); do grep -q '^LISTEN\|^ERR' "$WORK/kserver.log" && break; sleep 0.1; done
kport=$(sed -n 's/^LISTEN port=//p' "$WORK/kserver.log")
[ -n "$kport" ] || { diag "$(cat "$WORK/kserver.log")"; kport=1; }
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
[ "$_failed" -gt 0 ] && diag "ssad log: $(grep -E 'handshake|error|warning' "$WORK/ssad.log" | tail -n 15)"
done_testing
