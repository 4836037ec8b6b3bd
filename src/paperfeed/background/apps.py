from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    name = "paperfeed.background"
    label = "background"
    verbose_name = "Background work"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from paperfeed.background import upkeep
        from paperfeed.papers.signals import papers_loaded, upkeep_wanted

        def ask_for_upkeep(**kwargs) -> None:
            upkeep.request()

        papers_loaded.connect(ask_for_upkeep, dispatch_uid="paperfeed.background.upkeep", weak=False)
        upkeep_wanted.connect(ask_for_upkeep, dispatch_uid="paperfeed.background.upkeep-wanted", weak=False)
