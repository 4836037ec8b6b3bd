from django.apps import AppConfig


class RecommendConfig(AppConfig):
    name = "paperfeed.recommend"
    verbose_name = "Recommendations"
    default_auto_field = "django.db.models.BigAutoField"
