#!/usr/bin/env bash
# Issue 17: many sockets opened and closed by several users (connects,
# closes in the middle of the handshake, listeners with queued connections)
# while ssad is killed and restarted. The kernel log must stay clean (the
# guest runs with slub_debug) and everything must be given back: ssa.ko's
# connection objects, its socket slab, TCP sockets.
#   short form (the normal suite, under TCG): SSA_KSTRESS unset, 4 users x 50
#   long form: SSA_KSTRESS=N sockets per user (make stress-kernel)
. "$(dirname "$0")/lib.sh"
plan 7
KH=$KP/khostile
N=${SSA_KSTRESS:-50}
USERS=(2101 2102 2103 2104)
pki
serve_bg port server -naccept 100000
kstart_ssad || diag "ssad did not start"
wait_port 127.0.0.1 "$port" || diag "s_server did not start"
sleep 0.5
conns0=$(cat /sys/module/ssa/parameters/live_conns 2>/dev/null)
slab0=$(slab_active SSA)
tcp0=$(awk '$1 == "TCP:" { print $3 - $5 }' /proc/net/sockstat)
diag "before: live_conns=$conns0 SSA slab=$slab0 TCP inuse=$tcp0"
kernel_log_mark
t0=$SECONDS
workers=()
for u in "${USERS[@]}"; do
	setpriv --reuid "$u" --regid "$u" --clear-groups "$KH" churn 127.0.0.1 "$port" "$N" \
		>"$WORK/churn.$u" 2>&1 &
	workers+=("$!")
	PIDS+=("$!")
done
# kill and restart ssad while they run
sleep 2
diag "during: live_conns=$(cat /sys/module/ssa/parameters/live_conns 2>/dev/null) SSA slab=$(slab_active SSA)"
restarts=0
end=$((SECONDS + 600 + N * 2))
while [ $SECONDS -lt $end ]; do
	alive=0
	for p in "${workers[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
	[ $alive = 1 ] || break
	sleep 3
	kill -KILL "$SSAD_PID" 2>/dev/null
	wait "$SSAD_PID" 2>/dev/null
	sleep 0.3
	kstart_ssad >/dev/null 2>&1 && restarts=$((restarts + 1))
done
rc=0
for p in "${workers[@]}"; do wait_pid "$p" 60 || rc=1; done
ok $rc "$((${#USERS[@]} * N)) sockets by ${#USERS[@]} users while ssad was killed and restarted $restarts times ($((SECONDS - t0)) s)"
for u in "${USERS[@]}"; do diag "user $u: $(cat "$WORK/churn.$u")"; done
ok $([ "$restarts" -ge 1 ] && echo 0 || echo 1) "ssad was restarted at least once ($restarts)"
# afterwards ssad serves again
out=$(timeout 20 "$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
like "$out" $'^OK .*\nREPLY HTTP/1.0 200 ok' "a client is served after the storm"
stop_ssad
# everything given back (requests reaped, TIME_WAIT aside)
for i in $(seq 100); do
	[ "$(cat /sys/module/ssa/parameters/live_conns)" = "$conns0" ] && [ "$(slab_active SSA)" -le "$slab0" ] && break
	sleep 0.2
done
conns1=$(cat /sys/module/ssa/parameters/live_conns 2>/dev/null)
slab1=$(slab_active SSA)
tcp1=$(awk '$1 == "TCP:" { print $3 - $5 }' /proc/net/sockstat)
diag "after: live_conns=$conns1 SSA slab=$slab1 TCP inuse=$tcp1"
is "$conns1" "$conns0" "ssa.ko's connection objects all freed"
ok $([ "$slab1" -le "$slab0" ] && echo 0 || echo 1) "SSA socket slab back to $slab0 ($slab1)"
ok $([ "$tcp1" -le $((tcp0 + 2)) ] && echo 0 || echo 1) "TCP sockets (not counting orphans closing) back to $tcp0 ($tcp1)"
bad=$(kernel_log_since | kernel_log_clean)
is "$?" 0 "kernel log clean (slub_debug)"
kernel_log_since | grep -E "$KLOG_BAD" | head -n 8 | while read -r l; do diag "$l"; done
kill_all_ssad
done_testing
