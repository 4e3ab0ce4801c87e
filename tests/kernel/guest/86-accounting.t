#!/usr/bin/env bash
# Issue 17.6 and 17.7: what a socket holds is charged to its creator and
# given back.
#   - network namespaces: unshare -n plus one IPPROTO_TLS socket, 24 times;
#     the namespaces are freed (net_namespace slab objects, slub_debug keeps
#     the cache unmerged)
#   - memory cgroup: options kept by the module are charged to the caller's
#     cgroup (memory.current), and given back at close
#   - accepted connections carry the listener's creator's uid (ss -e)
. "$(dirname "$0")/lib.sh"
plan 6
KH=$KP/khostile
pki
kstart_ssad || diag "ssad did not start"
kernel_log_mark

# ---- namespaces ----
ns0=$(slab_active net_namespace)
for i in $(seq 24); do unshare -n "$KH" sock >/dev/null 2>&1; done
for i in $(seq 60); do
	[ "$(slab_active net_namespace)" -le $((ns0 + 2)) ] && break
	sleep 0.25
done
ns1=$(slab_active net_namespace)
diag "net_namespace objects: $ns0 before, $ns1 after 24 x (unshare -n + socket)"
# The cache must be there to be counted (init_net is static: with no other
# namespace alive, as when this suite runs alone, 0 objects is right).
ok $(grep -q '^net_namespace ' /proc/slabinfo && [ "$ns1" -le $((ns0 + 2)) ] && echo 0 || echo 1) \
	"network namespaces are freed after their IPPROTO_TLS sockets ($ns0 -> $ns1)"

# ---- memory cgroup ----
CG=/sys/fs/cgroup
[ -f $CG/cgroup.controllers ] || mount -t cgroup2 none $CG 2>/dev/null
echo +memory >$CG/cgroup.subtree_control 2>/dev/null
mkdir -p $CG/ssa-acct
mkfifo "$WORK/hold.in"
sh -c "echo \$\$ >$CG/ssa-acct/cgroup.procs && exec '$KH' hold 16 32 4096" <"$WORK/hold.in" >"$WORK/hold.out" 2>&1 &
holder=$!
PIDS+=("$holder")
exec 7>"$WORK/hold.in"
wait_line "$WORK/hold.out" '^OPENED' 30
stop_ssad        # no daemon: the options are kept without a check (fast)
m0=$(cat $CG/ssa-acct/memory.current 2>/dev/null)
echo go >&7
wait_line "$WORK/hold.out" '^SET' 60
m1=$(cat $CG/ssa-acct/memory.current 2>/dev/null)
exec 7>&-
wait_pid "$holder" 20
m2=$(cat $CG/ssa-acct/memory.current 2>/dev/null)
diag "$(tr '\n' ' ' <"$WORK/hold.out")memory.current: $m0 before, $m1 with 512 options of 4 KiB, $m2 after close"
ok $([ -n "$m1" ] && [ $((m1 - m0)) -ge 2097152 ] && echo 0 || echo 1) \
	"512 options of 4 KiB are charged to the caller's memory cgroup (+$(( (${m1:-0} - ${m0:-0}) / 1024 )) KiB)"
ok $([ -n "$m2" ] && [ $((m1 - m2)) -ge 2097152 ] && echo 0 || echo 1) \
	"and uncharged at close (-$(( (${m1:-0} - ${m2:-0}) / 1024 )) KiB)"
rmdir $CG/ssa-acct 2>/dev/null

# ---- identity of accepted connections ----
kstart_ssad || diag "ssad did not start"
U=2201
mkdir -p "$WORK/u" && cp "$PKI/server-chain.crt" "$PKI/server.key" "$WORK/u/" && chown -R $U "$WORK/u"
chmod 755 "$WORK"
setpriv --reuid $U --regid $U --clear-groups "$KP/kserver" -c "$WORK/u/server-chain.crt" \
	-k "$WORK/u/server.key" -n 1 >"$WORK/ks.log" 2>&1 &
ks=$!
PIDS+=("$ks")
wait_line "$WORK/ks.log" '^(LISTEN|ERR)' 20
kport=$(sed -n 's/^LISTEN port=//p' "$WORK/ks.log")
(sleep 4; echo hi) | timeout 10 openssl s_client -quiet -CAfile "$PKI/ca.crt" \
	-connect "127.0.0.1:${kport:-1}" >/dev/null 2>&1 &
PIDS+=("$!")
sleep 2.5
sst=$(ss -tnea state established "( sport = :${kport:-1} )" 2>&1)
diag "$(tr '\n' ' ' <<<"$sst")"
like "$sst" "uid:$U " "the accepted TCP connection belongs to the listener's user (ss -e uid:$U)"
wait_pid "$ks" 15
stop_ssad
is "$(cat /sys/module/ssa/parameters/live_conns 2>/dev/null)" 0 "no connection object left"
bad=$(kernel_log_since | kernel_log_clean)
is "$?" 0 "kernel log clean"
done_testing
