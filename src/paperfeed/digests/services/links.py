"""Signed links in digest emails: confirm an address, manage preferences, unsubscribe — no account needed.

A token is `django.core.signing` over the subscription id and a hash of its email (the address itself is not
readable in the link, which may end up in server logs), salted per purpose, so a confirm token
never works as an unsubscribe token, and a token stops working when the subscription's address changes. Confirm
links expire after CONFIRM_MAX_AGE; manage and unsubscribe links do not (a digest read a year later must still
unsubscribe in one click).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core import signing

from paperfeed.digests.models import Subscription

PURPOSES = ("confirm", "manage", "unsubscribe")
CONFIRM_MAX_AGE = timedelta(days=7)
_SALT = "paperfeed.digests.links."
_PATHS = {"confirm": "/digest/confirm/", "manage": "/digest/manage/", "unsubscribe": "/digest/unsubscribe/"}


class LinkError(Exception):
    """A link that cannot be used: tampered with, expired, for another purpose, or for a subscription now gone."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}; expected one of {', '.join(PURPOSES)}")


def _email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def make_token(subscription: Subscription, purpose: str) -> str:
    """A URL-safe signed token naming this subscription, valid only for `purpose`."""
    _check_purpose(purpose)
    return signing.dumps([subscription.pk, _email_hash(subscription.email)], salt=_SALT + purpose, compress=False)


def read_token(token: str, purpose: str, max_age: timedelta | int | None = None) -> Subscription:
    """The subscription a token names; raises LinkError when it was altered, expired or its address changed.

    Confirm tokens expire after CONFIRM_MAX_AGE unless `max_age` says otherwise; the others never expire.
    """
    _check_purpose(purpose)
    if max_age is None and purpose == "confirm":
        max_age = CONFIRM_MAX_AGE
    try:
        value = signing.loads(token, salt=_SALT + purpose, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError(
            "This confirmation link has expired (links last 7 days). Subscribe again to get a new one."
        ) from None
    except signing.BadSignature:
        raise LinkError(
            "This link is not valid: it may have been cut short or altered. Use the link in the email."
        ) from None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
        raise LinkError("This link is not valid: it may have been cut short or altered. Use the link in the email.")
    subscription = Subscription.objects.filter(pk=value[0]).first()
    if subscription is None or _email_hash(subscription.email) != value[1]:
        raise LinkError("This link belongs to a subscription that no longer exists. You can subscribe again.")
    return subscription


def read_confirm_token(token: str, max_age: timedelta | int | None = None) -> Subscription:
    """The subscription a confirmation link names (expires after 7 days)."""
    return read_token(token, "confirm", max_age=max_age)


def read_manage_token(token: str) -> Subscription:
    """The subscription a preferences link names."""
    return read_token(token, "manage")


def read_unsubscribe_token(token: str) -> Subscription:
    """The subscription an unsubscribe link names."""
    return read_token(token, "unsubscribe")


def unsubscribe_token(subscription: Subscription) -> str:
    """The token of the one-click unsubscribe link."""
    return make_token(subscription, "unsubscribe")


def manage_token(subscription: Subscription) -> str:
    """The token of the preferences link."""
    return make_token(subscription, "manage")


def confirm_token(subscription: Subscription) -> str:
    """The token of the confirmation link sent on sign-up."""
    return make_token(subscription, "confirm")


def _url(purpose: str, subscription: Subscription) -> str:
    return settings.PAPERFEED_SITE_URL + _PATHS[purpose] + make_token(subscription, purpose)


def unsubscribe_url(subscription: Subscription) -> str:
    """Absolute one-click unsubscribe URL (the List-Unsubscribe header and the footer link)."""
    return _url("unsubscribe", subscription)


def manage_url(subscription: Subscription) -> str:
    """Absolute URL of the subscriber's preferences page."""
    return _url("manage", subscription)


def confirm_url(subscription: Subscription) -> str:
    """Absolute URL confirming the address (double opt-in)."""
    return _url("confirm", subscription)
