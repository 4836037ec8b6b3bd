"""Which writes make public pages stale, recorded by the database itself, and the state cached pages are checked
against.

Two logs. Votes and comments, the writes a busy site makes all the time, go to a log by paper
(`pagecache_paperchange`): a vote on one paper makes stale only the pages that show or rank it (`PaperChanges`
below; pages.py says which papers a page depends on). Every other write goes to the site-wide log, which makes
every page stale.

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

import threading
from collections import deque
from dataclasses import dataclass

from django.db import connections

from paperfeed.pagecache.models import PageChange, PaperChange

LOG = PageChange._meta.db_table
KEEP = 64  # rows kept; any number works, a small one keeps the read cheap
PAPER_LOG = PaperChange._meta.db_table
PAPER_KEEP = 4000  # rows kept of the log by paper: a process that fell further behind treats every page as stale
MANY_PAPERS = 100  # one statement writing more papers' votes or comments than this counts as a site-wide change
PG_ORDER_LOCK = 7_142_014  # advisory lock: the log by paper is written in commit order on PostgreSQL too

# "app_label.Model" of every table that lists, paper pages, feeds or the API show something of.
WATCHED = (
    "papers.Paper",
    "papers.Author",
    "papers.Authorship",
    "papers.Organization",
    "papers.DailyEntry",
    "papers.PaperEmbedding",  # similar papers
    "community.Collection",  # public collections' feeds and BibTeX
    "community.CollectionItem",
    "community.AuthorClaim",  # a confirmed author is shown on the paper page
    "community.Profile",  # bans, display names
)
# "app_label.Model" of the tables with a paper_id whose writes change only what is shown of that paper.
BY_PAPER = (
    "papers.Vote",
    "community.Comment",
    "papers.PaperExtras",  # stars, Hugging Face artifacts, summary, thumbnail
)
EVENTS = ("INSERT", "UPDATE", "DELETE")

OURS = "pagecache\\_%"  # LIKE pattern of this module's trigger names
STATE = f"SELECT count(*), max(id), sum(stamp), (SELECT max(id) FROM {PAPER_LOG}) FROM {LOG}"
PAPER_ROWS = f"SELECT id, paper_id FROM {PAPER_LOG} WHERE id > %s ORDER BY id"
PAPER_LOWEST = f"SELECT min(id), count(*) FROM {PAPER_LOG}"

SQLITE_NOTE = (
    f"INSERT INTO {LOG} (stamp) VALUES (abs(random() % 2147483648)); "
    f"DELETE FROM {LOG} WHERE id <= (SELECT max(id) FROM {LOG}) - {KEEP};"
)
PG_NOTE = f"""
    INSERT INTO {LOG} (stamp) VALUES (floor(random() * 2147483648)::bigint) RETURNING id INTO new_id;
    DELETE FROM {LOG} WHERE id IN (SELECT id FROM {LOG} WHERE id <= new_id - {KEEP} FOR UPDATE SKIP LOCKED);
"""
SQLITE_PAPER_NOTE = (
    f"INSERT INTO {PAPER_LOG} (paper_id) {{papers}}; "
    f"DELETE FROM {PAPER_LOG} WHERE id <= (SELECT max(id) FROM {PAPER_LOG}) - {PAPER_KEEP};"
)
SQLITE_PAPERS = {"INSERT": "VALUES (NEW.paper_id)", "DELETE": "VALUES (OLD.paper_id)",
                 "UPDATE": "SELECT NEW.paper_id UNION SELECT OLD.paper_id"}  # fmt: skip
# On PostgreSQL the log by paper is written holding a transaction-level advisory lock, taken after the row was
# written and kept until commit: ids are then handed out in commit order, so a reader that has seen id N has seen
# every change up to N (SQLite writes one transaction at a time anyway). Vote and comment transactions end right
# after their write, so the lock is held for a moment.
PG_PAPER_NOTE = """
    SELECT count(DISTINCT paper_id) INTO papers FROM ({rows}) AS changed;
    IF papers > {many} THEN {site_wide}
    ELSIF papers > 0 THEN
        PERFORM pg_advisory_xact_lock({lock});
        INSERT INTO {log} (paper_id) SELECT DISTINCT paper_id FROM ({rows}) AS changed;
        DELETE FROM {log} WHERE id <= (SELECT max(id) FROM {log}) - {keep};
    END IF;
