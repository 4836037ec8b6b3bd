"""Thumbnails in templates: what a paper's thumbnail file name says (its origin, width and height)."""

from __future__ import annotations

from django import template

from paperfeed.core.thumbnails import ThumbnailName, parse_file_name
from paperfeed.papers.models import paper_extras

register = template.Library()


@register.filter
def thumbnail(paper) -> ThumbnailName | None:
    """A paper's thumbnail as its parts (file name, origin, size); None when it has none. Reads `paper.extras`,
    which cards and paper pages load with the paper (no query)."""
    extras = paper_extras(paper)
    return parse_file_name(extras.thumbnail) if extras else None
