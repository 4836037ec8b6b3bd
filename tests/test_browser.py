"""A visitor's journey in real Chromium (Debian's), driven by Playwright, against `paperfeed serve`."""

import re

import pytest
from conftest import ARTIFACTS
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_daily_list_paper_katex_and_search(demo_site, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(demo_site.url + "/")
    expect(page.locator("h1")).to_contain_text("Wednesday, 1 July 2026")
    cards = page.locator("article.card")
    expect(cards).to_have_count(50)
    expect(page.locator("p.count")).to_contain_text("300 papers")
    page.screenshot(path=ARTIFACTS / "daily.png", full_page=False)

    page.get_by_role("link", name="Previous day").click()
    expect(page).to_have_url(re.compile(r"\?date=2026-06-30$"))
    expect(page.locator("h1")).to_contain_text("Tuesday, 30 June 2026")

    # Open a paper whose abstract has LaTeX: its card already shows rendered math.
    card = page.locator("article.card", has=page.locator(".katex")).first
    title = card.locator("h3 a")
    href = title.get_attribute("href")
    title.click()
    expect(page).to_have_url(demo_site.url + href)
    expect(page.locator("h1.paper-title .katex").first).to_be_visible()
    abstract = page.locator(".abstract-full")
    expect(abstract.locator(".katex").first).to_be_visible()
    assert "$" not in abstract.inner_text().replace("\\$", "")  # every formula was typeset
    expect(page.get_by_role("link", name="PDF")).to_have_attribute("href", re.compile(r"^https://arxiv.org/pdf/2606\."))

    page.get_by_label("Search papers").fill("MLP")
    page.get_by_label("Search papers").press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=MLP"))
    expect(page.locator("#results p.count")).to_contain_text("results")
    # Hybrid by default: the first papers are about MLPs, found by the word and by meaning.
    expect(page.locator("input[name=mode][value=hybrid]")).to_be_checked()
    for card in page.locator("#results article.card").all()[:3]:
        expect(card.locator("mark").first).to_have_text(re.compile("^(MLPs?|multi-?layer perceptrons?)$", re.I))
    assert page.locator("#results mark").count() >= 10
    page.screenshot(path=ARTIFACTS / "search-mlp.png")


def test_live_search_updates_results_in_place(demo_site, page):
    page.goto(demo_site.url + "/search?q=gaussian")
    page.locator("#q").fill("gaussian splatting")
    expect(page.locator("#results p.count")).to_contain_text("results", timeout=10_000)
    expect(page).to_have_url(re.compile(r"q=gaussian(\+|%20)splatting"))
    assert re.fullmatch(r"gaussians?|splatting", page.locator("#results mark").first.inner_text().lower())
    page.get_by_label("by meaning").check()
    expect(page).to_have_url(re.compile(r"mode=semantic"))
    expect(page.locator("#results article.card").first).to_contain_text("Gaussian")
    assert page.locator("text=Search by meaning is not available").count() == 0
    page.locator("select[name=category]").select_option("cs.GR")
    expect(page).to_have_url(re.compile(r"category=cs.GR"))
    for category in page.locator("#results a.category").all_inner_texts():
        assert category  # every card still names its category
    expect(page.locator("#results p.count")).to_contain_text("result")


def test_phone_width_and_dark_mode(demo_site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True)
    page = context.new_page()
    for path in ["/", "/papers/2606.31716", "/search?q=diffusion", "/trending"]:
        page.goto(demo_site.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
    page.goto(demo_site.url + "/")
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(15, 17, 21)"
    page.screenshot(path=ARTIFACTS / "daily-phone-dark.png")
    context.close()


def test_everything_works_without_javascript(demo_site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(demo_site.url + "/?date=2026-06-30")
    page.get_by_role("link", name="Previous day").click()
    expect(page).to_have_url(re.compile(r"\?date=2026-06-29$"))
    page.get_by_role("link", name="Week").click()
    expect(page.locator("h1")).to_contain_text("Week 27, 2026")
    page.locator("#date").fill("2026-06-15")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("h1")).to_contain_text("Monday, 15 June 2026")
    page.get_by_label("Search papers").fill("MLP")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results mark").first).to_have_text(re.compile("^(MLPs?|multi-?layer perceptrons?)$", re.I))
    context.close()
