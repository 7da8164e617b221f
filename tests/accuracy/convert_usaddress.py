#!/usr/bin/env python3
"""Convert usaddress's labelled training XML into JSON Lines (standard library only).

Usage:
    pip download --no-binary :all: --no-deps usaddress==0.5.16 -d /tmp/ua
    python3 tests/accuracy/convert_usaddress.py /tmp/ua/usaddress-0.5.16.tar.gz
    python3 tests/accuracy/convert_usaddress.py SDIST_OR_DIR [--out-dir DIR]
        [--member training/labeled.xml=usaddress_labeled.jsonl ...]

SDIST_OR_DIR is the usaddress sdist (.tar.gz) or its unpacked top directory.
Without --member the files listed in DEFAULT_MEMBERS are converted. --out-dir
defaults to this script's directory (tests/accuracy). A summary (addresses and
label counts per file) is printed to stderr.

Each XML <AddressString> becomes one line:
    {"text": "...", "labels": [["token", "Label"], ...], "source": "training/labeled.xml"}
"text" is the element's whole text content (tokens with the original spacing and
punctuation between them, as parserator's readTrainingData reads it), with leading
and trailing whitespace stripped; a few addresses keep inner newlines. "labels" are
the raw (child text, child tag) pairs in order, unmodified: a token may carry
punctuation ("Road,") or, rarely, a trailing newline. "source" is the XML file's
path inside the sdist.
"""

import argparse
import collections
import io
import json
import os
import sys
import tarfile
import xml.etree.ElementTree as ET

DEFAULT_MEMBERS = {
    # canonical corpus: the shipped usaddress model is trained on this file
    "training/labeled.xml": "usaddress_labeled.jsonl",
    # hand-labelled, not in labeled.xml (held out from the shipped model)
    "training/us50_train_tagged.xml": "usaddress_us50_train_tagged.jsonl",
    "training/us50_messiest_manual_label.xml": "usaddress_us50_messiest_manual_label.jsonl",
}


def read_member(src, member):
    """Bytes of `member` (a path like training/labeled.xml) from an sdist or directory."""
    if os.path.isdir(src):
        with open(os.path.join(src, member), "rb") as f:
            return f.read()
    with tarfile.open(src, "r:*") as tar:
        for info in tar.getmembers():
            # sdist members are prefixed with "usaddress-X.Y.Z/"
            if info.isfile() and info.name.split("/", 1)[-1] == member:
                return tar.extractfile(info).read()
    raise SystemExit(f"{member} not found in {src}")


def convert(xml_bytes, source):
    root = ET.parse(io.BytesIO(xml_bytes)).getroot()
    for address in root:
        labels = [[child.text or "", child.tag] for child in address]
        text = "".join(address.itertext()).strip()
        yield {"text": text, "labels": labels, "source": source}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", help="usaddress sdist .tar.gz or its unpacked directory")
    ap.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--member", action="append", metavar="XML=JSONL",
                    help="sdist path and output file name (repeatable)")
    args = ap.parse_args(argv)

    members = DEFAULT_MEMBERS
    if args.member:
        members = dict(m.split("=", 1) for m in args.member)

    for member, out_name in members.items():
        records = list(convert(read_member(args.src, member), member))
        out_path = os.path.join(args.out_dir, out_name)
        with open(out_path, "w", encoding="utf-8", newline="\n") as out:
            for rec in records:
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        counts = collections.Counter(label for rec in records for _, label in rec["labels"])
        print(f"{member} -> {out_path}: {len(records)} addresses, "
              f"{sum(counts.values())} tokens", file=sys.stderr)
        for label, n in counts.most_common():
            print(f"  {label:28} {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
