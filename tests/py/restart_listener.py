#!/usr/bin/env python3
"""An SSA server whose listener is asked about after ssad restarted, for
tests/t/93-restart.t. Run under libssa.

    restart_listener.py CHAIN KEY

Makes a listening IPPROTO_TLS socket with ALPN "h2,http/1.1" and
TLS_REQUEST_PEER_AUTH 1, prints "PORT <port>" and "ID <TLS_ID hex>", then
waits for a line on stdin (the test restarts ssad meanwhile). Then prints
"ID <hex>" again (the new ssad knows the socket), "AUTH <n>", accepts one
connection and prints "ALPN <protocol>" (the settings came through).
"""
import socket
import sys

IPPROTO_TLS = 205
TLS_CERTIFICATE_CHAIN, TLS_PRIVATE_KEY, TLS_ALPN = 88, 89, 90
TLS_REQUEST_PEER_AUTH, TLS_ID, TLS_ERROR = 94, 96, 100


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_TLS)
    s.setsockopt(IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, sys.argv[1].encode() + b"\0")
    s.setsockopt(IPPROTO_TLS, TLS_PRIVATE_KEY, sys.argv[2].encode() + b"\0")
    s.setsockopt(IPPROTO_TLS, TLS_ALPN, b"h2,http/1.1\0")
    s.setsockopt(IPPROTO_TLS, TLS_REQUEST_PEER_AUTH, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    print("PORT", s.getsockname()[1], flush=True)
    print("ID", s.getsockopt(IPPROTO_TLS, TLS_ID, 8).hex(), flush=True)
    sys.stdin.readline()
    try:
        print("ID", s.getsockopt(IPPROTO_TLS, TLS_ID, 8).hex(), flush=True)
        print("AUTH", s.getsockopt(IPPROTO_TLS, TLS_REQUEST_PEER_AUTH), flush=True)
    except OSError as e:
        print("ERR", e, flush=True)
    c, _ = s.accept()
    print("ALPN", c.getsockopt(IPPROTO_TLS, TLS_ALPN, 64).rstrip(b"\0").decode() or "-",
          flush=True)
    c.close()


if __name__ == "__main__":
    main()
