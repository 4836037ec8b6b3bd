"""Notification emails: one at once, or the day's summary. Plain text with an HTML part (as digests), each naming
who did what on which paper with an absolute link, and a one-click unsubscribe (RFC 8058) for what it is about."""

from __future__ import annotations

import re
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string

from paperfeed.notifications.models import TOPIC_OF, Kind, Topic
from paperfeed.notifications.services import links
from paperfeed.notifications.services.describe import Described, one_line

MAX_SUBJECT_CHARS = 150
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


class InvalidAddress(ValueError):
    """The member's address cannot be written into a To header safely."""


def _header(value: str, limit: int | None = None) -> str:
    return one_line(_UNSAFE.sub(" ", value), limit)


def site_name() -> str:
    """How emails name the site: the sender's display name (PAPERFEED_EMAIL_FROM), else the site's host."""
    name, _ = parseaddr(_header(settings.DEFAULT_FROM_EMAIL))
    return name or _host()


def _host() -> str:
    return urlsplit(settings.PAPERFEED_SITE_URL).hostname or "localhost"


def recipient(user: AbstractBaseUser) -> str:
    """The member's address for the To header; InvalidAddress when it is not one plain address."""
    address = user.email or ""
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidAddress(f"{_header(address, 80)!r} is not a valid email address") from None
    if _UNSAFE.search(address):
        raise InvalidAddress("the address holds a line break")
    return address


def _shown(item: Described) -> dict:
    return {
        "sentence": item.sentence,
        "lead": item.lead,
        "title": item.title,
        "url": settings.PAPERFEED_SITE_URL + item.path,
        "excerpt": item.excerpt,
        "gone": item.gone,
    }


def _message(user: AbstractBaseUser, subject: str, template: str, context: dict, topics: list[Topic]):
    unsubscribe = links.unsubscribe_url(user, topics)
    context |= {
        "site": site_name(),
        "site_url": settings.PAPERFEED_SITE_URL,
        "user": user,
        "unsubscribe_url": unsubscribe,
        "settings_url": links.settings_url(),
        "topics": [{"label": topic.label, "url": links.unsubscribe_url(user, [topic])} for topic in topics],
    }
    message = EmailMultiAlternatives(
        subject=_header(subject, MAX_SUBJECT_CHARS),
        body=render_to_string(f"notifications/email/{template}.txt", context),
        from_email=_header(settings.DEFAULT_FROM_EMAIL),
        to=[recipient(user)],
        headers={
            "Message-ID": make_msgid("notification", domain=_host()),
            "Date": formatdate(usegmt=True),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": _header(f"{site_name()} notifications <notifications.{_host()}>"),
            "Auto-Submitted": "auto-generated",  # RFC 3834: out-of-office replies stay away
        },
    )
    message.attach_alternative(render_to_string(f"notifications/email/{template}.html", context), "text/html")
    return message


def at_once(item: Described) -> EmailMultiAlternatives:
    """The email of one notification, sent as it happens."""
    notification = item.notification
    topic = TOPIC_OF[Kind(notification.kind)]
    context = {"item": _shown(item)}
    return _message(notification.recipient, f"{site_name()}: {item.sentence}", "at_once", context, [topic])


def daily_summary(user: AbstractBaseUser, items: list[Described]) -> EmailMultiAlternatives:
    """One email with the member's notifications of a day (those they want in a daily summary)."""
    topics = sorted({TOPIC_OF[Kind(item.notification.kind)] for item in items}, key=list(Topic).index)
    count = len(items)
    subject = f"{site_name()}: {count} notification{'s' if count != 1 else ''} — {items[0].sentence}"
    context = {"items": [_shown(item) for item in items], "count": count}
    return _message(user, subject, "daily", context, topics)
