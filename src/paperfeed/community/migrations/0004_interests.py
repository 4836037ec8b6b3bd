import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """What someone follows becomes their own (Interests), no longer a part of the email digest's subscription: the
    digest (digests 0003) and For you both read it. digests 0003 moves every subscription's interests here."""

    dependencies = [
        ("community", "0003_unique_username_case"),
        ("papers", "0007_vector_store"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Interests",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("categories", models.JSONField(blank=True, default=list, help_text="arXiv categories, e.g. cs.CL.")),
                (
                    "saved_searches",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text='Searches to follow: [{"q": "…", "mode": "keyword|semantic|hybrid"}].',
                    ),
                ),
                (
                    "include_keywords",
                    models.JSONField(blank=True, default=list, help_text="Only papers with one of these words."),
                ),
                (
                    "exclude_keywords",
                    models.JSONField(blank=True, default=list, help_text="Never papers with any of these words."),
                ),
                (
                    "user",
                    models.OneToOneField(
                        blank=True,
                        help_text="Empty for an anonymous email subscriber.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="interests",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("authors", models.ManyToManyField(blank=True, related_name="followers", to="papers.author")),
                (
                    "organizations",
                    models.ManyToManyField(blank=True, related_name="followers", to="papers.organization"),
                ),
            ],
            options={"verbose_name_plural": "interests"},
        ),
    ]
