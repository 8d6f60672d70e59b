#!/bin/sh
# Peer this node with the others: the one-shot `<code>-peers` services of docker-compose.yml run it after
# `migrate`. Usage (from /app, with the node's environment):
#
#   sh docker/peer-setup.sh OWN_PUBLIC_KEY CODE URL PUBLIC_KEY [CODE URL PUBLIC_KEY ...]
#
# It runs `manage.py node_init` (marks this node's exchange as running a node and prints the node's public
# key), checks that OWN_PUBLIC_KEY (what the operator gave the other nodes, from .env) is that key, then runs
# `manage.py peers add CODE URL PUBLIC_KEY` for every peer. Idempotent: `peers add` updates an existing peer,
# so running it again after a key or URL changed is how the change is applied. Exits non-zero, naming the
# missing variable, when a public key is empty; the other peers are still added.
set -eu

if [ $# -lt 1 ] || [ $(( ($# - 1) % 3 )) -ne 0 ]; then
    echo "usage: $0 OWN_PUBLIC_KEY [CODE URL PUBLIC_KEY ...]" >&2
    exit 2
fi
own_expected=$1
shift

own=$(python manage.py node_init | tail -n 1)
echo "${NODE_CODE} public key: ${own}"
status=0
if [ -z "$own_expected" ]; then
    echo "warning: ${NODE_CODE}_PUBLIC_KEY is not set (.env next to docker-compose.yml); the other nodes need: ${own}" >&2
    status=1
elif [ "$own_expected" != "$own" ]; then
    echo "error: ${NODE_CODE}_PUBLIC_KEY is ${own_expected} but this node's key is ${own}:" \
         "peers would refuse its signatures; put the right key in .env" >&2
    status=1
fi

while [ $# -ge 3 ]; do
    code=$1 url=$2 key=$3
    shift 3
    if [ -z "$key" ]; then
        echo "error: ${code}_PUBLIC_KEY is not set (.env next to docker-compose.yml): peer ${code} not added" >&2
        status=1
        continue
    fi
    python manage.py peers add "$code" "$url" "$key" || status=1
done
exit "$status"
