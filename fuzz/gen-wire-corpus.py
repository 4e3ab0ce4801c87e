#!/usr/bin/env python3
# Write the seed corpus of fuzz_wire: one valid request of each type, and a
# few replies, as ssad's control protocol puts them on the wire (host byte
# order, x86-64 Linux layout). Run from the repository root:
#   python3 fuzz/gen-wire-corpus.py fuzz/corpus/wire
import os
import socket
import struct
import sys

MAGIC = 0x53534131
AF_INET, AF_INET6, SOCK_STREAM = 2, 10, 1
IPPROTO_TLS, TLS_REMOTE_HOSTNAME, TLS_ID, TLS_ERROR = 205, 85, 96, 100


def msg(mtype, payload=b"", status=0):
    return struct.pack("=IHHiI", MAGIC, mtype, 0, status, len(payload)) + payload


def blob(b):
    return struct.pack("=I", len(b)) + b


def sin(host, port):  # struct sockaddr_in, 16 bytes
    return struct.pack("=H", AF_INET) + struct.pack("!H", port) + socket.inet_aton(host) + bytes(8)


def sin6(host, port):  # struct sockaddr_in6, 28 bytes
    return (struct.pack("=H", AF_INET6) + struct.pack("!HI", port, 0)
            + socket.inet_pton(socket.AF_INET6, host) + struct.pack("=I", 0))


seeds = {
    "socket-inet": msg(1, struct.pack("=ii", AF_INET, SOCK_STREAM)),
    "socket-inet6": msg(1, struct.pack("=ii", AF_INET6, SOCK_STREAM)),
    "setopt-hostname": msg(2, struct.pack("=ii", IPPROTO_TLS, TLS_REMOTE_HOSTNAME) + blob(b"example.org\0")),
    "setopt-int": msg(2, struct.pack("=ii", IPPROTO_TLS, 111) + blob(struct.pack("=i", 0x0304))),
    "getopt-hostname": msg(3, struct.pack("=iiI", IPPROTO_TLS, TLS_REMOTE_HOSTNAME, 256)),
    "getopt-id": msg(3, struct.pack("=iiI", IPPROTO_TLS, TLS_ID, 8)),
    "connect-inet": msg(4, blob(sin("127.0.0.1", 443))),
    "connect-inet6": msg(4, blob(sin6("::1", 8443))),
    "info": msg(5),
    "status": msg(6),
    "reply-error": msg(7, status=22),
    "reply-info": msg(5, struct.pack("=Qiii", 0x1122334455667788, AF_INET, 2, 0)
                      + blob(sin("10.0.0.1", 40000)) + blob(sin("93.184.216.34", 443))),
    "reply-getopt-erange": msg(3, struct.pack("=I", 12), status=34),
    "reply-info-buried": msg(5, struct.pack("=i", 104), status=107),
}

out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/wire"
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
