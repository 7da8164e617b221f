#!/usr/bin/env python3
"""Validate remote-areas/lists.csv and remote-areas/postcodes.csv (standard library only).

Usage:  python3 check.py [POSTCODES_DIR]

Checks
  * both CSVs parse, have exactly the expected header, and use UTF-8;
  * every list in postcodes.csv is declared in lists.csv (and every declared list has rules);
  * the list ids the project relies on are present; `confirmed` is yes/no;
  * every rule has a valid kind (prefix | range | outward) and well-formed start/end, a label,
    and the same country as its list; no duplicate rules;
  * must-include / must-not-include postcodes per list (see MUST below);
  * optional cross-check against the reference postcode tables (GeoNames / Etalab files with
    schema country,postcode,place_name,admin1_code,...): every rule should match at least one
    known postcode (PO-box-only rules are reported, not failed), and a few whole-region checks
    (all 2A/2B postcodes are in fr_corsica, all AK/HI ZIPs in us_non_contiguous, all X*/Y* FSAs
    in ca_remote, no contiguous-state ZIP in us_non_contiguous ...).
    The reference directory is POSTCODES_DIR, else $REMOTE_AREAS_POSTCODES_DIR, else ../postcodes
    next to this folder, else /work/shared/data/postcodes; skipped if none exists.

Exit status 0 when there are no errors (warnings are printed but do not fail).
"""
import csv
import os
import re
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
LISTS_HEADER = ["list", "country", "name", "source", "confirmed"]
RULES_HEADER = ["list", "country", "kind", "start", "end", "label"]
KINDS = {"prefix", "range", "outward"}
REQUIRED_LISTS = {
    "us_non_contiguous", "gb_highlands_islands", "gb_offshore", "de_islands", "fr_corsica",
    "fr_overseas", "au_remote", "ca_remote",
}
OPTIONAL_LISTS = {"jp_remote_islands"}

# list -> (must match, must not match); postcodes as a user might type them
MUST = {
    "us_non_contiguous": (
        ["99501", "99950", "99801-1234", "96813", "96701", "96898", "00901", "00603", "00716",
         "00802", "00830", "96910", "96932", "96799", "96950", "96952", "96941", "96944",
         "96960", "96970", "96939", "96940"],
        ["10001", "98101", "90210", "96001", "97201", "01001", "20500", "96201", "09001", "34001"],
    ),
    "gb_highlands_islands": (
        ["HS1 2AB", "HS1", "ZE1 0AA", "ZE1", "KW15 1AA", "KW15", "IV27 4AA", "IV27", "IV1 1AA",
         "PA20 9AA", "PA78 6TB", "PH33 6AA", "KA27 8AA", "AB37 9AA", "FK21 8AA", "PH50 4AA"],
        ["AB10 1AA", "AB39 2AA", "AB41 9AA", "PA1 1AA", "PA19 1AA", "PA50", "PH1 1AA", "PH27",
         "FK16 6AA", "EH1 1AA", "G1 1AA", "KA26 9AA", "SW1A 1AA", "IVY", "HSX 1AA"],
    ),
    "gb_offshore": (
        ["BT1 1AA", "BT94 1AA", "TR21 0AA", "TR25 0AA", "PO30 1AA", "PO41 0AA", "PO301AA"],
        ["PO1 1AA", "PO29 1AA", "PO42", "TR1 1AA", "TR20 8AA", "TR26 1AA", "SW1A 1AA", "IM1 1AA",
         "GY1 1AA", "JE2 3AA"],
    ),
    "de_islands": (
        ["25980", "25992", "25996", "25997", "25999", "26548", "27498", "18565", "25938",
         "25946", "26757", "26571", "26579", "26465", "26474", "26486", "25849", "25859",
         "25863", "25869", "27499", "83256"],
        ["10115", "25813", "25899", "25927", "25845", "26506", "26409", "18569", "23769",
         "17424", "27472", "83209"],
    ),
    "fr_corsica": (
        ["20000", "20090", "20100", "20190", "20200", "20600", "20620", "20 000"],
        ["75001", "21000", "2000", "19000", "06000", "97100"],
    ),
    "fr_overseas": (
        ["97100", "97133", "97150", "97200", "97300", "97400", "97500", "97600", "97680"],
        ["75001", "98000", "98800", "96000", "20000", "97000"],
    ),
    "au_remote": (
        ["0872", "0870", "0822", "6770", "6725", "6743", "6798", "6799", "4875", "4876", "7256",
         "7255", "7257", "2899", "2898", "2880", "5723", "5220", "4825", "6440", "7151"],
        ["2000", "3000", "4000", "5000", "6000", "7000", "0800", "0810", "0830", "2600", "4870",
         "6160", "7250"],
    ),
    "ca_remote": (
        ["X0A", "X0A 0H0", "X1A", "X1A 2N5", "Y1A", "Y1A 1A1", "X0E 0T0", "Y0B 1G0", "J0M 1C0",
         "G4T 1A1", "A0P 1A0", "R0B 0E0"],
        ["M5V", "M5V 3L9", "H2X 1Y4", "V6B 1A1", "A0P 1C0", "R0B 2J0", "J0L 1A0", "T0A",
         "XOA"],
    ),
    "jp_remote_islands": (
        ["100-2101", "100-2211", "100-0101", "100-0211", "100-0301", "100-0401", "100-0511",
         "100-0601", "100-1101", "100-1211", "100-1301", "100-1401", "100-1511", "100-1701",
         "1002101"],
        ["100-0001", "100-0014", "100-6090", "100-8111", "101-0021", "100-2300", "160-0022"],
    ),
}

