from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "paperfeed.community"
    verbose_name = "Community"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from paperfeed.community.services.comments import shown_comment_count
        from paperfeed.papers.services.cards import add_card_figure

        add_card_figure("comment_count", shown_comment_count)  # every card counts the comments under its paper
