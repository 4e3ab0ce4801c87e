#!/usr/bin/env python3
"""SSA benchmark driver (python3 standard library only).

Measures, on loopback and in one run, for each configuration
  a  in-process OpenSSL client and server (the baseline)
  b  SSA client -> OpenSSL server
  c  OpenSSL client -> SSA server
  d  SSA client -> SSA server (one ssad serves both ends)
  e  stunnel4 client and server proxies around plain TCP
full TLS 1.3 handshakes/s (ECDSA P-256, RSA-2048; concurrency 1 and 64),
resumed handshakes/s (SSA: a second ssad with session-tickets = yes),
connection set-up latency, bulk throughput each way (AES-128-GCM,
CHACHA20-POLY1305), 64-byte ping-pong round trips, and the service's
resident memory per idle connection with many connections held.

Every figure is the median of --runs runs; configurations are interleaved
within each run so that background load hits them alike, and each figure is
also given as a ratio to the baseline (a) of the same run set.

    bench/run.py [--build build] [--quick | --smoke] [--runs N] [--out DIR]

Writes DIR/results-MODE-STAMP.{md,json} and DIR/latest-MODE.{md,json}
(DIR defaults to BUILD/bench) and prints the markdown. Exits 1 if a
measurement failed (errors are listed in the output), 0 otherwise; missed
performance targets are reported, not failures.
"""
import argparse
import datetime
import json
import os
import resource
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# libssa hands blocking SSA connections to the application as kernel-TLS
# sockets where the kernel has TLS (and SSA_KTLS is not 0).
KTLS_CLIENTS = os.path.exists("/proc/net/tls_stat") and os.environ.get("SSA_KTLS", "1") != "0"

CONFIGS = [
    # key, label, client mode, server kind
    ("a", "OpenSSL ↔ OpenSSL (baseline)", "openssl", "openssl"),
    ("b", "SSA client → OpenSSL server", "ssa", "openssl"),
    ("c", "OpenSSL client → SSA server", "openssl", "ssa"),
    ("d", "SSA ↔ SSA", "ssa", "ssa"),
    ("e", "stunnel4 ↔ stunnel4", "plain", "stunnel"),
]
SSA_CFGS = ("b", "c", "d")

PROFILES = {
    # hs_s: seconds per handshake measurement; bulk: bytes each way;
    # rtt: round trips; hold: idle connections held through ssad;
    # hold_stunnel: through stunnel4 (two threads per connection, and
    # kernel.pid_max is 32768 here: fewer connections).
    "full": dict(runs=5, hs_s=2.0, bulk=1 << 30, rtt=10000, hold=10000, hold_stunnel=1000, hold_runs=1),
    "quick": dict(runs=3, hs_s=0.3, bulk=32 << 20, rtt=2000, hold=1000, hold_stunnel=300, hold_runs=1),
    "smoke": dict(runs=1, hs_s=0.1, bulk=1 << 20, rtt=100, hold=20, hold_stunnel=10, hold_runs=1),
}

SUITE_AES = "TLS_AES_128_GCM_SHA256"
SUITE_CHACHA = "TLS_CHACHA20_POLY1305_SHA256"

