"""`paperfeed load-jsonl`: good files, bad lines, duplicates, re-runs and upserts."""

import gzip
import io
import json
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from paperfeed.papers.models import Author, Authorship, DailyEntry, Paper, Vote
from paperfeed.papers.services.loading import BadLine, load_jsonl
from paperfeed.papers.services.progress import file_progress

pytestmark = pytest.mark.django_db(transaction=True)


def write_lines(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def rows_of(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def snapshot():
    return (
        list(
            Paper.objects.order_by("id").values_list("arxiv_id", "title", "abstract", "version", "published", "updated")
        ),
        list(Authorship.objects.order_by("id").values_list("paper__arxiv_id", "author__name", "position")),
        list(DailyEntry.objects.order_by("id").values_list("paper__arxiv_id", "day", "source")),
        Author.objects.count(),
    )


def test_loads_a_plain_file(small_file):
    summary = load_jsonl(small_file)
    assert (summary.new, summary.updated, summary.unchanged, summary.daily_entries) == (10, 0, 0, 10)
    paper = Paper.objects.get(arxiv_id="2606.00002")
    assert [a.author.name for a in paper.authorships.order_by("position")] == [
        "Edsger Dijkstra",
        "Barbara Liskov",
        "Donald Knuth",
        "Frances Allen",
        "John Backus",
    ]
    assert paper.categories == ["cs.LG"]
    assert paper.published == date(2026, 6, 30)
    assert Paper.objects.get(arxiv_id="2606.00005").version == 2
    assert Paper.objects.filter(arxiv_id="hep-th/9901001").exists()
    assert DailyEntry.objects.get(paper=paper).day == date(2026, 6, 30)


def test_loads_a_gzip_file_the_same(small_file, tmp_path):
    packed = tmp_path / "small.jsonl.gz"
    packed.write_bytes(gzip.compress(small_file.read_bytes()))
    assert load_jsonl(packed).new == 10
    assert Paper.objects.count() == 10


def test_a_rerun_changes_nothing_and_says_so(small_file, capsys):
    call_command("load_jsonl", str(small_file))
    before = snapshot()
    with pytest.raises(SystemExit) as exit_:
        call_command("load_jsonl", str(small_file))
    assert exit_.value.code == 1
    assert "Nothing changed: all 10 papers were already up to date." in capsys.readouterr().out
    assert snapshot() == before


def test_a_malformed_line_stops_the_load_and_keeps_earlier_batches(small_file):
    rows = rows_of(small_file)
    lines = (
        [json.dumps(r) for r in rows[:4]] + ['{"id": "2606.99999", "title": oops}'] + [json.dumps(r) for r in rows[4:]]
    )
    write_lines(small_file, lines)
    with pytest.raises(BadLine) as error:
        load_jsonl(small_file, batch_size=3)
    assert str(error.value).startswith(f"{small_file}:5: not valid JSON")
    # The first batch (lines 1-3) was committed; the batch holding line 5 (line 4 with it) was not.
    assert sorted(Paper.objects.values_list("arxiv_id", flat=True)) == [
        "2606.00001",
        "2606.00002",
        "2606.00003",
    ]
    assert error.value.summary.committed_through == 3


def test_a_bad_line_in_the_first_batch_leaves_the_database_as_it_was(small_file):
    rows = rows_of(small_file)
    del rows[3]["title"]
    write_lines(small_file, rows)
    with pytest.raises(BadLine, match=r":4: `title` is missing"):
        load_jsonl(small_file)
    assert snapshot() == ([], [], [], 0)


def test_the_command_reports_file_and_line_and_exits_2(small_file):
    rows = rows_of(small_file)
    rows[6]["authors"] = "Geoffrey Hinton and Yann LeCun"
    write_lines(small_file, rows)
    with pytest.raises(CommandError) as error:
        call_command("load_jsonl", str(small_file))
    assert error.value.returncode == 2
    message = str(error.value)
    assert f"{small_file}:7: `authors` must be a list of strings" in message
    assert "Nothing was loaded" in message and "--skip-bad" in message


def test_skip_bad_reports_lines_and_loads_the_rest(small_file, capsys):
    rows = rows_of(small_file)
    rows[1].pop("id")
    lines = [json.dumps(r) for r in rows]
    lines[8] = "not json at all"
    write_lines(small_file, lines)
    call_command("load_jsonl", str(small_file), "--skip-bad")
    err = capsys.readouterr().err
    assert f"{small_file}:2: skipped: `id` is missing" in err
    assert f"{small_file}:9: skipped: not valid JSON" in err
    assert "2 bad lines skipped." in err
    assert Paper.objects.count() == 8


def test_duplicate_ids_keep_the_later_line(small_file):
    rows = rows_of(small_file)
    again = dict(rows[0], title="MLP-Mixer Revisited (corrected title)")
    write_lines(small_file, [*rows, again])
    summary = load_jsonl(small_file, batch_size=4)
    assert summary.duplicates == 1
    assert Paper.objects.count() == 10
    assert Paper.objects.get(arxiv_id="2606.00001").title == "MLP-Mixer Revisited (corrected title)"


def test_duplicates_within_one_batch_keep_the_later_line(small_file):
    rows = rows_of(small_file)
    write_lines(small_file, [rows[0], dict(rows[0], abstract="Second abstract.")])
    summary = load_jsonl(small_file)
    assert (summary.new, summary.duplicates) == (1, 1)
    assert Paper.objects.get().abstract == "Second abstract."


def test_a_new_version_updates_the_paper_and_keeps_votes_and_entries(small_file, tmp_path):
    load_jsonl(small_file)
    paper = Paper.objects.get(arxiv_id="2606.00002")
    Vote.objects.create(user=User.objects.create(username="reader"), paper=paper)
    revised = dict(
        rows_of(small_file)[1],
        id="2606.00002v2",
        title="Graph Transformers at Scale (v2)",
        authors=["Edsger Dijkstra", "Barbara Liskov"],
        first_listed="2026-07-01",
        last_seen="2026-07-01",
    )
    summary = load_jsonl(write_lines(tmp_path / "v2.jsonl", [revised]))
    assert (summary.new, summary.updated, summary.daily_entries) == (0, 1, 1)
    paper.refresh_from_db()
    assert (paper.title, paper.version, paper.published) == (
        "Graph Transformers at Scale (v2)",
        2,
        date(2026, 6, 30),
    )
    assert [a.author.name for a in paper.authorships.order_by("position")] == [
        "Edsger Dijkstra",
        "Barbara Liskov",
    ]
    assert paper.votes.count() == 1
    assert sorted(paper.daily_entries.values_list("day", flat=True)) == [date(2026, 6, 30), date(2026, 7, 1)]
    # The keyword index follows the new title.
    from paperfeed.papers.retrieval import SearchRequest
    from paperfeed.papers.services.search import search_papers

    assert [c.paper.arxiv_id for c in search_papers(SearchRequest("v2 graph", "keyword")).cards] == ["2606.00002"]


def test_an_older_version_does_not_overwrite_a_newer_one(small_file, tmp_path):
    load_jsonl(small_file)
    stale = dict(rows_of(small_file)[4], id="2606.00005v1", title="Old title")
    summary = load_jsonl(write_lines(tmp_path / "old.jsonl", [stale]))
    assert (summary.updated, summary.unchanged) == (0, 1)
    assert Paper.objects.get(arxiv_id="2606.00005").title == "Diffusion Policies for Robot Manipulation"


def test_an_empty_file_loads_nothing(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    summary = load_jsonl(empty)
    assert (summary.papers, summary.changed) == (0, False)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_jsonl", str(tmp_path / "nope.jsonl"))


def test_progress_is_reported_up_to_the_whole_file(small_file):
    calls = []
    load_jsonl(small_file, batch_size=3, on_progress=lambda done, total, papers: calls.append((done, total, papers)))
    size = small_file.stat().st_size
    assert len(calls) >= 4  # after each of the 4 batches, and at the end
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert calls[-1] == (size, size, 10)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_is_drawn_on_a_terminal(small_file):
    screen = Terminal()
    update, close = file_progress("Loading small.jsonl", stream=screen)
    load_jsonl(small_file, batch_size=4, on_progress=update)
    close()
    drawn = screen.getvalue()
    assert "Loading small.jsonl" in drawn and "100%" in drawn and "10 papers" in drawn


def test_no_progress_bar_in_logs_and_cron_mail(small_file):
    log = io.StringIO()
    update, close = file_progress("Loading small.jsonl", stream=log)
    load_jsonl(small_file, on_progress=update)
    close()
    assert log.getvalue() == ""
