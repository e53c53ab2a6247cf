"""Places and ressentis: the place's settings (one row, first filled from config.toml at
startup), its named spots and feelings vocabulary (seeded with the default French/English set),
the ressenti of each status (feeling and coarse location; local and remote), the distinct
locations ressentis were made at (for the nearby timeline), the barometer's weekly counts (kept
by triggers, so the place page reads a few hundred rows whatever the size of ``statuses``), the
place actors this instance has seen (the directory; allied ones form the network of places),
the statuses addressed to the network of places, the server-managed lists of residents, and
residents' local-only default."""

from sqlite_utils import Database

_FEELINGS = (
    ("joie", "😊", "joie", "joie", "joy", 1),
    ("calme", "😌", "calme", "calme", "calm", 2),
    ("gratitude", "🙏", "gratitude", "gratitude", "gratitude", 3),
    ("espoir", "🌱", "espoir", "espoir", "hope", 4),
    ("fierte", "✊", "fierté", "fierté", "pride", 5),
    ("curiosite", "🤔", "curiosité", "curiosité", "curiosity", 6),
    ("inquietude", "😟", "inquiétude", "inquiétude", "worry", 7),
    ("tristesse", "😢", "tristesse", "tristesse", "sadness", 8),
    ("colere", "😠", "colère", "colère", "anger", 9),
    ("peur", "😨", "peur", "peur", "fear", 10),
)


def up(db: Database) -> None:
    """Create the place and ressenti tables, their indexes and triggers."""
    db.execute(
        "CREATE TABLE place_settings (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL,"
        " kind TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', address TEXT NOT NULL"
        " DEFAULT '', latitude REAL, longitude REAL, territory_name TEXT NOT NULL DEFAULT '',"
        " communes TEXT NOT NULL DEFAULT '[]', radius_km REAL, polygon TEXT NOT NULL"
        " DEFAULT '[]', min_group_size INTEGER NOT NULL DEFAULT 5, updated_at TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE place_spots (id INTEGER PRIMARY KEY, name TEXT NOT NULL, hashtag TEXT"
        " NOT NULL, folded TEXT NOT NULL UNIQUE, latitude REAL NOT NULL, longitude REAL NOT NULL,"
        " created_at TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE place_feelings (term TEXT PRIMARY KEY, emoji TEXT NOT NULL, hashtag TEXT"
        " NOT NULL, label_fr TEXT NOT NULL, label_en TEXT NOT NULL, position INTEGER NOT NULL"
        " DEFAULT 0)")
    db.conn.executemany(
        "INSERT INTO place_feelings (term, emoji, hashtag, label_fr, label_en, position)"
        " VALUES (?, ?, ?, ?, ?, ?)", _FEELINGS)

    # One row per status carrying a ressenti. ``public``: visible on public pages and open
    # data (public visibility, not local-only, not for the network only).
    db.execute(
        "CREATE TABLE ressentis (status_id INTEGER PRIMARY KEY REFERENCES statuses(id),"
        " feeling TEXT NOT NULL, emoji TEXT NOT NULL DEFAULT '', label TEXT NOT NULL DEFAULT '',"
        " location_name TEXT NOT NULL DEFAULT '', latitude REAL, longitude REAL, spot TEXT,"
        " place_uri TEXT, local INTEGER NOT NULL, public INTEGER NOT NULL,"
        " local_only INTEGER NOT NULL DEFAULT 0, week TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_ressentis_feeling ON ressentis (feeling, status_id)")
    db.execute("CREATE INDEX idx_ressentis_spot ON ressentis (spot, status_id)"
               " WHERE spot IS NOT NULL")
    db.execute("CREATE INDEX idx_ressentis_public_local ON ressentis (local, status_id)"
               " WHERE public = 1")
    db.execute("CREATE INDEX idx_ressentis_located ON ressentis (latitude, longitude, status_id)"
               " WHERE latitude IS NOT NULL")
    db.execute(
        "CREATE TABLE ressenti_locations (latitude REAL NOT NULL, longitude REAL NOT NULL,"
        " PRIMARY KEY (latitude, longitude)) WITHOUT ROWID")

    db.execute(
        "CREATE TABLE barometer (week TEXT NOT NULL, feeling TEXT NOT NULL, count INTEGER NOT"
        " NULL, PRIMARY KEY (week, feeling)) WITHOUT ROWID")
    db.execute(
        "CREATE TRIGGER ressentis_count AFTER INSERT ON ressentis"
        " WHEN new.local = 1 AND new.public = 1 BEGIN"
        " INSERT INTO barometer (week, feeling, count) VALUES (new.week, new.feeling, 1)"
        "  ON CONFLICT (week, feeling) DO UPDATE SET count = count + 1;"
        " END")
    db.execute(
        "CREATE TRIGGER ressentis_uncount AFTER DELETE ON ressentis"
        " WHEN old.local = 1 AND old.public = 1 BEGIN"
        " UPDATE barometer SET count = max(0, count - 1) WHERE week = old.week"
        "  AND feeling = old.feeling;"
        " END")
    # A deleted status takes its ressenti with it (and out of the barometer).
    db.execute(
        "CREATE TRIGGER statuses_drop_ressenti AFTER UPDATE OF deleted_at ON statuses"
        " WHEN new.deleted_at IS NOT NULL BEGIN"
        " DELETE FROM ressentis WHERE status_id = new.id;"
        " END")

    db.execute(
        "CREATE TABLE known_places (actor_uri TEXT PRIMARY KEY, account_id INTEGER"
        " REFERENCES accounts(id), name TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT '',"
        " territory TEXT NOT NULL DEFAULT '', address TEXT NOT NULL DEFAULT '', latitude REAL,"
        " longitude REAL, radius_km REAL, url TEXT, allied INTEGER NOT NULL DEFAULT 0,"
        " local INTEGER NOT NULL DEFAULT 0, seen_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_known_places_account ON known_places (account_id)")

    db.execute("CREATE TABLE network_statuses (status_id INTEGER PRIMARY KEY"
               " REFERENCES statuses(id))")
    # The server-managed lists of each resident ("Réseau des lieux", "Autour de nous — 10 km"):
    # ordinary lists (stock clients show them) whose feed this feature fills on write.
    db.execute("CREATE TABLE place_lists (list_id INTEGER PRIMARY KEY REFERENCES lists(id)"
               " ON DELETE CASCADE, account_id INTEGER NOT NULL REFERENCES accounts(id),"
               " kind TEXT NOT NULL, radius_km REAL)")
    db.execute("CREATE UNIQUE INDEX idx_place_lists_owner ON place_lists (account_id, kind)")
    db.execute("CREATE TABLE place_prefs (account_id INTEGER PRIMARY KEY REFERENCES"
               " accounts(id), local_only_default INTEGER NOT NULL DEFAULT 0)")
