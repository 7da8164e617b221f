#!/usr/bin/env python3
"""Time the Python peers of lastmile's address parser on a file of addresses.

Usage:
    .venv/bin/python scripts/bench/peer_bench.py ADDRESSES.txt [MAX_SECONDS_PER_PEER]

ADDRESSES.txt holds one address per line (UTF-8; blank lines are skipped). After a
short untimed warm-up, each peer runs over the whole file on one thread:
  usaddress  usaddress.tag(addr)               (RepeatedLabelError counts as an error)
  scourgify  normalize_address_record(addr)    (any exception counts as an error)
With MAX_SECONDS_PER_PEER a peer makes whole passes until that much time has passed and
reports its fastest pass, as `lastmile bench address` reports its own: the figure least
disturbed by other work on the machine. A first pass that alone overruns the budget stops
there and reports the addresses it processed. Without it, one pass. Prints one JSON line:
  {"usaddress": {"n", "seconds", "per_sec", "errors", "passes"}, "scourgify": {...},
   "python": "3.11.x", "usaddress_version": "...", "scourgify_version": "..."}
"""

import json
import platform
import sys
import time
from importlib.metadata import version

import usaddress
from scourgify import normalize_address_record

WARMUP = 200  # addresses run untimed through each peer first


def run_usaddress(addr):
    try:
        usaddress.tag(addr)
        return True
    except usaddress.RepeatedLabelError:
        return False


def run_scourgify(addr):
    try:
        normalize_address_record(addr)
        return True
    except Exception:  # scourgify raises several of its own error types
        return False


def one_pass(fn, lines, deadline):
    n = errors = 0
    start = time.perf_counter()
    for addr in lines:
        if not fn(addr):
            errors += 1
        n += 1
        if time.perf_counter() >= deadline:
            break
    return n, time.perf_counter() - start, errors


def bench(fn, lines, max_seconds):
    for addr in lines[:WARMUP]:
        fn(addr)
    started = time.perf_counter()
    deadline = started + max_seconds if max_seconds else float("inf")
    n, seconds, errors = one_pass(fn, lines, deadline)
    passes = 1
    # Later passes run whole; the budget is checked between them.
    while max_seconds and n == len(lines) and time.perf_counter() < deadline:
        _, again, _ = one_pass(fn, lines, float("inf"))
        seconds = min(seconds, again)
        passes += 1
    return {"n": n, "seconds": round(seconds, 4),
            "per_sec": round(n / seconds, 1) if seconds > 0 else None, "errors": errors,
            "passes": passes}


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    with open(argv[1], encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()]
    max_seconds = float(argv[2]) if len(argv) == 3 else None
    result = {
        "usaddress": bench(run_usaddress, lines, max_seconds),
        "scourgify": bench(run_scourgify, lines, max_seconds),
        "python": platform.python_version(),
        "usaddress_version": version("usaddress"),
        "scourgify_version": version("usaddress-scourgify"),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
