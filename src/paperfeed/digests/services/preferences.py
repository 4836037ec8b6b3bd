"""A digest's preferences as its settings page shows them: when it comes (frequency, day, hour, time zone), how long
it is, and what it brings (the interests it reads, community.services.interests), read from what was typed and saved
together."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from paperfeed.community.models import Interests
from paperfeed.community.services.interests import (
    InterestChoices,
    PreferenceError,
    choices_as_text,
    choices_of,
    merged,
    own_interests,
    save_choices,
)
from paperfeed.digests.models import Subscription

MAX_TOP_TRENDING = 50
MAX_PAPERS = 100
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SCHEDULE = ("frequency", "weekday", "time_zone", "hour", "top_trending", "max_papers")  # the subscription's own
# Any character below space, and DEL: in an address they could start a new mail header.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Preferences(InterestChoices):
    """What a subscriber chose, checked and ready to save (see `save_preferences`): the interests the digest
    brings, and its own schedule and length."""

    frequency: str = Subscription.Frequency.DAILY
    weekday: int = 0
    time_zone: str = "UTC"
    hour: int = 7
    top_trending: int = 10
    max_papers: int = 20


# --- reading what was typed ---


def clean_address(typed: str) -> str:
    """The address as stored (trimmed, lower-cased); raises PreferenceError for anything that is not one address."""
    if _CONTROL.search(typed):
        raise PreferenceError("An email address cannot contain line breaks or other control characters.")
    address = typed.strip().lower()
    if not address:
        raise PreferenceError("Enter your email address.")
    if len(address) > 254:
        raise PreferenceError("That email address is too long: an address has at most 254 characters.")
    try:
        validate_email(address)
    except ValidationError:
        raise PreferenceError(
            f"“{address[:80]}” is not an email address. Check it: it should look like ada@example.org."
        ) from None
    return address


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name this machine knows, sorted (for the form's suggestions)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def parse_time_zone(typed: str) -> str:
    """An IANA time zone name, in its usual spelling whatever the case typed."""
    typed = typed.strip()
    names = {name.lower(): name for name in time_zone_names()}
    found = None if _CONTROL.search(typed) else names.get(typed.lower())
    if found is None:
        shown = _CONTROL.sub(" ", typed)[:64]
        raise PreferenceError(f"“{shown}” is not a time zone we know. Choose one such as Europe/Paris or UTC.")
    return found


def _members_interests(subscription: Subscription) -> Interests | None:
    if subscription.user_id is None:
        return None
    return Interests.objects.filter(user_id=subscription.user_id).first()


def preferences_of(subscription: Subscription) -> Preferences:
    """A subscription's preferences as stored. A member's digest brings their interests; when a member takes over
    the anonymous digest of their address (account_subscription), what that one followed is added to them."""
    own = subscription.interests if subscription.interests_id is not None else None
    members = _members_interests(subscription)
    chosen = choices_of(members or own)
    if members is not None and own is not None and own.pk != members.pk:
        chosen = merged(chosen, choices_of(own))
    return Preferences(**vars(chosen), **{name: getattr(subscription, name) for name in SCHEDULE})


def preferences_as_text(preferences: Preferences) -> dict[str, object]:
    """Preferences written the way the form takes them, so that saving them unchanged changes nothing."""
    return {**{name: getattr(preferences, name) for name in SCHEDULE}, **choices_as_text(preferences)}


def describe_schedule(subscription: Subscription) -> str:
    """When the digest comes, in words: "every day after 07:00 (Europe/Paris)"."""
    when = (
        "every day"
        if subscription.frequency == Subscription.Frequency.DAILY
        else f"every {WEEKDAYS[subscription.weekday]}"
    )
    return f"{when} after {subscription.hour:02d}:00 ({subscription.time_zone})"


# --- saving them ---


def apply(subscription: Subscription, preferences: Preferences) -> None:
    """Copy the preferences onto the subscription and its interests and save both (inside the caller's
    transaction)."""
    for name in SCHEDULE:
        setattr(subscription, name, getattr(preferences, name))
    left = None
    if subscription.user_id is not None:  # a member's digest brings the member's own interests
        interests = own_interests(subscription.user)
        if subscription.interests_id not in (None, interests.pk):
            left = subscription.interests  # the anonymous ones it had: merged into the preferences (preferences_of)
        subscription.interests = interests
    subscription.save()
    save_choices(subscription.interests, preferences)
    if left is not None and left.user_id is None:
        left.delete()


def save_preferences(subscription: Subscription, preferences: Preferences) -> Subscription:
    """Save what the subscriber chose; all of it or, if anything fails, none of it."""
    with transaction.atomic():
        apply(subscription, preferences)
    return subscription
