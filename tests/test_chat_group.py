"""A reading group's webhook (issue 17, items 2 and 5): its owners and editors add it from the group's page; each
delivery posts the week's pinned reading and what editors added to the group's collections, each paper once; the
group's other members and everyone else cannot see, test or change it.

Against a real receiver on 127.0.0.1 (tests/replay.py), sent by `paperfeed digest send` as the cron does.
"""

import json
from datetime import date, datetime

import pytest
from conftest import member, signed_in
from test_chat_send import OK, posted, send

from paperfeed.community.models import CollectionItem, Membership
from paperfeed.community.services import groups
from paperfeed.community.services.collections import create_collection, set_paper
from paperfeed.digests.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

MORNING = "2026-07-02T08:00Z"  # a Thursday: the week of Monday 29 June
NEXT_MORNING = "2026-07-03T08:00Z"
PINNED, ADDED, LATER_ADDED = "2606.00005", "2606.00008", "2606.00001"


@pytest.fixture
def receiver(settings):
    from replay import ReplayServer

    settings.PAPERFEED_WEBHOOK_ALLOW_LOOPBACK = True
    settings.PAPERFEED_WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.PAPERFEED_SITE_URL = "https://papers.example.org"
    server = ReplayServer().start()
    server.route("/slack", OK)
    yield server
    server.stop()


@pytest.fixture
def lab(corpus):
    """The Lab: ada owns it, eve edits, bob is a member; mallory is in no group."""
    ada, eve, bob, mallory = member("ada"), member("eve"), member("bob"), member("mallory")
    group = groups.create_group(ada, "The <Lab> & friends")
    Membership.objects.create(group=group, user=eve, role="editor")
    Membership.objects.create(group=group, user=bob, role="member")
    return group, ada, eve, bob, mallory


def add_group_webhook(client, group, url: str):
    return client.post(
        "/digest/chat",
        {
            "label": "#lab",
            "url": url,
            "kind": "slack",
            "content": "group",
            "group": str(group.pk),
            "schedule": "daily",
            "weekday": "0",
            "hour": "7",
            "time_zone": "UTC",
        },
    )


def added_at(paper_address: str, when: str) -> None:
    moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
    CollectionItem.objects.filter(paper__arxiv_id=paper_address).update(added_at=moment)


def section_texts(payload: dict) -> str:
    return "\n".join(b["text"]["text"] for b in payload["blocks"] if b["type"] == "section")


def test_the_groups_slack_webhook_gets_the_weeks_reading_and_the_additions_once(lab, receiver):
    group, ada, eve, bob, _ = lab
    page = signed_in(eve).get(f"/groups/{group.slug}").content.decode()
    assert f'href="/digest/chat?group={group.pk}#add"' in page  # editors are offered it on the group's page
    assert "group" in signed_in(eve).get(f"/digest/chat?group={group.pk}").content.decode()
    response = add_group_webhook(signed_in(eve), group, receiver.url + "/slack")
    assert response.status_code == 302, response.content.decode()[:3000]
    webhook = Webhook.objects.get()
    assert (webhook.group_id, webhook.owner_id, webhook.content) == (group.pk, eve.pk, "group")

    groups.pin(ada, group, PINNED, note="Read §3 before Friday", on_date=date(2026, 7, 2))
    shelf = create_collection(eve, "Lab shelf", group=group)
    set_paper(eve, shelf, ADDED, add=True)
    added_at(ADDED, "2026-07-02T06:00Z")
    status, out, err = send("--now", MORNING)
    assert status == 0, err
    [payload] = posted(receiver, "/slack")
    text = section_texts(payload)
    assert "The &lt;Lab&gt; &amp; friends" in payload["text"]  # the group's name, escaped for Slack
    assert "This week's reading" in json.dumps(payload) and "Added to the group's collections" in json.dumps(payload)
    assert f"/papers/{PINNED}|" in text and "pinned by @ada: Read §3 before Friday" in text
    assert f"/papers/{ADDED}|" in text and "added to Lab shelf by @eve" in text
    assert WebhookDelivery.objects.get().paper_count == 2

    # The next day: the pin and the earlier addition are not posted again; a new addition is, alone.
    set_paper(eve, shelf, LATER_ADDED, add=True)
    added_at(LATER_ADDED, "2026-07-03T07:30Z")
    status, out, err = send("--now", NEXT_MORNING)
    assert status == 0, err
    second = posted(receiver, "/slack")[1]
    text = section_texts(second)
    assert f"/papers/{LATER_ADDED}|" in text
    assert f"/papers/{PINNED}|" not in text and f"/papers/{ADDED}|" not in text
    assert "This week's reading" not in json.dumps(second)
    # A third run the same day posts nothing more.
    send("--now", "2026-07-03T09:00Z")
    assert len(posted(receiver, "/slack")) == 2


def test_only_the_groups_owners_and_editors_manage_its_webhooks(lab, receiver):
    group, ada, eve, bob, mallory = lab
    add_group_webhook(signed_in(eve), group, receiver.url + "/slack")
    webhook = Webhook.objects.get()
    # The owner sees the editor's webhook and may test it; a plain member and an outsider cannot even see it.
    assert signed_in(ada).get(f"/digest/chat/{webhook.pk}").status_code == 200
    assert signed_in(ada).post(f"/digest/chat/{webhook.pk}/test").status_code == 302
    assert len(receiver.requests_to("/slack")) == 1
    for outsider in (bob, mallory):
        client = signed_in(outsider)
        assert "#lab" not in client.get("/digest/chat").content.decode()
        assert client.get(f"/digest/chat/{webhook.pk}").status_code == 404
        assert client.post(f"/digest/chat/{webhook.pk}/test").status_code == 404
        assert client.post(f"/digest/chat/{webhook.pk}/delete").status_code == 404
        # Nor may they add one for the group: the group is not among their choices.
        refused = add_group_webhook(client, group, receiver.url + "/slack")
        assert refused.status_code == 400
    assert Webhook.objects.count() == 1 and len(receiver.requests_to("/slack")) == 1
    # An editor made a member loses the webhook with the role.
    Membership.objects.filter(group=group, user=eve).update(role="member")
    assert signed_in(eve).get(f"/digest/chat/{webhook.pk}").status_code == 404


def test_a_group_webhook_with_nothing_new_posts_nothing(lab, receiver):
    group, ada, eve, *_ = lab
    add_group_webhook(signed_in(ada), group, receiver.url + "/slack")
    status, out, _ = send("--now", MORNING)
    assert status == 0 and "empty 1" in out
    assert posted(receiver, "/slack") == []
    assert WebhookDelivery.objects.get().status == "empty"
