"""The email digest on the site: subscribing (double opt-in), confirming, managing preferences by signed link or from
one's account, unsubscribing (also RFC 8058 one-click) — and what a stranger must not learn or be able to do."""

import re
import time
from html import unescape
from urllib.parse import urlsplit

import pytest
from conftest import digest_subscription
from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from paperfeed.community.models import Profile
from paperfeed.community.services import interests
from paperfeed.digests.models import Delivery, Subscription
from paperfeed.digests.services import links
from paperfeed.digests.services import preferences as prefs
from paperfeed.digests.services import subscriptions as subs
from paperfeed.papers.models import Author, DailyEntry, Organization, Paper

pytestmark = pytest.mark.django_db

SITE = settings.PAPERFEED_SITE_URL
ACTIVE, PENDING = Subscription.Status.ACTIVE, Subscription.Status.PENDING
UNSUBSCRIBED, BOUNCED = Subscription.Status.UNSUBSCRIBED, Subscription.Status.BOUNCED


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def page(response) -> str:
    """The page's HTML with what differs between any two responses (CSRF tokens) taken out."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def text(response) -> str:
    """The page's words: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def links_in(mail, purpose: str) -> list[str]:
    return re.findall(rf"https?://\S+/digest/{purpose}/\S+", mail.body)


def path_of(url: str) -> str:
    return urlsplit(url).path


def make_user(username="ada", email="ada@example.org", verified=True, **fields) -> User:
    user = User.objects.create_user(username=username, email=email, password="quiet-lantern-47-orbit", **fields)
    Profile.objects.create(user=user, email_verified=verified)
    return user


def subscription(email="reader@example.org", status=ACTIVE, **fields) -> Subscription:
    return digest_subscription(email, status=status, **fields)


def token_path(sub: Subscription, purpose: str) -> str:
    return f"/digest/{purpose}/{links.make_token(sub, purpose)}"


def links_to(html: str, attribute: str, sub: Subscription, purpose: str) -> bool:
    """Whether the page has a `attribute="/digest/<purpose>/<token>"` whose token names this subscription. (The
    token carries the second it was made: one made by the test a second later differs, and proves nothing.)"""
    found = re.findall(rf'{attribute}="/digest/{purpose}/([^"/]+)"', html)
    return any(links.read_token(token, purpose).pk == sub.pk for token in found)


