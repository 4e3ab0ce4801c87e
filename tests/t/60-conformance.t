#!/usr/bin/env bash
# Differential POSIX conformance suite (issue 4, item 8).
#
# tests/progs/conform runs the same list of scenarios twice:
#   conform -p 0     plain TCP sockets    against conform_peer -m plain
#   conform -p 205   IPPROTO_TLS (libssa) against conform_peer -m tls
# and prints one canonical trace line per scenario (every return value,
# errno, poll/select/epoll readiness, byte count). Applications must not be
# able to tell a TLS socket from a TCP socket except by the TLS they get, so
# each scenario passes only if its two traces are identical. One TAP line
# per scenario; on a difference the differing steps follow as diagnostics.
#
# Deliberate differences (normalised by conform, so they pass):
#   SO_PROTOCOL     6 for TCP, 205 for IPPROTO_TLS: printed as "proto" when
#                   it is the protocol of the mode (design brief §4).
#   established=1   "connected"; in TLS mode it also requires the handshake
#                   to be done (TLS_CHOSEN_VERSION readable) - the property
#                   the TLS socket adds, so it is checked without a difference.
#   The peer's "how did the connection end" is "eof" for a TCP FIN and for a
#   TLS close_notify (a TLS end without close_notify is "truncated").
#
# Known differences (not fixed yet; reported as TAP "# TODO" until they are):
#   unconnected_ops       unconnected TLS socket is a live local stream: poll OUT without HUP, read EAGAIN, send/shutdown succeed
#   connect_refused_blocking  connect again after ECONNREFUSED fails with ECONNABORTED (TCP lets the socket connect again)
#   nb_connect_*          non-blocking connect runs the whole handshake before returning: 0, never EINPROGRESS;
#                         a second connect() after completion says EISCONN (Linux TCP: 0 the first time)
#   nb_refused_*          refused non-blocking connect fails at once; no POLLERR/POLLHUP, SO_ERROR 0, later send succeeds
#   epoll_et_no_spurious  EPOLLET reports a new EPOLLOUT edge every time ssad drains the local stream
#   connect_1000_epoll    (same cause as nb_connect_*): 1000 connects complete inside connect()
#   dup_reset_read        after a reset: no POLLERR/POLLHUP and getpeername still answers (TCP: ENOTCONN)
#   scm_rights            SO_PROTOCOL on a descriptor received with SCM_RIGHTS is 0 (no discovery for SOL_SOCKET getsockopt)
#   scm_rights_reset      both of the above
#   exec_inherit          SO_PROTOCOL on a descriptor inherited over exec is 0
#   exec_reset            both of the above
#   linger0_close_resets  close with SO_LINGER {1,0} does not reset the network connection (the peer sees close_notify)
#   shut_rd               data arriving after SHUT_RD is discarded (Linux TCP still delivers it)
#   shutdown_misc         shutdown on an unconnected or fully closed TLS socket returns 0 (TCP: ENOTCONN)
#   peer_reset_*          peer reset: no POLLERR/POLLHUP, SO_ERROR 0, ECONNRESET repeats, getpeername and send still succeed
#   server_client_reset   the same on an accepted socket
#   epipe_msg_nosignal    writes after the peer's close keep succeeding: no EPIPE (data silently dropped)
#   sigpipe               the same with write(): no EPIPE and no SIGPIPE
#   options_connected     SO_PEERCRED shows ssad's pid and uid (TCP has no peer credentials)
#   tcp_nodelay           IPPROTO_TCP options fail with EOPNOTSUPP: they reach the local AF_UNIX stream
#   keepalive             TCP_KEEPIDLE/KEEPINTVL/KEEPCNT/USER_TIMEOUT: EOPNOTSUPP (same cause)
#   tcp_info              TCP_INFO and TCP_MAXSEG: EOPNOTSUPP (same cause)
#   stdio_reset           stdio (fgets) sees a reset as a clean EOF: truncation undetected (glibc's internal read is not interposed)
#   nonblock_write_eagain after EAGAIN the socket turns writable again although the peer reads nothing (ssad's extra buffer)
#   listen_backlog        a burst of clients: sometimes one more than backlog + 1 completes
#                         (handshakes run outside the kernel's accept queue)
#   reuseaddr             bind succeeds without SO_REUSEADDR while the port has TIME_WAIT connections
#   reuseport             SO_REUSEPORT fails with EOPNOTSUPP; a second listener gets EADDRINUSE
#   accept_dualstack_v6   IPV6_V6ONLY set/get fail with EOPNOTSUPP
#   sendmsg_scm_rights    Linux 6.16 and later: sendmsg with SCM_RIGHTS fails with EPERM (TCP ignores
#                         the descriptors): ssad's stream end refuses them (SO_PASSRIGHTS)
#
# Every scenario runs in its own process group with a deadline (conform
# prints TIMEOUT or CRASH:SIG in its trace), so a hang fails one scenario.
. "$(dirname "$0")/../lib.sh"

