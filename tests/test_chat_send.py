"""Chat delivery through `paperfeed digest send` to a real receiver on 127.0.0.1 (tests/replay.py's
ThreadingHTTPServer, recording every request): exactly once across runs and concurrent runs, retries after 500,
429 and a slow receiver, a killed run's stale claim, a pause on 404, the JSON body's signature, and the URL checked
again at sending time.

The corpus is listed on 2026-06-26, 06-29, 06-30 and 07-01; at MORNING (2 July, 08:00 UTC) a daily delivery due at
07:00 UTC holds 1 July's list, where cs.LG has 2606.00005 (Diffusion Policies…) and 2606.00008.
"""

import hashlib
import hmac
import io
import json
import re
import threading
import uuid
from datetime import timedelta

import pytest
from conftest import member
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from replay import ReplayServer, Reply

from paperfeed.community.models import Interests
from paperfeed.digests.models import Webhook, WebhookDelivery
from paperfeed.papers.models import Paper

SITE = "https://papers.example.org"
MORNING = "2026-07-02T08:00Z"
LATER = "2026-07-02T09:30Z"
OK = Reply(b"ok", 200, content_type="text/plain")


@pytest.fixture
def receiver(settings):
    settings.PAPERFEED_WEBHOOK_ALLOW_LOOPBACK = True
    settings.PAPERFEED_WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.PAPERFEED_SITE_URL = SITE
    server = ReplayServer().start()
    yield server
    server.stop()


def ada(categories=("cs.LG",), searches=()):
    user = member("ada")
    Interests.objects.update_or_create(
        user=user, defaults={"categories": list(categories), "saved_searches": list(searches)}
    )
    return user


def hook(owner, server: ReplayServer, path: str, kind: str = "slack", **fields) -> Webhook:
    server.route(path, *fields.pop("replies", [OK]))
    secret = "pfwh_test-secret" if kind == "json" else ""
    return Webhook.objects.create(owner=owner, url=server.url + path, kind=kind, secret=secret, **fields)


def send(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("digest", "send", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    return status, out.getvalue(), err.getvalue()


def chat_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("Chat"))


def posted(server: ReplayServer, path: str) -> list[dict]:
    return [json.loads(r.body) for r in server.requests_to(path)]


# --- delivered, once ---


@pytest.mark.django_db
def test_a_digest_reaches_slack_once_across_two_runs(corpus, receiver):
    webhook = hook(ada(), receiver, "/slack")
    status, out, err = send("--now", MORNING)
    assert status == 0, err
    assert chat_line(out) == "Chat: sent 1, empty 0, failed 0, not sent 0."
    [request] = receiver.requests_to("/slack")
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["X-Paperfeed-Delivery"] == str(uuid.uuid5(webhook.uid, "daily:2026-07-02"))
    payload = json.loads(request.body)
    assert payload["text"] == "paperfeed daily digest · Thursday 2 July 2026: 2 papers"
    text = "\n".join(b["text"]["text"] for b in payload["blocks"] if b["type"] == "section")
    assert f"<{SITE}/papers/2606.00005|Diffusion Policies for Robot Manipulation>" in text
    assert f"<{SITE}/papers/2606.00008|" in text and "in cs.LG" in text
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.key, delivery.paper_count) == ("sent", "daily:2026-07-02", 2)
    assert delivery.answer == "HTTP 200 OK: ok"

    status, out, _ = send("--now", LATER)
    assert status == 0 and chat_line(out) == "Chat: sent 0, empty 0, failed 0, not sent 0."
    # The next day's list adds nothing new: nothing is posted, and the day is recorded as empty.
    status, out, _ = send("--now", "2026-07-03T08:00Z")
    assert chat_line(out) == "Chat: sent 0, empty 1, failed 0, not sent 0."
    assert len(receiver.requests_to("/slack")) == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_never_post_a_delivery_twice(corpus, receiver):
    owner = ada()
    for n in range(12):
        hook(owner, receiver, f"/hook{n}", replies=[Reply(b"ok", 200, delay=0.02, content_type="text/plain")])
    results = []

    def run():
        try:
            results.append(send("--now", MORNING))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _, _ in results] == [0, 0]
    sent = [int(re.search(r"Chat: sent (\d+),", out)[1]) for _, out, _ in results]
    assert sum(sent) == 12
    assert sorted(r.path for r in receiver.requests) == sorted(f"/hook{n}" for n in range(12))
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_500_is_retried_by_the_next_run_with_the_same_delivery_id(corpus, receiver):
    webhook = hook(ada(), receiver, "/discord", kind="discord", replies=[Reply(b"oops", 500), Reply(b"", 204)])
    status, out, err = send("--now", MORNING)
    assert status == 1 and chat_line(out) == "Chat: sent 0, empty 0, failed 0, not sent 1."
    assert "not posted, the next run tries again: HTTP 500" in err
    assert not WebhookDelivery.objects.exists(), "the claim was given back"
    webhook.refresh_from_db()
    assert webhook.status == "active" and webhook.last_error.startswith("HTTP 500")

    status, out, _ = send("--now", "2026-07-02T08:15Z")
    assert status == 0 and chat_line(out) == "Chat: sent 1, empty 0, failed 0, not sent 0."
    first, second = receiver.requests_to("/discord")
    assert first.headers["X-Paperfeed-Delivery"] == second.headers["X-Paperfeed-Delivery"]
    assert first.body == second.body
    webhook.refresh_from_db()
    assert webhook.last_error == ""


