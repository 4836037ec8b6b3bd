"""`paperfeed digest send` against a real SMTP server (aiosmtpd on 127.0.0.1): each digest exactly once.

The received messages are parsed with the `email` package. The corpus is listed on 2026-06-26, 06-29, 06-30 and
07-01; at MORNING (2 July, 08:00 UTC) the daily digests due at 07:00 UTC hold 1 July's list.
"""

import contextlib
import email
import email.policy
import io
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import SMALL, digest_subscription, free_port, site_env
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from paperfeed.digests.models import Delivery, Subscription
from paperfeed.digests.services import links, sending
from paperfeed.digests.services.compose import compose_for
from paperfeed.digests.services.render import DigestRenderer
from paperfeed.papers.models import Paper

SITE = "https://papers.example.org"
SENDER = "paperfeed <digest@papers.example.org>"
MORNING = "2026-07-02T08:00Z"
ON_1_JULY = ["2606.00005", "2606.00006", "2606.00008"]  # cs.RO+cs.LG, cs.CR, cs.CL+cs.IR+cs.LG


class Inbox:
    """An aiosmtpd handler keeping what it is sent; it can refuse addresses, or close down after n messages."""

    def __init__(
        self,
        refuse: tuple[str, ...] = (),
        close_after: int | None = None,
        delay: float = 0.0,
        defer: tuple[str, ...] = (),
        defer_once: bool = False,
    ) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.defer, self.defer_once, self.deferred = defer, defer_once, []
        self.envelopes: list[list[str]] = []
        self.sessions: set[int] = set()
        self.refuse, self.close_after, self.delay = refuse, close_after, delay
        self.closing = False
        self.controller: Controller | None = None
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        if address in self.defer and not (self.defer_once and address in self.deferred):
            self.deferred.append(address)
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.closing:
            return "421 4.3.2 Service shutting down"
        if self.delay:
            time.sleep(self.delay)  # keeps two concurrent runs interleaved
        with self.lock:
            self.sessions.add(id(session))
            self.envelopes.append(list(envelope.rcpt_tos))
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            if self.close_after is not None and len(self.messages) >= self.close_after:
                # The server goes away: later messages are turned down, then it stops listening altogether.
                self.closing = True
                threading.Thread(target=self.controller.stop, daemon=True).start()
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class MailServer:
    def __init__(self, settings) -> None:
        self.settings = settings
        self.controllers: list[Controller] = []

    def start(self, inbox: Inbox | None = None) -> Inbox:
        """A fresh server on a new port, which the site's settings now point to."""
        inbox = inbox or Inbox()
        port = free_port()
        inbox.controller = Controller(inbox, hostname="127.0.0.1", port=port)
        inbox.controller.start()
        self.controllers.append(inbox.controller)
        self.settings.EMAIL_PORT = port
        return inbox

    def stop_all(self) -> None:
        for controller in self.controllers:
            with contextlib.suppress(AssertionError):  # already stopped
                controller.stop()


