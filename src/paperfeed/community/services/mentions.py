"""Members named in comments: who an `@username` is (comment rendering, notifications) and which usernames start
with what someone is typing (the comment form's autocomplete). Usernames are unique whatever their case here."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models.functions import Length, Lower

from paperfeed.community.services import throttle

SUGGESTIONS = 8
# Typing a name asks once per keystroke at most (the form waits for a pause): a minute's worth of typing fits.
LOOKUPS_PER_USER = throttle.Limit("mention-lookup-user", 60, timedelta(minutes=1))
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,29}")


def usernames_named(names: Collection[str]) -> dict[str, str]:
    """{lower-cased name: username} of the active members these names (lower-cased) are, in one query: the lookup
    core.markdown links mentions with."""
    if not names:
        return {}
    found = (
        User.objects.annotate(lowered=Lower("username"))
        .filter(lowered__in=[name.lower() for name in names], is_active=True)
        .order_by("id")
        .values_list("lowered", "username")
    )
    known: dict[str, str] = {}
    for lowered, username in found:
        known.setdefault(lowered, username)  # accounts older than the case rule: the first one made
    return known


def members_named(usernames: Collection[str]) -> list[User]:
    """The active members with these usernames (as usernames_named gave them)."""
    return list(User.objects.filter(username__in=list(usernames), is_active=True).order_by("id"))


@dataclass(frozen=True)
class Suggestion:
    username: str
    name: str  # the display name, or empty


def usernames_starting(prefix: str, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """Active members whose username starts with `prefix` (any case), shortest first; nothing for a prefix no
    username could start with."""
    if not _PREFIX.fullmatch(prefix):
        return []
    rows = (
        User.objects.filter(username__istartswith=prefix, is_active=True)
        .order_by(Length("username"), Lower("username"))
        .values_list("username", "profile__display_name")[:limit]
    )
    return [Suggestion(username, name or "") for username, name in rows]
