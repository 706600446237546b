#!/bin/sh
# in-netns.sh COMMAND [ARGS...]: runs COMMAND in a new network namespace that has only
# the loopback interface, up. ICE agents gather every local address; inside, the only
# ones are 127.0.0.1 and ::1, so no test packet can reach any other host.
# Needs root (CI and the quickstart run as root); without it the command runs as is,
# relying on the test's own loopback-only candidate settings.
set -eu
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 \
   && unshare --net true 2>/dev/null; then
  exec unshare --net sh -c 'ip link set lo up && exec "$@"' in-netns "$@"
fi
exec "$@"
