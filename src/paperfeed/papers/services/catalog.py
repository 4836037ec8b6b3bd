"""Looking up single papers and the vocabulary of the catalogue."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Prefetch

from paperfeed.core.sources.registry import PaperAddress
from paperfeed.papers.models import Authorship, Paper, visible_condition
from paperfeed.papers.services.cards import with_upvotes


def paper_by_address(address: PaperAddress) -> Paper | None:
    """The paper (id without version) with its ordered authors, organization, daily entries and upvotes;
    None when it is not here or a moderator hid it (see is_withheld)."""
    authorships = Prefetch("authorships", queryset=Authorship.objects.select_related("author").order_by("position"))
    return (
        with_upvotes(Paper.objects.visible().named(address))
        .select_related("organization", "extras")
        .prefetch_related(authorships, "daily_entries")
        .first()
    )


def is_withheld(address: PaperAddress) -> bool:
    """Whether this paper is here but hidden by a moderator (its page then says it is not available)."""
    return Paper.objects.named(address).exclude(visible_condition()).exists()


def primary_categories() -> list[str]:
    """Every primary category that some paper has, for the search filter (cached: it seldom changes)."""
    return cache.get_or_set("paperfeed:primary-categories", _primary_categories, timeout=600)


def _primary_categories() -> list[str]:
    return list(Paper.objects.order_by("primary_category").values_list("primary_category", flat=True).distinct())
