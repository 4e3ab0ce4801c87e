#!/usr/bin/env python3
"""TLS clients for the server tests (tests/t/50-server-clients.t).

Python's own ssl module (OpenSSL in this process), or with --ssa a plain
socket(..., 205) through SSA (run under ssa-run or LD_PRELOAD=libssa.so).

usage:
  ssl_clients.py [--ssa] line HOST PORT CAFILE [SERVERNAME]
      one connection; print "local=ADDR PORT", "peer=ADDR PORT" (as the
      client sees them) and "got=" + everything the server sent
  ssl_clients.py [--ssa] echo HOST PORT CAFILE COUNT PARALLEL [--barrier]
      COUNT connections, PARALLEL at a time; each sends a random payload of
      1..16 KiB, checks the echo byte for byte, then closes cleanly
      (close_notify both ways; with --ssa: shutdown(SHUT_WR), read to EOF).
      --barrier: PARALLEL must equal COUNT; every client finishes its
      handshake, then waits until all are connected before sending, so all
      COUNT connections are open at the same time.
      Prints "echo: N ok, M failed, S s, R conn/s"; exit 1 if any failed
      (the first errors go to stderr).
"""
import os
import random
import socket
import ssl
import sys
import threading
import time

IPPROTO_TLS = 205
TLS_REMOTE_HOSTNAME = 85
TLS_ERROR = 100
SERVERNAME = "localhost"
_contexts = {}


def connect(host, port, cafile, ssa, servername=SERVERNAME, timeout=20):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if ssa:
        s = socket.socket(family, socket.SOCK_STREAM, IPPROTO_TLS)
        s.settimeout(timeout)
        s.setsockopt(IPPROTO_TLS, TLS_REMOTE_HOSTNAME, servername.encode() + b"\0")
        try:
            s.connect((host, port))
        except OSError as e:
            why = s.getsockopt(IPPROTO_TLS, TLS_ERROR, 512).rstrip(b"\0").decode()
            s.close()
            raise OSError(e.errno, f"{e.strerror}: {why}") from None
        return s
    ctx = _contexts.get(cafile)
    if ctx is None:
        ctx = _contexts[cafile] = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection((host, port), timeout=timeout)
    # Without TCP_NODELAY, the payload sent right after the client's Finished
    # waits for a delayed ACK (~40 ms a connection, with any server).
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw, server_hostname=servername or None)


def close(s, ssa):
    """Clean close: our close_notify, then the server's."""
    if ssa:
        s.shutdown(socket.SHUT_WR)
        rest = s.recv(1)
        s.close()
        if rest:
            raise RuntimeError(f"unexpected data after the echo: {rest!r}")
    else:
        raw = s.unwrap()
        raw.close()


def addr(a):
    return f"{a[0]} {a[1]}"


def cmd_line(args, ssa):
    host, port, cafile = args[0], int(args[1]), args[2]
    servername = args[3] if len(args) > 3 else SERVERNAME
    s = connect(host, port, cafile, ssa, servername)
    print(f"local={addr(s.getsockname())}")
    print(f"peer={addr(s.getpeername())}")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    print("got=" + data.decode(errors="replace"), end="")
    return 0


def one_echo(host, port, cafile, ssa, rng, barrier):
    s = connect(host, port, cafile, ssa)
    try:
        if barrier:
            barrier.wait()
        payload = rng.randbytes(rng.randint(1024, 16384))
        s.sendall(payload)
        got = bytearray()
        while len(got) < len(payload):
            chunk = s.recv(len(payload) - len(got))
            if not chunk:
                raise RuntimeError(f"EOF after {len(got)} of {len(payload)} bytes")
            got += chunk
        if got != payload:
            bad = next(i for i in range(len(payload)) if got[i] != payload[i])
            raise RuntimeError(f"echo mismatch at byte {bad} of {len(payload)}")
        close(s, ssa)
    except BaseException:
        s.close()
        raise


def cmd_echo(args, ssa):
    host, port, cafile = args[0], int(args[1]), args[2]
    count, parallel = int(args[3]), int(args[4])
    use_barrier = "--barrier" in args[5:]
    if use_barrier and parallel != count:
        print("--barrier needs PARALLEL == COUNT", file=sys.stderr)
        return 2
    barrier = threading.Barrier(count, timeout=60) if use_barrier else None
    lock = threading.Lock()
    next_i = [0]
    ok = [0]
    errors = []

    def worker(seed):
        rng = random.Random(seed)
        while True:
            with lock:
                if next_i[0] >= count:
                    return
                i = next_i[0]
                next_i[0] += 1
            try:
                one_echo(host, port, cafile, ssa, rng, barrier)
                with lock:
                    ok[0] += 1
            except BaseException as e:  # noqa: BLE001 - report everything
                with lock:
                    errors.append(f"connection {i}: {type(e).__name__}: {e}")
                if barrier:
                    barrier.abort()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(int.from_bytes(os.urandom(8), "big"),))
               for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    print(f"echo: {ok[0]} ok, {len(errors)} failed, {dt:.2f} s, {count / dt:.0f} conn/s")
    for e in errors[:10]:
        print(e, file=sys.stderr)
    return 0 if not errors and ok[0] == count else 1


def main():
    args = sys.argv[1:]
    ssa = False
    if args and args[0] == "--ssa":
        ssa = True
        args = args[1:]
    if not args or args[0] not in ("line", "echo"):
        print(__doc__, file=sys.stderr)
        return 2
    return (cmd_line if args[0] == "line" else cmd_echo)(args[1:], ssa)


if __name__ == "__main__":
    sys.exit(main())
