"""Which writes make public pages stale, recorded by the database itself, and the state cached pages are checked
against.

Triggers on every table a public page shows append a row with a random stamp to pagecache_pagechange and drop
all but the last KEEP rows. The log's state, `(count, last id, sum of stamps)`, is read before each page is rendered
and again for each request that would be answered from the cache: it differs after any committed write, and is
the same for every process on every machine, since they share the database.

Why a log and not a counter in one row: on PostgreSQL a transaction that updates a row holds its lock until it
commits, so one long load would hold up every vote. Appending takes no lock others wait for, and a new row is seen
exactly when the write it records is (same transaction). Pruning skips rows another transaction has locked.

Triggers are (re)installed after every migrate (apps.py), not by a migration: on SQLite a migration that rebuilds
a table drops its triggers, and the next migrate puts them back. A table added later that public pages show needs
a line in WATCHED.
"""

from __future__ import annotations

from django.db import connections

from paperfeed.pagecache.models import PageChange

LOG = PageChange._meta.db_table
KEEP = 64  # rows kept; any number works, a small one keeps the read cheap

# "app_label.Model" of every table that lists, paper pages, feeds or the API show something of.
WATCHED = (
    "papers.Paper",
    "papers.Author",
    "papers.Authorship",
    "papers.Organization",
    "papers.DailyEntry",
    "papers.Vote",
    "papers.PaperEmbedding",  # similar papers
    "community.Comment",
    "community.Collection",  # public collections' feeds and BibTeX
    "community.CollectionItem",
    "community.AuthorClaim",  # a confirmed author is shown on the paper page
    "community.Profile",  # bans, display names
)
EVENTS = ("INSERT", "UPDATE", "DELETE")

OURS = "pagecache\\_%"  # LIKE pattern of this module's trigger names
STATE = f"SELECT count(*), max(id), sum(stamp) FROM {LOG}"

SQLITE_NOTE = (
    f"INSERT INTO {LOG} (stamp) VALUES (abs(random() % 2147483648)); "
    f"DELETE FROM {LOG} WHERE id <= (SELECT max(id) FROM {LOG}) - {KEEP};"
)
PG_NOTE = f"""
    INSERT INTO {LOG} (stamp) VALUES (floor(random() * 2147483648)::bigint) RETURNING id INTO new_id;
    DELETE FROM {LOG} WHERE id IN (SELECT id FROM {LOG} WHERE id <= new_id - {KEEP} FOR UPDATE SKIP LOCKED);
"""
# Statement-level on PostgreSQL: one row per statement that changed at least one row.
PG_FUNCTIONS = {
    "pagecache_note_rows": f"IF EXISTS (SELECT 1 FROM changed_rows) THEN {PG_NOTE} END IF;",
    "pagecache_note_renames": (
        "IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.{pk} = n.{pk} "
        f"WHERE n.username IS DISTINCT FROM o.username) THEN {PG_NOTE} END IF;"
    ),
}


def _tables() -> list[str]:
    from django.apps import apps

    return [apps.get_model(label)._meta.db_table for label in WATCHED]


def _user_table() -> tuple[str, str]:
    from django.contrib.auth import get_user_model

    meta = get_user_model()._meta
    return meta.db_table, meta.pk.column


def trigger_names() -> dict[str, str]:
    """name → table of every trigger this module installs."""
    names = {f"pagecache_{table}_{event.lower()}": table for table in _tables() for event in EVENTS}
    users, _ = _user_table()
    names[f"pagecache_{users}_rename"] = users
    return names


def install_triggers(using: str = "default") -> None:
    """Create the triggers that are missing (on tables that exist): safe to run again and again."""
    connection = connections[using]
    existing_tables = set(connection.introspection.table_names())
    if LOG not in existing_tables:
        return
    users, pk = _user_table()
    wanted = [(table, event) for table in _tables() for event in EVENTS if table in existing_tables]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for table, event in wanted:
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS pagecache_{table}_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {SQLITE_NOTE} END"
                )
            if users in existing_tables:
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS pagecache_{users}_rename AFTER UPDATE OF username ON {users} "
                    f"WHEN OLD.username IS NOT NEW.username BEGIN {SQLITE_NOTE} END"
                )
        elif connection.vendor == "postgresql":
            for name, body in PG_FUNCTIONS.items():
                cursor.execute(
                    f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"DECLARE new_id bigint; BEGIN {body.format(pk=pk)} RETURN NULL; END $$"
                )
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s", [OURS])
            present = {row[0] for row in cursor.fetchall()}
            for table, event in wanted:
                name = f"pagecache_{table}_{event.lower()}"
                if name not in present:
                    rows = "OLD TABLE AS changed_rows" if event == "DELETE" else "NEW TABLE AS changed_rows"
                    cursor.execute(
                        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {rows} "
                        "FOR EACH STATEMENT EXECUTE FUNCTION pagecache_note_rows()"
                    )
            if users in existing_tables and f"pagecache_{users}_rename" not in present:
                cursor.execute(
                    f"CREATE TRIGGER pagecache_{users}_rename AFTER UPDATE ON {users} "
                    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
                    "FOR EACH STATEMENT EXECUTE FUNCTION pagecache_note_renames()"
                )
        else:
            raise RuntimeError(f"paperfeed runs on SQLite or PostgreSQL, not {connection.vendor}")


def installed_triggers(using: str = "default") -> set[str]:
    """The names of this module's triggers the database has (for checks and tests)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s ESCAPE '\\'", [OURS])
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s", [OURS])
        return {row[0] for row in cursor.fetchall()}


Generation = tuple[int, int, int]


def current_generation(using: str = "default") -> Generation:
    """The state of the change log now: equal to an earlier reading exactly when nothing was written since.

    Raises DatabaseError when the database cannot be read (the caller then serves without the cache).
    """
    with connections[using].cursor() as cursor:
        cursor.execute(STATE)
        count, last, total = cursor.fetchone()
    return (int(count), int(last or 0), int(total or 0))
