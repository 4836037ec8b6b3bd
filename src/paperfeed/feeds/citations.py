"""BibTeX for a paper and for a collection: the site's papers handed to paperfeed.core.bibtex."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from paperfeed.community.models import Collection
from paperfeed.community.services import collections
from paperfeed.core import bibtex
from paperfeed.papers.models import Paper
from paperfeed.papers.services.cards import author_names


def _bib_paper(paper: Paper, authors: Sequence[str]) -> bibtex.BibPaper:
    year = paper.published.year if paper.published else bibtex.year_from_arxiv_id(paper.arxiv_id or "")
    return bibtex.BibPaper(
        arxiv_id=paper.arxiv_id or "",
        title=paper.title,
        authors=authors,
        year=year,
        primary_category=paper.primary_category,
        url=paper.abs_url,
        doi=paper.doi,
    )


def paper_bibtex(paper: Paper) -> str:
    """The paper's entry, as a .bib file of one."""
    return bibtex.entry(_bib_paper(paper, author_names([paper.id]).get(paper.id, ())))


def collection_bibtex(collection: Collection, site_url: str) -> str:
    """Every paper of the collection (hidden ones left out), most recently added first, with unique keys."""
    ids = collections.paper_ids(collection)
    papers = Paper.objects.in_bulk(ids)
    names = author_names(ids)
    entries = [_bib_paper(papers[pid], names.get(pid, ())) for pid in ids if pid in papers]
    count = f"{len(entries)} paper{'s' if len(entries) != 1 else ''}" if entries else "no papers yet"
    comment = (
        f"{collection.name}: a collection by {collection.owner.username} ({count})\n"
        f"{site_url}\n"
        f"Exported on {timezone.localdate():%d %B %Y}"
    )
    return bibtex.bibliography(entries, comment=comment)


def bib_filename(stem: str) -> str:
    """A file name for a download: hep-th/9901001 → hep-th_9901001.bib."""
    return stem.replace("/", "_") + ".bib"
