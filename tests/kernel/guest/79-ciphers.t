#!/usr/bin/env bash
# Kernel-TLS data path (issue 7 item 3): each TLS 1.3 cipher reaches kernel
# TLS (keys derived in ssad for the receive side), the session tickets
# s_server sends first are skipped, and a KeyUpdate from the peer fails the
# connection cleanly (EPROTO with a reason: kernel TLS on 6.1/6.12 cannot
# take new keys) instead of EIO or a hang.
. "$(dirname "$0")/lib.sh"
plan 4
kstart_ssad || diag "ssad did not start"

# Each TLS 1.3 cipher through kernel TLS (s_server -www sends session tickets
# first: they are skipped).
for cs in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
	p=$(free_port)
	start_s_server "$p" -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" \
		-ciphersuites "$cs" -www
	out=$("$KC" -n localhost -g / 127.0.0.1 "$p" 2>&1)
	like "$out" "^OK version=0x0304 cipher=$cs"$'.*\nREPLY HTTP/1.0 200 ok' "$cs: handshake, tickets skipped, reply read"
done

# KeyUpdate from the peer: s_server's interactive "k" command.
p=$(free_port)
mkfifo "$WORK/ku.in"
openssl s_server -accept "$p" -cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/int.crt" \
	-tls1_3 <"$WORK/ku.in" >>"$WORK/s_server-ku.log" 2>&1 &
PIDS+=("$!")
exec 7>"$WORK/ku.in"
wait_port 127.0.0.1 "$p"
python3 - "$p" >"$WORK/ku.out" 2>&1 <<'PY' &
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
s.setsockopt(205, 85, b"localhost\0"); s.settimeout(10)
s.connect(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
try:
    while True:
        d = s.recv(100)
        print("data", d, flush=True)
        if not d: break
except OSError as e:
    print("err=%s why=%s" % (errno.errorcode.get(e.errno, e.errno),
          s.getsockopt(205, 100, 256).rstrip(b"\0").decode()), flush=True)
PY
kp=$!
for i in $(seq 100); do grep -q connected "$WORK/ku.out" && break; sleep 0.1; done
sleep 1
echo k >&7
for i in $(seq 100); do grep -q 'err=\|data b' "$WORK/ku.out" && break; sleep 0.1; done
exec 7>&-
wait "$kp" 2>/dev/null
like "$(cat "$WORK/ku.out")" 'err=EPROTO why=.*KeyUpdate' "KeyUpdate from the peer: EPROTO with a reason, no hang, no EIO"
sed 's/^/# /' "$WORK/ku.out"
stop_ssad
done_testing
