#!/usr/bin/env python3
"""Time the Python peers of lastmile's address parser, one pass at a time, on request.

Usage:
    .venv/bin/python scripts/bench/peer_bench.py ADDRESSES.txt

ADDRESSES.txt holds one address per line (UTF-8; blank lines are skipped). The script loads both peers, runs
a short untimed warm-up through each, and prints one JSON line:
  {"ready": true, "n": ..., "python": "3.11.x", "usaddress_version": "...", "scourgify_version": "..."}
Then, for each line it reads on stdin naming a peer, it makes one whole pass over the addresses on one thread
and prints {"peer", "n", "seconds", "errors"}:
  usaddress  usaddress.tag(addr)               (RepeatedLabelError counts as an error)
  scourgify  normalize_address_record(addr)    (any exception counts as an error)
It stops at the end of its input. `lastmile bench address` drives it so that lastmile and each peer take turns
in the same rounds, and so meet the same moments of the machine's load.
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


PEERS = {"usaddress": run_usaddress, "scourgify": run_scourgify}


def one_pass(fn, lines):
    errors = 0
    start = time.perf_counter()
    for addr in lines:
        if not fn(addr):
            errors += 1
    return time.perf_counter() - start, errors


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    with open(argv[1], encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()]
    for fn in PEERS.values():
        for addr in lines[:WARMUP]:
            fn(addr)
    reply({"ready": True, "n": len(lines), "python": platform.python_version(),
           "usaddress_version": version("usaddress"),
           "scourgify_version": version("usaddress-scourgify")})
    for request in sys.stdin:
        name = request.strip()
        if name not in PEERS:
            reply({"error": f"unknown peer {name!r}; expected one of {sorted(PEERS)}"})
            continue
        seconds, errors = one_pass(PEERS[name], lines)
        reply({"peer": name, "n": len(lines), "seconds": seconds, "errors": errors})


if __name__ == "__main__":
    main(sys.argv)
