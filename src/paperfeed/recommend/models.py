"""Recommendation signals and per-user models: imported library items, "not interested" clicks, fitted weights."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from paperfeed.papers.models import Paper


class LibraryItem(models.Model):
    """A reference from a library the user imported (BibTeX, RIS, CSL JSON): a positive signal.

    Matched to a paper here when possible (by arXiv id, DOI, then normalised title); otherwise it still counts
    through the embedding of its own title and abstract, computed in the background (`embedding` empty until then).
    """

    class Format(models.TextChoices):
        BIBTEX = "bibtex", "BibTeX"
        RIS = "ris", "RIS"
        CSL_JSON = "csl-json", "CSL JSON"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="library_items")
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    authors = models.TextField(blank=True, help_text="Names separated by semicolons, as imported.")
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    doi = models.CharField("DOI", max_length=200, blank=True)
    arxiv_id = models.CharField("arXiv id", max_length=64, blank=True)
    paper = models.ForeignKey(
        Paper, null=True, blank=True, on_delete=models.SET_NULL, related_name="library_items", help_text="The match."
    )
    embedding = models.BinaryField(null=True, blank=True, help_text="float16 vector of title and abstract.")
    embedding_model = models.CharField(max_length=100, blank=True)
    source_format = models.CharField(max_length=16, choices=Format.choices)
    source_key = models.CharField(max_length=200, blank=True, help_text="The entry's key or id in the file.")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "paper"], name="library_item_user_paper")]

    def __str__(self) -> str:
        return f"{self.user} · {self.title[:60]}"


class Dismissal(models.Model):
    """A "not interested" click: the paper leaves the user's For you list and counts as a negative."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dismissals")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="dismissals")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="dismissal_once")]

    def __str__(self) -> str:
        return f"{self.user} ✕ {self.paper_id}"


class UserModelState(models.Model):
    """A user's fitted model (see paperfeed.core.recommend) and the signals it was fitted on.

    `fingerprint` digests the ids of the signals; when the user's signals no longer give the same fingerprint, or
    the site's term index is another than `term_index`, the model is stale and is refitted (services/training.py).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="recommendation_model"
    )
    weights = models.BinaryField(help_text="float32 little-endian weights, one per embedding dimension.")
    bias = models.FloatField(default=0.0)
    term_weights = models.BinaryField(
        default=b"", blank=True, help_text="The words part: uint32 term columns, then their float16 weights."
    )
    term_bias = models.FloatField(default=0.0)
    term_index = models.CharField(
        max_length=32, blank=True, help_text="Version of the term index the words part was fitted on (none: empty)."
    )
    embedding_model = models.CharField(max_length=100)
    positives = models.PositiveIntegerField(default=0)
    negatives = models.PositiveIntegerField(default=0)
    fingerprint = models.CharField(max_length=64)
    trained_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user}: {self.positives} positives, {self.trained_at:%Y-%m-%d %H:%M}"
