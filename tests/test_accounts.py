"""Accounts: sign up, confirm the email address, sign in by password or emailed link, sign out, reset and change a
password, settings and profiles — and what a stranger must not learn or be able to do with them."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import user_logged_in, user_login_failed
from django.contrib.auth.models import User
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone

from paperfeed.community.models import Collection, Profile, RateEvent
from paperfeed.community.services import accounts, throttle
from paperfeed.community.services.accounts import email_confirmation_tokens, sign_in_link_tokens, uid_for
from paperfeed.papers.models import DailyEntry, Paper, Vote
from paperfeed.web import safe_next

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Django's real hasher takes most of a second per password: these tests check flows, not hashing strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


PASSWORD = "quiet-lantern-47-orbit"
SITE = settings.PAPERFEED_SITE_URL


def make_user(username="ada", email="ada@example.org", password=PASSWORD, verified=False, **profile) -> User:
    user = User.objects.create_user(username=username, email=email, password=password)
    Profile.objects.create(user=user, email_verified=verified, **profile)
    return user


def page(response) -> str:
    """The page's HTML with what differs between any two responses (CSRF tokens) taken out."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def text(response) -> str:
    """The page's words: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def link_in(mail) -> str:
    found = re.findall(r"https?://\S+/accounts/\S+", mail.body)
    assert len(found) == 1, mail.body
    return found[0]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def expired(tokens, user) -> str:
    """A token the generator made for `user` one second longer ago than it accepts."""
    now = tokens._num_seconds(tokens._now())
    return tokens._make_token_with_timestamp(user, now - tokens.timeout_seconds() - 1, tokens.secret)


def sign_up(client, **fields):
    data = {"username": "ada", "email": "ada@example.org", "password": PASSWORD, "display_name": "Ada Lovelace"}
    return client.post("/accounts/signup", {**data, **fields})


def sign_in(client, login="ada", password=PASSWORD, **data):
    return client.post("/accounts/signin", {"login": login, "password": password, **data})


def signed_in_as(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


# --- sign up ---


def test_sign_up_creates_the_account_signs_in_and_emails_a_confirmation_link(client, mailoutbox):
    response = sign_up(client, next="/trending?x=1")
    assert response.status_code == 302 and response["Location"] == "/trending?x=1"
    user = User.objects.get(username="ada")
    assert user.email == "ada@example.org" and user.check_password(PASSWORD)
    assert user.profile.display_name == "Ada Lovelace" and not user.profile.email_verified
    assert signed_in_as(client) == "ada"
    [mail] = mailoutbox
    assert mail.to == ["ada@example.org"] and mail.subject == "Confirm your email address for paperfeed"
    assert link_in(mail).startswith(f"{SITE}/accounts/verify/")
    home = client.get("/trending?x=1")
    assert "Check your inbox to confirm ada@example.org" in text(home)
    assert "not comment or submit" in text(home)


def test_sign_up_without_next_goes_home_and_display_name_is_optional(client):
    response = sign_up(client, display_name="")
    assert response.status_code == 302 and response["Location"] == "/"
    assert User.objects.get(username="ada").profile.display_name == ""


@pytest.mark.parametrize(
    "username, complaint",
    [
        ("ab", "A username has 3 to 30 characters; this one has 2."),
        ("a" * 31, "A username has 3 to 30 characters; this one has 31."),
        ("has space", "A username cannot contain a space: use letters, digits, dots, dashes or underscores."),
        ("ümlaut", "A username cannot contain “ü”"),
        ("ada@home", "A username cannot contain “@”"),
        ("ada/x", "A username cannot contain “/”"),
        ("<b>", "A username cannot contain “<”, “>”:"),
        ("-dash", "Start the username with a letter or digit."),
        (".dot", "Start the username with a letter or digit."),
        ("Admin", "That username is reserved."),
        ("paperfeed", "That username is reserved."),
    ],
)
def test_sign_up_refuses_usernames_outside_the_rules(client, username, complaint):
    response = sign_up(client, username=username)
    assert response.status_code == 200 and complaint in text(response)
    assert not User.objects.exists()


@pytest.mark.parametrize("username", ["abc", "a" * 30, "ada.l", "ada_l", "ada-l", "7ada"])
def test_sign_up_accepts_usernames_within_the_rules(client, username):
    assert sign_up(client, username=username).status_code == 302
    assert User.objects.filter(username=username).exists()


def test_sign_up_username_is_unique_whatever_its_case(client):
    make_user("Ada", "other@example.org")
    response = sign_up(client, username="aDA")
    assert "That username is taken" in text(response)
    assert User.objects.count() == 1


def test_sign_up_email_is_unique_whatever_its_case(client, mailoutbox):
    make_user("grace", "ada@example.org")
    response = sign_up(client, email="ADA@Example.ORG")
    assert response.status_code == 200
    assert "An account with this email address already exists: sign in, or reset your password" in text(response)
    assert User.objects.count() == 1 and mailoutbox == []


def test_the_database_holds_one_account_per_address_even_when_the_form_is_raced():
    accounts.create_account("ada", "Ada@example.org", PASSWORD)
    with pytest.raises(accounts.AccountTaken):
        accounts.create_account("grace", "ada@EXAMPLE.org", PASSWORD)
    assert list(User.objects.values_list("username", flat=True)) == ["ada"]


@pytest.mark.parametrize(
    "password, complaint",
    [
        ("12345678", "This password is entirely numeric."),
        ("short", "This password is too short."),
        ("password123", "This password is too common."),
        ("ada.lovelace.1", "The password is too similar to the username."),
    ],
)
def test_sign_up_checks_the_password_with_djangos_validators(client, password, complaint):
    response = sign_up(client, username="ada.lovelace", password=password)
    assert response.status_code == 200 and complaint in text(response)
    assert not User.objects.exists()


def test_sign_up_form_keeps_what_was_typed_except_the_password(client):
    response = sign_up(client, username="x", email="not-an-email")
    html = page(response)
    assert 'value="x"' in html and 'value="not-an-email"' in html and PASSWORD not in html
    assert "Enter a valid email address." in text(response)
    assert "Please correct what is marked below." in text(response)


def test_sign_up_is_limited_per_client_ip(client):
    for n in range(accounts.SIGN_UPS_PER_IP.limit):
        assert sign_up(client, username=f"user{n}", email=f"user{n}@example.org").status_code == 302
    response = sign_up(client, username="onemore", email="onemore@example.org")
    assert response.status_code == 429
    assert "Many accounts were created from your network in the last hour" in text(response)
    assert not User.objects.filter(username="onemore").exists()
    other = sign_up(Client(REMOTE_ADDR="10.0.0.9"), username="onemore", email="onemore@example.org")
    assert other.status_code == 302


def test_sign_up_page_links_to_sign_in_keeping_next(client):
    response = client.get("/accounts/signup?next=/papers/2606.00001")
    assert response.status_code == 200
    assert 'href="/accounts/signin?next=/papers/2606.00001"' in page(response)
    assert 'name="next" value="/papers/2606.00001"' in page(response)


# --- confirming the email address ---


def test_confirmation_link_shows_a_button_and_the_post_confirms(client, mailoutbox):
    sign_up(client)
    url = link_in(mailoutbox[0])
    shown = client.get(path_of(url))
    assert shown.status_code == 200 and "Confirm ada@example.org" in text(shown)
    assert not Profile.objects.get(user__username="ada").email_verified  # a mail scanner's GET changes nothing
    done = client.post(path_of(url))
    assert done.status_code == 302 and done["Location"] == "/accounts/settings"
    assert Profile.objects.get(user__username="ada").email_verified
    assert "ada@example.org is confirmed" in text(client.get("/accounts/settings"))


def test_a_used_confirmation_link_stops_working(client, mailoutbox):
    sign_up(client)
    url = path_of(link_in(mailoutbox[0]))
    client.post(url)
    stranger = Client()
    assert stranger.post(url).status_code == 400
    assert stranger.get(url).status_code == 400
    # its owner, signed in, is told the address is confirmed rather than shown an error
    response = client.get(url, follow=True)
    assert "Your email address is already confirmed." in text(response)


def test_confirmation_link_works_signed_out_too(mailoutbox):
    user = make_user()
    url = f"/accounts/verify/{uid_for(user)}/{email_confirmation_tokens.make_token(user)}"
    response = Client().post(url)
    assert response.status_code == 302 and response["Location"] == "/"
    assert Profile.objects.get(user=user).email_verified


def test_confirmation_link_dies_when_the_email_address_changes():
    user = make_user()
    token = email_confirmation_tokens.make_token(user)
    user.email = "ada@elsewhere.org"
    user.save()
    assert Client().get(f"/accounts/verify/{uid_for(user)}/{token}").status_code == 400


def test_expired_confirmation_link_gets_a_clear_page_and_a_resend_button(client, mailoutbox):
    user = make_user()
    client.force_login(user)
    response = client.get(f"/accounts/verify/{uid_for(user)}/{expired(email_confirmation_tokens, user)}")
    assert response.status_code == 400
    assert "This link does not work any more" in text(response)
    assert 'action="/accounts/verify/resend"' in page(response) and "Send me a new link" in text(response)
    assert not Profile.objects.get(user=user).email_verified


@pytest.mark.parametrize(
    "uid, token",
    [
        ("MQ", "bad-token"),
        ("MQ", "zzzzzz-0123456789abcdef0123"),
        ("!!!!", "abc-def"),
        ("", "x"),
        ("OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "abc-def"),  # a uid far beyond any integer column
        ("w4k", "abc-def"),  # decodes to bytes that are not UTF-8
        ("MQ", "-"),
        ("MQ", "abc"),
    ],
)
def test_damaged_confirmation_links_get_the_400_page_never_a_500(client, uid, token):
    make_user()
    response = client.get(f"/accounts/verify/{uid}/{token}")
    assert response.status_code in (400, 404)
    if response.status_code == 400:
        assert "This link does not work any more" in text(response)
        # signed out: no resend button, but a way to get there
        assert "Sign in to ask for a new link" in text(response)
    assert client.post(f"/accounts/verify/{uid}/{token}").status_code in (400, 404)


def test_a_tampered_confirmation_link_confirms_nothing(client):
    user = make_user()
    token = email_confirmation_tokens.make_token(user)
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert client.post(f"/accounts/verify/{uid_for(user)}/{tampered}").status_code == 400
    other = make_user("grace", "grace@example.org")
    assert client.post(f"/accounts/verify/{uid_for(other)}/{token}").status_code == 400
    assert not Profile.objects.filter(email_verified=True).exists()


def test_resend_sends_a_fresh_link_and_is_limited(client, mailoutbox):
    sign_up(client)  # the first link counts toward the limit
    for _ in range(accounts.CONFIRMATIONS_PER_USER.limit - 1):
        response = client.post("/accounts/verify/resend")
        assert response.status_code == 302 and response["Location"] == "/accounts/settings"
    assert len(mailoutbox) == accounts.CONFIRMATIONS_PER_USER.limit
    refused = client.post("/accounts/verify/resend", follow=True)
    assert "We have sent you several confirmation links in the last hour" in text(refused)
    assert "ask again in 60 minutes" in text(refused)
    assert len(mailoutbox) == accounts.CONFIRMATIONS_PER_USER.limit
    # every link sent works (until one is used)
    client.post(path_of(link_in(mailoutbox[1])))
    assert Profile.objects.get(user__username="ada").email_verified


def test_resend_when_already_confirmed_says_so(client, mailoutbox):
    client.force_login(make_user(verified=True))
    response = client.post("/accounts/verify/resend", follow=True)
    assert "Your email address is already confirmed." in text(response) and mailoutbox == []


def test_resend_needs_a_signed_in_user_and_a_post(client):
    response = client.post("/accounts/verify/resend")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/signin?next=")
    client.force_login(make_user())
    assert client.get("/accounts/verify/resend")["Location"] == "/accounts/settings"


# --- signing in with a password ---


@pytest.mark.parametrize("login", ["ada", "ADA", "ada@example.org", "Ada@Example.org", "  ada  "])
def test_sign_in_with_username_or_email_in_any_case(client, login):
    make_user()
    response = sign_in(client, login=login, next="/papers/2606.00001")
    assert response.status_code == 302 and response["Location"] == "/papers/2606.00001"
    assert signed_in_as(client) == "ada"
    assert "Signed in as ada." in text(client.get("/trending"))


def test_sign_in_sends_an_unsafe_next_home(client):
    make_user()
    assert sign_in(client, next="https://evil.example/x")["Location"] == "/"


def test_wrong_password_and_unknown_account_get_the_same_page(client):
    make_user()
    wrong = sign_in(client, login="ada", password="not-it-at-all")
    unknown = sign_in(client, login="bob", password="not-it-at-all")
    assert wrong.status_code == unknown.status_code == 200
    assert "That username or email and password do not match." in text(wrong)
    assert page(wrong).replace('value="ada"', "") == page(unknown).replace('value="bob"', "")
    assert signed_in_as(client) is None


def test_sign_in_page_shows_the_same_for_an_email_with_and_without_account(client):
    make_user()
    known = sign_in(client, login="ada@example.org", password="nope-nope-nope")
    unknown = sign_in(client, login="bob@example.org", password="nope-nope-nope")
    assert known.status_code == unknown.status_code
    assert page(known).replace("ada@", "X@") == page(unknown).replace("bob@", "X@")
    # the address typed is ready in the "email me a link" form
    assert 'name="email" value="bob@example.org"' in page(unknown)


def test_an_inactive_account_cannot_sign_in_and_is_not_told_apart(client):
    user = make_user()
    user.is_active = False
    user.save()
    response = sign_in(client)
    assert response.status_code == 200 and "do not match" in text(response)
    assert signed_in_as(client) is None


def test_a_banned_user_can_still_sign_in_and_read(client):
    make_user(banned=True)
    assert sign_in(client).status_code == 302 and signed_in_as(client) == "ada"
    assert client.get("/accounts/settings").status_code == 200


def count_password_checks():
    """How many times Django checked credentials and found them wrong, from here on."""
    seen = []

    def receiver(**kwargs):
        seen.append(kwargs)

    user_login_failed.connect(receiver, weak=False)
    return seen, lambda: user_login_failed.disconnect(receiver)


@pytest.mark.parametrize("login", ["ada", "nobody-here"])
def test_failed_sign_ins_are_limited_per_identifier_even_for_the_right_password(client, login):
    make_user()
    for _ in range(accounts.FAILED_SIGN_INS_PER_IDENTIFIER.limit):
        assert sign_in(client, login=login, password="wrong-wrong-wrong").status_code == 200
    checks, stop = count_password_checks()
    try:
        refused = sign_in(client, login=login, password=PASSWORD)
    finally:
        stop()
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes, or sign in with an email link." in text(refused)
    assert checks == []  # refused before any password was looked at
    assert signed_in_as(client) is None
    # the same identifier in other letter case is the same identifier
    assert sign_in(client, login=login.upper(), password=PASSWORD).status_code == 429


def test_refusal_reads_the_same_whether_or_not_the_account_exists(client):
    make_user()
    for login in ("ada", "nobody-here"):
        for _ in range(accounts.FAILED_SIGN_INS_PER_IDENTIFIER.limit):
            sign_in(client, login=login, password="wrong-wrong-wrong")
    known = sign_in(client, login="ada", password="wrong-wrong-wrong")
    unknown = sign_in(client, login="nobody-here", password="wrong-wrong-wrong")
    assert known.status_code == unknown.status_code == 429
    assert page(known).replace('value="ada"', "") == page(unknown).replace('value="nobody-here"', "")


def test_the_limit_lifts_when_the_failures_leave_the_window(client):
    make_user()
    for _ in range(accounts.FAILED_SIGN_INS_PER_IDENTIFIER.limit):
        sign_in(client, password="wrong-wrong-wrong")
    assert sign_in(client).status_code == 429
    first = RateEvent.objects.filter(scope=accounts.FAILED_SIGN_INS_PER_IDENTIFIER.scope).order_by("at").first()
    first.at -= accounts.FAILED_SIGN_INS_PER_IDENTIFIER.window
    first.save()
    assert sign_in(client).status_code == 302


def test_the_wait_counts_down(client):
    make_user()
    for _ in range(accounts.FAILED_SIGN_INS_PER_IDENTIFIER.limit):
        sign_in(client, password="wrong-wrong-wrong")
    RateEvent.objects.update(at=timezone.now() - timedelta(minutes=14, seconds=10))
    assert "Try again in 1 minute, or" in text(sign_in(client))


def test_a_successful_sign_in_forgets_earlier_failures_for_that_identifier(client):
    make_user()
    for _ in range(accounts.FAILED_SIGN_INS_PER_IDENTIFIER.limit - 1):
        sign_in(client, password="wrong-wrong-wrong")
    assert sign_in(client).status_code == 302
    client.post("/accounts/signout")
    for _ in range(accounts.FAILED_SIGN_INS_PER_IDENTIFIER.limit - 1):
        sign_in(client, password="wrong-wrong-wrong")
    assert sign_in(client).status_code == 302


def test_failed_sign_ins_are_limited_per_client_ip(client):
    make_user()
    for n in range(accounts.FAILED_SIGN_INS_PER_IP.limit):
        sign_in(client, login=f"guess{n}", password="wrong-wrong-wrong")
    refused = sign_in(client)
    assert refused.status_code == 429 and "Too many failed sign-in attempts" in text(refused)
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    assert sign_in(elsewhere).status_code == 302


def test_sign_in_form_errors_are_friendly(client):
    response = client.post("/accounts/signin", {"login": "", "password": ""})
    assert response.status_code == 200 and "This field is required." in text(response)


def test_sign_in_page_offers_reset_link_and_sign_up(client):
    response = client.get("/accounts/signin?next=/trending")
    html = page(response)
    assert response.status_code == 200
    assert 'href="/accounts/password/reset"' in html
    assert 'href="/accounts/signup?next=/trending"' in html
    assert 'action="/accounts/signin/link"' in html and "Email me a sign-in link" in text(response)
    assert html.count('name="next" value="/trending"') == 2


def test_login_url_is_the_sign_in_page(client):
    response = client.get("/accounts/settings")
    assert response.status_code == 302 and response["Location"] == "/accounts/signin?next=/accounts/settings"


# --- signing in with an emailed link ---


def ask_for_link(client, email="ada@example.org", **data):
    """Ask for a sign-in link (a task sends the email; this suite runs tasks as they are enqueued)."""
    return client.post("/accounts/signin/link", {"email": email, **data})


def test_sign_in_link_is_emailed_shows_a_button_signs_in_once_and_confirms_the_address(client, mailoutbox):
    make_user()
    response = ask_for_link(client, next="/trending")
    assert response.status_code == 302 and response["Location"] == "/accounts/signin/link/sent"
    [mail] = mailoutbox
    assert mail.to == ["ada@example.org"] and mail.subject == "Your paperfeed sign-in link"
    url = link_in(mail)
    assert url.startswith(f"{SITE}/accounts/signin/link/") and url.endswith("?next=/trending")
    assert "within 15 minutes" in mail.body
    shown = client.get(path_of(url))
    assert shown.status_code == 200 and "Sign in as ada" in text(shown)
    assert signed_in_as(client) is None  # a mail scanner's GET signs nobody in
    used = client.post(path_of(url))
    assert used.status_code == 302 and used["Location"] == "/trending"
    assert signed_in_as(client) == "ada"
    assert Profile.objects.get(user__username="ada").email_verified
    # once only: for anyone
    assert client.post(path_of(url)).status_code == 400
    again = Client().get(path_of(url))
    assert again.status_code == 400 and "Sign-in links work once" in text(again)


def test_sign_in_link_answer_is_the_same_whether_or_not_an_account_exists(client, mailoutbox):
    make_user()
    known = ask_for_link(client, "ada@example.org")
    unknown = ask_for_link(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 302 and known["Location"] == unknown["Location"]
    assert len(mailoutbox) == 1
    sent = client.get(known["Location"])
    assert "If an account uses that email address, we have sent it a sign-in link." in text(sent)
    assert "within 15 minutes" in text(sent)


def test_sign_in_links_are_limited_per_address_silently(client, mailoutbox):
    make_user()
    answers = {ask_for_link(client, "Ada@example.org")["Location"] for _ in range(5)}
    assert answers == {"/accounts/signin/link/sent"}
    assert len(mailoutbox) == accounts.SIGN_IN_LINKS_PER_ADDRESS.limit


def test_sign_in_links_are_limited_per_client_ip_silently(client, mailoutbox):
    make_user()
    for n in range(accounts.SIGN_IN_LINKS_PER_IP.limit):
        ask_for_link(client, f"someone{n}@example.org")
    assert ask_for_link(client)["Location"] == "/accounts/signin/link/sent"
    assert mailoutbox == []
    ask_for_link(Client(REMOTE_ADDR="192.0.2.8"))
    assert len(mailoutbox) == 1


def test_an_expired_sign_in_link_does_not_work(client):
    user = make_user()
    response = client.post(f"/accounts/signin/link/{uid_for(user)}/{expired(sign_in_link_tokens, user)}")
    assert response.status_code == 400 and signed_in_as(client) is None
    fresh = sign_in_link_tokens._make_token_with_timestamp(
        user, sign_in_link_tokens._num_seconds(sign_in_link_tokens._now()) - 60, sign_in_link_tokens.secret
    )
    assert client.post(f"/accounts/signin/link/{uid_for(user)}/{fresh}").status_code == 302


def test_sign_in_link_timeout_is_its_own_setting(settings):
    user = make_user()
    now = sign_in_link_tokens._num_seconds(sign_in_link_tokens._now())
    ten_minutes_old = sign_in_link_tokens._make_token_with_timestamp(user, now - 600, sign_in_link_tokens.secret)
    settings.SIGN_IN_LINK_TIMEOUT = 300
    assert not sign_in_link_tokens.check_token(user, ten_minutes_old)
    settings.SIGN_IN_LINK_TIMEOUT = 900
    assert sign_in_link_tokens.check_token(user, ten_minutes_old)


def test_signing_in_with_a_password_ends_earlier_sign_in_links(client):
    user = make_user()
    token = sign_in_link_tokens.make_token(user)
    sign_in(client)
    assert Client().post(f"/accounts/signin/link/{uid_for(user)}/{token}").status_code == 400


def test_link_tokens_do_not_cross_over():
    user = make_user()
    sign_in_token = sign_in_link_tokens.make_token(user)
    confirm_token = email_confirmation_tokens.make_token(user)
    client = Client()
    assert client.post(f"/accounts/verify/{uid_for(user)}/{sign_in_token}").status_code == 400
    assert client.post(f"/accounts/signin/link/{uid_for(user)}/{confirm_token}").status_code == 400
    assert client.post(f"/accounts/password/reset/{uid_for(user)}/{confirm_token}").status_code == 400


@pytest.mark.parametrize("uid, token", [("MQ", "nope"), ("xx", "1-2"), ("OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "a-b")])
def test_damaged_sign_in_links_get_the_400_page(client, uid, token):
    make_user()
    for method in (client.get, client.post):
        response = method(f"/accounts/signin/link/{uid}/{token}")
        assert response.status_code == 400 and "Get a new sign-in link" in text(response)


def test_sign_in_link_request_checks_the_address(client, mailoutbox):
    response = ask_for_link(client, "not an address")
    assert response.status_code == 200 and "Enter a valid email address." in text(response)
    assert mailoutbox == []
    assert client.get("/accounts/signin/link")["Location"] == "/accounts/signin"


def test_sign_in_link_keeps_only_a_safe_next(client, mailoutbox):
    make_user()
    ask_for_link(client, next="//evil.example/x")
    assert "?next=" not in link_in(mailoutbox[0])


# --- signing out ---


def test_sign_out_is_a_post_and_says_so(client):
    client.force_login(make_user())
    shown = client.get("/accounts/signout")
    assert shown.status_code == 200 and signed_in_as(client) == "ada"
    assert 'method="post" action="/accounts/signout"' in page(shown)
    response = client.post("/accounts/signout", {"next": "/trending"})
    assert response.status_code == 302 and response["Location"] == "/trending"
    assert signed_in_as(client) is None
    assert "You are signed out." in text(client.get("/trending"))
    assert client.get("/accounts/signout")["Location"] == "/"


# --- password reset ---


def ask_for_reset(client, email="ada@example.org"):
    """Ask for a password reset (a task sends the email; this suite runs tasks as they are enqueued)."""
    return client.post("/accounts/password/reset", {"email": email})


def test_password_reset_by_email_link_sets_a_new_password_and_signs_in(client, mailoutbox):
    make_user()
    response = ask_for_reset(client)
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent"
    [mail] = mailoutbox
    assert mail.subject == "Reset your paperfeed password" and "Your username is ada." in mail.body
    url = link_in(mail)
    assert url.startswith(f"{SITE}/accounts/password/reset/")
    form = client.get(path_of(url), follow=True)
    assert form.status_code == 200 and "Choose a new password" in text(form)
    form_url = form.redirect_chain[-1][0]
    assert form_url.endswith("/set-password")  # the token left the address bar (and Referer headers)
    new = "another-quiet-lantern-99"
    done = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/done"
    assert signed_in_as(client) == "ada"
    assert "Your new password is set" in text(client.get(done["Location"]))
    user = User.objects.get(username="ada")
    assert user.check_password(new) and user.profile.email_verified
    # the link worked once
    assert Client().get(path_of(url)).status_code == 400


def test_password_reset_answer_is_the_same_whether_or_not_an_account_exists(client, mailoutbox):
    make_user()
    known, unknown = ask_for_reset(client), ask_for_reset(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 302 and known["Location"] == unknown["Location"]
    assert len(mailoutbox) == 1
    sent = client.get(known["Location"])
    assert "If an account uses that email address, we have sent it a link to choose a new password." in text(sent)


def test_password_reset_is_limited_per_address_silently(client, mailoutbox):
    make_user()
    answers = {ask_for_reset(client)["Location"] for _ in range(5)}
    assert answers == {"/accounts/password/reset/sent"}
    assert len(mailoutbox) == accounts.RESETS_PER_ADDRESS.limit


@pytest.mark.parametrize("uid, token", [("MQ", "1-2"), ("zz", "set-password"), ("MQ", "set-password")])
def test_damaged_reset_links_get_the_400_page(client, uid, token):
    make_user()
    response = client.get(f"/accounts/password/reset/{uid}/{token}")
    assert response.status_code == 400 and "Get a new reset link" in text(response)


def test_password_reset_form_rejects_a_weak_password(client, mailoutbox):
    make_user()
    ask_for_reset(client)
    form_url = client.get(path_of(link_in(mailoutbox[0])), follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200 and "This password is entirely numeric." in text(response)


# --- settings and password change ---


def test_settings_show_the_address_and_whether_it_is_confirmed(client):
    client.force_login(make_user())
    response = client.get("/accounts/settings")
    assert response.status_code == 200
    assert "ada@example.org not confirmed yet" in text(response)
    assert 'action="/accounts/verify/resend"' in page(response)
    assert 'href="/accounts/password/change"' in page(response)
    Profile.objects.filter(user__username="ada").update(email_verified=True)
    response = client.get("/accounts/settings")
    assert "ada@example.org confirmed" in text(response) and "/accounts/verify/resend" not in page(response)


def test_settings_save_display_name_and_affiliation(client):
    client.force_login(make_user())
    response = client.post("/accounts/settings", {"display_name": "  Ada L.  ", "affiliation": "Analytical Engines"})
    assert response.status_code == 302 and response["Location"] == "/accounts/settings"
    profile = Profile.objects.get(user__username="ada")
    assert (profile.display_name, profile.affiliation) == ("Ada L.", "Analytical Engines")
    shown = client.get("/accounts/settings")
    assert "Your settings are saved." in text(shown) and 'value="Analytical Engines"' in page(shown)


def test_settings_refuse_an_overlong_name(client):
    client.force_login(make_user())
    response = client.post("/accounts/settings", {"display_name": "x" * 101, "affiliation": ""})
    assert response.status_code == 200 and "at most 100 characters" in text(response)


def test_settings_work_for_accounts_made_without_a_profile(client):
    user = User.objects.create_superuser("root2", "root2@example.org", PASSWORD)
    client.force_login(user)
    assert client.get("/accounts/settings").status_code == 200


def test_password_change_keeps_you_signed_in_and_ends_old_links(client):
    user = make_user()
    old_link = sign_in_link_tokens.make_token(user)
    client.force_login(user)
    assert client.get("/accounts/password/change").status_code == 200
    new = "another-quiet-lantern-99"
    response = client.post(
        "/accounts/password/change", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/settings"
    assert signed_in_as(client) == "ada"
    assert "Your password is changed." in text(client.get("/accounts/settings"))
    assert Client().post(f"/accounts/signin/link/{uid_for(user)}/{old_link}").status_code == 400


def test_password_change_needs_the_current_password(client):
    client.force_login(make_user())
    response = client.post(
        "/accounts/password/change",
        {"old_password": "nope", "new_password1": "x-Y-z-123456", "new_password2": "x-Y-z-123456"},
    )
    assert response.status_code == 200 and "Your old password was entered incorrectly" in text(response)


# --- profiles ---


def test_profile_shows_who_and_what_they_upvoted_submitted_and_collected(client, corpus):
    ada = make_user(display_name="Ada Lovelace", affiliation="Analytical Engines")
    papers = {p.arxiv_id: p for p in Paper.objects.all()}
    now = timezone.now()
    for minutes_ago, arxiv_id in [(30, "2606.00001"), (10, "2606.00002"), (20, "2606.00003"), (5, "2606.00007")]:
        Vote.objects.create(user=ada, paper=papers[arxiv_id], created_at=now - timedelta(minutes=minutes_ago))
    Paper.objects.filter(arxiv_id="2606.00007").update(hidden=True)
    DailyEntry.objects.create(
        paper=papers["2606.00009"], day=now.date(), source=DailyEntry.Source.SUBMISSION, submitted_by=ada
    )
    Collection.objects.create(owner=ada, name="Reading group", slug="reading-group", public=True)
    Collection.objects.create(owner=ada, name="Secret drafts", slug="secret-drafts", public=False)

    response = client.get("/users/ada")
    assert response.status_code == 200
    words = text(response)
    assert "Ada Lovelace @ada" in words and "Analytical Engines" in words
    upvoted = page(response).split('id="upvoted-h"')[1]
    order = [m for m in re.findall(r'href="/papers/([^"#]+)"', upvoted)]
    assert order == ["2606.00002", "2606.00003", "2606.00001"]  # most recent first, the hidden paper left out
    submitted = page(response).split('id="submitted-h"')[1].split('id="upvoted-h"')[0]
    assert re.findall(r'href="/papers/([^"#]+)"', submitted) == ["2606.00009"]
    assert 'href="/users/ada/collections/reading-group"' in page(response)
    assert "Secret drafts" not in words

    client.force_login(ada)
    own = client.get("/users/ada")
    assert "Secret drafts" in text(own) and "private" in text(own)
    assert 'href="/users/ada/collections/secret-drafts"' in page(own)
    assert "This is you: edit your profile" in text(own)


def test_profile_of_someone_new_says_there_is_nothing_yet(client):
    make_user("grace", "grace@example.org")
    words = text(client.get("/users/grace"))
    assert "No public collections." in words and "No submitted papers yet." in words
    assert "No upvoted papers yet." in words


def test_unknown_user_gets_the_404_page(client):
    response = client.get("/users/nobody")
    assert response.status_code == 404 and "There is no user called nobody." in text(response)


def test_profile_address_in_another_case_redirects_to_the_username(client):
    make_user()
    response = client.get("/users/ADA")
    assert response.status_code == 301 and response["Location"] == "/users/ada"


def test_what_users_write_about_themselves_is_escaped(client):
    evil = "<script>alert(1)</script>"
    user = make_user(display_name=evil, affiliation='"><img src=x onerror=alert(1)>')
    client.force_login(user)
    for url in ("/users/ada", "/accounts/settings", "/trending"):
        html = client.get(url).content.decode()
        assert evil not in html and "<img src=x" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/users/ada").content.decode()


def test_messages_are_escaped_too(client):
    # a username cannot hold markup, but an email address's local part can hold quotes
    sign_up(client, username="ada", email='"<b>x</b>"@example.org')
    html = client.get("/").content.decode()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


# --- the nav ---


def test_nav_signed_out_offers_sign_in_and_up_coming_back_here(client):
    html = page(client.get("/trending?x=1"))
    assert 'href="/accounts/signin?next=/trending%3Fx%3D1"' in html
    assert 'href="/accounts/signup?next=/trending%3Fx%3D1"' in html
    home = page(client.get("/"))
    assert 'href="/accounts/signin"' in home  # nothing to come back to on the home page


def test_nav_on_the_sign_in_page_keeps_where_the_visitor_was_going(client):
    html = page(client.get("/accounts/signin?next=/trending"))
    assert 'href="/accounts/signup?next=/trending"' in html
    assert "next=/accounts/signin" not in html and "next=%2Faccounts" not in html


def test_nav_signed_in_shows_the_user_settings_and_a_sign_out_button(client):
    client.force_login(make_user())
    html = page(client.get("/trending"))
    assert '<a href="/users/ada">ada</a>' in html
    assert 'href="/accounts/settings"' in html
    assert re.search(r'<form class="signout" method="post" action="/accounts/signout">.*?Sign out</button>', html)
    assert "/accounts/signin" not in html


# --- next= safety ---


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:evil.example",
        "https:/evil.example",
        "http://testserver.evil.example/",
        " //evil.example",
        "",
    ],
)
def test_safe_next_falls_back_for_anything_leaving_the_site(target):
    factory = RequestFactory()
    assert safe_next(factory.get("/", {"next": target})) == "/"
    assert safe_next(factory.post("/", {"next": target}), "/home") == "/home"


@pytest.mark.parametrize("target", ["/trending?x=1", "/papers/2606.00001", "/users/ada#collections"])
def test_safe_next_keeps_paths_on_this_site(target):
    assert safe_next(RequestFactory().get("/", {"next": target})) == target


def test_safe_next_needs_https_on_a_secure_request():
    factory = RequestFactory()
    assert safe_next(factory.get("/", {"next": "http://testserver/x"}, secure=True)) == "/"
    assert safe_next(factory.get("/", {"next": "https://testserver/x"}, secure=True)) == "https://testserver/x"


# --- CSRF ---


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/signup",
        "/accounts/signin",
        "/accounts/signout",
        "/accounts/signin/link",
        "/accounts/verify/resend",
        "/accounts/settings",
        "/accounts/password/reset",
        "/accounts/password/change",
    ],
)
def test_posts_without_a_csrf_token_are_refused(url):
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    data = {"login": "ada", "password": PASSWORD, "email": "ada@example.org", "username": "newone"}
    assert client.post(url, data).status_code == 403
    assert signed_in_as(client) == "ada"


def test_token_links_refuse_posts_without_a_csrf_token(mailoutbox):
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    for url in (
        f"/accounts/signin/link/{uid_for(user)}/{sign_in_link_tokens.make_token(user)}",
        f"/accounts/verify/{uid_for(user)}/{email_confirmation_tokens.make_token(user)}",
    ):
        assert client.post(url).status_code == 403
    assert signed_in_as(client) is None and not Profile.objects.get(user=user).email_verified


def test_the_pages_own_forms_carry_a_csrf_token():
    client = Client(enforce_csrf_checks=True)
    make_user()
    html = client.get("/accounts/signin").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = client.post("/accounts/signin", {"login": "ada", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and signed_in_as(client) == "ada"


# --- the throttle itself ---


def test_throttle_counts_within_the_window_and_cleans_up():
    now = timezone.now()
    throttle.hit("test", "k", at=now - timedelta(hours=2))
    throttle.hit("test", "k", at=now - timedelta(minutes=5))
    throttle.hit("test", "k")
    throttle.hit("test", "other")
    assert throttle.count("test", "k", timedelta(hours=1)) == 2
    assert throttle.allowed("test", "k", 3, timedelta(hours=1))
    assert not throttle.allowed("test", "k", 2, timedelta(hours=1))
    wait = throttle.wait("test", "k", 2, timedelta(hours=1))
    assert timedelta(minutes=54) < wait <= timedelta(minutes=55)
    assert throttle.wait("test", "k", 3, timedelta(hours=1)) == timedelta(0)
    assert throttle.cleanup(older_than=timedelta(hours=1)) == 1
    assert RateEvent.objects.count() == 3


def test_throttle_keys_longer_than_the_column_stay_distinct():
    long_a, long_b = "a" * 300 + "x", "a" * 300 + "y"
    throttle.hit("test", long_a)
    assert throttle.count("test", long_a, timedelta(minutes=1)) == 1
    assert throttle.count("test", long_b, timedelta(minutes=1)) == 0


def test_wait_in_minutes_rounds_up():
    assert throttle.minutes(timedelta(seconds=1)) == 1
    assert throttle.minutes(timedelta(minutes=14, seconds=1)) == 15
    assert throttle.minutes(timedelta(0)) == 1


def test_signals_still_fire_for_real_sign_ins(client):
    make_user()
    seen = []

    def receiver(**kwargs):
        seen.append(kwargs["user"].username)

    user_logged_in.connect(receiver, weak=False)
    try:
        sign_in(client)
    finally:
        user_logged_in.disconnect(receiver)
    assert seen == ["ada"]
    assert User.objects.get(username="ada").last_login is not None


def test_the_database_keeps_usernames_and_emails_unique_whatever_their_case():
    """The form checks first; the indexes hold when two people sign up at the same moment."""
    accounts.create_account("ada", "ada@example.org", "analytical-engine-1843")
    with pytest.raises(accounts.AccountTaken):
        accounts.create_account("ADA", "someone@example.org", "analytical-engine-1843")
    with pytest.raises(accounts.AccountTaken):
        accounts.create_account("countess", "Ada@Example.org", "analytical-engine-1843")
    assert User.objects.count() == 1 and Profile.objects.count() == 1


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy trusted: the header is the client's word, ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # a forged left part is not believed
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.2"),  # fewer entries than proxies: the peer
    ],
)
def test_the_client_address_behind_trusted_proxies(settings, proxies, forwarded, expected):
    settings.PAPERFEED_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.2")
    assert accounts.client_ip(request) == expected


class DownMailServer(locmem.EmailBackend):
    """A mail server that refuses every message while `down` is set."""

    down = False

    def send_messages(self, messages):
        if DownMailServer.down:
            raise ConnectionRefusedError("the mail server is down")
        return super().send_messages(messages)


@pytest.fixture
def database_queue(settings):
    """The production task queue (a table of the site's database) instead of running tasks at once."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker():
    """What `paperfeed worker` does, until the queue holds nothing runnable."""
    call_command("worker", "--batch", verbosity=0)


def queued(status=None) -> list:
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.order_by("enqueued_at")
    return list(rows.filter(status=status) if status else rows)


@pytest.mark.django_db(transaction=True)
def test_emails_leave_from_the_worker_never_from_the_request(client, mailoutbox, database_queue):
    """A known address's answer does not wait for the mail server: the request only enqueues the email."""
    make_user()
    link = client.post("/accounts/signin/link", {"email": "ada@example.org"})
    reset = client.post("/accounts/password/reset", {"email": "ada@example.org"})
    assert link.status_code == reset.status_code == 302
    assert mailoutbox == []  # answered; nothing sent yet
    assert [r.task_path for r in queued("READY")] == ["paperfeed.background.mail.send_email"] * 2
    run_worker()
    assert [m.subject for m in mailoutbox] == ["Your paperfeed sign-in link", "Reset your paperfeed password"]
    assert [r.status for r in queued()] == ["SUCCESSFUL"] * 2


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_is_down_changes_no_answer_and_loses_no_email(
    client, mailoutbox, database_queue, settings, caplog
):
    settings.EMAIL_BACKEND = f"{__name__}.DownMailServer"
    DownMailServer.down = True
    try:
        response = sign_up(client)
        assert response.status_code == 302 and signed_in_as(client) == "ada"
        assert "Check your inbox to confirm ada@example.org" in text(client.get("/"))
        assert ask_for_link(Client())["Location"] == "/accounts/signin/link/sent"
        assert ask_for_reset(Client())["Location"] == "/accounts/password/reset/sent"
        resent = client.post("/accounts/verify/resend", follow=True)
        assert "We have sent a new confirmation link to ada@example.org." in text(resent)
        run_worker()
        # Each attempt failed, is recorded as such, and waits to be tried again later.
        failed = queued("FAILED")
        assert len(failed) == 4
        assert {r.exception_class_path for r in failed} == {"paperfeed.background.mail.MailNotSent"}
        retries = queued("READY")
        assert len(retries) == 4 and all(r.run_after > timezone.now() for r in retries)
        assert [r.args_kwargs["args"][-1] for r in retries] == [2, 2, 2, 2]  # the second attempt of each
        assert "was not sent (the mail server is down); trying again in 60 s" in caplog.text
    finally:
        DownMailServer.down = False
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())  # the retry delay has passed
    run_worker()
    assert sorted(m.subject for m in mailoutbox) == sorted(
        [
            "Confirm your email address for paperfeed",
            "Confirm your email address for paperfeed",
            "Your paperfeed sign-in link",
            "Reset your paperfeed password",
        ]
    )
    run_worker()
    assert len(mailoutbox) == 4  # each sent once


@pytest.mark.django_db(transaction=True)
def test_an_email_whose_link_expired_while_the_mail_server_was_down_is_dropped(mailoutbox, database_queue, caplog):
    from paperfeed.background.mail import queue_email

    queue_email("sign_in_link", "ada@example.org", "Your link", "…", expires=timezone.now() - timedelta(seconds=1))
    run_worker()
    assert mailoutbox == []
    assert "its link expired before the mail server took it" in caplog.text
