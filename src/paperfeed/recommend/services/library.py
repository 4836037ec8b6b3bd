"""Importing a user's reference library: read the file, match its entries to papers, keep them as signals.

Entries are matched to the papers on this site by arXiv id, then DOI, then normalised title (case, accents,
punctuation and LaTeX ignored). An entry that matches no paper is kept by its text: the indexer embeds its title
and abstract in the background, and it counts like a paper the user liked. Entries already in the user's library
are not added twice. The import is one transaction: a file that cannot be read as a whole adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower

from paperfeed.core.library import (
    EntryProblem,
    LibraryError,
    LibraryRecord,
    normalise_title,
    parse_library,
)
from paperfeed.papers.models import Paper
from paperfeed.papers.retrieval import SearchRequest, find
from paperfeed.papers.signals import upkeep_wanted
from paperfeed.recommend.models import LibraryItem

CHUNK = 900
TITLE_CANDIDATES = 5  # keyword hits per title whose normalised titles are compared
SHOWN_PROBLEMS = 20  # problems named in the one-line summary's detail; the report lists them all

__all__ = ["ImportReport", "LibraryError", "import_library", "match_records", "papers_by_doi"]


@dataclass
class ImportReport:
    """What an import did, for the report page and the command."""

    filename: str
    format_name: str
    entries: int  # entries in the file, readable or not
    matched: int = 0  # added, matched to a paper here
    kept_by_text: int = 0  # added, matched nothing: counted through the embedding of their text
    already: int = 0  # already in the user's library: not added again
    unusable: int = 0  # readable, matched nothing, and no title to go by
    problems: list[EntryProblem] = field(default_factory=list)
    matched_by: dict[str, int] = field(default_factory=dict)  # "arXiv id" / "DOI" / "title" -> count

    @property
    def added(self) -> int:
        return self.matched + self.kept_by_text

    def summary(self) -> str:
        """'12 of 15 entries matched papers on this site; 2 are kept by their text; 1 entry could not be read.'"""
        entries = f"{self.entries:,} entr{'y' if self.entries == 1 else 'ies'}"
        parts = [f"{self.matched:,} of {entries} matched papers on this site"]
        if self.kept_by_text:
            are = "is" if self.kept_by_text == 1 else "are"
            parts.append(f"{self.kept_by_text:,} {are} kept by their title and abstract")
        if self.already:
            were = "was" if self.already == 1 else "were"
            parts.append(f"{self.already:,} {were} already in your library")
        if self.unusable:
            parts.append(f"{self.unusable:,} matched nothing and have no title to go by, so they were left out")
        if self.problems:
            count = len(self.problems)
            shown = "; ".join(p.describe() for p in self.problems[:3])
            more = f"; and {count - 3} more" if count > 3 else ""
            parts.append(f"{count:,} entr{'y' if count == 1 else 'ies'} could not be read ({shown}{more})")
        return "; ".join(parts) + "."


def papers_by_doi(dois: Sequence[str]) -> dict[str, int]:
    """lower-cased DOI -> id of the visible paper that has it (DOIs are compared case-insensitively)."""
    wanted = sorted({d.lower() for d in dois if d})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = (
            Paper.objects.visible()
            .annotate(doi_lower=Lower("doi"))
            .filter(doi_lower__in=wanted[start : start + CHUNK])
            .values_list("doi_lower", "id")
        )
        found.update(rows)
    return found


def _by_title(title: str) -> int | None:
    """The visible paper whose normalised title equals this one's, found through the keyword index."""
    wanted = normalise_title(title)
    if len(wanted) < 8:  # "Introduction", "Notes": too short to identify a paper by
        return None
    request = SearchRequest(wanted, "keyword", page_size=TITLE_CANDIDATES)
    if not request.has_words:
        return None
    found = find(request)
    if found.relaxed or not found.ids:
        return None
    ids = found.ids
    for pid, candidate in Paper.objects.visible().filter(id__in=ids).values_list("id", "title"):
        if normalise_title(candidate) == wanted:
            return pid
    return None


