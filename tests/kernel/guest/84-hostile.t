#!/usr/bin/env bash
# Issue 17.2-17.5: what one user's socket may not do to ssad and everybody
# else, and what real servers and runtimes need.
#   3. SO_LINGER stays with the application: ssad's close() of a socket
#      whose peer vanished does not wait for the linger time
#   4. options and connect under a 100 us interval timer (SA_RESTART): no EINTR
#   5. sendfile()/splice() of 1 MiB each and send(MSG_EOR|MSG_OOB|MSG_CONFIRM)
#      into an IPPROTO_TLS socket, echoed back byte for byte
. "$(dirname "$0")/lib.sh"
plan 14
KH=$KP/khostile
pki
serve_bg port server
kstart_ssad_hs 3 || diag "ssad did not start"
wait_port 127.0.0.1 "$port" || diag "s_server did not start"
kernel_log_mark
diag "t=${SECONDS}s ssad and s_server up"

diag "t=${SECONDS}s linger"
# ---- 3. SO_LINGER ----
ip netns add ssa-lpeer 2>/dev/null
ip link add ssa-l0 type veth peer name ssa-l1 netns ssa-lpeer 2>/dev/null
ip addr add 10.199.0.1/24 dev ssa-l0 && ip link set ssa-l0 up
ip netns exec ssa-lpeer sh -c 'ip addr add 10.199.0.2/24 dev ssa-l1 && ip link set ssa-l1 up && ip link set lo up'
ip netns exec ssa-lpeer python3 -c "
import socket, time
s = socket.socket(); s.bind(('10.199.0.2', 4433)); s.listen(4)
c, _ = s.accept(); time.sleep(120)" &
PIDS+=("$!")
end=$((SECONDS + 20))
while [ $SECONDS -lt $end ] && ! ip netns exec ssa-lpeer ss -Hltn 'sport = :4433' 2>/dev/null | grep -q .; do
	sleep 0.3
done
nfail0=$(grep -c 'kernel handshake failed' "$WORK/ssad.log")
mkfifo "$WORK/lin.in"
"$KH" linger 10.199.0.2 4433 30 <"$WORK/lin.in" >"$WORK/lin.out" 2>&1 &
lin=$!
PIDS+=("$lin")
exec 7>"$WORK/lin.in"
wait_line "$WORK/lin.out" '^(CONNECTING|ERR)' 20
sleep 1.5                                   # TCP is up, the ClientHello unanswered
ip netns exec ssa-lpeer ip link set ssa-l1 down   # the peer vanishes
echo close >&7
exec 7>&-
wait_pid "$lin" 10
like "$(cat "$WORK/lin.out")" 'CLOSED ms=' "the application's close() during the handshake returns"
# ssad gives up on the handshake (3 s) and closes its descriptor
for i in $(seq 100); do
	[ "$(grep -c 'kernel handshake failed' "$WORK/ssad.log")" -gt "$nfail0" ] && break
	sleep 0.2
done
last=$(grep 'kernel handshake failed' "$WORK/ssad.log" | tail -n 1)
diag "t=${SECONDS}s ssad gave up the handshake: $last"
like "$last" 'timed out' "the peer accepted the TCP connection, then vanished: ssad's handshake timed out"
sleep 0.5
t0=$SECONDS
out=$(timeout 10 "$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
like "$out" $'^OK .*\nREPLY HTTP/1.0 200 ok' "ssad still serves right after closing the lingering socket ($((SECONDS - t0)) s)"
ip netns del ssa-lpeer 2>/dev/null; ip link del ssa-l0 2>/dev/null

diag "t=${SECONDS}s signals"
# ---- 4. signals ----
out=$(timeout 60 "$KH" sigopts 127.0.0.1 "$port" 12 2>&1)
diag "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
like "$out" 'OK rounds=12 ok=12 eintr=0 other=0' "setsockopt/connect/write/read under a 100 us timer with SA_RESTART: never EINTR"

diag "t=${SECONDS}s sendfile"
# ---- 5. sendfile, splice, send flags ----
start_echo 1 || diag "echo server did not start"
out=$(timeout 60 "$KH" sendfile 127.0.0.1 "$eport" 1048576 2>&1)
diag "$(tr '\n' ' ' <<<"$out")"
like "$out" '(^|'$'\n'')OK sendfile 1048576' "sendfile() of 1 MiB into an IPPROTO_TLS socket"
like "$out" $'\nOK splice 1048576' "splice() of 1 MiB from a pipe"
like "$out" $'OK send\\(MSG_EOR\\)\nOK send\\(MSG_OOB\\)\nOK send\\(MSG_CONFIRM\\)' "send() with MSG_EOR, MSG_OOB, MSG_CONFIRM as on TCP"
like "$out" 'OK echo sent=2097156 got=2097156 mismatched=0' "all of it echoed back byte for byte"

diag "t=${SECONDS}s bigopts"
# ---- 2. oversized options ----
"$KH" bigopts 127.0.0.1 "$port" "$PKI/server-chain.crt" >"$WORK/big.out" 2>&1 &
big=$!
PIDS+=("$big")
wait_line "$WORK/big.out" '^(OPTIONS|ERR)' 60
diag "t=${SECONDS}s bigopts: $(tr '\n' ' ' <"$WORK/big.out")"
sleep 0.5
out=$(timeout 20 "$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
like "$out" $'^OK .*\nREPLY HTTP/1.0 200 ok' "a client is served while a socket with 32 x 4096-byte options connects"
wait_pid "$big" 30
diag "bigopts: $(tr '\n' ' ' <"$WORK/big.out")"
like "$(cat "$WORK/big.out")" $'OPTIONS 32\nCONNECT ' "the 32-option socket's connect() returned"
out=$(timeout 20 "$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
like "$out" $'^OK .*\nREPLY HTTP/1.0 200 ok' "a client is served after it"
grep -q 'does not fit\|malformed' "$WORK/ssad.log"; ok $((!$?)) "ssad received every message whole"

stop_ssad; ok $? "ssad exits on SIGTERM"
[ "$_failed" -gt 0 ] && diag "ssad log: $(tail -n 15 "$WORK/ssad.log" | tr '\n' '|')"
is "$(kernel_log_since | kernel_log_clean >/dev/null; echo $?)" 0 "kernel log clean"
kernel_log_since | grep -E "$KLOG_BAD" | head -n 8 | while read -r l; do diag "$l"; done
done_testing
