"""paperfeed on PostgreSQL: a real PostgreSQL 16 with pgvector (PyPI's pgserver, started here, offline).

The same site built on SQLite and on PostgreSQL from the same corpus answers every keyword search the same: the
contract between the two databases. Search by meaning is not in the contract yet: each site builds its own HNSW
index with several threads, and such builds differ from run to run (two builds of the demo's vectors answered 200
queries differently), so its approximate neighbours can differ between sites, and between web nodes: issue 14
chooses between pgvector and a deterministic build."""

import json
import os
import subprocess
import sys

import pgserver
import pytest

QUERIES = [
    "diffusion models",
    "large language model reasoning",
    "gaussian splatting",
    '"vision transformer"',
    "transform*",
    "contrastive learning -survey",
    "LLM agents",
    "learning",
    "Chen",
    "protein folding with graph networks",
    "zebra hyperbolic nonsense",
]
SITE = """
import json, os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
django.setup()
from django.core.management import call_command
from django.db import connection
from paperfeed.papers.retrieval import SearchRequest, Filters, find, keyword
from paperfeed.papers.services.demo import load_demo
call_command("migrate", verbosity=0)
load_demo()
answers = {"vendor": connection.vendor, "problem": keyword.problem(), "verify": keyword.verify()}
for query in json.loads(sys.argv[1]):
    for mode in ("keyword",):
        for filters in (Filters(), Filters(category="cs.CV")):
            found = find(SearchRequest(query, mode, filters, page=2))
            answers[f"{query} | {mode} | {filters.category}"] = [found.ids, found.total, found.relaxed, found.mode]
# Plain SQL, an author renamed and a paper hidden: the database's triggers tell the keyword index.
from paperfeed.papers.models import Author, Paper
target = Paper.objects.order_by("id").first()
with connection.cursor() as cursor:
    cursor.execute("UPDATE papers_paper SET title = 'Hyperbolic okapis' WHERE id = %s", [target.id])
author = Author.objects.filter(authorships__paper=target).first()
author.name = "Quetzalcoatl Zebrafinch"
author.save()
answers["followed"] = [
    find(SearchRequest("okapis", "keyword")).ids == [target.id],
    target.id in find(SearchRequest("Zebrafinch", "keyword")).ids,
]
Paper.objects.filter(id=target.id).update(hidden=True)
answers["followed"].append(find(SearchRequest("okapis", "keyword")).total == 0)
print(json.dumps(answers))
"""


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A PostgreSQL server of this test session's own, on a Unix socket in a temporary directory."""
    server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="stop")
    yield server
    server.cleanup()


def new_database(server, name: str) -> str:
    server.psql(f"DROP DATABASE IF EXISTS {name};")
    server.psql(f"CREATE DATABASE {name};")
    return server.get_uri(name)


def site_answers(data_dir, database_url: str | None) -> dict:
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PAPERFEED_DATABASE_URL", None)
    if database_url:
        env["PAPERFEED_DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-c", SITE, json.dumps(QUERIES)], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_searches_answer_the_same_on_sqlite_and_postgresql(postgres, tmp_path):
    on_sqlite = site_answers(tmp_path / "sqlite", None)
    on_postgres = site_answers(tmp_path / "postgres", new_database(postgres, "contract"))
    assert (on_sqlite.pop("vendor"), on_postgres.pop("vendor")) == ("sqlite", "postgresql")
    for answers in (on_sqlite, on_postgres):
        assert answers.pop("problem") is None and answers.pop("verify") is None  # the keyword index is in step
    for answers in (on_sqlite, on_postgres):
        assert answers.pop("followed") == [True, True, True]  # plain SQL, a renamed author, a hidden paper
    assert on_sqlite.keys() == on_postgres.keys()
    differ = {key: (on_sqlite[key], on_postgres[key]) for key in on_sqlite if on_sqlite[key] != on_postgres[key]}
    assert not differ, sorted(differ)
    # Not a vacuous agreement: the searches found papers and paged past the first 20.
    assert on_sqlite["learning | keyword | None"][1] > 40 and len(on_sqlite["learning | keyword | None"][0]) == 20
    assert on_sqlite["learning | keyword | cs.CV"][1] > 0
    assert on_sqlite["zebra hyperbolic nonsense | keyword | None"][2] is True  # relaxed: no paper has every word


def test_an_unusable_database_url_stops_the_command_with_the_fix(tmp_path):
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(tmp_path), "PAPERFEED_DATABASE_URL": "mysql://db/papers"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([sys.executable, "-m", "paperfeed", "check"], env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "PAPERFEED_DATABASE_URL='mysql://db/papers': paperfeed runs on PostgreSQL or SQLite" in done.stderr
    assert "Traceback" not in done.stderr
