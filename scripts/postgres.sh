#!/usr/bin/env bash
# Makes sure a PostgreSQL server is running on this machine, with a user and a
# database for Quaver's tests and benchmarks, then prints its URL on stdout:
#
#     export DATABASE_URL=$(bash scripts/postgres.sh)
#
# Installs Debian's postgresql package if it is missing, creates a cluster if
# there is none, starts it if it is down. Safe to run again: when everything is
# already there it only checks, and takes well under a second. Progress goes
# to stderr. Runs unattended as root (or through sudo for other users).
#
# Settings (environment): PG_USER (quaver), PG_PASSWORD (quaver), PG_DATABASE (quaver).
set -euo pipefail

PG_USER="${PG_USER:-quaver}"
PG_PASSWORD="${PG_PASSWORD:-quaver}"
PG_DATABASE="${PG_DATABASE:-quaver}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

say() { echo "postgres.sh: $*" >&2; }

# The newest server version installed, or nothing.
installed_version() {
    ls /usr/lib/postgresql 2>/dev/null | grep -E '^[0-9]+$' | sort -n | while read -r v; do
        if [ -x "/usr/lib/postgresql/$v/bin/postgres" ]; then echo "$v"; fi
    done | tail -n 1
}

VERSION="$(installed_version)"
if [ -z "$VERSION" ] || ! command -v pg_ctlcluster >/dev/null; then
    say "installing PostgreSQL from Debian's packages"
    $SUDO apt-get update -q >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    VERSION="$(installed_version)"
    if [ -z "$VERSION" ]; then
        say "the postgresql package installed no server"
        exit 1
    fi
fi

# The first cluster of that version (Debian's package makes "main"), or a new one.
CLUSTER="$(pg_lsclusters -h 2>/dev/null | awk -v v="$VERSION" '$1 == v { print $2; exit }')"
if [ -z "$CLUSTER" ]; then
    CLUSTER=main
    say "creating cluster $VERSION/$CLUSTER"
    $SUDO pg_createcluster "$VERSION" "$CLUSTER" >&2
fi

cluster_field() {
    pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" -v f="$1" '$1 == v && $2 == c { print $f }'
}

if [ "$(cluster_field 4)" != "online" ]; then
    say "starting cluster $VERSION/$CLUSTER"
    $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi
PORT="$(cluster_field 3)"

as_postgres() { $SUDO runuser -u postgres -- "$@"; }
for _ in $(seq 1 60); do
    if as_postgres pg_isready -q -p "$PORT"; then break; fi
    sleep 0.5
done
if ! as_postgres pg_isready -q -p "$PORT"; then
    say "the server on port $PORT does not answer; see /var/log/postgresql/"
    exit 1
fi

psql_admin() { as_postgres psql -p "$PORT" -v ON_ERROR_STOP=1 -qtA "$@"; }

# Names and the password go in as psql variables, quoted by psql (:"x" and :'x');
# psql expands variables only in what it reads from stdin, not in -c.
if [ "$(echo "SELECT 1 FROM pg_roles WHERE rolname = :'name'" | psql_admin -v name="$PG_USER")" != "1" ]; then
    say "creating user $PG_USER"
    psql_admin -v name="$PG_USER" -v password="$PG_PASSWORD" <<'SQL'
CREATE ROLE :"name" LOGIN CREATEDB PASSWORD :'password';
SQL
fi
if [ "$(echo "SELECT 1 FROM pg_database WHERE datname = :'name'" | psql_admin -v name="$PG_DATABASE")" != "1" ]; then
    say "creating database $PG_DATABASE"
    psql_admin -v name="$PG_DATABASE" -v owner="$PG_USER" <<'SQL'
CREATE DATABASE :"name" OWNER :"owner";
SQL
fi

echo "postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PORT/$PG_DATABASE"
