#!/usr/bin/env python3
"""extract-vmlinux.py VMLINUZ OUT: write the uncompressed kernel ELF inside a
bzImage (xz or zstd payload) to OUT. QEMU boots the ELF through PVH, skipping
the slow in-guest decompressor (see tests/kernel/run.sh)."""
import lzma
import subprocess
import sys

src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
elf = None
# xz: Debian 6.1.  zstd: Debian 6.12.
for magic in (b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd"):
    pos = data.find(magic)
    while pos >= 0 and elf is None:
        try:
            if magic.startswith(b"\xfd7z"):
                cand = lzma.LZMADecompressor().decompress(data[pos:])
            else:
                # zstd stops at the end of the frame; trailing bytes make it
                # complain, which is fine when what came out is an ELF.
                cand = subprocess.run(["zstd", "-dcq"], input=data[pos:],
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL).stdout
        except (lzma.LZMAError, OSError):
            cand = b""
        if cand[:4] == b"\x7fELF":
            elf = cand
        else:
            pos = data.find(magic, pos + 1)
    if elf:
        break
if elf is None:
    sys.exit(f"extract-vmlinux: no xz/zstd-compressed ELF found in {src}")
with open(out + ".tmp", "wb") as f:
    f.write(elf)
import os
os.replace(out + ".tmp", out)
