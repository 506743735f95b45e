"""What first touching fresh memory costs on this machine (issue 27's first-epoch row).

    python3 bench/first_touch.py [--gib 1] [--rounds 3]

A training process's first step writes its whole working set for the first time, and each page
the kernel hands it is zeroed (and, in a VM, may first have to be backed by the host). This maps
--gib GiB of anonymous memory, writes one byte per 4 KiB page, and reports the seconds per GiB,
for plain 4 KiB pages and for transparent huge pages (`madvise(MADV_HUGEPAGE)`, what mimalloc
asks for); then the same mapping written again (memory already there: the cost of the write
alone). Each round is a fresh process, so the kernel's pools start as a new `cxr` would find them.
"""

import argparse
import mmap
import subprocess
import sys
import time

PAGE = 4096


def one(gib, huge):
    size = gib << 30
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if huge:
        m.madvise(mmap.MADV_HUGEPAGE)
    start = time.perf_counter()
    for i in range(0, size, PAGE):
        m[i] = 1
    first = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, size, PAGE):
        m[i] = 2
    again = time.perf_counter() - start
    print(f"{first / gib:.3f} {again / gib:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", choices=["4k", "huge"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.gib, args.one == "huge")
        return
    print("pages  round  first touch s/GiB  written again s/GiB")
    for r in range(args.rounds):
        for kind in ("4k", "huge"):
            out = subprocess.run([sys.executable, __file__, "--one", kind, "--gib", str(args.gib)],
                                 capture_output=True, text=True, check=True).stdout.split()
            print(f"{kind:5}  {r + 1:5}  {float(out[0]):17.3f}  {float(out[1]):19.3f}")


if __name__ == "__main__":
    main()
