"""Issue 17's journey in real Chromium against `paperfeed serve` (with its worker), real email (aiosmtpd) and a real
chat receiver on 127.0.0.1: two members form a reading group, share a collection, one mentions the other in a
comment; the other sees the bell and gets the email, marks the paper read; and the group's Slack-format webhook
receives this week's reading when the cron's `paperfeed digest send` runs."""

import json
import subprocess
import sys
from html import unescape

import pytest
from conftest import ARTIFACTS, site_env
from playwright.sync_api import expect
from replay import ReplayServer, Reply
from test_notifications_browser import members_site, sign_in

pytestmark = pytest.mark.browser

PAPER, TITLE = "2606.00002", "Graph Transformers at Scale"
SLACK_HOOK = "/services/T000/B000/XXXX"  # the path of a Slack incoming webhook's address


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    chat = ReplayServer().start()
    chat.route(SLACK_HOOK, Reply(b"ok", 200, content_type="text/plain"))
    # The receiver is on loopback, which a real site refuses as a webhook's address.
    served = members_site(tmp_path_factory, "together-site", {"PAPERFEED_WEBHOOK_ALLOW_LOOPBACK": "1"})
    served.chat = chat
    yield served
    served.stop()
    chat.stop()


def test_two_members_read_together(site, page, browser):
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    # Ada forms a group and makes an invitation link.
    sign_in(page, site, "ada")
    page.goto(site.url + "/groups")
    page.get_by_label("Name").fill("Graph reading club")
    page.get_by_role("button", name="Create group").click()
    expect(page.locator("h1")).to_contain_text("Graph reading club")
    group_url = page.url
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Make an invitation").click()
    link = page.get_by_label("Invitation link").input_value()
    assert link.startswith(site.url + "/groups/join/")

    # Grace joins with it.
    context = browser.new_context()
    grace = context.new_page()
    grace.on("console", lambda m: m.type == "error" and errors.append(m.text))
    sign_in(grace, site, "grace")
    grace.goto(link)
    grace.get_by_role("button", name="Join Graph reading club").click()
    expect(grace.locator("#members")).to_contain_text("@grace")

    # Ada shares a collection with the group, saves the paper to it and pins it as this week's reading.
    page.goto(group_url)
    page.locator("#collection-name").fill("Club shelf")
    page.get_by_role("button", name="Create collection").click()
    page.goto(f"{site.url}/papers/{PAPER}")
    page.locator("summary", has_text="Save to collection").click()
    page.get_by_role("button", name="Add to Club shelf (Graph reading club)").click()
    expect(page.locator("details.save-to-collection")).to_contain_text("In Club shelf")
    page.goto(group_url)
    page.get_by_label("Paper to pin for this week").fill(PAPER)
    page.locator("#pin-note").fill("Section 3 for Thursday")
    page.get_by_role("button", name="Pin", exact=True).click()
    expect(page.locator("#this-week")).to_contain_text(TITLE)
    grace.goto(group_url)  # Grace sees the shared collection and the pin on the group's page
    expect(grace.locator("#collections")).to_contain_text("Club shelf")
    expect(grace.locator("#this-week")).to_contain_text(TITLE)

    # Ada mentions Grace in the group's private discussion under the paper.
    page.goto(f"{site.url}/papers/{PAPER}")
    field = page.get_by_label("Add a comment for Graph reading club")
    field.fill("@grace this is our pick for Thursday: see section 3.")
    page.locator("form", has=field).get_by_role("button", name="Post comment").click()
    expect(page.locator(".comment a.mention")).to_have_attribute("href", "/users/grace")

    # Grace gets the email and sees the bell; she opens the notification and marks the paper read.
    message = site.inbox.wait_for("grace@example.org")
    assert "@ada mentioned you" in message["Subject"] and TITLE in message["Subject"]
    assert f"{site.url}/papers/{PAPER}#comment-" in message.get_body(("plain",)).get_content()
    grace.goto(site.url + "/")
    bell = grace.locator("a.bell")
    expect(bell).to_contain_text("1 unread notification")
    bell.click()
    grace.get_by_role("button", name=f"@ada mentioned you in a comment on “{TITLE}”").click()
    expect(grace.locator("a.bell")).to_contain_text("no unread notifications")
    grace.get_by_role("button", name="Mark as read").click()
    expect(grace.locator(".read-mark")).to_contain_text("Read")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    grace.screenshot(path=ARTIFACTS / "reading-together.png", full_page=True)

    # Ada posts the group's reading to its Slack channel: the webhook form from the group's page.
    page.goto(group_url)
    page.get_by_role("link", name="Post the weekly reading and additions").click()
    page.get_by_label("Name").fill("#graph-club")
    page.get_by_label("Webhook address").fill(site.chat.url + SLACK_HOOK)
    page.get_by_label("Slack", exact=True).check()
    expect(page.get_by_label("a reading group's weekly reading and additions")).to_be_checked()  # from the group's page
    page.locator("#id_group").select_option(label="Graph reading club")
    page.get_by_label("Daily", exact=True).check()
    page.get_by_label("Post after").select_option(label="00:00")
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("body")).to_contain_text("Webhook added")

    # The cron's run posts this week's reading to the group's channel, once.
    env = site_env(site.data, {**site.env, "PATH": "/usr/bin:/bin"})
    for _ in range(2):
        run = subprocess.run(
            [sys.executable, "-m", "paperfeed", "digest", "send"], env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
    [request] = site.chat.requests_to(SLACK_HOOK)
    payload = json.loads(request.body)
    assert "Graph reading club" in payload["text"]
    blocks = unescape(json.dumps(payload["blocks"], ensure_ascii=False))
    assert "This week's reading" in blocks and TITLE in blocks and "Section 3 for Thursday" in blocks
    assert f"{site.url}/papers/{PAPER}" in blocks
    context.close()
    assert errors == []
