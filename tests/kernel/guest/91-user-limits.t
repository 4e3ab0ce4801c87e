#!/usr/bin/env bash
# ssad's per-user limit on handshakes under way (max-handshakes-per-user,
# ssa.conf(5)) holds for connects through ssa.ko as for connects through
# libssa: a user whose connects hang on a silent server gets EAGAIN at once
# for one more, another user connects as usual, and the user's count goes
# back down when her handshakes end.
. "$(dirname "$0")/lib.sh"
plan 5
pki
serve_bg port server
wait_port 127.0.0.1 "$port" || diag "s_server did not start"
# A server that accepts TCP connections and never answers a ClientHello.
sport_file=$WORK/silent.port
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
held = []
while True:
    c, _ = s.accept(); held.append(c)
    print("accepted", len(held), flush=True)
' "$sport_file" >"$WORK/silent.log" 2>&1 &
PIDS+=("$!")
wait_line "$sport_file" '^[0-9]+$' 10 || diag "the silent server did not start"
sport=$(cat "$sport_file")
kstart_ssad "max-handshakes-per-user = 2" "handshake-timeout = 8s" || diag "ssad did not start"

A=2301 B=2302
as() { local u=$1; shift; setpriv --reuid "$u" --regid "$u" --clear-groups "$@"; }
hung=()
for i in 1 2; do
	as $A timeout 30 "$KC" -n localhost 127.0.0.1 "$sport" >"$WORK/hung.$i" 2>&1 &
	hung+=($!)
done
wait_line "$WORK/silent.log" '^accepted 2' 20 || diag "the two handshakes did not reach the silent server"
t0=$(date +%s%N)
out=$(as $A timeout 20 "$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
t1=$(date +%s%N)
like "$out" '^ERR EAGAIN ' "a third connect of user $A while two hang: EAGAIN ($(( (t1 - t0) / 1000000 )) ms)"
like "$(grep -c 'max-handshakes-per-user' "$WORK/ssad.log")" '^[1-9]' "ssad logs the refusal with the limit's name"
out=$(as $B timeout 20 "$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
like "$out" '^OK ' "user $B connects meanwhile"
for p in "${hung[@]}"; do kill "$p" 2>/dev/null; done
for p in "${hung[@]}"; do wait "$p" 2>/dev/null; done
# Their handshakes end (the sockets are closed; at the latest the 8 s
# deadline); then user A may connect again.
end=$((SECONDS + 15))
while :; do
	out=$(as $A timeout 20 "$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
	case $out in "ERR EAGAIN "*) [ $SECONDS -lt $end ] && { sleep 0.5; continue; } ;; esac
	break
done
like "$out" '^OK ' "user $A connects again once her handshakes have ended"
stop_ssad
ok $? "ssad exits cleanly"
[ "$_failed" -gt 0 ] && diag "ssad log: $(grep -E 'handshake|error|warning' "$WORK/ssad.log" | tail -n 15)"
done_testing
