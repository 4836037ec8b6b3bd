"""Keyword search moves out of the database into the retrieval component's engine (tantivy): the FTS5 table goes,
and triggers record every change the engine's index must follow in papers_searchchange."""

from django.db import migrations, models

CHANGE = "INSERT INTO papers_searchchange (paper_id, stamp) VALUES ({paper}, random())"
# What the keyword index holds of a paper: its row (title, abstract, categories, date, visibility) and authors.
SQLITE_TRIGGERS = {
    "papers_search_paper_insert": f"AFTER INSERT ON papers_paper BEGIN {CHANGE.format(paper='NEW.id')}; END",
    "papers_search_paper_update": (
        "AFTER UPDATE OF title, abstract, categories, published, hidden ON papers_paper "
        f"BEGIN {CHANGE.format(paper='NEW.id')}; END"
    ),
    "papers_search_paper_delete": f"AFTER DELETE ON papers_paper BEGIN {CHANGE.format(paper='OLD.id')}; END",
    "papers_search_authorship_insert": (
        f"AFTER INSERT ON papers_authorship BEGIN {CHANGE.format(paper='NEW.paper_id')}; END"
    ),
    "papers_search_authorship_update": (
        "AFTER UPDATE ON papers_authorship BEGIN "
        f"{CHANGE.format(paper='NEW.paper_id')}; {CHANGE.format(paper='OLD.paper_id')}; END"
    ),
    "papers_search_authorship_delete": (
        f"AFTER DELETE ON papers_authorship BEGIN {CHANGE.format(paper='OLD.paper_id')}; END"
    ),
    "papers_search_author_rename": (
        "AFTER UPDATE OF name ON papers_author BEGIN "
        "INSERT INTO papers_searchchange (paper_id, stamp) "
        "SELECT paper_id, random() FROM papers_authorship WHERE author_id = NEW.id; END"
    ),
}


# PostgreSQL: statement-level triggers over transition tables, so that one statement touching many rows writes one
# change per paper; an update counts only where what the index holds really changed.
PG_STAMP = "floor(random() * 4611686018427387903)::bigint"
PG_LOG = f"INSERT INTO papers_searchchange (paper_id, stamp) SELECT DISTINCT {{column}}, {PG_STAMP} FROM {{rows}}"
PG_FUNCTIONS = {
    "papers_search_log_new_papers": PG_LOG.format(column="id", rows="new_rows"),
    "papers_search_log_old_papers": PG_LOG.format(column="id", rows="old_rows"),
    "papers_search_log_changed_papers": PG_LOG.format(
        column="n.id",
        rows="new_rows n JOIN old_rows o ON o.id = n.id WHERE (n.title, n.abstract, n.categories, n.published, "
        "n.hidden) IS DISTINCT FROM (o.title, o.abstract, o.categories, o.published, o.hidden)",
    ),
    "papers_search_log_new_authorships": PG_LOG.format(column="paper_id", rows="new_rows"),
    "papers_search_log_old_authorships": PG_LOG.format(column="paper_id", rows="old_rows"),
    "papers_search_log_moved_authorships": PG_LOG.format(
        column="paper_id", rows="(SELECT paper_id FROM new_rows UNION SELECT paper_id FROM old_rows) moved"
    ),
    "papers_search_log_renamed_author": (
        f"INSERT INTO papers_searchchange (paper_id, stamp) SELECT paper_id, {PG_STAMP} FROM papers_authorship "
        "WHERE author_id = NEW.id"
    ),
}
PG_TRIGGERS = {
    # name: (table, event, transition tables, function)
    "papers_search_paper_insert": ("papers_paper", "INSERT", "NEW TABLE AS new_rows", "papers_search_log_new_papers"),
    "papers_search_paper_update": (
        "papers_paper", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "papers_search_log_changed_papers"
    ),
    "papers_search_paper_delete": ("papers_paper", "DELETE", "OLD TABLE AS old_rows", "papers_search_log_old_papers"),
    "papers_search_authorship_insert": (
        "papers_authorship", "INSERT", "NEW TABLE AS new_rows", "papers_search_log_new_authorships"
    ),
    "papers_search_authorship_update": (
        "papers_authorship", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "papers_search_log_moved_authorships",
    ),
    "papers_search_authorship_delete": (
        "papers_authorship", "DELETE", "OLD TABLE AS old_rows", "papers_search_log_old_authorships"
    ),
}


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS papers_search")
        for name, body in SQLITE_TRIGGERS.items():
            schema_editor.execute(f"CREATE TRIGGER {name} {body}")
        stamp = "random()"
    elif vendor == "postgresql":
        for name, body in PG_FUNCTIONS.items():
            schema_editor.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$"
            )
        for name, (table, event, transitions, function) in PG_TRIGGERS.items():
            schema_editor.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
        schema_editor.execute(
            "CREATE TRIGGER papers_search_author_rename AFTER UPDATE OF name ON papers_author FOR EACH ROW "
            "WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION papers_search_log_renamed_author()"
        )
        stamp = PG_STAMP
    else:
        raise RuntimeError(f"paperfeed runs on SQLite or PostgreSQL, not {vendor}")
    # Every paper already stored is one change for the new index to pick up.
    schema_editor.execute(f"INSERT INTO papers_searchchange (paper_id, stamp) SELECT id, {stamp} FROM papers_paper")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, (table, *_) in PG_TRIGGERS.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        schema_editor.execute("DROP TRIGGER IF EXISTS papers_search_author_rename ON papers_author")
        for name in PG_FUNCTIONS:
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")
        return
    for name in SQLITE_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    schema_editor.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS papers_search USING fts5(title, abstract, authors, "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    schema_editor.execute("INSERT INTO papers_search(papers_search, rank) VALUES ('rank', 'bm25(5.0, 1.0, 2.0)')")
    schema_editor.execute(
        "INSERT INTO papers_search(rowid, title, abstract, authors) SELECT p.id, p.title, p.abstract, "
        "coalesce((SELECT group_concat(a.name, ', ') FROM papers_authorship s JOIN papers_author a "
        "ON a.id = s.author_id WHERE s.paper_id = p.id), '') FROM papers_paper p WHERE NOT p.hidden"
    )


class Migration(migrations.Migration):
    dependencies = [("papers", "0005_paper_hidden")]
    operations = [
        migrations.CreateModel(
            name="SearchChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("paper_id", models.BigIntegerField()),
                ("stamp", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(create, drop),
    ]
