#!/usr/bin/env bash
# Caller identification without CAP_SYS_PTRACE (issue 14, item 3): ssad
# runs as root with exactly the capabilities of the systemd unit
# (contrib/systemd/ssad.service, which has no CAP_SYS_PTRACE) and reads
# its callers' /proc/PID/exe and /proc/PID/ns/* with their own filesystem
# ids. Checked:
#   - ssad's CapEff lacks CAP_SYS_PTRACE (bit 19) and is the unit's set;
#   - match-exe and match-user profiles still apply to other real users'
#     programs (ssa-alice, ssa-mallory: tests/users.sh);
#   - what the kernel still refuses fails closed, with a log line saying
#     why: a non-dumpable program (prctl(PR_SET_DUMPABLE, 0)), one whose
#     real and effective ids differ (as a setuid-root program's do), a root
#     program holding capabilities ssad lacks: the match-exe profile does
#     not apply (the user's profile still does), the program is served;
#   - a program in a user namespace of its own gets no exe profile (as with
#     CAP_SYS_PTRACE) and keeps the host's network;
#   - network namespaces: a caller in its own (unshare -n) is served in it;
#     one ssad cannot read gets no network (logged); a non-dumpable program
#     in the host's namespace keeps the host's network.
# Positive control: the same checks with CAP_SYS_PTRACE added, where every
# program is readable (and the refused cases above get their profiles).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/users.sh
. "$(dirname "$0")/../users.sh"
need_users
command -v unshare >/dev/null || skip_all "unshare (util-linux) not installed"
command -v ip >/dev/null || skip_all "ip (iproute2) not installed"
command -v capsh >/dev/null || [ -r /usr/include/linux/capability.h ] ||
	skip_all "neither capsh nor linux/capability.h: capability numbers unknown"
PY=$(readlink -f /usr/bin/python3 2>/dev/null)
[ -x "$PY" ] || skip_all "/usr/bin/python3 not installed"
plan 36
pki

UNIT=$TOP/contrib/systemd/ssad.service
UNIT_CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
# The unit's set for setpriv (-all,+net_admin,...) and as a CapEff mask.
BSET=-all
MASK=0
for c in $UNIT_CAPS; do
	c=${c#CAP_}
	BSET+=",+${c,,}"
	bit=$(sed -n "s/^#define CAP_$c[[:space:]]*\([0-9]*\)[[:space:]]*\$/\1/p" /usr/include/linux/capability.h)
	[ -n "$bit" ] || bit=$(capsh --explain="cap_${c,,}" 2>/dev/null | sed -n 's/^cap_[a-z_]* (\([0-9]*\)).*/\1/p')
	MASK=$((MASK | (1 << bit)))
done
case " $UNIT_CAPS " in
*" CAP_SYS_PTRACE "*) fail "the unit's CapabilityBoundingSet has no CAP_SYS_PTRACE" ;;
*) pass "the unit's CapabilityBoundingSet has no CAP_SYS_PTRACE ($UNIT_CAPS)" ;;
esac
grep -q '^AmbientCapabilities=.*SYS_PTRACE' "$UNIT" && fail "no ambient CAP_SYS_PTRACE" || pass "no ambient CAP_SYS_PTRACE"

MINE=$(user_dir mine)   # a program with an exe profile, any user may run it
cp "$B/tests/policy_probe" "$MINE/policy_probe"
OWN=$(user_dir own)     # the same program elsewhere: no exe profile
cp "$B/tests/policy_probe" "$OWN/policy_probe"
PRE=$(ssa_preload)
# id.py MODE: a Python program's TLS socket's minimum version, as
#   plain   it is started;
#   suid    a setuid-root program run by alice is (real uid alice, effective
#           and saved uid 0, all gids alice's)
cat >"$WORK/id.py" <<'EOF'
import os, socket, sys
if sys.argv[1] == 'suid':
    a = int(sys.argv[2])
    os.setgroups([])
    os.setresgid(a, a, a)
    os.setresuid(a, 0, 0)
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
    print('vmin=0x%04x' % s.getsockopt(205, 111))
except OSError as e:
    print('ERR', e.errno)
EOF
chmod 0644 "$WORK/id.py"
ALICE=$(id -u ssa-alice)

