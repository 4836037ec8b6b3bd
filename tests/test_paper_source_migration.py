"""A paper's identity became its source and its id there (papers 0008): a database made before, with votes,
comments, listings, collection items and embeddings, migrates with every one of them still on its paper, keeps
the keyword index's change log working (SQLite rebuilds the table, which drops triggers), and migrates back.
Run on a site of the test's own (its SQLite file, or its own database on the suite's PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import site_env

STEP = r"""
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
import django
django.setup()
from datetime import date
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD = ("papers", "0007_vector_store")
step = sys.argv[1]


def models(old=False):
    # The models as they are now, or (old) as the migrations applied now make them (papers at OLD, and the later
    # migrations of other apps that need a newer papers unapplied with it).
    loader = MigrationExecutor(connection).loader
    if not old:
        return loader.project_state().apps
    applied = set(loader.applied_migrations)
    graph = loader.graph
    leaves = [node for node in applied if not any(child.key in applied for child in graph.node_map[node].children)]
    return loader.project_state(leaves).apps


def what_points_at_papers(apps):
    Paper = apps.get_model("papers", "Paper")
    by_pk = dict(Paper.objects.values_list("pk", "arxiv_id"))
    rows = lambda model, *fields: sorted(
        [by_pk[row[0]], *row[1:]] for row in apps.get_model(*model).objects.values_list("paper_id", *fields)
    )
    return {
        "papers": sorted(by_pk.values()),
        "votes": rows(("papers", "Vote"), "user__username"),
        "listings": [[a, str(d), s] for a, d, s in rows(("papers", "DailyEntry"), "day", "source")],
        "comments": rows(("community", "Comment"), "body"),
        "collected": rows(("community", "CollectionItem"), "collection__name"),
        "authors": rows(("papers", "Authorship"), "author__name", "position"),
        "embeddings": rows(("papers", "PaperEmbedding"), "model"),
    }


def triggers():
    if connection.vendor == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'papers_paper'"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'papers_paper'::regclass AND NOT tgisinternal"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return sorted(name for (name,) in cursor.fetchall())


if step == "old":
    call_command("migrate", verbosity=0)
    call_command("migrate", *OLD, verbosity=0)
    apps = models(old=True)
    Paper, Author = apps.get_model("papers", "Paper"), apps.get_model("papers", "Author")
    User = apps.get_model("auth", "User")
    ada, bob = User.objects.create(username="ada"), User.objects.create(username="bob")
    ids = ["2503.11731", "hep-th/9901001", "2606.00001"]
    for n, arxiv_id in enumerate(ids):
        paper = Paper.objects.create(arxiv_id=arxiv_id, title=f"Paper {n}", primary_category="cs.LG")
        author, _ = Author.objects.get_or_create(name=f"Author {n % 2}")
        apps.get_model("papers", "Authorship").objects.create(paper=paper, author=author, position=0)
        apps.get_model("papers", "DailyEntry").objects.create(paper=paper, day=date(2026, 7, 1 + n), source="arxiv")
        apps.get_model("papers", "PaperEmbedding").objects.create(paper=paper, model="m", vector=b"\0" * 8)
        apps.get_model("papers", "Vote").objects.create(user=ada, paper=paper)
    first = Paper.objects.get(arxiv_id=ids[0])
    apps.get_model("papers", "Vote").objects.create(user=bob, paper=first)
    apps.get_model("papers", "DailyEntry").objects.create(paper=first, day=date(2026, 7, 9), source="submission")
    apps.get_model("community", "Comment").objects.create(paper=first, author=bob, body="Nice", body_html="<p>Nice</p>")
    reading = apps.get_model("community", "Collection").objects.create(owner=ada, name="Reading", slug="reading")
    apps.get_model("community", "CollectionItem").objects.create(collection=reading, paper=first)
    print(json.dumps({"rows": what_points_at_papers(apps), "triggers": triggers()}))
elif step == "forward":
    call_command("migrate", verbosity=0)
    from paperfeed.papers.models import Paper
    from paperfeed.papers.models import SearchChange

    identities = sorted([p.source, p.external_id, p.arxiv_id, p.address] for p in Paper.objects.all())
    before = SearchChange.objects.count()
    Paper.objects.filter(arxiv_id="2606.00001").update(title="Renamed")  # the keyword index must hear of it
    print(json.dumps({
        "rows": what_points_at_papers(models()),
        "identities": identities,
        "logged": SearchChange.objects.count() - before,
        "triggers": triggers(),
    }))
elif step == "back":
    call_command("migrate", *OLD, verbosity=0)
    print(json.dumps({"rows": what_points_at_papers(models(old=True)), "triggers": triggers()}))
elif step == "refused":
    call_command("migrate", verbosity=0)
    from paperfeed.papers.models import Paper

    Paper.objects.create(source="biorxiv", external_id="10.1101/2024.01.01.575001", title="Not on arXiv")
    try:
        call_command("migrate", *OLD, verbosity=0)
    except RuntimeError as error:
        print(json.dumps({"refused": str(error), "left": Paper.objects.count()}))
"""


def step(env: dict[str, str], name: str) -> dict:
    done = subprocess.run([sys.executable, "-c", STEP, name], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_vote_comment_and_listing_stays_on_its_paper_through_the_migration_and_back(tmp_path):
    env = site_env(tmp_path / "site")
    before = step(env, "old")
    rows = before["rows"]
    assert len(rows["papers"]) == 3 and len(rows["votes"]) == 4 and len(rows["listings"]) == 4
    assert rows["comments"] and rows["collected"] and len(rows["embeddings"]) == 3

    after = step(env, "forward")
    assert after["rows"] == rows
    assert after["identities"] == [
        ["arxiv", "2503.11731", "2503.11731", "2503.11731"],
        ["arxiv", "2606.00001", "2606.00001", "2606.00001"],
        ["arxiv", "hep-th/9901001", "hep-th/9901001", "hep-th/9901001"],
    ]
    assert after["logged"] >= 1  # the keyword index's triggers survived SQLite's rebuild of the table
    assert set(before["triggers"]) <= set(after["triggers"])

    back = step(env, "back")
    assert back["rows"] == rows
    assert set(before["triggers"]) <= set(back["triggers"])


def test_going_back_is_refused_while_papers_of_other_sources_are_here(tmp_path):
    refused = step(site_env(tmp_path / "site"), "refused")
    assert "1 papers come from sources other than arXiv" in refused["refused"] and refused["left"] == 1
