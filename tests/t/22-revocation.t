#!/usr/bin/env bash
# Revocation: CRLs from the policy's crl-file (hard-fail: no CRL, no
# connection) and OCSP responses stapled by the server (checked when
# present), for SSA clients against openssl s_server; the revocation
# options 102-106 are tighten-only.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

plan 22
pki

# server NAME [s_server args...]: s_server with leaf NAME and the
# intermediate; its port in $port
server() {
	local name=$1
	shift
	port=$(free_port)
	start_s_server "$port" -cert "$PKI/$name.crt" -key "$PKI/$name.key" \
		-cert_chain "$PKI/int.crt" -www "$@"
}
probe() { ssa "$B/tests/policy_probe" -n localhost "$@" 2>&1; }

server server
p_good=$port
server revoked
p_revoked=$port
server revoked -status_file "$PKI/revoked.ocsp"
p_revoked_stapled=$port
server server -status_file "$PKI/server.ocsp"
p_good_stapled=$port
# a stapled "good" response about another certificate: no information
server revoked -status_file "$PKI/server.ocsp"
p_revoked_other=$port
# a response that does not verify: signed by a certificate with no authority
server server -status_file "$PKI/badsigner.ocsp"
p_badsig=$port

# ---- policy without CRLs (default: stapled checks on) -------------------------
start_ssad || { fail "ssad starts"; done_testing; }
like "$(probe 127.0.0.1 "$p_good")" '^OK ' "no crl-file: a good certificate connects"
like "$(probe 127.0.0.1 "$p_revoked")" '^OK ' \
	"no crl-file, nothing stapled: a revoked certificate is not detected (nothing to check)"
like "$(probe 127.0.0.1 "$p_revoked_stapled")" \
	'^ERR EPROTO .*reason=certificate revoked \(stapled OCSP response\), reason: keyCompromise' \
	"a stapled 'revoked' response ends the handshake: EPROTO, TLS_ERROR says why"
like "$(probe 127.0.0.1 "$p_good_stapled")" '^OK ' "a stapled 'good' response connects"
like "$(probe 127.0.0.1 "$p_revoked_other")" '^OK ' \
	"a stapled response about another certificate gives no information: connects"
like "$(probe 127.0.0.1 "$p_badsig")" 'ERR EPROTO .*reason=stapled OCSP response does not verify' \
	"a stapled response signed by an unauthorised certificate is refused"
out=$(probe -g rev -g crl -g ocsp_stapled -g ocsp -g cached_rev 127.0.0.1 "$p_good")
like "$(tr '\n' ' ' <<<"$out")" 'GET rev=0x0001 GET crl=0x0000 GET ocsp_stapled=0x0001 GET ocsp=0x0000 GET cached_rev=0x0001' \
	"options read: stapled checks on, CRL checks off, no online OCSP"
out=$(probe -o crl=1 127.0.0.1 "$p_good")
like "$out" 'SET crl=1 OK' "an application may turn CRL checks on (tighten)"
like "$out" 'ERR EPROTO .*reason=no CRL for the certificate.s issuer' \
	"... and without a crl-file every certificate is then refused (hard-fail)"
like "$(probe -o ocsp_stapled=0 127.0.0.1 "$p_good")" \
	'SET ocsp_stapled=0 ERR EPERM reason=revocation checks are required by the policy' \
	"turning stapled checks off against the policy: EPERM with a reason"
like "$(probe -o ocsp=1 127.0.0.1 "$p_good")" 'SET ocsp=1 ERR EOPNOTSUPP reason=online OCSP is not offered' \
	"online OCSP: EOPNOTSUPP with a reason"
like "$(probe -o cached_rev=0 127.0.0.1 "$p_good")" 'SET cached_rev=0 ERR EPERM' \
	"cached-only revocation checks cannot be switched off"
stop_ssad

# ---- policy with the CAs' CRLs ----------------------------------------------------
start_ssad "crl-file = $PKI/crls.pem" || { fail "ssad starts with crl-file"; done_testing; }
like "$(probe 127.0.0.1 "$p_good")" '^OK ' "crl-file: a good certificate connects"
like "$(probe 127.0.0.1 "$p_revoked")" '^ERR EPROTO .*reason=certificate revoked by its issuer.s CRL' \
	"crl-file: a revoked certificate is refused: EPROTO with the reason"
like "$(probe -o crl=0 127.0.0.1 "$p_revoked")" 'SET crl=0 ERR EPERM reason=revocation checks are required' \
	"turning CRL checks off against the policy: EPERM"
like "$(probe -o rev=0 127.0.0.1 "$p_good")" 'SET rev=0 ERR EPERM' "TLS_REVOCATION_CHECKS=0: EPERM"
like "$(probe -g crl 127.0.0.1 "$p_good")" 'GET crl=0x0001' "TLS_CRL_CHECKS reads 1"
grep -q "connect failed: .*certificate revoked by its issuer.s CRL" "$WORK/ssad.log"
ok $? "the log names the reason"
stop_ssad

# ---- policy that switches checks off; a profile's own crl-file ------------------
start_ssad "crl-file = $PKI/crls.pem" "crl-checks = no" "ocsp-stapled-checks = no" ||
	{ fail "ssad starts with checks off"; done_testing; }
like "$(probe 127.0.0.1 "$p_revoked_stapled")" '^OK ' \
	"checks off by the administrator: the revoked server connects (stapled response ignored)"
out=$(probe -o rev=1 127.0.0.1 "$p_revoked_stapled")
like "$out" 'ERR EPROTO .*revoked' "TLS_REVOCATION_CHECKS=1 turns checking on for the socket"
like "$(probe -o crl=1 127.0.0.1 "$p_revoked")" 'ERR EPROTO .*certificate revoked by its issuer.s CRL' \
	"TLS_CRL_CHECKS=1 uses the policy's CRLs"
stop_ssad

# ---- a bad crl-file is a configuration error ---------------------------------------
printf '[global]\ntrust-store = %s\ncrl-file = %s\n' "$PKI/trust.pem" "$PKI/server.crt" >"$WORK/bad.conf"
out=$("$B/sbin/ssad" -t -c "$WORK/bad.conf" 2>&1)
like "$out" "crl-file $PKI/server.crt: no usable CRL" "ssad -t refuses a crl-file without CRLs"
done_testing
