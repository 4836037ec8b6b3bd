from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "paperfeed.papers"
    label = "papers"
    verbose_name = "Papers"

    def ready(self) -> None:
        from paperfeed.papers import checks  # noqa: F401 - registers the system checks
        from paperfeed.papers.services import cards, thumbnails

        cards.add_card_figure("thumbnail_file", thumbnails.card_figure)