errors = []
warnings = []


def err(msg):
    errors.append(msg)


def warn(msg):
    warnings.append(msg)


def read_csv(path, header):
    with open(path, encoding="utf-8", newline="") as f:
        raw = f.read()
    if raw.startswith("\ufeff"):
        err(f"{os.path.basename(path)}: has a BOM")
        raw = raw[1:]
    if "\r" in raw:
        err(f"{os.path.basename(path)}: CR line endings (expected LF)")
    rows = list(csv.reader(raw.splitlines()))
    if not rows or rows[0] != header:
        err(f"{os.path.basename(path)}: header {rows[0] if rows else None} != {header}")
        return []
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            err(f"{os.path.basename(path)}:{n}: {len(row)} fields, expected {len(header)}: {row}")
            continue
        if any(v != v.strip() for v in row):
            err(f"{os.path.basename(path)}:{n}: leading/trailing whitespace in {row}")
        d = dict(zip(header, row))
        d["_line"] = n
        out.append(d)
    return out


# ---------------------------------------------------------------- matching
OUTWARD_RE = re.compile(r"^([A-Z]{1,2})(?:(\d{1,2})([A-Z]?))?$")


def norm_prefix(pc):
    return pc.upper().replace(" ", "")


def norm_range(pc):
    return pc.upper().replace(" ", "").replace("-", "")


def gb_outward(pc):
    """Outward code of a GB postcode given in full ('HS1 2AB', 'HS12AB') or as outward only ('HS1')."""
    s = pc.strip().upper()
    if " " in s:
        return s.split()[0]
    s = s.replace("-", "")
    if len(s) >= 5 and re.match(r"^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$", s):
        return s[:-3]
    return s


def rule_matches(rule, pc):
    kind, start, end = rule["kind"], rule["start"], rule["end"]
    if kind == "prefix":
        return norm_prefix(pc).startswith(start)
    if kind == "range":
        p = norm_range(pc)
        return len(p) == len(start) and start <= p <= end
    if kind == "outward":
        m = OUTWARD_RE.match(gb_outward(pc))
        if not m:
            return False
        letters, num = m.group(1), m.group(2)
        rs = OUTWARD_RE.match(start)
        if rs.group(1) != letters:
            return False
        if rs.group(2) is None:  # whole area, e.g. "HS"
            return True
        if num is None:
            return False
        lo = int(rs.group(2))
        hi = int(OUTWARD_RE.match(end).group(2)) if end else lo
        return lo <= int(num) <= hi
    return False