"""


def _pg_functions() -> dict[str, str]:
    """Statement-level on PostgreSQL: one row per statement that changed at least one row (per paper, for votes and
    comments, unless the statement touched more than MANY_PAPERS papers)."""

    def by_paper(rows: str) -> str:
        return PG_PAPER_NOTE.format(
            rows=rows, many=MANY_PAPERS, site_wide=PG_NOTE, lock=PG_ORDER_LOCK, log=PAPER_LOG, keep=PAPER_KEEP
        )

    return {
        "pagecache_note_rows": f"IF EXISTS (SELECT 1 FROM changed_rows) THEN {PG_NOTE} END IF;",
        "pagecache_note_renames": (
            "IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.{pk} = n.{pk} "
            f"WHERE n.username IS DISTINCT FROM o.username) THEN {PG_NOTE} END IF;"
        ),
        "pagecache_note_papers": by_paper("SELECT paper_id FROM changed_rows"),
        "pagecache_note_paper_updates": by_paper(
            "SELECT paper_id FROM new_rows UNION ALL SELECT paper_id FROM old_rows"
        ),
    }


def _tables(labels: tuple[str, ...] = WATCHED) -> list[str]:
    from django.apps import apps

    return [apps.get_model(label)._meta.db_table for label in labels]


def _user_table() -> tuple[str, str]:
    from django.contrib.auth import get_user_model

    meta = get_user_model()._meta
    return meta.db_table, meta.pk.column


def trigger_names() -> dict[str, str]:
    """name → table of every trigger this module installs."""
    names = {f"pagecache_{table}_{event.lower()}": table for table in _tables() for event in EVENTS}
    names |= {f"pagecache_{table}_{event.lower()}_paper": table for table in _tables(BY_PAPER) for event in EVENTS}
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
    by_paper = [(t, event) for t in _tables(BY_PAPER) for event in EVENTS if t in existing_tables]
    by_paper = by_paper if PAPER_LOG in existing_tables else []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for table, event in wanted:
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS pagecache_{table}_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {SQLITE_NOTE} END"
                )
            for table, event in by_paper:
                # Before the log by paper (0002), these tables wrote to the site-wide log.
                cursor.execute(f"DROP TRIGGER IF EXISTS pagecache_{table}_{event.lower()}")
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS pagecache_{table}_{event.lower()}_paper AFTER {event} ON {table} "
                    f"BEGIN {SQLITE_PAPER_NOTE.format(papers=SQLITE_PAPERS[event])} END"
                )
            if users in existing_tables:
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS pagecache_{users}_rename AFTER UPDATE OF username ON {users} "
                    f"WHEN OLD.username IS NOT NEW.username BEGIN {SQLITE_NOTE} END"
                )
        elif connection.vendor == "postgresql":
            for name, body in _pg_functions().items():
                cursor.execute(
                    f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"DECLARE new_id bigint; papers bigint; BEGIN {body.replace('{pk}', pk)} RETURN NULL; END $$"
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
            for table, event in by_paper:
                cursor.execute(f"DROP TRIGGER IF EXISTS pagecache_{table}_{event.lower()} ON {table}")
                name = f"pagecache_{table}_{event.lower()}_paper"
                if name not in present:
                    if event == "UPDATE":
                        rows, function = "OLD TABLE AS old_rows NEW TABLE AS new_rows", "pagecache_note_paper_updates"
                    else:
                        rows = "OLD TABLE AS changed_rows" if event == "DELETE" else "NEW TABLE AS changed_rows"
                        function = "pagecache_note_papers"
                    cursor.execute(
                        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {rows} "
                        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
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


@dataclass(frozen=True)
class State:
    """The change logs as one request read them: the site-wide log's state, and the last id of the log by paper."""

    generation: Generation
    papers_seen: int


def current_state(using: str = "default") -> State:
    """Both logs now, in one query (one snapshot). The log by paper is then read up to there by `paper_changes`.

    Raises DatabaseError when the database cannot be read (the caller then serves without the cache).
    """
    with connections[using].cursor() as cursor:
        cursor.execute(STATE)
        count, last, total, papers_seen = cursor.fetchone()
    state = State((int(count), int(last or 0), int(total or 0)), int(papers_seen or 0))
    paper_changes.catch_up(state.papers_seen, using)
    return state


def current_generation(using: str = "default") -> Generation:
    """The site-wide log's state: equal to an earlier reading exactly when nothing but votes and comments (which
    the log by paper records) was written since."""
    return current_state(using).generation


class PaperChanges:
    """What this process has read of the log by paper: the recent (id, paper) rows, in id order, and the id up to
    which it knows every change. A page rendered when the log stood at `seen` is unchanged for papers P exactly
    when no row after `seen` names a paper of P (or any paper, for a page that depends on them all)."""

    def __init__(self, keep: int = PAPER_KEEP) -> None:
        self._lock = threading.Lock()
        self._rows: deque[tuple[int, int]] = deque(maxlen=keep)
        self.read_to = 0  # every change with an id up to here has been read (its rows, `keep` at most, are kept)…
        self.known_from = 0  # …and every change after this one is among the rows kept

    def catch_up(self, last: int, using: str = "default") -> None:
        """Read the rows after what this process has read, up to `last` at least (from `current_state`)."""
        if last <= self.read_to:
            return
        with self._lock:
            if last <= self.read_to:  # another thread read them meanwhile
                return
            with connections[using].cursor() as cursor:
                cursor.execute(PAPER_ROWS, [self.read_to])
                rows = cursor.fetchall()
                cursor.execute(PAPER_LOWEST)
                lowest, count = cursor.fetchone()
            # Rows are dropped only from a full log (the triggers keep the last `keep`): below that, an id missing
            # is one a transaction took and rolled back (PostgreSQL's sequences leave such gaps), not a lost row.
            if count >= self._rows.maxlen and lowest > self.read_to + 1:
                # So far behind (or new, in a busy site) that rows it never read were dropped: it knows the rows
                # from the lowest kept on. Pages rendered before then are stale to it.
                self._rows.clear()
                self.known_from = lowest - 1
            for row in rows:
                if len(self._rows) == self._rows.maxlen:
                    self.known_from = self._rows[0][0]
                self._rows.append((int(row[0]), int(row[1])))
            self.read_to = max(last, self._rows[-1][0] if self._rows else 0)

    def unchanged_since(self, seen: int, papers: frozenset[int] | None) -> bool:
        """Whether no vote or comment on `papers` (None: on any paper) was read after id `seen`."""
        if seen >= self.read_to:
            return True
        if seen < self.known_from:
            return False
        with self._lock:  # only the rows after `seen`, newest first: a page checked on every hit sees few
            for row_id, paper in reversed(self._rows):
                if row_id <= seen:
                    return True
                if papers is None or paper in papers:
                    return False
        return True

    def forget(self) -> None:
        with self._lock:
            self._rows.clear()
            self.read_to = self.known_from = 0


paper_changes = PaperChanges()
