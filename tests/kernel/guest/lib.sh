# shellcheck shell=bash
# Helpers for the guest tests in tests/kernel/guest/ (run inside the QEMU
# guest by tests/kernel/stage2.sh, with ssa.ko loaded). Builds on tests/lib.sh
# (TAP helpers, start_ssad, start_s_server, free_port ...). start_ssad sets
# SSAD_PID (ssad's supervisor: signal it) and SSAD_WPID (its worker, which
# registers with ssa.ko and serves it: inspect it; ssad_worker_pid).
#
# Environment from stage2.sh: SSA_BUILD (absolute), SSA_TEST_PKI,
# SSA_KPROGS (the programs built by build-progs.sh), SSA_KO, SSA_KVER.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
KP=${SSA_KPROGS:-$TOP/build-kernel/progs}
IPPROTO_TLS=205

module_loaded() { [ -d /sys/module/ssa ]; }

# tls_socket_errno: "ok" if socket(AF_INET, SOCK_STREAM, 205) works, else the errno name
tls_socket_errno() {
	local out
	out=$("$KP/kclient" -S 2>&1)
	case $out in OK) echo ok ;; "ERR "*) echo "${out#ERR }" ;; *) echo "$out" ;; esac
}

# kstart_ssad [CONFIG-LINES...]: a private ssad (tests/lib.sh start_ssad); then
# wait until the kernel front end takes IPPROTO_TLS sockets (ssad has
# registered with ssa.ko), at most 10 s.
# The handshake timeout is 10 s, not tests/lib.sh's 2 s: under TCG on a busy
# host, a few handshakes served one after another by s_server take longer.
kstart_ssad() {
	start_ssad "handshake-timeout = 10s" "$@" || return 1
	module_loaded || return 0
	local end=$((SECONDS + 10))
	while [ $SECONDS -lt $end ]; do
		[ "$(tls_socket_errno)" = ok ] && return 0
		sleep 0.1
	done
	diag "ssad started but socket(AF_INET, SOCK_STREAM, 205) still fails: $(tls_socket_errno)"
	return 1
}

KC=$KP/kclient

# serve NAME [s_server args]: openssl s_server -www with the PKI's NAME
# certificate (and the intermediate when NAME has a chain); sets $port
serve() {
	local name=$1; shift
	port=$(free_port)
	local chain=()
	[ -f "$PKI/$name-chain.crt" ] && chain=(-cert_chain "$PKI/int.crt")
	start_s_server "$port" -cert "$PKI/$name.crt" -key "$PKI/$name.key" "${chain[@]}" -www "$@"
}

# serve_bg VAR NAME [s_server args]: like serve, without waiting for the
# port (start several servers at once, then wait_port each); the port goes
# to the variable VAR
serve_bg() {
	local var=$1 name=$2 p
	shift 2
	p=$(free_port)
	local chain=()
	[ -f "$PKI/$name-chain.crt" ] && chain=(-cert_chain "$PKI/int.crt")
	openssl s_server -accept "$p" -cert "$PKI/$name.crt" -key "$PKI/$name.key" "${chain[@]}" -www "$@" \
		>>"$WORK/s_server.log" 2>&1 </dev/null &
	PIDS+=("$!")
	printf -v "$var" %s "$p"
}

# start_echo [COUNT]: tests/kernel/guest/tls_echo.py (userspace OpenSSL) with
# the server certificate; sets $eport and $EPID
start_echo() {
	rm -f "$WORK/echo.port"
	python3 "$TOP/tests/kernel/guest/tls_echo.py" "$PKI/server-chain.crt" "$PKI/server.key" \
		"$WORK/echo.port" "${1:-1}" 2>>"$WORK/echo.log" &
	EPID=$!
	PIDS+=("$EPID")
	local i
	for i in $(seq 100); do [ -s "$WORK/echo.port" ] && break; sleep 0.1; done
	eport=$(cat "$WORK/echo.port" 2>/dev/null)
	[ -n "$eport" ]
}

# libssa_ktls_setup: what the libssa kernel-TLS tests (80, 81, 82) share.
# The snapshot in $B holds ssad and ssactl; libssa and ktls_probe come from
# the userspace build they were made with ($UB). Sets UB, LIBSSA and PROBE,
# loads tls, starts a private ssad and exports SSA_SOCKET.
libssa_ktls_setup() {
	UB=$TOP/build
	[ -f "$B/lib/libssa.so" ] && UB=$B
	LIBSSA=$UB/lib/libssa.so
	PROBE=$UB/tests/ktls_probe
	[ -x "$PROBE" ] || diag "no $PROBE (make all)"
	grep -q '^tls ' /proc/modules || modprobe tls 2>/dev/null
	kstart_ssad || diag "ssad did not start"
	export SSA_SOCKET
}

# ktls_sessions_since N WORD: one TAP check that /proc/net/tls_stat counted
# at least N new kernel TLS sessions each way since $tx0 and $rx0
ktls_sessions_since() {
	local tx1 rx1
	tx1=$(tls_stat TlsTxSw) rx1=$(tls_stat TlsRxSw)
	diag "tls_stat: TlsTxSw $tx0->$tx1 TlsRxSw $rx0->$rx1"
	ok $([ "$tx1" -ge $((tx0 + $1)) ] && [ "$rx1" -ge $((rx0 + $1)) ] && echo 0 || echo 1) \
		"/proc/net/tls_stat: $2 kernel TLS sessions each way"
}

