"""The keyword engine of the retrieval component: exact BM25 over every match, the query language, marks, and an
index that follows the database through its change log whoever writes (loader, admin, moderation, plain SQL)."""

import contextlib
import os
import random
import signal
import subprocess
import sys
import time

import orjson
import pytest
from conftest import SMALL, site_env, site_rows
from django.db import connection

from paperfeed.core.records import parse_jsonl_line
from paperfeed.core.search_query import parse_query
from paperfeed.papers.models import Author, Paper, SearchChange
from paperfeed.papers.retrieval import Filters, SearchRequest, engine, find, keyword, sync_keyword_index
from paperfeed.papers.services.loading import LoadSummary, PaperLoader

pytestmark = pytest.mark.django_db


def titles(request: SearchRequest) -> list[str]:
    found = find(request)
    names = dict(Paper.objects.filter(id__in=found.ids).values_list("id", "title"))
    return [names[pid] for pid in found.ids]


def load(rows: list[dict]) -> None:
    PaperLoader().write([parse_jsonl_line(orjson.dumps(r)) for r in rows], LoadSummary())


def paper(n: int, title: str, abstract: str, authors=("Someone Else",), category="cs.LG", day="2026-06-01") -> dict:
    return {
        "id": f"2605.{n:05d}",
        "title": title,
        "abstract": abstract,
        "authors": list(authors),
        "categories": [category],
        "first_listed": day,
    }


def test_the_top_k_is_the_top_of_the_full_ranking(db):
    """Block-max WAND returns the best k without scoring every match: they are the first k of all matches ranked."""
    rng = random.Random(7)
    words = "graph neural network diffusion model learning robot policy protein language token vision".split()
    load(
        [
            paper(n, " ".join(rng.choices(words, k=4)), " ".join(rng.choices(words, k=rng.randint(5, 60))))
            for n in range(600)
        ]
    )
    found = keyword.searcher()
    for text in ["learning", "graph model", "robot OR vision", "protein -graph", '"neural network"', "diff*"]:
        for match_all in (True, False):
            for query in engine.tiers(parse_query(text), match_all):
                everything = engine.ranked(found, query, 600)
                assert everything.total == len(everything.ids)
                top = engine.ranked(found, query, 10)
                assert top.total == everything.total
                # Equal scores may come in either order: compare the scores' order and the sets at each score.
                full = found.search(query, 600).hits
                head = found.search(query, 10).hits
                assert [round(s, 4) for s, _ in head] == [round(s, 4) for s, _ in full[:10]], text


def test_title_matches_rank_above_author_matches_above_abstract_matches(db):
    filler = " ".join(f"word{n}" for n in range(60))
    load(
        [
            paper(1, "A study of kernels", f"{filler} and turtles."),
            paper(2, "A study of shells", f"{filler} and more.", authors=("Ann Turtles",)),
            paper(3, "Turtles all the way down", f"{filler} and more."),
        ]
    )
    expected = ["Turtles all the way down", "A study of shells", "A study of kernels"]
    assert titles(SearchRequest("turtles", "keyword")) == expected


def test_phrases_exclusions_prefixes_and_acronyms(corpus):
    assert titles(SearchRequest('"deep learning"', "keyword")) == ["Protein Folding with Geometric Deep Learning"]
    assert "Graph Transformers at Scale" in titles(SearchRequest("transform*", "keyword"))
    assert "Graph Transformers at Scale" not in titles(SearchRequest("learning -graph", "keyword"))
    # An acronym finds the papers that use it first, then those that spell it out.
    mlp = titles(SearchRequest("MLP", "keyword"))
    assert mlp[0].startswith("MLP-Mixer") and len(mlp) >= 2


def test_relaxed_matching_when_no_paper_has_every_word(corpus):
    found = find(SearchRequest("protein zebra", "keyword"))
    assert found.relaxed and found.total == 1
    assert not find(SearchRequest("protein folding", "keyword")).relaxed
    assert find(SearchRequest("zebra", "keyword")).total == 0