SRV=$(free_port); start_s_server "$SRV" -cert "$PKI/server.crt" -key "$PKI/server.key" \
	-cert_chain "$PKI/int.crt" -www
NSPORT=$(free_port)     # nothing listens on it in the host's namespace

# start_ssad_caps BSET LOG: ssad as root under setpriv's bounding set.
start_ssad_caps() {
	local conf=$WORK/ssa.conf
	cat >"$conf" <<EOF
[global]
trust-store = $PKI/trust.pem
handshake-timeout = 2s
log-level = info
[app "mine"]
match-exe = $MINE/policy_probe
min-version = TLSv1.3
[app "python"]
match-exe = $PY
min-version = TLSv1.3
[app "mallory"]
match-user = ssa-mallory
min-version = TLSv1.3
EOF
	export SSA_SOCKET=$WORK/ssad.sock
	rm -f "$SSA_SOCKET"
	setpriv --bounding-set="$1" --inh-caps=-all -- \
		"$B/sbin/ssad" --config "$conf" --socket "$SSA_SOCKET" 2>>"$2" &
	SSAD_PID=$!
	PIDS+=("$SSAD_PID")
	for _ in $(seq 50); do [ -S "$SSA_SOCKET" ] && break; sleep 0.1; done
	[ -S "$SSA_SOCKET" ] && chmod 0666 "$SSA_SOCKET"
	SSAD_WPID=$(ssad_worker_pid) # the process that does the work
}

# in_netns CAPS [PROBE-ARGS]: as root under bounding set CAPS, in a new
# network namespace with its own TLS server on $NSPORT, connect to it
# through ssad. OK only if ssad made the socket in that namespace.
in_netns() {
	local caps=$1
	setpriv --bounding-set="$caps" --inh-caps=-all -- unshare -n sh -c '
		ip link set lo up
		rm -f "$3/ns-srv.out"
		openssl s_server -accept "$1" -cert "$2/server.crt" -key "$2/server.key" \
			-cert_chain "$2/int.crt" -www >"$3/ns-srv.out" 2>&1 </dev/null &
		sp=$!
		for _ in $(seq 50); do grep -qs ACCEPT "$3/ns-srv.out" && break; sleep 0.1; done
		env LD_PRELOAD="$4" ASAN_OPTIONS=detect_leaks=0 "$5/tests/policy_probe" -n localhost 127.0.0.1 "$1"
		kill $sp' sh "$NSPORT" "$PKI" "$WORK" "$PRE" "$B" 2>&1
}

userns_ok() { as_user_plain ssa-alice unshare --user --map-root-user true 2>/dev/null; }
vmin() { sed -n 's/.*\(vmin=0x[0-9a-f]*\).*/\1/p' <<<"$1" | head -n1; }

