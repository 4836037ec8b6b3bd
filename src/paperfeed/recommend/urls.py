"""For you: recommendations, "not interested", and library import."""

from django.urls import include, path

from paperfeed.recommend.views import for_you, library

urlpatterns = [
    path("", include(for_you.urlpatterns)),
    path("", include(library.urlpatterns)),
]
