"""Moving subscriber lists in and out as CSV, for operators coming from (or going to) another service.

The format (UTF-8, comma-separated, a header line first):

    email,frequency,categories,keywords
    ada@example.org,daily,cs.LG cs.CL,retrieval augmented generation; long context
    alan@example.org,weekly,,

`email` and `frequency` (daily or weekly) are required; `categories` and `keywords` are optional columns. Categories
are arXiv categories separated by spaces or semicolons (cs.CL, math.AP, hep-th). Keywords are separated by
semicolons; a cell without a semicolon holds words separated by spaces (end a lone phrase with ";" to keep it one
keyword). Each keyword becomes a saved keyword search: the digest brings the papers of its lists that hold every
word of it. Export writes the same columns plus `status`, which import accepts when it is `active` (or empty).

Imported addresses were confirmed on the other service: they become active at once (source "import"). An address
already subscribed here is updated, not duplicated; one that unsubscribed here or bounced is left alone, since
only its owner may start the digest again. Each row is its own transaction: a bad row is reported by line number
and skipped, the good ones are imported, and nothing is ever half-written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from paperfeed.community.services.interests import (
    MAX_CATEGORIES,
    MAX_SAVED_SEARCHES,
    MAX_SEARCH_CHARS,
    PreferenceError,
    normalize_category,
)
from paperfeed.core.search_query import parse_query
from paperfeed.digests.models import Subscription
from paperfeed.digests.services.preferences import clean_address

REQUIRED = ("email", "frequency")
OPTIONAL = ("categories", "keywords", "status")
EXPORT_COLUMNS = ("email", "frequency", "categories", "keywords", "status")
FREQUENCIES = ("daily", "weekly")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Spreadsheets run a cell starting with one of these as a formula: export quotes it with a leading ', import
# takes that quote off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class HeaderError(ValueError):
    """The file cannot be read as a subscriber list at all: nothing is imported."""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[tuple[int, str]] = field(default_factory=list)  # (line, address)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)

    def describe(self) -> str:
        parts = [
            f"{len(self.created)} new subscriber{'s' if len(self.created) != 1 else ''} imported",
            f"{len(self.updated)} existing updated",
        ]
        if self.problems:
            parts.append(f"{len(self.problems)} line{'s' if len(self.problems) != 1 else ''} skipped")
        return ", ".join(parts) + "."


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    frequency: str
    categories: list[str] | None  # None: the column is absent, keep what an existing subscriber has
    keywords: list[str] | None


def _unquote(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:2] in _FORMULA_START else cell


def _quote(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def split_categories(cell: str) -> list[str]:
    """arXiv categories separated by spaces or semicolons, in arXiv's spelling; PreferenceError for unknown ones."""
    found: list[str] = []
    for piece in re.split(r"[\s;]+", cell.strip()):
        if not piece:
            continue
        category = normalize_category(piece)
        if category is None:
            raise PreferenceError(
                f"“{piece[:40]}” is not an arXiv category (write them as cs.CL, math.AP or hep-th, separated by "
                "spaces or semicolons)"
            )
        if category not in found:
            found.append(category)
    if len(found) > MAX_CATEGORIES:
        raise PreferenceError(f"at most {MAX_CATEGORIES} categories; this line has {len(found)}")
    return found


def split_keywords(cell: str) -> list[str]:
    """Keywords separated by semicolons (or, in a cell without one, by spaces)."""
    pieces = cell.split(";") if ";" in cell else cell.split()
    found: list[str] = []
    for piece in pieces:
        keyword = " ".join(piece.split())
        if not keyword:
            continue
        if len(keyword) > MAX_SEARCH_CHARS:
            raise PreferenceError(f"a keyword has at most {MAX_SEARCH_CHARS} characters: “{keyword[:40]}…” is longer")
        if not parse_query(keyword).positive:
            raise PreferenceError(f"“{keyword[:40]}” has no words to look for")
        if keyword.lower() not in (k.lower() for k in found):
            found.append(keyword)
    if len(found) > MAX_SAVED_SEARCHES:
        raise PreferenceError(f"at most {MAX_SAVED_SEARCHES} keywords; this line has {len(found)}")
    return found


def join_keywords(keywords: Iterable[str]) -> str:
    """Keywords as one cell that split_keywords reads back the same."""
    cleaned = [" ".join(k.replace(";", " ").split()) for k in keywords]
    cell = "; ".join(k for k in cleaned if k)
    return cell + ";" if ";" not in cell and " " in cell else cell


