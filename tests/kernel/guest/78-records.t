#!/usr/bin/env bash
# Kernel-TLS data path, record by record (issue 7 item 3): what kernel TLS
# cannot hand to the application never surfaces as EIO. close_notify from
# the peer ends the stream (read 0), a TCP close without it is a truncation
# (ECONNRESET), shutdown(SHUT_WR) sends close_notify and reading goes on
# (half-close); over TLS 1.3 and TLS 1.2 (whose receive side OpenSSL hands to
# the kernel itself). One Python process: userspace OpenSSL peers in threads,
# kernel-mode clients (socket(..., 205), no preload). 79-ciphers.t: ciphers,
# session tickets, KeyUpdate.
. "$(dirname "$0")/lib.sh"
plan 5
kstart_ssad || diag "ssad did not start"
out=$(timeout 50 python3 - "$PKI/server-chain.crt" "$PKI/server.key" 2>&1 <<'PY'
import errno, socket, ssl, struct, sys, threading
crt, key = sys.argv[1:3]

def peer(mode, maxv, ls):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if maxv == "1.2" else ssl.TLSVersion.TLSv1_3
    raw, _ = ls.accept()
    try:
        c = ctx.wrap_socket(raw, server_side=True)
        if mode == "notify":
            c.sendall(b"hello"); c.unwrap()
        elif mode == "trunc":
            c.sendall(b"hello"); c.shutdown(socket.SHUT_RDWR)  # TCP FIN, no close_notify
        elif mode == "halfclose":
            got = b""
            while True:
                d = c.recv(100)
                if not d: break
                got += d
            c.sendall(b"bye:" + got); c.unwrap()
    except Exception as e:
        print("peer error", mode, maxv, e, flush=True)
    raw.close()

def run(mode, maxv):
    ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
    t = threading.Thread(target=peer, args=(mode, maxv, ls)); t.start()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
    s.setsockopt(205, 85, b"localhost\0")
    s.settimeout(10)
    out = [mode, maxv]
    try:
        s.connect(ls.getsockname())
        out.append("v=%#x" % struct.unpack("i", s.getsockopt(205, 113, 4))[0])
        if mode == "halfclose":
            s.sendall(b"ping"); s.shutdown(socket.SHUT_WR)
        while True:
            d = s.recv(100)
            out.append("data=%s" % d.decode() if d else "eof")
            if not d: break
    except OSError as e:
        out.append("err=%s" % errno.errorcode.get(e.errno, e.errno))
        out.append("why=%s" % s.getsockopt(205, 100, 256).rstrip(b"\0").decode())
    print(" ".join(out), flush=True)
    s.close(); t.join(); ls.close()

for mode, maxv in (("notify", "1.3"), ("notify", "1.2"), ("trunc", "1.3"),
                   ("halfclose", "1.3"), ("halfclose", "1.2")):
    run(mode, maxv)
PY
)
sed 's/^/# /' <<<"$out"
like "$(grep '^notify 1.3' <<<"$out")" 'v=0x304 data=hello eof$' "TLS 1.3: data, then the peer's close_notify reads as end of file"
like "$(grep '^notify 1.2' <<<"$out")" 'v=0x303 data=hello eof$' "TLS 1.2: data, then end of file"
like "$(grep '^trunc' <<<"$out")" 'data=hello err=ECONNRESET why=.*truncation' "TCP close without close_notify: ECONNRESET (truncation), not EOF or EIO"
like "$(grep '^halfclose 1.3' <<<"$out")" 'data=bye:ping eof$' "shutdown(SHUT_WR) sends close_notify; the reply still arrives (half-close)"
like "$(grep '^halfclose 1.2' <<<"$out")" 'v=0x303 data=bye:ping eof$' "half-close over TLS 1.2"
stop_ssad
done_testing
