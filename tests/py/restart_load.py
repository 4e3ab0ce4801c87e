#!/usr/bin/env python3
"""Steady TLS client load for tests/t/93-restart.t.

    restart_load.py HOST PORT CAFILE OUT STOPFILE [THREADS] [PAUSE]

THREADS threads (default 2) each open one connection after another (Python's
ssl module, the CA in CAFILE, server name "localhost"), read until the
server closes (tls_server's info mode sends one line), and pause PAUSE
seconds (default 0.02). Each attempt is appended to OUT as
"START END ok|fail REASON" (monotonic seconds, shared with the test through
time.monotonic via /proc/uptime-free CLOCK_MONOTONIC). Stops once STOPFILE
exists.
"""
import os
import socket
import ssl
import sys
import threading
import time


def attempt(host, port, ctx):
    with socket.create_connection((host, port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            got = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
            if not got.startswith(b"sni="):
                raise OSError("unexpected reply %r" % got[:40])


def worker(host, port, ctx, out, lock, stopfile, pause):
    while not os.path.exists(stopfile):
        t0 = time.monotonic()
        try:
            attempt(host, port, ctx)
            res = "ok -"
        except (OSError, ssl.SSLError) as e:
            res = "fail " + (type(e).__name__ + ":" + str(e)).replace(" ", "_")[:80]
        t1 = time.monotonic()
        with lock:
            out.write("%.3f %.3f %s\n" % (t0, t1, res))
            out.flush()
        time.sleep(pause)


def main():
    host, port, cafile, outp, stopfile = sys.argv[1:6]
    threads = int(sys.argv[6]) if len(sys.argv) > 6 else 2
    pause = float(sys.argv[7]) if len(sys.argv) > 7 else 0.02
    ctx = ssl.create_default_context(cafile=cafile)
    lock = threading.Lock()
    with open(outp, "a") as out:
        ts = [threading.Thread(target=worker, args=(host, int(port), ctx, out, lock,
                                                     stopfile, pause)) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()


if __name__ == "__main__":
    main()
