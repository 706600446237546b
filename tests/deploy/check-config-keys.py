#!/usr/bin/python3
"""check-config-keys.py SRCDIR: proves lienthong.conf(5) documents, with a default,
every configuration key the code reads.

Keys read are found by grepping every .c file of signaling/ and mcu/ for calls that
take a GKeyFile, a group literal and a key literal: g_key_file_get_*/has_key
(kf, "group", "key") and sig-config.c's get_int (kf, "group", "key", ...). A key whose
group or name is not a literal cannot be checked and fails the test too, so that
nobody reads configuration the documentation cannot follow. Documented keys are the
`\\fBkey\\fR = ...` entries under `.SS [group]` headings of man/lienthong.conf.5; each
must say "Default:". Keyfiles that are not configuration are listed in NOT_CONFIG
with the reason, and groups of a file that are not configuration in NOT_CONFIG_GROUPS.
"""
import pathlib
import re
import sys

# file -> why its keyfile reads are not configuration
NOT_CONFIG = {
    "signaling/sig-server.c": "the [sequence] keyfile an older signald left, read once on upgrade",
}

# (file, group) -> why that group of a file's keyfile reads is not configuration
NOT_CONFIG_GROUPS = {
    ("signaling/ltctl.c", "session"): "the session file `ltctl login` writes and reads (ltctl(1))",
}

# helpers taking (kf, "group", "key", ...) whose calls are scanned like GLib's
HELPERS = {"get_int"}

CALL = re.compile(
    r'\b(g_key_file_(?:get_\w+|has_key)|' + '|'.join(sorted(HELPERS)) + r')\s*\(\s*\w+\s*,\s*([^,]+?)\s*,\s*([^,)]+?)\s*[,)]')


def keys_read(src):
    found, bad = {}, []
    for path in sorted(list((src / "signaling").glob("*.c")) + list((src / "mcu").glob("*.c"))):
        rel = path.relative_to(src).as_posix()
        if rel in NOT_CONFIG:
            continue
        text = path.read_text(encoding="utf-8")
        for m in CALL.finditer(text):
            fn, group, key = m.groups()
            if fn.startswith("g_key_file_get_") and fn in ("g_key_file_get_groups", "g_key_file_get_keys"):
                continue
            line = text.count("\n", 0, m.start()) + 1
            if not (group.startswith('"') and key.startswith('"')):
                # merge helpers iterate over whatever a drop-in holds: not a key read
                if fn == "g_key_file_get_value":
                    continue
                # inside a helper whose own calls are scanned (get_int): its callers count
                heads = re.findall(r'^(\w+) \(', text[:m.start()], re.M)
                if heads and heads[-1] in HELPERS:
                    continue
                bad.append(f"{rel}:{line}: {fn} with a non-literal group or key ({group}, {key})")
                continue
            if (rel, group.strip('"')) in NOT_CONFIG_GROUPS:
                continue
            found.setdefault((group.strip('"'), key.strip('"')), f"{rel}:{line}")
    return found, bad


def keys_documented(page):
    documented, group, cur = {}, None, None
    for line in page.read_text(encoding="utf-8").splitlines():
        m = re.match(r'^\.S[SH]\s+"?\[([\w-]+)\]"?', line)
        if m:
            group, cur = m.group(1), None
            continue
        if line.startswith(".SH"):
            group, cur = None, None
            continue
        m = re.match(r'^\\fB([\w\\-]+)\\fR\s*=', line)
        if m and group:
            cur = (group, m.group(1).replace("\\-", "-"))
            documented[cur] = False
            continue
        if cur and "Default:" in line:
            documented[cur] = True
    return documented


def main():
    src = pathlib.Path(sys.argv[1])
    page = src / "man" / "lienthong.conf.5"
    read, bad = keys_read(src)
    doc = keys_documented(page)
    fail = list(bad)
    for (group, key), where in sorted(read.items()):
        if (group, key) not in doc:
            fail.append(f"{where}: [{group}] {key} is read but not documented in man/lienthong.conf.5")
        elif not doc[(group, key)]:
            fail.append(f"man/lienthong.conf.5: [{group}] {key} gives no 'Default:'")
        else:
            print(f"ok: [{group}] {key} ({where})")
    for (group, key) in sorted(set(doc) - set(read)):
        print(f"note: [{group}] {key} is documented but no code reads it yet")
    if len(read) < 10:
        fail.append(f"only {len(read)} keys found in the code: the grep is broken")
    for f in fail:
        print("FAIL: " + f)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
