#!/usr/bin/env bash
# Under systemd ($INVOCATION_ID), ssad logs to the journal's native socket
# with structured fields: a failed handshake on an SSA server arrives as an
# entry with PROGRAM=, PROGRAM_PID=, UID=, PROFILE=, PEER=, SNI= and
# REASON= (tests/py/fake_journal.py stands in for journald). Values from
# outside stay one line; without a journal socket ssad logs to stderr.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
command -v openssl >/dev/null || skip_all "no openssl"
plan 13

pki
JSOCK=$WORK/journal.sock
JOUT=$WORK/journal.jsonl
python3 "$TOP/tests/py/fake_journal.py" "$JSOCK" "$JOUT" &
PIDS+=("$!")
for _ in $(seq 50); do [ -S "$JSOCK" ] && break; sleep 0.1; done

INVOCATION_ID=0123456789abcdef0123456789abcdef SSA_JOURNAL_SOCKET=$JSOCK start_ssad || exit 1

LD_PRELOAD=$(ssa_preload) ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
	"$B/tests/tls_server" -c "$PKI/server-chain.crt" -k "$PKI/server.key" -p 0 info \
	>"$WORK/srv.out" 2>"$WORK/srv.log" </dev/null &
SRV_PID=$!
PIDS+=("$SRV_PID")
wait_ready "$WORK/srv.out" port || { fail "tls_server started"; done_testing; }

# The client does not trust the server's CA: it aborts with an alert, and
# the server's side of the handshake fails after the SNI was read.
timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername journal.example \
	-CAfile "$PKI/untrusted-ca.crt" -verify_return_error </dev/null >/dev/null 2>&1
for _ in $(seq 50); do grep -q '"REASON"' "$JOUT" 2>/dev/null && break; sleep 0.1; done

entry=$(grep '"REASON"' "$JOUT" | head -n 1)
ok $([ -n "$entry" ]; echo $?) "a failed handshake reached the journal socket with REASON="
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], "<none>"))' "$entry" "$1"; }
like "$(field PROGRAM)" "tls_server$" "PROGRAM= is the server's executable"
is "$(field PROGRAM_PID)" "$SRV_PID" "PROGRAM_PID= is the server's pid"
is "$(field UID)" "$(id -u)" "UID= is the server's user"
like "$(field PEER)" "^127\.0\.0\.1:[0-9]+$" "PEER= is the client's address and port"
is "$(field SNI)" "journal.example" "SNI= is the name the client asked for"
like "$(field REASON)" "." "REASON= says why: $(field REASON)"
is "$(field SYSLOG_IDENTIFIER)" "ssad" "SYSLOG_IDENTIFIER=ssad"
is "$(field PRIORITY)" "6" "PRIORITY=6 (info)"
# A name with a terminal escape: escaped in the field, as in log lines.
timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername $'evil\e[31m.example' \
	-CAfile "$PKI/untrusted-ca.crt" -verify_return_error </dev/null >/dev/null 2>&1
for _ in $(seq 50); do grep -q 'evil' "$JOUT" 2>/dev/null && break; sleep 0.1; done
entry=$(grep '"SNI": "evil' "$JOUT" | head -n 1)
is "$(field SNI)" 'evil\x1b[31m.example' "an SNI from outside is escaped (no control bytes reach the journal)"
ok $(grep -c _MALFORMED "$JOUT" | grep -qx 0; echo $?) "every entry is well-formed native protocol"

# Without a journal: stderr, as before.
stop_ssad
ok $? "ssad ends cleanly (no sanitizer report)"
mv "$WORK/ssad.log" "$WORK/ssad-journal.log"
INVOCATION_ID=x SSA_JOURNAL_SOCKET=$WORK/absent.sock start_ssad || exit 1
stop_ssad
ok $(grep -q 'listening on' "$WORK/ssad.log"; echo $?) "no journal socket: ssad logs to stderr"
done_testing
