"""A member's webhooks: which they may see, adding, changing, resuming, deleting, and the test message.

`webhooks_of(user)` is the one place that says whose webhooks a member manages: every view finds a webhook
through it, so another member's webhook is a 404 everywhere. (A reading group's webhooks join here: its editors'.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from paperfeed.community.models import Group
from paperfeed.community.services.groups import curating_group_ids
from paperfeed.core.webhooks import signing
from paperfeed.core.webhooks.destinations import HostNotFound, UrlRefused, check
from paperfeed.digests.models import Webhook
from paperfeed.digests.services.chat_content import ChatComposer, test_message
from paperfeed.digests.services.chat_post import Answer, build, deliver

MAX_WEBHOOKS = 20  # per member


class WebhookError(ValueError):
    """What the member asked cannot be done; the message says why."""


def webhooks_of(user) -> QuerySet[Webhook]:
    """The webhooks this member manages: their own, and those of the reading groups they own or edit (whoever
    added them)."""
    if not user.is_authenticated:
        return Webhook.objects.none()
    own = Q(owner=user, group__isnull=True)
    return Webhook.objects.filter(own | Q(group__in=curating_group_ids(user))).select_related("group")


def groups_to_post_for(user) -> list[Group]:
    """The reading groups whose webhooks the member may add (they own or edit them), by name."""
    return list(Group.objects.filter(pk__in=curating_group_ids(user)).order_by("name", "id"))


def check_address(url: str) -> str:
    """The URL, stripped, if a webhook may post to it now; UrlRefused (the form's message) otherwise."""
    url = (url or "").strip()
    try:
        check(url, settings.PAPERFEED_WEBHOOK_ALLOW_LOOPBACK)
    except HostNotFound as error:
        raise UrlRefused(f"{str(error).capitalize()}: check the address.") from None
    return url


@dataclass(frozen=True)
class WebhookFields:
    label: str
    url: str
    kind: str
    content: str
    search_q: str
    search_mode: str
    schedule: str
    weekday: int
    time_zone: str
    hour: int
    group_id: int | None = None


def add(owner, fields: WebhookFields) -> Webhook:
    if Webhook.objects.filter(owner=owner).count() >= MAX_WEBHOOKS:
        raise WebhookError(f"You have {MAX_WEBHOOKS} webhooks, the most a member may have: delete one first.")
    webhook = Webhook(owner=owner, **fields.__dict__)
    if webhook.kind == Webhook.Kind.JSON:
        webhook.secret = signing.new_secret()
    webhook.save()
    return webhook


def update(webhook: Webhook, fields: WebhookFields) -> bool:
    """Save the changes; a paused webhook whose address or content changed is active again (the member fixed
    what was refused). True when it was resumed so."""
    resumed = webhook.status == Webhook.Status.PAUSED and (
        fields.url != webhook.url or fields.content != webhook.content or fields.search_q != webhook.search_q
    )
    if fields.kind == Webhook.Kind.JSON and not webhook.secret:
        webhook.secret = signing.new_secret()
    for name, value in fields.__dict__.items():
        setattr(webhook, name, value)
    if resumed:
        _clear_pause(webhook)
    webhook.save()
    return resumed


def _clear_pause(webhook: Webhook) -> None:
    webhook.status = Webhook.Status.ACTIVE
    webhook.paused_reason, webhook.paused_at = "", None
    webhook.retry_not_before = None


def resume(webhook: Webhook) -> None:
    _clear_pause(webhook)
    webhook.save(update_fields=["status", "paused_reason", "paused_at", "retry_not_before"])


def delete(webhook: Webhook) -> None:
    """Delete the webhook and its send log: nothing more is posted to it."""
    webhook.delete()


def new_secret(webhook: Webhook) -> None:
    webhook.secret = signing.new_secret()
    webhook.save(update_fields=["secret"])


def send_test(webhook: Webhook) -> Answer:
    """Post a test message at once (the member pressed the button) and keep the receiver's answer on the row."""
    composer = ChatComposer(timezone.now())
    try:
        request = build(webhook.kind, test_message(composer, webhook), str(uuid.uuid4()), webhook.secret)
    finally:
        composer.close()
    answer = deliver(webhook.url, request)
    webhook.last_test_at = timezone.now()
    webhook.last_test_result = ("Delivered: " if answer.sent else "Not delivered: ") + answer.detail
    webhook.save(update_fields=["last_test_at", "last_test_result"])
    return answer
