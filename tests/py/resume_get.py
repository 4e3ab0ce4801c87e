"""One HTTP GET over an IPPROTO_TLS socket, reporting whether the session
was resumed: resume_get.py HOSTNAME PORT [REUSE [TTL]].

Prints "resumed=N STATUS-LINE", or "connect failed ERRNO TLS_ERROR"."""
import socket
import struct
import sys

IPPROTO_TLS, TLS_REMOTE_HOSTNAME, TLS_ERROR = 205, 85, 100
TLS_SESSION_TTL, TLS_SESSION_REUSE, TLS_RESUMED_SESSION = 91, 108, 109

host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_TLS)
s.setsockopt(IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host.encode() + b"\0")
if len(sys.argv) > 3 and sys.argv[3] != "-":
    s.setsockopt(IPPROTO_TLS, TLS_SESSION_REUSE, int(sys.argv[3]))
if len(sys.argv) > 4:
    s.setsockopt(IPPROTO_TLS, TLS_SESSION_TTL, struct.pack("l", int(sys.argv[4])))
try:
    s.connect(("127.0.0.1", port))
except OSError as e:
    why = s.getsockopt(IPPROTO_TLS, TLS_ERROR, 256).rstrip(b"\0").decode()
    print("connect failed", e.errno, why)
    sys.exit(0)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print("resumed=%d" % s.getsockopt(IPPROTO_TLS, TLS_RESUMED_SESSION),
      data.split(b"\r\n")[0].decode())
