#!/usr/bin/env bash
# Threads under ThreadSanitizer (issue 4, item 3). The TSan build
# (make SAN=thread -> build-tsan/) of ssad runs its handshake workers while
# TSan-built programs, with the TSan-built libssa preloaded, use TLS sockets
# from many threads at once:
#   - every scenario of the conformance suite over IPPROTO_TLS, among them
#     8 threads on 8 sockets and 8 threads reading, writing and calling
#     options on one socket (run to the end; 60-conformance compares results);
#   - 20 concurrent 1 MiB bulk connections each way (client handshakes);
#   - 300 echo connections, 8 at a time, to a TLS server (server handshakes
#     on the workers, accept records, SNI callback);
# then fails on any TSan report from ssad or a client, or an unclean exit.
# Runs once, in the plain build's pass (the TSan binaries are the same).
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

[ "$SSA_BUILD" = build ] || skip_all "runs once, in the plain build's pass"
T=$TOP/build-tsan
[ -x "$T/sbin/ssad" ] && [ -x "$T/tests/conform" ] && [ -e "$T/lib/libssa.so" ] ||
	skip_all "no TSan build (make SAN=thread)"
B=$T

plan 7
mkdir -p "$WORK/tsan"
export TSAN_OPTIONS="log_path=$WORK/tsan/report halt_on_error=0 exitcode=66"

start_ssad || { fail "TSan ssad starts"; done_testing; }
pass "TSan ssad starts (handshake workers: $(grep -o '[0-9]* handshake worker' "$WORK/ssad.log"))"

tsan_run() { LD_PRELOAD=$T/lib/libssa.so "$@"; }

# ---- the conformance scenarios, TLS side -----------------------------------------
"$T/tests/conform_peer" -m tls -p 0 -c "$PKI/server-chain.crt" -k "$PKI/server.key" \
	>"$WORK/peer.out" 2>"$WORK/peer.log" </dev/null &
PIDS+=("$!")
tport=
wait_ready "$WORK/peer.out" tport 50
n_scen=$("$T/tests/conform" -l | wc -l)
tsan_run timeout 300 "$T/tests/conform" -p 205 -P "$tport" -c "$PKI/server-chain.crt" \
	-k "$PKI/server.key" >"$WORK/tls.trace" 2>"$WORK/tls.err"
ran=$(grep -c '^S[0-9]* ' "$WORK/tls.trace")
bad=$(grep -E '\| (TIMEOUT|CRASH:)' "$WORK/tls.trace" | cut -c1-160)
ok $([ "$ran" -eq "$n_scen" ] && [ -z "$bad" ] && echo 0 || echo 1) \
	"all $n_scen conformance scenarios ran to their end under TSan ($ran traced)"
[ -z "$bad" ] || diag "$bad"
grep -q '^S[0-9]* threads_same_socket: .*pattern_ok=1 option_call_failures=0' "$WORK/tls.trace"
ok $? "8 threads on one socket: every byte in order, no failed option call"

# ---- client handshakes: concurrent bulk ---------------------------------------
bport=$(free_port)
"$B/tests/bulk_server" "$PKI/server-chain.crt" "$PKI/server.key" "$bport" >"$WORK/bulk.out" \
	2>"$WORK/bulk.log" </dev/null &
PIDS+=("$!")
for _ in $(seq 50); do grep -qx READY "$WORK/bulk.out" 2>/dev/null && break; sleep 0.1; done
out=$(tsan_run timeout 300 "$T/tests/bulk_client" -c 20 -p 20 -b 1048576 127.0.0.1 "$bport" 2>"$WORK/bulkc.err")
like "$out" '^bulk: 20 ok, 0 failed' "20 concurrent 1 MiB connections each way"

# ---- server handshakes on the workers -------------------------------------------
LD_PRELOAD=$T/lib/libssa.so "$T/tests/tls_server" -p 0 -c "$PKI/server-chain.crt" \
	-k "$PKI/server.key" echo >"$WORK/srv.out" 2>"$WORK/srv.log" </dev/null &
PIDS+=("$!")
sport=
for _ in $(seq 100); do
	sport=$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$WORK/srv.out" 2>/dev/null)
	[ -n "$sport" ] && break
	sleep 0.05
done
out=$(python3 "$TOP/tests/py/ssl_clients.py" echo 127.0.0.1 "${sport:-0}" "$PKI/ca.crt" 300 8 2>&1)
like "$out" '^echo: 300 ok, 0 failed' "300 echo connections, 8 at a time, to a TLS server"

# ---- verdict ------------------------------------------------------------------------
stop_ssad
rc=$?
is "$rc" 0 "TSan ssad exits cleanly"
reports=$(cat "$WORK"/tsan/report* 2>/dev/null)
ok $([ -z "$reports" ] && echo 0 || echo 1) "no ThreadSanitizer report from ssad or the clients"
[ -z "$reports" ] || grep -E 'WARNING|SUMMARY|^    #[0-4] ' <<<"$reports" | head -n 40 | sed 's/^/# /'
done_testing
