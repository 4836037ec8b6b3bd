from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    name = "paperfeed.background"
    label = "background"
    verbose_name = "Background work"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from paperfeed.papers.signals import papers_loaded

        papers_loaded.connect(_ask_for_upkeep, dispatch_uid="paperfeed.background.upkeep")


def _ask_for_upkeep(**kwargs) -> None:
    from paperfeed.background import upkeep

    upkeep.request()
