#!/bin/sh
# The entrypoint of a read replica (docker-compose.scale.yml, <code>-db-replica): on first start, an empty data
# directory is cloned from PRIMARY_HOST with pg_basebackup -R (streaming replication as the `registry` user,
# whose password is in the file PGPASSWORD_FILE); then PostgreSQL runs as a hot standby that follows the
# primary. The connection to the primary, password included, stays in the volume (postgresql.auto.conf).
set -eu
: "${PRIMARY_HOST:?}" "${PGPASSWORD_FILE:?}"
PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  PGPASSWORD=$(cat "$PGPASSWORD_FILE")
  export PGPASSWORD
  until pg_isready -q -h "$PRIMARY_HOST" -U registry -d registry; do sleep 1; done
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 0700 "$PGDATA"
  gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U registry -D "$PGDATA" -R -X stream -c fast
  unset PGPASSWORD
fi
exec gosu postgres postgres -D "$PGDATA" -c hot_standby=on -c shared_buffers="${DB_SHARED_BUFFERS:-2GB}"
