#!/usr/bin/env bash
# Client session resumption: ssad's session cache (src/ssad/engine/session_cache.c)
# against openssl s_server, which issues tickets (TLS 1.3) and keeps a
# session cache (TLS 1.2). A session is resumed only by a connection that
# would have verified the same things, and only where the policy allows.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
[ -x $PY ] || skip_all "no /usr/bin/python3"
plan 17
pki
p13=$(free_port)
start_s_server "$p13" -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" -www
p12=$(free_port)
start_s_server "$p12" -tls1_2 -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" -www
get() { ssa $PY "$TOP/tests/py/resume_get.py" "$@" 2>&1; }

# The default policy (session-tickets = no): every handshake is full.
start_ssad || exit 1
get localhost "$p13" >/dev/null
like "$(get localhost "$p13")" '^resumed=0 HTTP/1.0 200 ok' "session-tickets = no: the second connection is a full handshake"
like "$(get localhost "$p13" 1)" 'PermissionError: \[Errno 1\] Operation not permitted' \
	"session-tickets = no: TLS_SESSION_REUSE = 1 is refused"
stop_ssad

start_ssad "session-tickets = yes" || exit 1
like "$(get localhost "$p13")" '^resumed=0 HTTP/1.0 200 ok' "first connection: full handshake"
like "$(get localhost "$p13")" '^resumed=1 HTTP/1.0 200 ok' "second connection resumes (TLS 1.3 ticket)"
like "$(get localhost "$p13")" '^resumed=1 HTTP/1.0 200 ok' "and the third, with the ticket the second got"
like "$(get localhost "$p13" 0)" '^resumed=0 HTTP/1.0 200 ok' "TLS_SESSION_REUSE = 0: full handshake"
# Another name the certificate holds is another key: no resumption.
like "$(get 127.0.0.1 "$p13")" '^resumed=0 HTTP/1.0 200 ok' "another verified name does not use localhost's session"
# A name the certificate does not hold must fail, cached sessions or not.
like "$(get wrong.example "$p13")" '^connect failed 71 certificate does not match' \
	"a wrong name still fails verification (no resumption around it)"
status=$("$B/bin/ssactl" status)
like "$status" 'sessions_cached +[1-9]' "ssactl status counts cached sessions"

# TLS 1.2: the session is stored when the handshake ends (on a worker).
get localhost "$p12" >/dev/null
like "$(get localhost "$p12")" '^resumed=1 HTTP/1.0 200 ok' "TLS 1.2 session resumes"

# A reload empties the cache: sessions were made under the old policy.
get localhost "$p13" >/dev/null
kill -HUP "$SSAD_PID"
for _ in $(seq 20); do grep -q 'reloaded' "$WORK/ssad.log" && break; sleep 0.1; done
like "$("$B/bin/ssactl" status)" 'sessions_cached +0' "a reload drops every cached session"
like "$(get localhost "$p13")" '^resumed=0 HTTP/1.0 200 ok' "after a reload: full handshake"

# TLS_SESSION_TTL bounds how long a session is kept (the cache holds only
# this connection's sessions: the one above was reset by the reload).
kill -HUP "$SSAD_PID"
sleep 0.5
get localhost "$p13" - 1 >/dev/null  # its sessions are kept for 1 s
sleep 2
like "$(get localhost "$p13")" '^resumed=0 HTTP/1.0 200 ok' "a session past its TLS_SESSION_TTL is not offered"

# A server that refuses resumption: the client falls back to a full handshake.
get localhost "$p13" >/dev/null
kill "${PIDS[0]}" 2>/dev/null; wait "${PIDS[0]}" 2>/dev/null
start_s_server "$p13" -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" -www
like "$(get localhost "$p13")" '^resumed=0 HTTP/1.0 200 ok' "a restarted server (unknown ticket): full handshake"
like "$(get localhost "$p13")" '^resumed=1 HTTP/1.0 200 ok' "then resumption again"

# A different server certificate at the same address: the stale ticket is
# refused by the server and the new chain is verified in full.
get localhost "$p13" >/dev/null
kill "${PIDS[-1]}" 2>/dev/null; wait "${PIDS[-1]}" 2>/dev/null
start_s_server "$p13" -cert "$PKI/other.crt" -key "$PKI/other.key" -cert_chain "$PKI/int.crt" -www
like "$(get localhost "$p13")" '^connect failed 71' "a new server certificate without the name fails in full verification"
stop_ssad
ok $? "ssad exits cleanly"
done_testing
