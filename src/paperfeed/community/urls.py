from django.urls import include, path

from paperfeed.community.views import (
    accounts,
    collections,
    comments,
    groups,
    links,
    people,
    profiles,
    reading,
    submissions,
    votes,
)

urlpatterns = [
    path("accounts/", include(accounts.urlpatterns)),
    path("", include(votes.urlpatterns)),
    path("", include(submissions.urlpatterns)),
    path("", include(comments.urlpatterns)),
    path("", include(links.urlpatterns)),
    path("", include(collections.urlpatterns)),
    path("", include(people.urlpatterns)),
    path("", include(profiles.urlpatterns)),
    path("", include(reading.urlpatterns)),
    path("", include(groups.urlpatterns)),
]
