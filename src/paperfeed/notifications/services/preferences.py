"""How each member wants each topic by email: at once, in a daily summary, or never."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from paperfeed.notifications.models import (
    DEFAULT_DELIVERY,
    FIELD_OF,
    TOPIC_OF,
    Delivery,
    EmailPreferences,
    Kind,
    Notification,
    Topic,
)


def choices_of(user: AbstractBaseUser) -> dict[Topic, Delivery]:
    """The member's choice for every topic (the defaults where they chose nothing)."""
    row = EmailPreferences.objects.filter(user=user).first()
    if row is None:
        return dict(DEFAULT_DELIVERY)
    return {topic: Delivery(getattr(row, FIELD_OF[topic])) for topic in Topic}


def deliveries(user_ids: Iterable[int], kind: Kind) -> dict[int, Delivery]:
    """{user id: how they want this kind emailed} for these members, in one query."""
    ids = list(user_ids)
    field = FIELD_OF[TOPIC_OF[kind]]
    chosen = dict(EmailPreferences.objects.filter(user_id__in=ids).values_list("user_id", field))
    default = DEFAULT_DELIVERY[TOPIC_OF[kind]]
    return {pk: Delivery(chosen.get(pk, default)) for pk in ids}


def kinds_of(topics: Iterable[Topic]) -> list[Kind]:
    wanted = set(topics)
    return [kind for kind, topic in TOPIC_OF.items() if topic in wanted]


def save_choices(user: AbstractBaseUser, choices: dict[Topic, Delivery]) -> None:
    """Record the member's choices. A topic turned off by email is off for what waits to be emailed, too."""
    with transaction.atomic():
        row, _ = EmailPreferences.objects.get_or_create(user=user)
        for topic, delivery in choices.items():
            setattr(row, FIELD_OF[topic], delivery)
        row.save()
        off = [topic for topic, delivery in choices.items() if delivery == Delivery.NEVER]
        if off:
            _cancel_waiting(user, off)


def turn_off(user: AbstractBaseUser, topics: Iterable[Topic]) -> list[Topic]:
    """Stop emailing these topics (an unsubscribe link); the topics that were on until now."""
    current = choices_of(user)
    changed = [topic for topic in topics if current[topic] != Delivery.NEVER]
    if changed:
        save_choices(user, {topic: Delivery.NEVER for topic in changed})
    return changed


def _cancel_waiting(user: AbstractBaseUser, topics: list[Topic]) -> None:
    """What waits to be emailed in these topics stays on the site only (a sender that already took it still
    sends it: it was on its way)."""
    Notification.objects.filter(
        recipient=user, kind__in=kinds_of(topics), emailed_at__isnull=True, email_claimed_at__isnull=True
    ).exclude(email_plan=Delivery.NEVER).update(email_plan=Delivery.NEVER)
