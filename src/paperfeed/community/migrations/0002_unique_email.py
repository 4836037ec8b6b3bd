from django.db import migrations


class Migration(migrations.Migration):
    """One account per email address, whatever its case: Django's own user table does not insist on it."""

    dependencies = [("community", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunSQL(
            "CREATE UNIQUE INDEX community_user_email_unique ON auth_user (lower(email)) WHERE email <> ''",
            "DROP INDEX community_user_email_unique",
        )
    ]
