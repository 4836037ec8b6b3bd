from django.urls import include, path

from paperfeed.community.views import accounts, collections, comments, people, votes

urlpatterns = [
    path("accounts/", include(accounts.urlpatterns)),
    path("", include(votes.urlpatterns)),
    path("", include(comments.urlpatterns)),
    path("", include(collections.urlpatterns)),
    path("", include(people.urlpatterns)),
]
