from django.contrib import admin
from django.urls import include, path, register_converter

from paperfeed.site import pages, thumbnails
from paperfeed.web import NameConverter, PaperAddressConverter, UnicodeSlugConverter

# Before the apps' routes, which use them.
register_converter(NameConverter, "name")
register_converter(PaperAddressConverter, "paper")
register_converter(UnicodeSlugConverter, "uslug")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("paperfeed.api.urls")),
    path("", include("paperfeed.feeds.urls")),
    path("", include("paperfeed.community.urls")),
    path("", include("paperfeed.digests.urls")),
    path("", include("paperfeed.recommend.urls")),
    path("", include("paperfeed.notifications.urls")),
    path("", pages.daily, name="daily"),
    path("trending", pages.trending, name="trending"),
    path("search", pages.search, name="search"),
    path("papers/<paper:address>", pages.paper_detail, name="paper"),
    path("accounts/export.json", pages.export_user_data, name="export-user-data"),
    path("thumbnails/<str:name>", thumbnails.thumbnail, name="thumbnail"),
]

handler400 = "paperfeed.site.views.bad_request"
handler404 = "paperfeed.site.views.page_not_found"
handler500 = "paperfeed.site.views.server_error"
