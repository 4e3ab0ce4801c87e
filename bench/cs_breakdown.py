#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where ssad's context switches per connection come from (issue 15).

Starts one ssad (supervisor, worker, key keeper) and an OpenSSL server
(ssa-bench server -m openssl), makes connections with `ssa-bench client hs
-m ssa` (configuration b of bench/run.py: an SSA client, 1 at a time), and
reads, before and after, every thread's voluntary and involuntary context
switches from /proc/PID/task/TID/status, and ssad's own counters
(`ssactl --json status`: control requests by type and, where the build
has them, the worker's requests to its supervisor by op). Prints the
differences per connection, per process and thread.

With --server, configuration c instead: an SSA server (ssa-bench server
-m ssa under libssa) and an OpenSSL client.

usage: bench/cs_breakdown.py [--build build] [--seconds 3] [--runs 3] [--resume] [--server]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "bench"))
from run import ssad_family as family  # noqa: E402  (ssad's processes)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def snapshot(pid):
    """{(process name, thread name, tid): (voluntary, involuntary)}"""
    snap = {}
    for p in family(pid):
        pname = read(f"/proc/{p}/comm").strip()
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            st = read(f"/proc/{p}/task/{tid}/status")
            v = n = 0
            for line in st.splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    v = int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches:"):
                    n = int(line.split()[1])
            tname = read(f"/proc/{p}/task/{tid}/comm").strip()
            snap[(f"{pname}[{p}]", tname, int(tid))] = (v, n)
    return snap


def status(ssactl, sock):
    out = subprocess.run([ssactl, "--socket", sock, "--json", "status"], capture_output=True,
                         text=True).stdout
    try:
        return json.loads(out)
    except ValueError:
        return {}


def flat(j, key):
    return {k: v for k, v in (j.get(key) or {}).items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--resume", action="store_true", help="resumed handshakes (session tickets)")
    ap.add_argument("--server", action="store_true", help="an SSA server, an OpenSSL client (c)")
    a = ap.parse_args()
    build = a.build if os.path.isabs(a.build) else os.path.join(TOP, a.build)
    work = tempfile.mkdtemp(prefix="ssa-csb.")
    pki = os.path.join(work, "pki")
    subprocess.run(["bash", os.path.join(TOP, "tests/pki/gen-pki.sh"), pki], check=True,
                   capture_output=True)
    conf, sock = os.path.join(work, "ssad.conf"), os.path.join(work, "ssad.sock")
    with open(conf, "w") as f:
        f.write(f"[global]\ntrust-store = {pki}/trust.pem\nmax-sockets-per-user = 1000000\n")
        if a.resume:
            f.write("session-tickets = yes\n")
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    log = open(os.path.join(work, "log"), "ab")
    ssad = subprocess.Popen([f"{build}/sbin/ssad", "--config", conf, "--socket", sock],
                            stdout=log, stderr=log)
    cenv = dict(env, SSA_SOCKET=sock, LD_PRELOAD=f"{build}/lib/libssa.so")
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    srv = subprocess.Popen([f"{build}/bench/ssa-bench", "server", "-m", "ssa" if a.server else "openssl",
                            "-c", f"{pki}/server-chain.crt", "-k", f"{pki}/server.key"]
                           + (["-T"] if a.resume else []), stdout=subprocess.PIPE, stderr=log,
                           env=cenv if a.server else env)
    try:
        line = srv.stdout.readline().decode()
        port = int(line.split()[1])
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        time.sleep(0.5)
        argv = [f"{build}/bench/ssa-bench", "client", "hs", "-m", "openssl" if a.server else "ssa",
                "-p", str(port), "-C",
                f"{pki}/trust.pem", "-t", "1", "-s", str(a.seconds)] + (["-r"] if a.resume else [])
        ssactl = f"{build}/bin/ssactl"
        for run in range(a.runs):
            s0, j0 = snapshot(ssad.pid), status(ssactl, sock)
            r = subprocess.run(argv, env=env if a.server else cenv, capture_output=True, text=True)
            s1, j1 = snapshot(ssad.pid), status(ssactl, sock)
            res = json.loads([x for x in r.stdout.splitlines() if x.startswith("{")][-1])
            n = res["conns"]
            print(f"run {run + 1}: {n} connections, {res['rate']:.0f}/s, load {read('/proc/loadavg').split()[0]}")
            per_proc, total = {}, 0.0
            for k, (v1, n1) in sorted(s1.items()):
                v0, n0 = s0.get(k, (0, 0))
                dv, dn = (v1 - v0) / n, (n1 - n0) / n
                if dv + dn >= 0.005:
                    print(f"  {k[0]:22} {k[1]:16} tid {k[2]:7}  voluntary {dv:6.2f}  involuntary {dn:5.2f}")
                per_proc[k[0]] = per_proc.get(k[0], 0) + dv + dn
                total += dv + dn
            for p, v in per_proc.items():
                print(f"  total {p:22} {v:6.2f}")
            print(f"  total ssad               {total:6.2f}")
            for key in ("control_requests_by_type", "privileged_requests_by_op"):
                d0, d1 = flat(j0, key), flat(j1, key)
                if d1:
                    print(f"  {key}: " + ", ".join(f"{k} {(d1[k] - d0.get(k, 0)) / n:.2f}"
                                                   for k in d1 if d1[k] != d0.get(k, 0)))
    finally:
        for p in (srv, ssad):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
