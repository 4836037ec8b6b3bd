"""Feeds (each in RSS 2.0 at .rss and Atom at .atom) and BibTeX downloads (a member's data export is the site's).

Included at the site root before the papers routes, so /papers/<id>.bib and /users/…/collections/<slug>.bib
resolve here before the pages' catch-all patterns.
"""

from django.urls import path, register_converter
from django.views.decorators.http import require_safe

from paperfeed.feeds import syndication, views


class FeedFormat:
    regex = "rss|atom"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FeedFormat, "feed")


def _formats(feed_class: type[syndication.PaperFeed]):
    """One view for both formats: the `format` in the address picks RSS or Atom."""
    rss, atom = feed_class(), feed_class(atom=True)

    @require_safe
    def view(request, format: str = "rss", **kwargs):
        return (atom if format == "atom" else rss)(request, **kwargs)

    view.__name__ = view.__qualname__ = f"{feed_class.__name__}_view"
    return view


daily = _formats(syndication.DailyFeed)
trending = _formats(syndication.TrendingFeed)
search = _formats(syndication.SearchFeed)
category = _formats(syndication.CategoryFeed)
organization = _formats(syndication.OrganizationFeed)
author = _formats(syndication.AuthorFeed)
collection = _formats(syndication.CollectionFeed)
group_activity = _formats(syndication.GroupActivityFeed)

urlpatterns = [
    path("feeds/daily.<feed:format>", daily, name="feed-daily"),
    path("feeds/trending.<feed:format>", trending, name="feed-trending"),
    path("feeds/category/<str:category>.<feed:format>", category, name="feed-category"),
    path("search/feed", search, name="feed-search-rss"),  # the address the issue names: RSS
    path("search/feed.<feed:format>", search, name="feed-search"),
    path("organizations/<slug:slug>/feed.<feed:format>", organization, name="feed-organization"),
    path("authors/<int:author_id>/feed.<feed:format>", author, name="feed-author"),
    path("users/<name:username>/collections/<name:slug>/feed.<feed:format>", collection, name="feed-collection"),
    path("users/<name:username>/collections/<name:slug>.bib", views.collection_bibtex, name="collection-bibtex"),
    path("papers/<path:address>.bib", views.paper_bibtex, name="paper-bibtex"),
    # Atom only: a group's private activity, at an address holding the member's secret feed token
    path("groups/<slug:slug>/feed/<str:token>.atom", group_activity, {"format": "atom"}, name="feed-group"),
]
