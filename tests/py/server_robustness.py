#!/usr/bin/env python3
"""Helpers for tests/t/55-server-robustness.t.

usage:
  server_robustness.py good HOST PORT CAFILE SECONDS THREADS
      THREADS clients (Python's ssl module, TCP_NODELAY) each doing full
      handshakes + one echo round trip, one after the other, for SECONDS.
      Prints JSON: n (round trips that succeeded), fail, max_ms, p50_ms,
      errors (the first three).
  server_robustness.py bad HOST PORT SILENT HALF GARBAGE RESET
      Misbehaving clients, all at once:
        silent   connect and send nothing
        half     send the first 100 bytes of a real ClientHello and stall
        garbage  send "GET / HTTP/1.0" (odd) or 512 random bytes (even)
        reset    send a whole ClientHello, read the server's first flight,
                 then reset (SO_LINGER 0) -- odd; or a 60-byte fragment and
                 reset at once -- even
      Every client but the resetting ones then waits (10 s at most) for the
      server to close. Prints JSON per kind: n, connected, closed, errors,
      min/max (seconds from connect -- from the send for garbage and
      reset -- to the server's close or the reset), got (resetting
      clients that received the server's flight before resetting).
  server_robustness.py scan PID KEYFILE...
      Search the readable memory of process PID for each private key: its
      DER (PKCS#8), the first two base64 lines of its PEM, and the private
      scalar (EC keys, big- and little-endian). Prints one line per key:
      "KEYFILE der=0 pem1=0 pem2=0 scalar_be=0 scalar_le=0 bytes=N".
"""
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time


def good(host, port, ca, dur, nthreads):
    ctx = ssl.create_default_context(cafile=ca)
    lat, fails, lock = [], [], threading.Lock()
    end = time.monotonic() + dur

    def run(t):
        i = 0
        while time.monotonic() < end:
            i += 1
            msg = b"ping %d %d\n" % (t, i)
            t0 = time.monotonic()
            try:
                with socket.create_connection((host, port), 5) as raw:
                    raw.settimeout(5)
                    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                        s.sendall(msg)
                        got = b""
                        while len(got) < len(msg):
                            d = s.recv(4096)
                            if not d:
                                break
                            got += d
                if got != msg:
                    raise OSError("echo mismatch: %r" % got)
                with lock:
                    lat.append(time.monotonic() - t0)
            except Exception as e:  # noqa: BLE001 -- every failure counts
                with lock:
                    fails.append(repr(e))

    ths = [threading.Thread(target=run, args=(t,)) for t in range(nthreads)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    lat.sort()
    print(json.dumps({"n": len(lat), "fail": len(fails),
                      "max_ms": round(lat[-1] * 1000) if lat else -1,
                      "p50_ms": round(lat[len(lat) // 2] * 1000) if lat else -1,
                      "errors": fails[:3]}))


def client_hello():
    """The bytes of a real ClientHello (Python's ssl module, SNI localhost)."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def bad(host, port, counts):
    ch = client_hello()
    res, lock, go = [], threading.Lock(), threading.Event()

    def one(kind, i):
        r = {"kind": kind}
        try:
            s = socket.create_connection((host, port), 5)
        except OSError as e:
            r["connect"] = str(e)
            with lock:
                res.append(r)
            return
        t0 = time.monotonic()
        r["connect"] = "ok"
        go.wait()
        if kind in ("garbage", "reset"):
            t0 = time.monotonic()  # these are timed from their misdeed
        try:
            if kind == "half":
                s.sendall(ch[:100])
            elif kind == "garbage":
                s.sendall(b"GET / HTTP/1.0\r\n\r\n" if i % 2 else b"B" + os.urandom(511))
            elif kind == "reset":
                if i % 2:
                    s.sendall(ch)
                    s.settimeout(3)
                    r["got"] = len(s.recv(4096))
                else:
                    s.sendall(ch[:60])
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
                r["closed_after"] = time.monotonic() - t0
                with lock:
                    res.append(r)
                return
            s.settimeout(10)
            try:
                while s.recv(4096):
                    pass
                r["closed_after"] = time.monotonic() - t0
            except socket.timeout:
                pass  # never closed by the server
            except OSError:
                r["closed_after"] = time.monotonic() - t0  # reset by the server
        except OSError as e:
            r["error"] = str(e)
        s.close()
        with lock:
            res.append(r)

    ths = []
    for kind, n in zip(("silent", "half", "garbage", "reset"), counts):
        for i in range(n):
            t = threading.Thread(target=one, args=(kind, i))
            t.start()
            ths.append(t)
    time.sleep(0.2)  # all connected, then all misbehave at once
    go.set()
    for t in ths:
        t.join()
    summary = {}
    for kind in ("silent", "half", "garbage", "reset"):
        summary[kind] = {"n": 0, "connected": 0, "closed": 0, "errors": 0,
                         "min": -1, "max": -1, "got": 0}
    for r in res:
        k = summary[r["kind"]]
        k["n"] += 1
        k["connected"] += r["connect"] == "ok"
        k["errors"] += "error" in r
        k["got"] += r.get("got", 0) > 0
        t = r.get("closed_after")
        if t is not None:
            k["closed"] += 1
            k["min"] = round(t if k["min"] < 0 else min(k["min"], t), 3)
            k["max"] = round(max(k["max"], t), 3)
    print(json.dumps(summary, sort_keys=True))


def needles(keyfile):
    pem = open(keyfile).read()
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    der = subprocess.run(["openssl", "pkey", "-in", keyfile, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    txt = subprocess.run(["openssl", "pkey", "-in", keyfile, "-text", "-noout"],
                         capture_output=True, text=True, check=True).stdout
    n = {"der": der, "pem1": body[0].encode(), "pem2": body[1].encode()}
    if "priv:" in txt:  # EC: the private scalar
        hexs = txt.split("priv:")[1].split("pub:")[0]
        priv = bytes.fromhex("".join(c for c in hexs if c in "0123456789abcdef"))
        priv = priv.lstrip(b"\0").rjust(32, b"\0")
        n["scalar_be"] = priv
        n["scalar_le"] = priv[::-1]
    return n


def scan(pid, keyfiles, maxregion=1 << 30):
    want = {k: needles(k) for k in keyfiles}
    found = {k: {name: False for name in v} for k, v in want.items()}
    total = 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            # Unreadable mappings, and the sanitizers' huge shadow reservations.
            if not parts[1].startswith("r") or hi - lo > maxregion:
                continue
            if len(parts) > 5 and parts[5] in ("[vvar]", "[vsyscall]"):
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except OSError:
                continue
            total += len(data)
            for k, v in want.items():
                for name, needle in v.items():
                    if not found[k][name] and needle in data:
                        found[k][name] = True
    for k in keyfiles:
        print(k, " ".join("%s=%d" % (name, f) for name, f in found[k].items()),
              "bytes=%d" % total)


def main():
    a = sys.argv[1:]
    if a[:1] == ["good"] and len(a) == 6:
        good(a[1], int(a[2]), a[3], float(a[4]), int(a[5]))
    elif a[:1] == ["bad"] and len(a) == 7:
        bad(a[1], int(a[2]), [int(x) for x in a[3:7]])
    elif a[:1] == ["scan"] and len(a) >= 3:
        scan(int(a[1]), a[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
