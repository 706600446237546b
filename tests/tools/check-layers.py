#!/usr/bin/python3
"""check-layers.py SRCDIR: proves signaling/ has no import circle (DESIGN.md, "signald
inside"): its files form layers that only include down.

  base       errors, tokens, configuration, validation, notify, the WebSocket byte
             budget: no knowledge of meetings running or of the server
  policy     who may do what: pure decisions over a principal and the store
  runtime    nodes, running sessions, link quality, alarms: no HTTP, no sockets
  transport  the HTTP server and routes, the WebSockets, the web UI, the programs

A file may include headers of its own layer and of the layers below it, never above.
Every signaling/*.c and *.h file must be listed, so a new file has to be placed (and
its place is then checked) before the test passes again.
"""
import pathlib
import re
import sys

LAYERS = {
    "base": ["sig-error", "sig-auth", "sig-password", "sig-prompt", "sig-config", "sig-validate", "sig-notify",
             "sig-ws-stream"],
    "policy": ["sig-policy"],
    "runtime": ["sig-runtime", "sig-runtime-private", "sig-cascade", "sig-links",
                "sig-alarms", "sig-attendance", "sig-recording"],
    "transport": ["sig-server", "sig-server-private", "sig-routes", "sig-routes-meetings",
                  "sig-routes-units", "sig-routes-links", "sig-routes-recordings",
                  "sig-routes-accounts", "sig-audit", "sig-ws", "sig-ws-private",
                  "sig-web", "sig-ics", "signald-main", "ltctl"],
}
ORDER = ["base", "policy", "runtime", "transport"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)\.h"', re.M)


def main():
    src = pathlib.Path(sys.argv[1]) / "signaling"
    layer_of = {stem: layer for layer, stems in LAYERS.items() for stem in stems}
    bad = []
    files = sorted(list(src.glob("*.c")) + list(src.glob("*.h")))
    for path in files:
        stem = path.stem
        if stem not in layer_of:
            bad.append(f"{path.name}: in no layer (add it to LAYERS in {__file__})")
            continue
        mine = ORDER.index(layer_of[stem])
        for inc in INCLUDE.findall(path.read_text(encoding="utf-8")):
            if not inc.startswith("sig-"):
                continue  # rooms.h, lt-config.h and the like: below every layer
            if inc not in layer_of:
                bad.append(f"{path.name}: includes {inc}.h, which is in no layer")
            elif ORDER.index(layer_of[inc]) > mine:
                bad.append(f"{path.name} ({layer_of[stem]}) includes {inc}.h "
                           f"({layer_of[inc]}): a lower layer may not call up")
    for line in bad:
        print(line)
    print(f"layers: {len(files)} files checked, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
