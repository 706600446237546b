#!/usr/bin/python3
"""Summarizes a meson testlog.json: one line per test, Check's own summary line where
the test is a Check suite, and a closing `total:` line that counts Check test cases
(a Check suite counts its cases; any other test counts as one). Cases that printed
`SKIP name:` (missing national data) are counted as skipped, not passed."""
import json
import re
import sys

CHECK = re.compile(r"(\d+)%: Checks: (\d+), Failures: (\d+), Errors: (\d+)")
SKIP = re.compile(r"^SKIP \S+:", re.M)

passed = failed = skipped = 0
for line in open(sys.argv[1], encoding="utf-8"):
    t = json.loads(line)
    name, result, out = t["name"], t["result"], t.get("stdout") or ""
    m = CHECK.search(out)
    if result in ("SKIP",):
        skipped += 1
        print(f"  SKIP {name}")
        continue
    if m:
        n, f, e = int(m.group(2)), int(m.group(3)), int(m.group(4))
        s = len(SKIP.findall(out))
        bad = f + e
        if result != "OK" and bad == 0:
            bad = 1  # crashed or timed out after Check's summary
        passed += max(n - bad - s, 0)
        skipped += s
        failed += bad
        print(f"  {result:7} {name}: {m.group(0)}" + (f" ({s} skipped)" if s else ""))
    else:
        if result == "OK":
            passed += 1
        else:
            failed += 1
        print(f"  {result:7} {name}")
print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
