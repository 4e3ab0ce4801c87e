#!/usr/bin/env bash
# The worker's Landlock sandbox (issue 14: "no file-system access beyond
# what they need", "no way to reach other processes";
# src/ssad/supervisor/worker_fs.c). Proven from outside: a tracer
# (tests/progs/syscall_inject.c) makes the worker's main thread make one
# system call in place of its next epoll_wait, with arguments and a path.
#   - openat() of a world-readable file under $WORK (which the worker's user
#     may read: a process of that user, not confined, reads it) answers
#     EACCES in the worker; the same call in the supervisor (not confined)
#     opens it, and an allowed path (/etc/passwd) opens in the worker too;
#     every descriptor opened so is closed again by an injected close();
#   - Landlock ABI 6 and later: kill(P, 0) of a process P of the worker's
#     own user (outside its Landlock domain) answers EPERM, while a process
#     of that user that is not confined may signal P, and the worker may
#     signal itself; connect() to an abstract UNIX socket that process
#     listens on answers EPERM, while an unconfined process of that user
#     connects;
#   - reloads (SIGHUP and ssactl reload) still work under the sandbox: a
#     profile added with match-user = nobody (a user NAME, looked up by the
#     worker after its drop) applies to nobody's next connection and not
#     before, and the trust store is a directory;
#   - the worker still serves, and is the same process, after all that.
# Skipped where the running kernel has no Landlock (ssad says so).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
[ "$(uname -m)" = x86_64 ] || skip_all "the system-call injector knows x86_64 only"
command -v cpp >/dev/null || skip_all "cpp not installed (system call numbers)"
command -v setpriv >/dev/null || skip_all "setpriv (util-linux) not installed"
[ "$(id -u)" = 0 ] || skip_all "needs root (ssad as root, ptrace)"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
pki
chmod 0755 "$WORK"
mkdir -p "$WORK/ts" && cp "$PKI/trust.pem" "$WORK/ts/trust.pem" && chmod -R a+rX "$WORK/ts"
echo "a file every user may read" >"$WORK/public.txt"
chmod 0644 "$WORK/public.txt"
WUID=65533 # the worker's ids where no ssad user exists (worker_user.h)
id ssad >/dev/null 2>&1 && WUID=$(id -u ssad)
WGID=$(id -g ssad 2>/dev/null || echo 65533)

SRV=$(free_port); start_s_server "$SRV" -cert "$PKI/server.crt" -key "$PKI/server.key" \
	-cert_chain "$PKI/int.crt" -www
SRV12=$(free_port); start_s_server "$SRV12" -tls1_2 -cert "$PKI/server.crt" -key "$PKI/server.key" \
	-cert_chain "$PKI/int.crt" -www
start_ssad "log-level = info" || skip_all "ssad does not start"
# hup [WHAT]: SIGHUP to the supervisor, and wait (5 s) for the worker to
# log WHAT once more (default: its reload).
hup() {
	local what=${1:-configuration reloaded} n0
	n0=$(grep -c "$what" "$WORK/ssad.log")
	kill -HUP "$SSAD_PID"
	for _ in $(seq 50); do
		[ "$(grep -c "$what" "$WORK/ssad.log")" -gt "$n0" ] && return 0
		sleep 0.1
	done
	return 1
}
sed -i "s|^trust-store = .*|trust-store = $WORK/ts|" "$WORK/ssa.conf"
hup
ABI=$(sed -n 's/.*worker confined by Landlock (ABI \([0-9]*\)).*/\1/p' "$WORK/ssad.log" | head -n 1)
if [ -z "$ABI" ]; then
	grep -q 'its file-system access is not confined' "$WORK/ssad.log" &&
		skip_all "the running kernel has no Landlock (ssad: $(grep -o 'Landlock is [a-z ]*' "$WORK/ssad.log" | head -n 1))"
fi
plan 26
ok "$([ -n "$ABI" ] && echo 0 || echo 1)" "ssad's worker says it is confined by Landlock (ABI ${ABI:-none})"

