#!/usr/bin/env python3
"""Start ssad with forged $LISTEN_FDS, for tests/t/93-restart.t.

    forge_listen_fds.py MODE [STATEFILE] -- ssad ARGS...

MODE says what ssad is handed as if from systemd's descriptor store:
  garbage    a sealed 0600 memfd "ssa-state-1" of random bytes
  truncated  a sealed 0600 memfd "ssa-state-1": STATEFILE's bytes (a real
             state), cut in the middle
  unsealed   an unsealed 0600 memfd "ssa-state-1": STATEFILE's bytes whole
  mode       a sealed memfd "ssa-state-1" of mode 0644: STATEFILE's bytes whole
  names      two descriptors and a $LISTEN_FDNAMES naming three
  orphan     a listener's descriptor "ssa-l-0000000000000001" (a socket
             pair's end) and no state
  wrongkey   a listener (a TCP listening socket and a socket pair's end,
             "ssa-l-0000000000000001") and a well-formed state naming
             another socket as its application's end
  rightkey   the same, the state naming the pair's other end (then only
             its lack of a certificate stops it)
"""
import os
import socket
import struct
import sys

F_ADD_SEALS = 1033
SEALS = 0x1 | 0x2 | 0x4 | 0x8  # SEAL, SHRINK, GROW, WRITE


def worker_ids():
    """The user ssad's worker runs as (ssad(8) PROCESSES): the state's owner."""
    import pwd
    try:
        pw = pwd.getpwnam("ssad")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return 65533, 65533


def memfd(data, mode=0o600, seal=True):
    import fcntl
    fd = os.memfd_create("ssa-state", os.MFD_ALLOW_SEALING)
    os.fchmod(fd, mode)
    os.fchown(fd, *worker_ids())
    os.write(fd, data)
    if seal:
        fcntl.fcntl(fd, F_ADD_SEALS, SEALS)
    return fd


def field(tag, value):
    return struct.pack("<HI", tag, len(value)) + value


def state_with(key_ino, key_cookie):
    """A hand-over state (handover_state.h) with one listener, id 1."""
    rec = b"".join([
        field(1, struct.pack("<Q", 1)), field(2, struct.pack("<i", socket.AF_INET)),
        field(3, struct.pack("<i", 16)), field(4, struct.pack("<I", os.getuid())),
        field(5, struct.pack("<I", os.getgid())), field(6, struct.pack("<i", os.getpid())),
        field(7, b"/bin/forged"), field(8, b"global"),
        field(9, struct.pack("<QQQ", 0, key_ino, key_cookie)),
    ])
    return b"SSAHOVR\0" + struct.pack("<IQI", 1, 1, 1) + struct.pack("<I", len(rec)) + rec


def listener(right):
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(4)
    a, b = socket.socketpair()
    cookie = struct.unpack("<Q", b.getsockopt(socket.SOL_SOCKET, 57, 8))[0]  # SO_COOKIE
    ino = os.fstat(b.fileno()).st_ino
    os.dup2(b.fileno(), 60, inheritable=True)  # the application's end lives on in ssad
    st = state_with(ino if right else ino + 1000, cookie)
    return [tcp.detach(), a.detach(), memfd(st)], ["ssa-l-0000000000000001"] * 2 + ["ssa-state-1"]


def main():
    mode = sys.argv[1]
    sep = sys.argv.index("--")
    state = open(sys.argv[2], "rb").read() if sep > 2 else b""
    argv = sys.argv[sep + 1:]
    keep = []
    if mode == "garbage":
        fds, names = [memfd(os.urandom(4096))], ["ssa-state-1"]
    elif mode == "truncated":
        fds, names = [memfd(state[:len(state) // 2])], ["ssa-state-1"]
    elif mode == "unsealed":
        fds, names = [memfd(state, seal=False)], ["ssa-state-1"]
    elif mode == "mode":
        fds, names = [memfd(state, mode=0o644)], ["ssa-state-1"]
    elif mode == "names":
        fds, names = [memfd(b"x"), memfd(b"y")], ["a", "b", "c"]
    elif mode == "orphan":
        a, b = socket.socketpair()
        keep.append(b)
        fds, names = [a.detach()], ["ssa-l-0000000000000001"]
    elif mode in ("wrongkey", "rightkey"):
        fds, names = listener(mode == "rightkey")
    else:
        sys.exit("unknown mode " + mode)
    high = [os.dup(fd) for fd in fds]
    moved = [__import__("fcntl").fcntl(fd, 0, 20) for fd in high]  # F_DUPFD above 3..N
    for i, fd in enumerate(moved):
        os.dup2(fd, 3 + i, inheritable=True)
    env = dict(os.environ)
    env["LISTEN_PID"] = str(os.getpid())
    env["LISTEN_FDS"] = str(len(fds))
    env["LISTEN_FDNAMES"] = ":".join(names)
    os.execvpe(argv[0], argv, env)


if __name__ == "__main__":
    main()
