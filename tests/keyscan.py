#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""keyscan.py PID KEYFILE...: look for private-key bytes in a process.

For each PEM private key, the secret numbers (EC: the private scalar; RSA:
d, p and q, from `openssl pkey -text`) are searched in every readable
mapping of PID (/proc/PID/maps + /proc/PID/mem), big-endian and
little-endian (OpenSSL's BIGNUM words are little-endian in memory).
Prints one line per number: "FOUND key name order" or "absent key name";
exit status 0 if something was found, 1 if nothing was, 2 on error.
Mappings larger than 1 GiB (sanitizer shadow) are left out.
"""
import re
import subprocess
import sys

FIELDS = {"priv": "EC scalar", "privateExponent": "d", "prime1": "p", "prime2": "q"}


def secrets(path):
    text = subprocess.run(["openssl", "pkey", "-in", path, "-noout", "-text"], check=True,
                          capture_output=True, text=True).stdout
    out, cur, hexes = [], None, []
    for line in text.splitlines() + ["end:"]:
        m = re.match(r"^(\w+):", line)
        if m:
            if cur in FIELDS and hexes:
                n = int("".join(hexes), 16)
                out.append((FIELDS[cur], n.to_bytes((n.bit_length() + 7) // 8, "big")))
            cur, hexes = m.group(1), []
        elif cur and re.match(r"^\s+[0-9a-f:]+$", line):
            hexes.append(line.strip().replace(":", ""))
    return out


def memory(pid):
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in addr.split("-"))
            if perms[0] != "r" or hi - lo > (1 << 30):
                continue
            try:
                mem.seek(lo)
                yield mem.read(hi - lo)
            except OSError:
                continue


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    pid = sys.argv[1]
    wanted = [(k, name, b) for k in sys.argv[2:] for name, b in secrets(k)]
    if not wanted:
        print("no secret numbers read from the keys", file=sys.stderr)
        return 2
    found = {}
    for chunk in memory(pid):
        for k, name, b in wanted:
            for order, pat in (("big-endian", b), ("little-endian", b[::-1])):
                if chunk.find(pat) >= 0:
                    found.setdefault((k, name), order)
    for k, name, _ in wanted:
        o = found.get((k, name))
        print(f"FOUND {k} {name} {o}" if o else f"absent {k} {name}")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
