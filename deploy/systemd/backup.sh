#!/bin/bash
# Daily backup of a fediverse-mu instance installed with systemd (path B in deploy/README.md).
# Run by fediverse-mu-backup.service (as the fediverse-mu user); can also be run by hand:
#   runuser -u fediverse-mu -- /usr/local/bin/fediverse-mu-backup
#
# Produces, in $FMU_BACKUP_DIR (default /var/backups/fediverse-mu):
#   db/fediverse-mu-YYYY-MM-DD_HHMMSS.db.gz        consistent online copy of the database
#   config/fediverse-mu-config-YYYY-MM-DD_HHMMSS.tar.gz
#                                                  everything else in the data folder except the
#                                                  database and media: config.toml (secret_key!)
#                                                  and the instance keys
#   media/                                         mirror of the media folder (files are added and
#                                                  updated, never deleted, so that any database
#                                                  copy kept here still finds its files)
# Database and config copies older than $FMU_KEEP_DAYS days (default 14) are deleted, but only
# after a successful backup. THESE FILES CONTAIN SECRETS: keep them (and any off-site copy)
# private.
#
# Settings (environment variables, all optional):
#   FMU_DATA        data folder                    /var/lib/fediverse-mu
#   FMU_MEDIA       media folder                   $FMU_DATA/media (match media_dir in config)
#   FMU_BACKUP_DIR  where backups go               /var/backups/fediverse-mu
#   FMU_KEEP_DAYS   days of db/config copies kept  14
#   FMU_BIN         the fediverse-mu command       /opt/fediverse-mu/venv/bin/fediverse-mu
set -euo pipefail
umask 077

FMU_DATA="${FMU_DATA:-/var/lib/fediverse-mu}"
FMU_MEDIA="${FMU_MEDIA:-$FMU_DATA/media}"
FMU_BACKUP_DIR="${FMU_BACKUP_DIR:-/var/backups/fediverse-mu}"
FMU_KEEP_DAYS="${FMU_KEEP_DAYS:-14}"
FMU_BIN="${FMU_BIN:-/opt/fediverse-mu/venv/bin/fediverse-mu}"

log() { printf 'fediverse-mu-backup: %s\n' "$*" >&2; }

case "$FMU_KEEP_DAYS" in
    '' | *[!0-9]* | 0) log "FMU_KEEP_DAYS must be a positive integer"; exit 2 ;;
esac
if [ ! -f "$FMU_DATA/config.toml" ]; then
    log "$FMU_DATA does not look like a fediverse-mu data folder (no config.toml)"
    exit 1
fi

stamp="$(date +%Y-%m-%d_%H%M%S)"
mkdir -p "$FMU_BACKUP_DIR/db" "$FMU_BACKUP_DIR/config" "$FMU_BACKUP_DIR/media"

# 1. Database: consistent online copy (the server may keep running; `fediverse-mu backup`
#    checks the copy's integrity before moving it into place), then compressed.
db="$FMU_BACKUP_DIR/db/fediverse-mu-$stamp.db"
"$FMU_BIN" backup --data "$FMU_DATA" "$db"
gzip -6 "$db"
log "database -> $db.gz"

# 2. Config and keys: the data folder minus the database files and the media folder.
tar -C "$FMU_DATA" \
    --exclude='./fediverse-mu.db' --exclude='./fediverse-mu.db-*' --exclude='./media' \
    -czf "$FMU_BACKUP_DIR/config/fediverse-mu-config-$stamp.tar.gz" .
log "config and keys -> $FMU_BACKUP_DIR/config/fediverse-mu-config-$stamp.tar.gz"

# 3. Media: incremental mirror (rsync if installed, cp otherwise).
if [ -d "$FMU_MEDIA" ]; then
    if command -v rsync > /dev/null; then
        rsync -a "$FMU_MEDIA/" "$FMU_BACKUP_DIR/media/"
    else
        cp -a --update "$FMU_MEDIA/." "$FMU_BACKUP_DIR/media/"
    fi
    log "media -> $FMU_BACKUP_DIR/media/"
else
    log "no media folder at $FMU_MEDIA (nothing uploaded yet?), skipped"
fi

# 4. Retention: with one run a day, -mtime +(N-1) keeps the last N copies.
find "$FMU_BACKUP_DIR/db" "$FMU_BACKUP_DIR/config" -maxdepth 1 -type f \
    \( -name 'fediverse-mu-*.db.gz' -o -name 'fediverse-mu-config-*.tar.gz' \) \
    -mtime +"$((FMU_KEEP_DAYS - 1))" -print -delete | sed 's/^/fediverse-mu-backup: deleted old /' >&2
log "done"
