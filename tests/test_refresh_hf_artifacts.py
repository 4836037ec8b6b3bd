"""The Hugging Face models, datasets and Spaces citing a paper: the refresh against a replay server answering in the
Hub's documented format (tests/fixtures/hf_artifacts), the paper page, the HF-compatible API, the bad answers the Hub
can give; and, end to end, `paperfeed serve`'s worker refreshing stars and artifacts in the background while the real
`huggingface_hub` client reads them back with `paper_info`."""

import json
import logging
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from conftest import SMALL, site_env, start_site
from django.core.management import call_command
from django.utils import timezone
from replay import FIXTURES, ReplayServer, Reply

from paperfeed.core import hf_artifacts as shapes
from paperfeed.papers.models import DailyEntry, Paper, PaperExtras
from paperfeed.papers.services.refresh import hf_artifacts

KINDS = ("models", "datasets", "spaces")


def listing(kind: str) -> Reply:
    return Reply.fixture(f"hf_artifacts/constructed_{kind}.json")


@pytest.fixture
def hub(settings):
    server = ReplayServer().start()
    settings.PAPERFEED_HF_API_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def listed(corpus):
    """2606.00001 (Mixer) on today's list, so that the refresh finds it due."""
    paper = Paper.objects.get(arxiv_id="2606.00001")
    DailyEntry.objects.create(paper=paper, day=timezone.localdate(), source="hf")
    return paper


def route_all(hub: ReplayServer, **replies: Reply) -> None:
    for kind in KINDS:
        hub.route(f"/api/{kind}", replies.get(kind) or listing(kind))


def stored() -> PaperExtras:
    return PaperExtras.objects.get(paper__arxiv_id="2606.00001")


def make_stale() -> None:
    PaperExtras.objects.update(hf_artifacts_checked_at=timezone.now() - timedelta(hours=25))


@pytest.mark.django_db
def test_citing_artifacts_are_kept_best_liked_first_and_shown_on_the_page_and_in_the_api(
    client, hub, listed, monkeypatch, capsys
):
    monkeypatch.setattr(shapes, "KEPT", 2)  # three models cited: two shown, "and 1 more"
    route_all(hub)
    call_command("refresh", "hf-artifacts", "--pause", "0")
    assert "Hugging Face artifacts: checked 1 of 1 due papers, 1 changed" in capsys.readouterr().out
    for kind in KINDS:
        [request] = hub.requests_to(f"/api/{kind}")
        assert request.query["filter"] == ["arxiv:2606.00001"] and request.query["sort"] == ["likes"]
    found = stored().hf_artifacts
    assert found["models"] == [
        {"id": "mixer-lab/mixer-b16-revisited", "likes": 42, "downloads": 15873},
        {"id": "mixer-lab/mixer-l16-revisited", "likes": 17, "downloads": 2210},
    ]
    assert found["spaces"] == [{"id": "mixer-lab/mixer-demo", "likes": 11, "downloads": 0, "sdk": "gradio"}]
    assert found["total"] == {"models": 3, "datasets": 1, "spaces": 1}
    assert stored().hf_artifacts_problem == ""

    page = client.get("/papers/2606.00001").content.decode()
    assert "Models, datasets and Spaces citing this paper" in page
    assert 'href="https://huggingface.co/mixer-lab/mixer-b16-revisited"' in page
    assert 'href="https://huggingface.co/datasets/mixer-lab/imagenet-mixer-evals"' in page
    assert 'href="https://huggingface.co/spaces/mixer-lab/mixer-demo"' in page and "gradio" in page
    assert "someone/mixer-tiny" not in page
    assert 'href="https://huggingface.co/models?other=arxiv:2606.00001"' in page and "and 1 more" in page
    assert "citing this paper" not in client.get("/papers/2606.00002").content.decode()  # never asked: nothing said

    info = client.get("/api/papers/2606.00001").json()
    assert [m["id"] for m in info["linkedModels"]] == ["mixer-lab/mixer-b16-revisited", "mixer-lab/mixer-l16-revisited"]
    assert (info["numTotalModels"], info["numTotalDatasets"], info["numTotalSpaces"]) == (3, 1, 1)
    assert info["linkedSpaces"][0]["sdk"] == "gradio"
    assert "linkedModels" not in client.get("/api/papers/2606.00002").json()
    daily = client.get(f"/api/daily_papers?date={timezone.localdate().isoformat()}").json()
    assert "linkedModels" not in daily[0]["paper"] and "linkedModels" not in daily[0]  # paper_info only, as on HF


@pytest.mark.django_db
def test_a_paper_that_nothing_cites_says_nothing_and_the_api_says_none(client, hub, listed):
    route_all(hub, **{kind: Reply(b"[]", content_type="application/json") for kind in KINDS})
    assert hf_artifacts.refresh(pause=0).checked == 1
    assert "citing this paper" not in client.get("/papers/2606.00001").content.decode()
    info = client.get("/api/papers/2606.00001").json()
    assert (info["linkedModels"], info["numTotalModels"], info["linkedSpaces"]) == ([], 0, [])


