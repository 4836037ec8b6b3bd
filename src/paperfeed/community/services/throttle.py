"""Rate limits counted in the database (RateEvent), so every web worker sees the same counts.

A limit is "at most `limit` events of a scope for one key within `window`": a key is whatever is being limited
(an email address, a client IP, a user id). Callers record events with `hit` and ask `allowed` or `wait` first.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from paperfeed.community.models import RateEvent

# Events older than this count for no limit any more; `cleanup` deletes them.
KEEP_EVENTS = timedelta(days=1)
# About one `hit` in this many also runs `cleanup`, so the table stays small without a scheduled job.
CLEANUP_ONE_HIT_IN = 200

_KEY_CHARS = RateEvent._meta.get_field("key").max_length


def _key(key: str) -> str:
    """The key as stored: long keys are hashed to fit the column (and stay distinct)."""
    if len(key) <= _KEY_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def hit(scope: str, key: str, at: datetime | None = None) -> None:
    """Record one event of `scope` for `key` (now, unless `at` is given)."""
    RateEvent.objects.create(scope=scope, key=_key(key), at=at or timezone.now())
    if random.randrange(CLEANUP_ONE_HIT_IN) == 0:
        cleanup()


def count(scope: str, key: str, window: timedelta) -> int:
    """How many events of `scope` for `key` happened within the last `window`."""
    return RateEvent.objects.filter(scope=scope, key=_key(key), at__gt=timezone.now() - window).count()


def wait(scope: str, key: str, limit: int, window: timedelta) -> timedelta:
    """How long until one more event would be within the limit (zero when it already is)."""
    now = timezone.now()
    recent = (
        RateEvent.objects.filter(scope=scope, key=_key(key), at__gt=now - window)
        .order_by("-at")
        .values_list("at", flat=True)[limit - 1 : limit]
    )
    # The limit-th most recent event leaves the window first among those that fill it.
    for at in recent:
        return max(at + window - now, timedelta(0))
    return timedelta(0)


def allowed(scope: str, key: str, limit: int, window: timedelta) -> bool:
    """Whether one more event of `scope` for `key` stays within `limit` events per `window`."""
    return count(scope, key, window) < limit


def forget(scope: str, key: str) -> None:
    """Drop the events of `scope` for `key` (after a success that makes earlier failures moot)."""
    RateEvent.objects.filter(scope=scope, key=_key(key)).delete()


def cleanup(older_than: timedelta = KEEP_EVENTS) -> int:
    """Delete events too old to count for any limit; returns how many went."""
    deleted, _ = RateEvent.objects.filter(at__lt=timezone.now() - older_than).delete()
    return deleted


@dataclass(frozen=True)
class Limit:
    """A named limit: at most `limit` events of `scope` per key within `window`."""

    scope: str
    limit: int
    window: timedelta

    def hit(self, key: str) -> None:
        hit(self.scope, key)

    def allowed(self, key: str) -> bool:
        return allowed(self.scope, key, self.limit, self.window)

    def wait(self, key: str) -> timedelta:
        return wait(self.scope, key, self.limit, self.window)

    def forget(self, key: str) -> None:
        forget(self.scope, key)


def minutes(duration: timedelta) -> int:
    """A wait in whole minutes, rounded up and at least one: what a person is told to wait."""
    return max(1, math.ceil(duration.total_seconds() / 60))
