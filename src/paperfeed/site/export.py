"""A member's own data as one JSON document: account, profile, votes, comments, submissions, collections, author
claims, interests, digest subscription, API token names, how notifications are emailed, chat webhooks (without
their addresses), private notes, read marks and reading queue, and the reading groups they are in — what they
gave the site, to keep or take elsewhere. Of groups, only their own memberships and their own comments: nothing of
other members, and nothing of a group they are not in.

Only this user's rows are read. Secrets are never included: no password hash, no API token values, no session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from django.utils import timezone

from paperfeed.api.models import ApiToken
from paperfeed.community.models import (
    AuthorClaim,
    Collection,
    CollectionItem,
    Comment,
    Interests,
    Membership,
    Note,
    Profile,
    QueueEntry,
    ReadMark,
)
from paperfeed.digests.models import Subscription, Webhook
from paperfeed.notifications.services.preferences import choices_of as notification_choices
from paperfeed.papers.models import DailyEntry, Vote
from paperfeed.recommend.models import Dismissal, LibraryItem
from paperfeed.recommend.services.zotero import exported_links

FORMAT = "paperfeed user data"
VERSION = 5  # 2: "interests" on their own (followed authors, categories, …), no longer inside "digest"
# 3: "notes", "read" and "queue": a member's private reading
# 4: "groups" (memberships), and each comment's "group" (a group's private discussion)
# 5: "notification_emails" (how each kind of notification is emailed) and "chat_webhooks" (without their
#    addresses, which are credentials, nor their signing secrets)
# The fields of an API token that are safe to show its owner again; anything else (the secret, its hash) stays.
TOKEN_FIELDS = ("name", "created_at", "last_used_at")


def _paper(paper: Any, site_url: str) -> dict[str, Any]:
    """A paper as an export refers to it; a paper hidden by a moderator is named by its arXiv id only."""
    if paper.hidden:
        return {"arxiv_id": paper.arxiv_id}
    return {
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "url": site_url + reverse("paper", args=[paper.arxiv_id]),
    }


def user_data(user: AbstractBaseUser, site_url: str) -> dict[str, Any]:
    """Everything this user gave the site, newest last within each list; `site_url` makes links absolute."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now(),
        "site": site_url,
        "account": {
            "username": user.username,
            "email": user.email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        },
        "profile": _profile(user),
        "votes": [
            {**_paper(vote.paper, site_url), "voted_at": vote.created_at}
            for vote in Vote.objects.filter(user=user).select_related("paper").order_by("created_at", "id")
        ],
        "comments": _comments(user, site_url),
        "submissions": [
            {**_paper(entry.paper, site_url), "day": entry.day, "submitted_at": entry.created_at}
            for entry in DailyEntry.objects.filter(submitted_by=user, source=DailyEntry.Source.SUBMISSION)
            .select_related("paper")
            .order_by("created_at", "id")
        ],
        "collections": _collections(user, site_url),
        "author_claims": [
            {
                **_paper(claim.paper, site_url),
                "author": claim.author.name,
                "status": claim.status,
                "claimed_at": claim.created_at,
                "decided_at": claim.decided_at,
            }
            for claim in AuthorClaim.objects.filter(user=user)
            .select_related("paper", "author")
            .order_by("created_at", "id")
        ],
        "interests": _interests(user),  # what they follow: their digest brings it, For you reads it
        "digest": _subscription(user),
        "api_tokens": _tokens(user),
        "notification_emails": {str(topic): str(how) for topic, how in notification_choices(user).items()},
        "chat_webhooks": [
            {
                "label": hook.label,
                "kind": hook.kind,
                "content": hook.content,
                "saved_search": hook.search_q,
                "group": hook.group.slug if hook.group else None,
                "schedule": hook.schedule,
                "status": hook.status,
                "created_at": hook.created_at,
            }
            for hook in Webhook.objects.filter(owner=user).select_related("group").order_by("created_at", "id")
        ],
        "library": list(
            LibraryItem.objects.filter(user=user)
            .order_by("imported_at", "id")
            .values("title", "authors", "year", "doi", "arxiv_id", "source_format", "source_key", "imported_at")
        ),
        "zotero_links": exported_links(user),  # without their API keys
        "not_interested": [
            {**_paper(dismissal.paper, site_url), "at": dismissal.at}
            for dismissal in Dismissal.objects.filter(user=user).select_related("paper").order_by("at", "id")
        ],
        "notes": [
            {
                **_paper(note.paper, site_url),
                "body": note.body,  # the Markdown as written
                "created_at": note.created_at,
                "updated_at": note.updated_at,
            }
            for note in Note.objects.filter(user=user).select_related("paper").order_by("created_at", "id")
        ],
        "read": [
            {**_paper(mark.paper, site_url), "read_at": mark.read_at}
            for mark in ReadMark.objects.filter(user=user).select_related("paper").order_by("read_at", "id")
        ],
        "groups": [
            {
                "name": m.group.name,
                "slug": m.group.slug,
                "role": m.role,
                "joined_at": m.joined_at,
                "url": site_url + reverse("group", args=[m.group.slug]),
            }
            for m in Membership.objects.filter(user=user).select_related("group").order_by("joined_at", "id")
        ],
        "queue": [  # in reading order: the oldest first
            {**_paper(entry.paper, site_url), "added_at": entry.added_at}
            for entry in QueueEntry.objects.filter(user=user).select_related("paper").order_by("added_at", "id")
        ],
    }


