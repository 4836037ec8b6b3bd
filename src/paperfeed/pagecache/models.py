"""The change log of what public pages show, written only by database triggers (see changes.py)."""

from django.db import models


class PageChange(models.Model):
    """One write to a table that public pages show. Only the last few rows are kept: what matters is that the
    log's state (count, last id, sum of stamps) differs after every committed write."""

    stamp = models.BigIntegerField()

    def __str__(self) -> str:
        return f"change {self.pk}"
