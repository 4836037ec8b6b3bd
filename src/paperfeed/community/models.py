"""What people add: profiles, comments, collections, authorship claims, link changes, the counters that rate-limit
them, each member's private reading (notes, read marks and a reading queue), and reading groups (members with
roles, invitations, the weekly pin; a group's collections and private discussion are Collections and Comments that
name it).

Votes and submissions live with the papers (papers.Vote, papers.DailyEntry) because lists and rankings read them.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from paperfeed.papers.models import Author, Organization, Paper


class Profile(models.Model):
    """What a user tells about themselves, and what the site knows of them (verified, banned)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True)
    display_name = models.CharField(max_length=100, blank=True)
    affiliation = models.CharField(max_length=200, blank=True)
    email_verified = models.BooleanField(default=False)
    banned = models.BooleanField(default=False, help_text="A banned user can read but no longer post or vote.")

    def __str__(self) -> str:
        return self.display_name or str(self.user)


class Interests(models.Model):
    """What someone follows: categories, saved searches, authors, organizations, and words a paper must or must not
    hold. A member's (For you reads them, and their digest if they take one), or an anonymous email subscriber's
    (their digest's, digests.Subscription.interests)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interests",
        help_text="Empty for an anonymous email subscriber.",
    )
    categories = models.JSONField(default=list, blank=True, help_text="arXiv categories, e.g. cs.CL.")
    saved_searches = models.JSONField(
        default=list, blank=True, help_text='Searches to follow: [{"q": "…", "mode": "keyword|semantic|hybrid"}].'
    )
    authors = models.ManyToManyField(Author, blank=True, related_name="followers")
    organizations = models.ManyToManyField(Organization, blank=True, related_name="followers")
    include_keywords = models.JSONField(default=list, blank=True, help_text="Only papers with one of these words.")
    exclude_keywords = models.JSONField(default=list, blank=True, help_text="Never papers with any of these words.")
    digest_collections = models.ManyToManyField(
        "Collection",
        blank=True,
        related_name="digest_followers",
        help_text="Collections whose like-papers the member's digest brings (“Like your collections”).",
    )

    class Meta:
        verbose_name_plural = "interests"

    def __str__(self) -> str:
        return f"interests of {self.user or 'an email subscriber'}"


class Group(models.Model):
    """A reading group: members with roles, its own collections and a private discussion under each paper."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="groups_created"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


def new_feed_token() -> str:
    """A member's secret for the address of their group's activity feed."""
    return secrets.token_urlsafe(24)


class Membership(models.Model):
    """A member of a group and their role. Owners manage members and roles; editors add to the group's collections
    and pin the week's reading; members read and discuss."""

    class Role(models.TextChoices):
        OWNER = "owner"
        EDITOR = "editor"
        MEMBER = "member"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    # The secret in this member's address of the group's activity feed (feed readers have no session); it goes
    # with the membership, so a member who leaves (or is removed) loses the feed.
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="membership_once")]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.role})"


class Invitation(models.Model):
    """A one-time invitation to a group, by link or by email; only a hash of its token is kept."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token in the link, in hex.")
    email = models.EmailField(blank=True, help_text="Where the link was sent; empty for an invitation by link.")
    role = models.CharField(max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="invitations_made"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations_used"
    )

    def __str__(self) -> str:
        return f"invitation to {self.group} as {self.role}"


class WeeklyPin(models.Model):
    """A group's "this week's reading": one paper (and a note) per group per ISO week, kept as its history."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="pins")
    week = models.DateField(help_text="The Monday of the ISO week.")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="group_pins")
    note = models.TextField(blank=True)
    pinned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    pinned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "week"], name="weekly_pin_once")]

    def __str__(self) -> str:
        return f"{self.group}: {self.paper_id} in the week of {self.week}"


class Comment(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    # Replies are one level deep: a reply's parent is always a top-level comment.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    body = models.TextField(help_text="Markdown with LaTeX, as written.")
    body_html = models.TextField(help_text="The body rendered and sanitized; what pages show.")
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden = models.BooleanField(default=False, help_text="Hidden by a moderator: shown nowhere, counted nowhere.")
    # A group's private discussion: shown to its members only, counted nowhere public. None: a public comment.
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")

    class Meta:
        indexes = [models.Index(fields=["paper", "created_at"], name="comment_paper_created")]

    def __str__(self) -> str:
        return f"{self.author} on {self.paper_id}: {self.body[:40]}"


class Collection(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    public = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    papers = models.ManyToManyField(Paper, through="CollectionItem", related_name="collections")
    # A group's shared collection: its editors and owners add to it, its members alone see it (never public).
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="collections")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "slug"], name="collection_unique_slug")]

    def __str__(self) -> str:
        return self.name


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="collection_items")
    added_at = models.DateTimeField(default=timezone.now)
    # Who added it: a group's page shows its members' additions to the group's collections.
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "paper"], name="collection_item_once")]

    def __str__(self) -> str:
        return f"{self.paper_id} in {self.collection_id}"


class AuthorClaim(models.Model):
    """A user saying "I am this author of this paper"; staff approve or reject it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="author_claims")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="author_claims")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="claims")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="author_claim_once_per_paper")]

    def __str__(self) -> str:
        return f"{self.user} as {self.author} ({self.status})"


class RateEvent(models.Model):
    """One counted event (a failed sign-in, a sign-in link sent…) for rate limits shared by every worker."""

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"], name="rate_event_lookup")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} at {self.at}"


class LinkChange(models.Model):
    """A person's change to a paper's code or project link (added, changed or removed), kept for moderators."""

    class Kind(models.TextChoices):
        CODE = "code", "code"
        PROJECT = "project", "project page"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="link_changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="link_changes"
    )
    username = models.CharField(max_length=150, help_text="as it was then; kept when the account is deleted")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    before = models.URLField(max_length=500, blank=True)
    after = models.URLField(max_length=500, blank=True, help_text="empty: removed")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"@{self.username}: {self.kind} of {self.paper_id} {self.before or '(none)'} → {self.after or '(none)'}"


class Note(models.Model):
    """A member's private Markdown note on a paper: shown to its owner only, on the paper's page and /reading."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField(help_text="Markdown with LaTeX, as written.")
    body_html = models.TextField(help_text="The body rendered and sanitized, as comments are.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="note_once_per_paper")]

    def __str__(self) -> str:
        return f"{self.user}'s note on {self.paper_id}"


class ReadMark(models.Model):
    """A member has read this paper: cards show it to them, and lists can leave it out."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="read_marks")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="read_marks")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="read_mark_once")]

    def __str__(self) -> str:
        return f"{self.user} read {self.paper_id}"


class QueueEntry(models.Model):
    """A paper on a member's reading queue, read oldest first."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_entries")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="queue_entries")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="queue_entry_once")]
        verbose_name_plural = "queue entries"

    def __str__(self) -> str:
        return f"{self.paper_id} on {self.user}'s queue"