def _header(cells: list[str]) -> list[str]:
    names = [_unquote(c).strip().lower() for c in cells]
    unknown = [n for n in names if n not in REQUIRED + OPTIONAL]
    missing = [n for n in REQUIRED if n not in names]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if unknown:
        problem = f"unknown column {', '.join(f'“{n[:30]}”' for n in unknown)}"
    elif missing:
        problem = f"no {' and no '.join(missing)} column"
    elif repeated:
        problem = f"the column {', '.join(repeated)} appears twice"
    else:
        return names
    raise HeaderError(
        "the first line must be the header `email,frequency` (optionally followed by `categories,keywords`), "
        f"but it is `{_CONTROL.sub(' ', ','.join(cells))[:120]}`: {problem}"
    )


def read_rows(text: str) -> tuple[list[Row], list[tuple[int, str]]]:
    """The rows of a subscriber CSV and the problems of the others, by line; HeaderError when there is no header."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise HeaderError("the file is empty: the first line must be the header `email,frequency`") from None
    except csv.Error as error:
        raise HeaderError(f"the header line cannot be read as CSV: {error}") from None
    columns = _header(header)
    rows: list[Row] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append((line, f"cannot be read as CSV: {error}"))
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            problems.append((start, f"has {len(cells)} cells, but the header names {len(columns)} columns"))
            continue
        values = dict(zip(columns, (_unquote(c) for c in cells), strict=True))
        try:
            if any(_CONTROL.search(v) for v in values.values()):
                raise PreferenceError("a cell holds a line break or another control character")
            email = clean_address(values["email"])
            frequency = values["frequency"].strip().lower()
            if frequency not in FREQUENCIES:
                raise PreferenceError(f"the frequency must be daily or weekly, not “{values['frequency'][:20]}”")
            if values.get("status", "").strip().lower() not in ("", "active"):
                raise PreferenceError(
                    f"only active subscribers can be imported; this one is “{values['status'].strip()[:20]}”"
                )
            categories = split_categories(values["categories"]) if "categories" in values else None
            keywords = split_keywords(values["keywords"]) if "keywords" in values else None
        except PreferenceError as error:
            problems.append((start, str(error).rstrip(".")))
            continue
        if email in seen:
            problems.append((start, f"{email} is already on line {seen[email]}; this line is skipped"))
            continue
        seen[email] = start
        rows.append(Row(start, email, frequency, categories, keywords))
    return rows, problems


def _save(row: Row, report: ImportReport) -> None:
    """One row, all or nothing: a new active subscriber, or the existing one updated."""
    with transaction.atomic():
        existing = Subscription.objects.select_for_update().filter(email=row.email).first()
        if existing is not None and existing.status in (
            Subscription.Status.UNSUBSCRIBED,
            Subscription.Status.BOUNCED,
        ):
            why = "unsubscribed" if existing.status == Subscription.Status.UNSUBSCRIBED else "bounced"
            report.problems.append(
                (row.line, f"{row.email} {why} here; left as is (only its owner can subscribe again)")
            )
            return
        subscription = existing or Subscription(email=row.email, source="import")
        subscription.frequency = row.frequency
        if subscription.status != Subscription.Status.ACTIVE:
            subscription.status = Subscription.Status.ACTIVE
            subscription.confirmed_at = timezone.now()
        subscription.save()  # with interests of its own when new
        interests = subscription.interests
        if row.categories is not None:
            interests.categories = row.categories
        if row.keywords is not None:
            interests.saved_searches = [{"q": k, "mode": "keyword"} for k in row.keywords]
        interests.save(update_fields=["categories", "saved_searches"])
    if existing is None:
        report.created.append(row.email)
    else:
        report.updated.append((row.line, row.email))


def import_csv(path: Path) -> ImportReport:
    """Import a subscriber CSV (see the module docstring). HeaderError (nothing imported) when it cannot be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise HeaderError("no such file") from None
    except IsADirectoryError:
        raise HeaderError("is a directory, not a CSV file") from None
    except OSError as error:
        raise HeaderError(f"cannot be read: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise HeaderError(f"line {line} is not UTF-8 text; save the file as UTF-8 CSV") from None
    rows, problems = read_rows(text)
    report = ImportReport(problems=problems)
    for row in rows:
        try:
            _save(row, report)
        except IntegrityError:  # the address was subscribed on the site at this very moment: try it once more
            _save(row, report)
    report.problems.sort()
    return report


def export_csv(out: io.TextIOBase) -> int:
    """Write the active subscribers as CSV (EXPORT_COLUMNS), by address; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    rows = (
        Subscription.objects.filter(status=Subscription.Status.ACTIVE)
        .order_by("email")
        .values_list("email", "frequency", "interests__categories", "interests__saved_searches")
    )
    for email, frequency, categories, searches in rows.iterator(chunk_size=2000):
        queries = [s.get("q", "") if isinstance(s, dict) else str(s) for s in searches or ()]
        cells = (email, frequency, " ".join(categories or ()), join_keywords(queries), "active")
        writer.writerow([_quote(cell) for cell in cells])
        count += 1
    return count
