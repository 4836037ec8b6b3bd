from django.urls import include, path

from paperfeed.api import hf, native, views_tokens

urlpatterns = [
    path("", include(hf.urlpatterns)),
    path("", include(native.urlpatterns)),
    path("", include(views_tokens.urlpatterns)),
]
