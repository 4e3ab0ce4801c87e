#!/usr/bin/env bash
# Last: unloading ssa.ko. With a live TLS socket the unload is refused or
# clean (the kernel log is checked by the host); without, rmmod works and
# IPPROTO_TLS is gone.
. "$(dirname "$0")/lib.sh"
plan 5
module_loaded || { diag "ssa.ko is not loaded"; }
kstart_ssad || diag "ssad did not start"
# a TLS socket held open by a process
python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205); print('open', flush=True); time.sleep(30)" >"$WORK/holder.out" 2>&1 &
holder=$!
PIDS+=("$holder")
for i in $(seq 50); do [ -s "$WORK/holder.out" ] && break; sleep 0.1; done
is "$(cat "$WORK/holder.out")" open "a process holds a TLS socket"
if rmmod ssa 2>"$WORK/rmmod.err"; then
	diag "rmmod with a live socket succeeded (clean unload)"
	pass "rmmod with a live socket: clean"
	insmod "$SSA_KO" || diag "re-insmod failed"
else
	module_loaded; ok $? "rmmod with a live socket: refused ($(head -c 100 "$WORK/rmmod.err")), module still there"
fi
kill "$holder"; wait "$holder" 2>/dev/null
stop_ssad; ok $? "ssad exits cleanly"
kill_all_ssad
sleep 0.5
rmmod ssa 2>"$WORK/rmmod.err"; ok $? "rmmod ssa without sockets or daemon $(head -c 100 "$WORK/rmmod.err")"
is "$(tls_socket_errno)" EPROTONOSUPPORT "module gone: socket(205) is EPROTONOSUPPORT again"
done_testing
