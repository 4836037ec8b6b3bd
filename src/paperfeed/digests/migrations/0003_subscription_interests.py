import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """A subscription brings someone's interests (community.Interests) instead of holding them: the link (0004 fills
    it, 0005 drops the old columns). Schema and data changes are separate migrations: on PostgreSQL a table cannot
    be altered in the transaction that just wrote the rows it refers to (their deferred foreign-key checks are still
    pending)."""

    dependencies = [("digests", "0002_delivery_papers"), ("community", "0004_interests")]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="interests",
            field=models.OneToOneField(
                null=True,
                help_text="What the digest brings: its member's interests, or the anonymous subscriber's own.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="subscription",
                to="community.interests",
            ),
        ),
    ]
