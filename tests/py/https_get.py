#!/usr/bin/env python3
"""Fetch a page over HTTPS with Python's standard socket module and SSA.

No ssl module: the socket is created with protocol 205 (IPPROTO_TLS) and the
operating system's TLS service does the handshake and verification.

usage: https_get.py HOST PORT [timeout]
Prints the response, then lines "version=0x....", "cipher=...",
"peer=...", "identity=..." to stderr.
"""
import socket
import sys

IPPROTO_TLS = 205
TLS_REMOTE_HOSTNAME = 85
TLS_PEER_IDENTITY = 93
TLS_CHOSEN_CIPHER = 98
TLS_ERROR = 100
TLS_CHOSEN_VERSION = 113


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else None
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    family, _, _, _, addr = info[0]
    s = socket.socket(family, socket.SOCK_STREAM, IPPROTO_TLS)
    if timeout:
        s.settimeout(timeout)
    s.setsockopt(IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host.encode() + b"\0")
    try:
        s.connect(addr)
    except OSError as e:
        why = s.getsockopt(IPPROTO_TLS, TLS_ERROR, 512).rstrip(b"\0").decode()
        print(f"connect failed: {e.strerror} ({e.errno}): {why}", file=sys.stderr)
        return 1
    s.sendall(f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    chunks = []
    while True:
        data = s.recv(65536)
        if not data:
            break
        chunks.append(data)
    sys.stdout.write(b"".join(chunks).decode(errors="replace"))
    ver = s.getsockopt(IPPROTO_TLS, TLS_CHOSEN_VERSION)
    cipher = s.getsockopt(IPPROTO_TLS, TLS_CHOSEN_CIPHER, 128).rstrip(b"\0").decode()
    ident = s.getsockopt(IPPROTO_TLS, TLS_PEER_IDENTITY, 1024).rstrip(b"\0").decode()
    print(f"version=0x{ver:04x}", file=sys.stderr)
    print(f"cipher={cipher}", file=sys.stderr)
    print(f"peer={s.getpeername()[0]} {s.getpeername()[1]}", file=sys.stderr)
    print(f"identity={ident}", file=sys.stderr)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
