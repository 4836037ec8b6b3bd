"""A category may be a bioRxiv or medRxiv subject, some of which are longer than arXiv's codes ("scientific
communication and education", "rehabilitation medicine and physical therapy"): primary_category takes 100
characters. PostgreSQL widens the column in place (no rewrite, its index and triggers stay); SQLite never enforced
the length, so there only Django's idea of the field changes and the papers table is not rebuilt."""

from django.db import migrations, models


def widen(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE papers_paper ALTER COLUMN primary_category TYPE varchar(100)")


def narrow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE papers_paper ALTER COLUMN primary_category TYPE varchar(32) USING left(primary_category, 32)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0009_paper_extras"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="paper",
                    name="primary_category",
                    field=models.CharField(db_index=True, max_length=100),
                ),
                migrations.AlterField(
                    model_name="paper",
                    name="categories",
                    field=models.JSONField(
                        default=list, help_text="arXiv category codes or a preprint server's subjects, primary first"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(widen, narrow)],
        ),
    ]
