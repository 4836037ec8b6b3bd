from django.db import migrations


class Migration(migrations.Migration):
    """Usernames are unique whatever their case ("Ada" and "ada" are one person), even when two sign up at once."""

    dependencies = [("community", "0002_unique_email")]

    operations = [
        migrations.RunSQL(
            "CREATE UNIQUE INDEX community_user_username_unique ON auth_user (lower(username))",
            "DROP INDEX community_user_username_unique",
        )
    ]
