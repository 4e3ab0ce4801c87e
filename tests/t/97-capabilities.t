#!/usr/bin/env bash
# ssad started by hand keeps only the capabilities it uses (issue 14,
# item 3: "ssad started by hand does the same as under systemd"). Checked:
#   (ssad is a supervisor, SSAD_PID, and a worker, SSAD_WPID, whose child the
#   keeper is: ssad(8) PROCESSES)
#   - the worker, which reads network bytes, runs as the unprivileged user
#     ssad (uid 65533 where none exists) with no capability on any thread
#     and no_new_privs;
#   - started as root with every capability, the supervisor's effective and permitted
#     sets are the unit's CapabilityBoundingSet plus CAP_SYS_PTRACE (kept
#     because it was held: ssad(8) CAPABILITIES) on every thread, its
#     bounding set only CAP_SETUID and CAP_SETGID (the key keeper's exec),
#     its inheritable and ambient sets are empty, and it logs what it kept;
#   - started under the unit's bounding set, it holds exactly the unit's set;
#   - the key keeper it starts holds no capability and inherits the bounding
#     set (it cannot regain a dropped one);
#   - the drop is real, not a number in /proc: a root-owned ssad cannot read
#     a trust store that only another user may read (no CAP_DAC_OVERRIDE),
#     where this test, as root, can (positive control);
#   - it still serves: a client connects through it, and a root caller binds
#     a port below 1024 (CAP_NET_BIND_SERVICE kept).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/users.sh
. "$(dirname "$0")/../users.sh"
need_users
[ -r /usr/include/linux/capability.h ] || skip_all "linux/capability.h: capability numbers unknown"
plan 16
pki

