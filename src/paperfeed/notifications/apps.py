from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "paperfeed.notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from paperfeed.notifications.services import events

        events.connect()  # community's comments and claims, heard through Django's model signals
