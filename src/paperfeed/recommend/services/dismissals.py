""" "Not interested": a paper leaves the user's For you list for good and teaches their model what they skip."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from paperfeed.core.sources.registry import PaperAddress
from paperfeed.papers.models import Paper
from paperfeed.recommend.models import Dismissal


class DismissalRefused(Exception):
    """The user may not do this (signed out, disabled); the message says why."""


def dismissable_paper(address: PaperAddress) -> Paper | None:
    """The visible paper this address names, or None."""
    return Paper.objects.visible().named(address).only("id", "source", "external_id", "arxiv_id", "title").first()


def set_dismissed(user: AbstractBaseUser, paper: Paper, dismissed: bool = True) -> None:
    """Mark the paper "not interested" for the user (dismissed), or take that back. Idempotent."""
    # Only the user's own list changes: a banned member may still tidy it, unlike votes that others see.
    if not user.is_authenticated:
        raise DismissalRefused("Sign in to do that.")
    if not user.is_active:
        raise DismissalRefused("This account is disabled.")
    if dismissed:
        Dismissal.objects.get_or_create(user=user, paper=paper)
    else:
        Dismissal.objects.filter(user=user, paper=paper).delete()