def test_filters_apply_to_every_mode_of_matching(corpus):
    everything = find(SearchRequest("learning", "keyword"))
    only = find(SearchRequest("learning", "keyword", Filters(category="cs.RO")))
    assert 0 < only.total < everything.total
    categories = dict(Paper.objects.values_list("id", "categories"))
    assert all("cs.RO" in categories[pid] for pid in only.ids)
    from datetime import date

    dated = find(SearchRequest("", "keyword", Filters(date_from=date(2026, 7, 1))))
    assert dated.mode == "newest"
    days = Paper.objects.filter(id__in=dated.ids).values_list("published", flat=True)
    assert dated.total == 3 and all(day >= date(2026, 7, 1) for day in days)


def test_marks_show_the_words_found_and_spelled_out_acronyms(corpus):
    shown = {p.id: (p.id, p.title, p.abstract) for p in Paper.objects.all()}
    marks = keyword.marks(parse_query("MLP"), False, list(shown.values()))
    text = " ".join(m.title_html + m.snippet_html for m in marks.values())
    assert "<mark>MLP</mark>" in text and "<mark>Multilayer Perceptrons</mark>" in text  # neighbours: one mark
    assert keyword.marks(parse_query("zebra"), False, list(shown.values())) == {}
    hostile = Paper.objects.get(arxiv_id="2606.00006")
    marked = keyword.marks(parse_query("robustness"), False, [(hostile.id, hostile.title, hostile.abstract)])
    html = marked[hostile.id].title_html + marked[hostile.id].snippet_html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<mark>Robustness</mark>" in html


def test_the_index_follows_every_writer(corpus, admin_client):
    target = Paper.objects.get(arxiv_id="2606.00002")
    assert target.id in find(SearchRequest("transformers", "keyword")).ids
    # Plain SQL, as an operator might run it: the change log's triggers still record it.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE papers_paper SET title = 'Hyperbolic zebras' WHERE id = %s", [target.id])
    assert find(SearchRequest("zebras", "keyword")).ids == [target.id]
    # Moderation hides it: gone from search, counts included.
    Paper.objects.filter(id=target.id).update(hidden=True)
    assert find(SearchRequest("zebras", "keyword")).total == 0
    Paper.objects.filter(id=target.id).update(hidden=False)
    assert find(SearchRequest("zebras", "keyword")).total == 1
    # An author renamed in the admin: the paper is found by the new name.
    author = Author.objects.get(name="Donald Knuth")
    author.name = "Donald Ervin Knuth-Zebra"
    author.save()
    assert target.id in find(SearchRequest("Ervin", "keyword")).ids
    # Deleted: gone.
    Paper.objects.filter(id=target.id).delete()
    assert find(SearchRequest("zebras", "keyword")).total == 0
    assert keyword.verify() is None


def test_an_index_of_another_database_state_is_rebuilt(corpus):
    assert keyword.verify() is None
    # The change the index applied last is gone, and others took its id (a restored backup, a rollback).
    SearchChange.objects.all().delete()
    SearchChange.objects.create(paper_id=Paper.objects.first().id, stamp=12345)
    assert keyword.problem() == "the keyword index was built from another state of the database"
    assert find(SearchRequest("learning", "keyword")).total == 3
    assert keyword.problem() is None


def test_a_damaged_or_missing_index_is_rebuilt_with_a_message(corpus, client, caplog):
    sync_keyword_index()
    path = keyword.index_path()
    for name in os.listdir(path):
        if name.endswith(".idx") or name == "meta.json":
            # Garbage in a new file put in its place: truncating a file this process has memory-mapped would
            # kill it with SIGBUS, which is not the damage being tested (a worker starting on damaged files).
            (path / "garbage").write_bytes(b"\x00garbage")
            os.replace(path / "garbage", path / name)
    (path / "paperfeed-state.json").write_text("{not json")
    keyword._process.index = None  # a worker that starts now
    response = client.get("/search", {"q": "learning", "mode": "keyword"})
    assert response.status_code == 200 and "3 results" in response.content.decode()
    assert "rebuilding it from the database" in caplog.text
    import shutil

    shutil.rmtree(path)
    keyword._process.index = None
    response = client.get("/search", {"q": "learning", "mode": "keyword"})
    assert response.status_code == 200 and "3 results" in response.content.decode()