def match_list(rules, pc):
    return [r for r in rules if rule_matches(r, pc)]


# ---------------------------------------------------------------- validation
def validate(lists, rules):
    ids = Counter(l["list"] for l in lists)
    for k, v in ids.items():
        if v > 1:
            err(f"lists.csv: list '{k}' declared {v} times")
    by_id = {l["list"]: l for l in lists}
    for l in lists:
        if l["confirmed"] not in ("yes", "no"):
            err(f"lists.csv:{l['_line']}: confirmed must be yes/no, got '{l['confirmed']}'")
        if not re.match(r"^[A-Z]{2}$", l["country"]):
            err(f"lists.csv:{l['_line']}: bad country '{l['country']}'")
        for field in ("name", "source"):
            if not l[field]:
                err(f"lists.csv:{l['_line']}: empty {field}")
    missing = REQUIRED_LISTS - set(by_id)
    if missing:
        err(f"lists.csv: required lists missing: {sorted(missing)}")
    extra = set(by_id) - REQUIRED_LISTS - OPTIONAL_LISTS
    if extra:
        warn(f"lists.csv: lists not known to check.py: {sorted(extra)}")

    seen = set()
    for r in rules:
        where = f"postcodes.csv:{r['_line']}"
        if r["list"] not in by_id:
            err(f"{where}: list '{r['list']}' not in lists.csv")
        elif r["country"] != by_id[r["list"]]["country"]:
            err(f"{where}: country {r['country']} != list country {by_id[r['list']]['country']}")
        if r["kind"] not in KINDS:
            err(f"{where}: invalid kind '{r['kind']}'")
            continue
        if not r["label"]:
            err(f"{where}: empty label")
        key = (r["list"], r["kind"], r["start"], r["end"])
        if key in seen:
            err(f"{where}: duplicate rule {key}")
        seen.add(key)
        s, e = r["start"], r["end"]
        if r["kind"] == "prefix":
            if not re.match(r"^[A-Z0-9]+$", s):
                err(f"{where}: prefix start must be uppercase letters/digits, got '{s}'")
            if e:
                err(f"{where}: prefix rule must have empty end")
        elif r["kind"] == "range":
            if not (re.match(r"^[A-Z0-9]+$", s) and re.match(r"^[A-Z0-9]+$", e)):
                err(f"{where}: range start/end must be uppercase letters/digits ('{s}','{e}')")
            elif len(s) != len(e):
                err(f"{where}: range start/end lengths differ ('{s}','{e}')")
            elif s > e:
                err(f"{where}: range start > end ('{s}','{e}')")
        elif r["kind"] == "outward":
            ms = OUTWARD_RE.match(s)
            if not ms or ms.group(3):
                err(f"{where}: outward start must be letters + optional number, got '{s}'")
                continue
            if e:
                me = OUTWARD_RE.match(e)
                if ms.group(2) is None:
                    err(f"{where}: whole-area outward rule '{s}' must have empty end")
                elif not me or me.group(3) or me.group(1) != ms.group(1) or me.group(2) is None:
                    err(f"{where}: outward end '{e}' must be same letters + number")
                elif int(me.group(2)) < int(ms.group(2)):
                    err(f"{where}: outward end '{e}' < start '{s}'")
    for l in by_id:
        if not any(r["list"] == l for r in rules):
            err(f"lists.csv: list '{l}' has no rules in postcodes.csv")


