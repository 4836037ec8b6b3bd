from django.urls import include, path

from paperfeed.notifications.views import emails, inbox

urlpatterns = [
    path("", include(inbox.urlpatterns)),
    path("", include(emails.urlpatterns)),
]