bit() { sed -n "s/^#define $1[[:space:]]*\([0-9]*\)[[:space:]]*\$/\1/p" /usr/include/linux/capability.h; }
capfield() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
UNIT=$TOP/contrib/systemd/ssad.service
UNIT_CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
BSET=-all
MASK=0
for c in $UNIT_CAPS; do
	BSET+=",+$(tr '[:upper:]' '[:lower:]' <<<"${c#CAP_}")"
	MASK=$((MASK | (1 << $(bit "$c"))))
done
PTRACE=$((1 << $(bit CAP_SYS_PTRACE)))
hex() { printf '%016x' "$1"; }

SRV=$(free_port); start_s_server "$SRV" -cert "$PKI/server.crt" -key "$PKI/server.key" \
	-cert_chain "$PKI/int.crt" -www

# ---- by hand, as root with every capability --------------------------------
mine=$(capfield $$ CapEff)
[ $((0x$mine & (1 << $(bit CAP_DAC_OVERRIDE)))) != 0 ]
ok $? "control: this test runs with CAP_DAC_OVERRIDE (CapEff $mine), so ssad could have kept more"
start_ssad "log-level = info" || { fail "ssad starts"; done_testing; }
want=$(hex $((MASK | PTRACE)))
got="$(capfield "$SSAD_PID" CapEff) $(capfield "$SSAD_PID" CapPrm)"
is "$got" "$want $want" "by hand: the supervisor's effective and permitted sets are the unit's set plus CAP_SYS_PTRACE"
bnd=$(hex $(((1 << $(bit CAP_SETUID)) | (1 << $(bit CAP_SETGID)))))
is "$(capfield "$SSAD_PID" CapBnd)" "$bnd" "by hand: its bounding set is CAP_SETUID and CAP_SETGID (what the keeper's exec needs)"
is "$(capfield "$SSAD_PID" CapInh) $(capfield "$SSAD_PID" CapAmb)" "$(hex 0) $(hex 0)" \
	"by hand: no inheritable or ambient capabilities"
wuid=$(id -u ssad 2>/dev/null || echo 65533)
is "$(capfield "$SSAD_WPID" Uid) $(capfield "$SSAD_WPID" Gid | awk '{print $1}') $(capfield "$SSAD_WPID" NoNewPrivs)" \
	"$wuid	$wuid	$wuid	$wuid $(id -g ssad 2>/dev/null || echo 65533) 1" \
	"the worker runs as the user ssad ($wuid: real, effective, saved, filesystem), with no_new_privs"
bad=$(grep -L "^CapEff:[[:space:]]*$(hex 0)\$" /proc/"$SSAD_WPID"/task/*/status; grep -L "^CapPrm:[[:space:]]*$(hex 0)\$" /proc/"$SSAD_WPID"/task/*/status)
is "$bad" "" "none of the worker's $(ls /proc/"$SSAD_WPID"/task | wc -l) threads holds a capability (effective or permitted; they are per thread)"
like "$(grep 'capabilities kept' "$WORK/ssad.log")" \
	"capabilities kept: CAP_NET_BIND_SERVICE CAP_NET_ADMIN CAP_SETUID CAP_SETGID CAP_SYS_ADMIN CAP_SYS_PTRACE" \
	"ssad logs the capabilities it kept"
keeper=$(pgrep -n -P "$SSAD_PID" -f -- --key-keeper)
if [ -n "$keeper" ]; then
	is "$(capfield "$keeper" CapEff) $(capfield "$keeper" CapPrm) $(capfield "$keeper" CapBnd)" \
		"$(hex 0) $(hex 0) $bnd" "the key keeper holds none and inherits the supervisor's bounding set"
else
	fail "the key keeper is running"
fi
out=$(ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" 2>&1)
like "$out" "OK version=" "a client connects through it"
low=$(python3 -c '
import random, socket
for _ in range(50):
    p = random.randint(600, 1000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); s.close(); print(p); break
    except OSError:
        pass')
out=$(ssa python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
s.setsockopt(205, 88, b'$PKI/server-chain.crt\\0')
s.setsockopt(205, 89, b'$PKI/server.key\\0')
try:
    s.bind(('127.0.0.1', $low)); s.listen(8); print('bound')
except OSError as e:
    print('ERR', e.errno)
" 2>&1)
is "$out" "bound" "a root caller binds port $low (below 1024) through ssad: CAP_NET_BIND_SERVICE kept"
stop_ssad
ok $? "ssad exits cleanly"

# ---- the drop is real ------------------------------------------------------
ALICE_ONLY=$(user_dir alice-only)
cp "$PKI/trust.pem" "$ALICE_ONLY/trust.pem"
chown ssa-alice "$ALICE_ONLY/trust.pem" && chmod 0600 "$ALICE_ONLY/trust.pem"
head -c 10 "$ALICE_ONLY/trust.pem" >/dev/null
ok $? "control: root with CAP_DAC_OVERRIDE reads alice's 0600 trust store"
cat >"$WORK/alice-trust.conf" <<CONF
[global]
trust-store = $ALICE_ONLY/trust.pem
CONF
timeout 10 "$B/sbin/ssad" --config "$WORK/alice-trust.conf" --socket "$WORK/unread.sock" \
	>"$WORK/unread.log" 2>&1
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ]
ok $? "ssad (root, without CAP_DAC_OVERRIDE) refuses to start on a trust store only alice may read (exit $rc)"
like "$(cat "$WORK/unread.log")" "trust|Permission denied" "and says why"

# ---- under the unit's bounding set ------------------------------------------
export SSA_SOCKET=$WORK/unit.sock
setpriv --bounding-set="$BSET" --inh-caps=-all -- \
	"$B/sbin/ssad" --config "$WORK/ssa.conf" --socket "$SSA_SOCKET" 2>>"$WORK/unit.log" &
SSAD_PID=$!
PIDS+=("$SSAD_PID")
for _ in $(seq 50); do [ -S "$SSA_SOCKET" ] && break; sleep 0.1; done
SSAD_WPID=$(ssad_worker_pid) || diag "ssad's supervisor $SSAD_PID has no worker"
want=$(hex "$MASK")
is "$(capfield "$SSAD_PID" CapEff) $(capfield "$SSAD_PID" CapBnd) $(capfield "$SSAD_WPID" CapEff)" "$want $want $(hex 0)" \
	"under the unit's bounding set: the supervisor holds exactly the unit's set ($UNIT_CAPS), the worker none"
out=$(ssa "$B/tests/policy_probe" -n localhost 127.0.0.1 "$SRV" 2>&1)
like "$out" "OK version=" "and it serves"
stop_ssad
done_testing