declare -A KNOWN=(
	[unconnected_ops]="unconnected TLS socket: poll OUT without HUP, read EAGAIN, send/shutdown succeed (it is a connected local stream until connect)"
	[connect_refused_blocking]="connect after ECONNREFUSED fails with ECONNABORTED (a failed TLS socket is released; TCP allows another connect)"
	[nb_connect_epoll_et]="EPOLLET: sometimes a second EPOLLOUT edge after the connect (ssad draining the local stream, as in epoll_et_no_spurious)"
	[epoll_et_no_spurious]="EPOLLET: an EPOLLOUT edge whenever ssad drains the local stream (unix sockets wake writers on every drain)"
	[dup_reset_read]="after a reset: no POLLERR (ssad cannot set the local end's error), getpeername still answers from the cache"
	[scm_rights_reset]="a passed descriptor of an already released socket: SO_PROTOCOL 0, no POLLERR"
	[exec_reset]="a descriptor of an already released socket inherited over exec: SO_PROTOCOL 0, no POLLERR"
	[shut_rd]="data arriving after SHUT_RD is discarded (TCP delivers it)"
	[shutdown_misc]="shutdown on an unconnected or fully closed socket returns 0, not ENOTCONN"
	[peer_reset_read]="reset: no POLLERR; getpeername still answers from the cache"
	[peer_reset_recv]="reset: no POLLERR"
	[peer_reset_so_error]="reset: no POLLERR"
	[stdio_reset]="stdio reads through glibc's internal read: a reset looks like a clean EOF"
	[nonblock_write_eagain]="writable again after EAGAIN while the peer reads nothing (ssad buffers one record per direction)"
	[reuseaddr]="bind without SO_REUSEADDR succeeds over TIME_WAIT (the TIME_WAIT sockets are ssad's)"
	[server_client_reset]="reset on an accepted socket: no POLLERR"
	[listen_backlog]="a burst of clients: sometimes backlog + 2 complete (ssad takes connections off the kernel's queue to run their handshakes, so a late SYN finds room)"
	[sendmsg_scm_rights]="SCM_RIGHTS: EPERM on Linux 6.16 and later, where ssad's end of the stream refuses descriptors (TCP sends the bytes and drops the descriptors; so does SSA on older kernels)"
)

# A race, not a standing difference: when ssad releases a socket whose
# connect failed, the kernel wakes the application (POLLERR/POLLHUP, from
# the close of ssad's end) before it frees the bytes that hold the local
# stream unwritable, so the first readiness report may lack POLLOUT, which
# follows at once (with EPOLLET as a second edge). Select is unaffected
# (POLLERR counts as writable). Such a trace is a TODO only when undoing
# exactly that (a sed program over the TLS trace) gives the TCP trace;
# any other difference fails.
declare -A RACY=(
	[nb_refused_poll]='s#^\(poll=1 revents=IN\)/ERR/HUP/RDHUP$#\1/OUT/ERR/HUP/RDHUP#'
	[nb_refused_epoll_lt]='s#^\(epoll\(_again\)\?=1 events=IN\)/ERR/HUP/RDHUP$#\1/OUT/ERR/HUP/RDHUP#'
	[nb_refused_epoll_et]='1,/^SO_ERROR=/{s#^\(epoll=1 events=IN\)/ERR/HUP/RDHUP$#\1/OUT/ERR/HUP/RDHUP#;s#^epoll_again=1 events=IN/OUT/ERR/HUP/RDHUP$#epoll_again=0#};s#^epoll_after_SO_ERROR=1 events=IN/OUT/HUP/RDHUP$#epoll_after_SO_ERROR=0#'
)
RACY_WHY="first readiness report without POLLOUT (released socket: the kernel wakes before it frees the local stream's queued bytes)"

[ -x "$B/tests/conform" ] && [ -x "$B/tests/conform_peer" ] ||
	skip_all "$B/tests/conform not built"
