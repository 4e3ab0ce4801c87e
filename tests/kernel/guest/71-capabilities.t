#!/usr/bin/env bash
# ssad needs CAP_NET_ADMIN only to register with ssa.ko: once registered
# with a module whose family is version 2 or later, no thread of ssad holds
# it in its effective or permitted set (capabilities are per thread: every
# /proc/PID/task/*/status is read), nor, started by hand as root, in its
# bounding set; then it becomes the unprivileged user ssad with no
# capability (its supervisor keeps the others) and confines itself with
# Landlock (its log names the guest kernel's ABI: 6.1 has no signal scope,
# 6.12 has); and connections through ssa.ko (ACCEPT, CHECKED for the options
# set, DONE) still complete, from the confined worker. Positive
# controls: this shell (root) shows bit 12, and the same check finds it in
# a process that has it.
. "$(dirname "$0")/lib.sh"
plan 11
kill_all_ssad
pki

# has_cap FIELD BIT STATUS-FILE: 0 if the hex mask FIELD has bit BIT
has_cap() {
	local mask
	mask=$(awk -v f="$1:" '$1 == f { print $2 }' "$3" 2>/dev/null)
	[ -n "$mask" ] && (( (16#$mask >> $2) & 1 ))
}
NET_ADMIN=12 SETUID=7

has_cap CapEff $NET_ADMIN /proc/self/status; ok $? "control: this root shell has CAP_NET_ADMIN (bit 12) in CapEff"
sleep 60 & holder=$!
PIDS+=("$holder")
has_cap CapPrm $NET_ADMIN "/proc/$holder/status"; ok $? "control: the check finds it in CapPrm of a root process"

kstart_ssad "log-level = info" || diag "ssad did not start"
grep -q "CAP_NET_ADMIN dropped" "$WORK/ssad.log"; ok $? "ssad logs that it dropped CAP_NET_ADMIN after registering"
diag "$(grep 'kernel front end' "$WORK/ssad.log" | tail -n 2)"

# every thread, with the handshake workers and the jobs thread started
ntask=0 held=()
# ssad's worker: the process that registers with ssa.ko and serves it
for st in /proc/"$SSAD_WPID"/task/*/status; do
	ntask=$((ntask + 1))
	for f in CapEff CapPrm; do
		has_cap $f $NET_ADMIN "$st" && held+=("$(basename "$(dirname "$st")"):$f")
	done
done
diag "ssad's worker $SSAD_WPID: $ntask threads; CapEff $(awk '$1 == "CapEff:" { print $2 }' /proc/"$SSAD_WPID"/status)"
ok $([ "$ntask" -ge 2 ] && [ ${#held[@]} -eq 0 ] && echo 0 || echo 1) \
	"no thread of ssad ($ntask) holds CAP_NET_ADMIN in CapEff or CapPrm${held:+ (held: ${held[*]})}"
has_cap CapBnd $NET_ADMIN "/proc/$SSAD_WPID/status"; ok $((! $?)) "nor in its bounding set (an exec cannot bring it back)"
wuid=$(awk '$1 == "Uid:" { print $2 }' "/proc/$SSAD_WPID/status")
weff=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$SSAD_WPID/status")
ok $([ "$wuid" != 0 ] && [ "$((16#$weff))" = 0 ] && has_cap CapEff $SETUID "/proc/$SSAD_PID/status" && echo 0 || echo 1) \
	"then the worker holds no capability at all (uid $wuid, CapEff $weff); its supervisor keeps the others (CAP_SETUID)"

ll=$(grep -o 'worker confined by Landlock (ABI [0-9]*)[^"]*' "$WORK/ssad.log" | head -n 1)
ok $([ -n "$ll" ] && echo 0 || echo 1) "the worker is confined by Landlock (${ll:-no such log line})"

# connections through ssa.ko: ACCEPT, CHECKED (TLS_REMOTE_HOSTNAME), DONE
serve server
for i in 1 2 3; do
	out=$("$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)
	like "$out" $'^OK .*\nREPLY HTTP/1.0 200 ok' "connection $i through ssa.ko completes without CAP_NET_ADMIN"
done
stop_ssad; ok $? "ssad exits cleanly"
done_testing
