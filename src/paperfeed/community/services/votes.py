"""Upvotes: casting and taking back a user's one vote on a paper, and which papers a user has voted for."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from paperfeed.community.services.permissions import posting_problem
from paperfeed.core.sources.registry import PaperAddress
from paperfeed.papers.models import Paper, Vote


class VoteRefused(Exception):
    """The user may not vote (banned, disabled); the message says why, in their words."""


def votable_paper(address: PaperAddress) -> Paper | None:
    """The paper a vote is for, or None when there is none or a moderator hid it."""
    return Paper.objects.visible().named(address).only("id", "source", "external_id", "arxiv_id").first()


def set_vote(user: AbstractBaseUser, paper: Paper, up: bool) -> int:
    """Record that the user upvotes the paper (up) or no longer does, and return the paper's upvote count.

    Idempotent: a double click, a replayed form or two tabs posting at once leave one vote. Two requests racing
    to insert meet the unique (user, paper) constraint, and get_or_create then reads the row the other wrote.
    """
    problem = posting_problem(user, needs_verified_email=False)
    if problem:
        raise VoteRefused(problem)
    with transaction.atomic():
        if up:
            Vote.objects.get_or_create(user=user, paper=paper)
        else:
            Vote.objects.filter(user=user, paper=paper).delete()
    return upvotes(paper)


def upvotes(paper: Paper) -> int:
    """The paper's upvote count, as cards show it (PaperCard.upvotes counts the same rows)."""
    return Vote.objects.filter(paper=paper).count()


def voted_paper_ids(user: AbstractBaseUser) -> frozenset[int]:
    """Ids of every paper the user has upvoted, in one query: cards mark theirs pressed without a query each."""
    return frozenset(Vote.objects.filter(user=user).values_list("paper_id", flat=True))
