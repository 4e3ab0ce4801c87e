# shellcheck shell=bash
# Shared helpers for the TAP test scripts in tests/t/.
#
# Environment (set by tests/run-all.sh, defaults for running one test by hand):
#   SSA_BUILD      build directory to test (build or build-asan)
#   SSA_TEST_PKI   a PKI made by tests/pki/gen-pki.sh (made on demand if unset)
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SSA_BUILD=${SSA_BUILD:-build}
case $SSA_BUILD in /*) B=$SSA_BUILD ;; *) B=$TOP/$SSA_BUILD ;; esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ssa-test.XXXXXX")
PIDS=()
_n=0
_failed=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ "${KEEP_WORK:-0}" = 1 ] || [ "$_failed" -gt 0 ] && [ -n "${CI:-}" ]; then
		# Leave evidence for a failed CI run in the log.
		for f in "$WORK"/*.log; do
			[ -s "$f" ] && { echo "# --- $f"; sed 's/^/#   /' "$f" | tail -n 40; }
		done
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# forget_pid PID: drop PID from the processes cleanup kills. An exact match:
# a pattern substitution would also cut PID out of longer pids (19 in 1923).
forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# ---- TAP -------------------------------------------------------------
plan() { echo "1..$1"; }
ok() { # ok COND-EXIT-STATUS DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _failed=$((_failed + 1)); fi
}
pass() { ok 0 "$1"; }
fail() { ok 1 "$1"; }
diag() { echo "# $*"; }
is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then pass "$3"; else fail "$3"; diag "got:  '$1'"; diag "want: '$2'"; fi
}
like() { # like GOT REGEX DESCRIPTION
	if [[ $1 =~ $2 ]]; then pass "$3"; else fail "$3"; diag "got:  '$1'"; diag "want: /$2/"; fi
}
unlike() { # unlike GOT REGEX DESCRIPTION
	if ! [[ $1 =~ $2 ]]; then pass "$3"; else fail "$3"; diag "got:  '$1'"; diag "want no /$2/"; fi
}
done_testing() { [ "$_failed" -eq 0 ]; exit $?; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

# ---- environment -------------------------------------------------------
pki() {
	if [ -z "${SSA_TEST_PKI:-}" ]; then
		SSA_TEST_PKI=$WORK/pki
		bash "$TOP/tests/pki/gen-pki.sh" "$SSA_TEST_PKI" >/dev/null
	fi
	PKI=$SSA_TEST_PKI
}

# LD_PRELOAD for running a program under libssa: the sanitizer runtimes must
# come first when the build is sanitized.
ssa_preload() {
	local pre=""
	if [ "$SSA_BUILD" != build ] && nm -D "$B/lib/libssa.so" 2>/dev/null | grep -q __asan_init; then
		pre="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so):"
	fi
	echo "$pre$B/lib/libssa.so"
}

# Run a command with the userspace front end; leak checks stay on ssad only.
ssa() {
	LD_PRELOAD=$(ssa_preload) ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} "$@"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # wait_port HOST PORT: until something listens (max 5 s)
	local i
	for i in $(seq 50); do
		if python3 -c "import socket,sys; socket.create_connection(('$1',$2),1).close()" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# start_ssad [EXTRA-CONFIG-LINES...]: a private ssad on $WORK/ssad.sock
start_ssad() {
	pki
	local conf=$WORK/ssa.conf
	{
		echo "[global]"
		echo "trust-store = $PKI/trust.pem"
		echo "handshake-timeout = 2s"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$conf"
	export SSA_SOCKET=$WORK/ssad.sock
	rm -f "$SSA_SOCKET"
	"$B/sbin/ssad" --config "$conf" --socket "$SSA_SOCKET" 2>>"$WORK/ssad.log" &
	SSAD_PID=$!
	PIDS+=("$SSAD_PID")
	local i
	for i in $(seq 50); do
		if [ -S "$SSA_SOCKET" ]; then
			SSAD_WPID=$(ssad_worker_pid) && return 0
			echo "# ssad's supervisor $SSAD_PID has no worker:" >&2
			break
		fi
		sleep 0.1
	done
	echo "# ssad did not start:" >&2
	sed 's/^/#   /' "$WORK/ssad.log" >&2
	return 1
}

# ssad_worker_pid [SUPERVISOR-PID]: the pid of the current worker of ssad's
# supervisor (default $SSAD_PID): its child whose comm is ssad-worker. The
# supervisor is the process the test started (it signals, relays, keeps the
# listeners); the worker does the work, so capabilities, seccomp, threads,
# descriptors, memory and the keeper are the worker's. Waits up to 5 s for
# one to exist (a new worker is forked when the old one dies); fails if none.
ssad_worker_pid() {
	local i w
	for i in $(seq 50); do
		w=$(pgrep -x -P "${1:-$SSAD_PID}" ssad-worker | head -n 1)
		if [ -n "$w" ]; then
			echo "$w"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ssad_serving: wait (at most 5 s) until ssad's worker answers a control
# request (ssactl status): it has started everything (the socket exists,
# and the worker is forked, before that). Returns ssactl's status.
ssad_serving() {
	timeout 5 "$B/bin/ssactl" status >/dev/null 2>&1
}

# ssad_same_worker [WORKER-PID]: true while the supervisor $SSAD_PID is alive
# and WORKER-PID (default $SSAD_WPID) is still its worker (alive, named
# ssad-worker, its child): "ssad stays up" where a replaced worker would
# hide that the worker died.
ssad_same_worker() {
	local w=${1:-$SSAD_WPID}
	kill -0 "$SSAD_PID" 2>/dev/null && [ "$(cat "/proc/$w/comm" 2>/dev/null)" = ssad-worker ] &&
		[ "$(ps -o ppid= -p "$w" 2>/dev/null | tr -d ' ')" = "$SSAD_PID" ]
}

# stop_ssad: SIGTERM and wait; returns ssad's exit status (sanitizer
# reports make it non-zero).
stop_ssad() {
	kill -TERM "$SSAD_PID" 2>/dev/null
	wait "$SSAD_PID"
	local rc=$?
	forget_pid "$SSAD_PID"
	return $rc
}

# start_s_server PORT ARGS...: openssl s_server in the background
start_s_server() {
	local port=$1
	shift
	openssl s_server -accept "$port" "$@" >>"$WORK/s_server.log" 2>&1 </dev/null &
	PIDS+=("$!")
	wait_port 127.0.0.1 "$port" || wait_port ::1 "$port"
}

# start_conform_peer DIR MODE VAR [ARGS]: DIR/conform_peer -m MODE in the
# background (in this shell, so that cleanup kills it); its port goes into
# VAR. Waits up to 10 s for "READY <port>".
start_conform_peer() {
	local dir=$1 m=$2 var=$3 out=$WORK/peer-$2.out
	shift 3
	"$dir/conform_peer" -m "$m" -p 0 "$@" >"$out" 2>>"$WORK/peer-$m.log" </dev/null &
	PIDS+=("$!")
	wait_ready "$out" "$var"
}

# wait_ready FILE VAR [TENTHS]: wait (default 10 s) until FILE holds a
# "READY <port>" line, as the test servers print it; the port goes into VAR.
wait_ready() {
	local f=$1 var=$2 i p
	for i in $(seq "${3:-100}"); do
		p=$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$f" 2>/dev/null)
		if [ -n "$p" ]; then
			printf -v "$var" '%s' "$p"
			return 0
		fi
		sleep 0.1
	done
	return 1
}
