#!/usr/bin/env bash
# Local Mattermost Team Edition + PostgreSQL for matterapi's integration tests.
#
#   testserver/server.sh start    build (if needed), start postgres + mattermost, bootstrap, write connection.json
#   testserver/server.sh stop     stop mattermost and postgres
#   testserver/server.sh status   show what is running
#   testserver/server.sh reset    stop, wipe database + file store (keeps the build cache), start again
#   testserver/server.sh restart  restart mattermost only (postgres and the data stay), with the ports
#                                 and rate-limit settings it was started with
#   testserver/server.sh build    only build the server binary (cache keyed by go.mod + go.sum)
#   testserver/server.sh env      print shell exports for the tests: eval "$(testserver/server.sh env)"
#
# All state lives under <repo>/target/testserver/. See testserver/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# MM_TEST_STATE runs a separate instance (own database, files, connection file) from the same script.
STATE="${MM_TEST_STATE:-$REPO/target/testserver}"
# `start` records the instance's ports and rate-limit settings; `restart` reuses them.
INSTANCE_ENV="$STATE/instance.env"
if [ "${1:-}" = restart ] && [ -f "$INSTANCE_ENV" ]; then
    # shellcheck disable=SC1090
    . "$INSTANCE_ENV"
fi

MM_PORT="${MM_TEST_PORT:-8065}"
PG_PORT="${MM_TEST_PG_PORT:-5544}"
START_TIMEOUT="${MM_TEST_START_TIMEOUT:-180}"
MM_URL="http://127.0.0.1:${MM_PORT}"

SERVER_PKG="github.com/mattermost/mattermost/server/v8/cmd/mattermost"
SERVER_MOD="github.com/mattermost/mattermost/server/v8"
# Bump when the build command below changes, so cached binaries are rebuilt.
BUILD_RECIPE="v1 -trimpath -tags production ldflags:BuildNumber=dev,BuildHash,BuildDate,BuildEnterpriseReady=false"

PG_DIR="$STATE/pg"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/sock"
PG_LOG="$PG_DIR/postgres.log"
LOG_DIR="$STATE/logs"
BIN_ROOT="$STATE/bin"
RUN_DIR="$STATE/run"
FILES_DIR="$STATE/files"
CONFIG_JSON="$STATE/config.json"
CONN_JSON="$STATE/connection.json"
PID_FILE="$STATE/mattermost.pid"
KEY_FILE="$STATE/mattermost.key"   # cache key + port the running server was started with

