"""The change log of what public pages show, written only by database triggers (see changes.py)."""

from django.db import models


class PageChange(models.Model):
    """One write to a table that public pages show. Only the last few rows are kept: what matters is that the
    log's state (count, last id, sum of stamps) differs after every committed write."""

    stamp = models.BigIntegerField()

    def __str__(self) -> str:
        return f"change {self.pk}"


class PaperChange(models.Model):
    """A vote or comment written on one paper: it makes stale only the cached pages that show or rank that paper.
    Written only by database triggers, in commit order (see changes.py); only the last few thousand rows are kept."""

    paper_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"change {self.pk} of paper {self.paper_id}"
