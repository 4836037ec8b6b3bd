"""The chat delivery pages (/digest/chat): adding webhooks with precise refusals, the test button showing the
receiver's answer, a paused webhook's reason, the JSON secret, and permissions (another member's webhooks are a 404
for every view; CSRF)."""

import json

import pytest
from conftest import digest_subscription, member, signed_in
from django.test import Client
from django.urls import reverse
from replay import ReplayServer, Reply

from paperfeed.community.models import Interests
from paperfeed.digests.models import Webhook


@pytest.fixture
def receiver(settings):
    settings.PAPERFEED_WEBHOOK_ALLOW_LOOPBACK = True
    settings.PAPERFEED_WEBHOOK_TIMEOUT_SECONDS = 0.5
    server = ReplayServer().start()
    yield server
    server.stop()


def form(url: str, **fields) -> dict:
    return {
        "label": "#papers",
        "url": url,
        "kind": "slack",
        "content": "digest",
        "schedule": "daily",
        "weekday": "0",
        "hour": "7",
        "time_zone": "Europe/Paris",
        **fields,
    }


@pytest.mark.django_db
def test_a_member_adds_a_webhook_and_sees_it_listed(receiver):
    ada = member("ada")
    client = signed_in(ada)
    page = client.get(reverse("chat"))
    assert page.status_code == 200 and "You have no webhook yet." in page.content.decode()
    assert 'value="email"' not in page.content.decode(), "no email digest: no “as my email digest” schedule"
    response = client.post(reverse("chat"), form(receiver.url + "/slack"))
    webhook = Webhook.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("chat-webhook", args=[webhook.pk])
    assert (webhook.owner, webhook.kind, webhook.content, webhook.time_zone) == (ada, "slack", "digest", "Europe/Paris")
    assert webhook.secret == ""
    listed = client.get(reverse("chat")).content.decode()
    assert "#papers" in listed and "your digest" in listed and "every day after 07:00 Europe/Paris" in listed
    assert reverse("chat") in client.get(reverse("digest-settings")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://example.org/hook", "Only https:// addresses are accepted"),
        ("https://10.0.0.1/hook", "10.0.0.1 is a private network address"),
        ("https://2130706433/hook", "2130706433 resolves to 127.0.0.1, a loopback address"),
        ("https://user:pw@example.org/hook", "user name or password"),
        ("not a url", "spaces or control characters"),
        ("https://example.org/" + "x" * 490, "at most 500 characters"),
    ],
)
def test_refused_addresses_are_explained_on_the_form(receiver, url, words):
    client = signed_in(member("ada"))
    response = client.post(reverse("chat"), form(url))
    assert response.status_code == 400
    assert words in response.content.decode().replace("&#x27;", "'")
    assert not Webhook.objects.exists()


@pytest.mark.django_db
def test_localhost_is_refused_unless_loopback_is_allowed(receiver, settings):
    settings.PAPERFEED_WEBHOOK_ALLOW_LOOPBACK = False
    client = signed_in(member("ada"))
    response = client.post(reverse("chat"), form("https://localhost/hook"))
    assert response.status_code == 400 and "localhost resolves to" in response.content.decode()
    assert "a loopback address" in response.content.decode()


@pytest.mark.django_db
def test_a_json_webhook_gets_a_secret_shown_on_its_page(receiver):
    client = signed_in(member("ada"))
    client.post(reverse("chat"), form(receiver.url + "/json", kind="json"))
    webhook = Webhook.objects.get()
    assert webhook.secret.startswith("pfwh_") and len(webhook.secret) > 40
    page = client.get(reverse("chat-webhook", args=[webhook.pk])).content.decode()
    assert webhook.secret in page and "X-Paperfeed-Signature" in page
    old = webhook.secret
    client.post(reverse("chat-webhook-secret", args=[webhook.pk]))
    webhook.refresh_from_db()
    assert webhook.secret != old and webhook.secret.startswith("pfwh_")


@pytest.mark.django_db
def test_a_saved_search_webhook_chooses_one_of_the_members_searches(receiver):
    ada = member("ada")
    Interests.objects.create(user=ada, saved_searches=[{"q": "diffusion", "mode": "semantic"}])
    client = signed_in(ada)
    response = client.post(reverse("chat"), form(receiver.url + "/s", content="saved-search"))
    assert response.status_code == 400 and "Choose which saved search" in response.content.decode()
    client.post(reverse("chat"), form(receiver.url + "/s", content="saved-search", saved_search="semantic:diffusion"))
    webhook = Webhook.objects.get()
    assert (webhook.content, webhook.search_q, webhook.search_mode) == ("saved-search", "diffusion", "semantic")
    bob = signed_in(member("bob"))
    response = bob.post(reverse("chat"), form(receiver.url + "/s", content="saved-search"))
    assert "You have no saved search yet" in response.content.decode()


@pytest.mark.django_db
def test_the_as_my_email_digest_schedule_is_offered_to_subscribers(receiver):
    ada = member("ada")
    digest_subscription("ada@example.org", user=ada, frequency="weekly", weekday=2, hour=9, status="active")
    client = signed_in(ada)
    client.post(reverse("chat"), form(receiver.url + "/s", schedule="email"))
    assert "on Wednesdays after 09:00 UTC (as your email digest)" in client.get(reverse("chat")).content.decode()


