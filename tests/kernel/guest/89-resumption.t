#!/usr/bin/env bash
# Client resumption through the kernel front end: its clients use ssad's
# session cache as libssa's do (one client set-up, src/ssad/engine/tls_setup.c).
# A kernel-TLS socket leaves the server's TLS 1.3 tickets to the kernel, so
# only TLS 1.2 sessions, whose ticket comes during the handshake, are stored;
# a resumed session runs on kernel TLS like any other.
. "$(dirname "$0")/lib.sh"
plan 6
kstart_ssad "session-tickets = yes" || diag "ssad did not start"
serve_bg p12 server -tls1_2
serve_bg p13 server
wait_port 127.0.0.1 "$p12" || diag "s_server (TLS 1.2) did not start"
wait_port 127.0.0.1 "$p13" || diag "s_server (TLS 1.3) did not start"

out=$("$KC" -R -n localhost -g / 127.0.0.1 "$p12" 2>&1)
like "$out" $'^OK version=0x0303 [^\n]*\nRESUMED 0\nREPLY HTTP/1.0 200 ok' "TLS 1.2: the first connection is a full handshake"
tx0=$(tls_stat TlsTxSw) rx0=$(tls_stat TlsRxSw)
out=$("$KC" -R -n localhost -g / 127.0.0.1 "$p12" 2>&1)
like "$out" $'^OK version=0x0303 [^\n]*\nRESUMED 1\n' "TLS 1.2: the second resumes the session ssad kept"
like "$out" $'\nREPLY HTTP/1.0 200 ok' "... and its data flows"
tx1=$(tls_stat TlsTxSw) rx1=$(tls_stat TlsRxSw)
ok $([ "$tx1" -gt "$tx0" ] && [ "$rx1" -gt "$rx0" ] && echo 0 || echo 1) \
	"... over kernel TLS both ways (TlsTxSw $tx0->$tx1, TlsRxSw $rx0->$rx1)"
out=$("$KC" -R -n 127.0.0.1 -g / 127.0.0.1 "$p12" 2>&1)
like "$out" $'\nRESUMED 0\n' "another verified name does not take localhost's session"

"$KC" -R -n localhost -g / 127.0.0.1 "$p13" >/dev/null 2>&1
out=$("$KC" -R -n localhost -g / 127.0.0.1 "$p13" 2>&1)
like "$out" $'^OK version=0x0304 [^\n]*\nRESUMED 0\nREPLY HTTP/1.0 200 ok' "TLS 1.3: no ticket reaches ssad (the kernel reads past the handshake): full handshakes"
done_testing