@pytest.mark.django_db
def test_a_429_waits_for_its_retry_after(corpus, receiver):
    webhook = hook(ada(), receiver, "/slack", replies=[Reply(b"rate_limited", 429, headers={"Retry-After": "120"}), OK])
    status, out, err = send("--now", MORNING)
    assert status == 1 and "not sent 1" in chat_line(out) and "asked to wait 120 s" in err
    webhook.refresh_from_db()
    assert webhook.retry_not_before > timezone.now() + timedelta(seconds=100)

    status, out, _ = send("--now", "2026-07-02T08:15Z")  # too soon: not even tried
    assert status == 0 and len(receiver.requests_to("/slack")) == 1
    Webhook.objects.filter(pk=webhook.pk).update(retry_not_before=timezone.now() - timedelta(seconds=1))
    status, out, _ = send("--now", "2026-07-02T08:30Z")
    assert status == 0 and chat_line(out) == "Chat: sent 1, empty 0, failed 0, not sent 0."
    assert len(receiver.requests_to("/slack")) == 2


@pytest.mark.django_db
def test_a_slow_receiver_is_given_up_on_and_tried_again(corpus, receiver):
    hook(ada(), receiver, "/slow", replies=[Reply(b"ok", 200, delay=1.5, content_type="text/plain"), OK])
    status, out, err = send("--now", MORNING)
    assert status == 1 and "not sent 1" in chat_line(out)
    assert "did not answer within 0.5 s" in err
    status, out, _ = send("--now", "2026-07-02T08:15Z")
    assert status == 0 and "Chat: sent 1," in out
    assert WebhookDelivery.objects.get().status == "sent"


@pytest.mark.django_db
def test_a_claim_left_by_a_killed_run_is_taken_over_once_stale(corpus, receiver):
    owner = ada()
    stale = hook(owner, receiver, "/stale")
    live = hook(owner, receiver, "/live")
    now = timezone.now()
    WebhookDelivery.objects.create(webhook=stale, key="daily:2026-07-02", claimed_at=now - timedelta(minutes=20))
    WebhookDelivery.objects.create(webhook=live, key="daily:2026-07-02", claimed_at=now - timedelta(minutes=1))
    status, out, _ = send("--now", MORNING)
    assert status == 0 and chat_line(out) == "Chat: sent 1, empty 0, failed 0, not sent 0."
    assert [r.path for r in receiver.requests] == ["/stale"]
    assert dict(WebhookDelivery.objects.values_list("webhook_id", "status")) == {stale.pk: "sent", live.pk: "claimed"}


