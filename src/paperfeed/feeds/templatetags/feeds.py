"""Template tags for feeds and link previews: links to a page's feeds, absolute addresses."""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from paperfeed.feeds.lists import CATEGORY

register = template.Library()

FORMATS = (("rss", "application/rss+xml", "RSS"), ("atom", "application/atom+xml", "Atom"))


def _feed_urls(request: HttpRequest, name: str, args: tuple, keep: str) -> list[tuple[str, str, str]]:
    """(MIME type, label, address) of the RSS and Atom versions of the feed `name` (a URL name taking `args` and
    the format), carrying the page's own query parameters named in `keep` (e.g. "date week month sort")."""
    query = [(key, request.GET[key].strip()) for key in keep.split() if request.GET.get(key, "").strip()]
    suffix = "?" + urlencode(query) if query else ""
    return [(mime, label, reverse(name, args=[*args, fmt]) + suffix) for fmt, mime, label in FORMATS]


@register.simple_tag(takes_context=True)
def feed_links(context, name: str, *args, title: str, keep: str = "") -> SafeString:
    """`<link rel="alternate">` tags in a page's head, so browsers and feed readers find its feeds."""
    return format_html_join(
        "\n",
        '<link rel="alternate" type="{}" title="{}" href="{}">',
        ((mime, f"{title} ({label})", url) for mime, label, url in _feed_urls(context["request"], name, args, keep)),
    )


@register.simple_tag(takes_context=True)
def feed_line(context, name: str, *args, keep: str = "", text: str = "Follow this list in a feed reader") -> SafeString:
    """A visible "Follow … RSS · Atom" line for the same feeds: most browsers show no button for a page's feeds."""
    (_, _, rss), (_, _, atom) = _feed_urls(context["request"], name, args, keep)
    return format_html(
        '<p class="note feed-links">{}: <a href="{}" type="application/rss+xml">RSS</a>'
        ' · <a href="{}" type="application/atom+xml">Atom</a></p>',
        text,
        rss,
        atom,
    )


@register.simple_tag(takes_context=True)
def absolute_url(context, path: str) -> str:
    """The address `path` has on this site, scheme and host included, as the request reached the site."""
    return context["request"].build_absolute_uri(path)


@register.filter
def is_arxiv_category(value: object) -> bool:
    """Whether `value` is written like an arXiv category (cs.LG, hep-th), so that it has a feed address."""
    return isinstance(value, str) and len(value) <= 32 and bool(CATEGORY.fullmatch(value))
