from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PageCacheConfig(AppConfig):
    name = "paperfeed.pagecache"
    label = "pagecache"
    verbose_name = "Page cache"

    def ready(self) -> None:
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="paperfeed.pagecache")


def _after_migrate(using: str = "default", **kwargs) -> None:
    """After every migrate (paperfeed serve runs one at each start, and the test suite one per database): the cache
    table and the change-log triggers are there, including on tables a migration has just rebuilt."""
    from django.core.management import call_command

    from paperfeed.pagecache import changes

    call_command("createcachetable", database=using, verbosity=0)
    changes.install_triggers(using)
