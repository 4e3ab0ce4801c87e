#!/usr/bin/env bash
# libssa's kernel-TLS data path (issue 7 item 6) against openssl s_server
# -www: TLS 1.2 AES-128-GCM and the TLS 1.3 suites TLS_AES_128_GCM_SHA256 and
# TLS_CHACHA20_POLY1305_SHA256 (TLS_AES_256_GCM_SHA384: 80-libssa-ktls.t),
# each receive key installed by ssad; GET, then s_server's close_notify is
# the end of the stream. ssa.ko plays no part.
. "$(dirname "$0")/lib.sh"
plan 4
libssa_ktls_setup
tx0=$(tls_stat TlsTxSw) rx0=$(tls_stat TlsRxSw)

serve server -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256 ||
	diag "s_server did not start"
out=$(LD_PRELOAD=$LIBSSA timeout 30 "$PROBE" connect -g / 127.0.0.1 "$port" localhost 2>&1)
diag "s_server TLS 1.2: $out"
like "$out" '^READ bytes=[0-9]+ first=HTTP/1.0_200_ok ktls=1 version=0x0303 cipher=TLS_ECDHE_[A-Z]+_WITH_AES_128_GCM_SHA256 chain=[1-9][0-9]* keys=hidden eof=clean' \
	"openssl s_server (TLS 1.2, AES-128-GCM): page read through kernel TLS, clean end"

# the receive key of each TLS 1.3 suite installed by ssad
for cs in TLS_AES_128_GCM_SHA256 TLS_CHACHA20_POLY1305_SHA256; do
	serve server -tls1_3 -ciphersuites "$cs" || diag "s_server did not start"
	out=$(LD_PRELOAD=$LIBSSA timeout 30 "$PROBE" connect -g / 127.0.0.1 "$port" localhost 2>&1)
	diag "s_server $cs: $out"
	like "$out" "^READ bytes=[0-9]+ first=HTTP/1.0_200_ok ktls=1 version=0x0304 cipher=$cs chain=[1-9][0-9]* keys=hidden eof=clean" \
		"openssl s_server ($cs): kernel TLS, clean end"
done

ktls_sessions_since 3 three
[ "$_failed" -gt 0 ] && sed 's/^/# ssad: /' "$WORK/ssad.log" | tail -n 30
done_testing
