"""A member's journey in real Chromium against `paperfeed serve`, with real email (aiosmtpd) and a replayed arXiv.

Sign up, confirm the email from the message the SMTP server received, upvote, comment with LaTeX, submit a paper
that arXiv (replayed) knows, find it on today's list, and see the vote on /trending. Then hostile names, comments
and abstracts are shown and no script runs.
"""

import email
import email.policy
import re
import subprocess
import sys
import threading

import pytest
from aiosmtpd.controller import Controller
from conftest import ARTIFACTS, SMALL, free_port, site_env, start_site
from playwright.sync_api import expect
from replay import ReplayServer, Reply

pytestmark = pytest.mark.browser

ARXIV_API = "arxiv_api/query_cat-cs.CL_max3_2026-09-24.xml"  # holds 2609.28471
SUBMITTED, SUBMITTED_TITLE = "2609.28471", "Contrastive Learning for Authorship Verification"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


class Inbox:
    """An aiosmtpd handler keeping every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.arrived:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, to: str, timeout: float = 20) -> email.message.EmailMessage:
        def found():
            return next((m for m in self.messages if to in m["To"]), None)

        with self.arrived:
            self.arrived.wait_for(found, timeout)
        message = found()
        assert message is not None, f"no email to {to}; got {[m['To'] for m in self.messages]}"
        return message


@pytest.fixture(scope="module")
def member_site(tmp_path_factory):
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    arxiv = ReplayServer().start()
    arxiv.route("/api/query", Reply.fixture(ARXIV_API))
    port = free_port()
    env = {
        "PAPERFEED_EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "PAPERFEED_SITE_URL": f"http://127.0.0.1:{port}",
        "PAPERFEED_ARXIV_API_URL": arxiv.url + "/api/query",
        "PAPERFEED_ARXIV_DELAY_SECONDS": "0",
    }
    data = tmp_path_factory.mktemp("member-site") / "data"
    data.mkdir()
    load = (
        [sys.executable, "-m", "paperfeed", "migrate", "-v0"],
        [sys.executable, "-m", "paperfeed", "load-jsonl", str(SMALL)],
    )
    for command in load:
        subprocess.run(command, env=site_env(data, {**env, "PATH": "/usr/bin:/bin"}, migrated=True), check=True)
    site = start_site(data, "--no-demo", env=env, port=port)
    site.inbox = inbox
    yield site
    site.stop()
    arxiv.stop()
    smtp.stop()


def test_sign_up_confirm_vote_comment_submit_and_trend(member_site, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    site = member_site
    page.goto(site.url + "/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Email", exact=True).fill("grace@example.org")
    page.get_by_label("Password").fill("compilers-since-1952")
    page.get_by_label("Display name").fill("Grace Hopper")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("body")).to_contain_text("Check your inbox")

    message = site.inbox.wait_for("grace@example.org")
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(rf"{re.escape(site.url)}/accounts/verify/\S+", body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm grace@example.org").click()
    expect(page.locator("body")).to_contain_text("confirmed")

    # Upvote a paper from its page: htmx swaps the button in place.
    page.goto(site.url + "/papers/2606.00002")
    title = page.locator("h1").inner_text()
    vote = page.locator("form.vote button").first
    expect(vote).to_have_attribute("aria-pressed", "false")
    vote.click()
    expect(page.locator("form.vote button").first).to_have_attribute("aria-pressed", "true")
    expect(page.locator("form.vote button").first).to_contain_text("1")

    # Comment with LaTeX: it is typeset by KaTeX.
    page.get_by_label("Add a comment").fill("The bound $O(n \\log n)$ is **tight**, see section 3.")
    page.get_by_role("button", name="Post comment").click()
    comment = page.locator(".comment").filter(has_text="tight")
    expect(comment.locator(".katex").first).to_be_visible()
    expect(comment).to_contain_text("@grace")
    page.screenshot(path=ARTIFACTS / "paper-with-comment.png", full_page=True)

    # Submit a paper the site does not have: fetched from (replayed) arXiv, listed today with its submitter.
    page.get_by_role("link", name="Submit").click()
    page.get_by_label("arXiv id or link").fill(f"https://arxiv.org/abs/{SUBMITTED}v1")
    page.get_by_role("button", name="Submit").last.click()
    card = page.locator("article.card").filter(has_text=SUBMITTED_TITLE)
    expect(card).to_be_visible()
    expect(card).to_contain_text("@grace")
    page.goto(site.url + "/")
    expect(page.locator("article.card").filter(has_text=SUBMITTED_TITLE)).to_be_visible()

    # The upvote counts on /trending.
    page.goto(site.url + "/trending")
    trending = page.locator("article.card").first
    expect(trending).to_contain_text(title)
    expect(trending.locator("form.vote button")).to_have_attribute("aria-pressed", "true")


def test_hostile_names_comments_and_abstracts_run_no_script(member_site, browser):
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(member_site.url + "/accounts/signup")
    page.get_by_label("Username").fill("mallory")
    page.get_by_label("Email", exact=True).fill("mallory@example.org")
    page.get_by_label("Password").fill("not-so-secret-2026")
    page.get_by_label("Display name").fill(XSS[:100])
    page.get_by_role("button", name="Create account").click()
    message = member_site.inbox.wait_for("mallory@example.org")
    link = re.search(r"http://\S+/accounts/verify/\S+", message.get_body(("plain",)).get_content()).group(0)
    page.goto(link)
    page.get_by_role("button", name=re.compile("^Confirm")).click()

    # The small corpus's hostile paper: <script> in its title, <img onerror> and a javascript: \href in its abstract.
    page.goto(member_site.url + "/search?q=hostile&mode=keyword")
    page.locator("article.card h3 a").first.click()
    page.get_by_label("Add a comment").fill(
        f"{XSS} and [click](javascript:window.__xss=1) and $\\href{{javascript:window.__xss=1}}{{x}}$"
    )
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".comment").filter(has_text="click")).to_be_visible()
    for path in ["", "/users/mallory", "/", "/search?q=hostile"]:
        if path:
            page.goto(member_site.url + path)
        hrefs = [a.get_attribute("href") or "" for a in page.locator("a").all()]
        assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")], path
        assert page.evaluate("window.__xss") is None, path
    assert dialogs == []
    context.close()
