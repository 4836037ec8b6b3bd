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


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        raise RuntimeError("paperfeed's keyword index follows changes through SQLite triggers; other databases later")
    schema_editor.execute("DROP TABLE IF EXISTS papers_search")
    for name, body in SQLITE_TRIGGERS.items():
        schema_editor.execute(f"CREATE TRIGGER {name} {body}")
    # Every paper already stored is one change for the new index to pick up.
    schema_editor.execute("INSERT INTO papers_searchchange (paper_id, stamp) SELECT id, random() FROM papers_paper")


def drop(apps, schema_editor):
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
