"""Notifications in real Chromium against `paperfeed serve` (with its worker): a member picks @grace from the
autocomplete in the comment form; Grace gets the email from the worker, sees the bell's count, opens the
notification from the plain page, and the count is gone. No JavaScript error, no blocked resource (the CSP holds)."""

import subprocess
import sys

import pytest
from aiosmtpd.controller import Controller
from conftest import ARTIFACTS, SMALL, free_port, site_env, start_site
from playwright.sync_api import expect
from test_browser_community import Inbox

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"
MEMBERS = (
    "from django.contrib.auth.models import User\n"
    "from paperfeed.community.models import Profile\n"
    "for name, display in [('ada', 'Ada Lovelace'), ('grace', 'Grace Hopper'), ('gregor', '')]:\n"
    f"    user = User.objects.create_user(name, name + '@example.org', {PASSWORD!r})\n"
    "    Profile.objects.create(user=user, email_verified=True, display_name=display)\n"
)


def members_site(tmp_path_factory, name: str, env: dict | None = None):
    """`paperfeed serve` (with its worker) on the small corpus, with ada, grace and gregor (password PASSWORD,
    confirmed addresses) and a real SMTP server whose messages are in the returned site's `inbox`; stop it with
    `stop()`, which stops the SMTP server too. `env` adds settings."""
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    env = {
        "PAPERFEED_EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "PAPERFEED_SITE_URL": f"http://127.0.0.1:{port}",
        **(env or {}),
    }
    data = tmp_path_factory.mktemp(name) / "data"
    data.mkdir()
    for command in (
        [sys.executable, "-m", "paperfeed", "migrate", "-v0"],
        [sys.executable, "-m", "paperfeed", "load-jsonl", str(SMALL)],
        [sys.executable, "-m", "paperfeed", "shell", "-c", MEMBERS],
    ):
        subprocess.run(command, env=site_env(data, {**env, "PATH": "/usr/bin:/bin"}, migrated=True), check=True)
    served = start_site(data, "--no-demo", env=env, port=port)
    served.inbox, served.data, served.env = inbox, data, env
    stop_site = served.stop

    def stop() -> None:
        stop_site()
        smtp.stop()

    served.stop = stop
    return served


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    served = members_site(tmp_path_factory, "notify-site")
    yield served
    served.stop()


def sign_in(page, site, username: str) -> None:
    page.goto(site.url + "/accounts/signin")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("header.site")).to_contain_text(username)


def test_a_mention_picked_from_the_suggestions_reaches_the_bell_the_page_and_the_inbox(site, page, browser):
    sign_in(page, site, "ada")
    page.goto(site.url + "/papers/2606.00002")
    field = page.get_by_label("Add a comment")
    field.click()
    field.press_sequentially("Have a look, @gr", delay=20)
    options = page.get_by_role("listbox", name="Members to mention").get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("@grace")
    expect(options.first).to_contain_text("Grace Hopper")
    field.press("Enter")
    expect(page.locator(".mention-list")).to_have_count(0)
    expect(field).to_have_value("Have a look, @grace ")
    field.press_sequentially("it is on graphs.")
    page.get_by_role("button", name="Post comment").click()
    comment = page.locator(".comment").filter(has_text="it is on graphs")
    expect(comment.locator("a.mention")).to_have_attribute("href", "/users/grace")

    message = site.inbox.wait_for("grace@example.org")
    assert message["Subject"].strip() == "paperfeed: @ada mentioned you in a comment on “Graph Transformers at Scale”"
    assert f"{site.url}/papers/2606.00002#comment-" in message.get_body(("plain",)).get_content()

    context = browser.new_context()
    grace = context.new_page()
    errors: list[str] = []
    grace.on("console", lambda m: m.type == "error" and errors.append(m.text))
    sign_in(grace, site, "grace")
    bell = grace.locator("a.bell")
    expect(bell).to_contain_text("1 unread notification")
    bell.click()
    expect(grace.locator("h1")).to_contain_text("1 unread")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    grace.screenshot(path=ARTIFACTS / "notifications.png", full_page=True)
    grace.get_by_role("button", name="@ada mentioned you in a comment on “Graph Transformers at Scale”").click()
    expect(grace).to_have_url(f"{site.url}/papers/2606.00002#comment-" + grace.url.rsplit("-", 1)[-1])
    expect(grace.locator("a.bell")).to_contain_text("no unread notifications")
    context.close()
    assert errors == []