nr() { printf '#include <sys/syscall.h>\nSYS_%s\n' "$1" | cpp -P - | tail -n1; }
wake_worker() { sleep 0.5; timeout 5 "$B/bin/ssactl" status >/dev/null 2>&1; }
# inject PID WAKE NAME ARGS...: PID's main thread makes system call NAME;
# WAKE is a command that wakes its loop. Prints what the injector printed.
inject() {
	local pid=$1 wake=$2 name=$3 out
	shift 3
	$wake &
	out=$(timeout 30 "$B/tests/syscall_inject" "$pid" "$(nr "$name")" "$@" 2>&1)
	wait $!
	echo "$out"
}
wake_sup() { sleep 0.5; kill -HUP "$SSAD_PID"; }
# open_in PID WAKE PATH: openat(AT_FDCWD, PATH, O_RDONLY | O_CLOEXEC) in PID;
# the descriptor it returns, if any, is closed again at once (what that
# close returned: closed).
open_in() {
	local out fd
	out=$(inject "$1" "$2" openat -100 "s:$3" 0x80000)
	echo "$out"
	fd=${out#RETURNED }
	: >"$WORK/closed"
	if [[ $out == RETURNED* ]] && [ "$fd" -ge 0 ]; then
		inject "$1" "$2" close "$fd" >"$WORK/closed"
	fi
}

# ---- files ---------------------------------------------------------------
ok "$(setpriv --reuid="$WUID" --regid="$WGID" --clear-groups cat "$WORK/public.txt" >/dev/null 2>&1 && echo 0 || echo 1)" \
	"control: the worker's user (uid $WUID), not confined, may read $WORK/public.txt"
is "$(open_in "$SSAD_WPID" wake_worker "$WORK/public.txt")" "RETURNED -13" \
	"the worker opening $WORK/public.txt gets EACCES (Landlock)"
out=$(open_in "$SSAD_PID" wake_sup "$WORK/public.txt")
like "$out" '^RETURNED [0-9]+$' "control: the supervisor (not confined) opens it ($out) ..."
is "$(cat "$WORK/closed")" "RETURNED 0" "... and closes it again"
out=$(open_in "$SSAD_WPID" wake_worker /etc/passwd)
like "$out" '^RETURNED [0-9]+$' "control: the worker opens /etc/passwd, on its allow-list ($out) ..."
is "$(cat "$WORK/closed")" "RETURNED 0" "... and closes it again"
is "$(open_in "$SSAD_WPID" wake_worker /etc/hostname)" "RETURNED -13" \
	"the worker opening /etc/hostname gets EACCES"
ssad_same_worker
ok $? "the worker is still the same process after the injections"

# ---- signals (Landlock ABI 6: scope) ---------------------------------------
setpriv --reuid="$WUID" --regid="$WGID" --clear-groups sleep 300 </dev/null >/dev/null 2>&1 &
P=$!
PIDS+=("$P")
sleep 0.2
# /usr/bin/python3: the worker's user may not run a python of root's (pyenv)
if [ "${ABI:-0}" -ge 6 ] && [ -x /usr/bin/python3 ]; then
	ok "$(setpriv --reuid="$WUID" --regid="$WGID" --clear-groups kill -0 "$P" 2>/dev/null && echo 0 || echo 1)" \
		"control: a process of the worker's user, not confined, may signal $P (same user)"
	is "$(inject "$SSAD_WPID" wake_worker kill "$P" 0)" "RETURNED -1" \
		"the worker's kill($P, 0) of that process gets EPERM (Landlock signal scope)"
	is "$(inject "$SSAD_WPID" wake_worker kill "$SSAD_WPID" 0)" "RETURNED 0" \
		"control: the worker's kill(itself, 0) returns 0"
else
	for _ in 1 2 3; do skip "Landlock ABI $ABI has no signal scope (6 and later)"; done
fi

# ---- abstract UNIX sockets (Landlock ABI 6: scope) -----------------------
NAME=ssa-89-$$
setpriv --reuid="$WUID" --regid="$WGID" --clear-groups /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind("\0" + sys.argv[1])
s.listen(8)
print("READY", flush=True)
time.sleep(300)' "$NAME" >"$WORK/abstract.out" 2>&1 </dev/null &
PIDS+=("$!")
for _ in $(seq 50); do grep -q READY "$WORK/abstract.out" && break; sleep 0.1; done
# sockaddr_un: sun_family AF_UNIX (1, little-endian), a NUL, the name
ADDR=0100$(printf '\0%s' "$NAME" | od -An -tx1 | tr -d ' \n')
ALEN=$((3 + ${#NAME}))
# /usr/bin/python3: the worker's user may not run a python of root's (pyenv)
if [ "${ABI:-0}" -ge 6 ] && [ -x /usr/bin/python3 ]; then
	ok "$(setpriv --reuid="$WUID" --regid="$WGID" --clear-groups /usr/bin/python3 -c '
import socket, sys
socket.socket(socket.AF_UNIX).connect("\0" + sys.argv[1])' "$NAME" 2>/dev/null && echo 0 || echo 1)" \
		"control: a process of the worker's user, not confined, connects to the abstract socket @$NAME"
	out=$(inject "$SSAD_WPID" wake_worker socket 1 0x80001 0)
	fd=${out#RETURNED }
	like "$out" '^RETURNED [0-9]+$' "the worker makes a UNIX socket ($out) ..."
	is "$(inject "$SSAD_WPID" wake_worker connect "${fd:-0}" "x:$ADDR" "$ALEN")" "RETURNED -1" \
		"... whose connect() to @$NAME gets EPERM (Landlock abstract-socket scope)"
	is "$(inject "$SSAD_WPID" wake_worker close "${fd:-0}")" "RETURNED 0" "... and is closed again"
else
	why="Landlock ABI $ABI has no abstract-socket scope (6 and later)"
	[ -x /usr/bin/python3 ] || why="no /usr/bin/python3"
	for _ in 1 2 3 4; do skip "$why"; done
fi

# ---- reloads under the sandbox ---------------------------------------------
nobody_pp() { # nobody's connection to PORT: its first word
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups env LD_PRELOAD="$(ssa_preload)" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" timeout 20 \
		"$B/tests/policy_probe" -n localhost 127.0.0.1 "$1" 2>&1 | tail -n 1 | cut -d' ' -f1
}
is "$(nobody_pp "$SRV12")" OK "control: before the reload nobody connects to a TLS 1.2 server"
printf '[app "nobody13"]\nmatch-user = nobody\nmin-version = TLSv1.3\n' >>"$WORK/ssa.conf"
hup
is "$(nobody_pp "$SRV12")" ERR "after SIGHUP, the profile matched by the user name nobody applies (TLS 1.3 minimum)"
is "$(nobody_pp "$SRV")" OK "... and nobody connects to a TLS 1.3 server (trust store: a directory)"
sed -i '/^\[app "nobody13"\]/,$d' "$WORK/ssa.conf"
like "$("$B/bin/ssactl" reload 2>&1)" reloaded "ssactl reload with the profile removed"
is "$(nobody_pp "$SRV12")" OK "... nobody connects to the TLS 1.2 server again"

# The version the worker runs keeps its files, however many newer ones it
# refuses: the supervisor stat()s a match-exe profile's executable for the
# worker at each connection, and a version that no longer names it (one
# the worker refused: its trust store is missing) must not make the
# running profile silently stop matching.
probe_pp() { # the probe's own connection to PORT: its first word
	ssa timeout 20 "$B/tests/policy_probe" -n localhost 127.0.0.1 "$1" 2>&1 | tail -n 1 | cut -d' ' -f1
}
cp "$WORK/ssa.conf" "$WORK/ssa.conf.good"
printf '[app "probe13"]\nmatch-exe = %s\nmin-version = TLSv1.3\n' "$B/tests/policy_probe" >>"$WORK/ssa.conf"
cp "$WORK/ssa.conf" "$WORK/ssa.conf.probe"
hup
is "$(probe_pp "$SRV12")" ERR "a match-exe profile applies to its program (TLS 1.3 minimum)"
refused=0
for i in 1 2 3 4 5 6; do
	sed "s|^trust-store = .*|trust-store = $WORK/missing-$i|" "$WORK/ssa.conf.good" >"$WORK/ssa.conf.new"
	mv "$WORK/ssa.conf.new" "$WORK/ssa.conf"
	hup "reload refused" && refused=$((refused + 1))
done
is "$refused" 6 "six versions without the profile, each refused by the worker (no trust store)"
is "$(probe_pp "$SRV12")" ERR "... the profile of the version it still runs still applies"
cp "$WORK/ssa.conf.good" "$WORK/ssa.conf"
hup
is "$(probe_pp "$SRV12")" OK "... and once a version without it loads, it no longer does"
ssad_same_worker
ok $? "the same worker served all of it"
done_testing
