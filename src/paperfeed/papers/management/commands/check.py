"""paperfeed check: Django's system checks, with those of the database (pgvector on PostgreSQL) by default."""

from django.core.management.commands.check import Command as DjangoCheck


class Command(DjangoCheck):
    help = DjangoCheck.help + " The default database is checked too unless --database names others."

    def handle(self, *app_labels, **options):
        options["databases"] = options["databases"] or ["default"]
        return super().handle(*app_labels, **options)