def match_records(records: Sequence[LibraryRecord]) -> dict[int, tuple[int, str]]:
    """entry number -> (paper id, how it matched) for the records that match a visible paper here."""
    matches: dict[int, tuple[int, str]] = {}
    arxiv_ids = {r.arxiv_id for r in records if r.arxiv_id}
    by_arxiv: dict[str, int] = {}
    ids = sorted(arxiv_ids)
    for start in range(0, len(ids), CHUNK):
        by_arxiv.update(
            Paper.objects.visible().filter(arxiv_id__in=ids[start : start + CHUNK]).values_list("arxiv_id", "id")
        )
    by_doi = papers_by_doi([r.doi for r in records if r.doi])
    for record in records:
        if record.arxiv_id in by_arxiv:
            matches[record.entry] = (by_arxiv[record.arxiv_id], "arXiv id")
        elif record.doi and record.doi in by_doi:
            matches[record.entry] = (by_doi[record.doi], "DOI")
        elif record.title:
            pid = _by_title(record.title)
            if pid is not None:
                matches[record.entry] = (pid, "title")
    return matches


def _known(user) -> tuple[set[int], set[str], set[str], set[str]]:
    """What the user's library already holds: paper ids, arXiv ids, DOIs and normalised titles."""
    papers: set[int] = set()
    arxiv_ids: set[str] = set()
    dois: set[str] = set()
    titles: set[str] = set()
    for pid, arxiv_id, doi, title in LibraryItem.objects.filter(user=user).values_list(
        "paper_id", "arxiv_id", "doi", "title"
    ):
        if pid is not None:
            papers.add(pid)
        if arxiv_id:
            arxiv_ids.add(arxiv_id)
        if doi:
            dois.add(doi)
        if title:
            titles.add(normalise_title(title))
    return papers, arxiv_ids, dois, titles


def import_library(user, data: bytes, filename: str = "") -> ImportReport:
    """Read, match and store a library file for the user; LibraryError (nothing stored) when it is unreadable."""
    parsed = parse_library(data, filename)
    report = ImportReport(filename, parsed.format_name, parsed.entries, problems=list(parsed.problems))
    matches = match_records(parsed.records)
    known_papers, known_arxiv, known_dois, known_titles = _known(user)
    items: list[LibraryItem] = []
    for record in parsed.records:
        match = matches.get(record.entry)
        title_key = normalise_title(record.title) if record.title else ""
        if (
            (match and match[0] in known_papers)
            or (record.arxiv_id and record.arxiv_id in known_arxiv)
            or (record.doi and record.doi in known_dois)
            or (title_key and title_key in known_titles)
        ):
            report.already += 1
            continue
        if match is None and not record.title:
            report.unusable += 1
            continue
        if match is not None:
            report.matched += 1
            report.matched_by[match[1]] = report.matched_by.get(match[1], 0) + 1
            known_papers.add(match[0])
        else:
            report.kept_by_text += 1
        # A file listing a reference twice adds it once.
        known_arxiv.add(record.arxiv_id)
        known_dois.add(record.doi)
        known_titles.add(title_key)
        items.append(
            LibraryItem(
                user=user,
                title=record.title,
                abstract=record.abstract,
                authors="; ".join(record.authors),
                year=record.year if record.year and record.year < 32768 else None,
                doi=record.doi,
                arxiv_id=record.arxiv_id,
                paper_id=match[0] if match else None,
                source_format=parsed.format,
                source_key=record.key,
            )
        )
    with transaction.atomic():
        LibraryItem.objects.bulk_create(items, batch_size=500)
    if items:
        upkeep_wanted.send(sender=LibraryItem)  # a worker embeds the new entries and refits the user's For you model
    return report


def library_size(user) -> dict[str, int]:
    """How many items the user's library holds, matched to papers and not, and how many of them Zotero links keep
    in step (the others are the ones "remove your library" removes)."""
    items = LibraryItem.objects.filter(user=user)
    total = items.count()
    matched = items.filter(paper__isnull=False).count()
    synced = items.filter(zotero_link__isnull=False).count()
    return {
        "total": total,
        "matched": matched,
        "unmatched": total - matched,
        "synced": synced,
        "removable": total - synced,
    }


def clear_library(user) -> int:
    """Remove the user's imported library items (their upvotes and collections stay); returns how many.

    Items a Zotero link keeps in step stay: the sync would not bring them back (it reads only what changes), so they
    go with their link (services/zotero.py)."""
    deleted, _ = LibraryItem.objects.filter(user=user, zotero_link__isnull=True).delete()
    return deleted
