"""paperfeed on PostgreSQL: a real PostgreSQL 16 with pgvector (PyPI's pgserver, started here, offline).

The contract between the two databases: the same site built on SQLite and on PostgreSQL from the same corpus and
the same stored embeddings (the demo's) answers every search the same — keyword, semantic and hybrid, with and
without a filter, pages 1 and 2.

Keyword search is exact on both. Search by meaning asks an approximate HNSW index (usearch on SQLite, pgvector on
PostgreSQL), and approximate indexes need not agree: usearch misses one demo paper that is among the exact 50
nearest to "diffusion models" even when it keeps 1,000 candidates, a node its graph walk does not reach. So the
contract is taken with both stores searching exhaustively (vectors.EXHAUSTIVE: every stored vector compared, by
usearch and by PostgreSQL), and then it is strict: each semantic answer equals, id for id, the exact ranking of the
stored vectors (meaning.scored_among over every paper the filter admits), and every answer, hybrid included, is
identical on the two databases. Both stores order their candidates by the same exact similarity
(embeddings.ranked), so not even near-ties may differ.

The same through every web node: on PostgreSQL the vectors and their HNSW index live in the database, so a second
paperfeed process with a data directory of its own (another web node), which builds no vector index, answers every
search by meaning exactly as the first, approximate search included. (Its keyword index is its own, in its data
directory; the keyword engine orders matches of equal score by paper id, so two indexes of the same papers list
them alike, and every keyword and hybrid answer is compared too.)"""

import json
import os
import subprocess
import sys

