from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "paperfeed.digests"
    verbose_name = "Email digests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from paperfeed.digests.services.compose import sent_to_member
        from paperfeed.recommend.services.ranking import register_already_sent

        register_already_sent(sent_to_member)  # For you leaves out what a member's digest sent them
