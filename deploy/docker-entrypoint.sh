#!/bin/bash
# Entrypoint of the fediverse-mu container image (see deploy/Dockerfile).
#
# `fediverse-mu serve` (the default command):
#   1. refuses to start, with instructions, when the data folder was never initialised;
#   2. checks that the data folder is writable by the container user (uid 1000);
#   3. applies pending database migrations (`fediverse-mu migrate`), unless MIGRATE_ON_START=0;
#   4. exec's the server, so that it receives SIGTERM directly (graceful shutdown).
#
# `fediverse-mu init --data /data` works on the (empty) volume as is: init stages the new
# instance inside an existing data folder and moves it into place.
#
# Any other command (user create, token create, backup, migrate, sh...) runs unchanged:
#   docker compose exec app fediverse-mu user create --data /data alice --email a@lieu.example --admin
set -euo pipefail

log() { printf 'docker-entrypoint: %s\n' "$*" >&2; }

# Value of --data in the arguments ("--data DIR" or "--data=DIR"); empty when absent.
data_dir_from_args() {
    local dir=""
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --data) if [ "$#" -ge 2 ]; then dir="$2"; shift; fi ;;
            --data=*) dir="${1#--data=}" ;;
        esac
        shift
    done
    printf '%s\n' "$dir"
}

if [ "${1:-}" = "fediverse-mu" ] && [ "${2:-}" = "serve" ]; then
    data_dir="$(data_dir_from_args "$@")"
    data_dir="${data_dir:-/data}"

    if [ ! -f "$data_dir/config.toml" ]; then
        cat >&2 <<EOF
docker-entrypoint: the data folder $data_dir is not initialised (no config.toml found).

  Initialise it ONCE, with the real public domain of your place (no --dev), then start again:

    docker compose run --rm app fediverse-mu init --data /data --domain lieu.example --name "Nom du lieu"
    docker compose up -d

  (replace lieu.example by your domain; it must match DOMAIN in deploy/.env)
EOF
        # Slow down the restart loop of "restart: unless-stopped" while nobody has run init.
        sleep 10
        exit 78  # EX_CONFIG
    fi

    # SQLite needs to create fediverse-mu.db-wal/-shm next to the database.
    if [ ! -w "$data_dir" ]; then
        log "the data folder $data_dir is not writable by uid $(id -u)."
        log "With a bind mount, fix it on the host:  chown -R 1000:1000 /path/on/host"
        sleep 10
        exit 77  # EX_NOPERM
    fi

    if [ "${MIGRATE_ON_START:-1}" = "1" ]; then
        log "applying pending database migrations (set MIGRATE_ON_START=0 to skip)"
        fediverse-mu migrate --data "$data_dir"
    fi

    log "starting: $*"
fi

exec "$@"