@pytest.mark.django_db
def test_a_failure_on_any_list_keeps_all_three_old_lists_and_is_logged_once(hub, listed, caplog):
    route_all(hub)
    hf_artifacts.refresh(pause=0)
    before = stored().hf_artifacts
    caplog.set_level(logging.WARNING, logger="paperfeed.refresh")
    bad = {
        "404": Reply(b'{"error": "Not found"}', status=404, content_type="application/json"),
        "object": Reply(b'{"error": "Invalid filter"}', content_type="application/json"),
        "html": Reply(b"<html>maintenance</html>", content_type="text/html"),
        "no id": Reply(b'[{"likes": 3}]', content_type="application/json"),
    }
    problems = {
        "404": "Hugging Face answered HTTP 404 for its datasets",
        "object": "Hugging Face's list of datasets is a JSON dict, not a list of datasets",
        "html": "Hugging Face's list of datasets is not JSON",
        "no id": "Hugging Face's list of datasets is an item without an id",
    }
    for name, reply in bad.items():
        make_stale()
        route_all(hub, datasets=reply)
        report = hf_artifacts.refresh(pause=0)
        assert report.problems == 1 and report.stopped_by == ""
        assert stored().hf_artifacts == before and stored().hf_artifacts_problem.startswith(problems[name])
    assert len(caplog.records) == 4
    make_stale()
    hf_artifacts.refresh(pause=0)  # the last problem again: not logged again
    assert len(caplog.records) == 4


@pytest.mark.django_db
def test_429_and_5xx_stop_the_pass_for_the_time_asked_and_leave_the_paper_first_in_line(hub, listed):
    other = Paper.objects.get(arxiv_id="2606.00002")
    DailyEntry.objects.create(paper=other, day=timezone.localdate(), source="hf")
    route_all(hub, models=Reply(b"Too Many Requests", status=429, headers={"Retry-After": "90"}))
    report = hf_artifacts.refresh(pause=0)
    assert (report.wait, report.checked, report.stopped_by) == (
        90.0,
        0,
        "Hugging Face answered HTTP 429 for its models",
    )
    assert len(hub.requests) == 1  # nothing more asked
    [tried] = PaperExtras.objects.all()
    assert tried.hf_artifacts_checked_at is None and tried.hf_artifacts == {}

    route_all(hub, spaces=Reply(b"", status=503))
    report = hf_artifacts.refresh(pause=0)
    assert report.wait == 60 and report.stopped_by == "Hugging Face answered HTTP 503 for its spaces"
    assert all(extras.hf_artifacts == {} for extras in PaperExtras.objects.all())  # no half-written record


@pytest.mark.django_db
def test_only_arxiv_papers_of_recent_lists_are_asked(hub, corpus):
    paper = Paper.objects.create(
        source="biorxiv", external_id="10.1101/2026.06.29.601234", title="A preprint", primary_category="neuroscience"
    )
    DailyEntry.objects.create(paper=paper, day=timezone.localdate(), source="biorxiv")
    route_all(hub)
    report = hf_artifacts.refresh(pause=0)
    assert report.due == 0 and hub.requests == []  # and the corpus's June papers are not recent


# --- end to end: the worker of `paperfeed serve`, the real huggingface_hub client ---

SETUP = """
from django.utils import timezone
from paperfeed.papers.models import DailyEntry, Paper
paper = Paper.objects.get(arxiv_id="2606.00001")
Paper.objects.filter(pk=paper.pk).update(code_url="https://github.com/mixer-lab/mlp-mixer-revisited")
DailyEntry.objects.create(paper=paper, day=timezone.localdate(), source="hf")
"""


def test_the_worker_refreshes_in_the_background_and_huggingface_hub_reads_it_back(tmp_path, monkeypatch):
    remote = ReplayServer().start()
    repo = json.loads((FIXTURES / "github" / "constructed_repo.json").read_bytes())
    remote.route("/repos/mixer-lab/mlp-mixer-revisited", Reply(json.dumps(repo).encode(), headers={"ETag": '"e1"'}))
    route_all(remote)
    data = tmp_path / "data"
    data.mkdir()
    settings_env = {"PAPERFEED_GITHUB_API_URL": remote.url, "PAPERFEED_HF_API_URL": remote.url}
    env = {**site_env(data, {"PATH": "/usr/bin:/bin"}, migrated=True), **settings_env}
    for command in (["migrate", "-v0"], ["load-jsonl", str(SMALL)], ["shell", "-c", SETUP]):
        subprocess.run([sys.executable, "-m", "paperfeed", *command], env=env, check=True, capture_output=True)
    site = start_site(data, "--no-demo", env=settings_env)
    try:
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
        from huggingface_hub import HfApi
        from huggingface_hub.utils import close_session

        close_session()
        api = HfApi(endpoint=site.url, token=False)
        deadline = time.monotonic() + 90
        info = api.paper_info("2606.00001")
        while (info.github_stars is None or info.linked_models is None) and time.monotonic() < deadline:
            time.sleep(0.5)
            info = api.paper_info("2606.00001")
        assert info.github_repo == "https://github.com/mixer-lab/mlp-mixer-revisited"
        assert info.github_stars == 1234
        assert [m.id for m in info.linked_models][:2] == [
            "mixer-lab/mixer-b16-revisited",
            "mixer-lab/mixer-l16-revisited",
        ]
        assert info.linked_models[0].likes == 42 and info.linked_models[0].downloads == 15873
        assert info.num_total_models == 3 and info.num_total_datasets == 1
        assert [(s.id, s.sdk) for s in info.linked_spaces] == [("mixer-lab/mixer-demo", "gradio")]
        assert [d.id for d in info.linked_datasets] == ["mixer-lab/imagenet-mixer-evals"]
        close_session()
    finally:
        site.stop()
        remote.stop()
    assert len(remote.requests_to("/repos/mixer-lab/mlp-mixer-revisited")) == 1  # one pass; the paper is not due again
