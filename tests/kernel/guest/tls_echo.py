#!/usr/bin/env python3
"""tls_echo.py CERT KEY PORTFILE [COUNT]: a userspace-OpenSSL TLS echo server on
127.0.0.1 (any port, written to PORTFILE) for the guest tests; serves COUNT
connections (default 1), one at a time, then exits."""
import socket
import ssl
import sys

cert, key, portfile = sys.argv[1:4]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
with open(portfile + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
import os
os.replace(portfile + ".tmp", portfile)
for _ in range(count):
    c, _ = ls.accept()
    try:
        s = ctx.wrap_socket(c, server_side=True)
        while True:
            d = s.recv(65536)
            if not d:
                break
            s.sendall(d)
        s.close()
    except (OSError, ssl.SSLError) as e:
        print("tls_echo:", e, file=sys.stderr)
