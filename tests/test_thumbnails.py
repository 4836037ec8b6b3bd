"""Thumbnails: the first page of a PDF the test builds, or Hugging Face's image, fetched from a replay server on
127.0.0.1, made by the background pass, served by the site and shown on cards and as og:image; and what goes wrong
(encrypted, broken, too large, not a PDF, 404/500, a host out of reach)."""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import free_port, site_env, site_rows
from constructed_pdfs import one_page_pdf
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image
from replay import ReplayServer, Reply

from paperfeed.background import thumbnails as background
from paperfeed.papers.models import DailyEntry, Paper, PaperExtras
from paperfeed.papers.services import thumbnails

HF_LINK = "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{}.png"
LOGGER = "paperfeed.papers.services.thumbnails"


def png(width: int = 1200, height: int = 648, colour=(0, 128, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def server():
    replay = ReplayServer().start()
    yield replay
    replay.stop()


@pytest.fixture(autouse=True)
def _thumbnail_settings(settings, tmp_path, server, monkeypatch):
    settings.DATA_DIR = tmp_path
    settings.PAPERFEED_THUMBNAILS = "on"
    settings.PAPERFEED_ARXIV_PDF_URL = server.url + "/pdf"
    settings.PAPERFEED_HF_THUMBNAIL_URL = server.url
    settings.PAPERFEED_ARXIV_DELAY_SECONDS = 0
    settings.PAPERFEED_HTTP_TIMEOUT_SECONDS = 5
    monkeypatch.setattr(thumbnails, "_rest_until", 0.0)  # this process's memory of outages, per test
    monkeypatch.setattr(thumbnails, "_last_outage", None)


def listed(arxiv_id: str, days_ago: int = 0, hf: bool = False, **fields) -> Paper:
    """A paper on the daily list of `days_ago` days ago (with a Hugging Face thumbnail link when `hf`)."""
    day = timezone.localdate() - timedelta(days=days_ago)
    paper = Paper.objects.create(
        external_id=arxiv_id,
        title=fields.pop("title", f"Paper {arxiv_id}"),
        abstract="An abstract.",
        primary_category="cs.LG",
        categories=["cs.LG"],
        published=day,
        **fields,
    )
    DailyEntry.objects.create(paper=paper, day=day)
    if hf:
        PaperExtras.objects.create(paper=paper, hf_thumbnail_url=HF_LINK.format(arxiv_id))
    return paper


def extras(paper: Paper) -> PaperExtras:
    return PaperExtras.objects.get(paper=paper)


def decoded(name: str, folder) -> Image.Image:
    return Image.open(folder / "thumbnails" / name)


@pytest.mark.django_db
def test_the_first_page_of_the_pdf_on_the_card_the_page_and_og_image(client, server, tmp_path):
    paper = listed("2612.00001", title="A paper with a picture")
    bare = listed("2612.00002", title="A paper without one")
    server.route("/pdf/2612.00001", Reply(one_page_pdf(), content_type="application/pdf"))

    report = thumbnails.thumbnail_pass()

    assert report.made == [("2612.00001", "pdf")]
    assert report.refused == [
        ("2612.00002", "could not fetch the PDF: HTTP 404 Not Found from " + server.url + "/pdf/2612.00002")
    ]
    row = extras(paper)
    assert row.thumbnail_origin == "pdf" and row.thumbnail_problem == "" and row.thumbnail_tried_at
    image = decoded(row.thumbnail, tmp_path)
    assert image.format == "WEBP" and image.size == (320, 415)
    assert re.fullmatch(r"pdf-[0-9a-f]{20}-320x415\.webp", row.thumbnail)
    red, white, blue = image.getpixel((10, 10)), image.getpixel((10, 200)), image.getpixel((100, 150))
    assert red[0] > 200 and red[1] < 50 and red[2] < 50  # the red band across the top of the page
    assert min(white) > 230
    assert blue[2] > 200 and blue[0] < 50  # the blue square below it
    assert server.requests_to("/pdf/2612.00001")[0].headers["User-Agent"].startswith("paperfeed/")

    daily = client.get("/").content.decode()
    card = re.search(r'<article class="card">\s*<img class="card-thumb"[^>]*>', daily).group(0)
    assert f'src="/thumbnails/{row.thumbnail}"' in card
    assert 'width="320" height="415"' in card and 'loading="lazy"' in card
    assert 'alt="First page of the paper"' in card
    assert daily.count('class="card-thumb"') == 1  # the other card has none, and no broken image

    served = client.get(f"/thumbnails/{row.thumbnail}")
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert b"".join(served.streaming_content) == (tmp_path / "thumbnails" / row.thumbnail).read_bytes()
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"

    page = client.get("/papers/2612.00001").content.decode()
    url = f"http://testserver/thumbnails/{row.thumbnail}"
    assert f'<meta property="og:image" content="{url}">' in page
    assert f'<meta name="twitter:image" content="{url}">' in page
    assert '<meta property="og:image:width" content="320">' in page
    assert "og:image" not in client.get(f"/papers/{bare.address}").content.decode()


@pytest.mark.django_db
def test_hugging_face_thumbnail_is_fetched_from_the_configured_host_and_made_small(server, tmp_path, client):
    paper = listed("2612.00003", hf=True)
    server.route("/social-thumbnails/papers/2612.00003.png", Reply(png(), content_type="image/png"))

    assert thumbnails.thumbnail_pass().made == [("2612.00003", "huggingface")]

    row = extras(paper)
    assert row.thumbnail_origin == "huggingface"
    image = decoded(row.thumbnail, tmp_path)
    assert image.size == (320, 173) and image.getpixel((5, 5))[1] > 100
    assert server.requests_to("/pdf/2612.00003") == []  # no PDF when Hugging Face has a picture
    assert 'alt="The paper\'s thumbnail on Hugging Face"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_a_hugging_face_link_elsewhere_is_not_followed_and_the_pdf_is_used(server):
    paper = listed("2612.00004")
    PaperExtras.objects.create(paper=paper, hf_thumbnail_url="http://10.0.0.1/admin.png")
    server.route("/pdf/2612.00004", Reply(one_page_pdf(), content_type="application/pdf"))
    assert thumbnails.thumbnail_pass().made == [("2612.00004", "pdf")]


BAD = {
    "encrypted": (
        Reply(one_page_pdf(user_password="secret"), content_type="application/pdf"),
        "the PDF is encrypted: it cannot be opened without a password",
    ),
    "broken": (Reply(one_page_pdf()[:300], content_type="application/pdf"), "the PDF is broken: Data format error"),
    "not a PDF": (
        Reply(b"<html><body>Please verify you are human</body></html>", content_type="text/html"),
        "the file is not a PDF (the server sent text/html)",
    ),
    "declared larger than 50 MB": (
        Reply(b"%PDF-1.7\n", content_type="application/pdf", headers={"X-Declared": "60000000"}),
        "the PDF is larger than 50 MB",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", BAD, ids=list(BAD))
def test_a_pdf_that_cannot_be_used_gets_no_thumbnail_a_reason_logged_once_and_no_second_try(
    kind, server, caplog, tmp_path
):
    reply, reason = BAD[kind]
    if "X-Declared" in reply.headers:
        server = declaring_server(int(reply.headers["X-Declared"]))
    paper = listed("2612.00005")
    server.route("/pdf/2612.00005", reply)
    caplog.set_level(logging.WARNING, LOGGER)

    report = thumbnails.thumbnail_pass()
    again = thumbnails.thumbnail_pass()

    assert report.refused == [("2612.00005", reason)] and report.made == []
    row = extras(paper)
    assert row.thumbnail == "" and row.thumbnail_problem == reason and row.thumbnail_tried_at
    assert [r.getMessage() for r in caplog.records] == [f"no thumbnail for 2612.00005: {reason}"]
    assert len(server.requests_to("/pdf/2612.00005")) == 1 and str(again) == "nothing to do"
    assert not (tmp_path / "thumbnails").exists() or not list((tmp_path / "thumbnails").iterdir())


class _Declaring:
    """A PDF host whose answer says it is `size` bytes long, or (size 0) streams without end and counts what it
    managed to send before the client hung up."""

    def __init__(self, size: int) -> None:
        self.sent = 0
        self.finished = False
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                outer.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                if size:
                    self.send_header("Content-Length", str(size))
                    self.end_headers()
                    self.wfile.write(b"%PDF-1.7\n")
                    return  # the rest never comes: the client must not wait for it
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"%PDF-1.7\n" + b"0" * (1024 * 1024 - 9)
                try:
                    for _ in range(200):  # 200 MB, if anyone read that far
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        outer.sent += len(chunk)
                    self.wfile.write(b"0\r\n\r\n")
                    outer.finished = True
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def route(self, path: str, reply: Reply) -> None:
        pass  # every path answers the same

    def requests_to(self, path: str) -> list[str]:
        return [seen for seen in self.paths if seen == path]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


_declaring: list[_Declaring] = []


def declaring_server(size: int) -> _Declaring:
    from django.conf import settings

    host = _Declaring(size)
    _declaring.append(host)
    settings.PAPERFEED_ARXIV_PDF_URL = host.url + "/pdf"
    return host


@pytest.fixture(autouse=True)
def _stop_declaring():
    yield
    while _declaring:
        _declaring.pop().stop()


@pytest.mark.django_db
def test_a_pdf_streamed_past_50_mb_is_cut_off_without_reading_the_rest(caplog):
    host = declaring_server(0)
    paper = listed("2612.00006")
    caplog.set_level(logging.WARNING, LOGGER)

    report = thumbnails.thumbnail_pass()

    assert report.refused == [("2612.00006", "the PDF is larger than 50 MB")]
    assert extras(paper).thumbnail_problem == "the PDF is larger than 50 MB"
    host.httpd.shutdown()
    assert not host.finished and host.sent < 120 * 1024 * 1024  # it stopped reading (sockets buffer some)


@pytest.mark.django_db
@pytest.mark.parametrize("status", [404, 500])
def test_a_pdf_the_host_will_not_give_is_tried_again_a_day_later(status, server, caplog):
    paper = listed("2612.00007")
    server.route("/pdf/2612.00007", Reply(b"no", status=status, content_type="text/plain"))
    caplog.set_level(logging.WARNING, LOGGER)

    first = thumbnails.thumbnail_pass()
    thumbnails.thumbnail_pass()  # too soon: not asked again

    assert first.refused[0][1].startswith(f"could not fetch the PDF: HTTP {status}")
    assert len(server.requests_to("/pdf/2612.00007")) == 1
    PaperExtras.objects.filter(paper=paper).update(thumbnail_tried_at=timezone.now() - timedelta(days=1, minutes=1))
    server.route("/pdf/2612.00007", Reply(one_page_pdf(), content_type="application/pdf"))
    assert thumbnails.thumbnail_pass().made == [("2612.00007", "pdf")]
    assert extras(paper).thumbnail_problem == ""
    assert len(caplog.records) == 1  # the failure, once


@pytest.mark.django_db
def test_a_host_out_of_reach_blames_no_paper_is_logged_once_and_rests(settings, caplog):
    settings.PAPERFEED_ARXIV_PDF_URL = f"http://127.0.0.1:{free_port()}/pdf"  # nobody listens there
    listed("2612.00008")
    listed("2612.00009")
    caplog.set_level(logging.WARNING, LOGGER)

    first = thumbnails.thumbnail_pass()
    second = thumbnails.thumbnail_pass()

    assert first.outage.startswith("could not reach 127.0.0.1") and first.made == first.refused == []
    assert second.outage == first.outage
    [row] = PaperExtras.objects.all()  # the paper tried first: due again once the host is back
    assert row.thumbnail_tried_at is None and row.thumbnail_problem == "" and row.thumbnail == ""
    assert len(caplog.records) == 1 and "trying again later" in caplog.records[0].getMessage()
    assert thumbnails.resting() and background.request() is False  # the periodic passes rest


@pytest.mark.django_db
def test_recent_lists_first_and_only_recent_visible_papers(server):
    older = listed("2612.00010", days_ago=3)
    newer = listed("2612.00011", days_ago=1)
    listed("2612.00012", days_ago=thumbnails.RECENT_DAYS + 1)
    listed("2612.00013", hidden=True)
    for paper in (older, newer):
        server.route(f"/pdf/{paper.external_id}", Reply(one_page_pdf(), content_type="application/pdf"))

    assert thumbnails.thumbnail_pass(limit=1).made == [("2612.00011", "pdf")]
    second = thumbnails.thumbnail_pass(limit=1)
    assert second.made == [("2612.00010", "pdf")] and not second.left
    assert {r.path for r in server.requests} == {"/pdf/2612.00010", "/pdf/2612.00011"}


@pytest.mark.django_db
def test_the_off_switch_and_hugging_face_only(settings, server, tmp_path):
    listed("2612.00014")
    listed("2612.00015", hf=True)
    server.route("/social-thumbnails/papers/2612.00015.png", Reply(png(), content_type="image/png"))
    server.route("/pdf/2612.00014", Reply(one_page_pdf(), content_type="application/pdf"))

    settings.PAPERFEED_THUMBNAILS = "off"
    assert str(thumbnails.thumbnail_pass()) == "nothing to do" and background.request() is False
    with pytest.raises(CommandError, match="PAPERFEED_THUMBNAILS=off") as refused:
        call_command("thumbnails")
    assert refused.value.returncode == 2

    settings.PAPERFEED_THUMBNAILS = "huggingface"
    assert thumbnails.thumbnail_pass().made == [("2612.00015", "huggingface")]
    assert server.requests_to("/pdf/2612.00014") == []  # no PDF is downloaded


@pytest.mark.django_db
def test_the_command_says_what_it_made_and_why_not(server, capsys):
    listed("2612.00016", days_ago=1)
    listed("2612.00017")
    server.route("/pdf/2612.00016", Reply(one_page_pdf(), content_type="application/pdf"))
    server.route("/pdf/2612.00017", Reply(one_page_pdf(user_password="x"), content_type="application/pdf"))

    call_command("thumbnails")

    assert capsys.readouterr().out.splitlines() == [
        "2612.00016: thumbnail from the PDF",
        "2612.00017: no thumbnail: the PDF is encrypted: it cannot be opened without a password",
        "Made 1 thumbnails; 1 papers have none.",
    ]


@pytest.mark.django_db
def test_thumbnail_names_that_are_not_ours_are_404s(client, tmp_path):
    (tmp_path / "secret_key").write_text("x")
    for name in ["secret_key", "..%2Fsecret_key", "pdf-0123456789abcdef0123-320x415.webp", "pdf-xyz.webp"]:
        assert client.get(f"/thumbnails/{name}").status_code == 404


def test_the_worker_makes_thumbnails_after_an_ingest(tmp_path, server):
    """A load asks for upkeep, upkeep asks for thumbnails, and `paperfeed worker` makes them."""
    server.route("/pdf/2612.00020", Reply(one_page_pdf(), content_type="application/pdf"))
    env = site_env(tmp_path / "data", migrated=True)
    (tmp_path / "data").mkdir()
    env |= {"PAPERFEED_ARXIV_PDF_URL": server.url + "/pdf", "PAPERFEED_ARXIV_DELAY_SECONDS": "0"}
    today = timezone.localdate().isoformat()
    record = (
        '{"id": "2612.00020", "title": "Made today", "abstract": "Words.", "authors": ["Ada Lovelace"], '
        f'"categories": ["cs.LG"], "primary_category": "cs.LG", "first_listed": "{today}", "last_seen": "{today}"}}\n'
    )
    (tmp_path / "today.jsonl").write_text(record)
    run = [sys.executable, "-m", "paperfeed"]
    subprocess.run([*run, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*run, "load-jsonl", str(tmp_path / "today.jsonl")], env=env, check=True, capture_output=True)
    worker = subprocess.run([*run, "worker", "--batch"], env=env, capture_output=True, text=True, timeout=300)
    assert worker.returncode == 0, worker.stderr
    [(name, origin)] = site_rows(env, "SELECT thumbnail, thumbnail_origin FROM papers_paperextras")
    assert origin == "pdf" and (tmp_path / "data" / "thumbnails" / name).is_file()
    [(result,)] = site_rows(
        env,
        "SELECT return_value FROM django_tasks_database_dbtaskresult "
        "WHERE task_path = 'paperfeed.background.thumbnails.make_thumbnails'",
    )
    assert "made 1 thumbnail" in str(result)
