"""Papers, their authors and organizations, the daily lists they appear on, and upvotes."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from paperfeed.core.addresses import DEFAULT_SOURCE, paper_address
from paperfeed.core.sources.registry import PaperAddress, PaperSource, source_named


class Organization(models.Model):
    """A lab or company papers are attributed to, shown on cards as on huggingface.co/papers."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    url = models.URLField(blank=True)

    def __str__(self) -> str:
        return self.name


class Author(models.Model):
    name = models.CharField(max_length=300, unique=True)

    def __str__(self) -> str:
        return self.name


def visible_condition(through: str = "") -> models.Q:
    """The rule for which papers anyone may see — every paper but those a moderator hid — as a condition on
    papers (through="") or on rows that point to one (through="paper"). The one place this rule lives."""
    return models.Q(**{f"{through}__hidden" if through else "hidden": False})


def visible_sql(alias: str) -> str:
    """visible_condition as SQL on the paper table aliased `alias`, for the hot paths written in plain SQL."""
    return f"NOT {alias}.hidden"


class PaperQuerySet(models.QuerySet):
    def visible(self) -> "PaperQuerySet":
        """The papers lists, search, pages and feeds may show (see visible_condition)."""
        return self.filter(visible_condition())

    def named(self, address: "PaperAddress") -> "PaperQuerySet":
        """The paper an address names (core.sources.registry.parse_address): by its source and its id there."""
        return self.filter(source=address.source, external_id=address.external_id)


class LinkOrigin(models.TextChoices):
    HUGGINGFACE = "huggingface", "Hugging Face"
    TEXT = "text", "the paper's abstract or comment"
    MEMBER = "member", "a member"


class Paper(models.Model):
    """A paper, identified by its source and its id there (`arxiv` and `2503.11731`; see core.sources.registry),
    without version; the version and dates are attributes. URLs name it by its address (`address`)."""

    source = models.CharField(
        max_length=16, default=DEFAULT_SOURCE, db_default=DEFAULT_SOURCE, help_text="where it comes from: arxiv, …"
    )
    external_id = models.CharField("id at its source", max_length=200, help_text="without version")
    arxiv_id = models.CharField(
        "arXiv id", max_length=64, unique=True, null=True, blank=True, help_text="when it is on arXiv"
    )
    version = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.TextField()
    abstract = models.TextField(blank=True)
    categories = models.JSONField(
        default=list, help_text="arXiv category codes or a preprint server's subjects, primary first"
    )
    primary_category = models.CharField(max_length=100, db_index=True)
    published = models.DateField(null=True, blank=True, db_index=True, help_text="first announced")
    updated = models.DateField(null=True, blank=True, help_text="last revised, when later than published")
    comment = models.TextField(blank=True, default="")
    doi = models.CharField("DOI", max_length=200, blank=True, db_default="")
    journal_ref = models.CharField("journal reference", max_length=500, blank=True, db_default="")
    project_url = models.URLField("project page", max_length=500, blank=True, db_default="")
    code_url = models.URLField("code repository", max_length=500, blank=True, db_default="")
    # Where each link comes from (none: unknown, from before it was kept): a member's choice, even a removal, is
    # never overwritten by an ingest. Nullable so that adding them did not rebuild the papers table.
    project_origin = models.CharField(max_length=16, choices=LinkOrigin, null=True, blank=True)  # noqa: DJ001
    code_origin = models.CharField(max_length=16, choices=LinkOrigin, null=True, blank=True)  # noqa: DJ001
    hf_upvotes = models.PositiveIntegerField(
        "Hugging Face upvotes",
        db_default=0,
        help_text="imported from huggingface.co; local upvotes are Votes",
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="papers"
    )
    authors = models.ManyToManyField(Author, through="Authorship", related_name="papers")
    hidden = models.BooleanField(
        default=False, db_default=False, help_text="Hidden by a moderator: left out of lists, search, counts and feeds."
    )

    objects = PaperQuerySet.as_manager()

    class Meta:
        ordering = ["-published", "-external_id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="paper_unique_source_id")]

    def __str__(self) -> str:
        return f"{self.address}: {self.title}"

    def save(self, *args, **kwargs) -> None:
        """An arXiv paper's id at its source is its arXiv id: either one given fills the other."""
        if self.source == DEFAULT_SOURCE:
            self.external_id = self.external_id or self.arxiv_id or ""
            self.arxiv_id = self.arxiv_id or self.external_id or None
        super().save(*args, **kwargs)

    @property
    def address(self) -> str:
        """What its URLs say: its arXiv id for an arXiv paper (/papers/2503.11731), else `source:id`."""
        return paper_address(self.source, self.external_id)

    @property
    def source_info(self) -> PaperSource:
        return source_named(self.source) or source_named(DEFAULT_SOURCE)

    @property
    def source_label(self) -> str:
        """`arXiv:2503.11731`, `bioRxiv:10.1101/…`: the paper as its source names it."""
        return f"{self.source_info.label}:{self.external_id}"

    @property
    def abs_url(self) -> str:
        """The paper on its source's own site."""
        return self.source_info.page_url(self.external_id, None)

    @property
    def pdf_url(self) -> str:
        found = self.source_info.pdf_url
        return found(self.external_id, None) if found else ""


class SummaryOrigin(models.TextChoices):
    HUGGINGFACE = "huggingface", "Hugging Face"
    SITE = "site", "this site's summarizer"


class ThumbnailOrigin(models.TextChoices):
    HUGGINGFACE = "huggingface", "Hugging Face"
    PDF = "pdf", "the PDF's first page"


class PaperExtras(models.Model):
    """What is known about a paper beyond its metadata, most of it refreshed by background work: its code
    repository's GitHub stars, the Hugging Face models, datasets and Spaces that cite it, an AI summary and a
    thumbnail. A table of its own: refreshing these never rewrites the papers table (nor its search triggers), and
    a paper has a row only once something is known."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, primary_key=True, related_name="extras")
    github_stars = models.PositiveIntegerField(
        "GitHub stars", null=True, blank=True, help_text="of the code repository, when it is on GitHub"
    )
    github_repo = models.CharField(
        max_length=200, blank=True, default="", help_text="owner/name the stars are of (the code link may change)"
    )
    github_etag = models.CharField(max_length=200, blank=True, default="", help_text="of GitHub's last answer")
    github_checked_at = models.DateTimeField(null=True, blank=True)
    github_problem = models.CharField(max_length=300, blank=True, default="", help_text="of the last try, if any")
    hf_artifacts = models.JSONField(
        "Hugging Face models, datasets and Spaces",
        default=dict,
        blank=True,
        help_text='those that cite the paper: {"models": [{"id": …}, …], "datasets": […], "spaces": […]}',
    )
    hf_artifacts_checked_at = models.DateTimeField(null=True, blank=True)
    hf_artifacts_problem = models.CharField(max_length=300, blank=True, default="")
    summary = models.TextField("AI summary", blank=True, default="")
    summary_keywords = models.JSONField("AI keywords", default=list, blank=True)
    summary_origin = models.CharField(max_length=16, choices=SummaryOrigin, blank=True, default="")
    summary_model = models.CharField(max_length=200, blank=True, default="", help_text="the model that wrote it")
    summary_at = models.DateTimeField(null=True, blank=True, help_text="when this site's summarizer wrote it")
    summary_tried_at = models.DateTimeField(null=True, blank=True, help_text="this site's summarizer's last try")
    summary_problem = models.CharField(max_length=300, blank=True, default="")
    thumbnail = models.CharField(
        max_length=200, blank=True, default="", help_text="file name in the data directory's thumbnails folder"
    )
    thumbnail_origin = models.CharField(max_length=16, choices=ThumbnailOrigin, blank=True, default="")
    hf_thumbnail_url = models.URLField(max_length=500, blank=True, default="", help_text="from Hugging Face's list")
    thumbnail_tried_at = models.DateTimeField(null=True, blank=True)
    thumbnail_problem = models.CharField(
        max_length=300, blank=True, default="", help_text="why the last try made no thumbnail"
    )

    class Meta:
        verbose_name_plural = "paper extras"

    def __str__(self) -> str:
        return f"extras of {self.paper_id}"


def paper_extras(paper: Paper) -> PaperExtras | None:
    """The paper's extras, or None when nothing is known yet (select_related("extras") saves the query)."""
    try:
        return paper.extras
    except PaperExtras.DoesNotExist:
        return None


class Authorship(models.Model):
    """An author's place in a paper's author list (0 = first author)."""

    # No index of its own: the unique (paper, position) constraint's index serves lookups by paper.
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="authorships", db_index=False)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="authorships")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["paper", "position"]
        constraints = [models.UniqueConstraint(fields=["paper", "position"], name="authorship_unique_position")]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.author}"