# --- refused for good ---


@pytest.mark.django_db
def test_a_404_pauses_the_webhook_with_the_reason(corpus, receiver):
    webhook = hook(ada(), receiver, "/gone", replies=[Reply(b"no_service", 404, content_type="text/plain")])
    other = hook(webhook.owner, receiver, "/fine")
    status, out, err = send("--now", MORNING)
    assert status == 1 and chat_line(out) == "Chat: sent 1, empty 0, failed 1, not sent 0."
    webhook.refresh_from_db()
    assert webhook.status == "paused"
    assert webhook.paused_reason.startswith("HTTP 404 Not Found: no_service: the receiver says this webhook does not")
    assert "refused for good, the webhook is paused" in err
    assert WebhookDelivery.objects.get(webhook=webhook).status == "failed"
    assert WebhookDelivery.objects.get(webhook=other).status == "sent"
    # Paused: the next day it is not tried.
    send("--now", "2026-07-03T08:00Z")
    assert len(receiver.requests_to("/gone")) == 1


@pytest.mark.django_db
def test_a_redirect_is_not_followed_and_pauses(corpus, receiver):
    webhook = hook(ada(), receiver, "/moved", replies=[Reply(b"", 301, headers={"Location": "http://10.0.0.1/x"})])
    send("--now", MORNING)
    webhook.refresh_from_db()
    assert webhook.status == "paused" and "webhooks never follow redirects" in webhook.paused_reason
    assert [r.path for r in receiver.requests] == ["/moved"]


@pytest.mark.django_db
def test_the_address_is_checked_again_when_sending(corpus, receiver, settings):
    webhook = hook(ada(), receiver, "/hook")
    settings.PAPERFEED_WEBHOOK_ALLOW_LOOPBACK = False  # as on a real site: 127.0.0.1 is not a public address
    status, out, _ = send("--now", MORNING)
    assert status == 1 and "failed 1" in chat_line(out)
    webhook.refresh_from_db()
    assert webhook.status == "paused" and "Only https:// addresses are accepted" in webhook.paused_reason
    assert receiver.requests == []


# --- what is posted ---


