"""Accounts: signing up, confirming an email address, signing in by password or emailed link, resetting a password.

Whatever a stranger can ask of an address (a sign-in link, a password reset) gets the same answer whether or not an
account uses it, and the same rate limits apply either way: these pages must not tell who has an account. Every
email is rendered in the request and handed to the task queue (paperfeed.background.mail); a worker sends it after
the answer, retrying while the mail server is down. So the answer takes no longer for a known address either (a
conversation with the mail server takes tens to hundreds of milliseconds), and no email is lost when a web process
is recycled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from paperfeed.background.mail import queue_email
from paperfeed.community.models import Profile
from paperfeed.community.services import throttle
from paperfeed.community.services.permissions import profile_of

# --- rate limits (numbers a site operator may want to know) ---

# Wrong passwords: 5 per identifier typed (username or email, as typed) per 15 minutes, so one account cannot be
# guessed at; 20 per client IP per 15 minutes, so one machine cannot try many accounts (a lab behind one address
# still has room for its people's typos). While refused, the password is not even checked.
FAILED_SIGN_INS_PER_IDENTIFIER = throttle.Limit("signin-fail-id", 5, timedelta(minutes=15))
FAILED_SIGN_INS_PER_IP = throttle.Limit("signin-fail-ip", 20, timedelta(minutes=15))
# Emails a stranger can cause: 3 sign-in links and 3 reset emails per address per hour, 20 of each per client IP
# per hour. Over the limit nothing is sent and the answer is the same, so the limit tells nothing either.
SIGN_IN_LINKS_PER_ADDRESS = throttle.Limit("signin-link-email", 3, timedelta(hours=1))
SIGN_IN_LINKS_PER_IP = throttle.Limit("signin-link-ip", 20, timedelta(hours=1))
RESETS_PER_ADDRESS = throttle.Limit("reset-email", 3, timedelta(hours=1))
RESETS_PER_IP = throttle.Limit("reset-ip", 20, timedelta(hours=1))
# Confirmation emails: 3 per account per hour (the one sent at sign-up counts).
CONFIRMATIONS_PER_USER = throttle.Limit("verify-email-user", 3, timedelta(hours=1))
# New accounts: 20 per client IP per hour (a lab's sign-up day fits, a script filling the site does not).
SIGN_UPS_PER_IP = throttle.Limit("signup-ip", 20, timedelta(hours=1))

# --- usernames ---

USERNAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,29}", re.ASCII)
USERNAME_HELP = "3 to 30 letters, digits, dots, dashes or underscores, starting with a letter or digit."
# Names that would read as the site speaking.
# "mentions": /users/mentions is the mention autocomplete, not a profile.
RESERVED_USERNAMES = frozenset(
    {"admin", "administrator", "mentions", "moderator", "paperfeed", "root", "staff", "support"}
)


def username_problem(username: str) -> str | None:
    """What is wrong with this username for a new account, in words for the person choosing it; None if fine."""
    if not USERNAME_RULE.fullmatch(username):
        return _username_rule_broken(username)
    if username.lower() in RESERVED_USERNAMES:
        return "That username is reserved. Choose another one."
    if User.objects.filter(username__iexact=username).exists():
        return "That username is taken. Choose another one."
    return None


def _username_rule_broken(username: str) -> str:
    """Which part of USERNAME_RULE the username breaks, said plainly."""
    allowed = re.compile(r"[A-Za-z0-9._-]", re.ASCII)
    if bad := list(dict.fromkeys(c for c in username if not allowed.fullmatch(c))):
        shown = ", ".join("a space" if c.isspace() else f"“{c}”" for c in bad[:5])
        return f"A username cannot contain {shown}: use letters, digits, dots, dashes or underscores."
    if not 3 <= len(username) <= 30:
        return f"A username has 3 to 30 characters; this one has {len(username)}."
    return "Start the username with a letter or digit."


def normalize_email(email: str) -> str:
    """The address as stored: trimmed, with its domain in lower case (the local part is the owner's business)."""
    return User.objects.normalize_email(email.strip())


def email_taken(email: str) -> bool:
    """Whether an account already uses this address, whatever its case."""
    return User.objects.filter(email__iexact=email.strip()).exists()


EMAIL_TAKEN = "An account with this email address already exists: sign in, or reset your password if you forgot it."


def password_problems(password: str, username: str = "", email: str = "") -> list[str]:
    """Django's password validators' complaints about this password for this person (empty when it is fine)."""
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as error:
        return list(error.messages)
    return []


class AccountTaken(Exception):
    """The username or email address was taken between the form's check and the insert."""


def sign_up_refusal(ip: str) -> str | None:
    """Why no more accounts may be made from this client IP for now (SIGN_UPS_PER_IP), or None."""
    if SIGN_UPS_PER_IP.allowed(ip):
        return None
    n = throttle.minutes(SIGN_UPS_PER_IP.wait(ip))
    return (
        f"Many accounts were created from your network in the last hour. Please try again in {n} "
        f"minute{'s' if n != 1 else ''}."
    )


def create_account(username: str, email: str, password: str, display_name: str = "", ip: str = "") -> User:
    """A new user with a profile (email not yet confirmed); raises AccountTaken if the name or address is taken.

    `ip`, the client's address, is counted against SIGN_UPS_PER_IP.
    """
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=normalize_email(email), password=password)
            Profile.objects.create(user=user, display_name=display_name.strip())
    except IntegrityError as error:
        raise AccountTaken(str(error)) from None
    if ip:
        SIGN_UPS_PER_IP.hit(ip)
    return user


