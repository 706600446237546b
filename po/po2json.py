#!/usr/bin/env python3
"""po2json.py OUT.json LANG.po...: turns the web UI's gettext catalogues into the one
JSON file the pages load ({"vi": {msgid: msgstr}, "en": {...}}).

Why a script of our own: the catalogues are simple (msgid/msgstr pairs, no plurals),
python3 is there wherever meson is, and a build must not need gettext's tools. The
first catalogue is the reference (Vietnamese); a msgid missing from another catalogue,
an empty msgstr or a duplicate msgid fails the build, so no page shows a bare key."""
import json
import os
import sys


def unquote(s, where):
    s = s.strip()
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        sys.exit(f'{where}: expected a quoted string')
    try:
        return json.loads(s)  # a .po string's escapes are a subset of JSON's
    except json.JSONDecodeError as e:
        sys.exit(f'{where}: bad string: {e}')


def parse(path):
    entries, cur, key = {}, {}, None
    fuzzy = False

    def flush():
        nonlocal cur, fuzzy
        if 'msgid' in cur:
            mid, mstr = cur['msgid'], cur.get('msgstr', '')
            if mid != '':  # the header entry
                if mid in entries:
                    sys.exit(f'{path}: duplicate msgid {mid!r}')
                if mstr == '' or fuzzy:
                    sys.exit(f'{path}: {mid!r} is untranslated or fuzzy')
                entries[mid] = mstr
        cur, fuzzy = {}, False

    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            where = f'{path}:{n}'
            if line.startswith('#,') and 'fuzzy' in line:
                fuzzy = True
            if not line.strip() or line.startswith('#'):
                if not line.strip():
                    flush()
                continue
            if line.startswith('msgid '):
                if 'msgid' in cur:
                    flush()
                key = 'msgid'
                cur[key] = unquote(line[6:], where)
            elif line.startswith('msgstr '):
                key = 'msgstr'
                cur[key] = unquote(line[7:], where)
            elif line.startswith('"') and key:
                cur[key] += unquote(line, where)
            else:
                sys.exit(f'{where}: cannot read {line!r}')
    flush()
    return entries


def main():
    if len(sys.argv) < 3:
        sys.exit('usage: po2json.py OUT.json LANG.po...')
    out, pos = sys.argv[1], sys.argv[2:]
    cats = {os.path.splitext(os.path.basename(p))[0]: parse(p) for p in pos}
    ref_lang = os.path.splitext(os.path.basename(pos[0]))[0]
    ref = cats[ref_lang]
    for lang, cat in cats.items():
        missing = sorted(set(ref) - set(cat))
        extra = sorted(set(cat) - set(ref))
        if missing or extra:
            sys.exit(f'{lang}.po: missing {missing} extra {extra} (against {ref_lang}.po)')
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(cats, f, ensure_ascii=False, sort_keys=True, indent=0)
        f.write('\n')


if __name__ == '__main__':
    main()
