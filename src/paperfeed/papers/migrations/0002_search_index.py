"""The keyword-search index: an FTS5 table whose rowid is the paper's id (SQLite only)."""

from django.db import migrations

CREATE = """
CREATE VIRTUAL TABLE IF NOT EXISTS papers_search USING fts5(
    title, abstract, authors,
    tokenize = 'porter unicode61 remove_diacritics 2'
)
"""


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE)
        # Title matches weigh 5x abstract matches, author matches 2x: the persistent ranking of this table.
        schema_editor.execute("INSERT INTO papers_search(papers_search, rank) VALUES ('rank', 'bm25(5.0, 1.0, 2.0)')")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS papers_search")


class Migration(migrations.Migration):
    dependencies = [("papers", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index)]
