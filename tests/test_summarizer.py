"""This site's summarizer against a real HTTP server on 127.0.0.1 that answers in the OpenAI chat-completions format:
what is sent, what is kept, the day's budget, the endpoint's failures, the task queue, and pages that never wait."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from conftest import free_port
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from replay import FIXTURES, ReplayServer, Reply

from paperfeed.core.sources.registry import parse_address
from paperfeed.core.summaries import MAX_SUMMARY, SummaryError, completion_content, messages, parse_summary
from paperfeed.papers.models import DailyEntry, Paper, PaperExtras
from paperfeed.papers.services import summarizer

PATH = "/v1/chat/completions"
GOOD = {"summary": "A plain MLP matches convolutional networks at scale.", "keywords": ["MLP", "vision"]}


def completion(content: str | dict, finish_reason: str = "stop", **kwargs) -> Reply:
    """The constructed chat completion with this assistant content (a dict is sent as its JSON)."""
    answer = json.loads((FIXTURES / "summaries" / "constructed_chat_completion.json").read_text())
    answer["choices"][0]["message"]["content"] = content if isinstance(content, str) else json.dumps(content)
    answer["choices"][0]["finish_reason"] = finish_reason
    return Reply(json.dumps(answer).encode(), content_type="application/json", **kwargs)


def answer(n: int) -> Reply:
    return completion({"summary": f"Summary number {n}.", "keywords": [f"topic {n}", "method"]})


@pytest.fixture
def server():
    replay = ReplayServer().start()
    yield replay
    replay.stop()


@pytest.fixture
def endpoint(settings, server):
    """The summarizer switched on, pointing at the loopback server."""
    settings.PAPERFEED_SUMMARY_URL = server.url + "/v1"
    settings.PAPERFEED_SUMMARY_MODEL = "qwen2.5-7b-instruct"
    settings.PAPERFEED_SUMMARY_API_KEY = "sk-local-test"
    settings.PAPERFEED_SUMMARY_PER_DAY = 200
    settings.PAPERFEED_SUMMARY_TIMEOUT_SECONDS = 5
    summarizer._logged.clear()
    return server


def named(address: str) -> Paper:
    return Paper.objects.named(parse_address(address)).get()


def extras(address: str) -> PaperExtras | None:
    return PaperExtras.objects.filter(paper=named(address)).first()


def sent_titles(server: ReplayServer) -> list[str]:
    return [json.loads(r.body)["messages"][1]["content"].split("\n")[0] for r in server.requests_to(PATH)]


# --- reading the model's answer (no database, no server) ---


def test_the_request_asks_for_json_with_the_title_and_abstract():
    system, user = messages("Graph  Transformers\nat Scale", "We scale   graph transformers.")
    assert system["role"] == "system" and '"summary"' in system["content"] and '"keywords"' in system["content"]
    assert user == {
        "role": "user",
        "content": "Title: Graph Transformers at Scale\n\nAbstract: We scale graph transformers.",
    }
    long = messages("T", "word " * 5000)[1]["content"]
    assert len(long) < 6100 and long.endswith(" …")


@pytest.mark.parametrize(
    "content",
    [
        json.dumps(GOOD),
        "```json\n" + json.dumps(GOOD, indent=2) + "\n```",
        "Here is the summary:\n```\n" + json.dumps(GOOD) + "\n```\nHope this helps.",
        "<think>The paper is about MLPs. {not json}</think>\n" + json.dumps(GOOD),
    ],
    ids=["bare", "fenced json", "fenced with prose", "after reasoning"],
)
def test_the_answer_is_found_as_json_or_in_a_fenced_block(content):
    summary = parse_summary(content)
    assert summary.text == GOOD["summary"] and summary.keywords == GOOD["keywords"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("A plain MLP matches convolutional networks.", "holds no JSON object"),
        ('Sure! {"summary": "x", "keywords": []} is it', "holds no JSON object"),
        ('["a list"]', "holds no JSON object"),
        ('{"keywords": ["MLP"]}', 'no "summary" text'),
        ('{"summary": 42}', 'no "summary" text'),
        ('{"summary": " \\u200b <b></b> "}', "summary is empty"),
        (json.dumps({"summary": "word " * 200}), f"(at most {MAX_SUMMARY})"),
        ('{"summary": "Fine.", "keywords": "MLP, vision"}', "not a list of words"),
        ('{"summary": "Fine.", "keywords": ["MLP", 3]}', "not a list of words"),
    ],
)
def test_an_answer_that_is_not_the_expected_json_is_refused(content, problem):
    with pytest.raises(SummaryError, match=problem.replace("(", r"\(").replace(")", r"\)")) as refused:
        parse_summary(content)
    assert refused.value.kind == "content"


def test_the_summary_and_keywords_are_plain_short_text():
    found = parse_summary(
        json.dumps(
            {
                "summary": "**MLPs** match <i>CNNs</i>\x00 at\u202escale\r\n<script>alert(1)</script>, with `x < y`.",
                "keywords": ["MLP", "mlp", "  token\tmixing ", "", "k" * 61, *[f"k{i}" for i in range(10)]],
            }
        )
    )
    assert found.text == "MLPs match CNNs at scale alert(1), with x < y."
    assert found.keywords == ["MLP", "token mixing", "k0", "k1", "k2", "k3", "k4", "k5"]


@pytest.mark.parametrize(
    ("body", "kind", "problem"),
    [
        (b"<html>Bad gateway</html>", "format", "not JSON"),
        (b'{"object": "list", "data": []}', "format", "no choices list"),
        (b'{"choices": []}', "format", "no choices"),
        (b'{"choices": [{"index": 0, "message": {"role": "assistant"}}]}', "format", "no message content"),
        (completion(GOOD, finish_reason="length").body, "content", "token limit"),
    ],
)
def test_a_body_that_is_not_a_chat_completion_is_refused(body, kind, problem):
    with pytest.raises(SummaryError, match=problem) as refused:
        completion_content(body)
    assert refused.value.kind == kind


# --- a pass against the loopback server ---


def test_a_pass_sends_the_newest_daily_lists_first_and_writes_the_summaries(corpus, endpoint):
    DailyEntry.objects.filter(paper__external_id="2606.00010").delete()  # on no list: after the listed ones
    endpoint.route(PATH, *[answer(n) for n in range(1, 11)])
    run = summarizer.summarize_pending()
    assert len(run.written) == 10 and run.failed == [] and run.stopped == ""
    order = [o.address for o in run.outcomes]
    assert set(order[:3]) == {"2606.00005", "2606.00006", "2606.00008"}  # listed 1 July
    assert set(order[3:5]) == {"2606.00001", "2606.00002"}  # 30 June
    assert set(order[5:7]) == {"2606.00003", "hep-th/9901001"}  # 29 June
    assert set(order[7:9]) == {"2606.00007", "2606.00009"}  # 26 June
    assert order[9] == "2606.00010"

    first = endpoint.requests_to(PATH)[0]
    sent = json.loads(first.body)
    assert first.headers["Authorization"] == "Bearer sk-local-test"
    assert first.headers["Content-Type"] == "application/json"
    assert sent["model"] == "qwen2.5-7b-instruct" and sent["stream"] is False
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    paper = named(order[0])
    assert sent["messages"][1]["content"] == f"Title: {' '.join(paper.title.split())}\n\nAbstract: {paper.abstract}"

    written = extras(order[0])
    assert written.summary == "Summary number 1." and written.summary_keywords == ["topic 1", "method"]
    assert written.summary_origin == "site" and written.summary_model == "qwen2.5-7b-instruct"
    assert written.summary_at and written.summary_tried_at and written.summary_problem == ""

    again = summarizer.summarize_pending()  # cached: nothing is asked twice
    assert again.outcomes == [] and len(endpoint.requests_to(PATH)) == 10


def test_no_api_key_sends_no_authorization(corpus, endpoint, settings):
    settings.PAPERFEED_SUMMARY_API_KEY = ""
    endpoint.route(PATH, answer(1))
    summarizer.summarize_pending(limit=1)
    [request] = endpoint.requests_to(PATH)
    assert "Authorization" not in request.headers


def test_a_hugging_face_summary_is_never_replaced_and_hidden_or_empty_papers_are_not_sent(corpus, endpoint):
    hf = named("2606.00005")
    PaperExtras.objects.create(paper=hf, summary="Hugging Face's words.", summary_origin="huggingface")
    Paper.objects.filter(external_id="2606.00006").update(hidden=True)
    Paper.objects.filter(external_id="2606.00008").update(abstract="")
    endpoint.route(PATH, answer(1))
    run = summarizer.summarize_pending(limit=20)
    sent = {o.address for o in run.outcomes}
    assert len(sent) == 7 and not sent & {"2606.00005", "2606.00006", "2606.00008"}
    kept = extras("2606.00005")
    assert kept.summary == "Hugging Face's words." and kept.summary_origin == "huggingface"
    assert kept.summary_tried_at is None


def test_a_summary_from_hugging_face_that_arrives_during_the_request_is_kept(corpus):
    """The write is conditional: an ingest that brought Hugging Face's summary meanwhile wins."""
    from paperfeed.core.summaries import Summary

    paper = named("2606.00001")
    PaperExtras.objects.create(paper=paper, summary="Hugging Face's words.", summary_origin="huggingface")
    assert summarizer._store(paper, Summary("Ours.", ["x"]), "llama") is False
    assert extras("2606.00001").summary == "Hugging Face's words."
    PaperExtras.objects.filter(paper=paper).update(summary="", summary_origin="")
    assert summarizer._store(paper, Summary("Ours.", ["x"]), "llama") is True
    assert extras("2606.00001").summary_origin == "site"


