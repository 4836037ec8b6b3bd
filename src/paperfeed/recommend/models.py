"""Recommendation signals and per-user models: imported library items, "not interested" clicks, fitted weights."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from paperfeed.papers.models import Paper


class LibraryItem(models.Model):
    """A reference from a library the user imported (BibTeX, RIS, CSL JSON) or syncs from Zotero: a positive signal.

    Matched to a paper here when possible (by arXiv id, DOI, then normalised title); otherwise it still counts
    through the embedding of its own title and abstract, computed in the background (`embedding` empty until then).
    """

    class Format(models.TextChoices):
        BIBTEX = "bibtex", "BibTeX"
        RIS = "ris", "RIS"
        CSL_JSON = "csl-json", "CSL JSON"
        ZOTERO = "zotero", "Zotero sync"

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
    source_key = models.CharField(
        max_length=200, blank=True, help_text="The entry's key or id in the file (a Zotero item's key)."
    )
    zotero_link = models.ForeignKey(
        "ZoteroLink",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        help_text="The Zotero library that keeps this item in step (none: imported from a file, or a removed link's).",
    )
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "paper"], name="library_item_user_paper")]
        constraints = [
            models.UniqueConstraint(
                fields=["zotero_link", "source_key"],
                condition=models.Q(zotero_link__isnull=False),
                name="library_item_zotero_key_once",
            )
        ]

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


class ZoteroLink(models.Model):
    """A member's Zotero library (theirs or a group's) that the worker keeps in step with their library items.

    The API key is stored sealed (services/sealed_keys.py: Fernet under a key derived from SECRET_KEY) and shown
    only by its last four characters. `version` is the library version of the last pass that read every page; the
    next pass asks Zotero for what changed since (`since=`). A refused key or a missing library pauses the link
    (`status`, with `problem` in words for the settings page); what it imported stays.
    """

    class Library(models.TextChoices):
        USER = "user", "user library"
        GROUP = "group", "group library"

    class Status(models.TextChoices):
        CHECKING = "checking", "checking the key"
        ACTIVE = "active", "in sync"
        KEY_REFUSED = "key-refused", "paused: the key was refused"
        NO_LIBRARY = "no-library", "paused: no such library"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="zotero_links")
    library_type = models.CharField(max_length=8, choices=Library.choices)
    library_id = models.CharField(max_length=20, help_text="The Zotero user ID or group ID (digits).")
    sealed_key = models.TextField(help_text="The API key, encrypted (Fernet); never shown or exported.")
    key_ending = models.CharField(max_length=4, help_text="The key's last four characters, to recognise it by.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CHECKING)
    problem = models.TextField(blank=True, help_text="Why it is paused, or what went wrong in the last pass.")
    version = models.PositiveBigIntegerField(default=0, help_text="Library version of the last complete pass.")
    synced_at = models.DateTimeField(null=True, blank=True, help_text="End of the last complete pass.")
    due_at = models.DateTimeField(default=timezone.now, db_index=True, help_text="When the next pass is due.")
    resting_until = models.DateTimeField(null=True, blank=True, help_text="Zotero asked to wait until then.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "library_type", "library_id"], name="zotero_link_once")]

    def __str__(self) -> str:
        return f"{self.user} · Zotero {self.library_type} {self.library_id}"

    @property
    def paused(self) -> bool:
        return self.status in (self.Status.KEY_REFUSED, self.Status.NO_LIBRARY)

    @property
    def api_prefix(self) -> str:
        """The library's path in the API: /users/ID or /groups/ID."""
        return f"/{self.library_type}s/{self.library_id}"
