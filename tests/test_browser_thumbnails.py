"""Cards with thumbnails and code badges in real Chromium (Debian's), on a phone in dark mode, against `paperfeed
serve`: thumbnails made by `paperfeed thumbnails` from PDFs the test builds and a Hugging Face image, served by a
replay server; code badges from the links the papers' abstracts name."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from conftest import ARTIFACTS, site_env, start_site
from constructed_pdfs import one_page_pdf
from django.utils import timezone
from PIL import Image
from replay import ReplayServer, Reply

pytestmark = pytest.mark.browser
RUN = [sys.executable, "-m", "paperfeed"]
LONG_TITLE = "A rather long title about transformers, diffusion and the thumbnails of papers on a small screen"


@pytest.fixture(scope="module")
def thumbnail_site(tmp_path_factory):
    """Five papers on today's list with thumbnails (four PDFs, one Hugging Face image) and one without."""
    server = ReplayServer().start()
    for n, size in enumerate([(612, 792), (595, 842), (300, 2000), (612, 792)], start=1):
        server.route(f"/pdf/2612.0000{n}", Reply(one_page_pdf(*size), content_type="application/pdf"))
    picture = io.BytesIO()
    Image.new("RGB", (1200, 648), (40, 120, 200)).save(picture, "PNG")
    server.route("/social-thumbnails/papers/2612.00005.png", Reply(picture.getvalue(), content_type="image/png"))
    folder = tmp_path_factory.mktemp("thumbs")
    data = folder / "data"
    data.mkdir()
    settings = {
        "PAPERFEED_ARXIV_PDF_URL": server.url + "/pdf",
        "PAPERFEED_HF_THUMBNAIL_URL": server.url,
        "PAPERFEED_ARXIV_DELAY_SECONDS": "0",
        "PAPERFEED_LOAD_DEMO": "0",
    }
    env = site_env(data, migrated=True) | settings
    today = timezone.localdate().isoformat()
    papers = folder / "today.jsonl"
    papers.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"2612.0000{n}",
                    "title": f"{LONG_TITLE} ({n})",
                    "abstract": "We study how a list of papers looks with a picture of each. " * 4
                    + (f"Code: https://github.com/lab/paper-{n}." if n % 2 else ""),
                    "authors": ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
                    "categories": ["cs.LG"],
                    "primary_category": "cs.LG",
                    "first_listed": today,
                    "last_seen": today,
                }
            )
            + "\n"
            for n in range(1, 7)
        )
    )
    subprocess.run([*RUN, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*RUN, "load-jsonl", str(papers)], env=env, check=True, capture_output=True)
    link = "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2612.00005.png"
    subprocess.run(
        [
            *RUN,
            "shell",
            "-c",
            "from paperfeed.papers.models import Paper, PaperExtras; "
            f"PaperExtras.objects.create(paper=Paper.objects.get(external_id='2612.00005'), hf_thumbnail_url='{link}')",
        ],
        env=env,
        check=True,
    )
    made = subprocess.run([*RUN, "thumbnails"], env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Made 5 thumbnails; 1 papers have none." in made.stdout  # 2612.00006: the replay server has no PDF
    site = start_site(data, "--no-worker", env=settings)
    yield site
    site.stop()
    server.stop()


def test_cards_with_thumbnails_on_a_phone_in_dark_mode(thumbnail_site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True)
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda response: response.status >= 400 and failed.append(f"{response.status} {response.url}"))
    page.goto(thumbnail_site.url + "/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the list scrolls sideways on a phone"
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == "rgb(15, 17, 21)"
    cards = page.locator("article.card")
    assert cards.count() == 6
    thumbs = page.locator("article.card img.card-thumb")
    assert thumbs.count() == 5
    alts = set()
    bare = []
    for i in range(6):
        card = cards.nth(i)
        thumb = card.locator("img.card-thumb")
        if thumb.count() == 0:
            bare.append(card)
            continue
        thumb.scroll_into_view_if_needed()  # loading="lazy": fetched as it comes near the screen
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        assert thumb.get_attribute("loading") == "lazy"
        assert int(thumb.get_attribute("width")) == 320 and int(thumb.get_attribute("height")) > 0
        alts.add(thumb.get_attribute("alt"))
        box, card_box = thumb.bounding_box(), card.bounding_box()
        title_box = card.locator(".card-title").bounding_box()
        assert card_box["x"] <= box["x"] and box["x"] + box["width"] <= card_box["x"] + card_box["width"]
        assert title_box["x"] + title_box["width"] <= box["x"], "the title runs under the thumbnail"
        assert 60 <= box["width"] <= 90 and box["height"] <= 100  # small beside the text on a phone
        assert thumb.evaluate("img => getComputedStyle(img).filter") == "brightness(0.85)"  # dimmed in the dark
    assert alts == {"First page of the paper", "The paper's thumbnail on Hugging Face"}

    badges = page.locator("article.card a.code-badge")  # papers 1, 3 and 5 name their code in the abstract
    assert badges.count() == 3
    for i in range(3):
        badge = badges.nth(i)
        badge.scroll_into_view_if_needed()
        assert badge.is_visible() and badge.get_attribute("href").startswith("https://github.com/lab/paper-")
        card_box, box = badge.locator("xpath=ancestor::article").bounding_box(), badge.bounding_box()
        assert card_box["x"] <= box["x"] and box["x"] + box["width"] <= card_box["x"] + card_box["width"]
        assert badge.evaluate("a => getComputedStyle(a).color") == "rgb(230, 232, 235)"  # light text in the dark
    [bare] = bare
    assert bare.locator(".card-title").bounding_box()["width"] > 0.85 * bare.bounding_box()["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "thumbnails-phone-dark.png", full_page=True)

    page.goto(thumbnail_site.url + "/papers/2612.00001")
    image = page.locator('meta[property="og:image"]').get_attribute("content")
    assert image.startswith(thumbnail_site.url + "/thumbnails/pdf-")
    assert failed == [], f"resources that did not load: {failed}"
    context.close()