# tls_stat NAME: a counter from /proc/net/tls_stat (0 if absent)
tls_stat() { awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' /proc/net/tls_stat 2>/dev/null; }

# guest_cleanup_ssad: stop every ssad in the guest (tests start their own)
kill_all_ssad() {
	local p
	for p in $(pidof ssad); do kill -KILL "$p" 2>/dev/null; done
	# until they are gone (their netlink sockets with them: the module's
	# registrations end at NETLINK_URELEASE), at most 5 s
	for p in $(seq 50); do pidof ssad >/dev/null || break; sleep 0.1; done
	sleep 0.2
}

# start_kserver N: tests/kernel/progs/kserver with the PKI's server chain
# and key (set through ssa.ko) accepting N connections, in the background
# (KS, log in $WORK/kserver.log); waits for its LISTEN line and sets kport
# (1, with a diag, if it never listens)
start_kserver() {
	"$KP/kserver" -c "$PKI/server-chain.crt" -k "$PKI/server.key" -n "$1" >"$WORK/kserver.log" 2>&1 &
	KS=$!
	PIDS+=("$KS")
	local i
	for i in $(seq 50); do grep -q '^LISTEN\|^ERR' "$WORK/kserver.log" && break; sleep 0.1; done
	kport=$(sed -n 's/^LISTEN port=//p' "$WORK/kserver.log")
	[ -n "$kport" ] || { diag "$(cat "$WORK/kserver.log")"; kport=1; }
}

# wait_port HOST PORT: until something listens (at most 10 s). Bash's
# /dev/tcp, not a Python per try: starting Python costs ~0.5 s under TCG.
wait_port() {
	local end=$((SECONDS + 10))
	while [ $SECONDS -lt $end ]; do
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# free_port: a free TCP port on loopback (no Python: see wait_port). Never
# one it handed out before in this test: a server started in the background
# may not listen yet, and a second free_port could pick its port (CI saw
# "Address already in use"). It runs in $(...), so the record is a file.
# Below the kernel's ephemeral range (32768 and up by default): a port
# there may be the local end of a connection (a client's, or one in
# TIME_WAIT), which connecting to it cannot see, and bind() then fails (CI
# saw that too).
free_port() {
	local p i used=$WORK/.ports-given lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${lo:-0}" -gt 21000 ] 2>/dev/null || lo=32768
	for i in $(seq 50); do
		p=$((20000 + RANDOM % (lo - 20000)))
		grep -qx "$p" "$used" 2>/dev/null && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		echo "$p" >>"$used"
		echo "$p"
		return 0
	done
	echo 0
}

# wait_pid PID SECONDS: wait for a background child at most SECONDS; kill it
# after that. Returns its exit status, or 124 when it had to be killed.
wait_pid() {
	local end=$((SECONDS + $2))
	while kill -0 "$1" 2>/dev/null && [ $SECONDS -lt "$end" ]; do sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}

# stop_ssad (replaces tests/lib.sh's): SIGTERM, then at most 10 s. An ssad
# that does not exit is reported with where its threads are, then killed;
# returns 124 then, else ssad's exit status.
stop_ssad() {
	kill -TERM "$SSAD_PID" 2>/dev/null
	local end=$((SECONDS + 10)) t rc
	while kill -0 "$SSAD_PID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
	if kill -0 "$SSAD_PID" 2>/dev/null; then
		diag "ssad $SSAD_PID did not exit within 10 s of SIGTERM; its and its worker's threads:"
		for t in /proc/"$SSAD_PID"/task/* /proc/"${SSAD_WPID:-0}"/task/*; do
			[ -d "$t" ] || continue
			diag "  ${t##*/} $(cat "$t/comm" 2>/dev/null) wchan=$(cat "$t/wchan" 2>/dev/null): $(head -n 6 "$t/stack" 2>/dev/null | tr '\n' ' ')"
		done
		diag "ssad log: $(tail -n 5 "$WORK/ssad.log" 2>/dev/null)"
		kill -KILL "$SSAD_PID" 2>/dev/null
		wait "$SSAD_PID" 2>/dev/null
		rc=124
	else
		wait "$SSAD_PID"
		rc=$?
	fi
	forget_pid "$SSAD_PID"
	return $rc
}

# kernel_log_mark / kernel_log_since: the kernel messages a test caused
# (dmesg lines after the mark)
kernel_log_mark() { KLOG_MARK=$(dmesg 2>/dev/null | wc -l); }
kernel_log_since() { dmesg 2>/dev/null | tail -n +"$((${KLOG_MARK:-0} + 1))"; }

# Kernel memory bugs and warnings in a piece of kernel log (stdin): SLUB
# debugging (slub_debug on the guest command line), KASAN, oopses, WARN_ON.
KLOG_BAD='BUG[: ]|Poison overwritten|Redzone|Object padding|Freepointer|KASAN|UBSAN|WARNING:|general protection|Oops|unable to handle|list_(add|del) corruption|refcount_t:|Call Trace:'
kernel_log_clean() { ! grep -E "$KLOG_BAD"; }

# kstart_ssad_hs SECONDS: kstart_ssad with another handshake timeout
kstart_ssad_hs() { kstart_ssad "handshake-timeout = ${1}s"; }

# slab_active NAME: active objects of a slab cache (0 if absent)
slab_active() { awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' /proc/slabinfo 2>/dev/null; }

# wait_line FILE REGEX SECONDS: until a line of FILE matches (grep -E), by the
# clock (a loop counting tries is far longer under TCG: each try forks)
wait_line() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
