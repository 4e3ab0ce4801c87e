#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""keeper_channels.py SSAD KEYFILE: which of the key keeper's channels may
stash key files and set the hand-over key.

Starts `SSAD --key-keeper 2` (keeper/keeper.h: its channels on fds 3 and
4; the last is the supervisor's, the first a worker's), speaks its
protocol (keeper/keeper_msg.h: a 16-byte header in host byte order, one
request per SOCK_SEQPACKET datagram) and prints one line per request:
"NAME STATUS" with the reply's status (0 or an errno number).
"""
import array
import fcntl
import os
import socket
import struct
import sys

STASH, UNSTASH, LOAD_TICKET, HANDOVER_KEY = 7, 8, 9, 10
seq = 0


def call(chan, op, payload=b"", fd=None):
    global seq
    seq += 1
    msg = struct.pack("=BBHIII", op, 0, 0, seq, 0, len(payload)) + payload
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))] if fd is not None else []
    chan.sendmsg([msg], anc)
    chan.settimeout(10)
    while True:
        data = chan.recv(65536)
        rop, status, _, rid, _, _ = struct.unpack("=BBHIII", data[:16])
        if rid == seq and rop == (op | 0x80):
            return status


def main():
    ssad, key = sys.argv[1], sys.argv[2]
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(2)]
    pid = os.fork()
    if pid == 0:
        high = [fcntl.fcntl(p[1].fileno(), fcntl.F_DUPFD, 20) for p in pairs]
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i)
        os.execv(ssad, [ssad, "--key-keeper", "2"])
    for p in pairs:
        p[1].close()
    worker, admin = pairs[0][0], pairs[1][0]
    ticket, uid = os.urandom(16), struct.pack("=I", os.getuid())
    kfd = os.open(key, os.O_RDONLY)
    try:
        print("worker-handover-key", call(worker, HANDOVER_KEY, os.urandom(32)))
        print("admin-handover-key", call(admin, HANDOVER_KEY, os.urandom(32)))
        print("admin-handover-key-again", call(admin, HANDOVER_KEY, os.urandom(32)))
        print("worker-stash", call(worker, STASH, ticket + uid, kfd))
        print("worker-unstash", call(worker, UNSTASH, ticket))
        print("admin-stash", call(admin, STASH, ticket + uid, kfd))
        print("worker-load-ticket-other-uid",
              call(worker, LOAD_TICKET, ticket + struct.pack("=II", os.getuid() + 1, 1 << 20)))
        print("admin-unstash-used", call(admin, UNSTASH, ticket))
        ticket2 = os.urandom(16)
        print("admin-stash-2", call(admin, STASH, ticket2 + uid, kfd))
        print("worker-load-ticket",
              call(worker, LOAD_TICKET, ticket2 + struct.pack("=II", os.getuid(), 1 << 20)))
    finally:
        os.close(kfd)
        for p in pairs:
            p[0].close()
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
