from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("pagecache", "0001_initial")]
    operations = [
        migrations.CreateModel(
            name="PaperChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("paper_id", models.BigIntegerField()),
            ],
        ),
    ]