def test_a_pass_starts_no_new_paper_once_its_time_is_up(corpus, endpoint):
    endpoint.route(PATH, answer(1))
    run = summarizer.summarize_pending(seconds=0)
    assert len(run.outcomes) == 1 and len(endpoint.requests_to(PATH)) == 1  # at least one, then no more


def test_the_day_budget_counts_papers_sent_today(corpus, endpoint, settings):
    settings.PAPERFEED_SUMMARY_PER_DAY = 3
    yesterday = timezone.now() - timedelta(days=1, hours=1)
    PaperExtras.objects.create(
        paper=named("2606.00010"), summary="Old.", summary_origin="site", summary_tried_at=yesterday
    )
    endpoint.route(PATH, answer(1), answer(2), completion("no JSON here"))
    run = summarizer.summarize_pending()
    assert len(run.outcomes) == 3 and len(run.written) == 2 and run.budget_left == 0  # a refused answer counts
    spent = summarizer.summarize_pending()
    assert spent.outcomes == [] and "budget of 3 papers (PAPERFEED_SUMMARY_PER_DAY) is spent" in spent.off
    assert len(endpoint.requests_to(PATH)) == 3

    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("summarize", stdout=out)
    assert exit_.value.code == 1 and "Nothing sent: today's budget of 3 papers" in out.getvalue()


