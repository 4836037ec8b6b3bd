from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "paperfeed.site"
    label = "site"
    verbose_name = "Site"
