#!/usr/bin/env bash
# Start a throw-away PostgreSQL on 127.0.0.1:55432 for the ERP extraction test.
# Prints the SQLAlchemy URL on stdout; everything else goes to stderr.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
DIR=${HUB_CI_PG_DIR:-/tmp/hub-ci-postgres}
PORT=${HUB_CI_PG_PORT:-55432}
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
if [ -f "$DIR/data/postmaster.pid" ]; then as_pg "$PGBIN/pg_ctl -D $DIR/data stop -m fast" >&2 || true; fi
rm -rf "$DIR" && mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
as_pg "$PGBIN/initdb -D $DIR/data -A trust -U postgres" >/dev/null
as_pg "$PGBIN/pg_ctl -D $DIR/data -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1' -l $DIR/server.log -w start" >&2
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
