#!/usr/bin/env bash
# Issue 17.8: an IPPROTO_TLS listener answers like a TCP one:
# SO_ACCEPTCONN, shutdown(SHUT_RD) stops it and wakes a blocked accept()
# with EINVAL, shutdown(SHUT_WR) does nothing; SO_RCVLOWAT is taken.
. "$(dirname "$0")/lib.sh"
plan 2
kstart_ssad || diag "ssad did not start"
prog='
import socket, sys, threading, time
res = []
for proto in (0, 205):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 4)
    s.bind(("127.0.0.1", 0))
    a = [s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)]
    s.listen(4)
    a.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    s.shutdown(socket.SHUT_WR)
    a.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    out = []
    def acc():
        try:
            s.accept(); out.append("accepted")
        except OSError as e:
            out.append(e.errno)
    t = threading.Thread(target=acc); t.start(); time.sleep(1.5)
    s.shutdown(socket.SHUT_RD)
    t.join(5)
    a.append(out[0] if out else "blocked")
    a.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    res.append(" ".join(map(str, a)))
    s.close()
print(res[0]); print(res[1])
'
out=$(timeout 30 python3 -c "$prog" 2>&1)
diag "TCP / IPPROTO_TLS: $(tr '\n' ' ' <<<"$out")"
tcp=$(sed -n 1p <<<"$out") tls=$(sed -n 2p <<<"$out")
like "$tcp" '^0 1 1 22 0$' "reference: TCP listener (SO_ACCEPTCONN, SHUT_WR, SHUT_RD wakes accept with EINVAL)"
is "$tls" "$tcp" "the IPPROTO_TLS listener answers the same"
stop_ssad
done_testing