@pytest.fixture
def smtp(settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.PAPERFEED_SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = SENDER
    monkeypatch.setattr(sending, "RETRY_DELAYS", (0.05, 0.1, 0.2))
    server = MailServer(settings)
    yield server
    server.stop_all()


def subscriber(email_address: str, **preferences) -> Subscription:
    preferences = {"top_trending": 0, "categories": ["cs.LG"], "status": Subscription.Status.ACTIVE, **preferences}
    return digest_subscription(email_address, **preferences)


def send(*args: str) -> tuple[int, str, str]:
    """`paperfeed digest send ARGS` in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("digest", "send", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit:
        status = exit.code
    return status, out.getvalue(), err.getvalue()


def statuses() -> dict[str, str]:
    return dict(Delivery.objects.values_list("subscription__email", "status"))


# --- the message ---


@pytest.mark.django_db
def test_a_digest_arrives_as_a_well_formed_multipart_email(corpus, smtp):
    inbox = smtp.start()
    subscription = subscriber("ada@example.org", categories=["cs.LG", "cs.CR"])
    status, out, _ = send("--now", MORNING)
    assert status == 0 and "Digests: sent 1, empty 0, failed 0, not sent 0." in out
    [message] = inbox.to("ada@example.org")

    assert message["From"] == SENDER
    assert message["Subject"].startswith("paperfeed: ") and message["Subject"].endswith(" and 2 more")
    assert abs(parsedate_to_datetime(message["Date"]) - timezone.now()) < timedelta(minutes=5)
    delivery = Delivery.objects.get(subscription=subscription)
    assert (delivery.status, delivery.period) == ("sent", "daily:2026-07-02")
    message_id = message["Message-ID"].strip()  # long headers arrive folded
    assert message_id == delivery.message_id and message_id.endswith("@papers.example.org>")
    assert sorted(Paper.objects.get(id=pid).arxiv_id for pid in delivery.papers) == ON_1_JULY

    # RFC 8058 one-click unsubscribe, with a link that names this subscription and nothing else.
    unsubscribe = re.fullmatch(
        r"<(https://papers\.example\.org/digest/unsubscribe/([^>]+))>", message["List-Unsubscribe"].strip()
    )
    assert unsubscribe and links.read_token(unsubscribe[2], "unsubscribe") == subscription
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for arxiv_id in ON_1_JULY:
        assert f"{SITE}/papers/{arxiv_id}" in text
        assert f'href="{SITE}/papers/{arxiv_id}"' in html
    assert "Diffusion Policies for Robot Manipulation" in text and "Diffusion Policies for Robot Manipulation" in html
    # The preferences link names this subscription (read back from the email: a link made again now would carry
    # another second's timestamp).
    manage = re.search(r"https://papers\.example\.org/digest/manage/(\S+)", text)
    assert manage and links.read_token(manage[1], "manage") == subscription and manage[0] in html
    assert unsubscribe[1] in text and unsubscribe[1] in html
    # Dark mode, and the hostile title of 2606.00006 shown as text, never as markup.
    assert '<meta name="color-scheme" content="light dark">' in html and "prefers-color-scheme: dark" in html
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; Robustness of Parsers" in html
    assert "<script" not in html
    assert "<script>alert('title')</script> Robustness of Parsers" in text  # plain text: as written


@pytest.mark.django_db
def test_the_one_click_unsubscribe_post_really_unsubscribes(corpus, smtp):
    inbox = smtp.start()
    subscription = subscriber("ada@example.org")
    send("--now", MORNING)
    [message] = inbox.messages
    url = message["List-Unsubscribe"].strip().strip("<>")
    # What a mail client does (RFC 8058): a POST with this body, no cookie, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(url.removeprefix(SITE), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED
    # And the next morning nothing is due for it.
    status, out, _ = send("--now", "2026-07-03T08:00Z")
    assert status == 0 and "sent 0" in out and len(inbox.messages) == 1


def test_a_title_with_a_line_break_cannot_add_a_header(corpus, settings):
    settings.PAPERFEED_SITE_URL = SITE
    Paper.objects.filter(arxiv_id="2606.00008").update(title="Cross-Lingual\r\nBcc: evil@example.org\r\nRetrieval")
    digest = compose_for(subscriber("ada@example.org", categories=["cs.CL"]), datetime(2026, 7, 2, 8, tzinfo=UTC))
    message = DigestRenderer().message(digest).message()  # Django raises BadHeaderError on a line break
    assert message["Subject"] == "paperfeed: Cross-Lingual Bcc: evil@example.org Retrieval"
    assert message["Bcc"] is None


@pytest.mark.django_db
def test_header_injection_through_titles_searches_and_addresses_goes_nowhere(corpus, smtp):
    inbox = smtp.start()
    Paper.objects.filter(arxiv_id="2606.00008").update(title="Cross-Lingual\r\nBcc: evil@example.org\r\nRetrieval")
    subscriber("ada@example.org", categories=["cs.CL"])
    search = "cross-lingual\r\nBcc: evil@example.org"
    subscriber("grace@example.org", categories=[], saved_searches=[{"q": search, "mode": "keyword"}])
    mallory = subscriber("mallory@example.org\r\nBcc: evil@example.org")  # stored by some other path
    status, out, err = send("--now", MORNING)
    assert status == 1 and "sent 2, empty 0, failed 1, not sent 0" in out
    assert sorted(envelope for envelope in inbox.envelopes) == [["ada@example.org"], ["grace@example.org"]]
    for message in inbox.messages:
        assert message["Bcc"] is None
        assert message["Subject"] == "paperfeed: Cross-Lingual Bcc: evil@example.org Retrieval"
    [grace] = inbox.to("grace@example.org")
    assert "matches “cross-lingual Bcc: evil@example.org”" in grace.get_body(("plain",)).get_content()
    mallory.refresh_from_db()
    assert mallory.status == Subscription.Status.BOUNCED and "not a single valid email address" in mallory.bounce_reason
    assert "refused for good" in err


# --- exactly once ---


@pytest.mark.django_db
def test_a_second_run_sends_nothing_and_one_connection_serves_a_whole_run(corpus, smtp):
    inbox = smtp.start()
    for n in range(5):
        subscriber(f"reader{n}@example.org")
    assert send("--now", MORNING)[1].strip() == "Digests: sent 5, empty 0, failed 0, not sent 0."
    assert len(inbox.sessions) == 1, "one SMTP connection for the batch"
    assert send("--now", "2026-07-02T09:30Z")[1].strip() == "Digests: sent 0, empty 0, failed 0, not sent 0."
    assert len(inbox.messages) == 5


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_never_send_a_digest_twice(corpus, smtp):
    inbox = smtp.start(Inbox(delay=0.01))
    addresses = [f"reader{n}@example.org" for n in range(24)]
    for address in addresses:
        subscriber(address)
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
        thread.join(timeout=120)
    assert [status for status, _, _ in results] == [0, 0]
    sent = [int(re.search(r"sent (\d+),", out)[1]) for _, out, _ in results]
    assert sum(sent) == 24
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)
    assert set(statuses().values()) == {"sent"}


@pytest.mark.django_db
def test_a_mail_server_that_goes_away_mid_run_leaves_exactly_the_rest_for_the_next_run(corpus, smtp):
    first = smtp.start(Inbox(close_after=4))
    addresses = [f"reader{n:02d}@example.org" for n in range(10)]
    for address in addresses:
        subscriber(address)

    status, out, _ = send("--now", MORNING)
    assert status == 1
    assert "Digests: sent 4, empty 0, failed 0, not sent 6 (the mail server stopped answering: " in out
    assert list(statuses().values()).count("sent") == 4 and "claimed" not in statuses().values()

    # Still gone: nothing is sent, nothing is lost.
    status, out, _ = send("--now", "2026-07-02T08:15Z")
    assert status == 1 and "sent 0, empty 0, failed 0, not sent 6 (the mail server stopped answering:" in out
    assert "claimed" not in statuses().values()

    second = smtp.start()
    status, out, _ = send("--now", "2026-07-02T08:30Z")
    assert status == 0 and "sent 6, empty 0, failed 0, not sent 0" in out
    received = [m["To"] for m in first.messages + second.messages]
    assert sorted(received) == addresses, "every subscriber holds exactly one message"


@pytest.mark.django_db
def test_a_permanent_rejection_bounces_that_address_only(corpus, smtp):
    inbox = smtp.start(Inbox(refuse=("gone@example.org",)))
    for address in ("ada@example.org", "gone@example.org", "grace@example.org"):
        subscriber(address)
    status, out, err = send("--now", MORNING)
    assert status == 1 and "sent 2, empty 0, failed 1, not sent 0" in out
    assert "gone@example.org: refused for good, no more digests: 550 5.1.1 <gone@example.org>" in err
    assert sorted(m["To"] for m in inbox.messages) == ["ada@example.org", "grace@example.org"]
    gone = Subscription.objects.get(email="gone@example.org")
    assert gone.status == Subscription.Status.BOUNCED and "550" in gone.bounce_reason
    assert Delivery.objects.get(subscription=gone).status == Delivery.Status.FAILED
    # A week later, with new papers for everyone, the bounced address is not tried again.
    Paper.objects.get(arxiv_id="2606.00002").daily_entries.create(day=datetime(2026, 7, 9).date())
    status, out, _ = send("--now", "2026-07-09T08:00Z")
    assert status == 0 and "sent 2" in out
    assert not inbox.to("gone@example.org") and len(inbox.to("ada@example.org")) == 2


@pytest.mark.django_db
def test_a_temporary_refusal_is_retried_and_the_message_goes_out_once(corpus, smtp):
    inbox = smtp.start(Inbox(defer=("ada@example.org",), defer_once=True))
    subscriber("ada@example.org")
    subscriber("grace@example.org")
    status, out, _ = send("--now", MORNING)
    assert status == 0 and "sent 2, empty 0, failed 0, not sent 0" in out
    assert inbox.deferred == ["ada@example.org"] and len(inbox.to("ada@example.org")) == 1


@pytest.mark.django_db
def test_an_address_refused_for_now_again_and_again_waits_for_the_next_run(corpus, smtp):
    inbox = smtp.start(Inbox(defer=("slow@example.org",)))
    for address in ("ada@example.org", "slow@example.org", "grace@example.org"):
        subscriber(address)
    status, out, err = send("--now", MORNING)
    assert status == 1 and "sent 2, empty 0, failed 0, not sent 1" in out
    assert "slow@example.org: deferred, the next run tries again: 451 4.7.1 Greylisted, try again later" in err
    assert len(inbox.deferred) == 4  # the first try and three retries
    assert "slow@example.org" not in statuses()  # no claim left: the next run sends it
    assert Subscription.objects.get(email="slow@example.org").status == Subscription.Status.ACTIVE
    inbox.defer = ()
    status, out, _ = send("--now", "2026-07-02T08:15Z")
    assert status == 0 and "sent 1," in out and len(inbox.to("slow@example.org")) == 1


@pytest.mark.django_db
def test_a_stop_request_finishes_the_digest_being_sent_and_leaves_the_rest(corpus, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for n in range(6):
        subscriber(f"reader{n}@example.org")
    summary = sending.send_due(datetime(2026, 7, 2, 8, tzinfo=UTC), should_stop=lambda: len(mail.outbox) >= 2)
    assert (summary.sent, summary.not_sent, summary.stopped) == (2, 4, "stopped on request")
    assert sorted(statuses().values()) == ["sent", "sent"]  # the other four claims were given back
    assert sending.send_due(datetime(2026, 7, 2, 8, 15, tzinfo=UTC)).sent == 4 and len(mail.outbox) == 6


@pytest.mark.django_db
def test_a_subscriber_with_nothing_new_gets_no_email_and_the_period_is_done(corpus, smtp):
    inbox = smtp.start()
    subscriber("ada@example.org", categories=["hep-ex"])
    status, out, _ = send("--now", MORNING)
    assert status == 0 and "sent 0, empty 1" in out and inbox.messages == []
    assert statuses() == {"ada@example.org": "empty"}
    assert "empty 0" in send("--now", "2026-07-02T09:00Z")[1]  # not composed again in the same period


@pytest.mark.django_db
def test_a_claim_left_by_a_killed_run_is_taken_over_once_stale(corpus, smtp):
    inbox = smtp.start()
    stale = subscriber("stale@example.org")
    live = subscriber("live@example.org")
    now = timezone.now()
    Delivery.objects.create(subscription=stale, period="daily:2026-07-02", claimed_at=now - timedelta(minutes=20))
    Delivery.objects.create(subscription=live, period="daily:2026-07-02", claimed_at=now - timedelta(minutes=1))
    status, out, _ = send("--now", MORNING)
    assert status == 0 and "sent 1," in out
    assert [m["To"] for m in inbox.messages] == ["stale@example.org"]
    assert statuses() == {"stale@example.org": "sent", "live@example.org": "claimed"}


# --- options ---


@pytest.mark.django_db
def test_dry_run_says_who_would_get_what_and_sends_and_claims_nothing(corpus, smtp):
    inbox = smtp.start()
    subscriber("ada@example.org")
    subscriber("grace@example.org", categories=["hep-ex"])
    status, out, _ = send("--dry-run", "--now", MORNING)
    assert status == 0
    assert "ada@example.org daily:2026-07-02: would send 2 papers: paperfeed: " in out
    assert "grace@example.org daily:2026-07-02: nothing new, no email" in out
    assert "Dry run: 2 digests due; 1 would be sent, 1 have nothing new. Nothing was sent or recorded." in out
    assert inbox.messages == [] and not Delivery.objects.exists()


@pytest.mark.django_db
def test_now_picks_each_subscribers_own_day_across_time_zones(corpus, smtp):
    inbox = smtp.start()
    subscriber("tokyo@example.org", time_zone="Asia/Tokyo")
    subscriber("la@example.org", time_zone="America/Los_Angeles")
    # 21:00 UTC on 1 July: 14:00 in Los Angeles (due), 06:00 on 2 July in Tokyo (not yet).
    assert "sent 1," in send("--now", "2026-07-01T21:00Z")[1]
    assert [m["To"] for m in inbox.messages] == ["la@example.org"]
    # 22:30 UTC: 07:30 in Tokyo, whose 2 July digest is now due; Los Angeles had its 1 July one.
    assert "sent 1," in send("--now", "2026-07-01T22:30:00+00:00")[1]
    assert statuses() == {"la@example.org": "sent", "tokyo@example.org": "sent"}
    periods = dict(Delivery.objects.values_list("subscription__email", "period"))
    assert periods == {"la@example.org": "daily:2026-07-01", "tokyo@example.org": "daily:2026-07-02"}


@pytest.mark.django_db
def test_frequency_limits_the_run_to_daily_or_weekly_digests(corpus, smtp):
    inbox = smtp.start()
    subscriber("daily@example.org")
    subscriber("weekly@example.org", frequency="weekly", weekday=3)  # Thursday 2 July
    assert "sent 1," in send("--frequency", "weekly", "--now", MORNING)[1]
    assert [m["To"] for m in inbox.messages] == ["weekly@example.org"]
    assert Delivery.objects.get().period == "weekly:2026-W27"


@pytest.mark.django_db
def test_a_now_that_is_not_a_time_is_a_usage_error(db):
    with pytest.raises(CommandError, match="is not a date and time") as raised:
        call_command("digest", "send", "--now", "tomorrow")
    assert raised.value.returncode == 2


@pytest.mark.django_db
def test_preview_renders_one_digest_and_sends_nothing(corpus, settings, tmp_path):
    settings.PAPERFEED_SITE_URL = SITE
    subscriber("ada@example.org")
    out = io.StringIO()
    call_command("digest", "preview", "ADA@example.org", "--now", MORNING, stdout=out)
    assert "To: ada@example.org" in out.getvalue() and f"{SITE}/papers/2606.00005" in out.getvalue()
    page = tmp_path / "digest.html"
    call_command("digest", "preview", "ada@example.org", "--now", MORNING, "--html", "--output", str(page), stdout=out)
    assert page.read_text().startswith("<!DOCTYPE html>") and "written to" in out.getvalue()
    assert mail.outbox == [] and not Delivery.objects.exists()
    with pytest.raises(CommandError, match="No subscription for 'nobody@example.org'"):
        call_command("digest", "preview", "nobody@example.org")


# --- two processes, as cron would start them ---


def test_two_digest_send_processes_on_one_database_send_each_digest_once(tmp_path):
    inbox = Inbox(delay=0.01)
    port = free_port()
    inbox.controller = Controller(inbox, hostname="127.0.0.1", port=port)
    inbox.controller.start()
    try:
        env = {
            **site_env(tmp_path / "data"),
            "PAPERFEED_EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "PAPERFEED_SITE_URL": SITE,
            "PYTHONUNBUFFERED": "1",
        }

        def paperfeed(*args: str) -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-m", "paperfeed", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )

        for args in (["migrate", "-v", "0"], ["load-jsonl", str(SMALL)]):
            assert paperfeed(*args).wait(timeout=120) == 0
        addresses = [f"reader{n:02d}@example.org" for n in range(30)]
        csv = tmp_path / "subscribers.csv"
        csv.write_text("email,frequency,categories\n" + "".join(f"{a},daily,cs.LG\n" for a in addresses))
        assert paperfeed("subscribers", "import", str(csv)).wait(timeout=120) == 0

        runs = [paperfeed("digest", "send", "--now", MORNING) for _ in range(2)]
        outputs = [run.communicate(timeout=180)[0].decode() for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        sent = [int(re.search(r"Digests: sent (\d+),", out)[1]) for out in outputs]
        assert sum(sent) == 30, outputs
        assert sorted(m["To"] for m in inbox.messages) == addresses
    finally:
        inbox.controller.stop()


def test_the_cron_line_in_the_docs_is_the_command_that_exists():
    operations = (Path(__file__).parent.parent / "docs" / "operations.md").read_text()
    assert re.search(r"^\*/15 .*paperfeed digest send$", operations, re.M)


# --- the signed links in every digest ---


@pytest.mark.django_db
def test_links_name_their_subscription_for_one_purpose_only(monkeypatch):
    subscription = subscriber("ada@example.org")
    token = links.unsubscribe_token(subscription)
    assert links.read_unsubscribe_token(token) == subscription
    assert "ada" not in token and "example" not in token  # the address is not readable in the link
    with pytest.raises(links.LinkError, match="not valid"):
        links.read_token(token, "manage")  # an unsubscribe link does not open the preferences
    with pytest.raises(links.LinkError, match="not valid"):
        links.read_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "unsubscribe")
    with pytest.raises(links.LinkError, match="not valid"):
        links.read_token("not-a-token", "confirm")


@pytest.mark.django_db
def test_confirm_links_expire_after_a_week_and_unsubscribe_links_never(monkeypatch):
    subscription = subscriber("ada@example.org")
    eight_days_ago = time.time() - 8 * 24 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: eight_days_ago)
    confirm, unsubscribe, manage = (links.make_token(subscription, p) for p in ("confirm", "unsubscribe", "manage"))
    monkeypatch.undo()
    with pytest.raises(links.LinkError, match="expired"):
        links.read_confirm_token(confirm)
    assert links.read_unsubscribe_token(unsubscribe) == subscription
    assert links.read_manage_token(manage) == subscription


@pytest.mark.django_db
def test_a_link_stops_working_when_its_subscription_is_gone_or_its_address_changed():
    subscription = subscriber("ada@example.org")
    token = links.manage_token(subscription)
    Subscription.objects.filter(id=subscription.id).update(email="grace@example.org")
    with pytest.raises(links.LinkError, match="no longer exists"):
        links.read_manage_token(token)
    subscription.delete()
    with pytest.raises(links.LinkError, match="no longer exists"):
        links.read_manage_token(token)
