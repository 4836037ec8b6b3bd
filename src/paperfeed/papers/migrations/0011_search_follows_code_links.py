"""The keyword index holds whether a paper has a code link (the "with code" filter): a change of `code_url` is
now a change the index follows, like one of its title or abstract."""

from django.db import migrations

CHANGE = "INSERT INTO papers_searchchange (paper_id, stamp) VALUES (NEW.id, random())"
PG_STAMP = "floor(random() * 4611686018427387903)::bigint"
COLUMNS = {
    # What an update of a paper must touch to be a change for the index: before, and from now on.
    False: ("title", "abstract", "categories", "published", "hidden"),
    True: ("title", "abstract", "categories", "published", "hidden", "code_url"),
}


def _set(schema_editor, with_code: bool) -> None:
    columns = COLUMNS[with_code]
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS papers_search_paper_update")
        schema_editor.execute(
            f"CREATE TRIGGER papers_search_paper_update AFTER UPDATE OF {', '.join(columns)} ON papers_paper "
            f"BEGIN {CHANGE}; END"
        )
        return
    new = ", ".join(f"n.{column}" for column in columns)
    old = ", ".join(f"o.{column}" for column in columns)
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION papers_search_log_changed_papers() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO papers_searchchange (paper_id, stamp) SELECT DISTINCT n.id, {PG_STAMP} FROM new_rows n "
        f"JOIN old_rows o ON o.id = n.id WHERE ({new}) IS DISTINCT FROM ({old}); RETURN NULL; END $$"
    )


def follow_code_links(apps, schema_editor):
    _set(schema_editor, True)


def do_not_follow_code_links(apps, schema_editor):
    _set(schema_editor, False)


class Migration(migrations.Migration):
    dependencies = [("papers", "0010_longer_categories")]
    operations = [migrations.RunPython(follow_code_links, do_not_follow_code_links, elidable=False)]
