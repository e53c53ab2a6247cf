#!/bin/bash
# Backup of a fediverse-mu instance run with Docker Compose (path A in deploy/README.md).
# Run as root on the host, e.g. nightly from cron (see deploy/README.md):
#   /opt/fediverse-mu/src/deploy/docker-backup.sh
#
# Same layout as deploy/systemd/backup.sh, in $FMU_BACKUP_DIR (default /var/backups/fediverse-mu):
#   db/fediverse-mu-YYYY-MM-DD_HHMMSS.db.gz              consistent online copy of the database
#   config/fediverse-mu-config-YYYY-MM-DD_HHMMSS.tar.gz  config.toml (secret_key!) and keys
#   media/                                               mirror of /data/media (never deletes)
# Database and config copies older than $FMU_KEEP_DAYS days (default 14) are deleted after a
# successful run. THESE FILES CONTAIN SECRETS: keep them private.
#
# Settings (environment variables, all optional):
#   FMU_COMPOSE_DIR  folder of docker-compose.yml   the folder of this script
#   FMU_SERVICE      compose service of the app     app
#   FMU_BACKUP_DIR   where backups go               /var/backups/fediverse-mu
#   FMU_KEEP_DAYS    days of db/config copies kept  14
set -euo pipefail
umask 077

FMU_COMPOSE_DIR="${FMU_COMPOSE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
FMU_SERVICE="${FMU_SERVICE:-app}"
FMU_BACKUP_DIR="${FMU_BACKUP_DIR:-/var/backups/fediverse-mu}"
FMU_KEEP_DAYS="${FMU_KEEP_DAYS:-14}"

log() { printf 'fediverse-mu-backup: %s\n' "$*" >&2; }

case "$FMU_KEEP_DAYS" in
    '' | *[!0-9]* | 0) log "FMU_KEEP_DAYS must be a positive integer"; exit 2 ;;
esac

cd "$FMU_COMPOSE_DIR"
dc() { docker compose "$@"; }

stamp="$(date +%Y-%m-%d_%H%M%S)"
db="$FMU_BACKUP_DIR/db/fediverse-mu-$stamp.db.gz"
cfg="$FMU_BACKUP_DIR/config/fediverse-mu-config-$stamp.tar.gz"
trap 'rm -f "$db.partial" "$cfg.partial"' EXIT
mkdir -p "$FMU_BACKUP_DIR/db" "$FMU_BACKUP_DIR/config" "$FMU_BACKUP_DIR/media"

# 1. Database: `fediverse-mu backup` writes a consistent, integrity-checked copy inside the data
#    volume (on disk, not in the container's in-memory /tmp); it is streamed out compressed,
#    then removed.
dc exec -T "$FMU_SERVICE" sh -c '
    set -e
    dir=/data/.backup-in-progress
    trap "rm -rf \"\$dir\"" EXIT
    rm -rf "$dir" && mkdir -m 0700 "$dir"
    fediverse-mu backup --data /data "$dir/fediverse-mu.db" >&2
    gzip -6 -c "$dir/fediverse-mu.db"
' > "$db.partial"
mv "$db.partial" "$db"
log "database -> $db"

# 2. Config and keys: the data folder minus the database files and the media folder.
dc exec -T "$FMU_SERVICE" tar -C /data \
    --exclude='./fediverse-mu.db' --exclude='./fediverse-mu.db-*' --exclude='./media' \
    --exclude='./.backup-in-progress' \
    -czf - . > "$cfg.partial"
mv "$cfg.partial" "$cfg"
log "config and keys -> $cfg"

# 3. Media: streamed out with tar and unpacked over the mirror (adds and updates files).
if dc exec -T "$FMU_SERVICE" test -d /data/media; then
    dc exec -T "$FMU_SERVICE" tar -C /data/media -cf - . | tar -C "$FMU_BACKUP_DIR/media" -xf -
    log "media -> $FMU_BACKUP_DIR/media/"
else
    log "no /data/media in the container (nothing uploaded yet?), skipped"
fi

# 4. Retention: with one run a day, -mtime +(N-1) keeps the last N copies.
find "$FMU_BACKUP_DIR/db" "$FMU_BACKUP_DIR/config" -maxdepth 1 -type f \
    \( -name 'fediverse-mu-*.db.gz' -o -name 'fediverse-mu-config-*.tar.gz' \) \
    -mtime +"$((FMU_KEEP_DAYS - 1))" -print -delete | sed 's/^/fediverse-mu-backup: deleted old /' >&2
log "done"
