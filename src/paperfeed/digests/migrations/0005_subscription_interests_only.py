import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The interests now live in community.Interests (0004 moved them): the subscription's own columns go, and every
    subscription must bring interests."""

    dependencies = [("digests", "0004_move_interests")]

    operations = [
        migrations.RemoveField(model_name="subscription", name="authors"),
        migrations.RemoveField(model_name="subscription", name="organizations"),
        migrations.RemoveField(model_name="subscription", name="categories"),
        migrations.RemoveField(model_name="subscription", name="saved_searches"),
        migrations.RemoveField(model_name="subscription", name="include_keywords"),
        migrations.RemoveField(model_name="subscription", name="exclude_keywords"),
        migrations.AlterField(
            model_name="subscription",
            name="interests",
            field=models.OneToOneField(
                help_text="What the digest brings: its member's interests, or the anonymous subscriber's own.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="subscription",
                to="community.interests",
            ),
        ),
    ]