def csrf_token_of(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


PREFERENCES = {
    "with_preferences": "1",
    "frequency": "weekly",
    "weekday": "4",
    "hour": "18",
    "time_zone": "Europe/Paris",
    "top_trending": "5",
    "categories": "cs.CL, cs.lg hep-th",
    "saved_searches": "diffusion models\nsemantic: protein structure prediction\nkeyword:  sparse attention",
    "authors": "Ada Lovelace\nalan turing",
    "organizations": "",
    "include_keywords": "transformer, attention",
    "exclude_keywords": "survey",
    "max_papers": "15",
}


def preferences(**changes) -> dict:
    return {key: value for key, value in {**PREFERENCES, **changes}.items() if key != "with_preferences"}


# --- subscribing ---


def test_subscribe_page_offers_the_address_and_the_preferences(client):
    response = client.get("/digest/subscribe")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Get trending papers in your email inbox" in text(response)
    for name in ["email", *(f for f in PREFERENCES if f != "with_preferences")]:
        assert f'name="{name}"' in html, name
    assert '<option value="Europe/Paris">' in html  # time-zone suggestions
    assert 'class="footer-subscribe"' not in html  # no second form at the foot of this page


def test_subscribing_with_just_an_address_sends_a_confirmation_link(client, mailoutbox):
    response = client.post("/digest/subscribe", {"email": "  Reader@Example.ORG "})
    assert response.status_code == 200
    assert "Check your inbox to confirm your subscription" in text(response)
    assert "reader@example.org" in text(response)
    sub = Subscription.objects.get()
    assert sub.email == "reader@example.org" and sub.status == PENDING and sub.user is None
    assert (sub.frequency, sub.hour, sub.time_zone, sub.max_papers) == ("daily", 7, "UTC", 20)  # the defaults
    [mail] = mailoutbox
    assert mail.to == ["reader@example.org"] and mail.subject == "Confirm your paperfeed digest subscription"
    [link] = links_in(mail, "confirm")
    assert link == links.confirm_url(sub) and link.startswith(f"{SITE}/digest/confirm/")
    assert "7 days" in mail.body and "ignore this email" in mail.body
    assert mail.extra_headers["Auto-Submitted"] == "auto-generated"


def test_subscribing_from_the_full_page_keeps_the_chosen_preferences(client, corpus, mailoutbox):
    response = client.post("/digest/subscribe", {"email": "reader@example.org", **PREFERENCES})
    assert response.status_code == 200, text(response)
    sub = Subscription.objects.get()
    assert sub.status == PENDING
    assert (sub.frequency, sub.weekday, sub.hour, sub.time_zone) == ("weekly", 4, 18, "Europe/Paris")
    assert (sub.top_trending, sub.max_papers) == (5, 15)
    assert sub.interests.categories == ["cs.CL", "cs.LG", "hep-th"]
    assert sub.interests.saved_searches == [
        {"q": "diffusion models", "mode": "hybrid"},
        {"q": "protein structure prediction", "mode": "semantic"},
        {"q": "sparse attention", "mode": "keyword"},
    ]
    assert [a.name for a in sub.interests.authors.order_by("name")] == ["Ada Lovelace", "Alan Turing"]
    assert sub.interests.include_keywords == ["transformer", "attention"] and sub.interests.exclude_keywords == [
        "survey"
    ]
    assert len(mailoutbox) == 1


def test_the_answer_is_the_same_whatever_the_address_is(client, mailoutbox):
    """New, pending, active or unsubscribed: a stranger learns nothing about who reads the digest."""
    subscription("active@example.org", ACTIVE)
    subscription("pending@example.org", PENDING)
    subscription("gone@example.org", UNSUBSCRIBED)
    subscription("bounced@example.org", BOUNCED, bounce_reason="550 no such user")
    answers = set()
    for address in ["new@example.org", "active@example.org", "pending@example.org", "gone@example.org"]:
        response = client.post("/digest/subscribe", {"email": address})
        assert response.status_code == 200
        answers.add(page(response).replace(address, "ADDRESS"))
    assert len(answers) == 1
    assert {m.to[0]: m.subject for m in mailoutbox} == {
        "new@example.org": "Confirm your paperfeed digest subscription",
        "active@example.org": "Your paperfeed digest: you are already subscribed",
        "pending@example.org": "Confirm your paperfeed digest subscription",
        "gone@example.org": "Confirm your paperfeed digest subscription",
    }
    assert Subscription.objects.get(email="gone@example.org").status == PENDING  # until the owner confirms


def test_an_active_subscriber_who_asks_again_gets_the_preferences_link_and_keeps_the_preferences(
    client, corpus, mailoutbox
):
    sub = subscription("reader@example.org", ACTIVE, frequency="daily", max_papers=30)
    client.post("/digest/subscribe", {"email": "reader@example.org", **PREFERENCES})
    sub.refresh_from_db()
    assert (sub.status, sub.frequency, sub.max_papers) == (ACTIVE, "daily", 30)  # a stranger changes nothing
    [mail] = mailoutbox
    assert links_in(mail, "confirm") == []
    assert links_in(mail, "manage") == [links.manage_url(sub)]
    assert links_in(mail, "unsubscribe") == [links.unsubscribe_url(sub)]
    assert "every day after 07:00 (UTC)" in mail.body


@pytest.mark.parametrize(
    "typed, complaint",
    [
        ("", "Enter your email address."),
        ("   ", "Enter your email address."),
        ("not-an-address", "is not an email address"),
        ("ada@", "is not an email address"),
        ("ada@example", "is not an email address"),
        ("a@b@example.org", "is not an email address"),
        ("ada lovelace@example.org", "is not an email address"),
        ("<script>@example.org", "is not an email address"),
        ("x" * 250 + "@example.org", "at most 254 characters"),
        ("ada@example.org\r\nBcc: victim@example.com", "cannot contain line breaks"),
        ("ada@example.org\nBcc: victim@example.com", "cannot contain line breaks"),
        ("ada@example.org\r\n", "cannot contain line breaks"),
        ("ada@example.org%0d%0aBcc:victim@example.com", "is not an email address"),
        ("ada@exa\x00mple.org", "Null characters are not allowed."),
        ("ada@example.org\x0bx", "cannot contain line breaks"),
    ],
)
def test_bad_addresses_get_the_form_again_with_a_clear_message(client, mailoutbox, typed, complaint):
    response = client.post("/digest/subscribe", {"email": typed})
    assert response.status_code == 400
    assert complaint in text(response)
    assert "Nothing was sent" in text(response)
    assert Subscription.objects.count() == 0 and mailoutbox == []


def test_an_address_is_escaped_when_shown_back(client):
    response = client.post("/digest/subscribe", {"email": '"><img src=x onerror=alert(1)>@example.org'})
    assert response.status_code == 400
    assert "<img src=x" not in response.content.decode()


def test_header_injection_never_reaches_the_mail_server(client, mailoutbox):
    """Even past the form, the service refuses an address that would add a header."""
    with pytest.raises(interests.PreferenceError, match="line breaks"):
        subs.subscribe("ada@example.org\r\nBcc: victim@example.com", "127.0.0.1")
    assert mailoutbox == [] and Subscription.objects.count() == 0


def test_the_same_address_in_another_case_is_one_subscription(client, mailoutbox):
    client.post("/digest/subscribe", {"email": "reader@example.org"})
    client.post("/digest/subscribe", {"email": "READER@example.org"})
    assert Subscription.objects.count() == 1 and len(mailoutbox) == 2


def test_confirmation_emails_are_limited_per_address_silently(client, mailoutbox):
    answers = set()
    for _ in range(5):
        response = client.post("/digest/subscribe", {"email": "reader@example.org"})
        assert response.status_code == 200
        answers.add(page(response))
    assert len(answers) == 1  # the limit tells nothing either
    assert len(mailoutbox) == subs.EMAILS_PER_ADDRESS.limit == 3


def test_confirmation_emails_are_limited_per_client_ip_silently(client, mailoutbox):
    for n in range(subs.EMAILS_PER_IP.limit + 2):
        assert client.post("/digest/subscribe", {"email": f"reader{n}@example.org"}).status_code == 200
    assert len(mailoutbox) == subs.EMAILS_PER_IP.limit
    # The refused ones were not even recorded as subscriptions.
    assert Subscription.objects.count() == subs.EMAILS_PER_IP.limit
    other = Client(REMOTE_ADDR="10.1.2.3")
    other.post("/digest/subscribe", {"email": "someone@example.org"})
    assert len(mailoutbox) == subs.EMAILS_PER_IP.limit + 1


def test_invalid_preferences_on_the_subscribe_page_save_and_send_nothing(client, mailoutbox):
    data = {"email": "reader@example.org", **PREFERENCES, "time_zone": "Mars/Olympus_Mons", "max_papers": "0"}
    response = client.post("/digest/subscribe", data)
    assert response.status_code == 400
    assert "“Mars/Olympus_Mons” is not a time zone we know" in text(response)
    assert "Choose a number of papers from 1 to 100." in text(response)
    assert 'value="reader@example.org"' in response.content.decode()  # what was typed stays
    assert Subscription.objects.count() == 0 and mailoutbox == []


def test_a_mail_server_failure_is_hidden_from_strangers(client, settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens there
    response = client.post("/digest/subscribe", {"email": "reader@example.org"})
    assert response.status_code == 200 and "Check your inbox" in text(response)


def test_subscribe_needs_a_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/digest/subscribe", {"email": "reader@example.org"}).status_code == 403
    token = csrf_token_of(client.get("/digest/subscribe"))
    response = client.post("/digest/subscribe", {"email": "reader@example.org", "csrfmiddlewaretoken": token})
    assert response.status_code == 200


# --- the footer form on every page ---


@pytest.mark.parametrize("path", ["/", "/trending", "/papers/2606.00002", "/search?q=mlp", "/no-such-page"])
def test_every_page_has_a_subscribe_form_that_works_without_javascript(client, corpus, path):
    # For visitors who are not signed in it asks for the subscribe page (a GET: their pages hold no CSRF token,
    # so that one copy serves them all), with the address filled in; one more press subscribes.
    html = client.get(path).content.decode()
    form = re.search(r'<form class="footer-subscribe" method="get" action="/digest/subscribe">.*?</form>', html, re.S)
    assert form, path
    assert "Get trending papers in your email inbox" in form[0]
    assert "csrfmiddlewaretoken" not in form[0] and 'type="email" name="email"' in form[0]
    assert '<button type="submit">Subscribe</button>' in form[0]
    page = client.get("/digest/subscribe", {"email": "reader@example.org"})
    assert page.status_code == 200 and 'value="reader@example.org"' in page.content.decode()
    token = csrf_token_of(page)
    response = client.post("/digest/subscribe", {"email": "reader@example.org", "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and "Check your inbox" in text(response)


def test_signed_in_users_get_a_link_to_their_digest_settings_in_the_footer(client, corpus):
    client.force_login(make_user())
    html = client.get("/").content.decode()
    assert 'class="footer-subscribe"><a href="/digest/settings">' in html
    assert '<form class="footer-subscribe"' not in html


# --- signed-in users subscribing ---


def test_a_signed_in_user_with_a_confirmed_address_is_subscribed_at_once(client, mailoutbox):
    user = make_user()
    client.force_login(user)
    assert client.get("/digest/subscribe")["Location"] == "/digest/settings"
    response = client.post("/digest/subscribe", {"email": "Ada@example.org"})
    assert response.status_code == 302 and response["Location"] == "/digest/settings"
    sub = Subscription.objects.get()
    assert (sub.email, sub.user, sub.status) == ("ada@example.org", user, ACTIVE) and sub.confirmed_at
    assert mailoutbox == []  # the account's confirmed address needs no second confirmation
    assert "You are subscribed: the digest comes to ada@example.org every day after 07:00 (UTC)." in text(
        client.get("/digest/settings")
    )
    again = client.post("/digest/subscribe", {"email": "ada@example.org"})
    assert again["Location"] == "/digest/settings"
    assert "ada@example.org already gets the digest" in text(client.get("/digest/settings"))


def test_a_signed_in_user_with_an_unconfirmed_address_confirms_by_email_like_anyone(client, mailoutbox):
    user = make_user(verified=False)
    client.force_login(user)
    response = client.get("/digest/subscribe")
    assert response.status_code == 200 and 'value="ada@example.org"' in response.content.decode()
    client.post("/digest/subscribe", {"email": "ada@example.org"})
    sub = Subscription.objects.get()
    assert sub.status == PENDING and sub.user is None  # linked only once the account's address is confirmed
    assert len(mailoutbox) == 1


def test_a_signed_in_user_subscribing_another_address_confirms_it_by_email(client, mailoutbox):
    client.force_login(make_user())
    response = client.post("/digest/subscribe", {"email": "lab-list@example.org"})
    assert response.status_code == 200 and "Check your inbox" in text(response)
    sub = Subscription.objects.get()
    assert (sub.email, sub.status, sub.user) == ("lab-list@example.org", PENDING, None)


# --- confirming ---


def confirm_link(client, mailoutbox, email="reader@example.org") -> str:
    client.post("/digest/subscribe", {"email": email})
    return path_of(links_in(mailoutbox[-1], "confirm")[0])


def test_the_confirmation_link_shows_a_button_and_only_the_post_confirms(client, mailoutbox):
    link = confirm_link(client, mailoutbox)
    response = client.get(link)
    assert response.status_code == 200
    assert "Confirm my subscription" in text(response) and "reader@example.org" in text(response)
    assert Subscription.objects.get().status == PENDING  # a mail scanner opening the link confirms nothing
    response = client.post(link)
    sub = Subscription.objects.get()
    assert sub.status == ACTIVE and sub.confirmed_at is not None
    assert response.status_code == 302 and response["Location"].startswith("/digest/manage/")
    after = client.get(response["Location"])
    assert "Thank you: reader@example.org is confirmed." in text(after)
    assert "Your digest preferences" in text(after)


def test_confirming_twice_is_harmless(client, mailoutbox):
    link = confirm_link(client, mailoutbox)
    client.post(link)
    first = Subscription.objects.get().confirmed_at
    response = client.post(link)
    assert response.status_code == 302
    assert "was already confirmed: nothing has changed" in text(client.get(response["Location"]))
    assert Subscription.objects.get().confirmed_at == first
    shown = client.get(link)
    assert shown.status_code == 200 and "Your subscription is confirmed" in text(shown)
    assert "Confirm my subscription" not in text(shown)


def test_confirming_a_resubscription_clears_the_old_stop(client, mailoutbox):
    subscription("reader@example.org", BOUNCED, bounce_reason="550 mailbox full", unsubscribed_at=timezone.now())
    client.post(confirm_link(client, mailoutbox))
    sub = Subscription.objects.get()
    assert (sub.status, sub.bounce_reason, sub.unsubscribed_at) == (ACTIVE, "", None)


def expired_confirm_token(sub: Subscription, monkeypatch) -> str:
    real = time.time
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: real() - links.CONFIRM_MAX_AGE.total_seconds() - 60)
        return links.make_token(sub, "confirm")


def test_an_expired_confirmation_link_gets_a_clear_400_page_offering_to_subscribe_again(client, monkeypatch):
    sub = subscription(status=PENDING)
    for method in (client.get, client.post):
        response = method(f"/digest/confirm/{expired_confirm_token(sub, monkeypatch)}")
        assert response.status_code == 400
        assert "This confirmation link has expired" in text(response)
        assert 'action="/digest/subscribe"' in response.content.decode() and "Subscribe again" in text(response)
    assert Subscription.objects.get().status == PENDING


def tampered(token: str) -> str:
    """The token with one character of its payload changed."""
    return ("B" if token[0] != "B" else "C") + token[1:]


def bad_tokens(sub: Subscription, purpose: str) -> list[str]:
    good = links.make_token(sub, purpose)
    other = "manage" if purpose != "manage" else "confirm"
    forged = signing.dumps([sub.pk, "0" * 16], salt="paperfeed.digests.links." + purpose, key="not-the-secret")
    return [
        "garbage",
        tampered(good),
        good[:-3],
        good + "x",
        good.split(":")[0],
        links.make_token(sub, other),  # a token for another purpose
        forged,
        "%00",
        "x" * 3000,
    ]


@pytest.mark.parametrize("purpose", ["confirm", "manage", "unsubscribe"])
def test_forged_tampered_or_misused_links_get_the_400_page_never_a_500(client, purpose):
    sub = subscription(status=PENDING if purpose == "confirm" else ACTIVE)
    for token in bad_tokens(sub, purpose):
        for method in (client.get, client.post):
            response = method(f"/digest/{purpose}/{token}")
            assert response.status_code == 400, (token, response.status_code)
            assert "This link does not work" in text(response)
    sub.refresh_from_db()
    assert sub.status == (PENDING if purpose == "confirm" else ACTIVE)


def test_links_stop_working_when_the_subscription_is_gone_or_its_address_changed(client):
    sub = subscription()
    paths = [token_path(sub, purpose) for purpose in ("confirm", "manage", "unsubscribe")]
    sub.email = "someone-else@example.org"
    sub.save()
    for path in paths:
        assert client.get(path).status_code == 400
    sub.delete()
    for path in paths:
        response = client.post(path)
        assert response.status_code == 400 and "no longer exists" in text(response)


# --- managing preferences by signed link ---


def test_the_preferences_page_shows_what_the_subscriber_chose(client, corpus):
    sub = subscription(
        frequency="weekly",
        weekday=2,
        hour=9,
        time_zone="Asia/Tokyo",
        categories=["cs.CL", "hep-th"],
        saved_searches=[{"q": "graph transformers", "mode": "hybrid"}, {"q": "protein folding", "mode": "semantic"}],
        include_keywords=["attention"],
        exclude_keywords=["survey", "benchmark"],
    )
    sub.interests.authors.set(Author.objects.filter(name__in=["Ada Lovelace", "Tony Hoare"]))
    response = client.get(token_path(sub, "manage"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "The digest comes to reader@example.org every Wednesday after 09:00 (Asia/Tokyo)." in text(response)
    assert re.search(r'<input type="radio" name="frequency" value="weekly"[^>]* checked>', html)
    assert not re.search(r'<input type="radio" name="frequency" value="daily"[^>]* checked>', html)
    assert re.search(r'<option value="2" selected>Wednesday</option>', html)
    assert re.search(r'<option value="9" selected>09:00</option>', html)
    assert 'value="Asia/Tokyo"' in html and 'value="cs.CL hep-th"' in html
    assert "graph transformers\nsemantic: protein folding</textarea>" in html
    assert "Ada Lovelace\nTony Hoare</textarea>" in html
    assert "survey\nbenchmark</textarea>" in html
    assert links_to(html, "href", sub, "unsubscribe")
    assert 'class="footer-subscribe"' not in html


def test_saving_preferences_by_link_changes_them_all(client, corpus):
    deepmind = Organization.objects.create(name="DeepMind", slug="deepmind")
    ai2 = Organization.objects.create(name="Allen Institute for AI", slug="ai2")
    sub = subscription()
    path = token_path(sub, "manage")
    response = client.post(path, preferences(organizations="deepmind\nallen institute for ai"))
    assert response.status_code == 302 and response["Location"] == path
    sub.refresh_from_db()
    assert (sub.frequency, sub.weekday, sub.hour, sub.time_zone) == ("weekly", 4, 18, "Europe/Paris")
    assert sub.interests.categories == ["cs.CL", "cs.LG", "hep-th"]
    assert {a.name for a in sub.interests.authors.all()} == {"Ada Lovelace", "Alan Turing"}
    assert set(sub.interests.organizations.all()) == {deepmind, ai2}
    assert sub.status == ACTIVE
    assert "Your preferences are saved. The digest comes every Friday after 18:00 (Europe/Paris)." in text(
        client.get(path)
    )


def test_saving_the_preferences_unchanged_changes_nothing(client, corpus):
    Organization.objects.create(name="Lab", slug="lab-a")
    Organization.objects.create(name="Lab", slug="lab-b")  # two of the same name: shown by slug
    sub = subscription()
    path = token_path(sub, "manage")
    client.post(path, preferences(organizations="lab-a"))
    before = Subscription.objects.filter(pk=sub.pk).values().get()
    html = client.get(path).content.decode()
    fields = {
        name: unescape(value)
        for name, value in re.findall(r'<textarea name="(\w+)"[^>]*>\n?(.*?)</textarea>', html, re.S)
    }
    fields |= {
        name: unescape(v) for name, v in re.findall(r'<input type="(?:text|number)" name="(\w+)" value="([^"]*)"', html)
    }
    assert fields["organizations"] == "lab-a"
    data = {**fields, "frequency": "weekly", "weekday": "4", "hour": "18"}
    assert client.post(path, data).status_code == 302
    assert Subscription.objects.filter(pk=sub.pk).values().get() == before
    assert [o.slug for o in sub.interests.organizations.all()] == ["lab-a"]


BAD_PREFERENCES = [
    ({"frequency": "hourly"}, "Choose daily or weekly."),
    ({"weekday": "7"}, "Choose a day of the week."),
    ({"hour": "24"}, "Choose an hour of the day."),
    ({"hour": "7am"}, "Choose an hour of the day."),
    ({"time_zone": "Mars/Olympus_Mons"}, "“Mars/Olympus_Mons” is not a time zone we know."),
    ({"time_zone": "UTC\r\nBcc: victim@example.com"}, "is not a time zone we know"),
    ({"time_zone": ""}, "Choose a time zone, e.g. Europe/Paris or UTC."),
    ({"top_trending": "51"}, "Choose a number of trending papers from 0 to 50."),
    ({"top_trending": "-1"}, "Choose a number of trending papers from 0 to 50."),
    ({"top_trending": "ten"}, "Choose a number of trending papers from 0 to 50."),
    ({"max_papers": "0"}, "Choose a number of papers from 1 to 100."),
    ({"max_papers": "101"}, "Choose a number of papers from 1 to 100."),
    ({"categories": "cs.CL foo.bar cs-CL"}, "Not an arXiv category: “foo.bar”, “cs-CL”."),
    ({"categories": "cs.CL\r\nBcc: victim@example.com"}, "Not an arXiv category: “Bcc:”, “victim@example.com”."),
    ({"categories": " ".join(f"cs.A{'B' * n}" for n in range(31))}, "At most 30 categories; you gave 31."),
    ({"saved_searches": "keyword:"}, "Line 1 has no words to search for after “keyword:”."),
    ({"saved_searches": "ok search\n--- ???"}, "Line 2 (“--- ???”) has no words to search for."),
    ({"saved_searches": "a" * 201}, "Line 1 is too long: a saved search has at most 200 characters."),
    ({"saved_searches": "\n".join(f"topic {n}" for n in range(11))}, "At most 10 saved searches; you gave 11."),
    ({"saved_searches": "graph\x07bell"}, "A saved search cannot contain control characters."),
    (
        {"authors": "Ada Lovelace\nNobody Atall\nAlso Missing"},
        "No paper on this site has an author named “Nobody Atall”, “Also Missing”.",
    ),
    (
        {"authors": "Ada Lovelac"},
        "No paper on this site has an author named “Ada Lovelac”. Did you mean “Ada Lovelace”? Write one name",
    ),
    ({"organizations": "Umbrella Corp"}, "No organization on this site is called “Umbrella Corp”."),
    ({"include_keywords": "x" * 101}, "A keyword has at most 100 characters"),
    ({"exclude_keywords": ", ".join(f"w{n}" for n in range(31))}, "At most 30 keywords; you gave 31."),
    ({"exclude_keywords": "fine\x1bescape"}, "A keyword cannot contain control characters."),
]


@pytest.mark.parametrize("changes, complaint", BAD_PREFERENCES)
def test_invalid_preferences_get_clear_errors_and_nothing_is_saved(client, corpus, changes, complaint):
    sub = subscription(max_papers=20, hour=7)
    response = client.post(token_path(sub, "manage"), preferences(**changes))
    assert response.status_code == 400
    assert complaint in text(response)
    assert "Nothing was saved: please correct what is marked below." in text(response)
    sub.refresh_from_db()
    # Not even the fields that were fine.
    assert (sub.frequency, sub.hour, sub.max_papers, sub.interests.categories, sub.interests.authors.count()) == (
        "daily",
        7,
        20,
        [],
        0,
    )


def test_organizations_sharing_a_name_must_be_named_by_slug(client):
    Organization.objects.create(name="Lab", slug="lab-a")
    Organization.objects.create(name="Lab", slug="lab-b")
    sub = subscription()
    response = client.post(token_path(sub, "manage"), preferences(authors="", organizations="Lab"))
    assert response.status_code == 400
    assert "Several organizations are called “Lab”" in text(response)
    assert client.post(token_path(sub, "manage"), preferences(authors="", organizations="LAB-B")).status_code == 302
    assert [o.slug for o in sub.interests.organizations.all()] == ["lab-b"]


def test_what_subscribers_type_is_escaped_on_the_preferences_page(client, corpus):
    payload = '</textarea><script>alert("x")</script><img src=x onerror=alert(1)>'
    sub = subscription()
    path = token_path(sub, "manage")
    data = preferences(
        saved_searches=f"keyword: {payload}",
        include_keywords=payload,
        exclude_keywords=payload,
        authors="Mallory <b>Evil</b>",
    )
    assert client.post(path, data).status_code == 302
    html = client.get(path).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>Evil</b>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "Mallory &lt;b&gt;Evil&lt;/b&gt;" in html
    # Shown back after an error too.
    bad = client.post(path, {**data, "time_zone": payload}).content.decode()
    assert "<script>alert" not in bad and "<img src=x" not in bad


def test_the_preferences_form_needs_a_csrf_token():
    sub = subscription()
    client = Client(enforce_csrf_checks=True)
    path = token_path(sub, "manage")
    assert client.post(path, preferences(authors="")).status_code == 403
    token = csrf_token_of(client.get(path))
    assert client.post(path, {**preferences(authors=""), "csrfmiddlewaretoken": token}).status_code == 302


def test_an_unsubscribed_reader_can_subscribe_again_from_the_preferences_page(client):
    sub = subscription(status=UNSUBSCRIBED, unsubscribed_at=timezone.now())
    path = token_path(sub, "manage")
    page_before = text(client.get(path))
    assert "unsubscribed reader@example.org gets no digest." in page_before and "Subscribe again" in page_before
    response = client.post(path, {"resubscribe": "1"})
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == ACTIVE and sub.unsubscribed_at is None
    assert "Welcome back: the digest comes every day after 07:00 (UTC)." in text(client.get(path))


def test_saving_preferences_while_unsubscribed_does_not_resubscribe(client):
    sub = subscription(status=UNSUBSCRIBED)
    path = token_path(sub, "manage")
    client.post(path, preferences(authors=""))
    sub.refresh_from_db()
    assert sub.status == UNSUBSCRIBED and sub.frequency == "weekly"
    assert "No digest is sent to this address until you subscribe again." in text(client.get(path))


def test_a_bounced_address_is_told_why_it_gets_nothing(client):
    sub = subscription(status=BOUNCED, bounce_reason="550 5.1.1 <reader@example.org>: user unknown")
    response = client.get(token_path(sub, "manage"))
    assert "its mail server refused a digest for good" in text(response)
    assert "The server said: 550 5.1.1 <reader@example.org>: user unknown" in text(response)


# --- unsubscribing ---


def test_the_unsubscribe_link_shows_a_button_and_a_link_to_the_preferences(client):
    sub = subscription()
    response = client.get(token_path(sub, "unsubscribe"))
    assert response.status_code == 200
    assert "Unsubscribe from the digest?" in text(response)
    assert '<button type="submit" class="primary">Unsubscribe</button>' in response.content.decode()
    assert links_to(response.content.decode(), "href", sub, "manage")
    sub.refresh_from_db()
    assert sub.status == ACTIVE  # opening the link changes nothing


def test_one_click_unsubscribe_works_without_cookies_or_csrf_token():
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, with no cookies and no CSRF token."""
    sub = subscription()
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        token_path(sub, "unsubscribe"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in text(response)
    sub.refresh_from_db()
    assert sub.status == UNSUBSCRIBED and sub.unsubscribed_at is not None
    assert not response.cookies.get("csrftoken")


def test_unsubscribing_twice_is_harmless_and_says_so_kindly(client):
    sub = subscription()
    path = token_path(sub, "unsubscribe")
    client.post(path)
    first = Subscription.objects.get().unsubscribed_at
    again = client.post(path)
    assert again.status_code == 200
    assert "You were already unsubscribed" in text(again) and "nothing more to do" in text(again)
    assert Subscription.objects.get().unsubscribed_at == first
    shown = client.get(path)
    assert shown.status_code == 200 and "You are unsubscribed" in text(shown)
    assert "Subscribe again from your preferences" in text(shown)


def test_unsubscribing_stops_a_pending_or_bounced_subscription_too(client):
    for n, status in enumerate([PENDING, BOUNCED]):
        sub = subscription(f"r{n}@example.org", status)
        assert client.post(token_path(sub, "unsubscribe")).status_code == 200
        sub.refresh_from_db()
        assert sub.status == UNSUBSCRIBED


# --- a signed-in user's own digest settings ---


def test_digest_settings_need_signing_in(client):
    response = client.get("/digest/settings")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/signin?next=/digest/settings")


def test_a_verified_user_subscribes_from_settings_without_a_confirmation_email(client, corpus, mailoutbox):
    user = make_user()
    client.force_login(user)
    response = client.get("/digest/settings")
    assert response.status_code == 200
    assert "Choose what you get and press Subscribe" in text(response)
    assert '<button type="submit" class="primary">Subscribe</button>' in response.content.decode()
    assert Subscription.objects.count() == 0  # looking changes nothing
    response = client.post("/digest/settings", preferences())
    assert response.status_code == 302 and response["Location"] == "/digest/settings"
    sub = Subscription.objects.get()
    assert (sub.email, sub.user, sub.status, sub.frequency) == ("ada@example.org", user, ACTIVE, "weekly")
    assert mailoutbox == []
    after = client.get("/digest/settings")
    assert "The digest comes to ada@example.org every Friday after 18:00 (Europe/Paris)." in text(after)
    assert '<button type="submit" class="primary">Save preferences</button>' in after.content.decode()
    assert links_to(after.content.decode(), "action", sub, "unsubscribe")


def test_settings_take_over_the_subscription_of_the_account_address(client, mailoutbox):
    sub = subscription("ada@example.org", PENDING, max_papers=42)
    user = make_user()
    client.force_login(user)
    response = client.get("/digest/settings")
    assert 'name="max_papers" value="42"' in response.content.decode()
    client.post("/digest/settings", preferences(authors="", max_papers="42"))
    sub.refresh_from_db()
    assert (sub.user, sub.status, sub.max_papers) == (user, ACTIVE, 42)
    assert Subscription.objects.count() == 1


def test_settings_save_preferences_of_an_active_subscription(client, corpus):
    user = make_user()
    sub = subscription("ada@example.org", ACTIVE, user=user)
    client.force_login(user)
    client.post("/digest/settings", preferences(max_papers="9"))
    sub.refresh_from_db()
    assert sub.max_papers == 9 and sub.status == ACTIVE
    assert "Your preferences are saved." in text(client.get("/digest/settings"))


def test_settings_after_unsubscribing_offer_to_subscribe_again(client):
    user = make_user()
    subscription("ada@example.org", UNSUBSCRIBED, user=user)
    client.force_login(user)
    response = client.get("/digest/settings")
    assert "(you unsubscribed earlier)" in text(response)
    client.post("/digest/settings", preferences(authors=""))
    assert Subscription.objects.get().status == ACTIVE


def test_settings_of_an_unconfirmed_account_ask_to_confirm_first(client):
    sub = subscription("ada@example.org", ACTIVE, max_papers=42)  # someone else's, for all this account proves
    client.force_login(make_user(verified=False))
    response = client.get("/digest/settings")
    assert response.status_code == 200
    assert "Confirm ada@example.org first" in text(response)
    assert 'action="/accounts/verify/resend"' in response.content.decode()
    assert 'name="max_papers"' not in response.content.decode()
    client.post("/digest/settings", preferences(authors="", max_papers="1"))
    sub.refresh_from_db()
    assert sub.user is None and sub.max_papers == 42


def test_digest_settings_form_needs_a_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    assert client.post("/digest/settings", preferences(authors="")).status_code == 403
    assert Subscription.objects.count() == 0


def test_account_settings_link_to_the_digest(client):
    user = make_user()
    client.force_login(user)
    response = client.get("/accounts/settings")
    assert "Subscribe to the email digest" in text(response)
    assert 'href="/digest/settings"' in response.content.decode()
    subscription("ada@example.org", ACTIVE, user=user)
    assert "You get the email digest at ada@example.org" in text(client.get("/accounts/settings"))


def test_settings_of_an_account_without_an_address_say_so(client):
    client.force_login(make_user(email=""))
    response = client.get("/digest/settings")
    assert response.status_code == 200
    assert "Your account has no email address, so there is nowhere to send the digest." in text(response)


# --- whatever is typed: a page, never a 500 ---

SOME_EXAMPLES = examples(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TYPED = st.text(max_size=300) | st.sampled_from(["\r\n", "a@b.c\r\nBcc: x@y.z", "<script>", "%0d%0a", "\u2028"])


@SOME_EXAMPLES
@given(typed=TYPED)
def test_any_typed_address_gets_a_page_never_a_500(client, typed):
    response = client.post("/digest/subscribe", {"email": typed})
    assert response.status_code in (200, 400)
    assert "<script>" not in response.content.decode()


@SOME_EXAMPLES
@given(fields=st.fixed_dictionaries({name: TYPED for name in PREFERENCES if name != "with_preferences"}))
def test_any_typed_preferences_are_saved_or_refused_never_a_500(client, fields):
    sub = subscription(email="fuzz@example.org") if not Subscription.objects.exists() else Subscription.objects.get()
    response = client.post(token_path(sub, "manage"), fields)
    assert response.status_code in (302, 400)
    assert "<script>" not in response.content.decode()


# --- reading preferences (the services the forms call) ---


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("cs.cl", "cs.CL"),
        ("CS.CL", "cs.CL"),
        ("math.ap", "math.AP"),
        ("astro-ph.ga", "astro-ph.GA"),
        ("q-bio.nc", "q-bio.NC"),
        ("physics.Optics", "physics.optics"),
        ("cond-mat.Mes-Hall", "cond-mat.mes-hall"),
        ("HEP-TH", "hep-th"),
        ("quant-ph", "quant-ph"),
        ("cs", "cs"),
    ],
)
def test_categories_are_written_as_arxiv_writes_them(typed, stored):
    assert interests.parse_categories(typed) == [stored]


def test_categories_are_split_on_spaces_and_commas_and_deduplicated():
    assert interests.parse_categories(" cs.CL,cs.LG  ;  cs.cl\nhep-th ") == ["cs.CL", "cs.LG", "hep-th"]
    assert interests.parse_categories("") == []


@pytest.mark.parametrize("typed", ["europe/paris", "Europe/Paris", " EUROPE/PARIS "])
def test_time_zones_take_their_usual_spelling(typed):
    assert prefs.parse_time_zone(typed) == "Europe/Paris"


def test_saved_searches_read_their_mode_prefix():
    assert interests.parse_saved_searches("Semantic: a b\nkeyword:c\nd: e\nhybrid: f\nf\n\n  \n") == [
        {"q": "a b", "mode": "semantic"},
        {"q": "c", "mode": "keyword"},
        {"q": "d: e", "mode": "hybrid"},  # not a mode: the colon is part of the search
        {"q": "f", "mode": "hybrid"},
    ]


def test_keywords_are_trimmed_and_deduplicated_whatever_the_case():
    assert interests.parse_keywords("Transformer, attention\r\ntransformer\n, ,") == ["Transformer", "attention"]


def test_authors_match_exactly_in_any_case(corpus):
    assert [a.name for a in interests.parse_authors("zoë müller\n李雷\nZoë Müller")] == ["Zoë Müller", "李雷"]
    with pytest.raises(interests.PreferenceError, match="“Ada”"):
        interests.parse_authors("Ada")  # no partial matches: the digest follows exactly who was named


# --- admin ---


def test_staff_find_subscriptions_and_read_the_send_log_in_the_admin(client):
    admin = User.objects.create_superuser("boss", "boss@example.org", "quiet-lantern-47-orbit")
    client.force_login(admin)
    sub = subscription("reader@example.org", ACTIVE)
    subscription("other@example.org", UNSUBSCRIBED)
    Delivery.objects.create(subscription=sub, period="daily:2026-11-28", status=Delivery.Status.SENT, paper_count=4)
    listing = client.get("/admin/digests/subscription/", {"status__exact": "active", "q": "reader"})
    assert listing.status_code == 200
    assert "reader@example.org" in text(listing) and "other@example.org" not in text(listing)
    assert client.get(f"/admin/digests/subscription/{sub.pk}/change/").status_code == 200
    log = client.get("/admin/digests/delivery/", {"status__exact": "sent"})
    assert log.status_code == 200 and "daily:2026-11-28" in text(log)
    assert client.get("/admin/digests/delivery/add/").status_code == 403
    delivery = Delivery.objects.get()
    assert client.post(f"/admin/digests/delivery/{delivery.pk}/change/", {"status": "failed"}).status_code == 403
    assert Delivery.objects.get().status == Delivery.Status.SENT


# --- staff preview ---


def listed_today(arxiv_id: str) -> None:
    """Put a corpus paper on today's daily list, so a digest has something new."""
    DailyEntry.objects.create(paper=Paper.objects.get(arxiv_id=arxiv_id), day=timezone.localdate(), source="arxiv")


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_user("editor", "editor@example.org", "x", is_staff=True))
    return client


def test_staff_preview_the_digest_a_subscriber_would_get_now(staff_client, corpus, mailoutbox):
    listed_today("2606.00009")
    sub = subscription(categories=["cs.CL"], top_trending=0, hour=0)
    response = staff_client.get("/digest/preview", {"email": "Reader@example.org"})
    html = response.content.decode()
    assert response.status_code == 200
    words = text(response)
    assert "reader@example.org · status: active · digest every day after 00:00 (UTC), period daily:" in words
    assert "List-Unsubscribe-Post List-Unsubscribe=One-Click" in words
    assert f"List-Unsubscribe <{SITE}/digest/unsubscribe/" in words
    assert links.read_token(re.search(r"/digest/unsubscribe/(\S+)>", words)[1], "unsubscribe") == sub
    assert (
        '<iframe class="digest-preview-html"' in html
        and 'src="/digest/preview/html?email=reader%40example.org"' in html
    )
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in html
    title = Paper.objects.get(arxiv_id="2606.00009").title
    assert title in words  # the text part, in the page
    part = staff_client.get("/digest/preview/html", {"email": "reader@example.org"})
    assert part.status_code == 200 and part["Content-Type"].startswith("text/html")
    assert title in unescape(part.content.decode())
    assert (
        "script-src" not in part["Content-Security-Policy"] and "default-src 'none'" in part["Content-Security-Policy"]
    )
    assert "frame-ancestors 'self'" in part["Content-Security-Policy"] and part["X-Frame-Options"] == "SAMEORIGIN"
    assert mailoutbox == [] and Delivery.objects.count() == 0  # nothing sent, nothing recorded


def test_staff_preview_says_when_there_is_nothing_to_send(staff_client, corpus):
    subscription(categories=["math.AP"], top_trending=0, status=UNSUBSCRIBED)
    response = staff_client.get("/digest/preview", {"email": "reader@example.org"})
    assert response.status_code == 200
    assert "no email would be sent" in text(response)
    assert "status: unsubscribed (nothing is sent to this address)" in text(response)
    assert "Nothing new" in staff_client.get("/digest/preview/html", {"email": "reader@example.org"}).content.decode()


@pytest.mark.parametrize(
    "email, status, complaint",
    [("nobody@example.org", 404, "No subscription for nobody@example.org."), ("x\r\ny", 400, "line breaks")],
)
def test_staff_preview_of_an_unknown_or_bad_address(staff_client, email, status, complaint):
    response = staff_client.get("/digest/preview", {"email": email})
    assert response.status_code == status and complaint in text(response)
    assert staff_client.get("/digest/preview/html", {"email": email}).status_code == status
    assert staff_client.get("/digest/preview").status_code == 200  # just the form


def test_only_staff_see_the_preview(client):
    subscription()
    for path in ["/digest/preview?email=reader@example.org", "/digest/preview/html?email=reader@example.org"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/signin?next=")
    client.force_login(make_user())
    for path in ["/digest/preview?email=reader@example.org", "/digest/preview/html?email=reader@example.org"]:
        assert client.get(path).status_code == 404
