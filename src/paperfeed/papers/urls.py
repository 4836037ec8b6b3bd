from django.urls import path

from paperfeed.papers import views

urlpatterns = [
    path("", views.daily, name="daily"),
    path("trending", views.trending, name="trending"),
    path("search", views.search, name="search"),
    path("papers/<paper:arxiv_id>", views.paper_detail, name="paper"),
]
