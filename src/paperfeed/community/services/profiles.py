"""A person's public page: who they are, what they upvoted and submitted, and their collections."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Count, Max

from paperfeed.community.models import Collection, Profile
from paperfeed.community.services.permissions import profile_of
from paperfeed.papers.models import DailyEntry, Vote
from paperfeed.papers.services.cards import PaperCard, cards_for_ids

# A profile shows this many of the most recent upvotes and submissions (with the total).
SHOWN_PAPERS = 30


@dataclass(frozen=True)
class ProfilePage:
    user: User
    profile: Profile
    is_owner: bool
    upvoted: list[PaperCard]
    upvoted_total: int
    submitted: list[PaperCard]
    submitted_total: int
    collections: list[Collection]  # each with `paper_count`


def profile_page(username: str, viewer: AbstractBaseUser | AnonymousUser) -> ProfilePage | None:
    """What /users/<username> shows to `viewer` (private collections only to their owner); None if no such user."""
    user = User.objects.filter(username=username).first() or User.objects.filter(username__iexact=username).first()
    if user is None:
        return None
    is_owner = viewer.is_authenticated and viewer.pk == user.pk
    votes = Vote.objects.filter(user=user, paper__hidden=False)
    upvoted_ids = list(votes.order_by("-created_at", "-id").values_list("paper_id", flat=True)[:SHOWN_PAPERS])
    submissions = (
        DailyEntry.objects.filter(source=DailyEntry.Source.SUBMISSION, submitted_by=user, paper__hidden=False)
        .values("paper_id")
        .annotate(latest=Max("created_at"))
    )
    submitted_ids = [row["paper_id"] for row in submissions.order_by("-latest", "-paper_id")[:SHOWN_PAPERS]]
    collections = Collection.objects.filter(owner=user, group__isnull=True)  # a group's are on its page
    if not is_owner:
        collections = collections.filter(public=True)
    return ProfilePage(
        user=user,
        profile=profile_of(user),
        is_owner=is_owner,
        upvoted=cards_for_ids(upvoted_ids),
        upvoted_total=votes.count(),
        submitted=cards_for_ids(submitted_ids),
        submitted_total=submissions.count(),
        collections=list(collections.annotate(paper_count=Count("items")).order_by("-created_at", "name")),
    )