# phase NAME BSET PTRACE(0|1)
phase() {
	local name=$1 bset=$2 pt=$3 log=$WORK/ssad-$1.log out eff want
	start_ssad_caps "$bset" "$log" || { fail "$name: ssad starts"; return; }
	eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$SSAD_PID/status") # the supervisor reads callers' /proc links
	if [ "$pt" = 1 ]; then
		[ $((0x$eff >> 19 & 1)) = 1 ]
		ok $? "$name: ssad's CapEff ($eff) has CAP_SYS_PTRACE (bit 19)"
	else
		[ $((0x$eff >> 19 & 1)) = 0 ] && [ $((0x$eff)) = "$MASK" ]
		ok $? "$name: ssad's CapEff ($eff) lacks CAP_SYS_PTRACE (bit 19) and is the unit's set"
	fi

	out=$(as_user ssa-alice "$MINE/policy_probe" -g vmin -n localhost 127.0.0.1 "$SRV" 2>&1)
	like "$out" "GET vmin=0x0304.*OK version=" "$name: alice's program gets its match-exe profile (TLS 1.3 minimum) and connects"
	out=$(as_user ssa-alice "$OWN/policy_probe" -g vmin -n localhost 127.0.0.1 "$SRV" 2>&1)
	is "$(vmin "$out")" "vmin=0x0303" "$name: control: the same program at another path gets the default (TLS 1.2 minimum)"
	out=$(as_user ssa-mallory "$OWN/policy_probe" -g vmin -n localhost 127.0.0.1 "$SRV" 2>&1)
	is "$(vmin "$out")" "vmin=0x0304" "$name: mallory's program gets the match-user profile"

	out=$(as_user ssa-alice "$MINE/policy_probe" -D -g vmin -n localhost 127.0.0.1 "$SRV" 2>&1)
	want=$([ "$pt" = 1 ] && echo 0x0304 || echo 0x0303)
	like "$out" "GET vmin=$want.*OK version=" "$name: a non-dumpable program of alice's: vmin $want, and it keeps the host's network"
	out=$(as_user ssa-mallory "$OWN/policy_probe" -D -g vmin -n localhost 127.0.0.1 "$SRV" 2>&1)
	is "$(vmin "$out")" "vmin=0x0304" "$name: a non-dumpable program of mallory's still gets the match-user profile"

	out=$(env LD_PRELOAD="$PRE" ASAN_OPTIONS=detect_leaks=0 "$PY" "$WORK/id.py" suid "$ALICE" 2>&1)
	is "$out" "vmin=$want" "$name: a program with alice's real and root's effective uid (as a setuid one): vmin $want"
	out=$(setpriv --bounding-set="$bset" --inh-caps=-all -- \
		env LD_PRELOAD="$PRE" ASAN_OPTIONS=detect_leaks=0 "$PY" "$WORK/id.py" plain 2>&1)
	is "$out" "vmin=0x0304" "$name: a root program with ssad's capabilities only gets its match-exe profile"
	out=$(env LD_PRELOAD="$PRE" ASAN_OPTIONS=detect_leaks=0 "$PY" "$WORK/id.py" plain 2>&1)
	is "$out" "vmin=$want" "$name: a root program with every capability: vmin $want"

	if userns_ok; then
		out=$(as_user ssa-alice unshare --user --map-root-user "$MINE/policy_probe" -g vmin \
			-n localhost 127.0.0.1 "$SRV" 2>&1)
		like "$out" "GET vmin=0x0303.*OK version=" "$name: alice's program in a user namespace of its own: no exe profile (as always), the host's network"
	else
		pass "$name: no unprivileged user namespaces here: user namespace check skipped # SKIP"
	fi
	out=$(in_netns "$bset")
	like "$out" "^OK version=" "$name: a root program (ssad's capabilities) in its own network namespace is served in it"
	out=$(in_netns "-sys_resource")
	if [ "$pt" = 1 ]; then
		like "$out" "^OK version=" "$name: so is one with every capability"
	else
		like "$out" "^ERR ECONNABORTED" "$name: one with every capability (unreadable) gets no socket, not one in the host's namespace"
	fi

	ssad_same_worker
	ok $? "$name: ssad is still running (the supervisor and the same worker)"
	stop_ssad
	ok $? "$name: ssad exits cleanly"
	if [ "$pt" = 1 ]; then
		is "$(grep -c 'cannot read' "$log")" 0 "$name: nothing logged as unreadable"
	else
		like "$(grep 'match-exe profiles not applied' "$log" | grep "uid $ALICE)" | head -n1)" \
			"ssad cannot read its executable: it is not dumpable" "$name: the non-dumpable program's refusal is logged with the reason"
		like "$(grep 'match-exe profiles not applied' "$log" | grep 'ids differ' | head -n1)" \
			"pid [0-9]+ \(uid 0\).*real, effective and saved ids differ" "$name: so is the setuid-like one's"
		like "$(grep 'match-exe profiles not applied' "$log" | grep 'capabilities' | head -n1)" \
			"holds capabilities ssad does not have" "$name: so is the full-capability root program's"
		if userns_ok; then
			like "$(grep 'match-exe profiles not applied' "$log" | grep 'user namespace' | head -n1)" \
				"pid [0-9]+ \(uid $ALICE\).*it is in another user namespace" "$name: so is the one in a user namespace of its own"
		else
			pass "$name: user namespace log line skipped # SKIP"
		fi
		like "$(grep 'network namespace' "$log" | head -n1)" \
			"cannot read its network namespace \(.*\): it gets no network" "$name: so is the unreadable network namespace"
	fi
}

phase no-ptrace "$BSET" 0
phase ptrace "$BSET,+sys_ptrace" 1
done_testing
