from django.urls import include, path

from paperfeed.digests.views import chat, preview, subscribe

urlpatterns = [
    path("", include(subscribe.urlpatterns)),
    path("", include(preview.urlpatterns)),
    path("", include(chat.urlpatterns)),
]