# Figures: key -> (title, unit, higher_is_better)
FIGURES = {
    "hs_ecdsa_c1": ("full handshakes/s, ECDSA P-256, 1 at a time", "hs/s", True),
    "hs_ecdsa_c64": ("full handshakes/s, ECDSA P-256, 64 at a time", "hs/s", True),
    "hs_rsa_c1": ("full handshakes/s, RSA-2048, 1 at a time", "hs/s", True),
    "hs_rsa_c64": ("full handshakes/s, RSA-2048, 64 at a time", "hs/s", True),
    "resume_ecdsa_c1": ("resumed handshakes/s, ECDSA P-256, 1 at a time", "hs/s", True),
    "setup_p50": ("connection set-up latency p50 (ECDSA)", "µs", False),
    "setup_p99": ("connection set-up latency p99 (ECDSA)", "µs", False),
    "bulk_aes_up": ("bulk client→server, AES-128-GCM", "MiB/s", True),
    "bulk_aes_down": ("bulk server→client, AES-128-GCM", "MiB/s", True),
    "bulk_chacha_up": ("bulk client→server, CHACHA20-POLY1305", "MiB/s", True),
    "bulk_chacha_down": ("bulk server→client, CHACHA20-POLY1305", "MiB/s", True),
    "rtt_p50": ("64-byte round trip p50", "µs", False),
    "rtt_p99": ("64-byte round trip p99", "µs", False),
    "mem_per_conn": ("service memory per idle connection (RSS)", "KiB", False),
    "held": ("idle connections held without error", "conns", True),
    # What a connection costs beyond the handshake (issue 15): ssad's own
    # count of control requests (round trips of the applications' socket
    # calls; d counts both ends), and context switches from /proc.
    "rt_conn_c1": ("control round trips per connection (ECDSA, 1 at a time)", "rt", False),
    "rt_conn_resume": ("control round trips per connection (resumed)", "rt", False),
    "cs_ssad_c1": ("ssad context switches per connection (ECDSA, 1 at a time)", "cs", False),
    "cs_client_c1": ("client context switches per connection (ECDSA, 1 at a time)", "cs", False),
    "cs_ssad_resume": ("ssad context switches per connection (resumed)", "cs", False),
    "cs_client_resume": ("client context switches per connection (resumed)", "cs", False),
    # CPU time per connection (utime + stime, /proc and getrusage): far less
    # noisy than rates on a shared machine (issue 14 item 5: the cost of
    # privilege separation is ssad's CPU per connection, before and after).
    "cpu_ssad_c1": ("ssad CPU per connection (ECDSA, 1 at a time)", "cpu-µs", False),
    "cpu_client_c1": ("client CPU per connection (ECDSA, 1 at a time)", "cpu-µs", False),
    "cpu_ssad_resume": ("ssad CPU per connection (resumed)", "cpu-µs", False),
}
# Counts, not performance: no stunnel4 comparison.
COUNT_FIGS = {f for f, (_, unit, _) in FIGURES.items() if unit in ("rt", "cs", "cpu-µs")}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def ssad_family(pid):
    """ssad's processes: its supervisor (pid), the worker(s) and key keeper
    under it (ssad(8) PROCESSES)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def ctx_switches(pid):
    """Voluntary + involuntary context switches of every thread of pid and
    of ssad's other processes under it."""
    total = 0
    if not os.path.exists(f"/proc/{pid}"):
        return None
    for p in ssad_family(pid):
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/status") as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                            total += int(line.split()[1])
            except OSError:
                pass  # a thread that ended meanwhile
    return total


