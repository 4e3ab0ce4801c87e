#!/usr/bin/env bash
# The differential conformance suite (tests/progs/conform, issue 4 item 8)
# in kernel mode: the same scenarios over plain TCP and over native
# IPPROTO_TLS sockets of ssa.ko (no preload), compared step by step.
# The scenarios chosen are those where the userspace front end differs
# from TCP (tests/t/60-conformance.t, KNOWN) and the readiness basics; the
# kernel front end is meant to show none of those differences; msg_peek
# also proves that peeking never spins on a session ticket. The full list
# would take too long under TCG.
. "$(dirname "$0")/lib.sh"

SCEN=(connect_blocking connect_refused_blocking nb_connect_poll nb_connect_epoll_et
	nb_refused_poll epoll_et_no_spurious dup_reset_read shut_wr_halfclose shut_rd
	peer_close_read_eof peer_reset_read peer_reset_so_error tcp_info msg_peek
	epoll_lt_data accept4_flags
	server_client_reset)
module_loaded || skip_all "ssa.ko is not loaded"
# The programs of the plain userspace build (the guest's $B holds only ssad).
CF=$TOP/build/tests
[ -x "$CF/conform" ] && [ -x "$CF/conform_peer" ] || skip_all "build/tests/conform not built"

# Differences the kernel front end still has (reported as TODO).
declare -A KNOWN=(
	[connect_refused_blocking]="a socket whose connect failed cannot connect again (ECONNABORTED)"
	[nb_connect_poll]="right after the handshake the peer's session tickets can make the socket readable (POLLIN) although no data is there"
	[nb_connect_epoll_et]="the same, through EPOLLET: a second edge"
	[epoll_et_no_spurious]="EPOLLET: records that carry no data (session tickets) wake epoll"
	[epoll_lt_data]="the same: an idle socket can show EPOLLIN for a session ticket not yet read"
	[dup_reset_read]="after a reset: no POLLERR/POLLHUP, getpeername still answers"
	[shut_rd]="reading after SHUT_RD gives ECONNRESET instead of 0"
	[peer_reset_read]="peer reset: no POLLERR/POLLHUP, ECONNRESET repeats, send still succeeds"
	[peer_reset_so_error]="peer reset: no POLLERR, SO_ERROR 0"
	[server_client_reset]="the same on an accepted socket"
)

plan $((${#SCEN[@]} + 1))
kstart_ssad || diag "ssad did not start"

pport='' tport=''
start_conform_peer "$CF" plain pport || diag "plain peer did not start"
start_conform_peer "$CF" tls tport -c "$PKI/server-chain.crt" -k "$PKI/server.key" || diag "TLS peer did not start"

list=$(IFS=,; echo "${SCEN[*]}")
t0=$SECONDS
timeout 15 "$CF/conform" -p 0 -P "$pport" -s "$list" >"$WORK/plain.trace" 2>"$WORK/plain.err"
t1=$SECONDS
timeout 40 "$CF/conform" -p 205 -P "$tport" -c "$PKI/server-chain.crt" -k "$PKI/server.key" \
	-s "$list" >"$WORK/tls.trace" 2>"$WORK/tls.err"
diag "plain run $((t1 - t0)) s, kernel TLS run $((SECONDS - t1)) s"
ran=$(grep -c '^S[0-9]* ' "$WORK/plain.trace")
is "$ran" "${#SCEN[@]}" "the plain TCP reference ran every scenario"

# Compared with shell built-ins only: every process costs dearly under TCG.
declare -A PT TT
while IFS= read -r line; do
	k=${line%%:*}; PT[${k#* }]=$line
done <"$WORK/plain.trace"
while IFS= read -r line; do
	k=${line%%:*}; TT[${k#* }]=$line
done <"$WORK/tls.trace"
for name in "${SCEN[@]}"; do
	p=${PT[$name]:-}
	t=${TT[$name]:-}
	if [ -n "$p" ] && [ "$p" = "$t" ]; then
		pass "$name: identical to TCP"
		[ -n "${KNOWN[$name]:-}" ] && diag "$name: known difference no longer seen"
		continue
	fi
	_n=$((_n + 1))
	if [ -n "${KNOWN[$name]:-}" ]; then
		echo "not ok $_n - $name # TODO known difference: ${KNOWN[$name]}"
	else
		echo "not ok $_n - $name: differs from TCP"
		_failed=$((_failed + 1))
	fi
	echo "#   plain: ${p#*: }"
	echo "#   tls:   ${t#*: }"
done
done_testing