mapfile -t SCEN < <(ASAN_OPTIONS=detect_leaks=0 "$B/tests/conform" -l)
[ ${#SCEN[@]} -ge 40 ] || { echo "1..1"; echo "not ok 1 - conform lists ${#SCEN[@]} scenarios"; exit 1; }
plan $((${#SCEN[@]} + 3))

# 1000 handshakes at once (S19) under ASan on a busy 2-core machine can take
# longer than the suite's usual 2 s handshake timeout; no scenario here is
# about that timeout.
start_ssad "handshake-timeout = 10s" || exit 1

pport='' tport=''
start_conform_peer "$B/tests" plain pport || { echo "# plain peer did not start"; exit 1; }
start_conform_peer "$B/tests" tls tport -c "$PKI/server-chain.crt" -k "$PKI/server.key" ||
	{ echo "# TLS peer did not start"; exit 1; }

t0=$(date +%s%N)
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} timeout 150 "$B/tests/conform" -p 0 -P "$pport" \
	>"$WORK/plain.trace" 2>"$WORK/plain.err"
t1=$(date +%s%N)
ssa timeout 150 "$B/tests/conform" -p 205 -P "$tport" -c "$PKI/server-chain.crt" -k "$PKI/server.key" \
	>"$WORK/tls.trace" 2>"$WORK/tls.err"
t2=$(date +%s%N)
diag "plain run $(((t1 - t0) / 1000000)) ms, TLS run $(((t2 - t1) / 1000000)) ms"

# The reference itself must be sound: every scenario ran to its end, and a
# few anchors hold (a broken environment must not make both traces agree).
bad=$(grep -E '\| (TIMEOUT|CRASH:|exit=)' "$WORK/plain.trace")
anchors=0
grep -q '^S[0-9]* connect_blocking: connect=0 | established=1 .*read=5 "hello"' "$WORK/plain.trace" || anchors=1
grep -q '^S[0-9]* nb_connect_poll: connect=-1 EINPROGRESS | poll=1 revents=OUT ' "$WORK/plain.trace" || anchors=1
grep -q '^S[0-9]* peer_reset_read: .* read=-1 ECONNRESET ' "$WORK/plain.trace" || anchors=1
grep -q '^S[0-9]* write_32mib: connect=0 | write=33554432 .* match=1' "$WORK/plain.trace" || anchors=1
ok $([ -z "$bad" ] && [ "$anchors" -eq 0 ] && echo 0 || echo 1) "plain TCP reference run is complete and sane"
[ -z "$bad" ] || diag "$bad"
[ "$anchors" -eq 0 ] || sed 's/^/# plain: /' "$WORK/plain.trace" | head -n 20

steps() { # one step per line, without the "Snn name:" prefix
	sed -e 's/^[^:]*: *//' -e 's/ | /\n/g' <<<"$1"
}

for entry in "${SCEN[@]}"; do
	id=${entry%% *}
	name=${entry#* }
	p=$(grep -m1 "^$id $name:" "$WORK/plain.trace")
	t=$(grep -m1 "^$id $name:" "$WORK/tls.trace")
	if [ -n "$p" ] && [ "$p" = "$t" ]; then
		pass "$id $name"
		[ -n "${KNOWN[$name]:-}" ] && diag "$name: known difference no longer seen; remove it from KNOWN"
		continue
	fi
	_n=$((_n + 1))
	if [ -z "$p" ] || [ -z "$t" ]; then
		echo "not ok $_n - $id $name"
		_failed=$((_failed + 1))
		diag "missing trace: plain='${p:0:60}' tls='${t:0:60}'"
		continue
	fi
	if [ -n "${RACY[$name]:-}" ] &&
		[ "$(steps "$p")" = "$(steps "$t" | sed "${RACY[$name]}")" ]; then
		echo "not ok $_n - $id $name # TODO known race: $RACY_WHY"
	elif [ -n "${KNOWN[$name]:-}" ]; then
		echo "not ok $_n - $id $name # TODO known difference: ${KNOWN[$name]}"
	else
		echo "not ok $_n - $id $name"
		_failed=$((_failed + 1))
	fi
	diff <(steps "$p") <(steps "$t") | sed -n -e 's/^< /#   plain: /p' -e 's/^> /#   tls:   /p'
done

# Both runs stay within the suite's time budget (each scenario has its own
# deadline; this catches a general slow-down).
ms=$(((t2 - t0) / 1000000))
ok $([ "$ms" -lt 60000 ] && echo 0 || echo 1) "both runs took ${ms} ms (< 60 s)"
{ sed -n 's/^# time /plain /p' "$WORK/plain.err"; sed -n 's/^# time /tls /p' "$WORK/tls.err"; } |
	sort -k4 -n -r | head -n 3 | sed 's/^/# slowest: /'

stop_ssad
ok $? "ssad exits cleanly"
done_testing
