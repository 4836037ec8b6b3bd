from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "paperfeed.digests"
    verbose_name = "Email digests"
    default_auto_field = "django.db.models.BigAutoField"
