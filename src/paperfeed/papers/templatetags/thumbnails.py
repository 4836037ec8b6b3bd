"""Thumbnails in templates: what a thumbnail's file name says (its origin, width and height)."""

from __future__ import annotations

from django import template

from paperfeed.core.thumbnails import ThumbnailName, parse_file_name
from paperfeed.papers.services.thumbnails import thumbnail_of

register = template.Library()


@register.filter
def thumbnail(paper) -> ThumbnailName | None:
    """A paper's thumbnail as its parts (file name, origin, size); None when the paper has none."""
    return parse_file_name(thumbnail_of(paper))


@register.simple_tag
def paper_thumbnail(paper) -> ThumbnailName | None:
    """A paper's thumbnail (for its page), or None."""
    return parse_file_name(thumbnail_of(paper))
