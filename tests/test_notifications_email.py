"""Notification emails through a real SMTP server (aiosmtpd on 127.0.0.1, as the digest tests): at once, in the
daily summary or never, by kind as each member chooses; each exactly once, under two senders at once and after a
sender died holding a claim; and the one-click unsubscribe link of every email (valid, forged, replayed)."""

import io
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import member, signed_in
from django.core import signing
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from test_digest_send import Inbox, MailServer

from paperfeed.community.models import AuthorClaim, Comment
from paperfeed.community.services import people
from paperfeed.notifications.models import Delivery, EmailPreferences, Notification, Topic
from paperfeed.notifications.services import links, sending
from paperfeed.papers.models import Author, DailyEntry, Paper

SITE = "https://papers.example.org"
SENDER = "paperfeed <notify@papers.example.org>"
PAPER = "2606.00002"
TITLE = "Graph Transformers at Scale"


@pytest.fixture
def smtp(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.PAPERFEED_SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = SENDER
    server = MailServer(settings)
    yield server
    server.stop_all()


def paper() -> Paper:
    return Paper.objects.get(arxiv_id=PAPER)


def post(client: Client, body: str, parent: Comment | None = None) -> Comment:
    data = {"body": body} | ({"parent": str(parent.pk)} if parent is not None else {})
    assert client.post(f"/papers/{PAPER}/comments", data).status_code == 303
    return Comment.objects.latest("id")


def choose(user, **choices: str) -> None:
    EmailPreferences.objects.update_or_create(user=user, defaults=choices)


def send_daily(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("notifications", "send-daily", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    return status, out.getvalue(), err.getvalue()


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def mail_server_away(settings) -> None:
    """The site's mail server does not answer (until smtp.start() points the settings at one that does)."""
    from conftest import free_port

    settings.EMAIL_PORT = free_port()


def tomorrow() -> str:
    return (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%MZ")


# --- at once ---


@pytest.mark.django_db
def test_a_reply_is_emailed_at_once_saying_who_did_what_on_which_paper(corpus, smtp):
    inbox = smtp.start()
    ada, bob = member("ada"), member("bob")
    first = post(signed_in(ada), "What about sparse attention?")
    reply = post(signed_in(bob), "It scales, see *section 4*.", parent=first)
    [message] = inbox.messages
    assert message["To"] == "ada@example.org" and message["From"] == SENDER
    assert message["Subject"].strip() == f"paperfeed: @bob replied to your comment on “{TITLE}”"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].strip().startswith(f"<{SITE}/notifications/unsubscribe/")
    text = text_of(message)
    assert f"@bob replied to your comment on “{TITLE}”" in text
    assert "“It scales, see *section 4*.”" in text
    assert f"Read it: {SITE}/papers/{PAPER}#comment-{reply.pk}" in text
    assert f"Stop emails about replies to your comments: {SITE}/notifications/unsubscribe/" in text
    html = html_of(message)
    assert f'<a href="{SITE}/papers/{PAPER}#comment-{reply.pk}"' in html and TITLE in html
    notification = Notification.objects.get()
    assert notification.emailed_at is not None and notification.email_plan == Delivery.NOW


@pytest.mark.django_db
def test_a_mention_and_a_claim_decision_are_emailed_at_once_by_default(corpus, smtp):
    inbox = smtp.start()
    ada = member("ada")
    post(signed_in(member("bob")), "Thoughts, @Ada?")
    claim = AuthorClaim.objects.create(user=ada, paper=paper(), author=Author.objects.get(name="Barbara Liskov"))
    people.decide_claims(AuthorClaim.objects.filter(pk=claim.pk), approve=False)
    assert [m["Subject"].strip() for m in inbox.messages] == [
        f"paperfeed: @bob mentioned you in a comment on “{TITLE}”",
        f"paperfeed: A moderator did not confirm you as Barbara Liskov on “{TITLE}”",
    ]
    assert f"{SITE}/papers/{PAPER}#claim" in text_of(inbox.messages[1])


@pytest.mark.django_db
def test_never_sends_nothing_and_no_confirmed_address_sends_nothing(corpus, smtp):
    inbox = smtp.start()
    ada, grace = member("ada"), member("grace", verified=False)
    choose(ada, mention=Delivery.NEVER)
    post(signed_in(member("bob")), "@ada and @grace")
    assert inbox.messages == []
    assert dict(Notification.objects.values_list("recipient__username", "email_plan")) == {
        "ada": "never",
        "grace": "never",
    }
    assert Notification.objects.get(recipient=grace).email_error == "the member has no confirmed email address"
    assert send_daily("--now", tomorrow())[0] == 0 and inbox.messages == []


# --- the daily summary ---


@pytest.mark.django_db
def test_comments_on_ones_paper_wait_for_the_one_daily_summary(corpus, smtp):
    inbox = smtp.start()
    ada = member("ada")
    DailyEntry.objects.create(paper=paper(), day=timezone.localdate(), source="submission", submitted_by=ada)
    for name in ("bob", "carol", "dan"):
        post(signed_in(member(name)), f"Comment by {name}.")
    assert inbox.messages == [], "comments on one's papers are daily by default"
    status, out, _ = send_daily()  # today's notifications wait for tomorrow's summary
    assert status == 0 and inbox.messages == [] and "Daily summaries: 0 emails sent" in out
    status, out, _ = send_daily("--now", tomorrow())
    assert status == 0 and "Daily summaries: 1 email sent (3 notifications), 0 not sent" in out
    [message] = inbox.messages
    assert message["Subject"].strip() == f"paperfeed: 3 notifications — @bob commented on your paper “{TITLE}”"
    text = text_of(message)
    for name in ("bob", "carol", "dan"):
        assert f"* @{name} commented on your paper “{TITLE}”" in text and f"Comment by {name}." in text
    assert "Stop emails about new comments on papers you submitted or wrote:" in text
    assert send_daily("--now", tomorrow())[0] == 0 and len(inbox.messages) == 1, "one summary a day"
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


@pytest.mark.django_db
def test_the_summary_leaves_out_what_was_read_and_follows_changed_choices(corpus, smtp):
    inbox = smtp.start()
    ada = member("ada")
    choose(ada, reply=Delivery.DAILY, mention=Delivery.DAILY)
    first = post(signed_in(ada), "Mine.")
    post(signed_in(member("bob")), "A reply.", parent=first)
    post(signed_in(member("carol")), "Hey @ada")
    post(signed_in(member("dan")), "Hey again @ada")
    assert inbox.messages == []
    Notification.objects.filter(actor__username="carol").update(read_at=timezone.now())
    choose(ada, reply=Delivery.DAILY, mention=Delivery.NEVER)  # dan's mention is no longer wanted
    send_daily("--now", tomorrow())
    [message] = inbox.messages
    assert message["Subject"].strip() == f"paperfeed: 1 notification — @bob replied to your comment on “{TITLE}”"
    assert "Hey" not in text_of(message)
    dan = Notification.objects.get(actor__username="dan")
    assert dan.emailed_at is None and dan.email_plan == Delivery.NEVER


# --- exactly once ---


@pytest.mark.django_db
def test_two_claims_on_the_same_rows_get_each_row_once(corpus, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ada = member("ada")
    choose(ada, mention=Delivery.DAILY)
    for name in ("bob", "carol"):
        post(signed_in(member(name)), "@ada")
    rows = Notification.objects.all()
    first_token, first = sending.claim(rows)
    second_token, second = sending.claim(rows)
    assert len(first) == 2 and second == [] and first_token != second_token
    sending.release(first_token, first[:1])
    _, third = sending.claim(rows)
    assert [n.pk for n in third] == [first[0].pk]


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_email_each_notification_once(corpus, smtp, settings):
    mail_server_away(settings)  # the emails of the comment wait: then two senders race for them
    readers = [member(f"reader{n}") for n in range(12)]
    post(signed_in(member("bob")), " ".join(f"@{r.username}" for r in readers))
    assert not Notification.objects.filter(email_claimed_at__isnull=False).exists()
    ids = list(Notification.objects.values_list("id", flat=True))
    inbox = smtp.start(Inbox(delay=0.01))
    results = []

    def sender():
        try:
            results.append(sending.send_at_once(ids))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.messages for r in results) == 12
    assert sum(r.messages + r.taken for r in results) == 24
    assert sorted(m["To"] for m in inbox.messages) == sorted(r.email for r in readers)
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_sender_is_taken_over_once_stale(corpus, smtp, settings):
    mail_server_away(settings)
    ada, grace = member("ada"), member("grace")
    post(signed_in(member("bob")), "@ada @grace")
    inbox = smtp.start()
    long_ago = timezone.now() - timedelta(minutes=30)
    Notification.objects.update(created=long_ago)
    Notification.objects.filter(recipient=ada).update(email_claimed_at=long_ago, email_claim="dead")
    Notification.objects.filter(recipient=grace).update(email_claimed_at=timezone.now(), email_claim="alive")
    status, out, _ = send_daily()
    assert status == 0 and "Owed at once: 1 email sent (1 notifications)" in out
    assert [m["To"] for m in inbox.messages] == ["ada@example.org"]
    assert send_daily()[0] == 0 and len(inbox.messages) == 1
    assert Notification.objects.get(recipient=grace).emailed_at is None


@pytest.mark.django_db
def test_a_mail_server_away_leaves_the_email_owed_and_it_goes_once_when_back(corpus, smtp, settings):
    mail_server_away(settings)
    ada = member("ada")
    post(signed_in(member("bob")), "@ada are you there?")
    notification = Notification.objects.get()
    assert notification.emailed_at is None and notification.email_claimed_at is None
    status, out, _ = send_daily("--now", (timezone.now() + timedelta(minutes=5)).isoformat())
    assert status == 1 and "1 not sent" in out
    inbox = smtp.start()
    later = (timezone.now() + timedelta(minutes=6)).isoformat()
    assert send_daily("--now", later)[0] == 0 and send_daily("--now", later)[0] == 0
    assert [m["To"] for m in inbox.messages] == [ada.email]


@pytest.mark.django_db
def test_an_address_refused_for_good_is_not_tried_again(corpus, smtp):
    inbox = smtp.start(Inbox(refuse=("ada@example.org",)))
    member("ada")
    post(signed_in(member("bob")), "@ada")
    notification = Notification.objects.get()
    assert notification.email_plan == Delivery.NEVER and "550" in notification.email_error
    assert send_daily("--now", tomorrow())[0] == 0 and inbox.messages == []


# --- unsubscribe ---


def unsubscribe_path(message) -> str:
    return message["List-Unsubscribe"].strip().strip("<>").removeprefix(SITE)


@pytest.mark.django_db
def test_the_one_click_unsubscribe_turns_that_kind_off_without_a_session(corpus, smtp):
    inbox = smtp.start()
    ada = member("ada")
    first = post(signed_in(ada), "Mine.")
    post(signed_in(member("bob")), "A reply.", parent=first)
    address = unsubscribe_path(inbox.messages[0])
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(address)
    assert page.status_code == 200 and "Stop these emails?" in page.content.decode()
    assert EmailPreferences.objects.filter(user=ada).first() is None, "a GET changes nothing"
    # What a mail client does (RFC 8058): a POST with this body, no cookie, no CSRF token.
    response = browser.post(address, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "These emails are off" in response.content.decode()
    prefs = EmailPreferences.objects.get(user=ada)
    assert (prefs.reply, prefs.mention) == (Delivery.NEVER, Delivery.NOW), "only that kind"
    replayed = browser.post(address, {"List-Unsubscribe": "One-Click"})
    assert replayed.status_code == 200 and "These emails were already off" in replayed.content.decode()
    assert "already off" in browser.get(address).content.decode()
    post(signed_in(member("carol")), "Another reply.", parent=first)
    assert len(inbox.messages) == 1


@pytest.mark.django_db
def test_the_summary_unsubscribe_turns_off_every_kind_it_held(corpus, smtp):
    inbox = smtp.start()
    ada = member("ada")
    choose(ada, reply=Delivery.DAILY, mention=Delivery.DAILY)
    first = post(signed_in(ada), "Mine.")
    post(signed_in(member("bob")), "@ada a reply", parent=first)
    post(signed_in(member("carol")), "A reply.", parent=first)
    send_daily("--now", tomorrow())
    [message] = inbox.messages
    assert Client().post(unsubscribe_path(message)).status_code == 200
    prefs = EmailPreferences.objects.get(user=ada)
    assert (prefs.reply, prefs.mention, prefs.paper_comment, prefs.claim) == ("never", "never", "daily", "now")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "",
        signing.dumps([1, ["reply"]], salt="paperfeed.digests.links.unsubscribe"),  # another purpose's signature
        signing.dumps([1, ["everything"]], salt="paperfeed.notifications.unsubscribe"),  # a topic that is none
        signing.dumps(["1", ["reply"]], salt="paperfeed.notifications.unsubscribe"),
        signing.dumps([1, []], salt="paperfeed.notifications.unsubscribe"),
        signing.dumps({"user": 1}, salt="paperfeed.notifications.unsubscribe"),
    ],
)
def test_forged_or_tampered_links_are_a_400_and_change_nothing(corpus, token):
    member("ada")
    for method in ("get", "post"):
        response = getattr(Client(), method)(f"/notifications/unsubscribe/{token}")
        assert response.status_code in (400, 404)
        if response.status_code == 400:
            assert "This link does not work" in response.content.decode()
    assert not EmailPreferences.objects.exists()


@pytest.mark.django_db
def test_a_link_altered_by_one_character_or_for_a_deleted_account_does_not_work(corpus):
    ada = member("ada")
    token = links.unsubscribe_token(ada, [Topic.MENTION])
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert Client().post(f"/notifications/unsubscribe/{altered}").status_code == 400
    ada.delete()
    response = Client().post(f"/notifications/unsubscribe/{token}")
    assert response.status_code == 400 and "no longer exists" in response.content.decode()


# --- the cron line ---


def test_the_cron_line_in_the_docs_is_the_command_that_exists():
    operations = (Path(__file__).parent.parent / "docs" / "operations.md").read_text()
    assert re.search(r"^\d+ \d+ \* \* \* .*paperfeed notifications send-daily$", operations, re.M)


@pytest.mark.django_db
def test_a_now_that_is_not_a_time_is_a_usage_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as error:
        call_command("notifications", "send-daily", "--now", "yesterday")
    assert error.value.returncode == 2