def test_a_refused_answer_is_noted_and_the_pass_goes_on(corpus, endpoint, caplog):
    error_400 = Reply(b'{"error": {"message": "context length exceeded"}}', 400, content_type="application/json")
    endpoint.route(PATH, completion("I cannot summarize this."), error_400, completion("Still prose."), answer(4))
    with caplog.at_level(logging.WARNING, logger="paperfeed.papers.services.summarizer"):
        run = summarizer.summarize_pending(limit=4)
    assert [o.kind for o in run.outcomes] == ["content", "request", "content", ""]
    assert len(run.written) == 1 and run.stopped == ""
    refused = extras(run.outcomes[0].address)
    assert refused.summary == "" and refused.summary_origin == "" and refused.summary_tried_at is not None
    assert refused.summary_problem.startswith("the model's answer holds no JSON object: 'I cannot summarize")
    assert "answered 400: context length exceeded" in extras(run.outcomes[1].address).summary_problem
    assert caplog.text.count("holds no JSON object") == 1  # logged once per kind; each paper keeps its own


@pytest.mark.parametrize(
    ("reply", "kind", "problem", "counts"),
    [
        (Reply(b"<html>502 Bad Gateway</html>", 502, content_type="text/html"), "status", "answered 502", False),
        (
            Reply.fixture("summaries/constructed_error_401.json", status=401),
            "status",
            "answered 401: Incorrect API key provided",
            False,
        ),
        (Reply(b"<html>a login page</html>", content_type="text/html"), "format", "not JSON", True),
        (completion(GOOD, delay=2.0), "timeout", "did not answer within 0.5 s", True),
    ],
    ids=["502", "401", "not a chat completion", "timeout"],
)
def test_an_endpoint_failure_writes_nothing_and_stops_the_pass(
    corpus, endpoint, settings, reply, kind, problem, counts
):
    settings.PAPERFEED_SUMMARY_TIMEOUT_SECONDS = 0.5
    endpoint.route(PATH, reply)
    run = summarizer.summarize_pending()
    [outcome] = run.outcomes
    assert outcome.kind == kind and problem in run.stopped
    assert len(endpoint.requests_to(PATH)) == 1
    tried = extras(outcome.address)
    assert tried.summary == "" and problem in tried.summary_problem
    # No text came back from an error status: the paper keeps its place and the day's budget is untouched.
    assert (tried.summary_tried_at is not None) is counts
    assert run.budget_left == 200 - counts