import pgserver
import pytest

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL sites of its own: once, in the PostgreSQL pass

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
# A paperfeed process: `load` (migrate, the demo's papers and stored embeddings), `ask` (every query, searched as the
# site searches and exhaustively, with the exact ranking for reference), `change` (the keyword index follows
# writes made behind its back).
SITE = """
import json, os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from paperfeed.core.embedder import MODEL_NAME
from paperfeed.core.search_query import meaning_text
from paperfeed.papers.retrieval import SearchRequest, Filters, find, keyword, meaning, vectors
from paperfeed.papers.services.demo import load_demo, load_demo_embeddings
steps, queries = sys.argv[1].split(","), json.loads(sys.argv[2])
answers = {"vendor": connection.vendor}
if "load" in steps:
    call_command("migrate", verbosity=0)
    load_demo()
    answers["embedded"] = load_demo_embeddings()
if "ask" in steps:
    from paperfeed.papers.models import Paper
    everyone = sorted(Paper.objects.values_list("id", flat=True))
    cache, exact, asked = {}, {}, {}
    for store in ("site", "exhaustive"):
        vectors.EXHAUSTIVE = store == "exhaustive"
        for query in queries:
            for filters in (Filters(), Filters(category="cs.CV")):
                for mode in ("keyword", "semantic", "hybrid"):
                    for page in (1, 2) if mode != "keyword" else (2,):
                        request = SearchRequest(query, mode, filters, page=page)
                        found = find(request)
                        key = f"{query} | {mode} | {filters.category} | page {page} | {store}"
                        asked[key] = [found.ids, found.total, found.relaxed, found.mode, found.meaning_unavailable]
                if store == "exhaustive" and request.meaning_text:
                    vector = meaning.embed_query(meaning_text(request.meaning_text, request.query))
                    admitted = keyword.passing(everyone, filters)
                    ranking = meaning.scored_among(MODEL_NAME, vector, admitted, cache)
                    exact[f"{query} | {filters.category}"] = [pid for pid, _ in ranking[:40]]
    answers["asked"], answers["exact"] = asked, exact
    answers["problem"], answers["verify"] = keyword.problem(), keyword.verify()
    answers["vectors"] = vectors.problem(MODEL_NAME)
    from paperfeed.papers.retrieval import engine
    heads = answers["keyword heads"] = {}  # the best 100 keyword matches (what hybrid fuses), with their scores
    for query in queries:
        for filters in (Filters(), Filters(category="cs.CV")):
            words = SearchRequest(query).query
            head, scores, found = keyword.ranking(words, filters, 100), [], keyword.searcher()
            for tier in engine.tiers(words, not head.relaxed, filters):
                scores += [score for score, _ in found.search(tier, 100).hits]
            heads[f"{query} | {filters.category}"] = [head.ids, scores[: len(head.ids)]]
    answers["usearch files"] = sorted(p.name for p in settings.DATA_DIR.glob("vectors-*"))
if "change" in steps:
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


def site_answers(data_dir, database_url: str | None, steps: str) -> dict:
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PAPERFEED_DATABASE_URL", None)
    if database_url:
        env["PAPERFEED_DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-c", SITE, steps, json.dumps(QUERIES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def sites(postgres, tmp_path_factory):
    """The demo site on SQLite, and on PostgreSQL as two web nodes: the first loads it, the second (a data directory
    of its own, nothing built there) only answers, then changes papers."""
    root = tmp_path_factory.mktemp("sites")
    url = new_database(postgres, "contract")
    on_sqlite = site_answers(root / "sqlite", None, "load,ask,change")
    first_node = site_answers(root / "node-1", url, "load,ask")
    second_node = site_answers(root / "node-2", url, "ask,change")
    return on_sqlite, first_node, second_node


def test_searches_answer_the_same_on_sqlite_and_postgresql(sites):
    on_sqlite, on_postgres, _ = sites
    assert (on_sqlite["vendor"], on_postgres["vendor"]) == ("sqlite", "postgresql")
    assert on_sqlite["embedded"] == on_postgres["embedded"] == 5921
    for answers in (on_sqlite, on_postgres):
        assert answers["problem"] is None and answers["verify"] is None  # the keyword index is in step
        assert answers["vectors"] is None  # and the vector store
    asked_sqlite, asked_postgres = on_sqlite["asked"], on_postgres["asked"]
    contract = [key for key in asked_sqlite if key.endswith(" | exhaustive")]
    assert len(contract) == len(QUERIES) * 2 * 5 and set(asked_sqlite) == set(asked_postgres)
    differ = {
        key: (asked_sqlite[key], asked_postgres[key]) for key in contract if asked_sqlite[key] != asked_postgres[key]
    }
    assert not differ, sorted(differ)
    # Searched exhaustively, both are the exact ranking of the stored vectors, to the last place shown.
    assert on_sqlite["exact"] == on_postgres["exact"]
    for key, exact in on_sqlite["exact"].items():
        query, category = key.split(" | ")
        for page in (1, 2):
            ids = asked_sqlite[f"{query} | semantic | {category} | page {page} | exhaustive"][0]
            assert ids == exact[(page - 1) * 20 : page * 20], (key, page)
    # Not a vacuous agreement: the searches found papers, paged past the first 20, and searched by meaning.
    learning = asked_sqlite["learning | keyword | None | page 2 | exhaustive"]
    assert learning[1] > 40 and len(learning[0]) == 20
    assert asked_sqlite["learning | keyword | cs.CV | page 2 | exhaustive"][1] > 0
    assert asked_sqlite["zebra hyperbolic nonsense | keyword | None | page 2 | exhaustive"][2] is True
    for mode in ("semantic", "hybrid"):
        answer = asked_sqlite[f"gaussian splatting | {mode} | cs.CV | page 2 | exhaustive"]
        assert answer[3] == mode and not answer[4] and len(answer[0]) == 20
    # Each store where it belongs: a usearch file beside the SQLite site, none beside the PostgreSQL one.
    assert on_sqlite["usearch files"] and not on_postgres["usearch files"]


def test_every_web_node_answers_the_same_on_postgresql(sites):
    _, first_node, second_node = sites
    assert first_node["vendor"] == second_node["vendor"] == "postgresql"
    assert second_node["usearch files"] == []  # the second node built no vector index of its own
    assert second_node["vectors"] is None and second_node["problem"] is None
    assert set(first_node["asked"]) == set(second_node["asked"])
    # Each node has a keyword index of its own (in its data directory); ties are ordered by paper id on both.
    differ = [key for key in first_node["asked"] if first_node["asked"][key] != second_node["asked"][key]]
    assert not differ, differ  # every search, in every mode, as the site searches and exhaustively
    assert second_node["followed"] == [True, True, True]  # plain SQL, a renamed author, a hidden paper
    assert sites[0]["followed"] == [True, True, True]


def test_tied_keyword_matches_are_listed_alike(sites):
    """The best 100 keyword matches (what hybrid fuses) are the same list on the three sites, ties included."""
    on_sqlite, first_node, second_node = sites
    assert any(len(set(scores)) < len(scores) for _, scores in on_sqlite["keyword heads"].values())  # ties exist
    for key, (ids, _) in on_sqlite["keyword heads"].items():
        assert ids == first_node["keyword heads"][key][0] == second_node["keyword heads"][key][0], key


def test_without_pgvector_keyword_search_works_and_every_command_says_what_to_do(postgres, tmp_path, small_file):
    """A site whose role may not enable pgvector (the server has it; only a superuser may run CREATE EXTENSION):
    migrate succeeds, `paperfeed check`, `index` and `serve` say what a superuser must run, the site answers by
    keyword; once a superuser has done so, `paperfeed index` builds the vector store and the running site answers
    by meaning without a restart."""
    import time
    import urllib.parse
    import urllib.request

    import psycopg
    from conftest import card_titles, free_port

    postgres.psql("DROP DATABASE IF EXISTS no_pgvector; DROP ROLE IF EXISTS paperfeed_site;")
    postgres.psql("CREATE ROLE paperfeed_site LOGIN; CREATE DATABASE no_pgvector OWNER paperfeed_site;")
    admin_url = postgres.get_uri("no_pgvector")
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    env["PAPERFEED_DATABASE_URL"] = admin_url.replace("postgresql://postgres:", "postgresql://paperfeed_site:", 1)
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def paperfeed(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "paperfeed", *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr[-2000:])
        return done

    told = (
        "Search by meaning is off (keyword search works without it): pgvector is installed on the PostgreSQL server "
        "but not enabled in database 'no_pgvector', and the role 'paperfeed_site' that paperfeed connects as may not "
        "enable it. To turn it on, as a PostgreSQL superuser, run `CREATE EXTENSION vector;` in database "
        "'no_pgvector' (for example `sudo -u postgres psql -d no_pgvector -c 'CREATE EXTENSION vector;'`), then run "
        "`paperfeed index`."
    )
    assert told in paperfeed("migrate", "-v0").stderr  # its system checks say it, and it migrates
    paperfeed("load-jsonl", str(small_file))
    assert told in paperfeed("check").stderr
    indexed = paperfeed("index")
    assert told in indexed.stderr
    assert "Embedded 10 papers; they wait in the database for the vector store." in indexed.stdout

    port, log = free_port(), tmp_path / "serve.log"
    command = [sys.executable, "-m", "paperfeed", "serve", "--port", str(port), "--no-demo", "--no-worker"]
    server = subprocess.Popen([*command, "--workers", "1"], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)

    def search(mode: str, text: str) -> str:
        url = f"http://127.0.0.1:{port}/search?" + urllib.parse.urlencode({"q": text, "mode": mode})
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read().decode()

    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                by_keyword = search("hybrid", "MLP")
                break
            except OSError:
                time.sleep(0.3)
        assert told in log.read_text()
        assert "Search by meaning is not available yet" in by_keyword
        assert card_titles(by_keyword)[0].startswith("MLP-Mixer Revisited")

        with psycopg.connect(admin_url, autocommit=True) as db:  # what the message asks a superuser to do
            db.execute("CREATE EXTENSION vector")
        assert told not in paperfeed("check").stderr
        assert "the vector index holds 10." in paperfeed("index").stdout
        by_meaning = search("semantic", "teaching robot arms from human demonstrations")
        assert "Search by meaning is not available" not in by_meaning
        assert card_titles(by_meaning)[0] == "Diffusion Policies for Robot Manipulation"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize(
    ("facts", "advice"),
    [
        (("0.6.2", "0.6.2", False, "site", "papers", 16), None),
        ((None, "0.6.2", True, "site", "papers", 16), None),  # paperfeed enables it itself
        (
            (None, None, True, "site", "papers", 16),
            "the PostgreSQL server has no pgvector extension. Install it on the database server (Debian or Ubuntu: "
            "`apt-get install postgresql-16-pgvector`; elsewhere: https://github.com/pgvector/pgvector#installation); "
            "then, as a PostgreSQL superuser, run `CREATE EXTENSION vector;` in database 'papers' (for example "
            "`sudo -u postgres psql -d papers -c 'CREATE EXTENSION vector;'`), then run `paperfeed index`.",
        ),
        (
            ("0.4.4", "0.6.2", True, "site", "papers", 15),
            "pgvector 0.4.4 in database 'papers' has no HNSW index (0.5.0 and later have one). Install a newer "
            "pgvector on the database server (https://github.com/pgvector/pgvector#installation); then, as a "
            "PostgreSQL superuser, run `ALTER EXTENSION vector UPDATE;` in database 'papers', then run `paperfeed "
            "index`.",
        ),
    ],
)
def test_what_an_operator_is_told_to_do_for_pgvector(facts, advice):
    """The server without pgvector, or with one too old for HNSW, cannot be had from pgserver: the advice itself."""
    from paperfeed.papers.retrieval.vectors import PgvectorFacts, pgvector_advice

    said = pgvector_advice(PgvectorFacts(*facts))
    if advice is None:
        assert said is None
    else:
        assert said == "Search by meaning is off (keyword search works without it): " + advice


def test_an_unusable_database_url_stops_the_command_with_the_fix(tmp_path):
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(tmp_path), "PAPERFEED_DATABASE_URL": "mysql://db/papers"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([sys.executable, "-m", "paperfeed", "check"], env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "PAPERFEED_DATABASE_URL='mysql://db/papers': paperfeed runs on PostgreSQL or SQLite" in done.stderr
    assert "Traceback" not in done.stderr