def cpu_us(pid):
    """CPU time (user + system, every thread, ended ones included) of pid
    and of ssad's other processes under it, in µs."""
    if not os.path.exists(f"/proc/{pid}"):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in ssad_family(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass  # a process that ended meanwhile
    return total * 1e6 / hz


def children_cpu_us():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (ru.ru_utime + ru.ru_stime) * 1e6


def children_ctx_switches():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_nvcsw + ru.ru_nivcsw


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class Bench:
    def __init__(self, args):
        self.args = args
        self.mode = "smoke" if args.smoke else "quick" if args.quick else "full"
        self.p = dict(PROFILES[self.mode])
        if args.runs:
            self.p["runs"] = args.runs
        build = args.build
        self.build = build if os.path.isabs(build) else os.path.join(TOP, build)
        self.bin = os.path.join(self.build, "bench", "ssa-bench")
        self.ssad = os.path.join(self.build, "sbin", "ssad")
        self.libssa = os.path.join(self.build, "lib", "libssa.so")
        for f in (self.bin, self.ssad, self.libssa):
            if not os.path.exists(f):
                sys.exit(f"bench: {f} is missing (run make first)")
        self.preload = self.libssa
        if "__asan_init" in sh(f"nm -D {self.libssa} 2>/dev/null | grep -w __asan_init"):
            rt = [sh("gcc -print-file-name=libasan.so"), sh("gcc -print-file-name=libubsan.so")]
            self.preload = ":".join(rt + [self.libssa])
        self.stunnel = shutil.which("stunnel4") or shutil.which("stunnel")
        self.work = tempfile.mkdtemp(prefix="ssa-bench.")
        self.procs = []
        self.values = {f: {c[0]: [] for c in CONFIGS} for f in FIGURES}
        self.notes = {f: {} for f in FIGURES}
        self.problems = []
        self.limits = []         # measurements bounded by this machine's limits
        self.fd_limited = set()
        self.extra = {}
        self.ssad_by_sock = {}   # control socket -> ssad process
        self.ssactl = os.path.join(self.build, "bin", "ssactl")

    # ---- processes -------------------------------------------------------
    def env(self, ssa_socket=None, preload=False):
        e = dict(os.environ)
        e.pop("LD_PRELOAD", None)
        e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "detect_leaks=0")
        if ssa_socket:
            e["SSA_SOCKET"] = ssa_socket
        if preload:
            e["LD_PRELOAD"] = self.preload
        return e

    def spawn(self, name, argv, env=None, stdout=None, stdin=None):
        logf = open(os.path.join(self.work, name + ".log"), "ab")
        p = subprocess.Popen(argv, env=env or self.env(), stdout=stdout or logf, stderr=logf,
                             stdin=stdin if stdin is not None else subprocess.DEVNULL)
        p.bench_name = name
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)

    def read_line(self, p, timeout):
        """One line of p's stdout within timeout seconds, or None."""
        end = time.time() + timeout
        buf = b""
        fd = p.stdout.fileno()
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], max(0.0, end - time.time()))
            if not r:
                break
            ch = os.read(fd, 1)
            if not ch:
                break
            if ch == b"\n":
                return buf.decode(errors="replace")
            buf += ch
        return None

    def start_ssad(self, tag, suites, tickets=False):
        conf = os.path.join(self.work, f"ssad-{tag}.conf")
        sock = os.path.join(self.work, f"ssad-{tag}.sock")
        with open(conf, "w") as f:
            f.write("[global]\n")
            f.write(f"trust-store = {self.pki}/trust.pem\n")
            if suites:
                f.write(f"ciphersuites = {suites}\n")
            if tickets:
                # resumption: SSA servers issue tickets, SSA clients cache them
                f.write("session-tickets = yes\n")
            # The benchmark is one user holding 10,000 connections: without
            # this the per-user default (a quarter of ssad's descriptors)
            # binds before the descriptor limit the memory step measures.
            f.write("max-sockets-per-user = 1000000\n")
        argv = [self.ssad, "--config", conf, "--socket", sock]
        # SSA_BENCH_WORKERS=N: ssad's handshake workers (default: one per CPU)
        if os.environ.get("SSA_BENCH_WORKERS"):
            argv += ["--workers", os.environ["SSA_BENCH_WORKERS"]]
        p = self.spawn(f"ssad-{tag}", argv)
        self.ssad_by_sock[sock] = p
        for _ in range(100):
            if os.path.exists(sock):
                return p, sock
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"ssad did not start (see {self.work}/ssad-{tag}.log)")

    def start_server(self, name, mode, key=None, suites=None, tickets=False, ssa_socket=None):
        argv = [self.bin, "server", "-m", mode]
        if key:
            argv += ["-c", f"{self.pki}/{key}-chain.crt", "-k", f"{self.pki}/{key}.key"]
        if suites:
            argv += ["-S", suites]
        if tickets:
            argv += ["-T"]
        p = self.spawn(name, argv, env=self.env(ssa_socket, preload=(mode == "ssa")), stdout=subprocess.PIPE)
        line = self.read_line(p, 10)
        if not line or not line.startswith("READY "):
            raise RuntimeError(f"server {name} did not start (see {self.work}/{name}.log)")
        return p, int(line.split()[1])

    def start_stunnel_pair(self, tag, key, suites):
        """Returns (port the plain client connects to, [stunnel pids])."""
        _, backend = self.start_server(f"backend-{tag}", "plain")
        p_srv, p_cli = free_port(), free_port()
        common = "foreground = yes\npid =\ndebug = 3\n"
        opts = ("sslVersionMin = TLSv1.3\nsessionResume = no\n"
                "socket = l:TCP_NODELAY=1\nsocket = r:TCP_NODELAY=1\n")
        srv = (common + f"[srv]\naccept = 127.0.0.1:{p_srv}\nconnect = 127.0.0.1:{backend}\n"
               f"cert = {self.pki}/{key}-chain.crt\nkey = {self.pki}/{key}.key\n" + opts)
        if suites:
            srv += f"ciphersuites = {suites}\n"
        cli = (common + f"[cli]\nclient = yes\naccept = 127.0.0.1:{p_cli}\nconnect = 127.0.0.1:{p_srv}\n"
               f"CAfile = {self.pki}/trust.pem\nverifyChain = yes\ncheckHost = localhost\n"
               f"sni = localhost\n" + opts)
        pids = []
        for name, text, port in (("srv", srv, p_srv), ("cli", cli, p_cli)):
            path = os.path.join(self.work, f"stunnel-{tag}-{name}.conf")
            with open(path, "w") as f:
                f.write(text)
            p = self.spawn(f"stunnel-{tag}-{name}", [self.stunnel, path])
            if not wait_port(port):
                raise RuntimeError(f"stunnel {tag}-{name} did not start (see {self.work})")
            pids.append(p.pid)
        return p_cli, pids

    # ---- one group of measurements ----------------------------------------
    def endpoints(self, tag, key, suites, want_tickets=False):
        """Start what the five configurations need; returns {cfg: (client mode, port, env)}."""
        ssad, sock = self.start_ssad(tag, suites)
        self.cur_ssad = ssad
        srv_o, port_o = self.start_server(f"openssl-{tag}", "openssl", key, suites)
        srv_s, port_s = self.start_server(f"ssa-{tag}", "ssa", key, None, ssa_socket=sock)
        self.cur_servers = {"openssl": srv_o, "ssa": srv_s}
        # (client mode, port, env, the ssad serving either end or None)
        ep = {
            "a": ("openssl", port_o, self.env(), None),
            "b": ("ssa", port_o, self.env(sock, preload=True), sock),
            "c": ("openssl", port_s, self.env(), sock),
            "d": ("ssa", port_s, self.env(sock, preload=True), sock),
        }
        self.cur_stunnel = []
        if self.stunnel:
            port_e, self.cur_stunnel = self.start_stunnel_pair(tag, key, suites)
            ep["e"] = ("plain", port_e, self.env(), None)
        if want_tickets:
            # Resumption: an OpenSSL server issuing tickets, and a second ssad
            # with session-tickets = yes serving an SSA server and SSA clients.
            _, port_t = self.start_server(f"openssl-tickets-{tag}", "openssl", key, suites, tickets=True)
            _, sock_t = self.start_ssad(f"{tag}-tickets", suites, tickets=True)
            _, port_st = self.start_server(f"ssa-tickets-{tag}", "ssa", key, None, ssa_socket=sock_t)
            ep["a-resume"] = ("openssl", port_t, self.env(), None)
            ep["b-resume"] = ("ssa", port_t, self.env(sock_t, preload=True), sock_t)
            ep["c-resume"] = ("openssl", port_st, self.env(), sock_t)
            ep["d-resume"] = ("ssa", port_st, self.env(sock_t, preload=True), sock_t)
        return ep

    def ssad_requests(self, sock):
        """ssad's count of control requests (its STATUS "control_requests")."""
        out = sh(f"{self.ssactl} --socket {sock} --json status")
        try:
            return json.loads(out)["control_requests"]
        except (ValueError, KeyError):
            return None

    def costs(self, ep):
        """A snapshot of what a connection's cost is counted from."""
        sock = ep[3]
        p = self.ssad_by_sock.get(sock) if sock else None
        return dict(client=children_ctx_switches(),
                    ssad=ctx_switches(p.pid) if p else None,
                    client_cpu=children_cpu_us(),
                    ssad_cpu=cpu_us(p.pid) if p else None,
                    rt=self.ssad_requests(sock) if sock else 0)

    def add_costs(self, cfg, ep, before, conns, suffix):
        """Per connection between the snapshot before and now: control round
        trips (ssad's counter), context switches of ssad and of the client."""
        after = self.costs(ep)
        if not conns:
            return
        self.add(f"cs_client_{suffix}", cfg, (after["client"] - before["client"]) / conns)
        if before["ssad"] is not None and after["ssad"] is not None:
            self.add(f"cs_ssad_{suffix}", cfg, (after["ssad"] - before["ssad"]) / conns)
        if before["ssad_cpu"] is not None and after["ssad_cpu"] is not None:
            self.add(f"cpu_ssad_{suffix}", cfg, (after["ssad_cpu"] - before["ssad_cpu"]) / conns)
        if suffix == "c1":
            self.add("cpu_client_c1", cfg, (after["client_cpu"] - before["client_cpu"]) / conns)
        if before["rt"] is not None and after["rt"] is not None:
            self.add(f"rt_conn_{suffix}", cfg, (after["rt"] - before["rt"]) / conns)

    def client(self, cfg, ep, test, args, timeout):
        mode, port, env = ep[:3]
        argv = [self.bin, "client", test, "-m", mode, "-p", str(port), "-C", f"{self.pki}/trust.pem"] + args
        try:
            r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.problems.append(f"{cfg} {test} {' '.join(args)}: timed out after {timeout} s")
            return None
        res = None
        for line in r.stdout.splitlines():
            if line.startswith("{"):
                try:
                    res = json.loads(line)
                except ValueError:
                    pass
        if res is None:
            self.problems.append(f"{cfg} {test}: no result (exit {r.returncode}): {r.stderr.strip()[:300]}")
            return None
        if res.get("errors"):
            self.problems.append(f"{cfg} {test} {' '.join(args)}: {res['errors']} errors, first: {res['first_error']}")
        return res

    def add(self, fig, cfg, value):
        self.values[fig][cfg].append(value)

    def group_handshakes(self, tag, key):
        log(f"handshakes, {tag}: starting ssad, servers" + (", stunnel4" if self.stunnel else ""))
        ecdsa = tag == "ecdsa"
        ep = self.endpoints(tag, key, None, want_tickets=ecdsa)
        secs = self.p["hs_s"]
        for run in range(self.p["runs"]):
            log(f"handshakes, {tag}: run {run + 1}/{self.p['runs']}")
            for cfg, *_ in CONFIGS:
                if cfg not in ep:
                    continue
                for conc in (1, 64):
                    before = self.costs(ep[cfg])
                    r = self.client(cfg, ep[cfg], "hs", ["-t", str(conc), "-s", str(secs)], secs * 10 + 60)
                    if r and r["conns"]:
                        self.add(f"hs_{tag}_c{conc}", cfg, r["rate"])
                        if ecdsa and conc == 1:
                            self.add("setup_p50", cfg, r["p50_us"])
                            self.add("setup_p99", cfg, r["p99_us"])
                            self.add_costs(cfg, ep[cfg], before, r["conns"], "c1")
                if ecdsa:
                    r = self.client(cfg, ep[cfg], "rtt", ["-n", str(self.p["rtt"])], 300)
                    if r and r.get("rounds"):
                        self.add("rtt_p50", cfg, r["p50_us"])
                        self.add("rtt_p99", cfg, r["p99_us"])
                    if f"{cfg}-resume" in ep:
                        before = self.costs(ep[f"{cfg}-resume"])
                        r = self.client(cfg, ep[f"{cfg}-resume"], "hs", ["-t", "1", "-s", str(secs), "-r"],
                                        secs * 10 + 60)
                        if r and r["conns"]:
                            self.add("resume_ecdsa_c1", cfg, r["rate"])
                            self.add_costs(cfg, ep[f"{cfg}-resume"], before, r["conns"], "resume")
                            # each client thread's first connection is a full one
                            if r["resumed"] < r["conns"] - 1:
                                msg = f"{cfg} resume: only {r['resumed']} of {r['conns']} resumed"
                                if cfg in ("b", "d") and KTLS_CLIENTS:
                                    # The server's tickets arrive after the hand-off,
                                    # on the application's kernel-TLS socket.
                                    self.limits.append(msg + " (SSA clients on kernel TLS: tickets arrive "
                                                       "after ssad hands the socket over, so none is cached)")
                                else:
                                    self.problems.append(msg)
        self.stop_all()

    def group_bulk(self, tag, suite):
        log(f"bulk, {tag}: starting ssad (ciphersuites = {suite}), servers" + (", stunnel4" if self.stunnel else ""))
        ep = self.endpoints(tag, "server", suite)
        n = self.p["bulk"]
        for run in range(self.p["runs"]):
            log(f"bulk, {tag}: run {run + 1}/{self.p['runs']}, {n >> 20} MiB each way")
            for cfg, *_ in CONFIGS:
                if cfg not in ep:
                    continue
                for d in ("up", "down"):
                    r = self.client(cfg, ep[cfg], f"bulk-{d}", ["-b", str(n)], 600)
                    if r and r.get("mib_s"):
                        self.add(f"bulk_{tag}_{d}", cfg, r["mib_s"])
                        if r["cipher"] and r["cipher"] != suite:
                            self.problems.append(f"{cfg} bulk {tag}: negotiated {r['cipher']}, not {suite}")
        self.stop_all()

    def group_memory(self):
        log("memory: idle connections held")
        for _ in range(self.p["hold_runs"]):
            for cfg, *_ in CONFIGS:
                if cfg == "e" and not self.stunnel:
                    continue
                ep = self.endpoints(f"mem-{cfg}", "server", None)
                if cfg == "a":
                    pids, who = [self.cur_servers["openssl"].pid], "the OpenSSL server process"
                elif cfg == "e":
                    pids, who = self.cur_stunnel, "both stunnel4 processes"
                else:
                    pids, who = ssad_family(self.cur_ssad.pid), "ssad's processes"
                n = self.p["hold_stunnel"] if cfg == "e" else self.p["hold"]
                # ssad holds 2 descriptors per connection (the application's
                # stream, the TCP socket), 4 when it serves both ends (d).
                per_fd = {"b": 2, "c": 2, "d": 4}.get(cfg)
                limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
                if per_fd and per_fd * n + 64 > limit:
                    why = (f"RLIMIT_NOFILE is {limit} (the hard limit; raising it needs CAP_SYS_RESOURCE) "
                           f"and ssad needs {per_fd} descriptors per connection")
                    if cfg == "d":
                        n = (limit - 64) // per_fd
                        why += f": {n} connections held instead"
                    else:
                        why += ": some connections must fail with EMFILE"
                    self.limits.append(f"{cfg} hold: {why}")
                    self.fd_limited.add(cfg)
                self.hold(cfg, ep[cfg], n, pids, who, per_fd)
                self.stop_all()

    def hold(self, cfg, ep, n, pids, who, per_fd=None):
        mode, port, env = ep[:3]
        argv = [self.bin, "client", "hold", "-m", mode, "-p", str(port), "-C", f"{self.pki}/trust.pem",
                "-n", str(n), "-t", "16"]
        p = self.spawn(f"hold-{cfg}", argv, env=env, stdout=subprocess.PIPE, stdin=subprocess.PIPE)
        try:
            if self.read_line(p, 30) != "WARM":
                raise RuntimeError("no warm-up connection")
            time.sleep(0.3)
            before = sum(rss_kib(x) for x in pids)
            fds_before = sum(len(os.listdir(f"/proc/{x}/fd")) for x in pids)
            p.stdin.write(b"\n")
            p.stdin.flush()
            line = self.read_line(p, 600)
            if not line or not line.startswith("HELD "):
                raise RuntimeError(f"connections not held: {line}")
            _, ok, errs, secs = line.split()
            time.sleep(1.0)
            after = sum(rss_kib(x) for x in pids)
            fds_after = sum(len(os.listdir(f"/proc/{x}/fd")) for x in pids)
            alive = all(os.path.exists(f"/proc/{x}") for x in pids)
            p.stdin.write(b"\n")
            p.stdin.flush()
            res = self.read_line(p, 120)
            p.wait(30)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as ex:
            self.problems.append(f"{cfg} hold {n}: {ex} (see {self.work}/hold-{cfg}.log)")
            self.stop(p)
            return
        self.stop(p)
        ok, errs = int(ok), int(errs)
        if per_fd:
            # What ssad really holds: a connection whose handshake finished
            # but that ssad could not hand over (no descriptor left for the
            # accept record) looks held to the client.
            in_ssad = (fds_after - fds_before) // per_fd
            if in_ssad < ok:
                self.limits.append(f"{cfg} hold: the client counted {ok} connections, ssad's descriptors "
                                   f"account for {in_ssad}; figures use {in_ssad}")
                ok = in_ssad
        per = (after - before) / max(1, ok)
        self.add("mem_per_conn", cfg, per)
        self.add("held", cfg, ok)
        self.notes["mem_per_conn"][cfg] = (f"{who}: {before} → {after} KiB RSS, {fds_before} → {fds_after} "
                                           f"descriptors, {ok} conns")
        self.extra.setdefault("hold", {})[cfg] = dict(conns=n, held=ok, errors=errs, open_seconds=float(secs),
                                                     rss_before_kib=before, rss_after_kib=after, measured=who,
                                                     fds_before=fds_before, fds_after=fds_after,
                                                     service_alive=alive)
        # At the descriptor limit, the connections ssad cannot take fail with
        # EMFILE at an SSA client, or are refused (reset) before their
        # handshake when ssad serves them: both are the machine's limit.
        at_limit = fds_after >= resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64
        if (errs or ok != n) and cfg in self.fd_limited and alive and \
                (not errs or "Too many open files" in (res or "") or at_limit):
            self.limits.append(f"{cfg} hold: {ok}/{n} held by ssad, {errs} failed (EMFILE at an SSA "
                               f"client, reset by ssad before the handshake at an OpenSSL client: "
                               f"ssad at the descriptor limit, {fds_after} open); ssad stayed up")
        elif errs or ok != n or not alive:
            self.problems.append(f"{cfg} hold: {ok}/{n} held, {errs} errors, service alive: {alive}; {res}")

    # ---- results ----------------------------------------------------------
    def summarize(self):
        figs = {}
        for f, (title, unit, hib) in FIGURES.items():
            row = {}
            base = None
            vals = self.values[f].get("a") or []
            if vals:
                base = statistics.median(vals)
            for cfg, *_ in CONFIGS:
                v = self.values[f][cfg]
                cell = {"runs": [round(x, 2) for x in v]}
                if v:
                    m = statistics.median(v)
                    cell["median"] = round(m, 2)
                    if base:
                        cell["ratio"] = round(m / base, 3)
                elif f == "resume_ecdsa_c1" and cfg == "e":
                    cell["note"] = "not measured"
                elif cfg == "e" and not self.stunnel:
                    cell["note"] = "stunnel4 not installed"
                if self.notes[f].get(cfg):
                    cell["how"] = self.notes[f][cfg]
                row[cfg] = cell
            figs[f] = {"title": title, "unit": unit, "higher_is_better": hib, "configs": row}
        self.figs = figs
        self.targets = self.judge(figs)

    def judge(self, figs):
        out = []

        def med(f, c):
            return figs[f]["configs"][c].get("median")

        def add(target, cfg, fig, value, met, detail):
            out.append(dict(target=target, config=cfg, figure=fig, value=value, met=met, detail=detail))

        for f in ("hs_ecdsa_c1", "hs_ecdsa_c64", "hs_rsa_c1", "hs_rsa_c64"):
            for c in SSA_CFGS:
                r = figs[f]["configs"][c].get("ratio")
                if r is not None:
                    add("handshakes/s ≥ 0.90× baseline", c, f, r, r >= 0.90, f"{r:.2f}×")
        # Issue 15: an SSA client connects as fast as linked OpenSSL, an SSA
        # server does not regress.
        for f in ("hs_ecdsa_c1", "hs_ecdsa_c64", "hs_rsa_c1", "hs_rsa_c64", "resume_ecdsa_c1"):
            r = figs[f]["configs"]["b"].get("ratio")
            if r is not None:
                add("SSA client handshakes/s ≥ 0.95× baseline (issue 15)", "b", f, r, r >= 0.95, f"{r:.2f}×")
            r = figs[f]["configs"]["c"].get("ratio")
            if r is not None and f != "resume_ecdsa_c1":
                add("SSA server handshakes/s ≥ 0.95× baseline (issue 15)", "c", f, r, r >= 0.95, f"{r:.2f}×")
        for f, lim in (("setup_p50", 1.10), ("setup_p99", 1.20)):
            r = figs[f]["configs"]["b"].get("ratio")
            if r is not None:
                add(f"SSA client set-up latency ≤ {lim:.2f}× baseline (issue 15)", "b", f, r, r <= lim,
                    f"{r:.2f}×")
        for f in ("bulk_aes_up", "bulk_aes_down", "bulk_chacha_up", "bulk_chacha_down"):
            for c in SSA_CFGS:
                r = figs[f]["configs"][c].get("ratio")
                if r is not None:
                    add("bulk ≥ 0.80× baseline", c, f, r, r >= 0.80, f"{r:.2f}×")
        for c in SSA_CFGS:
            v, b = med("rtt_p50", c), med("rtt_p50", "a")
            if v is not None and b is not None:
                add("round-trip overhead ≤ 25 µs at p50", c, "rtt_p50", round(v - b, 1), v - b <= 25,
                    f"+{v - b:.1f} µs")
        for c in SSA_CFGS:
            v = med("mem_per_conn", c)
            if v is not None:
                lim = 80 if c == "d" else 40
                add(f"≤ 40 KiB ssad memory per idle connection" + (" (d: 2 TLS ends, ≤ 80)" if c == "d" else ""),
                    c, "mem_per_conn", v, v <= lim, f"{v:.1f} KiB")
            h = self.extra.get("hold", {}).get(c)
            if h:
                good = h["held"] == h["conns"] and h["errors"] == 0 and h["service_alive"]
                lim = " (descriptor limit, see below)" if c in self.fd_limited else ""
                add(f"{self.p['hold']} concurrent connections held without error", c, "held", h["held"],
                    good and h["conns"] >= self.p["hold"], f"{h['held']}/{h['conns']}, {h['errors']} errors{lim}")
        for f, fd in figs.items():
            if f in ("held",) or f in COUNT_FIGS:
                continue
            e = fd["configs"]["e"].get("median")
            if not e:
                continue
            for c in SSA_CFGS:
                v = fd["configs"][c].get("median")
                if not v:
                    continue
                adv = v / e if fd["higher_is_better"] else e / v
                add("SSA ≥ 1.3× better than stunnel4", c, f, round(adv, 2), adv >= 1.3, f"{adv:.2f}× stunnel4")
        return out

    def fmt(self, v, unit):
        if v is None:
            return "—"
        if unit == "conns":
            return f"{int(v):,}"
        if unit == "µs" and v >= 10000:
            return f"{v / 1000:.1f} ms"
        if v >= 1000:
            return f"{v:,.0f}"
        if v >= 100:
            return f"{v:.0f}"
        return f"{v:.1f}"

    def markdown(self, meta):
        L = []
        label = {"full": "FULL", "quick": "QUICK (small sizes, few runs: indicative only)",
                 "smoke": "SMOKE (tiny sizes: checks the harness, not performance)"}[self.mode]
        L.append(f"## SSA benchmark — {label}")
        L.append("")
        L.append(f"{meta['date']}, commit `{meta['commit']}`, {meta['nproc']} CPUs ({meta['cpu']}), "
                 f"kernel {meta['kernel']}, {meta['openssl']}, {meta['stunnel']}. "
                 f"Medians of {self.p['runs']} runs (memory: {self.p['hold_runs']} run); load average "
                 f"{meta['loadavg_start']} at start, {meta['loadavg_end']} at end.")
        L.append(f"Sizes: handshakes {self.p['hs_s']} s per figure, bulk {self.p['bulk'] >> 20} MiB each way, "
                 f"{self.p['rtt']} round trips, {self.p['hold']} idle connections "
                 f"({self.p['hold_stunnel']} through stunnel4).")
        L.append("")
        L.append("Cells: median (ratio to a). " + " · ".join(f"**{c}** {lab}" for c, lab, *_ in CONFIGS))
        L.append("")
        L.append("| figure | unit | a | b | c | d | e |")
        L.append("|---|---|---|---|---|---|---|")
        for f, fd in self.figs.items():
            cells = []
            for cfg, *_ in CONFIGS:
                c = fd["configs"][cfg]
                if "median" in c:
                    s = self.fmt(c["median"], fd["unit"])
                    if cfg != "a" and "ratio" in c and f != "held":
                        s += f" ({c['ratio']:.2f}×)"
                elif "note" in c:
                    s = c["note"]
                else:
                    s = "—"
                cells.append(s)
            arrow = "↑" if fd["higher_is_better"] else "↓"
            L.append(f"| {fd['title']} {arrow} | {fd['unit']} | " + " | ".join(cells) + " |")
        L.append("")
        L.append("↑ higher is better, ↓ lower is better. Memory: a = the in-process OpenSSL server's RSS, "
                 "b/c = ssad's, d = ssad's holding both TLS ends of each connection, e = both stunnel4 processes.")
        L.append("")
        L.append("### Targets")
        L.append("")
        L.append("| target | config | figure | measured | met |")
        L.append("|---|---|---|---|---|")
        for t in self.targets:
            L.append(f"| {t['target']} | {t['config']} | {t['figure']} | {t['detail']} | "
                     f"{'yes' if t['met'] else '**no**'} |")
        met = sum(1 for t in self.targets if t["met"])
        L.append("")
        L.append(f"{met} of {len(self.targets)} target checks met.")
        if self.limits:
            L.append("")
            L.append("### Limits of this machine")
            L.append("")
            for p in self.limits:
                L.append(f"- {p}")
        if self.problems:
            L.append("")
            L.append("### Problems during the run")
            L.append("")
            for p in self.problems:
                L.append(f"- {p}")
        return "\n".join(L) + "\n"

    # ---- main -------------------------------------------------------------
    def run(self):
        t0 = time.time()
        self.pki = os.path.join(self.work, "pki")
        subprocess.run(["bash", os.path.join(TOP, "tests/pki/gen-pki.sh"), self.pki], check=True,
                       stdout=subprocess.DEVNULL)
        if not self.stunnel:
            self.problems.append("stunnel4 not installed: configuration e skipped (make bench-deps)")
        meta = dict(
            date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            # SSA_BENCH_COMMIT names the commit of a tree exported without .git.
            commit=os.environ.get("SSA_BENCH_COMMIT") or (
                (sh(f"git -C {TOP} rev-parse --short HEAD") or "?") +
                ("-dirty" if sh(f"git -C {TOP} status --porcelain -- src bench include") else "")),
            nproc=os.cpu_count(),
            cpu=(sh("grep -m1 'model name' /proc/cpuinfo").split(":", 1) + ["?"])[1].strip(),
            kernel=os.uname().release,
            openssl=sh("openssl version"),
            stunnel=(sh(f"{self.stunnel} -version 2>&1 | grep -m1 '^stunnel'") if self.stunnel else "no stunnel4"),
            loadavg_start=open("/proc/loadavg").read().split()[0],
            mode=self.mode, build=self.args.build, profile=self.p,
            nofile=resource.getrlimit(resource.RLIMIT_NOFILE),
        )
        only = set(self.args.only.split(",")) if self.args.only else None
        try:
            steps = [("hs-ecdsa", lambda: self.group_handshakes("ecdsa", "server")),
                     ("hs-rsa", lambda: self.group_handshakes("rsa", "server-rsa")),
                     ("bulk-aes", lambda: self.group_bulk("aes", SUITE_AES)),
                     ("bulk-chacha", lambda: self.group_bulk("chacha", SUITE_CHACHA)),
                     ("memory", self.group_memory)]
            for name, fn in steps:
                if only and name not in only:
                    continue
                try:
                    fn()
                except RuntimeError as ex:
                    self.problems.append(f"{name}: {ex}")
                    self.stop_all()
        finally:
            self.stop_all()
        meta["loadavg_end"] = open("/proc/loadavg").read().split()[0]
        meta["seconds"] = round(time.time() - t0, 1)
        self.summarize()
        md = self.markdown(meta)
        md += f"\nWall time {meta['seconds']:.0f} s.\n"
        out = self.args.out or os.path.join(self.build, "bench")
        os.makedirs(out, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        doc = dict(meta=meta, configs={c: lab for c, lab, *_ in CONFIGS}, figures=self.figs,
                   targets=self.targets, problems=self.problems, limits=self.limits, hold=self.extra.get("hold", {}))
        for name in (f"results-{self.mode}-{stamp}", f"latest-{self.mode}"):
            with open(os.path.join(out, name + ".json"), "w") as f:
                json.dump(doc, f, indent=1, ensure_ascii=False)
            with open(os.path.join(out, name + ".md"), "w") as f:
                f.write(md)
        print(md)
        log(f"results in {out}/latest-{self.mode}.{{md,json}}")
        if self.args.keep:
            log(f"work directory kept: {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)
        return 1 if self.problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build directory (default build)")
    ap.add_argument("--quick", action="store_true", help="everyday mode: under 2 minutes, indicative only")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes: checks that every measurement runs")
    ap.add_argument("--runs", type=int, help="runs per figure (default 5, quick 3, smoke 1)")
    ap.add_argument("--only", help="comma-separated steps: hs-ecdsa,hs-rsa,bulk-aes,bulk-chacha,memory")
    ap.add_argument("--out", help="results directory (default BUILD/bench)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs)")
    args = ap.parse_args()
    # 10,000 held connections: descriptors for the client, ssad (two per
    # connection, four for SSA <-> SSA) and the servers. Children inherit it.
    for lim in (200000, None):
        try:
            if lim:
                resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
            else:
                hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            break
        except (ValueError, OSError):
            continue
    b = Bench(args)
    signal_handler = lambda *_: (b.stop_all(), sys.exit(130))  # noqa: E731
    import signal
    signal.signal(signal.SIGTERM, signal_handler)
    signal.signal(signal.SIGINT, signal_handler)
    sys.exit(b.run())


if __name__ == "__main__":
    main()