@pytest.mark.django_db
def test_the_json_body_is_signed_and_carries_its_headers(corpus, receiver):
    webhook = hook(ada(), receiver, "/json", kind="json")
    assert send("--now", MORNING)[0] == 0
    [request] = receiver.requests_to("/json")
    expected = "sha256=" + hmac.new(webhook.secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Paperfeed-Signature"] == expected
    body = json.loads(request.body)
    assert body["delivery"] == request.headers["X-Paperfeed-Delivery"] == str(uuid.uuid5(webhook.uid, body["period"]))
    assert body["sent_at"].endswith("Z") and request.headers["X-Paperfeed-Timestamp"].isdigit()
    assert body["event"] == "digest" and body["period"] == "daily:2026-07-02" and body["paper_count"] == 2
    assert [p["id"] for s in body["sections"] for p in s["papers"]] == ["2606.00005", "2606.00008"]
    assert body["sections"][0]["papers"][0]["url"] == f"{SITE}/papers/2606.00005"


@pytest.mark.django_db
def test_a_saved_search_webhook_posts_its_new_matches_once(corpus, receiver):
    owner = ada(categories=(), searches=[{"q": "diffusion", "mode": "keyword"}])
    hook(
        owner,
        receiver,
        "/search",
        kind="mattermost",
        content="saved-search",
        search_q="diffusion",
        search_mode="keyword",
    )
    assert send("--now", MORNING)[0] == 0
    [payload] = posted(receiver, "/search")
    assert (
        "[Diffusion Policies for Robot Manipulation](https://papers.example.org/papers/2606.00005)" in payload["text"]
    )
    assert "2606.00008" not in payload["text"]
    assert payload["text"].startswith("#### New on paperfeed for “diffusion”")
    assert "Chat: sent 0, empty 1," in send("--now", "2026-07-03T08:00Z")[1]


@pytest.mark.django_db
def test_a_saved_search_the_member_removed_pauses_its_webhook(corpus, receiver):
    webhook = hook(ada(), receiver, "/search", content="saved-search", search_q="diffusion", search_mode="keyword")
    assert send("--now", MORNING)[0] == 1
    webhook.refresh_from_db()
    assert webhook.status == "paused" and "no longer among your saved searches" in webhook.paused_reason
    assert receiver.requests == []


@pytest.mark.django_db
def test_a_hostile_title_reaches_discord_as_plain_text(corpus, receiver):
    Paper.objects.filter(external_id="2606.00005").update(title="@everyone [free](https://evil.example) <@1>")
    hook(ada(), receiver, "/discord", kind="discord")
    assert send("--now", MORNING)[0] == 0
    [payload] = posted(receiver, "/discord")
    assert payload["allowed_mentions"] == {"parse": []}
    description = payload["embeds"][0]["description"]
    assert "@everyone" not in description and "](https://evil" not in description and "<@1>" not in description


@pytest.mark.django_db
def test_weekly_and_as_my_email_digest_schedules(corpus, receiver):
    from conftest import digest_subscription

    owner = ada()
    digest_subscription("ada@example.org", user=owner, frequency="weekly", weekday=3, status="active")
    hook(owner, receiver, "/email-schedule", schedule=Webhook.Schedule.EMAIL)
    hook(owner, receiver, "/friday", schedule=Webhook.Schedule.WEEKLY, weekday=4)
    send("--now", MORNING)  # Thursday 2 July: the email digest's day, not Friday
    assert [r.path for r in receiver.requests] == ["/email-schedule"]
    assert WebhookDelivery.objects.get().key == "weekly:2026-W27"
    send("--now", "2026-07-03T08:00Z")
    assert [r.path for r in receiver.requests] == ["/email-schedule", "/friday"]


@pytest.mark.django_db
def test_dry_run_posts_and_records_nothing(corpus, receiver):
    hook(ada(), receiver, "/slack")
    status, out, _ = send("--now", MORNING, "--dry-run")
    assert status == 0 and "Chat dry run: 1 due; 1 would be posted, 0 have nothing new." in out
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_a_site_without_webhooks_says_nothing_about_chat(corpus, receiver):
    status, out, _ = send("--now", MORNING)
    assert status == 0 and "Chat" not in out


@pytest.mark.django_db
def test_the_documented_verifier_and_schema_match_what_is_sent(corpus, receiver):
    from pathlib import Path

    docs = (Path(__file__).parent.parent / "docs" / "webhooks.md").read_text()
    verifier = re.search(r"```python\n(.*?)```", docs, re.S)[1]
    assert len(verifier.strip().splitlines()) <= 5
    namespace: dict = {}
    exec(verifier, namespace)  # noqa: S102 - the documentation's own snippet
    webhook = hook(ada(), receiver, "/json", kind="json")
    send("--now", MORNING)
    [request] = receiver.requests_to("/json")
    assert namespace["verified"](webhook.secret, request.body, request.headers["X-Paperfeed-Signature"])
    assert not namespace["verified"]("another secret", request.body, request.headers["X-Paperfeed-Signature"])
    documented = json.loads(re.search(r"```json\n(.*?)```", docs, re.S)[1])
    body = json.loads(request.body)
    assert set(documented) == set(body)
    assert set(documented["sections"][0]) == set(body["sections"][0])
    assert set(documented["sections"][0]["papers"][0]) == set(body["sections"][0]["papers"][0])