class DailyEntry(models.Model):
    """A paper featured on a day's list: from arXiv's listing, another source, or a user's submission."""

    class Source(models.TextChoices):
        """Who listed it. A paper source's own listing is named after the source (`arxiv`, and any source
        registered in core.sources.registry), so the field takes names beyond these."""

        ARXIV = "arxiv", "arXiv listing"
        HUGGINGFACE = "hf", "Hugging Face daily papers"
        SUBMISSION = "submission", "submitted by a user"

    # No index of its own: the unique (paper, day, source) constraint's index serves lookups by paper.
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="daily_entries", db_index=False)
    day = models.DateField()
    source = models.CharField(max_length=16, default=Source.ARXIV, help_text="hf, submission, or a paper source")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    submitter_name = models.CharField(
        max_length=200, blank=True, db_default="", help_text="who submitted it on another site (Hugging Face)"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "daily entries"
        constraints = [models.UniqueConstraint(fields=["paper", "day", "source"], name="daily_entry_unique_source")]
        indexes = [models.Index(fields=["day", "paper"], name="daily_entry_day_paper")]

    def __str__(self) -> str:
        return f"{self.day} {self.paper.address} ({self.source})"


class Vote(models.Model):
    """One user's upvote of one paper."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="votes")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="vote_one_per_user")]

    def __str__(self) -> str:
        return f"{self.user} ▲ {self.paper.address}"


class HarvestState(models.Model):
    """Where a harvest of a source stands, so an interrupted run resumes and the next one continues."""

    name = models.CharField(max_length=200, unique=True, help_text="e.g. arxiv-oai:cs:arXiv")
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class PaperEmbedding(models.Model):
    """A paper's embedding (the source of truth; the vector index in the data directory is derived from these).

    `vector` holds float16 values in native byte order; `model` names the embedder, so vectors of different
    models never mix.
    """

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, primary_key=True, related_name="embedding")
    model = models.CharField(max_length=100)
    vector = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.paper_id} ({self.model})"


class SearchChange(models.Model):
    """One change to what keyword search indexes of a paper (its text, authors, categories, date or visibility).

    Written by database triggers (migration 0006), never by Python code, so no writer can forget it: the loader,
    the admin, moderation and plain SQL all leave a row. The keyword index (paperfeed.papers.retrieval) applies
    the rows after the last one it applied; `stamp` is random, so an index can tell the change it applied last
    from another one that reused its id (a restored backup, a rolled-back transaction) and rebuild instead.
    """

    paper_id = models.BigIntegerField()  # no foreign key: a deleted paper's change must outlive it
    stamp = models.BigIntegerField()

    def __str__(self) -> str:
        return f"change {self.pk}: paper {self.paper_id}"