def overlap_report(rules):
    """Warn about rules of one list that overlap (harmless for the flag, ambiguous for labels)."""
    by_list = defaultdict(list)
    for r in rules:
        by_list[r["list"]].append(r)
    for lst, rs in by_list.items():
        for i, a in enumerate(rs):
            for b in rs[i + 1:]:
                if a["kind"] != b["kind"]:
                    continue
                if a["kind"] == "prefix" and (a["start"].startswith(b["start"]) or b["start"].startswith(a["start"])):
                    warn(f"{lst}: prefix rules overlap: {a['start']} / {b['start']}")
                if a["kind"] == "range" and len(a["start"]) == len(b["start"]) and not (a["end"] < b["start"] or b["end"] < a["start"]):
                    warn(f"{lst}: range rules overlap: {a['start']}-{a['end']} / {b['start']}-{b['end']}")


def must_checks(rules):
    by_list = defaultdict(list)
    for r in rules:
        by_list[r["list"]].append(r)
    n = 0
    for lst, (yes, no) in MUST.items():
        if lst not in by_list:
            if lst in REQUIRED_LISTS:
                err(f"must-check: list {lst} missing")
            continue
        for pc in yes:
            n += 1
            if not match_list(by_list[lst], pc):
                err(f"must-include: {lst} does not match '{pc}'")
        for pc in no:
            n += 1
            hit = match_list(by_list[lst], pc)
            if hit:
                err(f"must-not-include: {lst} matches '{pc}' via {hit[0]['kind']} {hit[0]['start']}-{hit[0]['end']}")
    return n


# ---------------------------------------------------------------- reference cross-check
def find_ref_dir(argv):
    cands = []
    if len(argv) > 1:
        cands.append(argv[1])
    if os.environ.get("REMOTE_AREAS_POSTCODES_DIR"):
        cands.append(os.environ["REMOTE_AREAS_POSTCODES_DIR"])
    cands += [os.path.join(HERE, "..", "postcodes"), "/work/shared/data/postcodes"]
    for c in cands:
        if os.path.isdir(c):
            return os.path.abspath(c)
    return None