log() { printf '[testserver] %s\n' "$*" >&2; }
die() { printf '[testserver] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }

is_root() { [ "$(id -u)" = 0 ]; }

# ---------------------------------------------------------------- postgres --

find_pg_bin() {
    local d
    if command -v initdb >/dev/null 2>&1; then
        d="$(dirname "$(readlink -f "$(command -v initdb)")")"
        [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
    fi
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    [ -n "$d" ] && [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    return 1
}

ensure_pg_installed() {
    if PG_BIN="$(find_pg_bin)"; then return 0; fi
    is_root || die "PostgreSQL (initdb) not found; install Debian's 'postgresql' package (needs root)"
    log "installing PostgreSQL with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    PG_BIN="$(find_pg_bin)" || die "PostgreSQL installed but initdb not found"
}

# Run a command as the postgres OS user when we are root (postgres refuses root).
as_pg() {
    if is_root; then
        (cd "$STATE" && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

pg_running() {
    [ -f "$PG_DATA/PG_VERSION" ] || return 1
    local bin
    bin="$(find_pg_bin)" || return 1
    as_pg "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

psql_admin() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres "$@"
}

start_pg() {
    ensure_pg_installed
    mkdir -p "$PG_DIR"
    local sockpath="$PG_SOCK/.s.PGSQL.$PG_PORT"
    [ "${#sockpath}" -lt 100 ] || die "socket path too long for PostgreSQL (${#sockpath} chars): $sockpath"
    if is_root; then
        id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user to run PostgreSQL"
        runuser -u postgres -- test -x "$STATE" ||
            die "the 'postgres' OS user cannot reach $STATE (a parent directory is not world-executable)"
    fi

    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        log "initialising PostgreSQL cluster ($("$PG_BIN/postgres" --version))"
        rm -rf "$PG_DATA"
        mkdir -p "$PG_DATA" "$PG_SOCK"
        chmod 700 "$PG_DATA"
        if is_root; then chown -R postgres: "$PG_DIR"; fi
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
            --auth-local=trust --auth-host=scram-sha-256 >"$STATE/initdb.log" 2>&1 ||
            { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
        # Test-only cluster: loopback only, non-default port, durability off for speed.
        as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null <<EOF

# --- matterapi testserver ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    fi

    if pg_running; then
        log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
    else
        mkdir -p "$PG_SOCK"
        touch "$PG_LOG"
        if is_root; then chown postgres: "$PG_SOCK" "$PG_LOG"; fi
        log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null ||
            { tail -n 30 "$PG_LOG" >&2; die "PostgreSQL did not start"; }
    fi

    # Role and database (idempotent).
    if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='mmuser'")" != 1 ]; then
        psql_admin -d postgres -c "CREATE ROLE mmuser LOGIN PASSWORD 'mostest'"
    fi
    if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='mattermost'")" != 1 ]; then
        psql_admin -d postgres -c "CREATE DATABASE mattermost OWNER mmuser"
    fi
}

stop_pg() {
    if pg_running; then
        log "stopping PostgreSQL"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null
    fi
}

# ------------------------------------------------------------------- build --

cache_key() {
    cat "$HERE/go.mod" "$HERE/go.sum" <(printf '%s\n' "$BUILD_RECIPE") | sha256sum | cut -c1-16
}

bin_dir() { echo "$BIN_ROOT/$(cache_key)"; }

build() {
    local key dir tmp t0 version ts hash
    key="$(cache_key)"
    dir="$BIN_ROOT/$key"
    if [ -x "$dir/mattermost" ] && [ -f "$dir/BUILDINFO" ]; then
        log "build: cache hit ($key)"
        return 0
    fi
    command -v go >/dev/null 2>&1 || die "Go toolchain not found (needed to build the server)"
    t0="$(now)"
    version="$(sed -n "s#^[[:space:]]*${SERVER_MOD//./\\.} \(v[^[:space:]]*\).*#\1#p" "$HERE/go.mod" | head -n1)"
    [ -n "$version" ] || die "cannot find $SERVER_MOD in testserver/go.mod"
    ts="$(echo "$version" | sed -E 's/^v8\.0\.0-([0-9]{14})-([0-9a-f]{12})$/\1/')"
    hash="${version##*-}"
    log "build: compiling $SERVER_MOD@$version (cache miss, key $key); this takes a few minutes"
    tmp="$BIN_ROOT/.tmp-$key"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    # GONOSUMDB: the checksum database does not serve these pseudo-versions; go.sum
    # (committed) is the integrity check. -mod=readonly: never rewrite go.mod/go.sum.
    (
        cd "$HERE"
        export GOFLAGS="-mod=readonly -buildvcs=false"
        export GONOSUMDB="github.com/mattermost/mattermost${GONOSUMDB:+,$GONOSUMDB}"
        nice -n 10 go build -trimpath -tags production \
            -ldflags "-X github.com/mattermost/mattermost/server/public/model.BuildNumber=dev \
                      -X github.com/mattermost/mattermost/server/public/model.BuildHash=$hash \
                      -X 'github.com/mattermost/mattermost/server/public/model.BuildDate=$ts' \
                      -X github.com/mattermost/mattermost/server/public/model.BuildHashEnterprise=none \
                      -X github.com/mattermost/mattermost/server/public/model.BuildEnterpriseReady=false" \
            -o "$tmp/mattermost" "$SERVER_PKG"
    ) || { rm -rf "$tmp"; die "go build failed"; }
    # Runtime assets from the (read-only) module directory.
    local moddir
    moddir="$(cd "$HERE" && GOFLAGS="-mod=readonly" go list -m -f '{{.Dir}}' "$SERVER_MOD")"
    [ -d "$moddir/i18n" ] || die "module dir $moddir has no i18n/"
    for d in i18n templates fonts; do
        cp -R "$moddir/$d" "$tmp/$d"
    done
    chmod -R u+w "$tmp"
    printf 'module %s\nversion %s\nkey %s\nrecipe %s\ngo %s\nbuilt %s\n' \
        "$SERVER_MOD" "$version" "$key" "$BUILD_RECIPE" "$(go env GOVERSION)" "$(date -u +%FT%TZ)" >"$tmp/BUILDINFO"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    # Keep only the current build.
    find "$BIN_ROOT" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
    log "build: done in $(elapsed "$t0") s"
}

# -------------------------------------------------------------- mattermost --

mm_pid() {
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid="$(cat "$PID_FILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    # Make sure the pid was not recycled by something else.
    [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null || true)" != "" ] || return 1
    case "$(readlink -f "/proc/$pid/exe")" in
        "$BIN_ROOT"/*/mattermost*) echo "$pid" ;;
        *) return 1 ;;
    esac
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

ping_ok() {
    [ "$(curl --noproxy '*' -s -o /dev/null -m 5 -w '%{http_code}' "$MM_URL/api/v4/system/ping" 2>/dev/null)" = 200 ]
}

mm_env() {
    # Everything is configured through MM_* variables (they override config.json
    # and cannot be changed through the config API while set).
    export MM_CONFIG="$CONFIG_JSON"
    export MM_SQLSETTINGS_DRIVERNAME=postgres
    export MM_SQLSETTINGS_DATASOURCE="postgres://mmuser:mostest@127.0.0.1:${PG_PORT}/mattermost?sslmode=disable&connect_timeout=10"
    export MM_SQLSETTINGS_MAXOPENCONNS=50
    export MM_SERVICESETTINGS_SITEURL="$MM_URL"
    export MM_SERVICESETTINGS_LISTENADDRESS="127.0.0.1:${MM_PORT}"
    export MM_SERVICESETTINGS_ENABLELOCALMODE=false
    export MM_SERVICESETTINGS_ENABLEUSERACCESSTOKENS=true
    export MM_SERVICESETTINGS_ENABLEBOTACCOUNTCREATION=true
    export MM_SERVICESETTINGS_ENABLEMULTIFACTORAUTHENTICATION=true
    export MM_SERVICESETTINGS_ENFORCEMULTIFACTORAUTHENTICATION=false
    export MM_SERVICESETTINGS_ENABLEINCOMINGWEBHOOKS=true
    export MM_SERVICESETTINGS_ENABLEOUTGOINGWEBHOOKS=true
    export MM_SERVICESETTINGS_ENABLECOMMANDS=true
    export MM_SERVICESETTINGS_ENABLEPOSTUSERNAMEOVERRIDE=true
    export MM_SERVICESETTINGS_ENABLEPOSTICONOVERRIDE=true
    export MM_SERVICESETTINGS_ENABLECUSTOMEMOJI=true
    export MM_SERVICESETTINGS_ENABLEOAUTHSERVICEPROVIDER=true
    export MM_SERVICESETTINGS_POSTEDITTIMELIMIT=-1
    export MM_SERVICESETTINGS_ENABLEAPIPOSTDELETION=true
    export MM_SERVICESETTINGS_ENABLEAPITEAMDELETION=true
    export MM_SERVICESETTINGS_ENABLEAPIUSERDELETION=true
    export MM_SERVICESETTINGS_ENABLEAPICHANNELDELETION=true
    # Let outgoing webhooks / slash commands call test listeners on loopback.
    export MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS="127.0.0.1 localhost"
    # No internet: every outbound feature off.
    export MM_SERVICESETTINGS_ENABLELINKPREVIEWS=false
    export MM_SERVICESETTINGS_ENABLESECURITYFIXALERT=false
    export MM_SERVICESETTINGS_ENABLEGIFPICKER=false
    export MM_LOGSETTINGS_ENABLEDIAGNOSTICS=false
    export MM_LOGSETTINGS_ENABLESENTRY=false
    export MM_ANNOUNCEMENTSETTINGS_ADMINNOTICESENABLED=false
    export MM_ANNOUNCEMENTSETTINGS_USERNOTICESENABLED=false
    export MM_PLUGINSETTINGS_ENABLE=true
    export MM_PLUGINSETTINGS_ENABLEUPLOADS=true
    export MM_PLUGINSETTINGS_ENABLEMARKETPLACE=false
    export MM_PLUGINSETTINGS_ENABLEREMOTEMARKETPLACE=false
    export MM_PLUGINSETTINGS_AUTOMATICPREPACKAGEDPLUGINS=false
    export MM_PLUGINSETTINGS_DIRECTORY="$RUN_DIR/plugins"
    export MM_PLUGINSETTINGS_CLIENTDIRECTORY="$RUN_DIR/client/plugins"
    export MM_EMAILSETTINGS_SENDPUSHNOTIFICATIONS=false
    export MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS=false
    export MM_EMAILSETTINGS_REQUIREEMAILVERIFICATION=false
    export MM_EMAILSETTINGS_ENABLESIGNUPWITHEMAIL=true
    export MM_EMAILSETTINGS_ENABLESIGNINWITHEMAIL=true
    export MM_EMAILSETTINGS_ENABLESIGNINWITHUSERNAME=true
    export MM_METRICSSETTINGS_ENABLE=false
    export MM_IMAGEPROXYSETTINGS_ENABLE=false
    export MM_RATELIMITSETTINGS_ENABLE="${MM_RATELIMITSETTINGS_ENABLE:-false}"
    export MM_TEAMSETTINGS_ENABLEOPENSERVER=true
    export MM_TEAMSETTINGS_ENABLEUSERCREATION=true
    export MM_TEAMSETTINGS_MAXUSERSPERTEAM=10000
    export MM_FILESETTINGS_DRIVERNAME=local
    export MM_FILESETTINGS_DIRECTORY="$FILES_DIR/"
    export MM_FILESETTINGS_ENABLEPUBLICLINK=true
    export MM_LOGSETTINGS_ENABLECONSOLE=true
    export MM_LOGSETTINGS_CONSOLELEVEL=ERROR
    export MM_LOGSETTINGS_ENABLEFILE=true
    export MM_LOGSETTINGS_FILELEVEL=INFO
    export MM_LOGSETTINGS_FILELOCATION="$LOG_DIR"
    export MM_NOTIFICATIONLOGSETTINGS_FILELOCATION="$LOG_DIR"
}

prepare_run_dir() {
    local bdir="$1"
    mkdir -p "$RUN_DIR/plugins" "$RUN_DIR/client/plugins" "$FILES_DIR" "$LOG_DIR"
    for d in i18n templates fonts; do
        ln -sfn "$bdir/$d" "$RUN_DIR/$d"
    done
}

start_mm() {
    local key bdir pid t0 deadline want
    key="$(cache_key)"
    bdir="$BIN_ROOT/$key"
    want="$key port=$MM_PORT"
    t0="$(now)"
    if pid="$(mm_pid)"; then
        if [ "$(cat "$KEY_FILE" 2>/dev/null || true)" != "$want" ]; then
            case "$(cat "$KEY_FILE" 2>/dev/null || true)" in
                *" port=$MM_PORT") ;;
                *) if port_in_use "$MM_PORT"; then
                       die "something else is listening on 127.0.0.1:$MM_PORT (set MM_TEST_PORT to use another port)"
                   fi ;;
            esac
            log "running server is from another build or port; restarting it"
            stop_mm
        elif ping_ok; then
            log "Mattermost already running (pid $pid) at $MM_URL"
            return 0
        else
            log "Mattermost process $pid exists but does not answer yet; waiting for it"
        fi
    fi
    if ! mm_pid >/dev/null; then
        if port_in_use "$MM_PORT"; then
            die "something else is listening on 127.0.0.1:$MM_PORT (set MM_TEST_PORT to use another port)"
        fi
        prepare_run_dir "$bdir"
        if [ -f "$LOG_DIR/server.out" ]; then mv -f "$LOG_DIR/server.out" "$LOG_DIR/server.out.prev"; fi
        log "starting Mattermost on $MM_URL"
        t0="$(now)"
        (
            mm_env
            cd "$RUN_DIR"
            exec setsid "$bdir/mattermost" server </dev/null >>"$LOG_DIR/server.out" 2>&1
        ) &
        echo $! >"$PID_FILE"
        echo "$want" >"$KEY_FILE"
    fi
    pid="$(cat "$PID_FILE")"
    deadline=$(($(date +%s) + START_TIMEOUT))
    until ping_ok; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "Mattermost exited during start-up; last log lines ($LOG_DIR):"
            tail -n 15 "$LOG_DIR/mattermost.log" >&2 2>/dev/null || true
            tail -n 15 "$LOG_DIR/server.out" >&2 || true
            rm -f "$PID_FILE" "$KEY_FILE"
            exit 1
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "Mattermost not ready after ${START_TIMEOUT}s (still running as pid $pid; '$0 stop' ends it); last log lines ($LOG_DIR):"
            tail -n 30 "$LOG_DIR/mattermost.log" >&2 2>/dev/null || true
            tail -n 10 "$LOG_DIR/server.out" >&2 || true
            exit 1
        fi
        sleep 0.5
    done
    log "Mattermost ready in $(elapsed "$t0") s (pid $(mm_pid))"
}

stop_mm() {
    local pid i
    if pid="$(mm_pid)"; then
        log "stopping Mattermost (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 120); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "Mattermost did not stop in 30 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$PID_FILE" "$KEY_FILE"
}

bootstrap() {
    local t0
    t0="$(now)"
    python3 "$HERE/bootstrap.py" "$MM_URL" "$CONN_JSON"
    log "bootstrap done in $(elapsed "$t0") s; connection file: $CONN_JSON"
}

# ---------------------------------------------------------------- commands --

cmd_start() {
    local t0
    t0="$(now)"
    mkdir -p "$STATE" "$LOG_DIR" "$BIN_ROOT"
    command -v curl >/dev/null 2>&1 || die "curl not found"
    command -v python3 >/dev/null 2>&1 || die "python3 not found"
    build
    start_pg
    start_mm
    bootstrap
    {
        printf 'MM_TEST_PORT=%q\nMM_TEST_PG_PORT=%q\n' "$MM_PORT" "$PG_PORT"
        { env | grep '^MM_RATELIMITSETTINGS_' || true; } | while IFS='=' read -r k v; do printf 'export %s=%q\n' "$k" "$v"; done
    } >"$INSTANCE_ENV"
    log "start: total $(elapsed "$t0") s"
}

cmd_restart() {
    local t0
    t0="$(now)"
    pg_running || die "postgres is not running: use '$0 start'"
    stop_mm
    start_mm
    log "restart: total $(elapsed "$t0") s"
}

cmd_stop() {
    stop_mm
    PG_BIN="$(find_pg_bin || true)"
    if [ -n "$PG_BIN" ]; then stop_pg; fi
    log "stopped"
}

cmd_status() {
    local pid rc=0
    if pid="$(mm_pid)"; then
        if ping_ok; then
            echo "mattermost: running (pid $pid) at $MM_URL, ping OK"
        else
            echo "mattermost: process running (pid $pid) but $MM_URL/api/v4/system/ping does not answer 200"
            rc=1
        fi
    else
        echo "mattermost: stopped"
        rc=1
    fi
    if pg_running; then
        echo "postgres:   running on 127.0.0.1:$PG_PORT (data $PG_DATA)"
    else
        echo "postgres:   stopped"
        rc=1
    fi
    if [ -d "$BIN_ROOT/$(cache_key)" ]; then
        echo "binary:     cached ($BIN_ROOT/$(cache_key))"
    else
        echo "binary:     not built for the current go.mod/go.sum"
    fi
    [ -f "$CONN_JSON" ] && echo "connection: $CONN_JSON"
    return "$rc"
}

cmd_reset() {
    cmd_stop
    log "wiping database, file store, config and connection file"
    rm -rf "$PG_DIR" "$FILES_DIR" "$RUN_DIR" "$CONFIG_JSON" "$CONN_JSON"
    cmd_start
}

cmd_env() {
    [ -f "$CONN_JSON" ] || die "no $CONN_JSON; run '$0 start' first"
    python3 - "$CONN_JSON" <<'EOF'
import json, shlex, sys
path = sys.argv[1]
c = json.load(open(path))
pairs = [
    ("MATTERAPI_TEST_CONNECTION", path),
    ("MATTERAPI_TEST_URL", c["url"]),
    ("MATTERAPI_TEST_ADMIN_TOKEN", c["admin"]["token"]),
    ("MATTERAPI_TEST_BOT_TOKEN", c["bot"]["token"]),
]
for k, v in pairs:
    print("export %s=%s" % (k, shlex.quote(v)))
EOF
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    restart) cmd_restart ;;
    build) mkdir -p "$BIN_ROOT"; build ;;
    env) cmd_env ;;
    *)
        echo "usage: $0 start|stop|status|reset|restart|build|env" >&2
        exit 2
        ;;
esac