def test_an_endpoint_that_is_not_there_stops_the_pass_and_is_logged_once(corpus, settings, caplog):
    settings.PAPERFEED_SUMMARY_URL = f"http://127.0.0.1:{free_port()}/v1"
    settings.PAPERFEED_SUMMARY_MODEL = "llama"
    summarizer._logged.clear()
    with caplog.at_level(logging.WARNING, logger="paperfeed.papers.services.summarizer"):
        first = summarizer.summarize_pending()
        second = summarizer.summarize_pending()
    for run in (first, second):
        [outcome] = run.outcomes
        assert outcome.kind == "connection" and run.stopped.startswith("cannot reach http://127.0.0.1:")
    assert first.outcomes[0].address == second.outcomes[0].address  # not held back: nothing was generated
    assert caplog.text.count("cannot reach") == 1
    assert PaperExtras.objects.exclude(summary_problem="").count() == 1
    assert not PaperExtras.objects.filter(summary_tried_at__isnull=False).exists()


def test_a_failed_paper_is_tried_again_only_after_the_delay(corpus, endpoint):
    now = timezone.now()
    for address, hours in (("2606.00005", 1), ("2606.00006", 7)):
        PaperExtras.objects.create(
            paper=named(address), summary_tried_at=now - timedelta(hours=hours), summary_problem="x"
        )
    endpoint.route(PATH, answer(1))
    run = summarizer.summarize_pending()
    sent = [o.address for o in run.outcomes]
    assert "2606.00005" not in sent and sent[0] == "2606.00006" and len(sent) == 9
    assert extras("2606.00006").summary_problem == ""


def test_pages_never_call_the_summarizer(corpus, endpoint, client):
    endpoint.route(PATH, answer(1))
    for url in ("/", "/papers/2606.00001", "/trending", "/search?q=mlp"):
        assert client.get(url).status_code == 200, url
    assert endpoint.requests == []
    summarizer.summarize_pending(limit=1)  # what a worker does; the page then shows its summary from the database
    assert len(endpoint.requests) == 1


def test_the_summarizer_is_off_without_a_url(corpus, settings, server):
    settings.PAPERFEED_SUMMARY_URL = ""
    run = summarizer.summarize_pending()
    assert run.outcomes == [] and not run.configured and not summarizer.enabled()
    with pytest.raises(CommandError, match="the summarizer is off: PAPERFEED_SUMMARY_URL is not set") as refused:
        call_command("summarize")
    assert refused.value.returncode == 2


