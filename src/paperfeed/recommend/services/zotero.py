"""Live Zotero sync: a member's Zotero library kept in step with their library items through the Web API (v3).

Each pass asks for what changed since the library version of the last complete pass, as Zotero's syncing guide
says (https://www.zotero.org/support/dev/web_api/v3/syncing): `GET <library>/items?since=V&includeTrashed=1`, page
by page (`start`, `Total-Results`), then `GET <library>/deleted?since=V`. The new version (`Last-Modified-Version`)
is stored only once every page of the pass was read and applied, in the one transaction that applies them; if the
library changes during the pass (a page of another version), the pass starts over. A 304 to
`If-Modified-Since-Version` means nothing changed.

Items are matched to papers as a file import's entries are (services/library.py) and are LibraryItems of
source_format "zotero" tied to their link: only those are ever changed or removed by a sync, so nothing imported
from a file is touched. A key Zotero refuses (403) or a library it does not have (404) pauses the link with a message
for the settings page, keeping what was imported; a remote in trouble (5xx, garbage, no answer) keeps everything as
it was and the next pass tries again; `Backoff` and `Retry-After` stop the pass until the time Zotero asked for.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from paperfeed.core.library import LibraryRecord
from paperfeed.core.zotero import ZoteroFormatError, header_number, parse_deleted, parse_items, parse_key_access
from paperfeed.papers.services.ingest.http import retry_after
from paperfeed.papers.services.refresh.remote import DEFAULT_WAIT, Answer, PacedClient, Unreachable
from paperfeed.papers.signals import upkeep_wanted
from paperfeed.recommend.models import LibraryItem, ZoteroLink
from paperfeed.recommend.services import sealed_keys
from paperfeed.recommend.services.library import match_records

log = logging.getLogger("paperfeed.zotero")

PAGE_SIZE = 100  # the most the API gives in one page
RESTARTS = 3  # passes started over because the library changed meanwhile, before trying again later
LINKS_PER_PASS = 20  # links one background pass syncs; the others are due in the next
LINKS_PER_MEMBER = 10
CHUNK = 500
PROBLEM_CHARS = 500
_KEY = re.compile(r"[A-Za-z0-9]{8,64}")
_LIBRARY_ID = re.compile(r"[0-9]{1,15}")
ACTIVE = (ZoteroLink.Status.CHECKING, ZoteroLink.Status.ACTIVE)


class LinkError(ValueError):
    """What a member typed cannot make a link; the message says what to fix."""


# --- links: what the settings page does ---


def clean_library_id(value: str) -> str:
    value = value.strip()
    if not _LIBRARY_ID.fullmatch(value):
        raise LinkError(
            "A Zotero library id is a number: your userID is shown in Zotero's settings under Security → "
            "Applications (“Your user ID for use in API calls”); a group's is the number in its web address."
        )
    return value


def clean_key(value: str) -> str:
    value = value.strip()
    if not _KEY.fullmatch(value):
        raise LinkError(
            "Paste the API key as Zotero shows it when you create it (letters and digits, no spaces): "
            "Zotero's settings → Security → Applications → Create new private key, with “Allow library access”."
        )
    return value


def link_library(user, library_type: str, library_id: str, key: str) -> ZoteroLink:
    """A new link of the member to a Zotero library, its key sealed; the worker checks the key and syncs soon.
    LinkError when the input is wrong or the library is linked already."""
    if library_type not in ZoteroLink.Library.values:
        raise LinkError("Choose a user library or a group library.")
    library_id, key = clean_library_id(library_id), clean_key(key)
    if ZoteroLink.objects.filter(user=user, library_type=library_type, library_id=library_id).exists():
        kind = ZoteroLink.Library(library_type).label
        raise LinkError(f"Your {kind} {library_id} is linked already: paste a new key under it to replace its key.")
    if ZoteroLink.objects.filter(user=user).count() >= LINKS_PER_MEMBER:
        raise LinkError(
            f"You have linked {LINKS_PER_MEMBER} Zotero libraries, the most one member may: remove one first."
        )
    link = ZoteroLink.objects.create(
        user=user,
        library_type=library_type,
        library_id=library_id,
        sealed_key=sealed_keys.seal(key),
        key_ending=sealed_keys.ending(key),
    )
    upkeep_wanted.send(sender=ZoteroLink)  # upkeep asks for a sync pass (background.zotero)
    return link


def replace_key(link: ZoteroLink, key: str) -> None:
    """A new key for the link: checked, then the sync resumes from where it was (nothing imported is lost)."""
    key = clean_key(key)
    ZoteroLink.objects.filter(pk=link.pk).update(
        sealed_key=sealed_keys.seal(key),
        key_ending=sealed_keys.ending(key),
        status=ZoteroLink.Status.CHECKING,
        problem="",
        due_at=timezone.now(),
    )
    upkeep_wanted.send(sender=ZoteroLink)


def sync_soon(link: ZoteroLink) -> bool:
    """Make an active link due now (unless Zotero asked us to wait); False when it is paused."""
    if link.paused:
        return False
    now = timezone.now()
    ZoteroLink.objects.filter(pk=link.pk).update(due_at=max(now, link.resting_until or now))
    upkeep_wanted.send(sender=ZoteroLink)
    return True


def remove_link(link: ZoteroLink, remove_items: bool) -> int:
    """Remove the link and its key; its items go too when asked (else they stay, as a file import's would).
    Returns how many items were removed."""
    with transaction.atomic():
        removed = link.items.all().delete()[0] if remove_items else 0
        link.delete()
    return removed


def links_of(user) -> list[ZoteroLink]:
    """The member's links, each with `item_count` (the items it keeps in their library)."""
    return list(ZoteroLink.objects.filter(user=user).annotate(item_count=Count("items")).order_by("created_at", "id"))


def exported_links(user) -> list[dict]:
    """The member's links as their data export shows them: never the key, only its last four characters."""
    return [
        {
            "library_type": link.library_type,
            "library_id": link.library_id,
            "key_ending": link.key_ending,
            "status": link.status,
            "version": link.version,
            "synced_at": link.synced_at,
        }
        for link in ZoteroLink.objects.filter(user=user).order_by("created_at", "id")
    ]


# --- passes ---


def due_links(now: datetime | None = None) -> QuerySet[ZoteroLink]:
    """Links not paused whose next pass is due and that Zotero did not ask us to leave alone."""
    now = now or timezone.now()
    return ZoteroLink.objects.filter(status__in=ACTIVE, due_at__lte=now).filter(
        Q(resting_until__isnull=True) | Q(resting_until__lte=now)
    )


def has_due(now: datetime | None = None) -> bool:
    return due_links(now).exists()


@dataclass
class LinkResult:
    """What one link's pass did."""

    outcome: str  # "synced", "unchanged", "paused", "waiting", "failed" or "skipped"
    added: int = 0
    updated: int = 0
    removed: int = 0
    message: str = ""
    wait: float | None = None


@dataclass
class SyncReport:
    """What a pass over several links did, for the task's result and the command."""

    results: list[tuple[ZoteroLink, LinkResult]] = field(default_factory=list)

    def count(self, *outcomes: str) -> int:
        return sum(1 for _, result in self.results if result.outcome in outcomes)

    @property
    def ok(self) -> bool:
        return all(result.outcome in ("synced", "unchanged") for _, result in self.results)

    def line(self) -> str:
        if not self.results:
            return "Zotero: no library due"
        added = sum(r.added for _, r in self.results)
        updated = sum(r.updated for _, r in self.results)
        removed = sum(r.removed for _, r in self.results)
        parts = [
            f"Zotero: {self.count('synced', 'unchanged')} of {len(self.results)} libraries in step "
            f"({added} items added, {updated} updated, {removed} removed)"
        ]
        for outcome in ("paused", "waiting", "failed", "skipped"):
            if self.count(outcome):
                parts.append(f"{self.count(outcome)} {outcome}")
        return "; ".join(parts)


class _Stop(Exception):
    """The pass of a link ends here: `outcome` as LinkResult's, the message for the page, and a wait in seconds."""

    def __init__(self, outcome: str, message: str, wait: float | None = None, status: str = "") -> None:
        super().__init__(message)
        self.outcome, self.message, self.wait, self.status = outcome, message, wait, status


@dataclass
class _Changes:
    version: int
    records: dict[str, LibraryRecord]
    removed: set[str]


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float((value or "").strip())
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def _get(http: PacedClient, url: str, params: dict | None = None, headers: dict | None = None) -> Answer:
    """An answer of 200, 304, 403 or 404; anything else ends the pass (_Stop)."""
    try:
        answer = http.get(url, params=params, headers=headers)
    except Unreachable as error:
        raise _Stop("failed", f"Zotero did not answer ({error}); the next pass tries again") from None
    backoff = _seconds(answer.headers.get("Backoff"))
    if answer.status in (429, 503):
        wait = retry_after(answer.headers.get("Retry-After")) or backoff or DEFAULT_WAIT
        raise _Stop("waiting", f"Zotero asked to wait {wait:.0f} s (HTTP {answer.status})", wait)
    if answer.status not in (200, 304, 403, 404):
        raise _Stop("failed", f"Zotero answered HTTP {answer.status}; the next pass tries again")
    if backoff:  # Zotero is overloaded: no more requests than needed, so this pass stops here
        raise _Stop("waiting", f"Zotero asked clients to back off for {backoff:.0f} s", backoff)
    return answer


def _refused(link: ZoteroLink) -> _Stop:
    return _Stop(
        "paused",
        f"Zotero refused the API key ending in …{link.key_ending} (HTTP 403): it was revoked, mistyped, or may not "
        f"read this library. Nothing imported was lost; paste a new key to resume.",
        status=ZoteroLink.Status.KEY_REFUSED,
    )


def _missing(link: ZoteroLink) -> _Stop:
    where = "user" if link.library_type == "user" else "group"
    return _Stop(
        "paused",
        f"Zotero has no {where} library {link.library_id} (HTTP 404): check the {where} id, then remove this link "
        "and add the right one. Nothing imported was lost.",
        status=ZoteroLink.Status.NO_LIBRARY,
    )


def _no_access(link: ZoteroLink, owner: str) -> _Stop:
    if link.library_type == "user" and owner != link.library_id:
        reason = (
            f"belongs to Zotero user {owner}, not to user {link.library_id}: paste a key of user {link.library_id}, "
            f"or link user library {owner} instead"
        )
    elif link.library_type == "user":
        reason = "may not read your library: in Zotero's key settings tick “Allow library access”, then paste it"
    else:
        reason = (
            f"may not read group {link.library_id}: in Zotero's key settings give it read access to this group (or "
            "to all groups), then paste it"
        )
    return _Stop(
        "paused",
        f"Zotero says the API key ending in …{link.key_ending} {reason}. Nothing imported was lost; paste a new key "
        "to resume.",
        status=ZoteroLink.Status.KEY_REFUSED,
    )


def _check_key(http: PacedClient, base: str, link: ZoteroLink) -> None:
    """GET /keys/current: the key is Zotero's and may read the linked library, else _Stop (paused)."""
    answer = _get(http, f"{base}/keys/current")
    if answer.status == 403:
        raise _refused(link)
    if answer.status != 200:
        raise _Stop("failed", f"Zotero answered HTTP {answer.status} about the key; the next pass tries again")
    try:
        access = parse_key_access(answer.body)
    except ZoteroFormatError as error:
        raise _Stop("failed", f"{error}; the next pass tries again") from None
    if not access.reads(link.library_type, link.library_id):
        raise _no_access(link, access.user_id)


def _version(answer: Answer) -> int:
    version = header_number(answer.headers.get("Last-Modified-Version"))
    if version is None:
        raise _Stop("failed", "Zotero's answer has no Last-Modified-Version; the next pass tries again")
    return version


def _read_changes(http: PacedClient, base: str, link: ZoteroLink) -> _Changes | None:
    """Every item changed since the link's version and the keys to remove, all of one library version; None when
    nothing changed (304)."""
    since = link.version
    url = f"{base}{link.api_prefix}"
    for _ in range(RESTARTS):
        version: int | None = None
        records: dict[str, LibraryRecord] = {}
        removed: set[str] = set()
        start = 0
        changed_meanwhile = False
        while True:
            params = {"since": since, "format": "json", "includeTrashed": 1, "limit": PAGE_SIZE, "start": start}
            conditional = {"If-Modified-Since-Version": str(since)} if since and start == 0 else None
            answer = _get(http, f"{url}/items", params, conditional)
            if answer.status == 403:
                raise _refused(link)
            if answer.status == 404:
                raise _missing(link)
            if answer.status == 304:
                if since:
                    return None
                raise _Stop("failed", "Zotero answered 304 to a request that was not conditional")
            page_version = _version(answer)
            if version is None:
                version = page_version
            elif page_version != version:
                changed_meanwhile = True
                break
            try:
                page = parse_items(answer.body, start + 1)
            except ZoteroFormatError as error:
                raise _Stop("failed", f"{error}; the next pass tries again") from None
            for record in page.records:
                records[record.key] = record
                removed.discard(record.key)
            for key in page.removed:
                records.pop(key, None)
                removed.add(key)
            start += page.count
            total = header_number(answer.headers.get("Total-Results"))
            if page.count == 0 or (start >= total if total is not None else page.count < PAGE_SIZE):
                break
        if changed_meanwhile:
            continue
        if since:
            answer = _get(http, f"{url}/deleted", {"since": since})
            if answer.status == 403:
                raise _refused(link)
            if answer.status == 404:
                raise _missing(link)
            if _version(answer) != version:
                continue
            try:
                removed |= set(parse_deleted(answer.body)) - records.keys()
            except ZoteroFormatError as error:
                raise _Stop("failed", f"{error}; the next pass tries again") from None
        return _Changes(version, records, removed)
    raise _Stop("failed", f"the library changed during {RESTARTS} passes in a row; the next pass tries again")


def _fields(record: LibraryRecord, paper_id: int | None) -> dict:
    return {
        "title": record.title,
        "abstract": record.abstract,
        "authors": "; ".join(record.authors),
        "year": record.year if record.year and record.year < 32768 else None,
        "doi": record.doi,
        "arxiv_id": record.arxiv_id,
        "paper_id": paper_id,
    }


def _apply(link: ZoteroLink, changes: _Changes, now: datetime) -> LinkResult | None:
    """Write the pass in one transaction, with the new version; None (nothing written) when the link changed
    meanwhile (another pass finished first, a new key was pasted, or it was removed)."""
    # match_records goes by entry number: numbered anew, as the pages' positions repeat across pages and passes
    records = [replace(record, entry=number) for number, record in enumerate(changes.records.values(), 1)]
    matches = match_records(records)
    result = LinkResult("synced")
    with transaction.atomic():
        claimed = ZoteroLink.objects.filter(pk=link.pk, version=link.version, sealed_key=link.sealed_key).update(
            version=changes.version,
            status=ZoteroLink.Status.ACTIVE,
            problem="",
            synced_at=now,
            due_at=now + timedelta(minutes=settings.PAPERFEED_ZOTERO_SYNC_MINUTES),
            resting_until=None,
        )
        if not claimed:
            return None
        items = LibraryItem.objects.filter(zotero_link=link)
        removed = sorted(changes.removed)
        for start in range(0, len(removed), CHUNK):
            result.removed += items.filter(source_key__in=removed[start : start + CHUNK]).delete()[0]
        existing: dict[str, LibraryItem] = {}
        keys = [record.key for record in records]
        for start in range(0, len(keys), CHUNK):
            chunk = items.filter(source_key__in=keys[start : start + CHUNK])
            existing.update((item.source_key, item) for item in chunk)
        new: list[LibraryItem] = []
        for record in records:
            match = matches.get(record.entry)
            values = _fields(record, match[0] if match else None)
            item = existing.get(record.key)
            if item is None:
                new.append(
                    LibraryItem(
                        user_id=link.user_id,
                        zotero_link=link,
                        source_format=LibraryItem.Format.ZOTERO,
                        source_key=record.key,
                        imported_at=now,
                        **values,
                    )
                )
                continue
            changed = {name: value for name, value in values.items() if getattr(item, name) != value}
            if not changed:
                continue
            if "title" in changed or "abstract" in changed:  # its own embedding no longer says what it is
                changed |= {"embedding": None, "embedding_model": ""}
            LibraryItem.objects.filter(pk=item.pk).update(**changed)
            result.updated += 1
        LibraryItem.objects.bulk_create(new, batch_size=CHUNK)
        result.added = len(new)
    if result.added or result.updated or result.removed:
        upkeep_wanted.send(sender=LibraryItem)  # a worker embeds new entries and refits the member's For you
    return result


def _note(link: ZoteroLink, stop: _Stop, now: datetime) -> None:
    """Record why the pass stopped, logged once (not again while the same problem repeats); what was imported,
    the version and the key stay. A paused link waits for a new key; the others are due again later."""
    message = stop.message[:PROBLEM_CHARS]
    if message != link.problem:
        log.warning("Zotero sync of %s: %s", link, message)
    fields: dict = {"problem": message}
    if stop.status:
        fields["status"] = stop.status
    if stop.wait:
        fields["resting_until"] = fields["due_at"] = now + timedelta(seconds=stop.wait)
    else:
        fields["due_at"] = now + timedelta(minutes=settings.PAPERFEED_ZOTERO_SYNC_MINUTES)
    # Not over a key pasted meanwhile: the new key gets its own check.
    ZoteroLink.objects.filter(pk=link.pk, sealed_key=link.sealed_key).update(**fields)


def sync_link(link: ZoteroLink, pause: float = 0.5, now: datetime | None = None) -> LinkResult:
    """One pass over one link: check a new key, read what changed, apply it."""
    now = now or timezone.now()
    link = ZoteroLink.objects.filter(pk=link.pk).first()
    if link is None or link.paused:
        return LinkResult("skipped", message="removed" if link is None else "paused")
    try:
        key = sealed_keys.unseal(link.sealed_key)
    except sealed_keys.KeyUnreadable:
        stop = _Stop(
            "paused",
            "The stored API key can no longer be read (this site's secret key changed). Nothing imported was lost; "
            "paste the key again to resume.",
            status=ZoteroLink.Status.KEY_REFUSED,
        )
        _note(link, stop, now)
        return LinkResult("paused", message=stop.message)
    headers = {"Zotero-API-Version": "3", "Zotero-API-Key": key}
    http = PacedClient(headers, pause, settings.PAPERFEED_HTTP_TIMEOUT_SECONDS, settings.PAPERFEED_CONTACT_EMAIL)
    base = settings.PAPERFEED_ZOTERO_API_URL.rstrip("/")
    try:
        if link.status == ZoteroLink.Status.CHECKING:
            _check_key(http, base, link)
        changes = _read_changes(http, base, link)
    except _Stop as stop:
        _note(link, stop, now)
        return LinkResult(stop.outcome, message=stop.message, wait=stop.wait)
    finally:
        http.close()
    if changes is None:
        ZoteroLink.objects.filter(pk=link.pk, sealed_key=link.sealed_key).update(
            status=ZoteroLink.Status.ACTIVE,
            problem="",
            synced_at=now,
            due_at=now + timedelta(minutes=settings.PAPERFEED_ZOTERO_SYNC_MINUTES),
            resting_until=None,
        )
        return LinkResult("unchanged")
    result = _apply(link, changes, now)
    if result is None:
        return LinkResult("skipped", message="the link changed during the pass; the next pass reads it again")
    return result


def sync_links(links, pause: float = 0.5, now: datetime | None = None) -> SyncReport:
    """One pass over each of these links, in turn. When Zotero asks to wait, the links not reached yet wait too."""
    now = now or timezone.now()
    report = SyncReport()
    links = list(links)
    for index, link in enumerate(links):
        result = sync_link(link, pause, now)
        report.results.append((link, result))
        if result.outcome == "waiting" and result.wait:
            later = now + timedelta(seconds=result.wait)
            rest = [other.pk for other in links[index + 1 :]]
            ZoteroLink.objects.filter(pk__in=rest).update(due_at=later, resting_until=later)
            report.results.extend((other, LinkResult("waiting", wait=result.wait)) for other in links[index + 1 :])
            break
    return report


def sync_due(pause: float = 0.5, now: datetime | None = None) -> SyncReport:
    """The background pass: the links due, longest-waiting first, at most LINKS_PER_PASS."""
    now = now or timezone.now()
    return sync_links(due_links(now).order_by("due_at", "id")[:LINKS_PER_PASS], pause, now)
