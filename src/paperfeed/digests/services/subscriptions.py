"""Subscribing to the email digest, confirming the address, and unsubscribing.

Anyone may ask for the digest with just an email address (double opt-in: nothing is sent but the confirmation until
the address is confirmed). Whatever a stranger asks of an address gets the same answer whether or not it is already
subscribed, and the same rate limits apply either way: the pages must not tell who reads the digest.
Signed links (services/links.py) stand in for an account: whoever holds one received a mail at that address.
What a digest brings is someone's interests (community.services.interests): a member's subscription reads theirs.
"""

from __future__ import annotations

import enum
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from paperfeed.community.models import Profile
from paperfeed.community.services import throttle
from paperfeed.digests.models import Subscription
from paperfeed.digests.services.notices import send_already_subscribed, send_confirmation
from paperfeed.digests.services.preferences import Preferences, apply, clean_address, preferences_of

# --- rate limits (numbers a site operator may want to know) ---

# Emails a stranger can cause by typing an address: 3 per address and 20 per client IP per hour (a lab behind one
# address still has room). Over the limit nothing is sent and the answer is the same, so the limit tells nothing.
EMAILS_PER_ADDRESS = throttle.Limit("digest-email-address", 3, timedelta(hours=1))
EMAILS_PER_IP = throttle.Limit("digest-email-ip", 20, timedelta(hours=1))


def confirm(subscription: Subscription) -> bool:
    """Start the digest for a confirmed address; False if it was already running (confirming twice is harmless)."""
    now = timezone.now()
    changed = (
        Subscription.objects.filter(pk=subscription.pk)
        .exclude(status=Subscription.Status.ACTIVE)
        .update(status=Subscription.Status.ACTIVE, confirmed_at=now, unsubscribed_at=None, bounce_reason="")
    )
    subscription.refresh_from_db()
    return bool(changed)


def unsubscribe(subscription: Subscription) -> bool:
    """Stop the digest; False if it was already stopped (unsubscribing twice is harmless). One quick UPDATE."""
    changed = (
        Subscription.objects.filter(pk=subscription.pk)
        .exclude(status=Subscription.Status.UNSUBSCRIBED)
        .update(status=Subscription.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now())
    )
    subscription.status = Subscription.Status.UNSUBSCRIBED
    return bool(changed)


# --- subscribing ---


class Outcome(enum.Enum):
    """What `subscribe` did, as far as the person asking may know."""

    CHECK_INBOX = "check-inbox"  # a stranger (or an unconfirmed address): the same answer for every address
    SUBSCRIBED = "subscribed"  # a signed-in user's own confirmed address: the digest starts now
    ALREADY_SUBSCRIBED = "already-subscribed"  # ... which was subscribed already


def email_verified(user: AbstractBaseUser) -> bool:
    """Whether the signed-in user confirmed their account's email address (without creating a profile)."""
    return bool(Profile.objects.filter(user=user, email_verified=True).exists()) and bool(user.email)


def owns_address(user: AbstractBaseUser | None, address: str) -> bool:
    """Whether `user` is signed in and has confirmed `address` as their account's email address."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.email
        and user.email.strip().lower() == address
        and email_verified(user)
    )


def _within_limits(address: str, ip: str) -> bool:
    """Count one email asked for (to `address`, from `ip`) and say whether it may be sent."""
    ok = EMAILS_PER_ADDRESS.allowed(address) and EMAILS_PER_IP.allowed(ip)
    if ok:
        EMAILS_PER_ADDRESS.hit(address)
        EMAILS_PER_IP.hit(ip)
    return ok


def _subscription_for_address(address: str) -> tuple[Subscription, bool]:
    """The subscription of this address, made (pending, default preferences) if there is none yet; (it, created)."""
    try:
        with transaction.atomic():
            return Subscription.objects.get_or_create(email=address)
    except IntegrityError:  # made by a request racing this one
        return Subscription.objects.get(email=address), False


def subscribe(
    typed_address: str, ip: str, user: AbstractBaseUser | None = None, preferences: Preferences | None = None
) -> Outcome:
    """Ask for the digest at an address (raises PreferenceError if it is not one).

    A signed-in user's own confirmed address starts at once. Any other address gets an email, within the rate
    limits: a confirmation link, or, if the address already gets the digest, its preferences link (its preferences
    are not changed by a stranger). The caller tells every stranger the same thing (Outcome.CHECK_INBOX).
    """
    address = clean_address(typed_address)
    if owns_address(user, address):
        return _subscribe_own_address(user, address, preferences)
    if not _within_limits(address, ip):
        return Outcome.CHECK_INBOX
    subscription, created = _subscription_for_address(address)
    if subscription.status == Subscription.Status.ACTIVE:
        send_already_subscribed(subscription)
        return Outcome.CHECK_INBOX
    with transaction.atomic():
        subscription.status = Subscription.Status.PENDING
        if preferences is not None and subscription.user_id is None:  # a member's interests are theirs to change
            apply(subscription, preferences)
        else:
            subscription.save(update_fields=["status"])
    send_confirmation(subscription)
    return Outcome.CHECK_INBOX


def _subscribe_own_address(user: AbstractBaseUser, address: str, preferences: Preferences | None) -> Outcome:
    subscription = account_subscription(user)
    if subscription.pk is not None and subscription.status == Subscription.Status.ACTIVE:
        return Outcome.ALREADY_SUBSCRIBED
    start_for_account(subscription, preferences)
    return Outcome.SUBSCRIBED


# --- signed-in users ---


def account_subscription(user: AbstractBaseUser) -> Subscription:
    """The digest subscription of a user whose account email is confirmed: theirs, or the one of their address, or a
    new one with the default preferences. Either of the last two is linked to the user when next saved (their
    confirmed account address proves it is theirs); nothing is written here."""
    existing = Subscription.objects.filter(user=user).first()
    if existing is not None:
        return existing
    address = user.email.strip().lower()
    existing = Subscription.objects.filter(email=address).first() or Subscription(email=address)
    existing.user = user
    return existing


def start_for_account(subscription: Subscription, preferences: Preferences | None = None) -> Subscription:
    """Start (or restart) a signed-in user's digest, at their confirmed address: no confirmation email needed."""
    with transaction.atomic():
        subscription.status = Subscription.Status.ACTIVE
        subscription.confirmed_at = subscription.confirmed_at or timezone.now()
        subscription.unsubscribed_at = None
        subscription.bounce_reason = ""
        apply(subscription, preferences if preferences is not None else preferences_of(subscription))
    return subscription


def active_subscription(user: AbstractBaseUser) -> Subscription | None:
    """The signed-in user's digest when it is active, else None."""
    if not user.is_authenticated:
        return None
    return Subscription.objects.filter(user=user, status=Subscription.Status.ACTIVE).first()