def find_user(identifier: str) -> User | None:
    """The account a username or email address (any case) names, if one does."""
    identifier = identifier.strip()
    if not identifier:
        return None
    users = list(User.objects.filter(username__iexact=identifier)[:2])
    if len(users) > 1:  # accounts made outside sign-up may differ only in case: the exact name wins
        users = [u for u in users if u.username == identifier]
    if users:
        return users[0]
    if "@" in identifier:
        return User.objects.filter(email__iexact=identifier).first()
    return None


def client_ip(request: HttpRequest) -> str:
    """The address the request came from. Behind PAPERFEED_TRUSTED_PROXIES reverse proxies, it is the address the
    outermost of them saw (counted from the right of X-Forwarded-For: the left part can be forged by the client)."""
    proxies = settings.PAPERFEED_TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"


def absolute_url(path: str) -> str:
    """A link for an email: the site's public address (PAPERFEED_SITE_URL) and a path."""
    return settings.PAPERFEED_SITE_URL + path


def _render(template: str, user: User, context: dict) -> tuple[str, str]:
    """(subject, body) of the email `community/email/<template>` for this user."""
    context = {"user": user, "site_url": settings.PAPERFEED_SITE_URL, **context}
    subject = " ".join(render_to_string(f"community/email/{template}_subject.txt", context).split())
    return subject, render_to_string(f"community/email/{template}.txt", context)


def _queue(template: str, user: User, context: dict, lasts_seconds: int) -> None:
    """Render the email `community/email/<template>` for this user now; a worker sends it, while its link lasts."""
    expires: datetime = timezone.now() + timedelta(seconds=lasts_seconds)
    queue_email(template, user.email, *_render(template, user, context), expires=expires)


# --- one-time links ---


class TimedTokenGenerator(PasswordResetTokenGenerator):
    """A token generator whose tokens last `timeout_seconds()`, not necessarily PASSWORD_RESET_TIMEOUT."""

    def timeout_seconds(self) -> int:
        return settings.PASSWORD_RESET_TIMEOUT

    def check_token(self, user: User | None, token: str | None) -> bool:
        """Whether the token was made for this user's current state, within the timeout."""
        if not (user and token and isinstance(token, str)):
            return False
        try:
            ts_b36, _ = token.split("-")
            timestamp = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token):
                break
        else:
            return False
        age = self._num_seconds(self._now()) - timestamp
        return 0 <= age <= self.timeout_seconds()


class EmailConfirmationTokens(TimedTokenGenerator):
    """Tokens for "confirm your email address" links: they die once the address is confirmed or changed."""

    key_salt = "paperfeed.community.accounts.EmailConfirmationTokens"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{user.pk}|{user.email}|{profile_of(user).email_verified}|{timestamp}"


class SignInLinkTokens(TimedTokenGenerator):
    """Tokens for one-time sign-in links: signing in changes last_login, which kills every earlier link."""

    key_salt = "paperfeed.community.accounts.SignInLinkTokens"

    def timeout_seconds(self) -> int:
        return settings.SIGN_IN_LINK_TIMEOUT

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        # Full precision: a link asked for and used within one second must still work only once.
        last_login = "" if user.last_login is None else user.last_login.isoformat()
        return f"{user.pk}|{user.password}|{last_login}|{user.email}|{user.is_active}|{timestamp}"


email_confirmation_tokens = EmailConfirmationTokens()
sign_in_link_tokens = SignInLinkTokens()