def load_ref(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


REF_FILES = {"US": "US_geonames.csv", "GB": "GB_outward.csv", "DE": "DE.csv", "FR": "FR_communes_no_coords.csv",
             "AU": "AU.csv", "CA": "CA_fsa.csv"}
EXTRA_REF = {"US": "US_zcta.csv"}  # has PR/VI/GU/AS/MP ZIPs that GeoNames US lacks
CONTIGUOUS = set("AL AZ AR CA CO CT DE DC FL GA ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
                 "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split())


def cross_check(rules, refdir):
    lines = []
    by_list = defaultdict(list)
    for r in rules:
        by_list[r["list"]].append(r)
    refs = {}
    for c, fn in REF_FILES.items():
        rows = load_ref(os.path.join(refdir, fn)) or []
        if c in EXTRA_REF:
            rows += [x for x in (load_ref(os.path.join(refdir, EXTRA_REF[c])) or [])]
        refs[c] = rows
    for lst, rs in sorted(by_list.items()):
        c = rs[0]["country"]
        ref = refs.get(c)
        if not ref:
            lines.append(f"  {lst:22s} no reference table for {c}: skipped")
            continue
        pcs = sorted({x["postcode"] for x in ref})
        matched = [p for p in pcs if match_list(rs, p)]
        lines.append(f"  {lst:22s} matches {len(matched):5d} of {len(pcs):6d} reference postcodes ({REF_FILES[c]})")
        unmatched = []
        for r in rs:
            if any(rule_matches(r, p) for p in pcs):
                continue
            # reference is coarser than the rule (CA: FSA only): accept if the FSA exists
            if r["kind"] == "prefix" and any(r["start"].startswith(p) for p in pcs if len(p) < len(r["start"])):
                continue
            unmatched.append(r)
        if unmatched:
            # expected for PO-box / large-recipient codes (not in GeoNames), unassigned ZIP blocks,
            # and Freely Associated States (no rows in the US reference files)
            warn(f"{lst}: {len(unmatched)} rule(s) match no reference postcode: "
                 + ", ".join(f"{r['start']}{'-' + r['end'] if r['end'] and r['end'] != r['start'] else ''}" for r in unmatched))
    # whole-region checks
    us = refs.get("US") or []
    if us and "us_non_contiguous" in by_list:
        rs = by_list["us_non_contiguous"]
        for x in us:
            st = x["admin1_code"]
            hit = bool(match_list(rs, x["postcode"]))
            if st in ("AK", "HI") and not hit:
                err(f"us_non_contiguous: {st} ZIP {x['postcode']} ({x['place_name']}) not matched")
            if st in CONTIGUOUS and hit:
                err(f"us_non_contiguous: contiguous-state ZIP {x['postcode']} {st} matched")
    fr = refs.get("FR") or []
    if fr and "fr_corsica" in by_list and "fr_overseas" in by_list:
        for x in fr:
            corse = x["admin2_code"] in ("2A", "2B")
            if corse != bool(match_list(by_list["fr_corsica"], x["postcode"])):
                err(f"fr_corsica: {x['postcode']} {x['place_name']} dept {x['admin2_code']} mismatch")
            dom = x["admin2_code"].startswith("97")
            if dom != bool(match_list(by_list["fr_overseas"], x["postcode"])):
                err(f"fr_overseas: {x['postcode']} {x['place_name']} dept {x['admin2_code']} mismatch")
    ca = refs.get("CA") or []
    if ca and "ca_remote" in by_list:
        for x in ca:
            if x["postcode"][0] in "XY" and not match_list(by_list["ca_remote"], x["postcode"]):
                err(f"ca_remote: territorial FSA {x['postcode']} not matched")
    de = refs.get("DE") or []
    if de and "de_islands" in by_list:
        places = sorted({f"{x['postcode']} {x['place_name']}" for x in de if match_list(by_list["de_islands"], x["postcode"])})
        lines.append("  de_islands places: " + "; ".join(places))
    au = refs.get("AU") or []
    if au and "au_remote" in by_list:
        per_state = Counter()
        for p in sorted({(x["postcode"], x["admin1_code"]) for x in au}):
            if match_list(by_list["au_remote"], p[0]):
                per_state[p[1]] += 1
        lines.append("  au_remote postcodes per state: " + ", ".join(f"{k}={v}" for k, v in sorted(per_state.items())))
    return lines


def main(argv):
    lists = read_csv(os.path.join(HERE, "lists.csv"), LISTS_HEADER)
    rules = read_csv(os.path.join(HERE, "postcodes.csv"), RULES_HEADER)
    validate(lists, rules)
    overlap_report(rules)
    n_must = must_checks(rules)

    print("remote-areas check")
    print(f"  lists.csv: {len(lists)} lists; postcodes.csv: {len(rules)} rules")
    cnt = Counter(r["list"] for r in rules)
    kinds = defaultdict(Counter)
    for r in rules:
        kinds[r["list"]][r["kind"]] += 1
    for l in lists:
        k = ", ".join(f"{a}={b}" for a, b in sorted(kinds[l["list"]].items()))
        print(f"  {l['list']:22s} {l['country']}  confirmed={l['confirmed']:3s} rules={cnt[l['list']]:4d} ({k})")
    print(f"  must-include/must-not-include probes: {n_must}")
    refdir = find_ref_dir(argv)
    if refdir:
        print(f"  reference postcodes: {refdir}")
        for line in cross_check(rules, refdir):
            print(line)
    else:
        print("  reference postcodes: not found, cross-check skipped")
    for w in warnings:
        print("WARNING:", w)
    for e in errors:
        print("ERROR:", e)
    print(f"result: {'OK' if not errors else 'FAILED'} ({len(errors)} errors, {len(warnings)} warnings)")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
