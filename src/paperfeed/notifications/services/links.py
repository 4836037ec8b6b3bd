"""Signed one-click unsubscribe links in notification emails: no session needed, as for digests.

A token is `django.core.signing` over the member's id and the topics the email was about, salted for this purpose
only (a digest's token or any other signed value never works here). Tokens do not expire: an email read months
later must still turn its emails off in one click.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.core import signing
from django.urls import reverse

from paperfeed.notifications.models import Topic

_SALT = "paperfeed.notifications.unsubscribe"
_INVALID = "This link is not valid: it may have been cut short or altered. Use the link in the email."


class LinkError(Exception):
    """A link that cannot be used: tampered with, or for an account that is gone. `message` is for the reader."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def unsubscribe_token(user: AbstractBaseUser, topics: Iterable[Topic]) -> str:
    """A URL-safe token that turns off these topics' emails for this member."""
    return signing.dumps([user.pk, sorted({Topic(topic).value for topic in topics})], salt=_SALT, compress=False)


def read_unsubscribe_token(token: str) -> tuple[User, list[Topic]]:
    """The member and the topics a token names; LinkError when it was altered or the account is gone."""
    try:
        value = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise LinkError(_INVALID) from None
    valid_topics = {topic.value for topic in Topic}
    if not (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], list)
        and value[1]
        and all(isinstance(topic, str) and topic in valid_topics for topic in value[1])
    ):
        raise LinkError(_INVALID)
    user = User.objects.filter(pk=value[0], is_active=True).first()
    if user is None:
        raise LinkError("This link belongs to an account that no longer exists.")
    return user, [Topic(topic) for topic in value[1]]


def unsubscribe_url(user: AbstractBaseUser, topics: Iterable[Topic]) -> str:
    """Absolute one-click unsubscribe URL (the List-Unsubscribe header and the footer links)."""
    return settings.PAPERFEED_SITE_URL + reverse("notification-unsubscribe", args=[unsubscribe_token(user, topics)])


def settings_url() -> str:
    """Absolute URL of the page where members choose their notification emails."""
    return settings.PAPERFEED_SITE_URL + reverse("notification-settings")
