"""On PostgreSQL, the vector store of search by meaning: pgvector enabled (where the role may enable it), a table
of the papers' vectors with an HNSW index, and triggers that remove a vector when its embedding goes or changes.

paperfeed.papers.retrieval.vectors owns this store (`prepare`), and `paperfeed index` and `paperfeed serve` create
it the same way when pgvector arrives after this migration: without pgvector the migration succeeds and creates
nothing, and those commands say how to install it. Nothing on SQLite, whose store is a usearch file."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from paperfeed.papers.retrieval import vectors

        vectors.prepare()


def drop(apps, schema_editor):
    from paperfeed.papers.retrieval import vectors

    vectors.remove_store()


class Migration(migrations.Migration):
    dependencies = [("papers", "0006_search_changes")]
    operations = [migrations.RunPython(create, drop)]
