# pg.sh - a private PostgreSQL server for the tests, in a temporary directory. Sourced by
# scripts/test.sh; usable by hand:
#
#   . scripts/lib/pg.sh
#   aifx_pg_start            # initdb + pg_ctl start; exports AIFX_TEST_PG and the commands below
#   ctest --test-dir build/ci -R pg
#   aifx_pg_stop             # stops the server and deletes its directory
#
# The server listens only on a Unix socket inside its own directory (listen_addresses = ''), so
# it can neither clash with nor be reached by anything else on the machine; its port number only
# names the socket file. Authentication is "trust" for that socket alone. As root (CI), the
# server runs as Debian's `postgres` system user (created by the postgresql package) through
# runuser, since PostgreSQL refuses to run as root; otherwise it runs as the calling user.
#
# Exports, for the tests:
#   AIFX_TEST_PG            libpq connection string of the server's `postgres` database
#                           ("host=<dir> port=<port> user=<superuser> dbname=postgres"); each test
#                           creates and drops databases of its own there
#   AIFX_TEST_PG_STOP       a shell command that stops the server (pg_ctl stop -m fast)
#   AIFX_TEST_PG_START      a shell command that starts it again
#   AIFX_PG_BIN             the PostgreSQL programs (psql for the tests' own queries)
# The tests that need a server skip when AIFX_TEST_PG is unset; they never touch another one.

AIFX_PG_BIN="${AIFX_PG_BIN:-/usr/lib/postgresql/15/bin}"
AIFX_PG_PORT="${AIFX_PG_PORT:-55432}"

# _aifx_pg_as_owner CMD...: runs CMD as the server's owner (postgres when we are root).
_aifx_pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# aifx_pg_start: initialises and starts the server; returns non-zero (with a message) on failure.
aifx_pg_start() {
    if [ ! -x "$AIFX_PG_BIN/initdb" ]; then
        echo "pg: $AIFX_PG_BIN/initdb not found (install Debian's postgresql package)" >&2
        return 1
    fi
    local owner dir
    if [ "$(id -u)" -eq 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            echo "pg: running as root but there is no 'postgres' user to run the server" >&2
            return 1
        fi
        owner=postgres
    else
        owner="$(id -un)"
    fi
    dir="$(mktemp -d "${TMPDIR:-/tmp}/aifx-pg.XXXXXX")" || return 1
    AIFX_PG_DIR="$dir"
    export AIFX_PG_DIR
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$dir"
    fi
    chmod 700 "$dir"
    # The socket path must stay under the kernel's 107-byte limit.
    if [ "${#dir}" -gt 80 ]; then
        echo "pg: temporary directory path too long for a Unix socket: $dir" >&2
        return 1
    fi
    if ! _aifx_pg_as_owner "$AIFX_PG_BIN/initdb" -D "$dir/data" --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 --username="$owner" >"$dir/initdb.log" 2>&1; then
        echo "pg: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        return 1
    fi
    # The commands run in a fresh shell (system() in the tests), so runuser is spelled out.
    local prefix="" q
    if [ "$(id -u)" -eq 0 ]; then
        prefix="runuser -u postgres -- "
    fi
    q="$(printf '%q' "$dir")"
    AIFX_TEST_PG_START="$prefix$AIFX_PG_BIN/pg_ctl -D $q/data -l $q/server.log -w -t 60"
    AIFX_TEST_PG_START="$AIFX_TEST_PG_START -o \"-c listen_addresses='' -c unix_socket_directories=$q"
    AIFX_TEST_PG_START="$AIFX_TEST_PG_START -p $AIFX_PG_PORT -c fsync=off\" start"
    AIFX_TEST_PG_STOP="$prefix$AIFX_PG_BIN/pg_ctl -D $q/data -m fast -w stop"
    if ! bash -c "$AIFX_TEST_PG_START" >"$dir/pg_ctl.log" 2>&1; then
        echo "pg: the server did not start:" >&2
        cat "$dir/pg_ctl.log" "$dir/server.log" >&2 2>/dev/null
        return 1
    fi
    AIFX_TEST_PG="host=$dir port=$AIFX_PG_PORT user=$owner dbname=postgres"
    export AIFX_TEST_PG AIFX_TEST_PG_START AIFX_TEST_PG_STOP AIFX_PG_BIN
    echo "pg: private server running in $dir (socket only, port $AIFX_PG_PORT)"
}

# aifx_pg_stop: stops the server started by aifx_pg_start and deletes its directory; safe to
# call twice or when nothing was started.
aifx_pg_stop() {
    if [ -n "${AIFX_PG_DIR:-}" ] && [ -d "$AIFX_PG_DIR" ]; then
        if [ -f "$AIFX_PG_DIR/data/postmaster.pid" ]; then
            _aifx_pg_as_owner "$AIFX_PG_BIN/pg_ctl" -D "$AIFX_PG_DIR/data" -m immediate -w stop \
                >/dev/null 2>&1 || true
        fi
        rm -rf "$AIFX_PG_DIR"
        echo "pg: private server stopped, $AIFX_PG_DIR removed"
    fi
    unset AIFX_PG_DIR AIFX_TEST_PG AIFX_TEST_PG_START AIFX_TEST_PG_STOP
}
