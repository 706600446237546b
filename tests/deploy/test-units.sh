#!/bin/sh
# test-units.sh SRCDIR SIGNALD MCU: proves the systemd units are valid for this
# systemd: `systemd-analyze verify` (unit syntax, every directive known, the
# executables exist, the man pages of Documentation= resolve) prints nothing on
# lienthong-signald.service and an instance of lienthong-mcu@.service, and the
# hardening keeps `systemd-analyze security --offline` exposure at or below 2.0.
# Skips (exit 77) when systemd-analyze is absent.
set -eu
src=$1 signald=$(readlink -f "$2") mcu=$(readlink -f "$3")
command -v systemd-analyze >/dev/null 2>&1 || { echo "SKIP: systemd-analyze not installed (apt-get install systemd)"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/units" "$tmp/man/man1" "$tmp/man/man5" "$tmp/man/man8"
ln -s "$signald" "$tmp/bin/lienthong-signald"
ln -s "$mcu" "$tmp/bin/lienthong-mcu"
for u in "$src"/deploy/systemd/*.service.in; do
  sed "s|@bindir@|$tmp/bin|g; s|@sysconfdir@|/etc|g" "$u" > "$tmp/units/$(basename "$u" .in)"
done
cp "$src"/man/*.1 "$tmp/man/man1/"
cp "$src"/man/*.5 "$tmp/man/man5/"
cp "$src"/man/*.8 "$tmp/man/man8/"
# The template needs an instance to be verified as a service; a copy named like one.
cp "$tmp/units/lienthong-mcu@.service" "$tmp/units/lienthong-mcu@08.service"

fail=0
cd "$tmp/units"
for unit in lienthong-signald.service lienthong-mcu@08.service; do
  out=$(MANPATH="$tmp/man" systemd-analyze verify --generators=no "./$unit" 2>&1) || fail=1
  if [ -n "$out" ]; then
    printf 'FAIL: systemd-analyze verify %s:\n%s\n' "$unit" "$out"
    fail=1
  else
    echo "ok: systemd-analyze verify $unit"
  fi
  # "→ Overall exposure level for X: 1.4 OK"
  level=$(systemd-analyze security --offline=yes "./$unit" 2>/dev/null \
            | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  if [ -z "$level" ]; then
    echo "FAIL: no exposure level from systemd-analyze security for $unit"; fail=1
  elif awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
    echo "ok: $unit exposure $level (<= 2.0)"
  else
    echo "FAIL: $unit exposure $level > 2.0"; fail=1
  fi
done

# The points the issue asks for, stated in the units themselves.
for unit in lienthong-signald.service lienthong-mcu@08.service; do
  for want in '^Type=notify$' '^WatchdogSec=' '^StateDirectory=' '^User=lienthong$' \
              '^ProtectSystem=strict$' '^ProtectHome=yes$' '^PrivateTmp=yes$' \
              '^NoNewPrivileges=yes$' '^RestrictAddressFamilies=' '^CapabilityBoundingSet=$' \
              '^SystemCallFilter=@system-service$'; do
    grep -q "$want" "$unit" || { echo "FAIL: $unit lacks $want"; fail=1; }
  done
done
grep -q '^MemoryDenyWriteExecute=yes$' lienthong-signald.service \
  || { echo "FAIL: signald should deny W+X memory"; fail=1; }
if grep -q '^MemoryDenyWriteExecute=yes' lienthong-mcu@08.service; then
  echo "FAIL: the node must not set MemoryDenyWriteExecute (GStreamer ORC JIT)"; fail=1
fi
grep -q 'mcu-%i.conf' lienthong-mcu@08.service \
  || { echo "FAIL: the node unit does not read /etc/lienthong/mcu-%i.conf"; fail=1; }
# sysusers.d and tmpfiles.d entries parse (systemd-sysusers/tmpfiles --cat-config is
# not enough: dry-run them against an empty root).
if command -v systemd-sysusers >/dev/null 2>&1; then
  mkdir -p "$tmp/root/etc"
  if out=$(systemd-sysusers --root="$tmp/root" "$src/deploy/systemd/lienthong.sysusers" 2>&1) \
     && grep -q '^lienthong:' "$tmp/root/etc/passwd"; then
    echo "ok: sysusers.d creates user lienthong"
  else
    printf 'FAIL: systemd-sysusers: %s\n' "$out"; fail=1
  fi
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
  if out=$(systemd-tmpfiles --root="$tmp/root" --create "$src/deploy/systemd/lienthong.tmpfiles" 2>&1) \
     && [ -d "$tmp/root/etc/lienthong" ]; then
    echo "ok: tmpfiles.d creates /etc/lienthong"
  else
    printf 'FAIL: systemd-tmpfiles: %s\n' "$out"; fail=1
  fi
fi
exit $fail