def _profile(user: AbstractBaseUser) -> dict[str, Any] | None:
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return None
    return {
        "display_name": profile.display_name,
        "affiliation": profile.affiliation,
        "email_verified": profile.email_verified,
        "banned": profile.banned,
    }


def _comments(user: AbstractBaseUser, site_url: str) -> list[dict[str, Any]]:
    comments = Comment.objects.filter(author=user).select_related("paper", "group").order_by("created_at", "id")
    groups = set(Membership.objects.filter(user=user).values_list("group_id", flat=True))
    return [
        {
            "id": comment.id,
            "paper": _paper(comment.paper, site_url),
            # A group's private comment names its group while they are in it; of a group they left, only that
            # it was private (their words are theirs, the group's name no longer is).
            "private_to_group": comment.group_id is not None,
            "group": comment.group.slug if comment.group_id in groups else None,
            "reply_to": comment.parent_id,
            "body": comment.body,  # the Markdown as written; "" when deleted but kept for its replies
            "created_at": comment.created_at,
            "edited_at": comment.edited_at,
            "hidden_by_moderator": comment.hidden,
        }
        for comment in comments
    ]


def _collections(user: AbstractBaseUser, site_url: str) -> list[dict[str, Any]]:
    # Their own collections; a group's collections (even those they made) are the group's.
    owned = list(Collection.objects.filter(owner=user, group__isnull=True).order_by("created_at", "id"))
    items: dict[int, list[dict[str, Any]]] = {c.id: [] for c in owned}
    rows = CollectionItem.objects.filter(collection__in=owned).select_related("paper").order_by("added_at", "id")
    for item in rows:
        items[item.collection_id].append({**_paper(item.paper, site_url), "added_at": item.added_at})
    return [
        {
            "name": c.name,
            "slug": c.slug,
            "description": c.description,
            "public": c.public,
            "created_at": c.created_at,
            "url": site_url + reverse("collection", args=[user.username, c.slug]),
            "papers": items[c.id],
        }
        for c in owned
    ]


def _interests(user: AbstractBaseUser) -> dict[str, Any] | None:
    found = Interests.objects.filter(user=user).first()
    if found is None:
        return None
    return {
        "categories": found.categories,
        "saved_searches": found.saved_searches,
        "authors": [{"id": a.id, "name": a.name} for a in found.authors.order_by("name")],
        "organizations": [{"slug": o.slug, "name": o.name} for o in found.organizations.order_by("name")],
        "include_keywords": found.include_keywords,
        "exclude_keywords": found.exclude_keywords,
    }


def _subscription(user: AbstractBaseUser) -> dict[str, Any] | None:
    found = Subscription.objects.filter(user=user).first()
    if found is None:
        return None
    return {
        "email": found.email,
        "status": found.status,
        "frequency": found.frequency,
        "weekday": found.weekday,
        "time_zone": found.time_zone,
        "hour": found.hour,
        "top_trending": found.top_trending,
        "max_papers": found.max_papers,
        "created_at": found.created_at,
        "confirmed_at": found.confirmed_at,
        "unsubscribed_at": found.unsubscribed_at,
    }


def _tokens(user: AbstractBaseUser) -> list[dict[str, Any]]:
    """The names and dates of the user's API tokens; never their secrets, digests or prefixes."""
    return list(ApiToken.objects.filter(user=user).order_by("created_at").values(*TOKEN_FIELDS))


def filename(user: AbstractBaseUser, now: datetime | None = None) -> str:
    """paperfeed-ada-2026-07-01.json"""
    day = timezone.localdate(now) if now else timezone.localdate()
    return f"paperfeed-{user.username}-{day.isoformat()}.json"
