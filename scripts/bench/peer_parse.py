#!/usr/bin/env python3
"""Print scourgify's normalized record for each address, one JSON line per input line.

Usage: .venv/bin/python scripts/bench/peer_parse.py [ADDRESSES.txt]   (default: stdin)

Output per line: {"address_line_1", "address_line_2", "city", "state", "postal_code"}
or {"error": "ExceptionType: message"}. Blank input lines give {"error": "empty"}, so
output line N always belongs to input line N.
"""

import fileinput
import json

from scourgify import normalize_address_record

for line in fileinput.input(encoding="utf-8"):
    addr = line.strip()
    try:
        out = dict(normalize_address_record(addr)) if addr else {"error": "empty"}
    except Exception as e:  # scourgify raises several of its own error types
        out = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out, ensure_ascii=False))
