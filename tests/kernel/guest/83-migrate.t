#!/usr/bin/env bash
# Issue 17.1: SO_REUSEPORT + net.ipv4.tcp_migrate_req (which any user may set
# in its own network namespace). Closing an IPPROTO_TLS listener makes TCP
# migrate the connections queued behind it to another listener of the port
# (here a plain TCP one). They must carry nothing of ssa.ko: their readers
# are woken as on TCP, the kernel log stays clean under slub_debug, and after
# rmmod ssa they still work (no jump into unloaded module text).
. "$(dirname "$0")/lib.sh"
plan 8
kstart_ssad || diag "ssad did not start"
kernel_log_mark
port=$(free_port)
mkfifo "$WORK/mig.in"
unshare -n bash -c "ip link set lo up && sysctl -qw net.ipv4.tcp_migrate_req=1 &&
	exec '$KP/kmigrate' '$PKI/server-chain.crt' '$PKI/server.key' $port" \
	<"$WORK/mig.in" >"$WORK/mig.out" 2>&1 &
mig=$!
PIDS+=("$mig")
exec 7>"$WORK/mig.in"
wait_line "$WORK/mig.out" '^(PAUSE|ERR)' 60
out=$(cat "$WORK/mig.out")
diag "$(tr '\n' ' ' <<<"$out")"
val() { sed -n "s/^$1 //p" <<<"$out"; }
ok $([ "$(val MIGRATED)" -ge 1 ] 2>/dev/null && echo 0 || echo 1) "TCP migrated connections of the closed IPPROTO_TLS listener ($(val MIGRATED))"
ok $([ "$(val ACCEPTED)" -ge 1 ] 2>/dev/null && echo 0 || echo 1) "the plain listener accepted them ($(val ACCEPTED))"
is "$(val NOT_WOKEN)" 0 "every reader was woken by its data (no ssa.ko callback left in a migrated connection)"
is "$(kernel_log_since | kernel_log_clean >/dev/null; echo $?)" 0 "kernel log clean after the migration"
# unload the module while the migrated connections live
stop_ssad
kill_all_ssad
rmmod ssa 2>"$WORK/rmmod.err"
ok $? "rmmod ssa with migrated connections alive $(head -c 100 "$WORK/rmmod.err")"
echo go >&7
wait_pid "$mig" 20
out=$(cat "$WORK/mig.out")
is "$(val AFTER)" "$(val ACCEPTED)" "after rmmod, every migrated connection still receives"
bad=$(kernel_log_since | kernel_log_clean)
is "$?" 0 "kernel log clean after rmmod and more traffic"
kernel_log_since | grep -E "$KLOG_BAD" | head -n 8 | while read -r l; do diag "$l"; done
insmod "$SSA_KO" 2>/dev/null
module_loaded; ok $? "ssa.ko loaded again for the next tests"
exec 7>&-
done_testing