def uid_for(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_for_uid(uidb64: str) -> User | None:
    """The active user a link's uid part names, or None; says nothing about the link's token."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
        return User.objects.get(pk=pk, is_active=True)
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError, User.DoesNotExist):
        return None


def user_from_link(uidb64: str, token: str, tokens: PasswordResetTokenGenerator) -> User | None:
    """The active user a link was made for, if its token is still good; None for any damaged or dead link."""
    user = user_for_uid(uidb64)
    return user if user is not None and tokens.check_token(user, token) else None


# --- confirming the email address ---


def send_confirmation(user: User) -> None:
    """Email the user a link confirming their address (counted against CONFIRMATIONS_PER_USER)."""
    CONFIRMATIONS_PER_USER.hit(str(user.pk))
    path = reverse("verify_email", args=[uid_for(user), email_confirmation_tokens.make_token(user)])
    context = {"link": absolute_url(path), "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)}
    _queue("confirm_email", user, context, settings.PASSWORD_RESET_TIMEOUT)


def resend_confirmation(user: User) -> tuple[bool, str]:
    """Send a new confirmation link if the limit allows: (sent, what to tell the user)."""
    if profile_of(user).email_verified:
        return False, "Your email address is already confirmed."
    if not user.email:
        return False, "Your account has no email address. Ask the site's administrators to add one."
    if not CONFIRMATIONS_PER_USER.allowed(str(user.pk)):
        wait = throttle.minutes(CONFIRMATIONS_PER_USER.wait(str(user.pk)))
        return False, (
            f"We have sent you several confirmation links in the last hour. Check your inbox (and spam folder), "
            f"or ask again in {wait} minute{'s' if wait != 1 else ''}."
        )
    send_confirmation(user)
    return True, f"We have sent a new confirmation link to {user.email}."


def confirm_email(user: User) -> None:
    """Mark the user's email address as confirmed."""
    Profile.objects.update_or_create(user=user, defaults={"email_verified": True})


# --- signing in ---


@dataclass(frozen=True)
class PasswordSignIn:
    """The outcome of a password sign-in: the user, or what to tell the person at the keyboard."""

    user: User | None
    problem: str | None = None
    refused: bool = False  # too many failures: the password was not checked


WRONG_PASSWORD = "That username or email and password do not match. Check them, or sign in with an email link below."


def password_sign_in(request: HttpRequest, identifier: str, password: str) -> PasswordSignIn:
    """Check a password sign-in, within the failure limits; the answer does not depend on the account existing."""
    typed = identifier.strip().lower()
    ip = client_ip(request)
    wait = max(FAILED_SIGN_INS_PER_IDENTIFIER.wait(typed), FAILED_SIGN_INS_PER_IP.wait(ip))
    if wait:
        n = throttle.minutes(wait)
        return PasswordSignIn(
            None,
            f"Too many failed sign-in attempts. Try again in {n} minute{'s' if n != 1 else ''}, "
            "or sign in with an email link.",
            refused=True,
        )
    found = find_user(identifier)
    # Unknown names still go through authenticate(): Django then hashes the password anyway, so the time taken
    # does not tell whether the account exists.
    user = authenticate(request, username=found.username if found else identifier.strip(), password=password)
    if user is None:
        FAILED_SIGN_INS_PER_IDENTIFIER.hit(typed)
        FAILED_SIGN_INS_PER_IP.hit(ip)
        return PasswordSignIn(None, WRONG_PASSWORD)
    FAILED_SIGN_INS_PER_IDENTIFIER.forget(typed)
    return PasswordSignIn(user)


def _within(limits: tuple[throttle.Limit, throttle.Limit], address: str, ip: str) -> bool:
    """Count one email asked for (to `address`, from `ip`) and say whether it may be sent."""
    by_address, by_ip = limits
    address = address.strip().lower()
    ok = by_address.allowed(address) and by_ip.allowed(ip)
    if ok:
        by_address.hit(address)
        by_ip.hit(ip)
    return ok


def _active_user_with_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip(), is_active=True).first()


def send_sign_in_link(email: str, ip: str, next_url: str = "") -> None:
    """Email a one-time sign-in link to the account using this address, if any and if within the limits.

    Says nothing back: the caller tells everyone the same thing.
    """
    if not _within((SIGN_IN_LINKS_PER_ADDRESS, SIGN_IN_LINKS_PER_IP), email, ip):
        return
    user = _active_user_with_email(email)
    if user is None:
        return
    path = reverse("signin_link_use", args=[uid_for(user), sign_in_link_tokens.make_token(user)])
    if next_url:
        path += "?next=" + quote(next_url, safe="/")
    context = {"link": absolute_url(path), "minutes": sign_in_link_minutes()}
    _queue("sign_in_link", user, context, settings.SIGN_IN_LINK_TIMEOUT)


def sign_in_link_minutes() -> int:
    """How long a sign-in link lasts, in whole minutes (for pages and emails)."""
    return max(1, settings.SIGN_IN_LINK_TIMEOUT // 60)


def sign_in_by_link(user: User) -> None:
    """What following a sign-in link proves besides identity: the user reads mail at this address."""
    confirm_email(user)


def send_password_reset(email: str, ip: str) -> None:
    """Email a password-reset link to the account using this address, if any and if within the limits."""
    if not _within((RESETS_PER_ADDRESS, RESETS_PER_IP), email, ip):
        return
    user = _active_user_with_email(email)
    if user is None:
        return
    path = reverse("password_reset_confirm", args=[uid_for(user), default_token_generator.make_token(user)])
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    _queue("password_reset", user, {"link": absolute_url(path), "days": days}, settings.PASSWORD_RESET_TIMEOUT)


# --- settings ---


def update_profile(user: User, display_name: str, affiliation: str) -> Profile:
    """Save what the user says about themselves."""
    profile = profile_of(user)
    profile.display_name = display_name.strip()
    profile.affiliation = affiliation.strip()
    profile.save(update_fields=["display_name", "affiliation"])
    return profile
