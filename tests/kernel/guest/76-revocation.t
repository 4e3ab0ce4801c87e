#!/usr/bin/env bash
# The administrator's revocation policy reaches kernel-mode sockets: ssad
# builds their sessions with the same contexts as for the userspace front end
# (crl-file, hard-fail; stapled OCSP checked when present).
. "$(dirname "$0")/lib.sh"
plan 3
pki
kstart_ssad "crl-file = $PKI/crls.pem" || diag "ssad did not start"
srv() { # srv NAME [s_server args]: sets $port
	local name=$1; shift
	port=$(free_port)
	start_s_server "$port" -cert "$PKI/$name.crt" -key "$PKI/$name.key" -cert_chain "$PKI/int.crt" -www "$@"
}
srv server
like "$("$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)" $'^OK .*\nREPLY HTTP/1.0 200 ok' \
	"crl-file: a good certificate connects"
srv revoked
like "$("$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)" '^ERR EPROTO .*reason=certificate revoked' \
	"crl-file: a revoked certificate is refused: EPROTO, TLS_ERROR says why"
stop_ssad
kstart_ssad || diag "ssad did not restart"
srv revoked -status_file "$PKI/revoked.ocsp"
like "$("$KC" -n localhost -g / 127.0.0.1 "$port" 2>&1)" '^ERR EPROTO .*reason=certificate revoked \(stapled OCSP' \
	"a stapled 'revoked' OCSP response ends the handshake"
stop_ssad
done_testing
