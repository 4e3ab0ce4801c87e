#!/usr/bin/env bash
# ssad's own seccomp filter (issue 14: defence in depth while handshakes
# still run in the root ssad process; src/ssad/syscall_filter.c). Checked:
#   - ssad runs with no_new_privs and one seccomp filter (mode 2), read from
#     /proc; the key keeper has ssad's and its own (two);
#   - ssad still serves with it: clients, a listener, its worker threads;
#   - a forbidden system call kills ssad's worker with SIGSYS: a tracer
#     (tests/progs/syscall_inject.c) makes the worker's main thread call
#     mount(2) in place of its next epoll_wait (strace cannot: it
#     substitutes only calls without side effects, and ssad's filter denies
#     none of those). Control: the same injection of an allowed getppid
#     returns (the worker's parent: the supervisor) and leaves the worker
#     serving, so it is the filter that kills, not the injection. The
#     supervisor (which has the filter too) logs the signal and a new
#     worker serves; with the supervisor killed too, libssa does not fall
#     back to plain TCP.
# What is inspected and injected into is ssad's worker (SSAD_WPID), the
# process that does the work; the supervisor is $SSAD_PID.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
[ "$(uname -m)" = x86_64 ] || skip_all "the system-call injector knows x86_64 only"
command -v cpp >/dev/null || skip_all "cpp not installed (system call numbers)"
[ "$(id -u)" = 0 ] || skip_all "needs root (ssad as root, ptrace)"
plan 13
pki

status() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$2/status"; }
SRV=$(free_port); start_s_server "$SRV" -cert "$PKI/server.crt" -key "$PKI/server.key" \
	-cert_chain "$PKI/int.crt" -www
start_ssad "log-level = info" || { fail "ssad starts"; done_testing; }
is "$(status NoNewPrivs "$SSAD_WPID") $(status Seccomp "$SSAD_WPID") $(status Seccomp_filters "$SSAD_WPID")" \
	"1 2 1" "ssad's worker: no_new_privs, seccomp filter mode, one filter"
is "$(status NoNewPrivs "$SSAD_PID") $(status Seccomp "$SSAD_PID") $(status Seccomp_filters "$SSAD_PID")" \
	"1 2 1" "ssad's supervisor: the same"
K=$(pgrep -n -P "$SSAD_PID" -f -- --key-keeper)
is "$(status Seccomp_filters "${K:-0}" 2>/dev/null)" 2 "the key keeper has ssad's filter and its own"
[ "$(ls "/proc/$SSAD_WPID/task" | wc -l)" -gt 2 ] &&
	! grep -L '^Seccomp:[[:space:]]*2$' /proc/"$SSAD_WPID"/task/*/status | grep -q .
ok $? "every one of the worker's threads runs under the filter ($(ls "/proc/$SSAD_WPID/task" | wc -l) threads; clone3 answers ENOSYS, the C library uses clone)"
out=$(ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" 2>&1)
like "$out" "OK version=" "a client connects through ssad"

# call NAME: the worker's main thread makes system call NAME in place of its
# next epoll_wait (tests/progs/syscall_inject.c); a control request wakes
# the loop.
nr() { printf '#include <sys/syscall.h>\nSYS_%s\n' "$1" | cpp -P - | tail -n1; }
call() {
	(sleep 0.5; ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" >/dev/null 2>&1) &
	timeout 30 "$B/tests/syscall_inject" "$SSAD_WPID" "$(nr "$1")" >"$WORK/inject-$1.log" 2>&1
	wait $!
}
call getppid
ssad_same_worker
ok $? "control: ssad's worker made to call getppid (allowed) keeps running"
is "$(cat "$WORK/inject-getppid.log")" "RETURNED $SSAD_PID" "control: the call did run in the worker (it returned the worker's parent, the supervisor)"
out=$(ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" 2>&1)
like "$out" "OK version=" "... and ssad still serves"
call mount
for _ in $(seq 30); do ssad_same_worker || break; sleep 0.1; done
! ssad_same_worker
ok $? "ssad's worker made to call mount(2) is killed"
like "$(grep 'supervisor: the worker' "$WORK/ssad.log")" "the worker was killed by signal $(kill -l SYS)" \
	"... with SIGSYS (the seccomp filter), says the supervisor"
W2=$(ssad_worker_pid)
ok "$(kill -0 "$SSAD_PID" 2>/dev/null && [ -n "$W2" ] && [ "$W2" != "$SSAD_WPID" ] && echo 0 || echo 1)" \
	"the supervisor stays and starts a new worker (${W2:-none})"
out=$(ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" 2>&1)
like "$out" "OK version=" "... which serves"
kill -KILL "$SSAD_PID"
wait "$SSAD_PID"
forget_pid "$SSAD_PID"
for _ in $(seq 30); do kill -0 "$W2" 2>/dev/null || break; sleep 0.1; done
out=$(ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" 2>&1)
unlike "$out" "OK version=" "no TLS through a dead ssad (libssa does not fall back to plain TCP)"
done_testing
