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
"""
import os
import socket
import sys

F_ADD_SEALS = 1033
SEALS = 0x1 | 0x2 | 0x4 | 0x8  # SEAL, SHRINK, GROW, WRITE


def memfd(data, mode=0o600, seal=True):
    import fcntl
    fd = os.memfd_create("ssa-state", os.MFD_ALLOW_SEALING)
    os.fchmod(fd, mode)
    os.write(fd, data)
    if seal:
        fcntl.fcntl(fd, F_ADD_SEALS, SEALS)
    return fd


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
    else:
        sys.exit("unknown mode " + mode)
    for i, fd in enumerate(fds):
        os.dup2(fd, 3 + i, inheritable=True)
    env = dict(os.environ)
    env["LISTEN_PID"] = str(os.getpid())
    env["LISTEN_FDS"] = str(len(fds))
    env["LISTEN_FDNAMES"] = ":".join(names)
    os.execvpe(argv[0], argv, env)


if __name__ == "__main__":
    main()
