"""For you: recommendations, "not interested", library import and Zotero sync, and more like a collection."""

from django.urls import include, path

from paperfeed.recommend.views import for_you, library, like_collection, zotero

urlpatterns = [
    path("", include(for_you.urlpatterns)),
    path("", include(library.urlpatterns)),
    path("", include(like_collection.urlpatterns)),
    path("", include(zotero.urlpatterns)),
]
