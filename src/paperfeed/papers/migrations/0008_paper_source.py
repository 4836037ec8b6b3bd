"""A paper is identified by its source and its id there, no longer by its arXiv id alone: every paper so far is
an arXiv paper (`source` arxiv, `external_id` its arXiv id). arXiv ids stay, unique, for the papers on arXiv.
Papers keep their primary keys, so every vote, comment, listing, collection item and embedding stays theirs.

On SQLite, adding a column that may not be empty and letting arxiv_id be empty rebuild the papers table, which
drops the triggers on it; the keyword index's triggers (0006) are put back here, the page cache's by its own
post-migrate step."""

import importlib

from django.db import migrations, models

SEARCH = importlib.import_module("paperfeed.papers.migrations.0006_search_changes")
PAPER_TRIGGERS = [name for name in SEARCH.SQLITE_TRIGGERS if name.startswith("papers_search_paper_")]


def restore_search_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return  # PostgreSQL alters the table in place: its triggers stay
    for name in PAPER_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute(f"CREATE TRIGGER {name} {SEARCH.SQLITE_TRIGGERS[name]}")


def no_paper_without_arxiv_id(apps, schema_editor):
    """Back to arXiv ids only: refused while papers of other sources are here (they have none)."""
    Paper = apps.get_model("papers", "Paper")
    others = Paper.objects.using(schema_editor.connection.alias).exclude(source="arxiv").count()
    if others:
        raise RuntimeError(
            f"{others} papers come from sources other than arXiv; delete them before going back to a version "
            "that knows only arXiv papers."
        )


class Migration(migrations.Migration):
    dependencies = [("papers", "0007_vector_store")]

    operations = [
        # Run last when migrating back, after the table was rebuilt for the last time.
        migrations.RunPython(migrations.RunPython.noop, restore_search_triggers, elidable=False),
        migrations.AddField(
            model_name="paper",
            name="source",
            field=models.CharField(
                db_default="arxiv", default="arxiv", help_text="where it comes from: arxiv, …", max_length=16
            ),
        ),
        migrations.AddField(
            model_name="paper",
            name="external_id",
            field=models.CharField(
                default="", help_text="without version", max_length=200, verbose_name="id at its source"
            ),
            preserve_default=False,
        ),
        migrations.RunSQL(
            "UPDATE papers_paper SET external_id = arxiv_id",
            "UPDATE papers_paper SET arxiv_id = external_id WHERE arxiv_id IS NULL",
            elidable=False,
        ),
        migrations.AlterField(
            model_name="paper",
            name="arxiv_id",
            field=models.CharField(
                blank=True, help_text="when it is on arXiv", max_length=64, null=True, unique=True,
                verbose_name="arXiv id",
            ),
        ),
        migrations.AddConstraint(
            model_name="paper",
            constraint=models.UniqueConstraint(fields=("source", "external_id"), name="paper_unique_source_id"),
        ),
        migrations.AlterModelOptions(name="paper", options={"ordering": ["-published", "-external_id"]}),
        migrations.AlterField(
            model_name="dailyentry",
            name="source",
            field=models.CharField(default="arxiv", help_text="hf, submission, or a paper source", max_length=16),
        ),
        # Run first when migrating back: nothing changes unless it can go back whole.
        migrations.RunPython(restore_search_triggers, no_paper_without_arxiv_id, elidable=False),
    ]