def _run(data, *args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", *args],
        env=site_env(data, migrated=True),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


CHECK = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
django.setup()
from paperfeed.papers.models import Paper
from paperfeed.papers.retrieval import SearchRequest, find, keyword
found = find(SearchRequest("learning", "keyword"))  # a search brings the index in step first
print(Paper.objects.count(), found.total, keyword.verify())
"""


def test_a_bulk_load_killed_mid_write_leaves_an_index_that_matches_the_database(tmp_path):
    data = tmp_path / "data"
    big = tmp_path / "big.jsonl"
    rows = [orjson.loads(line) for line in SMALL.read_text().splitlines()]
    with big.open("wb") as out:
        for n in range(40_000):
            r = dict(rows[n % len(rows)], id=f"2601.{n:05d}", title=f"{rows[n % len(rows)]['title']} {n}")
            out.write(orjson.dumps(r) + b"\n")
    assert _run(data, "migrate", "-v0").wait(timeout=120) == 0
    process = _run(data, "load-jsonl", str(big), "--batch-size", "1000")
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(Exception):  # not readable yet (no table yet, or locked): try again
            done = site_rows(site_env(data), "SELECT count(*) FROM papers_paper")[0][0]
        if done >= 5000:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the load ended before it could be killed: make the file bigger"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    check = _run(data, "shell", "-c", CHECK)
    out, err = check.communicate(timeout=300)
    assert check.returncode == 0, err
    papers, _, problem = out.strip().splitlines()[-1].split(None, 2)
    assert 5000 <= int(papers) < 40_000 and problem == "None"
    # Run again: the rest is loaded and the index follows.
    again = _run(data, "load-jsonl", str(big), "--batch-size", "1000")
    assert again.wait(timeout=300) in (0, 1), again.stderr.read()
    check = _run(data, "shell", "-c", CHECK)
    out, err = check.communicate(timeout=300)
    papers, _, problem = out.strip().splitlines()[-1].split(None, 2)
    assert papers == "40000" and problem == "None", (out, err)


def _write_jsonl(path, rows) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def test_a_file_load_keeps_one_writer_and_commits_the_index_as_it_goes(transactional_db, tmp_path, monkeypatch):
    from paperfeed.papers.services.loading import load_jsonl

    monkeypatch.setattr(keyword, "COMMIT_PAPERS", 4)  # commit the index every 4 papers instead of 100,000
    rows = [paper(n, f"Walrus study {n}", "Tusks and ice.") for n in range(10)]
    # Paper 0 again in the next batch, retitled before the index committed it: held once, with its new title.
    rows.insert(3, paper(0, "Narwhal study 0", "Tusks and ice."))
    source = tmp_path / "papers.jsonl"
    _write_jsonl(source, rows)
    seen = []

    def progress(*_):
        # Mid-load, in this process: the state note moves only with commits, and a search answers from the
        # index as last committed instead of waiting for the load's lock.
        state = keyword._process.get().read_state()
        seen.append((state["change"], find(SearchRequest("walrus", "keyword")).total))

    summary = load_jsonl(source, batch_size=3, on_progress=progress)
    assert summary.new == 10 and summary.updated == 1
    assert keyword.problem() is None  # in step on leaving, before any search
    assert len({change for change, _ in seen}) >= 3  # several commits along the way
    assert [total for _, total in seen] == sorted(total for _, total in seen)
    assert any(0 < total < 10 for _, total in seen), seen  # committed batches findable while the load goes on
    assert find(SearchRequest("narwhal", "keyword")).total == 1
    assert find(SearchRequest("walrus", "keyword")).total == 9
    assert keyword._process.get().searcher().num_docs == 10  # no paper twice
    assert keyword.verify() is None


def test_a_load_stopped_by_a_bad_line_leaves_the_index_in_step_with_what_it_committed(transactional_db, tmp_path):
    from paperfeed.papers.services.loading import BadLine, load_jsonl

    source = tmp_path / "papers.jsonl"
    _write_jsonl(source, [paper(n, f"Capybara note {n}", "Rodents.") for n in range(5)])
    with source.open("ab") as out:
        out.write(b'{"id": "2605.99999", "title": \n')
    with pytest.raises(BadLine) as stopped:
        load_jsonl(source, batch_size=2)
    assert stopped.value.summary.new == 4  # two batches committed before the batch holding the bad line
    assert keyword.problem() is None
    assert find(SearchRequest("capybara", "keyword")).total == 4
    assert keyword.verify() is None
