#!/usr/bin/env bash
# ssad's own seccomp filter (issue 14: defence in depth while handshakes
# still run in the root ssad process; src/ssad/syscall_filter.c). Checked:
#   - ssad runs with no_new_privs and one seccomp filter (mode 2), read from
#     /proc; the key keeper has ssad's and its own (two);
#   - ssad still serves with it: clients, a listener, its worker threads;
#   - a forbidden system call kills ssad with SIGSYS: a tracer
#     (tests/progs/syscall_inject.c) makes ssad's main thread call mount(2)
#     in place of its next epoll_wait (strace cannot: it substitutes only
#     calls without side effects, and ssad's filter denies none of those).
#     Control: the same injection of an allowed getppid returns (ssad's
#     parent's pid) and leaves ssad serving, so it is the filter that
#     kills, not the injection.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
[ "$(uname -m)" = x86_64 ] || skip_all "the system-call injector knows x86_64 only"
command -v cpp >/dev/null || skip_all "cpp not installed (system call numbers)"
[ "$(id -u)" = 0 ] || skip_all "needs root (ssad as root, ptrace)"
plan 10
pki

status() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$2/status"; }
SRV=$(free_port); start_s_server "$SRV" -cert "$PKI/server.crt" -key "$PKI/server.key" \
	-cert_chain "$PKI/int.crt" -www
start_ssad "log-level = info" || { fail "ssad starts"; done_testing; }
is "$(status NoNewPrivs "$SSAD_PID") $(status Seccomp "$SSAD_PID") $(status Seccomp_filters "$SSAD_PID")" \
	"1 2 1" "ssad: no_new_privs, seccomp filter mode, one filter"
K=$(pgrep -P "$SSAD_PID" -f -- --key-keeper | head -n1)
is "$(status Seccomp_filters "${K:-0}" 2>/dev/null)" 2 "the key keeper has ssad's filter and its own"
[ "$(ls "/proc/$SSAD_PID/task" | wc -l)" -gt 2 ] &&
	! grep -L '^Seccomp:[[:space:]]*2$' /proc/"$SSAD_PID"/task/*/status | grep -q .
ok $? "every one of ssad's threads runs under the filter ($(ls "/proc/$SSAD_PID/task" | wc -l) threads; clone3 answers ENOSYS, the C library uses clone)"
out=$(ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" 2>&1)
like "$out" "OK version=" "a client connects through ssad"

# call NAME: ssad's main thread makes system call NAME in place of its
# next epoll_wait (tests/progs/syscall_inject.c); a control request wakes
# the loop.
nr() { printf '#include <sys/syscall.h>\nSYS_%s\n' "$1" | cpp -P - | tail -n1; }
call() {
	(sleep 0.5; ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" >/dev/null 2>&1) &
	timeout 30 "$B/tests/syscall_inject" "$SSAD_PID" "$(nr "$1")" >"$WORK/inject-$1.log" 2>&1
	wait $!
}
call getppid
kill -0 "$SSAD_PID" 2>/dev/null
ok $? "control: ssad made to call getppid (allowed) keeps running"
is "$(cat "$WORK/inject-getppid.log")" "RETURNED $$" "control: the call did run in ssad (it returned ssad's parent, this shell)"
out=$(ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" 2>&1)
like "$out" "OK version=" "... and ssad still serves"
call mount
for _ in $(seq 30); do kill -0 "$SSAD_PID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$SSAD_PID" 2>/dev/null
ok $? "ssad made to call mount(2) is killed"
wait "$SSAD_PID"
is "$?" "$((128 + $(kill -l SYS)))" "... with SIGSYS (the seccomp filter)"
forget_pid "$SSAD_PID"
out=$(ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" 2>&1)
unlike() { if [[ $1 =~ $2 ]]; then fail "$3"; else pass "$3"; fi; }
unlike "$out" "OK version=" "no TLS through a dead ssad (libssa does not fall back to plain TCP)"
done_testing
