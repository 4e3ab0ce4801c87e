#!/usr/bin/env python3
"""A stand-in for journald's native socket, for tests.

    fake_journal.py SOCKET OUT

Binds a datagram socket at SOCKET and appends every entry it receives to
OUT, one JSON object per line (field -> value), parsing both the
"KEY=value" and the binary-safe "KEY\\n<le64 length><bytes>\\n" forms of
the native journal protocol. Malformed entries are written as
{"_MALFORMED": "..."}. Runs until killed.
"""
import json
import os
import socket
import struct
import sys


def parse(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            raise ValueError("entry does not end in a newline")
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            if nl + 9 > len(data):
                raise ValueError("binary field without its length")
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            if len(v) != n or data[nl + 9 + n:nl + 10 + n] != b"\n":
                raise ValueError("binary field of the wrong length")
            i = nl + 10 + n
        fields[k.decode()] = v.decode("utf-8", "replace")
    return fields


def main():
    path, out = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    with open(out, "a", buffering=1) as f:
        while True:
            data = s.recv(1 << 16)
            try:
                entry = parse(data)
            except ValueError as e:
                entry = {"_MALFORMED": str(e)}
            f.write(json.dumps(entry) + "\n")


if __name__ == "__main__":
    main()
