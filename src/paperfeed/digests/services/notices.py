"""The emails about a subscription itself (not the digests): the double opt-in link, and "you are subscribed
already" to whoever asks again for an active address. Queued: a worker sends them (background.mail)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from paperfeed.background.mail import queue_email
from paperfeed.digests.models import Subscription
from paperfeed.digests.services import links
from paperfeed.digests.services.preferences import describe_schedule


def _send(template: str, subscription: Subscription, context: dict, lasts: timedelta | None = None) -> None:
    """Render `digests/email/<template>` for the subscriber now; a worker sends it (retrying while the mail server
    is down, and not after `lasts`, when its link would be dead)."""
    context = {"subscription": subscription, "site_url": settings.PAPERFEED_SITE_URL, **context}
    subject = " ".join(render_to_string(f"digests/email/{template}_subject.txt", context).split())
    body = render_to_string(f"digests/email/{template}.txt", context)
    expires = timezone.now() + lasts if lasts else None
    queue_email(template, subscription.email, subject, body, {"Auto-Submitted": "auto-generated"}, expires)


def confirm_days() -> int:
    """How long a confirmation link lasts, in whole days (for pages and emails)."""
    return max(1, links.CONFIRM_MAX_AGE.days)


def send_confirmation(subscription: Subscription) -> None:
    """Email the double opt-in link."""
    context = {"link": links.confirm_url(subscription), "days": confirm_days()}
    _send("confirm", subscription, context, links.CONFIRM_MAX_AGE)


def send_already_subscribed(subscription: Subscription) -> None:
    """Tell an active subscriber who asked again where their preferences are."""
    context = {
        "manage_link": links.manage_url(subscription),
        "unsubscribe_link": links.unsubscribe_url(subscription),
        "schedule": describe_schedule(subscription),
    }
    _send("already_subscribed", subscription, context)
