from django.apps import AppConfig


class FeedsConfig(AppConfig):
    """An app only so that Django finds the feeds' templates and template tags: it has no models."""

    name = "paperfeed.feeds"
    verbose_name = "Feeds and exports"
