#!/bin/sh
# Entry point of the lienthong-mcu image. One image serves every machine: the node
# id and unit of this machine are looked up by its name ($NODE_NAME, given by the
# Kubernetes downward API, else the host name) in /etc/lienthong/nodes/<name>
# ("NODE-ID UNIT"), its token in /etc/lienthong/tokens/<name>. Without those
# files, LIENTHONG_NODE_ID, LIENTHONG_UNIT and LIENTHONG_NODE_TOKEN are used.
# LIENTHONG_SIGNALD is signald's URL; extra arguments go to lienthong-mcu.
set -eu
name=${NODE_NAME:-$(hostname)}
if [ -r "/etc/lienthong/nodes/$name" ]; then
  read -r LIENTHONG_NODE_ID LIENTHONG_UNIT < "/etc/lienthong/nodes/$name"
fi
token_file=/etc/lienthong/tokens/$name
[ -r "$token_file" ] || token_file=
: "${LIENTHONG_SIGNALD:?set LIENTHONG_SIGNALD to signald's URL}"
: "${LIENTHONG_NODE_ID:?no /etc/lienthong/nodes/$name and no LIENTHONG_NODE_ID}"
: "${LIENTHONG_UNIT:?no unit for $name}"
state=/var/lib/lienthong-mcu/$LIENTHONG_NODE_ID
mkdir -p "$state"
exec /usr/bin/lienthong-mcu --signald "$LIENTHONG_SIGNALD" --node-id "$LIENTHONG_NODE_ID" \
  --unit "$LIENTHONG_UNIT" ${token_file:+--token-file "$token_file"} --state-dir "$state" "$@"