# --- by hand and in the background ---


def test_paperfeed_summarize_prints_what_it_did(corpus, endpoint):
    endpoint.route(PATH, answer(1), completion("prose"), Reply(b"", 503, content_type="text/plain"))
    out = io.StringIO()
    call_command("summarize", "--limit", "1", stdout=out)
    printed = out.getvalue().splitlines()
    assert len(printed) == 2
    assert printed[0].endswith(": Summary number 1. [topic 1, method]")
    assert printed[1] == "Summarized 1 papers with qwen2.5-7b-instruct, 0 not; 199 of today's 200 left."

    out = io.StringIO()
    with pytest.raises(CommandError, match="stopped: .* answered 503") as stopped:
        call_command("summarize", stdout=out)
    assert stopped.value.returncode == 2
    said = out.getvalue()
    assert ": not summarized: the model's answer holds no JSON object: 'prose'" in said
    assert "Summarized 0 papers with qwen2.5-7b-instruct, 2 not; 198 of today's 200 left." in said


def test_settings_refuse_an_unusable_endpoint():
    from paperfeed.config import summary_endpoint

    assert summary_endpoint(None, None) == ("", "")
    assert summary_endpoint("http://127.0.0.1:8080/v1/", "m") == ("http://127.0.0.1:8080/v1", "m")
    with pytest.raises(SystemExit, match="PAPERFEED_SUMMARY_URL='127.0.0.1:8080' is not an http"):
        summary_endpoint("127.0.0.1:8080", "m")
    with pytest.raises(SystemExit, match="PAPERFEED_SUMMARY_MODEL is not"):
        summary_endpoint("http://127.0.0.1:8080/v1", None)


@pytest.fixture
def database_queue(settings):
    """The production task queue (a table of the site's database) instead of running tasks at once."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def queued() -> list[tuple[str, str]]:
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.order_by("enqueued_at").values_list("task_path", "status"))


def test_the_queue_runs_one_summary_pass_at_a_time_and_none_when_off(
    transactional_db, corpus, endpoint, database_queue, settings
):
    from paperfeed.background import summaries

    endpoint.route(PATH, *[answer(n) for n in range(1, 11)])
    assert summaries.request() is True and summaries.request() is False  # one pass waits at a time
    assert queued() == [("paperfeed.background.summaries.summarize", "READY")]
    assert endpoint.requests == []  # asking does not run it
    call_command("worker", "--batch", verbosity=0)
    assert queued() == [("paperfeed.background.summaries.summarize", "SUCCESSFUL")]
    assert PaperExtras.objects.filter(summary_origin="site").count() == 10

    settings.PAPERFEED_SUMMARY_URL = ""
    assert summaries.request() is False and len(queued()) == 1  # off: never enqueued


def test_an_ingest_leads_to_a_summary_pass_on_the_worker(tmp_path, server):
    """`paperfeed load-jsonl` asks for upkeep; the worker's upkeep asks for a summary pass, which it runs next."""
    import subprocess
    import sys

    from conftest import SMALL, site_env, site_rows

    server.route(PATH, *[answer(n) for n in range(1, 11)])
    env = site_env(tmp_path / "data", migrated=True)
    env |= {"PAPERFEED_SUMMARY_URL": server.url + "/v1", "PAPERFEED_SUMMARY_MODEL": "llama-3.2-3b-instruct"}
    (tmp_path / "data").mkdir()
    run = [sys.executable, "-m", "paperfeed"]
    subprocess.run([*run, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*run, "load-jsonl", str(SMALL)], env=env, check=True, capture_output=True)
    assert server.requests == []  # the ingest only asked
    subprocess.run([*run, "worker", "--batch"], env=env, check=True, capture_output=True, timeout=300)
    assert len(server.requests_to(PATH)) == 10
    assert site_rows(env, "SELECT summary_origin, summary_model, count(*) FROM papers_paperextras GROUP BY 1, 2") == [
        ("site", "llama-3.2-3b-instruct", 10)
    ]