@pytest.mark.django_db
def test_the_test_button_posts_at_once_and_shows_the_answer(receiver):
    receiver.route("/slack", Reply(b"ok", 200, content_type="text/plain"))
    receiver.route("/gone", Reply(b"no_service", 404, content_type="text/plain"))
    client = signed_in(member("ada"))
    client.post(reverse("chat"), form(receiver.url + "/slack"))
    client.post(reverse("chat"), form(receiver.url + "/gone", kind="discord"))
    slack, gone = Webhook.objects.order_by("id")
    page = client.post(reverse("chat-webhook-test", args=[slack.pk]), follow=True).content.decode()
    assert "The test message was delivered: HTTP 200 OK: ok." in page
    payload = json.loads(receiver.requests_to("/slack")[0].body)
    assert payload["blocks"][0]["text"]["text"] == "Test message from paperfeed"
    page = client.post(reverse("chat-webhook-test", args=[gone.pk]), follow=True).content.decode()
    assert "The test message was not delivered: HTTP 404 Not Found: no_service: the receiver says" in page
    gone.refresh_from_db()
    assert gone.last_test_result.startswith("Not delivered: HTTP 404") and gone.status == "active"


@pytest.mark.django_db
def test_a_paused_webhook_shows_why_and_resumes_when_its_address_changes(receiver):
    client = signed_in(member("ada"))
    client.post(reverse("chat"), form(receiver.url + "/gone"))
    webhook = Webhook.objects.get()
    Webhook.objects.filter(pk=webhook.pk).update(status="paused", paused_reason="HTTP 410 Gone: channel_is_archived")
    assert "HTTP 410 Gone: channel_is_archived" in client.get(reverse("chat")).content.decode()
    assert "Nothing is posted: HTTP 410 Gone" in client.get(reverse("chat-webhook", args=[webhook.pk])).content.decode()
    client.post(reverse("chat-webhook", args=[webhook.pk]), form(receiver.url + "/new"))
    webhook.refresh_from_db()
    assert webhook.status == "active" and webhook.url.endswith("/new") and webhook.paused_reason == ""


@pytest.mark.django_db
def test_another_member_cannot_see_test_edit_or_delete_my_webhook(receiver):
    receiver.route("/mine", Reply(b"ok", 200, content_type="text/plain"))
    ada, bob = member("ada"), member("bob")
    signed_in(ada).post(reverse("chat"), form(receiver.url + "/mine", label="ada-secret-channel"))
    webhook = Webhook.objects.get()
    intruder = signed_in(bob)
    assert "ada-secret-channel" not in intruder.get(reverse("chat")).content.decode()
    assert intruder.get(reverse("chat-webhook", args=[webhook.pk])).status_code == 404
    for name in (
        "chat-webhook",
        "chat-webhook-test",
        "chat-webhook-resume",
        "chat-webhook-secret",
        "chat-webhook-delete",
    ):
        response = intruder.post(reverse(name, args=[webhook.pk]), form("https://example.org/x"))
        assert response.status_code == 404, name
    webhook.refresh_from_db()
    assert webhook.url.endswith("/mine") and receiver.requests == []
    # Not signed in: the sign-in page, nothing done.
    response = Client().post(reverse("chat-webhook-delete", args=[webhook.pk]))
    assert response.status_code == 302 and "/accounts/" in response["Location"]
    assert Webhook.objects.filter(pk=webhook.pk).exists()


@pytest.mark.django_db
def test_posts_without_the_csrf_token_are_refused(receiver):
    ada = member("ada")
    signed_in(ada).post(reverse("chat"), form(receiver.url + "/mine"))
    webhook = Webhook.objects.get()
    client = signed_in(ada, enforce_csrf_checks=True)
    assert client.post(reverse("chat"), form(receiver.url + "/other")).status_code == 403
    assert client.post(reverse("chat-webhook-delete", args=[webhook.pk])).status_code == 403
    assert client.post(reverse("chat-webhook-test", args=[webhook.pk])).status_code == 403
    assert Webhook.objects.count() == 1 and receiver.requests == []


@pytest.mark.django_db
def test_deleting_a_webhook(receiver):
    client = signed_in(member("ada"))
    client.post(reverse("chat"), form(receiver.url + "/mine"))
    webhook = Webhook.objects.get()
    response = client.post(reverse("chat-webhook-delete", args=[webhook.pk]), follow=True)
    assert "The webhook is deleted" in response.content.decode() and not Webhook.objects.exists()


@pytest.mark.django_db
def test_the_export_names_a_members_webhooks_and_notification_emails_but_no_address_or_secret(corpus, settings):
    settings.PAPERFEED_WEBHOOK_ALLOW_LOOPBACK = True
    ada, bob = member("ada"), member("bob")
    address = "http://127.0.0.1:9/services/T000/B000/SECRETPATHTOKEN"
    Webhook.objects.create(owner=ada, label="#lab", url=address, kind="json", secret="pfwh_the-signing-secret")
    Webhook.objects.create(owner=bob, label="#bobs", url=address, kind="slack")
    chosen = {"reply": "daily", "mention": "now", "paper-comment": "never", "claim": "now"}
    assert signed_in(ada).post("/notifications/settings", chosen).status_code == 302
    response = signed_in(ada).get("/accounts/export.json")
    text = response.content.decode()
    data = json.loads(text)
    assert [(h["label"], h["kind"], h["content"]) for h in data["chat_webhooks"]] == [("#lab", "json", "digest")]
    assert "SECRETPATHTOKEN" not in text and "the-signing-secret" not in text and "#bobs" not in text
    assert data["notification_emails"] == chosen
